package nest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Hash is a Redis hash of string fields holding values of type V,
// declared in a namespace:
//
//	Prefs nest.Hash[string] `nest:"prefs" ttl:"24h"`
//	Stock nest.Hash[int]    `nest:"stock"`
//
// Values are encoded like [Key] values (see [Codec]): numbers as decimal
// text, so IncrBy works on them. Writes that can create the hash (Set,
// MSet, SetNX, IncrBy) apply the key's effective TTL atomically with the
// command (see [Counter] for the "fixed" mode); Remove cannot create the
// key and leaves its TTL alone. Reads of a key declared `ttl:"...,sliding"`
// renew the TTL in the same round trip.
//
// Field names are any non-empty string up to [Options.MaxValueSize]
// bytes; an empty field name, which Redis would accept, is refused with
// [ErrEmptyField] before anything is sent: it is nearly always an unset
// variable. Delete and Exists act on the whole key, as on every kind;
// Remove and Has act on fields.
//
// A Hash is an immutable handle, safe to copy and to share between
// goroutines.
type Hash[V any] struct {
	_ [0]hashMark[V]
	coll[V]
}

func (Hash[V]) compileKey(kp *keyPlan, explicit Codec) error {
	return compileCollection[V](kp, explicit, kindHash)
}

func (Hash[V]) isParamKey() bool   { return false }
func (Hash[V]) fieldKind() keyKind { return kindHash }

// ErrEmptyField reports an empty hash field name, refused before anything
// is sent (Redis accepts it, but it is nearly always a bug).
var ErrEmptyField = errors.New("nest: empty field name")

// HashEntry is one field of a [Hash] and its value, as [Hash.All] yields
// them.
type HashEntry[V any] struct {
	Field string
	Value V
}

// hashFieldError names the field an error is about, inside an *OpError
// naming the command and key: "nest: HGET k: field "f": not found".
type hashFieldError struct {
	field string
	err   error
}

func (e *hashFieldError) Error() string {
	return "field " + strconv.Quote(e.field) + ": " + strings.TrimPrefix(e.err.Error(), "nest: ")
}

func (e *hashFieldError) Unwrap() error { return e.err }

// hashElem names a field for a *DecodeError.
func hashElem(field string) string { return "field " + strconv.Quote(field) }

// hashCheckField refuses an empty field name, or one longer than the
// largest value the schema accepts, naming the key and the field.
func hashCheckField(h *keyHandle, op, field string, maxSize int) error {
	switch {
	case field == "":
		return opError(op, h.name, ErrEmptyField)
	case maxSize > 0 && len(field) > maxSize:
		return opError(op, h.name, &hashFieldError{field[:min(len(field), 32)] + "...", &sizeError{size: len(field), limit: maxSize}})
	}
	return nil
}

func (h Hash[V]) checkField(op, field string) error {
	return hashCheckField(&h.keyHandle, op, field, h.codec().maxSize)
}

func (h Hash[V]) checkFields(op string, fields []string) error {
	for _, f := range fields {
		if err := h.checkField(op, f); err != nil {
			return err
		}
	}
	return nil
}

// hashDecode decodes the value of field, naming the field only when it
// fails (building the name costs an allocation).
func hashDecode[V any](vc *valueCodec[V], op, key, field, s string) (V, error) {
	v, err := vc.dec(s)
	if err != nil {
		return decodeElem(vc, op, key, hashElem(field), s)
	}
	return v, nil
}

// hashNotFound is the error of Get for a missing field (or key).
func hashNotFound(op, key, field string) error {
	return opError(op, key, &hashFieldError{field, ErrNotFound})
}

var (
	opHGET         = newOpName("HGET")
	opHSET         = newOpName("HSET")
	opHSETNX       = newOpName("HSETNX")
	opHDEL         = newOpName("HDEL")
	opHEXISTS      = newOpName("HEXISTS")
	opHMGET        = newOpName("HMGET")
	opHGETALL      = newOpName("HGETALL")
	opHLEN         = newOpName("HLEN")
	opHKEYS        = newOpName("HKEYS")
	opHVALS        = newOpName("HVALS")
	opHINCRBY      = newOpName("HINCRBY")
	opHINCRBYFLOAT = newOpName("HINCRBYFLOAT")
)

