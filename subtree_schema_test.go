package nest_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
)

// Tests of the schema-aware subtree: known names without SCAN, one
// filtered SCAN below parameterised children, instances parsed back,
// throttling and client kinds.

// instanceIDs collects the instances of a Sub as their Params, rendered
// "k=v,k=v" in key order.
func instanceIDs[U any](t *testing.T, seq func(yield func(*U, error) bool), ns func(*U) nest.Namespace) []string {
	t.Helper()
	var out []string
	for u, err := range seq {
		if err != nil {
			t.Fatalf("Instances: %v", err)
		}
		p := ns(u).Params()
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(p)) {
			parts = append(parts, k+"="+p[k])
		}
		out = append(out, strings.Join(parts, ","))
	}
	slices.Sort(out)
	return out
}

func TestSubtreeInstances(t *testing.T) {
	t.Parallel()
	root, rdb := newRoot(t)
	ctx := t.Context()
	must(t, root.User.At(1).Age.Set(ctx, 1))
	must(t, root.User.At(1).Name.Set(ctx, "a")) // two keys, one instance
	must(t, root.User.At("bob").Messages.At(7).Text.Set(ctx, "hi"))
	must(t, root.User.With(nest.Params{"user_id": "carol"}).Age.Set(ctx, 3))
	must(t, root.Admin.At(5, "eu").Level.Set(ctx, 1))
	must(t, root.Admin.At(5, "us").Messages.At(2).Seen.Set(ctx, true))
	writeKeys(t, rdb, "root:user:dave") // a prefix key alone makes an instance
	// Decoys: not instances.
	writeKeys(t, rdb, "root:user:abc:def", "root:user:*:age", "root:user:e f:age", "root:user::age",
		"root:user:x:message:1:nope", "root:admin:5", "root:admin:5:eu:x", "root:userx:1:age",
		"root:user:{1}:age", "root:user:1[2]:age")

	users := instanceIDs(t, root.User.Instances(ctx), func(u *User) nest.Namespace { return u.Namespace })
	if want := []string{"user_id=1", "user_id=bob", "user_id=carol", "user_id=dave"}; !slices.Equal(users, want) {
		t.Fatalf("User.Instances = %v, want %v", users, want)
	}
	admins := instanceIDs(t, root.Admin.Instances(ctx), func(a *Admin) nest.Namespace { return a.Namespace })
	if want := []string{"admin_id=5,region=eu", "admin_id=5,region=us"}; !slices.Equal(admins, want) {
		t.Fatalf("Admin.Instances = %v, want %v", admins, want)
	}
	msgs := instanceIDs(t, root.Admin.At(5, "us").Messages.Instances(ctx), func(m *Message) nest.Namespace { return m.Namespace })
	if want := []string{"admin_id=5,message_id=2,region=us"}; !slices.Equal(msgs, want) {
		t.Fatalf("nested Messages.Instances = %v, want %v", msgs, want)
	}
	// A yielded instance is bound: its keys work.
	for u, err := range root.User.Instances(ctx) {
		must(t, err)
		if u.Prefix() == "root:user:bob" {
			if v, err := u.Messages.At(7).Text.Get(ctx); err != nil || v != "hi" {
				t.Fatalf("bob's message = %q, %v", v, err)
			}
		}
	}
	// Early break.
	n := 0
	for _, err := range root.User.Instances(ctx) {
		must(t, err)
		if n++; n == 2 {
			break
		}
	}
	// Skipped names are reported.
	var skipped []string
	for _, err := range root.User.Instances(ctx, nest.WithSkipped(func(name string) { skipped = append(skipped, name) })) {
		must(t, err)
	}
	slices.Sort(skipped)
	if want := []string{"root:user:*:age", "root:user::age", "root:user:abc:def", "root:user:e f:age", "root:user:x:message:1:nope", "root:user:{1}:age", "root:user:1[2]:age"}; !slices.Equal(skipped, slices.Sorted(slices.Values(want))) {
		t.Fatalf("skipped %q\nwant %q", skipped, slices.Sorted(slices.Values(want)))
	}
}

