package nest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"reflect"
	"runtime"
	"testing"
	"time"
)

// Stored values come from Redis, where anyone with access may write. Every
// codec's decoder is fuzzed with hostile bytes: it never panics, a failure
// is a *DecodeError that keeps the bytes, and it allocates at most a bounded
// multiple of the input. The seeds in testdata/fuzz include the hostile
// msgpack values of issue 7 (a value nested past the depth limit, headers
// declaring gigabytes).

type (
	fzTree struct {
		Name string   `json:"name"`
		Kids []fzTree `json:"kids"`
	}
	fzRecord struct {
		ID     int64            `json:"id"`
		Name   string           `json:"name"`
		Tags   []string         `json:"tags"`
		Scores map[string][]int `json:"scores"`
		When   time.Time        `json:"when"`
		Blob   []byte           `json:"blob"`
		Ptr    *fzTree          `json:"ptr"`
		Fixed  [4]int8          `json:"fixed"`
		Any    any              `json:"any"`
		Meta   map[string]any   `json:"meta"`
	}
	fzCelsius float32
	// fzBin is stored through MarshalBinary: a 2-byte length, then the text.
	fzBin struct{ S string }
)

func (b fzBin) MarshalBinary() ([]byte, error) {
	if len(b.S) > math.MaxUint16 {
		return nil, errors.New("fzBin: too long")
	}
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(b.S))), b.S...), nil
}

func (b *fzBin) UnmarshalBinary(data []byte) error {
	if len(data) < 2 || int(binary.BigEndian.Uint16(data)) != len(data)-2 {
		return fmt.Errorf("fzBin: %d bytes do not match their length prefix", len(data))
	}
	b.S = string(data[2:])
	return nil
}

// fzAllocBound is what decoding n hostile bytes may allocate. Decoding into
// interfaces costs the most per input byte (a one-byte empty map or array
// inside a []any is a Go map or slice header, an interface and a slot), so
// the bound is generous per byte but linear, where the decoders used to
// allocate whatever a header declared.
func fzAllocBound(n int) uint64 { return 128*uint64(n) + 64<<10 }

func fzAllocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// fzDecoder decodes data with one compiled codec and returns the check of
// the result, which runs after the allocations are counted.
type fzDecoder struct {
	name   string
	decode func(data []byte) (check func(t *testing.T))
}

// fzCheck compiles the codec of T and returns its fuzz check. eq, when not
// nil, compares a decoded value re-encoded and decoded again with the first.
func fzCheck[T any](explicit, fallback Codec, maxSize int, eq func(a, b T) bool) fzDecoder {
	c := newValueCodec[T](explicit, fallback)
	c.setMaxSize(maxSize)
	typ := reflect.TypeFor[T]().String()
	name := typ + " (" + c.name + ")"
	return fzDecoder{name: name, decode: func(data []byte) func(t *testing.T) {
		v, err := c.decode("fz:key", string(data))
		return func(t *testing.T) {
			t.Helper()
			if c.maxSize > 0 && len(data) > c.maxSize && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%s: %d bytes over the limit of %d: err = %v", name, len(data), c.maxSize, err)
			}
			if err != nil {
				var de *DecodeError
				if !errors.As(err, &de) || de.Key != "fz:key" || de.Type != typ || de.Codec != c.name || !bytes.Equal(de.Raw, data) || de.Err == nil {
					t.Fatalf("%s: err = %#v, want a complete *DecodeError", name, err)
				}
				if !reflect.ValueOf(&v).Elem().IsZero() {
					t.Fatalf("%s: a value with the error: %#v", name, v)
				}
				return
			}
			if eq == nil {
				return
			}
			enc, err := c.encode("fz:key", v)
			if err != nil {
				t.Fatalf("%s: decoded %#v from %q does not encode: %v", name, v, data, err)
			}
			var stored string
			switch x := enc.(type) {
			case string:
				stored = x
			case []byte:
				stored = string(x)
			default:
				stored = fmt.Sprint(x) // int64, uint64: go-redis writes decimal text
			}
			again, err := c.decode("fz:key", stored)
			if err != nil || !eq(v, again) {
				t.Fatalf("%s: %q decoded to %#v, stored as %q, read back as %#v, %v", name, data, v, stored, again, err)
			}
		}
	}}
}

func fzEq[T comparable](a, b T) bool { return a == b }

func fzFloatEq[T ~float32 | ~float64](a, b T) bool { return a == b || a != a && b != b }

// fzRun fuzzes the decoders. Reading the allocation counters stops the
// world, so they are read once around all the decoders, and again around
// each one only to name the decoder that went over its bound.
func fzRun(f *testing.F, decoders []fzDecoder) {
	f.Fuzz(func(t *testing.T, data []byte) {
		checks := make([]func(*testing.T), len(decoders))
		alloc := fzAllocated(func() {
			for i, d := range decoders {
				checks[i] = d.decode(data)
			}
		})
		if alloc > uint64(len(decoders))*fzAllocBound(len(data)) {
			for _, d := range decoders {
				if a := fzAllocated(func() { d.decode(data) }); a > fzAllocBound(len(data)) {
					t.Fatalf("%s: %d input bytes allocated %d bytes", d.name, len(data), a)
				}
			}
		}
		for _, check := range checks {
			check(t)
		}
	})
}

func fzSeeds(f *testing.F, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
}