// Get returns the value of field (HGET), or [ErrNotFound], naming the key
// and the field, when the field or the whole key does not exist. A stored
// value that does not decode is a *[DecodeError] naming the field.
func (h Hash[V]) Get(ctx context.Context, field string) (V, error) {
	v, ok, err := h.Lookup(ctx, field)
	if err == nil && !ok {
		err = hashNotFound("HGET", h.name, field)
	}
	return v, err
}

// Lookup is Get reporting a missing field as ok == false instead of
// [ErrNotFound].
func (h Hash[V]) Lookup(ctx context.Context, field string) (v V, ok bool, err error) {
	if err := h.Err(); err != nil {
		return v, false, err
	}
	if err := h.checkField("HGET", field); err != nil {
		return v, false, err
	}
	s, err := read(ctx, &h.keyHandle, "HGET", func(c redis.Cmdable) *redis.StringCmd {
		return c.HGet(ctx, h.name, field)
	}).Result()
	switch {
	case err == redis.Nil:
		return v, false, nil
	case err != nil:
		return v, false, h.check(ctx, "HGET", err)
	}
	v, err = hashDecode(h.codec(), "HGET", h.name, field, s)
	return v, err == nil, err
}

// Set sets field to v (HSET) and reports whether the field is new.
func (h Hash[V]) Set(ctx context.Context, field string, v V) (bool, error) {
	if err := h.Err(); err != nil {
		return false, err
	}
	w, err := h.set("HSET", field, v)
	if err != nil {
		return false, err
	}
	cmd, err := h.write(ctx, "HSET", w)
	if err != nil {
		return false, err
	}
	n, err := cmd.Int64()
	return n == 1, h.fail("HSET", err)
}

// set builds HSET or HSETNX of one field.
func (h Hash[V]) set(op, field string, v V) (wcmd, error) {
	if err := h.checkField(op, field); err != nil {
		return wcmd{}, err
	}
	val, err := h.enc(op, v)
	if err != nil {
		return wcmd{}, err
	}
	w := h.newWrite(op, 2)
	w.sum = true
	w.item(field)
	w.item(val)
	return w, nil
}

// MSet sets every field of values (HSET with several pairs) in one atomic
// step, and returns how many fields are new. Every field is checked and
// every value encoded before anything is sent, so a bad one writes
// nothing. An empty map writes nothing and sends nothing.
func (h Hash[V]) MSet(ctx context.Context, values map[string]V) (int64, error) {
	if err := h.Err(); err != nil {
		return 0, err
	}
	if len(values) == 0 {
		return 0, nil
	}
	w, err := h.mset(values)
	if err != nil {
		return 0, err
	}
	cmd, err := h.write(ctx, "HSET", w)
	if err != nil {
		return 0, err
	}
	n, err := cmd.Int64()
	return n, h.fail("HSET", err)
}

func (h Hash[V]) mset(values map[string]V) (wcmd, error) {
	w := h.newWrite("HSET", 2*len(values))
	w.sum = true
	for f, v := range values {
		if err := h.checkField("HSET", f); err != nil {
			return wcmd{}, err
		}
		val, err := h.enc("HSET", v)
		if err != nil {
			return wcmd{}, err
		}
		w.item(f)
		w.item(val)
	}
	return w, nil
}

// SetNX sets field to v only if the field does not exist (HSETNX), and
// reports whether it did. Like every write, it applies the key's TTL (a
// refreshing TTL is renewed even when the field existed).
func (h Hash[V]) SetNX(ctx context.Context, field string, v V) (bool, error) {
	if err := h.Err(); err != nil {
		return false, err
	}
	w, err := h.set("HSETNX", field, v)
	if err != nil {
		return false, err
	}
	cmd, err := h.write(ctx, "HSETNX", w)
	if err != nil {
		return false, err
	}
	n, err := cmd.Int64()
	return n == 1, h.fail("HSETNX", err)
}

