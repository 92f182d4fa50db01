package nest

import (
	"context"
	"iter"
	"strings"
)

// Instances enumerates the instances of the child namespace under its
// bound parent: every parameter tuple for which a key of the instance is
// stored (its prefix key, or a key declared in it or below it), each
// yielded once as a bound *U, as [Sub.At] would return it with those
// values (its [Namespace.Params] and [Namespace.Describe] show them).
//
// Without an index it walks the keyspace with one SCAN (per Redis Cluster
// master, or only the master of a pinned subtree) whose MATCH is the
// child's pattern, and parses each name back under the template: a name
// that does not parse ("root:user:abc:def" when no key "def" is declared),
// or whose values [Sub.At] would refuse (the parameter rules, the
// namespace's ValidateParams), is skipped, never taken for an instance;
// [WithSkipped] reports them. It remembers the instances it has yielded,
// so memory grows with their number (not with the number of keys).
//
// With an index (`index:"set"`, see index.go) it reads the index with
// SSCAN instead, and checks each member's keys by name: members without
// keys are skipped and removed from the index (see the consistency model).
//
// Iteration stops at the first error, yielded with a nil *U. It accepts
// the throttling options of [Namespace.Keys].
func (s Sub[U]) Instances(ctx context.Context, opts ...SubtreeOption) iter.Seq2[*U, error] {
	return func(yield func(*U, error) bool) {
		if s.h.plan == nil {
			yield(nil, ErrNotBound)
			return
		}
		if err := s.h.parent.err; err != nil {
			yield(nil, err)
			return
		}
		at := func(head string) bool {
			vals, _ := s.h.plan.tmpl.Extract(s.h.plan.unpin(head))
			return yield(s.At(strAny(vals)...), nil)
		}
		var err error
		if s.h.plan.index != nil {
			err = s.h.indexRef().instances(ctx, &s.h.parent, opts, at)
		} else {
			err = s.h.scanInstances(ctx, opts, at)
		}
		if err != nil {
			yield(nil, err)
		}
	}
}

// strAny converts parameter values for At.
func strAny(vals []string) []any {
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return args
}

// indexRef returns the index of an indexed Sub under its parent.
func (s subHandle) indexRef() ixRef {
	return ixRef{key: s.parent.prefix + ":" + s.plan.index.name, parent: s.parent.prefix, sub: s.plan}
}

// scanInstances calls fn with the own segment of each instance SCAN finds,
// once each, until fn returns false.
func (s subHandle) scanInstances(ctx context.Context, opts []SubtreeOption, fn func(head string) bool) error {
	parent, ch := &s.parent, s.plan
	match := parent.prefix + ":" + ch.segment(ch.tmpl.Pattern())
	if !strings.HasSuffix(match, "*") {
		match += "*"
	}
	cut := len(parent.prefix) + 1
	// parse returns the instance's own segment of name, or "".
	parse := func(name string) string {
		if !parent.under(name) {
			return ""
		}
		head, tail, ok := cutSegments(name[cut:], ch.segments())
		if !ok {
			return ""
		}
		if _, ok := ch.instanceSegment(head); !ok || tail != "" && !ch.below(tail, true) {
			return ""
		}
		return head
	}
	w := newWalk(parent, opts, shape{match: match, member: func(name string) bool { return parse(name) != "" }})
	seen := make(map[string]struct{})
	return w.scan(ctx, func(names []string) bool {
		for _, name := range names {
			head := parse(name)
			if _, dup := seen[head]; dup {
				continue
			}
			seen[head] = struct{}{}
			if !fn(head) {
				return false
			}
		}
		return true
	})
}

