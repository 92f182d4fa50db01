package nest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redisimnest/nest"
)

// Findings of a newcomer's trial of the README, one regression test each.

// Expire with a duration Redis would take as "delete now", and ExpireAt
// with the zero time that ExpireTime returns for a persistent key, are
// refused: nothing is sent and the key survives.
func TestExpireRefusesDeletingDurations(t *testing.T) {
	root, rdb := newRoot(t)
	ctx := context.Background()
	k := root.ProjectName
	if err := k.Set(ctx, "kept"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		run  func() (bool, error)
	}{
		{"Expire(0)", func() (bool, error) { return k.Expire(ctx, 0) }},
		{"Expire(-1s)", func() (bool, error) { return k.Expire(ctx, -time.Second) }},
		{"Expire(500ns)", func() (bool, error) { return k.Expire(ctx, 500*time.Nanosecond) }},
		{"ExpireAt(zero)", func() (bool, error) {
			at, err := k.ExpireTime(ctx) // zero: no expiry
			if err != nil || !at.IsZero() {
				t.Fatalf("ExpireTime = %v, %v", at, err)
			}
			return k.ExpireAt(ctx, at)
		}},
	} {
		ok, err := tc.run()
		var opErr *nest.OpError
		if ok || !errors.Is(err, nest.ErrInvalidTTL) || !errors.As(err, &opErr) || opErr.Key != k.Name() {
			t.Errorf("%s = %v, %v; want false and ErrInvalidTTL naming the key", tc.name, ok, err)
		}
		if v, _ := rdb.Get(ctx, k.Name()).Result(); v != "kept" {
			t.Fatalf("%s deleted the key", tc.name)
		}
	}
	if ok, err := k.Expire(ctx, time.Millisecond*1500); !ok || err != nil {
		t.Fatalf("Expire(1.5s) = %v, %v", ok, err)
	}
}

// Interface value types other than any can be encoded but never decoded:
// New refuses them instead of letting Set store "{}".
func TestSchemaRefusesInterfaceValueTypes(t *testing.T) {
	type bad struct {
		nest.Namespace `nest:"bad"`
		E              nest.Key[error]        `nest:"e"`
		S              nest.Key[fmt.Stringer] `nest:"s"`
		A              nest.Key[any]          `nest:"a"` // fine: JSON decodes into any
	}
	_, err := nest.New[bad](offlineClient(t), nil)
	if !errors.Is(err, nest.ErrSchema) {
		t.Fatalf("New = %v, want ErrSchema", err)
	}
	for _, want := range []string{"bad.E", "bad.S", "interface"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "bad.A") {
		t.Errorf("Key[any] refused: %v", err)
	}
}

// Negative Options values are configuration mistakes, reported with the
// schema's own mistakes; so is a malformed keyring.
func TestNewReportsConfigAndSchemaMistakesTogether(t *testing.T) {
	type withSecret struct {
		nest.Namespace `nest:"ws"`
		K              nest.Key[int]       `nest:"k" tll:"1s"`
		S              nest.Secret[string] `nest:"s"`
	}
	_, err := nest.New[withSecret](nil, &nest.Options{
		DeleteChunkSize: -1, ScanCount: -2, UpdateRetries: -3, MaxParamLen: -4,
		SecretKeys: []nest.SecretKey{{ID: "k1", Key: []byte("short")}},
	})
	if !errors.Is(err, nest.ErrConfig) || !errors.Is(err, nest.ErrSchema) {
		t.Fatalf("New = %v, want ErrConfig and ErrSchema joined", err)
	}
	for _, want := range []string{"nil go-redis client", "DeleteChunkSize is -1", "ScanCount is -2", "UpdateRetries is -3",
		"MaxParamLen is -4", `key 0 (id "k1") is 5 bytes`, "did you mean ttl?"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "short") {
		t.Errorf("error quotes key material: %v", err)
	}
}

// A keyring that names one ID twice is refused by the parser already.
func TestParseSecretKeysRefusesDuplicateIDs(t *testing.T) {
	k := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	_, err := nest.ParseSecretKeys("k2:" + k + ",k2:" + k)
	if !errors.Is(err, nest.ErrConfig) || !strings.Contains(err.Error(), `"k2" appears twice`) {
		t.Fatalf("ParseSecretKeys = %v, want the duplicate named", err)
	}
}

// A namespace prints its prefix, as a key prints its name.
func TestNamespacePrints(t *testing.T) {
	root := nest.MustNew[Root](offlineClient(t), nil)
	if got := fmt.Sprint(root.User.At(42)); got != "root:user:42" {
		t.Fatalf("Sprint(namespace) = %q", got)
	}
}

// errors.As yields the command and the key of a failed operation, and the
// message carries one "nest:" prefix, at the front (issue 11).
func TestOpErrorOfFailedGet(t *testing.T) {
	root, _ := newRoot(t)
	_, err := root.ProjectName.Get(context.Background())
	var opErr *nest.OpError
	if !errors.As(err, &opErr) || opErr.Op != "GET" || opErr.Key != root.ProjectName.Name() || !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("Get of a missing key = %#v, want an *OpError{GET, %s} matching ErrNotFound", err, root.ProjectName.Name())
	}
	if want := "nest: GET " + root.ProjectName.Name() + ": not found"; err.Error() != want {
		t.Fatalf("message %q, want %q", err, want)
	}
}

// A time.Duration is stored as nanoseconds, but its default tag may be a
// Go duration.
func TestDurationDefaultTag(t *testing.T) {
	type durations struct {
		nest.Namespace `nest:"dur"`
		Timeout        nest.Key[time.Duration] `nest:"timeout" default:"1m30s"`
		Raw            nest.Key[time.Duration] `nest:"raw" default:"2000000000"`
	}
	rdb := newRedis(t)
	r, err := nest.New[durations](rdb, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if d, err := r.Timeout.Get(ctx); err != nil || d != 90*time.Second {
		t.Fatalf("default 1m30s = %v, %v", d, err)
	}
	if d, err := r.Raw.Get(ctx); err != nil || d != 2*time.Second {
		t.Fatalf("default 2000000000 = %v, %v", d, err)
	}
	if err := r.Timeout.Set(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, _ := rdb.Get(ctx, r.Timeout.Name()).Result(); v != "60000000000" {
		t.Fatalf("stored %q, want nanoseconds", v)
	}
}
