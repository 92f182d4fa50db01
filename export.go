package nest

import "fmt"

// SchemaVersion is the version of the schema export format that [Export]
// writes. It changes only when a change would make an older reader
// misread a newer file: fields may be added without changing it (readers
// ignore unknown fields), while renaming or removing a field, or changing
// a field's meaning, increments it.
const SchemaVersion = 1

// Schema is the schema export: the stable, versioned JSON form of a
// schema, for tools such as the nest command (`nest tree --schema FILE`).
// Marshalled with encoding/json it reads
//
//	{"version": 1, "max_param_len": 256, "root": {...}}
//
// where root is the root namespace's [Description]. The format is stable
// within a Version: every field of Description and [KeyDescription] keeps
// its name and meaning. Build one with [Export].
type Schema struct {
	Version     int         `json:"version"`       // SchemaVersion when written
	MaxParamLen int         `json:"max_param_len"` // the schema's [Options.MaxParamLen], or the default
	Root        Description `json:"root"`
}

// Export returns the schema export of the namespace n and everything
// declared under it; n is normally the root (root.Namespace). It needs no
// Redis round trip:
//
//	data, err := json.MarshalIndent(nest.Export(root.Namespace), "", "  ")
func Export(n Namespace) Schema {
	s := Schema{Version: SchemaVersion, MaxParamLen: DefaultMaxParamLen, Root: n.Describe()}
	if n.ns.plan != nil {
		s.MaxParamLen = n.ns.plan.c.maxParam
	}
	return s
}

// CheckParam reports whether value, a formatted parameter value, is one
// that [Sub.At] and [ParamKey.At] accept, with maxLen as
// [Options.MaxParamLen] ([DefaultMaxParamLen] when zero or less). A
// refused value is a *[ParamError] matching [ErrInvalidParam] whose
// Reason says why, as At would say it; its Template, Field and Param are
// empty, for the caller to fill in. A namespace's own ValidateParams is
// not applied. Tools that build key names from a [Schema] export use it
// so that they refuse exactly what the library refuses.
func CheckParam(value string, maxLen int) error {
	if maxLen <= 0 {
		maxLen = DefaultMaxParamLen
	}
	if why := checkParam([]byte(value), maxLen); why != "" {
		return &ParamError{Value: quoteValue(value), Reason: why, Kind: ErrInvalidParam}
	}
	return nil
}

// Lookup returns the namespace instance declared under n whose full
// prefix is prefix, such as "root:user:42" (with the braces of pinned
// namespaces: "root:{user:42}"), bound as [Sub.At] would bind it: every
// parameter value parsed back from prefix is checked as At checks it,
// ValidateParams included, and a refused value is a *[ParamError]. A
// prefix that names no namespace declared under n (or a key rather than a
// namespace) is an error matching [ErrInvalidParam]. Lookup(n.Prefix())
// returns n. It lets tools reach a subtree from a name, for example to
// Clear it.
func (n Namespace) Lookup(prefix string) (Namespace, error) {
	if err := n.Err(); err != nil {
		return Namespace{}, err
	}
	in := &n.ns
	if prefix == in.prefix {
		return n, nil
	}
	if !in.under(prefix) {
		return Namespace{}, fmt.Errorf("%w: %q is not under %q", ErrInvalidParam, prefix, in.prefix)
	}
	p, at, own := in.plan, len(in.prefix)+1, in.own
	for at <= len(prefix) {
		ch, head, err := p.childOf(prefix[at:])
		if err != nil {
			return Namespace{}, err
		}
		if ch == nil {
			return Namespace{}, fmt.Errorf("%w: %q names no namespace declared under %s (%q)", ErrInvalidParam, prefix, p.path, p.tmpl.String())
		}
		p, own, at = ch, at, at+len(head)+1
	}
	return Namespace{ns: nsInst{plan: p, prefix: prefix, own: own}}, nil
}

// childOf returns the child namespace of p whose own segment starts rest,
// and that segment; ch is nil when none does. A segment that has the
// shape of a parameterised child's but holds a value At would refuse is
// that refusal.
func (p *nsPlan) childOf(rest string) (ch *nsPlan, head string, err error) {
	for _, c := range p.children {
		head, _, ok := cutSegments(rest, c.segments())
		if !ok {
			continue
		}
		if c.tmpl.Static() {
			if head == c.segment(c.tmpl.String()) {
				return c, head, nil
			}
			continue
		}
		if c.pinned && (len(head) < 2 || head[0] != '{' || head[len(head)-1] != '}') {
			continue
		}
		vals, ok := c.tmpl.Extract(c.unpin(head))
		if !ok {
			continue
		}
		args := make([]any, len(vals))
		for i, v := range vals {
			args[i] = v
		}
		b, err := appendRendered(nil, &c.tmpl, c.path, args, c.pinned, c.c.maxParam)
		if err != nil {
			return nil, "", err
		}
		if string(b[1:]) != head {
			continue
		}
		if c.validate != nil {
			if err := c.runValidate(head); err != nil {
				return nil, "", err
			}
		}
		return c, head, nil
	}
	return nil, "", nil
}
