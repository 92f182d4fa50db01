package nest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// keyHandle is the state of every key handle — the compiled declaration,
// the namespace instance and the full name — and the commands that never
// touch the value: naming, existence, deletion, expiry and introspection.
// [Key], [Secret] and [Password] embed it (through value for the first
// two), as net.TCPConn embeds conn, so each command is written once and
// godoc lists it on every key kind. err is the namespace's error or the
// key's own parameter error.
//
// The namespace instance is not held but found in name: its prefix is
// name[:cut] and its own segment starts at own (see inst). A ParamKey's
// handle, before At, holds the prefix alone as its name. cut is 0 when
// the namespace is unusable: err is then its error. A handle thus takes
// 48 bytes, which matters to code that keeps many of them.
type keyHandle struct {
	p        *keyPlan
	name     string
	err      error
	cut, own int32
}

// inst returns the namespace instance of h: its prefix is "" and its
// error err when it is unusable.
func (h *keyHandle) inst() nsInst {
	if h.cut == 0 {
		return nsInst{plan: h.p.ns, err: h.err}
	}
	return nsInst{plan: h.p.ns, prefix: h.name[:h.cut], own: int(h.own)}
}

// prefix returns the prefix of h's namespace instance, or "" when it is
// unusable.
func (h *keyHandle) prefix() string { return h.name[:h.cut] }

// Name returns the full Redis key name, e.g. "root:user:42:age", or ""
// when the handle is unusable (see Err).
func (h keyHandle) Name() string {
	if h.err != nil {
		return ""
	}
	return h.name
}

// String returns the full key name, so that keys print usefully. A handle
// never holds a value, so printing a Secret or Password shows no secret.
func (h keyHandle) String() string { return h.Name() }

// Err reports why the handle cannot be used (a parameter error, or
// [ErrNotBound]); every operation then returns it without contacting Redis.
func (h keyHandle) Err() error { return h.usable() }

// usable is Err without copying h: what a hot path calls.
func (h *keyHandle) usable() error {
	if h.p == nil {
		return ErrNotBound
	}
	return h.err
}

// EffectiveTTL returns the TTL that writes apply: the key's own `ttl` tag,
// else the nearest enclosing namespace's. ok is false when none applies
// (writes then store the key without expiry). It needs no Redis round
// trip; TTL tells the remaining time of a stored key.
func (h keyHandle) EffectiveTTL() (ttl time.Duration, ok bool) {
	if h.p == nil {
		return 0, false
	}
	return h.p.ttl.d, h.p.ttl.d > 0
}

// Describe describes the key; its Kind tells a "secret" or "password" key
// from a plain one.
func (h keyHandle) Describe() KeyDescription { return describeKey(&h) }

// fail wraps a go-redis error with the command and key; redis.Nil becomes
// ErrNotFound and a WRONGTYPE reply a *WrongTypeError.
func (h *keyHandle) fail(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.Nil):
		err = ErrNotFound
	case errors.As(err, new(*indexError)):
		// the index key's own failure (WRONGTYPE included), named as is
	case isWrongType(err):
		kind := h.p.kind.String()
		if kind == "" {
			kind = "key"
		}
		err = &WrongTypeError{Kind: kind, Declared: h.p.kind.redisType()}
	}
	return opError(op, h.name, err)
}

// notSent is opError for a command not sent (a value that does not
// encode): a function of its own, so that the hot paths that call it keep
// small stack frames.
//
//go:noinline
func (h *keyHandle) notSent(op string, err error) error { return opError(op, h.name, err) }

// check is fail for a direct call: a wrong type is completed with the
// type the key holds (one TYPE round trip, on that error only).
func (h *keyHandle) check(ctx context.Context, op string, err error) error {
	return h.typeFound(ctx, h.fail(op, err))
}

// typeFound completes a *WrongTypeError inside err (already failed) with
// the type the key holds: one TYPE round trip, on that error only.
func (h *keyHandle) typeFound(ctx context.Context, err error) error {
	if err == nil {
		return nil // before errors.As, whose target escapes: an allocation per call
	}
	var wt *WrongTypeError
	if errors.As(err, &wt) {
		if found, terr := h.p.c.rdb.Type(ctx, h.name).Result(); terr == nil && found != "none" {
			wt.Found = found
		}
	}
	return err
}

// isWrongType reports Redis's WRONGTYPE reply, sent directly or raised by
// a script.
func isWrongType(err error) bool {
	return isReplyError(err) && strings.Contains(err.Error(), "WRONGTYPE")
}

// do sends one command through the schema's client and logs it after it
// ran, with the TTL it applied.
func do[C redis.Cmder](ctx context.Context, h *keyHandle, op string, ttl time.Duration, send func(redis.Cmdable) C) C {
	return doOn(ctx, h.p.c.rdb, h, op, ttl, send)
}

