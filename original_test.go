package nest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
)

// Running beside the original Python package: its stored format, read and
// written through real Redis. The golden data is what the original
// (redisimnest 0.10.0) stored in a real run: testdata/original, a copy of
// the shared stored-samples.json.

type (
	// interopItem declares the original's namespace of the golden samples
	// (interop:item:{item_id}, TTL 300 s) key by key, with the tag.
	interopItem struct {
		nest.Namespace `nest:"item:{item_id}" ttl:"300s"`
		N              nest.Key[int]            `nest:"n" codec:"redisimnest"`
		S              nest.Key[string]         `nest:"s" codec:"redisimnest"`
		L              nest.Key[[]string]       `nest:"l" codec:"redisimnest"`
		D              nest.Key[map[string]any] `nest:"d" codec:"redisimnest"`
		T              nest.Key[time.Time]      `nest:"t" codec:"redisimnest"`
		None           nest.Key[*string]        `nest:"none" codec:"redisimnest"`
		B              nest.Key[bool]           `nest:"b" codec:"redisimnest"`
		F              nest.Key[float64]        `nest:"f" codec:"redisimnest"`
		Secret         nest.Secret[string]      `nest:"secret" codec:"redisimnest"`
		Password       nest.Password            `nest:"password" codec:"redisimnest"`
	}

	// interopWide declares the same namespace without tags, in the
	// original's format through OriginalOptions, with keys for the
	// samples that have none.
	interopWide struct {
		nest.Namespace `nest:"item:{item_id}" ttl:"300s"`
		N              nest.Key[int]            `nest:"n"`
		S              nest.Key[string]         `nest:"s" default:"Unknown"`
		D              nest.Key[map[string]any] `nest:"d"`
		T              nest.Key[time.Time]      `nest:"t"`
		Secret         nest.Secret[string]      `nest:"secret"`
		Password       nest.Password            `nest:"password"`
		Aware          nest.Key[time.Time]      `nest:"aware"`
		Huge           nest.Key[int64]          `nest:"huge"`
		HugeBig        nest.Key[*big.Int]       `nest:"huge_big"`
		HugeAny        nest.Key[any]            `nest:"huge_any"`
		NaN            nest.Key[float64]        `nest:"nan"`
		IntKeys        nest.Key[map[int]any]    `nest:"int_keys"`
		Tuple          nest.Key[map[string]any] `nest:"tuple"`
		Native         nest.Key[int]            `nest:"native" codec:"json"` // a tag wins over Options.Original.Values
	}

	interopRoot struct {
		nest.Namespace `nest:"interop"`
		Item           nest.Sub[interopItem]
	}

	interopWideRoot struct {
		nest.Namespace `nest:"interop"`
		Item           nest.Sub[interopWide]
	}
)

// golden is testdata/original/stored-samples.json.
type golden struct {
	SecretKeyUsed struct {
		Key       string `json:"MY_ENCRYPTION_KEY"`
		Plaintext string `json:"plaintext"`
	} `json:"secret_key_used"`
	PasswordUsed string `json:"password_used"`
	Samples      []struct {
		Key        string  `json:"key"`
		PythonType string  `json:"python_type"`
		Stored     string  `json:"stored"`
		TTL        float64 `json:"ttl_seconds"`
	} `json:"samples"`
	MoreSamples []struct {
		PythonType  string  `json:"python_type"`
		Stored      *string `json:"stored"`
		ReadsBackAs string  `json:"reads_back_as"`
	} `json:"more_samples"`
}

func loadGolden(t *testing.T) *golden {
	t.Helper()
	b, err := os.ReadFile("testdata/original/stored-samples.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Samples) == 0 || len(g.MoreSamples) == 0 {
		t.Fatal("no samples")
	}
	return &g
}

// The copy in testdata is the shared golden data, when that is beside the
// repository (as for the sessions and CI).
func TestOriginalGoldenCopy(t *testing.T) {
	shared, err := os.ReadFile("../shared/original/stored-samples.json")
	if err != nil {
		t.Skip("../shared/original is not beside the repository")
	}
	ours, err := os.ReadFile("testdata/original/stored-samples.json")
	if err != nil || !bytes.Equal(shared, ours) {
		t.Errorf("testdata/original/stored-samples.json differs from ../shared/original/stored-samples.json (%v)", err)
	}
}

func interopOpts(g *golden, o nest.OriginalOptions) *nest.Options {
	o.EncryptionKey = nest.FernetKey(g.SecretKeyUsed.Key)
	o.BcryptCost = 4 // for the passwords Set writes; the golden hash is cost 12
	return &nest.Options{Original: o, Password: fastPasswords}
}

