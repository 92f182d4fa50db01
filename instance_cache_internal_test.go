package nest

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"unsafe"
)

// TestLookupArg checks that a lookup by parameter value compares the
// whole prefix, not only the hash: an instance under another parent, with
// another value, or of another length is not returned even when the
// hashes agree (they are 64 bits; a test cannot make them collide).
func TestLookupArg(t *testing.T) {
	in := namesOf("root:user:12:message:5")
	var s cacheSlot
	s.names.Store(in)
	s.hash.Store(42)
	for _, c := range []struct {
		hash           uint64
		parent, before string
		val            string
		want           bool
	}{
		{42, "root:user:12", ":message:", "5", true},
		{43, "root:user:12", ":message:", "5", false}, // another hash
		{42, "root:user:13", ":message:", "5", false}, // another parent, same length
		{42, "root:user:1", ":message:", "25", false}, // the parent's text runs on
		{42, "root:user:12", ":massage:", "5", false}, // another segment
		{42, "root:user:12", ":message:", "6", false}, // another value
		{42, "root:user:12", ":message:", "55", false},
		{42, "root:user:12", ":message:", "", false},
	} {
		got := s.lookupArg(c.hash, c.parent, c.before, []byte(c.val), "")
		if (got == in) != c.want || (got != nil && got != in) {
			t.Errorf("lookupArg(%d, %q, %q, %q) = %v, want found=%v", c.hash, c.parent, c.before, c.val, got, c.want)
		}
	}
	var empty cacheSlot
	if got := empty.lookupArg(0, "", ":", nil, ""); got != nil {
		t.Errorf("empty slot returned %v", got)
	}
}

// TestDecimal checks the digits the cache looks an integer up by against
// strconv's, which appendParam writes into the prefix: a difference would
// make every lookup of that value miss, or find another value's instance.
func TestDecimal(t *testing.T) {
	ints := []int64{0, 1, -1, 9, 10, -10, 99, 100, 255, 256, 1<<31 - 1, -1 << 31, 1<<53 + 1,
		math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		ints = append(ints, int64(r.Uint64()), int64(r.Uint64()>>r.IntN(64)))
	}
	var d [20]byte
	for _, x := range ints {
		if got, want := string(decimal(&d, x)), strconv.FormatInt(x, 10); got != want {
			t.Fatalf("decimal(%d) = %q, want %q", x, got, want)
		}
		u := uint64(x)
		if got, want := string(udecimal(&d, u, false)), strconv.FormatUint(u, 10); got != want {
			t.Fatalf("udecimal(%d) = %q, want %q", u, got, want)
		}
	}
	if got := string(udecimal(&d, math.MaxUint64, false)); got != "18446744073709551615" {
		t.Fatalf("udecimal(MaxUint64) = %q", got)
	}
}

// TestInstanceCacheTwoSlots checks the table's two slots per instance:
// an instance whose first slot is taken goes to its second, both are
// found, and a third instance for the same two slots replaces the older.
func TestInstanceCacheTwoSlots(t *testing.T) {
	c := &instCache{size: 8}
	ins := make([]*byte, 5)
	for i := range ins {
		ins[i] = namesOf("p" + strconv.Itoa(i))
	}
	// Slots (low half, high half): h[0] (0, 1), h[1] (0, 2), h[2] (1, 2), h[3] (2, 1).
	h := []uint64{1 << 32, 2 << 32, 2<<32 | 1, 1<<32 | 2}
	find := func(i int) bool { return c.lookup(h[i], []byte(prefix(ins[i]))) == ins[i] }
	c.store(h[0], ins[0])
	c.store(h[1], ins[1]) // slot 0 taken: slot 2
	if !find(0) || !find(1) {
		t.Fatalf("two instances sharing their first slot: found %v and %v, want both", find(0), find(1))
	}
	c.store(h[2], ins[2]) // slot 1 is empty
	if !find(0) || !find(1) || !find(2) {
		t.Fatalf("after a third: found %v %v %v, want all", find(0), find(1), find(2))
	}
	c.store(h[3], ins[3]) // slots 2 (ins[1], older) and 1 (ins[2]): replaces ins[1]
	if find(1) || !find(0) || !find(2) || !find(3) {
		t.Fatalf("after a fourth: found %v %v %v %v, want all but the second", find(0), find(1), find(2), find(3))
	}
	// A hash whose halves name one slot uses it alone.
	c.store(3<<32|3, ins[4])
	if c.lookup(3<<32|3, []byte("p4")) != ins[4] || !find(0) || !find(2) || !find(3) {
		t.Fatal("an instance with one slot displaced another")
	}
}

// namesOf returns the names of an instance named prefix with no keys, as
// the cache holds them: the header, then the prefix.
func namesOf(prefix string) *byte {
	n := len(prefix)
	b := append([]byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}, prefix...)
	return &b[0]
}

// TestInstanceCacheStandsAside binds far more ids than the table holds,
// each once: the cache stands aside and stops remembering them (only its
// samples and its short trials still store). Then a few ids come
// back, over and over: the cache notices and finds them again. It covers
// both ways At looks an instance up: by one value, and by the rendered
// prefix of two.
func TestInstanceCacheStandsAside(t *testing.T) {
	root := newAraIRoot(t, 64)
	for _, c := range []struct {
		name  string
		cache *instCache
		bind  func(i int) string
	}{
		{"one value", root.User.h.plan.cache, func(i int) string { return root.User.At(i).Age.Name() }},
		{"two values", root.Pair.h.plan.cache, func(i int) string { return root.Pair.At(i, "b").X.Name() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.cache == nil || c.cache.score.Load() != c.cache.ceiling {
				t.Fatal("a new cache is not trusted")
			}
			id := 0
			for range 100_000 {
				c.bind(id)
				id++
			}
			// Standing aside, the samples store (one call in 16), and so
			// does a trial every 16 000 calls or so, until about 1 000
			// calls have missed: some 2 300 stores in 20 000 calls.
			const n = 20_000
			before := c.cache.clock.Load()
			for range n {
				c.bind(id)
				id++
			}
			stores := c.cache.clock.Load() - before
			if stores > n/4 {
				t.Fatalf("standing aside, %d new ids stored %d instances, want about %d", n, stores, n*23/200)
			}
			t.Logf("standing aside, %d new ids stored %d instances", n, stores)
			last := make([]string, 8)
			for i := range 40_000 {
				last[i%8] = c.bind(i % 8)
			}
			if s := c.cache.score.Load(); s < 0 {
				t.Fatalf("after 40 000 binds of 8 ids, score %d: the cache did not come back", s)
			}
			hits := 0
			for i := range 1000 {
				name := c.bind(i % 8)
				if unsafe.StringData(name) == unsafe.StringData(last[i%8]) {
					hits++ // the same names: the instance was found
				}
				last[i%8] = name
			}
			if hits < 950 {
				t.Fatalf("%d of 1000 binds of 8 ids found their instance, want at least 950", hits)
			}
		})
	}
}
