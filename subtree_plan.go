package nest

import (
	"strings"
	"unicode/utf8"

	"github.com/redisimnest/nest/internal/tmpl"
)

// The shape of a subtree, read from the schema: the names it knows in full
// (fixed names, reached by EXISTS and UNLINK) and, below its parameterised
// descendants, the one SCAN pattern covering them and the parser that
// decides whether a scanned name is one of them.

// shape is what one Keys, Count or Clear walks.
type shape struct {
	fixed []string // names known in full, each once: the prefix key, static keys and static namespaces' prefix keys
	match string   // SCAN MATCH covering every parameterised descendant not found through an index; "" when there is none
	ixs   []ixRef  // the indexes listing the instances of indexed parameterised descendants (index_walk.go)
	// ixKeys names those indexes: Keys and Count include them, Clear
	// empties them member by member rather than deleting them.
	ixKeys []string
	// member reports whether a scanned name belongs to the subtree.
	member func(name string) bool
}

// shapeOf returns the shape of the namespace instance in. With undeclared,
// the subtree is the old one: the prefix key and every name under
// "prefix:", found by one SCAN.
func shapeOf(in *nsInst, undeclared bool) shape {
	if undeclared {
		return shape{
			fixed:  []string{in.prefix},
			match:  tmpl.EscapeGlob(in.prefix) + ":*",
			member: in.under,
		}
	}
	sh := shape{fixed: []string{in.prefix}}
	var pats []string
	sh.fixed = appendFixed(sh.fixed, in.plan, in.prefix, &pats, &sh.ixs)
	for _, ref := range sh.ixs {
		sh.ixKeys = append(sh.ixKeys, ref.key)
	}
	if len(pats) > 0 {
		sh.match = coveringPattern(pats)
		plan, n := in.plan, len(in.prefix)
		sh.member = func(name string) bool {
			return len(name) > n+1 && name[n] == ':' && strings.HasPrefix(name, in.prefix) && plan.below(name[n+1:], false)
		}
	}
	return sh
}

// under reports whether name lies strictly under the instance's prefix.
func (in *nsInst) under(name string) bool {
	return len(name) > len(in.prefix) && name[len(in.prefix)] == ':' && strings.HasPrefix(name, in.prefix)
}

// appendFixed appends to dst the fixed names declared in p, whose
// instance is named prefix, recursing into its plain child namespaces; to
// ixs the index of each indexed parameterised descendant; and to pats the
// SCAN pattern of each other parameterised descendant (a ParamKey's names,
// a Sub's instances with everything under them), and of an indexed Sub
// whose instances hold descendants only SCAN finds. Prefixes hold no glob
// characters (template literals and parameter values refuse them), so
// they need no escaping.
func appendFixed(dst []string, p *nsPlan, prefix string, pats *[]string, ixs *[]ixRef) []string {
	for _, k := range p.keys {
		switch {
		case k.index != nil:
			*ixs = append(*ixs, ixRef{key: prefix + ":" + k.index.name, parent: prefix, pk: k})
		case k.param:
			*pats = append(*pats, prefix+":"+k.tmpl.Pattern())
		default:
			dst = append(dst, prefix+":"+k.tmpl.String())
		}
	}
	for _, ch := range p.children {
		if ch.sub {
			if ch.index != nil {
				*ixs = append(*ixs, ixRef{key: prefix + ":" + ch.index.name, parent: prefix, sub: ch})
				if !ch.scanBelow {
					continue
				}
			}
			pat := prefix + ":" + ch.segment(ch.tmpl.Pattern())
			if !strings.HasSuffix(pat, "*") {
				pat += "*" // the keys under an instance follow its segment
			}
			*pats = append(*pats, pat)
			continue
		}
		cp := prefix + ":" + ch.segment(ch.tmpl.String())
		dst = append(dst, cp)
		dst = appendFixed(dst, ch, cp, pats, ixs)
	}
	return dst
}

// coveringPattern returns the narrowest single glob pattern matching every
// name the patterns match: the one pattern, or the longest common literal
// start of all followed by '*'. (SCAN walks the whole keyspace whatever its
// MATCH says, so one walk with a wider pattern, filtered here, beats one
// walk per pattern.)
func coveringPattern(pats []string) string {
	if len(pats) == 1 {
		return pats[0]
	}
	common := pats[0]
	if i := strings.IndexByte(common, '*'); i >= 0 {
		common = common[:i]
	}
	for _, p := range pats[1:] {
		n := 0
		for n < len(common) && n < len(p) && common[n] == p[n] {
			n++
		}
		common = common[:n]
	}
	return common + "*"
}

// segments returns how many ':'-separated segments a rendering of the
// namespace's own template spans.
func (p *nsPlan) segments() int { return len(p.own) }

// cutSegments splits s after its first n ':'-separated segments: head
// holds them, tail the rest ("" when s has exactly n segments). ok is false
// when s has fewer segments, or when a ':' after them ends s.
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

