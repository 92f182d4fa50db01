// Package envelope reads and writes values in the stored format of the
// original Python package, redisimnest (0.10.0): JSON text as Python's
// json.dumps writes it (separators ", " and ": ", ensure_ascii), wrapped in
// an envelope naming the Python type,
//
//	{"__type__": "int", "value": 42}
//
// where the type is one of int, float, str, bool, none, list, tuple, dict,
// uuid and datetime. None is stored as {"__type__": "none", "value":
// "None"}; a datetime or UUID is stored as {"__type__": "datetime",
// "value": "<isoformat>"} (or uuid and str(uuid)), at the top as inside
// lists and dicts. It needs no Redis.
//
// Go values map to Python values as follows (see [Marshal]): bool to bool;
// integers and big.Int to int; floats to float (NaN and the infinities as
// Python writes them); strings, byte slices and encoding.TextMarshaler
// values to str; time.Time to datetime; a [16]byte type named UUID to uuid;
// slices and arrays to list; maps and structs (as encoding/json sees their
// fields) to dict; nil pointers, slices, maps and interfaces to None; a
// json.Marshaler through its JSON.
package envelope

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"time"
)

// Config is the rule for datetimes without a UTC offset, which the
// original writes for naive Python datetimes.
type Config struct {
	// Naive is the location naive datetimes are read in, and written in
	// unless Aware is set. nil means UTC.
	Naive *time.Location
	// Aware writes datetimes with their UTC offset, as isoformat() writes
	// timezone-aware Python datetimes; otherwise they are written naive,
	// as their wall clock in Naive.
	Aware bool
}

func (c Config) naive() *time.Location {
	if c.Naive == nil {
		return time.UTC
	}
	return c.Naive
}

const (
	prefix = `{"__type__": "`
	infix  = `", "value": `
	// NoneValue is how the original stores None.
	noneValue = `{"__type__": "none", "value": "None"}`
)

// Marshal returns the envelope of the value v points to (v may also be the
// value itself). It fails, naming the place in the value, for what the
// original cannot store: channels, functions, complex numbers, strings that
// are not valid UTF-8, datetimes outside Python's years 1 to 9999, map keys
// that are not strings, integers or TextMarshalers, values nested deeper
// than [MaxDepth] levels.
func Marshal(v any, cfg Config) ([]byte, error) {
	if b, ok := marshalFast(v, cfg); ok {
		return b, nil
	}
	e := encoders.Get().(*encoder)
	defer e.release()
	e.cfg = cfg
	rv := reflect.ValueOf(v)
	switch t := e.pyType(rv); t {
	case "none":
		return []byte(noneValue), nil
	case "datetime", "uuid":
		// The nested form is the envelope itself.
		if _, err := e.value(rv); err != nil {
			return nil, err
		}
		return bytes.Clone(e.b), nil
	case "":
		// A json.Marshaler: its JSON decides the type. (Or an unsupported
		// type, which value reports.)
		t, err := e.value(rv)
		if err != nil {
			return nil, err
		}
		if t == "none" {
			return []byte(noneValue), nil
		}
		out := make([]byte, 0, len(prefix)+len(t)+len(infix)+len(e.b)+1)
		out = append(append(append(append(out, prefix...), t...), infix...), e.b...)
		return append(out, '}'), nil
	default:
		e.b = append(append(append(e.b, prefix...), t...), infix...)
		if _, err := e.value(rv); err != nil {
			return nil, err
		}
		e.b = append(e.b, '}')
		return bytes.Clone(e.b), nil
	}
}

// encoders are reused, with their buffers, as encoding/json reuses its
// encode states.
var encoders = sync.Pool{New: func() any { return &encoder{b: make([]byte, 0, 512), path: make(path, 0, 16)} }}

func (e *encoder) release() {
	if cap(e.b) > 64<<10 || cap(e.path) > 1<<10 {
		return // a rare huge value: let its buffers go
	}
	e.b, e.path, e.depth, e.cfg = e.b[:0], e.path[:0], 0, Config{}
	encoders.Put(e)
}

// marshalFast writes the envelope of the common scalar types without
// reflection.
func marshalFast(v any, cfg Config) ([]byte, bool) {
	b := make([]byte, 0, 48)
	switch x := v.(type) {
	case *int:
		if x == nil {
			return nil, false
		}
		b = strconv.AppendInt(append(b, `{"__type__": "int", "value": `...), int64(*x), 10)
	case *int64:
		if x == nil {
			return nil, false
		}
		b = strconv.AppendInt(append(b, `{"__type__": "int", "value": `...), *x, 10)
	case *bool:
		if x == nil {
			return nil, false
		}
		b = strconv.AppendBool(append(b, `{"__type__": "bool", "value": `...), *x)
	case *float64:
		if x == nil {
			return nil, false
		}
		b = appendFloat(append(b, `{"__type__": "float", "value": `...), *x, 64)
	case *string:
		if x == nil {
			return nil, false
		}
		var err error
		if b, err = appendString(append(b, `{"__type__": "str", "value": `...), *x); err != nil {
			return nil, false // the slow path reports it
		}
	default:
		return nil, false
	}
	return append(b, '}'), true
}

