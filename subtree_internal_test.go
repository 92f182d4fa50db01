package nest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest/internal/tmpl"
)

func TestFingerprintsCount(t *testing.T) {
	var f fingerprints
	for i := range 100_000 {
		f.add(fmt.Sprint("k:", i))
		if i%3 == 0 {
			f.add(fmt.Sprint("k:", i)) // SCAN may return a name twice
		}
	}
	if got := f.count(); got != 100_000 {
		t.Fatalf("count = %d, want 100000", got)
	}
	if got := f.count(); got != 0 {
		t.Fatalf("count after release = %d, want 0", got)
	}
}

func TestCutSegments(t *testing.T) {
	for _, tc := range []struct {
		s          string
		n          int
		head, tail string
		ok         bool
	}{
		{"user:1", 2, "user:1", "", true},
		{"user:1:age", 2, "user:1", "age", true},
		{"user:1:", 2, "user:1", "", false},
		{"user", 2, "", "", false},
		{"a:b:c:d", 1, "a", "b:c:d", true},
		{"{user:1}:age", 2, "{user:1}", "age", true},
	} {
		head, tail, ok := cutSegments(tc.s, tc.n)
		if head != tc.head || tail != tc.tail || ok != tc.ok {
			t.Errorf("cutSegments(%q, %d) = %q, %q, %v; want %q, %q, %v", tc.s, tc.n, head, tail, ok, tc.head, tc.tail, tc.ok)
		}
	}
}

func TestCoveringPattern(t *testing.T) {
	for _, tc := range []struct {
		pats []string
		want string
	}{
		{[]string{"r:user:1:message:*"}, "r:user:1:message:*"},
		{[]string{"r:user:*", "r:admin:*:*"}, "r:*"},
		{[]string{"r:a:msg:*", "r:a:mail:*"}, "r:a:m*"},
		{[]string{"r:item:*x", "r:item:*y"}, "r:item:*"},
	} {
		if got := coveringPattern(tc.pats); got != tc.want {
			t.Errorf("coveringPattern(%q) = %q, want %q", tc.pats, got, tc.want)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pat, name string
		want      bool
	}{
		{"user:*", "user:1", true},
		{"user:*", "user:*", false},
		{"user:*", "user:", false},
		{"user:*", "user:1:x", false},
		{"{user:*}", "{user:1}", true},
		{"{user:*}", "{user:1}x", false},
		{"admin:*:*", "admin:5:eu", true},
		{"admin:*:*", "admin:5:e u", false},
		{"user:*", "user:é", true},
		{"user:*", "user:\uFF1A", false},
		{"user", "user", true},
		{"user", "user:1", false},
		{"user:age", "user", false},
		{"user:age", "user:age:x", false},
		{"item-*-v", "item-7-v", true},
		{"item-*-v", "item--v", false},
		{"item-*-v", "item-7:x-v", false},
		{"item-*-v", "item-7-w", false},
		{"*:ts", "7:ts", true},
		{"*:ts", ":ts", false},
		{"*:ts", "7:ts:", false},
	} {
		if got := compileGlob(tc.pat).match(tc.name, 256); got != tc.want {
			t.Errorf("compileGlob(%q).match(%q) = %v, want %v", tc.pat, tc.name, got, tc.want)
		}
	}
}

type filterTenant struct {
	Namespace `nest:"tenant:{tenant_id}"`
	Item      ParamKey[string] `nest:"item:{item_id}"`
}

type filterRoot struct {
	Namespace `nest:"st"`
	Tenant    Sub[filterTenant]
}

// BenchmarkSubtreeFilter is the client's work per name a Clear below a
// parameterised child scans (BenchmarkSubtreeClearParam): deciding from the
// schema that the name is in the subtree. No server is contacted.
func BenchmarkSubtreeFilter(b *testing.B) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	w := MustNew[filterRoot](rdb, nil).Tenant.At(1).ns.walk(nil)
	names := make([]string, 1000)
	for i := range names {
		names[i] = "st:tenant:1:item:" + strconv.Itoa(i)
	}
	buf := make([]string, len(names))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, names)
		if got := w.filter(buf); len(got) != len(names) {
			b.Fatalf("kept %d of %d names", len(got), len(names))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(names)), "ns/name")
}

// FuzzGlobMatch checks the compiled matcher against its definition: a
// name matches when it matches the pattern segment by segment
// (tmpl.MatchPattern) and every parameter value, the text a '*' stands
// for, is one checkParam accepts.
func FuzzGlobMatch(f *testing.F) {
	for _, seed := range [][2]string{
		{"user:*", "user:1"}, {"{user:*}", "{user:1}"}, {"item-*-v:*", "item-7-v:x"},
		{"admin:*:*", "admin:5:e u"}, {"a:b", "a:b:c"}, {"*:ts", ":ts"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		for _, seg := range strings.Split(pattern, ":") {
			if seg == "" || strings.Count(seg, "*") > 1 || strings.ContainsAny(seg, "?[]\\") {
				t.Skip("not a schema pattern")
			}
		}
		want := tmpl.MatchPattern(pattern, name)
		if want {
			psegs, nsegs := strings.Split(pattern, ":"), strings.Split(name, ":")
			for i, p := range psegs {
				if pre, suf, star := strings.Cut(p, "*"); star {
					if checkParam([]byte(nsegs[i][len(pre):len(nsegs[i])-len(suf)]), 16) != "" {
						want = false
					}
				}
			}
		}
		if got := compileGlob(pattern).match(name, 16); got != want {
			t.Fatalf("compileGlob(%q).match(%q) = %v, want %v", pattern, name, got, want)
		}
	})
}
