package nest_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/redisimnest/nest"
)

func TestSubtreeClearUser(t *testing.T) {
	t.Parallel()
	root, rdb := newRoot(t)
	ctx := t.Context()
	u1 := root.User.At(1)

	writeKeys(t, rdb, userSiblings...)
	must(t, u1.Age.Set(ctx, 30))
	must(t, u1.Name.Set(ctx, "alice"))
	must(t, u1.Messages.At(1).Text.Set(ctx, "hello"))
	must(t, u1.Messages.At(1).Seen.Set(ctx, true))
	must(t, u1.Messages.At(2).Text.Set(ctx, "world"))
	// Undeclared names under the prefix, and names below Messages that do
	// not parse as a message's keys: not part of the subtree unless
	// WithUndeclared asks for everything under "root:user:1:".
	undeclared := []string{
		"root:user:1:undeclared", "root:user:1:a:b:c", "root:user:1:*", "root:user:1:[x]",
		"root:user:1:?", "root:user:1:", "root:user:1::",
		"root:user:1:message:1:x", "root:user:1:message:1:text:y", "root:user:1:message:*:text",
		"root:user:1:message:", "root:user:1:message:1:", "root:user:1:message::text",
	}
	writeKeys(t, rdb, undeclared...)
	writeKeys(t, rdb, "root:user:1", "root:user:1:message:3") // the prefix keys of the user and of a message
	inside := []string{
		"root:user:1", "root:user:1:message:3",
		"root:user:1:age", "root:user:1:name", "root:user:1:message:1:text",
		"root:user:1:message:1:seen", "root:user:1:message:2:text",
	}
	siblingsOnly := dbSize(t, rdb) - int64(len(inside)+len(undeclared))
	if siblingsOnly != int64(len(userSiblings)) {
		t.Fatalf("setup: %d sibling keys, want %d", siblingsOnly, len(userSiblings))
	}

	got := collectKeys(t, u1.Namespace)
	if want := setOf(inside); !maps.Equal(got, want) {
		t.Fatalf("Keys = %v\nwant %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	if n, err := u1.Count(ctx); err != nil || n != int64(len(inside)) {
		t.Fatalf("Count = %d, %v; want %d", n, err, len(inside))
	}

	rec := newRecorder(rdb)
	n, err := u1.Clear(ctx)
	if err != nil || n != int64(len(inside)) {
		t.Fatalf("Clear = %d, %v; want %d", n, err, len(inside))
	}
	for _, c := range rec.named("unlink") {
		for _, a := range c[1:] {
			if k := a.(string); k != "root:user:1" && !strings.HasPrefix(k, "root:user:1:") {
				t.Errorf("Clear sent UNLINK %q outside the subtree", k)
			}
		}
	}
	assertAbsent(t, rdb, inside...)
	assertExist(t, rdb, userSiblings)
	assertExist(t, rdb, undeclared)
	if size := dbSize(t, rdb); size != int64(len(userSiblings)+len(undeclared)) {
		t.Fatalf("DBSIZE after Clear = %d, want %d", size, len(userSiblings)+len(undeclared))
	}
	if n, err := u1.Count(ctx); err != nil || n != 0 {
		t.Fatalf("Count after Clear = %d, %v", n, err)
	}
	if n, err := u1.Clear(ctx); err != nil || n != 0 {
		t.Fatalf("second Clear = %d, %v; want 0", n, err)
	}

	// WithUndeclared: everything under the prefix, as before 0.3.
	if n, err := u1.Count(ctx, nest.WithUndeclared()); err != nil || n != int64(len(undeclared)) {
		t.Fatalf("Count(WithUndeclared) = %d, %v; want %d", n, err, len(undeclared))
	}
	if n, err := u1.Clear(ctx, nest.WithUndeclared()); err != nil || n != int64(len(undeclared)) {
		t.Fatalf("Clear(WithUndeclared) = %d, %v; want %d", n, err, len(undeclared))
	}
	assertExist(t, rdb, userSiblings)
	if size := dbSize(t, rdb); size != int64(len(userSiblings)) {
		t.Fatalf("DBSIZE after Clear(WithUndeclared) = %d, want %d", size, len(userSiblings))
	}

	// Defaults after clear.
	if v, err := u1.Age.Get(ctx); err != nil || v != 0 {
		t.Errorf("age = %d, %v; want 0", v, err)
	}
	if v, err := root.User.At(1).Name.Get(ctx); err != nil || v != "Unknown" {
		t.Errorf("name = %q, %v; want Unknown", v, err)
	}
	if _, err := u1.Messages.At(1).Text.Get(ctx); !errors.Is(err, nest.ErrNotFound) {
		t.Errorf("message text = %v, want ErrNotFound", err)
	}
	if v, err := u1.Messages.At(1).Seen.Get(ctx); err != nil || v {
		t.Errorf("seen = %v, %v; want false", v, err)
	}
}

// TestSubtreeGlobSafety clears user 1 next to one sibling at a time.
func TestSubtreeGlobSafety(t *testing.T) {
	t.Parallel()
	root, rdb := newRoot(t)
	ctx := t.Context()
	for _, sibling := range userSiblings {
		t.Run(sibling, func(t *testing.T) {
			must(t, rdb.FlushDB(ctx).Err())
			writeKeys(t, rdb, sibling, "root:user:1:age")
			u1 := root.User.At(1)
			got := collectKeys(t, u1.Namespace)
			if !maps.Equal(got, map[string]bool{"root:user:1:age": true}) {
				t.Fatalf("Keys = %v", got)
			}
			if n, err := u1.Count(ctx); err != nil || n != 1 {
				t.Fatalf("Count = %d, %v; want 1", n, err)
			}
			if n, err := u1.Clear(ctx); err != nil || n != 1 {
				t.Fatalf("Clear = %d, %v; want 1", n, err)
			}
			assertExist(t, rdb, []string{sibling})
			assertAbsent(t, rdb, "root:user:1:age")
		})
	}

	t.Run("glob parameters refused", func(t *testing.T) {
		must(t, rdb.FlushDB(ctx).Err())
		writeKeys(t, rdb, "root:user:1:age", "root:user:2:age", "root:user:*:age")
		for _, id := range []any{"*", "1*", "?", "[1]", "\\1", "", "1:age", "{1}", "1 "} {
			u := root.User.At(id)
			if n, err := u.Clear(ctx); !errors.Is(err, nest.ErrInvalidParam) || n != 0 {
				t.Errorf("User.At(%q).Clear = %d, %v; want ErrInvalidParam", id, n, err)
			}
			if _, err := u.Count(ctx); !errors.Is(err, nest.ErrInvalidParam) {
				t.Errorf("User.At(%q).Count = %v", id, err)
			}
			for k, err := range u.Keys(ctx) {
				if !errors.Is(err, nest.ErrInvalidParam) || k != "" {
					t.Errorf("User.At(%q).Keys yielded %q, %v", id, k, err)
				}
			}
		}
		if size := dbSize(t, rdb); size != 3 {
			t.Fatalf("DBSIZE = %d, want 3: nothing deleted", size)
		}
	})
}

func TestSubtreeClearApp(t *testing.T) {
	t.Parallel()
	root, rdb := newRoot(t)
	ctx := t.Context()

	must(t, root.App.Tokens.Set(ctx, []string{"a", "b"}))
	must(t, root.App.PendingUsers.Set(ctx, []string{"u1"}))
	writeKeys(t, rdb, "root:app", "root:app:x:y")
	siblings := []string{
		"root:apple", "root:app_x", "root:appx:tokens", "root:app*", "root:ap", "app:tokens",
		"root:user:1:age", "root:project_name", "root:user:1:app:tokens",
	}
	writeKeys(t, rdb, siblings...)

	if n, err := root.App.Count(ctx); err != nil || n != 3 {
		t.Fatalf("Count = %d, %v; want 3 (root:app:x:y is not declared)", n, err)
	}
	n, err := root.App.Clear(ctx)
	if err != nil || n != 3 {
		t.Fatalf("Clear = %d, %v; want 3", n, err)
	}
	assertAbsent(t, rdb, "root:app", "root:app:tokens", "root:app:pending_users")
	assertExist(t, rdb, []string{"root:app:x:y"})
	if n, err := root.App.Clear(ctx, nest.WithUndeclared()); err != nil || n != 1 {
		t.Fatalf("Clear(WithUndeclared) = %d, %v; want 1", n, err)
	}
	assertExist(t, rdb, siblings)
	if size := dbSize(t, rdb); size != int64(len(siblings)) {
		t.Fatalf("DBSIZE = %d, want %d", size, len(siblings))
	}
	tokens, err := root.App.Tokens.Get(ctx)
	if err != nil || tokens == nil || len(tokens) != 0 {
		t.Fatalf("tokens after Clear = %#v, %v; want []", tokens, err)
	}
	if _, err := root.App.PendingUsers.Get(ctx); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("pending users after Clear = %v, want ErrNotFound", err)
	}
}

