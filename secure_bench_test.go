package nest_test

import (
	"context"
	"testing"
	"time"

	"github.com/redisimnest/nest"
)

// Secret keys beside a plain Key[string] and raw go-redis doing the same
// SET/GET on the same server in the same run: the difference between the
// lines is what sealing and opening cost. Password Verify is measured at
// the default (OWASP) parameters, where argon2id dominates by design.

type benchSecure struct {
	nest.Namespace `nest:"bench"`
	Plain          nest.Key[string]    `nest:"plain"`
	Secret         nest.Secret[string] `nest:"secret"`
	Password       nest.Password       `nest:"password"`
}

const benchToken = "tok_live_4eC39HqLyjWDarjtT1zdp7dc" // 33 bytes, an API-token-sized secret

func BenchmarkSecretSet(b *testing.B) {
	s, set, _ := newBenchSecure(b, fastPasswords)
	ctx := context.Background()
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := set(ctx, "bench:plain", benchToken); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("key", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := s.Plain.Set(ctx, benchToken); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("secret", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := s.Secret.Set(ctx, benchToken); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSecretGet(b *testing.B) {
	s, set, get := newBenchSecure(b, fastPasswords)
	ctx := context.Background()
	if err := set(ctx, "bench:plain", benchToken); err != nil {
		b.Fatal(err)
	}
	if err := s.Secret.Set(ctx, benchToken); err != nil {
		b.Fatal(err)
	}
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := get(ctx, "bench:plain"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("key", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := s.Plain.Get(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("secret", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := s.Secret.Get(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPasswordVerify verifies a correct password at the default
// parameters (argon2id, m=19 MiB, t=2, p=1) and reports ms/verify; a
// login costs about this much CPU time per attempt, by design.
func BenchmarkPasswordVerify(b *testing.B) {
	s, _, _ := newBenchSecure(b, nest.PasswordParams{})
	ctx := context.Background()
	if err := s.Password.Set(ctx, "correct horse battery staple"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := time.Now()
	for range b.N {
		ok, err := s.Password.Verify(ctx, "correct horse battery staple")
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/verify")
}
