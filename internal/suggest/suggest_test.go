package suggest

import "testing"

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "ttl", 3},
		{"ttl", "", 3},
		{"ttl", "ttl", 0},
		{"tll", "ttl", 1},         // adjacent swap
		{"defualt", "default", 1}, // adjacent swap
		{"userid", "user_id", 1},  // insertion
		{"user_id", "userid", 1},  // deletion
		{"codex", "codec", 1},     // substitution
		{"ca", "abc", 3},          // OSA: no edits of a swapped pair
		{"json", "nest", 4},
		{"héllo", "hello", 1}, // runes, not bytes
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	tags := []string{"nest", "ttl", "default", "codec"}
	tests := []struct {
		word       string
		candidates []string
		want       string
	}{
		{"tll", tags, "ttl"},
		{"TTL", tags, "ttl"},
		{"tl", tags, "ttl"},
		{"defualt", tags, "default"},
		{"deflt", tags, "default"},
		{"codex", tags, "codec"},
		{"nets", tags, "nest"},
		{"json", tags, ""},
		{"expire", tags, ""},
		{"time", tags, ""},
		{"x", tags, ""},
		{"userid", []string{"user_id"}, "user_id"},
		{"userId", []string{"user_id"}, "user_id"},
		{"user", []string{"user_id"}, ""},
		{"zone", []string{"admin_id", "region"}, ""},
		{"regoin", []string{"admin_id", "region"}, "region"},
		{"ab", []string{"ac", "ab2"}, "ac"}, // a tie goes to the earlier candidate
		{"abc", nil, ""},
	}
	for _, tt := range tests {
		if got := Closest(tt.word, tt.candidates); got != tt.want {
			t.Errorf("Closest(%q, %q) = %q, want %q", tt.word, tt.candidates, got, tt.want)
		}
	}
}
