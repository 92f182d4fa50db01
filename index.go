package nest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest/internal/tmpl"
)

// Instance indexes.
//
// A [Sub] or [ParamKey] field tagged `index:"set"` keeps the set of its
// instances in a Redis set inside the parent namespace, so that
// [Sub.Instances], [ParamKey.Instances], and Keys, Count and Clear of the
// parent find the instances without SCAN. The set is named after the
// literal start of the field's template ("root:user" for `user:{user_id}`
// under root), or as the tag says (`index:"set,users"`: "root:users"); it
// holds each instance's own segment as it appears in key names ("user:42";
// for a ParamKey the key's own name, "session:s1").
//
// The consistency model, in short: the index is a superset of the
// instances that have keys, for every write made through nest.
//
//   - Every write through nest that can create a key under an indexed
//     instance (Set, SetNX, GetSet, Restore, Rename's destination, every
//     counter and collection write, Update, and their queued forms) adds
//     the instance to the index: in the same MULTI/EXEC, one round trip,
//     when the index and the key share a server and slot (a standalone
//     Redis, or a pinned subtree). Where they do not (Redis Cluster, a
//     Ring), the write goes first and the index update follows once it
//     succeeded, a second round trip; queued writes in a [Pipe] there send
//     both in the pipe, in no guaranteed order (a Clear racing with that
//     pipe can leave its new key out of the index: RepairIndex). A
//     transaction ([Pipe] from TxPipeline, [Namespace.Watch]) on Redis
//     Cluster needs the index in the key's slot: pin the parent.
//   - Clear deletes an instance's keys first, then removes it from its
//     index only if none of its known keys and nested index keys exists
//     (lua/unindex.lua on a single server; EXISTS, SREM, then EXISTS again
//     and SADD back on Redis Cluster). So an interrupted Clear (a killed
//     server, a lost connection, a cancelled context) leaves every instance
//     that still has keys in its index, and running it again finishes the
//     job; a write racing with it keeps or re-adds its instance. Clear
//     never deletes an index key: it empties it, member by member, and Redis
//     drops the empty set; Count counts an index key, and Clear counts it
//     as deleted when it empties it.
//   - A key that expires, or is deleted by Delete or another client, leaves
//     its instance in the index: a stale member. Instances (and Keys, Count
//     and Clear) check each member's keys and skip stale ones; Instances
//     also removes them, with a script that removes a member only if none
//     of its keys exists (atomic on a standalone server or a pinned subtree;
//     on Redis Cluster stale members are skipped and left to RepairIndex).
//   - A key written by another client (redis-cli, the Python original)
//     is not in the index until nest writes under its instance, and a
//     failed write can leave a stale member; [Sub.RepairIndex] and
//     [ParamKey.RepairIndex] rebuild the index from a SCAN.
//   - An instance whose keys can only be found by SCAN (a child Sub or
//     ParamKey without an index) is never taken for stale, and subtree
//     operations still SCAN below it.
//   - Locks ([Lock]) do not update indexes: a lock is not an instance's data.
//
// The index key itself carries no TTL.

// indexPlan is the declaration of an instance index.
type indexPlan struct {
	name string        // the index key's name within the parent namespace: "user"
	tmpl tmpl.Template // name, parsed (static)
}

// parseIndexTag reads an `index` tag on a field whose template is tp.
func parseIndexTag(v string, tp tmpl.Template) (*indexPlan, error) {
	kind, name, _ := strings.Cut(v, ",")
	if kind != "set" {
		return nil, fmt.Errorf("index tag %q: want \"set\" or \"set,NAME\"", v)
	}
	if name == "" {
		lit := tp.String()
		if i := strings.IndexByte(lit, '{'); i >= 0 {
			lit = lit[:i]
		}
		name = strings.TrimRight(lit, ":")
		if name == "" {
			return nil, fmt.Errorf("index tag %q: the template %q starts with a parameter, so the index needs a name: `index:\"set,NAME\"`", v, tp)
		}
	}
	nt, err := tmpl.Parse(name)
	if err != nil || !nt.Static() {
		return nil, fmt.Errorf("index tag %q: the name %q must be a literal key name", v, name)
	}
	return &indexPlan{name: name, tmpl: nt}, nil
}