// doOn is do through another connection, such as the WATCHed one of a
// transaction.
func doOn[C redis.Cmder](ctx context.Context, conn redis.Cmdable, h *keyHandle, op string, ttl time.Duration, send func(redis.Cmdable) C) C {
	c := h.p.c
	start := c.clock()
	cmd := send(conn)
	c.logged(ctx, op, h.name, ttl, start, cmd.Err())
	return cmd
}

// intCmd runs a command answering 1 or 0 (EXISTS, DEL, ...) as a bool.
func (h keyHandle) intCmd(ctx context.Context, op string, send func(redis.Cmdable) *redis.IntCmd) (bool, error) {
	if err := h.Err(); err != nil {
		return false, err
	}
	n, err := do(ctx, &h, op, 0, send).Result()
	return n == 1, h.fail(op, err)
}

// Exists reports whether the key exists.
func (h keyHandle) Exists(ctx context.Context) (bool, error) {
	return h.intCmd(ctx, "EXISTS", func(c redis.Cmdable) *redis.IntCmd { return c.Exists(ctx, h.name) })
}

// Delete deletes the key (DEL) and reports whether it existed.
func (h keyHandle) Delete(ctx context.Context) (bool, error) {
	return h.intCmd(ctx, "DEL", func(c redis.Cmdable) *redis.IntCmd { return c.Del(ctx, h.name) })
}

// Unlink deletes the key, reclaiming its memory in the background
// (UNLINK), and reports whether it existed.
func (h keyHandle) Unlink(ctx context.Context) (bool, error) {
	return h.intCmd(ctx, "UNLINK", func(c redis.Cmdable) *redis.IntCmd { return c.Unlink(ctx, h.name) })
}

// Touch updates the key's last access time and reports whether it exists.
func (h keyHandle) Touch(ctx context.Context) (bool, error) {
	return h.intCmd(ctx, "TOUCH", func(c redis.Cmdable) *redis.IntCmd { return c.Touch(ctx, h.name) })
}

// Expire sets the key's time to live to d and reports whether the key
// exists. A whole number of seconds is sent as EXPIRE, anything finer as
// PEXPIRE (with Redis's millisecond precision). A d under a millisecond,
// zero or negative is refused with [ErrInvalidTTL] without contacting
// Redis, where it would delete the key: use Delete to delete a key and
// Persist to remove its TTL.
func (h keyHandle) Expire(ctx context.Context, d time.Duration) (bool, error) {
	op := expireOp(d)
	if err := checkExpire(d); err != nil && h.Err() == nil {
		return false, h.fail(op, err)
	}
	return h.boolCmd(ctx, op, func(c redis.Cmdable) *redis.BoolCmd {
		if op == "PEXPIRE" {
			return c.PExpire(ctx, h.name, d)
		}
		return c.Expire(ctx, h.name, d)
	})
}

// checkExpire refuses a relative TTL that Redis would take as "delete now".
func checkExpire(d time.Duration) error {
	if d < time.Millisecond {
		return fmt.Errorf("%w: %v is below Redis's 1ms resolution; use Delete to delete a key, Persist to remove its TTL", ErrInvalidTTL, d)
	}
	return nil
}

// expireOp chooses EXPIRE for whole seconds and PEXPIRE otherwise.
func expireOp(d time.Duration) string {
	if d%time.Second != 0 {
		return "PEXPIRE"
	}
	return "EXPIRE"
}

// ExpireAt makes the key expire at t and reports whether the key exists.
// A time on a whole second is sent as EXPIREAT, anything finer as
// PEXPIREAT. A time in the past deletes the key, as in Redis; the zero
// Time (what ExpireTime returns for a key without expiry) is refused with
// [ErrInvalidTTL], so that passing it back never deletes a key.
func (h keyHandle) ExpireAt(ctx context.Context, t time.Time) (bool, error) {
	if t.IsZero() && h.Err() == nil {
		return false, h.fail("EXPIREAT", fmt.Errorf("%w: the zero time (use Persist to remove a TTL)", ErrInvalidTTL))
	}
	if t.Nanosecond() != 0 {
		return h.boolCmd(ctx, "PEXPIREAT", func(c redis.Cmdable) *redis.BoolCmd { return c.PExpireAt(ctx, h.name, t) })
	}
	return h.boolCmd(ctx, "EXPIREAT", func(c redis.Cmdable) *redis.BoolCmd { return c.ExpireAt(ctx, h.name, t) })
}

// Persist removes the key's TTL and reports whether one was removed.
func (h keyHandle) Persist(ctx context.Context) (bool, error) {
	return h.boolCmd(ctx, "PERSIST", func(c redis.Cmdable) *redis.BoolCmd { return c.Persist(ctx, h.name) })
}

func (h keyHandle) boolCmd(ctx context.Context, op string, send func(redis.Cmdable) *redis.BoolCmd) (bool, error) {
	if err := h.Err(); err != nil {
		return false, err
	}
	ok, err := do(ctx, &h, op, 0, send).Result()
	return ok, h.fail(op, err)
}

