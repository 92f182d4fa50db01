package nest_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/redisimnest/nest"
)

// Stored values written by someone else (another client, an attacker with
// write access to Redis, a corrupted restore) must never crash the process
// or make it allocate far more than their own size: every read of them is a
// *DecodeError, whatever the codec and whatever the way the value is read.

type (
	// treeVal is a recursive type: its decoder recurses once per level.
	treeVal struct {
		Name string    `json:"name"`
		Kids []treeVal `json:"kids"`
	}

	hostileRoot struct {
		nest.Namespace `nest:"hostile"`
		AnyMP          nest.Key[any]              `nest:"any_mp" codec:"msgpack"`
		TreeMP         nest.Key[treeVal]          `nest:"tree_mp" codec:"msgpack"`
		MapMP          nest.Key[map[string][]int] `nest:"map_mp" codec:"msgpack"`
		BytesMP        nest.Key[[]byte]           `nest:"bytes_mp" codec:"msgpack"`
		AnyJSON        nest.Key[any]              `nest:"any_json"`
		TreeJSON       nest.Key[treeVal]          `nest:"tree_json"`
		Secret         nest.Secret[any]           `nest:"secret" codec:"msgpack"`
	}

	// hostileWriter seals arbitrary bytes under the name of
	// hostileRoot.Secret: msgpack.RawMessage is written as it is.
	hostileWriter struct {
		nest.Namespace `nest:"hostile"`
		Secret         nest.Secret[msgpack.RawMessage] `nest:"secret" codec:"msgpack"`
	}
)

// deepMsgpack is 3 MiB of nested one-element arrays around a nil: before
// msgpackguard it overflowed the goroutine stack (a fatal error, not a panic).
var deepMsgpack = append(bytes.Repeat([]byte{0x91}, 3<<20), 0xc0)

// hugeHeaders are short msgpack values whose headers declare far more
// than follows them: before msgpackguard the decoder allocated the declared
// length (4 GiB for the bin32, 54 MB for the map32, 15 MB for the array32,
// 256 MiB for the extension-wrapped map).
var hugeHeaders = map[string][]byte{
	"bin32":                        u32Header(0xc6, math.MaxUint32, 0, 0, 0, 0),
	"str32":                        u32Header(0xdb, math.MaxUint32, 0, 0, 0, 0),
	"map32":                        u32Header(0xdf, math.MaxUint32),
	"array32":                      u32Header(0xdd, math.MaxUint32, 0, 0),
	"ext32":                        u32Header(0xc9, math.MaxUint32, 1),
	"ext-wrapped map with array32": {0xc7, 0x08, 0x00, 0x81, 0xa1, 'k', 0xdd, 0x01, 0x00, 0x00, 0x00},
}

// extWrappedMap32 is a timestamp (extension -1) whose payload starts like
// a map32 header: read where a map is expected, the decoder skips the
// extension header and sized a map of 16 M entries from it.
var extWrappedMap32 = []byte{0xd7, 0xff, 0xdf, 0x01, 0x00, 0x00, 0x00, 0, 0, 0}

func u32Header(code byte, n uint32, rest ...byte) []byte {
	return append(binary.BigEndian.AppendUint32([]byte{code}, n), rest...)
}

