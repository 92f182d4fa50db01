package nest

import (
	"reflect"
	"time"

	"github.com/redisimnest/nest/internal/slot"
)

// Namespace is embedded in every struct that declares a namespace (what the
// original redisimnest calls a "cluster"; we avoid that word so that it is
// never mistaken for Redis Cluster). Its tag gives the prefix template and
// an optional TTL:
//
//	type User struct {
//		nest.Namespace `nest:"user:{user_id}" ttl:"120s"`
//		Age            nest.Key[int] `nest:"age" default:"0"`
//	}
//
// Through embedding, a bound namespace struct gets the methods below:
// Prefix, String, Err, Template, EffectiveTTL, Params, Describe, Lookup,
// Keys, Count, Clear, Reencrypt, Pipeline, TxPipeline and Watch. A
// Namespace is an immutable handle, safe to copy, to share between
// goroutines and to compare: usable namespaces bound to equal parameters
// compare equal with ==.
type Namespace struct {
	ns nsInst
}

// Prefix returns the namespace's full resolved prefix, such as
// "root:user:42", or "" if the handle is unusable (see [Namespace.Err]).
func (n Namespace) Prefix() string {
	if n.ns.plan == nil || n.ns.err != nil {
		return ""
	}
	return n.ns.prefix
}

// String returns the full prefix, so that namespaces print usefully
// (fmt.Println(root.User.At(42)) prints "root:user:42").
func (n Namespace) String() string { return n.Prefix() }

// Err reports why the handle cannot be used: a parameter error from
// [Sub.At] (matching [ErrInvalidParam] or [ErrMissingParam]), or
// [ErrNotBound] for a namespace not built by [New]. Every operation on
// such a handle returns the same error without contacting Redis.
func (n Namespace) Err() error {
	if n.ns.plan == nil {
		return ErrNotBound
	}
	return n.ns.err
}

// Template returns the namespace's own prefix template, e.g.
// "user:{user_id}".
func (n Namespace) Template() string {
	if n.ns.plan == nil {
		return ""
	}
	return n.ns.plan.tmpl.String()
}

// EffectiveTTL returns the TTL that keys of this namespace inherit: the
// namespace's own, else the nearest enclosing namespace's. ok is false when
// none applies (keys then do not expire unless they declare a TTL).
func (n Namespace) EffectiveTTL() (ttl time.Duration, ok bool) {
	if n.ns.plan == nil {
		return 0, false
	}
	return n.ns.plan.ttl.d, n.ns.plan.ttl.d > 0
}

// Sub declares a parameterised child namespace of type U (one whose prefix
// template has placeholders, such as "user:{user_id}"). Its namespace and
// keys are reachable only through [Sub.At] or [Sub.With], so forgetting the
// parameters does not compile.
//
//	type Root struct {
//		nest.Namespace `nest:"root"`
//		User           nest.Sub[User]
//	}
//	root.User.At(42).Age.Set(ctx, 30) // SET root:user:42:age 30 EX 120
type Sub[U any] struct {
	_ [0]subMark[U]
	h subHandle
}

func (Sub[U]) subType() reflect.Type { return reflect.TypeFor[U]() }

// With is the named form of [Sub.At]: With(nest.Params{"user_id": 42}).
func (s Sub[U]) With(params Params) *U {
	if s.h.plan == nil {
		return new(U)
	}
	err := s.h.parent.err // as in At, an unusable parent's error comes first
	var args []any
	if err == nil {
		args, err = orderParams(s.h.plan.tmpl.Params(), params, s.h.plan.tmpl.String(), s.h.plan.path)
	}
	if err != nil {
		return bindSubErr[U](s.h, err)
	}
	return s.At(args...)
}

// Template returns the child namespace's prefix template.
func (s Sub[U]) Template() string {
	if s.h.plan == nil {
		return ""
	}
	return s.h.plan.tmpl.String()
}

// Describe describes the child namespace with its parameters unbound.
func (s Sub[U]) Describe() Description {
	if s.h.plan == nil {
		return Description{}
	}
	tag := ""
	if s.h.parent.plan.pin != nil && s.h.parent.err == nil {
		tag = slot.Tag(s.h.parent.prefix)
	}
	return describeNamespace(s.h.plan, "", nil, s.h.parent.err, tag)
}