// TTL returns the key's remaining time to live with millisecond precision
// (PTTL), [NoExpiry] for a key without one, or [ErrNotFound].
func (h keyHandle) TTL(ctx context.Context) (time.Duration, error) {
	if err := h.Err(); err != nil {
		return 0, err
	}
	d, err := do(ctx, &h, "PTTL", 0, func(c redis.Cmdable) *redis.DurationCmd { return c.PTTL(ctx, h.name) }).Result()
	return h.ttlReply("PTTL", d, err)
}

// ExpireTime returns the absolute time at which the key expires, with
// millisecond precision (PEXPIRETIME, Redis 7.0); the zero Time for a key
// without expiry; or [ErrNotFound].
func (h keyHandle) ExpireTime(ctx context.Context) (time.Time, error) {
	if err := h.Err(); err != nil {
		return time.Time{}, err
	}
	d, err := do(ctx, &h, "PEXPIRETIME", 0, func(c redis.Cmdable) *redis.DurationCmd { return c.PExpireTime(ctx, h.name) }).Result()
	if d, err = h.ttlReply("PEXPIRETIME", d, err); err != nil || d == NoExpiry {
		return time.Time{}, err
	}
	return time.UnixMilli(d.Milliseconds()), nil
}

// ttlReply maps a TTL-style reply: -2 (missing) to ErrNotFound, -1 (no
// expiry) to NoExpiry.
func (h *keyHandle) ttlReply(op string, d time.Duration, err error) (time.Duration, error) {
	switch {
	case err != nil:
		return 0, h.fail(op, err)
	case d == -2:
		return 0, h.fail(op, ErrNotFound)
	case d == -1:
		return NoExpiry, nil
	}
	return d, nil
}

// Type returns the Redis type of the stored value ("string" for a key
// written by Set), or "none" when the key does not exist.
func (h keyHandle) Type(ctx context.Context) (string, error) {
	if err := h.Err(); err != nil {
		return "", err
	}
	s, err := do(ctx, &h, "TYPE", 0, func(c redis.Cmdable) *redis.StatusCmd { return c.Type(ctx, h.name) }).Result()
	return s, h.fail("TYPE", err)
}

// MemoryUsage returns the bytes the key and its value take in Redis
// (MEMORY USAGE), or [ErrNotFound].
func (h keyHandle) MemoryUsage(ctx context.Context) (int64, error) {
	if err := h.Err(); err != nil {
		return 0, err
	}
	n, err := do(ctx, &h, "MEMORY USAGE", 0, func(c redis.Cmdable) *redis.IntCmd { return c.MemoryUsage(ctx, h.name) }).Result()
	return n, h.fail("MEMORY USAGE", err)
}

// ObjectEncoding returns Redis's internal encoding of the value ("int",
// "embstr", "raw", ...), or [ErrNotFound].
func (h keyHandle) ObjectEncoding(ctx context.Context) (string, error) {
	if err := h.Err(); err != nil {
		return "", err
	}
	s, err := do(ctx, &h, "OBJECT ENCODING", 0, func(c redis.Cmdable) *redis.StringCmd { return c.ObjectEncoding(ctx, h.name) }).Result()
	return s, h.fail("OBJECT ENCODING", err)
}

// rename moves the value to dst and gives it dst's effective TTL (or
// none) in one script; with nx only when dst does not exist. It returns
// ErrNotFound when the key does not exist.
func (h keyHandle) rename(ctx context.Context, op string, dst keyHandle, nx bool) (bool, error) {
	if err := h.Err(); err != nil {
		return false, err
	}
	if err := dst.Err(); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, h.fail(op, err)
	}
	if err := h.sameClient(&dst); err != nil {
		return false, h.fail(op, err)
	}
	if err := h.p.c.sameSlot(h.name, dst.name); err != nil {
		return false, h.fail(op, err)
	}
	flag := "0"
	if nx {
		flag = "1"
	}
	ttl := dst.p.ttl.d
	n, err := do(ctx, &h, op, ttl, func(c redis.Cmdable) *redis.Cmd {
		if dst.p.indexed { // the destination's instance joins its index
			return sendIndexed(ctx, &dst, c, func(pp redis.Pipeliner) *redis.Cmd {
				dst.queueIndex(ctx, pp)
				return renameScript.Eval(ctx, pp, []string{h.name, dst.name}, flag, ttl.Milliseconds())
			})
		}
		return renameScript.Run(ctx, c, []string{h.name, dst.name}, flag, ttl.Milliseconds())
	}).Int()
	switch {
	case err != nil:
		return false, h.fail(op, err)
	case n < 0:
		return false, h.fail(op, ErrNotFound)
	}
	return n == 1, nil
}

// sameClient refuses a destination bound to another go-redis client than
// h: a multi-key command runs on h's client, so it would write dst's name
// in h's database, not dst's.
func (h *keyHandle) sameClient(dst *keyHandle) error {
	if dst.p.c.rdb != h.p.c.rdb {
		return fmt.Errorf("%w: %s belongs to a schema bound to another go-redis client", ErrConfig, dst.name)
	}
	return nil
}
