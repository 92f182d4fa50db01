package envelope

import (
	"encoding"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"strconv"
)

type decoder struct {
	cfg     Config
	path    path
	pathBuf [8]seg
}

// top decodes the value of an envelope of type typ (checked by open) into
// v; whole is the envelope itself, which for a datetime or uuid is also
// the nested form.
func (d *decoder) top(typ string, val, whole *node, v reflect.Value) error {
	switch typ {
	case "none":
		for v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem() // a pointer declared by the caller's type stays nil below
		}
		switch v.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			v.SetZero()
			return nil
		}
		return fmt.Errorf("the value None cannot be stored in %s: declare a pointer, slice, map or interface type to read it", v.Type())
	case "datetime", "uuid":
		return d.value(whole, v)
	case "float":
		f := *val
		f.isInt = false // 1 in a float envelope is 1.0
		return d.value(&f, v)
	}
	return d.value(val, v)
}

// isSpecial reports whether n is a datetime or uuid envelope, which the
// original reads as a datetime or UUID, never as a dict.
func isSpecial(n *node) bool {
	_, dt := special(n, "datetime")
	_, id := special(n, "uuid")
	return dt || id
}

// special returns the value of a nested datetime or uuid envelope.
func special(n *node, typ string) (string, bool) {
	if n.kind != kObject || len(n.elems) != 2 {
		return "", false
	}
	t, v := n.member("__type__"), n.member("value")
	if t == nil || v == nil || t.kind != kString || t.s != typ || v.kind != kString {
		return "", false
	}
	return v.s, true
}

func (d *decoder) value(n *node, v reflect.Value) error {
	if n.kind == kNull {
		switch v.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			v.SetZero()
		}
		return nil // as encoding/json: other values stay as they are
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.value(n, v.Elem())
	}
	t := v.Type()
	ti := infoOf(t)
	switch ti.special {
	case specTime:
		s, ok := special(n, "datetime")
		if !ok {
			return d.path.errorf(`want a datetime ({"__type__": "datetime", "value": ...}) for %s, got %s`, t, n.kind)
		}
		tm, err := parseISO(s, d.cfg.naive())
		if err != nil {
			return d.path.errorf("%v", err)
		}
		v.Set(reflect.ValueOf(tm))
		return nil
	case specBigInt:
		if n.kind != kNumber || !n.isInt {
			return d.path.errorf("want an int for big.Int, got %s", describe(n))
		}
		b, _ := new(big.Int).SetString(n.s, 10) // the parser checked the literal
		v.Set(reflect.ValueOf(b).Elem())
		return nil
	case specUUID:
		s, ok := special(n, "uuid")
		if !ok {
			return d.path.errorf(`want a uuid ({"__type__": "uuid", "value": ...}) for %s, got %s`, t, n.kind)
		}
		u, err := parseUUID(s)
		if err != nil {
			return d.path.errorf("%v", err)
		}
		for i, c := range u {
			v.Index(i).SetUint(uint64(c))
		}
		return nil
	case specNumber:
		if n.kind != kNumber || n.s == "NaN" || n.s == "Infinity" || n.s == "-Infinity" {
			return d.path.errorf("want a finite number for json.Number, got %s", describe(n))
		}
		v.SetString(n.s)
		return nil
	}
	if (ti.jsonU || ti.textU) && v.CanAddr() {
		pv := v.Addr()
		if ti.jsonU {
			return d.unmarshalJSON(n, pv)
		}
		if n.kind != kString {
			return d.path.errorf("want a str for %s (an encoding.TextUnmarshaler), got %s", t, describe(n))
		}
		return call(d.path, t, "UnmarshalText", func() error {
			return pv.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.s))
		})
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.NumMethod() > 0 {
			return d.path.errorf("cannot decode into the interface type %s", t)
		}
		g, err := d.generic(n)
		if err != nil {
			return err
		}
		if g == nil {
			v.SetZero()
		} else {
			v.Set(reflect.ValueOf(g))
		}
		return nil
	case reflect.Bool:
		if n.kind != kBool {
			return d.path.errorf("want a bool for %s, got %s", t, describe(n))
		}
		v.SetBool(n.b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n.kind != kNumber || !n.isInt {
			return d.path.errorf("want an int for %s, got %s", t, describe(n))
		}
		i, err := strconv.ParseInt(n.s, 10, t.Bits())
		if err != nil {
			return d.path.errorf("the int %s overflows %s", truncate(n.s), t)
		}
		v.SetInt(i)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if n.kind != kNumber || !n.isInt {
			return d.path.errorf("want an int for %s, got %s", t, describe(n))
		}
		u, err := strconv.ParseUint(n.s, 10, t.Bits())
		if err != nil {
			return d.path.errorf("the int %s overflows %s", truncate(n.s), t)
		}
		v.SetUint(u)
		return nil
	case reflect.Float32, reflect.Float64:
		if n.kind != kNumber {
			return d.path.errorf("want a float for %s, got %s", t, describe(n))
		}
		f, err := parseFloat(n.s, t.Bits())
		if err != nil {
			return d.path.errorf("%v", err)
		}
		v.SetFloat(f)
		return nil
	case reflect.String:
		if n.kind == kString {
			v.SetString(n.s)
			return nil
		}
		if s, ok := special(n, "uuid"); ok {
			if _, err := parseUUID(s); err != nil {
				return d.path.errorf("%v", err)
			}
			v.SetString(s)
			return nil
		}
		return d.path.errorf("want a str for %s, got %s", t, describe(n))
	case reflect.Slice:
		if ti.bytes {
			if n.kind != kString {
				return d.path.errorf("want a str for %s, got %s", t, describe(n))
			}
			v.SetBytes([]byte(n.s))
			return nil
		}
		if n.kind != kArray {
			return d.path.errorf("want a list for %s, got %s", t, describe(n))
		}
		s := reflect.MakeSlice(t, len(n.elems), len(n.elems))
		for i := range n.elems {
			d.path = append(d.path, seg{index: i, elem: true})
			if err := d.value(&n.elems[i], s.Index(i)); err != nil {
				return err
			}
			d.path = d.path[:len(d.path)-1]
		}
		v.Set(s)
		return nil
	case reflect.Array:
		if n.kind != kArray || len(n.elems) != v.Len() {
			return d.path.errorf("want a list of %d for %s, got %s", v.Len(), t, describe(n))
		}
		for i := range n.elems {
			d.path = append(d.path, seg{index: i, elem: true})
			if err := d.value(&n.elems[i], v.Index(i)); err != nil {
				return err
			}
			d.path = d.path[:len(d.path)-1]
		}
		return nil
	case reflect.Map:
		if n.kind != kObject || isSpecial(n) {
			return d.path.errorf("want a dict for %s, got %s", t, describe(n))
		}
		return d.dict(n, v)
	case reflect.Struct:
		if n.kind != kObject || isSpecial(n) {
			return d.path.errorf("want a dict for %s, got %s", t, describe(n))
		}
		return d.structure(n, v)
	}
	return d.path.errorf("cannot decode into a %s", t)
}

