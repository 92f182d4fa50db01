package nest_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Hash benchmarks: raw go-redis doing the same commands, TTL included
// (MULTI/HSET/PEXPIRE/EXEC, as a careful user writes it), beside ours, in
// the same run. Run with:
//
//	go test -run '^$' -bench 'BenchmarkHash' -benchmem -count 5 .

func BenchmarkHashSet(b *testing.B) {
	root, rdb := newHashRoot(b, nil)
	ctx := context.Background()
	h := root.User.At(1).Prefs
	key, field, val := h.Name(), "theme", "dark"
	ttl := time.Hour
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			pp := rdb.TxPipeline()
			pp.HSet(ctx, key, field, val)
			pp.PExpire(ctx, key, ttl)
			if _, err := pp.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("nest", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := h.Set(ctx, field, val); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("interleaved", func(b *testing.B) {
		interleave(b, func(int) {
			pp := rdb.TxPipeline()
			pp.HSet(ctx, key, field, val)
			pp.PExpire(ctx, key, ttl)
			if _, err := pp.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}, func(int) {
			if _, err := h.Set(ctx, field, val); err != nil {
				b.Fatal(err)
			}
		})
	})
}

func BenchmarkHashGet(b *testing.B) {
	root, rdb := newHashRoot(b, nil)
	ctx := context.Background()
	h := root.User.At(1).Stock
	key, field := h.Name(), "apples"
	if _, err := h.Set(ctx, field, 42); err != nil {
		b.Fatal(err)
	}
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			s, err := rdb.HGet(ctx, key, field).Result()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := strconv.Atoi(s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("nest", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := h.Get(ctx, field); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkHashAll iterates over 100 000 int fields: a raw HSCAN loop
// (COUNT 1000, the default Options.ScanCount) decoding each value, beside
// Hash.All.
func BenchmarkHashAll(b *testing.B) {
	root, rdb := newHashRoot(b, nil)
	ctx := context.Background()
	h := root.User.At(1).Stock
	const n = 100_000
	vals := make(map[string]int, n)
	for i := range n {
		vals["field:"+strconv.Itoa(i)] = i
	}
	if _, err := h.MSet(ctx, vals); err != nil {
		b.Fatal(err)
	}
	key := h.Name()
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if got := rawHScan(ctx, b, rdb, key); got != n {
				b.Fatalf("raw HSCAN saw %d fields", got)
			}
		}
	})
	b.Run("nest", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			got := 0
			for e, err := range h.All(ctx) {
				if err != nil {
					b.Fatal(err)
				}
				_ = e
				got++
			}
			if got < n {
				b.Fatalf("All saw %d fields", got)
			}
		}
	})
}

func rawHScan(ctx context.Context, b *testing.B, rdb redis.UniversalClient, key string) int {
	got := 0
	var cursor uint64
	for {
		kv, next, err := rdb.HScan(ctx, key, cursor, "", 1000).Result()
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if _, err := strconv.Atoi(kv[i+1]); err != nil {
				b.Fatal(err)
			}
			got++
		}
		if cursor = next; cursor == 0 {
			return got
		}
	}
}
