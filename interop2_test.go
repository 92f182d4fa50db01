package nest_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fernet/fernet-go"
	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/original"
	"github.com/redisimnest/nest/internal/redistest"
)

// Adversarial review of running beside the Python original: hostile
// envelopes, Fernet tokens and bcrypt hashes planted in Redis, concurrent
// rehashes, and a Reencrypt migration interrupted by a dying server.

type (
	i2Rec struct {
		A int            `json:"a"`
		M map[string]int `json:"m"`
		N *i2Rec         `json:"n"`
	}
	i2Vals struct {
		nest.Namespace `nest:"i2" ttl:"1h"`
		Int            nest.Key[int]            `nest:"int"`
		Int64          nest.Key[int64]          `nest:"int64"`
		Str            nest.Key[string]         `nest:"str"`
		Bool           nest.Key[bool]           `nest:"bool"`
		List           nest.Key[[]string]       `nest:"list"`
		Floats         nest.Key[[]float64]      `nest:"floats"`
		Ints           nest.Key[[]int]          `nest:"ints"`
		Map            nest.Key[map[string]any] `nest:"map"`
		Any            nest.Key[any]            `nest:"any"`
		Float          nest.Key[float64]        `nest:"float"`
		Time           nest.Key[time.Time]      `nest:"time"`
		Rec            nest.Key[i2Rec]          `nest:"rec"`
		Bytes          nest.Key[[]byte]         `nest:"bytes"`
		Ptr            nest.Key[*int]           `nest:"ptr"`
	}
	i2Secrets struct {
		nest.Namespace `nest:"i2s" ttl:"1h"`
		Tok            nest.Secret[string] `nest:"tok" codec:"redisimnest"`
		Blob           nest.Secret[[]byte] `nest:"blob" codec:"redisimnest"`
		Ours           nest.Secret[string] `nest:"ours"` // nest's format, migrating
	}
	i2Passwords struct {
		nest.Namespace `nest:"i2p" ttl:"1h"`
		Kept           nest.Password `nest:"kept" codec:"redisimnest"`
		Ours           nest.Password `nest:"ours"`
	}
	i2MigUser struct {
		nest.Namespace `nest:"u:{id}" ttl:"1h"`
		Token          nest.Secret[string] `nest:"token"`
	}
	i2Mig struct {
		nest.Namespace `nest:"i2m"`
		User           nest.Sub[i2MigUser]
	}
)

// i2Readers returns one reader per key of the schema: it Gets the value and
// returns it (as any) with the error.
func i2Readers(r *i2Vals) map[string]func(context.Context) (any, error) {
	rd := func(name string, f func(context.Context) (any, error)) (string, func(context.Context) (any, error)) {
		return name, f
	}
	out := map[string]func(context.Context) (any, error){}
	add := func(name string, f func(context.Context) (any, error)) { n, g := rd(name, f); out[n] = g }
	add(r.Int.Name(), func(ctx context.Context) (any, error) { return r.Int.Get(ctx) })
	add(r.Int64.Name(), func(ctx context.Context) (any, error) { return r.Int64.Get(ctx) })
	add(r.Str.Name(), func(ctx context.Context) (any, error) { return r.Str.Get(ctx) })
	add(r.Bool.Name(), func(ctx context.Context) (any, error) { return r.Bool.Get(ctx) })
	add(r.List.Name(), func(ctx context.Context) (any, error) { return r.List.Get(ctx) })
	add(r.Floats.Name(), func(ctx context.Context) (any, error) { return r.Floats.Get(ctx) })
	add(r.Ints.Name(), func(ctx context.Context) (any, error) { return r.Ints.Get(ctx) })
	add(r.Map.Name(), func(ctx context.Context) (any, error) { return r.Map.Get(ctx) })
	add(r.Any.Name(), func(ctx context.Context) (any, error) { return r.Any.Get(ctx) })
	add(r.Float.Name(), func(ctx context.Context) (any, error) { return r.Float.Get(ctx) })
	add(r.Time.Name(), func(ctx context.Context) (any, error) { return r.Time.Get(ctx) })
	add(r.Rec.Name(), func(ctx context.Context) (any, error) { return r.Rec.Get(ctx) })
	add(r.Bytes.Name(), func(ctx context.Context) (any, error) { return r.Bytes.Get(ctx) })
	add(r.Ptr.Name(), func(ctx context.Context) (any, error) { return r.Ptr.Get(ctx) })
	return out
}

// i2Guard runs f with a deadline, turning a panic or a hang into a test
// failure.
func i2Guard(t *testing.T, what string, limit time.Duration, f func() (any, error)) (v any, err error) {
	t.Helper()
	type res struct {
		v   any
		err error
		p   any
	}
	ch := make(chan res, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- res{p: p}
			}
		}()
		v, err := f()
		ch <- res{v: v, err: err}
	}()
	select {
	case r := <-ch:
		if r.p != nil {
			t.Fatalf("%s: panic: %v", what, r.p)
		}
		return r.v, r.err
	case <-time.After(limit):
		t.Fatalf("%s: no answer within %v", what, limit)
	}
	return nil, nil
}

// i2AssertDecodeError: err is a *DecodeError naming the key and keeping
// the bytes, and its text names the key.
func i2AssertDecodeError(t *testing.T, what, key string, raw []byte, v any, err error) {
	t.Helper()
	var de *nest.DecodeError
	switch {
	case !errors.As(err, &de):
		t.Errorf("%s: %s: got %v, %v; want a *nest.DecodeError", what, key, trunc(fmt.Sprintf("%#v", v)), err)
	case de.Key != key || !strings.Contains(err.Error(), key):
		t.Errorf("%s: %s: the error does not name the key: Key=%q, %v", what, key, de.Key, err)
	case string(de.Raw) != string(raw):
		t.Errorf("%s: %s: DecodeError.Raw (%d bytes) is not the stored value (%d bytes)", what, key, len(de.Raw), len(raw))
	case !errors.Is(err, nest.ErrDecode):
		t.Errorf("%s: %s: %v does not match ErrDecode", what, key, err)
	}
}

