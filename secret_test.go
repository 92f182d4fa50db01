package nest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redisimnest/nest"
)

func TestSecretRoundTrip(t *testing.T) {
	v, rdb := newVault(t, nil, newSecretKey(t, "k1"))
	ctx := context.Background()
	a := v.Account.At(1)

	check := func(t *testing.T, name string, raw []byte, plain string) {
		t.Helper()
		if plain != "" && bytes.Contains(raw, []byte(plain)) {
			t.Errorf("%s: the stored value contains the plaintext", name)
		}
		if ttl := rdb.PTTL(ctx, name).Val(); ttl <= 0 || ttl > 120*time.Second {
			t.Errorf("%s: TTL %v, want the drilled 120s", name, ttl)
		}
	}

	t.Run("string", func(t *testing.T) {
		const plain = "sk_live_abcdefghijklmnop"
		if err := a.Token.Set(ctx, plain); err != nil {
			t.Fatal(err)
		}
		got, err := a.Token.Get(ctx)
		if err != nil || got != plain {
			t.Fatalf("Get = %q, %v; want %q", got, err, plain)
		}
		raw1, _ := a.Token.Raw(ctx)
		check(t, a.Token.Name(), raw1, plain)
		if err := a.Token.Set(ctx, plain); err != nil {
			t.Fatal(err)
		}
		raw2, _ := a.Token.Raw(ctx)
		if bytes.Equal(raw1, raw2) {
			t.Error("two sets of the same value gave the same ciphertext")
		}
		if !bytes.Equal(raw1[:4], []byte("\x01\x02k1")) {
			t.Errorf("header %q, want version 1, key ID k1", raw1[:4])
		}
		if got := len(raw1); got != 4+12+len(plain)+16 {
			t.Errorf("stored %d bytes, want header 4 + nonce 12 + %d + tag 16", got, len(plain))
		}
	})
	t.Run("empty string", func(t *testing.T) {
		if err := v.Master.Set(ctx, ""); err != nil {
			t.Fatal(err)
		}
		got, ok, err := v.Master.Lookup(ctx)
		if err != nil || !ok || got != "" {
			t.Fatalf("Lookup = %q, %v, %v", got, ok, err)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		plain := []byte{0, 1, 2, 0xff, 0xfe, 'x'}
		if err := a.Blob.Set(ctx, plain); err != nil {
			t.Fatal(err)
		}
		got, err := a.Blob.Get(ctx)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Get = %v, %v", got, err)
		}
		raw, _ := a.Blob.Raw(ctx)
		check(t, a.Blob.Name(), raw, string(plain))
	})
	t.Run("struct", func(t *testing.T) {
		plain := Card{Number: "4111111111111111", Expiry: "12/34"}
		if err := a.Card.Set(ctx, plain); err != nil {
			t.Fatal(err)
		}
		got, err := a.Card.Get(ctx)
		if err != nil || got != plain {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		raw, _ := a.Card.Raw(ctx)
		check(t, a.Card.Name(), raw, plain.Number)
	})
	t.Run("msgpack", func(t *testing.T) {
		plain := []string{"first note", "second"}
		if err := a.Notes.Set(ctx, plain); err != nil {
			t.Fatal(err)
		}
		got, err := a.Notes.Get(ctx)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(plain) {
			t.Fatalf("Get = %v, %v", got, err)
		}
	})
	t.Run("int default and ttl none", func(t *testing.T) {
		got, ok, err := a.PIN.Lookup(ctx)
		if err != nil || ok || got != 0 {
			t.Fatalf("missing Lookup = %v, %v, %v; want the default 0", got, ok, err)
		}
		if err := a.PIN.Set(ctx, 1234); err != nil {
			t.Fatal(err)
		}
		if got, err := a.PIN.Get(ctx); err != nil || got != 1234 {
			t.Fatalf("Get = %v, %v", got, err)
		}
		if ttl, err := a.PIN.TTL(ctx); err != nil || ttl != nest.NoExpiry {
			t.Fatalf("TTL = %v, %v; want NoExpiry", ttl, err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		_, err := v.Account.At(2).Token.Get(ctx)
		if !errors.Is(err, nest.ErrNotFound) {
			t.Fatalf("Get of a missing key = %v, want ErrNotFound", err)
		}
		if _, err := v.Account.At(2).Token.Raw(ctx); !errors.Is(err, nest.ErrNotFound) {
			t.Fatalf("Raw of a missing key = %v, want ErrNotFound", err)
		}
	})
	t.Run("SetNX", func(t *testing.T) {
		b := v.Account.At(3)
		ok, err := b.Token.SetNX(ctx, "first")
		if err != nil || !ok {
			t.Fatalf("SetNX = %v, %v", ok, err)
		}
		if ok, err = b.Token.SetNX(ctx, "second"); err != nil || ok {
			t.Fatalf("second SetNX = %v, %v", ok, err)
		}
		if got, _ := b.Token.Get(ctx); got != "first" {
			t.Fatalf("Get = %q", got)
		}
	})
}

// regions of a stored value sealed with a key ID of n bytes.
func regions(raw []byte, n int) map[string][2]int {
	return map[string][2]int{
		"version":    {0, 1},
		"id length":  {1, 2},
		"key ID":     {2, 2 + n},
		"nonce":      {2 + n, 2 + n + 12},
		"ciphertext": {2 + n + 12, len(raw) - 16},
		"tag":        {len(raw) - 16, len(raw)},
	}
}

func TestSecretTamper(t *testing.T) {
	v, rdb := newVault(t, nil, newSecretKey(t, "k1"), newSecretKey(t, "k2"))
	ctx := context.Background()
	tok := v.Account.At(1).Token
	if err := tok.Set(ctx, "a secret worth stealing"); err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Raw(ctx)
	for name, r := range regions(raw, 2) {
		t.Run(name, func(t *testing.T) {
			for i := r[0]; i < r[1]; i++ {
				for _, flip := range []byte{0x01, 0x80, 0x03} { // k1 ^ 3 = k2: a known ID
					bad := bytes.Clone(raw)
					bad[i] ^= flip
					rdb.Set(ctx, tok.Name(), bad, 0)
					if _, err := tok.Get(ctx); !errors.Is(err, nest.ErrDecrypt) {
						t.Fatalf("byte %d ^ %#x: Get = %v, want ErrDecrypt", i, flip, err)
					}
				}
			}
		})
	}
	t.Run("truncated", func(t *testing.T) {
		for n := range len(raw) {
			rdb.Set(ctx, tok.Name(), raw[:n], 0)
			if _, err := tok.Get(ctx); !errors.Is(err, nest.ErrDecrypt) {
				t.Fatalf("first %d bytes: Get = %v, want ErrDecrypt", n, err)
			}
		}
	})
	t.Run("extended", func(t *testing.T) {
		rdb.Set(ctx, tok.Name(), append(bytes.Clone(raw), 0), 0)
		if _, err := tok.Get(ctx); !errors.Is(err, nest.ErrDecrypt) {
			t.Fatalf("Get = %v, want ErrDecrypt", err)
		}
	})
	t.Run("copied to another account", func(t *testing.T) {
		rdb.Set(ctx, tok.Name(), raw, 0)
		other := v.Account.At(2).Token
		rdb.Set(ctx, other.Name(), raw, 0)
		if _, err := tok.Get(ctx); err != nil {
			t.Fatalf("original: %v", err)
		}
		_, err := other.Get(ctx)
		if !errors.Is(err, nest.ErrDecrypt) {
			t.Fatalf("copy: Get = %v, want ErrDecrypt", err)
		}
		if !strings.Contains(err.Error(), other.Name()) {
			t.Errorf("error %q does not name the key", err)
		}
	})
	t.Run("copied to another field", func(t *testing.T) {
		m := v.Account.At(1).Card
		rdb.Set(ctx, m.Name(), raw, 0)
		if _, err := m.Get(ctx); !errors.Is(err, nest.ErrDecrypt) {
			t.Fatalf("Get = %v, want ErrDecrypt", err)
		}
	})
}

func TestSecretGarbage(t *testing.T) {
	v, rdb := newVault(t, nil, newSecretKey(t, "k1"))
	ctx := context.Background()
	tok := v.Account.At(1).Token
	random := make([]byte, 100)
	_, _ = rand.Read(random)
	for _, g := range []string{"", "x", "plain text someone SET by hand", "\x01", "\x01\x00", "\x01\x05ab",
		"\x01\xffk1", "\x01\x02k1", "\x01\x02k1" + strings.Repeat("\x00", 27), "\x02\x02k1" + strings.Repeat("\x00", 40), string(random)} {
		rdb.Set(ctx, tok.Name(), g, 0)
		_, err := tok.Get(ctx)
		if !errors.Is(err, nest.ErrDecrypt) {
			t.Errorf("Get of %q = %v, want ErrDecrypt", g, err)
		}
	}
}

func TestSecretDecodeErrorWithholdsValue(t *testing.T) {
	type asString struct {
		nest.Namespace `nest:"vault"`
		Master         nest.Secret[string] `nest:"master"`
	}
	type asInt struct {
		nest.Namespace `nest:"vault"`
		Master         nest.Secret[int] `nest:"master"`
	}
	rdb := newRedis(t)
	keys := &nest.Options{SecretKeys: []nest.SecretKey{newSecretKey(t, "k1")}}
	s := nest.MustNew[asString](rdb, keys)
	i := nest.MustNew[asInt](rdb, keys)
	ctx := context.Background()
	const plain = "hunter2-not-a-number"
	if err := s.Master.Set(ctx, plain); err != nil {
		t.Fatal(err)
	}
	_, err := i.Master.Get(ctx)
	if !errors.Is(err, nest.ErrDecode) {
		t.Fatalf("Get = %v, want ErrDecode", err)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), "hunter2") {
		t.Fatalf("the decode error leaks the value: %v", err)
	}
}

func TestSecretUnknownKeyID(t *testing.T) {
	old, rdb := newVault(t, nil, newSecretKey(t, "retired-2023"))
	ctx := context.Background()
	if err := old.Master.Set(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	cur, _ := newVault(t, rdb, newSecretKey(t, "k1"))
	_, err := cur.Master.Get(ctx)
	if !errors.Is(err, nest.ErrDecrypt) {
		t.Fatalf("Get = %v, want ErrDecrypt", err)
	}
	for _, want := range []string{`"retired-2023"`, "not in the keyring", "vault:master"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %s", err, want)
		}
	}
}

func TestSecretRotation(t *testing.T) {
	a, b := newSecretKey(t, "a"), newSecretKey(t, "b")
	va, rdb := newVault(t, nil, a)
	ctx := context.Background()
	plain := map[int]string{}
	for id := 1; id <= 30; id++ {
		acc := va.Account.At(id)
		plain[id] = fmt.Sprintf("token of %d", id)
		if err := acc.Token.Set(ctx, plain[id], nest.WithTTL(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := acc.Card.Set(ctx, Card{Number: fmt.Sprint(id)}); err != nil {
			t.Fatal(err)
		}
		_ = acc.Name.Set(ctx, "plain name") // not a secret: never touched
		_ = acc.Password.Set(ctx, "a password")
	}
	if err := va.Master.Set(ctx, "master"); err != nil {
		t.Fatal(err)
	}
	nameBefore, _ := rdb.Get(ctx, "vault:account:1:name").Result()

	// 1. B becomes current; A stays to open old values.
	vab, _ := newVault(t, rdb, b, a)
	for id, want := range plain {
		if got, err := vab.Account.At(id).Token.Get(ctx); err != nil || got != want {
			t.Fatalf("account %d before Reencrypt: %q, %v", id, got, err)
		}
	}
	_ = vab.Account.At(31).Token.Set(ctx, "new value")
	if raw, _ := vab.Account.At(31).Token.Raw(ctx); string(raw[1:3]) != "\x01b" {
		t.Fatalf("new value sealed with key %q, want b", raw[2:3])
	}

	// 2. Re-encrypt one account, then everything; account 1 must not
	// touch account 12's keys.
	n, err := vab.Account.At(1).Reencrypt(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Reencrypt(account 1) = %d, %v; want its 2 secrets", n, err)
	}
	if raw, _ := vab.Account.At(12).Token.Raw(ctx); raw[2] != 'a' {
		t.Fatal("Reencrypt of account 1 rewrote account 12")
	}
	n, err = vab.Reencrypt(ctx)
	if err != nil || n != 2*29+1 {
		t.Fatalf("Reencrypt(root) = %d, %v; want %d", n, err, 2*29+1)
	}
	if n, err := vab.Reencrypt(ctx); err != nil || n != 0 {
		t.Fatalf("second Reencrypt = %d, %v; want 0", n, err)
	}
	if ttl := rdb.PTTL(ctx, vab.Account.At(7).Token.Name()).Val(); ttl < 59*time.Minute {
		t.Fatalf("TTL after Reencrypt = %v, want the hour set before", ttl)
	}
	if ttl := rdb.PTTL(ctx, vab.Master.Name()).Val(); ttl != -1 { // go-redis: -1 for no expiry
		t.Fatalf("Master PTTL after Reencrypt = %v, want none", ttl)
	}
	if got, _ := rdb.Get(ctx, "vault:account:1:name").Result(); got != nameBefore {
		t.Fatal("Reencrypt changed a plain key")
	}

	// 3. A is removed: everything still opens.
	vb, _ := newVault(t, rdb, b)
	for id, want := range plain {
		if got, err := vb.Account.At(id).Token.Get(ctx); err != nil || got != want {
			t.Fatalf("account %d after rotation: %q, %v", id, got, err)
		}
		if c, err := vb.Account.At(id).Card.Get(ctx); err != nil || c.Number != fmt.Sprint(id) {
			t.Fatalf("account %d card after rotation: %v, %v", id, c, err)
		}
		if ok, err := vb.Account.At(id).Password.Verify(ctx, "a password"); !ok || err != nil {
			t.Fatalf("account %d password after rotation: %v, %v", id, ok, err)
		}
	}

	// A value that does not open is reported and left alone; the others
	// are still rewritten.
	vc, _ := newVault(t, rdb, newSecretKey(t, "c"), b)
	rdb.Set(ctx, vc.Account.At(5).Token.Name(), "garbage", 0)
	n, err = vc.Reencrypt(ctx)
	// 30 tokens and cards, the master and account 31's token, but for
	// the garbage.
	if want := int64(2*30 + 2 - 1); !errors.Is(err, nest.ErrDecrypt) || n != want {
		t.Fatalf("Reencrypt with garbage = %d, %v; want %d and ErrDecrypt", n, err, want)
	}
	if !strings.Contains(err.Error(), "1 secret value could not be re-encrypted") || !strings.Contains(err.Error(), "vault:account:5:token") {
		t.Errorf("error %q does not count and name the failure", err)
	}
}

// One key of another Redis type among the sealed values must not stop a
// key rotation: it is skipped and reported, the others are re-encrypted
// (issue 7, defect 5).
func TestSecretReencryptSkipsWrongType(t *testing.T) {
	a, b := newSecretKey(t, "a"), newSecretKey(t, "b")
	va, rdb := newVault(t, nil, a)
	ctx := context.Background()
	const n = 200
	for id := 1; id <= n; id++ {
		if err := va.Account.At(id).Token.Set(ctx, fmt.Sprint("token ", id)); err != nil {
			t.Fatal(err)
		}
	}
	bad := va.Account.At(77).Token.Name()
	rdb.Del(ctx, bad)
	rdb.HSet(ctx, bad, "field", "a hash where a sealed value belongs")
	vb, _ := newVault(t, rdb, b, a)
	got, err := vb.Reencrypt(ctx)
	if got != n-1 || err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "WRONGTYPE") {
		t.Fatalf("Reencrypt = %d, %v; want %d and an error naming %s as WRONGTYPE", got, err, n-1, bad)
	}
	var opErr *nest.OpError
	if !errors.As(err, &opErr) || opErr.Op != "REENCRYPT" {
		t.Fatalf("error %v is not a REENCRYPT *OpError", err)
	}
	for id := 1; id <= n; id++ {
		if id == 77 {
			continue
		}
		if raw, _ := vb.Account.At(id).Token.Raw(ctx); raw[2] != 'b' {
			t.Fatalf("account %d still sealed with key %q", id, raw[2:3])
		}
	}
	if typ, _ := rdb.Type(ctx, bad).Result(); typ != "hash" {
		t.Fatalf("the wrong-typed key became a %s", typ)
	}
}

func TestSecretRename(t *testing.T) {
	if onCluster {
		t.Skip("the two keys are in different hash slots, which Redis Cluster refuses by design (ErrCrossSlot)")
	}
	v, _ := newVault(t, nil, newSecretKey(t, "k1"))
	ctx := context.Background()
	src, dst := v.Account.At(1).Token, v.Account.At(2).Token
	if err := src.Set(ctx, "moving"); err != nil {
		t.Fatal(err)
	}
	if err := src.Rename(ctx, dst); err != nil {
		t.Fatal(err)
	}
	if got, err := dst.Get(ctx); err != nil || got != "moving" {
		t.Fatalf("dst.Get = %q, %v", got, err)
	}
	if ok, _ := src.Exists(ctx); ok {
		t.Fatal("source still exists")
	}
	if err := src.Rename(ctx, dst); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("Rename of a missing key = %v, want ErrNotFound", err)
	}
	_ = src.Set(ctx, "other")
	if ok, err := src.RenameNX(ctx, dst); err != nil || ok {
		t.Fatalf("RenameNX onto an existing key = %v, %v", ok, err)
	}
	if ok, err := dst.RenameNX(ctx, v.Account.At(3).Token); err != nil || !ok {
		t.Fatalf("RenameNX = %v, %v", ok, err)
	}
	if got, _ := v.Account.At(3).Token.Get(ctx); got != "moving" {
		t.Fatalf("after RenameNX: %q", got)
	}
	if err := src.Rename(ctx, src); err != nil {
		t.Fatalf("Rename onto itself = %v", err)
	}
}

func TestSecretKeyCommands(t *testing.T) {
	v, _ := newVault(t, nil, newSecretKey(t, "k1"))
	ctx := context.Background()
	tok := v.Account.At(1).Token
	if d, ok := tok.EffectiveTTL(); !ok || d != 120*time.Second {
		t.Fatalf("EffectiveTTL = %v, %v", d, ok)
	}
	_ = tok.Set(ctx, "x")
	if ok, err := tok.Exists(ctx); !ok || err != nil {
		t.Fatalf("Exists = %v, %v", ok, err)
	}
	if ok, err := tok.Persist(ctx); !ok || err != nil {
		t.Fatalf("Persist = %v, %v", ok, err)
	}
	if ok, err := tok.Expire(ctx, time.Minute); !ok || err != nil {
		t.Fatalf("Expire = %v, %v", ok, err)
	}
	if d, err := tok.TTL(ctx); err != nil || d <= 0 || d > time.Minute {
		t.Fatalf("TTL = %v, %v", d, err)
	}
	if typ, _ := tok.Type(ctx); typ != "string" {
		t.Fatalf("Type = %q", typ)
	}
	if ok, err := tok.Delete(ctx); !ok || err != nil {
		t.Fatalf("Delete = %v, %v", ok, err)
	}
	if d := tok.Describe(); d.Kind != "secret" || d.Type != "string" || d.Name != tok.Name() {
		t.Fatalf("Describe = %+v", d)
	}
	if err := (nest.Secret[string]{}).Set(ctx, "x"); !errors.Is(err, nest.ErrNotBound) {
		t.Fatalf("zero Secret: %v", err)
	}
	bad := v.Account.At("1:*").Token
	if _, err := bad.Get(ctx); !errors.Is(err, nest.ErrInvalidParam) {
		t.Fatalf("bad parameter: %v", err)
	}
}
