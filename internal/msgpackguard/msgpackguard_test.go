package msgpackguard

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// marshal encodes v as nest's msgpack codec does.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetCustomStructTag("json")
	err := enc.Encode(v)
	return buf.Bytes(), err
}

// decode checks data and decodes it into v through the checked reader, as
// nest's msgpack codec does.
func decode(data []byte, v any) error {
	r, err := Check(data, MaxDepth)
	if err != nil {
		return err
	}
	dec := msgpack.NewDecoder(r)
	dec.SetCustomStructTag("json")
	return dec.Decode(v)
}

// extPoint is registered as extension type 7. Its payload is MessagePack
// (two integers) that its decoder reads from the stream, so Check walks it
// and must not mark it.
type extPoint struct{ X, Y int }

func init() {
	msgpack.RegisterExtEncoder(7, (*extPoint)(nil), func(_ *msgpack.Encoder, v reflect.Value) ([]byte, error) {
		p := v.Interface().(*extPoint)
		a, _ := msgpack.Marshal(p.X)
		b, _ := msgpack.Marshal(p.Y)
		return append(a, b...), nil
	})
	msgpack.RegisterExtDecoder(7, (*extPoint)(nil), func(d *msgpack.Decoder, v reflect.Value, _ int) error {
		x, err := d.DecodeInt()
		if err != nil {
			return err
		}
		y, err := d.DecodeInt()
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v.Set(reflect.ValueOf(extPoint{x, y}))
		return err
	})
}

type sample struct {
	Name   string            `json:"name"`
	Tags   []string          `json:"tags"`
	Scores map[string]int    `json:"scores"`
	When   time.Time         `json:"when"`
	Times  []time.Time       `json:"times"`
	Meta   map[string]any    `json:"meta"`
	Blob   []byte            `json:"blob"`
	Nested map[string][]int  `json:"nested"`
	Point  *extPoint         `json:"point"`
	Floats []float64         `json:"floats"`
	Any    any               `json:"any"`
	Deep   [][][][]string    `json:"deep"`
	Big    map[string]string `json:"big"`
}

// ambiguousTimes are times whose 8-byte timestamp payload starts with a
// map16 or map32 code (the top byte holds the nanoseconds' high bits), the
// payloads the decoder would misread when it expects a map.
var ambiguousTimes = []time.Time{
	time.Unix(1700000000, 0xde<<22+12345).UTC(),
	time.Unix(1700000000, 0xdf<<22+999).UTC(),
	time.Unix(1, 0x8f<<22).UTC(),
}

