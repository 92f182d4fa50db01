package nest_test

import (
	"context"
	"strconv"
	"testing"
	"time"
)

func BenchmarkSetAdd(b *testing.B) {
	u, rdb := newBenchColl(b)
	ctx := context.Background()
	key, ttl := u.Tags.Name(), time.Hour
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			pp := rdb.TxPipeline()
			pp.SAdd(ctx, key, benchMembers[i%len(benchMembers)])
			pp.PExpire(ctx, key, ttl)
			if _, err := pp.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("nest", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			if _, err := u.Tags.Add(ctx, benchMembers[i%len(benchMembers)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("interleaved", func(b *testing.B) {
		interleave(b, func(i int) {
			pp := rdb.TxPipeline()
			pp.SAdd(ctx, key, benchMembers[i%len(benchMembers)])
			pp.PExpire(ctx, key, ttl)
			_, _ = pp.Exec(ctx)
		}, func(i int) { _, _ = u.Tags.Add(ctx, benchMembers[i%len(benchMembers)]) })
	})
}

// BenchmarkSetAll walks a set of 100 000 members: All against a raw SSCAN
// loop with the same COUNT (Options.ScanCount's default, 1000). One
// iteration is one full walk.
func BenchmarkSetAll(b *testing.B) {
	u, rdb := newBenchColl(b)
	ctx := context.Background()
	key := u.Big.Name()
	if n, _ := rdb.SCard(ctx, key).Result(); n != 100_000 {
		rdb.Del(ctx, key)
		ms := make([]string, 100_000)
		for i := range ms {
			ms[i] = "m" + strconv.Itoa(i)
		}
		if _, err := u.Big.Add(ctx, ms...); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			n := 0
			var cursor uint64
			for {
				keys, next, err := rdb.SScan(ctx, key, cursor, "", 1000).Result()
				if err != nil {
					b.Fatal(err)
				}
				for _, k := range keys {
					n += len(k) & 1
				}
				if cursor = next; cursor == 0 {
					break
				}
			}
			benchSink = n
		}
	})
	b.Run("nest", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			n := 0
			for m, err := range u.Big.All(ctx) {
				if err != nil {
					b.Fatal(err)
				}
				n += len(m) & 1
			}
			benchSink = n
		}
	})
}

var benchSink int