func trunc(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

func i2Env(typ, val string) string { return `{"__type__": "` + typ + `", "value": ` + val + `}` }

// Every hostile envelope, read into every Go type a ported schema may
// declare, is a *DecodeError naming the key and keeping the bytes; no
// panic, no hang, no wrapped value.
func TestInterop2HostileEnvelopes(t *testing.T) {
	rdb := newRedis(t)
	ctx := t.Context()
	r := nest.MustNew[i2Vals](rdb, &nest.Options{Original: nest.OriginalOptions{Values: true}})
	deepList := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	deepDict := strings.Repeat(`{"a": `, 10001) + "1" + strings.Repeat("}", 10001)
	deepMixed := strings.Repeat(`[{"a": `, 5001) + "1" + strings.Repeat("}]", 5001)
	big := "1" + strings.Repeat("0", 4300) // 4301 digits: beyond Python's limit
	ok := i2Env("int", "42")
	hostile := map[string]string{
		// wrong or odd __type__
		"upper INT":          i2Env("INT", "42"),
		"int __type__":       `{"__type__": 1, "value": 42}`,
		"null __type__":      `{"__type__": null, "value": 42}`,
		"list __type__":      `{"__type__": ["int"], "value": 42}`,
		"__type__ w/ space":  i2Env("int ", "42"),
		"__type__ w/ NUL":    `{"__type__": "int\u0000", "value": 42}`,
		"set":                i2Env("set", "[1]"),
		"bytes":              i2Env("bytes", `"aGk="`),
		"decimal":            i2Env("Decimal", `"1.5"`),
		"extra member":       `{"__type__": "int", "value": 42, "x": 1}`,
		"__class__":          `{"__type__": "int", "value": 42, "__class__": "int"}`,
		"empty object":       `{}`,
		"missing value":      `{"__type__": "str"}`,
		"missing __type__":   `{"value": "x"}`,
		"only other member":  `{"a": 1}`,
		"dup __type__ first": `{"__type__": "str", "__type__": "int", "value": 42}`,
		"dup value":          `{"__type__": "int", "value": 1, "value": 2}`,
		"dup value str":      `{"__type__": "str", "value": "a", "value": "b"}`,
		"dup value bool":     `{"__type__": "bool", "value": true, "value": false}`,
		// value of the wrong JSON type
		"int as str":        i2Env("int", `"42"`),
		"int as float":      i2Env("int", "42.0"),
		"int as exp":        i2Env("int", "4e1"),
		"int as bool":       i2Env("int", "true"),
		"int as null":       i2Env("int", "null"),
		"int as list":       i2Env("int", "[42]"),
		"int NaN":           i2Env("int", "NaN"),
		"str as int":        i2Env("str", "42"),
		"str as list":       i2Env("str", `["a"]`),
		"str as null":       i2Env("str", "null"),
		"bool as int":       i2Env("bool", "1"),
		"bool as str":       i2Env("bool", `"true"`),
		"float as str":      i2Env("float", `"1.5"`),
		"float as bool":     i2Env("float", "false"),
		"list as dict":      i2Env("list", "{}"),
		"list as str":       i2Env("list", `"ab"`),
		"tuple as dict":     i2Env("tuple", `{"a": 1}`),
		"dict as list":      i2Env("dict", "[]"),
		"dict as str":       i2Env("dict", `"{}"`),
		"none as 0":         i2Env("none", "0"),
		"none as none":      i2Env("none", `"none"`),
		"none as list":      i2Env("none", `[]`),
		"datetime as int":   i2Env("datetime", "1746613304"),
		"datetime garbage":  i2Env("datetime", `"yesterday"`),
		"datetime month 13": i2Env("datetime", `"2025-13-07T10:21:44"`),
		"datetime feb 30":   i2Env("datetime", `"2025-02-30T10:21:44"`),
		"datetime tz 25h":   i2Env("datetime", `"2025-05-07T10:21:44+25:00"`),
		"uuid garbage":      i2Env("uuid", `"zz"`),
		"uuid as int":       i2Env("uuid", "1"),
		// huge numbers
		"int 4301 digits":  i2Env("int", big),
		"int -4301 digits": i2Env("int", "-"+big),
		"int 100k digits":  i2Env("int", "9"+strings.Repeat("9", 100000)),
		"int leading zero": i2Env("int", "042"),
		"int plus":         i2Env("int", "+42"),
		"int minus zero":   i2Env("int", "-"),
		// nesting beyond 10 000
		"deep list":  i2Env("list", deepList),
		"deep dict":  i2Env("dict", deepDict),
		"deep mixed": i2Env("list", deepMixed),
		"deep env":   strings.Repeat(`{"__type__": "dict", "value": `, 10001) + "{}" + strings.Repeat("}", 10001),
		// invalid UTF-8
		"str 0xff":           i2Env("str", "\"a\xffb\""),
		"str overlong":       i2Env("str", "\"\xc0\xaf\""),
		"str cesu surrogate": i2Env("str", "\"\xed\xa0\x80\""),
		"str truncated rune": i2Env("str", "\"\xe2\x82\""),
		"dict key 0xff":      i2Env("dict", "{\"\xff\": 1}"),
		"list elem 0xfe":     i2Env("list", "[\"\xfe\"]"),
		"__type__ 0xff":      "{\"__type__\xff\": \"int\", \"value\": 42}",
		"bom":                "\xef\xbb\xbf" + ok,
		"latin-1":            i2Env("str", "\"caf\xe9\""),
		"bad escape":         i2Env("str", `"\x41"`),
		"short \\u":          i2Env("str", `"\u12"`),
		"raw control":        i2Env("str", "\"a\x01b\""),
		"raw newline":        i2Env("str", "\"a\nb\""),
		// Python-only tokens misspelled
		"nan lower":     i2Env("float", "nan"),
		"NAN":           i2Env("float", "NAN"),
		"+Infinity":     i2Env("float", "+Infinity"),
		"-NaN":          i2Env("float", "-NaN"),
		"Infinit":       i2Env("float", "Infinit"),
		"inf":           i2Env("float", "inf"),
		"True":          i2Env("bool", "True"),
		"None literal":  i2Env("none", "None"),
		"single quotes": `{'__type__': 'int', 'value': 42}`,
		// bare JSON, no envelope
		"bare int":    "42",
		"bare str":    `"hello"`,
		"bare list":   `[1, 2]`,
		"bare null":   "null",
		"bare true":   "true",
		"bare NaN":    "NaN",
		"empty":       "",
		"spaces":      "   ",
		"bare nested": `{"value": {"__type__": "int", "value": 42}}`,
		// trailing (and leading) garbage
		"trailing x":        ok + "x",
		"trailing brace":    ok + "}",
		"trailing NUL":      ok + "\x00",
		"two envelopes":     ok + " " + ok,
		"trailing comma":    ok + ",",
		"comma in object":   `{"__type__": "int", "value": 42,}`,
		"trailing comment":  ok + "// x",
		"leading garbage":   "x" + ok,
		"str then garbage":  i2Env("str", `"a"`) + `"}`,
		"str inner garbage": `{"__type__": "str", "value": "a" "b"}`,
		"int inner garbage": `{"__type__": "int", "value": 4 2}`,
		"truncated":         ok[:len(ok)-1],
		"truncated str":     `{"__type__": "str", "value": "abc`,
		"unterminated esc":  `{"__type__": "str", "value": "abc\`,
	}
	readers := i2Readers(r)
	for name, raw := range hostile {
		for key, get := range readers {
			must(t, rdb.Set(ctx, key, raw, 0).Err())
			v, err := i2Guard(t, name+" "+key, 20*time.Second, func() (any, error) { return get(ctx) })
			i2AssertDecodeError(t, name, key, []byte(raw), v, err)
		}
	}
}

// Envelopes that are well-formed but do not fit a Go type: NaN and
// infinities inside containers, nulls, big ints; errors name the place and
// the key, and what does fit reads and writes back byte for byte.
func TestInterop2ContainersNaN(t *testing.T) {
	rdb := newRedis(t)
	ctx := t.Context()
	r := nest.MustNew[i2Vals](rdb, &nest.Options{Original: nest.OriginalOptions{Values: true}})
	readers := i2Readers(r)

	// Fit: NaN and infinities into []float64 and any, written back as Python wrote them.
	for _, tc := range []struct {
		key string
		raw string
	}{
		{r.Floats.Name(), i2Env("list", "[NaN, Infinity, -Infinity, 1.5]")},
		{r.Any.Name(), i2Env("list", "[NaN, Infinity, -Infinity, 1.5, 18446744073709551617]")},
		{r.Any.Name(), i2Env("dict", `{"a": NaN, "b": [Infinity], "c": {"d": -Infinity}}`)},
		{r.Map.Name(), i2Env("dict", `{"a": NaN, "b": [Infinity], "c": {"d": -Infinity}}`)},
		{r.Float.Name(), i2Env("float", "NaN")},
		{r.Float.Name(), i2Env("float", "-Infinity")},
	} {
		must(t, rdb.Set(ctx, tc.key, tc.raw, 0).Err())
		v, err := i2Guard(t, tc.raw, 10*time.Second, func() (any, error) { return readers[tc.key](ctx) })
		if err != nil {
			t.Errorf("%s holding %s: %v", tc.key, tc.raw, err)
			continue
		}
		// Write back through the same key and compare the bytes.
		var werr error
		switch x := v.(type) {
		case []float64:
			if !math.IsNaN(x[0]) || !math.IsInf(x[1], 1) || !math.IsInf(x[2], -1) {
				t.Errorf("%s: %v", tc.key, x)
			}
			werr = r.Floats.Set(ctx, x)
		case float64:
			if tc.key != r.Float.Name() {
				t.Fatalf("%s: a float64 for another key than %s", tc.key, r.Float)
			}
			werr = r.Float.Set(ctx, x)
		case map[string]any:
			if tc.key == r.Map.Name() {
				werr = r.Map.Set(ctx, x)
			} else {
				werr = r.Any.Set(ctx, x)
			}
		default:
			werr = r.Any.Set(ctx, x)
		}
		if werr != nil {
			t.Errorf("%s: writing back %v: %v", tc.key, v, werr)
			continue
		}
		if got := rawGet(t, rdb, tc.key); got != tc.raw {
			t.Errorf("%s: round trip\n got  %s\n want %s", tc.key, got, tc.raw)
		}
	}

	// Python's json.loads reads 1e400 as inf; so does nest, and writes it
	// back as Python writes inf.
	must(t, rdb.Set(ctx, r.Any.Name(), i2Env("float", "1e400"), 0).Err())
	if v, err := r.Any.Get(ctx); err != nil || v != math.Inf(1) {
		t.Errorf("1e400 into any: %v, %v; want +Inf as Python", v, err)
	} else if must(t, r.Any.Set(ctx, v)); rawGet(t, rdb, r.Any.Name()) != i2Env("float", "Infinity") {
		t.Errorf("+Inf written back as %s", rawGet(t, rdb, r.Any.Name()))
	}

	// Do not fit: a *DecodeError naming the key and the place.
	for _, tc := range []struct {
		key   string
		raw   string
		place string
	}{
		{r.Ints.Name(), i2Env("list", "[1, NaN]"), "[1]"},
		{r.Ints.Name(), i2Env("list", "[1, 2.5]"), "[1]"},
		{r.Ints.Name(), i2Env("list", "[1, 18446744073709551617]"), "[1]"},
		{r.List.Name(), i2Env("list", `["a", 1]`), "[1]"},
		{r.Rec.Name(), i2Env("dict", `{"a": NaN}`), `["a"]`},
		{r.Rec.Name(), i2Env("dict", `{"a": Infinity}`), `["a"]`},
		{r.Rec.Name(), i2Env("dict", `{"m": {"x": NaN}}`), `["x"]`},
		{r.Rec.Name(), i2Env("dict", `{"n": {"n": {"a": "x"}}}`), `["a"]`},
		{r.Rec.Name(), i2Env("dict", `{"a": 1e400}`), `["a"]`},
		{r.Int.Name(), i2Env("int", "18446744073709551617"), ""},
		{r.Int64.Name(), i2Env("int", "-9223372036854775809"), ""},
		{r.Ptr.Name(), i2Env("int", "1"+strings.Repeat("0", 30)), ""},
		{r.Time.Name(), i2Env("list", `[{"__type__": "datetime", "value": "2025-05-07T10:21:44"}]`), ""},
		{r.Bool.Name(), i2Env("none", `"None"`), ""},
		// A datetime or uuid envelope is a datetime or UUID for the
		// original, never a dict with the members __type__ and value.
		{r.Map.Name(), i2Env("datetime", `"2025-05-07T10:21:44"`), ""},
		{r.Rec.Name(), i2Env("datetime", `"2025-05-07T10:21:44"`), ""},
		{r.Map.Name(), i2Env("uuid", `"12345678-1234-5678-1234-567812345678"`), ""},
		{r.Rec.Name(), i2Env("uuid", `"12345678-1234-5678-1234-567812345678"`), ""},
		{r.Rec.Name(), i2Env("dict", `{"n": {"__type__": "datetime", "value": "2025-05-07T10:21:44"}}`), `["n"]`},
		{r.Rec.Name(), i2Env("dict", `{"m": {"__type__": "uuid", "value": "12345678-1234-5678-1234-567812345678"}}`), `["m"]`},
	} {
		must(t, rdb.Set(ctx, tc.key, tc.raw, 0).Err())
		v, err := i2Guard(t, tc.raw, 10*time.Second, func() (any, error) { return readers[tc.key](ctx) })
		i2AssertDecodeError(t, tc.raw, tc.key, []byte(tc.raw), v, err)
		if err != nil && tc.place != "" && !strings.Contains(err.Error(), tc.place) {
			t.Errorf("%s holding %s: the error does not name the place %s: %v", tc.key, tc.raw, tc.place, err)
		}
	}
}

// Duplicate keys inside a dict: Python's json.loads keeps the last one,
// wholly; nest must read what Python reads (no parser differential that a
// writer could use to show Go and Python two different values).
func TestInterop2DuplicateDictKeys(t *testing.T) {
	rdb := newRedis(t)
	ctx := t.Context()
	r := nest.MustNew[i2Vals](rdb, &nest.Options{Original: nest.OriginalOptions{Values: true}})
	must(t, rdb.Set(ctx, r.Map.Name(), i2Env("dict", `{"a": 1, "a": "x"}`), 0).Err())
	if m, err := r.Map.Get(ctx); err != nil || m["a"] != "x" {
		t.Errorf("map: %v, %v; want a = x, as Python", m, err)
	}
	must(t, rdb.Set(ctx, r.Rec.Name(), i2Env("dict", `{"a": 1, "a": 2}`), 0).Err())
	if v, err := r.Rec.Get(ctx); err != nil || v.A != 2 {
		t.Errorf("struct: %+v, %v; want a = 2, as Python", v, err)
	}
	// A nested dict repeated: Python keeps only the last one.
	must(t, rdb.Set(ctx, r.Rec.Name(), i2Env("dict", `{"m": {"x": 1}, "m": {"y": 2}}`), 0).Err())
	if v, err := r.Rec.Get(ctx); err != nil || !reflect.DeepEqual(v.M, map[string]int{"y": 2}) {
		t.Errorf("struct with a repeated dict member: %+v, %v; want m = {y: 2}, as Python reads it", v, err)
	}
	must(t, rdb.Set(ctx, r.Rec.Name(), i2Env("dict", `{"n": {"a": 1}, "n": {"m": {"z": 3}}}`), 0).Err())
	if v, err := r.Rec.Get(ctx); err != nil || v.N == nil || v.N.A != 0 || !reflect.DeepEqual(v.N.M, map[string]int{"z": 3}) {
		t.Errorf("struct with a repeated struct member: %+v, %v; want n = {m: {z: 3}} (a = 0), as Python reads it", v, err)
	}
	must(t, rdb.Set(ctx, r.Rec.Name(), i2Env("dict", `{"m": {"x": 1}, "m": null}`), 0).Err())
	if v, err := r.Rec.Get(ctx); err != nil || v.M != nil {
		t.Errorf("struct with a dict member then null: %+v, %v; want m = nil, as Python reads None", v, err)
	}
}

// 64 MiB strings: beyond the default MaxValueSize a *DecodeError matching
// ErrTooLarge; without a limit, read in full, no hang.
func TestInterop2HugeString(t *testing.T) {
	rdb := newRedis(t)
	ctx := t.Context()
	payload := strings.Repeat("a", 64<<20)
	raw := `{"__type__": "str", "value": "` + payload + `"}`
	r := nest.MustNew[i2Vals](rdb, &nest.Options{Original: nest.OriginalOptions{Values: true}})
	must(t, rdb.Set(ctx, r.Str.Name(), raw, 0).Err())
	v, err := i2Guard(t, "64 MiB", time.Minute, func() (any, error) { return r.Str.Get(ctx) })
	i2AssertDecodeError(t, "64 MiB str", r.Str.Name(), []byte(raw), v, err)
	if !errors.Is(err, nest.ErrTooLarge) {
		t.Errorf("64 MiB: %v does not match ErrTooLarge", trunc(fmt.Sprint(err)))
	}
	un := nest.MustNew[i2Vals](rdb, &nest.Options{MaxValueSize: -1, Original: nest.OriginalOptions{Values: true}})
	v, err = i2Guard(t, "64 MiB unlimited", time.Minute, func() (any, error) { return un.Str.Get(ctx) })
	if s, _ := v.(string); err != nil || len(s) != len(payload) {
		t.Errorf("64 MiB without a limit: %d bytes, %v", len(s), err)
	}
	// 64 MiB of invalid UTF-8 at the very end, and of \u escapes.
	bad := `{"__type__": "str", "value": "` + payload[:len(payload)-1] + "\xff" + `"}`
	must(t, rdb.Set(ctx, un.Str.Name(), bad, 0).Err())
	v, err = i2Guard(t, "64 MiB bad UTF-8", time.Minute, func() (any, error) { return un.Str.Get(ctx) })
	i2AssertDecodeError(t, "64 MiB bad UTF-8", un.Str.Name(), []byte(bad), v, err)
	esc := `{"__type__": "str", "value": "` + strings.Repeat(`\u00e9`, 64<<20/6) + `"}`
	must(t, rdb.Set(ctx, un.Str.Name(), esc, 0).Err())
	v, err = i2Guard(t, "64 MiB escapes", time.Minute, func() (any, error) { return un.Str.Get(ctx) })
	if s, _ := v.(string); err != nil || len(s) != 2*(64<<20/6) {
		t.Errorf("64 MiB of escapes: %d bytes, %v", len(s), err)
	}
	// A 64 MiB dict key in a map.
	key := `{"__type__": "dict", "value": {"` + payload + `": 1}}`
	must(t, rdb.Set(ctx, un.Map.Name(), key, 0).Err())
	v, err = i2Guard(t, "64 MiB dict key", time.Minute, func() (any, error) { return un.Map.Get(ctx) })
	if m, _ := v.(map[string]any); err != nil || len(m) != 1 {
		t.Errorf("a 64 MiB dict key: %d members, %v", len(m), err)
	}
}

// ---- Fernet ----

const i2Plain = "top secret"

func i2FernetKey(t *testing.T, s nest.FernetKey) *fernet.Key {
	t.Helper()
	k, err := fernet.DecodeKey(string(s))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// i2Token seals msg at ts with key, in a str envelope.
func i2Token(t *testing.T, key nest.FernetKey, msg string, ts time.Time) string {
	t.Helper()
	tok, err := fernet.EncryptAndSignAtTime([]byte(msg), i2FernetKey(t, key), ts)
	if err != nil {
		t.Fatal(err)
	}
	return i2Env("str", `"`+string(tok)+`"`)
}

// i2Resign rebuilds a token from raw bytes (version|ts|iv|ct) with a
// valid HMAC under key.
func i2Resign(t *testing.T, key nest.FernetKey, body []byte) string {
	t.Helper()
	k := i2FernetKey(t, key)
	raw := append([]byte(nil), body...)
	mac := hmacSHA256(k[:16], raw)
	raw = append(raw, mac...)
	return i2Env("str", `"`+base64.URLEncoding.EncodeToString(raw)+`"`)
}

func i2AssertSecretErr(t *testing.T, what, key, raw string, v any, err error) {
	t.Helper()
	var de *nest.DecodeError
	switch {
	case err == nil:
		t.Errorf("%s: %s: opened as %q; want an error", what, key, v)
	case !errors.Is(err, nest.ErrDecode) && !errors.Is(err, nest.ErrDecrypt):
		t.Errorf("%s: %s: %v; want ErrDecode or ErrDecrypt", what, key, err)
	case !strings.Contains(err.Error(), key):
		t.Errorf("%s: %s: the error does not name the key: %v", what, key, err)
	case len(raw) > 40 && strings.Contains(err.Error(), raw[30:len(raw)-5]):
		t.Errorf("%s: %s: the error quotes the token: %v", what, key, err)
	case strings.Contains(err.Error(), i2Plain):
		t.Errorf("%s: %s: the error quotes the plaintext: %v", what, key, err)
	case errors.As(err, &de) && len(de.Raw) > 0:
		t.Errorf("%s: %s: a secret's DecodeError keeps the token in Raw", what, key)
	}
}

// Fernet tokens truncated, tampered with, under another key, with odd
// timestamps: errors naming the key (never the token or plaintext), never
// a panic; what Python's Fernet.decrypt (without ttl) opens, nest opens.
func TestInterop2FernetHostile(t *testing.T) {
	rdb := newRedis(t)
	ctx := t.Context()
	r := nest.MustNew[i2Secrets](rdb, &nest.Options{
		SecretKeys: []nest.SecretKey{newSecretKey(t, "k1")},
		Original:   nest.OriginalOptions{EncryptionKey: goldenFernetKey},
	})
	good := i2Token(t, goldenFernetKey, i2Plain, time.Now())
	tok := good[len(`{"__type__": "str", "value": "`) : len(good)-2]
	body, err := base64.URLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	type getter struct {
		key string
		get func(context.Context) (any, error)
	}
	getters := []getter{
		{r.Tok.Name(), func(ctx context.Context) (any, error) { return r.Tok.Get(ctx) }},
		{r.Blob.Name(), func(ctx context.Context) (any, error) { b, err := r.Blob.Get(ctx); return string(b), err }},
		{r.Ours.Name(), func(ctx context.Context) (any, error) { return r.Ours.Get(ctx) }},
	}
	opens := func(what, raw, want string) {
		t.Helper()
		for _, g := range getters {
			must(t, rdb.Set(ctx, g.key, raw, 0).Err())
			v, err := i2Guard(t, what, 10*time.Second, func() (any, error) { return g.get(ctx) })
			if err != nil || v != want {
				t.Errorf("%s: %s: %q, %v; want %q (Python opens it)", what, g.key, v, err, want)
			}
		}
	}
	fails := func(what, raw string) {
		t.Helper()
		for _, g := range getters {
			must(t, rdb.Set(ctx, g.key, raw, 0).Err())
			v, err := i2Guard(t, what, 10*time.Second, func() (any, error) { return g.get(ctx) })
			i2AssertSecretErr(t, what, g.key, raw, v, err)
		}
	}
	opens("fresh token", good, i2Plain)
	opens("timestamp in year 9999", i2Token(t, goldenFernetKey, i2Plain, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)), i2Plain)
	opens("timestamp 0", i2Token(t, goldenFernetKey, i2Plain, time.Unix(0, 0)), i2Plain)
	maxTS := append([]byte(nil), body[:len(body)-32]...)
	binary.BigEndian.PutUint64(maxTS[1:9], math.MaxUint64)
	opens("timestamp 2^64-1", i2Resign(t, goldenFernetKey, maxTS), i2Plain)
	opens("empty plaintext", i2Token(t, goldenFernetKey, "", time.Now()), "")
	opens("escaped slash in the envelope", strings.Replace(good, "gAAAAA", `gAAAAA`, 1), i2Plain)

	// Truncated at every length, as text and as bytes.
	for n := 0; n < len(tok); n++ {
		fails(fmt.Sprintf("token truncated to %d chars", n), i2Env("str", `"`+tok[:n]+`"`))
	}
	for n := 0; n < len(body); n += 7 {
		fails(fmt.Sprintf("token truncated to %d bytes", n), i2Env("str", `"`+base64.URLEncoding.EncodeToString(body[:n])+`"`))
	}
	// Every byte flipped.
	for i := range body {
		b := append([]byte(nil), body...)
		b[i] ^= 0x01
		fails(fmt.Sprintf("byte %d flipped", i), i2Env("str", `"`+base64.URLEncoding.EncodeToString(b)+`"`))
	}
	// Re-signed but malformed inside: wrong version, bad padding, no
	// ciphertext, a ciphertext not a multiple of the block size.
	v0 := append([]byte(nil), body[:len(body)-32]...)
	v0[0] = 0x81
	fails("version 0x81, re-signed", i2Resign(t, goldenFernetKey, v0))
	fails("no ciphertext, re-signed", i2Resign(t, goldenFernetKey, body[:25]))
	fails("ciphertext of 15 bytes, re-signed", i2Resign(t, goldenFernetKey, body[:25+15]))
	// A block whose decryption has bad PKCS7 padding: replace the last
	// ciphertext block with random bytes and re-sign.
	padBad := append([]byte(nil), body[:len(body)-32]...)
	for i := len(padBad) - 16; i < len(padBad); i++ {
		padBad[i] ^= 0x5a
	}
	fails("bad padding, re-signed", i2Resign(t, goldenFernetKey, padBad))
	// Another key.
	other := nest.FernetKey(base64.URLEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))
	fails("another key", i2Token(t, other, i2Plain, time.Now()))
	// Not tokens.
	for name, raw := range map[string]string{
		"no envelope":        tok,
		"int envelope":       i2Env("int", "42"),
		"list envelope":      i2Env("list", `["`+tok+`"]`),
		"unpadded":           i2Env("str", `"`+strings.TrimRight(tok, "=")+`"`),
		"whitespace inside":  i2Env("str", `"`+tok[:20]+` `+tok[20:]+`"`),
		"empty str":          i2Env("str", `""`),
		"bcrypt hash":        i2Env("str", `"$2b$12$Fgg/KoouEnSkWw.hoYkwKeEV/O8pgz4z6ZRiQq5WWs7oSFCUP4cQW"`),
		"huge token":         i2Env("str", `"gAAAAA`+strings.Repeat("A", 1<<20)+`"`),
		"trailing garbage":   good + "x",
		"invalid UTF-8":      i2Env("str", "\"gAAAAA\xff\""),
		"dup value":          `{"__type__": "str", "value": "x", "value": "` + tok + `"}`,
		"nest's sealed junk": "\x01\x02k1" + strings.Repeat("\x00", 40),
	} {
		fails(name, raw)
	}
	// A token of non-UTF-8 plaintext: Python's original cannot decode it
	// to str (it raises); nest's Secret[string] must not return invalid text.
	notText := i2Token(t, goldenFernetKey, "a\xffb", time.Now())
	must(t, rdb.Set(ctx, r.Tok.Name(), notText, 0).Err())
	if v, err := r.Tok.Get(ctx); err == nil {
		t.Errorf("a token of non-UTF-8 plaintext opened into Secret[string] as %q", v)
	}
}

// ---- bcrypt ----

// Hashes planted in Redis: a huge cost is refused at once (no hashing
// slot tied up for hours), garbage is an error naming the key; neither
// panics, and a wrong password never verifies.
func TestInterop2BcryptHostile(t *testing.T) {
	rdb := newRedis(t)
	ctx := t.Context()
	r := nest.MustNew[i2Passwords](rdb, &nest.Options{Password: fastPasswords, Original: nest.OriginalOptions{BcryptCost: 4}})
	salt := "Fgg/KoouEnSkWw.hoYkwKeEV/O8pgz4z6ZRiQq5WWs7oSFCUP4cQW"
	hostile := map[string]string{
		"cost 31":              i2Env("str", `"$2b$31$`+salt+`"`),
		"cost 99":              i2Env("str", `"$2b$99$`+salt+`"`),
		"cost 15":              i2Env("str", `"$2b$15$`+salt+`"`),
		"cost 03":              i2Env("str", `"$2b$03$`+salt+`"`),
		"cost 00":              i2Env("str", `"$2b$00$`+salt+`"`),
		"cost -1":              i2Env("str", `"$2b$-1$`+salt+`"`),
		"cost 1 digit":         i2Env("str", `"$2b$4$`+salt+`"`),
		"cost letters":         i2Env("str", `"$2b$ab$`+salt+`"`),
		"short":                i2Env("str", `"$2b$12$short"`),
		"empty after cost":     i2Env("str", `"$2b$12$"`),
		"just prefix":          i2Env("str", `"$2b$"`),
		"$2x$":                 i2Env("str", `"$2x$12$`+salt+`"`),
		"$2$":                  i2Env("str", `"$2$12$`+salt+`"`),
		"bad base64":           i2Env("str", `"$2b$12$`+strings.Repeat("!", 53)+`"`),
		"too long":             i2Env("str", `"$2b$12$`+salt+strings.Repeat("A", 1<<16)+`"`),
		"plain text":           i2Env("str", `"hunter2"`),
		"empty":                i2Env("str", `""`),
		"int envelope":         i2Env("int", "12"),
		"list envelope":        i2Env("list", `["$2b$12$`+salt+`"]`),
		"none envelope":        i2Env("none", `"None"`),
		"bare garbage":         "garbage",
		"bare empty":           "",
		"argon2 huge memory":   "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"argon2 huge t":        "$argon2id$v=19$m=64,t=4294967295,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"envelope trailing":    i2Env("str", `"$2b$04$`+salt+`"`) + "x",
		"invalid UTF-8":        i2Env("str", "\"$2b$04$\xff"+salt[1:]+"\""),
		"bcrypt bare NUL":      "$2b$12$" + salt + "\x00",
		"bcrypt 59 chars":      i2Env("str", `"$2b$12$`+salt[:52]+`"`),
		"bcrypt bad char":      i2Env("str", `"$2b$12$`+salt[:52]+`!"`),
		"deep envelope":        strings.Repeat(`{"__type__": "dict", "value": `, 10001) + "{}" + strings.Repeat("}", 10001),
		"64 KiB of $":          strings.Repeat("$", 1<<16),
		"str of 1 MiB garbage": i2Env("str", `"`+strings.Repeat("x", 1<<20)+`"`),
	}
	for name, raw := range hostile {
		for _, p := range []nest.Password{r.Kept, r.Ours} {
			must(t, rdb.Set(ctx, p.Name(), raw, 0).Err())
			start := time.Now()
			v, err := i2Guard(t, name, 10*time.Second, func() (any, error) { return p.Verify(ctx, "hunter2") })
			if ok, _ := v.(bool); ok {
				t.Errorf("%s: %s: a hostile hash verified", name, p)
			}
			if err == nil || !strings.Contains(err.Error(), p.Name()) || !errors.Is(err, nest.ErrDecode) {
				t.Errorf("%s: %s: Verify = %v, %v; want an ErrDecode naming the key", name, p, v, err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%s: %s: Verify took %v", name, p, d)
			}
			if got := rawGet(t, rdb, p.Name()); got != raw {
				t.Errorf("%s: %s: the hostile value was rewritten", name, p)
			}
		}
	}
}

// 64 goroutines verify the same bcrypt password at once: all match, the
// hash is replaced exactly once (the compare-and-set lets one through),
// the password still verifies after, and the TTL is kept.
func TestInterop2ConcurrentRehash(t *testing.T) {
	base := newRedis(t)
	// A client of our own, so that the hook counting the rehashes does not
	// stay on a shared one.
	var rdb redis.UniversalClient
	switch c := base.(type) {
	case *redis.Client:
		rdb = redis.NewClient(c.Options())
	case *redis.ClusterClient:
		rdb = redis.NewClusterClient(c.Options())
	default:
		t.Fatalf("unexpected client %T", base)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	var rehashes, casCalls atomic.Int64
	rdb.AddHook(casCounter{&rehashes, &casCalls})
	ctx := t.Context()

	for _, tc := range []struct {
		name      string
		bcryptTo  int
		pick      func(*i2Passwords) nest.Password
		wantAfter string
	}{
		{"to argon2id", 12, func(r *i2Passwords) nest.Password { return r.Ours }, "$argon2id$"},
		{"to a dearer bcrypt", 5, func(r *i2Passwords) nest.Password { return r.Kept }, `{"__type__": "str", "value": "$2b$05$`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rehashes.Store(0)
			casCalls.Store(0)
			r := nest.MustNew[i2Passwords](rdb, &nest.Options{Password: fastPasswords, Original: nest.OriginalOptions{BcryptCost: tc.bcryptTo}})
			p := tc.pick(r)
			h, err := original.BcryptNew("hunter2", 4)
			if err != nil {
				t.Fatal(err)
			}
			stored := i2Env("str", strconv.Quote(h))
			must(t, rdb.Set(ctx, p.Name(), stored, time.Hour).Err())
			var wg sync.WaitGroup
			var fails atomic.Int64
			start := make(chan struct{})
			for i := range 64 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					pw := "hunter2"
					if i%8 == 7 {
						pw = "wrong"
					}
					ok, err := p.Verify(ctx, pw)
					if err != nil || ok != (pw == "hunter2") {
						fails.Add(1)
						t.Errorf("goroutine %d: Verify(%q) = %v, %v", i, pw, ok, err)
					}
				}()
			}
			close(start)
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(2 * time.Minute):
				t.Fatal("64 concurrent Verify calls did not finish")
			}
			if n := rehashes.Load(); n != 1 {
				t.Errorf("%d rehashes (%d compare-and-set calls); want exactly 1", n, casCalls.Load())
			}
			after := rawGet(t, rdb, p.Name())
			if !strings.HasPrefix(after, tc.wantAfter) {
				t.Errorf("after: %s; want %s...", after, tc.wantAfter)
			}
			if ok, err := p.Verify(ctx, "hunter2"); !ok || err != nil {
				t.Errorf("after the rehash, Verify = %v, %v", ok, err)
			}
			if ok, err := p.Verify(ctx, "wrong"); ok || err != nil {
				t.Errorf("after the rehash, a wrong password: %v, %v", ok, err)
			}
			if ttl := rdb.PTTL(ctx, p.Name()).Val(); ttl < 59*time.Minute {
				t.Errorf("TTL after the rehash: %v", ttl)
			}
			t.Logf("%d compare-and-set calls, %d applied", casCalls.Load(), rehashes.Load())
		})
	}
}