// Remove removes fields (HDEL) and returns how many existed. Redis
// deletes the key with its last field; Remove never changes the TTL. No
// fields sends nothing.
func (h Hash[V]) Remove(ctx context.Context, fields ...string) (int64, error) {
	if err := h.Err(); err != nil {
		return 0, err
	}
	if err := h.checkFields("HDEL", fields); err != nil || len(fields) == 0 {
		return 0, err
	}
	n, err := do(ctx, &h.keyHandle, "HDEL", 0, func(c redis.Cmdable) *redis.IntCmd {
		return c.HDel(ctx, h.name, fields...)
	}).Result()
	return n, h.check(ctx, "HDEL", err)
}

// Has reports whether field exists (HEXISTS).
func (h Hash[V]) Has(ctx context.Context, field string) (bool, error) {
	if err := h.Err(); err != nil {
		return false, err
	}
	if err := h.checkField("HEXISTS", field); err != nil {
		return false, err
	}
	ok, err := read(ctx, &h.keyHandle, "HEXISTS", func(c redis.Cmdable) *redis.BoolCmd {
		return c.HExists(ctx, h.name, field)
	}).Result()
	return ok, h.check(ctx, "HEXISTS", err)
}

// MGet returns the values of fields (HMGET) as a map holding the fields
// that exist: a missing field is absent from it (test with v, ok :=
// m[field]). No fields sends nothing.
func (h Hash[V]) MGet(ctx context.Context, fields ...string) (map[string]V, error) {
	if err := h.Err(); err != nil {
		return nil, err
	}
	if err := h.checkFields("HMGET", fields); err != nil {
		return nil, err
	}
	if len(fields) == 0 {
		return map[string]V{}, nil
	}
	vals, err := read(ctx, &h.keyHandle, "HMGET", func(c redis.Cmdable) *redis.SliceCmd {
		return c.HMGet(ctx, h.name, fields...)
	}).Result()
	if err != nil {
		return nil, h.check(ctx, "HMGET", err)
	}
	return hashDecodeMGet(h.codec(), h.name, fields, vals)
}

func hashDecodeMGet[V any](vc *valueCodec[V], key string, fields []string, vals []any) (map[string]V, error) {
	out := make(map[string]V, len(vals))
	for i, x := range vals {
		s, ok := x.(string)
		if !ok || i >= len(fields) {
			continue
		}
		v, err := hashDecode(vc, "HMGET", key, fields[i], s)
		if err != nil {
			return nil, err
		}
		out[fields[i]] = v
	}
	return out, nil
}

// GetAll returns every field and value (HGETALL); an empty map when the
// key does not exist. A value that does not decode fails the call with a
// *[DecodeError] naming its field. For large hashes, All holds one batch
// at a time.
func (h Hash[V]) GetAll(ctx context.Context) (map[string]V, error) {
	if err := h.Err(); err != nil {
		return nil, err
	}
	m, err := read(ctx, &h.keyHandle, "HGETALL", func(c redis.Cmdable) *redis.MapStringStringCmd {
		return c.HGetAll(ctx, h.name)
	}).Result()
	if err != nil {
		return nil, h.check(ctx, "HGETALL", err)
	}
	return hashDecodeAll(h.codec(), h.name, m)
}

func hashDecodeAll[V any](vc *valueCodec[V], key string, m map[string]string) (map[string]V, error) {
	out := make(map[string]V, len(m))
	for f, s := range m {
		v, err := hashDecode(vc, "HGETALL", key, f, s)
		if err != nil {
			return nil, err
		}
		out[f] = v
	}
	return out, nil
}

// Len returns the number of fields (HLEN); 0 when the key does not exist.
func (h Hash[V]) Len(ctx context.Context) (int64, error) {
	if err := h.Err(); err != nil {
		return 0, err
	}
	n, err := read(ctx, &h.keyHandle, "HLEN", func(c redis.Cmdable) *redis.IntCmd {
		return c.HLen(ctx, h.name)
	}).Result()
	return n, h.check(ctx, "HLEN", err)
}

