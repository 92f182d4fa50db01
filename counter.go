package nest

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Counter is an int64 counter kept in a Redis string, declared in a
// namespace:
//
//	Logins nest.Counter `nest:"logins" ttl:"24h"`
//	Hits   nest.Counter `nest:"hits" ttl:"1m,fixed"` // a rate-limit window
//
// Incr, IncrBy, Decr and DecrBy are Redis's INCR family: atomic on the
// server, a missing counter counts from 0. Get reads a missing counter as
// 0 too, so a counter needs no `default` tag; one may say "0", and any
// other default is refused by [New], as increments would not start from
// it. Lookup tells a missing counter from a stored 0. A counter takes no
// `codec` tag: Redis keeps it as decimal text, which INCRBY reads.
//
// # TTL
//
// Every write applies the key's effective TTL in the same atomic step (a
// Lua script running the command and PEXPIRE; one round trip), so a
// counter never exists without its declared expiry, even when the client
// dies between commands. By default each write refreshes the TTL: the key
// expires a TTL after its last write. With `ttl:"...,fixed"` the TTL
// counts from the key's creation and no write extends it (PEXPIRE NX):
// a fixed window, such as a rate limit that allows N hits a minute. Once
// the window expires the key is gone, and the next write starts a new
// window. [SetOption]s given to Set or GetSet ([KeepTTL], [WithTTL]) apply
// as they do for [Key], in either mode. With `ttl:"1h,sliding"` reads renew
// the TTL too.
//
// # Errors
//
// An increment past the int64 range fails with [ErrOverflow]; a key
// holding a string that is not an integer fails with [ErrDecode] (Get
// returns a *[DecodeError] with the raw bytes; an increment, which Redis
// refuses without showing the value, returns ErrDecode alone); a key of
// another Redis type with a *[WrongTypeError]. Nothing is changed in any
// of these cases.
//
// A Counter is an immutable handle, safe to copy and to share between
// goroutines. Its operations can be queued on a [Pipe] through [Counter.In].
type Counter struct {
	_ [0]counterMark
	counter[int64]
}

// FloatCounter is a float64 counter kept in a Redis string, incremented
// with INCRBYFLOAT:
//
//	Balance nest.FloatCounter `nest:"balance" ttl:"720h"`
//
// It behaves as [Counter] (TTL modes, defaults, errors, pipelines) with
// float64 values. NaN and ±Inf cannot be stored or added: Set and
// IncrByFloat refuse them with [ErrEncode] before sending anything, and an
// increment whose result would overflow fails with [ErrOverflow]. Redis
// computes in long double and stores at most 17 significant digits, so
// long sums accumulate the usual rounding.
type FloatCounter struct {
	_ [0]floatCounterMark
	counter[float64]
}

// counterNumber is the value type of a counter.
type counterNumber interface{ int64 | float64 }

// counter holds the operations [Counter] and [FloatCounter] share: the
// string-key reads and writes of value, with the writes that would move a
// fixed TTL overridden to go through the write script.
type counter[N counterNumber] struct{ value[N] }

func (Counter) compileKey(kp *keyPlan, explicit Codec) error {
	return compileCounter[int64](kp, explicit)
}

func (FloatCounter) compileKey(kp *keyPlan, explicit Codec) error {
	return compileCounter[float64](kp, explicit)
}

func (Counter) isParamKey() bool      { return false }
func (FloatCounter) isParamKey() bool { return false }

func (Counter) fieldKind() keyKind      { return kindCounter }
func (FloatCounter) fieldKind() keyKind { return kindCounter }

// compileCounter compiles a counter: the native codec of N, no codec tag,
// and a default of 0 (written or implied), the value increments start
// from.
func compileCounter[N counterNumber](kp *keyPlan, explicit Codec) error {
	kp.kind = kindCounter
	if explicit != nil {
		return errors.New("a counter takes no codec tag: Redis keeps it as decimal text, which INCRBY and INCRBYFLOAT read")
	}
	written, hasDef := kp.def, kp.hasDef
	if !hasDef {
		kp.def, kp.hasDef = "0", true
	}
	if err := compileKeyCodec[N](kp, nil); err != nil {
		return err
	}
	vc := kp.codec.(*valueCodec[N])
	if d, _ := vc.parseDefault(kp.def); hasDef && d != 0 {
		return fmt.Errorf("default %q: a counter's default can only be 0, where Redis's increments start (Get already reads a missing counter as 0)", written)
	}
	if fc, ok := kp.codec.(*valueCodec[float64]); ok {
		enc := fc.enc
		fc.enc = func(f float64) (any, error) {
			if err := finiteFloat("value", f); err != nil {
				return nil, err
			}
			return enc(f)
		}
	}
	return nil
}

