package nest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bsm/redislock"
)

// Lock is a distributed lock on a schema key, with a lease: the holder
// owns it until it releases it or the lease runs out, so a holder that
// dies cannot keep it forever.
//
//	Checkout nest.Lock `nest:"checkout_lock" ttl:"30s"`
//
//	lease, err := u.Checkout.Obtain(ctx, nest.WithRetry(redislock.LinearBackoff(50*time.Millisecond)))
//	if err != nil { ... } // nest.ErrNotObtained when it is held elsewhere
//	defer lease.Release(ctx)
//
// The algorithm is github.com/bsm/redislock's: the key holds a random
// token (plus optional metadata), set with SET NX PX; refresh, release and
// TTL are Lua scripts that act only while the key still holds the
// lease's token, so only the owner can extend or release it. The key's
// effective TTL is the default lease length, which every lock must have:
// [New] refuses a Lock without one (its own `ttl` tag or its namespace's;
// `ttl:"none"` too), and "sliding" and "fixed" mean nothing for a lease.
// [WithLease] sets another length for one Obtain.
//
// The lock key is a normal key of its namespace: Describe reports it
// (kind "lock", Redis type "string"), Keys, Count and Clear find it, and
// it lives in its namespace's slot, so it works on Redis Cluster. The key
// commands (Exists, TTL, Delete...) act on the key itself: Delete breaks
// the lock whoever holds it. A Lock is an immutable handle, safe to copy
// and share; a [Lease] is the holder's.
//
// A lease is not a fencing token: a holder paused longer than its lease
// (GC, a stopped VM) may still act after another client obtained the
// lock. Keep critical sections well inside the lease, or Refresh.
type Lock struct {
	_ [0]lockMark
	keyHandle
}

func (Lock) compileKey(kp *keyPlan, explicit Codec) error {
	switch {
	case explicit != nil:
		return errors.New("a lock takes no codec tag: it stores its holder's token")
	case kp.hasDef:
		return errors.New("a lock cannot have a default")
	case kp.ttl.d <= 0:
		return errors.New("a lock needs a lease length: give it a ttl tag, such as `ttl:\"30s\"` (a lock without expiry would stay held forever by a holder that died)")
	}
	if err := compileKeyCodec[string](kp, nil); err != nil {
		return err
	}
	kp.kind, kp.codecOf = kindLock, "token"
	return nil
}

func (Lock) isParamKey() bool   { return false }
func (Lock) fieldKind() keyKind { return kindLock }

// The lock's errors. Each also matches redislock's error of the same
// meaning with [errors.Is], so code written for redislock keeps working.
var (
	// ErrNotObtained: [Lock.Obtain] found the lock held by another token
	// and its retries, if any, ran out (for a ctx without deadline: the
	// next try would have started more than a lease length after the
	// first). Matches redislock.ErrNotObtained.
	ErrNotObtained error = &lockError{"nest: lock not obtained", redislock.ErrNotObtained}
	// ErrLockNotHeld: a [Lease] is no longer held (its lease expired, or
	// the key was deleted or obtained by another token): Release, Refresh
	// and TTL fail with it and change nothing. Matches
	// redislock.ErrLockNotHeld.
	ErrLockNotHeld error = &lockError{"nest: lock not held", redislock.ErrLockNotHeld}
)

type lockError struct {
	msg string
	err error
}

func (e *lockError) Error() string { return e.msg }
func (e *lockError) Unwrap() error { return e.err }

// RetryStrategy decides how long [Lock.Obtain] waits before trying again;
// it is redislock's, so redislock.LinearBackoff, ExponentialBackoff,
// LimitRetry and NoRetry build them. Some (ExponentialBackoff, LimitRetry)
// count their calls: give each Obtain a new one.
type RetryStrategy = redislock.RetryStrategy

// LockOption adjusts one [Lock.Obtain].
type LockOption func(*lockOptions)

type lockOptions struct {
	lease time.Duration
	retry RetryStrategy
	token string
	meta  string
}

