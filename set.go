package nest

import (
	"context"
	"iter"

	"github.com/redis/go-redis/v9"
)

// Set is a Redis set of members of type T, declared in a namespace:
//
//	Sessions nest.Set[string] `nest:"sessions" ttl:"24h"`
//
// Members are encoded like [Key] values (see [Codec]); Redis compares
// their encoded forms. Writes that add members apply the key's effective
// TTL atomically with the command (see [Counter] for the "fixed" mode);
// removals cannot create the key and leave its TTL alone. A Set is an
// immutable handle, safe to copy and to share between goroutines.
type Set[T any] struct {
	_ [0]setMark[T]
	coll[T]
}

func (Set[T]) compileKey(kp *keyPlan, explicit Codec) error {
	return compileCollection[T](kp, explicit, kindSet)
}

func (Set[T]) isParamKey() bool   { return false }
func (Set[T]) fieldKind() keyKind { return kindSet }

var (
	opSADD        = newOpName("SADD")
	opSREM        = newOpName("SREM")
	opSISMEMBER   = newOpName("SISMEMBER")
	opSMISMEMBER  = newOpName("SMISMEMBER")
	opSMEMBERS    = newOpName("SMEMBERS")
	opSCARD       = newOpName("SCARD")
	opSPOP        = newOpName("SPOP")
	opSRANDMEMBER = newOpName("SRANDMEMBER")
	opSUNION      = newOpName("SUNION")
	opSINTER      = newOpName("SINTER")
	opSDIFF       = newOpName("SDIFF")
	opSUNIONSTORE = newOpName("SUNIONSTORE")
	opSINTERSTORE = newOpName("SINTERSTORE")
	opSDIFFSTORE  = newOpName("SDIFFSTORE")
	opSMOVE       = newOpName("SMOVE")
)

// Add adds members (SADD) and reports how many were not members yet. It
// creates the set when missing. An empty members is refused with
// [ErrInvalidArg] without contacting Redis.
func (s Set[T]) Add(ctx context.Context, members ...T) (int64, error) {
	if err := s.Err(); err != nil {
		return 0, err
	}
	w, err := s.add(members)
	if err != nil {
		return 0, err
	}
	cmd, err := s.write(ctx, "SADD", w)
	if err != nil {
		return 0, err
	}
	return cmd.Int64()
}

func (s Set[T]) add(members []T) (wcmd, error) {
	if len(members) == 0 {
		return wcmd{}, noItems(&s.keyHandle, "SADD", "members")
	}
	w := s.newWrite("SADD", len(members))
	w.sum = true
	var err error
	w.args, err = s.encAll("SADD", w.args, members)
	return w, err
}

// Remove removes members (SREM) and reports how many were members. It
// leaves the TTL alone; removing the last member deletes the set. An
// empty members is refused with [ErrInvalidArg].
func (s Set[T]) Remove(ctx context.Context, members ...T) (int64, error) {
	if err := s.Err(); err != nil {
		return 0, err
	}
	args, err := s.remArgs(members)
	if err != nil {
		return 0, err
	}
	cmd := do(ctx, &s.keyHandle, "SREM", 0, func(c redis.Cmdable) *redis.IntCmd { return c.SRem(ctx, s.name, args...) })
	return finish(ctx, &s.keyHandle, "SREM", cmd, readCount)
}

func (s Set[T]) remArgs(members []T) ([]any, error) {
	if len(members) == 0 {
		return nil, noItems(&s.keyHandle, "SREM", "members")
	}
	return s.encAll("SREM", make([]any, 0, len(members)), members)
}

// IsMember reports whether x is a member (SISMEMBER).
func (s Set[T]) IsMember(ctx context.Context, x T) (bool, error) {
	if err := s.Err(); err != nil {
		return false, err
	}
	v, err := s.enc("SISMEMBER", x)
	if err != nil {
		return false, err
	}
	cmd := read(ctx, &s.keyHandle, "SISMEMBER", func(c redis.Cmdable) *redis.BoolCmd { return c.SIsMember(ctx, s.name, v) })
	return finish(ctx, &s.keyHandle, "SISMEMBER", cmd, readMoved)
}

