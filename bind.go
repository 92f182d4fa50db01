package nest

import (
	"hash/maphash"
	"math/bits"
	"reflect"
	"sync"
	"sync/atomic"
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
	// An instance's names take copies×len(prefix)+tails bytes (namesLen);
	// set by finish once every slot is known.
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
func (l *layout) namesLen(n int) int { return l.copies*n + l.tails }

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
	}
	l.handles(base, insts, all[pos:], len(prefix))
}

// handles fills the zeroed struct at base with the handles of insts, the
// instances bind built: names holds the key names, in the order of
// l.keys, each n+len(tail) bytes long (n: the length of the prefix).
func (l *layout) handles(base unsafe.Pointer, insts []nsInst, names string, n int) {
	for i, s := range l.nss {
		(*Namespace)(unsafe.Add(base, s.off)).ns = &insts[i]
	}
	pos := 0
	for _, s := range l.keys {
		h := (*keyHandle)(unsafe.Add(base, s.off))
		end := pos + n + len(s.tail)
		h.p, h.ns, h.name = s.plan, &insts[s.ns], names[pos:end]
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

// At returns the namespace bound to params, given positionally in the
// order of the template's placeholders. Integers, strings,
// [encoding.TextMarshaler] and [fmt.Stringer] values are accepted. A wrong
// count or an unsafe value does not panic: the returned namespace and all
// its keys report the error (see [Namespace.Err]) from every operation.
//
// At is declared here, beside binding, because it must stay small enough
// to be inlined: new(U) is then allocated on the caller's stack when the
// struct does not outlive the caller, as in root.User.At(42).Age.Set(ctx,
// 30). The handles copied out of it point only to the instance, which
// bindWith allocates on the heap with the names, or finds in the Sub's
// cache of instances it bound before (see [Options.InstanceCache]).
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
// args or, when err is not nil, makes every handle in it report err. The
// instance and the names its handles share take one allocation when the
// namespace has no plain child namespace and its names fit in instSizes;
// none when the Sub's cache holds an instance of the same prefix. A zero
// Sub leaves every handle unbound.
func (h subHandle) bindWith(base unsafe.Pointer, args []any, err error) {
	if h.plan == nil {
		return
	}
	var hash uint64
	var hashed bool
	if cache := h.plan.cache; cache != nil && err == nil && h.parent.err == nil && len(args) == 1 {
		// The common case: one integer or string value, found without
		// rendering the prefix.
		var in *nsInst
		if hash, hashed, in = cache.findArg(h.parent, args[0]); in != nil {
			h.reuse(base, in)
			return
		}
	}
	h.bindNew(base, args, err, hashed, hash)
}

// bindNew is bindWith for an instance not found by its value: it renders
// the prefix, looks it up in the cache (unless hashed: then hash, the
// value's, is what it is remembered by), else binds a new instance and
// remembers it. A function of its own, so that a found instance, the
// common case, takes little stack: bindNew's frame holds the prefix
// rendered.
func (h subHandle) bindNew(base unsafe.Pointer, args []any, err error, hashed bool, hash uint64) {
	lay, cache := h.plan.layout, h.plan.cache
	var scratch [128]byte // the prefix is rendered here, then copied once
	prefix, own, err, rejected := h.render(scratch[:0], args, err)
	if cache != nil && err == nil && !hashed {
		hash = maphash.Bytes(cache.seed, prefix)
		if in := cache.lookup(hash, prefix); in != nil {
			h.reuse(base, in)
			return
		}
	}
	var insts []nsInst
	var buf []byte
	if len(lay.nss) == 1 && err == nil {
		insts, buf = newInst(lay.namesLen(len(prefix)))
	} else {
		insts = make([]nsInst, len(lay.nss))
	}
	lay.bind(base, insts, prefix, own, err, buf)
	switch {
	case rejected != nil:
		// Refused by ValidateParams: well-formed, so Describe can show the values.
		insts[0].prefix, insts[0].own = string(prefix), own
	case cache != nil && err == nil:
		// Cached instances must keep their names right after the prefix
		// in one buffer, as bind writes them: reuse relies on it.
		cache.store(hash, &insts[0])
	}
}

// reuse fills the zeroed struct at base with the handles of in, an
// instance of h's cache. Its names follow its prefix in the buffer bind
// wrote them to (only instances bind built, with no error, are cached).
func (h subHandle) reuse(base unsafe.Pointer, in *nsInst) {
	lay := h.plan.layout
	n := len(in.prefix)
	names := unsafe.String(unsafe.StringData(in.prefix), lay.namesLen(n))
	lay.handles(base, unsafe.Slice(in, 1), names[n:], n)
}

// DefaultInstanceCache is the default of [Options.InstanceCache].
const DefaultInstanceCache = 4096

// maxInstanceCache bounds [Options.InstanceCache]: 2^20 slots take 24 MiB.
const maxInstanceCache = 1 << 20

// instCache remembers the instances a Sub bound last (see
// [Options.InstanceCache]): a table on a hash of the prefix, in which an
// instance may sit in either of two slots, picked by the two halves of
// its hash; a new one replaces the older of the two. An instance never
// changes once bound, so goroutines share them freely; a slot is
// replaced with atomic stores and a hit writes nothing. Only namespaces
// whose handles point to the one instance (no plain child namespace) and
// that have no ValidateParams are cached.
//
// Two slots per instance keep far more of a working set than one: in a
// simulation of parameters bound over and over in turn, a set of half the
// table's size is found 97 % of the time with two slots and 62 % with one,
// a set of the table's size 66 % and 36 %.
//
// An instance is found by the hash of its prefix or, when its Sub's
// template has one placeholder and At was given one string or integer,
// by the hash of that value and the parent instance, which spares
// rendering the prefix: lookupArg then compares the instance's prefix
// with the parent's prefix, before, the value's text and after. Both
// kinds of hash share the slots; a lookup of either kind checks the
// whole prefix, so at worst it misses.
type instCache struct {
	seed  maphash.Seed
	size  int // a power of two
	once  sync.Once
	slots []cacheSlot   // allocated on first use
	clock atomic.Uint64 // counts the stores: the age of a slot's instance
	// single says the template has one placeholder: before and after are
	// what a prefix holds around its value, from the parent's prefix on
	// (":user:" and "" for "user:{user_id}").
	single        bool
	before, after string
	intSeed       uint64 // mixed into the hashes of integers
}

// cacheSlot holds an instance, the hash it was stored by, which lets a
// lookup pass over another instance without reading it (a cache miss in
// the processor's sense too), and when it was stored. They are stored one
// after the other, so a lookup may see the hash of one instance and the
// other instance: it compares the prefix before using an instance, and at
// worst misses.
type cacheSlot struct {
	hash  atomic.Uint64
	in    atomic.Pointer[nsInst]
	stamp atomic.Uint64 // instCache.clock when in was stored
}

// lookup returns the slot's instance if it is named prefix, whose hash is
// hash, else nil.
func (s *cacheSlot) lookup(hash uint64, prefix []byte) *nsInst {
	if in := s.load(hash); in != nil && in.prefix == string(prefix) {
		return in
	}
	return nil
}

// load returns the slot's instance if the slot holds hash, else nil; the
// caller checks that it is the instance it asked for.
func (s *cacheSlot) load(hash uint64) *nsInst {
	if s.hash.Load() != hash {
		return nil
	}
	return s.in.Load()
}

// lookupArg returns the slot's instance if its hash is hash and its
// prefix is parent+before+val+after, else nil. The hash is checked
// first; the prefix decides.
func (s *cacheSlot) lookupArg(hash uint64, parent, before string, val []byte, after string) *nsInst {
	in := s.load(hash)
	if in == nil {
		return nil
	}
	// The rest is after: every instance of the Sub ends with it, and the
	// lengths agree.
	p, a, b := in.prefix, len(parent), len(parent)+len(before)
	if len(p) != b+len(val)+len(after) || p[:a] != parent || p[a:b] != before || p[b:b+len(val)] != string(val) {
		return nil
	}
	return in
}

// newInstCache returns a cache of at least n slots for p, or nil when p is
// not cached.
func newInstCache(p *nsPlan, n int) *instCache {
	if n <= 0 || !p.sub || p.validate != nil || len(p.layout.nss) != 1 {
		return nil
	}
	c := &instCache{seed: maphash.MakeSeed(), size: 1 << bits.Len(uint(n-1))}
	c.intSeed = maphash.String(c.seed, "")
	if before, after, ok := p.tmpl.Around(); ok {
		c.single, c.before, c.after = true, ":"+before, after
		if p.pinned {
			c.before, c.after = ":{"+before, after+"}"
		}
	}
	return c
}

// pair returns the two slots an instance of hash may sit in (the same
// one twice when the halves of hash agree).
func (c *instCache) pair(hash uint64) (*cacheSlot, *cacheSlot) {
	c.once.Do(func() { c.slots = make([]cacheSlot, c.size) })
	m := uint64(c.size - 1)
	return &c.slots[hash&m], &c.slots[hash>>32&m]
}

// lookup returns the instance named prefix, whose hash is hash, or nil.
func (c *instCache) lookup(hash uint64, prefix []byte) *nsInst {
	a, b := c.pair(hash)
	if in := a.lookup(hash, prefix); in != nil {
		return in
	}
	return b.lookup(hash, prefix)
}

// store remembers in by hash, in the empty one of its two slots, else in
// place of the older instance.
func (c *instCache) store(hash uint64, in *nsInst) {
	s, b := c.pair(hash)
	if s.in.Load() != nil && (b.in.Load() == nil || b.stamp.Load() < s.stamp.Load()) {
		s = b
	}
	s.in.Store(in)
	s.hash.Store(hash)
	s.stamp.Store(c.clock.Add(1))
}

// findArg looks up the instance of a, the one parameter value of a
// template with one placeholder, under the instance parent: it returns
// the hash the instance is remembered by and the instance, or nil. hashed
// is false when a is not a string or a predeclared integer, whose text
// appendParam writes as is: then the prefix must be rendered.
func (c *instCache) findArg(parent *nsInst, a any) (hash uint64, hashed bool, in *nsInst) {
	var digits [20]byte
	val, ok := c.hashArg(&digits, parent, a, &hash)
	if !ok {
		return 0, false, nil
	}
	s, b := c.pair(hash)
	if in = s.lookupArg(hash, parent.prefix, c.before, val, c.after); in == nil {
		in = b.lookupArg(hash, parent.prefix, c.before, val, c.after)
	}
	return hash, true, in
}

// hashArg sets *hash to the hash of a, the one parameter value of a
// template with one placeholder, under the instance parent, and returns
// a's text (written to digits for an integer). ok is false when a is not
// a string or a predeclared integer.
func (c *instCache) hashArg(digits *[20]byte, parent *nsInst, a any, hash *uint64) (val []byte, ok bool) {
	if !c.single {
		return nil, false
	}
	var h uint64
	switch x := a.(type) {
	case string:
		h, val = maphash.String(c.seed, x), unsafe.Slice(unsafe.StringData(x), len(x))
	case int:
		h, val = c.mix(uint64(x)), decimal(digits, int64(x))
	case int64:
		h, val = c.mix(uint64(x)), decimal(digits, x)
	case uint64:
		h, val = c.mix(x), udecimal(digits, x, false)
	case int32:
		h, val = c.mix(uint64(x)), decimal(digits, int64(x))
	case uint32:
		h, val = c.mix(uint64(x)), udecimal(digits, uint64(x), false)
	default:
		return nil, false
	}
	// The parent's address spreads the instances of equal values under
	// different parents (heap objects do not move).
	*hash = h ^ c.mix(uint64(uintptr(unsafe.Pointer(parent))))
	return val, true
}

// decimal writes x in base 10 at the end of d, as strconv.AppendInt does,
// and returns its text: the 20 bytes hold every int64 and uint64. Unlike
// strconv's, its frame is small: an instance found in the cache then
// takes little stack.
func decimal(d *[20]byte, x int64) []byte {
	if x < 0 {
		return udecimal(d, -uint64(x), true)
	}
	return udecimal(d, uint64(x), false)
}

// udecimal is decimal of u, negated when neg is set.
func udecimal(d *[20]byte, u uint64, neg bool) []byte {
	i := len(d)
	for u >= 10 {
		i--
		d[i] = byte('0' + u%10)
		u /= 10
	}
	i--
	d[i] = byte('0' + u)
	if neg {
		i--
		d[i] = '-'
	}
	return d[i:]
}

// mix hashes x: the cache's seed, then a multiply and xor-shift finaliser.
func (c *instCache) mix(x uint64) uint64 {
	x ^= c.intSeed
	x *= 0x9e3779b97f4a7c15
	x ^= x >> 32
	x *= 0xd6e8feb86659fd93
	return x ^ x>>32
}

// inst is an instance allocated with a buffer B for its names.
type inst[B any] struct {
	in  [1]nsInst
	buf B
}

func newInstOf[B any]() ([]nsInst, []byte) {
	p := new(inst[B])
	return p.in[:], unsafe.Slice((*byte)(unsafe.Pointer(&p.buf)), unsafe.Sizeof(p.buf))
}

// instSizes are the name buffers an instance is allocated with, each
// filling a size class of Go's allocator with the 48 bytes of nsInst.
var instSizes = [...]struct {
	n   int
	new func() ([]nsInst, []byte)
}{
	{16, newInstOf[[16]byte]}, {32, newInstOf[[32]byte]}, {48, newInstOf[[48]byte]},
	{64, newInstOf[[64]byte]}, {80, newInstOf[[80]byte]}, {96, newInstOf[[96]byte]},
	{112, newInstOf[[112]byte]}, {128, newInstOf[[128]byte]}, {144, newInstOf[[144]byte]},
	{160, newInstOf[[160]byte]}, {176, newInstOf[[176]byte]}, {192, newInstOf[[192]byte]},
	{208, newInstOf[[208]byte]}, {240, newInstOf[[240]byte]}, {272, newInstOf[[272]byte]},
	{304, newInstOf[[304]byte]}, {336, newInstOf[[336]byte]}, {368, newInstOf[[368]byte]},
	{400, newInstOf[[400]byte]}, {432, newInstOf[[432]byte]}, {464, newInstOf[[464]byte]},
}

// newInst returns one zeroed instance and a buffer of at least n bytes
// for its names, in one allocation when n fits in instSizes.
func newInst(n int) ([]nsInst, []byte) {
	for i := range instSizes { // by index: ranging over the array would copy it
		if n <= instSizes[i].n {
			return instSizes[i].new()
		}
	}
	return make([]nsInst, 1), make([]byte, 0, n)
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
