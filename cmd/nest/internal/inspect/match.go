package inspect

import (
	"strings"
	"unicode/utf8"

	"github.com/redisimnest/nest"
)

// Match is where a stored name falls in a schema.
type Match struct {
	Key    *Key       // the declared key (or instance index, KindIndex) the name is an instance of
	Prefix *Namespace // or the namespace whose instance's prefix key it is
	Under  bool       // the name is the root prefix or lies under it
}

// Match places name in the schema. A name whose parameter values the
// library would refuse (see [nest.CheckParam]) matches nothing, as the
// library's subtree walks skip it. ValidateParams rules of a namespace
// are not applied (a schema export cannot carry them).
func (m *Model) Match(name string) Match {
	r := m.Root
	if name == r.pattern {
		return Match{Prefix: r, Under: true}
	}
	if len(name) <= len(r.pattern) || name[len(r.pattern)] != ':' || !strings.HasPrefix(name, r.pattern) {
		return Match{}
	}
	k, ns := m.below(r, name[len(r.pattern)+1:])
	return Match{Key: k, Prefix: ns, Under: true}
}

// below finds rest (a name less an instance prefix of n and ':') among
// the keys and namespaces declared under n.
func (m *Model) below(n *Namespace, rest string) (*Key, *Namespace) {
	for _, k := range n.Indexes {
		if rest == k.own {
			return k, nil
		}
	}
	for _, k := range n.Keys {
		if k.param {
			if matchValid(k.own, rest, m.MaxParamLen) {
				return k, nil
			}
		} else if rest == k.own {
			return k, nil
		}
	}
	for _, c := range n.Children {
		head, tail, ok := cutSegments(rest, c.segs)
		if !ok || !matchValid(c.own, head, m.MaxParamLen) {
			continue
		}
		if tail == "" {
			return nil, c
		}
		if k, ns := m.below(c, tail); k != nil || ns != nil {
			return k, ns
		}
	}
	return nil, nil
}

// cutSegments splits s after its first n ':'-separated segments (as the
// library's subtree walk does): ok is false when s has fewer, or when a
// ':' after them ends s.
func cutSegments(s string, n int) (head, tail string, ok bool) {
	i := 0
	for k := range n {
		j := strings.IndexByte(s[i:], ':')
		switch {
		case j < 0 && k == n-1:
			return s, "", true
		case j < 0:
			return "", "", false
		case k == n-1:
			head, tail = s[:i+j], s[i+j+1:]
			return head, tail, tail != ""
		}
		i += j + 1
	}
	return "", "", false
}

// matchValid reports whether name renders pattern (literal segments, or
// segments with one '*' standing for a parameter value) with values the
// library accepts.
func matchValid(pattern, name string, max int) bool {
	for {
		pseg, prest, pmore := strings.Cut(pattern, ":")
		nseg, nrest, nmore := strings.Cut(name, ":")
		if pmore != nmore {
			return false
		}
		pre, suf, star := strings.Cut(pseg, "*")
		switch {
		case !star:
			if pseg != nseg {
				return false
			}
		case len(nseg) <= len(pre)+len(suf) || !strings.HasPrefix(nseg, pre) || !strings.HasSuffix(nseg, suf):
			return false
		case !validParam(nseg[len(pre):len(nseg)-len(suf)], max):
			return false
		}
		if !pmore {
			return true
		}
		pattern, name = prest, nrest
	}
}

// asciiSpecial marks the printable ASCII bytes the library refuses in
// parameter values.
var asciiSpecial = [utf8.RuneSelf]bool{':': true, '*': true, '?': true, '[': true, ']': true, '\\': true, '{': true, '}': true}

// validParam is nest.CheckParam(v) == nil, with a fast path for printable
// ASCII (the library's own fast path).
func validParam(v string, max int) bool {
	if len(v) == 0 || len(v) > max {
		return false
	}
	for i := 0; i < len(v); i++ {
		if b := v[i]; b >= utf8.RuneSelf || b <= ' ' || b == 0x7f || asciiSpecial[b] {
			return nest.CheckParam(v, max) == nil
		}
	}
	return true
}
