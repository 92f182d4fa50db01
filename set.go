package nest

import (
	"context"

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

var opSADD = newOpName("SADD")

// Add adds members (SADD) and reports how many were not members yet.
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
	w := s.newWrite("SADD", len(members))
	w.sum = true
	var err error
	w.args, err = s.encAll("SADD", w.args, members)
	return w, err
}

// Members returns every member (SMEMBERS), in no particular order.
func (s Set[T]) Members(ctx context.Context) ([]T, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	ss, err := read(ctx, &s.keyHandle, "SMEMBERS", func(c redis.Cmdable) *redis.StringSliceCmd {
		return c.SMembers(ctx, s.name)
	}).Result()
	if err != nil {
		return nil, s.check(ctx, "SMEMBERS", err)
	}
	return s.decAll("SMEMBERS", "member", ss)
}

// QueuedSet is a [Set] seen through a [Pipe]; get it from [Set.In].
type QueuedSet[T any] struct{ queued }

// In returns the set's operations queued on p.
func (s Set[T]) In(p *Pipe) QueuedSet[T] { return QueuedSet[T]{queued{s.keyHandle, p}} }

// Add queues [Set.Add].
func (q QueuedSet[T]) Add(ctx context.Context, members ...T) *Future[int64] {
	return queueWrite(ctx, q.queued, opSADD, func() (wcmd, error) {
		return Set[T]{coll: coll[T]{q.h}}.add(members)
	}, readInt)
}
