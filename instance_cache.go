package nest

import (
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"unsafe"
)

// DefaultInstanceCache is the default of [Options.InstanceCache].
const DefaultInstanceCache = 256

// maxInstanceCache bounds [Options.InstanceCache]: 2^20 slots take 24 MiB.
const maxInstanceCache = 1 << 20

// instCache remembers the instances a Sub bound last (see
// [Options.InstanceCache]): a table on a hash of the prefix, in which an
// instance may sit in either of two slots, picked by the two halves of
// its hash; a new one replaces the older of the two. An instance never
// changes once bound, so goroutines share them freely; a slot is
// replaced with atomic stores and a hit writes nothing. Namespaces with a
// ValidateParams method, which must run on every At, are not cached.
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
//
// The cache stands aside when it does not pay (see [instCache.use]): over
// more ids than it holds, under high concurrency, a lookup that misses
// and the store after it cost more than binding anew.
type instCache struct {
	// Read on every lookup, written once.
	seed    maphash.Seed
	size    int // a power of two
	once    sync.Once
	slots   []cacheSlot // allocated on first use
	mixSeed uint64      // mixed into the hash of a parent's address
	ceiling int32       // the highest score: scoreMax, or more for a large table

	// Written by stores and samples, on a cache line of their own so that
	// those writes do not evict what every lookup reads.
	_     [64]byte
	clock atomic.Uint64 // counts the stores: the age of a slot's instance
	// score is the recent outcome of sampled lookups: a hit adds
	// scoreHit, a miss takes one, from scoreFloor to ceiling. The cache
	// is consulted while it is not negative.
	score atomic.Int32
	// aside counts the samples taken while the cache stands aside; every
	// trialEvery of them, it is consulted again for a trial.
	aside atomic.Uint32
}

// The cache pays when more than a third of lookups hit: a hit spares
// binding anew, about three times what a missed lookup and its store
// cost (BenchmarkAt). One lookup in sampleEvery is a sample, made even
// while the cache stands aside, so that it notices when hits return.
//
// A new cache starts at its ceiling, scoreMax or a sixteenth of its
// slots if more: a first pass over a set of ids the table can hold, every
// lookup a miss, then does not turn the cache off, and the verdict rests
// on at least the last thousand samples.
//
// While the cache stands aside, only samples store what they bind, so
// its table is not what a consulted cache's would be, and the samples
// underrate it: ids bound a few times in a row, each run found 7 times
// in 8 by a consulted cache, are found by samples far less often than a
// third. So every trialEvery samples taken aside (about 16 000 calls of
// At) the cache is consulted again, with a score of trialScore: a
// workload it serves keeps it, and one it does not sends it back aside
// within about 1 000 calls. The floor is shallow so that hits the
// samples do see (a few hot ids) bring the cache back sooner, within
// about 2 000 calls.
const (
	scoreHit    = 2
	scoreMax    = 1024
	scoreFloor  = -256
	sampleEvery = 16
	trialEvery  = 1024
	trialScore  = 64
)

// cacheSlot holds an instance, as the start of its names (see
// [layout.bind]: a header with the length of the prefix, then the prefix
// and the key names), the hash it was stored by, which lets a lookup pass
// over another instance without reading it (a cache miss in the
// processor's sense too), and when it was stored. They are stored one
// after the other, so a lookup may see the hash of one instance and the
// other instance: it compares the prefix, read through the header, before
// using an instance, and at worst misses.
type cacheSlot struct {
	hash  atomic.Uint64
	names atomic.Pointer[byte]
	stamp atomic.Uint64 // instCache.clock when names was stored
}

// prefix returns the prefix of the instance whose names start at p.
func prefix(p *byte) string {
	return unsafe.String((*byte)(unsafe.Add(unsafe.Pointer(p), namesHeader)), prefixLen(p))
}

// lookup returns the names of the slot's instance if it is named prefix,
// whose hash is hash, else nil.
func (s *cacheSlot) lookup(hash uint64, p []byte) *byte {
	if names := s.load(hash); names != nil && prefix(names) == string(p) {
		return names
	}
	return nil
}

// load returns the names of the slot's instance if the slot holds hash,
// else nil; the caller checks that it is the instance it asked for.
func (s *cacheSlot) load(hash uint64) *byte {
	if s.hash.Load() != hash {
		return nil
	}
	return s.names.Load()
}

// lookupArg returns the names of the slot's instance if its hash is hash
// and its prefix is parent+before+val+after, else nil. The hash is
// checked first; the prefix decides.
func (s *cacheSlot) lookupArg(hash uint64, parent, before string, val []byte, after string) *byte {
	names := s.load(hash)
	if names == nil {
		return nil
	}
	// The rest is after: every instance of the Sub ends with it, and the
	// lengths agree.
	p, a, b := prefix(names), len(parent), len(parent)+len(before)
	if len(p) != b+len(val)+len(after) || p[:a] != parent || p[a:b] != before || p[b:b+len(val)] != string(val) {
		return nil
	}
	return names
}