// finiteFloat refuses NaN and ±Inf, which Redis cannot count with.
func finiteFloat(what string, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("%s %v is not a finite number, which a float counter needs", what, f)
	}
	return nil
}

// keepsFixedTTL reports whether a write with opts must leave an existing TTL
// alone: a fixed TTL applied as declared, which one SET cannot do.
func (h *keyHandle) keepsFixedTTL(opts []SetOption) bool {
	return h.p != nil && h.p.ttl.fixed && h.p.ttl.d > 0 && len(opts) == 0
}

// keepTTLSet builds SET key val KEEPTTL [GET] for the write script, whose
// PEXPIRE NX then gives the TTL to a key that had none.
func (h *keyHandle) keepTTLSet(val any, get bool) wcmd {
	w := h.newWrite("SET", 3)
	w.flag(val, "KEEPTTL")
	if get {
		w.flag("GET")
	}
	return w
}

// Set stores n, applying the effective TTL atomically: in the same SET,
// or, for a fixed TTL, only when the key had none (SET ... KEEPTTL and
// PEXPIRE NX in one script), so Set never extends a fixed window. Options:
// [KeepTTL], [WithTTL].
func (c counter[N]) Set(ctx context.Context, n N, opts ...SetOption) error {
	if !c.keepsFixedTTL(opts) {
		return c.value.Set(ctx, n, opts...)
	}
	if err := c.Err(); err != nil {
		return err
	}
	val, err := c.encode(n)
	if err != nil {
		return opError("SET", c.name, err)
	}
	_, err = c.write(ctx, "SET", c.keepTTLSet(val, false))
	return err
}

// GetSet stores n and returns the previous value in one atomic step (SET
// ... GET), applying the TTL as Set does. existed is false when there was
// no previous value (old is then 0).
func (c counter[N]) GetSet(ctx context.Context, n N, opts ...SetOption) (old N, existed bool, err error) {
	if !c.keepsFixedTTL(opts) {
		return c.value.GetSet(ctx, n, opts...)
	}
	if err := c.Err(); err != nil {
		return old, false, err
	}
	val, err := c.encode(n)
	if err != nil {
		return old, false, opError("SET GET", c.name, err)
	}
	cl := c.p.c
	start := cl.clock()
	cmd := c.writeCmd(ctx, cl.rdb, c.keepTTLSet(val, true), false)
	cl.logged(ctx, "SET GET", c.name, c.p.ttl.d, start, cmd.Err())
	old, existed, err = c.result("SET GET", counterText{cmd})
	return old, existed, c.typeFound(ctx, err)
}

// counterText reads a script's bulk-string reply as value.result wants.
type counterText struct{ *redis.Cmd }

func (r counterText) Result() (string, error) { return r.Text() }

// Update is an optimistic read-modify-write, as [Key.Update]; its write
// applies the TTL as Set does, so it never extends a fixed window. For
// plain arithmetic prefer the increments, which need no retries.
func (c counter[N]) Update(ctx context.Context, fn func(cur N, exists bool) (N, error)) (N, error) {
	if !c.keepsFixedTTL(nil) {
		return c.value.Update(ctx, fn)
	}
	var out N
	err := c.p.c.watch(ctx, "UPDATE", c.name, func(tx *redis.Tx) error {
		cur, exists, err := c.result("GET", tx.Get(ctx, c.name))
		if err != nil {
			return c.typeFound(ctx, err)
		}
		next, err := fn(cur, exists)
		if err != nil {
			return err
		}
		val, err := c.encode(next)
		if err != nil {
			return opError("SET", c.name, err)
		}
		start := c.p.c.clock()
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			c.writeCmd(ctx, c.txPipe(ctx, p), c.keepTTLSet(val, false), true)
			return nil
		})
		c.p.c.logged(ctx, "MULTI/EXEC SET", c.name, c.p.ttl.d, start, err)
		if errors.Is(err, redis.TxFailedErr) {
			return err // retry
		}
		out = next
		return c.fail("MULTI/EXEC", err)
	}, c.name)
	if err != nil {
		var zero N
		return zero, err
	}
	return out, nil
}

// Increments.

// Incr adds 1 (INCR) and returns the new value.
func (c Counter) Incr(ctx context.Context) (int64, error) { return c.incr(ctx, "INCR", 1) }

// IncrBy adds delta, which may be negative (INCRBY), and returns the new
// value. A result past the int64 range fails with [ErrOverflow].
func (c Counter) IncrBy(ctx context.Context, delta int64) (int64, error) {
	return c.incr(ctx, "INCRBY", delta)
}

// Decr subtracts 1 (DECR) and returns the new value.
func (c Counter) Decr(ctx context.Context) (int64, error) { return c.incr(ctx, "DECR", 1) }

