package nest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// SortedSet operations beyond one key's reads and writes: blocking pops,
// iteration, and stores of several sets.

// blockSlice is the longest a blocking pop waits on the server in one
// command: ctx is checked between commands. Redis expires blocked clients
// on its cron tick (hz, 10 by default: every 100ms), so a slice lasts its
// timeout rounded up to the next tick: 50ms gives a cancel latency under
// about 150ms for about 10 commands a second per idle waiter.
const blockSlice = 50 * time.Millisecond

// BPopMin removes and returns the member of the lowest score, waiting
// until one is added when the set is empty (BZPOPMIN), for at most
// timeout (0: no limit but ctx). It returns [ErrNotFound] when timeout
// passes, and ctx's error soon after ctx is done (see [List.BLPop]: the
// same short server-side blocks, so no member is lost to a
// cancellation; a member popped by the block in flight when ctx ends is
// returned, with a nil error).
func (s SortedSet[T]) BPopMin(ctx context.Context, timeout time.Duration) (Z[T], error) {
	return s.bpop(ctx, "BZPOPMIN", timeout)
}

// BPopMax is [SortedSet.BPopMin] for the member of the highest score
// (BZPOPMAX).
func (s SortedSet[T]) BPopMax(ctx context.Context, timeout time.Duration) (Z[T], error) {
	return s.bpop(ctx, "BZPOPMAX", timeout)
}

func (s SortedSet[T]) bpop(ctx context.Context, op string, timeout time.Duration) (Z[T], error) {
	var z Z[T]
	if err := s.Err(); err != nil {
		return z, err
	}
	err := block(ctx, &s.keyHandle, op, timeout, func(bctx context.Context, secs string) (bool, error) {
		xs, err := rawDo(bctx, s.p.c.rdb, op, s.name, secs).Slice()
		switch {
		case errors.Is(err, redis.Nil):
			return false, nil
		case err != nil:
			return true, s.check(bctx, op, err)
		}
		z, err = s.bpopReply(op, xs)
		return true, err
	})
	return z, err
}

// bpopReply reads [key, member, score]; the score is a double (RESP3) or
// a string (RESP2).
func (s SortedSet[T]) bpopReply(op string, xs []any) (Z[T], error) {
	var z Z[T]
	if len(xs) != 3 {
		return z, s.fail(op, fmt.Errorf("unexpected reply of %d elements", len(xs)))
	}
	switch v := xs[2].(type) {
	case float64:
		z.Score = v
	case string:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return z, s.fail(op, fmt.Errorf("score %q: %w", v, err))
		}
		z.Score = f
	}
	m, _ := xs[1].(string)
	x, err := s.dec(op, "member 0", m)
	if err != nil {
		return z, err
	}
	z.Member = x
	return z, nil
}

// blockSlice is blockSlice, shortened to stay under the client's read
// timeout (a block longer than it would be cut by go-redis, and its reply
// lost with the connection).
func (c *client) blockSlice() time.Duration {
	var rt time.Duration
	switch r := c.rdb.(type) {
	case *redis.Client:
		rt = r.Options().ReadTimeout
	case *redis.ClusterClient:
		rt = r.Options().ReadTimeout
	case *redis.Ring:
		rt = r.Options().ReadTimeout
	}
	if rt > 0 && rt < 2*blockSlice {
		return max(rt/2, time.Millisecond)
	}
	return blockSlice
}

// All iterates over the members and their scores with ZSCAN, holding one
// batch ([Options.ScanCount]) at a time. Like ZSCAN, a member present for
// the whole iteration is yielded at least once (twice if the set is
// rehashed meanwhile); order is unspecified. A member that does not
// decode is yielded as a *[DecodeError] (with its score in the Z) and
// iteration goes on; a Redis error (WRONGTYPE, a cancelled ctx) is
// yielded last and ends it.
func (s SortedSet[T]) All(ctx context.Context) iter.Seq2[Z[T], error] {
	return func(yield func(Z[T], error) bool) {
		n := 0
		scanBatches(ctx, &s.keyHandle, "ZSCAN", func(c redis.Cmdable, cursor uint64, count int64) *redis.ScanCmd {
			return c.ZScan(ctx, s.name, cursor, "", count)
		}, func(batch []string, err error) bool {
			if err != nil {
				yield(Z[T]{}, err)
				return false
			}
			vc := s.codec()
			for i := 0; i+1 < len(batch); i += 2 {
				var z Z[T]
				z.Score, err = strconv.ParseFloat(batch[i+1], 64)
				if err != nil {
					err = s.fail("ZSCAN", fmt.Errorf("score %q: %w", batch[i+1], err))
				} else if z.Member, err = vc.dec(batch[i]); err != nil {
					_, err = s.dec("ZSCAN", "member "+strconv.Itoa(n), batch[i])
				}
				n++
				if !yield(z, err) {
					return false
				}
			}
			return true
		})
	}
}