// assertGolden checks a sample on k: the original's bytes read as want,
// and want written back is the same bytes, with the namespace's TTL in the
// same SET.
func assertGolden[T any](t *testing.T, rdb redis.UniversalClient, k nest.Key[T], stored string, want T, eq func(a, b T) bool) {
	t.Helper()
	ctx := t.Context()
	if err := rdb.Set(ctx, k.Name(), stored, 300*time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	got, err := k.Get(ctx)
	if err != nil || !eq(got, want) {
		t.Errorf("%s: the original's %s read as %#v, %v; want %#v", k, stored, got, err, want)
	}
	if _, err := k.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if err := k.Set(ctx, want); err != nil {
		t.Fatalf("%s: Set(%#v): %v", k, want, err)
	}
	if raw := rawGet(t, rdb, k.Name()); raw != stored {
		t.Errorf("%s: wrote\n  %s\nthe original writes\n  %s", k, raw, stored)
	}
	assertPTTLIn(t, k, 299*time.Second, 300*time.Second)
}

func reflectEqual[T any](a, b T) bool { return reflect.DeepEqual(a, b) }

// Every golden sample reads into the matching Go type, and the same Go
// value is written as the same bytes.
func TestOriginalGoldenSamples(t *testing.T) {
	g := loadGolden(t)
	rdb := newRedis(t)
	tagged := nest.MustNew[interopRoot](rdb, interopOpts(g, nest.OriginalOptions{})).Item.At(1)
	wide := nest.MustNew[interopWideRoot](rdb, interopOpts(g, nest.OriginalOptions{Values: true, Secrets: true})).Item.At(1)
	wide2 := nest.MustNew[interopWideRoot](rdb, interopOpts(g, nest.OriginalOptions{Values: true, Secrets: true})).Item.At(2)
	aware := nest.MustNew[interopWideRoot](rdb, interopOpts(g, nest.OriginalOptions{Values: true, Secrets: true, WriteAware: true})).Item.At(1)
	when := time.Date(2025, 5, 7, 10, 21, 44, 798000000, time.UTC)
	checks := map[string]func(t *testing.T, stored string){
		"interop:item:1:n": func(t *testing.T, s string) {
			assertGolden(t, rdb, tagged.N, s, 42, equal)
			assertGolden(t, rdb, wide.N, s, 42, equal)
		},
		"interop:item:1:s": func(t *testing.T, s string) {
			assertGolden(t, rdb, tagged.S, s, "hello world", equal)
			assertGolden(t, rdb, wide.S, s, "hello world", equal)
		},
		"interop:item:1:l": func(t *testing.T, s string) {
			assertGolden(t, rdb, tagged.L, s, []string{"a", "b"}, reflectEqual)
		},
		"interop:item:1:d": func(t *testing.T, s string) {
			want := map[string]any{"k": "v", "n": int64(1), "nested": map[string]any{"x": true}}
			assertGolden(t, rdb, tagged.D, s, want, reflectEqual)
			assertGolden(t, rdb, wide.D, s, want, reflectEqual)
		},
		"interop:item:1:t": func(t *testing.T, s string) {
			assertGolden(t, rdb, tagged.T, s, when, time.Time.Equal)
			assertGolden(t, rdb, wide.T, s, when, time.Time.Equal)
		},
		"interop:item:1:none": func(t *testing.T, s string) {
			assertGolden(t, rdb, tagged.None, s, nil, reflectEqual)
		},
		"interop:item:1:b": func(t *testing.T, s string) {
			assertGolden(t, rdb, tagged.B, s, true, equal)
		},
		"interop:item:1:f": func(t *testing.T, s string) {
			assertGolden(t, rdb, tagged.F, s, 1.5, equal)
		},
		"interop:item:1:secret": func(t *testing.T, s string) {
			assertGoldenSecret(t, rdb, tagged.Secret, s, g)
			assertGoldenSecret(t, rdb, wide.Secret, s, g)
		},
		"interop:item:1:password": func(t *testing.T, s string) {
			assertGoldenPassword(t, rdb, tagged.Password, wide2.Password, s, g.PasswordUsed)
		},
	}
	more := map[string]func(t *testing.T, stored string){
		"datetime (timezone-aware, UTC)": func(t *testing.T, s string) {
			want := time.Date(2025, 5, 7, 10, 21, 44, 0, time.UTC)
			assertGolden(t, rdb, aware.Aware, s, want, time.Time.Equal)
			// Written naive by default: the same instant, as the original
			// writes naive datetimes.
			assertGolden(t, rdb, wide.Aware, `{"__type__": "datetime", "value": "2025-05-07T10:21:44"}`, want, time.Time.Equal)
			if err := rdb.Set(t.Context(), wide.Aware.Name(), s, 0).Err(); err != nil {
				t.Fatal(err)
			}
			if got, err := wide.Aware.Get(t.Context()); err != nil || !got.Equal(want) {
				t.Errorf("the aware sample read by the naive schema: %v, %v", got, err)
			}
		},
		"int (2**64+1)": func(t *testing.T, s string) {
			huge, _ := new(big.Int).SetString("18446744073709551617", 10)
			assertGolden(t, rdb, wide.HugeBig, s, huge, func(a, b *big.Int) bool { return a.Cmp(b) == 0 })
			assertGolden(t, rdb, wide.HugeAny, s, any(huge), func(a, b any) bool {
				x, ok := a.(*big.Int)
				return ok && x.Cmp(b.(*big.Int)) == 0
			})
			// Into an int64: an error keeping the bytes, never a wrapped value.
			must(t, rdb.Set(t.Context(), wide.Huge.Name(), s, 0).Err())
			v, err := wide.Huge.Get(t.Context())
			var de *nest.DecodeError
			if !errors.As(err, &de) || de.Key != wide.Huge.Name() || string(de.Raw) != s || v != 0 ||
				!strings.Contains(err.Error(), "the int 18446744073709551617 overflows int64") {
				t.Errorf("2**64+1 into an int64: %d, %v; want a *DecodeError naming the key", v, err)
			}
		},
		"float NaN": func(t *testing.T, s string) {
			assertGolden(t, rdb, wide.NaN, s, math.NaN(), func(a, b float64) bool { return math.IsNaN(a) && math.IsNaN(b) })
		},
		"dict with non-str keys and a tuple": func(t *testing.T, _ string) {
			// Python's {1: 'a', 2: ('x', 'y')} reads back as {'1': 'a', '2': ['x', 'y']}.
			stored := `{"__type__": "dict", "value": {"1": "a", "2": ["x", "y"]}}`
			assertGolden(t, rdb, wide.IntKeys, stored, map[int]any{1: "a", 2: []any{"x", "y"}}, reflectEqual)
			assertGolden(t, rdb, wide.Tuple, stored, map[string]any{"1": "a", "2": []any{"x", "y"}}, reflectEqual)
			must(t, rdb.Set(t.Context(), wide.Tuple.Name(), `{"__type__": "tuple", "value": ["x", "y"]}`, 0).Err())
			if _, err := wide.Tuple.Get(t.Context()); err == nil {
				t.Error("a tuple read into a map")
			}
		},
	}
	for _, s := range g.Samples {
		check := checks[s.Key]
		if check == nil {
			t.Errorf("no check for the sample %s (%s)", s.Key, s.PythonType)
			continue
		}
		if s.TTL != 300 {
			t.Errorf("sample %s: TTL %v, the schema says 300", s.Key, s.TTL)
		}
		t.Run(s.Key, func(t *testing.T) { check(t, s.Stored) })
	}
	for _, s := range g.MoreSamples {
		check := more[s.PythonType]
		if check == nil {
			t.Errorf("no check for the sample %q", s.PythonType)
			continue
		}
		stored := ""
		if s.Stored != nil {
			stored = *s.Stored
		}
		t.Run(s.PythonType, func(t *testing.T) { check(t, stored) })
	}
	if len(checks) != len(g.Samples) || len(more) != len(g.MoreSamples) {
		t.Errorf("%d+%d checks for %d+%d samples", len(checks), len(more), len(g.Samples), len(g.MoreSamples))
	}
	// The default tag of a ported Key[string] is its text.
	must(t, rdb.Del(t.Context(), wide.S.Name()).Err())
	if s, err := wide.S.Get(t.Context()); err != nil || s != "Unknown" {
		t.Errorf("default: %q, %v", s, err)
	}
	// A codec tag wins over Options.Original.Values.
	must(t, wide.Native.Set(t.Context(), 7))
	if raw := rawGet(t, rdb, wide.Native.Name()); raw != "7" {
		t.Errorf(`a codec:"json" key of a Values schema stored %q`, raw)
	}
}

type (
	ported struct {
		ID    int               `json:"id"`
		Name  string            `json:"name"`
		Tags  []string          `json:"tags"`
		Seen  time.Time         `json:"seen"`
		Score float64           `json:"score"`
		Extra map[string]any    `json:"extra"`
		Note  *string           `json:"note"`
		Attrs map[string]string `json:"attrs,omitempty"`
	}

	roundRoot struct {
		nest.Namespace `nest:"rt"`
		Int            nest.Key[int]            `nest:"int"`
		Uint           nest.Key[uint64]         `nest:"uint"`
		Str            nest.Key[string]         `nest:"str"`
		Bytes          nest.Key[[]byte]         `nest:"bytes"`
		Bool           nest.Key[bool]           `nest:"bool"`
		Float          nest.Key[float64]        `nest:"float"`
		Time           nest.Key[time.Time]      `nest:"time"`
		Dur            nest.Key[time.Duration]  `nest:"dur"`
		List           nest.Key[[]int]          `nest:"list"`
		Map            nest.Key[map[string]any] `nest:"map"`
		Struct         nest.Key[ported]         `nest:"struct"`
		Ptr            nest.Key[*ported]        `nest:"ptr"`
		Any            nest.Key[any]            `nest:"any"`
		Big            nest.Key[big.Int]        `nest:"big"`
		Item           nest.ParamKey[string]    `nest:"item:{id}"`
		Counter        nest.Key[int]            `nest:"counter" default:"0"`
	}
)

// Values of every kind survive a round trip through Redis in the
// original's format, by every way of writing and reading them, on both
// backends.
func TestOriginalRoundTrips(t *testing.T) {
	rdb := newRedis(t)
	r := nest.MustNew[roundRoot](rdb, &nest.Options{Original: nest.OriginalOptions{Values: true, WriteAware: true}})
	ctx := t.Context()
	note := "ünï \"quoted\"\n😀"
	seen := time.Date(2024, 2, 29, 23, 59, 59, 123456000, time.FixedZone("", -5*3600))
	p := ported{ID: 7, Name: "Ada", Tags: []string{"x"}, Seen: seen, Score: 2, Extra: map[string]any{"n": int64(1), "f": 1.0, "l": []any{nil, "s"}}, Note: &note}
	huge, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	timeEq := func(a, b time.Time) bool { return a.Equal(b) }
	assertOriginalRoundTrip(t, rdb, r.Int, -42, `{"__type__": "int", "value": -42}`, equal)
	assertOriginalRoundTrip(t, rdb, r.Uint, math.MaxUint64, `{"__type__": "int", "value": 18446744073709551615}`, equal)
	assertOriginalRoundTrip(t, rdb, r.Str, note, `{"__type__": "str", "value": "\u00fcn\u00ef \"quoted\"\n\ud83d\ude00"}`, equal)
	assertOriginalRoundTrip(t, rdb, r.Bytes, []byte("text"), `{"__type__": "str", "value": "text"}`, bytes.Equal)
	assertOriginalRoundTrip(t, rdb, r.Bool, false, `{"__type__": "bool", "value": false}`, equal)
	assertOriginalRoundTrip(t, rdb, r.Float, 1e-7, `{"__type__": "float", "value": 1e-07}`, equal)
	assertOriginalRoundTrip(t, rdb, r.Time, seen, `{"__type__": "datetime", "value": "2024-02-29T23:59:59.123456-05:00"}`, timeEq)
	assertOriginalRoundTrip(t, rdb, r.Dur, 90*time.Second, `{"__type__": "int", "value": 90000000000}`, equal)
	assertOriginalRoundTrip(t, rdb, r.List, []int{1, 2, 3}, `{"__type__": "list", "value": [1, 2, 3]}`, reflectEqual)
	assertOriginalRoundTrip(t, rdb, r.Map, map[string]any{"when": seen.UTC(), "id": "x"},
		`{"__type__": "dict", "value": {"id": "x", "when": {"__type__": "datetime", "value": "2024-03-01T04:59:59.123456+00:00"}}}`, reflectEqual)
	assertOriginalRoundTrip(t, rdb, r.Struct, p, `{"__type__": "dict", "value": {"id": 7, "name": "Ada", "tags": ["x"], `+
		`"seen": {"__type__": "datetime", "value": "2024-02-29T23:59:59.123456-05:00"}, "score": 2.0, `+
		`"extra": {"f": 1.0, "l": [null, "s"], "n": 1}, "note": "\u00fcn\u00ef \"quoted\"\n\ud83d\ude00"}}`, func(a, b ported) bool {
		return a.Seen.Equal(b.Seen) && reflect.DeepEqual(a.Extra, b.Extra) && *a.Note == *b.Note && a.Name == b.Name
	})
	assertOriginalRoundTrip(t, rdb, r.Ptr, nil, `{"__type__": "none", "value": "None"}`, reflectEqual)
	assertOriginalRoundTrip(t, rdb, r.Any, any([]any{int64(1), 2.5, "x", true, nil}), `{"__type__": "list", "value": [1, 2.5, "x", true, null]}`, reflectEqual)
	assertOriginalRoundTrip(t, rdb, r.Big, *huge, `{"__type__": "int", "value": 123456789012345678901234567890}`, func(a, b big.Int) bool { return a.Cmp(&b) == 0 })
	assertOriginalRoundTrip(t, rdb, r.Item.At("k1"), "v", `{"__type__": "str", "value": "v"}`, equal)

	// Pipelines, GetSet and Update go through the same codec.
	pipe := r.Pipeline()
	r.Int.In(pipe).Set(ctx, 5)
	got := r.Int.In(pipe).Get(ctx)
	must(t, pipe.Exec(ctx))
	if v := mustResult(t, got); v != 5 {
		t.Errorf("pipeline: %d", v)
	}
	old, _, err := r.Int.GetSet(ctx, 6)
	if err != nil || old != 5 || rawGet(t, rdb, r.Int.Name()) != `{"__type__": "int", "value": 6}` {
		t.Errorf("GetSet: %d, %v", old, err)
	}
	n, err := r.Counter.Update(ctx, func(cur int, _ bool) (int, error) { return cur + 1, nil })
	if err != nil || n != 1 || rawGet(t, rdb, r.Counter.Name()) != `{"__type__": "int", "value": 1}` {
		t.Errorf("Update: %d, %v", n, err)
	}
	// What the original cannot store is refused before anything is sent.
	if err := r.Str.Set(ctx, "not \xff UTF-8"); !errors.Is(err, nest.ErrEncode) || !strings.Contains(err.Error(), r.Str.Name()) {
		t.Errorf("invalid UTF-8: %v", err)
	}
	if err := r.Time.Set(ctx, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, nest.ErrEncode) {
		t.Errorf("year 10000: %v", err)
	}
	d := r.Describe()
	for _, k := range d.Keys {
		if k.Codec != "redisimnest" {
			t.Errorf("Describe: %s has codec %q", k.Field, k.Codec)
		}
	}
}

func assertOriginalRoundTrip[T any](t *testing.T, rdb redis.UniversalClient, k nest.Key[T], v T, stored string, eq func(a, b T) bool) {
	t.Helper()
	ctx := t.Context()
	if err := k.Set(ctx, v); err != nil {
		t.Fatalf("%s: Set(%#v): %v", k, v, err)
	}
	if raw := rawGet(t, rdb, k.Name()); raw != stored {
		t.Errorf("%s: stored\n  %s\nwant\n  %s", k, raw, stored)
	}
	got, err := k.Get(ctx)
	if err != nil || !eq(got, v) {
		t.Errorf("%s: read back %#v, %v; want %#v", k, got, err, v)
	}
}

type hostileOrig struct {
	nest.Namespace `nest:"ho"`
	Int            nest.Key[int]            `nest:"int" codec:"redisimnest"`
	Str            nest.Key[string]         `nest:"str" codec:"redisimnest"`
	Map            nest.Key[map[string]any] `nest:"map" codec:"redisimnest"`
	Any            nest.Key[any]            `nest:"any" codec:"redisimnest"`
	Time           nest.Key[time.Time]      `nest:"time" codec:"redisimnest"`
}

// Values the original did not write — nest's own forms, hostile envelopes
// — are *DecodeErrors naming the key and keeping the bytes, by every way
// of reading them; never a wrapped value.
func TestOriginalHostileEnvelopes(t *testing.T) {
	rdb := newRedis(t)
	r := nest.MustNew[hostileOrig](rdb, nil)
	deep := `{"__type__": "list", "value": ` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`
	cases := []struct {
		name string
		raw  string
		want string
	}{
		{"nest's int", "42", "want the original's envelope"},
		{"nest's string", "hello world", "invalid JSON"},
		{"plain JSON", `{"k": "v"}`, `the member "k"`},
		{"missing value", `{"__type__": "int"}`, "value is missing"},
		{"missing __type__", `{"value": 42}`, "__type__ is missing"},
		{"wrong __type__", `{"__type__": "str", "value": 42}`, "does not match"},
		{"unknown __type__", `{"__type__": "set", "value": [1]}`, `unknown __type__ "set"`},
		{"deep nesting", deep, "nested deeper than 10000"},
		{"huge int", `{"__type__": "int", "value": 1` + strings.Repeat("0", 5000) + `}`, "exceeds the limit of 4300"},
		{"2**64+1", `{"__type__": "int", "value": 18446744073709551617}`, "overflows"},
		{"NaN as int", `{"__type__": "float", "value": NaN}`, "got the float NaN"},
		{"truncated", `{"__type__": "int", "value": 4`, "unexpected end"},
		{"none", `{"__type__": "none", "value": "None"}`, "None cannot be stored"},
	}
	ctx := t.Context()
	for _, tc := range cases {
		for _, rd := range readOps(r.Namespace, r.Int) {
			must(t, rdb.Set(ctx, r.Int.Name(), tc.raw, 0).Err())
			err := rd.read(ctx)
			var de *nest.DecodeError
			if !errors.As(err, &de) || de.Key != r.Int.Name() || string(de.Raw) != tc.raw || de.Codec != "redisimnest" ||
				!strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), r.Int.Name()) {
				t.Errorf("%s, %s: %v; want a *DecodeError naming the key, containing %q", tc.name, rd.name, err, tc.want)
			}
		}
	}
	// The silent reads: a str key does not return the envelope of
	// another type, nor a map the envelope as a dict.
	for _, tc := range []struct {
		k   func(context.Context) error
		raw string
		key string
	}{
		{func(ctx context.Context) error { _, err := r.Str.Get(ctx); return err }, `{"__type__": "int", "value": 42}`, r.Str.Name()},
		{func(ctx context.Context) error { _, err := r.Str.Get(ctx); return err }, `hello world`, r.Str.Name()},
		{func(ctx context.Context) error { _, err := r.Map.Get(ctx); return err }, `{"__type__":"dict","value":{"a":1},"x":1}`, r.Map.Name()},
		{func(ctx context.Context) error { _, err := r.Any.Get(ctx); return err }, `{"k": "v"}`, r.Any.Name()},
		{func(ctx context.Context) error { _, err := r.Time.Get(ctx); return err }, `2025-05-07T10:21:44Z`, r.Time.Name()},
		{func(ctx context.Context) error { _, err := r.Time.Get(ctx); return err }, `{"__type__": "str", "value": "2025-05-07T10:21:44"}`, r.Time.Name()},
	} {
		must(t, rdb.Set(ctx, tc.key, tc.raw, 0).Err())
		var de *nest.DecodeError
		if err := tc.k(ctx); !errors.As(err, &de) || string(de.Raw) != tc.raw {
			t.Errorf("%s holding %s: %v; want a *DecodeError", tc.key, tc.raw, err)
		}
	}
}

// Names: the original's example schema, ported, names its keys as the
// original does for the same parameters.
func TestOriginalKeyNames(t *testing.T) {
	root := nest.MustNew[Root](offlineClient(t), nil)
	for _, tc := range []struct{ got, want string }{
		{root.ProjectName.Name(), "root:project_name"},
		{root.App.Tokens.Name(), "root:app:tokens"},
		{root.User.At(1).Age.Name(), "root:user:1:age"},         // root.user(1).age
		{root.User.At(-5).Name.Name(), "root:user:-5:name"},     // str(-5)
		{root.User.At("ada").Name.Name(), "root:user:ada:name"}, // a str
		{root.User.At(uint64(math.MaxUint64)).Age.Name(), "root:user:18446744073709551615:age"},
		{root.Admin.At(7, "eu").Level.Name(), "root:admin:7:eu:level"},
		{root.User.At(12).Messages.At(3).Text.Name(), "root:user:12:message:3:text"},
	} {
		if tc.got != tc.want {
			t.Errorf("name %q, the original's is %q", tc.got, tc.want)
		}
	}
	// Python's str() of True is "True" and of 1.0 is "1.0"; nest refuses
	// bools and floats (Go writes true and 1), so that a name is never
	// silently another program's: pass the text the original uses.
	for _, v := range []any{true, 1.0, float32(1.5)} {
		if err := root.User.At(v).Err(); !errors.Is(err, nest.ErrInvalidParam) {
			t.Errorf("parameter %#v: %v, want ErrInvalidParam", v, err)
		}
	}
	if got := root.User.At("True").Age.Name(); got != "root:user:True:age" {
		t.Errorf("the text of a Python bool: %s", got)
	}
}

// Clearing user 1 with nest leaves what the original wrote under
// root:user:12 alone (the original's own clear deletes it too).
func TestOriginalClearIsExact(t *testing.T) {
	g := loadGolden(t)
	rdb := newRedis(t)
	root := nest.MustNew[Root](rdb, &nest.Options{Original: nest.OriginalOptions{Values: true}})
	ctx := t.Context()
	byKey := map[string]string{}
	for _, s := range g.Samples {
		byKey[s.Key[strings.LastIndexByte(s.Key, ':')+1:]] = s.Stored
	}
	wrote := map[string]string{}
	for _, user := range []string{"1", "12", "10", "2"} {
		for name, v := range map[string]string{"age": byKey["n"], "name": byKey["s"], "message:1:text": byKey["s"], "message:12:text": byKey["s"]} {
			k := "root:user:" + user + ":" + name
			must(t, rdb.Set(ctx, k, v, 300*time.Second).Err()) // as the original writes them
			wrote[k] = v
		}
	}
	must(t, rdb.Set(ctx, "root:user:1", byKey["d"], 0).Err()) // the prefix itself is in the subtree
	if age, err := root.User.At(12).Age.Get(ctx); err != nil || age != 42 {
		t.Fatalf("user 12's age, as the original wrote it: %d, %v", age, err)
	}
	n, err := root.User.At(1).Clear(ctx)
	if err != nil || n != 5 {
		t.Fatalf("Clear of user 1: %d, %v; want 5", n, err)
	}
	for k, v := range wrote {
		if strings.HasPrefix(k, "root:user:1:") {
			assertAbsent(t, rdb, k)
			continue
		}
		if got := rawGet(t, rdb, k); got != v {
			t.Errorf("%s changed to %s", k, got)
		}
	}
	assertAbsent(t, rdb, "root:user:1")
	if ttl := rdb.TTL(ctx, "root:user:12:age").Val(); ttl < 299*time.Second {
		t.Errorf("root:user:12:age: TTL %v", ttl)
	}
}

type (
	badSecretInt struct {
		nest.Namespace `nest:"bad"`
		S              nest.Secret[int] `nest:"s" codec:"redisimnest"`
	}
	origSecretOnly struct {
		nest.Namespace `nest:"os"`
		S              nest.Secret[string] `nest:"s" codec:"redisimnest"`
	}
	origSecretAndOurs struct {
		nest.Namespace `nest:"os"`
		S              nest.Secret[string] `nest:"s" codec:"redisimnest"`
		Ours           nest.Secret[string] `nest:"ours"`
	}
	badPasswordCodec struct {
		nest.Namespace `nest:"bp"`
		P              nest.Password `nest:"p" codec:"json"`
	}
	origTypes struct {
		nest.Namespace `nest:"ot"`
		Ch             nest.Key[chan int]     `nest:"ch" codec:"redisimnest"`
		Cx             nest.Key[complex128]   `nest:"cx" codec:"redisimnest"`
		BoolKeys       nest.Key[map[bool]int] `nest:"bk" codec:"redisimnest"`
		BadDefault     nest.Key[int]          `nest:"bd" codec:"redisimnest" default:"x"`
	}
)

func TestOriginalSchemaErrors(t *testing.T) {
	rdb := offlineClient(t)
	key := nest.FernetKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	err := tryNew[badSecretInt](rdb, &nest.Options{Original: nest.OriginalOptions{EncryptionKey: key}})
	assertSchemaErr(t, err, "badSecretInt", "S", "holds text", "Secret[string]")

	err = tryNew[origSecretOnly](rdb, nil)
	if !errors.Is(err, nest.ErrConfig) || errors.Is(err, nest.ErrSchema) || !strings.Contains(err.Error(), "EncryptionKey is empty") ||
		!strings.Contains(err.Error(), "origSecretOnly.S") {
		t.Errorf("a Fernet secret without the key: %v", err)
	}
	// Reported also when a keyring for nest's own secrets is given.
	err = tryNew[origSecretAndOurs](rdb, &nest.Options{SecretKeys: []nest.SecretKey{newSecretKey(t, "k1")}})
	if !errors.Is(err, nest.ErrConfig) || !strings.Contains(err.Error(), "EncryptionKey is empty") {
		t.Errorf("a Fernet secret without the key, with a keyring: %v", err)
	}
	if err := tryNew[origSecretOnly](rdb, &nest.Options{Original: nest.OriginalOptions{EncryptionKey: key}}); err != nil {
		t.Errorf("no keyring is needed for the original's secrets: %v", err)
	}

	const badKey = "c2VjcmV0LWtleS10aGF0LWlzLXNob3J0"
	err = tryNew[origSecretOnly](rdb, &nest.Options{Original: nest.OriginalOptions{EncryptionKey: badKey, BcryptCost: 40}})
	if !errors.Is(err, nest.ErrConfig) || strings.Contains(err.Error(), badKey) || !strings.Contains(err.Error(), "Options.Original.EncryptionKey") ||
		!strings.Contains(err.Error(), "BcryptCost is 40") || strings.Contains(err.Error(), "is empty") {
		t.Errorf("a malformed key: %v", err)
	}
	err = tryNew[Root](rdb, &nest.Options{Codecs: map[string]nest.Codec{"redisimnest": nest.JSON}})
	if !errors.Is(err, nest.ErrConfig) || !strings.Contains(err.Error(), `Options.Codecs["redisimnest"]`) {
		t.Errorf("a codec named redisimnest: %v", err)
	}
	err = tryNew[badPasswordCodec](rdb, nil)
	assertSchemaErr(t, err, "badPasswordCodec", "P", "takes no codec tag")

	want := map[string]string{"Ch": "the redisimnest codec cannot encode chan int", "Cx": "complex128",
		"BoolKeys": "unsupported map key type bool", "BadDefault": `default "x" does not parse as int`}
	errs := schemaErrs(t, tryNew[origTypes](rdb, nil))
	for _, se := range errs {
		if w := want[se.Field]; w == "" || !strings.Contains(se.Error(), w) {
			t.Errorf("unexpected %v", se)
		}
	}
	if len(errs) != len(want) {
		t.Errorf("%d errors for %d mistakes", len(errs), len(want))
	}
}

// The original's Fernet key never prints.
func TestFernetKeyRedacted(t *testing.T) {
	const k = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	o := nest.Options{Original: nest.OriginalOptions{EncryptionKey: k}}
	js, _ := json.Marshal(o.Original)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "original", o.Original, "key", o.Original.EncryptionKey)
	for _, s := range []string{
		fmtAll(o), fmtAll(&o), fmtAll(o.Original), fmtAll(o.Original.EncryptionKey), string(js), logs.String(),
	} {
		if strings.Contains(s, "AAECAw") || !strings.Contains(s, "redacted") {
			t.Errorf("printed: %s", s)
		}
	}
}

func fmtAll(v any) string { return fmt.Sprintf("%v %+v %#v %s %q %x", v, v, v, v, v, v) }

type (
	origCollections struct {
		nest.Namespace `nest:"oc" ttl:"1h"`
		Tagged         nest.Set[int]             `nest:"tagged" codec:"redisimnest"`
		Scores         nest.SortedSet[string]    `nest:"scores"`
		When           nest.SortedSet[time.Time] `nest:"when"`
		Native         nest.Set[int]             `nest:"native" codec:"json"`
		Fields         nest.Hash[int]            `nest:"fields"`
		Queue          nest.List[string]         `nest:"queue"`
	}
)

// Collections store their members in the original's envelope too, per
// element: by the tag, or by Options.Original.Values.
func TestOriginalCollections(t *testing.T) {
	rdb := newRedis(t)
	ctx := t.Context()
	r := nest.MustNew[origCollections](rdb, &nest.Options{Original: nest.OriginalOptions{Values: true}})
	if _, err := r.Tagged.Add(ctx, 1, 2); err != nil {
		t.Fatal(err)
	}
	raw := rdb.SMembers(ctx, r.Tagged.Name()).Val()
	slices.Sort(raw)
	if want := []string{`{"__type__": "int", "value": 1}`, `{"__type__": "int", "value": 2}`}; !slices.Equal(raw, want) {
		t.Errorf("set members stored as %q", raw)
	}
	if m, err := r.Tagged.Members(ctx); err != nil || len(m) != 2 {
		t.Errorf("Members: %v, %v", m, err)
	}
	if _, err := r.Scores.Add(ctx, nest.Z[string]{Member: "ada", Score: 2}); err != nil {
		t.Fatal(err)
	}
	if z := rdb.ZRangeWithScores(ctx, r.Scores.Name(), 0, -1).Val(); len(z) != 1 || z[0].Member != `{"__type__": "str", "value": "ada"}` {
		t.Errorf("sorted set members stored as %v", z)
	}
	if s, err := r.Scores.Score(ctx, "ada"); err != nil || s != 2 {
		t.Errorf("Score: %v, %v", s, err)
	}
	when := time.Date(2025, 5, 7, 10, 21, 44, 0, time.UTC)
	if _, err := r.When.Add(ctx, nest.Z[time.Time]{Member: when, Score: 1}); err != nil {
		t.Fatal(err)
	}
	if got, err := r.When.RangeByRank(ctx, nest.RankRange{Start: 0, Stop: -1}); err != nil || len(got) != 1 || !got[0].Equal(when) {
		t.Errorf("RangeByRank: %v, %v", got, err)
	}
	if _, err := r.Native.Add(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if raw := rdb.SMembers(ctx, r.Native.Name()).Val(); len(raw) != 1 || raw[0] != "7" {
		t.Errorf(`a codec:"json" set of a Values schema stored %q`, raw)
	}
	if _, err := r.Fields.Set(ctx, "n", 42); err != nil {
		t.Fatal(err)
	}
	if raw := rdb.HGet(ctx, r.Fields.Name(), "n").Val(); raw != `{"__type__": "int", "value": 42}` {
		t.Errorf("hash value stored as %q", raw)
	}
	if n, err := r.Fields.Get(ctx, "n"); err != nil || n != 42 {
		t.Errorf("Hash.Get: %v, %v", n, err)
	}
	if _, err := r.Queue.RPush(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	if raw := rdb.LRange(ctx, r.Queue.Name(), 0, -1).Val(); len(raw) != 1 || raw[0] != `{"__type__": "str", "value": "job"}` {
		t.Errorf("list element stored as %q", raw)
	}
	if l, err := r.Queue.Range(ctx, 0, -1); err != nil || len(l) != 1 || l[0] != "job" {
		t.Errorf("List.Range: %v, %v", l, err)
	}
	for _, k := range r.Describe().Keys {
		want := map[string]string{"tagged": "redisimnest", "scores": "redisimnest", "when": "redisimnest", "native": "json",
			"fields": "redisimnest", "queue": "redisimnest"}[k.Template]
		if k.Codec != want {
			t.Errorf("Describe %s: codec %q, want %q", k.Template, k.Codec, want)
		}
	}
}
