package nest

import "testing"

// TestLookupArg checks that a lookup by parameter value compares the
// whole prefix, not only the hash: an instance under another parent, with
// another value, or of another length is not returned even when the
// hashes agree (they are 64 bits; a test cannot make them collide).
func TestLookupArg(t *testing.T) {
	in := &nsInst{prefix: "root:user:12:message:5"}
	var s cacheSlot
	s.in.Store(in)
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
