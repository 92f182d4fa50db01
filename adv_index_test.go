package nest_test

// Adversarial tests of instance indexes (index.go): the consistency
// invariant under concurrency, hostile index contents, interrupted
// Clears, cancelled contexts, Count exactness, WithUndeclared and indexes
// nested three deep.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
)

// failOnce makes the first pipeline or command for which match is true fail
// without reaching Redis, as if the server died just before it.
type failOnce struct {
	match func(args []any) bool
	fired atomic.Bool
}

var errInjected = errors.New("injected: server gone")

func (f *failOnce) hit(cmds []redis.Cmder) bool {
	if f.fired.Load() {
		return false
	}
	for _, c := range cmds {
		if f.match(c.Args()) && f.fired.CompareAndSwap(false, true) {
			return true
		}
	}
	return false
}

func (f *failOnce) DialHook(next redis.DialHook) redis.DialHook { return next }

func (f *failOnce) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if f.hit([]redis.Cmder{cmd}) {
			cmd.SetErr(errInjected)
			return errInjected
		}
		return next(ctx, cmd)
	}
}

func (f *failOnce) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if f.hit(cmds) {
			for _, c := range cmds {
				c.SetErr(errInjected)
			}
			return errInjected
		}
		return next(ctx, cmds)
	}
}

func addHook(rdb redis.UniversalClient, h redis.Hook) {
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		cc.OnNewNode(func(c *redis.Client) { c.AddHook(h) })
	}
	rdb.AddHook(h)
}

func argIs(args []any, i int, s string) bool {
	return len(args) > i && strings.EqualFold(fmt.Sprint(args[i]), s)
}

// rootKeys lists every key under root: (any node).
func rootKeys(t *testing.T, rdb redis.UniversalClient) []string {
	t.Helper()
	return scanAll(t, rdb, "root*")
}

// checkInvariant: every user with a key is in root:user, every session
// with a key in its user's index.
func checkInvariant(t *testing.T, root *ixRoot, rdb redis.UniversalClient, users, sessions int) {
	t.Helper()
	ctx := t.Context()
	for i := range users {
		u := root.User.At(i)
		n, err := u.Count(ctx, nest.WithUndeclared())
		must(t, err)
		in, err := rdb.SIsMember(ctx, "root:user", fmt.Sprint("user:", i)).Result()
		must(t, err)
		if n > 0 && !in {
			t.Errorf("user %d holds %d keys but is not in root:user", i, n)
		}
		for s := range sessions {
			sn := u.Session.At(fmt.Sprint("s", s))
			if k, _ := sn.Count(ctx, nest.WithUndeclared()); k > 0 {
				if m, _ := rdb.SIsMember(ctx, fmt.Sprintf("root:user:%d:session", i), fmt.Sprint("session:s", s)).Result(); !m {
					t.Errorf("session s%d of user %d holds %d keys but is not indexed", s, i, k)
				}
			}
		}
	}
}

