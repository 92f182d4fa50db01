package nest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// List is a Redis list of elements of type T, declared in a namespace:
//
//	Jobs nest.List[Job] `nest:"jobs" ttl:"24h"`
//
// Elements are encoded like [Key] values (see [Codec]). Writes that add
// or change elements (pushes, Set, Insert, the destination of Move) apply
// the key's effective TTL atomically with the command (see [Counter] for
// the "fixed" mode); pops, Trim and Remove cannot create the key and leave
// its TTL alone. Reads of a `,sliding` list renew its TTL in the same
// round trip. The blocking pops ([List.BLPop], [List.BRPop],
// [List.BLMove]) honour their context without losing elements. A List is
// an immutable handle, safe to copy and to share between goroutines.
type List[T any] struct {
	_ [0]listMark[T]
	coll[T]
}

func (List[T]) compileKey(kp *keyPlan, explicit Codec) error {
	return compileCollection[T](kp, explicit, kindList)
}

func (List[T]) isParamKey() bool   { return false }
func (List[T]) fieldKind() keyKind { return kindList }

// ListEnd names an end of a list, for [List.Move] and [List.BLMove].
type ListEnd uint8

const (
	// Left is the head of a list: index 0, where LPUSH adds.
	Left ListEnd = iota
	// Right is the tail of a list: index -1, where RPUSH adds.
	Right
)

// String returns "LEFT" or "RIGHT", as Redis spells it.
func (e ListEnd) String() string {
	switch e {
	case Left:
		return "LEFT"
	case Right:
		return "RIGHT"
	}
	return fmt.Sprintf("ListEnd(%d)", uint8(e))
}

var (
	opLPUSH   = newOpName("LPUSH")
	opRPUSH   = newOpName("RPUSH")
	opLPUSHX  = newOpName("LPUSHX")
	opRPUSHX  = newOpName("RPUSHX")
	opLPOP    = newOpName("LPOP")
	opRPOP    = newOpName("RPOP")
	opLRANGE  = newOpName("LRANGE")
	opLINDEX  = newOpName("LINDEX")
	opLSET    = newOpName("LSET")
	opLLEN    = newOpName("LLEN")
	opLTRIM   = newOpName("LTRIM")
	opLREM    = newOpName("LREM")
	opLMOVE   = newOpName("LMOVE")
	opLINSERT = newOpName("LINSERT")
)

// Pushes.

// LPush inserts xs at the head of the list (LPUSH), one after the other,
// so the last of them ends first, and returns the list's new length. It
// creates the list when missing. An empty xs is refused with
// [ErrInvalidArg].
func (l List[T]) LPush(ctx context.Context, xs ...T) (int64, error) {
	return l.pushDirect(ctx, "LPUSH", xs)
}

// RPush appends xs at the tail of the list (RPUSH) and returns the list's
// new length. It creates the list when missing.
func (l List[T]) RPush(ctx context.Context, xs ...T) (int64, error) {
	return l.pushDirect(ctx, "RPUSH", xs)
}

// LPushX is LPush only when the list exists (LPUSHX); it returns 0 and
// creates nothing otherwise.
func (l List[T]) LPushX(ctx context.Context, xs ...T) (int64, error) {
	return l.pushDirect(ctx, "LPUSHX", xs)
}

// RPushX is RPush only when the list exists (RPUSHX); it returns 0 and
// creates nothing otherwise.
func (l List[T]) RPushX(ctx context.Context, xs ...T) (int64, error) {
	return l.pushDirect(ctx, "RPUSHX", xs)
}

func (l List[T]) pushDirect(ctx context.Context, op string, xs []T) (int64, error) {
	if err := l.Err(); err != nil {
		return 0, err
	}
	w, err := l.push(op, xs)
	if err != nil {
		return 0, err
	}
	cmd, err := l.write(ctx, op, w)
	if err != nil {
		return 0, err
	}
	return cmd.Int64()
}

// push builds a push: chunks of a huge push keep the order, and the last
// chunk's reply is the final length.
func (l List[T]) push(op string, xs []T) (wcmd, error) {
	if len(xs) == 0 {
		return wcmd{}, noItems(&l.keyHandle, op, "elements")
	}
	w := l.newWrite(op, len(xs))
	var err error
	w.args, err = l.encAll(op, w.args, xs)
	return w, err
}

// Pops.

