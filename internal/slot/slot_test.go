package slot

import "testing"

func TestOf(t *testing.T) {
	// Values from the Redis Cluster specification and CLUSTER KEYSLOT.
	tests := []struct {
		key  string
		want int
	}{
		{"123456789", 12739}, // the spec's CRC16 check value 0x31C3
		{"foo", 12182},
		{"bar", 5061},
		{"{user1000}.following", Of("user1000")},
		{"{user1000}.followers", Of("user1000")},
		{"foo{}{bar}", Of("foo{}{bar}")},
		{"foo{{bar}}zap", Of("{bar")},
		{"foo{bar}{zap}", Of("bar")},
		{"root:{user:42}:age", Of("user:42")},
		{"", 0},
	}
	for _, tt := range tests {
		if got := Of(tt.key); got != tt.want {
			t.Errorf("Of(%q) = %d, want %d", tt.key, got, tt.want)
		}
	}
}

func TestTag(t *testing.T) {
	tests := map[string]string{
		"plain":              "plain",
		"a{b}c":              "b",
		"a{}b{c}":            "a{}b{c}",
		"a{b":                "a{b",
		"root:{user:42}:x":   "user:42",
		"root:{user:42}:{z}": "user:42",
	}
	for key, want := range tests {
		if got := Tag(key); got != want {
			t.Errorf("Tag(%q) = %q, want %q", key, got, want)
		}
	}
}

func FuzzOf(f *testing.F) {
	for _, s := range []string{"", "{", "}", "{}", "a{b}c", "{{}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		s := Of(key)
		if s < 0 || s >= Count {
			t.Fatalf("Of(%q) = %d out of range", key, s)
		}
		if tag := Tag(key); tag != key && Of(tag) != s {
			t.Fatalf("Of(%q) = %d but its tag %q hashes to %d", key, s, tag, Of(tag))
		}
	})
}