// 64 goroutines mix every kind of write with Clears of instances and of
// the parent and with Instances (which removes stale members).
func TestAdvIndexConcurrentEveryWrite(t *testing.T) {
	root, rdb := newIxRoot(t)
	ctx := t.Context()
	const users, sessions = 8, 3
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for i := range 40 {
				u := root.User.At((g*5 + i) % users)
				s := u.Session.At(fmt.Sprint("s", (g+i)%sessions))
				var err error
				switch (g + i) % 12 {
				case 0:
					err = u.Age.Set(ctx, i)
				case 1:
					_, err = u.Visits.Incr(ctx)
				case 2:
					_, err = u.Tags.Add(ctx, "a", "b")
				case 3:
					_, err = s.Hits.Incr(ctx)
				case 4:
					p := root.Pipeline()
					u.Age.In(p).Set(ctx, 1)
					s.Data.In(p).Set(ctx, "q")
					err = p.Exec(ctx)
				case 5:
					_, err = u.Age.Update(ctx, func(cur int, _ bool) (int, error) { return cur + 1, nil })
				case 6:
					// Rename to an indexed destination under another user.
					// (On Redis Cluster an unpinned RENAME is CROSSSLOT.)
					src := root.User.At(100 + g).Session.At("r").Data
					if err = src.Set(ctx, "r"); err == nil && !onCluster {
						err = src.Rename(ctx, u.Session.At("moved").Data)
					}
				case 7:
					_, err = u.Clear(ctx)
				case 8:
					_, err = s.Clear(ctx)
				case 9:
					if g%8 == 0 {
						_, err = root.Clear(ctx)
					} else {
						err = u.Setting.At("lang").Set(ctx, "fr")
					}
				case 10:
					for _, e := range root.User.Instances(ctx) {
						if e != nil {
							err = e
						}
					}
				case 11:
					for _, e := range u.Session.Instances(ctx) {
						if e != nil {
							err = e
						}
					}
				}
				if err != nil && !errors.Is(err, nest.ErrNotFound) {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	checkInvariant(t, root, rdb, users, sessions)
	for g := range 64 {
		u := root.User.At(100 + g)
		if n, _ := u.Count(ctx, nest.WithUndeclared()); n > 0 {
			if in, _ := rdb.SIsMember(ctx, "root:user", fmt.Sprint("user:", 100+g)).Result(); !in {
				t.Errorf("user %d holds keys but is not indexed", 100+g)
			}
		}
	}
	if _, err := root.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if left := rootKeys(t, rdb); len(left) > 0 {
		t.Fatalf("left after Clear: %v", left)
	}
}

// hostile members written by a raw client into the index.
func TestAdvIndexHostileMembers(t *testing.T) {
	root, rdb := newIxRoot(t)
	ctx := t.Context()
	must(t, root.User.At(1).Age.Set(ctx, 1))
	huge := "user:" + strings.Repeat("9", 1<<20)
	hostile := []any{"user:*", "user:[1]", "user:1:age", "user:?", "user:", ":", "user:\xff\xfe", huge, "session:1", "user:1 2", "user:-1"}
	must(t, rdb.SAdd(ctx, "root:user", hostile...).Err())
	// Keys the hostile members might be mistaken for: they must survive
	// everything but... none is in the subtree except via a declared name.
	decoys := []string{"root:user:*", "root:user:[1]", "root:user:1:age:x", "root:user:?:agex", "other:user:1:age", "root:userx"}
	writeKeys(t, rdb, decoys...)
	var skipped []string
	var ids []string
	for u, err := range root.User.Instances(ctx, nest.WithSkipped(func(s string) { skipped = append(skipped, s) })) {
		if err != nil {
			t.Fatalf("Instances: %v", err)
		}
		ids = append(ids, u.Params()["user_id"])
	}
	if len(ids) != 1 || ids[0] != "1" {
		t.Errorf("Instances = %q, want [1] (skipped %d)", ids, len(skipped))
	}
	n, err := root.Count(ctx)
	if err != nil || n != 2 { // root:user:1:age and the index root:user
		t.Errorf("Count = %d, %v; want 2", n, err)
	}
	if _, err := root.Clear(ctx); err != nil {
		t.Fatalf("Clear: %v", err)
	}
	assertExist(t, rdb, decoys)
	assertAbsent(t, rdb, "root:user:1:age")
}

// The index key holds a string: every operation fails naming it, and
// nothing outside the subtree is deleted.
func TestAdvIndexWrongType(t *testing.T) {
	root, rdb := newIxRoot(t)
	ctx := t.Context()
	must(t, root.User.At(1).Age.Set(ctx, 1))
	must(t, rdb.Del(ctx, "root:user").Err())
	must(t, rdb.Set(ctx, "root:user", "a string", 0).Err())
	writeKeys(t, rdb, "other", "root:userx")
	named := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: no error with a WRONGTYPE index", what)
			return
		}
		if !strings.Contains(err.Error(), "root:user") || !strings.Contains(err.Error(), "WRONGTYPE") {
			t.Errorf("%s: %v; want the index key named and WRONGTYPE", what, err)
		}
	}
	named("Set", root.User.At(2).Age.Set(ctx, 2))
	_, err := root.User.At(2).Visits.Incr(ctx)
	named("Incr", err)
	for _, err := range root.User.Instances(ctx) {
		named("Instances", err)
	}
	_, err = root.Count(ctx)
	named("Count", err)
	_, err = root.Clear(ctx)
	named("Clear", err)
	assertExist(t, rdb, []string{"other", "root:userx"})
	if got := rawGet(t, rdb, "root:user"); got != "a string" {
		t.Errorf("root:user = %q", got)
	}
}