// ownPattern returns the glob pattern of the namespace's own segment
// (pinned braces included), a substring of its full pattern.
func (p *nsPlan) ownPattern() string {
	if p.parent == nil {
		return p.pattern
	}
	return p.pattern[len(p.parent.pattern)+1:]
}

// ownPattern returns the glob pattern of the key's name within its
// namespace.
func (k *keyPlan) ownPattern() string { return k.pattern[len(k.ns.pattern)+1:] }

// glob is a compiled own pattern (see ownPattern), one entry per
// ':'-separated segment, so that matching a scanned name costs no
// re-parsing of the pattern.
type glob []globSeg

// globSeg is a literal segment (pre), or a parameter value between the
// literal texts pre and suf.
type globSeg struct {
	pre, suf string
	param    bool
}

// compileGlob compiles a pattern of literal segments and segments holding
// one '*' (see tmpl.MatchPattern).
func compileGlob(pattern string) glob {
	segs := strings.Split(pattern, ":")
	g := make(glob, len(segs))
	for i, s := range segs {
		pre, suf, star := strings.Cut(s, "*")
		g[i] = globSeg{pre: pre, suf: suf, param: star}
	}
	return g
}

// match reports whether name is a rendering of the pattern whose
// parameter values checkParam accepts (at most max bytes each), without
// allocating. The last segment needs no search for a ':': a literal holds
// none, and validParam refuses one in a value.
func (g glob) match(name string, max int) bool {
	last := len(g) - 1
	for i := range g {
		s := &g[i]
		seg := name
		if i < last {
			j := strings.IndexByte(name, ':')
			if j < 0 {
				return false
			}
			seg, name = name[:j], name[j+1:]
		}
		switch {
		case !s.param:
			if seg != s.pre {
				return false
			}
		case len(seg) <= len(s.pre)+len(s.suf) || seg[:len(s.pre)] != s.pre || seg[len(seg)-len(s.suf):] != s.suf:
			return false
		case !validParam(seg[len(s.pre):len(seg)-len(s.suf)], max):
			return false
		}
	}
	return true
}

// validParam is checkParam(v) == "" with a fast path for printable ASCII.
func validParam(v string, max int) bool {
	if len(v) == 0 || len(v) > max {
		return false
	}
	for i := 0; i < len(v); i++ {
		if b := v[i]; b >= utf8.RuneSelf || b <= ' ' || b == 0x7f || asciiSpecial[b] {
			return checkParam([]byte(v), max) == ""
		}
	}
	return true
}

// instanceSegment parses head, a rendering of the child namespace ch's own
// segment; ok is false when head is not one, or when a value would be
// refused by [Sub.At] (see validValues). vals holds the parameter values
// when the namespace has a ValidateParams (which needs them), else nil.
func (ch *nsPlan) instanceSegment(head string) (vals []string, ok bool) {
	if !ch.own.match(head, ch.c.maxParam) {
		return nil, false
	}
	if ch.validate == nil {
		return nil, true // the common case, without allocating
	}
	vals, ok = ch.tmpl.Extract(ch.unpin(head))
	if !ok || !ch.validValues(vals) {
		return nil, false
	}
	return vals, true
}

// validValues reports whether values parsed back from a stored name pass
// the checks [Sub.At] and [ParamKey.At] apply: checkParam, and the
// namespace's ValidateParams when p is a namespace that has one.
func (p *nsPlan) validValues(vals []string) bool {
	for _, v := range vals {
		if checkParam([]byte(v), p.c.maxParam) != "" {
			return false
		}
	}
	if p.validate != nil {
		m := make(map[string]string, len(vals))
		for i, name := range p.tmpl.Params() {
			m[name] = vals[i]
		}
		if p.validate(m) != nil {
			return false
		}
	}
	return true
}

// validKeyValues is validValues for a ParamKey's values.
func (k *keyPlan) validKeyValues(vals []string) bool {
	for _, v := range vals {
		if checkParam([]byte(v), k.c.maxParam) != "" {
			return false
		}
	}
	return true
}

// below reports whether rest, a name less the prefix of an instance of p
// and the ':' after it, is declared below a parameterised descendant of p:
// a ParamKey's name, a Sub instance's prefix key, or any key or prefix key
// declared inside such an instance. crossed says a parameterised
// namespace lies on the way already, so that static names count too.
func (p *nsPlan) below(rest string, crossed bool) bool {
	for _, k := range p.keys {
		if k.param {
			if k.own.match(rest, k.c.maxParam) || crossed && k.index != nil && rest == k.index.name {
				return true
			}
		} else if crossed && rest == k.tmpl.String() {
			return true
		}
	}
	for _, ch := range p.children {
		if crossed && ch.index != nil && rest == ch.index.name {
			return true // the index of an instance's Sub
		}
		head, tail, ok := cutSegments(rest, ch.segments())
		if !ok {
			continue
		}
		if _, ok := ch.instanceSegment(head); !ok {
			continue
		}
		inside := crossed || ch.sub
		if tail == "" {
			if inside {
				return true
			}
			continue
		}
		if ch.below(tail, inside) {
			return true
		}
	}
	return false
}
