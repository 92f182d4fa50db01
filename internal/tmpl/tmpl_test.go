package tmpl

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/redisimnest/nest/internal/redistest"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		in      string
		params  []string
		values  []string
		render  string
		pattern string
	}{
		{"user", nil, nil, "user", "user"},
		{"app:tokens", nil, nil, "app:tokens", "app:tokens"},
		{"user:{user_id}", []string{"user_id"}, []string{"42"}, "user:42", "user:*"},
		{"admin:{admin_id}:{region}", []string{"admin_id", "region"}, []string{"5", "eu"}, "admin:5:eu", "admin:*:*"},
		{"{id}", []string{"id"}, []string{"x"}, "x", "*"},
		{"v{n}", []string{"n"}, []string{"2"}, "v2", "v*"},
		{"{n}th", []string{"n"}, []string{"4"}, "4th", "*th"},
		{"a{_b1}c:d", []string{"_b1"}, []string{"Z"}, "aZc:d", "a*c:d"},
		{"x.y-z_w@v+1/2", nil, nil, "x.y-z_w@v+1/2", "x.y-z_w@v+1/2"},
		{"{A}:{b}:{C9}", []string{"A", "b", "C9"}, []string{"1", "2", "3"}, "1:2:3", "*:*:*"},
		{"é:ü", nil, nil, "é:ü", "é:ü"}, // non-ASCII literals are fine
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			tp, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if tp.String() != tt.in {
				t.Errorf("String() = %q", tp.String())
			}
			if !slices.Equal(tp.Params(), tt.params) {
				t.Errorf("Params() = %q, want %q", tp.Params(), tt.params)
			}
			if tp.Static() != (len(tt.params) == 0) {
				t.Errorf("Static() = %v", tp.Static())
			}
			if got := tp.Render(tt.values); got != tt.render {
				t.Errorf("Render(%q) = %q, want %q", tt.values, got, tt.render)
			}
			if got, ok := tp.Extract(tt.render); !ok || !slices.Equal(got, tt.values) {
				t.Errorf("Extract(%q) = %q, %v; want %q", tt.render, got, ok, tt.values)
			}
			if got := tp.Pattern(); got != tt.pattern {
				t.Errorf("Pattern() = %q, want %q", got, tt.pattern)
			}
			if !scGlobMatch(tp.Pattern(), tp.Render(tt.values)) {
				t.Errorf("Pattern %q does not match Render %q", tp.Pattern(), tp.Render(tt.values))
			}
			if got := MustParse(tt.in); got.String() != tt.in {
				t.Errorf("MustParse = %q", got.String())
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty template"},
		{"user:{id", "unbalanced '{'"},
		{"user:id}", "unbalanced '}'"},
		{"user:}id{", "unbalanced"},
		{"{a}}", "unbalanced '}'"},
		{"{{a}", "placeholder name"},
		{"user:{}", "empty placeholder"},
		{"{a}:{a}", "appears twice"},
		{"{a}{b}", "more than one placeholder"},
		{"x{a}y{b}", "more than one placeholder"},
		{"a::b", "empty segment"},
		{":a", "empty segment"},
		{"a:", "empty segment"},
		{":", "empty segment"},
		{"a*", "'*'"},
		{"a?", "'?'"},
		{"a[b", "'['"},
		{"a]b", "']'"},
		{`a\b`, `'\\'`},
		{"a b", "' '"},
		{"a\tb", `'\t'`},
		{"a\nb", `'\n'`},
		{"a\x00b", `'\x00'`},
		{"a\x7fb", `'\x7f'`},
		{"{1a}", "placeholder name"},
		{"{a-b}", "placeholder name"},
		{"{a b}", "placeholder name"},
		{"{é}", "placeholder name"},
		{"é:{ü}x", "placeholder name"},
		{"{a.b}", "placeholder name"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			tp, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want an error", tt.in, tp.String())
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) error %q does not contain %q", tt.in, err, tt.want)
			}
			if tt.in != "" && !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.in)) {
				t.Errorf("Parse(%q) error %q does not quote the template", tt.in, err)
			}
			if !scPanics(func() { MustParse(tt.in) }) {
				t.Errorf("MustParse(%q) did not panic", tt.in)
			}
		})
	}
}

// The package doc promises that literal text holds no whitespace or control
// characters. Unicode whitespace, C1 controls, format characters and
// invalid UTF-8 are all of that kind and must be refused like the ASCII ones
// (parameter values already refuse them).
func TestParseRejectsNonASCIIWhitespaceAndControls(t *testing.T) {
	var accepted []string
	for _, in := range []string{"a\u00a0b", "a\u2028b", "a\u3000b", "a\u0085b", "a\u200bb", "a\ufeffb", "a\xffb"} {
		if _, err := Parse(in); err == nil {
			accepted = append(accepted, fmt.Sprintf("%q", in))
		}
	}
	if len(accepted) > 0 {
		t.Fatalf("Parse accepts literals with non-ASCII whitespace, control or format characters or invalid UTF-8: %s "+
			"(tmpl.go checkedLit only refuses r <= ' ' and 0x7f)", strings.Join(accepted, ", "))
	}
}

