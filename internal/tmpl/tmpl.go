// Package tmpl parses the prefix templates of namespaces and keys, such as
// "user:{user_id}" or "admin:{admin_id}:{region}", and renders them.
//
// A template is a non-empty run of segments separated by ':'. A segment is
// literal text or holds at most one placeholder "{name}" (names are shaped
// like Go identifiers), so that a rendered name maps back to one set of
// parameters. Literal text may not contain glob characters, braces,
// whitespace or control characters: such names could not be matched exactly
// by SCAN and would be hard to read in redis-cli.
package tmpl

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Template is a parsed prefix template. The zero value is not valid.
type Template struct {
	raw    string
	parts  []part
	params []string
}

// part is literal text (param == "") or a placeholder.
type part struct {
	lit   string
	param string
}

// Parse parses s. The error says what is wrong and where.
func Parse(s string) (Template, error) {
	if s == "" {
		return Template{}, errors.New("empty template")
	}
	t := Template{raw: s}
	seen := map[string]bool{}
	for i, seg := range strings.Split(s, ":") {
		if seg == "" {
			return Template{}, fmt.Errorf("template %q has an empty segment", s)
		}
		if i > 0 {
			t.lit(":")
		}
		if err := t.segment(seg, seen); err != nil {
			return Template{}, fmt.Errorf("template %q: %w", s, err)
		}
	}
	return t, nil
}

func (t *Template) segment(seg string, seen map[string]bool) error {
	open := strings.IndexByte(seg, '{')
	if open < 0 {
		if strings.IndexByte(seg, '}') >= 0 {
			return fmt.Errorf("unbalanced '}' in %q", seg)
		}
		return t.checkedLit(seg)
	}
	end := strings.IndexByte(seg[open:], '}')
	if end < 0 {
		return fmt.Errorf("unbalanced '{' in %q", seg)
	}
	end += open
	name, rest := seg[open+1:end], seg[end+1:]
	if strings.ContainsAny(rest, "{}") {
		if strings.IndexByte(rest, '{') < 0 {
			return fmt.Errorf("unbalanced '}' in %q", seg)
		}
		return fmt.Errorf("segment %q holds more than one placeholder; separate them with ':'", seg)
	}
	if err := checkName(name); err != nil {
		return err
	}
	if seen[name] {
		return fmt.Errorf("placeholder {%s} appears twice", name)
	}
	seen[name] = true
	if err := t.checkedLit(seg[:open]); err != nil {
		return err
	}
	t.parts = append(t.parts, part{param: name})
	t.params = append(t.params, name)
	return t.checkedLit(rest)
}

func (t *Template) checkedLit(s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return fmt.Errorf("literal %q is not valid UTF-8", s)
			}
		}
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`*?[]\{}`, r) ||
			unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("literal %q contains %q (glob characters, braces, whitespace and control characters are not allowed)", s, r)
		}
	}
	t.lit(s)
	return nil
}

// lit appends literal text, merging it into a preceding literal part.
func (t *Template) lit(s string) {
	if s == "" {
		return
	}
	if n := len(t.parts); n > 0 && t.parts[n-1].param == "" {
		t.parts[n-1].lit += s
		return
	}
	t.parts = append(t.parts, part{lit: s})
}

func checkName(name string) error {
	if name == "" {
		return errors.New("empty placeholder name {}")
	}
	for i, r := range name {
		letter := r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return fmt.Errorf("placeholder name {%s} must be a letter or '_' followed by letters, digits or '_'", name)
		}
	}
	return nil
}

// String returns the template as written.
func (t Template) String() string { return t.raw }

// Params returns the placeholder names in template order. The caller must
// not modify the result.
func (t Template) Params() []string { return t.params }

// Static reports whether the template has no placeholders.
func (t Template) Static() bool { return len(t.params) == 0 }

// Around returns the literal text before and after the placeholder of a
// template that has exactly one; ok is false for any other template.
func (t Template) Around() (before, after string, ok bool) {
	if len(t.params) != 1 {
		return "", "", false
	}
	for i, p := range t.parts {
		if p.param != "" {
			for _, q := range t.parts[:i] {
				before += q.lit
			}
			for _, q := range t.parts[i+1:] {
				after += q.lit
			}
		}
	}
	return before, after, true
}

// AppendFunc appends the template to buf, each placeholder's value
// appended by param, which receives the buffer and the placeholder's index. It stops at the
// first error param returns.
func (t Template) AppendFunc(buf []byte, param func(buf []byte, i int) ([]byte, error)) ([]byte, error) {
	i := 0
	for _, p := range t.parts {
		if p.param == "" {
			buf = append(buf, p.lit...)
			continue
		}
		var err error
		if buf, err = param(buf, i); err != nil {
			return buf, err
		}
		i++
	}
	return buf, nil
}

