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
	keyMark[T any]       struct{}
	paramKeyMark[T any]  struct{}
	secretMark[T any]    struct{}
	subMark[U any]       struct{}
	passwordMark         struct{}
	counterMark          struct{}
	floatCounterMark     struct{}
	hashMark[V any]      struct{}
	structMark[T any]    struct{}
	listMark[T any]      struct{}
	setMark[T any]       struct{}
	sortedSetMark[T any] struct{}
	lockMark             struct{}
)

var (
	keyHandleType = reflect.TypeFor[keyHandle]()
	subHandleType = reflect.TypeFor[subHandle]()
)

// isHandle reports whether t is one of this package's handle types whose
// state is h: a struct of this package with a zero-size marker and then a
// field holding h at offset 0, directly or through structs of this package
// that hold nothing else (Key[T] holds value[T], which holds keyHandle).
// It rejects pointers to handles, user structs that embed a handle, and
// anything else that merely has a handle's methods.
func isHandle(t, h reflect.Type) bool {
	return t.Kind() == reflect.Struct && t.PkgPath() == keyHandleType.PkgPath() &&
		t.NumField() == 2 && t.Field(0).Type.Size() == 0 &&
		t.Field(1).Offset == 0 && t.Size() == h.Size() && holds(t.Field(1).Type, h)
}

// holds reports whether t is h, or a struct of this package whose only
// field holds h.
func holds(t, h reflect.Type) bool {
	for t != h {
		if t.Kind() != reflect.Struct || t.PkgPath() != h.PkgPath() || t.NumField() != 1 || t.Size() != h.Size() {
			return false
		}
		t = t.Field(0).Type
	}
	return true
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
	prefix string // "root:user:42"
	own    int    // where the namespace's own segment starts in prefix
	err    error  // why the instance is unusable (bad parameters)
}

// subHandle is the state of a Sub: the child plan and the parent instance.
type subHandle struct {
	plan   *nsPlan
	parent *nsInst
}

// namesLen is how many bytes bind needs for the names of an instance
// whose prefix is n bytes long: the prefix, and prefix+tail for every
// plain child namespace and key.
func (l *layout) namesLen(n int) int {
	total := n
	for _, s := range l.nss[1:] {
		total += n + len(s.tail)
	}
	for _, s := range l.keys {
		total += n + len(s.tail)
	}
	return total
}

// bind fills the struct at base for the namespace instance named prefix,
// whose own segment starts at prefix[own:]. insts holds one nsInst per
// namespace slot (the caller allocates it, next to the struct when it
// can). The struct and insts must be zeroed: bind writes only the fields
// that are not zero, one at a time, which costs less than storing whole
// handles. The names are written to buf when it has room (an array
// allocated with the struct), else to a new buffer. When err is non-nil
// every handle carries it.
func (l *layout) bind(base unsafe.Pointer, insts []nsInst, prefix []byte, own int, err error, buf []byte) {
	if err != nil {
		l.bindErr(base, insts, err)
		return
	}
	// The prefix and every name in the struct (prefix+tail) share one
	// buffer; substrings are handed out in the order they were built.
	b := buf[:0]
	if n := l.namesLen(len(prefix)); cap(b) < n {
		b = make([]byte, 0, n)
	}
	b = append(b, prefix...)
	for _, s := range l.nss[1:] {
		b = append(append(b, prefix...), s.tail...)
	}
	for _, s := range l.keys {
		b = append(append(b, prefix...), s.tail...)
	}
	all := unsafe.String(unsafe.SliceData(b), len(b)) // b is never written again
	pos := len(prefix)
	for i, s := range l.nss {
		in := &insts[i]
		in.plan = s.plan
		if i == 0 {
			in.prefix, in.own = all[:pos], own
		} else {
			end := pos + len(prefix) + len(s.tail)
			in.prefix, pos = all[pos:end], end
		}
		(*Namespace)(unsafe.Add(base, s.off)).ns = in
	}
	for _, s := range l.keys {
		h := (*keyHandle)(unsafe.Add(base, s.off))
		end := pos + len(prefix) + len(s.tail)
		h.p, h.ns, h.name = s.plan, &insts[s.ns], all[pos:end]
		pos = end
	}
	for _, s := range l.pkeys {
		h := (*keyHandle)(unsafe.Add(base, s.off))
		h.p, h.ns = s.plan, &insts[s.ns]
	}
	for _, s := range l.subs {
		h := (*subHandle)(unsafe.Add(base, s.off))
		h.plan, h.parent = s.plan, &insts[s.ns]
	}
}

