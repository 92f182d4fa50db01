package nest

import (
	"context"
	"fmt"
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
		cmds := make([]*redis.ScanCmd, n)
		for i, ref := range part {
			cmds[i] = pipe.SScan(ctx, ref.key, 0, "", int64(w.o.chunk))
		}
		start := w.c.clock()
		_, err := pipe.Exec(ctx)
		w.c.logged(ctx, "SSCAN", part[0].key, 0, start, err)
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

// unindexOwn queues on pipe the removal of the walked instance from its
// parent's index, when it is an instance of an indexed Sub, so that it
// leaves the index before Clear deletes its keys. It reports whether it
// queued anything.
func (cl *clearer) unindexOwn(ctx context.Context, pipe redis.Pipeliner) bool {
	in := cl.w.in
	if cl.w.o.undeclared || in.plan.index == nil || !in.plan.sub {
		return false
	}
	e := instanceEntry(in.plan, in.prefix)
	pipe.SRem(ctx, e.key, e.member)
	return true
}

// indexed clears the instances listed in the subtree's indexes: for each
// page, their members leave the index first, then their known names are
// unlinked (in the same pipeline on a single server, where commands run in
// order; in two on Redis Cluster or a Ring, where they could reach
// different servers). Members that do not parse leave the index too.
func (cl *clearer) indexed(ctx context.Context) error {
	w, c := cl.w, cl.w.c
	ordered := c.ordered()
	_, err := w.indexes(ctx, w.sh.ixs, func(bs []*ixBatch) (bool, error) {
		var names []string
		pipe := c.rdb.Pipeline()
		var srems int
		for _, b := range bs {
			if len(b.members)+len(b.bad) == 0 {
				continue
			}
			args := make([]any, 0, len(b.members)+len(b.bad))
			for _, m := range b.members {
				args = append(args, m)
			}
			for _, m := range b.bad {
				args = append(args, m)
			}
			pipe.SRem(ctx, b.ref.key, args...)
			srems++
			names = append(names, b.names...)
		}
		if srems == 0 {
			return true, nil
		}
		if err := w.pace.wait(ctx, len(names), srems+len(names)); err != nil {
			return false, err
		}
		start := c.clock()
		if !ordered {
			if _, err := pipe.Exec(ctx); err != nil {
				c.logged(ctx, "SREM", bs[0].ref.key, 0, start, err)
				return false, fmt.Errorf("SREM %s: %w", bs[0].ref.key, err)
			}
			pipe = c.rdb.Pipeline()
		}
		unlinks := make([]*redis.IntCmd, len(names))
		for i, name := range names {
			unlinks[i] = pipe.Unlink(ctx, name)
		}
		_, err := pipe.Exec(ctx)
		c.logged(ctx, "SREM+UNLINK", batchName(names), 0, start, err)
		var n int64
		for _, u := range unlinks {
			n += u.Val()
		}
		cl.add(n)
		return err == nil, err
	})
	return err
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
