package nest_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
	"github.com/redisimnest/nest/internal/slot"
)

// Tests of this file run against a real Redis Cluster of 3 masters with one
// replica each, shared by the package (redistest.SharedCluster). It has one
// database, so these tests take clusterMu and start from an empty cluster.

func TestClusterKeyOperations(t *testing.T) {
	root, cc := newClusterRoot(t)
	ctx := context.Background()
	for id := range 20 {
		u := root.User.At(id)
		if err := u.Age.Set(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := u.Items.At("a").Set(ctx, "x"); err != nil {
			t.Fatal(err)
		}
	}
	for id := range 20 {
		if got, err := root.User.At(id).Age.Get(ctx); err != nil || got != id {
			t.Fatalf("user %d age = %d, %v", id, got, err)
		}
	}
	if n, err := root.Count(ctx); err != nil || n != 40 {
		t.Fatalf("Count = %d, %v; want 40 over all masters", n, err)
	}
	if got := cc.DBSize(ctx).Val(); got != 40 {
		t.Fatalf("DBSIZE over the cluster = %d, want 40", got)
	}
	n, err := root.Clear(ctx)
	if err != nil || n != 40 {
		t.Fatalf("Clear = %d, %v; want 40", n, err)
	}
	if got := cc.DBSize(ctx).Val(); got != 0 {
		t.Fatalf("%d keys left after Clear", got)
	}
}

// 50 000 keys over users 1..1000 in every slot: clearing users 1 and 10
// removes exactly their keys, node by node.
func TestClusterClearExactAtScale(t *testing.T) {
	root, cc := newClusterRoot(t)
	ctx := context.Background()
	var names []string
	for user := 1; user <= 1000; user++ {
		for item := range 50 {
			names = append(names, root.User.At(user).Items.At(item).Name())
		}
	}
	writeKeys(t, cc, names...)
	before := keysByNode(t, cc)
	if len(before) != 3 {
		t.Fatalf("keys on %d masters, want 3", len(before))
	}
	for _, user := range []int{1, 10} {
		n, err := root.User.At(user).Clear(ctx)
		if err != nil || n != 50 {
			t.Fatalf("Clear user %d = %d, %v; want 50", user, n, err)
		}
	}
	after := keysByNode(t, cc)
	for addr, keys := range before {
		for k := range keys {
			gone := strings.HasPrefix(k, "cl:user:1:") || strings.HasPrefix(k, "cl:user:10:")
			if after[addr][k] == gone {
				t.Fatalf("node %s: key %s present=%v after clearing users 1 and 10", addr, k, after[addr][k])
			}
		}
		for k := range after[addr] {
			if !keys[k] {
				t.Fatalf("node %s: unexpected key %s", addr, k)
			}
		}
	}
	if got := cc.DBSize(ctx).Val(); got != int64(len(names)-100) {
		t.Fatalf("%d keys left, want %d", got, len(names)-100)
	}
}

func TestClusterPinnedSubtree(t *testing.T) {
	root, cc := newClusterRoot(t)
	ctx := context.Background()
	u := root.Pinned.At(42)
	if got, want := u.Age.Name(), "cl:{puser:42}:age"; got != want {
		t.Fatalf("pinned key name %q, want %q", got, want)
	}
	names := []string{u.Age.Name(), u.Name.Name(), u.Items.At(1).Name(), u.Messages.At(7).Text.Name(), u.Prefix()}
	for _, k := range names {
		if err := cc.Set(ctx, k, "1", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	want := slot.Of(u.Prefix())
	for _, k := range names {
		got, err := cc.ClusterKeySlot(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if int(got) != want || slot.Of(k) != want {
			t.Fatalf("CLUSTER KEYSLOT %s = %d, slot.Of = %d, want %d", k, got, slot.Of(k), want)
		}
	}
	// A sibling user lands elsewhere and survives.
	other := root.Pinned.At(43)
	if err := other.Age.Set(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if n, err := u.Count(ctx); err != nil || n != int64(len(names)) {
		t.Fatalf("Count = %d, %v; want %d", n, err, len(names))
	}
	if n, err := u.Clear(ctx); err != nil || n != int64(len(names)) {
		t.Fatalf("Clear = %d, %v; want %d", n, err, len(names))
	}
	if ok, _ := other.Age.Exists(ctx); !ok {
		t.Fatal("clearing user 42 removed user 43's key")
	}
	d := root.Pinned.Describe()
	if !d.Pinned || d.HashTag != "puser:*" {
		t.Fatalf("Describe: pinned %v, hash tag %q", d.Pinned, d.HashTag)
	}
	if d := u.Describe(); d.HashTag != "puser:42" || d.Children[0].HashTag != "puser:42" {
		t.Fatalf("Describe of user 42: hash tag %q, child %q", d.HashTag, d.Children[0].HashTag)
	}
}

// Update under 32 concurrent writers on a pinned key: no lost update.
func TestClusterPinnedUpdateConcurrent(t *testing.T) {
	root, _ := newClusterRoot(t)
	ctx := context.Background()
	age := root.Pinned.At(7).Age
	const workers, each = 32, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := age.Update(ctx, func(cur int, _ bool) (int, error) { return cur + 1, nil }); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got, err := age.Get(ctx); err != nil || got != workers*each {
		t.Fatalf("age = %d, %v; want %d", got, err, workers*each)
	}
}

func TestClusterCrossSlotRename(t *testing.T) {
	root, _ := newClusterRoot(t)
	ctx := context.Background()
	a, b := root.User.At(1).Age, root.User.At(2).Age
	if slot.Of(a.Name()) == slot.Of(b.Name()) {
		t.Skip("the two keys happen to share a slot")
	}
	if err := a.Set(ctx, 5); err != nil {
		t.Fatal(err)
	}
	err := a.Rename(ctx, b)
	if !errors.Is(err, redis.ErrCrossSlot) {
		t.Fatalf("cross-slot Rename: %v, want ErrCrossSlot", err)
	}
	for _, want := range []string{a.Name(), b.Name(), "pin"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if v, _ := a.Get(ctx); v != 5 {
		t.Fatalf("source changed to %d after the refused rename", v)
	}
	// Inside a pinned subtree the same operation works.
	p := root.Pinned.At(9)
	if err := p.Items.At("a").Set(ctx, "moved"); err != nil {
		t.Fatal(err)
	}
	if err := p.Items.At("a").Rename(ctx, p.Items.At("b")); err != nil {
		t.Fatalf("pinned rename: %v", err)
	}
	if v, err := p.Items.At("b").Get(ctx); err != nil || v != "moved" {
		t.Fatalf("after pinned rename: %q, %v", v, err)
	}
}

// A master that stops answering mid-Clear: the error names it, nothing
// outside the subtree is deleted, and a second Clear finishes the job.
func TestClusterClearNodeFailure(t *testing.T) {
	_, shared := newClusterRoot(t)
	ctx := context.Background()
	// A client with short timeouts and no retries, so a paused node fails
	// fast instead of succeeding on a retry after the pause.
	cc := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: shared.Options().Addrs, ReadTimeout: 300 * time.Millisecond,
		WriteTimeout: 300 * time.Millisecond, MaxRetries: -1,
	})
	t.Cleanup(func() { _ = cc.Close() })
	root, err := nest.New[clusterRoot](cc, nil)
	if err != nil {
		t.Fatal(err)
	}
	const inside, outside = 2000, 300
	var names []string
	for i := range inside {
		names = append(names, root.User.At(i/10).Items.At(i%10).Name())
	}
	for i := range outside {
		names = append(names, "outside:"+strconv.Itoa(i))
	}
	writeKeys(t, cc, names...)

	var masters []*redis.Client
	var mu sync.Mutex
	_ = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		masters = append(masters, m)
		return nil
	})
	paused := masters[0]
	// Paused once the known names (cl, cl:motd) are done, when the SCAN
	// phase starts: a cluster pipeline of known names waits the pause out.
	var pauseEnds time.Time
	var pauseErr error
	deleted, err := root.Clear(ctx, nest.WithProgress(func(int64) {
		if pauseEnds.IsZero() {
			pauseErr = paused.Do(ctx, "CLIENT", "PAUSE", "1500", "ALL").Err()
			pauseEnds = time.Now().Add(1600 * time.Millisecond)
		}
	}))
	if pauseErr != nil {
		t.Fatal(pauseErr)
	}
	if err == nil {
		t.Fatal("Clear with a paused master succeeded")
	}
	addr := paused.Options().Addr
	if !strings.Contains(err.Error(), "node "+addr) {
		t.Fatalf("error %q does not name the paused node %s", err, addr)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("deleted %d keys", deleted)) {
		t.Fatalf("error %q does not report the %d deleted keys", err, deleted)
	}
	if deleted == 0 || deleted >= inside {
		t.Fatalf("deleted %d keys; want some, from the masters that answered", deleted)
	}
	time.Sleep(time.Until(pauseEnds))

	for i := range outside {
		if n := shared.Exists(ctx, "outside:"+strconv.Itoa(i)).Val(); n != 1 {
			t.Fatalf("outside:%d was deleted", i)
		}
	}
	rest, err := root.Clear(ctx)
	if err != nil {
		t.Fatalf("second Clear: %v", err)
	}
	if deleted+rest != inside {
		t.Fatalf("deleted %d + %d keys, want %d", deleted, rest, inside)
	}
	if got := shared.DBSize(ctx).Val(); got != outside {
		t.Fatalf("%d keys left, want the %d outside keys", got, outside)
	}
}

// Our slot function agrees with the server's CLUSTER KEYSLOT on keys with
// and without hash tags, including the edge cases of the tag rule.
func TestClusterSlotMatchesServer(t *testing.T) {
	cc := redistest.SharedCluster(t)
	ctx := context.Background()
	keys := []string{"", "{", "}", "{}", "{}x", "a{}b{c}", "{{a}}", "x{a}{b}", "root:{user:42}:age", "élan{ü}"}
	for i := range 500 {
		keys = append(keys, "k"+strconv.Itoa(i), "{t"+strconv.Itoa(i%7)+"}:"+strconv.Itoa(i), strconv.Itoa(i)+"{"+strconv.Itoa(i*31)+"}")
	}
	for _, k := range keys {
		want, err := cc.ClusterKeySlot(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got := slot.Of(k); got != int(want) {
			t.Fatalf("slot.Of(%q) = %d, CLUSTER KEYSLOT = %d", k, got, want)
		}
	}
}
