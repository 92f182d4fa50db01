package nest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest/internal/slot"
	"github.com/redisimnest/nest/internal/tmpl"
)

// A namespace's subtree is its prefix key itself ("root:user:1") and every
// key under "root:user:1:" — never "root:user:12". Keys, Count and Clear
// find them with SCAN and a glob-escaped pattern, so they never block Redis
// the way KEYS does. Like SCAN, they see every key that exists for the whole
// call; keys written or deleted meanwhile may or may not be seen, so a key
// written during a Clear may survive it.
//
// On Redis Cluster they walk every master (SCAN through a cluster client
// would reach one node only), and Clear groups deletions by hash slot so no
// command crosses slots. A pinned subtree lives in one slot: they then talk
// to the one master that owns it.

// ClearOption adjusts [Namespace.Clear].
type ClearOption func(*clearOptions)

type clearOptions struct {
	chunk    int
	progress func(deleted int64)
}

// WithChunkSize sets how many keys one UNLINK command removes, overriding
// [Options.DeleteChunkSize] for this call.
func WithChunkSize(n int) ClearOption {
	return func(o *clearOptions) {
		if n > 0 {
			o.chunk = n
		}
	}
}

// WithProgress calls fn after each batch of deletions with the running
// total. Calls never overlap; on Redis Cluster they may come from several
// goroutines, one per master.
func WithProgress(fn func(deleted int64)) ClearOption {
	return func(o *clearOptions) { o.progress = fn }
}

// subtreePattern is the SCAN pattern of everything strictly under prefix.
func subtreePattern(prefix string) string { return tmpl.EscapeGlob(prefix) + ":*" }

// nodes returns the servers that may hold keys of the subtree.
func (in *nsInst) nodes(ctx context.Context) ([]node, error) {
	return in.plan.c.nodes(ctx, in.prefix, in.plan.pin != nil)
}

// Keys iterates over the names of the keys in the namespace's subtree, each
// once, in no particular order. Iteration stops at the first error, which
// is yielded with an empty name. It remembers the names it has yielded
// (SCAN may return a key twice), so memory grows with the subtree.
func (n Namespace) Keys(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := n.Err(); err != nil {
			yield("", err)
			return
		}
		seen := make(map[string]struct{})
		err := n.ns.scan(ctx, func(keys []string) bool {
			for _, k := range keys {
				if _, dup := seen[k]; dup {
					continue
				}
				seen[k] = struct{}{}
				if !yield(k, nil) {
					return false
				}
			}
			return true
		})
		if err != nil {
			yield("", err)
		}
	}
}

// Count returns how many keys the namespace's subtree holds.
func (n Namespace) Count(ctx context.Context) (int64, error) {
	var count int64
	for _, err := range n.Keys(ctx) {
		if err != nil {
			return count, err
		}
		count++
	}
	return count, nil
}

