package nest

import (
	"context"
	"slices"

	"github.com/redis/go-redis/v9"
)

// Subtree walks through instance indexes (see index.go for the model):
// Keys, Count and Clear read the members of each index in the subtree with
// SSCAN, pipelined across indexes, and reach each instance's keys by name.

// ixRef is one index key in a subtree and the indexed field it lists.
type ixRef struct {
	key    string   // the index key: "root:user"
	parent string   // prefix of the namespace instance holding it: "root"
	sub    *nsPlan  // the indexed Sub, or nil
	pk     *keyPlan // the indexed ParamKey, or nil
}

// ixBatch is one page of an index's members and the names of their
// instances.
type ixBatch struct {
	ref     ixRef
	members []string // members that parse as instances
	bad     []string // members that do not (written by someone else)
	names   []string // known names of the members' instances, which Clear deletes
	ixNames []string // index keys inside those instances: listed and counted, emptied rather than deleted
	nested  []ixRef
	// each[i] is where member i's names end in names and ixNames, so
	// that Instances can tell which members have keys.
	each []ixSpan
}

type ixSpan struct{ names, ixNames int }

// parse reports whether member is a valid member of the index: the own
// segment of an instance of ref.sub, or the own name of a key of ref.pk,
// with values At would accept.
func (ref ixRef) parse(member string) bool {
	if ref.sub != nil {
		_, ok := ref.sub.instanceSegment(member)
		return ok
	}
	vals, ok := ref.pk.tmpl.Extract(member)
	return ok && ref.pk.validKeyValues(vals)
}

// add appends member's instance to b: its known names and nested indexes.
func (b *ixBatch) add(member string) {
	ref := b.ref
	if !ref.parse(member) {
		b.bad = append(b.bad, member)
		return
	}
	b.members = append(b.members, member)
	name := ref.parent + ":" + member
	b.names = append(b.names, name)
	if ref.sub != nil {
		var pats []string // below a Sub with scanBelow: the subtree's SCAN covers them
		first := len(b.nested)
		b.names = appendFixed(b.names, ref.sub, name, &pats, &b.nested)
		for _, n := range b.nested[first:] {
			b.ixNames = append(b.ixNames, n.key)
		}
	}
	b.each = append(b.each, ixSpan{len(b.names), len(b.ixNames)})
}

// spans yields, for each member of b, its names and index names.
func (b *ixBatch) span(i int) (names, ixNames []string) {
	var n0, x0 int
	if i > 0 {
		n0, x0 = b.each[i-1].names, b.each[i-1].ixNames
	}
	return b.names[n0:b.each[i].names], b.ixNames[x0:b.each[i].ixNames]
}

// indexes walks the indexes refs depth first: the first page of each
// index is read in one pipeline of SSCANs per chunk of indexes, later pages
// one SSCAN each; fn gets the pages of one round trip together, then the
// indexes nested in their instances are walked. It stops when fn returns
// false or an error.
func (w *walk) indexes(ctx context.Context, refs []ixRef, fn func([]*ixBatch) (bool, error)) (stopped bool, err error) {
	for len(refs) > 0 {
		n := min(len(refs), w.o.chunk)
		part := refs[:n]
		refs = refs[n:]
		if err := w.pace.wait(ctx, n, n); err != nil {
			return false, opError("SSCAN", part[0].key, err)
		}
		pipe := w.c.rdb.Pipeline()
		lead := w.lead
		if lead != nil {
			w.lead = nil
			lead.queue(ctx, pipe)
		}
		cmds := make([]*redis.ScanCmd, n)
		for i, ref := range part {
			cmds[i] = pipe.SScan(ctx, ref.key, 0, "", int64(w.o.chunk))
		}
		start := w.c.clock()
		_, err := pipe.Exec(ctx)
		w.c.logged(ctx, "SSCAN", part[0].key, 0, start, err)
		if lead != nil {
			lead.done()
		}
		if err != nil {
			return false, opError("SSCAN", part[0].key, err)
		}
		batches := make([]*ixBatch, n)
		var nested []ixRef
		var more []int
		for i, cmd := range cmds {
			members, cursor := cmd.Val()
			batches[i] = newBatch(part[i], members)
			nested = append(nested, batches[i].nested...)
			if cursor != 0 {
				more = append(more, i)
			}
		}
		if ok, err := fn(batches); err != nil || !ok {
			return !ok, err
		}
		for _, i := range more {
			if stopped, err := w.pages(ctx, part[i], cmds[i], &nested, fn); err != nil || stopped {
				return stopped, err
			}
		}
		if w.flat {
			continue
		}
		if stopped, err := w.indexes(ctx, nested, fn); err != nil || stopped {
			return stopped, err
		}
	}
	return false, nil
}

