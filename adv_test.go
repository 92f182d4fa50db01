package nest_test

// Adversarial regression tests: each one failed before the fix named in
// its comment.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// advChild runs the calling test again in a child process, where it takes
// the branch advIsChild reports, and fails unless the child passes. Tests
// use it for inputs that used to kill the process (a fatal error no
// recover can catch), so that a regression fails one test instead of the
// whole binary.
func advChild(t *testing.T) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "NEST_ADV_CHILD="+t.Name(), "NEST_TEST_BACKEND=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		const max = 3000
		if len(out) > max {
			out = out[:max]
		}
		t.Fatalf("the child process failed (%v):\n%s", err, out)
	}
}

func advIsChild(t *testing.T) bool { return os.Getenv("NEST_ADV_CHILD") == t.Name() }

// A few bytes stored under a MessagePack key killed the reading process:
// msgpack v5.4.1 allocates a slice of the length an array header declares
// before reading any element (its allocation limit is never applied:
// `flags&disableAllocLimitFlag != 1` is always true), so 0xdd ff ff ff ff
// ("an array of 4 billion elements") into a []T of large elements asks
// for terabytes and dies with "fatal error: runtime: out of memory"; and it
// recurses once per nesting level without a bound, so a value of nested
// one-element arrays overflows the goroutine stack ("fatal error: stack
// overflow", at 1 GB by default: an 8 MB value). Anyone able to write a
// Redis key crashed every reader, where the package promises a
// *DecodeError. Fixed: the MsgPack codec checks a value's declared
// lengths against its size and bounds its nesting (10000, as encoding/json
// does) before decoding it.
func TestAdvMsgpackHostileValue(t *testing.T) {
	if !advIsChild(t) {
		t.Parallel()
		advChild(t)
		return
	}
	// A smaller stack limit keeps the deep value (and the memory a
	// regression would take) small; 10000 levels need far less.
	debug.SetMaxStack(64 << 20)
	type big struct {
		A [128]int64 `json:"a"`
	}
	type mpRoot struct {
		nest.Namespace `nest:"mp"`
		Bigs           nest.Key[[]big]            `nest:"bigs" codec:"msgpack"`
		Any            nest.Key[any]              `nest:"any" codec:"msgpack"`
		Nums           nest.Key[[]int]            `nest:"nums" codec:"msgpack"`
		Map            nest.Key[map[string][]int] `nest:"map" codec:"msgpack"`
	}
	srv := redistest.Start(t)
	rdb := srv.Client(t, 0)
	root := nest.MustNew[mpRoot](rdb, nil)
	ctx := context.Background()
	deep := append(bytes.Repeat([]byte{0x91}, 1<<20), 0xc0) // [[[...[nil]...]]]
	for _, tc := range []struct {
		name string
		key  string
		raw  []byte
		get  func() error
	}{
		{"array32 of 4G big structs", "mp:bigs", []byte{0xdd, 0xff, 0xff, 0xff, 0xff},
			func() error { _, err := root.Bigs.Get(ctx); return err }},
		{"array16 longer than the value", "mp:nums", []byte{0xdc, 0xff, 0xff, 0x01},
			func() error { _, err := root.Nums.Get(ctx); return err }},
		{"map32 of 4G entries", "mp:map", []byte{0xdf, 0xff, 0xff, 0xff, 0xff},
			func() error { _, err := root.Map.Get(ctx); return err }},
		{"nested a million levels deep", "mp:any", deep,
			func() error { _, err := root.Any.Get(ctx); return err }},
	} {
		if err := rdb.Set(ctx, tc.key, tc.raw, 0).Err(); err != nil {
			t.Fatal(err)
		}
		err := tc.get()
		var de *nest.DecodeError
		var oe *nest.OpError
		if !errors.As(err, &de) || !errors.As(err, &oe) || oe.Key != tc.key {
			t.Errorf("%s: Get = %v; want an *OpError naming %s around a *DecodeError", tc.name, err, tc.key)
		}
	}
	// Legitimate values still decode, nested and long alike.
	nums := make([]int, 100_000)
	if err := root.Nums.Set(ctx, nums); err != nil {
		t.Fatal(err)
	}
	if got, err := root.Nums.Get(ctx); err != nil || len(got) != len(nums) {
		t.Fatalf("Nums.Get = %d values, %v", len(got), err)
	}
	var v any = "leaf"
	for range 1000 {
		v = []any{v, map[string]any{"k": 1}}
	}
	if err := root.Any.Set(ctx, v); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Any.Get(ctx); err != nil {
		t.Fatalf("Any.Get of 1000 levels: %v", err)
	}
}

// A Secret's ErrDecrypt quoted the "key ID" read from the stored value
// without checking it, up to 255 bytes of whatever the key held: a value
// stored before the key became a Secret (plaintext, a raw binary key)
// whose first byte happens to be 1 was copied into the error, and so into
// dispatch logs and Reencrypt's error, where the package promises that
// errors and logs never contain plaintext. Fixed: the ID is named only
// when it is a well-formed key ID (1 to 32 characters of A-Z, a-z, 0-9,
// '.', '_', '-'), the only kind a keyring can hold.
func TestAdvDecryptErrorQuotesNoStoredBytes(t *testing.T) {
	t.Parallel()
	rdb := testRedis(t)
	logs := &advLogs{}
	v, err := nest.New[Vault](rdb, &nest.Options{SecretKeys: []nest.SecretKey{newKey(t, "k1")},
		Password: fastPasswords, Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// A 32-byte raw key stored in the clear, as a Key[[]byte] would.
	secret := []byte("\x01\x1e my api secret: Zq9!x7#Lp2@Wm4$v")
	blob := v.Account.At(1).Blob
	if err := rdb.Set(ctx, blob.Name(), secret, 0).Err(); err != nil {
		t.Fatal(err)
	}
	leaks := func(s string) bool {
		return strings.Contains(s, "api secret") || strings.Contains(s, "Zq9")
	}
	_, err = blob.Get(ctx)
	if !errors.Is(err, nest.ErrDecrypt) || leaks(fmt.Sprintf("%v %+v", err, err)) {
		t.Errorf("Get = %v; want ErrDecrypt quoting nothing of the stored value", err)
	}
	_, err = v.Reencrypt(ctx)
	if !errors.Is(err, nest.ErrDecrypt) || leaks(err.Error()) {
		t.Errorf("Reencrypt = %v; want ErrDecrypt quoting nothing of the stored value", err)
	}
	for _, r := range logs.records() {
		if leaks(r) {
			t.Errorf("a dispatch record quotes the stored value: %s", r)
		}
	}
	// A well-formed ID that is not in the keyring is still named.
	other, _ := newVault(t, rdb, newKey(t, "retired-2023"))
	if err := other.Account.At(2).Token.Set(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Account.At(2).Token.Get(ctx); !errors.Is(err, nest.ErrDecrypt) || !strings.Contains(err.Error(), `"retired-2023"`) {
		t.Errorf("Get of a value sealed with a retired key = %v; want ErrDecrypt naming the ID", err)
	}
}

// advLogs is a slog handler that keeps every record as text.
type advLogs struct {
	mu   sync.Mutex
	recs []string
}

func (h *advLogs) Enabled(context.Context, slog.Level) bool { return true }

func (h *advLogs) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, b.String())
	return nil
}

func (h *advLogs) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *advLogs) WithGroup(string) slog.Handler      { return h }

func (h *advLogs) records() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.recs)
}
