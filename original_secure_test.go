package nest_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/original"
)

// The original's secrets (Fernet tokens) and passwords (bcrypt hashes), in
// its str envelope.

var fernetEnvelope = regexp.MustCompile(`^\{"__type__": "str", "value": "(gAAAAA[A-Za-z0-9_-]+=*)"\}$`)

// openFernet opens a stored secret as the original would: the token of
// the str envelope, with MY_ENCRYPTION_KEY.
func openFernet(t *testing.T, key, stored string) string {
	t.Helper()
	m := fernetEnvelope.FindStringSubmatch(stored)
	if m == nil {
		t.Fatalf("%s is not a Fernet token in a str envelope", stored)
	}
	f, err := original.ParseFernetKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := f.Open([]byte(m[1]))
	if err != nil {
		t.Fatalf("the token does not open with MY_ENCRYPTION_KEY: %v", err)
	}
	return string(pt)
}

// assertGoldenSecret: the original's secret opens, and a secret written
// by nest is a Fernet token the original's key opens, with the TTL.
func assertGoldenSecret(t *testing.T, rdb redis.UniversalClient, s nest.Secret[string], stored string, g *golden) {
	t.Helper()
	ctx := t.Context()
	must(t, rdb.Set(ctx, s.Name(), stored, 300*time.Second).Err())
	if got, err := s.Get(ctx); err != nil || got != g.SecretKeyUsed.Plaintext {
		t.Errorf("%s: the original's secret opened as %q, %v", s, got, err)
	}
	if raw, err := s.Raw(ctx); err != nil || string(raw) != stored {
		t.Errorf("%s: Raw = %s, %v", s, raw, err)
	}
	must(t, s.Set(ctx, g.SecretKeyUsed.Plaintext))
	raw := rawGet(t, rdb, s.Name())
	if raw == stored {
		t.Errorf("%s: two Sets of a secret wrote the same token", s)
	}
	if pt := openFernet(t, g.SecretKeyUsed.Key, raw); pt != g.SecretKeyUsed.Plaintext {
		t.Errorf("%s: the original reads %q", s, pt)
	}
	if ttl := rdb.PTTL(ctx, s.Name()).Val(); ttl < 299*time.Second || ttl > 300*time.Second {
		t.Errorf("%s: TTL %v", s, ttl)
	}
}

// assertGoldenPassword: the original's bcrypt hash (cost 12) verifies and
// a wrong password does not; kept, a key in the original's format, keeps
// the hash; migrating, a key in nest's, rehashes it to argon2id after a
// match, keeping the TTL. (Three cost-12 hashes: each takes seconds under
// the race detector.)
func assertGoldenPassword(t *testing.T, rdb redis.UniversalClient, kept, migrating nest.Password, stored, pw string) {
	t.Helper()
	ctx := t.Context()
	if kept.Name() == migrating.Name() {
		t.Fatal("kept and migrating must be two keys")
	}
	for _, k := range []nest.Password{kept, migrating} {
		must(t, rdb.Set(ctx, k.Name(), stored, 300*time.Second).Err())
	}
	setAt := time.Now()
	if ok, err := kept.Verify(ctx, pw); !ok || err != nil {
		t.Errorf("%s: Verify(%q) = %v, %v; want true", kept, pw, ok, err)
	}
	if ok, err := kept.Verify(ctx, pw+"x"); ok || err != nil {
		t.Errorf("%s: Verify of a wrong password = %v, %v; want false", kept, ok, err)
	}
	if ok, err := kept.Verify(ctx, ""); ok || err != nil {
		t.Errorf("%s: Verify of an empty password = %v, %v; want false", kept, ok, err)
	}
	if raw := rawGet(t, rdb, kept.Name()); raw != stored {
		t.Errorf("%s: a kept bcrypt hash was rewritten: %s", kept, raw)
	}
	if d := kept.Describe(); d.Codec != "bcrypt" || d.Kind != "password" {
		t.Errorf("Describe: %+v", d)
	}

	if ok, err := migrating.Verify(ctx, pw); !ok || err != nil {
		t.Fatalf("%s: Verify = %v, %v", migrating, ok, err)
	}
	raw := rawGet(t, rdb, migrating.Name())
	if !strings.HasPrefix(raw, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("%s: not rehashed to argon2id after a match: %s", migrating, raw)
	}
	if ttl := rdb.PTTL(ctx, migrating.Name()).Val(); ttl < 300*time.Second-time.Since(setAt)-time.Second {
		t.Errorf("%s: the rehash lost the TTL: %v", migrating, ttl)
	}
	for cand, want := range map[string]bool{pw: true, "wrong": false} {
		if ok, err := migrating.Verify(ctx, cand); ok != want || err != nil {
			t.Errorf("%s: after the rehash, Verify(%q) = %v, %v", migrating, cand, ok, err)
		}
	}

	// A password set in the original's format is bcrypt ($2b$, at the
	// schema's BcryptCost) in a str envelope, which the original verifies.
	must(t, kept.Set(ctx, pw))
	raw = rawGet(t, rdb, kept.Name())
	var env struct {
		Type  string `json:"__type__"`
		Value string `json:"value"`
	}
	if err := json.Unmarshal([]byte(raw), &env); err != nil || env.Type != "str" || !strings.HasPrefix(raw, `{"__type__": "str", "value": "$2b$04$`) {
		t.Errorf("%s: Set stored %s", kept, raw)
	}
	if ok, err := original.BcryptVerify(env.Value, pw); !ok || err != nil {
		t.Errorf("%s: the stored hash does not verify as bcrypt: %v, %v", kept, ok, err)
	}
}

