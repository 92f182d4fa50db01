package nest

import (
	"fmt"
	"hash/maphash"
	"reflect"
	"strings"
	"unsafe"
)

// Binding turns a compiled plan into handles: it fills a freshly allocated
// struct of the user's namespace type with Namespace, Key, ParamKey and Sub
// values. The plan records each handle field's byte offset, found by
// reflection once in New; binding then writes the handles through those
// offsets, so reaching root.User.At(42).Age costs one allocation without
// pointers (the instance's names), none when the instance cache holds it,
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
	// An instance's names take the header, then copies×len(prefix)+tails
	// bytes (namesLen); set by finish once every slot is known.
	copies, tails int
}

// finish computes what namesLen needs, once the layout is complete.
func (l *layout) finish() {
	l.copies, l.tails = len(l.nss)+len(l.keys), 0
	for _, s := range l.nss[1:] {
		l.tails += len(s.tail)
	}
	for _, s := range l.keys {
		l.tails += len(s.tail)
	}
}

type nsSlot struct {
	off  uintptr
	plan *nsPlan
	tail string // prefix after slot 0's prefix (":messages"); "" for slot 0
	seg  int    // the length of its own segment ("messages"), at the end of tail
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
// Namespace and Sub handles hold it by value, and a key's handle finds it
// in its own name (keyHandle.inst), so binding allocates no object with
// pointers: the names an instance's handles point into are one string
// (see [layout.bind]), which the collector never scans.
type nsInst struct {
	plan   *nsPlan
	prefix string // "root:user:42"
	own    int    // where the namespace's own segment starts in prefix
	err    error  // why the instance is unusable (bad parameters)
}

// subHandle is the state of a Sub: the child plan and the parent instance.
type subHandle struct {
	plan   *nsPlan
	parent nsInst
}

// namesHeader is the size of the header of an instance's names: the
// length of the prefix, 4 bytes little-endian. It lets the instance cache
// keep an instance as one pointer to its names, and read the prefix back
// without reading past the names' end.
const namesHeader = 4

// maxPrefix is the longest prefix At binds: Redis refuses key names over
// 512 MB, and the names' header must hold the length.
const maxPrefix = 512 << 20

// namesLen is how many bytes the names of an instance take when its
// prefix is n bytes long: the header, the prefix, and prefix+tail for
// every plain child namespace and key.
func (l *layout) namesLen(n int) int { return namesHeader + l.copies*n + l.tails }

// namesAt returns the names that start at p, written by bind for an
// instance of l.
func (l *layout) namesAt(p *byte) string {
	return unsafe.String(p, l.namesLen(prefixLen(p)))
}

// prefixLen reads the length of the prefix from the header at p.
func prefixLen(p *byte) int {
	h := (*[namesHeader]byte)(unsafe.Pointer(p))
	return int(h[0]) | int(h[1])<<8 | int(h[2])<<16 | int(h[3])<<24
}

// bind fills the zeroed struct at base for the namespace instance named
// prefix, whose own segment starts at prefix[own:], and returns the names
// its handles point into: the header, the prefix, then prefix+tail for
// every plain child namespace and key in the order of l, in one string
// allocated without zeroing and without pointers.
func (l *layout) bind(base unsafe.Pointer, prefix []byte, own int) string {
	n := len(prefix)
	var b strings.Builder
	b.Grow(l.namesLen(n))
	for i := range namesHeader {
		b.WriteByte(byte(n >> (8 * i)))
	}
	b.Write(prefix)
	for _, s := range l.nss[1:] {
		b.Write(prefix)
		b.WriteString(s.tail)
	}
	for _, s := range l.keys {
		b.Write(prefix)
		b.WriteString(s.tail)
	}
	names := b.String()
	l.handles(base, names, own)
	return names
}

// handles fills the zeroed struct at base with the handles of the
// instance whose names bind wrote. It writes only the fields that are
// not zero, one at a time, which costs less than storing whole handles.
func (l *layout) handles(base unsafe.Pointer, names string, own int) {
	n := prefixLen(unsafe.StringData(names))
	pos := namesHeader + n
	for i, s := range l.nss {
		in := &(*Namespace)(unsafe.Add(base, s.off)).ns
		in.plan = s.plan
		if i == 0 {
			in.prefix, in.own = names[namesHeader:pos], own
		} else {
			end := pos + n + len(s.tail)
			in.prefix, in.own, pos = names[pos:end], end-pos-s.seg, end
		}
	}
	for _, s := range l.keys {
		h := (*keyHandle)(unsafe.Add(base, s.off))
		in := l.inst(base, s.ns)
		end := pos + n + len(s.tail)
		h.p, h.name, h.cut, h.own = s.plan, names[pos:end], int32(len(in.prefix)), int32(in.own)
		pos = end
	}
	for _, s := range l.pkeys {
		h := (*keyHandle)(unsafe.Add(base, s.off))
		in := l.inst(base, s.ns)
		h.p, h.name, h.cut, h.own = s.plan, in.prefix, int32(len(in.prefix)), int32(in.own)
	}
	for _, s := range l.subs {
		h := (*subHandle)(unsafe.Add(base, s.off))
		h.plan, h.parent = s.plan, *l.inst(base, s.ns)
	}
}

// inst returns the instance of namespace slot i of the struct at base,
// once handles or bindErr has written it.
func (l *layout) inst(base unsafe.Pointer, i int) *nsInst {
	return &(*Namespace)(unsafe.Add(base, l.nss[i].off)).ns
}

// bindErr is bind for an unusable instance: no names, and every
// namespace and key handle carries err. prefix is kept in the instance
// of slot 0 (for Describe) when ValidateParams refused well-formed
// values, and is "" otherwise.
func (l *layout) bindErr(base unsafe.Pointer, err error, prefix string, own int) {
	for i, s := range l.nss {
		in := &(*Namespace)(unsafe.Add(base, s.off)).ns
		in.plan, in.err = s.plan, err
		if i == 0 {
			in.prefix, in.own = prefix, own
		}
	}
	for _, ks := range [2][]keySlot{l.keys, l.pkeys} {
		for _, s := range ks {
			h := (*keyHandle)(unsafe.Add(base, s.off))
			h.p, h.err = s.plan, err
		}
	}
	for _, s := range l.subs {
		h := (*subHandle)(unsafe.Add(base, s.off))
		h.plan, h.parent = s.plan, *l.inst(base, s.ns)
	}
}

// bindRoot allocates the root struct R of a schema and binds it.
func bindRoot[R any](plan *nsPlan) *R {
	r := new(R)
	plan.layout.bind(unsafe.Pointer(r), []byte(plan.segment(plan.tmpl.String())), 0)
	return r
}

// At returns the namespace bound to params, given positionally in the
// order of the template's placeholders. Integers, strings,
// [encoding.TextMarshaler] and [fmt.Stringer] values are accepted. A wrong
// count or an unsafe value does not panic: the returned namespace and all
// its keys report the error (see [Namespace.Err]) from every operation.
//
// At is declared here, beside binding, because it must stay small enough
// to be inlined: new(U) is then allocated on the caller's stack when the
// struct does not outlive the caller, as in root.User.At(42).Age.Set(ctx,
// 30). The handles copied out of it point only into the instance's names,
// built as one string or found in the Sub's cache of instances it bound
// before (see [Options.InstanceCache]).
func (s Sub[U]) At(params ...any) *U {
	u := new(U)
	s.h.bindWith(unsafe.Pointer(u), params, nil)
	return u
}

// bindSubErr returns the struct U of a Sub's namespace with every handle
// in it reporting err.
func bindSubErr[U any](h subHandle, err error) *U {
	u := new(U)
	h.bindWith(unsafe.Pointer(u), nil, err)
	return u
}

// bindWith binds the zeroed struct at base (a Sub's namespace type) to
// args or, when err is not nil, makes every handle in it report err. A
// zero Sub leaves every handle unbound.
func (h subHandle) bindWith(base unsafe.Pointer, args []any, err error) {
	p := h.plan
	if p == nil {
		return
	}
	if p.one != nil && err == nil && h.parent.err == nil && len(args) == 1 {
		// The common case: one integer or string value, whose text goes
		// into the prefix as is.
		var digits [20]byte
		if val, ok := paramText(&digits, args[0]); ok && h.bindOne(base, val) {
			return
		}
	}
	h.bindNew(base, args, err)
}

// bindOne binds the instance whose one parameter value reads val: found
// in the cache (its value was checked when it was bound), or checked and
// built from the parent's prefix and val without rendering the template,
// and remembered. It reports false, having bound nothing, for a value
// At refuses: bindNew then says why.
func (h subHandle) bindOne(base unsafe.Pointer, val []byte) bool {
	p, lay, own := h.plan, h.plan.layout, len(h.parent.prefix)+1
	cache, sample := p.cache.use()
	var hash uint64
	if cache != nil {
		var names *byte
		if hash, names = cache.find(h.parent.prefix, p.one, val); names != nil {
			if sample {
				cache.record(true)
			}
			lay.handles(base, lay.namesAt(names), own)
			return true
		}
	}
	if checkParam(val, p.c.maxParam) != "" || len(h.parent.prefix)+len(p.one.before)+len(val)+len(p.one.after) > maxPrefix {
		return false // a refused value is no miss: no cache could serve it
	}
	if sample {
		cache.record(false)
	}
	var scratch [128]byte // the prefix is written here, then copied once
	prefix := append(append(append(append(scratch[:0], h.parent.prefix...), p.one.before...), val...), p.one.after...)
	h.bindRemember(base, prefix, own, cache, hash)
	return true
}

// bindRemember binds a new instance named prefix and remembers it by
// hash in cache, unless cache is nil.
func (h subHandle) bindRemember(base unsafe.Pointer, prefix []byte, own int, cache *instCache, hash uint64) {
	names := h.plan.layout.bind(base, prefix, own)
	if cache != nil {
		cache.store(hash, unsafe.StringData(names))
	}
}

// bindNew is bindWith for any other values: it renders the prefix, looks
// it up in the cache, else binds a new instance and remembers it.
func (h subHandle) bindNew(base unsafe.Pointer, args []any, err error) {
	lay := h.plan.layout
	var scratch [128]byte // the prefix is rendered here, then copied once
	prefix, own, err, rejected := h.render(scratch[:0], args, err)
	if err != nil {
		kept := ""
		if rejected != nil { // well-formed, so Describe can show the values
			kept = string(prefix)
		}
		lay.bindErr(base, err, kept, own)
		return
	}
	cache, sample := h.plan.cache.use()
	var hash uint64
	if cache != nil {
		hash = maphash.Bytes(cache.seed, prefix)
		names := cache.lookup(hash, prefix)
		if sample {
			cache.record(names != nil)
		}
		if names != nil {
			lay.handles(base, lay.namesAt(names), own)
			return
		}
	}
	h.bindRemember(base, prefix, own, cache, hash)
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
	if err == nil && len(dst) > maxPrefix {
		err = &ParamError{Template: h.plan.tmpl.String(), Field: h.plan.path, Kind: ErrInvalidParam,
			Reason: fmt.Sprintf("the values make a prefix of %d bytes, more than Redis's limit of 512 MB on key names", len(dst))}
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