func TestRenderWrongCountPanics(t *testing.T) {
	tp := MustParse("a:{x}:{y}")
	for _, vals := range [][]string{nil, {"1"}, {"1", "2", "3"}} {
		if !scPanics(func() { tp.Render(vals) }) {
			t.Errorf("Render(%q) did not panic", vals)
		}
	}
	// A static template renders as itself, with or without an empty slice.
	st := MustParse("a:b")
	if st.Render(nil) != "a:b" || st.Render([]string{}) != "a:b" {
		t.Error("static Render")
	}
	if !scPanics(func() { st.Render([]string{"x"}) }) {
		t.Error("static Render with a value did not panic")
	}
}

func TestOverlap(t *testing.T) {
	for _, tc := range []struct {
		t, o        string
		same, under bool
	}{
		{"user:{a}", "user:{b}", true, false},
		{"{x}", "{y}", true, false},
		{"p{a}s:q", "p{b}s:q", true, false},
		{"{a}x", "x{a}", true, false}, // both render "xx"
		{"user", "user:{a}", false, true},
		{"a:{x}b", "a:{x}:b", false, true}, // a:1b and a:1b:b
		{"a:{x}:b", "a:{x}b", false, false},
		{"user:{a}", "users:{a}", false, false},
		{"app:tokens", "app", false, false},
		{"app", "app:tokens", false, true},
	} {
		same, under := MustParse(tc.t).Overlap(MustParse(tc.o))
		if same != tc.same || under != tc.under {
			t.Errorf("%q.Overlap(%q) = %v, %v; want %v, %v", tc.t, tc.o, same, under, tc.same, tc.under)
		}
	}
}