// Fields returns the field names (HKEYS), in no particular order. (It is
// not called Keys: in this package keys are Redis keys.)
func (h Hash[V]) Fields(ctx context.Context) ([]string, error) {
	if err := h.Err(); err != nil {
		return nil, err
	}
	fs, err := read(ctx, &h.keyHandle, "HKEYS", func(c redis.Cmdable) *redis.StringSliceCmd {
		return c.HKeys(ctx, h.name)
	}).Result()
	if err != nil {
		return nil, h.check(ctx, "HKEYS", err)
	}
	return fs, nil
}

// Values returns the values (HVALS), in no particular order; a value that
// does not decode is a *[DecodeError] naming its position ("value 3"),
// since HVALS does not return field names.
func (h Hash[V]) Values(ctx context.Context) ([]V, error) {
	if err := h.Err(); err != nil {
		return nil, err
	}
	ss, err := read(ctx, &h.keyHandle, "HVALS", func(c redis.Cmdable) *redis.StringSliceCmd {
		return c.HVals(ctx, h.name)
	}).Result()
	if err != nil {
		return nil, h.check(ctx, "HVALS", err)
	}
	return h.decAll("HVALS", "value", ss)
}

// IncrBy adds delta to the number in field and returns the new value:
// HINCRBY when V is an integer type, HINCRBYFLOAT when it is a float type
// (a missing field counts as 0). It needs values stored as decimal text:
// V must be an integer or float type without a `codec` tag (or a named
// type of one without Text/Binary marshalling); any other V fails with
// [ErrConfig] before anything is sent, as do a NaN or infinite delta, and
// for unsigned V a delta above math.MaxInt64. Redis keeps 64-bit integers:
// a result out of V's range (or negative, for unsigned V) is stored but
// returned as a *[DecodeError] naming the field.
func (h Hash[V]) IncrBy(ctx context.Context, field string, delta V) (V, error) {
	var zero V
	if err := h.Err(); err != nil {
		return zero, err
	}
	w, float, err := h.incr(field, delta)
	if err != nil {
		return zero, err
	}
	op := incrOp(float)
	cmd, err := h.write(ctx, op, w)
	if err != nil {
		return zero, err
	}
	return hashReadIncr(h.codec(), &h.keyHandle, op, field, cmd)
}

func incrOp(float bool) string {
	if float {
		return "HINCRBYFLOAT"
	}
	return "HINCRBY"
}

// incr builds HINCRBY or HINCRBYFLOAT; float tells which.
func (h Hash[V]) incr(field string, delta V) (w wcmd, float bool, err error) {
	vc := h.codec()
	float = vc.name == "float"
	op := incrOp(float)
	if vc.name != "int" && vc.name != "uint" && !float {
		return w, float, opError(op, h.name, fmt.Errorf("%w: IncrBy needs an integer or float value type stored as decimal text, not %T (%s codec)", ErrConfig, delta, vc.name))
	}
	if err := h.checkField(op, field); err != nil {
		return w, float, err
	}
	d, err := h.enc(op, delta)
	if err != nil {
		return w, float, err
	}
	switch x := d.(type) {
	case uint64:
		if x > math.MaxInt64 {
			return w, float, opError(op, h.name, &hashFieldError{field, fmt.Errorf("%w: delta %d exceeds the 64-bit signed range of HINCRBY", ErrConfig, x)})
		}
		d = int64(x)
	case string:
		if f, perr := strconv.ParseFloat(x, 64); perr != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return w, float, opError(op, h.name, &hashFieldError{field, fmt.Errorf("%w: delta %s is not a finite number", ErrConfig, x)})
		}
	}
	w = h.newWrite(op, 2)
	w.item(field)
	w.item(d)
	w.hget = !float
	return w, float, nil
}

