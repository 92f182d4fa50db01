package nest_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
)

// The indexed schema: users listed in root:user, each user's sessions in
// root:user:{id}:session and settings in root:user:{id}:setting.
type ixSession struct {
	nest.Namespace `nest:"session:{sid}"`
	Data           nest.Key[string] `nest:"data"`
	Hits           nest.Counter     `nest:"hits"`
}

type ixUser struct {
	nest.Namespace `nest:"user:{user_id}" ttl:"120s"`
	Age            nest.Key[int]         `nest:"age"`
	Tags           nest.Set[string]      `nest:"tags"`
	Visits         nest.Counter          `nest:"visits"`
	Session        nest.Sub[ixSession]   `index:"set"`
	Setting        nest.ParamKey[string] `nest:"setting:{name}" index:"set"`
	Profile        struct {
		nest.Namespace `nest:"profile"`
		Bio            nest.Key[string] `nest:"bio"`
	}
}

type ixRoot struct {
	nest.Namespace `nest:"root"`
	User           nest.Sub[ixUser] `index:"set"`
	Name           nest.Key[string] `nest:"name"`
}

func newIxRoot(t *testing.T) (*ixRoot, redis.UniversalClient) {
	t.Helper()
	rdb := newRedis(t)
	root, err := nest.New[ixRoot](rdb, nil)
	if err != nil {
		t.Fatalf("nest.New: %v", err)
	}
	return root, rdb
}

// assertMembers checks the members of an index set.
func assertMembers(t *testing.T, rdb redis.UniversalClient, key string, want ...string) {
	t.Helper()
	got, err := rdb.SMembers(t.Context(), key).Result()
	if err != nil {
		t.Fatalf("SMEMBERS %s: %v", key, err)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("index %s = %q, want %q", key, got, want)
	}
}

func TestIndexWritesAddInstances(t *testing.T) {
	root, rdb := newIxRoot(t)
	ctx := t.Context()
	pc := &pipelineCounter{}
	rdb.AddHook(pc)
	_, _ = root.User.At(0).Visits.Incr(ctx) // loads the scripts
	writes := []struct {
		user  int
		what  string
		write func(u *ixUser) error
	}{
		{1, "Set", func(u *ixUser) error { return u.Age.Set(ctx, 30) }},
		{2, "SetNX", func(u *ixUser) error { _, err := u.Age.SetNX(ctx, 1); return err }},
		{3, "GetSet", func(u *ixUser) error { _, _, err := u.Age.GetSet(ctx, 2); return err }},
		{4, "Set.Add", func(u *ixUser) error { _, err := u.Tags.Add(ctx, "a"); return err }},
		{5, "Counter.Incr", func(u *ixUser) error { _, err := u.Visits.Incr(ctx); return err }},
		{6, "plain child", func(u *ixUser) error { return u.Profile.Bio.Set(ctx, "hi") }},
		{7, "Update", func(u *ixUser) error {
			_, err := u.Age.Update(ctx, func(n int, _ bool) (int, error) { return n + 1, nil })
			return err
		}},
	}
	for _, w := range writes {
		u := root.User.At(w.user)
		before := pc.calls.Load()
		if err := w.write(u); err != nil {
			t.Fatalf("%s: %v", w.what, err)
		}
		if n := pc.calls.Load() - before; n != 1 && w.what != "Update" {
			t.Errorf("%s: %d round trips, want 1", w.what, n)
		}
	}
	assertMembers(t, rdb, "root:user", "user:0", "user:1", "user:2", "user:3", "user:4", "user:5", "user:6", "user:7")

	// Nested: a session's write adds the session to the user's index and
	// the user to root's, in one round trip.
	u9 := root.User.At(9)
	before := pc.calls.Load()
	must(t, u9.Session.At("s1").Data.Set(ctx, "x"))
	if n := pc.calls.Load() - before; n != 1 {
		t.Errorf("nested Set: %d round trips, want 1", n)
	}
	_, err := u9.Session.At("s2").Hits.IncrBy(ctx, 2)
	must(t, err)
	must(t, u9.Setting.At("theme").Set(ctx, "dark"))
	assertMembers(t, rdb, "root:user:9:session", "session:s1", "session:s2")
	assertMembers(t, rdb, "root:user:9:setting", "setting:theme")
	if ok, _ := rdb.SIsMember(ctx, "root:user", "user:9").Result(); !ok {
		t.Fatal("user:9 not in root:user after a nested write")
	}

	// Queued writes in a pipeline, and in a transaction on a single server.
	p := root.Pipeline()
	root.User.At(10).Age.In(p).Set(ctx, 1)
	root.User.At(11).Session.At("q").Data.In(p).Set(ctx, "y")
	must(t, p.Exec(ctx))
	assertMembers(t, rdb, "root:user:11:session", "session:q")
	for _, m := range []string{"user:10", "user:11"} {
		if ok, _ := rdb.SIsMember(ctx, "root:user", m).Result(); !ok {
			t.Fatalf("%s not in root:user after a queued write", m)
		}
	}

	// Reads, deletes and writes outside indexed instances touch no index.
	before = int64(len(mustMembers(t, rdb, "root:user")))
	must(t, root.Name.Set(ctx, "n"))
	if _, err := root.User.At(50).Age.Get(ctx); !errors.Is(err, nest.ErrNotFound) {
		t.Fatal(err)
	}
	if n := int64(len(mustMembers(t, rdb, "root:user"))); n != before {
		t.Fatalf("root:user grew from %d to %d on a read", before, n)
	}
}

