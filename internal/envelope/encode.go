package envelope

import (
	"encoding"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	timeType            = reflect.TypeFor[time.Time]()
	bigIntType          = reflect.TypeFor[big.Int]()
	numberType          = reflect.TypeFor[json.Number]()
	jsonMarshalerType   = reflect.TypeFor[json.Marshaler]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// isUUID reports whether t is a UUID type: a [16]byte named UUID, such as
// github.com/google/uuid.UUID and github.com/gofrs/uuid.UUID. Its values
// are the original's uuid.UUID.
func isUUID(t reflect.Type) bool {
	return t.Name() == "UUID" && t.Kind() == reflect.Array && t.Len() == 16 && t.Elem().Kind() == reflect.Uint8
}

// encoder writes Go values as json.dumps writes the matching Python values.
type encoder struct {
	b     []byte
	cfg   Config
	depth int
	path  path
}

// path is the position in a value being encoded or decoded, for error
// messages: value["name"][2]. Encoders and decoders keep it as a stack, so
// that walking a value allocates nothing for it.
type path []seg

type seg struct {
	key   string
	index int
	elem  bool
}

func (p path) String() string {
	b := []byte("value")
	for _, s := range p {
		if s.elem {
			b = strconv.AppendInt(append(b, '['), int64(s.index), 10)
		} else {
			b = strconv.AppendQuote(append(b, '['), truncate(s.key))
		}
		b = append(b, ']')
	}
	return string(b)
}

func (p path) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %s", p, fmt.Sprintf(format, args...))
}

// pyType returns the envelope type of v as far as its Go type tells it, or
// "" when only encoding tells (a json.Marshaler), or "none" for nil.
func (e *encoder) pyType(v reflect.Value) string {
	if !v.IsValid() {
		return "none"
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return "none"
		}
		v = v.Elem()
	}
	t := v.Type()
	ti := infoOf(t)
	switch {
	case ti.special == specTime:
		return "datetime"
	case ti.special == specBigInt:
		return "int"
	case ti.special == specUUID:
		return "uuid"
	case ti.special == specNumber:
		if strings.ContainsAny(v.String(), ".eE") {
			return "float"
		}
		return "int"
	case ti.jsonM.has(v):
		return ""
	case ti.textM.has(v):
		return "str"
	}
	switch v.Kind() {
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "int"
	case reflect.Float32, reflect.Float64:
		return "float"
	case reflect.String:
		return "str"
	case reflect.Slice:
		if v.IsNil() {
			return "none"
		}
		if ti.bytes {
			return "str"
		}
		return "list"
	case reflect.Array:
		return "list"
	case reflect.Map:
		if v.IsNil() {
			return "none"
		}
		return "dict"
	case reflect.Struct:
		return "dict"
	}
	return "" // unsupported: encoding reports it
}

// method returns v, or its address, as the interface iface.
func method[I any](v reflect.Value) I {
	if i, ok := v.Interface().(I); ok {
		return i
	}
	return v.Addr().Interface().(I)
}

// isBytes reports whether t is a byte slice that encoding/json would write
// as a string: its element type has no marshaling method of its own.
func isBytes(t reflect.Type) bool {
	if t.Kind() != reflect.Slice || t.Elem().Kind() != reflect.Uint8 {
		return false
	}
	pe := reflect.PointerTo(t.Elem())
	return !pe.Implements(jsonMarshalerType) && !pe.Implements(textMarshalerType)
}

