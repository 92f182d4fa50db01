package nest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
)

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$`)

// phcParams returns "m=..,t=..,p=.." of a PHC string, failing the test if
// it is not a well-formed argon2id hash with a 16-byte salt and a 32-byte
// hash.
func phcParams(t *testing.T, phc string) string {
	t.Helper()
	m := phcRE.FindStringSubmatch(phc)
	if m == nil {
		t.Fatalf("%q is not an argon2id PHC string with a 16-byte salt and 32-byte hash", phc)
	}
	return fmt.Sprintf("m=%s,t=%s,p=%s", m[1], m[2], m[3])
}

func TestPasswordVerify(t *testing.T) {
	r, rdb := newPasswords(t, nil, fastPasswords)
	ctx := context.Background()
	pw := r.User.At(1).Password

	ok, err := pw.Verify(ctx, "anything")
	if ok || !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("Verify of an unset password = %v, %v; want ErrNotFound", ok, err)
	}
	if _, err := pw.Hash(ctx); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("Hash of an unset password = %v, want ErrNotFound", err)
	}
	if err := pw.Set(ctx, "correct horse battery staple"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		candidate string
		want      bool
	}{
		{"correct horse battery staple", true},
		{"correct horse battery stapl", false},
		{"correct horse battery staple ", false},
		{"Correct horse battery staple", false},
		{"", false},
		{strings.Repeat("x", nest.MaxPasswordLen+1), false},
		{"\xff\xfe", false},
	} {
		ok, err := pw.Verify(ctx, tc.candidate)
		if err != nil || ok != tc.want {
			t.Errorf("Verify(%.20q) = %v, %v; want %v", tc.candidate, ok, err, tc.want)
		}
	}

	h1, err := pw.Hash(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := phcParams(t, h1); got != "m=64,t=1,p=1" {
		t.Fatalf("params %s, want the schema's m=64,t=1,p=1", got)
	}
	if raw := rdb.Get(ctx, pw.Name()).Val(); raw != h1 {
		t.Fatalf("Hash = %q, stored %q", h1, raw)
	}
	if err := pw.Set(ctx, "correct horse battery staple"); err != nil {
		t.Fatal(err)
	}
	if h2, _ := pw.Hash(ctx); h2 == h1 || h2[len(h2)-43:] == h1[len(h1)-43:] {
		t.Fatal("setting the same password twice gave the same hash")
	}
	if ttl, _ := pw.TTL(ctx); ttl <= 0 || ttl > 120*time.Second {
		t.Fatalf("TTL %v, want the drilled 120s", ttl)
	}
	if ok, err := r.User.At(2).Password.Verify(ctx, "correct horse battery staple"); ok || !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("another user's password: %v, %v", ok, err)
	}
}

func TestPasswordDefaultParams(t *testing.T) {
	r, _ := newPasswords(t, nil, nest.PasswordParams{})
	ctx := context.Background()
	pw := r.User.At(1).Password
	if err := pw.Set(ctx, "pässwörd ✓"); err != nil {
		t.Fatal(err)
	}
	h, _ := pw.Hash(ctx)
	if got := phcParams(t, h); got != "m=19456,t=2,p=1" {
		t.Fatalf("default params %s, want OWASP's m=19456,t=2,p=1", got)
	}
	if ok, err := pw.Verify(ctx, "pässwörd ✓"); !ok || err != nil {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
	if after, _ := pw.Hash(ctx); after != h {
		t.Fatal("Verify at the current parameters rewrote the hash")
	}
}

func TestPasswordRehash(t *testing.T) {
	weak, rdb := newPasswords(t, nil, nest.PasswordParams{Memory: 64, Iterations: 1})
	strong, _ := newPasswords(t, rdb, nest.PasswordParams{Memory: 128, Iterations: 2})
	ctx := context.Background()
	const secret = "s3cret!"
	if err := weak.User.At(1).Password.Set(ctx, secret, nest.WithTTL(time.Hour)); err != nil {
		t.Fatal(err)
	}
	pw := strong.User.At(1).Password
	old, _ := pw.Hash(ctx)

	if ok, err := pw.Verify(ctx, "wrong"); ok || err != nil {
		t.Fatalf("Verify(wrong) = %v, %v", ok, err)
	}
	if h, _ := pw.Hash(ctx); h != old {
		t.Fatal("a failed Verify rewrote the hash")
	}
	if ok, err := pw.Verify(ctx, secret); !ok || err != nil {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
	upgraded, _ := pw.Hash(ctx)
	if got := phcParams(t, upgraded); got != "m=128,t=2,p=1" {
		t.Fatalf("after Verify the params are %s, want m=128,t=2,p=1", got)
	}
	if ttl, _ := pw.TTL(ctx); ttl < 59*time.Minute || ttl > time.Hour {
		t.Fatalf("TTL after rehash %v, want the hour set before (not the declared 120s)", ttl)
	}
	if ok, err := pw.Verify(ctx, secret); !ok || err != nil {
		t.Fatalf("Verify after the upgrade = %v, %v", ok, err)
	}
	if h, _ := pw.Hash(ctx); h != upgraded {
		t.Fatal("a second Verify rewrote an up-to-date hash")
	}
	// Never downgraded: the weak schema still verifies, leaving the hash.
	if ok, err := weak.User.At(1).Password.Verify(ctx, secret); !ok || err != nil {
		t.Fatalf("weak Verify = %v, %v", ok, err)
	}
	if h, _ := pw.Hash(ctx); h != upgraded {
		t.Fatal("a schema with weaker parameters downgraded the hash")
	}
	// A key without a TTL stays without one.
	_ = weak.User.At(2).Password.Set(ctx, secret, nest.WithTTL(0))
	if ok, _ := strong.User.At(2).Password.Verify(ctx, secret); !ok {
		t.Fatal("Verify failed")
	}
	if ttl, err := strong.User.At(2).Password.TTL(ctx); ttl != nest.NoExpiry || err != nil {
		t.Fatalf("TTL after rehash = %v, %v; want NoExpiry", ttl, err)
	}
}

func TestPasswordHostileInput(t *testing.T) {
	r, rdb := newPasswords(t, nil, fastPasswords)
	ctx := context.Background()
	pw := r.User.At(1).Password
	long := strings.Repeat("é", nest.MaxPasswordLen/2) // exactly the maximum, in bytes
	if err := pw.Set(ctx, long); err != nil {
		t.Fatalf("Set of %d bytes: %v", len(long), err)
	}
	if ok, err := pw.Verify(ctx, long); !ok || err != nil {
		t.Fatalf("Verify of the longest password = %v, %v", ok, err)
	}
	for name, bad := range map[string]string{
		"empty":     "",
		"too long":  long + "x",
		"huge":      strings.Repeat("A", 1<<20),
		"not UTF-8": "latin1 p\xe4ssword",
		"lone byte": "\xff",
	} {
		err := pw.Set(ctx, bad)
		if !errors.Is(err, nest.ErrInvalidPassword) {
			t.Errorf("%s: Set = %v, want ErrInvalidPassword", name, err)
			continue
		}
		if len(bad) > 4 && strings.Contains(err.Error(), bad[:5]) {
			t.Errorf("%s: the error quotes the password: %v", name, err)
		}
	}
	if ok, err := pw.Verify(ctx, long); !ok || err != nil {
		t.Fatal("a refused Set changed the stored password")
	}

	// Garbage stored under the key: an error, never a panic or a match.
	for _, g := range []string{
		"", "plaintext", "$argon2id$", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA", // 4 TiB: refused, not allocated
		"$argon2id$v=19$m=64,t=100000,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!!$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA$extra",
	} {
		rdb.Set(ctx, pw.Name(), g, 0)
		ok, err := pw.Verify(ctx, "plaintext")
		if ok || !errors.Is(err, nest.ErrDecode) {
			t.Errorf("stored %q: Verify = %v, %v; want ErrDecode", g, ok, err)
		}
	}
}

func TestPasswordNeverLeaks(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	check := func(t *testing.T, r *passwordRoot) {
		t.Helper()
		ctx := context.Background()
		const plain = "my-plaintext-password"
		pw := r.User.At(1).Password
		if err := pw.Set(ctx, plain); err != nil {
			t.Fatal(err)
		}
		_, _ = pw.Verify(ctx, plain)
		_, _ = pw.Verify(ctx, "wrong-candidate")
		_, _ = pw.TTL(ctx)
		hash, _ := pw.Hash(ctx)
		err := pw.Set(ctx, "\xff"+plain) // refused: the error must not quote it
		if logs.Len() == 0 {
			t.Fatal("no dispatch logs captured")
		}
		out := logs.String() + fmt.Sprintf("%v %+v %#v %s", pw, pw, pw, err) + fmt.Sprint(r.User.At(1))
		for what, s := range map[string]string{
			"plaintext": plain, "candidate": "wrong-candidate", "hash": hash, "hash bytes": hash[len(hash)-43:],
		} {
			if strings.Contains(out, s) {
				t.Errorf("logs or printed handles contain the %s:\n%s", what, out)
			}
		}
		if !strings.Contains(logs.String(), pw.Name()) {
			t.Errorf("the logs do not name the key:\n%s", logs.String())
		}
	}
	t.Run("Options.Logger", func(t *testing.T) {
		logs.Reset()
		r, err := nest.New[passwordRoot](newRedis(t), &nest.Options{Logger: logger, Password: fastPasswords})
		if err != nil {
			t.Fatal(err)
		}
		check(t, r)
	})
	// SHOW_METHOD_DISPATCH_LOGS (through OptionsFromEnv) is checked in a
	// process of its own, whose standard error it logs to: TestEnvEndToEnd.
}

func TestPasswordKeyCommands(t *testing.T) {
	r, _ := newPasswords(t, nil, fastPasswords)
	ctx := context.Background()
	u := r.User.At(1)
	_ = u.Password.Set(ctx, "pw")
	if ok, err := u.Password.Exists(ctx); !ok || err != nil {
		t.Fatalf("Exists = %v, %v", ok, err)
	}
	if ok, err := u.Password.Expire(ctx, time.Minute); !ok || err != nil {
		t.Fatalf("Expire = %v, %v", ok, err)
	}
	if at, err := u.Password.ExpireTime(ctx); err != nil || time.Until(at) > time.Minute+time.Second {
		t.Fatalf("ExpireTime = %v, %v", at, err)
	}
	if err := u.Password.Rename(ctx, r.User.At(2).Password); onCluster {
		if !errors.Is(err, redis.ErrCrossSlot) {
			t.Fatalf("cross-slot Rename on Redis Cluster = %v, want ErrCrossSlot", err)
		}
		return
	} else if err != nil {
		t.Fatal(err)
	}
	if ok, err := r.User.At(2).Password.Verify(ctx, "pw"); !ok || err != nil {
		t.Fatalf("Verify after Rename = %v, %v", ok, err)
	}
	if ok, err := r.User.At(2).Password.Delete(ctx); !ok || err != nil {
		t.Fatalf("Delete = %v, %v", ok, err)
	}
	if ok, err := r.User.At(2).Password.Verify(ctx, "pw"); ok || !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("Verify after Delete = %v, %v", ok, err)
	}
	if d := u.Password.Describe(); d.Kind != "password" || d.Codec != "argon2id" || d.TTL == nil || d.TTL.TTL != 120*time.Second {
		t.Fatalf("Describe = %+v", d)
	}
	// Sliding TTL: Verify renews it (GETEX).
	_ = u.Recovery.Set(ctx, "code")
	_, _ = u.Recovery.Expire(ctx, 5*time.Second)
	if ok, _ := u.Recovery.Verify(ctx, "code"); !ok {
		t.Fatal("Verify failed")
	}
	if ttl, _ := u.Recovery.TTL(ctx); ttl < 29*time.Second {
		t.Fatalf("sliding TTL after Verify = %v, want renewed to 30s", ttl)
	}
	if ok, err := (nest.Password{}).Verify(ctx, "x"); ok || !errors.Is(err, nest.ErrNotBound) {
		t.Fatalf("zero Password: %v, %v", ok, err)
	}
}

func TestPasswordConcurrentVerify(t *testing.T) {
	r, _ := newPasswords(t, nil, nest.PasswordParams{Memory: 64, Iterations: 1, Concurrency: 2})
	ctx := context.Background()
	pw := r.User.At(1).Password
	if err := pw.Set(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			cand := "shared"
			if i%2 == 1 {
				cand = "other"
			}
			if ok, err := pw.Verify(ctx, cand); err != nil || ok != (i%2 == 0) {
				errs <- fmt.Errorf("Verify(%q) = %v, %v", cand, ok, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := pw.Set(cctx, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Set with a cancelled context = %v", err)
	}
}

func TestPasswordSchemaErrors(t *testing.T) {
	rdb := newRedis(t)
	type withDefault struct {
		nest.Namespace `nest:"x"`
		P              nest.Password `nest:"p" default:"hunter2"`
	}
	type withCodec struct {
		nest.Namespace `nest:"x"`
		P              nest.Password `nest:"p" codec:"json"`
	}
	if _, err := nest.New[withDefault](rdb, nil); !errors.Is(err, nest.ErrSchema) || !strings.Contains(err.Error(), "withDefault.P") {
		t.Errorf("default tag: %v", err)
	}
	if _, err := nest.New[withCodec](rdb, nil); !errors.Is(err, nest.ErrSchema) || !strings.Contains(err.Error(), "codec") {
		t.Errorf("codec tag: %v", err)
	}
	type withParam struct {
		nest.Namespace `nest:"x"`
		P              nest.Password `nest:"p:{kind}"`
	}
	type secretWithParam struct {
		nest.Namespace `nest:"x"`
		S              nest.Secret[string] `nest:"s:{kind}"`
	}
	if _, err := nest.New[withParam](rdb, nil); !errors.Is(err, nest.ErrSchema) || !strings.Contains(err.Error(), "password keys do not support") {
		t.Errorf("parameterised password: %v", err)
	}
	_, err := nest.New[secretWithParam](rdb, &nest.Options{SecretKeys: []nest.SecretKey{newSecretKey(t, "k")}})
	if !errors.Is(err, nest.ErrSchema) || !strings.Contains(err.Error(), "secret keys do not support") {
		t.Errorf("parameterised secret: %v", err)
	}
	for _, p := range []nest.PasswordParams{{Memory: 4}, {Memory: 2 << 20}, {Iterations: 1000}, {Memory: 64, Parallelism: 9}} {
		if _, err := nest.New[passwordRoot](rdb, &nest.Options{Password: p}); !errors.Is(err, nest.ErrConfig) || errors.Is(err, nest.ErrSchema) {
			t.Errorf("%+v: New = %v, want ErrConfig (not ErrSchema)", p, err)
		}
	}
}

// Two instances with different but equally strong settings (one trades
// memory for iterations) never rewrite each other's hashes.
func TestPasswordNoRehashPingPong(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, rdb := newPasswords(t, nil, nest.PasswordParams{Memory: 128, Iterations: 1})
	b, _ := newPasswords(t, rdb, nest.PasswordParams{Memory: 64, Iterations: 2})
	if err := a.User.At(1).Password.Set(ctx, "pw"); err != nil {
		t.Fatal(err)
	}
	before, _ := a.User.At(1).Password.Hash(ctx)
	for _, r := range []*passwordRoot{b, a, b} {
		if ok, err := r.User.At(1).Password.Verify(ctx, "pw"); !ok || err != nil {
			t.Fatalf("Verify = %v, %v", ok, err)
		}
	}
	if after, _ := a.User.At(1).Password.Hash(ctx); after != before {
		t.Fatalf("hash rewritten from %s to %s by an instance with other, not stronger, settings", phcParams(t, before), phcParams(t, after))
	}
}

// A hash planted in Redis with a cost far above the schema's is refused
// instead of tying up the hashing slots.
func TestPasswordRefusesCostlyStoredHash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, rdb := newPasswords(t, nil, fastPasswords)
	costly, _ := newPasswords(t, rdb, nest.PasswordParams{Memory: 64 * 5, Iterations: 1})
	if err := costly.User.At(1).Password.Set(ctx, "pw"); err != nil {
		t.Fatal(err)
	}
	ok, err := r.User.At(1).Password.Verify(ctx, "pw")
	if ok || !errors.Is(err, nest.ErrDecode) {
		t.Fatalf("Verify of a hash costing 5x the schema's = %v, %v; want ErrDecode", ok, err)
	}
}
