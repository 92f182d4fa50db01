package nest

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
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
// The tag `codec:"redisimnest"` selects the stored format of the original
// Python package, for every type; see [OriginalOptions].
//
// Stored values may have been written by anyone with access to Redis, so
// decoding them is defensive: a stored form larger than
// [Options.MaxValueSize] (64 MiB by default) is not decoded at all, and
// every codec's failure is a *[DecodeError] that keeps the bytes, never a
// panic. The built-in codecs also bound what a value can cost: JSON and
// MessagePack refuse nesting deeper than 10 000 levels, and MessagePack
// refuses headers that declare more bytes or elements than follow them, so
// decoding allocates at most a small multiple of the stored size. A custom
// Codec receives at most MaxValueSize bytes; it should refuse hostile input
// in the same way.
type Codec interface {
	// Name identifies the codec in tags, descriptions and errors.
	Name() string
	// Marshal encodes v, a pointer to the key's value.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into v, a pointer to a zero value. It must
	// return an error, not panic, for any data.
	Unmarshal(data []byte, v any) error
}

// Built-in codecs, selectable by name in `codec:"..."` tags.
var (
	// JSON is encoding/json; the default codec.
	JSON Codec = jsonCodec{}
	// MsgPack is MessagePack (github.com/vmihailenco/msgpack/v5). Struct
	// fields are named by their `json` tags, so one struct declaration
	// serves both codecs. Unmarshal checks the bytes before decoding them:
	// nesting deeper than 10 000 levels, a length larger than the bytes
	// that follow, bytes after the value and the reserved code 0xc1 are
	// errors, and so is a panic of the decoder.
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

// Unmarshal checks data before decoding it (internal/msgpackguard), so that
// hostile bytes can neither overflow the stack nor allocate more than their
// size justifies. A panic of the decoder (a slice as a key of a
// map[any]any, for instance) is returned as an error.
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
	// plain is T's zero value when T is a predeclared integer type, which
	// go-redis writes as the decimal text enc would make: a Key's value is
	// then handed to go-redis as it is, without calling enc (boxed in an
	// argSpace, see value.encodeArg); nil for other types.
	plain any
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
	parseDefault := func(s string) (T, error) {
		var v T
		err := json.Unmarshal([]byte(s), &v)
		return v, err
	}
	if _, ok := c.(*originalCodec); ok {
		// A schema ported from the original keeps its defaults as
		// written: default:"Unknown" on a Key[string].
		parseDefault = chooseCodec[T](nil, JSON).parseDefault
	}
	return &valueCodec[T]{
		name: c.Name(),
		enc: func(v T) (any, error) {
			b, err := c.Marshal(&v)
			return b, err
		},
		dec:          dec,
		parseDefault: parseDefault,
	}
}

func withDefault[T any](c *valueCodec[T]) *valueCodec[T] {
	c.parseDefault = c.dec
	return c
}

// encode runs the codec. Its errors do not name the key: operations
// return them inside an *OpError, which does.
func (c *valueCodec[T]) encode(_ string, v T) (any, error) {
	out, err := c.enc(v)
	if err != nil {
		return nil, fmt.Errorf("%w (%s codec): %w", ErrEncode, c.name, err)
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
