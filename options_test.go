package nest_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/redisimnest/nest"
)

func TestOptionsFromEnv(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	t.Setenv("REDIS_HOST", "cache.internal")
	t.Setenv("REDIS_PORT", "6380")
	t.Setenv("REDIS_USERNAME", "app")
	t.Setenv("REDIS_PASSWORD", "hunter2")
	t.Setenv("REDIS_DB", "3")
	opt, err := nest.OptionsFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if opt.Addr != "cache.internal:6380" || opt.Username != "app" || opt.Password != "hunter2" || opt.DB != 3 {
		t.Fatalf("options %+v", opt)
	}

	t.Setenv("REDIS_URL", "rediss://u:p4ss@example.com:6390/2")
	opt, err = nest.OptionsFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if opt.Addr != "example.com:6390" || opt.Password != "p4ss" || opt.DB != 2 || opt.TLSConfig == nil {
		t.Fatalf("rediss URL options: addr %s db %d tls %v", opt.Addr, opt.DB, opt.TLSConfig != nil)
	}

	for _, bad := range []string{"redis://user:s3cr%zzet@host:6379/0", "redis://user:s3cret@host:port/0"} {
		t.Setenv("REDIS_URL", bad)
		_, err := nest.OptionsFromEnv()
		if err == nil {
			t.Fatalf("REDIS_URL=%s accepted", bad)
		}
		if strings.Contains(err.Error(), "s3cr") {
			t.Fatalf("the error leaks the password: %v", err)
		}
	}

	t.Setenv("REDIS_URL", "")
	t.Setenv("REDIS_PORT", "http")
	if _, err := nest.OptionsFromEnv(); err == nil || !strings.Contains(err.Error(), "REDIS_PORT") {
		t.Fatalf("bad REDIS_PORT: %v", err)
	}
}

// A pinned static child namespace is described with its hash tag braces,
// as its keys are named.
func TestDescribePinnedStaticChild(t *testing.T) {
	type box struct {
		nest.Namespace `nest:"box" slot:"pin"`
		Item           nest.Key[string] `nest:"item"`
	}
	type shelf struct {
		nest.Namespace `nest:"shelf"`
		Box            box
	}
	r, err := nest.New[shelf](scOfflineClient(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := r.Describe().Children[0]
	if d.Prefix != "shelf:{box}" || d.Keys[0].Name != r.Box.Item.Name() || d.HashTag != "box" {
		t.Fatalf("Describe: prefix %q, key %q (real %q), tag %q", d.Prefix, d.Keys[0].Name, r.Box.Item.Name(), d.HashTag)
	}
}

// Describe hands out copies: sorting its Missing list cannot change how
// the schema renders names.
func TestDescribeDoesNotShareState(t *testing.T) {
	type multi struct {
		nest.Namespace `nest:"m"`
		Msg            nest.ParamKey[string] `nest:"msg:{b}:{a}"`
	}
	r, err := nest.New[multi](scOfflineClient(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(r.Msg.Describe().Missing)
	if got := r.Msg.With(nest.Params{"a": 1, "b": 2}).Name(); got != "m:msg:2:1" {
		t.Fatalf("With after sorting Describe().Missing = %q, want m:msg:2:1", got)
	}
	if err := r.Msg.At(1).Err(); !errors.Is(err, nest.ErrMissingParam) {
		t.Fatalf("At(1) = %v", err)
	}
}

// Dispatch logs name the method, the full key and the TTL, at debug level,
// and never a value.
func TestDispatchLogs(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	root, err := nest.New[Root](testRedis(t), &nest.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := root.User.At(7).Name.Set(ctx, "very-private-value"); err != nil {
		t.Fatal(err)
	}
	if _, err := root.User.At(7).Name.Get(ctx); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"method=SET key=root:user:7:name ttl=2m0s", "method=GET key=root:user:7:name"} {
		if !strings.Contains(out, want) {
			t.Errorf("dispatch log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "very-private-value") {
		t.Errorf("dispatch log leaks the value:\n%s", out)
	}

	// SHOW_METHOD_DISPATCH_LOGS=1 logs through slog.Default, at info
	// level so that a default-configured handler shows the records.
	buf.Reset()
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Setenv("SHOW_METHOD_DISPATCH_LOGS", "1")
	root, err = nest.New[Root](testRedis(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.App.Tokens.Exists(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "method=EXISTS key=root:app:tokens") {
		t.Errorf("SHOW_METHOD_DISPATCH_LOGS=1 logged %q", buf.String())
	}
}

// REDIS_DELETE_CHUNK_SIZE sets the UNLINK chunk size; a bad value is an
// error from New.
func TestDeleteChunkSizeFromEnv(t *testing.T) {
	ctx := context.Background()
	t.Setenv("REDIS_DELETE_CHUNK_SIZE", "3")
	rdb := testRedis(t)
	rec := recordCommands(rdb)
	root, err := nest.New[Root](rdb, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := root.User.At(1).Messages.At(i).Text.Set(ctx, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := root.User.At(1).Clear(ctx); err != nil || n != 10 {
		t.Fatalf("Clear = %d, %v", n, err)
	}
	if !onCluster {
		for _, c := range rec.named("unlink") {
			if len(c)-1 > 3 {
				t.Fatalf("UNLINK with %d keys, REDIS_DELETE_CHUNK_SIZE is 3", len(c)-1)
			}
		}
	}
	t.Setenv("REDIS_DELETE_CHUNK_SIZE", "many")
	if _, err := nest.New[Root](rdb, nil); err == nil || !strings.Contains(err.Error(), "REDIS_DELETE_CHUNK_SIZE") {
		t.Fatalf("bad REDIS_DELETE_CHUNK_SIZE: %v", err)
	}
}