// fullSegments returns how many ':'-separated segments the namespace's
// full prefix spans (parameter values hold no ':').
func (p *nsPlan) fullSegments() int { return strings.Count(p.pattern, ":") + 1 }

// linkIndexes records, on every key of the tree under p, the indexed
// namespaces enclosing it (innermost first), after compilation.
func linkIndexes(p *nsPlan) {
	for _, k := range p.keys {
		if k.param && k.index == nil {
			p.scanBelow = true
		}
		for q := p; q != nil; q = q.parent {
			if q.index != nil {
				k.ixs = append(k.ixs, q)
			}
		}
		k.indexed = k.index != nil || len(k.ixs) > 0
	}
	for _, ch := range p.children {
		linkIndexes(ch)
		if ch.scanBelow || ch.sub && ch.index == nil {
			p.scanBelow = true
		}
	}
}

// ixEntry is one index update: member added to the set key.
type ixEntry struct{ key, member string }

// cutPrefix returns the first n ':'-separated segments of s.
func cutPrefix(s string, n int) string {
	head, _, _ := cutSegments(s, n)
	return head
}

// instanceEntry returns the index entry of the instance of the indexed
// Sub plan q whose full prefix starts name (a key or namespace prefix).
func instanceEntry(q *nsPlan, name string) ixEntry {
	parent := cutPrefix(name, q.parent.fullSegments())
	inst := cutPrefix(name, q.fullSegments())
	return ixEntry{parent + ":" + q.index.name, inst[len(parent)+1:]}
}

// indexEntries returns the index updates a write of h needs: one per
// indexed instance the key lies in.
func (h *keyHandle) indexEntries() []ixEntry {
	p := h.p
	out := make([]ixEntry, 0, len(p.ixs)+1)
	if p.index != nil {
		ns := h.prefix()
		out = append(out, ixEntry{ns + ":" + p.index.name, h.name[len(ns)+1:]})
	}
	for _, q := range p.ixs {
		out = append(out, instanceEntry(q, h.name))
	}
	return out
}

// queueIndex queues, before a write of h that can create its key, the
// index updates it needs (nothing for a key outside indexed instances).
func (h *keyHandle) queueIndex(ctx context.Context, c interface {
	SAdd(ctx context.Context, key string, members ...any) *redis.IntCmd
}) {
	if h.p == nil || !h.p.indexed {
		return
	}
	for _, e := range h.indexEntries() {
		c.SAdd(ctx, e.key, e.member)
	}
}

// sendIndexed sends a write of h that can create its key together with
// its index updates, which queue adds (through setCmd, writeCmd or
// queueIndex): in one MULTI/EXEC when they share h's slot and server.
// Elsewhere (Redis Cluster, a Ring) the write goes first and the index
// updates follow in a second round trip once it succeeded: sent together,
// servers could run them in any order, and a Clear removing the instance
// between the index update and the write would leave the new key out of
// the index. A failed index update fails the write's command (the write
// itself happened: RepairIndex adds the instance).
func sendIndexed[C redis.Cmder](ctx context.Context, h *keyHandle, c redis.Cmdable, queue func(pp redis.Pipeliner) C) C {
	if h.crossSlotIndex() {
		pp := c.Pipeline()
		cmd := queue(noIndex{pp})
		_, _ = pp.Exec(ctx)                                            // cmd carries its own error
		if err := cmd.Err(); err == nil || errors.Is(err, redis.Nil) { // SET ... GET of a new key replies nil
			if err := h.indexAfter(ctx); err != nil {
				cmd.SetErr(err)
			}
		}
		return cmd
	}
	pp := c.TxPipeline()
	cmd := queue(pp)
	cmds, _ := pp.Exec(ctx) // cmd carries its own error
	if err := cmd.Err(); err == nil || errors.Is(err, redis.Nil) {
		for _, x := range cmds {
			if x != redis.Cmder(cmd) && x.Err() != nil {
				cmd.SetErr(&indexError{key: fmt.Sprint(x.Args()[1]), err: x.Err()})
				break
			}
		}
	}
	return cmd
}

// crossSlotIndex reports whether h lies in an indexed instance whose index
// lives in another slot or shard than the key (Redis Cluster, a Ring):
// then no MULTI can hold both.
func (h *keyHandle) crossSlotIndex() bool {
	if !h.p.indexed || h.p.c.ordered() {
		return false
	}
	keys := []string{h.name}
	for _, e := range h.indexEntries() {
		keys = append(keys, e.key)
	}
	return h.p.c.sameSlot(keys...) != nil
}

