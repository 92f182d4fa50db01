package nest_test

import (
	"errors"
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
