package nest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest/internal/slot"
	"github.com/redisimnest/nest/internal/tmpl"
)

// A namespace's subtree is what the schema declares under it, and Keys,
// Count and Clear find it from the schema rather than by walking the
// keyspace. The subtree of the namespace instance "root:user:1" is:
//
//   - its prefix key itself, "root:user:1", if someone stored one;
//   - its declared keys ("root:user:1:age"), and, recursively, those of its
//     plain child namespaces together with their prefix keys;
//   - below its parameterised children ([Sub] and [ParamKey] fields),
//     every stored name that parses as an instance's prefix key or as a
//     key declared in an instance ("root:user:1:message:7:text"), with
//     values that [Sub.At] or [ParamKey.At] would accept (so
//     "root:user:1:message:*:text", written by someone else, is not one).
//
// Never "root:user:12", "root:user:1x" or "root:user:1:message:7:x:y" (no
// such key is declared). Undeclared keys directly under a plain prefix,
// such as "root:user:1:legacy", are not part of the subtree either: this
// is what lets a subtree without parameterised children be handled
// without any SCAN. (Before version 0.3 the subtree was the prefix key
// and every name under "prefix:"; [WithUndeclared] asks for that, to
// clean up legacy or foreign data.)
//
// The names the schema knows in full (the first two items) are checked
// with EXISTS or deleted with UNLINK by name, pipelined in chunks: a
// subtree without parameterised children costs one round trip per chunk,
// whatever the size of the database. Below parameterised children the
// names are found by SCAN, which costs O(keyspace) whatever its MATCH
// pattern says; so a call makes at most one SCAN walk (per Redis Cluster
// master), whose MATCH is the narrowest pattern covering all the
// parameterised descendants, and filters the names it returns against the
// schema. Like SCAN, Keys, Count and Clear see every key that exists for
// the whole call; keys written or deleted meanwhile may or may not be
// seen, so a key written during a Clear may survive it.
//
// On Redis Cluster the SCAN walks every master (SCAN through a cluster
// client would reach one node only), and Clear groups deletions by hash
// slot so no command crosses slots. A pinned subtree lives in one slot:
// its SCAN then walks the one master that owns it. The SCANs need a client
// that can reach each server: see [Options.AdminClient].
//
// Memory: Keys and Clear hold one batch of names at a time; Count keeps a
// 64-bit fingerprint (8 bytes) per name found by SCAN, to count each once
// although SCAN may return a name twice (see fingerprints for the odds of
// a collision). Keys yields the known names once each, but may yield a
// name found by SCAN twice, as SCAN does.
//
// Throttling: [WithKeyRate] and [WithCommandRate] bound the load a call
// puts on a live server, and [WithScanCount] the work of each SCAN.

// SubtreeOption adjusts [Namespace.Keys], [Namespace.Count] and
// [Namespace.Clear]. Options that mean nothing to an operation are
// ignored by it.
type SubtreeOption func(*subtreeOptions)

// ClearOption is the former name of [SubtreeOption].
//
// Deprecated: use SubtreeOption, which Keys and Count accept too.
type ClearOption = SubtreeOption

type subtreeOptions struct {
	chunk      int
	scanCount  int64
	progress   func(n int64)
	keyRate    float64
	cmdRate    float64
	undeclared bool
	skipped    func(name string)
}

// WithChunkSize sets how many keys one UNLINK command removes, overriding
// [Options.DeleteChunkSize] for this call. Names known in full go in
// pipelines of that many commands.
func WithChunkSize(n int) SubtreeOption {
	return func(o *subtreeOptions) {
		if n > 0 {
			o.chunk = n
		}
	}
}

// WithScanCount sets the COUNT hint of the SCANs of this call, overriding
// [Options.ScanCount]: a smaller COUNT makes each SCAN shorter (less
// latency for the commands queued behind it on the server) and the walk
// longer.
func WithScanCount(n int) SubtreeOption {
	return func(o *subtreeOptions) {
		if n > 0 {
			o.scanCount = int64(n)
		}
	}
}

// WithProgress calls fn after each batch with the running total: of keys
// deleted by Clear, of keys counted by Count (Keys ignores it). Calls
// never overlap; on Redis Cluster they may come from several goroutines,
// one per master.
func WithProgress(fn func(n int64)) SubtreeOption {
	return func(o *subtreeOptions) { o.progress = fn }
}

