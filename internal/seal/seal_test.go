package seal

import (
	"bytes"
	"strings"
	"testing"
)

func testRing(tb testing.TB) *Ring {
	tb.Helper()
	r, err := NewRing([]Key{{ID: "k1", Key: bytes.Repeat([]byte{7}, KeyLen)}})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestSealOpen(t *testing.T) {
	r := testRing(t)
	for _, pt := range [][]byte{nil, {}, []byte("x"), bytes.Repeat([]byte("secret"), 1000)} {
		sealed := r.Seal("a:b", pt)
		if len(sealed) != 4+12+len(pt)+16 {
			t.Fatalf("sealed %d bytes into %d", len(pt), len(sealed))
		}
		if !r.Current(sealed) {
			t.Fatal("a value sealed by the ring is not Current")
		}
		got, err := r.Open("a:b", sealed)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("open = %q, %v", got, err)
		}
		if _, err := r.Open("a:c", sealed); err == nil {
			t.Fatal("opened under another name")
		}
	}
}

func TestRotation(t *testing.T) {
	old := testRing(t)
	sealed := old.Seal("a", []byte("v"))
	r, err := NewRing([]Key{{ID: "k2", Key: bytes.Repeat([]byte{9}, KeyLen)}, {ID: "k1", Key: bytes.Repeat([]byte{7}, KeyLen)}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Current(sealed) {
		t.Fatal("a value sealed with k1 is Current in a ring sealing with k2")
	}
	if got, err := r.Open("a", sealed); err != nil || string(got) != "v" {
		t.Fatalf("old value: %q, %v", got, err)
	}
	if _, err := testRing(t).Open("a", r.Seal("a", []byte("v"))); err == nil || !strings.Contains(err.Error(), `"k2"`) {
		t.Fatalf("open with an unknown key ID: %v, want it named", err)
	}
}

func TestParseKeys(t *testing.T) {
	const k = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	keys, err := ParseKeys(" k2 : " + k + " ,\n# comment\n\nk1:" + k)
	if err != nil || len(keys) != 2 || keys[0].ID != "k2" || keys[1].ID != "k1" {
		t.Fatalf("ParseKeys = %v, %v", keys, err)
	}
	for _, tc := range []struct{ in, want string }{
		{"", "no entries"},
		{"k1", "want \"id:base64key\""},
		{"k 1:" + k, "character 2 is a space"},
		{"k1:!!", "not valid base64"},
		{"k1:AAAA", "3 bytes, want 32"},
	} {
		_, err := ParseKeys(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseKeys(%q) = %v, want %q", tc.in, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), k) {
			t.Errorf("ParseKeys(%q) quotes the key: %v", tc.in, err)
		}
	}
}

// BenchmarkSealOpen isolates the cryptography of a Secret from the Redis
// round trip that dominates BenchmarkSecretSet and BenchmarkSecretGet.
func BenchmarkSealOpen(b *testing.B) {
	r := testRing(b)
	const name = "bench:secret"
	pt := []byte("tok_live_4eC39HqLyjWDarjtT1zdp7dc")
	sealed := r.Seal(name, pt)
	b.Run("seal", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			r.Seal(name, pt)
		}
	})
	b.Run("open", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := r.Open(name, sealed); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Stored bytes come from Redis, where anyone with access may write: opening
// hostile input must fail cleanly, never panic, and never open anything
// but a value sealed for that very key name.
func FuzzOpen(f *testing.F) {
	r := testRing(f)
	f.Add("vault:a", r.Seal("vault:a", []byte("secret")))
	f.Add("vault:a", r.Seal("vault:b", []byte("secret")))
	f.Add("vault:a", []byte{})
	f.Add("vault:a", []byte("\x01\x02k1"))
	f.Fuzz(func(t *testing.T, name string, stored []byte) {
		// version, ID length, ID "k1", 12-byte nonce, 16-byte tag
		const overhead = 1 + 1 + 2 + 12 + 16
		if _, err := r.Open(name, stored); err == nil && len(stored) < overhead {
			t.Fatalf("opened %d bytes for %q: too short to carry a nonce and a tag", len(stored), name)
		}
	})
}