// pages walks the pages of ref's index after the first (read by first).
func (w *walk) pages(ctx context.Context, ref ixRef, first *redis.ScanCmd, nested *[]ixRef, fn func([]*ixBatch) (bool, error)) (bool, error) {
	_, cursor := first.Val()
	for cursor != 0 {
		if err := w.pace.wait(ctx, w.o.chunk, 1); err != nil {
			return false, opError("SSCAN", ref.key, err)
		}
		start := w.c.clock()
		members, next, err := w.c.rdb.SScan(ctx, ref.key, cursor, "", int64(w.o.chunk)).Result()
		w.c.logged(ctx, "SSCAN", ref.key, 0, start, err)
		if err != nil {
			return false, opError("SSCAN", ref.key, err)
		}
		b := newBatch(ref, members)
		*nested = append(*nested, b.nested...)
		if ok, err := fn([]*ixBatch{b}); err != nil || !ok {
			return !ok, err
		}
		cursor = next
	}
	return false, nil
}

func newBatch(ref ixRef, members []string) *ixBatch {
	b := &ixBatch{ref: ref}
	for _, m := range members {
		b.add(m)
	}
	return b
}

// existingIn returns which of names exist: one pipeline of single-key
// EXISTS (per chunk), routed by any client.
func (w *walk) existingIn(ctx context.Context, names []string) ([]bool, error) {
	out := make([]bool, 0, len(names))
	for part := range chunks(names, w.o.chunk) {
		if err := w.pace.wait(ctx, len(part), len(part)); err != nil {
			return nil, opError("EXISTS", part[0], err)
		}
		pipe := w.c.rdb.Pipeline()
		cmds := make([]*redis.IntCmd, len(part))
		for i, name := range part {
			cmds[i] = pipe.Exists(ctx, name)
		}
		start := w.c.clock()
		_, err := pipe.Exec(ctx)
		w.c.logged(ctx, "EXISTS", batchName(part), 0, start, err)
		if err != nil {
			return nil, opError("EXISTS", part[0], err)
		}
		for _, cmd := range cmds {
			out = append(out, cmd.Val() == 1)
		}
	}
	return out, nil
}

// indexedNames calls fn with the names found through the subtree's
// indexes that exist (the index keys too), until fn returns false.
func (w *walk) indexedNames(ctx context.Context, fn func([]string) bool) (stopped bool, err error) {
	if len(w.sh.ixs) == 0 {
		return false, nil
	}
	return w.indexes(ctx, w.sh.ixs, func(bs []*ixBatch) (bool, error) {
		var all []string
		for _, b := range bs {
			all = append(append(all, b.names...), b.ixNames...)
			if w.o.skipped != nil {
				for _, m := range b.bad {
					w.o.skipped(b.ref.key + " " + m)
				}
			}
		}
		found, err := w.existingIn(ctx, all)
		if err != nil {
			return false, err
		}
		if names := pick(all, found); len(names) > 0 {
			return fn(names), nil
		}
		return true, nil
	})
}

// pick returns the names whose found flag is set.
func pick(names []string, found []bool) []string {
	var out []string
	for i, ok := range found {
		if ok {
			out = append(out, names[i])
		}
	}
	return out
}

// ordered reports whether the commands of one pipeline run in order on
// one server: not on Redis Cluster or a Ring, where they may reach several.
func (c *client) ordered() bool { return c.cluster == nil && c.ring == nil }

// leadCmds are commands sent with the first SSCANs of a walk through
// indexes, saving a round trip: Clear's UNLINKs of the known names.
type leadCmds struct {
	names   []string
	unlinks []*redis.IntCmd
	cl      *clearer
}