// newInstCache returns a cache of at least n slots for p, or nil when p is
// not cached.
func newInstCache(p *nsPlan, n int) *instCache {
	if n <= 0 || !p.sub || p.validate != nil {
		return nil
	}
	c := &instCache{seed: maphash.MakeSeed(), size: 1 << bits.Len(uint(n-1))}
	c.mixSeed = maphash.String(c.seed, "")
	c.ceiling = int32(max(scoreMax, c.size/sampleEvery))
	c.score.Store(c.ceiling) // a new cache is trusted until lookups miss
	return c
}

// use returns c when At should look in it, or nil when the cache stands
// aside (c is nil, or its sampled lookups mostly missed: an instance is
// then bound anew and not remembered), and whether this lookup is a
// sample whose outcome record must count. Samples are picked at random,
// so that every value has its turn; score is updated without a lock, and
// an update lost to a concurrent one only delays the verdict.
func (c *instCache) use() (_ *instCache, sample bool) {
	if c == nil {
		return nil, false
	}
	sample = rand.Uint32()%sampleEvery == 0
	if !sample && c.score.Load() < 0 {
		return nil, false
	}
	return c, sample
}

// record counts the outcome of a sampled lookup, and starts a trial
// when the cache has stood aside for trialEvery samples.
func (c *instCache) record(hit bool) {
	old := c.score.Load()
	s := old
	switch {
	case old < 0 && c.aside.Add(1)%trialEvery == 0:
		s = trialScore
	case hit:
		s = min(s+scoreHit, c.ceiling)
	default:
		s = max(s-1, scoreFloor)
	}
	if s != old { // a score at its bound is not written again
		c.score.Store(s)
	}
}

// pair returns the two slots an instance of hash may sit in (the same
// one twice when the halves of hash agree).
func (c *instCache) pair(hash uint64) (*cacheSlot, *cacheSlot) {
	c.once.Do(func() { c.slots = make([]cacheSlot, c.size) })
	m := uint64(c.size - 1)
	return &c.slots[hash&m], &c.slots[hash>>32&m]
}

// lookup returns the names of the instance named prefix, whose hash is
// hash, or nil.
func (c *instCache) lookup(hash uint64, prefix []byte) *byte {
	a, b := c.pair(hash)
	if names := a.lookup(hash, prefix); names != nil {
		return names
	}
	return b.lookup(hash, prefix)
}

// store remembers the instance whose names start at names by hash, in
// the empty one of its two slots, else in place of the older instance.
func (c *instCache) store(hash uint64, names *byte) {
	s, b := c.pair(hash)
	if s.names.Load() != nil && (b.names.Load() == nil || b.stamp.Load() < s.stamp.Load()) {
		s = b
	}
	s.names.Store(names)
	s.hash.Store(hash)
	s.stamp.Store(c.clock.Add(1))
}

// find returns the names of the instance whose one parameter value
// reads val, under the instance named parent, and the hash it is
// remembered by; names is nil when the cache does not hold it.
func (c *instCache) find(parent string, one *oneParam, val []byte) (hash uint64, names *byte) {
	// The address of the parent's prefix spreads the instances of equal
	// values under different parents (heap objects do not move); the
	// prefix decides.
	hash = maphash.Bytes(c.seed, val) ^ c.mix(uint64(uintptr(unsafe.Pointer(unsafe.StringData(parent)))))
	s, b := c.pair(hash)
	if names = s.lookupArg(hash, parent, one.before, val, one.after); names == nil {
		names = b.lookupArg(hash, parent, one.before, val, one.after)
	}
	return hash, names
}

// paramText returns the text of a, a parameter value, when appendParam
// writes it as is: a string, or a predeclared integer written to digits.
// ok is false for any other type.
func paramText(digits *[20]byte, a any) (val []byte, ok bool) {
	switch x := a.(type) {
	case string:
		return unsafe.Slice(unsafe.StringData(x), len(x)), true
	case int:
		return decimal(digits, int64(x)), true
	case int64:
		return decimal(digits, x), true
	case int32:
		return decimal(digits, int64(x)), true
	case int16:
		return decimal(digits, int64(x)), true
	case int8:
		return decimal(digits, int64(x)), true
	case uint:
		return udecimal(digits, uint64(x), false), true
	case uint64:
		return udecimal(digits, x, false), true
	case uint32:
		return udecimal(digits, uint64(x), false), true
	case uint16:
		return udecimal(digits, uint64(x), false), true
	case uint8:
		return udecimal(digits, uint64(x), false), true
	}
	return nil, false
}

// decimal writes x in base 10 at the end of d, as strconv.AppendInt does,
// and returns its text: the 20 bytes hold every int64 and uint64. Unlike
// strconv's, its frame is small: binding an instance then takes little
// stack.
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
	x ^= c.mixSeed
	x *= 0x9e3779b97f4a7c15
	x ^= x >> 32
	x *= 0xd6e8feb86659fd93
	return x ^ x>>32
}
