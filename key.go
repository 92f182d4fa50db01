package nest

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// Key is a typed Redis string key declared in a namespace:
//
//	Age nest.Key[int] `nest:"age" default:"0" ttl:"1h"`
//
// Values are encoded as described at [Codec]. Writes apply the key's
// effective TTL atomically with the value (its own `ttl` tag, else the
// nearest enclosing namespace's; see [Key.EffectiveTTL]). A Key is an
// immutable handle, safe to copy and to share between goroutines.
type Key[T any] struct {
	_ [0]keyMark[T] // makes Key[T] inconvertible to other handle types
	h keyHandle
}

func (Key[T]) compileKey(kp *keyPlan, explicit Codec) error {
	return compileKeyCodec[T](kp, explicit)
}

func (Key[T]) isParamKey() bool { return false }

// ParamKey declares a key whose name has parameters, such as
// `nest:"message:{message_id}"`. Reach the key with [ParamKey.At] or
// [ParamKey.With]; a ParamKey itself has no Redis operations, so forgetting
// the parameters does not compile.
type ParamKey[T any] struct {
	_ [0]paramKeyMark[T]
	h keyHandle
}

func (ParamKey[T]) compileKey(kp *keyPlan, explicit Codec) error {
	return compileKeyCodec[T](kp, explicit)
}

func (ParamKey[T]) isParamKey() bool { return true }

// At returns the key for params, given in template order. Like [Sub.At] it
// never panics: a wrong count or an unsafe value makes every operation on
// the returned key fail with that error.
func (p ParamKey[T]) At(params ...any) Key[T] {
	h := p.h
	if h.p != nil && h.err == nil {
		var scratch [128]byte
		b, err := appendRendered(append(scratch[:0], h.ns.prefix...), &h.p.tmpl, h.p.path, params, false)
		if err != nil {
			h.err = err
		} else {
			h.name = string(b)
		}
	}
	return Key[T]{h: h}
}

// With is the named form of [ParamKey.At].
func (p ParamKey[T]) With(params Params) Key[T] {
	if p.h.p == nil || p.h.err != nil {
		return Key[T]{h: p.h}
	}
	args, err := orderParams(p.h.p.tmpl.Params(), params, p.h.p.tmpl.String(), p.h.p.path)
	if err != nil {
		h := p.h
		h.err = err
		return Key[T]{h: h}
	}
	return p.At(args...)
}

// Template returns the key's name template, e.g. "message:{message_id}".
func (p ParamKey[T]) Template() string {
	if p.h.p == nil {
		return ""
	}
	return p.h.p.tmpl.String()
}

// Name returns the full Redis key name, e.g. "root:user:42:age", or "" when
// the handle is unusable (see [Key.Err]).
func (k Key[T]) Name() string {
	if k.h.err != nil {
		return ""
	}
	return k.h.name
}

// String returns the full key name, so that keys print usefully.
func (k Key[T]) String() string { return k.Name() }

// Err reports why the handle cannot be used (a parameter error, or
// [ErrNotBound]); every operation then returns it without contacting Redis.
func (k Key[T]) Err() error { return k.h.ready() }

// EffectiveTTL returns the TTL that writes apply: the key's own `ttl` tag,
// else the nearest enclosing namespace's. ok is false when none applies
// (writes then store the key without expiry). It needs no Redis round trip;
// use [Key.TTL] for the remaining time of a stored key.
func (k Key[T]) EffectiveTTL() (ttl time.Duration, ok bool) {
	if k.h.p == nil {
		return 0, false
	}
	return k.h.p.ttl.d, k.h.p.ttl.d > 0
}

func (h *keyHandle) ready() error {
	if h.p == nil {
		return ErrNotBound
	}
	return h.err
}

// fail wraps a go-redis error with the command and key; redis.Nil becomes
// ErrNotFound.
func (h *keyHandle) fail(cmd string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, redis.Nil) {
		err = ErrNotFound
	}
	return opError(cmd, h.name, err)
}