func TestCheckAcceptsWhatTheEncoderWrites(t *testing.T) {
	big := map[string]string{}
	for i := range 70000 { // a map16 would not hold it: map32
		big[string(rune('a'+i%26))+strings.Repeat("x", i%7)+string(rune(i))] = "v"
	}
	values := []any{
		nil, true, false, 0, -1, 127, -32, 128, 255, 256, 65535, 65536, math.MaxInt64, math.MinInt64, uint64(math.MaxUint64),
		float32(1.5), math.Pi, math.NaN(), "", "short", strings.Repeat("s", 40), strings.Repeat("m", 300), strings.Repeat("l", 70000),
		[]byte{}, []byte{1, 2, 3}, bytes.Repeat([]byte{0xff}, 300), bytes.Repeat([]byte{0}, 70000),
		[]int{}, make([]int, 20), make([]int, 70000), map[string]int{}, map[string]int{"a": 1},
		time.Time{}, time.Unix(0, 0), time.Unix(1<<33, 5), time.Unix(-5, 3), time.Date(2500, 1, 1, 0, 0, 0, 1, time.UTC),
		&extPoint{X: 3, Y: -4},
		sample{
			Name: "n", Tags: []string{"a", ""}, Scores: map[string]int{"x": 1}, When: ambiguousTimes[0],
			Times: ambiguousTimes, Meta: map[string]any{"k": []any{1, "two", map[string]any{"t": ambiguousTimes[1]}}},
			Blob: []byte("blob"), Nested: map[string][]int{"a": {1, 2}}, Point: &extPoint{1, 2},
			Floats: []float64{1, math.Inf(-1)}, Any: map[string]any{"deep": [][]any{{nil}}},
			Deep: [][][][]string{{{{"x"}}}}, Big: big,
		},
	}
	for _, v := range values {
		data, err := marshal(v)
		if err != nil {
			t.Fatalf("Marshal(%T): %v", v, err)
		}
		if _, err := Check(data, MaxDepth); err != nil {
			t.Errorf("Check(Marshal(%T)) = %v", v, err)
			continue
		}
		// Decoding through the checked reader gives what decoding the bytes does.
		var want, got reflect.Value
		if v == nil {
			var a, b any
			want, got = reflect.ValueOf(&a), reflect.ValueOf(&b)
		} else {
			want, got = reflect.New(reflect.TypeOf(v)), reflect.New(reflect.TypeOf(v))
		}
		plain := msgpack.NewDecoder(bytes.NewReader(data))
		plain.SetCustomStructTag("json")
		werr := plain.Decode(want.Interface())
		gerr := decode(data, got.Interface())
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%T: decode = %v, msgpack.Unmarshal = %v", v, gerr, werr)
		}
		if werr == nil && !reflect.DeepEqual(want.Elem().Interface(), got.Elem().Interface()) {
			if f, ok := v.(float64); !ok || !math.IsNaN(f) {
				t.Errorf("%T: decoding through the checked reader gives another value than decoding the bytes", v)
			}
		}
	}
}

func TestCheckAmbiguousTimes(t *testing.T) {
	for _, tm := range ambiguousTimes {
		data, err := marshal(tm)
		if err != nil {
			t.Fatal(err)
		}
		if data[0] != 0xd7 || data[2]&0xf0 != 0x80 && data[2] != 0xde && data[2] != 0xdf {
			t.Fatalf("%v encodes as % x: not an ambiguous fixext8", tm, data)
		}
		var got time.Time
		if err := decode(data, &got); err != nil || !got.Equal(tm) {
			t.Errorf("time %v: decode = %v, %v", tm, got, err)
		}
		var a any
		if err := decode(data, &a); err != nil || !a.(time.Time).Equal(tm) {
			t.Errorf("time %v into any: decode = %v, %v", tm, a, err)
		}
		// Read where a map is expected, it is an error, not a map.
		var m map[string]any
		if err := decode(data, &m); err == nil {
			t.Errorf("time %v decoded into a map: %v", tm, m)
		}
	}
}

func TestCheckDepth(t *testing.T) {
	nested := func(n int) []byte { return append(bytes.Repeat([]byte{0x91}, n), 0xc0) }
	if _, err := Check(nested(MaxDepth), MaxDepth); err != nil {
		t.Errorf("%d levels: %v", MaxDepth, err)
	}
	for _, n := range []int{MaxDepth + 1, 3 << 20} {
		_, err := Check(nested(n), MaxDepth)
		if err == nil || !strings.Contains(err.Error(), "nested deeper than 10000 levels") {
			t.Errorf("%d levels: err = %v", n, err)
		}
	}
	// Maps and extension payloads count too.
	deepMaps := append(bytes.Repeat([]byte{0x81, 0xc0}, MaxDepth+1), 0xc0)
	if _, err := Check(deepMaps, MaxDepth); err == nil {
		t.Errorf("%d nested maps accepted", MaxDepth+1)
	}
	if _, err := Check(nested(3), 3); err != nil {
		t.Errorf("3 levels, limit 3: %v", err)
	}
	if _, err := Check(nested(4), 3); err == nil {
		t.Errorf("4 levels, limit 3: accepted")
	}
}

