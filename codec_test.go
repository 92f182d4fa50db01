package nest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redisimnest/nest"
)

// Value types with their own encodings.
type (
	moodVal  string
	countVal int64
	blobVal  []byte
	// Named types of every other scalar kind, read and written through
	// their underlying representation.
	celsiusVal float64
	ratioVal   float32
	flagVal    bool
	portVal    uint16
	levelVal   int8

	// binVal is stored through MarshalBinary: a 4-byte big-endian N, then S.
	binVal struct {
		N uint32
		S string
	}
	// uuidVal is a UUID-like [16]byte with a text form.
	uuidVal [16]byte

	innerVal struct {
		Label string    `json:"label"`
		At    time.Time `json:"at"`
		Vals  []int     `json:"vals"`
	}
	// complexVal is the original's "complex data": nested structs, maps,
	// slices, times and UUID-like values.
	complexVal struct {
		ID      uuidVal               `json:"id"`
		RawID   [16]byte              `json:"raw_id"`
		Name    string                `json:"name"`
		Tags    []string              `json:"tags"`
		Scores  map[string]float64    `json:"scores"`
		Groups  map[string][]innerVal `json:"groups"`
		When    time.Time             `json:"when"`
		Inner   innerVal              `json:"inner"`
		Ptr     *innerVal             `json:"ptr"`
		Nil     *innerVal             `json:"nil"`
		Bytes   []byte                `json:"bytes"`
		Big     uint64                `json:"big"`
		Neg     int64                 `json:"neg"`
		Enabled bool                  `json:"enabled"`
		Matrix  [][]float64           `json:"matrix"`
	}
)

func (v binVal) MarshalBinary() ([]byte, error) {
	return append(binary.BigEndian.AppendUint32(nil, v.N), v.S...), nil
}

func (v *binVal) UnmarshalBinary(b []byte) error {
	if len(b) < 4 {
		return fmt.Errorf("binVal: %d bytes, want at least 4", len(b))
	}
	v.N, v.S = binary.BigEndian.Uint32(b), string(b[4:])
	return nil
}

func (u uuidVal) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(u[:])), nil }

func (u *uuidVal) UnmarshalText(b []byte) error {
	if len(b) != 32 {
		return fmt.Errorf("uuidVal: %d hex digits, want 32", len(b))
	}
	_, err := hex.Decode(u[:], b)
	return err
}

// b64Codec is a custom codec: JSON wrapped in base64.
type b64Codec struct{}

func (b64Codec) Name() string { return "b64json" }

func (b64Codec) Marshal(v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return []byte(base64.StdEncoding.EncodeToString(j)), nil
}

func (b64Codec) Unmarshal(data []byte, v any) error {
	j, err := base64.StdEncoding.DecodeString(string(data))
	if err != nil {
		return err
	}
	return json.Unmarshal(j, v)
}

type codecRoot struct {
	nest.Namespace `nest:"c"`
	Str            nest.Key[string]         `nest:"str"`
	Bytes          nest.Key[[]byte]         `nest:"bytes"`
	Blob           nest.Key[blobVal]        `nest:"blob"`
	Int            nest.Key[int]            `nest:"int"`
	Int8           nest.Key[int8]           `nest:"int8"`
	Int16          nest.Key[int16]          `nest:"int16"`
	Int32          nest.Key[int32]          `nest:"int32"`
	Int64          nest.Key[int64]          `nest:"int64"`
	Uint           nest.Key[uint]           `nest:"uint"`
	Uint8          nest.Key[uint8]          `nest:"uint8"`
	Uint16         nest.Key[uint16]         `nest:"uint16"`
	Uint32         nest.Key[uint32]         `nest:"uint32"`
	Uint64         nest.Key[uint64]         `nest:"uint64"`
	Uintptr        nest.Key[uintptr]        `nest:"uintptr"`
	Float32        nest.Key[float32]        `nest:"float32"`
	Float64        nest.Key[float64]        `nest:"float64"`
	Bool           nest.Key[bool]           `nest:"bool"`
	Time           nest.Key[time.Time]      `nest:"time"`
	Dur            nest.Key[time.Duration]  `nest:"dur"`
	Mood           nest.Key[moodVal]        `nest:"mood"`
	Count          nest.Key[countVal]       `nest:"count"`
	Text           nest.Key[textVal]        `nest:"text"`
	Bin            nest.Key[binVal]         `nest:"bin"`
	UUID           nest.Key[uuidVal]        `nest:"uuid"`
	Complex        nest.Key[complexVal]     `nest:"complex"`
	ComplexMP      nest.Key[complexVal]     `nest:"complex_mp" codec:"msgpack"`
	ComplexB64     nest.Key[complexVal]     `nest:"complex_b64" codec:"b64json"`
	StrJSON        nest.Key[string]         `nest:"str_json" codec:"json"`
	StrB64         nest.Key[string]         `nest:"str_b64" codec:"b64json"`
	IntMP          nest.Key[int]            `nest:"int_mp" codec:"msgpack"`
	Map            nest.Key[map[string]int] `nest:"map"`
	Slice          nest.Key[[]string]       `nest:"slice"`
	Ptr            nest.Key[*innerVal]      `nest:"ptr"`
	Point          nest.Key[pointVal]       `nest:"point"`
	Celsius        nest.Key[celsiusVal]     `nest:"celsius"`
	Ratio          nest.Key[ratioVal]       `nest:"ratio"`
	Flag           nest.Key[flagVal]        `nest:"flag"`
	Port           nest.Key[portVal]        `nest:"port"`
	Level          nest.Key[levelVal]       `nest:"level"`
}

