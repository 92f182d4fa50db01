package nest_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// safeParam is the documented rule for parameter values: non-empty, at
// most 256 bytes (the default Options.MaxParamLen), valid UTF-8, no
// separator, glob character, brace or look-alike of one, no whitespace,
// control or format character, no invisible, replacement, private-use or
// noncharacter code point.
func safeParam(s string) bool {
	if s == "" || len(s) > nest.DefaultMaxParamLen || !utf8.ValidString(s) {
		return false
	}
	const lookAlikes = "\uFF1A\u2236\uA789\uFE13\uFE55\u0589\u05C3\u02D0\u1361" + // ':'
		"\u2217\uFF0A\u204E\uFE61\u066D\u2731\u273D\uFF1F\uFE56" + // '*', '?'
		"\uFF3B\uFF3D\uFE5D\uFE5E\uFF3C\u29F5\u2216\uFE68\u29F9" + // '[', ']', '\\'
		"\uFF5B\uFF5D\uFE5B\uFE5C\uFE37\uFE38" // '{', '}'
	for _, r := range s {
		switch {
		case strings.ContainsRune(`:*?[]\{}`, r), strings.ContainsRune(lookAlikes, r),
			unicode.IsSpace(r), unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Co, r),
			unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r), unicode.Is(unicode.Variation_Selector, r),
			unicode.Is(unicode.Noncharacter_Code_Point, r), r == '\u2800', r == utf8.RuneError:
			return false
		}
	}
	return true
}