// value writes v as a nested JSON value and returns its envelope type.
func (e *encoder) value(v reflect.Value) (string, error) {
	if !v.IsValid() {
		e.b = append(e.b, "null"...)
		return "none", nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			e.b = append(e.b, "null"...)
			return "none", nil
		}
		e.depth++
		if e.depth > MaxDepth {
			return "", e.path.errorf("nested deeper than %d levels (a cyclic value?)", MaxDepth)
		}
		t, err := e.value(v.Elem())
		e.depth--
		return t, err
	}
	t := v.Type()
	ti := infoOf(t)
	switch {
	case ti.special == specTime:
		return "datetime", e.datetime(v.Interface().(time.Time))
	case ti.special == specBigInt:
		n := v.Interface().(big.Int)
		e.b = n.Append(e.b, 10)
		return "int", nil
	case ti.special == specUUID:
		var u [16]byte
		for i := range u {
			u[i] = byte(v.Index(i).Uint())
		}
		e.b = append(e.b, `{"__type__": "uuid", "value": "`...)
		e.b = appendUUID(e.b, u)
		e.b = append(e.b, `"}`...)
		return "uuid", nil
	case ti.special == specNumber:
		return e.number(v.String())
	case ti.jsonM.has(v):
		return e.marshalJSON(v)
	case ti.textM.has(v):
		txt, err := method[encoding.TextMarshaler](v).MarshalText()
		if err != nil {
			return "", e.path.errorf("MarshalText of %s: %v", t, err)
		}
		return "str", e.str(string(txt))
	}
	switch v.Kind() {
	case reflect.Bool:
		e.b = strconv.AppendBool(e.b, v.Bool())
		return "bool", nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.b = strconv.AppendInt(e.b, v.Int(), 10)
		return "int", nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.b = strconv.AppendUint(e.b, v.Uint(), 10)
		return "int", nil
	case reflect.Float32:
		e.b = appendFloat(e.b, v.Float(), 32)
		return "float", nil
	case reflect.Float64:
		e.b = appendFloat(e.b, v.Float(), 64)
		return "float", nil
	case reflect.String:
		return "str", e.str(v.String())
	case reflect.Slice:
		if v.IsNil() {
			e.b = append(e.b, "null"...)
			return "none", nil
		}
		if ti.bytes {
			return "str", e.str(string(v.Bytes()))
		}
		return "list", e.list(v)
	case reflect.Array:
		return "list", e.list(v)
	case reflect.Map:
		if v.IsNil() {
			e.b = append(e.b, "null"...)
			return "none", nil
		}
		return "dict", e.dict(v)
	case reflect.Struct:
		return "dict", e.structure(v)
	}
	return "", e.path.errorf("cannot encode a value of type %s (the original's values are int, float, str, bool, None, list, dict, datetime and UUID)", t)
}

func (e *encoder) str(s string) error {
	var err error
	if e.b, err = appendString(e.b, s); err != nil {
		return e.path.errorf("a string that is not valid UTF-8: the original's str values are Unicode text")
	}
	return nil
}

// datetime writes t as the original writes a datetime inside a container:
// {"__type__": "datetime", "value": "<isoformat>"}. Without Config.Aware,
// t is written naive, as its wall clock in Config.Naive.
func (e *encoder) datetime(t time.Time) error {
	if !e.cfg.Aware {
		t = t.In(e.cfg.naive())
	}
	e.b = append(e.b, `{"__type__": "datetime", "value": "`...)
	var err error
	if e.b, err = appendISO(e.b, t, e.cfg.Aware); err != nil {
		return e.path.errorf("%v", err)
	}
	e.b = append(e.b, `"}`...)
	return nil
}

func (e *encoder) number(lit string) (string, error) {
	if lit == "" {
		lit = "0" // as encoding/json writes an empty json.Number
	}
	if !json.Valid([]byte(lit)) || strings.ContainsAny(lit, "{[\"tfn") {
		return "", e.path.errorf("invalid json.Number %q", truncate(lit))
	}
	e.b = append(e.b, lit...)
	if strings.ContainsAny(lit, ".eE") {
		return "float", nil
	}
	return "int", nil
}

// marshalJSON writes what v's MarshalJSON returns, re-spaced as json.dumps
// spaces it and with its strings escaped as json.dumps escapes them.
func (e *encoder) marshalJSON(v reflect.Value) (string, error) {
	if v.Kind() == reflect.Pointer && v.IsNil() {
		e.b = append(e.b, "null"...)
		return "none", nil
	}
	out, err := method[json.Marshaler](v).MarshalJSON()
	if err != nil {
		return "", e.path.errorf("MarshalJSON of %s: %v", v.Type(), err)
	}
	p, n, err := parse(out)
	defer p.release()
	if err != nil {
		return "", e.path.errorf("MarshalJSON of %s returned %v", v.Type(), err)
	}
	return e.node(&n)
}

// node writes a parsed value in json.dumps's spacing and escaping.
func (e *encoder) node(n *node) (string, error) {
	switch n.kind {
	case kNull:
		e.b = append(e.b, "null"...)
		return "none", nil
	case kBool:
		e.b = strconv.AppendBool(e.b, n.b)
		return "bool", nil
	case kNumber:
		e.b = append(e.b, n.s...)
		if n.isInt {
			return "int", nil
		}
		return "float", nil
	case kString:
		return "str", e.str(n.s)
	case kArray:
		e.b = append(e.b, '[')
		for i := range n.elems {
			if i > 0 {
				e.b = append(e.b, ", "...)
			}
			if _, err := e.node(&n.elems[i]); err != nil {
				return "", err
			}
		}
		e.b = append(e.b, ']')
		return "list", nil
	}
	e.b = append(e.b, '{')
	for i := range n.elems {
		if i > 0 {
			e.b = append(e.b, ", "...)
		}
		if err := e.str(n.elems[i].key); err != nil {
			return "", err
		}
		e.b = append(e.b, ": "...)
		if _, err := e.node(&n.elems[i]); err != nil {
			return "", err
		}
	}
	e.b = append(e.b, '}')
	return "dict", nil
}