// A Clear of the parent interrupted after it has unindexed an instance
// but before it reached the instance's nested index: running Clear again
// must finish the job (the package doc promises it), and meanwhile the
// invariant must hold.
func TestAdvIndexClearInterruptedNested(t *testing.T) {
	root, rdb := newIxRoot(t)
	ctx := t.Context()
	must(t, root.User.At(1).Age.Set(ctx, 1))
	must(t, root.User.At(1).Session.At("a").Data.Set(ctx, "d"))
	f := &failOnce{match: func(a []any) bool { return argIs(a, 0, "sscan") && argIs(a, 1, "root:user:1:session") }}
	addHook(rdb, f)
	if _, err := root.Clear(ctx); !errors.Is(err, errInjected) {
		t.Fatalf("Clear = %v, want the injected failure", err)
	}
	checkInvariant(t, root, rdb, 2, 1)
	if _, err := root.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if left := rootKeys(t, rdb); len(left) > 0 {
		t.Fatalf("left after the second Clear: %v", left)
	}
}

// A Clear that dies between the removal of instances from their index and
// the deletion of their keys (two round trips on Redis Cluster).
func TestAdvIndexClearInterruptedUnlink(t *testing.T) {
	root, rdb := newIxRoot(t)
	ctx := t.Context()
	must(t, root.User.At(1).Age.Set(ctx, 1))
	f := &failOnce{match: func(a []any) bool { return argIs(a, 0, "unlink") && argIs(a, 1, "root:user:1:age") }}
	addHook(rdb, f)
	_, _ = root.Clear(ctx)
	checkInvariant(t, root, rdb, 2, 0)
	if _, err := root.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if left := rootKeys(t, rdb); len(left) > 0 {
		t.Fatalf("left after the second Clear: %v", left)
	}
}

// Cancelled contexts send nothing and leave the index consistent.
func TestAdvIndexCancelledContext(t *testing.T) {
	root, rdb := newIxRoot(t)
	must(t, root.User.At(1).Age.Set(t.Context(), 1))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := root.User.At(2).Age.Set(ctx, 2); !errors.Is(err, context.Canceled) {
		t.Errorf("Set = %v", err)
	}
	if _, err := root.Clear(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Clear = %v", err)
	}
	for _, err := range root.User.Instances(ctx) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Instances = %v", err)
		}
	}
	assertMembers(t, rdb, "root:user", "user:1")
	checkInvariant(t, root, rdb, 3, 0)
}

// Count is exact over an index of many pages that SSCAN may repeat.
func TestAdvIndexCountExact(t *testing.T) {
	root, rdb := newIxRoot(t)
	ctx := t.Context()
	const n = 3000
	p := root.Pipeline()
	for i := range n {
		root.User.At(i).Age.In(p).Set(ctx, i)
	}
	must(t, p.Exec(ctx))
	// Grow the set while counting, to provoke rehashing and repeats.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 2000 {
			_ = rdb.SAdd(ctx, "root:user", fmt.Sprint("user:", 100000+i)).Err() // stale members
		}
	}()
	c, err := root.Count(ctx, nest.WithChunkSize(64))
	<-done
	if err != nil || c != n+1 {
		t.Fatalf("Count = %d, %v; want %d", c, err, n+1)
	}
	seen := 0
	for _, err := range root.User.Instances(ctx) {
		must(t, err)
		seen++
	}
	if seen != n {
		t.Fatalf("Instances yielded %d, want %d", seen, n)
	}
}