func (h *keyHandle) log(ctx context.Context, cmd string, ttl time.Duration) {
	h.p.c.dispatch(ctx, cmd, h.name, ttl)
}

func (k Key[T]) codec() *valueCodec[T] { return k.h.p.codec.(*valueCodec[T]) }

// dflt returns the declared default, or the zero value.
func (k Key[T]) dflt() T {
	var v T
	if k.h.p.hasDef {
		v, _ = k.codec().parseDefault(k.h.p.def) // checked by New
	}
	return v
}

// Get returns the stored value, or the declared default when the key does
// not exist. A missing key without a `default` tag returns [ErrNotFound].
// A value that does not decode into T returns a *[DecodeError] (matching
// [ErrDecode]) that keeps the raw bytes. With a sliding TTL, Get renews the
// TTL in the same command (GETEX).
func (k Key[T]) Get(ctx context.Context) (T, error) {
	v, ok, err := k.Lookup(ctx)
	if err == nil && !ok && !k.h.p.hasDef {
		err = opError("GET", k.h.name, ErrNotFound)
	}
	return v, err
}

// Lookup is like [Key.Get] but tells a missing key from a stored one: ok is
// false when the key does not exist (v is then the default or zero value).
func (k Key[T]) Lookup(ctx context.Context) (v T, ok bool, err error) {
	if err := k.h.ready(); err != nil {
		return v, false, err
	}
	return k.getResult("GET", k.getCmd(ctx, k.h.p.c.rdb))
}

// getCmd queues or sends the read: GET, or GETEX for a sliding TTL.
func (k Key[T]) getCmd(ctx context.Context, c redis.Cmdable) *redis.StringCmd {
	if t := k.h.p.ttl; t.sliding && t.d > 0 {
		k.h.log(ctx, "GETEX", t.d)
		return c.GetEx(ctx, k.h.name, t.d)
	}
	k.h.log(ctx, "GET", 0)
	return c.Get(ctx, k.h.name)
}

// getResult decodes a reply holding the value (GET, GETEX, GETDEL, SET GET).
func (k Key[T]) getResult(cmdName string, cmd interface{ Result() (string, error) }) (T, bool, error) {
	s, err := cmd.Result()
	if err == redis.Nil {
		return k.dflt(), false, nil
	}
	if err != nil {
		var zero T
		return zero, false, k.h.fail(cmdName, err)
	}
	v, err := k.codec().decode(k.h.name, s)
	return v, err == nil, err
}

// Raw returns the stored bytes without decoding them, or [ErrNotFound].
func (k Key[T]) Raw(ctx context.Context) ([]byte, error) {
	if err := k.h.ready(); err != nil {
		return nil, err
	}
	k.h.log(ctx, "GET", 0)
	b, err := k.h.p.c.rdb.Get(ctx, k.h.name).Bytes()
	return b, k.h.fail("GET", err)
}

// Set stores v, applying the effective TTL in the same command (SET ... EX/PX)
// or, without one, storing the key without expiry. Options: [KeepTTL],
// [WithTTL].
func (k Key[T]) Set(ctx context.Context, v T, opts ...SetOption) error {
	if err := k.h.ready(); err != nil {
		return err
	}
	val, err := k.codec().encode(k.h.name, v)
	if err != nil {
		return err
	}
	return k.h.fail("SET", k.setCmd(ctx, k.h.p.c.rdb, val, opts).Err())
}

// setCmd queues or sends SET of an encoded value with the TTL.
func (k Key[T]) setCmd(ctx context.Context, c redis.Cmdable, val any, opts []SetOption) *redis.StatusCmd {
	exp := k.h.p.ttl.expiration(opts)
	k.h.log(ctx, "SET", exp)
	return c.Set(ctx, k.h.name, val, exp)
}