func TestSubtreeClearRoot(t *testing.T) {
	t.Parallel()
	root, rdb := newRoot(t)
	ctx := t.Context()

	must(t, root.ProjectName.Set(ctx, "p"))
	must(t, root.User.At(1).Age.Set(ctx, 1))
	must(t, root.App.Tokens.Set(ctx, nil))
	writeKeys(t, rdb, "root")
	outside := []string{"rootx", "rootx:a", "roo", "other:root:a", "Root:a", "root*"}
	writeKeys(t, rdb, outside...)

	n, err := root.Clear(ctx)
	if err != nil || n != 4 {
		t.Fatalf("root.Clear = %d, %v; want 4", n, err)
	}
	assertExist(t, rdb, outside)
	if size := dbSize(t, rdb); size != int64(len(outside)) {
		t.Fatalf("DBSIZE = %d, want %d", size, len(outside))
	}
}

func TestSubtreeLarge(t *testing.T) {
	t.Parallel()
	const n = 2500
	for _, tc := range []struct {
		name      string
		opts      *nest.Options
		clear     []nest.SubtreeOption
		chunk     int   // expected largest UNLINK, 0 to skip the check
		scanCount int64 // expected SCAN COUNT
	}{
		{"Options", &nest.Options{ScanCount: 10, DeleteChunkSize: 7}, nil, 7, 10},
		{"WithChunkSize", &nest.Options{ScanCount: 10}, []nest.SubtreeOption{nest.WithChunkSize(7)}, 7, 10},
		{"WithChunkSize overrides Options", &nest.Options{ScanCount: 10, DeleteChunkSize: 500},
			[]nest.SubtreeOption{nest.WithChunkSize(3)}, 3, 10},
		{"WithChunkSize(0) keeps Options", &nest.Options{ScanCount: 25, DeleteChunkSize: 4},
			[]nest.SubtreeOption{nest.WithChunkSize(0)}, 4, 25},
		{"defaults", nil, nil, 0, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root, rdb := newRootWith(t, tc.opts)
			ctx := t.Context()
			u1 := root.User.At(1)
			written := fillUser(t, rdb, n)
			total := int64(len(written))

			rec := newRecorder(rdb)
			if c, err := u1.Count(ctx); err != nil || c != total {
				t.Fatalf("Count = %d, %v; want %d", c, err, total)
			}
			if got := collectKeys(t, u1.Namespace); !maps.Equal(got, setOf(written)) {
				t.Fatalf("Keys returned %d names, want the %d written", len(got), total)
			}
			scans := rec.named("scan")
			if onCluster {
				return // node clients do not run the recording hook; Count and Keys were checked above
			}
			if tc.scanCount == 10 && len(scans) < int(total)/10 {
				t.Fatalf("Count and Keys sent %d SCANs, want many with COUNT 10", len(scans))
			}
			for _, c := range scans {
				if got := fmt.Sprint(c[len(c)-1]); got != fmt.Sprint(tc.scanCount) || !strings.EqualFold(fmt.Sprint(c[len(c)-2]), "count") {
					t.Fatalf("SCAN args %v, want COUNT %d", c, tc.scanCount)
				}
			}

			var progress []int64
			opts := append(slices.Clone(tc.clear), nest.WithProgress(func(d int64) { progress = append(progress, d) }))
			cleared, err := u1.Clear(ctx, opts...)
			if err != nil || cleared != total {
				t.Fatalf("Clear = %d, %v; want %d", cleared, err, total)
			}
			if len(progress) == 0 || progress[len(progress)-1] != cleared {
				t.Fatalf("progress %v does not end at %d", progress, cleared)
			}
			if !slices.IsSorted(progress) {
				t.Fatalf("progress not non-decreasing: %v", progress)
			}
			if tc.scanCount == 10 && len(progress) < int(total)/20 {
				t.Fatalf("only %d progress calls for %d keys with ScanCount 10", len(progress), total)
			}

			unlinks := rec.named("unlink")
			var unlinked, largest int
			for _, c := range unlinks {
				keys := len(c) - 1
				unlinked += keys
				largest = max(largest, keys)
				for _, a := range c[1:] {
					if k := a.(string); k != "root:user:1" && !strings.HasPrefix(k, "root:user:1:") {
						t.Fatalf("UNLINK of %q outside the subtree", k)
					}
				}
			}
			if unlinked < int(total) {
				t.Fatalf("UNLINKs named %d keys, want at least %d", unlinked, total)
			}
			if tc.chunk > 0 {
				if largest > tc.chunk {
					t.Fatalf("an UNLINK named %d keys, chunk size is %d", largest, tc.chunk)
				}
				if largest != tc.chunk {
					t.Fatalf("largest UNLINK named %d keys, want full chunks of %d", largest, tc.chunk)
				}
			}

			if c, err := u1.Count(ctx); err != nil || c != 0 {
				t.Fatalf("Count after Clear = %d, %v", c, err)
			}
			assertExist(t, rdb, userSiblings)
			if size := dbSize(t, rdb); size != int64(len(userSiblings)) {
				t.Fatalf("DBSIZE = %d, want %d siblings", size, len(userSiblings))
			}
		})
	}
}

