package nest

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/redisimnest/nest/internal/msgpackguard"
)

// Codec turns values into stored bytes and back. Implementations must be
// safe for concurrent use.
//
// Keys use a codec only for values without a native text form: strings and
// []byte are stored as they are; integers, floats and bools as decimal text
// (so INCRBY and redis-cli work); time.Time as RFC 3339 with nanoseconds;
// types implementing [encoding.TextMarshaler] (or else
// [encoding.BinaryMarshaler]) through those methods. Everything else goes
// through the schema's codec ([Options.Codec], JSON by default), unless the
// key names one with a `codec:"name"` tag, which then applies to every type.
type Codec interface {
	// Name identifies the codec in tags, descriptions and errors.
	Name() string
	// Marshal encodes v, a pointer to the key's value.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into v, a pointer to a zero value.
	Unmarshal(data []byte, v any) error
}

// Built-in codecs, selectable by name in `codec:"..."` tags.
var (
	// JSON is encoding/json; the default codec.
	JSON Codec = jsonCodec{}
	// MsgPack is MessagePack (github.com/vmihailenco/msgpack/v5). Struct
	// fields are named by their `json` tags, so one struct declaration
	// serves both codecs.
	MsgPack Codec = msgpackCodec{}
)

type jsonCodec struct{}

func (jsonCodec) Name() string                       { return "json" }
func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

type msgpackCodec struct{}

func (msgpackCodec) Name() string { return "msgpack" }

func (msgpackCodec) Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetCustomStructTag("json")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Unmarshal checks data before decoding it (see internal/msgpackguard):
// a value nested deeper than 10 000 levels, a header declaring more bytes or
// elements than follow it, or bytes after the value are errors, so hostile
// bytes can neither overflow the stack nor allocate more than their size
// justifies. A panic of the decoder (a slice as a key of a map[any]any, for
// instance) is returned as an error.
func (msgpackCodec) Unmarshal(data []byte, v any) (err error) {
	r, err := msgpackguard.Check(data, msgpackguard.MaxDepth)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("msgpack: decoder panicked: %v", p)
		}
	}()
	dec := msgpack.NewDecoder(r)
	dec.SetCustomStructTag("json")
	return dec.Decode(v)
}

// valueCodec is the compiled encoding of one Go type T: enc returns what is
// handed to go-redis (a string, []byte or int64/uint64 that go-redis writes
// as decimal text), dec parses a stored value. Both are chosen once, when
// the schema is built; the hot path inspects no types (named scalar types
// go through reflect.Value's accessors, which do not allocate).
type valueCodec[T any] struct {
	name string // "string", "int", "json", ...
	enc  func(v T) (any, error)
	dec  func(s string) (T, error)
	// parseDefault decodes a `default:"..."` tag: the stored form for
	// native types, JSON for codec-encoded ones (tags hold text).
	parseDefault func(s string) (T, error)
	// maxSize is the largest stored form, in bytes, that enc returns and
	// dec accepts (0: no limit). It is set once, when the schema is built
	// (see setMaxSize), before the codec is shared.
	maxSize int
}

// DefaultMaxValueSize is the default of [Options.MaxValueSize]: 64 MiB.
const DefaultMaxValueSize = 64 << 20

// setMaxSize applies [Options.MaxValueSize]: zero means the default, a
// negative size no limit.
func (c *valueCodec[T]) setMaxSize(n int) {
	switch {
	case n == 0:
		c.maxSize = DefaultMaxValueSize
	case n < 0:
		c.maxSize = 0
	default:
		c.maxSize = n
	}
}

