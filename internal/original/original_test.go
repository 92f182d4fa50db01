package original

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"testing"
)

// The golden secret and password of testdata/original/stored-samples.json.
const (
	goldenKey      = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	goldenToken    = "gAAAAABrDtBsxHUQxQkl2L6PhAU0BwFVY61_GXSAxFJDn-h0dtvhe7BTEUMmK489glqaFdbjE7KKxZbTMFv1SriKGRy6L_rLyw=="
	goldenPlain    = "top secret"
	goldenHash     = "$2b$12$Fgg/KoouEnSkWw.hoYkwKeEV/O8pgz4z6ZRiQq5WWs7oSFCUP4cQW"
	goldenPassword = "hunter2"
)

func mustKey(t *testing.T, s string) *Fernet {
	t.Helper()
	f, err := ParseFernetKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFernetGolden(t *testing.T) {
	f := mustKey(t, goldenKey)
	pt, err := f.Open([]byte(goldenToken))
	if err != nil || string(pt) != goldenPlain {
		t.Fatalf("Open(golden) = %q, %v", pt, err)
	}
	tok, err := f.Seal([]byte("ünïcode"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(tok, []byte("gAAAAA")) {
		t.Errorf("token %s does not start as Fernet tokens do", tok)
	}
	if pt, err := f.Open(tok); err != nil || string(pt) != "ünïcode" {
		t.Errorf("round trip: %q, %v", pt, err)
	}
	// The key is also accepted without padding, in standard base64, with spaces.
	for _, k := range []string{strings.TrimRight(goldenKey, "="), " " + goldenKey + "\n", base64.StdEncoding.EncodeToString(mustDecode(t, goldenKey))} {
		if pt, err := mustKey(t, k).Open([]byte(goldenToken)); err != nil || string(pt) != goldenPlain {
			t.Errorf("key %q: %q, %v", k, pt, err)
		}
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.URLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFernetKeyErrors(t *testing.T) {
	for _, k := range []string{"", "   ", "not base64 at all!", base64.URLEncoding.EncodeToString(make([]byte, 16)), base64.URLEncoding.EncodeToString(make([]byte, 33))} {
		if _, err := ParseFernetKey(k); err == nil {
			t.Errorf("key %q accepted", k)
		} else if k != "" && strings.Contains(err.Error(), k) {
			t.Errorf("the error quotes the key: %v", err)
		}
	}
}

// forge builds a token with a valid HMAC around an arbitrary CBC payload.
func forge(t *testing.T, key []byte, payload []byte) []byte {
	t.Helper()
	block, _ := aes.NewCipher(key[16:])
	iv := make([]byte, 16)
	ct := make([]byte, len(payload))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, payload)
	msg := append([]byte{0x80}, binary.BigEndian.AppendUint64(nil, 1)...)
	msg = append(append(msg, iv...), ct...)
	mac := hmac.New(sha256.New, key[:16])
	mac.Write(msg)
	return []byte(base64.URLEncoding.EncodeToString(mac.Sum(msg)))
}

func TestFernetOpenErrors(t *testing.T) {
	f := mustKey(t, goldenKey)
	other := mustKey(t, base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	tampered := []byte(goldenToken)
	tampered[40] ^= 1
	raw := mustDecode(t, goldenToken)
	raw[0] = 0x81
	key := mustDecode(t, goldenKey)
	for name, tc := range map[string]struct {
		f    *Fernet
		tok  []byte
		want string
	}{
		"other key":        {other, []byte(goldenToken), "does not open"},
		"tampered":         {f, tampered, ""},
		"not base64":       {f, []byte("gAAAA!!"), "not URL-safe base64"},
		"unpadded base64":  {f, []byte(strings.TrimRight(goldenToken, "=")), "not URL-safe base64"},
		"too short":        {f, []byte(base64.URLEncoding.EncodeToString(raw[:60])), "not a Fernet token (60 bytes)"},
		"not a block":      {f, []byte(base64.URLEncoding.EncodeToString(append(raw, 1, 2, 3))), "not a Fernet token"},
		"version":          {f, []byte(base64.URLEncoding.EncodeToString(raw)), "version 0x81"},
		"empty":            {f, nil, "not a Fernet token (0 bytes)"},
		"zero padding":     {f, forge(t, key, bytes.Repeat([]byte{0}, 16)), "malformed padding"},
		"padding of 32":    {f, forge(t, key, bytes.Repeat([]byte{32}, 32)), "malformed padding"},
		"inconsistent pad": {f, forge(t, key, append(bytes.Repeat([]byte{'a'}, 14), 1, 2)), "does not open"},
	} {
		pt, err := tc.f.Open(tc.tok)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %q, %v; want an error containing %q", name, pt, err, tc.want)
		}
	}
	if pt, err := f.Open(forge(t, key, append([]byte("fifteen bytes!!"), 1))); err != nil || string(pt) != "fifteen bytes!!" {
		t.Errorf("a forged well-formed token: %q, %v", pt, err)
	}
}

func TestBcryptGolden(t *testing.T) {
	if c, err := BcryptCost(goldenHash); err != nil || c != 12 {
		t.Fatalf("cost %d, %v", c, err)
	}
	if ok, err := BcryptVerify(goldenHash, goldenPassword); !ok || err != nil {
		t.Errorf("the golden password: %v, %v", ok, err)
	}
	// A wrong password against the golden hash is in the root package's
	// golden test: cost 12 takes seconds under the race detector.
}

func TestBcryptNew(t *testing.T) {
	long := strings.Repeat("x", BcryptMaxLen)
	h, err := BcryptNew(long, 4)
	if err != nil || !strings.HasPrefix(h, "$2b$04$") || len(h) != 60 {
		t.Fatalf("BcryptNew: %q, %v", h, err)
	}
	if ok, _ := BcryptVerify(h, long); !ok {
		t.Error("the password does not verify")
	}
	// What bcrypt cannot tell apart: bytes past the 72nd.
	if ok, _ := BcryptVerify(h, long+"tail"); !ok {
		t.Error("a candidate over 72 bytes is not compared by its first 72, as Python's bcrypt 4 does")
	}
	if _, err := BcryptNew(long+"y", 4); err == nil {
		t.Error("a password over 72 bytes was hashed")
	}
	for _, bad := range []string{"", "$2b$", "$argon2id$v=19$m=1,t=1,p=1$a$b", "$2b$12$short", "$2b$99$Fgg/KoouEnSkWw.hoYkwKeEV/O8pgz4z6ZRiQq5WWs7oSFCUP4cQW"} {
		if _, err := BcryptCost(bad); err == nil {
			t.Errorf("BcryptCost(%q) succeeded", bad)
		}
		if ok, err := BcryptVerify(bad, "x"); ok || err == nil {
			t.Errorf("BcryptVerify(%q): %v, %v", bad, ok, err)
		}
	}
}
