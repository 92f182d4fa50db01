package nest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redisimnest/nest"
)

// TestConcurrencyUsers ports the original's concurrency test: goroutines,
// one per user id, write through handles derived from one shared root and
// read their own values back. Every value must land under its own user's
// key; with a shared mutable descriptor, as in the original, they would
// cross.
func TestConcurrencyUsers(t *testing.T) {
	t.Parallel()
	root, rdb := newRoot(t)
	ctx := t.Context()
	const users, messages = 64, 3

	var wg sync.WaitGroup
	errs := make(chan error, users)
	for id := 1; id <= users; id++ {
		wg.Go(func() {
			fail := func(format string, args ...any) {
				errs <- fmt.Errorf("user %d: "+format, append([]any{id}, args...)...)
			}
			// A handle built by this goroutine ...
			u := root.User.At(id)
			if err := u.Age.Set(ctx, id); err != nil {
				fail("set age: %v", err)
				return
			}
			// ... and chains from the shared root.
			if err := root.User.At(id).Name.Set(ctx, "user-"+strconv.Itoa(id)); err != nil {
				fail("set name: %v", err)
				return
			}
			for m := range messages {
				txt := fmt.Sprintf("msg %d of %d", m, id)
				if err := root.User.At(id).Messages.At(m).Text.Set(ctx, txt); err != nil {
					fail("set message: %v", err)
					return
				}
			}
			if v, err := u.Age.Get(ctx); err != nil || v != id {
				fail("age = %d, %v", v, err)
			}
			if v, err := u.Name.Get(ctx); err != nil || v != "user-"+strconv.Itoa(id) {
				fail("name = %q, %v", v, err)
			}
			for m := range messages {
				if v, err := u.Messages.At(m).Text.Get(ctx); err != nil || v != fmt.Sprintf("msg %d of %d", m, id) {
					fail("message %d = %q, %v", m, v, err)
				}
			}
			if got := u.Prefix(); got != "root:user:"+strconv.Itoa(id) {
				fail("prefix = %q", got)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// The raw keys, read back through the client.
	for id := 1; id <= users; id++ {
		if got := rawGet(t, rdb, fmt.Sprintf("root:user:%d:age", id)); got != strconv.Itoa(id) {
			t.Errorf("root:user:%d:age = %q", id, got)
		}
		if got := rawGet(t, rdb, fmt.Sprintf("root:user:%d:name", id)); got != "user-"+strconv.Itoa(id) {
			t.Errorf("root:user:%d:name = %q", id, got)
		}
		for m := range messages {
			if got := rawGet(t, rdb, fmt.Sprintf("root:user:%d:message:%d:text", id, m)); got != fmt.Sprintf("msg %d of %d", m, id) {
				t.Errorf("root:user:%d:message:%d:text = %q", id, m, got)
			}
		}
		if n, err := root.User.At(id).Count(ctx); err != nil || n != 2+messages {
			t.Errorf("user %d Count = %d, %v; want %d", id, n, err, 2+messages)
		}
	}
	if size := dbSize(t, rdb); size != users*(2+messages) {
		t.Fatalf("DBSIZE = %d, want %d", size, users*(2+messages))
	}
}

// TestConcurrencySharedHandle shares one namespace handle and its keys
// between goroutines.
func TestConcurrencySharedHandle(t *testing.T) {
	t.Parallel()
	root, rdb := newRoot(t)
	ctx := t.Context()
	const workers, rounds = 64, 20
	u := root.User.At(7)

	names := make([]string, workers)
	for i := range names {
		names[i] = "name-" + strconv.Itoa(i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				if err := u.Name.Set(ctx, names[w]); err != nil {
					errs <- err
					return
				}
				v, err := u.Name.Get(ctx)
				if err != nil || !slices.Contains(names, v) {
					errs <- fmt.Errorf("worker %d round %d: Get = %q, %v", w, r, v, err)
					return
				}
				if u.Name.Name() != "root:user:7:name" || u.Age.String() != "root:user:7:age" {
					errs <- fmt.Errorf("handle names changed: %s, %s", u.Name, u.Age)
					return
				}
				// Handles derived from the shared one.
				if err := u.Messages.At(w).Text.Set(ctx, names[w]); err != nil {
					errs <- err
					return
				}
			}
			if _, err := u.Age.Update(ctx, func(c int, _ bool) (int, error) { return c + 1, nil }); err != nil {
				errs <- fmt.Errorf("worker %d: Update: %w", w, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	if got := rawGet(t, rdb, "root:user:7:name"); !slices.Contains(names, got) {
		t.Errorf("root:user:7:name = %q, not one of the written values", got)
	}
	if got := rawGet(t, rdb, "root:user:7:age"); got != strconv.Itoa(workers) {
		t.Errorf("root:user:7:age = %q, want %d", got, workers)
	}
	for w := range workers {
		if got := rawGet(t, rdb, fmt.Sprintf("root:user:7:message:%d:text", w)); got != names[w] {
			t.Errorf("message %d = %q, want %q", w, got, names[w])
		}
	}
	if n, err := u.Count(ctx); err != nil || n != workers+2 {
		t.Errorf("Count = %d, %v; want %d", n, err, workers+2)
	}
	if size := dbSize(t, rdb); size != workers+2 {
		t.Errorf("DBSIZE = %d, want %d", size, workers+2)
	}
}

// TestConcurrencyParallelClear clears different users at the same time,
// next to writers of a user that is not cleared.
func TestConcurrencyParallelClear(t *testing.T) {
	t.Parallel()
	root, rdb := newRootWith(t, &nest.Options{ScanCount: 20, DeleteChunkSize: 5})
	ctx := t.Context()
	const users, per = 8, 100
	for id := 1; id <= users; id++ {
		names := make([]string, per)
		for i := range names {
			names[i] = fmt.Sprintf("root:user:%d:message:%d:text", id, i)
		}
		writeKeys(t, rdb, names...)
	}
	var wg sync.WaitGroup
	counts := make([]int64, users+1)
	errs := make(chan error, users+1)
	for id := 1; id <= users; id++ {
		wg.Go(func() {
			n, err := root.User.At(id).Clear(ctx)
			counts[id] = n
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Go(func() { // a writer of user 100, which no Clear may touch
		for i := range per {
			if err := root.User.At(100).Messages.At(i).Text.Set(ctx, "keep"); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for id := 1; id <= users; id++ {
		if counts[id] != per {
			t.Errorf("Clear user %d = %d, want %d", id, counts[id], per)
		}
	}
	if n, err := root.User.At(100).Count(ctx); err != nil || n != per {
		t.Errorf("user 100 Count = %d, %v; want %d", n, err, per)
	}
	if size := dbSize(t, rdb); size != per {
		t.Errorf("DBSIZE = %d, want %d", size, per)
	}
}

// TestAutoPipelinerContexts pins what the README's caveat says: a command
// queued on an AutoPipeliner runs on the pipeliner's own context, so a
// context that has already expired does not stop it (go-redis documents
// this), while a plain client refuses it before sending anything. If
// go-redis starts honouring contexts, this fails and the README must
// change.
func TestAutoPipelinerContexts(t *testing.T) {
	t.Parallel()
	rdb := newRedis(t)
	ap := autoPipeliner(t, rdb)
	plain, err := nest.New[Root](rdb, nil)
	must(t, err)
	viaAP, err := nest.New[Root](ap, nil)
	must(t, err)
	expired, cancel := context.WithTimeout(t.Context(), -time.Second)
	defer cancel()

	if err := plain.User.At(1).Name.Set(expired, "plain"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Set with an expired context through a plain client = %v, want DeadlineExceeded", err)
	}
	if n, err := rdb.Exists(t.Context(), "root:user:1:name").Result(); err != nil || n != 0 {
		t.Fatalf("the plain client's refused Set wrote the key: EXISTS = %d, %v", n, err)
	}
	if err := viaAP.User.At(1).Name.Set(expired, "queued"); err != nil {
		t.Fatalf("Set with an expired context through an AutoPipeliner = %v, want it sent", err)
	}
	if got, err := plain.User.At(1).Name.Get(t.Context()); err != nil || got != "queued" {
		t.Fatalf("after the queued Set: %q, %v; want %q", got, err, "queued")
	}
}