// limited makes enc refuse, and dec refuse without decoding, a stored form
// larger than c.maxSize. Every way of reading or writing a value (Key and
// Secret commands, pipelines, Update) goes through enc and dec.
func (c *valueCodec[T]) limited() *valueCodec[T] {
	enc, dec := c.enc, c.dec
	c.enc = func(v T) (any, error) {
		out, err := enc(v)
		if err == nil && c.maxSize > 0 {
			n := 0
			switch b := out.(type) {
			case string:
				n = len(b)
			case []byte:
				n = len(b)
			}
			if n > c.maxSize {
				return nil, &sizeError{size: n, limit: c.maxSize}
			}
		}
		return out, err
	}
	c.dec = func(s string) (T, error) {
		if c.maxSize > 0 && len(s) > c.maxSize {
			var zero T
			return zero, &sizeError{size: len(s), limit: c.maxSize}
		}
		return dec(s)
	}
	c.maxSize = DefaultMaxValueSize
	return c
}

// sizeError reports a value over [Options.MaxValueSize]; it matches
// [ErrTooLarge].
type sizeError struct{ size, limit int }

func (e *sizeError) Error() string {
	return fmt.Sprintf("%d bytes exceed the maximum value size of %d bytes (Options.MaxValueSize)", e.size, e.limit)
}

func (e *sizeError) Is(target error) bool { return target == ErrTooLarge }

var (
	timeType            = reflect.TypeFor[time.Time]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	binMarshalerType    = reflect.TypeFor[encoding.BinaryMarshaler]()
	binUnmarshalerType  = reflect.TypeFor[encoding.BinaryUnmarshaler]()
)

// newValueCodec compiles the encoding of T. explicit, when non-nil, is the
// codec named by the key's tag and applies to every type; fallback is the
// schema's codec for types without a native form. Stored forms are limited
// to [DefaultMaxValueSize] until setMaxSize says otherwise.
func newValueCodec[T any](explicit, fallback Codec) *valueCodec[T] {
	return chooseCodec[T](explicit, fallback).limited()
}

func chooseCodec[T any](explicit, fallback Codec) *valueCodec[T] {
	if explicit != nil {
		return codecFor[T](explicit)
	}
	rt := reflect.TypeFor[T]()
	pt := reflect.PointerTo(rt)
	switch {
	case rt == timeType:
		return timeCodec[T]()
	case pt.Implements(textMarshalerType) && pt.Implements(textUnmarshalerType):
		return textCodec[T]()
	}
	if c := scalarCodec[T](rt); c != nil {
		return c
	}
	if rt.Implements(binMarshalerType) && pt.Implements(binUnmarshalerType) {
		return binaryCodec[T]()
	}
	return codecFor[T](fallback)
}

func codecFor[T any](c Codec) *valueCodec[T] {
	dec := func(s string) (T, error) {
		var v T
		err := c.Unmarshal([]byte(s), &v)
		return v, err
	}
	return &valueCodec[T]{
		name: c.Name(),
		enc: func(v T) (any, error) {
			b, err := c.Marshal(&v)
			return b, err
		},
		dec: dec,
		parseDefault: func(s string) (T, error) {
			var v T
			err := json.Unmarshal([]byte(s), &v)
			return v, err
		},
	}
}

func withDefault[T any](c *valueCodec[T]) *valueCodec[T] {
	c.parseDefault = c.dec
	return c
}

func timeCodec[T any]() *valueCodec[T] {
	return withDefault(&valueCodec[T]{
		name: "time",
		enc: func(v T) (any, error) {
			b, err := any(v).(time.Time).MarshalText()
			if err != nil {
				return nil, err
			}
			return b, nil
		},
		dec: func(s string) (T, error) {
			t, err := time.Parse(time.RFC3339Nano, s)
			return any(t).(T), err
		},
	})
}

