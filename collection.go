package nest

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The core shared by counters and collections (Hash, Struct, List, Set,
// SortedSet): writes that apply the key's TTL atomically, reads that
// renew a sliding TTL in the same round trip, and the element codec.

// coll is the state of a collection handle whose elements (members, field
// values) are of type T, and the element codec. Collection kinds embed
// it, as Key embeds value.
type coll[T any] struct{ keyHandle }

func (c coll[T]) codec() *valueCodec[T] { return c.p.codec.(*valueCodec[T]) }

// enc encodes one element; its error names the command and the key.
func (c coll[T]) enc(op string, x T) (any, error) {
	v, err := c.codec().encode(c.name, x)
	if err != nil {
		return nil, opError(op, c.name, err)
	}
	return v, nil
}

// dec decodes one stored element; a failure is a *DecodeError naming
// where it is (elem: `field "f"`, "index 3", "member 2") inside an
// *OpError naming the command and key.
func (c coll[T]) dec(op, elem, s string) (T, error) {
	return decodeElem(c.codec(), op, c.name, elem, s)
}

func decodeElem[T any](vc *valueCodec[T], op, key, elem, s string) (T, error) {
	x, err := vc.dec(s)
	if err != nil {
		var zero T
		return zero, opError(op, key, &DecodeError{Key: key, Type: reflect.TypeFor[T]().String(),
			Codec: vc.name, Raw: []byte(s), Elem: elem, Err: err})
	}
	return x, nil
}

// decAll decodes stored elements in order; elem names the i-th one for
// errors ("index", "member"). It stops at the first that does not decode.
func (c coll[T]) decAll(op, elem string, ss []string) ([]T, error) {
	out := make([]T, len(ss))
	vc := c.codec()
	for i, s := range ss {
		x, err := vc.dec(s)
		if err != nil { // name the element only now: no string per element
			_, err = c.dec(op, elem+" "+strconv.Itoa(i), s)
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

// encAll encodes elements into args, after what args holds already.
func (c coll[T]) encAll(op string, args []any, xs []T) ([]any, error) {
	for _, x := range xs {
		v, err := c.enc(op, x)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	return args, nil
}

// Writes.
//
// A write that can create the key (or add to it) is built as a wcmd and
// sent by writeCmd: as is when the key has no TTL, else through the write
// script (lua/write.lua), which runs the command and applies the TTL in one
// atomic step. Commands that only remove (pops, removals) cannot create a
// key and are sent as they are.

// wcmd is a write command under construction: the script's four leading
// arguments (filled by writeCmd) and then the command itself.
type wcmd struct {
	args []any
	head int  // how many arguments of the command form its head (name, keys, flags)
	sum  bool // replies of chunks add up (counts), else the last one counts (lengths)
	// hget makes the script reply with the hash field the command names
	// (its third argument) read back as text: HINCRBY's integer reply
	// would pass through a Lua double and lose precision beyond 2^53.
	hget bool
}

const (
	writeLead  = 4    // ttl, mode, head, combine
	writeChunk = 4096 // items per call in lua/write.lua; more go in chunks
)

// newWrite starts the write command name on the key, with room for n
// more arguments. Head arguments (flags) are appended with flag; items
// with item.
func (h *keyHandle) newWrite(name string, n int) wcmd {
	a := make([]any, writeLead, writeLead+2+n)
	return wcmd{args: append(a, name, h.name), head: 2}
}

// flag appends head arguments (keys, options such as NX) that every chunk
// of a large write repeats.
func (w *wcmd) flag(args ...any) {
	w.args = append(w.args, args...)
	w.head += len(args)
}

// item appends one item argument.
func (w *wcmd) item(a any) { w.args = append(w.args, a) }

// writeCmd sends or queues w with the key's TTL applied atomically and
// returns its command, whose reply is the command's own (through the
// script, in RESP2 form: scores and floats are strings). others are keys
// the command reads besides h's (declared to Redis Cluster). queued says c
// is a pipeline, where the script text is sent (EVAL) because a NOSCRIPT
// reply could not be retried there.
func (h *keyHandle) writeCmd(ctx context.Context, c doer, w wcmd, queued bool, others ...string) *redis.Cmd {
	if !queued && h.p.indexed {
		conn, ok := c.(redis.Cmdable)
		if !ok {
			conn = h.p.c.rdb
		}
		return sendIndexed(ctx, h, conn, func(pp redis.Pipeliner) *redis.Cmd { return h.writeCmd(ctx, pp, w, true, others...) })
	}
	if queued {
		h.queueIndex(ctx, c)
	}
	t := h.p.ttl
	if t.d <= 0 {
		return c.Do(ctx, w.args[writeLead:]...)
	}
	mode, combine := "r", "last"
	if t.fixed {
		mode = "f"
	}
	switch {
	case w.sum:
		combine = "sum"
	case w.hget:
		combine = "hget"
	}
	var head any = "" // one call: the script skips its chunking
	if len(w.args)-writeLead-w.head > writeChunk {
		head = w.head
	}
	w.args[0], w.args[1], w.args[2], w.args[3] = t.d.Milliseconds(), mode, head, combine
	keys := append(make([]string, 0, 1+len(others)), h.name)
	keys = append(keys, others...)
	if queued {
		return writeScript.Eval(ctx, c, keys, w.args...)
	}
	return writeScript.Run(ctx, c, keys, w.args...)
}

// doer is what writeCmd sends through: a go-redis client or pipeline.
type doer interface {
	redis.Scripter
	Do(ctx context.Context, args ...any) *redis.Cmd
	SAdd(ctx context.Context, key string, members ...any) *redis.IntCmd // index updates (index.go)
}

// write sends w directly, logging it, and returns the reply checked (see
// check).
func (h *keyHandle) write(ctx context.Context, op string, w wcmd, others ...string) (*redis.Cmd, error) {
	if err := h.Err(); err != nil {
		return nil, err
	}
	c := h.p.c
	start := c.clock()
	cmd := h.writeCmd(ctx, c.rdb, w, false, others...)
	c.logged(ctx, op, h.name, h.p.ttl.d, start, cmd.Err())
	return cmd, h.check(ctx, op, cmd.Err())
}

// Reads.

// read sends one read command; with a sliding TTL it renews the TTL in the
// same round trip (a pipeline of the command and PEXPIRE).
func read[C redis.Cmder](ctx context.Context, h *keyHandle, op string, send func(redis.Cmdable) C) C {
	c := h.p.c
	t := h.p.ttl
	if !t.sliding || t.d <= 0 {
		return do(ctx, h, op, 0, send)
	}
	start := c.clock()
	pp := c.rdb.Pipeline()
	cmd := send(pp)
	h.renewCmd(ctx, pp)
	_, _ = pp.Exec(ctx) // cmd carries its own error
	c.logged(ctx, op, h.name, t.d, start, cmd.Err())
	return cmd
}

// renewCmd queues the renewal of h's sliding TTL on a pipeline, after a
// read: a script that PEXPIREs the key only if it holds the declared Redis
// type, so that a read failing with WRONGTYPE leaves a foreign key's TTL
// alone. The script text is sent (EVAL): a NOSCRIPT reply could not be
// retried inside a pipeline.
func (h *keyHandle) renewCmd(ctx context.Context, pp redis.Pipeliner) {
	renewScript.Eval(ctx, pp, []string{h.name}, h.p.ttl.d.Milliseconds(), h.p.kind.redisType())
}

// renew queues the renewal of a sliding TTL after a queued read,
// except in the reads of an optimistic transaction (a renewal would touch
// a watched key; Namespace.Watch renews at EXEC instead).
func (q queued) renew(ctx context.Context) {
	if t := q.h.p.ttl; t.sliding && t.d > 0 && !q.p.watch {
		q.h.renewCmd(ctx, q.p.pp)
	}
}

// queueWrite queues w on q's Pipe with the key's TTL (see writeCmd); read
// decodes the reply into the Future.
func queueWrite[V any](ctx context.Context, q queued, op opName, w func() (wcmd, error), rd replyReader[V], others ...string) *Future[V] {
	var ttl time.Duration
	if q.h.p != nil {
		ttl = q.h.p.ttl.d
	}
	return enqueueRead(q.p, &q.h, op, ttl, rd, func() (redis.Cmder, error) {
		for _, o := range others {
			if err := q.p.c.sameSlot(q.h.name, o); err != nil {
				return nil, err
			}
		}
		cmd, err := w()
		if err != nil {
			return nil, err
		}
		return q.h.writeCmd(ctx, q.p.pp, cmd, true, others...), nil
	})
}

// Reply readers shared by the kinds: each reads a reply as the direct
// call does. Replies arrive in RESP3 form from a plain command and in
// RESP2 form through the write script; these accept both.

func readInt(h *keyHandle, op string, cmd redis.Cmder) (int64, error) {
	n, err := cmd.(*redis.Cmd).Int64()
	return n, h.fail(op, err)
}

func readFloat(h *keyHandle, op string, cmd redis.Cmder) (float64, error) {
	f, err := cmd.(*redis.Cmd).Float64()
	return f, h.fail(op, err)
}

func readCount(h *keyHandle, op string, cmd redis.Cmder) (int64, error) {
	switch c := cmd.(type) {
	case *redis.IntCmd:
		n, err := c.Result()
		return n, h.fail(op, err)
	case *redis.BoolCmd:
		ok, err := c.Result()
		if ok {
			return 1, h.fail(op, err)
		}
		return 0, h.fail(op, err)
	}
	return readInt(h, op, cmd)
}

// sameSlot checks, for a command on several keys, that they can run
// together: bound to the same go-redis client and, on Redis Cluster or a
// Ring, in one slot (shard).
func (h *keyHandle) sameSlot(op string, others ...*keyHandle) error {
	if err := h.Err(); err != nil {
		return err
	}
	for _, o := range others {
		if err := o.Err(); err != nil {
			return err
		}
		if o.p.c.rdb != h.p.c.rdb {
			return opError(op, o.name, fmt.Errorf("%w: the keys' schemas are bound to different go-redis clients", ErrConfig))
		}
		if err := h.p.c.sameSlot(h.name, o.name); err != nil {
			return opError(op, o.name, err)
		}
	}
	return nil
}

// scanBatches runs a cursor scan over the key's elements (SSCAN, HSCAN,
// ZSCAN): scan sends one call from cursor with COUNT count. It yields each
// non-empty batch as the server returned it (pairs stay flat: field,
// value, field, value), holding one batch at a time, and then an error,
// if any, as the last pair. Like SCAN, an element present for the whole
// iteration is yielded at least once and may be yielded twice when the
// collection is rehashed meanwhile.
func scanBatches(ctx context.Context, h *keyHandle, op string,
	scan func(c redis.Cmdable, cursor uint64, count int64) *redis.ScanCmd, yield func([]string, error) bool,
) {
	if err := h.Err(); err != nil {
		yield(nil, err)
		return
	}
	count := h.p.c.scanCount
	var cursor uint64
	for {
		keys, next, err := do(ctx, h, op, 0, func(c redis.Cmdable) *redis.ScanCmd {
			return scan(c, cursor, count)
		}).Result()
		if err != nil {
			yield(nil, h.check(ctx, op, err))
			return
		}
		if len(keys) > 0 && !yield(keys, nil) {
			return
		}
		if cursor = next; cursor == 0 {
			return
		}
	}
}