// allocatedBy returns the bytes the process allocated while fn ran.
func allocatedBy(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// allocBound is what reading a stored value of n bytes may allocate: the
// reply, its copies (the codec's input, DecodeError.Raw) and the client's
// own overhead.
func allocBound(n int) uint64 { return 8*uint64(n) + 1<<20 }

// assertHostile stores raw under k, reads it every way, and checks that each
// read is a *DecodeError holding raw, allocating at most allocBound.
func assertHostile[T any](t *testing.T, r *hostileRoot, rdb redis.UniversalClient, k nest.Key[T], raw []byte) {
	t.Helper()
	ctx := context.Background()
	for _, rd := range readOps(r.Namespace, k) {
		if err := rdb.Set(ctx, k.Name(), raw, 0).Err(); err != nil {
			t.Fatal(err)
		}
		var err error
		alloc := allocatedBy(func() { err = rd.read(ctx) })
		var de *nest.DecodeError
		if !errors.As(err, &de) {
			t.Errorf("%s %s: err = %v (%T), want a *nest.DecodeError", k, rd.name, err, err)
		} else if !bytes.Equal(de.Raw, raw) || de.Key != k.Name() {
			t.Errorf("%s %s: DecodeError{Key: %q, %d raw bytes}, want the key and its %d bytes", k, rd.name, de.Key, len(de.Raw), len(raw))
		}
		if alloc > allocBound(len(raw)) {
			t.Errorf("%s %s: allocated %d bytes reading a %d-byte value (bound %d)", k, rd.name, alloc, len(raw), allocBound(len(raw)))
		}
	}
}

// Issue 7, defect 1: a msgpack value nested 3 MiB deep killed the process
// with "fatal error: stack overflow" (this test crashed the test binary
// before internal/msgpackguard). JSON already stopped at depth 10 000.
func TestHostileDeepValues(t *testing.T) {
	r, rdb := newHostileRoot(t)
	assertHostile(t, r, rdb, r.AnyMP, deepMsgpack)
	assertHostile(t, r, rdb, r.TreeMP, deepMsgpack)
	assertHostile(t, r, rdb, r.MapMP, deepMsgpack)
	// A tree of maps: {"kids": [{"kids": [...]}]}.
	tree := bytes.Repeat([]byte("\x81\xa4kids\x91"), 200_000)
	assertHostile(t, r, rdb, r.TreeMP, append(tree, 0xc0))
	deepJSON := []byte(strings.Repeat("[", 3<<20))
	assertHostile(t, r, rdb, r.AnyJSON, deepJSON)
	assertHostile(t, r, rdb, r.TreeJSON, []byte(strings.Repeat(`{"kids":[`, 200_000)))

	// The limit is the one encoding/json applies: 10 000 levels decode.
	ctx := context.Background()
	ok := append(bytes.Repeat([]byte{0x91}, 9_999), 0xc0)
	if err := rdb.Set(ctx, r.AnyMP.Name(), ok, 0).Err(); err != nil {
		t.Fatal(err)
	}
	v, err := r.AnyMP.Get(ctx)
	for depth := 0; err == nil && v != nil; depth++ {
		s, isSlice := v.([]any)
		if !isSlice || len(s) != 1 {
			t.Fatalf("depth %d: %#v", depth, v)
		}
		v = s[0]
	}
	if err != nil {
		t.Errorf("9 999 nested arrays: %v", err)
	}
}

// Issue 7, defect 2: a header declaring a huge length made the decoder
// allocate that length from a value of a few bytes (4 GiB from 9 bytes).
// Before internal/msgpackguard this test failed on the allocation bound (or
// ran out of memory).
func TestHostileDeclaredLengths(t *testing.T) {
	r, rdb := newHostileRoot(t)
	for name, raw := range hugeHeaders {
		t.Run(name, func(t *testing.T) {
			assertHostile(t, r, rdb, r.AnyMP, raw)
			assertHostile(t, r, rdb, r.MapMP, raw)
			assertHostile(t, r, rdb, r.TreeMP, raw)
			assertHostile(t, r, rdb, r.BytesMP, raw)
		})
	}
	t.Run("ext-wrapped map32", func(t *testing.T) {
		assertHostile(t, r, rdb, r.MapMP, extWrappedMap32)
		// The same bytes are a valid time where one is expected.
		if err := rdb.Set(context.Background(), r.AnyMP.Name(), extWrappedMap32, 0).Err(); err != nil {
			t.Fatal(err)
		}
		if v, err := r.AnyMP.Get(context.Background()); err != nil {
			t.Errorf("the timestamp read as any: %v, %v", v, err)
		} else if _, ok := v.(time.Time); !ok {
			t.Errorf("the timestamp read as any: %T", v)
		}
	})
}

// Secret keys decode their plaintext with the same codecs: a hostile
// plaintext (sealed by someone holding the key) is an ErrDecode too, never a
// crash, directly and in a pipeline.
func TestHostileSecretPlaintext(t *testing.T) {
	r, rdb := newHostileRoot(t)
	w := nest.MustNew[hostileWriter](rdb, &nest.Options{SecretKeys: []nest.SecretKey{hostileKey}})
	ctx := context.Background()
	cases := map[string][]byte{"deep": deepMsgpack}
	for name, raw := range hugeHeaders {
		cases[name] = raw
	}
	for name, raw := range cases {
		if err := w.Secret.Set(ctx, raw); err != nil {
			t.Fatalf("%s: seal: %v", name, err)
		}
		var err error
		alloc := allocatedBy(func() { _, err = r.Secret.Get(ctx) })
		if !errors.Is(err, nest.ErrDecode) {
			t.Errorf("%s: Get = %v, want ErrDecode", name, err)
		}
		if alloc > allocBound(len(raw)) {
			t.Errorf("%s: Get allocated %d bytes for %d bytes of plaintext", name, alloc, len(raw))
		}
		p := r.Pipeline()
		f := r.Secret.In(p).Get(ctx)
		_ = p.Exec(ctx)
		if _, err := f.Result(); !errors.Is(err, nest.ErrDecode) {
			t.Errorf("%s: pipeline Get = %v, want ErrDecode", name, err)
		}
	}
	// A well-formed value still opens and decodes.
	if err := w.Secret.Set(ctx, msgpack.RawMessage{0x92, 0x01, 0xa1, 'x'}); err != nil {
		t.Fatal(err)
	}
	if v, err := r.Secret.Get(ctx); err != nil || fmt.Sprint(v) != "[1 x]" {
		t.Errorf("Get = %v, %v; want [1 x]", v, err)
	}
}

// Other ways a msgpack value is malformed: bytes after the value, the
// reserved code, a slice as the key of a map[any]any (the decoder panics).
func TestHostileMsgpackMisc(t *testing.T) {
	type root struct {
		nest.Namespace `nest:"misc"`
		Int            nest.Key[int]         `nest:"int" codec:"msgpack"`
		Map            nest.Key[map[any]any] `nest:"map" codec:"msgpack"`
	}
	rdb := newRedis(t)
	r := nest.MustNew[root](rdb, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		k    nest.Key[int]
		raw  []byte
		want string
	}{
		{r.Int, []byte{0x01, 0x02}, "1 bytes after the value"},
		{r.Int, []byte{0xc1}, "reserved code"},
	} {
		rdb.Set(ctx, tc.k.Name(), tc.raw, 0)
		if _, err := tc.k.Get(ctx); !errors.Is(err, nest.ErrDecode) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("% x: %v, want ErrDecode with %q", tc.raw, err, tc.want)
		}
	}
	rdb.Set(ctx, r.Map.Name(), []byte{0x81, 0x91, 0x01, 0x01}, 0)
	if _, err := r.Map.Get(ctx); !errors.Is(err, nest.ErrDecode) || !strings.Contains(err.Error(), "panicked") {
		t.Errorf("unhashable key: %v, want ErrDecode", err)
	}
	if err := r.Map.Set(ctx, map[any]any{"a": 1, int8(2): "b"}); err != nil {
		t.Fatal(err)
	}
	if v, err := r.Map.Get(ctx); err != nil || len(v) != 2 {
		t.Errorf("map[any]any round trip: %v, %v", v, err)
	}
}
