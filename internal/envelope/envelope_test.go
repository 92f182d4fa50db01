package envelope

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The golden samples (testdata/original/stored-samples.json at the
// repository root) are read and written through nest's codec in
// original_test.go; these tests cover the package's own rules.

type (
	UUID    [16]byte // as github.com/google/uuid.UUID
	celsius float64
	level   int8
	inner   struct {
		X bool `json:"x"`
	}
	record struct {
		K      string            `json:"k"`
		N      int               `json:"n"`
		Nested inner             `json:"nested"`
		When   time.Time         `json:"when"`
		ID     UUID              `json:"id"`
		Tags   []string          `json:"tags,omitempty"`
		Score  float64           `json:"score"`
		Ptr    *int              `json:"ptr"`
		Quoted int64             `json:"quoted,string"`
		Skip   string            `json:"-"`
		Any    any               `json:"any"`
		Meta   map[string]string `json:"meta,omitempty"`
		hidden int
	}
	Base struct {
		A string `json:"a"`
		B string
	}
	Other struct {
		B string
		C string `json:"c"`
	}
	embeds struct {
		Base
		*Other
		C string `json:"c"`
		D string `json:"d,omitzero"`
	}
)

var cfg = Config{Naive: time.UTC}

func marshal(t *testing.T, v any, c Config) string {
	t.Helper()
	b, err := Marshal(v, c)
	if err != nil {
		t.Fatalf("Marshal(%#v): %v", v, err)
	}
	return string(b)
}

func TestMarshal(t *testing.T) {
	id := UUID{0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78}
	when := time.Date(2025, 5, 7, 10, 21, 44, 798000000, time.UTC)
	three := 3
	var nilMap map[string]int
	for _, tc := range []struct {
		v    any
		want string
	}{
		{42, `{"__type__": "int", "value": 42}`},
		{int8(-7), `{"__type__": "int", "value": -7}`},
		{uint64(math.MaxUint64), `{"__type__": "int", "value": 18446744073709551615}`},
		{level(3), `{"__type__": "int", "value": 3}`},
		{"hello world", `{"__type__": "str", "value": "hello world"}`},
		{"é\n\"", `{"__type__": "str", "value": "\u00e9\n\""}`},
		{[]byte("bytes"), `{"__type__": "str", "value": "bytes"}`},
		{true, `{"__type__": "bool", "value": true}`},
		{1.5, `{"__type__": "float", "value": 1.5}`},
		{2.0, `{"__type__": "float", "value": 2.0}`},
		{celsius(21.5), `{"__type__": "float", "value": 21.5}`},
		{math.NaN(), `{"__type__": "float", "value": NaN}`},
		{math.Inf(-1), `{"__type__": "float", "value": -Infinity}`},
		{float32(0.1), `{"__type__": "float", "value": 0.1}`},
		{nil, `{"__type__": "none", "value": "None"}`},
		{(*int)(nil), `{"__type__": "none", "value": "None"}`},
		{&three, `{"__type__": "int", "value": 3}`},
		{nilMap, `{"__type__": "none", "value": "None"}`},
		{[]string(nil), `{"__type__": "none", "value": "None"}`},
		{[]string{}, `{"__type__": "list", "value": []}`},
		{[]string{"a", "b"}, `{"__type__": "list", "value": ["a", "b"]}`},
		{[2]int{1, 2}, `{"__type__": "list", "value": [1, 2]}`},
		{map[string]any{}, `{"__type__": "dict", "value": {}}`},
		{map[string]any{"k": "v", "n": 1, "nested": map[string]any{"x": true}}, `{"__type__": "dict", "value": {"k": "v", "n": 1, "nested": {"x": true}}}`},
		{map[int]string{2: "b", 1: "a"}, `{"__type__": "dict", "value": {"1": "a", "2": "b"}}`},
		{map[netip.Addr]int{netip.MustParseAddr("::1"): 1}, `{"__type__": "dict", "value": {"::1": 1}}`},
		{when, `{"__type__": "datetime", "value": "2025-05-07T10:21:44.798000"}`},
		{id, `{"__type__": "uuid", "value": "12345678-1234-5678-1234-567812345678"}`},
		{[]time.Time{when}, `{"__type__": "list", "value": [{"__type__": "datetime", "value": "2025-05-07T10:21:44.798000"}]}`},
		{map[string]UUID{"id": id}, `{"__type__": "dict", "value": {"id": {"__type__": "uuid", "value": "12345678-1234-5678-1234-567812345678"}}}`},
		{big.NewInt(0).Lsh(big.NewInt(1), 64), `{"__type__": "int", "value": 18446744073709551616}`},
		{json.Number("12"), `{"__type__": "int", "value": 12}`},
		{json.Number("1.0"), `{"__type__": "float", "value": 1.0}`},
		{json.RawMessage(`{"a":[1,2.5,"\u00e9"],"b":null}`), `{"__type__": "dict", "value": {"a": [1, 2.5, "\u00e9"], "b": null}}`},
		{json.RawMessage(`null`), `{"__type__": "none", "value": "None"}`},
		{netip.MustParseAddr("10.0.0.1"), `{"__type__": "str", "value": "10.0.0.1"}`},
		{record{K: "v", N: 1, Nested: inner{true}, When: when, ID: id, Score: 1, Quoted: 5, Skip: "x", hidden: 3},
			`{"__type__": "dict", "value": {"k": "v", "n": 1, "nested": {"x": true}, "when": {"__type__": "datetime", "value": "2025-05-07T10:21:44.798000"}, ` +
				`"id": {"__type__": "uuid", "value": "12345678-1234-5678-1234-567812345678"}, "score": 1.0, "ptr": null, "quoted": "5", "any": null}}`},
		{embeds{Base: Base{A: "a", B: "b"}, C: "c"}, `{"__type__": "dict", "value": {"a": "a", "c": "c"}}`},
	} {
		if got := marshal(t, tc.v, cfg); got != tc.want {
			t.Errorf("Marshal(%#v):\n got %s\nwant %s", tc.v, got, tc.want)
		}
	}
}

// Struct fields are the ones encoding/json writes, in its order.
func TestStructFieldsAsEncodingJSON(t *testing.T) {
	for _, v := range []any{
		embeds{Base: Base{A: "a", B: "b"}, Other: &Other{B: "ob", C: "oc"}, C: "c", D: "d"},
		embeds{},
		record{Tags: []string{"x"}, Meta: map[string]string{"m": "1"}},
		struct {
			Base
			Other
		}{Base{"a", "b"}, Other{"b2", "c"}},
	} {
		std, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		dec := json.NewDecoder(bytes.NewReader(std))
		_, _ = dec.Token()
		for dec.More() {
			k, _ := dec.Token()
			want = append(want, k.(string))
			var skip json.RawMessage
			_ = dec.Decode(&skip)
		}
		var got []string
		for _, f := range cachedFields(reflect.TypeOf(v)).list {
			fv, ok := fieldByIndex(reflect.ValueOf(v), f.index)
			if ok && !(f.omitEmpty && isEmpty(fv)) && !(f.omitZero && isZero(fv)) {
				got = append(got, f.name)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%T: fields %q, encoding/json writes %q", v, got, want)
		}
	}
}

func TestMarshalErrors(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{make(chan int), "cannot encode a value of type chan int"},
		{map[string]any{"f": func() {}}, `value["f"]: cannot encode a value of type func()`},
		{complex(1, 2), "complex128"},
		{"\xff", "not valid UTF-8"},
		{[]any{1, "ok", "\xfe"}, "value[2]: a string that is not valid UTF-8"},
		{map[bool]int{true: 1}, "unsupported map key type bool"},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "outside Python's datetime range"},
	} {
		_, err := Marshal(tc.v, cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Marshal(%#v): %v, want an error containing %q", tc.v, err, tc.want)
		}
	}
	type cyclic struct{ Next *cyclic }
	c := &cyclic{}
	c.Next = c
	if _, err := Marshal(c, cfg); err == nil || !strings.Contains(err.Error(), "deeper than") {
		t.Errorf("a cyclic value: %v", err)
	}
}

// roundTrip marshals v, unmarshals the result into a new value of its type
// and compares.
func roundTrip[T any](t *testing.T, v T, c Config, eq func(a, b T) bool) {
	t.Helper()
	b, err := Marshal(&v, c)
	if err != nil {
		t.Fatalf("Marshal(%#v): %v", v, err)
	}
	var back T
	if err := Unmarshal(b, &back, c); err != nil {
		t.Fatalf("Unmarshal(%s) into %T: %v", b, back, err)
	}
	if eq == nil {
		eq = func(a, b T) bool { return reflect.DeepEqual(a, b) }
	}
	if !eq(v, back) {
		t.Errorf("%T: %#v became %s and read back as %#v", v, v, b, back)
	}
}

func TestRoundTrips(t *testing.T) {
	when := time.Date(2025, 5, 7, 10, 21, 44, 798000000, time.UTC)
	roundTrip(t, 42, cfg, nil)
	roundTrip(t, int64(math.MinInt64), cfg, nil)
	roundTrip(t, uint64(math.MaxUint64), cfg, nil)
	roundTrip(t, "日本語 😀 \x00", cfg, nil)
	roundTrip(t, []byte("raw"), cfg, nil)
	roundTrip(t, math.NaN(), cfg, func(a, b float64) bool { return math.IsNaN(b) })
	roundTrip(t, math.Copysign(0, -1), cfg, func(a, b float64) bool { return math.Signbit(b) })
	roundTrip(t, float32(0.1), cfg, nil)
	roundTrip(t, when, cfg, time.Time.Equal)
	roundTrip(t, &when, cfg, func(a, b *time.Time) bool { return a.Equal(*b) })
	roundTrip(t, (*int)(nil), cfg, nil)
	roundTrip(t, UUID{1, 2, 3}, cfg, nil)
	roundTrip(t, []UUID{{9}}, cfg, nil)
	roundTrip(t, *big.NewInt(0).Lsh(big.NewInt(3), 200), cfg, func(a, b big.Int) bool { return a.Cmp(&b) == 0 })
	roundTrip(t, map[int64]string{-1: "a", 7: "b"}, cfg, nil)
	roundTrip(t, map[netip.Addr]bool{netip.MustParseAddr("::1"): true}, cfg, nil)
	roundTrip(t, [3]string{"a", "b", "c"}, cfg, nil)
	roundTrip(t, netip.MustParseAddr("10.1.2.3"), cfg, nil)
	roundTrip(t, json.RawMessage(`{"a": [1, 2.5]}`), cfg, nil)
	roundTrip(t, record{K: "v", N: -1, Nested: inner{true}, When: when, ID: UUID{7}, Tags: []string{"t"}, Score: 0.5,
		Quoted: 1 << 40, Any: map[string]any{"n": int64(1), "f": 1.0, "l": []any{"x", nil, true}, "t": when},
		Meta: map[string]string{"a": "b"}}, cfg, func(a, b record) bool {
		return a.When.Equal(b.When) && reflect.DeepEqual(a.Any, b.Any) && a.K == b.K && a.Quoted == b.Quoted && a.ID == b.ID
	})
	roundTrip(t, embeds{Base: Base{"a", "b"}, Other: &Other{C: "lost"}, C: "c", D: "d"}, cfg, func(a, b embeds) bool {
		return b.A == "a" && b.Base.B == "" && b.C == "c" && b.D == "d" // B is ambiguous: left out
	})
	roundTrip(t, map[string]any{"big": new(big.Int).Lsh(big.NewInt(1), 70), "i": int64(3), "f": 3.0}, cfg, func(a, b map[string]any) bool {
		return b["big"].(*big.Int).Cmp(a["big"].(*big.Int)) == 0 && b["i"] == int64(3) && b["f"] == 3.0
	})
}

// Naive datetimes are read in Config.Naive and written naive in it unless
// Config.Aware is set.
func TestNaiveRule(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	in := []byte(`{"__type__": "datetime", "value": "2025-05-07T10:21:44"}`)
	var got time.Time
	if err := Unmarshal(in, &got, Config{Naive: tokyo}); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 5, 7, 1, 21, 44, 0, time.UTC); !got.Equal(want) {
		t.Errorf("naive in Tokyo: %v, want %v", got, want)
	}
	if out := marshal(t, got, Config{Naive: tokyo}); out != string(in) {
		t.Errorf("written naive in Tokyo: %s", out)
	}
	utc := got.UTC()
	if out := marshal(t, utc, Config{Naive: tokyo}); out != string(in) {
		t.Errorf("a UTC time written naive in Tokyo: %s", out)
	}
	if out := marshal(t, got, Config{Naive: tokyo, Aware: true}); out != `{"__type__": "datetime", "value": "2025-05-07T10:21:44+09:00"}` {
		t.Errorf("written aware: %s", out)
	}
	if out := marshal(t, utc, Config{Aware: true}); out != `{"__type__": "datetime", "value": "2025-05-07T01:21:44+00:00"}` {
		t.Errorf("UTC written aware: %s", out)
	}
	// Nanoseconds are truncated to Python's microseconds.
	if out := marshal(t, time.Date(2025, 1, 2, 3, 4, 5, 6007, time.UTC), Config{}); out != `{"__type__": "datetime", "value": "2025-01-02T03:04:05.000006"}` {
		t.Errorf("nanoseconds: %s", out)
	}
}

