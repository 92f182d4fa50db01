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
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
	"github.com/redisimnest/nest/internal/slot"
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
	rdb := newRedis(t)
	logs := &advLogs{}
	v, err := nest.New[Vault](rdb, &nest.Options{SecretKeys: []nest.SecretKey{newSecretKey(t, "k1")},
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
	other, _ := newVault(t, rdb, newSecretKey(t, "retired-2023"))
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

// Rename, RenameNX and Secret.Rename ran on the source's client with the
// destination's name, whatever client the destination was bound to: moving
// a key from a schema bound to database 0 to the same schema bound to
// database 1 (or another server) returned nil, and the value stayed in
// database 0 (here under its own name: the "rename" did nothing). A
// Pipe refuses a key of another client; Rename now does too, with an
// *OpError matching ErrConfig, and changes nothing.
//
// Secret.Rename into a schema bound to the same client but holding another
// keyring sealed the value with the source's keyring, so the destination
// could never open it (ErrDecrypt, "key ID not in the keyring"). It now
// seals with the destination's keyring.
func TestAdvRenameAcrossClients(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db0, db1 := newRedis(t), newRedis(t)
	if onCluster {
		// A cluster has one database: another client of it stands in.
		db1 = redis.NewClusterClient(&redis.ClusterOptions{Addrs: db0.(*redis.ClusterClient).Options().Addrs})
		t.Cleanup(func() { _ = db1.Close() })
	}
	src, dst := nest.MustNew[Root](db0, nil), nest.MustNew[Root](db1, nil)
	k := newSecretKey(t, "k1")
	vsrc, _ := newVault(t, db0, k)
	vdst, _ := newVault(t, db1, k)
	for _, tc := range []struct {
		name   string
		set    func() error
		rename func() error
		check  func() error
	}{
		{"Key.Rename",
			func() error { return src.ProjectName.Set(ctx, "v") },
			func() error { return src.ProjectName.Rename(ctx, dst.ProjectName) },
			func() error { _, err := src.ProjectName.Get(ctx); return err }},
		{"Key.RenameNX",
			func() error { return src.User.At(1).Name.Set(ctx, "v") },
			func() error { _, err := src.User.At(1).Name.RenameNX(ctx, dst.User.At(2).Name); return err },
			func() error { _, err := src.User.At(1).Name.Get(ctx); return err }},
		{"Secret.Rename",
			func() error { return vsrc.Master.Set(ctx, "v") },
			func() error { return vsrc.Master.Rename(ctx, vdst.Account.At(1).Token) },
			func() error { _, err := vsrc.Master.Get(ctx); return err }},
		{"Secret.Rename to the same name",
			func() error { return vsrc.Account.At(3).Token.Set(ctx, "v") },
			func() error { return vsrc.Account.At(3).Token.Rename(ctx, vdst.Account.At(3).Token) },
			func() error { _, err := vsrc.Account.At(3).Token.Get(ctx); return err }},
		{"Password.Rename",
			func() error { return vsrc.Account.At(1).Password.Set(ctx, "pw") },
			func() error { return vsrc.Account.At(1).Password.Rename(ctx, vdst.Account.At(2).Password) },
			func() error { _, err := vsrc.Account.At(1).Password.Verify(ctx, "pw"); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.set(); err != nil {
				t.Fatal(err)
			}
			err := tc.rename()
			var oe *nest.OpError
			if !errors.Is(err, nest.ErrConfig) || !errors.As(err, &oe) {
				t.Errorf("rename to a key of another client = %v; want an *OpError matching ErrConfig", err)
			}
			if err := tc.check(); err != nil {
				t.Errorf("the source after the refused rename: %v", err)
			}
		})
	}
	if n := db1.DBSize(ctx).Val(); !onCluster && n != 0 {
		t.Errorf("%d keys written to the destination's database", n)
	}

	t.Run("Secret.Rename to another keyring", func(t *testing.T) {
		other, _ := newVault(t, db0, newSecretKey(t, "k2"))
		if err := vsrc.Account.At(5).Token.Set(ctx, "s3cret"); err != nil {
			t.Fatal(err)
		}
		to := 6
		for slot.Of(other.Account.At(to).Token.Name()) != slot.Of(vsrc.Account.At(5).Token.Name()) {
			to++ // one slot, for Redis Cluster
		}
		if err := vsrc.Account.At(5).Token.Rename(ctx, other.Account.At(to).Token); err != nil {
			t.Fatal(err)
		}
		if got, err := other.Account.At(to).Token.Get(ctx); err != nil || got != "s3cret" {
			t.Fatalf("the destination's schema reads %q, %v; want the value", got, err)
		}
	})
}

// Future.Result promises the error "exactly as the direct operation would
// have returned" it, and every failing operation returns an *OpError naming
// the command and key. When Exec found its context already done, it
// resolved every Future with the pipeline's own error ("nest: pipeline of
// 2 commands: context canceled"), which names no key and is no *OpError.
// Each Future now reports an *OpError of its command and key wrapping the
// context's error; Exec still returns the pipeline's error.
func TestAdvFutureOfCancelledExecIsOpError(t *testing.T) {
	t.Parallel()
	root := newPipelineRoot(t, newRedis(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tx := range []bool{false, true} {
		p := root.Pipeline()
		if tx {
			p = root.TxPipeline()
		}
		u := root.Team.At(1) // pinned: one slot, for the transaction on Redis Cluster
		get := u.Score.In(p).Get(context.Background())
		set := u.Name.In(p).Set(context.Background(), "x")
		if err := p.Exec(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Exec = %v, want context.Canceled", err)
		}
		for _, f := range []struct {
			err      error
			op, name string
		}{{get.Err(), "GET", u.Score.Name()}, {set.Err(), "SET", u.Name.Name()}} {
			var oe *nest.OpError
			if !errors.As(f.err, &oe) || oe.Op != f.op || oe.Key != f.name || !errors.Is(f.err, context.Canceled) {
				t.Errorf("tx=%v: future of %s %s = %v; want an *OpError of that command and key wrapping context.Canceled",
					tx, f.op, f.name, f.err)
			}
		}
	}
}

// A `ttl` tag given as a bare number of seconds was multiplied by
// time.Second without an overflow check, so a number too large for a
// time.Duration wrapped around: `ttl:"12393906174523605"` (about 393
// million years) became an effective TTL of 8ms, and every write made a
// key that vanished at once, without a word from New. New now refuses a
// number of seconds beyond what a time.Duration holds.
func TestAdvTTLSecondsOverflow(t *testing.T) {
	t.Parallel()
	type ovRoot struct {
		nest.Namespace `nest:"ov"`
		K              nest.Key[int] `nest:"k" ttl:"12393906174523605"`
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { _ = rdb.Close() })
	r, err := nest.New[ovRoot](rdb, nil)
	if err == nil {
		d, _ := r.K.EffectiveTTL()
		t.Fatalf("New accepted ttl:\"12393906174523605\" as an effective TTL of %v", d)
	}
	if !errors.Is(err, nest.ErrSchema) || !strings.Contains(err.Error(), "12393906174523605") {
		t.Fatalf("New = %v; want a schema error quoting the tag", err)
	}
}

// msgpack v5.4.1 panics decoding nil into a time.Time field
// ("reflect: call of reflect.Value.IsNil on struct Value"), so the 4 bytes
// {"t": nil} stored under a MessagePack key of a struct with a time.Time
// field made Get panic in the caller's goroutine, where the package
// promises a *DecodeError and never a panic. Found with
// FuzzAdvMsgpackNeverPanics. Fixed: the MsgPack codec turns a panic of
// the decoder into an error.
func TestAdvMsgpackNilTimePanics(t *testing.T) {
	t.Parallel()
	type event struct {
		At   time.Time `json:"t"`
		Name string    `json:"name"`
	}
	type evRoot struct {
		nest.Namespace `nest:"ev"`
		Last           nest.Key[event] `nest:"last" codec:"msgpack"`
	}
	rdb := newRedis(t)
	root := nest.MustNew[evRoot](rdb, nil)
	ctx := context.Background()
	for name, get := range map[string]func() error{
		"Get":    func() error { _, err := root.Last.Get(ctx); return err },
		"GetSet": func() error { _, _, err := root.Last.GetSet(ctx, event{Name: "x"}); return err },
	} {
		// Each read starts from the hostile value (GetSet replaces it).
		if err := rdb.Set(ctx, root.Last.Name(), "\x81\xa1t\xc0", 0).Err(); err != nil {
			t.Fatal(err)
		}
		err := assertNoPanic(t, name, get)
		var de *nest.DecodeError
		if !errors.As(err, &de) {
			t.Errorf("%s = %v; want a *DecodeError", name, err)
		}
	}
}

// Reencrypt promises that a key holding another Redis type is left as it
// is while the others are re-encrypted. A key that became a hash between
// Reencrypt's batched GET and its compare-and-set (a concurrent writer)
// made the compare-and-set fail with WRONGTYPE, and Reencrypt then stopped
// at once, leaving every later SCAN batch sealed with the old key, with an
// error naming the first key of the batch rather than the one that failed.
// It now treats that reply as the key's own failure, goes on, and names
// the key.
func TestAdvReencryptWrongTypeAtCompareAndSet(t *testing.T) {
	t.Parallel()
	a, b := newSecretKey(t, "a"), newSecretKey(t, "b")
	rdb := newRedis(t)
	va, _ := newVault(t, rdb, a)
	ctx := context.Background()
	const n = 100
	for id := 1; id <= n; id++ {
		if err := va.Account.At(id).Token.Set(ctx, fmt.Sprint("token ", id)); err != nil {
			t.Fatal(err)
		}
	}
	hook := &advFlipHook{rdb: rdb}
	rdb.AddHook(hook)
	vb, err := nest.New[Vault](rdb, &nest.Options{SecretKeys: []nest.SecretKey{b, a}, ScanCount: 10})
	if err != nil {
		t.Fatal(err)
	}
	got, err := vb.Reencrypt(ctx)
	bad := hook.flipped()
	if bad == "" {
		t.Fatal("no compare-and-set was sent")
	}
	if got != n-1 || !strings.Contains(fmt.Sprint(err), bad) || !strings.Contains(fmt.Sprint(err), "WRONGTYPE") {
		t.Fatalf("Reencrypt = %d, %v; want %d and an error naming %s as WRONGTYPE", got, err, n-1, bad)
	}
	for id := 1; id <= n; id++ {
		tok := vb.Account.At(id).Token
		if tok.Name() == bad {
			continue
		}
		if raw, _ := tok.Raw(ctx); len(raw) < 3 || raw[2] != 'b' {
			t.Fatalf("%s is still sealed with the old key", tok.Name())
		}
	}
}

// advFlipHook turns the key of the first compare-and-set script it sees
// into a hash just before the pipeline carrying it is sent.
type advFlipHook struct {
	rdb  redis.UniversalClient
	mu   sync.Mutex
	key  string
	done bool
}

func (h *advFlipHook) flipped() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.key
}

func (h *advFlipHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *advFlipHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (h *advFlipHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.mu.Lock()
		first := !h.done && len(cmds) > 0 && strings.HasPrefix(strings.ToLower(cmds[0].Name()), "eval")
		if first {
			h.done = true
			h.key = fmt.Sprint(cmds[0].Args()[3])
		}
		h.mu.Unlock()
		if first {
			h.rdb.Del(ctx, h.key)
			h.rdb.HSet(ctx, h.key, "f", "a hash where a sealed value belongs")
		}
		return next(ctx, cmds)
	}
}

// The dispatch log shows the method, key and TTL of every command. For a
// Password with a sliding TTL, Verify sends GETEX with the TTL (it renews
// it) but logged "method=GET" without a TTL, hiding the write it makes.
// It now logs GETEX with its TTL, as Get of a sliding Key does.
func TestAdvVerifySlidingLogsGETEX(t *testing.T) {
	t.Parallel()
	logs := &advLogs{}
	rdb := newRedis(t)
	r, err := nest.New[passwordRoot](rdb, &nest.Options{Password: fastPasswords, Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rec := r.User.At(1).Recovery // ttl:"30s,sliding"
	if err := rec.Set(ctx, "code"); err != nil {
		t.Fatal(err)
	}
	if ok, err := rec.Verify(ctx, "code"); err != nil || !ok {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
	recs := logs.records()
	last := ""
	for _, r := range recs {
		if strings.Contains(r, "key="+rec.Name()) {
			last = r
		}
	}
	if !strings.Contains(last, "method=GETEX") || !strings.Contains(last, "ttl=30s") {
		t.Fatalf("the record of Verify's read is %q; want method=GETEX with ttl=30s", last)
	}
}