// unmarshalFast decodes the envelopes of the common scalar types as the
// original writes them, without building a tree; anything else (other
// spacing, an error) is left to the general path, which also reports.
func unmarshalFast(data []byte, v any) bool {
	inner := func(typ string) ([]byte, bool) {
		// {"__type__": "<typ>", "value": <inner>}
		n := len(prefix) + len(typ) + len(infix)
		if len(data) <= n || data[len(data)-1] != '}' || string(data[:len(prefix)]) != prefix ||
			string(data[len(prefix):len(prefix)+len(typ)]) != typ || string(data[len(prefix)+len(typ):n]) != infix {
			return nil, false
		}
		return data[n : len(data)-1], true
	}
	integer := func() (int64, bool) {
		lit, ok := inner("int")
		if !ok || len(lit) == 0 || len(lit) > 20 {
			return 0, false
		}
		digits := lit
		if digits[0] == '-' {
			digits = digits[1:]
		}
		if len(digits) == 0 || digits[0] == '0' && len(digits) > 1 {
			return 0, false
		}
		for _, c := range digits {
			if c < '0' || c > '9' {
				return 0, false
			}
		}
		i, err := strconv.ParseInt(string(lit), 10, 64)
		return i, err == nil
	}
	switch x := v.(type) {
	case *int:
		if i, ok := integer(); ok && x != nil && int64(int(i)) == i {
			*x = int(i)
			return true
		}
	case *int64:
		if i, ok := integer(); ok && x != nil {
			*x = i
			return true
		}
	case *string:
		lit, ok := inner("str")
		if !ok || x == nil || len(lit) < 2 || lit[0] != '"' {
			return false
		}
		p := parser{data: lit}
		s, err := p.str()
		if err != nil || p.pos != len(lit) {
			return false
		}
		*x = s
		return true
	case *bool:
		lit, ok := inner("bool")
		if !ok || x == nil {
			return false
		}
		switch string(lit) {
		case "true":
			*x = true
			return true
		case "false":
			*x = false
			return true
		}
	}
	return false
}

// Str returns the envelope of the str s, as the original stores its
// secrets (a Fernet token) and passwords (a bcrypt hash).
func Str(s string) ([]byte, error) {
	return Marshal(&s, Config{})
}

// Unmarshal decodes the envelope in data into the value v points to. data
// must be an envelope: a JSON object with exactly the members __type__ (a
// type the original writes) and value (of that type); anything else —
// including a value the original did not write, such as 42 or "text"
// without the envelope — is an error. The value must suit the Go type:
// an int reads into integers (an error when out of their range: never a
// wrapped value), floats and big.Int; a float into floats; a str into
// strings, byte slices and encoding.TextUnmarshalers; a datetime into
// time.Time; a uuid into strings and UUID types; None into pointers,
// slices, maps and interfaces only; a list or tuple into slices and arrays
// (of its exact length); a dict into maps and structs. Into an empty
// interface, ints read as int64 (a *big.Int beyond its range), floats as
// float64, lists as []any, dicts as map[string]any, datetimes as
// time.Time and UUIDs as strings. Inside lists and dicts, null leaves a
// value as it is (as encoding/json does) and other mismatches are errors
// naming the place: value["nested"][2].
func Unmarshal(data []byte, v any, cfg Config) error {
	if unmarshalFast(data, v) {
		return nil
	}
	p, n, err := parse(data)
	defer p.release()
	if err != nil {
		return err
	}
	typ, val, err := open(&n)
	if err != nil {
		return err
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("envelope: Unmarshal needs a non-nil pointer, got %T", v)
	}
	d := decoder{cfg: cfg}
	d.path = d.pathBuf[:0]
	return d.top(typ, val, &n, rv.Elem())
}

// UnwrapStr returns the text of a str envelope.
func UnwrapStr(data []byte) (string, error) {
	p, n, err := parse(data)
	defer p.release()
	if err != nil {
		return "", err
	}
	typ, val, err := open(&n)
	if err != nil {
		return "", err
	}
	if typ != "str" || val.kind != kString {
		return "", fmt.Errorf("want a str envelope, got __type__ %q", typ)
	}
	return val.s, nil
}

// types are the envelope types the original writes, with the JSON kind of
// their value.
var types = map[string]kind{
	"int": kNumber, "float": kNumber, "str": kString, "bool": kBool, "none": kString,
	"list": kArray, "tuple": kArray, "dict": kObject, "uuid": kString, "datetime": kString,
}

// open checks the envelope n and returns its type and value.
func open(n *node) (string, *node, error) {
	const want = `want the original's envelope {"__type__": ..., "value": ...}`
	if n.kind != kObject {
		return "", nil, fmt.Errorf("%s, got %s", want, n.kind)
	}
	var typ, val *node
	for i := range n.elems {
		m := &n.elems[i]
		switch m.key {
		case "__type__":
			if typ != nil {
				return "", nil, fmt.Errorf("%s: __type__ appears twice", want)
			}
			typ = m
		case "value":
			if val != nil {
				return "", nil, fmt.Errorf("%s: value appears twice", want)
			}
			val = m
		default:
			return "", nil, fmt.Errorf("%s, got a dict with the member %s", want, strconv.Quote(truncate(m.key)))
		}
	}
	switch {
	case typ == nil:
		return "", nil, fmt.Errorf("%s: __type__ is missing", want)
	case val == nil:
		return "", nil, fmt.Errorf("%s: value is missing", want)
	case typ.kind != kString:
		return "", nil, fmt.Errorf("%s: __type__ is %s, not a string", want, typ.kind)
	}
	k, ok := types[typ.s]
	switch {
	case !ok:
		return "", nil, fmt.Errorf("unknown __type__ %s (the original writes int, float, str, bool, none, list, tuple, dict, uuid and datetime)", strconv.Quote(truncate(typ.s)))
	case typ.s == "none":
		if !(val.kind == kString && val.s == "None") && val.kind != kNull {
			return "", nil, fmt.Errorf(`__type__ none wants the value "None", got %s`, val.kind)
		}
	case val.kind != k || typ.s == "int" && !val.isInt:
		got := val.kind.String()
		if val.kind == kNumber {
			got = "the number " + truncate(val.s)
		}
		return "", nil, fmt.Errorf("__type__ %s does not match its value, %s", typ.s, got)
	}
	return typ.s, val, nil
}