// FuzzParamValue feeds arbitrary strings to Sub.At and ParamKey.At. New and
// binding do no I/O, so the client points at an address nobody serves.
func FuzzParamValue(f *testing.F) {
	for _, s := range []string{
		"1", "42", "alice", "", ":", "*", "?", "[", "]", `\`, "{", "}", " ", "\t", "\n", "\x00", "\x7f",
		"a b", "\xff", "\u200b", "\u00a0", "user:1", "1*", "日本", "José", "a-b_c.d", "\u0085", "x\u2028y",
		"\u3164", "a\uFF1Ab", "\u2217", "\uFE0F", "\U000F0000", "\uFDD0", strings.Repeat("x", 257),
	} {
		f.Add(s)
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	f.Cleanup(func() { _ = rdb.Close() })
	root := nest.MustNew[Root](rdb, nil)
	p := nest.MustNew[paramsRoot](rdb, nil)

	f.Fuzz(func(t *testing.T, s string) {
		safe := safeParam(s)

		u := root.User.At(s)
		err := u.Err()
		switch {
		case err == nil && !safe:
			t.Fatalf("At(%q) accepted an unsafe value: prefix %q", s, u.Prefix())
		case err == nil:
			if u.Prefix() != "root:user:"+s || u.Age.Name() != "root:user:"+s+":age" {
				t.Fatalf("At(%q): Prefix %q, Age %q", s, u.Prefix(), u.Age.Name())
			}
			if got := u.Messages.At(s).Text.Name(); got != "root:user:"+s+":message:"+s+":text" {
				t.Fatalf("nested name %q", got)
			}
		case !errors.Is(err, nest.ErrInvalidParam) || errors.Is(err, nest.ErrMissingParam):
			t.Fatalf("At(%q).Err() = %v, want ErrInvalidParam", s, err)
		case safe:
			t.Fatalf("At(%q) refused a safe value: %v", s, err)
		default:
			var pe *nest.ParamError
			if !errors.As(err, &pe) || pe.Param != "user_id" || pe.Field != "Root.User" {
				t.Fatalf("At(%q).Err() = %#v", s, err)
			}
			if u.Prefix() != "" || u.Age.Name() != "" || u.Age.Err() == nil {
				t.Fatalf("unusable handle for %q resolves names", s)
			}
		}

		// The named form and ParamKeys follow the same rule.
		if werr := root.User.With(nest.Params{"user_id": s}).Err(); (werr == nil) != safe {
			t.Fatalf("With(%q).Err() = %v, safe %v", s, werr, safe)
		}
		k := p.Item.At(s)
		if kerr := k.Err(); (kerr == nil) != safe {
			t.Fatalf("Item.At(%q).Err() = %v, safe %v", s, kerr, safe)
		} else if kerr == nil && k.Name() != "proot:item:"+s {
			t.Fatalf("Item.At(%q).Name() = %q", s, k.Name())
		} else if kerr != nil && !errors.Is(kerr, nest.ErrInvalidParam) {
			t.Fatalf("Item.At(%q).Err() = %v", s, kerr)
		}
		// A second parameter is checked as strictly as the first.
		if aerr := root.Admin.At(1, s).Err(); (aerr == nil) != safe {
			t.Fatalf("Admin.At(1, %q).Err() = %v, safe %v", s, aerr, safe)
		}
	})
}

type fuzzCodec struct {
	nest.Namespace `nest:"fz"`
	Str            nest.Key[string]   `nest:"s"`
	Bytes          nest.Key[[]byte]   `nest:"b"`
	Int            nest.Key[int64]    `nest:"i"`
	Uint           nest.Key[uint64]   `nest:"u"`
	Float          nest.Key[float64]  `nest:"f"`
	Slice          nest.Key[[]string] `nest:"l"`
	SliceMP        nest.Key[[]string] `nest:"m" codec:"msgpack"`
}

// FuzzCodecRoundTrip writes arbitrary values through string, []byte,
// int64, uint64, float64 and JSON/msgpack []string keys of one database of
// the shared test server and reads them back, raw and decoded.
func FuzzCodecRoundTrip(f *testing.F) {
	f.Add("", int64(0), uint64(0), 0.0)
	f.Add("hello", int64(-1), uint64(1), 1.5)
	f.Add("\xff\x00\n", int64(9223372036854775807), uint64(18446744073709551615), -2.5e-300)
	f.Add("日本\u200b", int64(-9223372036854775808), uint64(42), 1e300)
	rdb := redistest.Shared(f)
	r := nest.MustNew[fuzzCodec](rdb, nil)
	ctx := context.Background()

	f.Fuzz(func(t *testing.T, s string, i int64, u uint64, fl float64) {
		if err := r.Str.Set(ctx, s); err != nil {
			t.Fatal(err)
		}
		if got, err := r.Str.Get(ctx); err != nil || got != s {
			t.Fatalf("string: Get = %q, %v; want %q", got, err, s)
		}
		if raw := rdb.Get(ctx, r.Str.Name()).Val(); raw != s {
			t.Fatalf("string stored as %q", raw)
		}
		if err := r.Bytes.Set(ctx, []byte(s)); err != nil {
			t.Fatal(err)
		}
		if got, err := r.Bytes.Get(ctx); err != nil || !bytes.Equal(got, []byte(s)) {
			t.Fatalf("[]byte: Get = %q, %v", got, err)
		}
		if err := r.Int.Set(ctx, i); err != nil {
			t.Fatal(err)
		}
		if got, err := r.Int.Get(ctx); err != nil || got != i {
			t.Fatalf("int64: Get = %d, %v; want %d", got, err, i)
		}
		if raw := rdb.Get(ctx, r.Int.Name()).Val(); raw != strconv.FormatInt(i, 10) {
			t.Fatalf("int64 stored as %q", raw)
		}
		if err := r.Uint.Set(ctx, u); err != nil {
			t.Fatal(err)
		}
		if got, err := r.Uint.Get(ctx); err != nil || got != u {
			t.Fatalf("uint64: Get = %d, %v; want %d", got, err, u)
		}
		if err := r.Float.Set(ctx, fl); err != nil {
			t.Fatal(err)
		}
		if got, err := r.Float.Get(ctx); err != nil || !floatEqual(got, fl) {
			t.Fatalf("float64: Get = %v, %v; want %v", got, err, fl)
		}
		// Any stored string read as an int is a number or an ErrDecode.
		if err := rdb.Set(ctx, r.Int.Name(), s, 0).Err(); err != nil {
			t.Fatal(err)
		}
		got, err := r.Int.Get(ctx)
		if want, perr := strconv.ParseInt(s, 10, 64); perr == nil {
			if err != nil || got != want {
				t.Fatalf("int64 from %q: %d, %v", s, got, err)
			}
		} else if !errors.Is(err, nest.ErrDecode) || got != 0 {
			t.Fatalf("int64 from %q: %d, %v; want ErrDecode", s, got, err)
		}
		// JSON and msgpack of a slice holding s. encoding/json replaces
		// invalid UTF-8 with U+FFFD, so JSON is only compared exactly for
		// valid strings.
		want := []string{s, "", s + s}
		for _, k := range []nest.Key[[]string]{r.Slice, r.SliceMP} {
			if err := k.Set(ctx, want); err != nil {
				t.Fatal(err)
			}
			got, err := k.Get(ctx)
			if err != nil || len(got) != 3 {
				t.Fatalf("%s: Get = %q, %v", k, got, err)
			}
			if k.Name() == r.Slice.Name() && !utf8.ValidString(s) {
				continue
			}
			for j := range want {
				if got[j] != want[j] {
					t.Fatalf("%s[%d] = %q, want %q", k, j, got[j], want[j])
				}
			}
		}
	})
}