// LPop removes and returns the head element (LPOP), or [ErrNotFound] when
// the list is empty or missing. An element that does not decode is gone
// from the list all the same: the *[DecodeError] keeps its bytes.
func (l List[T]) LPop(ctx context.Context) (T, error) { return l.pop(ctx, "LPOP") }

// RPop removes and returns the tail element (RPOP); see [List.LPop].
func (l List[T]) RPop(ctx context.Context) (T, error) { return l.pop(ctx, "RPOP") }

func (l List[T]) pop(ctx context.Context, op string) (T, error) {
	if err := l.Err(); err != nil {
		var zero T
		return zero, err
	}
	cmd := do(ctx, &l.keyHandle, op, 0, func(c redis.Cmdable) *redis.StringCmd { return l.popCmd(ctx, c, op) })
	return finish(ctx, &l.keyHandle, op, cmd, readElem[T])
}

func (l List[T]) popCmd(ctx context.Context, c redis.Cmdable, op string) *redis.StringCmd {
	if op == "RPOP" {
		return c.RPop(ctx, l.name)
	}
	return c.LPop(ctx, l.name)
}

// LPopCount removes and returns up to n elements from the head (LPOP with
// a count), in list order; none (and no error) when the list is empty
// or missing. A negative n is refused with [ErrInvalidArg]. A
// decode error names the element's position among those popped ("index
// 2"); all n are removed all the same.
func (l List[T]) LPopCount(ctx context.Context, n int) ([]T, error) {
	return l.popCount(ctx, "LPOP", n)
}

// RPopCount removes and returns up to n elements from the tail (RPOP with
// a count), the tail first; see [List.LPopCount].
func (l List[T]) RPopCount(ctx context.Context, n int) ([]T, error) {
	return l.popCount(ctx, "RPOP", n)
}

func (l List[T]) popCount(ctx context.Context, op string, n int) ([]T, error) {
	if err := l.Err(); err != nil {
		return nil, err
	}
	if err := refuseNegative(&l.keyHandle, op, int64(n)); err != nil {
		return nil, err
	}
	cmd := do(ctx, &l.keyHandle, op, 0, func(c redis.Cmdable) *redis.StringSliceCmd {
		if op == "RPOP" {
			return c.RPopCount(ctx, l.name, n)
		}
		return c.LPopCount(ctx, l.name, n)
	})
	return finish(ctx, &l.keyHandle, op, cmd, readIndexed[T])
}

func readIndexed[T any](h *keyHandle, op string, cmd redis.Cmder) ([]T, error) {
	return readElems[T](h, op, "index", cmd)
}

// Reads.

// Range returns the elements from index start to stop, both included
// (LRANGE); negative indexes count from the tail (-1 is the last). Out of
// range indexes are clamped, as in Redis: Range(ctx, 0, -1) returns the
// whole list, a missing list none. A decode error names the element's
// index ("index 7") when start is not negative, else its position in the
// range ("range position 2"); Range then returns no elements.
func (l List[T]) Range(ctx context.Context, start, stop int64) ([]T, error) {
	if err := l.Err(); err != nil {
		return nil, err
	}
	cmd := read(ctx, &l.keyHandle, "LRANGE", func(c redis.Cmdable) *redis.StringSliceCmd {
		return c.LRange(ctx, l.name, start, stop)
	})
	return finish(ctx, &l.keyHandle, "LRANGE", cmd, rangeReader[T](start))
}

// rangeReader reads LRANGE's reply, naming elements from start.
func rangeReader[T any](start int64) replyReader[[]T] {
	return func(h *keyHandle, op string, cmd redis.Cmder) ([]T, error) {
		ss, err := replyTexts(cmd)
		if err != nil {
			return nil, h.fail(op, err)
		}
		c := coll[T]{*h}
		vc := c.codec()
		out := make([]T, len(ss))
		for i, s := range ss {
			if out[i], err = vc.dec(s); err == nil {
				continue
			}
			elem := "range position " + itoa(int64(i)) // named only now
			if start >= 0 {
				elem = "index " + itoa(start+int64(i))
			}
			_, err = c.dec(op, elem, s)
			return nil, err
		}
		return out, nil
	}
}

// Index returns the element at index i (LINDEX; negative counts from the
// tail), or [ErrNotFound] when i is out of range or the list missing.
func (l List[T]) Index(ctx context.Context, i int64) (T, error) {
	if err := l.Err(); err != nil {
		var zero T
		return zero, err
	}
	cmd := read(ctx, &l.keyHandle, "LINDEX", func(c redis.Cmdable) *redis.StringCmd { return c.LIndex(ctx, l.name, i) })
	return finish(ctx, &l.keyHandle, "LINDEX", cmd, indexReader[T](i))
}