// WithLease sets the lease length for this Obtain instead of the key's
// effective TTL. It must be at least a millisecond.
func WithLease(d time.Duration) LockOption {
	return func(o *lockOptions) { o.lease = d }
}

// WithRetry makes Obtain try again, waiting as s says, while the lock is
// held elsewhere. The wait honours ctx: Obtain returns ctx's error as soon
// as ctx is done; with a ctx without deadline it gives up with
// [ErrNotObtained] rather than start a try more than a lease length after
// the first. The lease never cuts a try in flight short (see
// [Lock.Obtain]). Without WithRetry, Obtain tries once.
func WithRetry(s RetryStrategy) LockOption {
	return func(o *lockOptions) { o.retry = s }
}

// WithToken sets the lease's token instead of a random one. Obtaining
// with the token of a lease still held re-obtains it (and resets its
// lease), so a token must be unique to its holder.
func WithToken(token string) LockOption {
	return func(o *lockOptions) { o.token = token }
}

// WithMetadata stores md after the token in the lock's value, for
// whoever inspects the key (who holds it, since when).
func WithMetadata(md string) LockOption {
	return func(o *lockOptions) { o.meta = md }
}

// Obtain takes the lock (SET NX PX through redislock's script) and returns
// its [Lease], or [ErrNotObtained] when another token holds it and no
// retry succeeded. A ctx done before a try or between tries returns
// ctx's error at once; a try in flight is bounded, as every command is, by
// the client's timeouts, and by ctx's deadline only when the client sets
// Options.ContextTimeoutEnabled (go-redis's): a try the server completes
// after ctx is done still returns its lease. A key holding another Redis
// type fails with [ErrWrongType].
func (l Lock) Obtain(ctx context.Context, opts ...LockOption) (*Lease, error) {
	const op = "OBTAIN"
	if err := l.Err(); err != nil {
		return nil, err
	}
	o := lockOptions{lease: l.p.ttl.d}
	for _, opt := range opts {
		opt(&o)
	}
	if err := checkLease(o.lease); err != nil {
		return nil, opError(op, l.name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, opError(op, l.name, err)
	}
	c := l.p.c
	start := c.clock()
	rctx := ctx
	if _, ok := ctx.Deadline(); !ok {
		// redislock bounds a ctx without deadline by one lease, the try in
		// flight included: a first SET NX slower than a short lease (a
		// loaded or distant server) came back "not obtained" though nobody
		// held the lock. Bound the retries by the lease instead, and leave
		// each try to the client's own timeouts, as for any command.
		o.retry = retryWithin{s: o.retry, until: time.Now().Add(o.lease)}
		var cancel context.CancelFunc
		rctx, cancel = context.WithDeadline(ctx, time.Now().Add(noBound))
		defer cancel()
	}
	rl, err := redislock.New(c.rdb).Obtain(rctx, l.name, o.lease, &redislock.Options{
		RetryStrategy: o.retry, Token: o.token, Metadata: o.meta,
	})
	c.logged(ctx, op, l.name, o.lease, start, err)
	switch {
	case err == nil:
		return &Lease{h: l.keyHandle, rl: rl, lease: o.lease}, nil
	case errors.Is(err, redislock.ErrNotObtained):
		return nil, opError(op, l.name, ErrNotObtained)
	}
	return nil, l.check(ctx, op, err)
}

// noBound is the deadline Obtain gives a ctx without one, only so that
// redislock adds none of its own: far enough never to cut a try short.
const noBound = 100 * 365 * 24 * time.Hour

// retryWithin stops retries whose try would start after until.
type retryWithin struct {
	s     RetryStrategy // nil: no retry
	until time.Time
}

func (r retryWithin) NextBackoff() time.Duration {
	if r.s == nil {
		return 0
	}
	b := r.s.NextBackoff()
	if b < 1 || time.Now().Add(b).After(r.until) {
		return 0
	}
	return b
}

func checkLease(d time.Duration) error {
	if d < time.Millisecond {
		return fmt.Errorf("%w: lease %v is below Redis's 1ms resolution", ErrInvalidTTL, d)
	}
	return nil
}

// QueuedLock is a [Lock] seen through a [Pipe], for its key commands
// (Exists, Delete, Expire, TTL). Obtain cannot be queued: it decides on
// Redis's reply whether to retry.
type QueuedLock struct{ queued }

// In returns the lock key's commands queued on p.
func (l Lock) In(p *Pipe) QueuedLock { return QueuedLock{queued{l.keyHandle, p}} }

// Lease is a held [Lock], returned by [Lock.Obtain]. It belongs to its
// holder; its methods are safe for concurrent use. A nil Lease is never
// held: its methods return [ErrLockNotHeld].
type Lease struct {
	h     keyHandle
	rl    *redislock.Lock
	lease time.Duration
}

// Key returns the lock's full key name.
func (l *Lease) Key() string {
	if l == nil {
		return ""
	}
	return l.h.name
}

// Token returns the lease's token: random unless set with [WithToken].
func (l *Lease) Token() string {
	if l == nil {
		return ""
	}
	return l.rl.Token()
}

// Metadata returns what [WithMetadata] stored, or "".
func (l *Lease) Metadata() string {
	if l == nil {
		return ""
	}
	return l.rl.Metadata()
}

// TTL returns the lease's remaining time, or [ErrLockNotHeld] when the
// lock is no longer held with this lease's token.
func (l *Lease) TTL(ctx context.Context) (time.Duration, error) {
	const op = "LOCK PTTL"
	if l == nil {
		return 0, opError(op, "", ErrLockNotHeld)
	}
	c := l.h.p.c
	start := c.clock()
	d, err := l.rl.TTL(ctx)
	c.logged(ctx, op, l.h.name, 0, start, err)
	switch {
	case err != nil:
		return 0, l.h.check(ctx, op, err)
	case d <= 0:
		return 0, opError(op, l.h.name, ErrLockNotHeld)
	}
	return d, nil
}

// Refresh extends the lease to ttl from now (0: the length it was obtained
// with), if the lock is still held with this lease's token; else it
// returns [ErrLockNotHeld] and changes nothing. (redislock reports that
// case as its ErrNotObtained; here it matches redislock.ErrLockNotHeld.)
func (l *Lease) Refresh(ctx context.Context, ttl time.Duration) error {
	const op = "REFRESH"
	if l == nil {
		return opError(op, "", ErrLockNotHeld)
	}
	if ttl == 0 {
		ttl = l.lease
	}
	if err := checkLease(ttl); err != nil {
		return opError(op, l.h.name, err)
	}
	if err := ctx.Err(); err != nil {
		return opError(op, l.h.name, err)
	}
	c := l.h.p.c
	start := c.clock()
	err := l.rl.Refresh(ctx, ttl, nil)
	c.logged(ctx, op, l.h.name, ttl, start, err)
	if errors.Is(err, redislock.ErrNotObtained) {
		return opError(op, l.h.name, ErrLockNotHeld)
	}
	return l.h.check(ctx, op, err)
}

// Release releases the lock if it is still held with this lease's token
// (deleting the key in a script that checks the token), else returns
// [ErrLockNotHeld] and leaves the key alone: a holder whose lease expired
// cannot release the lock another client obtained since.
func (l *Lease) Release(ctx context.Context) error {
	const op = "RELEASE"
	if l == nil {
		return opError(op, "", ErrLockNotHeld)
	}
	if err := ctx.Err(); err != nil {
		return opError(op, l.h.name, err)
	}
	c := l.h.p.c
	start := c.clock()
	err := l.rl.Release(ctx)
	c.logged(ctx, op, l.h.name, 0, start, err)
	if errors.Is(err, redislock.ErrLockNotHeld) {
		return opError(op, l.h.name, ErrLockNotHeld)
	}
	return l.h.check(ctx, op, err)
}
