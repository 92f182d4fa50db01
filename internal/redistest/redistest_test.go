package redistest_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest/internal/redistest"
)

func TestMain(m *testing.M) {
	os.Exit(redistest.Main(m))
}

func TestStartPing(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") || s.Port() <= 0 || s.Port() == 6379 {
		t.Fatalf("Addr() = %q, Port() = %d", s.Addr(), s.Port())
	}
	c := s.Client(t, 0)
	ctx := context.Background()
	if got, err := c.Ping(ctx).Result(); err != nil || got != "PONG" {
		t.Fatalf("PING = %q, %v; want PONG", got, err)
	}
	// Persistence is off and the directory is the test's own.
	save, err := c.ConfigGet(ctx, "save").Result()
	if err != nil || save["save"] != "" {
		t.Fatalf("CONFIG GET save = %v, %v; want empty", save, err)
	}
}

func TestStartExtraArgs(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, "--maxmemory-policy", "allkeys-lru")
	got, err := s.Client(t, 0).ConfigGet(context.Background(), "maxmemory-policy").Result()
	if err != nil || got["maxmemory-policy"] != "allkeys-lru" {
		t.Fatalf("CONFIG GET maxmemory-policy = %v, %v", got, err)
	}
}

func TestStopMakesClientFail(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	c := s.Client(t, 0)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET before Stop: %v", err)
	}
	s.Stop()
	s.Stop() // idempotent

	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Get(ctx, "k").Err(); err == nil || err == redis.Nil {
		t.Fatalf("GET after Stop: err = %v, want a connection error", err)
	}
}

func TestSharedDistinctEmptyDatabases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := redistest.Shared(t)
	b := redistest.Shared(t)
	if a.Options().DB == b.Options().DB {
		t.Fatalf("both clients use database %d", a.Options().DB)
	}
	for _, c := range []*redis.Client{a, b} {
		if n, err := c.DBSize(ctx).Result(); err != nil || n != 0 {
			t.Fatalf("DBSIZE of db %d = %d, %v; want 0", c.Options().DB, n, err)
		}
	}
	if err := a.Set(ctx, "key", "a", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.Get(ctx, "key").Err(); err != redis.Nil {
		t.Fatalf("GET in the other database: err = %v, want redis.Nil", err)
	}
	if got, err := a.Get(ctx, "key").Result(); err != nil || got != "a" {
		t.Fatalf("GET = %q, %v; want a", got, err)
	}
}

func TestSharedParallel(t *testing.T) {
	t.Parallel()
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := redistest.Shared(t)
			if n, err := c.DBSize(ctx).Result(); err != nil || n != 0 {
				t.Fatalf("DBSIZE = %d, %v; want 0", n, err)
			}
			if err := c.Set(ctx, "key", i, 0).Err(); err != nil {
				t.Fatal(err)
			}
			if got, err := c.Get(ctx, "key").Int(); err != nil || got != i {
				t.Fatalf("GET = %d, %v; want %d", got, err, i)
			}
		})
	}
}

// checkCluster writes keys spread over many slots through c and reads them
// back, all under prefix.
func checkCluster(t *testing.T, c *redis.ClusterClient, prefix string) {
	t.Helper()
	ctx := context.Background()
	const n = 200
	for i := range n {
		if err := c.Set(ctx, fmt.Sprintf("%skey%d", prefix, i), i, 0).Err(); err != nil {
			t.Fatalf("SET: %v", err)
		}
	}
	for i := range n {
		got, err := c.Get(ctx, fmt.Sprintf("%skey%d", prefix, i)).Int()
		if err != nil || got != i {
			t.Fatalf("GET %skey%d = %d, %v; want %d", prefix, i, got, err, i)
		}
	}
	// The keys landed on every master.
	var masters atomic.Int32 // ForEachMaster calls fn concurrently
	err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		n, err := m.DBSize(ctx).Result()
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("master %s holds no key", m.Options().Addr)
		}
		masters.Add(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := masters.Load(); got != 3 {
		t.Fatalf("%d masters, want 3", got)
	}
}

func TestStartCluster(t *testing.T) {
	t.Parallel()
	start := time.Now()
	cl := redistest.StartCluster(t, 3, 1)
	t.Logf("cluster of 6 nodes started in %v", time.Since(start))

	if got := len(cl.Addrs()); got != 6 {
		t.Fatalf("%d addresses, want 6", got)
	}
	ctx := context.Background()
	roles := map[string]int{}
	for _, n := range cl.Nodes() {
		c := n.Client(t, 0)
		info, err := c.ClusterInfo(ctx).Result()
		if err != nil || !strings.Contains(info, "cluster_state:ok") {
			t.Fatalf("CLUSTER INFO on %s = %q, %v", n.Addr(), info, err)
		}
		role, err := c.Do(ctx, "ROLE").Slice()
		if err != nil {
			t.Fatal(err)
		}
		roles[fmt.Sprint(role[0])]++
	}
	if roles["master"] != 3 || roles["slave"] != 3 {
		t.Fatalf("roles = %v, want 3 masters and 3 replicas", roles)
	}
	checkCluster(t, cl.Client(t), "")
}

func TestSharedCluster(t *testing.T) {
	t.Parallel()
	c := redistest.SharedCluster(t)
	p1, p2 := redistest.KeyPrefix(t), redistest.KeyPrefix(t)
	if p1 == p2 || strings.ContainsAny(p1, "{}") {
		t.Fatalf("KeyPrefix = %q, %q", p1, p2)
	}
	checkCluster(t, c, p1)
	// A second client sees the same cluster.
	if got, err := redistest.SharedCluster(t).Get(context.Background(), p1+"key7").Int(); err != nil || got != 7 {
		t.Fatalf("GET through a second client = %d, %v; want 7", got, err)
	}
}