func (l *leadCmds) queue(ctx context.Context, pipe redis.Pipeliner) {
	for _, name := range l.names {
		l.unlinks = append(l.unlinks, pipe.Unlink(ctx, name))
	}
}

func (l *leadCmds) done() {
	var n int64
	for _, u := range l.unlinks {
		n += u.Val()
	}
	l.cl.add(n)
}

// unindexSelf removes the walked instance from its parent's index, when
// it is an instance of an indexed Sub, once Clear has deleted its keys:
// only if none of its known names or index keys exists (see indexed), so
// that an interrupted Clear leaves it listed, and a racing write keeps it.
func (cl *clearer) unindexSelf(ctx context.Context) error {
	w, c := cl.w, cl.w.c
	in := w.in
	if w.o.undeclared || in.plan.index == nil || !in.plan.sub {
		return nil
	}
	e := instanceEntry(in.plan, in.prefix)
	ref := ixRef{key: e.key, parent: cutPrefix(in.prefix, in.plan.parent.fullSegments()), sub: in.plan}
	b := newBatch(ref, []string{e.member})
	if len(b.members) == 0 {
		return nil
	}
	if !c.ordered() {
		_, _, _, err := cl.unindexApart(ctx, []*ixBatch{b})
		return err
	}
	ns, xs := b.span(0)
	start := c.clock()
	err := unindexScript.Run(ctx, c.rdb, append(append([]string{e.key}, ns...), xs...), e.member).Err()
	c.logged(ctx, "UNINDEX", e.key, 0, start, err)
	return err
}