// describe names a node's kind for errors, with a number's literal.
func describe(n *node) string {
	switch {
	case n.kind == kNumber && n.isInt:
		return "the int " + truncate(n.s)
	case n.kind == kNumber:
		return "the float " + n.s
	case n.kind == kObject:
		if _, ok := special(n, "datetime"); ok {
			return "a datetime"
		}
		if _, ok := special(n, "uuid"); ok {
			return "a uuid"
		}
	}
	return n.kind.String()
}

func (d *decoder) dict(n *node, v reflect.Value) error {
	t := v.Type()
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(t, len(n.elems)))
	}
	kt, et := t.Key(), t.Elem()
	for i := range n.elems {
		m := &n.elems[i]
		d.path = append(d.path, seg{key: m.key})
		k, err := mapKeyOf(kt, m.key)
		if err != nil {
			return d.path.errorf("%v", err)
		}
		e := reflect.New(et).Elem()
		if err := d.value(m, e); err != nil {
			return err
		}
		v.SetMapIndex(k, e)
		d.path = d.path[:len(d.path)-1]
	}
	return nil
}

// mapKeyOf converts a dict key to a Go map key as encoding/json does:
// TextUnmarshalers, then strings, then integers in decimal.
func mapKeyOf(kt reflect.Type, key string) (reflect.Value, error) {
	ti := infoOf(kt)
	if ti.textU {
		k := reflect.New(kt)
		if err := k.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(key)); err != nil {
			return k, fmt.Errorf("the key does not decode as %s: %v", kt, err)
		}
		return k.Elem(), nil
	}
	k := reflect.New(kt).Elem()
	switch kt.Kind() {
	case reflect.String:
		k.SetString(key)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(key, 10, kt.Bits())
		if err != nil {
			return k, fmt.Errorf("the key is not an int that fits %s", kt)
		}
		k.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u, err := strconv.ParseUint(key, 10, kt.Bits())
		if err != nil {
			return k, fmt.Errorf("the key is not an int that fits %s", kt)
		}
		k.SetUint(u)
	default:
		return k, fmt.Errorf("unsupported map key type %s", kt)
	}
	return k, nil
}