// MIsMember reports, for each of xs in order, whether it is a member
// (SMISMEMBER). An empty xs returns none without contacting Redis.
func (s Set[T]) MIsMember(ctx context.Context, xs ...T) ([]bool, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	if len(xs) == 0 {
		return []bool{}, nil
	}
	args, err := s.encAll("SMISMEMBER", make([]any, 0, len(xs)), xs)
	if err != nil {
		return nil, err
	}
	cmd := read(ctx, &s.keyHandle, "SMISMEMBER", func(c redis.Cmdable) *redis.BoolSliceCmd { return c.SMIsMember(ctx, s.name, args...) })
	return finish(ctx, &s.keyHandle, "SMISMEMBER", cmd, readBools)
}

func readBools(h *keyHandle, op string, cmd redis.Cmder) ([]bool, error) {
	bs, err := cmd.(*redis.BoolSliceCmd).Result()
	return bs, h.fail(op, err)
}

// Members returns every member (SMEMBERS), in no particular order; none
// when the set is missing. A member that does not decode fails the call
// with a *[DecodeError] naming its position in the reply ("member 2");
// [Set.All] goes on past such members instead.
func (s Set[T]) Members(ctx context.Context) ([]T, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	cmd := read(ctx, &s.keyHandle, "SMEMBERS", func(c redis.Cmdable) *redis.StringSliceCmd {
		return c.SMembers(ctx, s.name)
	})
	return finish(ctx, &s.keyHandle, "SMEMBERS", cmd, readMembers[T])
}

// Len returns the number of members (SCARD), 0 when the set is missing.
func (s Set[T]) Len(ctx context.Context) (int64, error) {
	if err := s.Err(); err != nil {
		return 0, err
	}
	cmd := read(ctx, &s.keyHandle, "SCARD", func(c redis.Cmdable) *redis.IntCmd { return c.SCard(ctx, s.name) })
	return finish(ctx, &s.keyHandle, "SCARD", cmd, readCount)
}

// Pop removes and returns a random member (SPOP), or [ErrNotFound] when
// the set is empty or missing. A member that does not decode is removed
// all the same: the *[DecodeError] keeps its bytes.
func (s Set[T]) Pop(ctx context.Context) (T, error) {
	if err := s.Err(); err != nil {
		var zero T
		return zero, err
	}
	cmd := do(ctx, &s.keyHandle, "SPOP", 0, func(c redis.Cmdable) *redis.StringCmd { return c.SPop(ctx, s.name) })
	return finish(ctx, &s.keyHandle, "SPOP", cmd, readElem[T])
}

// PopCount removes and returns up to n random members (SPOP with a
// count); none when the set is empty or missing. A negative n is refused
// with [ErrInvalidArg].
func (s Set[T]) PopCount(ctx context.Context, n int64) ([]T, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	if err := refuseNegative(&s.keyHandle, "SPOP", n); err != nil {
		return nil, err
	}
	cmd := do(ctx, &s.keyHandle, "SPOP", 0, func(c redis.Cmdable) *redis.StringSliceCmd { return c.SPopN(ctx, s.name, n) })
	return finish(ctx, &s.keyHandle, "SPOP", cmd, readMembers[T])
}

// RandMember returns a random member without removing it (SRANDMEMBER),
// or [ErrNotFound] when the set is empty or missing.
func (s Set[T]) RandMember(ctx context.Context) (T, error) {
	if err := s.Err(); err != nil {
		var zero T
		return zero, err
	}
	cmd := read(ctx, &s.keyHandle, "SRANDMEMBER", func(c redis.Cmdable) *redis.StringCmd { return c.SRandMember(ctx, s.name) })
	return finish(ctx, &s.keyHandle, "SRANDMEMBER", cmd, readElem[T])
}

// RandMemberCount returns random members without removing them
// (SRANDMEMBER with a count), as Redis defines it: n > 0 returns up to n
// distinct members, n < 0 exactly -n members that may repeat.
func (s Set[T]) RandMemberCount(ctx context.Context, n int64) ([]T, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	cmd := read(ctx, &s.keyHandle, "SRANDMEMBER", func(c redis.Cmdable) *redis.StringSliceCmd {
		return c.SRandMemberN(ctx, s.name, n)
	})
	return finish(ctx, &s.keyHandle, "SRANDMEMBER", cmd, readMembers[T])
}