func TestSubtreeInstancesParamKeyAndValidation(t *testing.T) {
	t.Parallel()
	rdb := newRedis(t)
	root, err := nest.New[paramsRoot](rdb, nil)
	must(t, err)
	ctx := t.Context()
	must(t, root.Item.At("a").Set(ctx, "x"))
	must(t, root.Item.At("b").Set(ctx, "y"))
	must(t, root.Pair.At(1, 2).Set(ctx, 3))
	must(t, root.Tenant.At("acme").Plan.Set(ctx, "gold"))
	// Refused by ValidateParams, or not parsing: skipped.
	writeKeys(t, rdb, "proot:tenant:ACME:plan", "proot:item:a:b", "proot:item:*", "proot:pair:1", "proot:pair:1:2:3")

	var items []string
	for k, err := range root.Item.Instances(ctx) {
		must(t, err)
		v, err := k.Get(ctx)
		must(t, err)
		items = append(items, fmt.Sprint(k.Params()["item_id"], "=", v))
	}
	slices.Sort(items)
	if want := []string{"a=x", "b=y"}; !slices.Equal(items, want) {
		t.Fatalf("Item.Instances = %v, want %v", items, want)
	}
	var pairs []map[string]string
	for k, err := range root.Pair.Instances(ctx) {
		must(t, err)
		pairs = append(pairs, k.Params())
	}
	if len(pairs) != 1 || pairs[0]["left"] != "1" || pairs[0]["right"] != "2" {
		t.Fatalf("Pair.Instances = %v, want one {left:1 right:2}", pairs)
	}
	tenants := instanceIDs(t, root.Tenant.Instances(ctx), func(u *tenantNS) nest.Namespace { return u.Namespace })
	if want := []string{"tenant_id=acme"}; !slices.Equal(tenants, want) {
		t.Fatalf("Tenant.Instances = %v, want %v (ACME fails ValidateParams)", tenants, want)
	}
	// Clear of the root takes the valid names only.
	n, err := root.Clear(ctx)
	if err != nil || n != 4 {
		t.Fatalf("Clear = %d, %v; want 4", n, err)
	}
	if size := dbSize(t, rdb); size != 5 {
		t.Fatalf("DBSIZE = %d, want the 5 foreign keys", size)
	}
}

func TestSubtreeInstancesPinned(t *testing.T) {
	t.Parallel()
	rdb := newRedis(t)
	root, err := nest.New[clusterRoot](rdb, nil)
	must(t, err)
	ctx := t.Context()
	for _, id := range []int{1, 2, 3} {
		must(t, root.Pinned.At(id).Age.Set(ctx, id))
		must(t, root.Pinned.At(id).Items.At("i").Set(ctx, "v"))
		must(t, root.Pinned.At(id).Messages.At(9).Text.Set(ctx, "t"))
	}
	writeKeys(t, rdb, "cl:puser:1:age", "cl:{puser:1}x:age", "cl:{puser:*}:age") // not pinned renderings
	got := instanceIDs(t, root.Pinned.Instances(ctx), func(u *pinnedUser) nest.Namespace { return u.Namespace })
	if want := []string{"user_id=1", "user_id=2", "user_id=3"}; !slices.Equal(got, want) {
		t.Fatalf("Pinned.Instances = %v, want %v", got, want)
	}
	u := root.Pinned.At(2)
	if n, err := u.Count(ctx); err != nil || n != 3 {
		t.Fatalf("pinned Count = %d, %v; want 3", n, err)
	}
	var items []string
	for k, err := range u.Items.Instances(ctx) {
		must(t, err)
		items = append(items, k.Name())
	}
	if want := []string{"cl:{puser:2}:item:i"}; !slices.Equal(items, want) {
		t.Fatalf("pinned Items.Instances = %v, want %v", items, want)
	}
	if n, err := u.Clear(ctx); err != nil || n != 3 {
		t.Fatalf("pinned Clear = %d, %v; want 3", n, err)
	}
	if n, err := root.Clear(ctx); err != nil || n != 6 {
		t.Fatalf("root Clear = %d, %v; want 6", n, err)
	}
	if size := dbSize(t, rdb); size != 3 {
		t.Fatalf("DBSIZE = %d, want the 3 decoys", size)
	}
}

// nodeRecorder returns a client of the same servers as rdb whose commands,
// including those of Redis Cluster node clients, are recorded.
func nodeRecorder(t *testing.T, rdb redis.UniversalClient) (redis.UniversalClient, *cmdRecorder) {
	t.Helper()
	rec := &cmdRecorder{}
	var c redis.UniversalClient
	switch r := rdb.(type) {
	case *redis.ClusterClient:
		c = redis.NewClusterClient(&redis.ClusterOptions{Addrs: r.Options().Addrs, NewClient: func(o *redis.Options) *redis.Client {
			nc := redis.NewClient(o)
			nc.AddHook(rec)
			return nc
		}})
	case *redis.Client:
		c = redis.NewClient(r.Options())
	default:
		t.Fatalf("unexpected client %T", rdb)
	}
	c.AddHook(rec)
	t.Cleanup(func() { _ = c.Close() })
	return c, rec
}

