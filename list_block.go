package nest

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Blocking pops that honour their context without losing elements.
//
// go-redis cannot interrupt a command blocked on the server: abandoning
// it on cancel would close the connection and drop an element the server
// popped meanwhile. So the pops block in slices: each slice is one
// blocking command with a server-side timeout of at most blockSlice,
// sent with a context that is never cancelled, whose reply is always read;
// the context is checked between slices. A cancel returns within a slice
// (see blockSlice) and a round trip, and an element is either returned or still in the
// list. A slice also works the same through Redis Cluster redirects, Ring
// shards and failovers, which a dedicated connection unblocked by CLIENT
// UNBLOCK would not; the price is one command per slice per idle waiter.

// BLPop removes and returns the head element (BLPOP), waiting for one up
// to timeout (0: as long as ctx allows). It returns [ErrNotFound] when
// timeout passes, or ctx's error soon after ctx is done (within about
// 150ms with Redis's default hz of 10); an element is never lost: once popped, it is returned even if
// ctx was cancelled meanwhile. A negative timeout is refused with
// [ErrInvalidArg]. The wait is a series of short server-side blocks sent
// on a context go-redis cannot cut short (so that a reply in flight is
// always read), with ctx checked between them; a server that holds a
// command (CLIENT PAUSE, a stall) delays the return until it answers.
func (l List[T]) BLPop(ctx context.Context, timeout time.Duration) (T, error) {
	return l.bpop(ctx, "BLPOP", timeout)
}

// BRPop removes and returns the tail element (BRPOP); see [List.BLPop].
func (l List[T]) BRPop(ctx context.Context, timeout time.Duration) (T, error) {
	return l.bpop(ctx, "BRPOP", timeout)
}

func (l List[T]) bpop(ctx context.Context, op string, timeout time.Duration) (T, error) {
	var x T
	if err := l.Err(); err != nil {
		return x, err
	}
	h := &l.keyHandle
	err := block(ctx, h, op, timeout, func(bctx context.Context, secs string) (bool, error) {
		cmd := h.p.c.rdb.Do(bctx, op, h.name, secs)
		ss, err := cmd.StringSlice()
		if err == redis.Nil {
			return false, nil
		}
		if err != nil {
			return true, h.check(ctx, op, err)
		}
		if len(ss) != 2 {
			return true, h.fail(op, fmt.Errorf("nest: unexpected %s reply of %d elements", op, len(ss)))
		}
		x, err = l.dec(op, "", ss[1])
		return true, err
	})
	return x, err
}

// BLMove is [List.Move] waiting for an element up to timeout (BLMOVE),
// with BLPop's handling of timeout and ctx. When dst has a TTL, the move
// and the TTL go in one script, which cannot block: BLMove then waits for
// l to hold an element with BLMOVE from l to itself (which leaves l as it
// was) and moves it in the script, trying again if another client took
// it first.
func (l List[T]) BLMove(ctx context.Context, dst List[T], from, to ListEnd, timeout time.Duration) (T, error) {
	var x T
	if _, err := l.moveCheck("BLMOVE", dst, from, to); err != nil {
		return x, err
	}
	h := &l.keyHandle
	rdb := h.p.c.rdb
	moved := func(cmd *redis.Cmd) (bool, error) {
		s, err := cmd.Text()
		if err == redis.Nil {
			return false, nil
		}
		if err != nil {
			return true, checkKeys(ctx, "BLMOVE", err, h, &dst.keyHandle)
		}
		x, err = dst.dec("BLMOVE", "", s)
		return true, err
	}
	if dst.p.ttl.d <= 0 {
		err := block(ctx, h, "BLMOVE", timeout, func(bctx context.Context, secs string) (bool, error) {
			return moved(rdb.Do(bctx, "BLMOVE", l.name, dst.name, from.String(), to.String(), secs))
		})
		return x, err
	}
	err := block(ctx, h, "BLMOVE", timeout, func(bctx context.Context, secs string) (bool, error) {
		if done, err := moved(dst.writeCmd(bctx, rdb, l.moveCmd(dst, from, to), false, l.name)); done {
			return true, err
		}
		// Wait for an element without taking it: LEFT to LEFT of the same
		// list puts it back where it was.
		if err := rdb.Do(bctx, "BLMOVE", l.name, l.name, "LEFT", "LEFT", secs).Err(); err != nil && err != redis.Nil {
			return true, h.check(ctx, "BLMOVE", err)
		}
		return false, nil
	})
	return x, err
}

// block runs try, one slice at a time, until it reports done, timeout
// passes (ErrNotFound) or ctx is done (ctx's error). try sends one
// blocking command with secs as its server-side timeout, on bctx, which
// is never cancelled, so that its reply is always read.
func block(ctx context.Context, h *keyHandle, op string, timeout time.Duration, try func(bctx context.Context, secs string) (bool, error)) (err error) {
	if timeout < 0 {
		return h.fail(op, fmt.Errorf("%w: timeout %v is negative", ErrInvalidArg, timeout))
	}
	c := h.p.c
	start := c.clock()
	defer func() { c.logged(ctx, op, h.name, 0, start, err) }()
	slice := c.blockSlice()
	var end time.Time
	if timeout > 0 {
		end = time.Now().Add(timeout)
	}
	bctx := context.WithoutCancel(ctx)
	for {
		if err := ctx.Err(); err != nil {
			return h.fail(op, err)
		}
		s := slice
		if !end.IsZero() {
			left := time.Until(end)
			if left <= 0 {
				return h.fail(op, ErrNotFound)
			}
			s = min(s, left)
		}
		if d, ok := ctx.Deadline(); ok {
			s = min(s, time.Until(d))
		}
		s = max(s, time.Millisecond)
		if done, err := try(bctx, strconv.FormatFloat(s.Seconds(), 'f', 3, 64)); done {
			return err
		}
	}
}