func TestCheckRefuses(t *testing.T) {
	u32 := func(code byte, n uint32, rest ...byte) []byte {
		return append(binary.BigEndian.AppendUint32([]byte{code}, n), rest...)
	}
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"empty", "truncated", nil},
		{"reserved code", "reserved code 0xc1", []byte{0xc1}},
		{"trailing bytes", "1 bytes after the value", []byte{0x01, 0x02}},
		{"bin32 of 4 GiB", "declares 4294967295 bytes, 4 follow", u32(0xc6, math.MaxUint32, 0, 0, 0, 0)},
		{"str32 of 4 GiB", "declares 4294967295 bytes", u32(0xdb, math.MaxUint32, 'a')},
		{"ext32 of 4 GiB", "declares 4294967296 bytes", u32(0xc9, math.MaxUint32, 1)},
		{"map32 of 4 G entries", "declares 8589934590 elements, 0 bytes follow", u32(0xdf, math.MaxUint32)},
		{"array32 of 4 G elements", "declares 4294967295 elements, 2 bytes follow", u32(0xdd, math.MaxUint32, 0xc0, 0xc0)},
		{"array16 one short", "declares 3 elements, 2 bytes follow", []byte{0xdc, 0, 3, 0xc0, 0xc0}},
		{"fixarray short", "declares 2 elements, 1 bytes follow", []byte{0x92, 0xc0}},
		{"fixarray element short", "truncated", []byte{0x92, 0x91, 0xc0}},
		{"fixmap missing value", "truncated", []byte{0x81, 0xa1, 'k'}},
		{"fixstr short", "declares 3 bytes, 2 follow", []byte{0xa3, 'a', 'b'}},
		{"float64 short", "declares 8 bytes", []byte{0xcb, 0, 0}},
		{"length truncated", "length truncated", []byte{0xdb, 0, 0}},
		{"fixext16 short", "declares 17 bytes", []byte{0xd8, 1, 2}},
		{"nested huge array", "declares 4294967295 elements", append([]byte{0x92, 0xc0}, u32(0xdd, math.MaxUint32)...)},
	} {
		_, err := Check(tc.data, MaxDepth)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s (% x): err = %v, want %q", tc.name, tc.data, err, tc.want)
		}
	}
}

// An extension header before a map header is skipped by the decoder when it
// expects a map: the map's declared length and everything after it must not
// escape the check.
func TestCheckExtensionWrappedMaps(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		into func() any
	}{
		{"fixmap then array32 into map[string][]int",
			[]byte{0xc7, 0x08, 0x00, 0x81, 0xa1, 'k', 0xdd, 0x01, 0x00, 0x00, 0x00}, func() any { return new(map[string][]int) }},
		{"map32 in a fixext8 into map[string]any",
			[]byte{0xd7, 0xff, 0xdf, 0x01, 0x00, 0x00, 0x00, 0, 0, 0}, func() any { return new(map[string]any) }},
		{"map32 in a fixext8 into map[string]int",
			[]byte{0xd7, 0xff, 0xdf, 0x00, 0xff, 0xff, 0xff, 0, 0, 0}, func() any { return new(map[string]int) }},
		{"map16 in an ext8 into a struct field",
			[]byte{0x81, 0xa6, 'n', 'e', 's', 't', 'e', 'd', 0xc7, 0x03, 0x00, 0xde, 0xff, 0xff}, func() any { return new(sample) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			alloc := allocated(func() { err = decode(tc.data, tc.into()) })
			if err == nil {
				t.Errorf("decoded without error")
			}
			if alloc > 64<<10 {
				t.Errorf("allocated %d bytes for a %d-byte value", alloc, len(tc.data))
			}
		})
	}
	// A payload that is itself MessagePack is read as a map when it is one.
	data := []byte{0xc7, 0x03, 0x00, 0x81, 0x01, 0x02}
	var m map[int]int
	if err := decode(data, &m); err != nil || m[1] != 2 {
		t.Errorf("well-formed wrapped map: %v, %v", m, err)
	}
}