func textCodec[T any]() *valueCodec[T] {
	return withDefault(&valueCodec[T]{
		name: "text",
		enc: func(v T) (any, error) {
			b, err := any(&v).(encoding.TextMarshaler).MarshalText()
			return b, err
		},
		dec: func(s string) (T, error) {
			var v T
			err := any(&v).(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
			return v, err
		},
	})
}

func binaryCodec[T any]() *valueCodec[T] {
	return withDefault(&valueCodec[T]{
		name: "binary",
		enc: func(v T) (any, error) {
			b, err := any(v).(encoding.BinaryMarshaler).MarshalBinary()
			return b, err
		},
		dec: func(s string) (T, error) {
			var v T
			err := any(&v).(encoding.BinaryUnmarshaler).UnmarshalBinary([]byte(s))
			return v, err
		},
	})
}

// scalarCodec handles types whose kind is a string, byte slice, integer,
// float or bool. The predeclared types (and time.Duration) are matched by a
// type switch and converted with a type assertion, which the compiler turns
// into a plain copy; other named types (type Celsius float64) are read and
// written through reflect, whose Value of &v does not escape, so neither
// path allocates beyond boxing the result for go-redis.
func scalarCodec[T any](rt reflect.Type) *valueCodec[T] {
	var zero T
	switch any(zero).(type) {
	case string:
		return native[T]("string", func(v string) any { return v }, func(s string) (string, error) { return s, nil })
	case []byte:
		return native[T]("bytes", func(v []byte) any { return v }, func(s string) ([]byte, error) { return []byte(s), nil })
	case int:
		return native[T]("int", func(v int) any { return int64(v) }, parseInt[int](rt.Bits()))
	case int8:
		return native[T]("int", func(v int8) any { return int64(v) }, parseInt[int8](rt.Bits()))
	case int16:
		return native[T]("int", func(v int16) any { return int64(v) }, parseInt[int16](rt.Bits()))
	case int32:
		return native[T]("int", func(v int32) any { return int64(v) }, parseInt[int32](rt.Bits()))
	case int64:
		return native[T]("int", func(v int64) any { return v }, parseInt[int64](rt.Bits()))
	case time.Duration:
		return native[T]("int", func(v time.Duration) any { return int64(v) }, parseInt[time.Duration](rt.Bits()))
	case uint:
		return native[T]("uint", func(v uint) any { return uint64(v) }, parseUint[uint](rt.Bits()))
	case uint8:
		return native[T]("uint", func(v uint8) any { return uint64(v) }, parseUint[uint8](rt.Bits()))
	case uint16:
		return native[T]("uint", func(v uint16) any { return uint64(v) }, parseUint[uint16](rt.Bits()))
	case uint32:
		return native[T]("uint", func(v uint32) any { return uint64(v) }, parseUint[uint32](rt.Bits()))
	case uint64:
		return native[T]("uint", func(v uint64) any { return v }, parseUint[uint64](rt.Bits()))
	case uintptr:
		return native[T]("uint", func(v uintptr) any { return uint64(v) }, parseUint[uintptr](rt.Bits()))
	case float32:
		return native[T]("float", func(v float32) any { return strconv.FormatFloat(float64(v), 'g', -1, 32) }, parseFloat[float32](rt.Bits()))
	case float64:
		return native[T]("float", func(v float64) any { return strconv.FormatFloat(v, 'g', -1, 64) }, parseFloat[float64](rt.Bits()))
	case bool:
		return native[T]("bool", formatBool, strconv.ParseBool)
	}
	return reflectScalar[T](rt)
}

// native builds the codec of T from functions of U, the same type: the type
// assertions between the two are copies.
func native[T, U any](name string, enc func(U) any, dec func(string) (U, error)) *valueCodec[T] {
	return withDefault(&valueCodec[T]{
		name: name,
		enc:  func(v T) (any, error) { return enc(any(v).(U)), nil },
		dec: func(s string) (T, error) {
			u, err := dec(s)
			return any(u).(T), err
		},
	})
}

// parseInt, parseUint and parseFloat return parsers of decimal text into
// a type of the given size in bits, which rejects values out of its range.
func parseInt[I ~int | ~int8 | ~int16 | ~int32 | ~int64](bits int) func(string) (I, error) {
	return func(s string) (I, error) {
		n, err := strconv.ParseInt(s, 10, bits)
		return I(n), err
	}
}

func parseUint[U ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr](bits int) func(string) (U, error) {
	return func(s string) (U, error) {
		n, err := strconv.ParseUint(s, 10, bits)
		return U(n), err
	}
}

func parseFloat[F ~float32 | ~float64](bits int) func(string) (F, error) {
	return func(s string) (F, error) {
		f, err := strconv.ParseFloat(s, bits)
		return F(f), err
	}
}

func formatBool(b bool) any {
	if b {
		return "1"
	}
	return "0"
}

// reflectScalar handles named types of a scalar kind through reflect.
func reflectScalar[T any](rt reflect.Type) *valueCodec[T] {
	elem := func(v *T) reflect.Value { return reflect.ValueOf(v).Elem() }
	k := rt.Kind()
	var c *valueCodec[T]
	switch {
	case k == reflect.String:
		c = &valueCodec[T]{
			name: "string",
			enc:  func(v T) (any, error) { return elem(&v).String(), nil },
			dec: func(s string) (v T, err error) {
				elem(&v).SetString(s)
				return v, nil
			},
		}
	case k == reflect.Slice && rt.Elem().Kind() == reflect.Uint8:
		c = &valueCodec[T]{
			name: "bytes",
			enc:  func(v T) (any, error) { return elem(&v).Bytes(), nil },
			dec: func(s string) (v T, err error) {
				elem(&v).SetBytes([]byte(s))
				return v, nil
			},
		}
	case reflect.Int <= k && k <= reflect.Int64:
		bits := rt.Bits()
		c = &valueCodec[T]{
			name: "int",
			enc:  func(v T) (any, error) { return elem(&v).Int(), nil },
			dec: func(s string) (v T, err error) {
				n, err := strconv.ParseInt(s, 10, bits)
				elem(&v).SetInt(n)
				return v, err
			},
		}
	case reflect.Uint <= k && k <= reflect.Uintptr:
		bits := rt.Bits()
		c = &valueCodec[T]{
			name: "uint",
			enc:  func(v T) (any, error) { return elem(&v).Uint(), nil },
			dec: func(s string) (v T, err error) {
				n, err := strconv.ParseUint(s, 10, bits)
				elem(&v).SetUint(n)
				return v, err
			},
		}
	case k == reflect.Float32 || k == reflect.Float64:
		bits := rt.Bits()
		c = &valueCodec[T]{
			name: "float",
			enc:  func(v T) (any, error) { return strconv.FormatFloat(elem(&v).Float(), 'g', -1, bits), nil },
			dec: func(s string) (v T, err error) {
				f, err := strconv.ParseFloat(s, bits)
				elem(&v).SetFloat(f)
				return v, err
			},
		}
	case k == reflect.Bool:
		c = &valueCodec[T]{
			name: "bool",
			enc:  func(v T) (any, error) { return formatBool(elem(&v).Bool()), nil },
			dec: func(s string) (v T, err error) {
				b, err := strconv.ParseBool(s)
				elem(&v).SetBool(b)
				return v, err
			},
		}
	default:
		return nil
	}
	return withDefault(c)
}

// encode runs the codec, wrapping failures with the key name.
func (c *valueCodec[T]) encode(key string, v T) (any, error) {
	out, err := c.enc(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %s (%s codec): %w", ErrEncode, key, c.name, err)
	}
	return out, nil
}

// decode runs the codec; a failure is a *DecodeError keeping the raw bytes.
func (c *valueCodec[T]) decode(key, s string) (T, error) {
	v, err := c.dec(s)
	if err != nil {
		var zero T
		return zero, &DecodeError{Key: key, Type: reflect.TypeFor[T]().String(), Codec: c.name, Raw: []byte(s), Err: err}
	}
	return v, nil
}
