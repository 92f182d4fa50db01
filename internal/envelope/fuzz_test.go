package envelope

import (
	"math"
	"reflect"
	"testing"
	"time"
)

// FuzzUnmarshal: any bytes decode without a panic, and the fast path of the
// common scalars agrees with the general one (the same value, and never
// accepting what it refuses).
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{
		`{"__type__": "int", "value": 42}`, `{"__type__": "int", "value": -0}`, `{"__type__": "int", "value": 007}`,
		`{"__type__": "int", "value": 9223372036854775808}`, `{"__type__": "str", "value": "h\u00e9\"llo"}`,
		`{"__type__": "str", "value": "a" }`, `{"__type__": "str", "value": "a""}`, `{"__type__": "bool", "value": true}`,
		`{"__type__": "bool", "value": tru}`, `{"__type__": "float", "value": NaN}`, `{"__type__": "int", "value": 1}}`,
		`{"__type__": "dict", "value": {"a": [1, 2.5, null, {"__type__": "datetime", "value": "2025-05-07T10:21:44"}]}}`,
	} {
		f.Add([]byte(s))
	}
	cfg := Config{Naive: time.UTC}
	f.Fuzz(func(t *testing.T, data []byte) {
		var a any
		_ = Unmarshal(data, &a, cfg)
		for _, v := range []any{new(int), new(int64), new(string), new(bool)} {
			fast := unmarshalFast(data, v)
			slow := reflect.New(reflect.TypeOf(v).Elem())
			err := slowUnmarshal(data, slow.Interface(), cfg)
			if fast && (err != nil || !reflect.DeepEqual(reflect.ValueOf(v).Elem().Interface(), slow.Elem().Interface())) {
				t.Fatalf("%q into %T: the fast path read %v, the general one %v, %v", data, v, reflect.ValueOf(v).Elem(), slow.Elem(), err)
			}
		}
		var f64 float64
		if err := Unmarshal(data, &f64, cfg); err == nil && !math.IsNaN(f64) {
			b, err := Marshal(&f64, cfg)
			var back float64
			if err != nil || Unmarshal(b, &back, cfg) != nil || back != f64 {
				t.Fatalf("float %v wrote %s, read back %v", f64, b, back)
			}
		}
	})
}

// slowUnmarshal is Unmarshal without its fast path.
func slowUnmarshal(data []byte, v any, cfg Config) error {
	p, n, err := parse(data)
	defer p.release()
	if err != nil {
		return err
	}
	typ, val, err := open(&n)
	if err != nil {
		return err
	}
	d := decoder{cfg: cfg}
	return d.top(typ, val, &n, reflect.ValueOf(v).Elem())
}
