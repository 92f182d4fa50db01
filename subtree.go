package nest

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest/internal/tmpl"
)

// A namespace's subtree is its prefix key itself ("root:user:1") and every
// key under "root:user:1:" — never "root:user:12". Keys, Count and Clear
// find them with SCAN and a glob-escaped pattern, so they never block Redis
// the way KEYS does. Like SCAN, they see every key that exists for the whole
// call; keys written or deleted meanwhile may or may not be seen.

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
// total. fn runs on the calling goroutine.
func WithProgress(fn func(deleted int64)) ClearOption {
	return func(o *clearOptions) { o.progress = fn }
}

// subtreePattern is the SCAN pattern of everything strictly under prefix.
func subtreePattern(prefix string) string { return tmpl.EscapeGlob(prefix) + ":*" }

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
	c.dispatch(ctx, "EXISTS", in.prefix, 0)
	n, err := c.rdb.Exists(ctx, in.prefix).Result()
	if err != nil {
		return opError("EXISTS", in.prefix, err)
	}
	if n == 1 && !fn([]string{in.prefix}) {
		return nil
	}
	match := subtreePattern(in.prefix)
	var cursor uint64
	for {
		c.dispatch(ctx, "SCAN", match, 0)
		keys, next, err := c.rdb.Scan(ctx, cursor, match, c.scanCount).Result()
		if err != nil {
			return opError("SCAN", match, err)
		}
		if !fn(in.within(keys)) {
			return nil
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
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
// costs about n/ScanCount round trips. Cancelling ctx stops it after the
// current batch; it then returns the count so far and the context's error.
// Nothing outside the subtree is ever deleted.
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
	match := subtreePattern(in.prefix)
	var (
		deleted int64
		cursor  uint64
		pending = []string{in.prefix} // the prefix key itself, if any
		scanned = false
	)
	for {
		if err := ctx.Err(); err != nil {
			return deleted, fmt.Errorf("CLEAR %s: %w (deleted %d keys)", in.prefix, err, deleted)
		}
		more := !scanned || cursor != 0
		if !more && len(pending) == 0 {
			return deleted, nil
		}
		pipe := c.rdb.Pipeline()
		var scan *redis.ScanCmd
		if more {
			c.dispatch(ctx, "SCAN", match, 0)
			scan = pipe.Scan(ctx, cursor, match, c.scanCount)
		}
		var unlinks []*redis.IntCmd
		for chunk := range chunks(pending, o.chunk) {
			c.dispatch(ctx, "UNLINK", chunk[0], 0)
			unlinks = append(unlinks, pipe.Unlink(ctx, chunk...))
		}
		_, err := pipe.Exec(ctx)
		for _, u := range unlinks {
			if n, uerr := u.Result(); uerr == nil {
				deleted += n
			}
		}
		if err != nil {
			return deleted, fmt.Errorf("CLEAR %s: %w (deleted %d keys)", in.prefix, err, deleted)
		}
		if o.progress != nil && len(unlinks) > 0 {
			o.progress(deleted)
		}
		pending = nil
		if scan != nil {
			var keys []string
			keys, cursor = scan.Val()
			pending, scanned = in.within(keys), true
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
