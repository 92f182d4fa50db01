package phc

import (
	"context"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	hs := NewHasher(Params{Memory: 64, Iterations: 1, Parallelism: 1}, 1)
	h, err := hs.New(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	s := h.String()
	if !strings.HasPrefix(s, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("PHC string %q", s)
	}
	p, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := hs.Sum(context.Background(), "pw", p)
	if err != nil || string(sum) != string(h.Sum) {
		t.Fatalf("Sum of the same password differs: %v", err)
	}
	if p.WeakerThan(hs.Params) {
		t.Fatal("a hash with the current parameters is weaker than them")
	}
	if !p.WeakerThan(Params{Memory: 128, Iterations: 1, Parallelism: 1}) {
		t.Fatal("less memory and the same iterations is not weaker")
	}
	if p.WeakerThan(Params{Memory: 32, Iterations: 2, Parallelism: 1}) {
		t.Fatal("a trade of memory for iterations counts as weaker")
	}
}

func TestCancelled(t *testing.T) {
	hs := NewHasher(Params{Memory: 64, Iterations: 1, Parallelism: 1}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := hs.New(ctx, "pw"); err != context.Canceled {
		t.Fatalf("New with a cancelled context: %v", err)
	}
}

// Stored password hashes come from Redis: parsing must never panic nor
// accept parameters that Check refuses.
func FuzzParse(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
	f.Add("$argon2id$v=19$m=0,t=0,p=0$$")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if h, err := Parse(s); err == nil && h.Check() != nil {
			t.Fatalf("Parse(%q) accepted parameters Check refuses: %+v", s, h.Params)
		}
	})
}