// WithUndeclared + index: undeclared keys are cleared and counted, index
// keys included, and the invariant holds afterwards.
func TestAdvIndexUndeclared(t *testing.T) {
	root, rdb := newIxRoot(t)
	ctx := t.Context()
	u := root.User.At(1)
	must(t, u.Age.Set(ctx, 1))
	must(t, u.Session.At("a").Data.Set(ctx, "d"))
	writeKeys(t, rdb, "root:user:1:legacy")
	n, err := u.Count(ctx, nest.WithUndeclared())
	if err != nil || n != 4 { // age, data, legacy, session index
		t.Fatalf("Count = %d, %v; want 4", n, err)
	}
	if _, err := u.Clear(ctx, nest.WithUndeclared()); err != nil {
		t.Fatal(err)
	}
	assertAbsent(t, rdb, "root:user:1:age", "root:user:1:legacy", "root:user:1:session", "root:user:1:session:a:data")
	checkInvariant(t, root, rdb, 2, 1)
	must(t, u.Age.Set(ctx, 2))
	assertMembers(t, rdb, "root:user", "user:1")
}

// Indexes nested three deep.
type ixDevice struct {
	nest.Namespace `nest:"device:{did}"`
	Token          nest.Key[string] `nest:"token"`
}

type ixDeepSession struct {
	nest.Namespace `nest:"session:{sid}"`
	Device         nest.Sub[ixDevice] `index:"set"`
}

type ixDeepUser struct {
	nest.Namespace `nest:"user:{uid}"`
	Session        nest.Sub[ixDeepSession] `index:"set"`
}

type ixDeepRoot struct {
	nest.Namespace `nest:"root"`
	User           nest.Sub[ixDeepUser] `index:"set"`
}

func TestAdvIndexThreeDeep(t *testing.T) {
	rdb := newRedis(t)
	root, err := nest.New[ixDeepRoot](rdb, nil)
	must(t, err)
	ctx := t.Context()
	for u := range 3 {
		for s := range 2 {
			for d := range 2 {
				must(t, root.User.At(u).Session.At(s).Device.At(d).Token.Set(ctx, "t"))
			}
		}
	}
	assertMembers(t, rdb, "root:user", "user:0", "user:1", "user:2")
	assertMembers(t, rdb, "root:user:1:session", "session:0", "session:1")
	assertMembers(t, rdb, "root:user:1:session:0:device", "device:0", "device:1")
	rec := newRecorder(rdb)
	addHook(rdb, rec)
	n, err := root.Count(ctx)
	if want := int64(12 + 1 + 3 + 6); err != nil || n != want {
		t.Fatalf("Count = %d, %v; want %d", n, err, want)
	}
	var sids []string
	for s, err := range root.User.At(1).Session.Instances(ctx) {
		must(t, err)
		sids = append(sids, s.Params()["sid"])
	}
	if len(sids) != 2 {
		t.Fatalf("sessions = %q", sids)
	}
	// Interrupt a Clear at the deepest index, then finish it.
	f := &failOnce{match: func(a []any) bool { return argIs(a, 0, "sscan") && argIs(a, 1, "root:user:2:session:1:device") }}
	addHook(rdb, f)
	_, _ = root.Clear(ctx)
	if _, err := root.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if scans := rec.named("scan"); len(scans) > 0 {
		t.Fatalf("SCAN sent: %v", scans)
	}
	if left := rootKeys(t, rdb); len(left) > 0 {
		t.Fatalf("left after Clear: %v", left)
	}
}
