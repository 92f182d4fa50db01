package nest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// A go-redis Ring shards keys over several servers by consistent hashing:
// subtree operations must scan every shard, or they silently miss keys.
func TestRingSubtree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ring, a, b := newRing(t)
	root, err := nest.New[Root](ring, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := range n {
		if err := root.User.At(1).Messages.At(i).Text.Set(ctx, "hi"); err != nil {
			t.Fatal(err)
		}
	}
	if err := ring.Set(ctx, "root:user:1", "prefix key", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := root.User.At(12).Age.Set(ctx, 5); err != nil {
		t.Fatal(err)
	}
	perShard := []int64{a.Client(t, 0).DBSize(ctx).Val(), b.Client(t, 0).DBSize(ctx).Val()}
	if perShard[0] == 0 || perShard[1] == 0 {
		t.Fatalf("keys per shard %v: the ring did not spread them", perShard)
	}
	if got, err := root.User.At(1).Count(ctx); err != nil || got != n+1 {
		t.Fatalf("Count = %d, %v; want %d over both shards", got, err, n+1)
	}
	if got, err := root.User.At(1).Clear(ctx); err != nil || got != n+1 {
		t.Fatalf("Clear = %d, %v; want %d", got, err, n+1)
	}
	if got, err := root.Count(ctx); err != nil || got != 1 {
		t.Fatalf("after Clear, root holds %d keys (%v), want user 12's one", got, err)
	}
	if v, err := root.User.At(12).Age.Get(ctx); err != nil || v != 5 {
		t.Fatalf("user 12 age = %d, %v", v, err)
	}
}

// A UniversalClient that is none of go-redis's three clients may route
// SCAN to one shard of many: subtree operations refuse it, key operations
// work.
func TestSubtreeRefusesUnknownClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	wrapped := wrappedClient{redistest.Shared(t)}
	root, err := nest.New[Root](wrapped, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := root.User.At(1).Age.Set(ctx, 3); err != nil {
		t.Fatalf("Set through a wrapped client: %v", err)
	}
	if _, err := root.User.At(1).Clear(ctx); err == nil {
		t.Fatal("Clear through an unknown client type succeeded")
	}
	if v, _ := root.User.At(1).Age.Get(ctx); v != 3 {
		t.Fatalf("age = %d after the refused Clear, want 3", v)
	}
}

type wrappedClient struct{ *redis.Client }

// On a Ring, a rename between keys on different shards would run on one
// shard and lose the value: it fails with ErrCrossSlot instead. Pinned
// keys share a shard (Ring shards by hash tag) and rename.
func TestRingRename(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ring, _, _ := newRing(t)
	root, err := nest.New[Root](ring, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Find two users whose age keys land on different shards.
	src := root.User.At(1).Age
	var dst nest.Key[int]
	for id := 2; id < 100; id++ {
		s1, _ := ring.GetShardClientForKey(src.Name())
		s2, _ := ring.GetShardClientForKey(root.User.At(id).Age.Name())
		if s1 != s2 {
			dst = root.User.At(id).Age
			break
		}
	}
	if err := src.Set(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if err := src.Rename(ctx, dst); !errors.Is(err, redis.ErrCrossSlot) {
		t.Fatalf("cross-shard Rename = %v, want ErrCrossSlot", err)
	}
	if v, err := src.Get(ctx); err != nil || v != 5 {
		t.Fatalf("source after the refused rename = %d, %v", v, err)
	}

	org, err := nest.New[Org](ring, nil)
	if err != nil {
		t.Fatal(err)
	}
	team := org.Team.At(7)
	if err := team.Members.At(1).Role.Set(ctx, "lead"); err != nil {
		t.Fatal(err)
	}
	if err := team.Members.At(1).Role.Rename(ctx, team.Members.At(2).Role); err != nil {
		t.Fatalf("pinned rename on a Ring: %v", err)
	}
	if v, err := team.Members.At(2).Role.Get(ctx); err != nil || v != "lead" {
		t.Fatalf("after the pinned rename: %q, %v", v, err)
	}
}

// go-redis's Ring skips the shards its heartbeat marked down. A subtree
// operation must not then report a partial Count or a Clear that left the
// down shard's keys behind: it fails naming the shard, and once the shard
// is back, Clear deletes everything (issue 7, defect 3).
func TestRingShardDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := redistest.Start(t), redistest.Start(t)
	ring := redis.NewRing(&redis.RingOptions{
		Addrs:              map[string]string{"a": a.Addr(), "b": b.Addr()},
		HeartbeatFrequency: 50 * time.Millisecond,
		DialTimeout:        100 * time.Millisecond,
		ReadTimeout:        100 * time.Millisecond,
		WriteTimeout:       100 * time.Millisecond,
	})
	t.Cleanup(func() { _ = ring.Close() })
	root, err := nest.New[Root](ring, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		if err := root.User.At(1).Messages.At(i).Text.Set(ctx, "hi"); err != nil {
			t.Fatal(err)
		}
	}
	onB := b.Client(t, 0).DBSize(ctx).Val()
	if onB == 0 || onB == n {
		t.Fatalf("%d of %d keys on shard b: the ring did not spread them", onB, n)
	}
	// Pause b until the heartbeat marks it down.
	if err := b.Client(t, 0).Do(ctx, "CLIENT", "PAUSE", 3000, "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2500 * time.Millisecond)
	for ring.Len() == 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if ring.Len() != 1 {
		t.Fatalf("the heartbeat did not mark shard b down (%d live shards)", ring.Len())
	}
	if got, err := root.User.At(1).Count(ctx); !errors.Is(err, nest.ErrShardDown) || !strings.Contains(err.Error(), b.Addr()) {
		t.Fatalf("Count with shard b down = %d, %v; want ErrShardDown naming %s", got, err, b.Addr())
	}
	if got, err := root.User.At(1).Clear(ctx); !errors.Is(err, nest.ErrShardDown) || got != 0 {
		t.Fatalf("Clear with shard b down = %d, %v; want 0, ErrShardDown", got, err)
	}
	// Nothing was deleted: Clear refused before it began (b is paused, so
	// its count is the one read before the pause).
	if got := a.Client(t, 0).DBSize(ctx).Val() + onB; got != n {
		t.Fatalf("%d keys left on the shards, want all %d", got, n)
	}
	// Once b is back, Clear reaches every key.
	deadline = time.Now().Add(5 * time.Second)
	for ring.Len() != 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got, err := root.User.At(1).Clear(ctx); err != nil || got != n {
		t.Fatalf("Clear after shard b came back = %d, %v; want %d", got, err, n)
	}
	if sa, sb := a.Client(t, 0).DBSize(ctx).Val(), b.Client(t, 0).DBSize(ctx).Val(); sa+sb != 0 {
		t.Fatalf("%d+%d keys survived Clear", sa, sb)
	}
}