// Aggregate says how [SortedSet.UnionStore] and [SortedSet.InterStore]
// combine the scores of a member found in several sets.
type Aggregate uint8

const (
	// AggregateSum adds the (weighted) scores; the default.
	AggregateSum Aggregate = iota
	// AggregateMin keeps the lowest.
	AggregateMin
	// AggregateMax keeps the highest.
	AggregateMax
)

// StoreOptions are the options of [SortedSet.UnionStore] and
// [SortedSet.InterStore]; the zero value means weight 1 for every source
// and AggregateSum.
type StoreOptions struct {
	// Weights multiply each source's scores, in the order of the sources:
	// none, or one per source. NaN is refused.
	Weights   []float64
	Aggregate Aggregate
}

// UnionStore replaces the set with the union of srcs (ZUNIONSTORE) and
// returns its size. The result gets the key's effective TTL in the same
// atomic step; an empty result deletes the key. Sources must be sets of
// the same type and codec (a member is compared by its encoded form) and,
// on Redis Cluster, share the key's hash slot (a pinned namespace): else
// nothing is sent and the error matches redis.ErrCrossSlot.
func (s SortedSet[T]) UnionStore(ctx context.Context, opts StoreOptions, srcs ...SortedSet[T]) (int64, error) {
	return s.store(ctx, "ZUNIONSTORE", opts, srcs)
}

// InterStore is [SortedSet.UnionStore] with the intersection of srcs
// (ZINTERSTORE).
func (s SortedSet[T]) InterStore(ctx context.Context, opts StoreOptions, srcs ...SortedSet[T]) (int64, error) {
	return s.store(ctx, "ZINTERSTORE", opts, srcs)
}

func (s SortedSet[T]) store(ctx context.Context, op string, opts StoreOptions, srcs []SortedSet[T]) (int64, error) {
	if err := s.Err(); err != nil {
		return 0, err
	}
	w, names, err := s.storeCmd(op, opts, srcs)
	if err != nil {
		return 0, err
	}
	cmd, err := s.write(ctx, op, w, names...)
	if err != nil {
		return 0, err
	}
	return cmd.Int64()
}

// storeCmd checks and builds a ZUNIONSTORE or ZINTERSTORE, and returns the
// sources' names.
func (s SortedSet[T]) storeCmd(op string, opts StoreOptions, srcs []SortedSet[T]) (wcmd, []string, error) {
	bad := func(format string, args ...any) (wcmd, []string, error) {
		return wcmd{}, nil, opError(op, s.name, fmt.Errorf("%w: "+format, append([]any{ErrInvalidArg}, args...)...))
	}
	switch {
	case len(srcs) == 0:
		return bad("no source sets")
	case len(opts.Weights) != 0 && len(opts.Weights) != len(srcs):
		return bad("%d weights for %d source sets", len(opts.Weights), len(srcs))
	case opts.Aggregate > AggregateMax:
		return bad("unknown Aggregate %d", opts.Aggregate)
	}
	for i, wt := range opts.Weights {
		if math.IsNaN(wt) {
			return bad("weight %d is NaN", i)
		}
	}
	hs := make([]*keyHandle, len(srcs))
	names := make([]string, len(srcs))
	for i := range srcs {
		hs[i], names[i] = &srcs[i].keyHandle, srcs[i].name
	}
	if err := s.sameSlot(op, hs...); err != nil {
		return wcmd{}, nil, err
	}
	for _, src := range srcs {
		if src.codec().name != s.codec().name {
			return wcmd{}, nil, opError(op, src.name, fmt.Errorf("%w: source set uses the %s codec, %s the %s codec; members would not compare",
				ErrConfig, src.codec().name, s.name, s.codec().name))
		}
	}
	w := s.newWrite(op, 3+2*len(srcs))
	w.flag(len(srcs))
	for _, n := range names {
		w.flag(n)
	}
	if len(opts.Weights) > 0 {
		w.flag("WEIGHTS")
		for _, wt := range opts.Weights {
			w.flag(wt)
		}
	}
	if opts.Aggregate != AggregateSum {
		w.flag("AGGREGATE", [...]string{"SUM", "MIN", "MAX"}[opts.Aggregate])
	}
	return w, names, nil
}