// scan calls fn with batches of subtree key names until fn returns false,
// the scan completes, or an error occurs.
func (in *nsInst) scan(ctx context.Context, fn func([]string) bool) error {
	c := in.plan.c
	start := c.clock()
	n, err := c.rdb.Exists(ctx, in.prefix).Result()
	c.logged(ctx, "EXISTS", in.prefix, 0, start, err)
	if err != nil {
		return opError("EXISTS", in.prefix, err)
	}
	if n == 1 && !fn([]string{in.prefix}) {
		return nil
	}
	nodes, err := in.nodes(ctx)
	if err != nil {
		return opError("SCAN", in.prefix, err)
	}
	match := subtreePattern(in.prefix)
	for _, nd := range nodes {
		var cursor uint64
		for {
			start := c.clock()
			keys, next, err := nd.c.Scan(ctx, cursor, match, c.scanCount).Result()
			c.logged(ctx, "SCAN", match, 0, start, err)
			if err != nil {
				return opError("SCAN", match, nd.wrap(err))
			}
			if !fn(in.within(keys)) {
				return nil
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
	}
	return nil
}

// within drops any name outside the subtree. SCAN's pattern already
// guarantees this; the check keeps Clear exact even against a server that
// matched loosely.
func (in *nsInst) within(keys []string) []string {
	out := keys[:0]
	for _, k := range keys {
		if len(k) > len(in.prefix) && k[len(in.prefix)] == ':' && strings.HasPrefix(k, in.prefix) {
			out = append(out, k)
		}
	}
	return out
}

// Clear deletes every key of the namespace's subtree and returns how many
// it deleted. It pipelines each SCAN with the UNLINKs of the previous
// batch (chunked by [Options.DeleteChunkSize]), so a subtree of n keys
// costs about n/ScanCount round trips; on Redis Cluster it clears every
// master concurrently. Cancelling ctx stops it after the current batch; it
// then returns the count so far and the context's error. A failing node
// is named in the error, with the count deleted everywhere. Nothing outside
// the subtree is ever deleted, and running Clear again finishes the job.
//
// With an error, the count is a lower bound: when a reply is lost (a
// timeout or a dropped connection after Redis ran the batch), the keys of
// that batch are gone but not counted.
func (n Namespace) Clear(ctx context.Context, opts ...ClearOption) (int64, error) {
	if err := n.Err(); err != nil {
		return 0, err
	}
	in := n.ns
	c := in.plan.c
	o := clearOptions{chunk: c.chunk}
	for _, opt := range opts {
		opt(&o)
	}
	nodes, err := in.nodes(ctx)
	if err != nil {
		return 0, opError("CLEAR", in.prefix, err)
	}
	cl := &clearer{in: in, o: o, match: subtreePattern(in.prefix)}
	if !slices.ContainsFunc(nodes, func(nd node) bool { return nd.owner }) {
		start := c.clock()
		n, err := c.rdb.Unlink(ctx, in.prefix).Result()
		c.logged(ctx, "UNLINK", in.prefix, 0, start, err)
		if err != nil {
			return 0, opError("CLEAR", in.prefix, err)
		}
		cl.add(n)
	}
	if err = cl.nodes(ctx, nodes); err != nil {
		return cl.deleted, opError("CLEAR", in.prefix, fmt.Errorf("%w (deleted %d keys)", err, cl.deleted))
	}
	return cl.deleted, nil
}

// slotBatchFactor times the chunk size is how many keys a cluster master's
// Clear gathers before deleting them grouped by slot.
const slotBatchFactor = 32

// clearer runs one Clear, possibly on several nodes at once.
type clearer struct {
	in    *nsInst
	o     clearOptions
	match string

	mu      sync.Mutex
	deleted int64
}

func (cl *clearer) add(n int64) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.deleted += n
	if cl.o.progress != nil {
		cl.o.progress(cl.deleted)
	}
}

// nodes clears every node, concurrently, and joins their errors.
func (cl *clearer) nodes(ctx context.Context, nodes []node) error {
	if len(nodes) == 1 {
		return cl.node(ctx, nodes[0])
	}
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, nd := range nodes {
		wg.Go(func() { errs[i] = cl.node(ctx, nd) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// node clears the subtree's keys on one node.
func (cl *clearer) node(ctx context.Context, nd node) error {
	c := cl.in.plan.c
	var pending []string
	if nd.owner {
		pending = []string{cl.in.prefix} // the prefix key itself, if any
	}
	var cursor uint64
	scanned := false
	for {
		if err := ctx.Err(); err != nil {
			return nd.wrap(err)
		}
		more := !scanned || cursor != 0
		if !more && len(pending) == 0 {
			return nil
		}
		// On a cluster master, keys gather over several SCANs first: a
		// batch spreads over thousands of slots, and grouping more keys
		// per slot means far fewer UNLINK commands for Redis to run.
		flush := !nd.bySlot || !more || len(pending) >= slotBatchFactor*cl.o.chunk
		pipe := nd.c.Pipeline()
		var scan *redis.ScanCmd
		if more {
			scan = pipe.Scan(ctx, cursor, cl.match, c.scanCount)
		}
		var unlinks []*redis.IntCmd
		if flush {
			for chunk := range cl.chunks(pending, nd.bySlot) {
				unlinks = append(unlinks, pipe.Unlink(ctx, chunk...))
			}
		}
		start := c.clock()
		_, err := pipe.Exec(ctx)
		if scan != nil {
			c.logged(ctx, "SCAN", cl.match, 0, start, scan.Err())
		}
		var n int64
		for _, u := range unlinks {
			d, uerr := u.Result()
			if uerr == nil {
				n += d
			}
			c.logged(ctx, "UNLINK", fmt.Sprintf("%s (%d %s)", u.Args()[1], len(u.Args())-1, plural(len(u.Args())-1, "key", "keys")), 0, start, uerr)
		}
		if len(unlinks) > 0 {
			cl.add(n)
		}
		if err != nil {
			return nd.wrap(err)
		}
		if flush {
			pending = pending[:0]
		}
		if scan != nil {
			var keys []string
			keys, cursor = scan.Val()
			pending, scanned = append(pending, cl.in.within(keys)...), true
		}
	}
}

// chunks yields the UNLINK argument lists for keys: pieces of at most the
// chunk size, each within one hash slot when bySlot is set.
func (cl *clearer) chunks(keys []string, bySlot bool) iter.Seq[[]string] {
	return func(yield func([]string) bool) {
		if !bySlot {
			for piece := range chunks(keys, cl.o.chunk) {
				if !yield(piece) {
					return
				}
			}
			return
		}
		groups := make(map[int][]string)
		for _, k := range keys {
			s := slot.Of(k)
			groups[s] = append(groups[s], k)
		}
		for _, group := range groups {
			for piece := range chunks(group, cl.o.chunk) {
				if !yield(piece) {
					return
				}
			}
		}
	}
}

// chunks yields consecutive pieces of s of at most size elements.
func chunks(s []string, size int) iter.Seq[[]string] {
	return func(yield func([]string) bool) {
		for len(s) > 0 {
			n := min(size, len(s))
			if !yield(s[:n:n]) {
				return
			}
			s = s[n:]
		}
	}
}

// Reencrypt rewrites, under the keyring's current key, every [Secret]
// value in the namespace's subtree that was sealed with another key, and
// returns how many it rewrote. It completes a key rotation:
//
//  1. put a new key first in the keyring (keep the old ones) and deploy it
//     to every instance, so that all new values are sealed with it;
//  2. call Reencrypt on the root namespace (or on any subtree);
//  3. remove the old keys from the keyring.
//
// It is also the one call that moves the secrets of the original Python
// package to nest's format, once no Python reader remains: drop the
// `codec:"redisimnest"` tags (or [OriginalOptions].Secrets), give the
// schema a keyring and keep Options.Original.EncryptionKey, deploy, run
// Reencrypt, then remove the EncryptionKey. Until then a Secret in nest's
// format opens the original's Fernet values too, and Reencrypt rewrites
// them (TTL kept) like values of an old key. Secrets still declared in the
// original's format are left alone: Python reads them.
//
// It walks the subtree with SCAN, as [Namespace.Keys] does, and considers
// only keys matching the declared Secret keys' patterns; values already
// sealed with the current key are not even opened. Each rewrite is a
// compare-and-set script that keeps the key's TTL and leaves a value that
// changed since it was read alone (a concurrent Set seals with the current
// key anyway). GETs and rewrites are pipelined per SCAN batch.
//
// A value that does not open (tampered, or sealed with a key no longer in
// the keyring), or a key holding another Redis type than a string
// (WRONGTYPE), is left as it is; Reencrypt goes on with the others and
// then returns the count and an error that says how many values it left
// and wraps the first one's error (matching [ErrDecrypt] for a value that
// does not open). A failure of Redis itself (a lost connection, a
// timeout) stops it at once.
func (n Namespace) Reencrypt(ctx context.Context) (int64, error) {
	if err := n.Err(); err != nil {
		return 0, err
	}
	in := n.ns
	var pats []string
	secretPatterns(in.plan, &pats)
	if len(pats) == 0 {
		return 0, nil
	}
	var (
		done    int64
		failed  []error
		sendErr error
	)
	err := in.scan(ctx, func(names []string) bool {
		var secrets []string
		for _, name := range names {
			for _, p := range pats {
				if tmpl.MatchPattern(p, name) {
					secrets = append(secrets, name)
					break
				}
			}
		}
		if len(secrets) > 0 {
			var m int64
			m, failed, sendErr = reencrypt(ctx, in.plan.c, secrets, failed)
			done += m
		}
		return sendErr == nil
	})
	switch {
	case err != nil:
		return done, err
	case sendErr != nil:
		return done, sendErr
	case len(failed) > 0:
		return done, opError("REENCRYPT", in.prefix, fmt.Errorf("%d secret %s could not be re-encrypted and %s left as %s; the first: %w",
			len(failed), plural(len(failed), "value", "values"), plural(len(failed), "was", "were"), plural(len(failed), "it was", "they are"), failed[0]))
	}
	return done, nil
}

// reencrypt re-seals the values of names (all Secret keys) that are not
// sealed with the current key: one pipeline of GETs, then one of
// compare-and-set scripts. Values that do not open are appended to failed.
func reencrypt(ctx context.Context, c *client, names []string, failed []error) (int64, []error, error) {
	r := c.keys
	pipe := c.rdb.Pipeline()
	gets := make([]*redis.StringCmd, len(names))
	for i, name := range names {
		gets[i] = pipe.Get(ctx, name)
	}
	start := c.clock()
	_, err := pipe.Exec(ctx) // errors are read per command
	c.logged(ctx, "GET", fmt.Sprintf("%s (and %d more)", names[0], len(names)-1), 0, start, err)
	var (
		sets     []*redis.Cmd
		setNames []string
	)
	for i, g := range gets {
		stored, err := g.Result()
		switch {
		case err == redis.Nil:
			continue // deleted meanwhile
		case isReplyError(err):
			// This key's own problem (WRONGTYPE): the others go on.
			failed = append(failed, opError("GET", names[i], err))
			continue
		case err != nil:
			return 0, failed, opError("GET", names[i], err)
		}
		if r.Current([]byte(stored)) {
			continue
		}
		pt, err := c.openOurs(names[i], []byte(stored)) // the original's values too, with its key
		if err != nil {
			failed = append(failed, opError("REENCRYPT", names[i], fmt.Errorf("%w: %v", ErrDecrypt, err)))
			continue
		}
		sealed := r.Seal(names[i], pt)
		clear(pt)
		sets = append(sets, casScript.Eval(ctx, pipe, []string{names[i]}, stored, sealed))
		setNames = append(setNames, names[i])
	}
	if len(sets) == 0 {
		return 0, failed, nil
	}
	start = c.clock()
	_, err = pipe.Exec(ctx)
	c.logged(ctx, "REENCRYPT", fmt.Sprintf("%d keys from %s", len(sets), setNames[0]), 0, start, err)
	var (
		done    int64
		sendErr error
	)
	for i, cmd := range sets {
		n, err := cmd.Int()
		switch {
		case err == nil:
			if n == 1 {
				done++
			}
		case isReplyError(err):
			// This key's own problem (it became a hash meanwhile, say):
			// the others go on.
			failed = append(failed, opError("REENCRYPT", setNames[i], err))
		case sendErr == nil:
			sendErr = opError("REENCRYPT", setNames[i], fmt.Errorf("%w (a batch of %d keys)", err, len(sets)))
		}
	}
	return done, failed, sendErr
}

// secretPatterns appends the SCAN patterns of the Secret keys declared in
// p and below.
func secretPatterns(p *nsPlan, pats *[]string) {
	for _, k := range p.keys {
		if k.kind == kindSecret && !k.original { // the original's Fernet values stay for its readers
			*pats = append(*pats, k.pattern)
		}
	}
	for _, c := range p.children {
		secretPatterns(c, pats)
	}
}

// isReplyError reports whether err is an error reply of Redis about one
// command (WRONGTYPE, ...), rather than a failure of the connection.
func isReplyError(err error) bool {
	var re redis.Error
	return errors.As(err, &re)
}