// A subtree without parameterised children sends no SCAN, in a database
// full of unrelated keys; a subtree with some sends one SCAN walk whose
// MATCH is the child's own pattern.
func TestSubtreeNoScanWithoutParameterisedChildren(t *testing.T) {
	t.Parallel()
	rdb := newRedis(t)
	c, rec := nodeRecorder(t, rdb)
	root, err := nest.New[Root](c, &nest.Options{ScanCount: 10})
	must(t, err)
	ctx := t.Context()
	var noise []string
	for i := range 500 {
		noise = append(noise, fmt.Sprintf("noise:%d", i))
	}
	writeKeys(t, rdb, noise...)
	must(t, root.App.Tokens.Set(ctx, []string{"a"}))
	writeKeys(t, rdb, "root:app")

	mark := rec.Len()
	if n, err := root.App.Count(ctx); err != nil || n != 2 {
		t.Fatalf("Count = %d, %v; want 2", n, err)
	}
	if got := collectKeys(t, root.App.Namespace); len(got) != 2 {
		t.Fatalf("Keys = %v", got)
	}
	if n, err := root.App.Clear(ctx); err != nil || n != 2 {
		t.Fatalf("Clear = %d, %v; want 2", n, err)
	}
	var cmds [][]any
	for _, c := range rec.Since(mark) {
		switch strings.ToLower(fmt.Sprint(c[0])) {
		case "hello", "client", "auth", "select", "cluster", "command", "ping":
			continue // a new connection's handshake, or the cluster's topology
		}
		cmds = append(cmds, c)
	}
	for _, c := range cmds {
		if name := strings.ToLower(fmt.Sprint(c[0])); name != "exists" && name != "unlink" {
			t.Fatalf("sent %v; want only EXISTS and UNLINK", c)
		}
	}
	// 3 known names (root:app and its 2 keys), once per operation (on a
	// cluster the recorder sees each command twice: in the cluster
	// client's pipeline and in its node's).
	want := 9
	if onCluster {
		want *= 2
	}
	if len(cmds) != want {
		t.Fatalf("sent %d commands, want %d: %v", len(cmds), want, argStrings(cmds))
	}

	// User 1 has one parameterised child: one walk, MATCH its pattern.
	mark = rec.Len()
	if _, err := root.User.At(1).Count(ctx); err != nil {
		t.Fatal(err)
	}
	var matches []string
	for _, c := range rec.Since(mark) {
		if strings.EqualFold(fmt.Sprint(c[0]), "scan") {
			if fmt.Sprint(c[1]) == "0" {
				matches = append(matches, fmt.Sprint(c[3]))
			}
		}
	}
	masters := 1
	if onCluster {
		masters = 3
	}
	if len(matches) != masters || matches[0] != "root:user:1:message:*" {
		t.Fatalf("walks started with MATCH %v; want one per master with root:user:1:message:*", matches)
	}
	// The root has two: one walk over "root:*".
	mark = rec.Len()
	if _, err := root.Count(ctx); err != nil {
		t.Fatal(err)
	}
	matches = nil
	for _, c := range rec.Since(mark) {
		if strings.EqualFold(fmt.Sprint(c[0]), "scan") && fmt.Sprint(c[1]) == "0" {
			matches = append(matches, fmt.Sprint(c[3]))
		}
	}
	if len(matches) != masters || matches[0] != "root:*" {
		t.Fatalf("root walks started with MATCH %v; want one per master with root:*", matches)
	}
}

// Throttled Clear and Count: the same result, spread over time.
func TestSubtreeThrottled(t *testing.T) {
	t.Parallel()
	root, rdb := newRootWith(t, &nest.Options{ScanCount: 50})
	ctx := t.Context()
	written := fillUser(t, rdb, 400)
	total := int64(len(written))
	u1 := root.User.At(1)

	start := time.Now()
	if n, err := u1.Count(ctx, nest.WithCommandRate(200)); err != nil || n != total {
		t.Fatalf("Count = %d, %v; want %d", n, err, total)
	}
	t.Logf("Count at 200 commands/s took %v", time.Since(start))

	// 400 messages + siblings, COUNT 20: at least 20 SCANs costing 20 keys
	// each, plus 402 deletions: over 800 key units at 4000 keys/s is at
	// least 0.2 s (a lower bound: throttling never speeds anything up).
	start = time.Now()
	n, err := u1.Clear(ctx, nest.WithKeyRate(4000), nest.WithScanCount(20), nest.WithChunkSize(50))
	took := time.Since(start)
	if err != nil || n != total {
		t.Fatalf("throttled Clear = %d, %v; want %d", n, err, total)
	}
	if took < 150*time.Millisecond {
		t.Fatalf("Clear at 4000 keys/s took only %v", took)
	}
	assertExist(t, rdb, userSiblings)
	t.Logf("Clear of %d keys at 4000 keys/s took %v", n, took)

	// Cancelled while waiting for its turn.
	fillUser(t, rdb, 400)
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	n, err = u1.Clear(cctx, nest.WithKeyRate(100))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Clear = %d, %v; want DeadlineExceeded", n, err)
	}
	rest, err := u1.Clear(ctx)
	if err != nil || n+rest != total {
		t.Fatalf("Clear after the cancelled one = %d (+%d), %v; want %d in all", rest, n, err, total)
	}
}