func TestUnmarshalInto(t *testing.T) {
	dec := func(in string, v any) error { return Unmarshal([]byte(in), v, cfg) }
	var a any
	if err := dec(`{"__type__": "int", "value": 18446744073709551617}`, &a); err != nil {
		t.Fatal(err)
	}
	if b, ok := a.(*big.Int); !ok || b.String() != "18446744073709551617" {
		t.Errorf("2**64+1 into any: %#v", a)
	}
	if err := dec(`{"__type__": "float", "value": 1}`, &a); err != nil || a != 1.0 {
		t.Errorf("float 1 into any: %#v, %v", a, err)
	}
	if err := dec(`{"__type__": "tuple", "value": ["x", "y"]}`, &a); err != nil || !reflect.DeepEqual(a, []any{"x", "y"}) {
		t.Errorf("a tuple into any: %#v, %v", a, err)
	}
	var pair [2]string
	if err := dec(`{"__type__": "tuple", "value": ["x", "y"]}`, &pair); err != nil || pair != [2]string{"x", "y"} {
		t.Errorf("a tuple into [2]string: %v, %v", pair, err)
	}
	var f float64
	if err := dec(`{"__type__": "int", "value": 3}`, &f); err != nil || f != 3 {
		t.Errorf("an int into float64: %v, %v", f, err)
	}
	var s string
	if err := dec(`{"__type__": "uuid", "value": "12345678-1234-5678-1234-567812345678"}`, &s); err != nil || s != "12345678-1234-5678-1234-567812345678" {
		t.Errorf("a uuid into a string: %q, %v", s, err)
	}
	m := map[string]int{"keep": 1}
	if err := dec(`{"__type__": "dict", "value": {"a": 2}}`, &m); err != nil || m["a"] != 2 || m["keep"] != 1 {
		t.Errorf("a dict into a map: %v, %v", m, err)
	}
	var r record
	r.N = 9
	if err := dec(`{"__type__": "dict", "value": {"N": null, "K": "case", "unknown": [1], "score": 2}}`, &r); err != nil || r.N != 9 || r.K != "case" || r.Score != 2 {
		t.Errorf("a dict into a struct: %+v, %v", r, err)
	}
	var p *int
	if err := dec(`{"__type__": "none", "value": "None"}`, &p); err != nil || p != nil {
		t.Errorf("None into *int: %v, %v", p, err)
	}
}

