package nest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// SortedSet is a Redis sorted set of members of type T, each with a
// float64 score, declared in a namespace:
//
//	Leaderboard nest.SortedSet[string] `nest:"leaderboard" ttl:"24h"`
//
// Members are encoded like [Key] values (see [Codec]); Redis compares
// their encoded forms, which is the order of lexicographical ranges
// ([LexRange]). Writes that add members or change scores apply the key's
// effective TTL atomically with the command (see [Counter] for the
// "fixed" mode); removals and pops cannot create the key and leave its
// TTL alone. Reads of a key declared `ttl:"...,sliding"` renew the TTL in
// the same round trip.
//
// Scores are float64. NaN is refused before anything is sent, naming the
// key and the member; ±Inf are valid scores (math.Inf), as in Redis.
//
// A SortedSet is an immutable handle, safe to copy and to share between
// goroutines.
type SortedSet[T any] struct {
	_ [0]sortedSetMark[T]
	coll[T]
}

func (SortedSet[T]) compileKey(kp *keyPlan, explicit Codec) error {
	return compileCollection[T](kp, explicit, kindSortedSet)
}

func (SortedSet[T]) isParamKey() bool   { return false }
func (SortedSet[T]) fieldKind() keyKind { return kindSortedSet }

// Z is a member of a [SortedSet] with its score.
type Z[T any] struct {
	Member T
	Score  float64
}

// AddOption changes what [SortedSet.AddWith] does (ZADD's flags); combine
// them with |. NX excludes XX, GT and LT; GT excludes LT. A combination
// Redis refuses is refused before anything is sent.
type AddOption uint8

const (
	// AddNX only adds new members; existing members keep their score.
	AddNX AddOption = 1 << iota
	// AddXX only updates members that exist; it never adds one.
	AddXX
	// AddGT updates an existing member only when the new score is greater
	// (new members are still added, unless with AddXX).
	AddGT
	// AddLT updates an existing member only when the new score is less.
	AddLT
	// AddCH makes the reply count the members changed (added, or whose
	// score changed) instead of only the members added.
	AddCH
)

var addFlags = [...]string{"NX", "XX", "GT", "LT", "CH"}

// check refuses combinations Redis would refuse.
func (o AddOption) check() error {
	switch {
	case o >= AddCH<<1:
		return fmt.Errorf("%w: unknown AddOption bits %#x", ErrInvalidArg, uint8(o))
	case o&AddNX != 0 && o&(AddXX|AddGT|AddLT) != 0:
		return fmt.Errorf("%w: AddNX cannot be combined with AddXX, AddGT or AddLT", ErrInvalidArg)
	case o&AddGT != 0 && o&AddLT != 0:
		return fmt.Errorf("%w: AddGT and AddLT exclude each other", ErrInvalidArg)
	}
	return nil
}

// checkScore refuses a NaN, which Redis would refuse too, naming what it
// is the score of.
func checkScore(what string, f float64) error {
	if math.IsNaN(f) {
		return fmt.Errorf("%w: %s is NaN", ErrInvalidArg, what)
	}
	return nil
}

// Add adds members with their scores, or updates the score of members
// already there (ZADD), and reports how many were added. No members is a
// no-op that contacts no server.
func (s SortedSet[T]) Add(ctx context.Context, members ...Z[T]) (int64, error) {
	return s.AddWith(ctx, 0, members...)
}

// AddWith is [SortedSet.Add] with ZADD's flags: AddNX, AddXX, AddGT,
// AddLT, AddCH. It reports how many members were added, or changed with
// AddCH.
func (s SortedSet[T]) AddWith(ctx context.Context, opts AddOption, members ...Z[T]) (int64, error) {
	if err := s.Err(); err != nil {
		return 0, err
	}
	w, err := s.add(opts, members)
	if err != nil || len(members) == 0 {
		return 0, err
	}
	cmd, err := s.write(ctx, "ZADD", w)
	if err != nil {
		return 0, err
	}
	return cmd.Int64()
}

func (s SortedSet[T]) add(opts AddOption, members []Z[T]) (wcmd, error) {
	if err := opts.check(); err != nil {
		return wcmd{}, opError("ZADD", s.name, err)
	}
	w := s.newWrite("ZADD", 2*len(members)+2)
	w.sum = true
	for i, f := range addFlags {
		if opts&(1<<i) != 0 {
			w.flag(f)
		}
	}
	for i, m := range members {
		if math.IsNaN(m.Score) { // named only on failure: no string built per member
			return wcmd{}, opError("ZADD", s.name, checkScore("score of member "+strconv.Itoa(i), m.Score))
		}
		v, err := s.enc("ZADD", m.Member)
		if err != nil {
			return wcmd{}, err
		}
		w.item(m.Score)
		w.item(v)
	}
	return w, nil
}

