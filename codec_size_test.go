package nest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/redisimnest/nest"
)

type sizeRoot struct {
	nest.Namespace `nest:"size"`
	Str            nest.Key[string]         `nest:"str"`
	Bytes          nest.Key[[]byte]         `nest:"bytes"`
	Slice          nest.Key[[]string]       `nest:"slice"`
	SliceMP        nest.Key[[]string]       `nest:"slice_mp" codec:"msgpack"`
	Text           nest.Key[textVal]        `nest:"text"`
	Map            nest.Key[map[string]int] `nest:"map"`
	Secret         nest.Secret[string]      `nest:"secret"`
}

func TestMaxValueSize(t *testing.T) {
	t.Parallel()
	const limit = 1000
	rdb := newRedis(t)
	r := newSizeRoot(t, rdb, limit)
	ctx := context.Background()
	at, over := strings.Repeat("a", limit), strings.Repeat("a", limit+1)

	t.Run("writes", func(t *testing.T) {
		refused := func(what string, err error, key string) {
			t.Helper()
			if !errors.Is(err, nest.ErrEncode) || !errors.Is(err, nest.ErrTooLarge) {
				t.Errorf("%s: err = %v, want ErrEncode and ErrTooLarge", what, err)
			} else if want := fmt.Sprintf("%d bytes exceed the maximum value size of %d bytes", limit+1, limit); !strings.Contains(err.Error(), want) {
				t.Errorf("%s: message %q lacks %q", what, err, want)
			}
			if n := rdb.Exists(ctx, key).Val(); n != 0 {
				t.Errorf("%s: the key was written", what)
			}
		}
		refused("Set string", r.Str.Set(ctx, over), r.Str.Name())
		refused("Set []byte", r.Bytes.Set(ctx, []byte(over)), r.Bytes.Name())
		_, err := r.Str.SetNX(ctx, over)
		refused("SetNX", err, r.Str.Name())
		_, _, err = r.Str.GetSet(ctx, over)
		refused("GetSet", err, r.Str.Name())
		_, err = r.Str.Update(ctx, func(string, bool) (string, error) { return over, nil })
		refused("Update", err, r.Str.Name())
		// The limit applies to the encoded form, here limit+1 bytes: JSON
		// adds brackets and quotes, msgpack a 1-byte array and a 3-byte
		// string header, the text form "|1".
		refused("Set JSON", r.Slice.Set(ctx, []string{at[:limit-3]}), r.Slice.Name())
		refused("Set msgpack", r.SliceMP.Set(ctx, []string{at[:limit-3]}), r.SliceMP.Name())
		refused("Set TextMarshaler", r.Text.Set(ctx, textVal{Name: at[:limit-1], Level: 1}), r.Text.Name())
		p := r.Pipeline()
		f := r.Str.In(p).Set(ctx, over)
		if err := p.Exec(ctx); !errors.Is(err, nest.ErrTooLarge) || !errors.Is(f.Err(), nest.ErrTooLarge) {
			t.Errorf("pipeline Set: Exec %v, Future %v; want ErrTooLarge", err, f.Err())
		}
		if n := rdb.Exists(ctx, r.Str.Name()).Val(); n != 0 {
			t.Errorf("pipeline Set: the key was written")
		}
		if err := r.Secret.Set(ctx, over); !errors.Is(err, nest.ErrEncode) || strings.Contains(err.Error(), over[:20]) {
			t.Errorf("Secret Set: %v, want ErrEncode", err)
		}

		// At the limit, values are written.
		if err := r.Str.Set(ctx, at); err != nil {
			t.Errorf("Set of %d bytes: %v", limit, err)
		}
		if err := r.Slice.Set(ctx, []string{at[:limit-4]}); err != nil {
			t.Errorf("Set JSON of %d bytes: %v", limit, err)
		}
		if err := r.Secret.Set(ctx, at); err != nil {
			t.Errorf("Secret Set of %d bytes: %v", limit, err)
		}
	})

	t.Run("reads", func(t *testing.T) {
		for _, raw := range [][]byte{[]byte(over), []byte(`["` + over + `"]`)} {
			for _, k := range []nest.Key[string]{r.Str} {
				for _, rd := range readOps(r.Namespace, k) {
					rdb.Set(ctx, k.Name(), raw, 0)
					assertTooLarge(t, k.Name()+" "+rd.name, rd.read(ctx), k.Name(), raw, limit)
				}
			}
			for _, rd := range readOps(r.Namespace, r.Slice) {
				rdb.Set(ctx, r.Slice.Name(), raw, 0)
				assertTooLarge(t, r.Slice.Name()+" "+rd.name, rd.read(ctx), r.Slice.Name(), raw, limit)
			}
			rdb.Set(ctx, r.Bytes.Name(), raw, 0)
			_, err := r.Bytes.Get(ctx)
			assertTooLarge(t, "[]byte Get", err, r.Bytes.Name(), raw, limit)
			rdb.Set(ctx, r.Text.Name(), raw, 0)
			_, err = r.Text.Get(ctx)
			assertTooLarge(t, "TextMarshaler Get", err, r.Text.Name(), raw, limit)
			rdb.Set(ctx, r.SliceMP.Name(), raw, 0)
			_, err = r.SliceMP.Get(ctx)
			assertTooLarge(t, "msgpack Get", err, r.SliceMP.Name(), raw, limit)
		}
		// A value at the limit reads back.
		rdb.Set(ctx, r.Str.Name(), at, 0)
		if v, err := r.Str.Get(ctx); err != nil || v != at {
			t.Errorf("Get of %d bytes: %d bytes, %v", limit, len(v), err)
		}
		// A secret whose plaintext is over the limit (sealed by a client
		// with a larger limit) is an ErrDecode that withholds the value.
		big := newSizeRoot(t, rdb, 2*limit)
		if err := big.Secret.Set(ctx, over); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Secret.Get(ctx); !errors.Is(err, nest.ErrDecode) || strings.Contains(err.Error(), over[:20]) {
			t.Errorf("Secret Get over the limit: %v, want ErrDecode", err)
		}
		if v, err := big.Secret.Get(ctx); err != nil || v != over {
			t.Errorf("Secret Get under a larger limit: %d bytes, %v", len(v), err)
		}
	})
}

// The default limit is DefaultMaxValueSize (64 MiB); a negative
// MaxValueSize removes it.
func TestMaxValueSizeDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 64 MiB through Redis")
	}
	rdb := newRedis(t)
	ctx := context.Background()
	def := newSizeRoot(t, rdb, 0)
	unlimited := newSizeRoot(t, rdb, -1)
	over := strings.Repeat("x", nest.DefaultMaxValueSize+1)

	if err := def.Str.Set(ctx, over); !errors.Is(err, nest.ErrTooLarge) {
		t.Errorf("default limit: Set of %d bytes = %v, want ErrTooLarge", len(over), err)
	}
	if n := rdb.Exists(ctx, def.Str.Name()).Val(); n != 0 {
		t.Errorf("default limit: the key was written")
	}
	if err := unlimited.Str.Set(ctx, over); err != nil {
		t.Fatalf("no limit: Set of %d bytes: %v", len(over), err)
	}
	t.Cleanup(func() { rdb.Del(ctx, def.Str.Name()) })
	_, err := def.Str.Get(ctx)
	assertTooLarge(t, "default limit: Get", err, def.Str.Name(), []byte(over), nest.DefaultMaxValueSize)
	if v, err := unlimited.Str.Get(ctx); err != nil || len(v) != len(over) {
		t.Errorf("no limit: Get = %d bytes, %v", len(v), err)
	}
}