type (
	origPasswords struct {
		nest.Namespace `nest:"op" ttl:"1h"`
		Kept           nest.Password `nest:"kept" codec:"redisimnest"`
		Ours           nest.Password `nest:"ours"`
	}
	origPasswordsWide struct {
		nest.Namespace `nest:"op" ttl:"1h"`
		Kept           nest.Password `nest:"kept"`
	}
)

func TestOriginalPasswords(t *testing.T) {
	rdb := newRedis(t)
	ctx := t.Context()
	opts := &nest.Options{Password: fastPasswords, Original: nest.OriginalOptions{BcryptCost: 5}}
	r := nest.MustNew[origPasswords](rdb, opts)
	wide := nest.MustNew[origPasswordsWide](rdb, &nest.Options{Password: fastPasswords, Original: nest.OriginalOptions{BcryptCost: 5, Passwords: true}})

	// Set in the original's format: bcrypt at BcryptCost, kept after Verify.
	must(t, wide.Kept.Set(ctx, "s3cret"))
	raw := rawGet(t, rdb, wide.Kept.Name())
	if !strings.HasPrefix(raw, `{"__type__": "str", "value": "$2b$05$`) {
		t.Fatalf("stored %s", raw)
	}
	if ok, err := wide.Kept.Verify(ctx, "s3cret"); !ok || err != nil || rawGet(t, rdb, wide.Kept.Name()) != raw {
		t.Errorf("Verify: %v, %v; the hash must stay", ok, err)
	}

	// A cheaper bcrypt hash is raised to BcryptCost after a match.
	cheap, err := original.BcryptNew("s3cret", 4)
	must(t, err)
	must(t, rdb.Set(ctx, r.Kept.Name(), `{"__type__": "str", "value": "`+cheap+`"}`, time.Hour).Err())
	if ok, err := r.Kept.Verify(ctx, "s3cret"); !ok || err != nil {
		t.Fatalf("Verify of a cost-4 hash: %v, %v", ok, err)
	}
	if raw := rawGet(t, rdb, r.Kept.Name()); !strings.HasPrefix(raw, `{"__type__": "str", "value": "$2b$05$`) {
		t.Errorf("a cost-4 hash was not raised to 5: %s", raw)
	}

	// An argon2id hash in a key of the original's format becomes bcrypt,
	// so that the original can verify it again.
	must(t, r.Ours.Set(ctx, "pw"))
	argon := rawGet(t, rdb, r.Ours.Name())
	must(t, rdb.Set(ctx, r.Kept.Name(), argon, time.Hour).Err())
	if ok, err := r.Kept.Verify(ctx, "pw"); !ok || err != nil {
		t.Fatalf("Verify of an argon2id hash: %v, %v", ok, err)
	}
	if raw := rawGet(t, rdb, r.Kept.Name()); !strings.HasPrefix(raw, `{"__type__": "str", "value": "$2b$05$`) {
		t.Errorf("an argon2id hash in a key of the original's format stayed: %s", raw)
	}
	if ttl := rdb.PTTL(ctx, r.Kept.Name()).Val(); ttl < 59*time.Minute {
		t.Errorf("TTL %v", ttl)
	}

	// bcrypt sees 72 bytes: the original's hash of a long password
	// verifies with the whole candidate, which argon2id then hashes.
	long := strings.Repeat("p", 80)
	h72, err := original.BcryptNew(long[:72], 4)
	must(t, err)
	must(t, rdb.Set(ctx, r.Ours.Name(), `{"__type__": "str", "value": "`+h72+`"}`, time.Hour).Err())
	if ok, err := r.Ours.Verify(ctx, long); !ok || err != nil {
		t.Fatalf("a long password: %v, %v", ok, err)
	}
	if ok, _ := r.Ours.Verify(ctx, long[:72]); ok {
		t.Error("after the rehash to argon2id, the 72-byte prefix still verifies")
	}
	if err := r.Kept.Set(ctx, long); !errors.Is(err, nest.ErrInvalidPassword) || !strings.Contains(err.Error(), "72") {
		t.Errorf("a bcrypt password over 72 bytes: %v", err)
	}

	// Hostile stored values: a cost beyond the bound, an envelope that is
	// not a str, a malformed hash. Each is ErrDecode, found without hashing.
	golden := "$2b$12$Fgg/KoouEnSkWw.hoYkwKeEV/O8pgz4z6ZRiQq5WWs7oSFCUP4cQW"
	for _, stored := range []string{
		`{"__type__": "str", "value": "` + strings.Replace(golden, "$12$", "$15$", 1) + `"}`,
		`{"__type__": "int", "value": 1}`,
		`{"__type__": "str", "value": "$2b$12$short"}`,
		`{"__type__": "str"`,
		strings.Replace(golden, "$12$", "$31$", 1),
	} {
		must(t, rdb.Set(ctx, r.Ours.Name(), stored, 0).Err())
		start := time.Now()
		ok, err := r.Ours.Verify(ctx, "hunter2")
		if ok || !errors.Is(err, nest.ErrDecode) || strings.Contains(err.Error(), "Fgg/") {
			t.Errorf("stored %s: %v, %v; want ErrDecode without the hash", stored, ok, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("stored %s: refused after %v", stored, d)
		}
	}
	if d := r.Ours.Describe(); d.Codec != "argon2id" {
		t.Errorf("Describe of nest's password: %+v", d)
	}
}

type (
	secretsV1 struct {
		nest.Namespace `nest:"sv"`
		User           nest.Sub[secretUser]
		Kept           nest.Secret[string] `nest:"kept" codec:"redisimnest"` // still read by Python
	}
	secretUser struct {
		nest.Namespace `nest:"user:{id}" ttl:"1h"`
		Token          nest.Secret[string] `nest:"token"`
		Blob           nest.Secret[[]byte] `nest:"blob"`
	}
	// secretsV1Ours is secretsV1 without the key still in the original's
	// format, which would need its EncryptionKey.
	secretsV1Ours struct {
		nest.Namespace `nest:"sv"`
		User           nest.Sub[secretUser]
	}
	fernetRoot struct {
		nest.Namespace `nest:"ps"`
		U              nest.Sub[fernetUser]
	}
	fernetUser struct {
		nest.Namespace `nest:"u:{id}" slot:"pin" ttl:"1h"`
		Theirs         nest.Secret[string] `nest:"theirs" codec:"redisimnest"`
		Theirs2        nest.Secret[string] `nest:"theirs2" codec:"redisimnest"`
		Ours           nest.Secret[string] `nest:"ours"`
	}
)

const goldenFernetKey = nest.FernetKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")

// The path off the original's secrets: a schema in nest's format reads the
// original's values while the key is set, and Reencrypt rewrites them in
// nest's format in one call, keeping their TTLs.
func TestOriginalSecretsMigrate(t *testing.T) {
	rdb := newRedis(t)
	ctx := t.Context()
	v1 := nest.MustNew[secretsV1](rdb, &nest.Options{Original: nest.OriginalOptions{Secrets: true, EncryptionKey: goldenFernetKey}})
	for _, id := range []int{1, 2, 3} {
		u := v1.User.At(id)
		must(t, u.Token.Set(ctx, "token-"+u.Token.Name()))
		must(t, u.Blob.Set(ctx, []byte("blob")))
	}
	must(t, v1.Kept.Set(ctx, "python reads me"))
	kept := rawGet(t, rdb, v1.Kept.Name())
	if rawGet(t, rdb, v1.User.At(1).Token.Name())[0] != '{' {
		t.Fatal("v1 did not write the original's format")
	}
	if n, err := v1.Reencrypt(ctx); n != 0 || err != nil {
		t.Errorf("Reencrypt of a schema in the original's format: %d, %v; want nothing to do", n, err)
	}

	ring := []nest.SecretKey{newSecretKey(t, "k1")}
	v2 := nest.MustNew[secretsV1](rdb, &nest.Options{SecretKeys: ring, Original: nest.OriginalOptions{EncryptionKey: goldenFernetKey}})
	tok := v2.User.At(2).Token
	if s, err := tok.Get(ctx); err != nil || s != "token-"+tok.Name() {
		t.Errorf("nest's format reading the original's value during the migration: %q, %v", s, err)
	}
	n, err := v2.Reencrypt(ctx)
	if err != nil || n != 6 {
		t.Fatalf("Reencrypt: %d, %v; want 6", n, err)
	}
	for _, id := range []int{1, 2, 3} {
		u := v2.User.At(id)
		raw := rawGet(t, rdb, u.Token.Name())
		if raw[0] != 1 {
			t.Errorf("%s is not in nest's format after Reencrypt: %q", u.Token, raw[:10])
		}
		if s, err := u.Token.Get(ctx); err != nil || s != "token-"+u.Token.Name() {
			t.Errorf("%s: %q, %v", u.Token, s, err)
		}
		if b, err := u.Blob.Get(ctx); err != nil || string(b) != "blob" {
			t.Errorf("%s: %q, %v", u.Blob, b, err)
		}
		if ttl := rdb.PTTL(ctx, u.Token.Name()).Val(); ttl < 59*time.Minute {
			t.Errorf("%s: TTL %v after Reencrypt", u.Token, ttl)
		}
	}
	if raw := rawGet(t, rdb, v2.Kept.Name()); raw != kept {
		t.Errorf("Reencrypt rewrote a secret still in the original's format: %s", raw)
	}
	if n, err := v2.Reencrypt(ctx); n != 0 || err != nil {
		t.Errorf("a second Reencrypt: %d, %v", n, err)
	}
	// Without the original's key, its values no longer open, with a hint.
	must(t, rdb.Set(ctx, "sv:user:9:token", kept, 0).Err())
	if s, err := v2.User.At(9).Token.Get(ctx); err != nil || s != "python reads me" {
		t.Errorf("with its key: %q, %v", s, err)
	}
	noKey := nest.MustNew[secretsV1Ours](rdb, &nest.Options{SecretKeys: ring})
	if _, err := noKey.User.At(9).Token.Get(ctx); !errors.Is(err, nest.ErrDecrypt) || !strings.Contains(err.Error(), "EncryptionKey") {
		t.Errorf("the original's value without its key: %v", err)
	}
}

func TestOriginalSecrets(t *testing.T) {
	rdb := newRedis(t)
	ctx := t.Context()
	r := nest.MustNew[fernetRoot](rdb, &nest.Options{SecretKeys: []nest.SecretKey{newSecretKey(t, "k1")},
		Original: nest.OriginalOptions{EncryptionKey: goldenFernetKey}})
	u := r.U.At(1)

	// Pipelines seal and open the original's tokens too.
	p := r.Pipeline()
	u.Theirs.In(p).Set(ctx, "via pipeline")
	got := u.Theirs.In(p).Get(ctx)
	must(t, p.Exec(ctx))
	if s := mustResult(t, got); s != "via pipeline" {
		t.Errorf("pipeline: %q", s)
	}
	if pt := openFernet(t, string(goldenFernetKey), rawGet(t, rdb, u.Theirs.Name())); pt != "via pipeline" {
		t.Errorf("the original reads %q", pt)
	}
	// The original's format is weaker than nest's: a token copied to
	// another key opens there; nest's values are bound to their names.
	must(t, rdb.Set(ctx, u.Theirs2.Name(), rawGet(t, rdb, u.Theirs.Name()), 0).Err())
	if s, err := u.Theirs2.Get(ctx); err != nil || s != "via pipeline" {
		t.Errorf("a copied token: %q, %v (the original's format does not bind the name)", s, err)
	}
	// Rename from the original's format to nest's re-seals.
	must(t, u.Theirs.Rename(ctx, u.Ours))
	if raw := rawGet(t, rdb, u.Ours.Name()); raw[0] != 1 {
		t.Errorf("renamed into nest's format: %q", raw[:10])
	}
	if s, err := u.Ours.Get(ctx); err != nil || s != "via pipeline" {
		t.Errorf("after Rename: %q, %v", s, err)
	}
	// What the original cannot decrypt is refused; what it did not write
	// does not open; errors never quote the value.
	if err := u.Theirs.Set(ctx, "bad \xff"); !errors.Is(err, nest.ErrEncode) || !strings.Contains(err.Error(), u.Theirs.Name()) {
		t.Errorf("invalid UTF-8: %v", err)
	}
	for _, stored := range []string{
		"top secret",
		`{"__type__": "str", "value": "top secret"}`,
		`{"__type__": "int", "value": 1}`,
		`{"__type__": "str", "value": "gAAAAABrDtBsxHUQxQkl2L6PhAU0BwFVY61_GXSAxFJDn-h0dtvhe7BTEUMmK489glqaFdbjE7KKxZbTMFv1SriKGRy6L_rLyw=x"}`,
		`{"__type__": "str", "value": "gAAAAABrDtBsxHUQxQkl2L6PhAU0BwFVY61_GXSAxFJDn-h0dtvhe7BTEUMmK489glqaFdbjE7KKxZbTMFv1SriKGRy6L_rLyA=="}`,
	} {
		must(t, rdb.Set(ctx, u.Theirs.Name(), stored, 0).Err())
		_, err := u.Theirs.Get(ctx)
		if !errors.Is(err, nest.ErrDecrypt) || strings.Contains(err.Error(), "top secret") || strings.Contains(err.Error(), "gAAAAA") {
			t.Errorf("stored %.50s: %v", stored, err)
		}
	}
	for _, k := range r.U.At(1).Describe().Keys {
		want := map[string]string{"theirs": "fernet", "theirs2": "fernet", "ours": "string"}[k.Template]
		if k.Codec != want || k.Kind != "secret" {
			t.Errorf("Describe %s: codec %q kind %q", k.Template, k.Codec, k.Kind)
		}
	}
}

// OptionsFromEnv reads the original's MY_ENCRYPTION_KEY.
func TestOriginalKeyFromEnv(t *testing.T) {
	clearEnv(t, "MY_ENCRYPTION_KEY", string(goldenFernetKey))
	o, err := nest.OptionsFromEnv()
	if err != nil || o.Original.EncryptionKey != goldenFernetKey {
		t.Fatalf("OptionsFromEnv: %v", err)
	}
	if _, err := nest.New[origSecretOnly](offlineClient(t), o); err != nil {
		t.Errorf("New with the key from the environment: %v", err)
	}
	clearEnv(t, "MY_ENCRYPTION_KEY", "dG9vLXNob3J0")
	_, err = nest.OptionsFromEnv()
	if !errors.Is(err, nest.ErrConfig) || !strings.Contains(err.Error(), "MY_ENCRYPTION_KEY") || strings.Contains(err.Error(), "dG9vLXNob3J0") {
		t.Errorf("a malformed MY_ENCRYPTION_KEY: %v", err)
	}
}