func indexReader[T any](i int64) replyReader[T] {
	return func(h *keyHandle, op string, cmd redis.Cmder) (T, error) {
		s, err := replyText(cmd)
		if err != nil {
			var zero T
			return zero, h.fail(op, err)
		}
		return coll[T]{*h}.dec(op, "index "+itoa(i), s)
	}
}

// Len returns the list's length (LLEN), 0 when it is missing.
func (l List[T]) Len(ctx context.Context) (int64, error) {
	if err := l.Err(); err != nil {
		return 0, err
	}
	cmd := read(ctx, &l.keyHandle, "LLEN", func(c redis.Cmdable) *redis.IntCmd { return c.LLen(ctx, l.name) })
	return finish(ctx, &l.keyHandle, "LLEN", cmd, readCount)
}

// Changes in place.

// Set replaces the element at index i (LSET; negative counts from the
// tail) and applies the key's TTL. An index outside the list is refused
// with [ErrOutOfRange], a missing list with [ErrNotFound]; nothing is
// changed then.
func (l List[T]) Set(ctx context.Context, i int64, x T) error {
	if err := l.Err(); err != nil {
		return err
	}
	w, err := l.set(i, x)
	if err != nil {
		return err
	}
	cmd, err := l.write(ctx, "LSET", w)
	if err != nil && !isWrongType(cmd.Err()) {
		_, err = readLSet(&l.keyHandle, "LSET", cmd)
		if errors.Is(err, ErrOutOfRange) {
			err = l.fail("LSET", fmt.Errorf("%w: index %d", ErrOutOfRange, i))
		}
	}
	return err
}

func (l List[T]) set(i int64, x T) (wcmd, error) {
	v, err := l.enc("LSET", x)
	if err != nil {
		return wcmd{}, err
	}
	w := l.newWrite("LSET", 2)
	w.flag(i, v)
	return w, nil
}

// readLSet translates LSET's error replies.
func readLSet(h *keyHandle, op string, cmd redis.Cmder) (struct{}, error) {
	err := cmd.Err()
	if isReplyError(err) {
		switch msg := err.Error(); {
		case strings.Contains(msg, "index out of range"):
			err = ErrOutOfRange
		case strings.Contains(msg, "no such key"):
			err = ErrNotFound
		}
	}
	return struct{}{}, h.fail(op, err)
}

// InsertBefore inserts x before the first element equal to pivot (LINSERT
// BEFORE) and returns the list's new length, or [ErrNotFound] when the
// list is missing or holds no such pivot (nothing is inserted then).
func (l List[T]) InsertBefore(ctx context.Context, pivot, x T) (int64, error) {
	return l.insert(ctx, "BEFORE", pivot, x)
}

// InsertAfter inserts x after the first element equal to pivot (LINSERT
// AFTER); see [List.InsertBefore].
func (l List[T]) InsertAfter(ctx context.Context, pivot, x T) (int64, error) {
	return l.insert(ctx, "AFTER", pivot, x)
}

func (l List[T]) insert(ctx context.Context, where string, pivot, x T) (int64, error) {
	if err := l.Err(); err != nil {
		return 0, err
	}
	w := l.newWrite("LINSERT", 3)
	args, err := l.encAll("LINSERT", nil, []T{pivot, x})
	if err != nil {
		return 0, err
	}
	w.flag(where, args[0], args[1])
	cmd, err := l.write(ctx, "LINSERT", w)
	if err != nil {
		return 0, err
	}
	return readInsert(&l.keyHandle, "LINSERT", cmd)
}

// readInsert reads LINSERT's reply: 0 (no list) and -1 (no pivot) are
// ErrNotFound.
func readInsert(h *keyHandle, op string, cmd redis.Cmder) (int64, error) {
	n, err := readInt(h, op, cmd)
	if err == nil && n <= 0 {
		return 0, h.fail(op, ErrNotFound)
	}
	return n, err
}

// Removals.

// Trim keeps only the elements from start to stop, both included (LTRIM;
// negative indexes count from the tail); a range that selects nothing
// deletes the list.
func (l List[T]) Trim(ctx context.Context, start, stop int64) error {
	if err := l.Err(); err != nil {
		return err
	}
	cmd := do(ctx, &l.keyHandle, "LTRIM", 0, func(c redis.Cmdable) *redis.StatusCmd { return c.LTrim(ctx, l.name, start, stop) })
	_, err := finish(ctx, &l.keyHandle, "LTRIM", cmd, readStatus)
	return err
}

