package nest

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Ranges of a SortedSet: by rank, by score, by lexicographical order;
// reads and removals of a range.

// RankRange selects members by rank: 0 is the lowest score (the highest
// with Rev), -1 the last; Start and Stop are both included, as in ZRANGE.
// RankRange{Start: 0, Stop: -1} is every member; the zero RankRange is
// the first member only.
type RankRange struct {
	Start, Stop int64
	Rev         bool // ranks counted from the highest score
}

// ScoreRange selects members by score: Min ≤ score ≤ Max, each end
// excluded when its Exclusive flag is set. Use math.Inf(-1) and
// math.Inf(1) for open ends; a NaN bound is refused. With Rev, members
// come highest score first (the range itself is unchanged). Offset and
// Count page through the result (ZRANGE ... LIMIT): skip Offset members,
// return at most Count (0: no limit); negative values are refused.
type ScoreRange struct {
	Min, Max                   float64
	ExclusiveMin, ExclusiveMax bool
	Rev                        bool
	Offset, Count              int64
}

// AllScores is the ScoreRange of every member: -Inf to +Inf.
func AllScores() ScoreRange { return ScoreRange{Min: math.Inf(-1), Max: math.Inf(1)} }

// LexRange selects members by their encoded form, byte-wise, as Redis's
// BYLEX ranges do: meaningful when every member has the same score (ZADD
// them with score 0), the classic autocomplete index. A zero bound is
// open (Redis's "-" for Min, "+" for Max); make others with [LexIncl] and
// [LexExcl]. Rev, Offset and Count are as in [ScoreRange].
type LexRange[T any] struct {
	Min, Max      LexBound[T]
	Rev           bool
	Offset, Count int64
}

// LexBound is one end of a [LexRange]; its zero value is open.
type LexBound[T any] struct {
	v    T
	excl bool
	set  bool
}

// LexIncl is a [LexRange] bound that includes v ("[v").
func LexIncl[T any](v T) LexBound[T] { return LexBound[T]{v: v, set: true} }

// LexExcl is a [LexRange] bound that excludes v ("(v").
func LexExcl[T any](v T) LexBound[T] { return LexBound[T]{v: v, excl: true, set: true} }

// scoreBound is the text of one end of a score range.
func scoreBound(f float64, excl bool) string {
	var s string
	switch {
	case math.IsInf(f, 1):
		s = "+inf"
	case math.IsInf(f, -1):
		s = "-inf"
	default:
		s = strconv.FormatFloat(f, 'g', -1, 64)
	}
	if excl {
		return "(" + s
	}
	return s
}

// checkLimit validates a page; without limitOK (ZCOUNT, removals) any
// limit is refused, as those commands have none.
func checkLimit(offset, count int64, limitOK bool) error {
	switch {
	case offset < 0 || count < 0:
		return fmt.Errorf("%w: negative Offset (%d) or Count (%d)", ErrInvalidArg, offset, count)
	case !limitOK && (offset != 0 || count != 0):
		return fmt.Errorf("%w: Offset and Count apply to range reads only", ErrInvalidArg)
	}
	return nil
}

// limit converts a page to ZRANGE's LIMIT (Count -1: no limit).
func limit(offset, count int64) (int64, int64) {
	if offset != 0 && count == 0 {
		count = -1
	}
	return offset, count
}

func (r ScoreRange) bounds(limitOK bool) (lo, hi string, err error) {
	if math.IsNaN(r.Min) || math.IsNaN(r.Max) {
		return "", "", fmt.Errorf("%w: NaN bound in score range [%v, %v]", ErrInvalidArg, r.Min, r.Max)
	}
	if err := checkLimit(r.Offset, r.Count, limitOK); err != nil {
		return "", "", err
	}
	return scoreBound(r.Min, r.ExclusiveMin), scoreBound(r.Max, r.ExclusiveMax), nil
}

func lexBound[T any](c coll[T], op string, b LexBound[T], open string) (string, error) {
	if !b.set {
		return open, nil
	}
	v, err := c.enc(op, b.v)
	if err != nil {
		return "", err
	}
	if b.excl {
		return "(" + argText(v), nil
	}
	return "[" + argText(v), nil
}

func lexBounds[T any](c coll[T], op string, r LexRange[T], limitOK bool) (lo, hi string, err error) {
	if err := checkLimit(r.Offset, r.Count, limitOK); err != nil {
		return "", "", opError(op, c.name, err)
	}
	if lo, err = lexBound(c, op, r.Min, "-"); err != nil {
		return "", "", err
	}
	hi, err = lexBound(c, op, r.Max, "+")
	return lo, hi, err
}

// Range reads.

func (s SortedSet[T]) rankArgs(r RankRange) redis.ZRangeArgs {
	return redis.ZRangeArgs{Key: s.name, Start: r.Start, Stop: r.Stop, Rev: r.Rev}
}

func (s SortedSet[T]) scoreArgs(r ScoreRange) (redis.ZRangeArgs, error) {
	lo, hi, err := r.bounds(true)
	if err != nil {
		return redis.ZRangeArgs{}, opError("ZRANGE", s.name, err)
	}
	a := redis.ZRangeArgs{Key: s.name, Start: lo, Stop: hi, ByScore: true, Rev: r.Rev}
	if r.Rev {
		a.Start, a.Stop = hi, lo // ZRANGE ... REV takes the high end first
	}
	a.Offset, a.Count = limit(r.Offset, r.Count)
	return a, nil
}