// All iterates over the members with SSCAN, holding one batch at a time
// (see [Options] for the batch size), so that a set of any size can be
// walked in O(batch) memory. Like SCAN, a member present for the whole
// iteration is yielded at least once, and may be yielded twice if the
// set is rehashed meanwhile. A member that does not decode is yielded as
// a *[DecodeError] (with the zero T) naming its position in the
// iteration ("member 12"), and the iteration goes on; a Redis error
// (wrong type, lost connection, ctx done) is yielded last and ends it.
func (s Set[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		i := 0
		scanBatches(ctx, &s.keyHandle, "SSCAN", func(c redis.Cmdable, cursor uint64, count int64) *redis.ScanCmd {
			return c.SScan(ctx, s.name, cursor, "", count)
		}, func(batch []string, err error) bool {
			if err != nil {
				return yield(zero, err)
			}
			vc := s.codec()
			for _, m := range batch {
				x, err := vc.dec(m)
				if err != nil { // name the member only now
					x, err = s.dec("SSCAN", "member "+itoa(int64(i)), m)
				}
				i++
				if !yield(x, err) {
					return false
				}
			}
			return true
		})
	}
}

// Set algebra.

// Union returns the members of s or any of others (SUNION). The sets
// must share a slot on Redis Cluster (a pinned namespace); else Union
// fails with an error matching redis.ErrCrossSlot and sends nothing.
// Sliding TTLs of every set read are renewed.
func (s Set[T]) Union(ctx context.Context, others ...Set[T]) ([]T, error) {
	return s.algebra(ctx, "SUNION", others)
}

// Inter returns the members of s that are in every one of others
// (SINTER); see [Set.Union].
func (s Set[T]) Inter(ctx context.Context, others ...Set[T]) ([]T, error) {
	return s.algebra(ctx, "SINTER", others)
}

// Diff returns the members of s that are in none of others (SDIFF); see
// [Set.Union].
func (s Set[T]) Diff(ctx context.Context, others ...Set[T]) ([]T, error) {
	return s.algebra(ctx, "SDIFF", others)
}

func (s Set[T]) algebra(ctx context.Context, op string, others []Set[T]) ([]T, error) {
	hs := s.handles(nil, others)
	names, err := sameKind[T](op, hs...)
	if err != nil {
		return nil, err
	}
	cmd := readKeys(ctx, op, hs, func(c redis.Cmdable) *redis.StringSliceCmd { return algebraCmd(ctx, c, op, names) })
	if cmd.Err() != nil {
		return nil, checkKeys(ctx, op, cmd.Err(), hs...)
	}
	return readMembers[T](&s.keyHandle, op, cmd)
}

func algebraCmd(ctx context.Context, c redis.Cmdable, op string, names []string) *redis.StringSliceCmd {
	switch op {
	case "SINTER":
		return c.SInter(ctx, names...)
	case "SDIFF":
		return c.SDiff(ctx, names...)
	}
	return c.SUnion(ctx, names...)
}

// handles lists the keys of a multi-key command: first, if not nil, then
// s, then others.
func (s Set[T]) handles(first *keyHandle, others []Set[T]) []*keyHandle {
	hs := make([]*keyHandle, 0, 2+len(others))
	if first != nil {
		hs = append(hs, first)
	}
	hs = append(hs, &s.keyHandle)
	for i := range others {
		hs = append(hs, &others[i].keyHandle)
	}
	return hs
}

// UnionStore stores the union of s and others in dst (SUNIONSTORE),
// replacing it, applies dst's TTL in the same step and returns dst's
// size. An empty result deletes dst. dst may be one of the sets read; as
// in Redis, it is replaced whatever it held (only the sets read are
// checked for their type). The sets must share a slot on Redis Cluster;
// see [Set.Union].
func (s Set[T]) UnionStore(ctx context.Context, dst Set[T], others ...Set[T]) (int64, error) {
	return s.store(ctx, "SUNIONSTORE", dst, others)
}

// InterStore stores the intersection of s and others in dst
// (SINTERSTORE); see [Set.UnionStore].
func (s Set[T]) InterStore(ctx context.Context, dst Set[T], others ...Set[T]) (int64, error) {
	return s.store(ctx, "SINTERSTORE", dst, others)
}

// DiffStore stores the members of s in none of others in dst
// (SDIFFSTORE); see [Set.UnionStore].
func (s Set[T]) DiffStore(ctx context.Context, dst Set[T], others ...Set[T]) (int64, error) {
	return s.store(ctx, "SDIFFSTORE", dst, others)
}