func mustMembers(t *testing.T, rdb redis.UniversalClient, key string) []string {
	t.Helper()
	m, err := rdb.SMembers(t.Context(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestIndexSubtreeWithoutScan(t *testing.T) {
	root, rdb := newIxRoot(t)
	ctx := t.Context()
	var inside []string
	for i := range 5 {
		u := root.User.At(i)
		must(t, u.Age.Set(ctx, i))
		inside = append(inside, u.Age.Name())
		for j := range 3 {
			s := u.Session.At(fmt.Sprint("s", j))
			must(t, s.Data.Set(ctx, "d"))
			inside = append(inside, s.Data.Name())
		}
		must(t, u.Setting.At("lang").Set(ctx, "fr"))
		inside = append(inside, u.Setting.At("lang").Name(), fmt.Sprintf("root:user:%d:session", i), fmt.Sprintf("root:user:%d:setting", i))
	}
	must(t, root.Name.Set(ctx, "n"))
	inside = append(inside, "root:name", "root:user")
	// Decoys: names no nest write made, which are not in any index.
	decoys := []string{"root:user:12", "root:user:1x", "root:user:1:age:x", "root:users", "root:user:*:age", "other"}
	writeKeys(t, rdb, decoys...)

	rec := newRecorder(rdb)
	got := collectKeys(t, root.Namespace)
	if want := setOf(inside); !maps.Equal(got, want) {
		t.Fatalf("Keys = %v\nwant %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	if n, err := root.Count(ctx); err != nil || n != int64(len(inside)) {
		t.Fatalf("Count = %d, %v; want %d", n, err, len(inside))
	}
	n, err := root.Clear(ctx)
	if err != nil || n != int64(len(inside))-1-5*2 { // index keys are emptied, not counted as deleted
		t.Fatalf("Clear = %d, %v; want %d", n, err, len(inside)-11)
	}
	if scans := rec.named("scan"); len(scans) > 0 {
		t.Fatalf("a subtree walk through indexes sent SCAN: %v", scans)
	}
	assertAbsent(t, rdb, inside...)
	assertExist(t, rdb, decoys)
}

func TestIndexClearUserRoundTrips(t *testing.T) {
	root, rdb := newIxRoot(t)
	ctx := t.Context()
	u := root.User.At(42)
	must(t, u.Age.Set(ctx, 1))
	must(t, u.Profile.Bio.Set(ctx, "b"))
	for i := range 10 {
		must(t, u.Session.At(fmt.Sprint("s", i)).Data.Set(ctx, "d"))
	}
	must(t, root.User.At(420).Age.Set(ctx, 2))
	pc := &pipelineCounter{}
	rdb.AddHook(pc)
	n, err := u.Clear(ctx)
	if err != nil || n != 12 {
		t.Fatalf("Clear = %d, %v; want 12", n, err)
	}
	max := int64(3)
	if onCluster {
		max = 5 // index removals go in their own round trip before the deletions
	}
	if calls := pc.calls.Load(); calls > max {
		t.Fatalf("Clear of an indexed user with 10 sessions: %d round trips, want <= %d", calls, max)
	}
	assertMembers(t, rdb, "root:user", "user:420")
	assertAbsent(t, rdb, "root:user:42:session", "root:user:42:age", "root:user:42:profile:bio")
	if v, err := root.User.At(420).Age.Get(ctx); err != nil || v != 2 {
		t.Fatalf("user 420: %d, %v", v, err)
	}
}

func TestIndexInstancesSkipStale(t *testing.T) {
	root, rdb := newIxRoot(t)
	ctx := t.Context()
	must(t, root.User.At(1).Age.Set(ctx, 1))
	must(t, root.User.At(2).Age.Set(ctx, 2))
	must(t, root.User.At(3).Session.At("a").Data.Set(ctx, "x"))
	must(t, root.User.At(4).Age.Set(ctx, 4))
	// User 2's key is deleted by hand, user 4's expires: both stale.
	must(t, rdb.Del(ctx, "root:user:2:age").Err())
	must(t, rdb.PExpire(ctx, "root:user:4:age", time.Millisecond).Err())
	time.Sleep(20 * time.Millisecond)
	// A foreign member and a hostile one are never taken for instances.
	must(t, rdb.SAdd(ctx, "root:user", "user:*", "bogus", "user:1:x").Err())
	var skipped []string
	var ids []string
	for u, err := range root.User.Instances(ctx, nest.WithSkipped(func(s string) { skipped = append(skipped, s) })) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.Params()["user_id"])
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"1", "3"}) {
		t.Fatalf("Instances = %v, want [1 3]", ids)
	}
	if len(skipped) != 3 {
		t.Fatalf("skipped %q, want the 3 foreign members", skipped)
	}
	if onCluster {
		return // stale members are left to RepairIndex there
	}
	assertMembers(t, rdb, "root:user", "user:1", "user:3", "user:*", "bogus", "user:1:x")

	var keys []string
	for k, err := range root.User.At(3).Session.At("a").Namespace.Keys(ctx) {
		must(t, err)
		keys = append(keys, k)
	}
	if len(keys) != 1 {
		t.Fatalf("Keys = %v", keys)
	}
}

func TestIndexParamKeyInstances(t *testing.T) {
	root, rdb := newIxRoot(t)
	ctx := t.Context()
	u := root.User.At(5)
	for _, name := range []string{"theme", "lang", "tz"} {
		must(t, u.Setting.At(name).Set(ctx, "v"))
	}
	must(t, rdb.Del(ctx, "root:user:5:setting:tz").Err())
	var names []string
	for k, err := range u.Setting.Instances(ctx) {
		must(t, err)
		names = append(names, k.Params()["name"])
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"lang", "theme"}) {
		t.Fatalf("Instances = %v", names)
	}
}