// IncrBy adds delta to the member's score (ZINCRBY; a missing member
// starts at 0) and returns the new score. A NaN delta is refused; an
// increment whose result would be NaN (+Inf plus -Inf) is Redis's error.
func (s SortedSet[T]) IncrBy(ctx context.Context, member T, delta float64) (float64, error) {
	if err := s.Err(); err != nil {
		return 0, err
	}
	w, err := s.incrBy(member, delta)
	if err != nil {
		return 0, err
	}
	cmd, err := s.write(ctx, "ZINCRBY", w)
	if err != nil {
		return 0, err
	}
	return readFloat(&s.keyHandle, "ZINCRBY", cmd)
}

func (s SortedSet[T]) incrBy(member T, delta float64) (wcmd, error) {
	if err := checkScore("increment", delta); err != nil {
		return wcmd{}, opError("ZINCRBY", s.name, err)
	}
	v, err := s.enc("ZINCRBY", member)
	if err != nil {
		return wcmd{}, err
	}
	w := s.newWrite("ZINCRBY", 2)
	w.flag(delta, v)
	return w, nil
}

// member encodes m into the text go-redis's typed commands take.
func (s SortedSet[T]) member(op string, m T) (string, error) {
	v, err := s.enc(op, m)
	if err != nil {
		return "", err
	}
	return argText(v), nil
}

// argText is the text of an encoded element, as go-redis would send it.
func argText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	}
	return fmt.Sprint(v)
}

// Score returns the member's score (ZSCORE), or [ErrNotFound] when it is
// not a member (or the key does not exist).
func (s SortedSet[T]) Score(ctx context.Context, member T) (float64, error) {
	if err := s.Err(); err != nil {
		return 0, err
	}
	m, err := s.member("ZSCORE", member)
	if err != nil {
		return 0, err
	}
	f, err := read(ctx, &s.keyHandle, "ZSCORE", func(c redis.Cmdable) *redis.FloatCmd {
		return c.ZScore(ctx, s.name, m)
	}).Result()
	return f, s.check(ctx, "ZSCORE", err)
}

// MScore returns the scores of members, in order (ZMSCORE). A member that
// is not in the set has the score NaN, which Redis never stores: test it
// with math.IsNaN.
func (s SortedSet[T]) MScore(ctx context.Context, members ...T) ([]float64, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	if len(members) == 0 {
		return nil, nil
	}
	args, err := s.mscoreArgs(members)
	if err != nil {
		return nil, err
	}
	cmd := read(ctx, &s.keyHandle, "ZMSCORE", func(c redis.Cmdable) *redis.Cmd { return rawDo(ctx, c, args...) })
	if err := cmd.Err(); err != nil {
		return nil, s.check(ctx, "ZMSCORE", err)
	}
	return readScores(&s.keyHandle, "ZMSCORE", cmd)
}

func (s SortedSet[T]) mscoreArgs(members []T) ([]any, error) {
	args := make([]any, 2, 2+len(members))
	args[0], args[1] = "ZMSCORE", s.name
	return s.encAll("ZMSCORE", args, members)
}

// rawDo sends a command go-redis has no typed form for (or none that
// fits) through c, a client or pipeline.
func rawDo(ctx context.Context, c redis.Cmdable, args ...any) *redis.Cmd {
	return c.(interface {
		Do(context.Context, ...any) *redis.Cmd
	}).Do(ctx, args...)
}

// readScores reads a ZMSCORE reply: floats (RESP3) or strings (RESP2),
// nil for a non-member.
func readScores(h *keyHandle, op string, cmd redis.Cmder) ([]float64, error) {
	xs, err := cmd.(*redis.Cmd).Slice()
	if err != nil {
		return nil, h.fail(op, err)
	}
	out := make([]float64, len(xs))
	for i, x := range xs {
		switch v := x.(type) {
		case nil:
			out[i] = math.NaN()
		case float64:
			out[i] = v
		case string:
			if out[i], err = strconv.ParseFloat(v, 64); err != nil {
				return nil, h.fail(op, fmt.Errorf("score %q: %w", v, err))
			}
		default:
			return nil, h.fail(op, fmt.Errorf("unexpected score reply %T", x))
		}
	}
	return out, nil
}

// Rank returns the member's rank by ascending score, 0 for the lowest
// (ZRANK), or [ErrNotFound] when it is not a member.
func (s SortedSet[T]) Rank(ctx context.Context, member T) (int64, error) {
	return s.rank(ctx, "ZRANK", member)
}

// RevRank returns the member's rank by descending score, 0 for the
// highest (ZREVRANK), or [ErrNotFound] when it is not a member.
func (s SortedSet[T]) RevRank(ctx context.Context, member T) (int64, error) {
	return s.rank(ctx, "ZREVRANK", member)
}

func (s SortedSet[T]) rank(ctx context.Context, op string, member T) (int64, error) {
	if err := s.Err(); err != nil {
		return 0, err
	}
	m, err := s.member(op, member)
	if err != nil {
		return 0, err
	}
	n, err := read(ctx, &s.keyHandle, op, func(c redis.Cmdable) *redis.IntCmd {
		if op == "ZREVRANK" {
			return c.ZRevRank(ctx, s.name, m)
		}
		return c.ZRank(ctx, s.name, m)
	}).Result()
	return n, s.check(ctx, op, err)
}