// casCounter counts the compare-and-set scripts that replaced a value.
type casCounter struct{ applied, calls *atomic.Int64 }

func (casCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h casCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.count(cmd)
		return err
	}
}
func (h casCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			h.count(c)
		}
		return err
	}
}
func (h casCounter) count(cmd redis.Cmder) {
	if n := cmd.Name(); n != "evalsha" && n != "eval" {
		return
	}
	c, ok := cmd.(*redis.Cmd)
	if !ok || c.Err() != nil {
		return
	}
	h.calls.Add(1)
	if v, _ := c.Int64(); v == 1 {
		h.applied.Add(1)
	}
}

// ---- Reencrypt, interrupted ----

// killHook SIGKILLs the server after `after` pipelines carrying a
// compare-and-set script.
type killHook struct {
	pid   int
	after int64
	seen  *atomic.Int64
	once  *sync.Once
}

func (killHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (killHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h killHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		evals := false
		for _, c := range cmds {
			if n := c.Name(); n == "evalsha" || n == "eval" {
				evals = true
			}
		}
		if evals && h.seen.Add(1) == h.after {
			// Die while this batch is on its way: some of its rewrites
			// may be applied, none acknowledged.
			h.once.Do(func() { _ = syscall.Kill(h.pid, syscall.SIGKILL) })
		}
		return next(ctx, cmds)
	}
}