func (s SortedSet[T]) lexArgs(r LexRange[T]) (redis.ZRangeArgs, error) {
	lo, hi, err := lexBounds(s.coll, "ZRANGE", r, true)
	if err != nil {
		return redis.ZRangeArgs{}, err
	}
	a := redis.ZRangeArgs{Key: s.name, Start: lo, Stop: hi, ByLex: true, Rev: r.Rev}
	if r.Rev {
		a.Start, a.Stop = hi, lo
	}
	a.Offset, a.Count = limit(r.Offset, r.Count)
	return a, nil
}

// RangeByRank returns the members ranked in r (ZRANGE), in rank order.
func (s SortedSet[T]) RangeByRank(ctx context.Context, r RankRange) ([]T, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	return s.members(ctx, s.rankArgs(r))
}

// RangeByRankWithScores is [SortedSet.RangeByRank] with the scores.
func (s SortedSet[T]) RangeByRankWithScores(ctx context.Context, r RankRange) ([]Z[T], error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	return s.withScores(ctx, s.rankArgs(r))
}

// RangeByScore returns the members whose score is in r (ZRANGE ...
// BYSCORE), lowest score first (highest with r.Rev).
func (s SortedSet[T]) RangeByScore(ctx context.Context, r ScoreRange) ([]T, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	a, err := s.scoreArgs(r)
	if err != nil {
		return nil, err
	}
	return s.members(ctx, a)
}

// RangeByScoreWithScores is [SortedSet.RangeByScore] with the scores.
func (s SortedSet[T]) RangeByScoreWithScores(ctx context.Context, r ScoreRange) ([]Z[T], error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	a, err := s.scoreArgs(r)
	if err != nil {
		return nil, err
	}
	return s.withScores(ctx, a)
}

// RangeByLex returns the members in the lexicographical range r (ZRANGE
// ... BYLEX). Redis gives no scores with a lexicographical range.
func (s SortedSet[T]) RangeByLex(ctx context.Context, r LexRange[T]) ([]T, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	a, err := s.lexArgs(r)
	if err != nil {
		return nil, err
	}
	return s.members(ctx, a)
}

func (s SortedSet[T]) members(ctx context.Context, a redis.ZRangeArgs) ([]T, error) {
	ss, err := read(ctx, &s.keyHandle, "ZRANGE", func(c redis.Cmdable) *redis.StringSliceCmd {
		return c.ZRangeArgs(ctx, a)
	}).Result()
	if err != nil {
		return nil, s.check(ctx, "ZRANGE", err)
	}
	return s.decAll("ZRANGE", "member", ss)
}

func (s SortedSet[T]) withScores(ctx context.Context, a redis.ZRangeArgs) ([]Z[T], error) {
	zs, err := read(ctx, &s.keyHandle, "ZRANGE", func(c redis.Cmdable) *redis.ZSliceCmd {
		return c.ZRangeArgsWithScores(ctx, a)
	}).Result()
	if err != nil {
		return nil, s.check(ctx, "ZRANGE", err)
	}
	return decodeZ(s.coll, "ZRANGE", zs, false)
}

// Range removals.

// RemoveRangeByRank removes the members ranked in r (ZREMRANGEBYRANK; with
// r.Rev the ranks count from the highest score) and reports how many it
// removed.
func (s SortedSet[T]) RemoveRangeByRank(ctx context.Context, r RankRange) (int64, error) {
	if err := s.Err(); err != nil {
		return 0, err
	}
	start, stop := r.ascending()
	n, err := do(ctx, &s.keyHandle, "ZREMRANGEBYRANK", 0, func(c redis.Cmdable) *redis.IntCmd {
		return c.ZRemRangeByRank(ctx, s.name, start, stop)
	}).Result()
	return n, s.check(ctx, "ZREMRANGEBYRANK", err)
}

// ascending converts r to ascending ranks: reverse rank i is ascending
// rank -1-i, for positive and negative i alike.
func (r RankRange) ascending() (start, stop int64) {
	if !r.Rev {
		return r.Start, r.Stop
	}
	return -1 - r.Stop, -1 - r.Start
}

// RemoveRangeByScore removes the members whose score is in r
// (ZREMRANGEBYSCORE) and reports how many it removed. r.Rev is
// irrelevant; a limit is refused.
func (s SortedSet[T]) RemoveRangeByScore(ctx context.Context, r ScoreRange) (int64, error) {
	if err := s.Err(); err != nil {
		return 0, err
	}
	lo, hi, err := r.bounds(false)
	if err != nil {
		return 0, opError("ZREMRANGEBYSCORE", s.name, err)
	}
	n, err := do(ctx, &s.keyHandle, "ZREMRANGEBYSCORE", 0, func(c redis.Cmdable) *redis.IntCmd {
		return c.ZRemRangeByScore(ctx, s.name, lo, hi)
	}).Result()
	return n, s.check(ctx, "ZREMRANGEBYSCORE", err)
}

// RemoveRangeByLex removes the members in the lexicographical range r
// (ZREMRANGEBYLEX) and reports how many it removed. A limit is refused.
func (s SortedSet[T]) RemoveRangeByLex(ctx context.Context, r LexRange[T]) (int64, error) {
	if err := s.Err(); err != nil {
		return 0, err
	}
	lo, hi, err := lexBounds(s.coll, "ZREMRANGEBYLEX", r, false)
	if err != nil {
		return 0, err
	}
	n, err := do(ctx, &s.keyHandle, "ZREMRANGEBYLEX", 0, func(c redis.Cmdable) *redis.IntCmd {
		return c.ZRemRangeByLex(ctx, s.name, lo, hi)
	}).Result()
	return n, s.check(ctx, "ZREMRANGEBYLEX", err)
}