// Instances enumerates the stored keys of the ParamKey under its bound
// namespace, each yielded once as the [Key] that [ParamKey.At] returns for
// its parameters (read them back with [Key.Params]). Like [Sub.Instances]
// it makes one SCAN walk with the key's pattern, skips names that do not
// parse under the template or whose values At would refuse (see
// [WithSkipped]), and remembers the names it has yielded; with an index
// it reads the index instead and checks each key's existence.
func (p ParamKey[T]) Instances(ctx context.Context, opts ...SubtreeOption) iter.Seq2[Key[T], error] {
	return func(yield func(Key[T], error) bool) {
		h := p.h
		switch {
		case h.p == nil:
			yield(Key[T]{value: value[T]{h}}, ErrNotBound)
			return
		case h.err != nil:
			yield(Key[T]{value: value[T]{h}}, h.err)
			return
		}
		at := func(own string) bool {
			vals, _ := h.p.tmpl.Extract(own)
			return yield(p.At(strAny(vals)...), nil)
		}
		var err error
		if h.p.index != nil {
			in := h.inst()
			err = h.indexRef().instances(ctx, &in, opts, at)
		} else {
			err = h.scanKeys(ctx, opts, at)
		}
		if err != nil {
			yield(Key[T]{value: value[T]{h}}, err)
		}
	}
}

// indexRef returns the index of an indexed ParamKey in its namespace.
func (h *keyHandle) indexRef() ixRef {
	ns := h.prefix()
	return ixRef{key: ns + ":" + h.p.index.name, parent: ns, pk: h.p}
}

// scanKeys calls fn with the own name of each key of the ParamKey SCAN
// finds, once each, until fn returns false.
func (h *keyHandle) scanKeys(ctx context.Context, opts []SubtreeOption, fn func(own string) bool) error {
	in, kp := h.inst(), h.p
	ns := &in
	cut := len(ns.prefix) + 1
	parse := func(name string) bool {
		if !ns.under(name) {
			return false
		}
		vals, ok := kp.tmpl.Extract(name[cut:])
		return ok && kp.validKeyValues(vals)
	}
	w := newWalk(ns, opts, shape{match: ns.prefix + ":" + kp.tmpl.Pattern(), member: parse})
	seen := make(map[string]struct{})
	return w.scan(ctx, func(names []string) bool {
		for _, name := range names {
			if _, dup := seen[name]; dup {
				continue
			}
			seen[name] = struct{}{}
			if !fn(name[cut:]) {
				return false
			}
		}
		return true
	})
}

// Params returns the values of the parameters that name the namespace,
// its own and its enclosing namespaces', by placeholder name, as they
// appear in its prefix: {"user_id": "1", "message_id": "7"} for
// root:user:1:message:7. It returns nil for a namespace without
// parameters or an unusable one (see [Namespace.Err]). The map is the
// caller's.
func (n Namespace) Params() map[string]string {
	if n.ns.plan == nil || n.ns.err != nil {
		return nil
	}
	return planParams(n.ns.plan, n.ns.prefix)
}

// planParams reads the parameters of every namespace from the root down
// to p out of name, which starts with a prefix of p.
func planParams(p *nsPlan, name string) map[string]string {
	var chain []*nsPlan
	for a := p; a != nil; a = a.parent {
		chain = append(chain, a)
	}
	var out map[string]string
	rest := name
	for i := len(chain) - 1; i >= 0; i-- {
		a := chain[i]
		head, tail, _ := cutSegments(rest, a.segments())
		rest = tail
		if a.tmpl.Static() {
			continue
		}
		vals, ok := a.tmpl.Extract(a.unpin(head))
		if !ok {
			return nil
		}
		if out == nil {
			out = make(map[string]string)
		}
		for j, pn := range a.tmpl.Params() {
			out[pn] = vals[j]
		}
	}
	return out
}

// Params returns the values of the key's parameters and of its
// namespaces' by placeholder name, read from its name: {"user_id": "1",
// "name": "theme"} for root:user:1:setting:theme. It returns nil for a key
// without parameters or an unusable one.
func (k Key[T]) Params() map[string]string {
	h := &k.keyHandle
	if h.p == nil || h.err != nil || h.name == "" {
		return nil
	}
	ns := h.prefix()
	out := planParams(h.p.ns, ns)
	if h.p.tmpl.Static() || len(h.name) <= len(ns)+1 {
		return out
	}
	vals, ok := h.p.tmpl.Extract(h.name[len(ns)+1:])
	if !ok {
		return out
	}
	if out == nil {
		out = make(map[string]string)
	}
	for j, pn := range h.p.tmpl.Params() {
		out[pn] = vals[j]
	}
	return out
}
