package nest_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// Sorted-set benchmarks: each beside raw go-redis doing the same work,
// the TTL included (raw: MULTI, ZADD, PEXPIRE, EXEC in one TxPipeline).

type zBenchRoot struct {
	nest.Namespace `nest:"zb"`
	Board          nest.SortedSet[string] `nest:"board" ttl:"24h"`
	Big            nest.SortedSet[string] `nest:"big" ttl:"24h"`
}

func newZBench(b *testing.B) (*zBenchRoot, *redis.Client) {
	b.Helper()
	rdb := redistest.Shared(b)
	root, err := nest.New[zBenchRoot](rdb, nil)
	if err != nil {
		b.Fatal(err)
	}
	return root, rdb
}

// BenchmarkSortedSetAdd adds one member with its score, the key's TTL
// applied in the same round trip: raw MULTI/ZADD/PEXPIRE/EXEC against
// our Add (one EVALSHA of the write script).
func BenchmarkSortedSetAdd(b *testing.B) {
	root, rdb := newZBench(b)
	ctx := context.Background()
	ttl := 24 * time.Hour
	key := root.Board.Name()
	members := make([]string, 1000)
	for i := range members {
		members[i] = "player:" + strconv.Itoa(i)
	}
	raw := func(i int) {
		pipe := rdb.TxPipeline()
		pipe.ZAdd(ctx, key, redis.Z{Score: float64(i), Member: members[i%len(members)]})
		pipe.PExpire(ctx, key, ttl)
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	ours := func(i int) {
		if _, err := root.Board.Add(ctx, nest.Z[string]{Member: members[i%len(members)], Score: float64(i)}); err != nil {
			b.Fatal(err)
		}
	}
	zBenchPair(b, raw, ours)
}

// zBenchPair runs raw and ours as sub-benchmarks (for their allocations)
// and interleaved (for the time ratio, robust to a machine whose load
// changes between sub-benchmarks).
func zBenchPair(b *testing.B, raw, ours func(i int)) {
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			raw(i)
		}
	})
	b.Run("nest", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			ours(i)
		}
	})
	b.Run("interleaved", func(b *testing.B) { interleave(b, raw, ours) })
}

// BenchmarkSortedSetAll iterates over 100 000 members with their scores:
// a raw ZSCAN loop (COUNT 1000, scores parsed) against our All.
func BenchmarkSortedSetAll(b *testing.B) {
	root, rdb := newZBench(b)
	ctx := context.Background()
	const n = 100_000
	key := root.Big.Name()
	batch := make([]nest.Z[string], n)
	for i := range batch {
		batch[i] = nest.Z[string]{Member: "member:" + strconv.Itoa(i), Score: float64(i)}
	}
	if _, err := root.Big.Add(ctx, batch...); err != nil {
		b.Fatal(err)
	}
	check := func(b *testing.B, seen int) {
		if seen < n {
			b.Fatalf("saw %d members; want %d", seen, n)
		}
	}
	raw := func(int) {
		seen := 0
		var sum float64
		var cursor uint64
		for {
			kv, next, err := rdb.ZScan(ctx, key, cursor, "", 1000).Result()
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i+1 < len(kv); i += 2 {
				f, err := strconv.ParseFloat(kv[i+1], 64)
				if err != nil {
					b.Fatal(err)
				}
				sum += f
				seen++
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		check(b, seen)
	}
	ours := func(int) {
		seen := 0
		var sum float64
		for z, err := range root.Big.All(ctx) {
			if err != nil {
				b.Fatal(err)
			}
			sum += z.Score
			seen++
		}
		check(b, seen)
	}
	zBenchPair(b, raw, ours)
}