// allocated returns the bytes allocated while fn runs.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestCheckOpaquePayloads(t *testing.T) {
	// A fixext8 whose payload is no MessagePack sequence is marked; a
	// payload that is one is walked, and marks inside it are kept.
	r, err := Check([]byte{0x92, 0xd7, 0xff, 0xdf, 0, 0, 0, 9, 0, 0, 0, 0xc7, 0x02, 0x07, 0x01, 0x02}, MaxDepth)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.opaque, []int{3}) {
		t.Errorf("opaque = %v, want [3]", r.opaque)
	}
	r, err = Check([]byte{0xc7, 0x0b, 0x07, 0xd7, 0xff, 0xdf, 0, 0, 0, 9, 0, 0, 0, 0x01}, MaxDepth)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.opaque, []int{5}) {
		t.Errorf("opaque in a walked payload = %v, want [5]", r.opaque)
	}
	// The reader refuses the marked byte to ReadByte, not to Read.
	for range 5 {
		if _, err := r.ReadByte(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.ReadByte(); !errors.Is(err, errOpaque) {
		t.Errorf("ReadByte at an opaque payload = %v", err)
	}
	buf := make([]byte, 3)
	if n, err := r.Read(buf); n != 3 || err != nil || buf[0] != 0xdf {
		t.Errorf("Read at an opaque payload = %d, %v, % x", n, err, buf)
	}
	if err := r.UnreadByte(); err != nil {
		t.Fatal(err)
	}
	if b, err := r.ReadByte(); err != nil || b != 0 {
		t.Errorf("ReadByte after UnreadByte = %x, %v", b, err)
	}
}

func TestHostileValuesAllocateLittle(t *testing.T) {
	for _, data := range [][]byte{
		{0xc6, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0},
		{0xdb, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0},
		{0xdf, 0xff, 0xff, 0xff, 0xff},
		{0xdd, 0xff, 0xff, 0xff, 0xff, 0, 0},
		{0xc9, 0xff, 0xff, 0xff, 0xff, 0, 0},
	} {
		for _, into := range []any{new(any), new(map[string]any), new([]int), new([]byte), new(string), new(sample)} {
			var err error
			alloc := allocated(func() { err = decode(data, into) })
			if err == nil {
				t.Errorf("% x into %T: no error", data, into)
			}
			if alloc > 16<<10 {
				t.Errorf("% x into %T: allocated %d bytes", data, into, alloc)
			}
		}
	}
}

// FuzzCheck: Check never panics, and whatever it accepts decodes into any
// (and a struct) without panicking, allocating at most a bounded multiple of
// the input.
func FuzzCheck(f *testing.F) {
	for _, v := range []any{nil, 1, "s", []any{1, "x", nil}, map[string]any{"a": []int{1}}, ambiguousTimes[0], &extPoint{1, 2}} {
		b, _ := marshal(v)
		f.Add(b)
	}
	f.Add([]byte{0xc7, 0x08, 0x00, 0x81, 0xa1, 'k', 0xdd, 0x01, 0x00, 0x00, 0x00})
	f.Add([]byte{0xd7, 0xff, 0xdf, 0x01, 0x00, 0x00, 0x00, 0, 0, 0})
	f.Add([]byte{0xc6, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Add(bytes.Repeat([]byte{0x91}, 100))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := Check(data, 64); err != nil {
			return
		}
		for _, into := range []any{new(any), new(sample), new(map[string][]int)} {
			alloc := allocated(func() {
				defer func() { _ = recover() }() // the codec turns decoder panics into errors
				_ = decode(data, into)
			})
			if limit := uint64(256*len(data) + 64<<10); alloc > limit {
				t.Fatalf("%d-byte input into %T allocated %d bytes", len(data), into, alloc)
			}
		}
	})
}
