package nest

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// A SortedSet's operations queued on a Pipe.

var (
	opZADD             = newOpName("ZADD")
	opZINCRBY          = newOpName("ZINCRBY")
	opZREM             = newOpName("ZREM")
	opZSCORE           = newOpName("ZSCORE")
	opZRANK            = newOpName("ZRANK")
	opZREVRANK         = newOpName("ZREVRANK")
	opZCARD            = newOpName("ZCARD")
	opZCOUNT           = newOpName("ZCOUNT")
	opZRANGE           = newOpName("ZRANGE")
	opZPOPMIN          = newOpName("ZPOPMIN")
	opZPOPMAX          = newOpName("ZPOPMAX")
	opZREMRANGEBYRANK  = newOpName("ZREMRANGEBYRANK")
	opZREMRANGEBYSCORE = newOpName("ZREMRANGEBYSCORE")
	opZUNIONSTORE      = newOpName("ZUNIONSTORE")
	opZINTERSTORE      = newOpName("ZINTERSTORE")
)

// QueuedSortedSet is a [SortedSet] seen through a [Pipe]; get it from
// [SortedSet.In]. Each method queues the direct method of the same name
// and returns a [Future] that [Pipe.Exec] resolves with the same result
// and error. An argument the direct call refuses (a NaN score, a
// negative count) fails the Pipe, so that Exec sends nothing.
type QueuedSortedSet[T any] struct{ queued }

// In returns the sorted set's operations queued on p.
func (s SortedSet[T]) In(p *Pipe) QueuedSortedSet[T] {
	return QueuedSortedSet[T]{queued{s.keyHandle, p}}
}

func (q QueuedSortedSet[T]) set() SortedSet[T] { return SortedSet[T]{coll: coll[T]{q.h}} }

// inner strips the *OpError that the direct forms wrap their argument
// errors in: enqueue wraps them again with the same command and key.
func inner(err error) error {
	var oe *OpError
	if errors.As(err, &oe) {
		return oe.Err
	}
	return err
}

// zQueueRead queues a read, then the renewal of a sliding TTL.
func zQueueRead[V any](ctx context.Context, q queued, op opName, rd replyReader[V], add func() (redis.Cmder, error)) *Future[V] {
	f := enqueueRead(q.p, &q.h, op, 0, rd, add)
	if !f.done {
		q.renew(ctx)
	}
	return f
}

// Add queues [SortedSet.Add].
func (q QueuedSortedSet[T]) Add(ctx context.Context, members ...Z[T]) *Future[int64] {
	return q.AddWith(ctx, 0, members...)
}

// AddWith queues [SortedSet.AddWith]. No members queues nothing; the
// Future then holds 0.
func (q QueuedSortedSet[T]) AddWith(ctx context.Context, opts AddOption, members ...Z[T]) *Future[int64] {
	if len(members) == 0 && opts.check() == nil {
		f := newFuture[int64](q.p)
		f.done = true
		return f
	}
	return queueWrite(ctx, q.queued, opZADD, func() (wcmd, error) {
		w, err := q.set().add(opts, members)
		return w, inner(err)
	}, readInt)
}

// IncrBy queues [SortedSet.IncrBy].
func (q QueuedSortedSet[T]) IncrBy(ctx context.Context, member T, delta float64) *Future[float64] {
	return queueWrite(ctx, q.queued, opZINCRBY, func() (wcmd, error) {
		w, err := q.set().incrBy(member, delta)
		return w, inner(err)
	}, readFloat)
}

// Remove queues [SortedSet.Remove].
func (q QueuedSortedSet[T]) Remove(ctx context.Context, members ...T) *Future[int64] {
	return enqueueRead(q.p, &q.h, opZREM, 0, readCount, func() (redis.Cmder, error) {
		args, err := q.set().remArgs(members)
		if err != nil {
			return nil, inner(err)
		}
		return q.p.pp.ZRem(ctx, q.h.name, args...), nil
	})
}

// Score queues [SortedSet.Score].
func (q QueuedSortedSet[T]) Score(ctx context.Context, member T) *Future[float64] {
	return zQueueRead(ctx, q.queued, opZSCORE, readZScore, func() (redis.Cmder, error) {
		m, err := q.set().member("ZSCORE", member)
		if err != nil {
			return nil, inner(err)
		}
		return q.p.pp.ZScore(ctx, q.h.name, m), nil
	})
}

