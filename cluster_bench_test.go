package nest_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// BenchmarkClusterClear deletes 200 000 keys spread over every slot of a
// 3-master Redis Cluster, with our Clear and with the loop one would write
// by hand: on every master at once, SCAN a batch, then pipeline one UNLINK
// per key (a single-key command never crosses slots).
func BenchmarkClusterClear(b *testing.B) {
	cc := redistest.SharedCluster(b)
	clusterMu.Lock()
	b.Cleanup(clusterMu.Unlock)
	flushCluster(b, cc)
	root, err := nest.New[clusterRoot](cc, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	const n = 200_000

	names := make([]string, n)
	for i := range n {
		names[i] = "cl:user:" + strconv.Itoa(i%2000) + ":item:" + strconv.Itoa(i)
	}
	fill := func(b *testing.B) { writeKeys(b, cc, names...) }
	check := func(b *testing.B, deleted int64) {
		b.Helper()
		if deleted != n {
			b.Fatalf("deleted %d keys, want %d", deleted, n)
		}
		if size := cc.DBSize(ctx).Val(); size != 0 {
			b.Fatalf("%d keys left", size)
		}
	}

	b.Run("raw", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			fill(b)
			b.StartTimer()
			var deleted atomic.Int64
			err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
				var cursor uint64
				for {
					keys, next, err := m.Scan(ctx, cursor, "cl:*", 1000).Result()
					if err != nil {
						return err
					}
					if len(keys) > 0 {
						pipe := m.Pipeline()
						cmds := make([]*redis.IntCmd, len(keys))
						for i, k := range keys {
							cmds[i] = pipe.Unlink(ctx, k)
						}
						if _, err := pipe.Exec(ctx); err != nil {
							return err
						}
						for _, c := range cmds {
							deleted.Add(c.Val())
						}
					}
					if cursor = next; cursor == 0 {
						return nil
					}
				}
			})
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			check(b, deleted.Load())
			b.StartTimer()
		}
	})
	b.Run("nest", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			fill(b)
			b.StartTimer()
			deleted, err := root.Clear(ctx)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			check(b, deleted)
			b.StartTimer()
		}
	})
}
