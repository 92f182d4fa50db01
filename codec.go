package nest

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"
	"unsafe"

	"github.com/vmihailenco/msgpack/v5"
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

func (msgpackCodec) Unmarshal(data []byte, v any) (err error) {
	if err := checkMsgpack(data); err != nil {
		return err
	}
	defer func() {
		// msgpack v5.4.1 panics on some values, such as nil for a
		// time.Time field (reflect.Value.IsNil on a struct): a value read
		// from Redis is an error, never a panic.
		if r := recover(); r != nil {
			err = fmt.Errorf("msgpack: %v", r)
		}
	}()
	dec := msgpack.NewDecoder(bytes.NewReader(data))
	dec.SetCustomStructTag("json")
	return dec.Decode(v)
}

// msgpackMaxDepth bounds the nesting of a MessagePack value, as
// encoding/json bounds JSON's.
const msgpackMaxDepth = 10000

// checkMsgpack walks the first MessagePack value of data without decoding
// it, and refuses one that declares more elements or bytes than data holds
// or nests deeper than msgpackMaxDepth. The decoder trusts declared
// lengths (msgpack v5.4.1 allocates a slice of the declared length before
// reading any element: its allocation limit is never applied) and recurses
// once per level, so a few hostile bytes stored in Redis would otherwise
// kill the process (out of memory, stack overflow), which no error can
// report. Every element takes at least one byte, so after this check a
// slice never gets more elements than the value has bytes.
func checkMsgpack(data []byte) error {
	i := 0
	// length reads a k-byte big-endian length at i.
	length := func(k int) (uint64, bool) {
		if k > len(data)-i {
			return 0, false
		}
		var n uint64
		for _, b := range data[i : i+k] {
			n = n<<8 | uint64(b)
		}
		i += k
		return n, true
	}
	truncated := func() error { return fmt.Errorf("msgpack: truncated value (%d bytes)", len(data)) }
	left := []uint64{1} // objects still to read in each open container
	for len(left) > 0 {
		top := len(left) - 1
		if left[top] == 0 {
			left = left[:top]
			continue
		}
		left[top]--
		if i >= len(data) {
			return truncated()
		}
		c := data[i]
		i++
		var (
			size  uint64 // bytes of payload that follow
			elems uint64 // objects of a container that follow
			isCon bool
			ok    = true
		)
		switch {
		case c <= 0x7f || c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3: // fixint, nil, bool
		case c <= 0x8f:
			elems, isCon = 2*uint64(c&0x0f), true
		case c <= 0x9f:
			elems, isCon = uint64(c&0x0f), true
		case c <= 0xbf:
			size = uint64(c & 0x1f)
		case c == 0xc4 || c == 0xd9: // bin8, str8
			size, ok = length(1)
		case c == 0xc5 || c == 0xda:
			size, ok = length(2)
		case c == 0xc6 || c == 0xdb:
			size, ok = length(4)
		case c == 0xc7, c == 0xc8, c == 0xc9: // ext8/16/32: length, type, data
			size, ok = length(1 << (c - 0xc7))
			size++
		case c == 0xca, c == 0xce, c == 0xd2: // float32, uint32, int32
			size = 4
		case c == 0xcb, c == 0xcf, c == 0xd3:
			size = 8
		case c == 0xcc, c == 0xd0:
			size = 1
		case c == 0xcd, c == 0xd1:
			size = 2
		case c >= 0xd4 && c <= 0xd8: // fixext 1, 2, 4, 8, 16: type, data
			size = 1 + 1<<(c-0xd4)
		case c == 0xdc:
			elems, ok = length(2)
			isCon = true
		case c == 0xdd:
			elems, ok = length(4)
			isCon = true
		case c == 0xde || c == 0xdf:
			elems, ok = length(2 << (c - 0xde))
			elems *= 2
			isCon = true
		default: // 0xc1, never used
			return fmt.Errorf("msgpack: invalid code %#x at byte %d", c, i-1)
		}
		rest := uint64(len(data) - i)
		switch {
		case !ok:
			return truncated()
		case isCon && elems > rest:
			return fmt.Errorf("msgpack: a container at byte %d declares %d objects, more than the %d bytes left", i-1, elems, rest)
		case isCon && elems > 0:
			if len(left) > msgpackMaxDepth {
				return fmt.Errorf("msgpack: value nested deeper than %d levels", msgpackMaxDepth)
			}
			left = append(left, elems)
		case size > rest:
			return truncated()
		default:
			i += int(size)
		}
	}
	return nil
}

// valueCodec is the compiled encoding of one Go type T: enc returns what is
// handed to go-redis (a string, []byte or int64/uint64/float64 that go-redis
// writes as decimal text), dec parses a stored value. Both are chosen once,
// when the schema is built, so the hot path does no reflection.
type valueCodec[T any] struct {
	name string // "string", "int", "json", ...
	enc  func(v T) (any, error)
	dec  func(s string) (T, error)
	// parseDefault decodes a `default:"..."` tag: the stored form for
	// native types, JSON for codec-encoded ones (tags hold text).
	parseDefault func(s string) (T, error)
}

var (
	timeType            = reflect.TypeFor[time.Time]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	binMarshalerType    = reflect.TypeFor[encoding.BinaryMarshaler]()
	binUnmarshalerType  = reflect.TypeFor[encoding.BinaryUnmarshaler]()
)