// Remove removes elements equal to x (LREM) and returns how many: count
// > 0 removes the first count from the head, count < 0 the first -count
// from the tail, count = 0 all of them (Redis's semantics).
func (l List[T]) Remove(ctx context.Context, count int64, x T) (int64, error) {
	if err := l.Err(); err != nil {
		return 0, err
	}
	v, err := l.enc("LREM", x)
	if err != nil {
		return 0, err
	}
	cmd := do(ctx, &l.keyHandle, "LREM", 0, func(c redis.Cmdable) *redis.IntCmd { return c.LRem(ctx, l.name, count, v) })
	return finish(ctx, &l.keyHandle, "LREM", cmd, readCount)
}

// Moves.

// Move atomically pops the element at the from end of l and pushes it at
// the to end of dst (LMOVE), which gets its own TTL in the same step, and
// returns the element; [ErrNotFound] when l is empty. dst may be l itself
// (a rotation). On Redis Cluster both lists must share a slot (a pinned
// namespace); else Move fails with an error matching redis.ErrCrossSlot
// and sends nothing.
func (l List[T]) Move(ctx context.Context, dst List[T], from, to ListEnd) (T, error) {
	var zero T
	if _, err := l.moveCheck("LMOVE", dst, from, to); err != nil {
		return zero, err
	}
	w := l.moveCmd(dst, from, to)
	cmd, err := dst.write(ctx, "LMOVE", w, l.name)
	if err != nil {
		return zero, checkKeys(ctx, "LMOVE", cmd.Err(), &l.keyHandle, &dst.keyHandle)
	}
	return readElem[T](&dst.keyHandle, "LMOVE", cmd)
}

func (l List[T]) moveCheck(op string, dst List[T], from, to ListEnd) ([]string, error) {
	names, err := sameKind[T](op, &l.keyHandle, &dst.keyHandle)
	if err != nil {
		return nil, err
	}
	for _, e := range []ListEnd{from, to} {
		if e > Right {
			return nil, l.fail(op, fmt.Errorf("%w: list end %v (want Left or Right)", ErrInvalidArg, e))
		}
	}
	return names, nil
}

// moveCmd is LMOVE as a write of dst: the write script applies the TTL
// to KEYS[1], dst.
func (l List[T]) moveCmd(dst List[T], from, to ListEnd) wcmd {
	a := make([]any, writeLead, writeLead+5)
	a = append(a, "LMOVE", l.name, dst.name, from.String(), to.String())
	return wcmd{args: a, head: 5}
}

// QueuedList is a [List] seen through a [Pipe]; get it from [List.In].
// The blocking pops are not queued: a pipeline would wait behind them,
// and a transaction runs them without blocking.
type QueuedList[T any] struct{ queued }

// In returns the list's operations queued on p.
func (l List[T]) In(p *Pipe) QueuedList[T] { return QueuedList[T]{queued{l.keyHandle, p}} }

func (q QueuedList[T]) list() List[T] { return List[T]{coll: coll[T]{q.h}} }

// LPush queues [List.LPush].
func (q QueuedList[T]) LPush(ctx context.Context, xs ...T) *Future[int64] {
	return q.push(ctx, opLPUSH, xs)
}

// RPush queues [List.RPush].
func (q QueuedList[T]) RPush(ctx context.Context, xs ...T) *Future[int64] {
	return q.push(ctx, opRPUSH, xs)
}

// LPushX queues [List.LPushX].
func (q QueuedList[T]) LPushX(ctx context.Context, xs ...T) *Future[int64] {
	return q.push(ctx, opLPUSHX, xs)
}

// RPushX queues [List.RPushX].
func (q QueuedList[T]) RPushX(ctx context.Context, xs ...T) *Future[int64] {
	return q.push(ctx, opRPUSHX, xs)
}

func (q QueuedList[T]) push(ctx context.Context, op opName, xs []T) *Future[int64] {
	return queueWrite(ctx, q.queued, op, func() (wcmd, error) { return q.list().push(op.String(), xs) }, readInt)
}