// Len returns the number of members (ZCARD), 0 for a missing key.
func (s SortedSet[T]) Len(ctx context.Context) (int64, error) {
	if err := s.Err(); err != nil {
		return 0, err
	}
	n, err := read(ctx, &s.keyHandle, "ZCARD", func(c redis.Cmdable) *redis.IntCmd {
		return c.ZCard(ctx, s.name)
	}).Result()
	return n, s.check(ctx, "ZCARD", err)
}

// Count returns the number of members whose score is in r (ZCOUNT). r's
// Rev is irrelevant; a limit (Offset, Count) is refused, as ZCOUNT has
// none.
func (s SortedSet[T]) Count(ctx context.Context, r ScoreRange) (int64, error) {
	if err := s.Err(); err != nil {
		return 0, err
	}
	lo, hi, err := r.bounds(false)
	if err != nil {
		return 0, opError("ZCOUNT", s.name, err)
	}
	n, err := read(ctx, &s.keyHandle, "ZCOUNT", func(c redis.Cmdable) *redis.IntCmd {
		return c.ZCount(ctx, s.name, lo, hi)
	}).Result()
	return n, s.check(ctx, "ZCOUNT", err)
}

// LexCount returns the number of members in the lexicographical range r
// (ZLEXCOUNT; see [LexRange]). A limit is refused.
func (s SortedSet[T]) LexCount(ctx context.Context, r LexRange[T]) (int64, error) {
	if err := s.Err(); err != nil {
		return 0, err
	}
	lo, hi, err := lexBounds(s.coll, "ZLEXCOUNT", r, false)
	if err != nil {
		return 0, err
	}
	n, err := read(ctx, &s.keyHandle, "ZLEXCOUNT", func(c redis.Cmdable) *redis.IntCmd {
		return c.ZLexCount(ctx, s.name, lo, hi)
	}).Result()
	return n, s.check(ctx, "ZLEXCOUNT", err)
}

// Remove removes members (ZREM) and reports how many were members. No
// members is a no-op that contacts no server.
func (s SortedSet[T]) Remove(ctx context.Context, members ...T) (int64, error) {
	if err := s.Err(); err != nil {
		return 0, err
	}
	args, err := s.remArgs(members)
	if err != nil || len(members) == 0 {
		return 0, err
	}
	n, err := do(ctx, &s.keyHandle, "ZREM", 0, func(c redis.Cmdable) *redis.IntCmd {
		return c.ZRem(ctx, s.name, args...)
	}).Result()
	return n, s.check(ctx, "ZREM", err)
}

func (s SortedSet[T]) remArgs(members []T) ([]any, error) {
	return s.encAll("ZREM", make([]any, 0, len(members)), members)
}

// PopMin removes and returns up to count members of the lowest scores,
// lowest first (ZPOPMIN). A count of 0 returns nothing without contacting
// the server; a negative count is refused. Members are removed even when
// one does not decode: the others are returned with a *[DecodeError]
// (joined, one per member) that keeps each undecodable member's bytes.
func (s SortedSet[T]) PopMin(ctx context.Context, count int64) ([]Z[T], error) {
	return s.pop(ctx, "ZPOPMIN", count)
}

// PopMax is [SortedSet.PopMin] for the highest scores, highest first
// (ZPOPMAX).
func (s SortedSet[T]) PopMax(ctx context.Context, count int64) ([]Z[T], error) {
	return s.pop(ctx, "ZPOPMAX", count)
}

func (s SortedSet[T]) pop(ctx context.Context, op string, count int64) ([]Z[T], error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	if err := checkCount(count); err != nil {
		return nil, opError(op, s.name, err)
	}
	if count == 0 {
		return nil, nil
	}
	zs, err := do(ctx, &s.keyHandle, op, 0, func(c redis.Cmdable) *redis.ZSliceCmd {
		return s.popCmd(ctx, c, op, count)
	}).Result()
	if err != nil {
		return nil, s.check(ctx, op, err)
	}
	return decodeZ(s.coll, op, zs, true)
}

func (s SortedSet[T]) popCmd(ctx context.Context, c redis.Cmdable, op string, count int64) *redis.ZSliceCmd {
	if op == "ZPOPMAX" {
		return c.ZPopMax(ctx, s.name, count)
	}
	return c.ZPopMin(ctx, s.name, count)
}

func checkCount(n int64) error {
	if n < 0 {
		return fmt.Errorf("%w: negative count %d", ErrInvalidArg, n)
	}
	return nil
}

// decodeZ decodes a reply with scores. With all, it decodes every member
// and returns those that decode beside the joined errors of those that do
// not (a pop cannot give them back); else it stops at the first failure.
func decodeZ[T any](c coll[T], op string, zs []redis.Z, all bool) ([]Z[T], error) {
	out := make([]Z[T], 0, len(zs))
	var errs []error
	for i, z := range zs {
		s, _ := z.Member.(string)
		m, err := c.dec(op, "member "+strconv.Itoa(i), s)
		if err != nil {
			if !all {
				return nil, err
			}
			errs = append(errs, err)
			continue
		}
		out = append(out, Z[T]{Member: m, Score: z.Score})
	}
	return out, errors.Join(errs...)
}
