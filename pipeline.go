package nest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Pipe queues typed key operations and sends them in one round trip on
// [Pipe.Exec]: a plain pipeline from [Namespace.Pipeline], or a MULTI/EXEC
// transaction from [Namespace.TxPipeline]. Operations are queued through a
// key's view, which returns a [Future] resolved by Exec:
//
//	p := root.Pipeline()
//	age := u.Age.In(p).Get(ctx)
//	u.Name.In(p).Set(ctx, "Ada") // SET ... EX 120, as Key.Set
//	err := p.Exec(ctx)
//	n, err := age.Result()
//
// Queued operations keep the semantics of their direct counterparts:
// codecs, defaults, [ErrNotFound], sliding TTLs (GETEX), TTLs applied in
// the same SET, and encryption for [Secret] keys.
//
// Nothing is sent half-written: an operation that cannot be queued (an
// unusable handle, a value that does not encode, a transaction crossing
// hash slots) fails its Future at once and marks the Pipe failed, so that
// Exec sends nothing and returns that error.
//
// A Pipe is used by one goroutine and executes once: a second Exec, or an
// operation queued after Exec, fails with [ErrPipeDone].
type Pipe struct {
	c       *client
	pp      redis.Pipeliner
	tx      bool
	first   string    // first queued key of a transaction, for the slot check
	err     error     // first queue-time failure: Exec sends nothing
	done    bool      // Exec was called
	pending []pending // futures Exec resolves, in queue order
}

// pending is a queued Future as Exec sees it.
type pending interface {
	// resolve reads the reply (or, when cause is not nil, records that
	// nothing was sent) and returns the Future's error.
	resolve(cause error) error
}

// Pipeline returns a Pipe whose operations Exec sends in one round trip,
// without atomicity. It takes keys from anywhere in the schema (or another
// schema bound to the same go-redis client), not only from n's subtree.
// On Redis Cluster, go-redis splits it per node, so it may name keys in
// any slot. A Pipe from an unusable namespace fails with its error.
func (n Namespace) Pipeline() *Pipe { return n.pipe(false) }

// TxPipeline returns a Pipe that Exec sends as one MULTI/EXEC transaction:
// other clients see all of its writes or none. On Redis Cluster (or a
// Ring) every key of a transaction must share a hash slot (shard): an
// operation on a key in another slot than the first one fails with
// [ErrCrossSlot] when queued, so a transaction is never silently split.
// Keys of one pinned namespace (`slot:"pin"`) share a slot.
func (n Namespace) TxPipeline() *Pipe { return n.pipe(true) }

func (n Namespace) pipe(tx bool) *Pipe {
	if err := n.Err(); err != nil {
		return &Pipe{tx: tx, err: err}
	}
	c := n.ns.plan.c
	p := &Pipe{c: c, tx: tx}
	if tx {
		p.pp = c.rdb.TxPipeline()
	} else {
		p.pp = c.rdb.Pipeline()
	}
	return p
}

// Len returns the number of commands queued so far.
func (p *Pipe) Len() int {
	if p.pp == nil {
		return 0
	}
	return p.pp.Len()
}

// Exec sends every queued command in one round trip (wrapped in MULTI/EXEC
// for a [Namespace.TxPipeline]) and resolves every [Future]. It returns
// the first error of a Future in queue order, ignoring [ErrNotFound],
// which is an answer rather than a failure: nil means every Future holds
// its result. A failure of one operation (a value that does not decode,
// a WRONGTYPE reply) leaves the other Futures' results intact.
//
// When an operation failed at queue time, or ctx is already done, Exec
// sends nothing and returns that error, which every pending Future then
// reports too. Exec runs once; a second call returns [ErrPipeDone].
func (p *Pipe) Exec(ctx context.Context) error {
	if p.done {
		return ErrPipeDone
	}
	p.done = true
	cause := p.err
	if cause == nil && p.pp == nil {
		cause = ErrNotBound // a zero Pipe
	}
	if cause == nil {
		if err := ctx.Err(); err != nil {
			cause = fmt.Errorf("nest: pipeline of %d commands: %w", p.Len(), err)
		}
	}
	if cause != nil {
		if p.pp != nil {
			p.pp.Discard()
		}
		for _, f := range p.pending {
			f.resolve(cause)
		}
		p.pending = nil
		return cause
	}
	if p.pp.Len() > 0 {
		// Each command carries its own error; the Futures report them.
		_, _ = p.pp.Exec(ctx)
	}
	var first error
	for _, f := range p.pending {
		if err := f.resolve(nil); err != nil && first == nil && !errors.Is(err, ErrNotFound) {
			first = err
		}
	}
	p.pending = nil
	return first
}