func (e *encoder) enter() error {
	e.depth++
	if e.depth > MaxDepth {
		return e.path.errorf("nested deeper than %d levels (a cyclic value?)", MaxDepth)
	}
	return nil
}

func (e *encoder) list(v reflect.Value) error {
	if err := e.enter(); err != nil {
		return err
	}
	e.b = append(e.b, '[')
	for i := range v.Len() {
		if i > 0 {
			e.b = append(e.b, ", "...)
		}
		e.path = append(e.path, seg{index: i, elem: true})
		if _, err := e.value(v.Index(i)); err != nil {
			return err
		}
		e.path = e.path[:len(e.path)-1]
	}
	e.b = append(e.b, ']')
	e.depth--
	return nil
}

type mapEntry struct {
	key string
	val reflect.Value
}

// dict writes a map with its keys as strings, sorted (Go maps have no
// order; encoding/json sorts them too).
func (e *encoder) dict(v reflect.Value) error {
	if err := e.enter(); err != nil {
		return err
	}
	entries := make([]mapEntry, 0, v.Len())
	it := v.MapRange()
	for it.Next() {
		k, err := mapKey(it.Key())
		if err != nil {
			return e.path.errorf("%v", err)
		}
		entries = append(entries, mapEntry{k, it.Value()})
	}
	slices.SortFunc(entries, func(a, b mapEntry) int { return strings.Compare(a.key, b.key) })
	e.b = append(e.b, '{')
	for i, en := range entries {
		if i > 0 {
			e.b = append(e.b, ", "...)
		}
		if err := e.str(en.key); err != nil {
			return err
		}
		e.b = append(e.b, ": "...)
		e.path = append(e.path, seg{key: en.key})
		if _, err := e.value(en.val); err != nil {
			return err
		}
		e.path = e.path[:len(e.path)-1]
	}
	e.b = append(e.b, '}')
	e.depth--
	return nil
}

// mapKey returns the string form of a map key, as encoding/json makes it:
// strings as they are, then TextMarshalers, then integers in decimal.
func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return "", nil
		}
		b, err := tm.MarshalText()
		return string(b), err
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", fmt.Errorf("unsupported map key type %s (use string, integer or encoding.TextMarshaler keys)", k.Type())
}

func (e *encoder) structure(v reflect.Value) error {
	if err := e.enter(); err != nil {
		return err
	}
	e.b = append(e.b, '{')
	first := true
	fields := cachedFields(v.Type())
	for i := range fields.list {
		f := &fields.list[i]
		fv, ok := fieldByIndex(v, f.index)
		if !ok || f.omitEmpty && isEmpty(fv) || f.omitZero && isZero(fv) {
			continue
		}
		if !first {
			e.b = append(e.b, ", "...)
		}
		first = false
		e.b = append(e.b, f.nameJSON...)
		e.path = append(e.path, seg{key: f.name})
		var err error
		if f.quoted {
			err = e.quoted(fv)
		} else {
			_, err = e.value(fv)
		}
		if err != nil {
			return err
		}
		e.path = e.path[:len(e.path)-1]
	}
	e.b = append(e.b, '}')
	e.depth--
	return nil
}

// quoted writes a `json:",string"` field: the value's JSON text inside a
// string, as encoding/json does.
func (e *encoder) quoted(v reflect.Value) error {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			e.b = append(e.b, "null"...)
			return nil
		}
		v = v.Elem()
	}
	inner := encoder{cfg: e.cfg, path: e.path}
	if _, err := inner.value(v); err != nil {
		return err
	}
	return e.str(string(inner.b))
}

// fieldByIndex follows index through embedded structs; ok is false when a
// nil embedded pointer leaves the field out.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return v, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

// isEmpty is encoding/json's omitempty test.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// isZero is encoding/json's omitzero test: an IsZero method, else the zero
// value.
func isZero(v reflect.Value) bool {
	if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return true
		}
		return z.IsZero()
	}
	if v.CanAddr() {
		if z, ok := v.Addr().Interface().(interface{ IsZero() bool }); ok {
			return z.IsZero()
		}
	}
	return v.IsZero()
}