// WithKeyRate bounds the keys the call makes Redis examine or delete, per
// second, on average over the call: a SCAN costs its COUNT (the entries it
// examines), each name sent to EXISTS or UNLINK costs one. Batches are
// delayed, never split, so a rate below one batch per second still sends
// whole batches, further apart. On Redis Cluster the rate is shared by
// all masters. Zero or less means no limit.
func WithKeyRate(perSecond float64) SubtreeOption {
	return func(o *subtreeOptions) { o.keyRate = perSecond }
}

// WithCommandRate bounds the commands the call sends per second (a SCAN,
// an UNLINK of a chunk, an EXISTS each count one), on average over the
// call; like [WithKeyRate] it delays batches. Zero or less means no limit.
func WithCommandRate(perSecond float64) SubtreeOption {
	return func(o *subtreeOptions) { o.cmdRate = perSecond }
}

// WithUndeclared widens the subtree to the prefix key and every name
// under "prefix:", declared or not, found by one SCAN walk over the whole
// keyspace: the subtree of versions before 0.3. Use it to clean up keys
// the schema no longer declares, or written by other programs.
func WithUndeclared() SubtreeOption {
	return func(o *subtreeOptions) { o.undeclared = true }
}

// WithSkipped calls fn with each name that the SCAN pattern matched but
// that is not part of the subtree (or not an instance, for the Instances
// iterators): a name that does not parse under the schema's templates, or
// whose parameter values At would refuse. It reports foreign or legacy
// keys sitting among the schema's. On Redis Cluster, Clear may call it
// from several goroutines at once (one per master).
func WithSkipped(fn func(name string)) SubtreeOption {
	return func(o *subtreeOptions) { o.skipped = fn }
}

// walk is one Keys, Count, Clear or Reencrypt call on a namespace
// instance.
type walk struct {
	in   *nsInst
	c    *client
	o    subtreeOptions
	sh   shape
	pace *pacer
	flat bool      // walk the shape's indexes only, not those nested in their instances
	lead *leadCmds // sent with the first SSCANs (index_walk.go)
}

// walk starts a call on the instance's subtree.
func (in *nsInst) walk(opts []SubtreeOption) *walk { return newWalk(in, opts, shape{}) }

// newWalk starts a call on in; a shape with a match is walked instead of
// the subtree's (for Instances).
func newWalk(in *nsInst, opts []SubtreeOption, sh shape) *walk {
	c := in.plan.c
	o := subtreeOptions{chunk: c.chunk, scanCount: c.scanCount}
	for _, opt := range opts {
		opt(&o)
	}
	if sh.match == "" && sh.ixs == nil {
		sh = shapeOf(in, o.undeclared)
	}
	return &walk{in: in, c: c, o: o, sh: sh, pace: newPacer(o.keyRate, o.cmdRate)}
}

// existing calls fn with the known names that exist, one pipeline of
// single-key EXISTS per chunk (single-key commands route to the right
// server whatever the client: cluster, Ring or wrapper), until fn returns
// false; it reports whether fn asked to stop.
func (w *walk) existing(ctx context.Context, fn func([]string) bool) (stopped bool, err error) {
	known := w.sh.fixed
	if len(w.sh.ixKeys) > 0 {
		known = append(known[:len(known):len(known)], w.sh.ixKeys...)
	}
	for names := range chunks(known, w.o.chunk) {
		found, err := w.existingIn(ctx, names)
		if err != nil {
			return false, err
		}
		if f := pick(names, found); len(f) > 0 && !fn(f) {
			return true, nil
		}
	}
	return false, nil
}

// batchName names a batch of keys in a log record.
func batchName(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return fmt.Sprintf("%s (%d %s)", names[0], len(names), plural(len(names), "key", "keys"))
}