func (s Set[T]) store(ctx context.Context, op string, dst Set[T], others []Set[T]) (int64, error) {
	hs := s.handles(&dst.keyHandle, others)
	names, err := sameKind[T](op, hs...)
	if err != nil {
		return 0, err
	}
	cmd, err := dst.write(ctx, op, storeCmd(op, names), names[1:]...)
	if err != nil {
		return 0, checkKeys(ctx, op, cmd.Err(), hs...)
	}
	return cmd.Int64()
}

// storeCmd is an xSTORE command as a write of names[0], its destination,
// to which the write script applies the TTL.
func storeCmd(op string, names []string) wcmd {
	a := make([]any, writeLead, writeLead+1+len(names))
	a = append(a, op)
	for _, n := range names {
		a = append(a, n)
	}
	return wcmd{args: a, head: 1 + len(names)}
}

// Move moves member x from s to dst (SMOVE), applying dst's TTL in the
// same step, and reports whether x was a member of s (false: nothing
// moved). The sets must share a slot on Redis Cluster; see [Set.Union].
func (s Set[T]) Move(ctx context.Context, dst Set[T], x T) (bool, error) {
	hs := []*keyHandle{&s.keyHandle, &dst.keyHandle}
	if _, err := sameKind[T]("SMOVE", hs...); err != nil {
		return false, err
	}
	w, err := s.moveCmd(dst, x)
	if err != nil {
		return false, err
	}
	cmd, err := dst.write(ctx, "SMOVE", w, s.name)
	if err != nil {
		return false, checkKeys(ctx, "SMOVE", cmd.Err(), hs...)
	}
	return readMoved(&dst.keyHandle, "SMOVE", cmd)
}

func (s Set[T]) moveCmd(dst Set[T], x T) (wcmd, error) {
	v, err := s.enc("SMOVE", x)
	if err != nil {
		return wcmd{}, err
	}
	a := make([]any, writeLead, writeLead+4)
	return wcmd{args: append(a, "SMOVE", s.name, dst.name, v), head: 4}, nil
}

// QueuedSet is a [Set] seen through a [Pipe]; get it from [Set.In].
type QueuedSet[T any] struct{ queued }

// In returns the set's operations queued on p.
func (s Set[T]) In(p *Pipe) QueuedSet[T] { return QueuedSet[T]{queued{s.keyHandle, p}} }

func (q QueuedSet[T]) set() Set[T] { return Set[T]{coll: coll[T]{q.h}} }

// Add queues [Set.Add].
func (q QueuedSet[T]) Add(ctx context.Context, members ...T) *Future[int64] {
	return queueWrite(ctx, q.queued, opSADD, func() (wcmd, error) { return q.set().add(members) }, readInt)
}

// Remove queues [Set.Remove].
func (q QueuedSet[T]) Remove(ctx context.Context, members ...T) *Future[int64] {
	return enqueueRead(q.p, &q.h, opSREM, 0, readCount, func() (redis.Cmder, error) {
		args, err := q.set().remArgs(members)
		if err != nil {
			return nil, err
		}
		return q.p.pp.SRem(ctx, q.h.name, args...), nil
	})
}

// IsMember queues [Set.IsMember].
func (q QueuedSet[T]) IsMember(ctx context.Context, x T) *Future[bool] {
	return enqueueRead(q.p, &q.h, opSISMEMBER, 0, readMoved, func() (redis.Cmder, error) {
		v, err := q.set().enc("SISMEMBER", x)
		if err != nil {
			return nil, err
		}
		cmd := q.p.pp.SIsMember(ctx, q.h.name, v)
		q.renew(ctx)
		return cmd, nil
	})
}

// MIsMember queues [Set.MIsMember]; an empty xs queues SMISMEMBER all
// the same, which Redis refuses.
func (q QueuedSet[T]) MIsMember(ctx context.Context, xs ...T) *Future[[]bool] {
	return enqueueRead(q.p, &q.h, opSMISMEMBER, 0, readBools, func() (redis.Cmder, error) {
		if len(xs) == 0 {
			return nil, noItems(&q.h, "SMISMEMBER", "members")
		}
		args, err := q.set().encAll("SMISMEMBER", make([]any, 0, len(xs)), xs)
		if err != nil {
			return nil, err
		}
		cmd := q.p.pp.SMIsMember(ctx, q.h.name, args...)
		q.renew(ctx)
		return cmd, nil
	})
}

