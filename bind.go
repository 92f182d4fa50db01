package nest

import (
	"reflect"
	"unsafe"
)

// Binding turns a compiled plan into handles: it fills a freshly allocated
// struct of the user's namespace type with Namespace, Key, ParamKey and Sub
// values. The plan records each handle field's byte offset, found by
// reflection once in New; binding then writes the handles through those
// offsets, so reaching root.User.At(42).Age costs a few small allocations
// and no reflection.
//
// The writes are sound because every handle type is a struct holding a
// zero-size marker and then one of the non-generic types below at offset 0
// (Key[T] is struct{ _ [0]keyMark[T]; h keyHandle } for every T), and New
// checks that a field's type is exactly such a handle type (isHandle)
// before recording its offset. The markers differ per handle kind and type
// parameter, so Go refuses conversions between handle types (Sub[A] to
// Sub[B], Secret[T] to Key[T]) that would bypass New's checks.

// Zero-size markers, one per handle kind.
type (
	keyMark[T any]      struct{}
	paramKeyMark[T any] struct{}
	secretMark[T any]   struct{}
	subMark[U any]      struct{}
	passwordMark        struct{}
)

var (
	keyHandleType = reflect.TypeFor[keyHandle]()
	subHandleType = reflect.TypeFor[subHandle]()
)

// isHandle reports whether t is one of this package's handle types whose
// state is h: a struct of this package with a zero-size marker and a field
// of type h at offset 0. It rejects pointers to handles, user structs that
// embed a handle, and anything else that merely has a handle's methods.
func isHandle(t, h reflect.Type) bool {
	return t.Kind() == reflect.Struct && t.PkgPath() == keyHandleType.PkgPath() &&
		t.NumField() == 2 && t.Field(0).Type.Size() == 0 &&
		t.Field(1).Type == h && t.Field(1).Offset == 0 && t.Size() == h.Size()
}

// layout is where the handle fields of one namespace struct type live. Slot
// 0 of nss is the struct's own embedded Namespace; plain child namespaces
// (inline structs) follow.
type layout struct {
	nss   []nsSlot
	keys  []keySlot // Key fields: names precomputed at bind time
	pkeys []keySlot // ParamKey fields: names computed by At
	subs  []subSlot
}

type nsSlot struct {
	off  uintptr
	plan *nsPlan
	tail string // prefix after slot 0's prefix (":messages"); "" for slot 0
}

type keySlot struct {
	off  uintptr
	plan *keyPlan
	ns   int    // index of the enclosing namespace in nss
	tail string // full name after slot 0's prefix (":messages:count")
}

type subSlot struct {
	off  uintptr
	plan *nsPlan
	ns   int
}

// nsInst is one resolved namespace: a plan plus its concrete prefix.
type nsInst struct {
	plan   *nsPlan
	prefix string   // "root:user:42"
	vals   []string // values of plan.tmpl's parameters (nil when static)
	err    error    // why the instance is unusable (bad parameters)
}

// keyHandle is the state of a Key or ParamKey: the plan, its namespace
// instance and, for Key, the full name. err is the namespace's error or
// the key's own parameter error.
type keyHandle struct {
	p    *keyPlan
	ns   *nsInst
	name string
	err  error
}

// subHandle is the state of a Sub: the child plan and the parent instance.
type subHandle struct {
	plan   *nsPlan
	parent *nsInst
}

// bind fills the struct at base for the namespace instance with the given
// prefix and parameter values. When err is non-nil every handle carries it.
func (l *layout) bind(base unsafe.Pointer, prefix string, vals []string, err error) {
	insts := make([]nsInst, len(l.nss))
	// All names in the struct are prefix+tail: build them into one
	// allocation, then hand out substrings in the same order.
	var all string
	if err == nil {
		n := 0
		for _, s := range l.nss[1:] {
			n += len(prefix) + len(s.tail)
		}
		for _, s := range l.keys {
			n += len(prefix) + len(s.tail)
		}
		if n > 0 {
			b := make([]byte, 0, n)
			for _, s := range l.nss[1:] {
				b = append(append(b, prefix...), s.tail...)
			}
			for _, s := range l.keys {
				b = append(append(b, prefix...), s.tail...)
			}
			all = unsafe.String(unsafe.SliceData(b), len(b)) // b is never written again
		}
	}
	pos := 0
	name := func(tail string) string {
		if err != nil {
			return ""
		}
		end := pos + len(prefix) + len(tail)
		s := all[pos:end]
		pos = end
		return s
	}
	for i, s := range l.nss {
		in := &insts[i]
		in.plan, in.err = s.plan, err
		if i == 0 {
			in.prefix, in.vals = prefix, vals
		} else {
			in.prefix = name(s.tail)
		}
		*(*Namespace)(unsafe.Add(base, s.off)) = Namespace{ns: in}
	}
	for _, s := range l.keys {
		*(*keyHandle)(unsafe.Add(base, s.off)) = keyHandle{p: s.plan, ns: &insts[s.ns], name: name(s.tail), err: err}
	}
	for _, s := range l.pkeys {
		*(*keyHandle)(unsafe.Add(base, s.off)) = keyHandle{p: s.plan, ns: &insts[s.ns], err: err}
	}
	for _, s := range l.subs {
		*(*subHandle)(unsafe.Add(base, s.off)) = subHandle{plan: s.plan, parent: &insts[s.ns]}
	}
}

// bindSub resolves args against the Sub's template and binds base.
func (h subHandle) bind(base unsafe.Pointer, args []any) {
	if h.plan == nil {
		return // a zero Sub: every handle stays unbound
	}
	prefix, vals, err := "", []string(nil), h.parent.err
	if err == nil {
		prefix, vals, err = renderParams(h.parent.prefix, &h.plan.tmpl, h.plan.path, args, h.plan.pinned)
	}
	if err == nil && h.plan.validate != nil {
		err = h.plan.runValidate(vals)
	}
	h.plan.layout.bind(base, prefix, vals, err)
}