// LPop queues [List.LPop].
func (q QueuedList[T]) LPop(ctx context.Context) *Future[T] {
	return enqueueRead(q.p, &q.h, opLPOP, 0, readElem[T], func() (redis.Cmder, error) {
		return q.list().popCmd(ctx, q.p.pp, "LPOP"), nil
	})
}

// RPop queues [List.RPop].
func (q QueuedList[T]) RPop(ctx context.Context) *Future[T] {
	return enqueueRead(q.p, &q.h, opRPOP, 0, readElem[T], func() (redis.Cmder, error) {
		return q.list().popCmd(ctx, q.p.pp, "RPOP"), nil
	})
}

// Range queues [List.Range].
func (q QueuedList[T]) Range(ctx context.Context, start, stop int64) *Future[[]T] {
	return enqueueRead(q.p, &q.h, opLRANGE, 0, rangeReader[T](start), func() (redis.Cmder, error) {
		cmd := q.p.pp.LRange(ctx, q.h.name, start, stop)
		q.renew(ctx)
		return cmd, nil
	})
}

// Index queues [List.Index].
func (q QueuedList[T]) Index(ctx context.Context, i int64) *Future[T] {
	return enqueueRead(q.p, &q.h, opLINDEX, 0, indexReader[T](i), func() (redis.Cmder, error) {
		cmd := q.p.pp.LIndex(ctx, q.h.name, i)
		q.renew(ctx)
		return cmd, nil
	})
}

// Len queues [List.Len].
func (q QueuedList[T]) Len(ctx context.Context) *Future[int64] {
	return enqueueRead(q.p, &q.h, opLLEN, 0, readCount, func() (redis.Cmder, error) {
		cmd := q.p.pp.LLen(ctx, q.h.name)
		q.renew(ctx)
		return cmd, nil
	})
}

// Set queues [List.Set]; the Future fails with [ErrOutOfRange] for an
// index outside the list.
func (q QueuedList[T]) Set(ctx context.Context, i int64, x T) *Future[struct{}] {
	return queueWrite(ctx, q.queued, opLSET, func() (wcmd, error) { return q.list().set(i, x) }, readLSet)
}

// Trim queues [List.Trim].
func (q QueuedList[T]) Trim(ctx context.Context, start, stop int64) *Future[struct{}] {
	return enqueueRead(q.p, &q.h, opLTRIM, 0, readStatus, func() (redis.Cmder, error) {
		return q.p.pp.LTrim(ctx, q.h.name, start, stop), nil
	})
}

// Remove queues [List.Remove].
func (q QueuedList[T]) Remove(ctx context.Context, count int64, x T) *Future[int64] {
	return enqueueRead(q.p, &q.h, opLREM, 0, readCount, func() (redis.Cmder, error) {
		v, err := q.list().enc("LREM", x)
		if err != nil {
			return nil, err
		}
		return q.p.pp.LRem(ctx, q.h.name, count, v), nil
	})
}

// InsertBefore queues [List.InsertBefore].
func (q QueuedList[T]) InsertBefore(ctx context.Context, pivot, x T) *Future[int64] {
	return q.insert(ctx, "BEFORE", pivot, x)
}

// InsertAfter queues [List.InsertAfter].
func (q QueuedList[T]) InsertAfter(ctx context.Context, pivot, x T) *Future[int64] {
	return q.insert(ctx, "AFTER", pivot, x)
}

func (q QueuedList[T]) insert(ctx context.Context, where string, pivot, x T) *Future[int64] {
	return queueWrite(ctx, q.queued, opLINSERT, func() (wcmd, error) {
		l := q.list()
		w := l.newWrite("LINSERT", 3)
		args, err := l.encAll("LINSERT", nil, []T{pivot, x})
		if err != nil {
			return wcmd{}, err
		}
		w.flag(where, args[0], args[1])
		return w, nil
	}, readInsert)
}

// Move queues [List.Move]. On Redis Cluster the lists must share a slot,
// else the Future fails with an error matching redis.ErrCrossSlot and the
// Pipe sends nothing. The Future's errors name dst, the key written.
func (q QueuedList[T]) Move(ctx context.Context, dst List[T], from, to ListEnd) *Future[T] {
	l := q.list()
	names, err := l.moveCheck("LMOVE", dst, from, to)
	if err == nil {
		names = []string{dst.name, l.name}
	}
	return multiWrite(ctx, q.queued, opLMOVE, dst.keyHandle, err, func() (wcmd, error) { return l.moveCmd(dst, from, to), nil }, readElem[T], names)
}
