package nest

import (
	"context"
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Struct is a Go struct of type T stored as the fields of a Redis hash,
// one hash field per struct field, declared in a namespace:
//
//	type Profile struct {
//		Name  string    `redis:"name"`
//		Email string    `redis:"email"`
//		Age   int       `redis:"age"`
//		Seen  time.Time `redis:"seen"`
//		Tags  []string  `redis:"tags"` // through the schema's codec (JSON)
//		Note  string    `redis:"-"`    // not stored
//	}
//
//	Profile nest.Struct[Profile] `nest:"profile" ttl:"24h"`
//
// Field names come from the `redis` tag, the tag go-redis's own HSet and
// Scan read, so the same struct works with raw go-redis; an exported
// field without a tag is stored under its Go name (as encoding/json
// does: silently leaving it out would lose data on Save), `redis:"-"`
// leaves a field out, unexported fields are left out. Tag options
// (",omitempty") and embedded fields are refused by [New].
//
// Each field's value is encoded as a [Key] of the field's type would be
// (see [Codec]): numbers, strings, bools and times in their text form
// (HINCRBY and redis-cli work on them), other types through the key's
// `codec` tag or the schema's codec. New checks that every field's type
// can be encoded, naming the struct type and field.
//
// Save and SetFields write with the key's effective TTL applied
// atomically (see [Counter] for the "fixed" mode); Load of a key declared
// `ttl:"...,sliding"` renews the TTL in the same round trip. A Struct is
// an immutable handle, safe to copy and to share between goroutines.
type Struct[T any] struct {
	_ [0]structMark[T]
	keyHandle
}

func (Struct[T]) compileKey(kp *keyPlan, explicit Codec) error {
	return compileStruct[T](kp, explicit)
}

func (Struct[T]) isParamKey() bool   { return false }
func (Struct[T]) fieldKind() keyKind { return kindStruct }

// ErrUnknownField reports a struct field name that the struct type does
// not store, or a field handle of another type than the field's.
var ErrUnknownField = errors.New("nest: unknown struct field")

// structPlan is the compiled layout of a struct type: its stored fields
// in declaration order and their codecs.
type structPlan struct {
	typ    reflect.Type
	fields []structField
	index  map[string]int // hash field name -> position in fields
}

// structField is one stored field of a struct type.
type structField struct {
	name  string       // hash field name
	index int          // field index in the struct type
	typ   reflect.Type // field type
	codec string       // codec name, for errors
	max   int          // largest stored form (0: no limit)
	enc   func(v reflect.Value) (any, error)
	dec   func(s string, v reflect.Value) error
}

func (p *structPlan) names() string {
	ns := make([]string, len(p.fields))
	for i, f := range p.fields {
		ns[i] = f.name
	}
	return strings.Join(ns, ", ")
}

// lookup returns the stored field called name, or an error naming the
// struct type and the fields it stores.
func (p *structPlan) lookup(name string) (*structField, error) {
	i, ok := p.index[name]
	if !ok {
		return nil, &hashFieldError{name, fmt.Errorf("%w: %s stores %s", ErrUnknownField, p.typ, p.names())}
	}
	return &p.fields[i], nil
}

// encode encodes the field value v (addressable); its errors name
// neither key nor field (the callers wrap them).
func (f *structField) encode(v reflect.Value) (any, error) {
	out, err := f.enc(v)
	if err != nil {
		return nil, fmt.Errorf("%w (%s codec): %w", ErrEncode, f.codec, err)
	}
	n := 0
	switch b := out.(type) {
	case string:
		n = len(b)
	case []byte:
		n = len(b)
	}
	if f.max > 0 && n > f.max {
		return nil, fmt.Errorf("%w (%s codec): %w", ErrEncode, f.codec, &sizeError{size: n, limit: f.max})
	}
	return out, nil
}

// decode decodes s into v (settable, zero); a failure is a *DecodeError
// naming the field, inside an *OpError naming the command and key.
func (f *structField) decode(op, key, s string, v reflect.Value) error {
	var err error
	if f.max > 0 && len(s) > f.max {
		err = &sizeError{size: len(s), limit: f.max}
	} else {
		err = f.dec(s, v)
	}
	if err != nil {
		return opError(op, key, &DecodeError{Key: key, Type: f.typ.String(), Codec: f.codec, Raw: []byte(s), Elem: hashElem(f.name), Err: err})
	}
	return nil
}

// compileStruct compiles a Struct key: T's stored fields and a codec per
// field, each checked as a Key of the field's type would be.
func compileStruct[T any](kp *keyPlan, explicit Codec) error {
	kp.kind = kindStruct
	rt := reflect.TypeFor[T]()
	kp.typeName = rt.String()
	if kp.hasDef {
		return errors.New("a struct key has no default: Load of a missing struct returns ErrNotFound")
	}
	if rt.Kind() != reflect.Struct {
		return fmt.Errorf("nest.Struct needs a struct type, not %s", rt)
	}
	fallback := kp.c.codec
	if explicit != nil {
		fallback = explicit
	}
	kp.codecOf = fallback.Name()
	max := kp.c.maxValue
	switch {
	case max == 0:
		max = DefaultMaxValueSize
	case max < 0:
		max = 0
	}
	sp := &structPlan{typ: rt, index: map[string]int{}}
	var errs []string
	bad := func(f reflect.StructField, format string, args ...any) {
		errs = append(errs, "field "+f.Name+": "+fmt.Sprintf(format, args...))
	}
	for i := range rt.NumField() {
		f := rt.Field(i)
		tag, tagged := f.Tag.Lookup("redis")
		switch {
		case tag == "-":
			continue
		case f.Anonymous:
			bad(f, "embedded fields are not supported: name the field, or tag it `redis:\"-\"`")
			continue
		case !f.IsExported():
			if tagged {
				bad(f, "unexported fields cannot be stored: export it or remove its redis tag")
			}
			continue
		case strings.Contains(tag, ","):
			bad(f, "redis tag %q: options are not supported (Save writes every field, so omitempty would leave stale values)", tag)
			continue
		}
		name := tag
		if name == "" {
			name = f.Name
		}
		if j, dup := sp.index[name]; dup {
			bad(f, "hash field %q is also the name of field %s", name, rt.Field(sp.fields[j].index).Name)
			continue
		}
		sf, err := newStructField(f.Type, explicit, kp.c.codec)
		if err != nil {
			bad(f, "%v", err)
			continue
		}
		sf.name, sf.index, sf.max = name, i, max
		sp.index[name] = len(sp.fields)
		sp.fields = append(sp.fields, sf)
	}
	if len(errs) > 0 {
		return fmt.Errorf("struct type %s: %s", rt, strings.Join(errs, "; "))
	}
	if len(sp.fields) == 0 {
		return fmt.Errorf("struct type %s has no fields to store (only exported fields not tagged `redis:\"-\"` are)", rt)
	}
	kp.codec = sp
	return nil
}

// newStructField chooses the encoding of a field of type t exactly as
// chooseCodec does for a Key of that type: explicit for every type, else
// time, text marshalling, scalar kinds, binary marshalling, and the
// schema's codec last.
func newStructField(t reflect.Type, explicit, fallback Codec) (structField, error) {
	if explicit != nil {
		return structCodecField(t, explicit)
	}
	pt := reflect.PointerTo(t)
	switch {
	case t == timeType:
		return structField{typ: t, codec: "time",
			enc: func(v reflect.Value) (any, error) { return v.Interface().(time.Time).MarshalText() },
			dec: func(s string, v reflect.Value) error {
				tm, err := time.Parse(time.RFC3339Nano, s)
				v.Set(reflect.ValueOf(tm))
				return err
			}}, nil
	case pt.Implements(textMarshalerType) && pt.Implements(textUnmarshalerType):
		return structField{typ: t, codec: "text",
			enc: func(v reflect.Value) (any, error) {
				return v.Addr().Interface().(encoding.TextMarshaler).MarshalText()
			},
			dec: func(s string, v reflect.Value) error {
				return v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
			}}, nil
	}
	if sf, ok := scalarStructField(t); ok {
		return sf, nil
	}
	if t.Implements(binMarshalerType) && pt.Implements(binUnmarshalerType) {
		return structField{typ: t, codec: "binary",
			enc: func(v reflect.Value) (any, error) {
				return v.Interface().(encoding.BinaryMarshaler).MarshalBinary()
			},
			dec: func(s string, v reflect.Value) error {
				return v.Addr().Interface().(encoding.BinaryUnmarshaler).UnmarshalBinary([]byte(s))
			}}, nil
	}
	return structCodecField(t, fallback)
}

// structCodecField encodes a field through c, after checking, as New does
// for a Key, that c can encode (and decode into) t.
func structCodecField(t reflect.Type, c Codec) (structField, error) {
	if err := checkEncodable(t, c); err != nil {
		return structField{}, err
	}
	if t.Kind() == reflect.Interface && t.NumMethod() > 0 {
		return structField{}, fmt.Errorf("the %s codec cannot decode into the interface type %s: declare a concrete type (or any)", c.Name(), t)
	}
	return structField{typ: t, codec: c.Name(),
		enc: func(v reflect.Value) (any, error) { return c.Marshal(v.Addr().Interface()) },
		dec: func(s string, v reflect.Value) error { return c.Unmarshal([]byte(s), v.Addr().Interface()) }}, nil
}

// scalarStructField is reflectScalar for a field: strings, byte slices,
// integers, floats and bools in their text form.
func scalarStructField(t reflect.Type) (structField, bool) {
	sf := structField{typ: t}
	switch k := t.Kind(); {
	case k == reflect.String:
		sf.codec = "string"
		sf.enc = func(v reflect.Value) (any, error) { return v.String(), nil }
		sf.dec = func(s string, v reflect.Value) error { v.SetString(s); return nil }
	case k == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		sf.codec = "bytes"
		sf.enc = func(v reflect.Value) (any, error) { return v.Bytes(), nil }
		sf.dec = func(s string, v reflect.Value) error { v.SetBytes([]byte(s)); return nil }
	case reflect.Int <= k && k <= reflect.Int64:
		bits := t.Bits()
		sf.codec = "int"
		sf.enc = func(v reflect.Value) (any, error) { return v.Int(), nil }
		sf.dec = func(s string, v reflect.Value) error {
			n, err := strconv.ParseInt(s, 10, bits)
			v.SetInt(n)
			return err
		}
	case reflect.Uint <= k && k <= reflect.Uintptr:
		bits := t.Bits()
		sf.codec = "uint"
		sf.enc = func(v reflect.Value) (any, error) { return v.Uint(), nil }
		sf.dec = func(s string, v reflect.Value) error {
			n, err := strconv.ParseUint(s, 10, bits)
			v.SetUint(n)
			return err
		}
	case k == reflect.Float32 || k == reflect.Float64:
		bits := t.Bits()
		sf.codec = "float"
		sf.enc = func(v reflect.Value) (any, error) { return strconv.FormatFloat(v.Float(), 'g', -1, bits), nil }
		sf.dec = func(s string, v reflect.Value) error {
			f, err := strconv.ParseFloat(s, bits)
			v.SetFloat(f)
			return err
		}
	case k == reflect.Bool:
		sf.codec = "bool"
		sf.enc = func(v reflect.Value) (any, error) { return formatBool(v.Bool()), nil }
		sf.dec = func(s string, v reflect.Value) error {
			b, err := strconv.ParseBool(s)
			v.SetBool(b)
			return err
		}
	default:
		return sf, false
	}
	return sf, true
}

func (s Struct[T]) plan() *structPlan { return s.p.codec.(*structPlan) }

// Load returns the stored struct (HGETALL): each stored field decoded
// into its struct field; a field missing from the hash keeps its zero
// value, and hash fields T does not declare are ignored. It returns
// [ErrNotFound] when the key does not exist, and a *[DecodeError] naming
// the first field (in declaration order) whose value does not decode.
func (s Struct[T]) Load(ctx context.Context) (T, error) {
	if err := s.Err(); err != nil {
		var zero T
		return zero, err
	}
	m, err := read(ctx, &s.keyHandle, "HGETALL", func(c redis.Cmdable) *redis.MapStringStringCmd {
		return c.HGetAll(ctx, s.name)
	}).Result()
	if err != nil {
		var zero T
		return zero, s.check(ctx, "HGETALL", err)
	}
	return structDecode[T](s.plan(), s.name, m)
}

func structDecode[T any](sp *structPlan, key string, m map[string]string) (T, error) {
	var out T
	if len(m) == 0 {
		return out, opError("HGETALL", key, ErrNotFound)
	}
	rv := reflect.ValueOf(&out).Elem()
	for i := range sp.fields {
		f := &sp.fields[i]
		if raw, ok := m[f.name]; ok {
			if err := f.decode("HGETALL", key, raw, rv.Field(f.index)); err != nil {
				var zero T
				return zero, err
			}
		}
	}
	return out, nil
}

// Save writes every stored field of v (one HSET) with the key's TTL, in
// one atomic step. Every field is encoded before anything is sent, so a
// field that does not encode (or exceeds [Options.MaxValueSize]) writes
// nothing. Hash fields that T does not declare are left alone, not
// deleted: they may belong to another version of T during a rolling
// deploy, or to another writer; Load ignores them. To replace the hash
// entirely, queue Delete and Save in one [Namespace.TxPipeline].
func (s Struct[T]) Save(ctx context.Context, v T) error {
	return s.setFields(ctx, &v, nil)
}

// SetFields writes only the named fields of v (HSET), with the key's TTL,
// in one atomic step: a partial update that leaves the other fields as
// stored. Names are hash field names (the `redis` tag); an unknown name,
// or none at all, fails with [ErrUnknownField] before anything is sent.
func (s Struct[T]) SetFields(ctx context.Context, v T, fields ...string) error {
	if err := s.Err(); err != nil {
		return err
	}
	if len(fields) == 0 {
		return opError("HSET", s.name, fmt.Errorf("%w: SetFields needs field names (Save writes them all)", ErrUnknownField))
	}
	return s.setFields(ctx, &v, fields)
}

func (s Struct[T]) setFields(ctx context.Context, v *T, only []string) error {
	if err := s.Err(); err != nil {
		return err
	}
	w, err := s.save(v, only)
	if err != nil {
		return err
	}
	_, err = s.write(ctx, "HSET", w)
	return err
}

// save builds the HSET of v's fields: all of them, or those named in only.
func (s Struct[T]) save(v *T, only []string) (wcmd, error) {
	sp := s.plan()
	rv := reflect.ValueOf(v).Elem()
	n := len(sp.fields)
	if only != nil {
		n = len(only)
	}
	w := s.newWrite("HSET", 2*n)
	w.sum = true
	add := func(f *structField) error {
		val, err := f.encode(rv.Field(f.index))
		if err != nil {
			return opError("HSET", s.name, &hashFieldError{f.name, err})
		}
		w.item(f.name)
		w.item(val)
		return nil
	}
	if only == nil {
		for i := range sp.fields {
			if err := add(&sp.fields[i]); err != nil {
				return wcmd{}, err
			}
		}
		return w, nil
	}
	for _, name := range only {
		f, err := sp.lookup(name)
		if err != nil {
			return wcmd{}, opError("HSET", s.name, err)
		}
		if err := add(f); err != nil {
			return wcmd{}, err
		}
	}
	return w, nil
}

// StructField is a typed handle on one field of a [Struct], from [Field]:
// Get and Set read and write that hash field alone. Like every handle it
// is immutable; an unusable one (unknown field, wrong type) reports why
// from Err and from every operation, without contacting Redis.
type StructField[F any] struct {
	h   keyHandle
	f   *structField
	err error
}

// Field returns a typed handle on the field of s stored as name (its
// `redis` tag), checked against T's declaration: a name T does not store,
// or an F other than the field's type, gives a handle whose Err is
// [ErrUnknownField] naming the struct type and the field. F is given, T
// is inferred:
//
//	email := nest.Field[string](u.Profile, "email")
//	err := email.Set(ctx, "ada@example.com")
func Field[F, T any](s Struct[T], name string) StructField[F] {
	if err := s.Err(); err != nil {
		return StructField[F]{h: s.keyHandle, err: err}
	}
	f, err := s.plan().lookup(name)
	if err == nil && f.typ != reflect.TypeFor[F]() {
		err = &hashFieldError{name, fmt.Errorf("%w: %s.%s is a %s, not a %s", ErrUnknownField, s.plan().typ, s.plan().typ.Field(f.index).Name, f.typ, reflect.TypeFor[F]())}
	}
	if err != nil {
		return StructField[F]{h: s.keyHandle, err: &OpError{Op: "Field", Key: s.name, Err: err}}
	}
	return StructField[F]{h: s.keyHandle, f: f}
}

// Err reports why the handle cannot be used, or nil.
func (sf StructField[F]) Err() error {
	if err := sf.h.Err(); err != nil {
		return err
	}
	return sf.err
}

// Name returns the hash field name, or "" for an unusable handle.
func (sf StructField[F]) Name() string {
	if sf.Err() != nil {
		return ""
	}
	return sf.f.name
}

// Get returns the field's value (HGET), or [ErrNotFound] naming the key
// and field when the field (or the key) does not exist; a value that
// does not decode is a *[DecodeError] naming the field. A sliding TTL is
// renewed in the same round trip.
func (sf StructField[F]) Get(ctx context.Context) (F, error) {
	var x F
	if err := sf.Err(); err != nil {
		return x, err
	}
	s, err := read(ctx, &sf.h, "HGET", func(c redis.Cmdable) *redis.StringCmd {
		return c.HGet(ctx, sf.h.name, sf.f.name)
	}).Result()
	if err == redis.Nil {
		return x, hashNotFound("HGET", sf.h.name, sf.f.name)
	}
	if err != nil {
		return x, sf.h.check(ctx, "HGET", err)
	}
	err = sf.f.decode("HGET", sf.h.name, s, reflect.ValueOf(&x).Elem())
	return x, err
}

// Set writes the field alone (HSET) with the key's TTL, in one atomic
// step.
func (sf StructField[F]) Set(ctx context.Context, x F) error {
	if err := sf.Err(); err != nil {
		return err
	}
	w, err := sf.set(&x)
	if err != nil {
		return err
	}
	_, err = sf.h.write(ctx, "HSET", w)
	return err
}

func (sf StructField[F]) set(x *F) (wcmd, error) {
	val, err := sf.f.encode(reflect.ValueOf(x).Elem())
	if err != nil {
		return wcmd{}, opError("HSET", sf.h.name, &hashFieldError{sf.f.name, err})
	}
	w := sf.h.newWrite("HSET", 2)
	w.sum = true
	w.item(sf.f.name)
	w.item(val)
	return w, nil
}

// QueuedStruct is a [Struct] seen through a [Pipe]; get it from
// [Struct.In].
type QueuedStruct[T any] struct{ queued }

// In returns the struct's operations queued on p.
func (s Struct[T]) In(p *Pipe) QueuedStruct[T] { return QueuedStruct[T]{queued{s.keyHandle, p}} }

func (q QueuedStruct[T]) st() Struct[T] { return Struct[T]{keyHandle: q.h} }

// Load queues [Struct.Load].
func (q QueuedStruct[T]) Load(ctx context.Context) *Future[T] {
	return hashQueueRead(ctx, q.queued, opHGETALL, readStructLoad[T], hashNoCheck,
		func(pp redis.Pipeliner) redis.Cmder { return pp.HGetAll(ctx, q.h.name) })
}

func readStructLoad[T any](h *keyHandle, op string, cmd redis.Cmder) (T, error) {
	m, err := cmd.(*redis.MapStringStringCmd).Result()
	if err != nil {
		var zero T
		return zero, h.fail(op, err)
	}
	return structDecode[T](h.p.codec.(*structPlan), h.name, m)
}

// Save queues [Struct.Save].
func (q QueuedStruct[T]) Save(ctx context.Context, v T) *Future[struct{}] {
	return queueWrite(ctx, q.queued, opHSET, func() (wcmd, error) {
		w, err := q.st().save(&v, nil)
		return w, hashBare(err)
	}, readStructStatus)
}

// SetFields queues [Struct.SetFields].
func (q QueuedStruct[T]) SetFields(ctx context.Context, v T, fields ...string) *Future[struct{}] {
	return queueWrite(ctx, q.queued, opHSET, func() (wcmd, error) {
		if len(fields) == 0 {
			return wcmd{}, fmt.Errorf("%w: SetFields needs field names (Save writes them all)", ErrUnknownField)
		}
		w, err := q.st().save(&v, fields)
		return w, hashBare(err)
	}, readStructStatus)
}

func readStructStatus(h *keyHandle, op string, cmd redis.Cmder) (struct{}, error) {
	return struct{}{}, h.fail(op, cmd.Err())
}

// QueuedStructField is a [StructField] seen through a [Pipe]; get it from
// [StructField.In].
type QueuedStructField[F any] struct {
	sf StructField[F]
	p  *Pipe
}

// In returns the field's operations queued on p.
func (sf StructField[F]) In(p *Pipe) QueuedStructField[F] { return QueuedStructField[F]{sf, p} }

// Get queues [StructField.Get].
func (q QueuedStructField[F]) Get(ctx context.Context) *Future[F] {
	return hashQueueRead(ctx, queued{q.sf.h, q.p}, opHGET, readStructFieldGet[F], q.sf.Err,
		func(pp redis.Pipeliner) redis.Cmder { return pp.HGet(ctx, q.sf.h.name, q.sf.f.name) })
}

func readStructFieldGet[F any](h *keyHandle, op string, cmd redis.Cmder) (F, error) {
	var x F
	name := cmdArg(cmd, 2)
	s, err := cmd.(*redis.StringCmd).Result()
	if err == redis.Nil {
		return x, hashNotFound(op, h.name, name)
	}
	if err != nil {
		return x, h.fail(op, err)
	}
	f, err := h.p.codec.(*structPlan).lookup(name)
	if err != nil {
		return x, opError(op, h.name, err)
	}
	return x, f.decode(op, h.name, s, reflect.ValueOf(&x).Elem())
}

// Set queues [StructField.Set].
func (q QueuedStructField[F]) Set(ctx context.Context, x F) *Future[struct{}] {
	return queueWrite(ctx, queued{q.sf.h, q.p}, opHSET, func() (wcmd, error) {
		if err := q.sf.Err(); err != nil {
			return wcmd{}, hashBare(err)
		}
		w, err := q.sf.set(&x)
		return w, hashBare(err)
	}, readStructStatus)
}