func readZScore(h *keyHandle, op string, cmd redis.Cmder) (float64, error) {
	f, err := cmd.(*redis.FloatCmd).Result()
	return f, h.fail(op, err)
}

// Rank queues [SortedSet.Rank].
func (q QueuedSortedSet[T]) Rank(ctx context.Context, member T) *Future[int64] {
	return q.rank(ctx, opZRANK, member)
}

// RevRank queues [SortedSet.RevRank].
func (q QueuedSortedSet[T]) RevRank(ctx context.Context, member T) *Future[int64] {
	return q.rank(ctx, opZREVRANK, member)
}

func (q QueuedSortedSet[T]) rank(ctx context.Context, op opName, member T) *Future[int64] {
	return zQueueRead(ctx, q.queued, op, readCount, func() (redis.Cmder, error) {
		m, err := q.set().member(op.String(), member)
		if err != nil {
			return nil, inner(err)
		}
		if op == opZREVRANK {
			return q.p.pp.ZRevRank(ctx, q.h.name, m), nil
		}
		return q.p.pp.ZRank(ctx, q.h.name, m), nil
	})
}

// Len queues [SortedSet.Len].
func (q QueuedSortedSet[T]) Len(ctx context.Context) *Future[int64] {
	return zQueueRead(ctx, q.queued, opZCARD, readCount, func() (redis.Cmder, error) {
		return q.p.pp.ZCard(ctx, q.h.name), nil
	})
}

// Count queues [SortedSet.Count].
func (q QueuedSortedSet[T]) Count(ctx context.Context, r ScoreRange) *Future[int64] {
	return zQueueRead(ctx, q.queued, opZCOUNT, readCount, func() (redis.Cmder, error) {
		lo, hi, err := r.bounds(false)
		if err != nil {
			return nil, err
		}
		return q.p.pp.ZCount(ctx, q.h.name, lo, hi), nil
	})
}

// RangeByRank queues [SortedSet.RangeByRank].
func (q QueuedSortedSet[T]) RangeByRank(ctx context.Context, r RankRange) *Future[[]T] {
	return q.members(ctx, func() (redis.ZRangeArgs, error) { return q.set().rankArgs(r), nil })
}

// RangeByScore queues [SortedSet.RangeByScore].
func (q QueuedSortedSet[T]) RangeByScore(ctx context.Context, r ScoreRange) *Future[[]T] {
	return q.members(ctx, func() (redis.ZRangeArgs, error) { return q.set().scoreArgs(r) })
}

// RangeByLex queues [SortedSet.RangeByLex].
func (q QueuedSortedSet[T]) RangeByLex(ctx context.Context, r LexRange[T]) *Future[[]T] {
	return q.members(ctx, func() (redis.ZRangeArgs, error) { return q.set().lexArgs(r) })
}

// RangeByRankWithScores queues [SortedSet.RangeByRankWithScores].
func (q QueuedSortedSet[T]) RangeByRankWithScores(ctx context.Context, r RankRange) *Future[[]Z[T]] {
	return q.withScores(ctx, func() (redis.ZRangeArgs, error) { return q.set().rankArgs(r), nil })
}

// RangeByScoreWithScores queues [SortedSet.RangeByScoreWithScores].
func (q QueuedSortedSet[T]) RangeByScoreWithScores(ctx context.Context, r ScoreRange) *Future[[]Z[T]] {
	return q.withScores(ctx, func() (redis.ZRangeArgs, error) { return q.set().scoreArgs(r) })
}

func (q QueuedSortedSet[T]) members(ctx context.Context, args func() (redis.ZRangeArgs, error)) *Future[[]T] {
	return zQueueRead(ctx, q.queued, opZRANGE, readZMembers[T], func() (redis.Cmder, error) {
		a, err := args()
		if err != nil {
			return nil, inner(err)
		}
		return q.p.pp.ZRangeArgs(ctx, a), nil
	})
}

func (q QueuedSortedSet[T]) withScores(ctx context.Context, args func() (redis.ZRangeArgs, error)) *Future[[]Z[T]] {
	return zQueueRead(ctx, q.queued, opZRANGE, readZScores[T], func() (redis.Cmder, error) {
		a, err := args()
		if err != nil {
			return nil, inner(err)
		}
		return q.p.pp.ZRangeArgsWithScores(ctx, a), nil
	})
}