func TestSubtreeKeysEarlyBreak(t *testing.T) {
	t.Parallel()
	root, rdb := newRootWith(t, &nest.Options{ScanCount: 10})
	ctx := t.Context()
	written := setOf(fillUser(t, rdb, 200))
	u1 := root.User.At(1)

	for _, stop := range []int{1, 2, 5, 37, 201} {
		t.Run(fmt.Sprint(stop), func(t *testing.T) {
			var got []string
			for k, err := range u1.Keys(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, k)
				if len(got) == stop {
					break
				}
			}
			if len(got) != stop {
				t.Fatalf("got %d names, want %d", len(got), stop)
			}
			for _, k := range got {
				if !written[k] {
					t.Fatalf("Keys yielded %q, not written", k)
				}
			}
			if len(setOf(got)) != len(got) {
				t.Fatalf("duplicate names in %v", got)
			}
		})
	}
	if c, err := u1.Count(ctx); err != nil || c != 201 {
		t.Fatalf("Count = %d, %v; want 201", c, err)
	}
}

func TestSubtreeClearCancel(t *testing.T) {
	t.Parallel()
	const n = 2500
	for _, tc := range []struct {
		name     string
		cancelAt int64 // cancel at the first progress report >= cancelAt
	}{
		{"after first batch", 0},
		{"after 500", 500},
		{"after 2000", 2000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root, rdb := newRootWith(t, &nest.Options{ScanCount: 10, DeleteChunkSize: 7})
			written := fillUser(t, rdb, n)
			total := int64(len(written))
			u1 := root.User.At(1)
			rec := newRecorder(rdb)

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var (
				calls, callsAtCancel int
				unlinksAtCancel            = -1
				atCancel             int64 = -1
			)
			cleared, err := u1.Clear(ctx, nest.WithProgress(func(d int64) {
				calls++
				if atCancel < 0 && d >= tc.cancelAt {
					atCancel, callsAtCancel = d, calls
					unlinksAtCancel = len(rec.named("unlink"))
					cancel()
				}
			}))
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Clear = %d, %v; want context.Canceled", cleared, err)
			}
			if !strings.Contains(err.Error(), "root:user:1") {
				t.Errorf("error %q does not name the namespace", err)
			}
			if onCluster {
				// The other masters finish the batch they had in flight;
				// the count still covers exactly what was deleted (below).
				if cleared < atCancel {
					t.Fatalf("Clear returned %d, progress had reported %d", cleared, atCancel)
				}
			} else if cleared != atCancel {
				t.Fatalf("Clear returned %d, progress reported %d when cancelled", cleared, atCancel)
			}
			if onCluster {
				// Node clients do not run the recording hook.
			} else if calls != callsAtCancel {
				t.Fatalf("progress called %d times after cancel", calls-callsAtCancel)
			}
			if got := len(rec.named("unlink")); got != unlinksAtCancel {
				t.Fatalf("%d UNLINKs sent after cancel", got-unlinksAtCancel)
			}
			if cleared >= total {
				t.Fatalf("Clear deleted all %d keys before stopping", cleared)
			}

			bg := t.Context()
			remaining, err := u1.Count(bg)
			if err != nil || remaining != total-cleared {
				t.Fatalf("Count after cancel = %d, %v; want %d - %d = %d", remaining, err, total, cleared, total-cleared)
			}
			assertExist(t, rdb, userSiblings)

			rest, err := u1.Clear(bg)
			if err != nil || rest != remaining {
				t.Fatalf("second Clear = %d, %v; want %d", rest, err, remaining)
			}
			if c, err := u1.Count(bg); err != nil || c != 0 {
				t.Fatalf("Count after second Clear = %d, %v", c, err)
			}
			if size := dbSize(t, rdb); size != int64(len(userSiblings)) {
				t.Fatalf("DBSIZE = %d, want %d siblings", size, len(userSiblings))
			}
		})
	}
}

