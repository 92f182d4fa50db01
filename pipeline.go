package nest

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
	c     *client
	pp    redis.Pipeliner
	tx    bool
	watch bool      // reads of an optimistic transaction: they renew no sliding TTL (see Tx.Reads)
	held  bool      // the writes of a Watch: only Watch may Exec them
	first string    // first queued key of a transaction, for the slot check
	err   error     // first queue-time failure: Exec sends nothing
	done  bool      // Exec was called
	ops   *opList   // the operations Exec resolves, in queue order (nil until the first)
	slabs []any     // a *slab[T] per value type T of this pipe's futures
	h     keyHandle // the handle Exec lends each Future's reply reader in turn
	args  argSpace  // room for the arguments of the commands the Pipe builds
}

// queuedOp is a queued operation as Exec sees it: its Future and what
// reading the reply and logging the command take. It lives in the Pipe's
// opList, not in the Future, so that a Future holds only its result.
type queuedOp struct {
	f    pending
	p    *keyPlan
	key  string // full key name
	cmd  redis.Cmder
	ttl  time.Duration // the TTL a write applies, for the log
	op   opName
	kind opKind
}

// opList holds a Pipe's queued operations. Nothing refers to it once
// Exec has resolved them, so Exec returns it to opLists for the next
// Pipe: in a steady state queuing costs no allocation for it.
type opList struct{ ops []queuedOp }

var opLists = sync.Pool{New: func() any { return new(opList) }}

// maxPooledOps bounds the lists kept for reuse, so that one huge
// pipeline does not pin its memory.
const maxPooledOps = 4096

// release clears the operations (dropping their replies and Futures) and
// returns the list for reuse.
func (p *Pipe) release() {
	l := p.ops
	if l == nil {
		return
	}
	p.ops = nil
	clear(l.ops)
	if cap(l.ops) <= maxPooledOps {
		l.ops = l.ops[:0]
		opLists.Put(l)
	}
}

// slab hands out the Futures of one value type in chunks, so that a
// queued operation costs a fraction of an allocation beyond go-redis's
// own. A chunk lives as long as any of its Futures is referenced.
type slab[T any] struct {
	free []Future[T]
	size int
}

// newFuture returns a zeroed Future of p's slab for T.
func newFuture[T any](p *Pipe) *Future[T] {
	var s *slab[T]
	for _, x := range p.slabs {
		if t, ok := x.(*slab[T]); ok {
			s = t
			break
		}
	}
	if s == nil {
		s = &slab[T]{size: 4}
		p.slabs = append(p.slabs, s)
	}
	if len(s.free) == 0 {
		s.size = min(2*s.size, 256)
		s.free = make([]Future[T], s.size)
	}
	f := &s.free[0]
	s.free = s.free[1:]
	return f
}

// pending is a queued Future as Exec sees it.
type pending interface {
	// resolve reads the reply of o, the Future's operation (or, when
	// cause is not nil, records that nothing was sent: the Future fails
	// with cause, or with an *OpError of its command and key wrapping
	// ctxErr when that is not nil) and returns the Future's error. h is
	// scratch space for the handle the reply reader gets.
	resolve(o *queuedOp, cause, ctxErr error, h *keyHandle) error
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
// an error matching go-redis's redis.ErrCrossSlot when queued, so a transaction is never silently split.
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

// Pipeliner returns the go-redis pipeline under p, to queue raw go-redis
// commands beside typed ones: they are sent by [Pipe.Exec] in the same
// round trip (inside the same MULTI/EXEC for a [Namespace.TxPipeline]),
// in queue order. Read their results from the go-redis commands after
// Exec. Raw commands get none of the schema's checks: no TTL, no codec
// and, in a transaction on Redis Cluster, no slot check. It returns nil
// for a Pipe that failed to build (see [Pipe.Exec]).
func (p *Pipe) Pipeliner() redis.Pipeliner { return p.pp }

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
	if p.held {
		return fmt.Errorf("%w: the writes of a Watch are sent by Watch when its function returns; do not call Exec on tx.Writes()", ErrInvalidArg)
	}
	if p.done {
		return ErrPipeDone
	}
	p.done = true
	cause := p.err
	if cause == nil && p.pp == nil {
		cause = ErrNotBound // a zero Pipe
	}
	var ctxErr error // the context was done: each Future fails as its direct call would
	if cause == nil {
		if ctxErr = ctx.Err(); ctxErr != nil {
			cause = fmt.Errorf("nest: pipeline of %d %s: %w", p.Len(), plural(p.Len(), "command", "commands"), ctxErr)
		}
	}
	if cause != nil {
		if p.pp != nil {
			p.pp.Discard()
		}
		if p.ops != nil {
			for i := range p.ops.ops {
				o := &p.ops.ops[i]
				o.f.resolve(o, cause, ctxErr, &p.h)
			}
		}
		p.release()
		return cause
	}
	start := p.c.clock()
	if p.pp.Len() > 0 {
		// Each command carries its own error; the Futures report them.
		_, _ = p.pp.Exec(ctx)
	}
	var first error
	if p.ops != nil {
		logging := p.c.log != nil
		for i := range p.ops.ops {
			o := &p.ops.ops[i]
			err := o.f.resolve(o, nil, nil, &p.h)
			if logging {
				p.c.logged(ctx, o.op.String(), o.key, o.ttl, start, o.cmd.Err())
			}
			if err != nil && first == nil && !errors.Is(err, ErrNotFound) {
				first = err
			}
		}
	}
	p.release()
	p.slabs, p.h, p.args = nil, keyHandle{}, argSpace{}
	return first
}