// A Reencrypt of the original's secrets whose server dies mid-way: it
// stops with an error, and a run against the restarted server (AOF,
// fsync always) finishes the job; every value opens to what was stored,
// TTLs are kept, and a third run has nothing to do.
func TestInterop2ReencryptKilled(t *testing.T) {
	if onCluster {
		t.Skip("runs its own standalone server")
	}
	dir := t.TempDir()
	args := []string{"--appendonly", "yes", "--appendfsync", "always", "--dir", dir}
	srv := redistest.Start(t, args...)
	rdb := srv.Client(t, 0)
	ctx := t.Context()
	const users = 3000
	v1 := nest.MustNew[i2Mig](rdb, &nest.Options{Original: nest.OriginalOptions{Secrets: true, EncryptionKey: goldenFernetKey}})
	pipe := rdb.Pipeline()
	for i := range users {
		tok := v1.User.At(i).Token
		pipe.Set(ctx, tok.Name(), i2Token(t, goldenFernetKey, "secret-"+strconv.Itoa(i), time.Now()), time.Hour)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := rdb.Info(ctx, "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	pid := 0
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "process_id:"); ok {
			pid, _ = strconv.Atoi(v)
		}
	}
	if pid == 0 {
		t.Fatal("no process_id")
	}

	ring := []nest.SecretKey{newSecretKey(t, "k1")}
	opts := &nest.Options{SecretKeys: ring, ScanCount: 100, Original: nest.OriginalOptions{EncryptionKey: goldenFernetKey}}
	killer := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, DialTimeout: 300 * time.Millisecond, ReadTimeout: time.Second})
	t.Cleanup(func() { _ = killer.Close() })
	killer.AddHook(killHook{pid: pid, after: 5, seen: new(atomic.Int64), once: new(sync.Once)})
	v2 := nest.MustNew[i2Mig](killer, opts)
	n1, err := i2Guard(t, "Reencrypt, killed", time.Minute, func() (any, error) { return v2.Reencrypt(ctx) })
	if err == nil {
		t.Fatalf("Reencrypt through a killed server: %v, no error", n1)
	}
	t.Logf("first run: %v, %v", n1, err)
	srv.Stop()

	srv2 := redistest.Start(t, args...)
	rdb2 := srv2.Client(t, 0)
	if n := rdb2.DBSize(ctx).Val(); n != users {
		t.Fatalf("after the restart, %d keys; want %d", n, users)
	}
	v3 := nest.MustNew[i2Mig](rdb2, opts)
	n2, err := v3.Reencrypt(ctx)
	if err != nil {
		t.Fatalf("second run: %d, %v", n2, err)
	}
	if n1.(int64)+n2 > users || n2 == 0 {
		t.Errorf("first run %v + second run %d; want at most %d, the second not 0", n1, n2, users)
	}
	if n3, err := v3.Reencrypt(ctx); n3 != 0 || err != nil {
		t.Errorf("third run: %d, %v; want nothing to do", n3, err)
	}
	// Without the original's key: every value is in nest's format and opens.
	v4 := nest.MustNew[i2Mig](rdb2, &nest.Options{SecretKeys: ring})
	for i := range users {
		tok := v4.User.At(i).Token
		if s, err := tok.Get(ctx); err != nil || s != "secret-"+strconv.Itoa(i) {
			t.Fatalf("%s after the migration: %q, %v", tok, s, err)
		}
		if ttl := rdb2.PTTL(ctx, tok.Name()).Val(); ttl <= 0 || ttl > time.Hour {
			t.Fatalf("%s: TTL %v after the migration", tok, ttl)
		}
	}
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}