// scan walks the servers once with SCAN and calls fn with each batch of
// names of the subtree it finds (possibly repeated, as SCAN may), until fn
// returns false. It does nothing when the subtree has no parameterised
// descendants.
func (w *walk) scan(ctx context.Context, fn func([]string) bool) error {
	if w.sh.match == "" {
		return nil
	}
	nodes, err := w.c.nodes(ctx, w.in.prefix, w.in.plan.pin != nil)
	if err != nil {
		return opError("SCAN", w.in.prefix, err)
	}
	match := w.sh.match
	for _, nd := range nodes {
		var cursor uint64
		for {
			if err := w.pace.wait(ctx, int(w.o.scanCount), 1); err != nil {
				return opError("SCAN", match, nd.wrap(err))
			}
			start := w.c.clock()
			keys, next, err := nd.c.Scan(ctx, cursor, match, w.o.scanCount).Result()
			w.c.logged(ctx, "SCAN", match, 0, start, err)
			if err != nil {
				return opError("SCAN", match, nd.wrap(err))
			}
			if !fn(w.filter(keys)) {
				return nil
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
	}
	return nil
}

// filter keeps, in place, the names of keys that belong to the subtree.
func (w *walk) filter(keys []string) []string {
	out := keys[:0]
	for _, k := range keys {
		switch {
		case w.sh.member(k):
			out = append(out, k)
		case w.o.skipped != nil:
			w.o.skipped(k)
		}
	}
	return out
}

// names calls fn with batches of the subtree's names: first the known
// names that exist, then what SCAN finds.
func (w *walk) names(ctx context.Context, fn func([]string) bool) error {
	stopped, err := w.existing(ctx, fn)
	if err != nil || stopped {
		return err
	}
	stopped, err = w.indexedNames(ctx, fn)
	if err != nil || stopped {
		return err
	}
	return w.scan(ctx, fn)
}

// scan calls fn with batches of subtree key names until fn returns false,
// the walk completes, or an error occurs.
func (in *nsInst) scan(ctx context.Context, fn func([]string) bool) error {
	return in.walk(nil).names(ctx, fn)
}

// Keys iterates over the names of the keys in the namespace's subtree (see
// the package documentation of subtrees), in no particular order: first
// the names the schema knows in full that exist, each once; then the names
// SCAN finds below parameterised children, which, as with SCAN, may come
// twice. It holds one batch of names at a time. Iteration stops at the
// first error, which is yielded with an empty name.
func (n Namespace) Keys(ctx context.Context, opts ...SubtreeOption) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := n.Err(); err != nil {
			yield("", err)
			return
		}
		err := n.ns.walk(opts).names(ctx, func(keys []string) bool {
			for _, k := range keys {
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

// Count returns how many keys the namespace's subtree holds, each counted
// once. Names found by SCAN are de-duplicated through 64-bit fingerprints,
// 8 bytes per name (about 8.5 MB for a million); two distinct names share
// one with a probability of about n²/2⁶⁵, which makes the count one short.
func (n Namespace) Count(ctx context.Context, opts ...SubtreeOption) (int64, error) {
	if err := n.Err(); err != nil {
		return 0, err
	}
	w := n.ns.walk(opts)
	var known int64
	_, err := w.existing(ctx, func(names []string) bool {
		known += int64(len(names))
		if w.o.progress != nil {
			w.o.progress(known)
		}
		return true
	})
	if err != nil {
		return known, err
	}
	var fp fingerprints
	_, err = w.indexedNames(ctx, func(names []string) bool {
		for _, name := range names {
			fp.add(name)
		}
		if w.o.progress != nil && len(names) > 0 {
			w.o.progress(known + int64(fp.n))
		}
		return true
	})
	if err != nil {
		return known + fp.count(), err
	}
	err = w.scan(ctx, func(names []string) bool {
		for _, name := range names {
			fp.add(name)
		}
		if w.o.progress != nil && len(names) > 0 {
			w.o.progress(known + int64(fp.n)) // an upper bound until the end
		}
		return true
	})
	return known + fp.count(), err
}

// Clear deletes every key of the namespace's subtree (see the package
// documentation of subtrees) and returns how many it deleted. The names
// the schema knows in full are deleted by name, one pipeline of UNLINKs
// per chunk; below parameterised children it pipelines each SCAN with the
// UNLINKs of the previous batch (chunked by [Options.DeleteChunkSize]), so
// that part costs about keyspace/ScanCount round trips; on Redis Cluster
// it clears every master concurrently. Cancelling ctx stops it after the
// current batch; it then returns the count so far and the context's
// error. A failing node is named in the error, with the count deleted
// everywhere. Nothing outside the subtree is ever deleted, and running
// Clear again finishes the job.
//
// With an error, the count is a lower bound: when a reply is lost (a
// timeout or a dropped connection after Redis ran the batch), the keys of
// that batch are gone but not counted.
func (n Namespace) Clear(ctx context.Context, opts ...SubtreeOption) (int64, error) {
	if err := n.Err(); err != nil {
		return 0, err
	}
	w := n.ns.walk(opts)
	cl := &clearer{w: w}
	var nodes []node
	if w.sh.match != "" {
		// Found first, so that a client that cannot SCAN deletes nothing.
		var err error
		if nodes, err = w.c.nodes(ctx, w.in.prefix, w.in.plan.pin != nil); err != nil {
			return 0, opError("CLEAR", w.in.prefix, err)
		}
	}
	var err error
	if len(w.sh.ixs) > 0 && len(w.sh.fixed) <= w.o.chunk {
		// The known names go with the first SSCANs of the indexes.
		w.lead = &leadCmds{names: w.sh.fixed, cl: cl}
		err = cl.indexed(ctx)
	} else {
		err = cl.known(ctx)
		if err == nil && len(w.sh.ixs) > 0 {
			err = cl.indexed(ctx)
		}
	}
	if err == nil && len(nodes) > 0 {
		err = cl.nodes(ctx, nodes)
	}
	if err == nil {
		err = cl.unindexSelf(ctx)
	}
	if err != nil {
		return cl.deleted, opError("CLEAR", w.in.prefix, fmt.Errorf("%w (deleted %d keys)", err, cl.deleted))
	}
	return cl.deleted, nil
}

// slotBatchFactor times the chunk size is how many keys a cluster master's
// Clear gathers before deleting them grouped by slot.
const slotBatchFactor = 32

// clearer runs one Clear, possibly on several nodes at once.
type clearer struct {
	w *walk

	mu      sync.Mutex
	deleted int64
}

func (cl *clearer) add(n int64) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.deleted += n
	if cl.w.o.progress != nil {
		cl.w.o.progress(cl.deleted)
	}
}

// known deletes the names the schema knows in full: single-key UNLINKs,
// which any client routes right, one pipeline per chunk.
func (cl *clearer) known(ctx context.Context) error {
	c := cl.w.c
	for names := range chunks(cl.w.sh.fixed, cl.w.o.chunk) {
		if err := cl.w.pace.wait(ctx, len(names), len(names)); err != nil {
			return err
		}
		pipe := c.rdb.Pipeline()
		cmds := make([]*redis.IntCmd, len(names))
		for i, name := range names {
			cmds[i] = pipe.Unlink(ctx, name)
		}
		start := c.clock()
		_, err := pipe.Exec(ctx)
		c.logged(ctx, "UNLINK", batchName(names), 0, start, err)
		var n int64
		for _, cmd := range cmds {
			n += cmd.Val()
		}
		cl.add(n)
		if err != nil {
			return err
		}
	}
	return nil
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

// node clears the subtree's keys on one node that SCAN finds.
func (cl *clearer) node(ctx context.Context, nd node) error {
	w := cl.w
	c, match, count := w.c, w.sh.match, w.o.scanCount
	var pending []string
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
		flush := !nd.bySlot || !more || len(pending) >= slotBatchFactor*w.o.chunk
		var pieces [][]string
		if flush {
			pieces = slices.Collect(cl.chunks(pending, nd.bySlot))
		}
		units, cmds := len(pending), len(pieces)
		if !flush {
			units = 0
		}
		if more {
			units, cmds = units+int(count), cmds+1
		}
		if err := w.pace.wait(ctx, units, cmds); err != nil {
			return nd.wrap(err)
		}
		pipe := nd.c.Pipeline()
		var scan *redis.ScanCmd
		if more {
			scan = pipe.Scan(ctx, cursor, match, count)
		}
		unlinks := make([]*redis.IntCmd, len(pieces))
		for i, piece := range pieces {
			unlinks[i] = pipe.Unlink(ctx, piece...)
		}
		start := c.clock()
		_, err := pipe.Exec(ctx)
		if scan != nil {
			c.logged(ctx, "SCAN", match, 0, start, scan.Err())
		}
		var n int64
		for i, u := range unlinks {
			d, uerr := u.Result()
			if uerr == nil {
				n += d
			}
			c.logged(ctx, "UNLINK", batchName(pieces[i]), 0, start, uerr)
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
			pending, scanned = append(pending, w.filter(keys)...), true
		}
	}
}

// chunks yields the UNLINK argument lists for keys: pieces of at most the
// chunk size, each within one hash slot when bySlot is set.
func (cl *clearer) chunks(keys []string, bySlot bool) iter.Seq[[]string] {
	size := cl.w.o.chunk
	return func(yield func([]string) bool) {
		if !bySlot {
			for piece := range chunks(keys, size) {
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
			for piece := range chunks(group, size) {
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
// It walks the subtree as [Namespace.Keys] does (known names by EXISTS,
// SCAN only below parameterised children), and considers only keys
// matching the declared Secret keys' patterns; values already
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