func TestIndexRepair(t *testing.T) {
	root, rdb := newIxRoot(t)
	ctx := t.Context()
	must(t, root.User.At(1).Age.Set(ctx, 1))
	// Written by another client: not indexed.
	writeKeys(t, rdb, "root:user:7:age", "root:user:8:session:z:data", "root:user:12x:bad:name")
	// A stale member.
	must(t, rdb.SAdd(ctx, "root:user", "user:99").Err())
	added, removed, err := root.User.RepairIndex(ctx)
	if err != nil || added != 2 || removed != 1 {
		t.Fatalf("RepairIndex = %d, %d, %v; want 2, 1", added, removed, err)
	}
	assertMembers(t, rdb, "root:user", "user:1", "user:7", "user:8")
	added, removed, err = root.User.At(8).Session.RepairIndex(ctx)
	if err != nil || added != 1 || removed != 0 {
		t.Fatalf("Session.RepairIndex = %d, %d, %v; want 1, 0", added, removed, err)
	}
	assertMembers(t, rdb, "root:user:8:session", "session:z")
	if _, _, err := root.User.At(1).Setting.RepairIndex(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestIndexConcurrentWritesAndClears(t *testing.T) {
	root, rdb := newIxRoot(t)
	ctx := t.Context()
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for i := range 30 {
				u := root.User.At((g*7 + i) % 16)
				var err error
				switch i % 3 {
				case 0:
					err = u.Age.Set(ctx, i)
				case 1:
					err = u.Session.At(fmt.Sprint("s", g%4)).Data.Set(ctx, "x")
				default:
					_, err = u.Clear(ctx)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// Superset: every user with a key is in the index, every session in
	// its user's.
	for i := range 16 {
		u := root.User.At(i)
		n, err := u.Count(ctx, nest.WithUndeclared())
		must(t, err)
		in, _ := rdb.SIsMember(ctx, "root:user", fmt.Sprint("user:", i)).Result()
		if n > 0 && !in {
			t.Errorf("user %d holds %d keys but is not in root:user", i, n)
		}
		for s := range 4 {
			ok, _ := rdb.Exists(ctx, u.Session.At(fmt.Sprint("s", s)).Data.Name()).Result()
			if ok == 1 {
				if m, _ := rdb.SIsMember(ctx, fmt.Sprintf("root:user:%d:session", i), fmt.Sprint("session:s", s)).Result(); !m {
					t.Errorf("session s%d of user %d exists but is not indexed", s, i)
				}
			}
		}
	}
	// A final Clear through the index leaves nothing.
	if _, err := root.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(ctx, "root:*").Result()
	if err == nil && len(keys) > 0 && !onCluster {
		t.Fatalf("left after Clear: %v", keys)
	}
}

func TestIndexSchemaErrors(t *testing.T) {
	type onKey struct {
		nest.Namespace `nest:"r"`
		K              nest.Key[int] `nest:"k" index:"set"`
	}
	type child struct {
		nest.Namespace `nest:"{id}"`
	}
	type noName struct {
		nest.Namespace `nest:"r"`
		C              nest.Sub[child] `index:"set"`
	}
	type badKind struct {
		nest.Namespace `nest:"r"`
		U              nest.Sub[ixUser] `index:"zset"`
	}
	type collide struct {
		nest.Namespace `nest:"r"`
		U              nest.Sub[ixUser] `index:"set"`
		User           nest.Key[int]    `nest:"user"`
	}
	rdb := offlineClient(t)
	cases := map[string]struct {
		err  error
		want string
	}{
		"on a key": {tryNew[onKey](rdb, nil), "only nest.ParamKey and nest.Sub"},
		"no name":  {tryNew[noName](rdb, nil), "needs a name"},
		"kind":     {tryNew[badKind](rdb, nil), `want "set"`},
		"collides": {tryNew[collide](rdb, nil), "collides"},
	}
	for name, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", name, c.err, c.want)
		}
	}
	// A template that starts with a parameter renders every name: no
	// index name is safe from its instances.
	type named struct {
		nest.Namespace `nest:"r"`
		C              nest.Sub[child] `index:"set,children"`
	}
	if err := tryNew[named](rdb, nil); err == nil || !strings.Contains(err.Error(), "collides") {
		t.Fatalf("index beside a template that starts with a parameter: %v", err)
	}
	type renamed struct {
		nest.Namespace `nest:"r"`
		U              nest.Sub[ixUser] `index:"set,users"`
	}
	if err := tryNew[renamed](rdb, nil); err != nil {
		t.Fatal(err)
	}
}

func TestIndexDescribe(t *testing.T) {
	root, _ := newIxRoot(t)
	d := root.Describe()
	if ix := d.Children[0].Index; ix == nil || ix.Name != "root:user" || ix.Pattern != "root:user" {
		t.Fatalf("User index = %+v", ix)
	}
	ud := root.User.At(3).Describe()
	if ix := ud.Keys[3].Index; ix == nil || ix.Name != "root:user:3:setting" {
		t.Fatalf("Setting index = %+v (%s)", ix, ud.Keys[3].Field)
	}
}
