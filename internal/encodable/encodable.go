// Package encodable finds the parts of a Go type that encoding/json or
// MessagePack (github.com/vmihailenco/msgpack/v5) refuse to encode whatever
// the value — channels, functions, complex numbers, unsafe pointers, maps
// with unsupported key types — so that a schema can refuse such a type when
// it is declared instead of at the first write.
//
// The walk follows each codec's own rules: a type (or its pointer) with a
// marshaling method is encoded by that method and not looked into; only
// the struct fields the codec encodes are visited (exported ones, embedded
// ones, not those tagged "-"). It errs on the side of accepting: a
// [Problem] is a candidate, and [Problem.Probe] builds a value that
// reaches it, so that the caller can confirm it with the codec itself
// (which also respects anything registered with the codec at run time).
package encodable

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/vmihailenco/msgpack/v5"
)

// Rules selects the codec whose rules [Check] applies.
type Rules uint8

const (
	JSON    Rules = iota // encoding/json
	MsgPack              // msgpack/v5 with struct fields named by `json` tags
)

// Problem is a part of a type that the codec cannot encode.
type Problem struct {
	Path  string       // where in the type: "" (the type itself), ".Done", "[]", ".Tags[key]", ".Tags[value].Ch"
	Type  reflect.Type // the type found there
	Why   string       // "unsupported type", or "unsupported map key type bool"
	Field bool         // Path ends at a struct field, which a `json:"-"` tag would leave out
	steps []step
}

type stepKind uint8

const (
	stepElem   stepKind = iota // pointer target, slice or array element
	stepField                  // struct field i
	stepMapKey                 // map key
	stepMapVal                 // map value
)

type step struct {
	kind stepKind
	i    int
}

var (
	jsonMarshalerType    = reflect.TypeFor[json.Marshaler]()
	textMarshalerType    = reflect.TypeFor[encoding.TextMarshaler]()
	binaryMarshalerType  = reflect.TypeFor[encoding.BinaryMarshaler]()
	msgpackMarshalerType = reflect.TypeFor[msgpack.Marshaler]()
	msgpackCustomType    = reflect.TypeFor[msgpack.CustomEncoder]()
)

// Check returns the parts of t that the codec cannot encode, in the order
// they are met, each type reported once; nil when there are none.
func Check(t reflect.Type, r Rules) []Problem {
	w := walker{rules: r, seen: map[reflect.Type]bool{}}
	w.walk(t, "", nil, false)
	return w.found
}

type walker struct {
	rules Rules
	seen  map[reflect.Type]bool
	found []Problem
}

func (w *walker) report(t reflect.Type, path string, steps []step, field bool, why string) {
	w.found = append(w.found, Problem{Path: path, Type: t, Why: why, Field: field, steps: append([]step(nil), steps...)})
}

// marshals reports whether the codec encodes t (or *t, as it does for
// addressable values) through a method instead of by its structure.
func (w *walker) marshals(t reflect.Type) bool {
	ifaces := []reflect.Type{jsonMarshalerType, textMarshalerType}
	if w.rules == MsgPack {
		ifaces = []reflect.Type{msgpackCustomType, msgpackMarshalerType, binaryMarshalerType, textMarshalerType}
	}
	for _, it := range ifaces {
		if t.Implements(it) || (t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(it)) {
			return true
		}
	}
	return false
}

func (w *walker) walk(t reflect.Type, path string, steps []step, field bool) {
	if w.seen[t] || w.marshals(t) {
		return
	}
	w.seen[t] = true
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
		w.report(t, path, steps, field, "unsupported type")
	case reflect.Pointer, reflect.Slice:
		sub := "[]"
		if t.Kind() == reflect.Pointer {
			sub = ""
		}
		w.walk(t.Elem(), path+sub, append(steps, step{kind: stepElem}), false)
	case reflect.Array:
		if t.Len() > 0 { // an empty array encodes as [] whatever its element
			w.walk(t.Elem(), path+"[]", append(steps, step{kind: stepElem}), false)
		}
	case reflect.Map:
		if w.rules == JSON {
			if !jsonMapKey(t.Key()) {
				w.report(t, path, steps, field, "unsupported map key type "+t.Key().String())
			}
		} else {
			w.walk(t.Key(), path+"[key]", append(steps, step{kind: stepMapKey}), false)
		}
		w.walk(t.Elem(), path+"[value]", append(steps, step{kind: stepMapVal}), false)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !w.encodesField(f) {
				continue
			}
			w.walk(f.Type, path+"."+f.Name, append(steps, step{kind: stepField, i: i}), true)
		}
	}
}