// DecrBy subtracts delta (DECRBY) and returns the new value. A result
// past the int64 range fails with [ErrOverflow].
func (c Counter) DecrBy(ctx context.Context, delta int64) (int64, error) {
	return c.incr(ctx, "DECRBY", delta)
}

func (c Counter) incr(ctx context.Context, op string, delta int64) (int64, error) {
	if err := c.Err(); err != nil {
		return 0, err
	}
	cmd, err := c.sendCount(ctx, op, delta)
	if err != nil {
		return 0, err
	}
	return readCounterInt(&c.keyHandle, op, cmd)
}

// IncrByFloat adds delta, which may be negative (INCRBYFLOAT), and returns
// the new value. NaN and ±Inf are refused with [ErrEncode] before anything
// is sent; a result Redis cannot represent fails with [ErrOverflow].
func (c FloatCounter) IncrByFloat(ctx context.Context, delta float64) (float64, error) {
	if err := c.Err(); err != nil {
		return 0, err
	}
	if err := finiteIncrement(delta); err != nil {
		return 0, opError("INCRBYFLOAT", c.name, err)
	}
	cmd, err := c.sendCount(ctx, "INCRBYFLOAT", delta)
	if err != nil {
		return 0, err
	}
	return readCounterFloat(&c.keyHandle, "INCRBYFLOAT", cmd)
}

func finiteIncrement(delta float64) error {
	if err := finiteFloat("increment", delta); err != nil {
		return fmt.Errorf("%w: %w", ErrEncode, err)
	}
	return nil
}

//go:embed lua/counter.lua
var counterLua string

// counterScript increments a counter and applies its TTL atomically; see
// lua/counter.lua. Increments use it rather than the general write
// script, which costs the server about twice as much per call.
var counterScript = redis.NewScript(counterLua)

// countCmd returns the Redis command of an increment operation: INCR and
// DECR are sent as INCRBY and DECRBY 1.
func countCmd(op string) string {
	switch op {
	case "INCR":
		return "INCRBY"
	case "DECR":
		return "DECRBY"
	}
	return op
}

// countArgs queues or sends an increment (op as countCmd maps it) with
// the key's TTL: through counterScript when there is one (EVAL text when
// queued, as a NOSCRIPT reply cannot be retried in a pipeline), else as
// the plain command.
func (h *keyHandle) countArgs(ctx context.Context, c doer, op string, delta any, queued bool) *redis.Cmd {
	if !queued && h.p.indexed {
		return sendIndexed(ctx, h, h.p.c.rdb, func(pp redis.Pipeliner) *redis.Cmd { return h.countArgs(ctx, pp, op, delta, true) })
	}
	if queued {
		h.queueIndex(ctx, c)
	}
	t := h.p.ttl
	if t.d <= 0 {
		return c.Do(ctx, countCmd(op), h.name, delta)
	}
	mode := "r"
	if t.fixed {
		mode = "f"
	}
	keys := []string{h.name}
	if queued {
		return counterScript.Eval(ctx, c, keys, countCmd(op), delta, t.d.Milliseconds(), mode)
	}
	return counterScript.Run(ctx, c, keys, countCmd(op), delta, t.d.Milliseconds(), mode)
}

// sendCount sends an increment directly, logging it, and translates
// Redis's refusals.
func (h *keyHandle) sendCount(ctx context.Context, op string, delta any) (*redis.Cmd, error) {
	if err := ctx.Err(); err != nil {
		return nil, opError(op, h.name, err)
	}
	c := h.p.c
	start := c.clock()
	cmd := h.countArgs(ctx, c.rdb, op, delta, false)
	c.logged(ctx, op, h.name, h.p.ttl.d, start, cmd.Err())
	if err := cmd.Err(); err != nil {
		return nil, h.check(ctx, op, countCause(op, err))
	}
	return cmd, nil
}

// countCause translates Redis's refusal of an increment: an overflow, or
// a stored value that is not a number.
func countCause(op string, err error) error {
	if !isReplyError(err) {
		return err
	}
	typ := "int64"
	if op == "INCRBYFLOAT" {
		typ = "float64"
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "overflow") || strings.Contains(msg, "NaN or Infinity"):
		return fmt.Errorf("%w: the result would leave the %s range; the counter is unchanged", ErrOverflow, typ)
	case strings.Contains(msg, "not an integer") || strings.Contains(msg, "not a valid float"):
		return fmt.Errorf("%w: the stored value is not %s text that Redis can count with; the counter is unchanged", ErrDecode, typ)
	}
	return err
}

// Pipelines.

