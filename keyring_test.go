package nest

import (
	"bytes"
	"testing"
)

func TestMatchKeyPattern(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"vault:master", "vault:master", true},
		{"vault:master", "vault:masters", false},
		{"vault:account:*:token", "vault:account:1:token", true},
		{"vault:account:*:token", "vault:account:12:token", true},
		{"vault:account:*:token", "vault:account::token", false}, // parameters are never empty
		{"vault:account:*:token", "vault:account:1:2:token", false},
		{"vault:account:*:token", "vault:account:1:token:x", false},
		{"vault:account:*:token", "vault:account:1:name", false},
		{"a:msg-*-x:b", "a:msg-1-x:b", true},
		{"a:msg-*-x:b", "a:msg-1-x-x:b", true},
		{"a:msg-*-x:b", "a:msg--x:b", false},
		{"a:msg-*-x:b", "a:msg-x:b", false},
		{"a:*:*:k", "a:1:eu:k", true},
		{"a:*:*:k", "a:1:k", false},
	} {
		if got := matchKeyPattern(tc.pattern, tc.name); got != tc.want {
			t.Errorf("matchKeyPattern(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

func testKeyring(tb testing.TB) *keyring {
	tb.Helper()
	r, err := newKeyring([]SecretKey{{ID: "k1", Key: bytes.Repeat([]byte{7}, SecretKeyLen)}})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestKeyringSealOpen(t *testing.T) {
	r := testKeyring(t)
	for _, pt := range [][]byte{nil, {}, []byte("x"), bytes.Repeat([]byte("secret"), 1000)} {
		sealed := r.seal("a:b", pt)
		if len(sealed) != 4+12+len(pt)+16 {
			t.Fatalf("sealed %d bytes into %d", len(pt), len(sealed))
		}
		got, err := r.open("a:b", string(sealed))
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("open = %q, %v", got, err)
		}
		if _, err := r.open("a:c", string(sealed)); err == nil {
			t.Fatal("opened under another name")
		}
	}
}

// BenchmarkSealOpen isolates the cryptography of a Secret from the Redis
// round trip that dominates BenchmarkSecretSet and BenchmarkSecretGet.
func BenchmarkSealOpen(b *testing.B) {
	r := testKeyring(b)
	const name = "bench:secret"
	pt := []byte("tok_live_4eC39HqLyjWDarjtT1zdp7dc")
	sealed := string(r.seal(name, pt))
	b.Run("seal", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			r.seal(name, pt)
		}
	})
	b.Run("open", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := r.open(name, sealed); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Stored bytes come from Redis, where anyone with access may write: opening
// hostile input must fail cleanly, never panic, and never open anything
// but a value sealed for that very key name.
func FuzzOpen(f *testing.F) {
	r := testKeyring(f)
	f.Add("vault:a", string(r.seal("vault:a", []byte("secret"))))
	f.Add("vault:a", string(r.seal("vault:b", []byte("secret"))))
	f.Add("vault:a", "")
	f.Add("vault:a", "\x01\x02k1")
	f.Fuzz(func(t *testing.T, name, stored string) {
		// version, ID length, ID "k1", 12-byte nonce, 16-byte tag
		const overhead = 1 + 1 + 2 + 12 + 16
		if _, err := r.open(name, stored); err == nil && len(stored) < overhead {
			t.Fatalf("opened %d bytes for %q: too short to carry a nonce and a tag", len(stored), name)
		}
	})
}

// Stored password hashes come from Redis too: parsing must never panic.
func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
	f.Add("$argon2id$v=19$m=0,t=0,p=0$$")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if h, err := parsePHC(s); err == nil && (h.m == 0 || h.t == 0 || h.p == 0) {
			t.Fatalf("parsePHC(%q) accepted zero parameters: %+v", s, h)
		}
	})
}
