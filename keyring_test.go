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