func (d *decoder) structure(n *node, v reflect.Value) error {
	fields := cachedFields(v.Type())
	// When a dict names a field more than once, only its last member is
	// decoded, wholly: Python's json.loads keeps the last of duplicates, so
	// a struct must not merge a repeated dict or struct member the way
	// encoding/json would.
	var lastBuf [16]int
	last := lastBuf[:0]
	if len(n.elems) > 1 {
		if len(fields.list) <= len(lastBuf) {
			last = lastBuf[:len(fields.list)]
		} else {
			last = make([]int, len(fields.list))
		}
		for i := range n.elems {
			if fi := fields.index(n.elems[i].key); fi >= 0 {
				last[fi] = i
			}
		}
	}
	for i := range n.elems {
		m := &n.elems[i]
		fi := fields.index(m.key)
		if fi < 0 {
			continue // as encoding/json: unknown members are ignored
		}
		if len(last) > 0 && last[fi] != i {
			continue // a later member names the same field
		}
		f := &fields.list[fi]
		d.path = append(d.path, seg{key: m.key})
		fv, err := fieldAlloc(v, f.index)
		if err != nil {
			return d.path.errorf("%v", err)
		}
		if f.quoted && m.kind != kNull {
			if m.kind != kString {
				return d.path.errorf("want a str holding the value (a `json:\",string\"` field), got %s", describe(m))
			}
			ip, inner, err := parse([]byte(m.s))
			if err == nil {
				err = d.value(&inner, fv)
			} else {
				err = d.path.errorf("the str of a `json:\",string\"` field: %v", err)
			}
			ip.release()
			if err != nil {
				return err
			}
			d.path = d.path[:len(d.path)-1]
			continue
		}
		if err := d.value(m, fv); err != nil {
			return err
		}
		d.path = d.path[:len(d.path)-1]
	}
	return nil
}

// fieldAlloc follows index through embedded structs, allocating nil
// embedded pointers on the way.
func fieldAlloc(v reflect.Value, index []int) (reflect.Value, error) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return v, fmt.Errorf("cannot set the embedded pointer to the unexported struct %s", v.Type().Elem())
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, nil
}

// generic decodes a node into the value an empty interface receives.
func (d *decoder) generic(n *node) (any, error) {
	switch n.kind {
	case kNull:
		return nil, nil
	case kBool:
		return n.b, nil
	case kNumber:
		if n.isInt {
			if i, err := strconv.ParseInt(n.s, 10, 64); err == nil {
				return i, nil
			}
			b, _ := new(big.Int).SetString(n.s, 10)
			return b, nil
		}
		return parseFloat(n.s, 64)
	case kString:
		return n.s, nil
	case kArray:
		out := make([]any, len(n.elems))
		for i := range n.elems {
			d.path = append(d.path, seg{index: i, elem: true})
			g, err := d.generic(&n.elems[i])
			if err != nil {
				return nil, err
			}
			d.path = d.path[:len(d.path)-1]
			out[i] = g
		}
		return out, nil
	}
	if s, ok := special(n, "datetime"); ok {
		tm, err := parseISO(s, d.cfg.naive())
		if err != nil {
			return nil, d.path.errorf("%v", err)
		}
		return tm, nil
	}
	if s, ok := special(n, "uuid"); ok {
		if _, err := parseUUID(s); err != nil {
			return nil, d.path.errorf("%v", err)
		}
		return s, nil
	}
	out := make(map[string]any, len(n.elems))
	for i := range n.elems {
		m := &n.elems[i]
		d.path = append(d.path, seg{key: m.key})
		g, err := d.generic(m)
		if err != nil {
			return nil, err
		}
		d.path = d.path[:len(d.path)-1]
		out[m.key] = g
	}
	return out, nil
}

// unmarshalJSON hands the node, as standard JSON, to a json.Unmarshaler.
func (d *decoder) unmarshalJSON(n *node, pv reflect.Value) error {
	if bad := nonJSON(n); bad != "" {
		return d.path.errorf("%s cannot be passed to the UnmarshalJSON of %s: JSON has no such number", bad, pv.Type().Elem())
	}
	e := encoder{path: d.path}
	if _, err := e.node(n); err != nil {
		return err
	}
	return call(d.path, pv.Type().Elem(), "UnmarshalJSON", func() error {
		return pv.Interface().(json.Unmarshaler).UnmarshalJSON(e.b)
	})
}

// nonJSON returns the first number token of n that JSON lacks (NaN,
// Infinity, -Infinity), or "".
func nonJSON(n *node) string {
	switch n.kind {
	case kNumber:
		if n.s == "NaN" || n.s == "Infinity" || n.s == "-Infinity" {
			return n.s
		}
	case kArray, kObject:
		for i := range n.elems {
			if s := nonJSON(&n.elems[i]); s != "" {
				return s
			}
		}
	}
	return ""
}

// call runs a decoding method of the value's type, turning its error or
// panic into an error naming the place.
func call(p path, t reflect.Type, name string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = p.errorf("%s of %s panicked: %v", name, t, r)
		}
	}()
	if err := fn(); err != nil {
		return p.errorf("%s of %s: %v", name, t, err)
	}
	return nil
}