// Members queues [Set.Members].
func (q QueuedSet[T]) Members(ctx context.Context) *Future[[]T] {
	return enqueueRead(q.p, &q.h, opSMEMBERS, 0, readMembers[T], func() (redis.Cmder, error) {
		cmd := q.p.pp.SMembers(ctx, q.h.name)
		q.renew(ctx)
		return cmd, nil
	})
}

// Len queues [Set.Len].
func (q QueuedSet[T]) Len(ctx context.Context) *Future[int64] {
	return enqueueRead(q.p, &q.h, opSCARD, 0, readCount, func() (redis.Cmder, error) {
		cmd := q.p.pp.SCard(ctx, q.h.name)
		q.renew(ctx)
		return cmd, nil
	})
}

// Pop queues [Set.Pop].
func (q QueuedSet[T]) Pop(ctx context.Context) *Future[T] {
	return enqueueRead(q.p, &q.h, opSPOP, 0, readElem[T], func() (redis.Cmder, error) {
		return q.p.pp.SPop(ctx, q.h.name), nil
	})
}

// RandMember queues [Set.RandMember].
func (q QueuedSet[T]) RandMember(ctx context.Context) *Future[T] {
	return enqueueRead(q.p, &q.h, opSRANDMEMBER, 0, readElem[T], func() (redis.Cmder, error) {
		cmd := q.p.pp.SRandMember(ctx, q.h.name)
		q.renew(ctx)
		return cmd, nil
	})
}

// Union queues [Set.Union].
func (q QueuedSet[T]) Union(ctx context.Context, others ...Set[T]) *Future[[]T] {
	return q.algebra(ctx, opSUNION, others)
}

// Inter queues [Set.Inter].
func (q QueuedSet[T]) Inter(ctx context.Context, others ...Set[T]) *Future[[]T] {
	return q.algebra(ctx, opSINTER, others)
}

// Diff queues [Set.Diff].
func (q QueuedSet[T]) Diff(ctx context.Context, others ...Set[T]) *Future[[]T] {
	return q.algebra(ctx, opSDIFF, others)
}

func (q QueuedSet[T]) algebra(ctx context.Context, op opName, others []Set[T]) *Future[[]T] {
	return enqueueRead(q.p, &q.h, op, 0, readMembers[T], func() (redis.Cmder, error) {
		hs := q.set().handles(nil, others)
		names, err := sameKind[T](op.String(), hs...)
		if err != nil {
			return nil, err
		}
		cmd := algebraCmd(ctx, q.p.pp, op.String(), names)
		q.renewKeys(ctx, hs)
		return cmd, nil
	})
}

// UnionStore queues [Set.UnionStore]. The Future's errors name dst, the
// key written.
func (q QueuedSet[T]) UnionStore(ctx context.Context, dst Set[T], others ...Set[T]) *Future[int64] {
	return q.store(ctx, opSUNIONSTORE, dst, others)
}

// InterStore queues [Set.InterStore].
func (q QueuedSet[T]) InterStore(ctx context.Context, dst Set[T], others ...Set[T]) *Future[int64] {
	return q.store(ctx, opSINTERSTORE, dst, others)
}

// DiffStore queues [Set.DiffStore].
func (q QueuedSet[T]) DiffStore(ctx context.Context, dst Set[T], others ...Set[T]) *Future[int64] {
	return q.store(ctx, opSDIFFSTORE, dst, others)
}

func (q QueuedSet[T]) store(ctx context.Context, op opName, dst Set[T], others []Set[T]) *Future[int64] {
	hs := q.set().handles(&dst.keyHandle, others)
	names, err := sameKind[T](op.String(), hs...)
	return multiWrite(ctx, q.queued, op, dst.keyHandle, err, func() (wcmd, error) { return storeCmd(op.String(), names), nil }, readInt, names)
}

// Move queues [Set.Move]. The Future's errors name dst, the key written.
func (q QueuedSet[T]) Move(ctx context.Context, dst Set[T], x T) *Future[bool] {
	s := q.set()
	names, err := sameKind[T]("SMOVE", &dst.keyHandle, &s.keyHandle)
	return multiWrite(ctx, q.queued, opSMOVE, dst.keyHandle, err, func() (wcmd, error) { return s.moveCmd(dst, x) }, readMoved, names)
}