// admit checks, before anything is queued, that h can join the pipe: the
// pipe is open and healthy, the handle is usable and bound to the same
// go-redis client, and, for a transaction on Redis Cluster or a Ring, the
// key shares the first key's slot. A failure other than [ErrPipeDone]
// marks the pipe failed.
func (p *Pipe) admit(h *keyHandle, cmd string) error {
	if p.done {
		return opError(cmd, h.name, ErrPipeDone)
	}
	if p.err == nil && p.c == nil {
		p.err = ErrNotBound // a zero Pipe
	}
	if p.err != nil {
		return p.err
	}
	err := h.ready()
	if err == nil && h.p.c.rdb != p.c.rdb {
		err = opError(cmd, h.name, fmt.Errorf("%w: the key's schema uses another go-redis client than the pipeline", ErrNotBound))
	}
	if err == nil && p.tx {
		if p.first == "" {
			p.first = h.name
		} else if e := p.c.sameSlot(p.first, h.name); e != nil {
			err = opError("MULTI "+cmd, h.name, e)
		}
	}
	if err != nil {
		p.err = err
	}
	return err
}

// opKind says how a Future reads its command's reply.
type opKind uint8

const (
	opStatus    opKind = iota // SET: error only
	opGet                     // GET/GETEX of a Key: decode, default, ErrNotFound
	opSecretGet               // GET/GETEX of a Secret: open, then decode
	opInt                     // DEL, EXISTS: reply 1 is true
	opBool                    // SET NX, EXPIRE
	opTTL                     // TTL: -2 is ErrNotFound, -1 is NoExpiry
)

// enqueue admits h, then lets add queue the command (add's error, an
// encoding failure, fails the pipe) and returns its Future. The Future
// keeps a copy of the handle and reads the reply by kind, so a queued
// operation costs one allocation beyond go-redis's own.
func enqueue[V any](p *Pipe, h *keyHandle, kind opKind, name string, add func() (redis.Cmder, error)) *Future[V] {
	f := &Future[V]{h: *h, kind: kind, name: name}
	err := p.admit(h, name)
	if err == nil {
		if f.cmd, err = add(); err != nil {
			p.err = err
		}
	}
	if err != nil {
		f.done, f.err = true, err
		return f
	}
	p.pending = append(p.pending, f)
	return f
}

// Future is the typed result of a queued operation, resolved by
// [Pipe.Exec]. Like its Pipe, it belongs to one goroutine.
type Future[T any] struct {
	h    keyHandle
	cmd  redis.Cmder
	kind opKind
	name string // command, for errors
	done bool
	val  T
	err  error
}

func (f *Future[T]) resolve(cause error) error {
	if cause != nil {
		f.err = cause
	} else {
		f.val, f.err = f.read()
	}
	f.cmd, f.done = nil, true
	return f.err
}

