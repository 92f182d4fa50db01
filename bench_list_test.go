package nest_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// Benchmarks of List and Set beside raw go-redis doing the same commands,
// TTL included: what a careful user writes is MULTI + the command +
// PEXPIRE in one TxPipeline round trip.

type benchColl struct {
	nest.Namespace `nest:"bc"`
	User           nest.Sub[benchCollUser]
}

type benchCollUser struct {
	nest.Namespace `nest:"user:{id}" ttl:"1h"`
	Queue          nest.List[string] `nest:"queue"`
	Tags           nest.Set[string]  `nest:"tags"`
	Big            nest.Set[string]  `nest:"big"`
}

func newBenchColl(b *testing.B) (*benchCollUser, *redis.Client) {
	b.Helper()
	rdb := redistest.Shared(b)
	root, err := nest.New[benchColl](rdb, nil)
	if err != nil {
		b.Fatal(err)
	}
	return root.User.At(1), rdb
}

// benchMembers are distinct members built up front, so that neither side
// pays for formatting them.
var benchMembers = func() []string {
	ms := make([]string, 1024)
	for i := range ms {
		ms[i] = "member-" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
	}
	return ms
}()

func BenchmarkListPush(b *testing.B) {
	u, rdb := newBenchColl(b)
	ctx := context.Background()
	key, ttl := u.Queue.Name(), time.Hour
	b.Run("raw", func(b *testing.B) {
		rdb.Del(ctx, key)
		b.ReportAllocs()
		for i := range b.N {
			pp := rdb.TxPipeline()
			pp.RPush(ctx, key, benchMembers[i%len(benchMembers)])
			pp.PExpire(ctx, key, ttl)
			if _, err := pp.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("nest", func(b *testing.B) {
		rdb.Del(ctx, key)
		b.ReportAllocs()
		for i := range b.N {
			if _, err := u.Queue.RPush(ctx, benchMembers[i%len(benchMembers)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("interleaved", func(b *testing.B) {
		rdb.Del(ctx, key)
		interleave(b, func(i int) {
			pp := rdb.TxPipeline()
			pp.RPush(ctx, key, benchMembers[i%len(benchMembers)])
			pp.PExpire(ctx, key, ttl)
			_, _ = pp.Exec(ctx)
		}, func(i int) { _, _ = u.Queue.RPush(ctx, benchMembers[i%len(benchMembers)]) })
	})
}
