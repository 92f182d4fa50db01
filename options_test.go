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
	r, err := nest.New[shelf](offlineClient(t), nil)
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
	r, err := nest.New[multi](offlineClient(t), nil)
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
	root, err := nest.New[Root](newRedis(t), &nest.Options{Logger: logger})
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
}
