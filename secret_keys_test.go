package nest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redisimnest/nest"
)

// Where secret keys come from, and that they, like secret values, never
// show up in errors, logs or printed values.

func TestSecretKeySources(t *testing.T) {
	rdb := newRedis(t)
	k1, k0 := newSecretKey(t, "id1"), newSecretKey(t, "id0")
	b64 := base64.StdEncoding.EncodeToString
	env := "id1:" + b64(k1.Key) + ",id0:" + b64(k0.Key)
	clearEnv(t)
	ctx := context.Background()

	sealWith := func(t *testing.T, opts *nest.Options) *Vault {
		t.Helper()
		v, err := nest.New[Vault](rdb, opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Master.Set(ctx, "m"); err != nil {
			t.Fatal(err)
		}
		if raw, _ := v.Master.Raw(ctx); string(raw[2:5]) != "id1" {
			t.Fatalf("sealed with %q, want the first key id1", raw[2:5])
		}
		return v
	}
	// fromEnv returns OptionsFromEnv, which must succeed.
	fromEnv := func(t *testing.T) *nest.Options {
		t.Helper()
		opts, err := nest.OptionsFromEnv()
		if err != nil {
			t.Fatal(err)
		}
		return opts
	}

	t.Run("none", func(t *testing.T) {
		_, err := nest.New[Vault](rdb, nil)
		if !errors.Is(err, nest.ErrConfig) || errors.Is(err, nest.ErrSchema) {
			t.Fatalf("New = %v, want ErrConfig (not ErrSchema)", err)
		}
		for _, want := range []string{"Account.Token", "Options.SecretKeys", "OptionsFromEnv", "NEST_SECRET_KEYS_FILE"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %s", err, want)
			}
		}
		if opts := fromEnv(t); opts.SecretKeys != nil {
			t.Fatalf("OptionsFromEnv without the variables: SecretKeys %v", opts.SecretKeys)
		}
		newRoot(t) // a schema without Secret keys needs none
	})
	t.Run("env", func(t *testing.T) {
		t.Setenv("NEST_SECRET_KEYS", env)
		sealWith(t, fromEnv(t))
		// New itself never reads the environment.
		if _, err := nest.New[Vault](rdb, nil); !errors.Is(err, nest.ErrConfig) {
			t.Fatalf("New(nil) with NEST_SECRET_KEYS set = %v, want ErrConfig", err)
		}
		t.Setenv("NEST_SECRET_KEYS", "garbage")
		sealWith(t, &nest.Options{SecretKeys: []nest.SecretKey{k1}})
		newRoot(t) // a schema without Secret keys never reads it
	})
	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "keys")
		text := "# current key first\nid1:" + b64(k1.Key) + "\n\n id0:" + base64.RawURLEncoding.EncodeToString(k0.Key) + " \n"
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("NEST_SECRET_KEYS_FILE", path)
		v := sealWith(t, fromEnv(t))
		old, _ := newVault(t, rdb, k0)
		_ = old.Account.At(1).Token.Set(ctx, "sealed with id0")
		if got, err := v.Account.At(1).Token.Get(ctx); err != nil || got != "sealed with id0" {
			t.Fatalf("Get = %q, %v", got, err)
		}
		t.Setenv("NEST_SECRET_KEYS", env)
		if _, err := nest.OptionsFromEnv(); !errors.Is(err, nest.ErrConfig) || !strings.Contains(err.Error(), "both") {
			t.Fatalf("both set: %v", err)
		}
		t.Setenv("NEST_SECRET_KEYS", "")
		t.Setenv("NEST_SECRET_KEYS_FILE", filepath.Join(t.TempDir(), "missing"))
		_, err := nest.OptionsFromEnv()
		if !errors.Is(err, nest.ErrConfig) || !strings.Contains(err.Error(), "NEST_SECRET_KEYS_FILE") || !strings.Contains(err.Error(), "missing") {
			t.Fatalf("missing file: %v", err)
		}
		if err := os.WriteFile(path, []byte("id1:"+b64(k1.Key[:16])), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("NEST_SECRET_KEYS_FILE", path)
		_, err = nest.OptionsFromEnv()
		if !errors.Is(err, nest.ErrConfig) || !strings.Contains(err.Error(), "NEST_SECRET_KEYS_FILE "+path+": entry 1") ||
			strings.Contains(err.Error(), b64(k1.Key[:16])) {
			t.Fatalf("malformed file: %v", err)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		short := b64(k1.Key[:16])
		for _, tc := range []struct{ env, want string }{
			{"id1", `want "id:base64key"`},
			{"id1:" + short, "16 bytes, want 32"},
			{"id1:not*base64", "not valid base64"},
			{b64(k1.Key) + ":id1", "key ID"},
			{"bad id:" + b64(k1.Key), "key ID"},
			{",,\n# nothing\n", "no entries"},
		} {
			t.Setenv("NEST_SECRET_KEYS", tc.env)
			_, err := nest.OptionsFromEnv()
			if !errors.Is(err, nest.ErrConfig) || !strings.Contains(err.Error(), "NEST_SECRET_KEYS: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NEST_SECRET_KEYS=%q: OptionsFromEnv = %v, want %q", tc.env, err, tc.want)
				continue
			}
			if strings.Contains(err.Error(), b64(k1.Key)) || strings.Contains(err.Error(), short) {
				t.Errorf("the error leaks key material: %v", err)
			}
		}
		// A keyring naming one ID twice is refused when parsed, and by New
		// when given in Options.
		t.Setenv("NEST_SECRET_KEYS", "id1:"+b64(k1.Key)+",id1:"+b64(k0.Key))
		if _, err := nest.OptionsFromEnv(); !errors.Is(err, nest.ErrConfig) || !strings.Contains(err.Error(), "twice") {
			t.Errorf("duplicate key IDs: OptionsFromEnv = %v", err)
		}
		dup := &nest.Options{SecretKeys: []nest.SecretKey{{ID: "id1", Key: k1.Key}, {ID: "id1", Key: k0.Key}}}
		if _, err := nest.New[Vault](rdb, dup); !errors.Is(err, nest.ErrConfig) || !strings.Contains(err.Error(), "twice") {
			t.Errorf("duplicate key IDs: New = %v", err)
		}
		// Keys in Options are checked even without Secret keys.
		_, err := nest.New[Root](rdb, &nest.Options{SecretKeys: []nest.SecretKey{{ID: "x", Key: []byte("short")}}})
		if !errors.Is(err, nest.ErrConfig) {
			t.Fatalf("short key in Options: %v", err)
		}
	})
}