// FuzzDecodeJSON: the JSON codec, into interfaces, maps, a recursive type
// and a struct of many kinds, with the default limit and a small one.
func FuzzDecodeJSON(f *testing.F) {
	fzSeeds(f, `null`, `{}`, `[]`, `"x"`, `1e400`, `{"name":"a","kids":[{"name":"b","kids":null}]}`,
		`{"id":1,"when":"2024-01-02T03:04:05Z","blob":"AAE=","fixed":[1,2,3,4],"scores":{"a":[1]},"any":[{}]}`,
		`[[[[[[[[[[`, `{"a":`, "\xff", `{"id":1}x`)
	fzRun(f, []fzDecoder{
		fzCheck[any](nil, JSON, 0, nil),
		fzCheck[map[string]any](nil, JSON, 0, nil),
		fzCheck[fzTree](nil, JSON, 0, nil),
		fzCheck[[]fzTree](nil, JSON, 0, nil),
		fzCheck[fzRecord](nil, JSON, 0, nil),
		fzCheck[fzRecord](nil, JSON, 64, nil),
		fzCheck[string](JSON, nil, 0, fzEq[string]),
		fzCheck[float64](JSON, nil, 0, fzEq[float64]),
	})
}

// FuzzDecodeMsgpack: the msgpack codec, into the same types, a
// map[any]any (whose decoder panics on unhashable keys) and time.Time.
func FuzzDecodeMsgpack(f *testing.F) {
	fzSeeds(f, "\xc0", "\x80", "\x90", "\xa1x", "\x92\x01\xa1x", "\x81\xa4name\xa1a",
		"\xd6\xff\x00\x00\x00\x01", "\xd7\xff\xdf\x01\x00\x00\x00\x00\x00\x00", "\x81\x91\x01\x01",
		"\x82\xa4name\xa1a\xa4kids\x91\x80", "\xc1", "\x01\x02")
	// Issue 7, defect 1: 3 MiB of nested arrays overflowed the stack (too
	// large for a corpus file: testdata holds one just past the limit).
	f.Add(append(bytes.Repeat([]byte{0x91}, 3<<20), 0xc0))
	fzRun(f, []fzDecoder{
		fzCheck[any](MsgPack, nil, 0, nil),
		fzCheck[map[string]any](MsgPack, nil, 0, nil),
		fzCheck[map[any]any](MsgPack, nil, 0, nil),
		fzCheck[map[string][]int](MsgPack, nil, 0, nil),
		fzCheck[fzTree](MsgPack, nil, 0, nil),
		fzCheck[[]fzTree](MsgPack, nil, 0, nil),
		fzCheck[fzRecord](MsgPack, nil, 0, nil),
		fzCheck[fzRecord](MsgPack, nil, 64, nil),
		fzCheck[[]byte](MsgPack, nil, 0, bytes.Equal),
		fzCheck[string](MsgPack, nil, 0, fzEq[string]),
		fzCheck[int](MsgPack, nil, 0, fzEq[int]),
		fzCheck[time.Time](MsgPack, nil, 0, time.Time.Equal),
	})
}

// FuzzDecodeNative: the codecs without a Codec (string, bytes, int, uint,
// float, bool, time, text, binary), which values read back canonically.
func FuzzDecodeNative(f *testing.F) {
	fzSeeds(f, "", "0", "-1", "+7", "007", "1.5", "1e39", "-0", "NaN", "Inf", "0x10", "1_000", "true", "F",
		"9223372036854775808", "18446744073709551616", "2024-02-29T23:59:59.123456789+05:30", "2024-01-01T00:00:00",
		"10000-01-01T00:00:00Z", "::1", "192.168.0.1", "fe80::1%eth0", "-123456789012345678901234567890", "\x00\x03abc", "\xff\xfe")
	dflt := JSON
	fzRun(f, []fzDecoder{
		fzCheck[string](nil, dflt, 0, fzEq[string]),
		fzCheck[string](nil, dflt, 8, fzEq[string]),
		fzCheck[[]byte](nil, dflt, 0, bytes.Equal),
		fzCheck[int](nil, dflt, 0, fzEq[int]),
		fzCheck[int8](nil, dflt, 0, fzEq[int8]),
		fzCheck[uint16](nil, dflt, 0, fzEq[uint16]),
		fzCheck[uint64](nil, dflt, 0, fzEq[uint64]),
		fzCheck[time.Duration](nil, dflt, 0, fzEq[time.Duration]),
		fzCheck[float32](nil, dflt, 0, fzFloatEq[float32]),
		fzCheck[float64](nil, dflt, 0, fzFloatEq[float64]),
		fzCheck[fzCelsius](nil, dflt, 0, fzFloatEq[fzCelsius]),
		fzCheck[bool](nil, dflt, 0, fzEq[bool]),
		fzCheck[time.Time](nil, dflt, 0, time.Time.Equal),
		fzCheck[netip.Addr](nil, dflt, 0, fzEq[netip.Addr]),
		fzCheck[big.Int](nil, dflt, 0, func(a, b big.Int) bool { return a.Cmp(&b) == 0 }),
		fzCheck[fzBin](nil, dflt, 0, fzEq[fzBin]),
	})
}

// The fuzz targets' codecs are the ones keys get.
func TestFuzzCodecNames(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{newValueCodec[fzCelsius](nil, JSON).name, "float"},
		{newValueCodec[netip.Addr](nil, JSON).name, "text"},
		{newValueCodec[big.Int](nil, JSON).name, "text"},
		{newValueCodec[fzBin](nil, JSON).name, "binary"},
		{newValueCodec[time.Duration](nil, JSON).name, "int"},
		{newValueCodec[fzRecord](nil, JSON).name, "json"},
		{newValueCodec[int](MsgPack, JSON).name, "msgpack"},
	} {
		if tc.got != tc.want {
			t.Errorf("codec %q, want %q", tc.got, tc.want)
		}
	}
}