// SetNX stores v only if the key does not exist (SET ... NX, with the TTL).
// It reports whether the value was stored.
func (k Key[T]) SetNX(ctx context.Context, v T, opts ...SetOption) (bool, error) {
	if err := k.h.ready(); err != nil {
		return false, err
	}
	val, err := k.codec().encode(k.h.name, v)
	if err != nil {
		return false, err
	}
	ok, err := k.h.setNXCmd(ctx, k.h.p.c.rdb, val, opts).Result()
	return ok, k.h.fail("SET NX", err)
}

// setNXCmd queues or sends SET ... NX of an encoded value with the TTL.
func (h *keyHandle) setNXCmd(ctx context.Context, c redis.Cmdable, val any, opts []SetOption) *redis.BoolCmd {
	exp := h.p.ttl.expiration(opts)
	h.log(ctx, "SET NX", exp)
	return c.SetNX(ctx, h.name, val, exp)
}

// GetSet stores v and returns the previous value in one command (SET ...
// GET, with the TTL). existed is false when there was no previous value
// (old is then the default or zero value).
func (k Key[T]) GetSet(ctx context.Context, v T, opts ...SetOption) (old T, existed bool, err error) {
	if err := k.h.ready(); err != nil {
		return old, false, err
	}
	val, err := k.codec().encode(k.h.name, v)
	if err != nil {
		return old, false, err
	}
	args := redis.SetArgs{Get: true}
	if exp := k.h.p.ttl.expiration(opts); exp == redis.KeepTTL {
		args.KeepTTL = true
	} else {
		args.TTL = exp
	}
	k.h.log(ctx, "SET GET", args.TTL)
	return k.getResult("SET GET", k.h.p.c.rdb.SetArgs(ctx, k.h.name, val, args))
}

// GetDel returns the value and deletes the key in one command (GETDEL).
// existed is false when the key did not exist.
func (k Key[T]) GetDel(ctx context.Context) (v T, existed bool, err error) {
	if err := k.h.ready(); err != nil {
		return v, false, err
	}
	k.h.log(ctx, "GETDEL", 0)
	return k.getResult("GETDEL", k.h.p.c.rdb.GetDel(ctx, k.h.name))
}

// Update is a typed optimistic read-modify-write: it WATCHes the key, reads
// it, calls fn with the current value (the default or zero value when
// missing, with exists false), and writes fn's result with the effective
// TTL in a MULTI/EXEC that fails if another client changed the key in the
// meantime. It then retries after a short random backoff, up to
// [Options.UpdateRetries] attempts, and finally returns [ErrConflict]. An error from fn aborts without writing
// and is returned as is. fn may run several times and must not have side
// effects. Update returns the value written.
func (k Key[T]) Update(ctx context.Context, fn func(cur T, exists bool) (T, error)) (T, error) {
	var zero, out T
	if err := k.h.ready(); err != nil {
		return zero, err
	}
	c := k.h.p.c
	var txErr error // an error txf produced, already in its final form
	txf := func(tx *redis.Tx) error {
		k.h.log(ctx, "GET", 0)
		cur, exists, err := k.getResult("GET", tx.Get(ctx, k.h.name))
		if err == nil {
			var next T
			var val any
			if next, err = fn(cur, exists); err == nil {
				val, err = k.codec().encode(k.h.name, next)
			}
			if err == nil {
				_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					k.setCmd(ctx, p, val, nil)
					return nil
				})
				if errors.Is(err, redis.TxFailedErr) {
					return err // retry
				}
				err = k.h.fail("MULTI/EXEC", err)
				out = next
			}
		}
		txErr = err
		return err
	}
	for attempt := range c.retries {
		if err := backoff(ctx, attempt); err != nil {
			return zero, k.h.fail("WATCH", err)
		}
		txErr = nil
		k.h.log(ctx, "WATCH", 0)
		err := c.rdb.Watch(ctx, txf, k.h.name)
		switch {
		case err == nil:
			return out, nil
		case errors.Is(err, redis.TxFailedErr):
			continue
		case txErr != nil:
			return zero, txErr
		default:
			return zero, k.h.fail("WATCH", err)
		}
	}
	return zero, opError("UPDATE", k.h.name, ErrConflict)
}