// Every mismatch and every hostile envelope is an error, never a value.
func TestUnmarshalErrors(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	for _, tc := range []struct {
		in   string
		into any
		want string
	}{
		{`42`, new(int), "want the original's envelope"},
		{`"hello world"`, new(string), "want the original's envelope"},
		{`hello world`, new(string), "invalid JSON"},
		{`{"value": 42}`, new(int), "__type__ is missing"},
		{`{"__type__": "int"}`, new(int), "value is missing"},
		{`{"__type__": "int", "value": 42, "extra": 1}`, new(int), `the member "extra"`},
		{`{"__type__": "int", "__type__": "int", "value": 42}`, new(int), "appears twice"},
		{`{"__type__": 1, "value": 42}`, new(int), "not a string"},
		{`{"__type__": "decimal", "value": 42}`, new(int), `unknown __type__ "decimal"`},
		{`{"__type__": "int", "value": "42"}`, new(int), "does not match its value"},
		{`{"__type__": "int", "value": 4.2}`, new(int), "does not match its value, the number 4.2"},
		{`{"__type__": "str", "value": 42}`, new(string), "does not match"},
		{`{"__type__": "none", "value": null}`, new(int), "the value None cannot be stored in int"},
		{`{"__type__": "none", "value": "nil"}`, new(*int), `wants the value "None"`},
		{`{"__type__": "int", "value": 18446744073709551617}`, new(int64), "the int 18446744073709551617 overflows int64"},
		{`{"__type__": "int", "value": 18446744073709551617}`, new(uint64), "overflows uint64"},
		{`{"__type__": "int", "value": -1}`, new(uint), "overflows uint"},
		{`{"__type__": "int", "value": 128}`, new(int8), "overflows int8"},
		{`{"__type__": "int", "value": 1` + strings.Repeat("0", MaxIntDigits) + `}`, new(any), "exceeds the limit of 4300"},
		{`{"__type__": "float", "value": NaN}`, new(int), "want an int for int, got the float NaN"},
		{`{"__type__": "float", "value": 1e39}`, new(float32), "overflows float32"},
		{`{"__type__": "str", "value": "x"}`, new(int), "want an int for int, got a string"},
		{`{"__type__": "str", "value": "2025-05-07T10:21:44"}`, new(time.Time), "want a datetime"},
		{`{"__type__": "datetime", "value": "yesterday"}`, new(time.Time), "not an ISO 8601 datetime"},
		{`{"__type__": "datetime", "value": "2025-05-07"}`, new(string), "want a str for string, got a datetime"},
		{`{"__type__": "uuid", "value": "nope"}`, new(UUID), "not a UUID"},
		{`{"__type__": "str", "value": "12345678-1234-5678-1234-567812345678"}`, new(UUID), "want a uuid"},
		{`{"__type__": "list", "value": [1, "x"]}`, new([]int), "value[1]: want an int for int, got a string"},
		{`{"__type__": "list", "value": [1, 2, 3]}`, new([2]int), "want a list of 2"},
		{`{"__type__": "dict", "value": {"a": {"b": [1.5]}}}`, new(map[string]map[string][]int), `value["a"]["b"][0]: want an int`},
		{`{"__type__": "dict", "value": {"x": 1}}`, new(map[int]int), `value["x"]: the key is not an int`},
		{`{"__type__": "dict", "value": {"n": 1.5}}`, new(record), `value["n"]: want an int`},
		{`{"__type__": "dict", "value": {"quoted": 5}}`, new(record), "want a str holding the value"},
		{`{"__type__": "dict", "value": {"when": "2025-05-07"}}`, new(record), `value["when"]: want a datetime`},
		{`{"__type__": "list", "value": ` + deep + `}`, new(any), "nested deeper than 10000"},
		{`{"__type__": "list", "value": [NaN]}`, new(json.RawMessage), "NaN cannot be passed to the UnmarshalJSON"},
		{`{"__type__": "str", "value": "\u0000` + "\xff" + `"}`, new(string), "not valid UTF-8"},
		{`{"__type__": "str", "value": "tab	inside"}`, new(string), "unescaped control character"},
		{`{"__type__": "int", "value": 42} x`, new(int), "after the value"},
		{`{"__type__": "int", "value": 042}`, new(int), "leading zero"},
		{`{"__type__": "str", "value": "x"}`, new(netip.Addr), "UnmarshalText of netip.Addr"},
		{`{"__type__": "int", "value": 1}`, new(chan int), "cannot decode into a chan int"},
		{`{"__type__": "int", "value": 1}`, new(error), "cannot decode into the interface type error"},
		{``, new(int), "unexpected end of input"},
	} {
		err := Unmarshal([]byte(tc.in), tc.into, cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Unmarshal(%.80s) into %T: %v\n want an error containing %q", tc.in, tc.into, err, tc.want)
		}
	}
	if err := Unmarshal([]byte(`{"__type__": "int", "value": 1}`), 0, cfg); err == nil {
		t.Error("Unmarshal into a non-pointer")
	}
}