// bindErr is bind for an unusable instance: no names, and every
// namespace and key handle carries err.
func (l *layout) bindErr(base unsafe.Pointer, insts []nsInst, err error) {
	for i, s := range l.nss {
		in := &insts[i]
		in.plan, in.err = s.plan, err
		(*Namespace)(unsafe.Add(base, s.off)).ns = in
	}
	for _, ks := range [2][]keySlot{l.keys, l.pkeys} {
		for _, s := range ks {
			h := (*keyHandle)(unsafe.Add(base, s.off))
			h.p, h.ns, h.err = s.plan, &insts[s.ns], err
		}
	}
	for _, s := range l.subs {
		h := (*subHandle)(unsafe.Add(base, s.off))
		h.plan, h.parent = s.plan, &insts[s.ns]
	}
}

// bindRoot allocates the root struct R of a schema and binds it.
func bindRoot[R any](plan *nsPlan) *R {
	r := new(R)
	plan.layout.bind(unsafe.Pointer(r), make([]nsInst, len(plan.layout.nss)), []byte(plan.segment(plan.tmpl.String())), 0, nil, nil)
	return r
}

// bindSub allocates the struct U of a Sub's namespace and binds it to
// args, or, when err is not nil, makes every handle in it report err.
//
// A namespace without plain child namespaces whose names fit in 256 bytes
// costs one allocation: the struct of handles, the instance they share
// and the names, in one object of a size class (64, 128 or 256 bytes of
// names), so a handle built per call stays cheap.
func bindSub[U any](h subHandle, args []any, err error) *U {
	var scratch [128]byte // the prefix is rendered here, then copied once
	prefix, own, err, rejected := h.render(scratch[:0], args, err)
	lay := h.plan.layout
	var u *U
	switch n := lay.namesLen(len(prefix)); {
	case len(lay.nss) != 1 || err != nil:
		u = new(U)
		lay.bind(unsafe.Pointer(u), make([]nsInst, len(lay.nss)), prefix, own, err, nil)
	case n <= 64:
		p := new(inline[U, [64]byte])
		lay.bind(unsafe.Pointer(&p.u), p.in[:], prefix, own, err, p.buf[:])
		u = &p.u
	case n <= 128:
		p := new(inline[U, [128]byte])
		lay.bind(unsafe.Pointer(&p.u), p.in[:], prefix, own, err, p.buf[:])
		u = &p.u
	case n <= 256:
		p := new(inline[U, [256]byte])
		lay.bind(unsafe.Pointer(&p.u), p.in[:], prefix, own, err, p.buf[:])
		u = &p.u
	default:
		p := new(inline[U, [0]byte])
		lay.bind(unsafe.Pointer(&p.u), p.in[:], prefix, own, err, nil)
		u = &p.u
	}
	if rejected != nil {
		// Refused by ValidateParams: well-formed, so Describe can show the values.
		in := (*Namespace)(unsafe.Add(unsafe.Pointer(u), lay.nss[0].off)).ns
		in.prefix, in.own = string(prefix), own
	}
	return u
}

// inline is a Sub's namespace struct allocated with its one instance and
// a buffer B for its names.
type inline[U any, B any] struct {
	u   U
	in  [1]nsInst
	buf B
}

// render resolves args against the Sub's template into dst: the prefix,
// where its own segment starts, and the error that makes the instance
// unusable (rejected, too, when ValidateParams refused the values).
func (h subHandle) render(dst []byte, args []any, err error) (prefix []byte, own int, _, rejected error) {
	own = len(h.parent.prefix) + 1
	if err == nil {
		err = h.parent.err
	}
	if err == nil {
		dst, err = appendRendered(append(dst, h.parent.prefix...), &h.plan.tmpl, h.plan.path, args, h.plan.pinned, h.plan.c.maxParam)
	}
	if err == nil && h.plan.validate != nil {
		rejected = h.plan.runValidate(string(dst[own:]))
		err = rejected
	}
	return dst, own, err, rejected
}

// values returns the instance's own parameter values (nil when its
// template is static or it is unusable), read back from its prefix.
func (in *nsInst) values() []string {
	if in.prefix == "" || in.plan.tmpl.Static() {
		return nil
	}
	v, _ := in.plan.tmpl.Extract(in.plan.unpin(in.prefix[in.own:]))
	return v
}