// hashReadIncr reads the reply of HINCRBY (an integer) or HINCRBYFLOAT (a
// bulk string) into V through the codec, which range-checks it.
func hashReadIncr[V any](vc *valueCodec[V], h *keyHandle, op, field string, cmd *redis.Cmd) (V, error) {
	var s string
	var err error
	if op == "HINCRBY" {
		var n int64
		n, err = cmd.Int64()
		s = strconv.FormatInt(n, 10)
	} else {
		s, err = cmd.Text()
	}
	if err != nil {
		var zero V
		return zero, h.fail(op, err)
	}
	return hashDecode(vc, op, h.name, field, s)
}

// All iterates over the fields and values with HSCAN, holding one batch
// ([Options.ScanCount]) at a time. A value that does not decode is yielded
// as a *[DecodeError] naming its field, with the entry's Field set, and
// iteration goes on; a failed HSCAN (wrong type, lost connection, ctx
// done) is yielded as the last error. Break to stop early. Like HSCAN, a
// field present for the whole iteration is yielded at least once, and may
// be yielded twice if the hash is rehashed meanwhile; All does not renew
// a sliding TTL.
//
//	for e, err := range prefs.All(ctx) {
//		if err != nil { ... }
//		fmt.Println(e.Field, e.Value)
//	}
func (h Hash[V]) All(ctx context.Context) iter.Seq2[HashEntry[V], error] {
	return func(yield func(HashEntry[V], error) bool) {
		var vc *valueCodec[V]
		if h.Err() == nil {
			vc = h.codec()
		}
		scanBatches(ctx, &h.keyHandle, "HSCAN", func(c redis.Cmdable, cursor uint64, count int64) *redis.ScanCmd {
			return c.HScan(ctx, h.name, cursor, "", count)
		}, func(kv []string, err error) bool {
			if err != nil {
				return yield(HashEntry[V]{}, err)
			}
			for i := 0; i+1 < len(kv); i += 2 {
				v, err := hashDecode(vc, "HSCAN", h.name, kv[i], kv[i+1])
				if !yield(HashEntry[V]{Field: kv[i], Value: v}, err) {
					return false
				}
			}
			return true
		})
	}
}

// QueuedHash is a [Hash] seen through a [Pipe]; get it from [Hash.In].
// Its methods queue the Hash's operations, with the same checks, TTL and
// results, and return Futures that [Pipe.Exec] resolves.
type QueuedHash[V any] struct{ queued }

// In returns the hash's operations queued on p.
func (h Hash[V]) In(p *Pipe) QueuedHash[V] { return QueuedHash[V]{queued{h.keyHandle, p}} }

func (q QueuedHash[V]) hash() Hash[V] { return Hash[V]{coll: coll[V]{q.h}} }

// hashQueueRead queues a read built by send (after checking its fields),
// and the PEXPIRE renewing a sliding TTL.
func hashQueueRead[R any](ctx context.Context, q queued, op opName, rd replyReader[R], check func() error, send func(redis.Pipeliner) redis.Cmder) *Future[R] {
	return enqueueRead(q.p, &q.h, op, 0, rd, func() (redis.Cmder, error) {
		if err := check(); err != nil {
			return nil, hashBare(err)
		}
		cmd := send(q.p.pp)
		q.renew(ctx)
		return cmd, nil
	})
}

// hashBare strips the *OpError of a queued operation's error: enqueue
// wraps it with the command and key again.
func hashBare(err error) error {
	if oe, ok := err.(*OpError); ok {
		return oe.Err
	}
	return err
}

// Replies of queued commands name their fields in the command's arguments
// (HGET key field, HMGET key f1 f2 ...), so the plain reply readers below
// need no closure.

func cmdArg(cmd redis.Cmder, i int) string {
	if a := cmd.Args(); i < len(a) {
		if s, ok := a[i].(string); ok {
			return s
		}
	}
	return ""
}