// QueuedCounter is a [Counter] seen through a [Pipe]; get it from
// [Counter.In]. Get and SetNX behave as for [Key] (a missing counter
// reads as 0); Set and the increments apply the TTL as their direct
// forms do.
type QueuedCounter struct{ queuedCounter[int64] }

// QueuedFloatCounter is a [FloatCounter] seen through a [Pipe]; get it
// from [FloatCounter.In].
type QueuedFloatCounter struct{ queuedCounter[float64] }

type queuedCounter[N counterNumber] struct{ Queued[N] }

// In returns the counter's operations queued on p.
func (c Counter) In(p *Pipe) QueuedCounter {
	return QueuedCounter{queuedCounter[int64]{Queued[int64]{queued{c.keyHandle, p}}}}
}

// In returns the counter's operations queued on p.
func (c FloatCounter) In(p *Pipe) QueuedFloatCounter {
	return QueuedFloatCounter{queuedCounter[float64]{Queued[float64]{queued{c.keyHandle, p}}}}
}

var (
	opINCR        = newOpName("INCR")
	opINCRBY      = newOpName("INCRBY")
	opDECR        = newOpName("DECR")
	opDECRBY      = newOpName("DECRBY")
	opINCRBYFLOAT = newOpName("INCRBYFLOAT")
)

// Set queues Set: with a fixed TTL, SET ... KEEPTTL and PEXPIRE NX in one
// script, else SET with the TTL.
func (q queuedCounter[N]) Set(ctx context.Context, n N, opts ...SetOption) *Future[struct{}] {
	if !q.h.keepsFixedTTL(opts) {
		return q.Queued.Set(ctx, n, opts...)
	}
	return queueWrite(ctx, q.queued, opNameSET, func() (wcmd, error) {
		val, err := value[N]{q.h}.encode(n)
		if err != nil {
			return wcmd{}, err
		}
		return q.h.keepTTLSet(val, false), nil
	}, readCounterStatus)
}

// Incr queues [Counter.Incr].
func (q QueuedCounter) Incr(ctx context.Context) *Future[int64] { return q.incr(ctx, opINCR, 1) }

// IncrBy queues [Counter.IncrBy].
func (q QueuedCounter) IncrBy(ctx context.Context, delta int64) *Future[int64] {
	return q.incr(ctx, opINCRBY, delta)
}

// Decr queues [Counter.Decr].
func (q QueuedCounter) Decr(ctx context.Context) *Future[int64] { return q.incr(ctx, opDECR, 1) }

// DecrBy queues [Counter.DecrBy].
func (q QueuedCounter) DecrBy(ctx context.Context, delta int64) *Future[int64] {
	return q.incr(ctx, opDECRBY, delta)
}

func (q QueuedCounter) incr(ctx context.Context, op opName, delta int64) *Future[int64] {
	return enqueueRead(q.p, &q.h, op, q.h.counterTTL(), readCounterInt, func() (redis.Cmder, error) {
		return q.h.countArgs(ctx, q.p.pp, op.String(), delta, true), nil
	})
}

// IncrByFloat queues [FloatCounter.IncrByFloat]; NaN or ±Inf fails the
// Pipe when queued.
func (q QueuedFloatCounter) IncrByFloat(ctx context.Context, delta float64) *Future[float64] {
	return enqueueRead(q.p, &q.h, opINCRBYFLOAT, q.h.counterTTL(), readCounterFloat, func() (redis.Cmder, error) {
		if err := finiteIncrement(delta); err != nil {
			return nil, err
		}
		return q.h.countArgs(ctx, q.p.pp, "INCRBYFLOAT", delta, true), nil
	})
}

// counterTTL is the TTL a counter's write applies, for the log.
func (h *keyHandle) counterTTL() time.Duration {
	if h.p == nil {
		return 0
	}
	return h.p.ttl.d
}

func readCounterInt(h *keyHandle, op string, cmd redis.Cmder) (int64, error) {
	n, err := cmd.(*redis.Cmd).Int64()
	if err != nil {
		return 0, h.fail(op, countCause(op, err))
	}
	return n, nil
}

func readCounterFloat(h *keyHandle, op string, cmd redis.Cmder) (float64, error) {
	f, err := cmd.(*redis.Cmd).Float64()
	if errors.Is(err, strconv.ErrRange) {
		// Redis adds in long double: it stored a result float64 cannot hold.
		return 0, opError(op, h.name, fmt.Errorf("%w: the result is beyond the float64 range; Redis, which adds in long double, stored it, and reads of it fail until it is Set again", ErrOverflow))
	}
	if err != nil {
		return 0, h.fail(op, countCause(op, err))
	}
	return f, nil
}

func readCounterStatus(h *keyHandle, op string, cmd redis.Cmder) (struct{}, error) {
	return struct{}{}, h.fail(op, cmd.Err())
}
