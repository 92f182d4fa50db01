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
// values (its [Namespace.Params] and [Namespace.Describe] show them). It
// walks the keyspace with one SCAN (per Redis Cluster master, or only the
// master of a pinned subtree) whose MATCH is the child's pattern, and
// parses each name back under the template:
// a name that does not parse ("root:user:abc:def" when no key "def" is
// declared), or whose values [Sub.At] would refuse (checkParam, the
// namespace's ValidateParams), is skipped, never taken for an instance;
// [WithSkipped] reports them. It remembers the instances it has yielded,
// so memory grows with their number (not with the number of keys).
// Iteration stops at the first error, yielded with a nil *U. It accepts
// the throttling options of [Namespace.Keys].
func (s Sub[U]) Instances(ctx context.Context, opts ...SubtreeOption) iter.Seq2[*U, error] {
	return func(yield func(*U, error) bool) {
		if s.h.plan == nil {
			yield(nil, ErrNotBound)
			return
		}
		parent, ch := s.h.parent, s.h.plan
		if parent.err != nil {
			yield(nil, parent.err)
			return
		}
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
		stopped := false
		err := w.scan(ctx, func(names []string) bool {
			for _, name := range names {
				head := parse(name)
				if _, dup := seen[head]; dup {
					continue
				}
				seen[head] = struct{}{}
				vals, _ := ch.tmpl.Extract(ch.unpin(head))
				args := make([]any, len(vals))
				for i, v := range vals {
					args[i] = v
				}
				if !yield(s.At(args...), nil) {
					stopped = true
					return false
				}
			}
			return true
		})
		if err != nil && !stopped {
			yield(nil, err)
		}
	}
}

// Instances enumerates the stored keys of the ParamKey under its bound
// namespace, each yielded once as the [Key] that [ParamKey.At] returns for
// its parameters (read them back with [Key.Params]). Like [Sub.Instances]
// it makes one SCAN walk with the key's pattern, skips names that do not
// parse under the template or whose values At would refuse (see
// [WithSkipped]), and remembers the names it has yielded.
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
		ns, kp := h.ns, h.p
		cut := len(ns.prefix) + 1
		parse := func(name string) []string {
			if !ns.under(name) {
				return nil
			}
			vals, ok := kp.tmpl.Extract(name[cut:])
			if !ok || !kp.validKeyValues(vals) {
				return nil
			}
			return vals
		}
		w := newWalk(ns, opts, shape{
			match:  ns.prefix + ":" + kp.tmpl.Pattern(),
			member: func(name string) bool { return parse(name) != nil },
		})
		seen := make(map[string]struct{})
		stopped := false
		err := w.scan(ctx, func(names []string) bool {
			for _, name := range names {
				if _, dup := seen[name]; dup {
					continue
				}
				seen[name] = struct{}{}
				vals := parse(name)
				args := make([]any, len(vals))
				for i, v := range vals {
					args[i] = v
				}
				if !yield(p.At(args...), nil) {
					stopped = true
					return false
				}
			}
			return true
		})
		if err != nil && !stopped {
			yield(Key[T]{value: value[T]{h}}, err)
		}
	}
}

// Params returns the values of the parameters that name the namespace,
// its own and its enclosing namespaces', by placeholder name, as they
// appear in its prefix: {"user_id": "1", "message_id": "7"} for
// root:user:1:message:7. It returns nil for a namespace without
// parameters or an unusable one (see [Namespace.Err]). The map is the
// caller's.
func (n Namespace) Params() map[string]string {
	if n.ns == nil || n.ns.err != nil {
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
	out := planParams(h.p.ns, h.ns.prefix)
	if h.p.tmpl.Static() || len(h.name) <= len(h.ns.prefix)+1 {
		return out
	}
	vals, ok := h.p.tmpl.Extract(h.name[len(h.ns.prefix)+1:])
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