// Through an AutoPipeliner: known names always; below parameterised
// children on a standalone server, or with Options.AdminClient.
func TestSubtreeAutoPipeliner(t *testing.T) {
	t.Parallel()
	rdb := newRedis(t)
	ap := autoPipeliner(t, rdb)
	ctx := t.Context()
	root, err := nest.New[Root](ap, nil)
	must(t, err)
	must(t, root.App.Tokens.Set(ctx, nil))
	must(t, root.User.At(1).Messages.At(1).Text.Set(ctx, "x"))
	if n, err := root.App.Count(ctx); err != nil || n != 1 {
		t.Fatalf("App.Count = %d, %v", n, err)
	}
	n, err := root.User.At(1).Count(ctx)
	if onCluster {
		if !errors.Is(err, nest.ErrConfig) || !strings.Contains(err.Error(), "AdminClient") {
			t.Fatalf("Count through a cluster AutoPipeliner = %d, %v; want ErrConfig naming AdminClient", n, err)
		}
		if n, err := root.User.At(1).Clear(ctx); !errors.Is(err, nest.ErrConfig) || n != 0 {
			t.Fatalf("Clear = %d, %v; want ErrConfig, nothing deleted", n, err)
		}
		root, err = nest.New[Root](ap, &nest.Options{AdminClient: rdb})
		must(t, err)
		n, err = root.User.At(1).Count(ctx)
	}
	if err != nil || n != 1 {
		t.Fatalf("User.Count = %d, %v; want 1", n, err)
	}
	if got := instanceIDs(t, root.User.Instances(ctx), func(u *User) nest.Namespace { return u.Namespace }); !slices.Equal(got, []string{"user_id=1"}) {
		t.Fatalf("Instances = %v", got)
	}
	if n, err := root.Clear(ctx); err != nil || n != 2 {
		t.Fatalf("Clear = %d, %v; want 2", n, err)
	}
}

func TestSubtreeAdminClientChecked(t *testing.T) {
	t.Parallel()
	rdb := offlineClient(t)
	ap, err := rdb.AutoPipeline()
	must(t, err)
	err = tryNew[Root](rdb, &nest.Options{AdminClient: ap})
	if !errors.Is(err, nest.ErrConfig) || !strings.Contains(err.Error(), "AdminClient") {
		t.Fatalf("New with an AutoPipeliner as AdminClient = %v; want ErrConfig", err)
	}
}

// A wrapping client of unknown kind: subtrees without parameterised
// children work (known names only), others refuse before deleting.
func TestSubtreeWrappedClientKnownNames(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	raw := newRedis(t)
	var wrapped redis.UniversalClient
	switch r := raw.(type) {
	case *redis.Client:
		wrapped = wrappedClient{r}
	default:
		t.Skip("the wrapper type wraps a *redis.Client")
	}
	root, err := nest.New[Root](wrapped, nil)
	must(t, err)
	must(t, root.App.Tokens.Set(ctx, nil))
	if n, err := root.App.Clear(ctx); err != nil || n != 1 {
		t.Fatalf("App.Clear through a wrapper = %d, %v; want 1", n, err)
	}
	root, err = nest.New[Root](wrapped, &nest.Options{AdminClient: raw})
	must(t, err)
	must(t, root.User.At(1).Messages.At(1).Text.Set(ctx, "x"))
	if n, err := root.User.At(1).Clear(ctx); err != nil || n != 1 {
		t.Fatalf("Clear with AdminClient = %d, %v; want 1", n, err)
	}
}

func TestSubtreeParams(t *testing.T) {
	t.Parallel()
	root := nest.MustNew[Root](offlineClient(t), nil)
	m := root.Admin.At(5, "eu").Messages.At(7)
	if got := m.Params(); !maps.Equal(got, map[string]string{"admin_id": "5", "region": "eu", "message_id": "7"}) {
		t.Fatalf("Params = %v", got)
	}
	if got := root.Params(); got != nil {
		t.Fatalf("root Params = %v, want nil", got)
	}
	if got := root.User.At("a:b").Params(); got != nil {
		t.Fatalf("unusable Params = %v, want nil", got)
	}
	if got := root.User.At(1).Age.Params(); !maps.Equal(got, map[string]string{"user_id": "1"}) {
		t.Fatalf("key Params = %v", got)
	}
	pr := nest.MustNew[clusterRoot](offlineClient(t), nil)
	if got := pr.Pinned.At(3).Items.At("z").Params(); !maps.Equal(got, map[string]string{"user_id": "3", "item_id": "z"}) {
		t.Fatalf("pinned key Params = %v", got)
	}
}