func TestSubtreeZeroNamespace(t *testing.T) {
	t.Parallel()
	var ns nest.Namespace
	ctx := t.Context()
	if n, err := ns.Clear(ctx); !errors.Is(err, nest.ErrNotBound) || n != 0 {
		t.Fatalf("Clear = %d, %v", n, err)
	}
	if _, err := ns.Count(ctx); !errors.Is(err, nest.ErrNotBound) {
		t.Fatalf("Count = %v", err)
	}
	for k, err := range ns.Keys(ctx) {
		if !errors.Is(err, nest.ErrNotBound) || k != "" {
			t.Fatalf("Keys yielded %q, %v", k, err)
		}
	}
}

// TestSubtreeClearCancelFromOtherGoroutine cancels Clear from another
// goroutine at an arbitrary moment: whenever it stops, the count it
// returns is the number of keys it deleted.
func TestSubtreeClearCancelFromOtherGoroutine(t *testing.T) {
	t.Parallel()
	root, rdb := newRootWith(t, &nest.Options{ScanCount: 10, DeleteChunkSize: 7})
	written := fillUser(t, rdb, 2500)
	total := int64(len(written))
	u1 := root.User.At(1)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	started := make(chan struct{})
	var once sync.Once
	go func() {
		<-started
		cancel()
	}()
	cleared, err := u1.Clear(ctx, nest.WithProgress(func(d int64) {
		if d > 100 {
			once.Do(func() { close(started) })
		}
	}))
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Clear = %d, %v; want nil or context.Canceled", cleared, err)
	}
	remaining, cerr := u1.Count(t.Context())
	if cerr != nil || remaining != total-cleared {
		t.Fatalf("Clear returned %d (err %v); Count = %d, %v; want %d", cleared, err, remaining, cerr, total-cleared)
	}
	assertExist(t, rdb, userSiblings)
	t.Logf("cancelled after %d of %d keys (err %v)", cleared, total, err)
}