// indexed clears the instances listed in the subtree's indexes, so that
// it can be restarted: a Clear interrupted anywhere (a killed server, a
// lost connection, a cancelled context) leaves every instance that still
// has a key, or a non-empty nested index, in its index, and running Clear
// again finishes the job. (Removing members first would lose an instance
// whose nested indexes the walk had not reached yet.)
//
// For each page it unlinks the instances' known names, then removes each
// member only if none of its names or nested index keys exists. On a
// single server that is the unindex script, in the same pipeline (run in
// order): a write racing with it lands before the script (which keeps the
// member) or after it (and adds the member back). Where the index and the
// instance may live on different servers (Redis Cluster, a Ring) it takes
// three steps: EXISTS of the names, SREM of the members without any, and
// EXISTS again, adding back a member whose instance a racing write
// recreated meanwhile (such a write adds its index entry after its key,
// see sendIndexed, so one of the two always sees the other). Members
// whose nested indexes were not empty yet are kept in this pass: the walk
// then empties those indexes, and another pass removes the members, one
// pass per level of nesting. An index emptied counts as a key deleted, as
// Count counts it.
func (cl *clearer) indexed(ctx context.Context) error {
	w, c := cl.w, cl.w.c
	for {
		var kept, removed int
		_, err := w.indexes(ctx, w.sh.ixs, func(bs []*ixBatch) (bool, error) {
			var names []string
			var members int
			for _, b := range bs {
				names = append(names, b.names...)
				members += len(b.members) + len(b.bad)
			}
			if members == 0 {
				return true, nil
			}
			if err := w.pace.wait(ctx, len(names), members+len(names)); err != nil {
				return false, err
			}
			pipe := c.rdb.Pipeline()
			unlinks := make([]*redis.IntCmd, len(names))
			for i, name := range names {
				unlinks[i] = pipe.Unlink(ctx, name)
			}
			var scripts []*redis.Cmd
			var gone []*redis.IntCmd // EXISTS of each index after the page
			if c.ordered() {
				for _, b := range bs {
					for _, m := range b.bad { // not an instance: nothing to keep it for
						pipe.SRem(ctx, b.ref.key, m)
					}
					for i, m := range b.members {
						ns, xs := b.span(i)
						keys := append(append([]string{b.ref.key}, ns...), xs...)
						scripts = append(scripts, unindexScript.Eval(ctx, pipe, keys, m))
					}
					if len(b.members)+len(b.bad) > 0 { // an index read empty did not exist
						gone = append(gone, pipe.Exists(ctx, b.ref.key))
					}
				}
			}
			start := c.clock()
			_, err := pipe.Exec(ctx)
			c.logged(ctx, "UNLINK+UNINDEX", batchName(names), 0, start, err)
			var n int64
			for _, u := range unlinks {
				n += u.Val()
			}
			if err == nil && !c.ordered() {
				var k, r int
				k, r, gone, err = cl.unindexApart(ctx, bs)
				kept, removed = kept+k, removed+r
			}
			for _, g := range gone {
				if g.Err() == nil && g.Val() == 0 {
					n++
				}
			}
			cl.add(n)
			if err != nil {
				return false, err
			}
			for _, s := range scripts {
				if v, _ := s.Int64(); v == 1 {
					removed++
				} else {
					kept++
				}
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		// Another pass only while the last one both kept members (whose
		// nested indexes it has emptied since) and made progress: a member
		// kept by racing writes alone is left, as a write after Clear
		// would leave it.
		if kept == 0 || removed == 0 {
			return nil
		}
	}
}

// unindexApart removes the members of bs whose instances have no key left,
// where the index and the instance may live on different servers (see
// indexed), and returns how many it kept and removed, and the EXISTS of
// each index afterwards.
func (cl *clearer) unindexApart(ctx context.Context, bs []*ixBatch) (kept, removed int, gone []*redis.IntCmd, err error) {
	w, c := cl.w, cl.w.c
	var all []string
	for _, b := range bs {
		all = append(append(all, b.names...), b.ixNames...)
	}
	found, err := w.existingIn(ctx, all)
	if err != nil {
		return 0, 0, nil, err
	}
	type cand struct {
		b *ixBatch
		i int
	}
	var cands []cand
	pipe := c.rdb.Pipeline()
	base := 0
	for _, b := range bs {
		for _, m := range b.bad {
			pipe.SRem(ctx, b.ref.key, m)
		}
		f := found[base : base+len(b.names)+len(b.ixNames)]
		base += len(b.names) + len(b.ixNames)
		for i, m := range b.members {
			if b.live(i, f) {
				kept++
				continue
			}
			pipe.SRem(ctx, b.ref.key, m)
			cands = append(cands, cand{b, i})
		}
	}
	start := c.clock()
	_, err = pipe.Exec(ctx)
	c.logged(ctx, "SREM", bs[0].ref.key, 0, start, err)
	if err != nil {
		return kept, 0, nil, err
	}
	// Again, after the SREMs: a member whose instance a racing write
	// recreated goes back.
	var again []string
	for _, cd := range cands {
		ns, xs := cd.b.span(cd.i)
		again = append(append(again, ns...), xs...)
	}
	found, err = w.existingIn(ctx, again)
	if err != nil {
		return kept, 0, nil, err
	}
	pipe = c.rdb.Pipeline()
	base = 0
	for _, cd := range cands {
		ns, xs := cd.b.span(cd.i)
		n := len(ns) + len(xs)
		if slices.Contains(found[base:base+n], true) {
			pipe.SAdd(ctx, cd.b.ref.key, cd.b.members[cd.i])
			kept++
		} else {
			removed++
		}
		base += n
	}
	for _, b := range bs {
		if len(b.members)+len(b.bad) > 0 { // an index read empty did not exist
			gone = append(gone, pipe.Exists(ctx, b.ref.key))
		}
	}
	_, err = pipe.Exec(ctx)
	return kept, removed, gone, err
}

// instances calls fn with the members of the index whose instances have
// keys, once each, until fn returns false. Members whose instances hold
// descendants only SCAN finds are yielded unchecked. Stale members are
// removed (see unindex); members that do not parse are skipped and
// reported to WithSkipped.
func (ref ixRef) instances(ctx context.Context, in *nsInst, opts []SubtreeOption, fn func(member string) bool) error {
	w := newWalk(in, opts, shape{ixs: []ixRef{ref}})
	w.flat = true
	seen := make(map[string]struct{})
	unchecked := ref.sub != nil && ref.sub.scanBelow
	_, err := w.indexes(ctx, w.sh.ixs, func(bs []*ixBatch) (bool, error) {
		b := bs[0]
		if w.o.skipped != nil {
			for _, m := range b.bad {
				w.o.skipped(b.ref.key + " " + m)
			}
		}
		var found []bool
		if !unchecked {
			var err error
			if found, err = w.existingIn(ctx, append(b.names[:len(b.names):len(b.names)], b.ixNames...)); err != nil {
				return false, err
			}
		}
		for i, m := range b.members {
			if !unchecked && !b.live(i, found) {
				if err := w.unindex(ctx, b, i); err != nil {
					return false, err
				}
				continue
			}
			if _, dup := seen[m]; dup {
				continue
			}
			seen[m] = struct{}{}
			if !fn(m) {
				return false, nil
			}
		}
		return true, nil
	})
	return err
}

// live reports whether member i of b has a key, given which of b's names
// and then ixNames exist.
func (b *ixBatch) live(i int, found []bool) bool {
	var n0, x0 int
	if i > 0 {
		n0, x0 = b.each[i-1].names, b.each[i-1].ixNames
	}
	return slices.Contains(found[n0:b.each[i].names], true) ||
		slices.Contains(found[len(b.names)+x0:len(b.names)+b.each[i].ixNames], true)
}

// unindex removes member i of b from its index if it still has no key:
// atomically (a script) where the index and the instance's names share a
// server and slot; elsewhere it leaves the member, for RepairIndex.
func (w *walk) unindex(ctx context.Context, b *ixBatch, i int) error {
	names, ixNames := b.span(i)
	keys := append(append([]string{b.ref.key}, names...), ixNames...)
	if w.c.sameSlot(keys...) != nil {
		return nil
	}
	start := w.c.clock()
	err := unindexScript.Run(ctx, w.c.rdb, keys, b.members[i]).Err()
	w.c.logged(ctx, "UNINDEX", b.ref.key, 0, start, err)
	if err != nil {
		return opError("UNINDEX", b.ref.key, err)
	}
	return nil
}

// repair rebuilds the index from a SCAN: scan calls its function with the
// own segment of every instance found. Instances found are added; members
// not found are removed if they still have no key (atomically where the
// index and the instance share a slot, else after a fresh EXISTS).
func (ref ixRef) repair(ctx context.Context, in *nsInst, opts []SubtreeOption, scan func(func(string) bool) error) (added, removed int64, err error) {
	w := newWalk(in, opts, shape{ixs: []ixRef{ref}})
	w.flat = true
	c := w.c
	found := make(map[string]struct{})
	var batch []any
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		start := c.clock()
		n, err := c.rdb.SAdd(ctx, ref.key, batch...).Result()
		c.logged(ctx, "SADD", ref.key, 0, start, err)
		added += n
		batch = batch[:0]
		return err
	}
	var ferr error
	err = scan(func(m string) bool {
		found[m] = struct{}{}
		if batch = append(batch, m); len(batch) >= w.o.chunk {
			ferr = flush()
		}
		return ferr == nil
	})
	if err == nil {
		err = ferr
	}
	if err == nil {
		err = flush()
	}
	if err != nil {
		return added, removed, opError("REPAIR", ref.key, err)
	}
	_, err = w.indexes(ctx, w.sh.ixs, func(bs []*ixBatch) (bool, error) {
		b := bs[0]
		for _, m := range b.bad {
			n, err := c.rdb.SRem(ctx, ref.key, m).Result()
			if err != nil {
				return false, err
			}
			removed += n
		}
		for i, m := range b.members {
			if _, ok := found[m]; ok {
				continue
			}
			names, ixNames := b.span(i)
			keys := append(append([]string{ref.key}, names...), ixNames...)
			var n int64
			var err error
			if c.sameSlot(keys...) == nil {
				n, err = unindexScript.Run(ctx, c.rdb, keys, m).Int64()
			} else if e, xerr := w.existingIn(ctx, keys[1:]); xerr != nil {
				err = xerr
			} else if !slices.Contains(e, true) {
				n, err = c.rdb.SRem(ctx, ref.key, m).Result()
			}
			if err != nil {
				return false, err
			}
			removed += n
		}
		return true, nil
	})
	if err != nil {
		return added, removed, opError("REPAIR", ref.key, err)
	}
	return added, removed, nil
}