// Extract returns the values that rendered s from the template, in
// placeholder order, given that no value contains ':'. ok is false when s
// is not a rendering of the template.
func (t Template) Extract(s string) (values []string, ok bool) {
	for i, p := range t.parts {
		if p.param == "" {
			if !strings.HasPrefix(s, p.lit) {
				return nil, false
			}
			s = s[len(p.lit):]
			continue
		}
		// The value runs to the end of its segment, less the literal
		// that closes the segment.
		end := strings.IndexByte(s, ':')
		if end < 0 {
			end = len(s)
		}
		suffix := ""
		if i+1 < len(t.parts) {
			suffix, _, _ = strings.Cut(t.parts[i+1].lit, ":")
		}
		if end-len(suffix) <= 0 || !strings.HasSuffix(s[:end], suffix) {
			return nil, false
		}
		values = append(values, s[:end-len(suffix)])
		s = s[end-len(suffix):]
	}
	return values, s == ""
}

// Render returns the template rendered with values, one per placeholder in
// order. It panics if len(values) != len(t.Params()).
func (t Template) Render(values []string) string {
	if len(values) != len(t.params) {
		panic("tmpl: wrong number of values")
	}
	if t.Static() {
		return t.raw
	}
	b, _ := t.AppendFunc(nil, func(buf []byte, i int) ([]byte, error) { return append(buf, values[i]...), nil })
	return string(b)
}

// Pattern returns a SCAN/KEYS glob pattern that matches every rendering of
// the template: literal text is glob-escaped and each placeholder becomes '*'.
func (t Template) Pattern() string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.param != "" {
			b.WriteByte('*')
			continue
		}
		b.WriteString(EscapeGlob(p.lit))
	}
	return b.String()
}

// EscapeGlob escapes the characters that Redis glob-style patterns treat
// specially (* ? [ ] \), so that s matches only itself.
func EscapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// seg is one ':'-separated segment: literal text, or pre{param}suf.
type seg struct {
	pre, suf string
	param    bool
}

func (t Template) segs() []seg {
	var out []seg
	for _, s := range strings.Split(t.raw, ":") {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			out = append(out, seg{pre: s})
			continue
		}
		out = append(out, seg{pre: s[:open], suf: s[strings.IndexByte(s, '}')+1:], param: true})
	}
	return out
}

func segMayMatch(a, b seg) bool {
	switch {
	case !a.param && !b.param:
		return a.pre == b.pre
	case a.param && !b.param:
		return len(b.pre) > len(a.pre)+len(a.suf) && strings.HasPrefix(b.pre, a.pre) && strings.HasSuffix(b.pre, a.suf)
	case !a.param && b.param:
		return segMayMatch(b, a)
	}
	return (strings.HasPrefix(a.pre, b.pre) || strings.HasPrefix(b.pre, a.pre)) &&
		(strings.HasSuffix(a.suf, b.suf) || strings.HasSuffix(b.suf, a.suf))
}

// Overlap reports whether some rendering of t and some rendering of o are
// the same name (same), or whether some rendering of o lies strictly below
// some rendering of t (under, t then being a namespace prefix).
func (t Template) Overlap(o Template) (same, under bool) {
	a, b := t.segs(), o.segs()
	n := min(len(a), len(b))
	for i := range n {
		if !segMayMatch(a[i], b[i]) {
			return false, false
		}
	}
	return len(a) == len(b), len(b) > len(a)
}

// MatchPattern reports whether name matches pattern, a key's pattern
// from a schema (see [Template.Pattern] joined by ':'): literal segments, or segments with one '*' standing for
// a parameter value. Parameter values are never empty and never contain
// ':', and template literals hold no glob characters, so matching segment
// by segment is exact.
func MatchPattern(pattern, name string) bool {
	for {
		pseg, prest, pmore := strings.Cut(pattern, ":")
		nseg, nrest, nmore := strings.Cut(name, ":")
		if pmore != nmore || !matchSegment(pseg, nseg) {
			return false
		}
		if !pmore {
			return true
		}
		pattern, name = prest, nrest
	}
}

func matchSegment(p, s string) bool {
	pre, suf, star := strings.Cut(p, "*")
	if !star {
		return p == s
	}
	return len(s) > len(pre)+len(suf) && strings.HasPrefix(s, pre) && strings.HasSuffix(s, suf)
}