func TestSecretNeverLeaks(t *testing.T) {
	var logs bytes.Buffer
	key := newSecretKey(t, "k1")
	rdb := newRedis(t)
	v, err := nest.New[Vault](rdb, &nest.Options{
		SecretKeys: []nest.SecretKey{key},
		Logger:     slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const plain = "the-plaintext-secret"
	tok := v.Account.At(1).Token
	_ = tok.Set(ctx, plain)
	_, _ = tok.Get(ctx)
	raw, _ := tok.Raw(ctx)
	_, _ = v.Reencrypt(ctx)
	if logs.Len() == 0 {
		t.Fatal("no dispatch logs captured")
	}
	slog.New(slog.NewTextHandler(&logs, nil)).Info("keys", "key", key, "keys", []nest.SecretKey{key})
	printed := fmt.Sprintf("%v %+v %#v %s %x %q %v", tok, tok, tok, key, key, key, &nest.Options{SecretKeys: []nest.SecretKey{key}})
	for where, s := range map[string]string{"logs": logs.String(), "fmt": printed} {
		for what, secret := range map[string]string{
			"plaintext": plain, "ciphertext": string(raw[4:]),
			"key": string(key.Key), "base64 key": base64.StdEncoding.EncodeToString(key.Key),
			"hex key": fmt.Sprintf("%x", key.Key),
		} {
			if strings.Contains(s, secret) {
				t.Errorf("%s contain the %s", where, what)
			}
		}
	}
	if !strings.Contains(printed, "[redacted]") {
		t.Errorf("printed keys are not marked redacted: %s", printed)
	}
}

// A SecretKey marshalled as JSON (a JSON log handler, an encoded config)
// shows its ID, never its key.
func TestSecretKeyJSONRedacted(t *testing.T) {
	key := nest.SecretKey{ID: "k1", Key: bytes.Repeat([]byte{0xAB}, nest.SecretKeyLen)}
	out, err := json.Marshal([]nest.SecretKey{key})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "k1") || strings.Contains(string(out), base64.StdEncoding.EncodeToString(key.Key)) ||
		!strings.Contains(string(out), "redacted") {
		t.Fatalf("json.Marshal(SecretKey) = %s", out)
	}
}