// admit checks, before anything is queued, that h can join the pipe: the
// pipe is open and healthy, the handle is usable and bound to the same
// go-redis client, and, for a transaction on Redis Cluster or a Ring, the
// key shares the first key's slot. A failure other than [ErrPipeDone]
// marks the pipe failed.
func (p *Pipe) admit(h *keyHandle, cmd string) error {
	if !p.done && p.err == nil && !p.tx && h.err == nil && h.p != nil && h.p.c == p.c {
		return nil // the common case: a healthy pipe and a key of its own schema
	}
	if p.done {
		return opError(cmd, h.name, ErrPipeDone)
	}
	if p.err == nil && p.c == nil {
		p.err = ErrNotBound // a zero Pipe
	}
	if p.err != nil {
		return p.err
	}
	err := h.Err()
	if err == nil && h.p.c.rdb != p.c.rdb {
		err = opError(cmd, h.name, fmt.Errorf("%w: the key's schema is bound to another go-redis client than the pipeline's; queue it on a Pipe of its own schema", ErrConfig))
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
	opStatus opKind = iota // SET: error only
	opGet                  // GET/GETEX: open (a Secret), decode, default, ErrNotFound
	opInt                  // DEL, EXISTS: reply 1 is true
	opBool                 // SET NX, EXPIRE
	opTTL                  // PTTL: -2 is ErrNotFound, -1 is NoExpiry
	opFunc                 // the Future's read function decides
)

// opName is the command of a queued operation, for errors and the log.
type opName uint8

const (
	opNameGET opName = iota
	opNameGETEX
	opNameSET
	opNameSETNX
	opNameDEL
	opNameEXISTS
	opNameEXPIRE
	opNamePEXPIRE
	opNamePTTL
)

// opNames holds the names of the operations above, then those each key
// kind registers with newOpName.
var opNames = []string{"GET", "GETEX", "SET", "SET NX", "DEL", "EXISTS", "EXPIRE", "PEXPIRE", "PTTL"}

func (o opName) String() string { return opNames[o] }

// newOpName registers a queued operation's name; call it in a package
// variable's initialiser.
func newOpName(name string) opName {
	if len(opNames) > 255 {
		panic("nest: too many queued operation names")
	}
	opNames = append(opNames, name)
	return opName(len(opNames) - 1)
}

// replyReader reads a queued command's reply into a Future's value, with
// the same results and errors as the direct call. It is a plain function
// (no closure), so queuing allocates nothing for it.
type replyReader[T any] func(h *keyHandle, op string, cmd redis.Cmder) (T, error)

// enqueueRead is enqueue for a Future whose reply read decodes.
func enqueueRead[V any](p *Pipe, h *keyHandle, op opName, ttl time.Duration, read replyReader[V], add func() (redis.Cmder, error)) *Future[V] {
	f := enqueue[V](p, h, opFunc, op, ttl, add)
	f.rd = read
	return f
}

// enqueue admits h, then lets add queue the command (add's error, an
// encoding failure, fails the pipe) and returns its Future. The hottest
// operations (a Key's Get and Set) do the same without a function value:
// admit, build and queue the command, then push.
func enqueue[V any](p *Pipe, h *keyHandle, kind opKind, op opName, ttl time.Duration, add func() (redis.Cmder, error)) *Future[V] {
	if err := p.admit(h, op.String()); err != nil {
		return failed[V](p, err)
	}
	cmd, err := add()
	if err != nil {
		return failed[V](p, p.refuse(h, op, err))
	}
	return push[V](p, h, kind, op, ttl, cmd)
}

// push returns the Future of cmd, an operation of h queued on p's
// pipeline, taken from the pipe's slab for V and linked after the pending
// ones.
func push[V any](p *Pipe, h *keyHandle, kind opKind, op opName, ttl time.Duration, cmd redis.Cmder) *Future[V] {
	f := newFuture[V](p)
	if p.ops == nil {
		p.ops = opLists.Get().(*opList)
	}
	p.ops.ops = append(p.ops.ops, queuedOp{f: f, p: h.p, key: h.name, cmd: cmd, ttl: ttl, op: op, kind: kind})
	return f
}

// failed returns a Future that failed with err when queued.
func failed[V any](p *Pipe, err error) *Future[V] {
	f := newFuture[V](p)
	f.done, f.err = true, err
	return f
}

// refuse fails p with err, why an operation of h could not be queued (a
// value that does not encode), named after the operation unless it is
// already, and returns it.
func (p *Pipe) refuse(h *keyHandle, op opName, err error) error {
	if oe := (*OpError)(nil); !errors.As(err, &oe) || oe.Key != h.name {
		err = opError(op.String(), h.name, err)
	}
	p.err = err
	return err
}

// Future is the typed result of a queued operation, resolved by
// [Pipe.Exec]. Like its Pipe, it belongs to one goroutine.
type Future[T any] struct {
	// Only the result: what resolving it takes is in the Pipe's opList.
	rd   replyReader[T] // for opFunc
	val  T
	err  error
	done bool
}

func (f *Future[T]) resolve(o *queuedOp, cause, ctxErr error, h *keyHandle) error {
	switch {
	case cause == nil && o.kind == opStatus && o.cmd.Err() == nil:
		// A write that succeeded (most of them): nothing to read.
	case ctxErr != nil:
		f.err = opError(o.op.String(), o.key, ctxErr)
	case cause != nil:
		f.err = cause
	default:
		*h = keyHandle{p: o.p, name: o.key}
		f.val, f.err = f.read(o, h)
	}
	f.done = true
	return f.err
}

// read decodes the reply of o exactly as the direct operation does. h is
// the Future's handle, in the Pipe: built here, it would escape through
// f.rd and cost an allocation per Future.
func (f *Future[T]) read(o *queuedOp, h *keyHandle) (v T, err error) {
	op := o.op.String()
	switch o.kind {
	case opGet:
		var ok bool
		v, ok, err = value[T]{*h}.result(op, o.cmd.(*redis.StringCmd))
		if err == nil && !ok && !h.p.hasDef {
			err = opError(op, h.name, ErrNotFound)
		}
		return v, err
	case opInt:
		n, err := o.cmd.(*redis.IntCmd).Result()
		return any(n == 1).(T), h.fail(op, err)
	case opBool:
		ok, err := o.cmd.(*redis.BoolCmd).Result()
		return any(ok).(T), h.fail(op, err)
	case opFunc:
		return f.rd(h, op, o.cmd)
	case opTTL:
		d, err := o.cmd.(*redis.DurationCmd).Result()
		if d, err = h.ttlReply(op, d, err); err != nil {
			return v, err
		}
		return any(d).(T), nil
	}
	return v, h.fail(op, o.cmd.Err())
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

// Queued is a [Key] or [Secret] seen through a [Pipe]: its methods queue
// the key's operations and return Futures that [Pipe.Exec] resolves. Get
// it from the key's In method. Values of a Secret are sealed when queued
// and opened when Exec resolves their Futures, exactly as its direct Set
// and Get do.
type Queued[T any] struct{ queued }

// queued holds the queued operations that never touch the value, shared
// by every key kind seen through a Pipe.
type queued struct {
	h keyHandle
	p *Pipe
}

// In returns the key's operations queued on p:
//
//	age := u.Age.In(p).Get(ctx)
func (v value[T]) In(p *Pipe) Queued[T] { return Queued[T]{queued{v.keyHandle, p}} }

// Get queues Get: the stored value (opened, for a Secret), the declared
// default when the key does not exist, or [ErrNotFound] without a
// default; GETEX renews a sliding TTL.
func (q Queued[T]) Get(ctx context.Context) *Future[T] {
	p, h := q.p, &q.h
	op, ttl := opNameGET, time.Duration(0)
	if h.p != nil && !p.watch {
		if ttl = h.p.ttl.renewal(); ttl > 0 {
			op = opNameGETEX
		}
	}
	if err := p.admit(h, op.String()); err != nil {
		return failed[T](p, err)
	}
	cmd := p.args.getCmd(ctx, h.name, ttl)
	_ = p.pp.Process(ctx, cmd) // cmd carries the error
	return push[T](p, h, opGet, op, ttl, cmd)
}

// Set queues Set: SET with the effective TTL in the same command. A value
// that does not encode fails the Pipe (see [Pipe]).
func (q Queued[T]) Set(ctx context.Context, x T, opts ...SetOption) *Future[struct{}] {
	p, h := q.p, &q.h
	if err := p.admit(h, "SET"); err != nil {
		return failed[struct{}](p, err)
	}
	val, err := encodeArg[T](h, &p.args, x)
	if err != nil {
		return failed[struct{}](p, p.refuse(h, opNameSET, err))
	}
	exp := h.p.ttl.expiration(opts)
	cmd := h.setCmd(ctx, p.pp, &p.args, val, exp)
	return push[struct{}](p, h, opStatus, opNameSET, exp, cmd)
}

// SetNX queues SetNX: SET ... NX with the effective TTL; the Future
// reports whether the value was stored.
func (q Queued[T]) SetNX(ctx context.Context, x T, opts ...SetOption) *Future[bool] {
	exp := q.h.ttl(opts)
	return enqueue[bool](q.p, &q.h, opBool, opNameSETNX, exp, func() (redis.Cmder, error) {
		val, err := value[T]{q.h}.encode(x)
		if err != nil {
			return nil, err
		}
		q.h.queueIndex(ctx, q.p.pp)
		return q.p.pp.SetNX(ctx, q.h.name, val, exp), nil
	})
}

// Delete queues Delete (DEL); the Future reports whether the key existed.
func (q queued) Delete(ctx context.Context) *Future[bool] {
	return enqueue[bool](q.p, &q.h, opInt, opNameDEL, 0, func() (redis.Cmder, error) {
		return q.p.pp.Del(ctx, q.h.name), nil
	})
}

// Exists queues Exists.
func (q queued) Exists(ctx context.Context) *Future[bool] {
	return enqueue[bool](q.p, &q.h, opInt, opNameEXISTS, 0, func() (redis.Cmder, error) {
		return q.p.pp.Exists(ctx, q.h.name), nil
	})
}

// Expire queues Expire (EXPIRE, or PEXPIRE for a duration finer than a
// second); the Future reports whether the key exists.
func (q queued) Expire(ctx context.Context, d time.Duration) *Future[bool] {
	op := opNameEXPIRE
	if expireOp(d) == "PEXPIRE" {
		op = opNamePEXPIRE
	}
	return enqueue[bool](q.p, &q.h, opBool, op, 0, func() (redis.Cmder, error) {
		if err := checkExpire(d); err != nil {
			return nil, err
		}
		if op == opNamePEXPIRE {
			return q.p.pp.PExpire(ctx, q.h.name, d), nil
		}
		return q.p.pp.Expire(ctx, q.h.name, d), nil
	})
}

// TTL queues TTL: the remaining time to live with millisecond precision
// (PTTL), [NoExpiry] for a key without one, or [ErrNotFound].
func (q queued) TTL(ctx context.Context) *Future[time.Duration] {
	return enqueue[time.Duration](q.p, &q.h, opTTL, opNamePTTL, 0, func() (redis.Cmder, error) {
		return q.p.pp.PTTL(ctx, q.h.name), nil
	})
}