// Get queues [Hash.Get].
func (q QueuedHash[V]) Get(ctx context.Context, field string) *Future[V] {
	return hashQueueRead(ctx, q.queued, opHGET, readHashGet[V], func() error { return q.hash().checkField("HGET", field) },
		func(pp redis.Pipeliner) redis.Cmder { return pp.HGet(ctx, q.h.name, field) })
}

func readHashGet[V any](h *keyHandle, op string, cmd redis.Cmder) (V, error) {
	field := cmdArg(cmd, 2)
	s, err := cmd.(*redis.StringCmd).Result()
	if err == redis.Nil {
		var zero V
		return zero, hashNotFound(op, h.name, field)
	}
	if err != nil {
		var zero V
		return zero, h.fail(op, err)
	}
	return hashDecode(h.p.codec.(*valueCodec[V]), op, h.name, field, s)
}

// Set queues [Hash.Set]; the Future reports whether the field is new.
func (q QueuedHash[V]) Set(ctx context.Context, field string, v V) *Future[bool] {
	return queueWrite(ctx, q.queued, opHSET, func() (wcmd, error) {
		w, err := q.hash().set("HSET", field, v)
		return w, hashBare(err)
	}, readHashBool)
}

func readHashBool(h *keyHandle, op string, cmd redis.Cmder) (bool, error) {
	n, err := readInt(h, op, cmd)
	return n == 1, err
}

// MSet queues [Hash.MSet]. An empty map queues nothing and its Future
// holds 0 after Exec.
func (q QueuedHash[V]) MSet(ctx context.Context, values map[string]V) *Future[int64] {
	if len(values) == 0 {
		return enqueueRead(q.p, &q.h, opHSET, 0, readCount, func() (redis.Cmder, error) {
			return hashNoCmd, nil
		})
	}
	return queueWrite(ctx, q.queued, opHSET, func() (wcmd, error) {
		w, err := q.hash().mset(values)
		return w, hashBare(err)
	}, readInt)
}

// hashNoCmd stands for a command that needs no round trip (an empty
// MSet, MGet or Remove): Exec reads its Future as empty.
var hashNoCmd = redis.NewIntResult(0, nil)

// SetNX queues [Hash.SetNX].
func (q QueuedHash[V]) SetNX(ctx context.Context, field string, v V) *Future[bool] {
	return queueWrite(ctx, q.queued, opHSETNX, func() (wcmd, error) {
		w, err := q.hash().set("HSETNX", field, v)
		return w, hashBare(err)
	}, readHashBool)
}

// Remove queues [Hash.Remove].
func (q QueuedHash[V]) Remove(ctx context.Context, fields ...string) *Future[int64] {
	return enqueueRead(q.p, &q.h, opHDEL, 0, readCount, func() (redis.Cmder, error) {
		if err := q.hash().checkFields("HDEL", fields); err != nil {
			return nil, hashBare(err)
		}
		if len(fields) == 0 {
			return hashNoCmd, nil
		}
		return q.p.pp.HDel(ctx, q.h.name, fields...), nil
	})
}

// Has queues [Hash.Has].
func (q QueuedHash[V]) Has(ctx context.Context, field string) *Future[bool] {
	return hashQueueRead(ctx, q.queued, opHEXISTS, readHashExists, func() error { return q.hash().checkField("HEXISTS", field) },
		func(pp redis.Pipeliner) redis.Cmder { return pp.HExists(ctx, q.h.name, field) })
}

func readHashExists(h *keyHandle, op string, cmd redis.Cmder) (bool, error) {
	ok, err := cmd.(*redis.BoolCmd).Result()
	return ok, h.fail(op, err)
}

// MGet queues [Hash.MGet].
func (q QueuedHash[V]) MGet(ctx context.Context, fields ...string) *Future[map[string]V] {
	return hashQueueRead(ctx, q.queued, opHMGET, readHashMGet[V], func() error { return q.hash().checkFields("HMGET", fields) },
		func(pp redis.Pipeliner) redis.Cmder {
			if len(fields) == 0 {
				return hashNoCmd
			}
			return pp.HMGet(ctx, q.h.name, fields...)
		})
}