// read decodes the reply exactly as the direct operation does.
func (f *Future[T]) read() (v T, err error) {
	h := &f.h
	switch f.kind {
	case opGet, opSecretGet:
		cmd := f.cmd.(*redis.StringCmd)
		var ok bool
		if f.kind == opGet {
			v, ok, err = Key[T]{h: *h}.getResult(f.name, cmd)
		} else {
			v, ok, err = Secret[T]{h: *h}.getResult(f.name, cmd)
		}
		if err == nil && !ok && !h.p.hasDef {
			err = opError(f.name, h.name, ErrNotFound)
		}
		return v, err
	case opInt:
		n, err := f.cmd.(*redis.IntCmd).Result()
		return any(n == 1).(T), h.fail(f.name, err)
	case opBool:
		ok, err := f.cmd.(*redis.BoolCmd).Result()
		return any(ok).(T), h.fail(f.name, err)
	case opTTL:
		d, err := f.cmd.(*redis.DurationCmd).Result()
		if d, err = h.ttlReply(f.name, d, err); err != nil {
			return v, err
		}
		return any(d).(T), nil
	}
	return v, h.fail(f.name, f.cmd.Err())
}

// Result returns the operation's value and error, exactly as the direct
// operation would have returned them. Before [Pipe.Exec] it returns
// [ErrNotExecuted], unless the operation already failed when queued.
func (f *Future[T]) Result() (T, error) {
	if !f.done {
		var zero T
		return zero, ErrNotExecuted
	}
	return f.val, f.err
}

// Val returns the value, ignoring the error: the default or zero value
// when the operation failed or has not run.
func (f *Future[T]) Val() T {
	v, _ := f.Result()
	return v
}

// Err returns the operation's error alone; see [Future.Result].
func (f *Future[T]) Err() error {
	_, err := f.Result()
	return err
}

// Queued is a [Key] seen through a [Pipe]: its methods queue the key's
// operations and return Futures that [Pipe.Exec] resolves. Get it from
// [Key.In].
type Queued[T any] struct {
	k Key[T]
	p *Pipe
}

// In returns the key's operations queued on p:
//
//	age := u.Age.In(p).Get(ctx)
func (k Key[T]) In(p *Pipe) Queued[T] { return Queued[T]{k: k, p: p} }

// Get queues [Key.Get]: the stored value, the declared default when the
// key does not exist, or [ErrNotFound] without a default; GETEX renews a
// sliding TTL.
func (q Queued[T]) Get(ctx context.Context) *Future[T] {
	return enqueue[T](q.p, &q.k.h, opGet, "GET", func() (redis.Cmder, error) {
		return q.k.getCmd(ctx, q.p.pp), nil
	})
}

// Set queues [Key.Set]: SET with the effective TTL in the same command.
// A value that does not encode fails the Pipe (see [Pipe]).
func (q Queued[T]) Set(ctx context.Context, v T, opts ...SetOption) *Future[struct{}] {
	return enqueue[struct{}](q.p, &q.k.h, opStatus, "SET", func() (redis.Cmder, error) {
		val, err := q.k.codec().encode(q.k.h.name, v)
		if err != nil {
			return nil, err
		}
		return q.k.setCmd(ctx, q.p.pp, val, opts), nil
	})
}

// SetNX queues [Key.SetNX]: SET ... NX with the effective TTL; the Future
// reports whether the value was stored.
func (q Queued[T]) SetNX(ctx context.Context, v T, opts ...SetOption) *Future[bool] {
	return enqueue[bool](q.p, &q.k.h, opBool, "SET NX", func() (redis.Cmder, error) {
		val, err := q.k.codec().encode(q.k.h.name, v)
		if err != nil {
			return nil, err
		}
		return q.k.h.setNXCmd(ctx, q.p.pp, val, opts), nil
	})
}

// Delete queues [Key.Delete] (DEL); the Future reports whether the key
// existed.
func (q Queued[T]) Delete(ctx context.Context) *Future[bool] {
	return enqueue[bool](q.p, &q.k.h, opInt, "DEL", func() (redis.Cmder, error) {
		q.k.h.log(ctx, "DEL", 0)
		return q.p.pp.Del(ctx, q.k.h.name), nil
	})
}