func readZMembers[T any](h *keyHandle, op string, cmd redis.Cmder) ([]T, error) {
	ss, err := cmd.(*redis.StringSliceCmd).Result()
	if err != nil {
		return nil, h.fail(op, err)
	}
	return coll[T]{*h}.decAll(op, "member", ss)
}

func readZScores[T any](h *keyHandle, op string, cmd redis.Cmder) ([]Z[T], error) {
	zs, err := cmd.(*redis.ZSliceCmd).Result()
	if err != nil {
		return nil, h.fail(op, err)
	}
	return decodeZ(coll[T]{*h}, op, zs, false)
}

func readZPopped[T any](h *keyHandle, op string, cmd redis.Cmder) ([]Z[T], error) {
	zs, err := cmd.(*redis.ZSliceCmd).Result()
	if err != nil {
		return nil, h.fail(op, err)
	}
	return decodeZ(coll[T]{*h}, op, zs, true)
}

// PopMin queues [SortedSet.PopMin]; a count of 0 queues ZPOPMIN key 0,
// which pops nothing.
func (q QueuedSortedSet[T]) PopMin(ctx context.Context, count int64) *Future[[]Z[T]] {
	return q.pop(ctx, opZPOPMIN, count)
}

// PopMax queues [SortedSet.PopMax].
func (q QueuedSortedSet[T]) PopMax(ctx context.Context, count int64) *Future[[]Z[T]] {
	return q.pop(ctx, opZPOPMAX, count)
}

func (q QueuedSortedSet[T]) pop(ctx context.Context, op opName, count int64) *Future[[]Z[T]] {
	return enqueueRead(q.p, &q.h, op, 0, readZPopped[T], func() (redis.Cmder, error) {
		if err := checkCount(count); err != nil {
			return nil, err
		}
		return q.set().popCmd(ctx, q.p.pp, op.String(), count), nil
	})
}

// RemoveRangeByRank queues [SortedSet.RemoveRangeByRank].
func (q QueuedSortedSet[T]) RemoveRangeByRank(ctx context.Context, r RankRange) *Future[int64] {
	return enqueueRead(q.p, &q.h, opZREMRANGEBYRANK, 0, readCount, func() (redis.Cmder, error) {
		start, stop := r.ascending()
		return q.p.pp.ZRemRangeByRank(ctx, q.h.name, start, stop), nil
	})
}

// RemoveRangeByScore queues [SortedSet.RemoveRangeByScore].
func (q QueuedSortedSet[T]) RemoveRangeByScore(ctx context.Context, r ScoreRange) *Future[int64] {
	return enqueueRead(q.p, &q.h, opZREMRANGEBYSCORE, 0, readCount, func() (redis.Cmder, error) {
		lo, hi, err := r.bounds(false)
		if err != nil {
			return nil, err
		}
		return q.p.pp.ZRemRangeByScore(ctx, q.h.name, lo, hi), nil
	})
}

// UnionStore queues [SortedSet.UnionStore]; its slot check applies in
// every Pipe, a plain pipeline included, as the command cannot be split.
func (q QueuedSortedSet[T]) UnionStore(ctx context.Context, opts StoreOptions, srcs ...SortedSet[T]) *Future[int64] {
	return q.store(ctx, opZUNIONSTORE, opts, srcs)
}

// InterStore queues [SortedSet.InterStore].
func (q QueuedSortedSet[T]) InterStore(ctx context.Context, opts StoreOptions, srcs ...SortedSet[T]) *Future[int64] {
	return q.store(ctx, opZINTERSTORE, opts, srcs)
}

func (q QueuedSortedSet[T]) store(ctx context.Context, op opName, opts StoreOptions, srcs []SortedSet[T]) *Future[int64] {
	var ttl time.Duration
	if q.h.p != nil {
		ttl = q.h.p.ttl.d
	}
	return enqueueRead(q.p, &q.h, op, ttl, readInt, func() (redis.Cmder, error) {
		w, names, err := q.set().storeCmd(op.String(), opts, srcs)
		if err != nil {
			return nil, inner(err)
		}
		return q.h.writeCmd(ctx, q.p.pp, w, true, names...), nil
	})
}
