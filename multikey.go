package nest

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Helpers of the collection kinds for element replies and for commands
// on several keys of one kind (LMOVE, SMOVE, SUNION, SINTERSTORE, ...).

// sameKind checks that the keys hs[1:] can join hs[0] in one command: usable
// handles bound to the same go-redis client, in one slot (shard) on Redis
// Cluster or a Ring, with the same element codec (their stored forms are
// compared or moved as bytes, so a member written by one codec must read
// back with the other). It returns the keys' names in order.
func sameKind[T any](op string, hs ...*keyHandle) ([]string, error) {
	if err := hs[0].sameSlot(op, hs[1:]...); err != nil {
		return nil, err
	}
	names := make([]string, len(hs))
	for i, h := range hs {
		names[i] = h.name
		if n, m := h.p.codec.(*valueCodec[T]).name, hs[0].p.codec.(*valueCodec[T]).name; n != m {
			return nil, opError(op, h.name, fmt.Errorf("%w: %s stores elements with the %s codec, %s with %s; a multi-key command moves or compares them as bytes",
				ErrConfig, h.name, n, hs[0].name, m))
		}
	}
	return names, nil
}

// checkKeys is check for a command on several keys: a WRONGTYPE reply is
// reported on the key that holds another type (one TYPE round trip per
// key, on that error only), else on hs[0].
func checkKeys(ctx context.Context, op string, err error, hs ...*keyHandle) error {
	if !isWrongType(err) || len(hs) == 1 {
		return hs[0].check(ctx, op, err)
	}
	for _, h := range hs {
		found, terr := h.p.c.rdb.Type(ctx, h.name).Result()
		if terr == nil && found != "none" && found != h.p.kind.redisType() {
			return opError(op, h.name, &WrongTypeError{Kind: h.p.kind.String(), Declared: h.p.kind.redisType(), Found: found})
		}
	}
	return hs[0].check(ctx, op, err)
}

// readKeys is read for a command reading several keys: each key with a
// sliding TTL is renewed in the same round trip.
func readKeys[C redis.Cmder](ctx context.Context, op string, hs []*keyHandle, send func(redis.Cmdable) C) C {
	sliding := false
	for _, h := range hs {
		sliding = sliding || h.p.ttl.sliding && h.p.ttl.d > 0
	}
	if !sliding {
		return do(ctx, hs[0], op, 0, send)
	}
	c := hs[0].p.c
	start := c.clock()
	pp := c.rdb.Pipeline()
	cmd := send(pp)
	for _, h := range hs {
		if t := h.p.ttl; t.sliding && t.d > 0 {
			h.renewCmd(ctx, pp)
		}
	}
	_, _ = pp.Exec(ctx) // cmd carries its own error
	c.logged(ctx, op, hs[0].name, hs[0].p.ttl.d, start, cmd.Err())
	return cmd
}

// renewKeys queues the PEXPIREs renewing the sliding TTLs of the other
// keys of a queued multi-key read, q's own included, as renew does.
func (q queued) renewKeys(ctx context.Context, hs []*keyHandle) {
	if q.p.watch { // see renew
		return
	}
	for _, h := range hs {
		if t := h.p.ttl; t.sliding && t.d > 0 {
			h.renewCmd(ctx, q.p.pp)
		}
	}
}

// finish reads a direct call's reply with the reader its queued form
// uses; a wrong type is completed with the type found (see check).
func finish[V any](ctx context.Context, h *keyHandle, op string, cmd redis.Cmder, rd replyReader[V]) (V, error) {
	v, err := rd(h, op, cmd)
	if err != nil && isWrongType(cmd.Err()) {
		err = h.check(ctx, op, cmd.Err())
	}
	return v, err
}

// multiWrite queues a write of dst reading the other keys names[1:],
// or, when err (the keys' check) is not nil, fails the Pipe with it.
func multiWrite[V any](ctx context.Context, q queued, op opName, dst keyHandle, err error, w func() (wcmd, error), rd replyReader[V], names []string) *Future[V] {
	if err != nil {
		if dst.Err() != nil {
			dst = q.h
		}
		return queueWrite(ctx, queued{dst, q.p}, op, func() (wcmd, error) { return wcmd{}, err }, rd)
	}
	return queueWrite(ctx, queued{dst, q.p}, op, w, rd, names[1:]...)
}

// Reply readers of element replies, for both RESP3 typed commands and the
// write script's RESP2 replies.

// replyText returns a bulk string reply; redis.Nil for a nil one.
func replyText(cmd redis.Cmder) (string, error) {
	switch c := cmd.(type) {
	case *redis.StringCmd:
		return c.Result()
	case *redis.Cmd:
		return c.Text()
	}
	return "", fmt.Errorf("nest: unexpected reply %T", cmd)
}

// replyTexts returns an array reply of strings; nil (redis.Nil) reads as
// empty.
func replyTexts(cmd redis.Cmder) ([]string, error) {
	var (
		ss  []string
		err error
	)
	switch c := cmd.(type) {
	case *redis.StringSliceCmd:
		ss, err = c.Result()
	case *redis.Cmd:
		ss, err = c.StringSlice()
	default:
		return nil, fmt.Errorf("nest: unexpected reply %T", cmd)
	}
	if err == redis.Nil {
		err = nil
	}
	return ss, err
}

// readElem reads one element; a nil reply is ErrNotFound.
func readElem[T any](h *keyHandle, op string, cmd redis.Cmder) (T, error) {
	s, err := replyText(cmd)
	if err != nil {
		var zero T
		return zero, h.fail(op, err)
	}
	return coll[T]{*h}.dec(op, "", s)
}

// readMembers reads an array of set members; a decode error names the
// member's position in the reply ("member 2").
func readMembers[T any](h *keyHandle, op string, cmd redis.Cmder) ([]T, error) {
	return readElems[T](h, op, "member", cmd)
}

func readElems[T any](h *keyHandle, op, elem string, cmd redis.Cmder) ([]T, error) {
	ss, err := replyTexts(cmd)
	if err != nil {
		return nil, h.fail(op, err)
	}
	return coll[T]{*h}.decAll(op, elem, ss)
}

// readStatus reads a reply whose only news is its error.
func readStatus(h *keyHandle, op string, cmd redis.Cmder) (struct{}, error) {
	return struct{}{}, h.fail(op, cmd.Err())
}

// readMoved reads SMOVE's reply: whether the member moved.
func readMoved(h *keyHandle, op string, cmd redis.Cmder) (bool, error) {
	n, err := readCount(h, op, cmd)
	return n == 1, err
}

// refuseNegative refuses a negative count before anything is sent.
func refuseNegative(h *keyHandle, op string, n int64) error {
	if n < 0 {
		return h.fail(op, fmt.Errorf("%w: count %d is negative", ErrInvalidArg, n))
	}
	return nil
}

// noItems refuses a write of nothing (Redis answers a wrong number of
// arguments) before anything is sent.
func noItems(h *keyHandle, op, what string) error {
	return h.fail(op, fmt.Errorf("%w: no %s to write", ErrInvalidArg, what))
}

// itoa formats a count or index argument.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