// A panic of a user's decoding method is an error.
type panicky struct{}

func (*panicky) UnmarshalText([]byte) error { panic("boom") }

func TestUnmarshalPanics(t *testing.T) {
	err := Unmarshal([]byte(`{"__type__": "str", "value": "x"}`), new(panicky), cfg)
	if err == nil || !strings.Contains(err.Error(), "panicked: boom") {
		t.Errorf("err = %v", err)
	}
}

func TestStr(t *testing.T) {
	b, err := Str("$2b$12$abc")
	if err != nil || string(b) != `{"__type__": "str", "value": "$2b$12$abc"}` {
		t.Fatalf("Str: %s, %v", b, err)
	}
	s, err := UnwrapStr(b)
	if err != nil || s != "$2b$12$abc" {
		t.Errorf("UnwrapStr: %q, %v", s, err)
	}
	for _, bad := range []string{`{"__type__": "int", "value": 1}`, `"x"`, `$2b$12$abc`} {
		if _, err := UnwrapStr([]byte(bad)); err == nil {
			t.Errorf("UnwrapStr(%s) succeeded", bad)
		}
	}
}

// Encoders and parsers are pooled: values encoded and decoded at once by
// many goroutines never mix.
func TestConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				in := map[string]any{"g": int64(g), "i": int64(i), "l": []any{strconv.Itoa(i), map[string]any{"x": float64(i) + 0.5}}}
				b, err := Marshal(&in, cfg)
				if err != nil {
					t.Error(err)
					return
				}
				var out map[string]any
				if err := Unmarshal(b, &out, cfg); err != nil || !reflect.DeepEqual(in, out) {
					t.Errorf("goroutine %d: %v became %s and %v, %v", g, in, b, out, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