// jsonMapKey reports whether encoding/json accepts k as a map key type.
func jsonMapKey(k reflect.Type) bool {
	switch k.Kind() {
	case reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return k.Implements(textMarshalerType)
}

// encodesField reports whether the codec encodes struct field f (for an
// embedded struct: looks into it).
func (w *walker) encodesField(f reflect.StructField) bool {
	if w.rules == MsgPack {
		// msgpack/v5 reads the msgpack tag, else (as nest configures it)
		// the json tag; it skips "-" and unexported fields that are not
		// embedded.
		tag := f.Tag.Get("msgpack")
		if tag == "" {
			tag = f.Tag.Get("json")
		}
		if name, _, _ := strings.Cut(tag, ","); name == "-" {
			return false
		}
		return f.IsExported() || f.Anonymous
	}
	// encoding/json skips `json:"-"` (but not `json:"-,"`, a field named
	// "-"), unexported fields, and embedded fields of unexported
	// non-struct types.
	if f.Tag.Get("json") == "-" {
		return false
	}
	if f.Anonymous {
		t := f.Type
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		return f.IsExported() || t.Kind() == reflect.Struct
	}
	return f.IsExported()
}

// Probe returns a pointer to a new value of t (the type given to [Check])
// in which the way to p is filled in — pointers allocated, one element in
// slices and maps — and p's own value is non-zero where it can be (an open
// channel, a function, 1+0i, a map with one entry), so that encoding the
// value reaches p even past omitempty. ok is false when the way passes
// through a field that cannot be set (an unexported embedded struct).
func (p Problem) Probe(t reflect.Type) (v any, ok bool) {
	pv := reflect.New(t)
	if !fill(pv.Elem(), p.steps) {
		return nil, false
	}
	return pv.Interface(), true
}

// fill sets v, a settable zero value, so that it reaches the end of steps.
func fill(v reflect.Value, steps []step) bool {
	t := v.Type()
	if len(steps) == 0 {
		switch t.Kind() {
		case reflect.Chan:
			v.Set(reflect.MakeChan(reflect.ChanOf(reflect.BothDir, t.Elem()), 0).Convert(t))
		case reflect.Func:
			v.Set(reflect.MakeFunc(t, func([]reflect.Value) []reflect.Value {
				out := make([]reflect.Value, t.NumOut())
				for i := range out {
					out[i] = reflect.Zero(t.Out(i))
				}
				return out
			}))
		case reflect.Complex64, reflect.Complex128:
			v.SetComplex(1)
		case reflect.Map:
			m := reflect.MakeMapWithSize(t, 1)
			m.SetMapIndex(reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem())
			v.Set(m)
		}
		return true
	}
	s, rest := steps[0], steps[1:]
	switch t.Kind() {
	case reflect.Pointer:
		e := reflect.New(t.Elem())
		if !fill(e.Elem(), rest) {
			return false
		}
		v.Set(e)
	case reflect.Slice:
		e := reflect.New(t.Elem()).Elem()
		if !fill(e, rest) {
			return false
		}
		v.Set(reflect.Append(v, e))
	case reflect.Array:
		return fill(v.Index(0), rest)
	case reflect.Map:
		k, e := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
		target := e
		if s.kind == stepMapKey {
			target = k
		}
		if !fill(target, rest) {
			return false
		}
		m := reflect.MakeMapWithSize(t, 1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		f := v.Field(s.i)
		if !f.CanSet() {
			return false
		}
		return fill(f, rest)
	default:
		panic(fmt.Sprintf("encodable: step into %s", t)) // Check never records one
	}
	return true
}