func readHashMGet[V any](h *keyHandle, op string, cmd redis.Cmder) (map[string]V, error) {
	c, ok := cmd.(*redis.SliceCmd)
	if !ok {
		return map[string]V{}, nil
	}
	vals, err := c.Result()
	if err != nil {
		return nil, h.fail(op, err)
	}
	fields := make([]string, 0, len(vals))
	for i := range vals {
		fields = append(fields, cmdArg(c, 2+i))
	}
	return hashDecodeMGet(h.p.codec.(*valueCodec[V]), h.name, fields, vals)
}

// GetAll queues [Hash.GetAll].
func (q QueuedHash[V]) GetAll(ctx context.Context) *Future[map[string]V] {
	return hashQueueRead(ctx, q.queued, opHGETALL, readHashGetAll[V], hashNoCheck,
		func(pp redis.Pipeliner) redis.Cmder { return pp.HGetAll(ctx, q.h.name) })
}

func hashNoCheck() error { return nil }

func readHashGetAll[V any](h *keyHandle, op string, cmd redis.Cmder) (map[string]V, error) {
	m, err := cmd.(*redis.MapStringStringCmd).Result()
	if err != nil {
		return nil, h.fail(op, err)
	}
	return hashDecodeAll(h.p.codec.(*valueCodec[V]), h.name, m)
}

// Len queues [Hash.Len].
func (q QueuedHash[V]) Len(ctx context.Context) *Future[int64] {
	return hashQueueRead(ctx, q.queued, opHLEN, readCount, hashNoCheck,
		func(pp redis.Pipeliner) redis.Cmder { return pp.HLen(ctx, q.h.name) })
}

// Fields queues [Hash.Fields].
func (q QueuedHash[V]) Fields(ctx context.Context) *Future[[]string] {
	return hashQueueRead(ctx, q.queued, opHKEYS, readHashFields, hashNoCheck,
		func(pp redis.Pipeliner) redis.Cmder { return pp.HKeys(ctx, q.h.name) })
}

func readHashFields(h *keyHandle, op string, cmd redis.Cmder) ([]string, error) {
	fs, err := cmd.(*redis.StringSliceCmd).Result()
	return fs, h.fail(op, err)
}

// Values queues [Hash.Values].
func (q QueuedHash[V]) Values(ctx context.Context) *Future[[]V] {
	return hashQueueRead(ctx, q.queued, opHVALS, readHashValues[V], hashNoCheck,
		func(pp redis.Pipeliner) redis.Cmder { return pp.HVals(ctx, q.h.name) })
}

func readHashValues[V any](h *keyHandle, op string, cmd redis.Cmder) ([]V, error) {
	ss, err := cmd.(*redis.StringSliceCmd).Result()
	if err != nil {
		return nil, h.fail(op, err)
	}
	return coll[V]{*h}.decAll(op, "value", ss)
}

// IncrBy queues [Hash.IncrBy].
func (q QueuedHash[V]) IncrBy(ctx context.Context, field string, delta V) *Future[V] {
	op := opHINCRBY
	if q.h.p != nil && q.h.p.codec.(*valueCodec[V]).name == "float" {
		op = opHINCRBYFLOAT
	}
	return queueWrite(ctx, q.queued, op, func() (wcmd, error) {
		w, _, err := q.hash().incr(field, delta)
		return w, hashBare(err)
	}, readHashIncr[V])
}

func readHashIncr[V any](h *keyHandle, op string, cmd redis.Cmder) (V, error) {
	// The script's arguments: ttl, mode, head, combine, then the command;
	// without a TTL, the command alone.
	field := cmdArg(cmd, 2)
	if a := cmd.Args(); len(a) > 0 {
		if s, ok := a[0].(string); ok && (strings.EqualFold(s, "evalsha") || strings.EqualFold(s, "eval")) {
			field = cmdArg(cmd, 3+1+writeLead+2)
		}
	}
	return hashReadIncr(h.p.codec.(*valueCodec[V]), h, op, field, cmd.(*redis.Cmd))
}