// Exists queues [Key.Exists].
func (q Queued[T]) Exists(ctx context.Context) *Future[bool] {
	return enqueue[bool](q.p, &q.k.h, opInt, "EXISTS", func() (redis.Cmder, error) {
		q.k.h.log(ctx, "EXISTS", 0)
		return q.p.pp.Exists(ctx, q.k.h.name), nil
	})
}

// Expire queues [Key.Expire]; the Future reports whether the key exists.
func (q Queued[T]) Expire(ctx context.Context, d time.Duration) *Future[bool] {
	return enqueue[bool](q.p, &q.k.h, opBool, "EXPIRE", func() (redis.Cmder, error) {
		q.k.h.log(ctx, "EXPIRE", 0)
		return q.p.pp.Expire(ctx, q.k.h.name, d), nil
	})
}

// TTL queues [Key.TTL]: the remaining time to live in whole seconds,
// [NoExpiry] for a key without one, or [ErrNotFound].
func (q Queued[T]) TTL(ctx context.Context) *Future[time.Duration] {
	return enqueue[time.Duration](q.p, &q.k.h, opTTL, "TTL", func() (redis.Cmder, error) {
		q.k.h.log(ctx, "TTL", 0)
		return q.p.pp.TTL(ctx, q.k.h.name), nil
	})
}

// QueuedSecret is a [Secret] seen through a [Pipe]; get it from
// [Secret.In]. Values are sealed when queued and opened when Exec
// resolves their Futures, exactly as [Secret.Set] and [Secret.Get] do.
type QueuedSecret[T any] struct {
	s Secret[T]
	p *Pipe
}

// In returns the secret's operations queued on p.
func (s Secret[T]) In(p *Pipe) QueuedSecret[T] { return QueuedSecret[T]{s: s, p: p} }

// Get queues [Secret.Get]: the decrypted value, the default when missing,
// or [ErrNotFound] without one.
func (q QueuedSecret[T]) Get(ctx context.Context) *Future[T] {
	return enqueue[T](q.p, &q.s.h, opSecretGet, "GET", func() (redis.Cmder, error) {
		return q.s.key().getCmd(ctx, q.p.pp), nil
	})
}

// Set queues [Secret.Set]: the value is encoded and sealed now, and stored
// with the effective TTL in the same SET.
func (q QueuedSecret[T]) Set(ctx context.Context, v T, opts ...SetOption) *Future[struct{}] {
	return enqueue[struct{}](q.p, &q.s.h, opStatus, "SET", func() (redis.Cmder, error) {
		sealed, err := q.s.seal(v)
		if err != nil {
			return nil, err
		}
		return q.s.key().setCmd(ctx, q.p.pp, sealed, opts), nil
	})
}

// SetNX queues [Secret.SetNX].
func (q QueuedSecret[T]) SetNX(ctx context.Context, v T, opts ...SetOption) *Future[bool] {
	return enqueue[bool](q.p, &q.s.h, opBool, "SET NX", func() (redis.Cmder, error) {
		sealed, err := q.s.seal(v)
		if err != nil {
			return nil, err
		}
		return q.s.h.setNXCmd(ctx, q.p.pp, sealed, opts), nil
	})
}

// Delete queues [Secret.Delete].
func (q QueuedSecret[T]) Delete(ctx context.Context) *Future[bool] {
	return q.s.key().In(q.p).Delete(ctx)
}

// Exists queues [Secret.Exists].
func (q QueuedSecret[T]) Exists(ctx context.Context) *Future[bool] {
	return q.s.key().In(q.p).Exists(ctx)
}

// Expire queues [Secret.Expire].
func (q QueuedSecret[T]) Expire(ctx context.Context, d time.Duration) *Future[bool] {
	return q.s.key().In(q.p).Expire(ctx, d)
}

// TTL queues [Secret.TTL].
func (q QueuedSecret[T]) TTL(ctx context.Context) *Future[time.Duration] {
	return q.s.key().In(q.p).TTL(ctx)
}