// newValueCodec compiles the encoding of T. explicit, when non-nil, is the
// codec named by the key's tag and applies to every type; fallback is the
// schema's codec for types without a native form.
func newValueCodec[T any](explicit, fallback Codec) *valueCodec[T] {
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
			b, err := (*time.Time)(unsafe.Pointer(&v)).MarshalText()
			if err != nil {
				return nil, err
			}
			return b, nil
		},
		dec: func(s string) (T, error) {
			var v T
			t, err := time.Parse(time.RFC3339Nano, s)
			*(*time.Time)(unsafe.Pointer(&v)) = t
			return v, err
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
// float or bool, named or not. Values are read and written through their
// underlying representation, which the kind fixes.
func scalarCodec[T any](rt reflect.Type) *valueCodec[T] {
	k := rt.Kind()
	var c *valueCodec[T]
	switch {
	case k == reflect.String:
		c = &valueCodec[T]{
			name: "string",
			enc:  func(v T) (any, error) { return *(*string)(unsafe.Pointer(&v)), nil },
			dec: func(s string) (T, error) {
				var v T
				*(*string)(unsafe.Pointer(&v)) = s
				return v, nil
			},
		}
	case k == reflect.Slice && rt.Elem().Kind() == reflect.Uint8:
		c = &valueCodec[T]{
			name: "bytes",
			enc:  func(v T) (any, error) { return *(*[]byte)(unsafe.Pointer(&v)), nil },
			dec: func(s string) (T, error) {
				var v T
				*(*[]byte)(unsafe.Pointer(&v)) = []byte(s)
				return v, nil
			},
		}
	case reflect.Int <= k && k <= reflect.Int64:
		bits := rt.Bits()
		c = &valueCodec[T]{
			name: "int",
			enc:  func(v T) (any, error) { return loadInt(unsafe.Pointer(&v), k), nil },
			dec: func(s string) (T, error) {
				var v T
				n, err := strconv.ParseInt(s, 10, bits)
				storeInt(unsafe.Pointer(&v), k, n)
				return v, err
			},
		}
	case reflect.Uint <= k && k <= reflect.Uintptr:
		bits := rt.Bits()
		c = &valueCodec[T]{
			name: "uint",
			enc:  func(v T) (any, error) { return loadUint(unsafe.Pointer(&v), k), nil },
			dec: func(s string) (T, error) {
				var v T
				n, err := strconv.ParseUint(s, 10, bits)
				storeUint(unsafe.Pointer(&v), k, n)
				return v, err
			},
		}
	case k == reflect.Float32 || k == reflect.Float64:
		bits := rt.Bits()
		c = &valueCodec[T]{
			name: "float",
			enc: func(v T) (any, error) {
				if k == reflect.Float32 {
					return strconv.FormatFloat(float64(*(*float32)(unsafe.Pointer(&v))), 'g', -1, 32), nil
				}
				return strconv.FormatFloat(*(*float64)(unsafe.Pointer(&v)), 'g', -1, 64), nil
			},
			dec: func(s string) (T, error) {
				var v T
				f, err := strconv.ParseFloat(s, bits)
				if k == reflect.Float32 {
					*(*float32)(unsafe.Pointer(&v)) = float32(f)
				} else {
					*(*float64)(unsafe.Pointer(&v)) = f
				}
				return v, err
			},
		}
	case k == reflect.Bool:
		c = &valueCodec[T]{
			name: "bool",
			enc: func(v T) (any, error) {
				if *(*bool)(unsafe.Pointer(&v)) {
					return "1", nil
				}
				return "0", nil
			},
			dec: func(s string) (T, error) {
				var v T
				b, err := strconv.ParseBool(s)
				*(*bool)(unsafe.Pointer(&v)) = b
				return v, err
			},
		}
	default:
		return nil
	}
	return withDefault(c)
}

func loadInt(p unsafe.Pointer, k reflect.Kind) int64 {
	switch k {
	case reflect.Int8:
		return int64(*(*int8)(p))
	case reflect.Int16:
		return int64(*(*int16)(p))
	case reflect.Int32:
		return int64(*(*int32)(p))
	case reflect.Int64:
		return *(*int64)(p)
	}
	return int64(*(*int)(p))
}

func storeInt(p unsafe.Pointer, k reflect.Kind, n int64) {
	switch k {
	case reflect.Int8:
		*(*int8)(p) = int8(n)
	case reflect.Int16:
		*(*int16)(p) = int16(n)
	case reflect.Int32:
		*(*int32)(p) = int32(n)
	case reflect.Int64:
		*(*int64)(p) = n
	default:
		*(*int)(p) = int(n)
	}
}

func loadUint(p unsafe.Pointer, k reflect.Kind) uint64 {
	switch k {
	case reflect.Uint8:
		return uint64(*(*uint8)(p))
	case reflect.Uint16:
		return uint64(*(*uint16)(p))
	case reflect.Uint32:
		return uint64(*(*uint32)(p))
	case reflect.Uint64:
		return *(*uint64)(p)
	case reflect.Uintptr:
		return uint64(*(*uintptr)(p))
	}
	return uint64(*(*uint)(p))
}

func storeUint(p unsafe.Pointer, k reflect.Kind, n uint64) {
	switch k {
	case reflect.Uint8:
		*(*uint8)(p) = uint8(n)
	case reflect.Uint16:
		*(*uint16)(p) = uint16(n)
	case reflect.Uint32:
		*(*uint32)(p) = uint32(n)
	case reflect.Uint64:
		*(*uint64)(p) = n
	case reflect.Uintptr:
		*(*uintptr)(p) = uintptr(n)
	default:
		*(*uint)(p) = uint(n)
	}
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
