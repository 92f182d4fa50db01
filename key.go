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
	value[T]
}

func (Key[T]) compileKey(kp *keyPlan, explicit Codec) error {
	return compileKeyCodec[T](kp, kp.c.valuesCodec(explicit))
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
	return compileKeyCodec[T](kp, kp.c.valuesCodec(explicit))
}

func (ParamKey[T]) isParamKey() bool { return true }

// At returns the key for params, given in template order. Like [Sub.At] it
// never panics: a wrong count or an unsafe value makes every operation on
// the returned key fail with that error.
func (p ParamKey[T]) At(params ...any) Key[T] {
	h := p.h
	if h.p != nil && h.err == nil {
		var scratch [128]byte
		b, err := appendRendered(append(scratch[:0], h.prefix()...), &h.p.tmpl, h.p.path, params, false, h.p.c.maxParam)
		if err != nil {
			h.err = err
		} else {
			h.name = string(b)
		}
	}
	return Key[T]{value: value[T]{h}}
}

// With is the named form of [ParamKey.At].
func (p ParamKey[T]) With(params Params) Key[T] {
	if p.h.p == nil || p.h.err != nil {
		return Key[T]{value: value[T]{p.h}}
	}
	args, err := orderParams(p.h.p.tmpl.Params(), params, p.h.p.tmpl.String(), p.h.p.path)
	if err != nil {
		h := p.h
		h.err = err
		return Key[T]{value: value[T]{h}}
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

// Describe describes the key with its parameters unbound.
func (p ParamKey[T]) Describe() KeyDescription { return describeKey(&p.h) }

// Dump returns the value serialised in Redis's DUMP format, or
// [ErrNotFound]. Feed it to [Key.Restore].
func (k Key[T]) Dump(ctx context.Context) ([]byte, error) {
	if err := k.Err(); err != nil {
		return nil, err
	}
	b, err := do(ctx, &k.keyHandle, "DUMP", 0, func(c redis.Cmdable) *redis.StringCmd { return c.Dump(ctx, k.name) }).Bytes()
	return b, k.fail("DUMP", err)
}

// Restore creates the key from a [Key.Dump] payload, applying the key's
// effective TTL (RESTORE key ttl payload). It fails with Redis's BUSYKEY
// error when the key exists; see [Key.RestoreReplace].
func (k Key[T]) Restore(ctx context.Context, dump []byte) error {
	return k.restore(ctx, "RESTORE", dump, false)
}

// RestoreReplace is [Key.Restore] that replaces an existing key.
func (k Key[T]) RestoreReplace(ctx context.Context, dump []byte) error {
	return k.restore(ctx, "RESTORE REPLACE", dump, true)
}

func (k Key[T]) restore(ctx context.Context, op string, dump []byte, replace bool) error {
	if err := k.Err(); err != nil {
		return err
	}
	ttl := k.p.ttl.d
	return k.fail(op, doWrite(ctx, &k.keyHandle, op, ttl, func(c redis.Cmdable) *redis.StatusCmd {
		if replace {
			return c.RestoreReplace(ctx, k.name, ttl, string(dump))
		}
		return c.Restore(ctx, k.name, ttl, string(dump))
	}).Err())
}

// Rename moves the value to dst, replacing dst's value, and gives it dst's
// effective TTL (or none), atomically. It returns [ErrNotFound] when the
// key does not exist. On Redis Cluster both keys must share a hash slot.
func (k Key[T]) Rename(ctx context.Context, dst Key[T]) error {
	_, err := k.rename(ctx, "RENAME", dst.keyHandle, false)
	return err
}

// RenameNX is [Key.Rename] that only renames when dst does not exist; it
// reports whether it renamed.
func (k Key[T]) RenameNX(ctx context.Context, dst Key[T]) (bool, error) {
	return k.rename(ctx, "RENAMENX", dst.keyHandle, true)
}

// value holds the operations that read or write the value of a string key,
// shared by [Key] and [Secret]: values go through the key's codec and, for
// a Secret, are sealed on the way in and opened on the way out.
type value[T any] struct{ keyHandle }

func (v value[T]) codec() *valueCodec[T] { return v.p.codec.(*valueCodec[T]) }

// dflt returns the declared default, or the zero value.
func (v value[T]) dflt() T {
	var x T
	if v.p.hasDef {
		x, _ = v.codec().parseDefault(v.p.def) // checked by New
	}
	return x
}

// encode turns x into what is handed to go-redis: the codec's output, or
// for a Secret, the sealed bytes.
func (v value[T]) encode(x T) (any, error) {
	if v.p.kind == kindSecret {
		return v.seal(x)
	}
	c := v.codec()
	if c.plain != nil {
		return any(x), nil
	}
	return c.encode(v.name, x)
}

// encodeArg is h's encode for a command built in s: a predeclared
// integer is boxed there rather than in an allocation of its own. It takes
// h by pointer, so that a call passes 4 words rather than 9.
func encodeArg[T any](h *keyHandle, s *argSpace, x T) (any, error) {
	if c := h.p.codec.(*valueCodec[T]); c.plain != nil && h.p.kind != kindSecret {
		return boxAs(s, c.plain, x), nil
	}
	return value[T]{*h}.encode(x)
}

// result reads a reply holding the value (GET, GETEX, GETDEL, SET GET):
// ok is false when the key did not exist, and x is then the default.
func (v value[T]) result(op string, cmd interface{ Result() (string, error) }) (x T, ok bool, err error) {
	s, err := cmd.Result()
	switch {
	case err == redis.Nil:
		return v.dflt(), false, nil
	case err != nil:
		return x, false, v.fail(op, err)
	case v.p.kind == kindSecret:
		x, err = v.open(op, s)
	default:
		x, err = v.codec().decode(v.name, s)
		if err != nil {
			err = opError(op, v.name, err)
		}
	}
	return x, err == nil, err
}

// Get returns the stored value, or the declared default when the key does
// not exist. A missing key without a `default` tag returns [ErrNotFound]
// (a [Counter] or [FloatCounter] reads a missing key as 0).
// A value that does not decode into T returns a *[DecodeError] (matching
// [ErrDecode]) that keeps the raw bytes; for a Secret, a value that does
// not open returns [ErrDecrypt]. With a sliding TTL, Get renews the TTL in
// the same command (GETEX).
func (v value[T]) Get(ctx context.Context) (T, error) {
	x, ok, err := v.Lookup(ctx)
	if err == nil && !ok && !v.p.hasDef {
		err = opError("GET", v.name, ErrNotFound)
	}
	return x, err
}

// Lookup is like Get but tells a missing key from a stored one: ok is
// false when the key does not exist (x is then the default or zero value).
func (v value[T]) Lookup(ctx context.Context) (x T, ok bool, err error) {
	if err := v.usable(); err != nil {
		return x, false, err
	}
	start := v.p.c.clock()
	cmd := v.getCmd(ctx)
	x, ok, err = v.result("GET", cmd)
	v.logGet(ctx, start, err)
	return x, ok, v.typeFound(ctx, err)
}

// getCmd sends the read of a direct call: GET, or GETEX for a sliding
// TTL. Its frame and Lookup's are small, as Set's are (see Set).
func (h *keyHandle) getCmd(ctx context.Context) *redis.StringCmd {
	cmd := directGet(ctx, h.name, h.p.ttl.renewal())
	_ = h.p.c.rdb.Process(ctx, cmd) // cmd carries the error
	return cmd
}

// directGet builds the GET (GETEX for exp > 0) of a direct call in a room
// of its own. Its frame holds the argSpace and is gone when the command
// is sent, as directSet's is.
//
//go:noinline
func directGet(ctx context.Context, key string, exp time.Duration) *redis.StringCmd {
	var s argSpace
	if exp > 0 {
		s.forSet()
	} else {
		s.forGet()
	}
	return s.getCmd(ctx, key, exp)
}

// directSet builds the SET of a direct call, x encoded with the
// expiration exp, in a room of its own. Its frame holds the argSpace and
// is gone when Set sends the command: the chain of frames down to
// go-redis then stays about as deep as raw go-redis's.
//
//go:noinline
func directSet[T any](ctx context.Context, h *keyHandle, x T, exp time.Duration) (*redis.StatusCmd, error) {
	var s argSpace
	s.forSet()
	val, err := encodeArg(h, &s, x)
	if err != nil {
		return nil, err
	}
	return s.setCmd(ctx, h.name, val, exp), nil
}

// logGet logs the read getCmd sent.
func (h *keyHandle) logGet(ctx context.Context, start time.Time, err error) {
	if t := &h.p.ttl; t.sliding && t.d > 0 {
		h.p.c.logged(ctx, "GETEX", h.name, t.d, start, err)
	} else {
		h.p.c.logged(ctx, "GET", h.name, 0, start, err)
	}
}

// Raw returns the stored bytes without decoding them (for a Secret, the
// sealed value: format version, key ID, nonce, ciphertext and tag), or
// [ErrNotFound].
func (v value[T]) Raw(ctx context.Context) ([]byte, error) {
	if err := v.Err(); err != nil {
		return nil, err
	}
	b, err := do(ctx, &v.keyHandle, "GET", 0, func(c redis.Cmdable) *redis.StringCmd { return c.Get(ctx, v.name) }).Bytes()
	return b, v.fail("GET", err)
}

// Set stores x, applying the effective TTL in the same command (SET ...
// EX/PX) or, without one, storing the key without expiry. Options:
// [KeepTTL], [WithTTL].
func (v value[T]) Set(ctx context.Context, x T, opts ...SetOption) error {
	if err := v.usable(); err != nil {
		return err
	}
	exp := v.p.ttl.expiration(opts)
	cmd, err := directSet(ctx, &v.keyHandle, x, exp)
	if err != nil {
		return v.notSent("SET", err)
	}
	if v.p.indexed || v.p.c.log != nil {
		v.sendSet(ctx, cmd, exp)
	} else {
		// The common case calls go-redis itself: the chain of stack frames
		// down to go-redis is then about as deep as raw go-redis's, and a
		// fresh goroutine's first Set runs in its first stack, as raw's does.
		_ = v.p.c.rdb.Process(ctx, cmd) // cmd carries the error
	}
	if err := cmd.Err(); err != nil {
		return v.fail("SET", err)
	}
	return nil
}

// ttl returns the expiration argument of a write with opts.
func (h *keyHandle) ttl(opts []SetOption) time.Duration {
	if h.p == nil {
		return 0
	}
	return h.p.ttl.expiration(opts)
}

// setCmd queues or sends SET of an encoded value with the expiration
// exp (ttlSpec.expiration), built in s (nil: room of its own), after the
// index update of an indexed key.
func (h *keyHandle) setCmd(ctx context.Context, c cmdSender, s *argSpace, val any, exp time.Duration) *redis.StatusCmd {
	var own argSpace
	if s == nil {
		own.forSet()
		s = &own
	}
	cmd := s.setCmd(ctx, h.name, val, exp)
	h.send(ctx, c, cmd)
	return cmd
}

// send queues or sends cmd, a write of h, on c after the index update of
// an indexed key.
func (h *keyHandle) send(ctx context.Context, c cmdSender, cmd redis.Cmder) {
	h.queueIndex(ctx, c)
	_ = c.Process(ctx, cmd) // cmd carries the error
}

// sendSet sends the SET cmd of a direct call, with its index update for
// an indexed key, and logs it.
func (h *keyHandle) sendSet(ctx context.Context, cmd *redis.StatusCmd, exp time.Duration) {
	start := h.p.c.clock()
	if h.p.indexed {
		sendIndexed(ctx, h, h.p.c.rdb, func(pp redis.Pipeliner) *redis.StatusCmd {
			h.send(ctx, pp, cmd)
			return cmd
		})
	} else {
		h.send(ctx, h.p.c.rdb, cmd) // no index to queue
	}
	h.p.c.logged(ctx, "SET", h.name, exp, start, cmd.Err())
}

// SetNX stores x only if the key does not exist (SET ... NX, with the
// TTL). It reports whether the value was stored.
func (v value[T]) SetNX(ctx context.Context, x T, opts ...SetOption) (bool, error) {
	if err := v.Err(); err != nil {
		return false, err
	}
	val, err := v.encode(x)
	if err != nil {
		return false, opError("SET NX", v.name, err)
	}
	exp := v.p.ttl.expiration(opts)
	ok, err := doWrite(ctx, &v.keyHandle, "SET NX", exp, func(c redis.Cmdable) *redis.BoolCmd {
		return c.SetNX(ctx, v.name, val, exp)
	}).Result()
	return ok, v.fail("SET NX", err)
}

// GetSet stores x and returns the previous value in one command (SET ...
// GET, with the TTL). existed is false when there was no previous value
// (old is then the default or zero value).
func (v value[T]) GetSet(ctx context.Context, x T, opts ...SetOption) (old T, existed bool, err error) {
	if err := v.Err(); err != nil {
		return old, false, err
	}
	val, err := v.encode(x)
	if err != nil {
		return old, false, opError("SET GET", v.name, err)
	}
	args := redis.SetArgs{Get: true}
	if exp := v.p.ttl.expiration(opts); exp == redis.KeepTTL {
		args.KeepTTL = true
	} else {
		args.TTL = exp
	}
	cmd := doWrite(ctx, &v.keyHandle, "SET GET", args.TTL, func(c redis.Cmdable) *redis.StatusCmd {
		return c.SetArgs(ctx, v.name, val, args)
	})
	old, existed, err = v.result("SET GET", cmd)
	return old, existed, v.typeFound(ctx, err)
}

// GetDel returns the value and deletes the key in one command (GETDEL).
// existed is false when the key did not exist.
func (v value[T]) GetDel(ctx context.Context) (x T, existed bool, err error) {
	if err := v.Err(); err != nil {
		return x, false, err
	}
	cmd := do(ctx, &v.keyHandle, "GETDEL", 0, func(c redis.Cmdable) *redis.StringCmd { return c.GetDel(ctx, v.name) })
	x, existed, err = v.result("GETDEL", cmd)
	return x, existed, v.typeFound(ctx, err)
}

// Update is a typed optimistic read-modify-write: it WATCHes the key,
// reads it, calls fn with the current value (the default or zero value
// when missing, with exists false), and writes fn's result with the
// effective TTL in a MULTI/EXEC that fails if another client changed the
// key in the meantime. It then retries after a short random backoff, up
// to [Options.UpdateRetries] attempts, and finally returns [ErrConflict].
// An error from fn aborts without writing and is returned as is. fn may
// run several times and must not have side effects. Update returns the
// value written.
func (v value[T]) Update(ctx context.Context, fn func(cur T, exists bool) (T, error)) (T, error) {
	var zero, out T
	if err := v.Err(); err != nil {
		return zero, err
	}
	err := v.p.c.watch(ctx, "UPDATE", v.name, func(tx *redis.Tx) error {
		start := v.p.c.clock()
		cur, exists, err := v.result("GET", tx.Get(ctx, v.name))
		v.p.c.logged(ctx, "GET", v.name, 0, start, err)
		if err != nil {
			return err
		}
		next, err := fn(cur, exists)
		if err != nil {
			return err
		}
		val, err := v.encode(next)
		if err != nil {
			return opError("SET", v.name, err)
		}
		start = v.p.c.clock()
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			v.setCmd(ctx, v.txPipe(p), nil, val, v.p.ttl.d)
			return nil
		})
		v.p.c.logged(ctx, "MULTI/EXEC SET", v.name, v.p.ttl.d, start, err)
		if errors.Is(err, redis.TxFailedErr) {
			return err // retry
		}
		out = next
		if err == nil {
			err = v.indexAfter(ctx)
		}
		return v.fail("MULTI/EXEC", err)
	}, v.name)
	if err != nil {
		return zero, err
	}
	return out, nil
}