func TestEscapeGlob(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain:key", "plain:key"},
		{"*", `\*`},
		{"?", `\?`},
		{"[", `\[`},
		{"]", `\]`},
		{`\`, `\\`},
		{"a*b?c[d]e\\f", `a\*b\?c\[d\]e\\f`},
		{"^-!{}", "^-!{}"}, // not special outside a class
		{"日本*", `日本\*`},
	}
	for _, tt := range tests {
		if got := EscapeGlob(tt.in); got != tt.want {
			t.Errorf("EscapeGlob(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !scGlobMatch(EscapeGlob(tt.in), tt.in) {
			t.Errorf("EscapeGlob(%q) does not match itself", tt.in)
		}
	}
}

// TestGlobAgainstRedis checks, on a real server, that escaped names match
// exactly themselves and that template patterns match their renderings,
// which also validates the reference matcher the fuzz targets use.
func TestGlobAgainstRedis(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t, 0)
	ctx := context.Background()
	names := []string{
		"a*b", "a?b", "a[b]", `a\b`, "a]b", "a[", "[abc]", "*", "?", `\`, `\\*`, "a:b:*",
		"axb", "ab", "a", "aab", "a\\*b", "a[^b]", "a-b", "a{b}", "日本*語",
	}
	for _, n := range names {
		if err := rdb.Set(ctx, n, "1", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range names {
		got, err := rdb.Keys(ctx, EscapeGlob(n)).Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != n {
			t.Errorf("KEYS %q = %q, want exactly [%q]", EscapeGlob(n), got, n)
		}
		for _, m := range names {
			if want := m == n; scGlobMatch(EscapeGlob(n), m) != want {
				t.Errorf("reference matcher: %q vs %q = %v, want %v", EscapeGlob(n), m, !want, want)
			}
		}
	}
	// Raw patterns: the reference matcher agrees with Redis.
	for _, p := range []string{"a*", "a?b", "a[xa]b", "a[^x]b", "a[a-c]b", `a\*b`, "*b", "*", "a*b*", "[*]", "a[", `a\`} {
		got, err := rdb.Keys(ctx, p).Result()
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		var want []string
		for _, n := range names {
			if scGlobMatch(p, n) {
				want = append(want, n)
			}
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("KEYS %q = %q, reference matcher says %q", p, got, want)
		}
	}
	// Template patterns match renderings on the server.
	tp := MustParse("root:user:{id}:msg:{mid}")
	name := tp.Render([]string{"42", "7"})
	rdb.Set(ctx, name, "1", 0)
	if got := rdb.Keys(ctx, tp.Pattern()).Val(); !slices.Contains(got, name) {
		t.Errorf("KEYS %q = %q, want it to contain %q", tp.Pattern(), got, name)
	}
}

// scGlobMatch is a reference implementation of Redis's glob matching
// (stringmatchlen in util.c), byte by byte, case-sensitive.
func scGlobMatch(pattern, s string) bool {
	p := []byte(pattern)
	str := []byte(s)
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for i := 0; i <= len(str); i++ {
				if scGlobMatch(string(p[1:]), string(str[i:])) {
					return true
				}
			}
			return false
		case '?':
			if len(str) == 0 {
				return false
			}
			str = str[1:]
			p = p[1:]
		case '[':
			if len(str) == 0 {
				return false
			}
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			match := false
			for {
				if len(p) == 0 {
					break // unterminated class: Redis treats the end as ']'
				}
				if p[0] == '\\' && len(p) >= 2 {
					p = p[1:]
					if p[0] == str[0] {
						match = true
					}
				} else if p[0] == ']' {
					break
				} else if len(p) >= 3 && p[1] == '-' {
					lo, hi := p[0], p[2]
					if lo > hi {
						lo, hi = hi, lo
					}
					p = p[2:]
					if str[0] >= lo && str[0] <= hi {
						match = true
					}
				} else if p[0] == str[0] {
					match = true
				}
				p = p[1:]
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			str = str[1:]
			if len(p) > 0 {
				p = p[1:] // the ']'
			}
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if len(str) == 0 || p[0] != str[0] {
				return false
			}
			str = str[1:]
			p = p[1:]
		}
	}
	return len(str) == 0
}

func scPanics(f func()) (panicked bool) {
	defer func() { panicked = recover() != nil }()
	f()
	return false
}

// scUnescape undoes EscapeGlob; ok is false when pat has an unescaped
// special character or a dangling backslash.
func scUnescape(pat string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(pat); i++ {
		switch c := pat[i]; c {
		case '\\':
			if i+1 == len(pat) {
				return "", false
			}
			i++
			b.WriteByte(pat[i])
		case '*', '?', '[', ']':
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"user", "user:{user_id}", "admin:{admin_id}:{region}", "a{x}b:c", "{a}{b}", "{}", "a::b",
		"user:{id", "user:id}", "{a}:{a}", "a*b", "é", "\xff", "{a}:b:{c}:d{e}f", "::", "{", "}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tp, err := Parse(s) // never panics
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if tp.String() != s {
			t.Fatalf("String() = %q, want %q", tp.String(), s)
		}
		params := tp.Params()
		if strings.Count(s, "{") != len(params) || strings.Count(s, "}") != len(params) {
			t.Fatalf("%q: %d params %q, but %d '{'", s, len(params), params, strings.Count(s, "{"))
		}
		seen := map[string]bool{}
		for _, p := range params {
			if seen[p] || p == "" {
				t.Fatalf("%q: params %q not unique and non-empty", s, params)
			}
			seen[p] = true
		}
		vals := make([]string, len(params))
		for i := range vals {
			vals[i] = "x"
		}
		r := tp.Render(vals)
		if strings.ContainsAny(r, "{}*?[]\\") {
			t.Fatalf("Render(%q) = %q holds a brace or glob character", s, r)
		}
		for _, c := range []byte(r) {
			if c <= ' ' || c == 0x7f {
				t.Fatalf("Render(%q) = %q holds an ASCII space or control byte", s, r)
			}
		}
		if strings.Contains(":"+r+":", "::") {
			t.Fatalf("Render(%q) = %q has an empty segment", s, r)
		}
		if !scGlobMatch(tp.Pattern(), r) {
			t.Fatalf("Pattern %q does not match Render %q", tp.Pattern(), r)
		}
		// Different values give different names (a rendered name maps back
		// to one set of parameters) that the pattern still matches.
		vals2 := make([]string, len(params))
		for i := range vals2 {
			vals2[i] = fmt.Sprintf("v%d", i)
		}
		r2 := tp.Render(vals2)
		if len(params) > 0 && r2 == r {
			t.Fatalf("Render(%q) ignores the values", s)
		}
		if !scGlobMatch(tp.Pattern(), r2) {
			t.Fatalf("Pattern %q does not match Render %q", tp.Pattern(), r2)
		}
		if tp.Static() != (len(params) == 0) || (tp.Static() && r != s) {
			t.Fatalf("Static() = %v, Render = %q for %q", tp.Static(), r, s)
		}
		// A template always overlaps itself.
		if same, _ := tp.Overlap(tp); !same {
			t.Fatalf("%q does not overlap itself", s)
		}
		if tp2, err := Parse(tp.String()); err != nil || !slices.Equal(tp2.Params(), params) {
			t.Fatalf("re-parse of %q: %v", s, err)
		}
	})
}

func FuzzEscapeGlob(f *testing.F) {
	for _, s := range []string{"", "a", "*", "a*b?c[d]e\\f", `\\`, "[^a-z]", "日本", "\xff*", "**", "root:user:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := EscapeGlob(s)
		u, ok := scUnescape(e)
		if !ok {
			t.Fatalf("EscapeGlob(%q) = %q leaves a special character unescaped", s, e)
		}
		if u != s {
			t.Fatalf("unescape(EscapeGlob(%q)) = %q", s, u)
		}
		if !strings.ContainsAny(s, `*?[]\`) && e != s {
			t.Fatalf("EscapeGlob(%q) = %q changed a string without special characters", s, e)
		}
		if len(s) > 64 {
			return // keep the reference matcher cheap
		}
		if !scGlobMatch(e, s) {
			t.Fatalf("EscapeGlob(%q) = %q does not match the original", s, e)
		}
		// It matches nothing else: not a longer or shorter string, nor one
		// byte changed.
		if scGlobMatch(e, s+"x") || (s != "" && scGlobMatch(e, s[:len(s)-1])) {
			t.Fatalf("EscapeGlob(%q) = %q matches a different length", s, e)
		}
		for i := 0; i < len(s); i++ {
			b := []byte(s)
			b[i] ^= 0x01
			if scGlobMatch(e, string(b)) {
				t.Fatalf("EscapeGlob(%q) = %q matches %q", s, e, b)
			}
		}
		// As a subtree pattern it stays inside the subtree.
		if !scGlobMatch(e+":*", s+":k") || scGlobMatch(e+":*", s+"x:k") {
			t.Fatalf("subtree pattern of %q is not exact", s)
		}
	})
}

// Make sure the non-ASCII rule the fuzz target cannot check (see
// TestParseRejectsNonASCIIWhitespaceAndControls) is at least consistent
// with unicode for the ASCII range.
func TestASCIILiteralRule(t *testing.T) {
	for r := rune(0); r < utf8.RuneSelf; r++ {
		s := "a" + string(r) + "b"
		_, err := Parse(s)
		bad := unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`*?[]\{}:`, r)
		if r == ':' {
			continue // the separator: "a:b" is two segments
		}
		if bad != (err != nil) {
			t.Errorf("Parse(%q) err = %v, want error: %v", s, err, bad)
		}
	}
}

func TestAppendFuncExtract(t *testing.T) {
	tests := []struct {
		tmpl   string
		values []string
	}{
		{"user:{id}", []string{"42"}},
		{"admin:{id}:{region}", []string{"7", "eu-west"}},
		{"v{ver}x:k", []string{"1x2"}},
		{"{a}:mid:{b}suf", []string{"p", "qsuf"}},
		{"static", nil},
	}
	for _, tt := range tests {
		tp := MustParse(tt.tmpl)
		got, err := tp.AppendFunc([]byte("pre:"), func(buf []byte, i int) ([]byte, error) {
			return append(buf, tt.values[i]...), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := "pre:" + tp.Render(tt.values); string(got) != want {
			t.Fatalf("AppendFunc = %q, want %q", got, want)
		}
		vals, ok := tp.Extract(string(got[len("pre:"):]))
		if !ok || !slices.Equal(vals, tt.values) {
			t.Fatalf("Extract(%q) = %q, %v; want %q", got[4:], vals, ok, tt.values)
		}
	}
	for _, bad := range []string{"usr:1", "user:", "user:1:x"} {
		if vals, ok := MustParse("user:{id}").Extract(bad); ok {
			t.Errorf("Extract(%q) = %q, want not ok", bad, vals)
		}
	}
}

// FuzzExtract: for any template Parse accepts and any values free of ':'
// (as parameter validation guarantees), Extract(Render(values)) == values.
func FuzzExtract(f *testing.F) {
	f.Add("user:{id}", "42", "x")
	f.Add("v{ver}x:k{a}b", "1x2", "bb")
	f.Add("{a}:mid:{b}suf", "p", "qsuf")
	f.Fuzz(func(t *testing.T, template, v1, v2 string) {
		tp, err := Parse(template)
		if err != nil {
			return
		}
		clean := func(s string) string {
			s = strings.NewReplacer(":", "", "{", "", "}", "").Replace(s)
			if s == "" {
				s = "v"
			}
			return s
		}
		values := make([]string, len(tp.Params()))
		for i := range values {
			values[i] = clean([]string{v1, v2}[i%2])
		}
		got, ok := tp.Extract(tp.Render(values))
		if !ok || !slices.Equal(got, values) {
			t.Fatalf("Extract(Render(%q)) of %q = %q, %v", values, template, got, ok)
		}
	})
}

// MustParse is Parse for templates known to be valid; it panics otherwise.
func MustParse(s string) Template {
	t, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestMatchPattern(t *testing.T) {
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
		if got := MatchPattern(tc.pattern, tc.name); got != tc.want {
			t.Errorf("MatchPattern(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}