// indexAfter adds h's instance to its indexes after a write that kept
// them out of its MULTI or pipeline (see crossSlotIndex).
func (h *keyHandle) indexAfter(ctx context.Context) error {
	if !h.crossSlotIndex() {
		return nil
	}
	ents := h.indexEntries()
	pp := h.p.c.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(ents))
	for i, e := range ents {
		cmds[i] = pp.SAdd(ctx, e.key, e.member)
	}
	_, _ = pp.Exec(ctx)
	for i, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			return &indexError{key: ents[i].key, err: err}
		}
	}
	return nil
}

// indexError is the failure of an index update sent with a write. It is
// kept apart from the write's own errors: a WRONGTYPE reply here is about
// the index key (a raw client stored something else under its name), not
// the key written, and must not be reported as the declared key's type.
type indexError struct {
	key string // the index key
	err error
}

func (e *indexError) Error() string { return "index " + e.key + ": " + e.err.Error() }
func (e *indexError) Unwrap() error { return e.err }

// doWrite is do for a write that can create h's key: with its index
// updates when h lies in an indexed instance.
func doWrite[C redis.Cmder](ctx context.Context, h *keyHandle, op string, ttl time.Duration, send func(redis.Cmdable) C) C {
	if !h.p.indexed {
		return do(ctx, h, op, ttl, send)
	}
	c := h.p.c
	start := c.clock()
	cmd := sendIndexed(ctx, h, c.rdb, func(pp redis.Pipeliner) C {
		h.queueIndex(ctx, pp)
		return send(pp)
	})
	c.logged(ctx, op, h.name, ttl, start, cmd.Err())
	return cmd
}

// RepairIndex rebuilds the instance index of an indexed Sub (`index` tag)
// from a SCAN of the parent's keyspace, as [Sub.Instances] without an
// index walks it: instances found are added, and members whose instances
// have no key are removed. Use it after keys were written by another
// client, or to clean stale members on Redis Cluster. It returns how many
// members it added and removed, and accepts the throttling options of
// [Namespace.Keys]. Writes through nest may run meanwhile.
func (s Sub[U]) RepairIndex(ctx context.Context, opts ...SubtreeOption) (added, removed int64, err error) {
	switch {
	case s.h.plan == nil:
		return 0, 0, ErrNotBound
	case s.h.parent.err != nil:
		return 0, 0, s.h.parent.err
	case s.h.plan.index == nil:
		return 0, 0, fmt.Errorf("%w: %s has no index (tag it `index:\"set\"`)", ErrConfig, s.h.plan.path)
	}
	return s.h.indexRef().repair(ctx, &s.h.parent, opts, func(fn func(string) bool) error {
		return s.h.scanInstances(ctx, opts, fn)
	})
}

// RepairIndex is [Sub.RepairIndex] for an indexed ParamKey.
func (p ParamKey[T]) RepairIndex(ctx context.Context, opts ...SubtreeOption) (added, removed int64, err error) {
	h := p.h
	switch {
	case h.p == nil:
		return 0, 0, ErrNotBound
	case h.err != nil:
		return 0, 0, h.err
	case h.p.index == nil:
		return 0, 0, fmt.Errorf("%w: %s has no index (tag it `index:\"set\"`)", ErrConfig, h.p.path)
	}
	in := h.inst()
	return h.indexRef().repair(ctx, &in, opts, func(fn func(string) bool) error {
		return h.scanKeys(ctx, opts, fn)
	})
}

// txPipe prepares a write of h inside one of nest's own transactions
// (Update, Rename of a Secret): the index updates go in the MULTI, except
// where the index lies in another slot or shard than the key
// (crossSlotIndex); there the caller adds them after the EXEC, with
// indexAfter.
func (h *keyHandle) txPipe(p redis.Pipeliner) redis.Pipeliner {
	if h.crossSlotIndex() {
		return noIndex{p}
	}
	return p
}

// noIndex is a pipeline that leaves index updates to indexAfter.
type noIndex struct{ redis.Pipeliner }

func (noIndex) SAdd(ctx context.Context, _ string, _ ...any) *redis.IntCmd {
	return redis.NewIntCmd(ctx)
}