func TestCodecNativeRoundTrips(t *testing.T) {
	t.Parallel()
	r, rdb := newCodecRoot(t)
	s := func(x string) []byte { return []byte(x) }

	t.Run("string", func(t *testing.T) {
		for _, v := range []string{"", "hello", "with space and\nnewline", "日本語", `{"not":"json"}`, "\x00\xff binary-ish", strings.Repeat("x", 100_000)} {
			assertRoundTrip(t, rdb, r.Str, v, s(v), equal)
		}
	})
	t.Run("[]byte", func(t *testing.T) {
		all := make([]byte, 256)
		for i := range all {
			all[i] = byte(i)
		}
		for _, v := range [][]byte{{}, []byte("abc"), {0xff, 0xfe, 0x00, 0x80}, all} {
			assertRoundTrip(t, rdb, r.Bytes, v, v, bytes.Equal)
			assertRoundTrip(t, rdb, r.Blob, blobVal(v), v, func(a, b blobVal) bool { return bytes.Equal(a, b) })
		}
	})
	t.Run("signed integers", func(t *testing.T) {
		for _, v := range []int{0, 1, -1, 30, math.MinInt, math.MaxInt} {
			assertRoundTrip(t, rdb, r.Int, v, s(fmt.Sprint(v)), equal)
		}
		for _, v := range []int8{0, -1, math.MinInt8, math.MaxInt8} {
			assertRoundTrip(t, rdb, r.Int8, v, s(fmt.Sprint(v)), equal)
		}
		for _, v := range []int16{math.MinInt16, math.MaxInt16} {
			assertRoundTrip(t, rdb, r.Int16, v, s(fmt.Sprint(v)), equal)
		}
		for _, v := range []int32{math.MinInt32, math.MaxInt32} {
			assertRoundTrip(t, rdb, r.Int32, v, s(fmt.Sprint(v)), equal)
		}
		for _, v := range []int64{math.MinInt64, math.MaxInt64, -42} {
			assertRoundTrip(t, rdb, r.Int64, v, s(fmt.Sprint(v)), equal)
		}
		assertRoundTrip(t, rdb, r.Count, countVal(-7), s("-7"), equal)
		assertRoundTrip(t, rdb, r.Dur, 90*time.Second, s("90000000000"), equal)
	})
	t.Run("unsigned integers", func(t *testing.T) {
		for _, v := range []uint{0, 1, math.MaxUint} {
			assertRoundTrip(t, rdb, r.Uint, v, s(fmt.Sprint(v)), equal)
		}
		for _, v := range []uint8{0, math.MaxUint8} {
			assertRoundTrip(t, rdb, r.Uint8, v, s(fmt.Sprint(v)), equal)
		}
		for _, v := range []uint16{0, math.MaxUint16} {
			assertRoundTrip(t, rdb, r.Uint16, v, s(fmt.Sprint(v)), equal)
		}
		for _, v := range []uint32{0, math.MaxUint32} {
			assertRoundTrip(t, rdb, r.Uint32, v, s(fmt.Sprint(v)), equal)
		}
		for _, v := range []uint64{0, math.MaxUint64} {
			assertRoundTrip(t, rdb, r.Uint64, v, s(fmt.Sprint(v)), equal)
		}
		assertRoundTrip(t, rdb, r.Uintptr, uintptr(12345), s("12345"), equal)
	})
	t.Run("floats", func(t *testing.T) {
		for _, v := range []float64{0, 1.5, -2.25, 0.1, 1e300, -1e-300, math.MaxFloat64, math.SmallestNonzeroFloat64, math.Pi} {
			assertRoundTrip(t, rdb, r.Float64, v, nil, floatEqual[float64])
		}
		assertRoundTrip(t, rdb, r.Float64, 1.5, s("1.5"), floatEqual[float64])
		assertRoundTrip(t, rdb, r.Float64, 1e21, s("1e+21"), floatEqual[float64])
		assertRoundTrip(t, rdb, r.Float64, math.Copysign(0, -1), s("-0"), floatEqual[float64])
		for _, v := range []float32{0, 1.5, -0.1, 3.4e38, math.MaxFloat32, math.SmallestNonzeroFloat32, 16777217} {
			assertRoundTrip(t, rdb, r.Float32, v, nil, floatEqual[float32])
		}
		// float32 is stored in its shortest float32 form, not float64's.
		assertRoundTrip(t, rdb, r.Float32, float32(0.1), s("0.1"), floatEqual[float32])
		// Non-finite values round-trip as Go spells them.
		for _, v := range []float64{math.Inf(1), math.Inf(-1), math.NaN()} {
			assertRoundTrip(t, rdb, r.Float64, v, nil, floatEqual[float64])
		}
	})
	t.Run("bool", func(t *testing.T) {
		assertRoundTrip(t, rdb, r.Bool, true, s("1"), equal)
		assertRoundTrip(t, rdb, r.Bool, false, s("0"), equal)
	})
	t.Run("time", func(t *testing.T) {
		zone := time.FixedZone("IST", 5*3600+1800)
		times := []time.Time{
			time.Date(2024, 2, 29, 23, 59, 59, 123456789, zone),
			time.Date(1999, 12, 31, 0, 0, 0, 1, time.UTC),
			time.Date(2030, 1, 1, 12, 0, 0, 0, time.FixedZone("", -7*3600)),
			{},
			time.Now(), // with a monotonic reading
		}
		for _, v := range times {
			assertRoundTrip(t, rdb, r.Time, v, s(v.Format(time.RFC3339Nano)), time.Time.Equal)
		}
		// The offset survives, not only the instant.
		v := times[0]
		if err := r.Time.Set(context.Background(), v); err != nil {
			t.Fatal(err)
		}
		if raw := rdb.Get(context.Background(), r.Time.Name()).Val(); raw != "2024-02-29T23:59:59.123456789+05:30" {
			t.Errorf("stored time = %q", raw)
		}
		got, err := r.Time.Get(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, off := got.Zone(); off != 5*3600+1800 || got.Nanosecond() != 123456789 {
			t.Errorf("Get = %v, want offset +05:30 and nanoseconds kept", got)
		}
	})
	t.Run("named string", func(t *testing.T) {
		assertRoundTrip(t, rdb, r.Mood, moodVal("happy"), s("happy"), equal)
	})
	t.Run("named scalars", func(t *testing.T) {
		assertRoundTrip(t, rdb, r.Celsius, celsiusVal(-21.5), s("-21.5"), floatEqual[celsiusVal])
		assertRoundTrip(t, rdb, r.Celsius, celsiusVal(math.Inf(1)), s("+Inf"), floatEqual[celsiusVal])
		assertRoundTrip(t, rdb, r.Ratio, ratioVal(0.1), s("0.1"), floatEqual[ratioVal])
		assertRoundTrip(t, rdb, r.Ratio, ratioVal(math.MaxFloat32), nil, floatEqual[ratioVal])
		assertRoundTrip(t, rdb, r.Flag, flagVal(true), s("1"), equal)
		assertRoundTrip(t, rdb, r.Flag, flagVal(false), s("0"), equal)
		assertRoundTrip(t, rdb, r.Port, portVal(math.MaxUint16), s("65535"), equal)
		assertRoundTrip(t, rdb, r.Level, levelVal(math.MinInt8), s("-128"), equal)
		assertRoundTrip(t, rdb, r.Count, countVal(math.MaxInt64), s("9223372036854775807"), equal)
		assertRoundTrip(t, rdb, r.Blob, blobVal(nil), s(""), func(a, b blobVal) bool { return bytes.Equal(a, b) })
	})
	t.Run("TextMarshaler", func(t *testing.T) {
		assertRoundTrip(t, rdb, r.Text, textVal{"lvl", 3}, s("lvl|3"), equal)
		u := uuidVal{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
		assertRoundTrip(t, rdb, r.UUID, u, s("deadbeef0102030405060708090a0b0c"), equal)
	})
	t.Run("BinaryMarshaler", func(t *testing.T) {
		assertRoundTrip(t, rdb, r.Bin, binVal{N: 258, S: "bin"}, append([]byte{0, 0, 1, 2}, "bin"...), equal)
	})
}

func TestCodecStoredFormIsInteroperable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root, rdb := newRoot(t)
	u := root.User.At(1)
	if err := u.Age.Set(ctx, 30); err != nil {
		t.Fatal(err)
	}
	if raw := rdb.Get(ctx, "root:user:1:age").Val(); raw != "30" {
		t.Errorf("stored int = %q, want 30", raw)
	}
	// INCRBY works on the stored form, and the key reads the result.
	if n, err := rdb.IncrBy(ctx, "root:user:1:age", 12).Result(); err != nil || n != 42 {
		t.Fatalf("INCRBY = %d, %v", n, err)
	}
	if v, err := u.Age.Get(ctx); err != nil || v != 42 {
		t.Errorf("Get after INCRBY = %d, %v; want 42", v, err)
	}
	if enc := rdb.ObjectEncoding(ctx, "root:user:1:age").Val(); enc != "int" {
		t.Errorf("OBJECT ENCODING = %q, want int", enc)
	}
	// A value written by another client with INCR reads as an int.
	if err := rdb.Incr(ctx, "root:user:2:age").Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := root.User.At(2).Age.Get(ctx); err != nil || v != 1 {
		t.Errorf("Get of INCR-created key = %d, %v", v, err)
	}
	// Strings are raw, bools 1/0, times RFC 3339.
	if err := u.Name.Set(ctx, "Alice"); err != nil {
		t.Fatal(err)
	}
	if raw := rdb.Get(ctx, "root:user:1:name").Val(); raw != "Alice" {
		t.Errorf("stored string = %q", raw)
	}
	m := u.Messages.At(1)
	if err := m.Seen.Set(ctx, true); err != nil {
		t.Fatal(err)
	}
	if raw := rdb.Get(ctx, m.Seen.Name()).Val(); raw != "1" {
		t.Errorf("stored bool = %q, want 1", raw)
	}
	if err := m.Seen.Set(ctx, false); err != nil {
		t.Fatal(err)
	}
	if raw := rdb.Get(ctx, m.Seen.Name()).Val(); raw != "0" {
		t.Errorf("stored bool = %q, want 0", raw)
	}
	// Values written by hand in the usual spellings read back.
	for raw, want := range map[string]bool{"1": true, "0": false, "true": true, "false": false} {
		rdb.Set(ctx, m.Seen.Name(), raw, 0)
		if v, err := m.Seen.Get(ctx); err != nil || v != want {
			t.Errorf("Get of %q = %v, %v; want %v", raw, v, err, want)
		}
	}
	// JSON for slices; the declared default for a missing key.
	if err := root.App.Tokens.Set(ctx, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if raw := rdb.Get(ctx, "root:app:tokens").Val(); raw != `["a","b"]` {
		t.Errorf("stored []string = %q", raw)
	}
	if v, err := root.App.PendingUsers.Get(ctx); !isNotFound(err) || v != nil {
		t.Errorf("missing key without default = %v, %v; want ErrNotFound", v, err)
	}
	if v, err := root.User.At(9).Name.Get(ctx); err != nil || v != "Unknown" {
		t.Errorf("missing key with default = %q, %v", v, err)
	}
}

// complexEq compares two complexVal values, times by instant.
func complexEq(a, b complexVal) bool {
	norm := func(c complexVal) complexVal {
		c.When = c.When.UTC()
		c.Inner.At = c.Inner.At.UTC()
		if c.Ptr != nil {
			p := *c.Ptr
			p.At = p.At.UTC()
			c.Ptr = &p
		}
		g := map[string][]innerVal{}
		for k, v := range c.Groups {
			out := make([]innerVal, len(v))
			for i, in := range v {
				in.At = in.At.UTC()
				out[i] = in
			}
			g[k] = out
		}
		c.Groups = g
		return c
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func complexValue() complexVal {
	zone := time.FixedZone("", -3*3600-1800)
	return complexVal{
		ID:     uuidVal{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		RawID:  [16]byte{0xff, 0, 0x80, 1},
		Name:   "complex ✓",
		Tags:   []string{"a", "b", ""},
		Scores: map[string]float64{"x": 1.5, "y": -2e-10, "z": 1e100},
		Groups: map[string][]innerVal{
			"g1": {{Label: "one", At: time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC), Vals: []int{1, 2}}},
			"g2": {},
		},
		When:    time.Date(2023, 6, 7, 8, 9, 10, 987654321, zone),
		Inner:   innerVal{Label: "inner", At: time.Date(2001, 1, 1, 0, 0, 0, 0, zone), Vals: []int{-1}},
		Ptr:     &innerVal{Label: "ptr", Vals: []int{}},
		Bytes:   []byte{0, 1, 2, 0xff},
		Big:     math.MaxUint64,
		Neg:     math.MinInt64,
		Enabled: true,
		Matrix:  [][]float64{{1, 2}, {3.5}},
	}
}

func TestCodecComplexData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, rdb := newCodecRoot(t)
	v := complexValue()

	t.Run("json", func(t *testing.T) {
		assertRoundTrip(t, rdb, r.Complex, v, nil, complexEq)
		if err := r.Complex.Set(ctx, v); err != nil {
			t.Fatal(err)
		}
		raw := rdb.Get(ctx, r.Complex.Name()).Val()
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatalf("stored value is not JSON: %v: %q", err, raw)
		}
		if m["id"] != "0102030405060708090a0b0c0d0e0f10" || m["name"] != "complex ✓" || m["when"] != "2023-06-07T08:09:10.987654321-03:30" {
			t.Errorf("stored JSON = %s", raw)
		}
	})
	t.Run("msgpack", func(t *testing.T) {
		assertRoundTrip(t, rdb, r.ComplexMP, v, nil, complexEq)
		if err := r.ComplexMP.Set(ctx, v); err != nil {
			t.Fatal(err)
		}
		raw, _ := rdb.Get(ctx, r.ComplexMP.Name()).Bytes()
		if json.Valid(raw) || len(raw) == 0 || raw[0]&0xf0 != 0x80 && raw[0] != 0xde {
			t.Errorf("stored msgpack does not start with a map header: % x", raw[:min(8, len(raw))])
		}
		// Struct fields are named by their json tags.
		if !bytes.Contains(raw, []byte("raw_id")) || bytes.Contains(raw, []byte("RawID")) {
			t.Errorf("msgpack field names do not follow the json tags")
		}
		if err := r.IntMP.Set(ctx, 300); err != nil {
			t.Fatal(err)
		}
		if raw, _ := rdb.Get(ctx, r.IntMP.Name()).Bytes(); !bytes.Equal(raw, []byte{0xcd, 0x01, 0x2c}) {
			t.Errorf("msgpack int 300 stored as % x, want cd 01 2c", raw)
		}
		if got, err := r.IntMP.Get(ctx); err != nil || got != 300 {
			t.Errorf("msgpack int Get = %d, %v", got, err)
		}
	})
	t.Run("custom codec", func(t *testing.T) {
		assertRoundTrip(t, rdb, r.ComplexB64, v, nil, complexEq)
		// An explicit codec applies to native types too.
		want := base64.StdEncoding.EncodeToString([]byte(`"hi there"`))
		assertRoundTrip(t, rdb, r.StrB64, "hi there", []byte(want), equal)
		assertRoundTrip(t, rdb, r.StrJSON, `quote " and \`, []byte(`"quote \" and \\"`), equal)
	})
	t.Run("other JSON values", func(t *testing.T) {
		assertRoundTrip(t, rdb, r.Map, map[string]int{"a": 1, "b": -2}, []byte(`{"a":1,"b":-2}`), func(a, b map[string]int) bool { return reflect.DeepEqual(a, b) })
		assertRoundTrip(t, rdb, r.Slice, []string{"x", "y"}, []byte(`["x","y"]`), func(a, b []string) bool { return reflect.DeepEqual(a, b) })
		assertRoundTrip(t, rdb, r.Point, pointVal{1, -2}, []byte(`{"x":1,"y":-2}`), equal)
		in := &innerVal{Label: "p", Vals: []int{1}}
		assertRoundTrip(t, rdb, r.Ptr, in, nil, func(a, b *innerVal) bool {
			return a != nil && b != nil && a.Label == b.Label && reflect.DeepEqual(a.Vals, b.Vals)
		})
	})
	t.Run("describe names the codecs", func(t *testing.T) {
		want := map[string]string{
			"str": "string", "bytes": "bytes", "blob": "bytes", "int": "int", "uint64": "uint", "float32": "float",
			"bool": "bool", "time": "time", "mood": "string", "text": "text", "bin": "binary", "uuid": "text",
			"celsius": "float", "ratio": "float", "flag": "bool", "port": "uint", "level": "int", "dur": "int", "count": "int",
			"complex": "json", "complex_mp": "msgpack", "complex_b64": "b64json", "str_json": "json", "int_mp": "msgpack",
		}
		for _, kd := range r.Describe().Keys {
			if w, ok := want[kd.Template]; ok && kd.Codec != w {
				t.Errorf("%s: codec %q, want %q", kd.Template, kd.Codec, w)
			}
		}
	})
}

// mpDefault uses msgpack as its schema codec.
type mpDefault struct {
	nest.Namespace `nest:"mp"`
	Point          nest.Key[pointVal] `nest:"point" default:"{\"x\":5}"`
	Name           nest.Key[string]   `nest:"name"`
	JSONPoint      nest.Key[pointVal] `nest:"json_point" codec:"json"`
}

func TestCodecSchemaDefaultCodec(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := newRedis(t)
	r, err := nest.New[mpDefault](rdb, &nest.Options{Codec: nest.MsgPack})
	if err != nil {
		t.Fatal(err)
	}
	// A missing key reads its default, which tags always write as JSON.
	if v, err := r.Point.Get(ctx); err != nil || v != (pointVal{X: 5}) {
		t.Errorf("default = %+v, %v", v, err)
	}
	assertRoundTrip(t, rdb, r.Point, pointVal{1, 2}, []byte{0x82, 0xa1, 'x', 0x01, 0xa1, 'y', 0x02}, equal)
	// Native types stay native; a per-key codec still wins.
	assertRoundTrip(t, rdb, r.Name, "plain", []byte("plain"), equal)
	assertRoundTrip(t, rdb, r.JSONPoint, pointVal{1, 2}, []byte(`{"x":1,"y":2}`), equal)
	if c := r.Point.Describe().Codec; c != "msgpack" {
		t.Errorf("Describe().Codec = %q, want msgpack", c)
	}
}

// decodeCase stores raw bytes under a key and expects every read to fail
// with a *DecodeError.
type decodeCase struct {
	name  string
	raw   string
	key   string // full key name
	codec string
	typ   string
	read  func(ctx context.Context) (any, error) // Get
	more  func(ctx context.Context) error        // Lookup
	upd   func(ctx context.Context) error        // Update
	del   func(ctx context.Context) error        // GetDel
	rawFn func(ctx context.Context) ([]byte, error)
}

func decodeCaseFor[T any](name string, k nest.Key[T], raw, codec, typ string) decodeCase {
	return decodeCase{
		name: name, raw: raw, key: k.Name(), codec: codec, typ: typ,
		read: func(ctx context.Context) (any, error) { return k.Get(ctx) },
		more: func(ctx context.Context) error {
			v, ok, err := k.Lookup(ctx)
			if err != nil && (ok || !reflect.ValueOf(&v).Elem().IsZero()) {
				return fmt.Errorf("Lookup returned %#v, ok=%v with its error", v, ok)
			}
			return err
		},
		upd: func(ctx context.Context) error {
			_, err := k.Update(ctx, func(cur T, _ bool) (T, error) {
				return cur, errors.New("fn must not run on an undecodable value")
			})
			return err
		},
		del: func(ctx context.Context) error {
			_, _, err := k.GetDel(ctx)
			return err
		},
		rawFn: k.Raw,
	}
}

func TestCodecUndecodableValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, rdb := newCodecRoot(t)
	cases := []decodeCase{
		decodeCaseFor("abc as int", r.Int, "abc", "int", "int"),
		decodeCaseFor("empty as int", r.Int, "", "int", "int"),
		decodeCaseFor("float text as int", r.Int, "1.5", "int", "int"),
		decodeCaseFor("space-padded int", r.Int, " 30", "int", "int"),
		decodeCaseFor("int overflow", r.Int, "9223372036854775808", "int", "int"),
		decodeCaseFor("300 as int8", r.Int8, "300", "int", "int8"),
		decodeCaseFor("-129 as int8", r.Int8, "-129", "int", "int8"),
		decodeCaseFor("70000 as uint16", r.Uint16, "70000", "uint", "uint16"),
		decodeCaseFor("-1 as uint", r.Uint, "-1", "uint", "uint"),
		decodeCaseFor("named int overflow", r.Count, "99999999999999999999", "int", "nest_test.countVal"),
		decodeCaseFor("x as float", r.Float64, "x", "float", "float64"),
		decodeCaseFor("float32 overflow", r.Float32, "1e39", "float", "float32"),
		decodeCaseFor("maybe as bool", r.Bool, "maybe", "bool", "bool"),
		decodeCaseFor("named float", r.Celsius, "warm", "float", "nest_test.celsiusVal"),
		decodeCaseFor("named float32 overflow", r.Ratio, "1e39", "float", "nest_test.ratioVal"),
		decodeCaseFor("named bool", r.Flag, "yes", "bool", "nest_test.flagVal"),
		decodeCaseFor("named uint16 overflow", r.Port, "65536", "uint", "nest_test.portVal"),
		decodeCaseFor("named int8 overflow", r.Level, "-129", "int", "nest_test.levelVal"),
		decodeCaseFor("bad time", r.Time, "yesterday", "time", "time.Time"),
		decodeCaseFor("time without zone", r.Time, "2024-01-01T00:00:00", "time", "time.Time"),
		decodeCaseFor("bad text", r.Text, "no separator", "text", "nest_test.textVal"),
		decodeCaseFor("bad uuid", r.UUID, "xyz", "text", "nest_test.uuidVal"),
		decodeCaseFor("short binary", r.Bin, "\x01", "binary", "nest_test.binVal"),
		decodeCaseFor("invalid JSON", r.Complex, "{", "json", "nest_test.complexVal"),
		decodeCaseFor("JSON of the wrong shape", r.Point, "[1,2]", "json", "nest_test.pointVal"),
		decodeCaseFor("JSON with trailing garbage", r.Point, `{"x":1} x`, "json", "nest_test.pointVal"),
		decodeCaseFor("JSON field of the wrong type", r.Point, `{"x":"one"}`, "json", "nest_test.pointVal"),
		decodeCaseFor("JSON into a slice", r.Slice, `{"a":1}`, "json", "[]string"),
		decodeCaseFor("msgpack reserved byte", r.ComplexMP, "\xc1", "msgpack", "nest_test.complexVal"),
		decodeCaseFor("msgpack truncated", r.ComplexMP, "\x82\xa1x", "msgpack", "nest_test.complexVal"),
		decodeCaseFor("msgpack string into struct", r.ComplexMP, "\xa3abc", "msgpack", "nest_test.complexVal"),
		decodeCaseFor("JSON into a msgpack key", r.ComplexMP, `{"name":"x"}`, "msgpack", "nest_test.complexVal"),
		decodeCaseFor("msgpack string into int", r.IntMP, "\xa3abc", "msgpack", "int"),
		decodeCaseFor("custom codec bad base64", r.ComplexB64, "!!!", "b64json", "nest_test.complexVal"),
		decodeCaseFor("custom codec bad JSON inside", r.StrB64, base64.StdEncoding.EncodeToString([]byte("{")), "b64json", "string"),
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			check := func(what string, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s of %q: no error, want ErrDecode", what, tc.raw)
				}
				if !errors.Is(err, nest.ErrDecode) {
					t.Fatalf("%s of %q: err %v does not match ErrDecode", what, tc.raw, err)
				}
				var de *nest.DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("%s: err %v (%T) is not a *nest.DecodeError", what, err, err)
				}
				if de.Key != tc.key || !bytes.Equal(de.Raw, []byte(tc.raw)) || de.Codec != tc.codec || de.Type != tc.typ {
					t.Errorf("%s: DecodeError{Key: %q, Raw: %q, Codec: %q, Type: %q}, want {%q, %q, %q, %q}",
						what, de.Key, de.Raw, de.Codec, de.Type, tc.key, tc.raw, tc.codec, tc.typ)
				}
				if de.Err == nil || errors.Unwrap(err) == nil {
					t.Errorf("%s: DecodeError has no cause", what)
				}
				if !strings.Contains(err.Error(), tc.key) {
					t.Errorf("%s: message %q does not name the key", what, err)
				}
			}
			if err := rdb.Set(ctx, tc.key, tc.raw, 0).Err(); err != nil {
				t.Fatal(err)
			}
			v, err := tc.read(ctx)
			check("Get", err)
			if rv := reflect.ValueOf(v); rv.IsValid() && !rv.IsZero() {
				t.Errorf("Get returned %#v with its error, want the zero value", v)
			}
			check("Lookup", tc.more(ctx))
			check("Update", tc.upd(ctx))
			// Nothing was written, and Raw still returns the bytes.
			if got, err := tc.rawFn(ctx); err != nil || !bytes.Equal(got, []byte(tc.raw)) {
				t.Errorf("Raw = %q, %v; want %q", got, err, tc.raw)
			}
			// GetDel deletes the key: the error is then the only copy of
			// the bytes, and it has them.
			check("GetDel", tc.del(ctx))
			if n := rdb.Exists(ctx, tc.key).Val(); n != 0 {
				t.Errorf("GetDel left the key")
			}
		})
	}
}

type encodeRoot struct {
	nest.Namespace `nest:"enc"`
	Any            nest.Key[map[string]any] `nest:"any"`
	Floats         nest.Key[[]float64]      `nest:"floats"`
	FloatsMP       nest.Key[[]float64]      `nest:"floats_mp" codec:"msgpack"`
	Time           nest.Key[time.Time]      `nest:"time"`
}

func TestCodecEncodeErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := newRedis(t)
	r := nest.MustNew[encodeRoot](rdb, nil)
	check := func(what string, err error, name string) {
		t.Helper()
		if !errors.Is(err, nest.ErrEncode) {
			t.Errorf("%s: err = %v, want ErrEncode", what, err)
		} else if !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %q does not name the key %s", what, err, name)
		}
		if n := rdb.Exists(ctx, name).Val(); n != 0 {
			t.Errorf("%s: the key was written", what)
		}
	}
	check("func in JSON", r.Any.Set(ctx, map[string]any{"f": func() {}}), r.Any.Name())
	check("NaN in JSON", r.Floats.Set(ctx, []float64{math.NaN()}), r.Floats.Name())
	_, err := r.Any.SetNX(ctx, map[string]any{"c": make(chan int)})
	check("SetNX chan in JSON", err, r.Any.Name())
	_, _, err = r.Any.GetSet(ctx, map[string]any{"c": make(chan int)})
	check("GetSet chan in JSON", err, r.Any.Name())
	_, err = r.Floats.Update(ctx, func([]float64, bool) ([]float64, error) { return []float64{math.Inf(1)}, nil })
	check("Update Inf in JSON", err, r.Floats.Name())
	// msgpack can carry NaN.
	if err := r.FloatsMP.Set(ctx, []float64{math.NaN(), 1}); err != nil {
		t.Errorf("msgpack NaN: %v", err)
	} else if v, err := r.FloatsMP.Get(ctx); err != nil || len(v) != 2 || !math.IsNaN(v[0]) || v[1] != 1 {
		t.Errorf("msgpack NaN Get = %v, %v", v, err)
	}
}

// A time that RFC 3339 cannot express (a year outside [0, 9999]) must be
// refused by Set, as time.Time.MarshalText and encoding/json refuse it; it
// must not be stored in a form that Get cannot read back.
func TestCodecTimeOutsideRFC3339(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := newRedis(t)
	r := nest.MustNew[encodeRoot](rdb, nil)
	for _, v := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		err := r.Time.Set(ctx, v)
		if err == nil {
			got, gerr := r.Time.Get(ctx)
			if gerr == nil && got.Equal(v) {
				continue // stored and read back: fine too
			}
			raw := rdb.Get(ctx, r.Time.Name()).Val()
			t.Fatalf("Set(%v) stored %q, which Get cannot read back (%v); "+
				"codec.go timeCodec should encode with time.Time.MarshalText and return its error (ErrEncode)", v, raw, gerr)
		}
		if !errors.Is(err, nest.ErrEncode) {
			t.Errorf("Set(%v) = %v, want ErrEncode", v, err)
		}
	}
}

type bigRoot struct {
	nest.Namespace `nest:"big"`
	Value          nest.Key[big.Int]  `nest:"value"`
	Ptr            nest.Key[*big.Int] `nest:"ptr"`
}

// math/big.Int has pointer-receiver MarshalText/UnmarshalText. Used by
// value, Key[big.Int] must store its text (or refuse with ErrEncode), not
// silently store "{}", JSON of a struct without exported fields.
func TestCodecPointerReceiverTextMarshaler(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := newRedis(t)
	r := nest.MustNew[bigRoot](rdb, nil)
	n, _ := new(big.Int).SetString("-123456789012345678901234567890", 10)

	// Through a pointer it already works, as a JSON number.
	if err := r.Ptr.Set(ctx, n); err != nil {
		t.Fatal(err)
	}
	if raw := rdb.Get(ctx, r.Ptr.Name()).Val(); raw != n.String() {
		t.Errorf("Key[*big.Int] stored %q, want %q", raw, n.String())
	}
	if got, err := r.Ptr.Get(ctx); err != nil || got.Cmp(n) != 0 {
		t.Errorf("Key[*big.Int] Get = %v, %v", got, err)
	}

	err := r.Value.Set(ctx, *n)
	if err != nil {
		if !errors.Is(err, nest.ErrEncode) {
			t.Errorf("Set = %v, want nil or ErrEncode", err)
		}
		return
	}
	raw := rdb.Get(ctx, r.Value.Name()).Val()
	got, gerr := r.Value.Get(ctx)
	if gerr != nil || got.Cmp(n) != 0 {
		t.Fatalf("Key[big.Int].Set(%v) returned nil but stored %q, which reads back as %v, %v; "+
			"codec.go newValueCodec should also use the text codec when *T implements "+
			"TextMarshaler/TextUnmarshaler (marshalling &v), and codecFor should marshal &v", n, raw, got.String(), gerr)
	}
	if raw != n.String() {
		t.Errorf("stored %q, want the text form %q", raw, n.String())
	}
}
