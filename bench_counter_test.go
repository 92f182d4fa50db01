package nest_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// Counter benchmarks: raw is what a careful go-redis user writes for a
// counter with a TTL, INCRBY and PEXPIRE (PEXPIRE NX for a fixed window)
// in one MULTI/EXEC pipeline; nest is the Counter, whose write script does
// both in one atomic step. Run with -count=5 so the sub-benchmarks
// interleave:
//
//	go test -run '^$' -bench 'BenchmarkCounter' -benchmem -count=5 .

// ctrRawKey is the raw baseline's key, from a variable as real code has it.
var ctrRawKey = "ctr:user:1:raw"

func newCtrBench(b *testing.B) (*ctrRoot, *redis.Client) {
	b.Helper()
	rdb := redistest.Shared(b)
	return nest.MustNew[ctrRoot](rdb, nil), rdb
}

func BenchmarkCounterIncr(b *testing.B) {
	root, rdb := newCtrBench(b)
	u := root.User.At(1)
	ctx := context.Background()
	if _, err := u.Logins.Incr(ctx); err != nil { // load the script
		b.Fatal(err)
	}
	rawIncr := func(int) {
		p := rdb.TxPipeline()
		incr := p.IncrBy(ctx, ctrRawKey, 1)
		p.PExpire(ctx, ctrRawKey, time.Hour)
		if _, err := p.Exec(ctx); err != nil {
			b.Fatal(err)
		}
		_ = incr.Val()
	}
	rawFixed := func(int) {
		p := rdb.TxPipeline()
		incr := p.IncrBy(ctx, ctrRawKey, 1)
		p.ExpireNX(ctx, ctrRawKey, time.Minute)
		if _, err := p.Exec(ctx); err != nil {
			b.Fatal(err)
		}
		_ = incr.Val()
	}
	nestIncr := func(int) {
		if _, err := u.Logins.IncrBy(ctx, 1); err != nil {
			b.Fatal(err)
		}
	}
	nestFixed := func(int) {
		if _, err := u.Window.IncrBy(ctx, 1); err != nil {
			b.Fatal(err)
		}
	}
	// Interleaved: raw and nest alternate within one loop (ratio nest/raw).
	b.Run("interleaved", func(b *testing.B) { interleave(b, rawIncr, nestIncr) })
	b.Run("fixed/interleaved", func(b *testing.B) { interleave(b, rawFixed, nestFixed) })
	// Alone, for the allocations of each.
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			p := rdb.TxPipeline()
			incr := p.IncrBy(ctx, ctrRawKey, 1)
			p.PExpire(ctx, ctrRawKey, time.Hour)
			if _, err := p.Exec(ctx); err != nil {
				b.Fatal(err)
			}
			_ = incr.Val()
		}
	})
	b.Run("nest", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := u.Logins.IncrBy(ctx, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fixed/raw", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			p := rdb.TxPipeline()
			incr := p.IncrBy(ctx, ctrRawKey, 1)
			p.ExpireNX(ctx, ctrRawKey, time.Minute)
			if _, err := p.Exec(ctx); err != nil {
				b.Fatal(err)
			}
			_ = incr.Val()
		}
	})
	b.Run("fixed/nest", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := u.Window.IncrBy(ctx, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCounterConcurrent: 64 goroutines incrementing one counter.
// In "interleaved" every goroutine alternates a raw and a nest increment
// and times each, so both see the same load; nest/raw is the ratio of
// their mean latencies, the inverse of their throughput ratio.
func BenchmarkCounterConcurrent(b *testing.B) {
	root, rdb := newCtrBench(b)
	u := root.User.At(2)
	ctx := context.Background()
	if _, err := u.Logins.Incr(ctx); err != nil {
		b.Fatal(err)
	}
	par := max(1, 64/runtime.GOMAXPROCS(0))
	raw := func() error {
		p := rdb.TxPipeline()
		p.IncrBy(ctx, ctrRawKey, 1)
		p.PExpire(ctx, ctrRawKey, time.Hour)
		_, err := p.Exec(ctx)
		return err
	}
	ours := func() error {
		_, err := u.Logins.IncrBy(ctx, 1)
		return err
	}
	b.Run("interleaved", func(b *testing.B) {
		var rawT, oursT atomic.Int64
		b.SetParallelism(par)
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				first, second, ft, st := raw, ours, &rawT, &oursT
				if i++; i%2 == 0 {
					first, second, ft, st = ours, raw, &oursT, &rawT
				}
				t0 := time.Now()
				err := first()
				t1 := time.Now()
				if err == nil {
					err = second()
				}
				ft.Add(int64(t1.Sub(t0)))
				st.Add(int64(time.Since(t1)))
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(oursT.Load())/float64(rawT.Load()), "nest/raw")
		b.ReportMetric(float64(b.N)/(time.Duration(rawT.Load()).Seconds()/float64(par*runtime.GOMAXPROCS(0))), "raw-ops/s")
		b.ReportMetric(float64(b.N)/(time.Duration(oursT.Load()).Seconds()/float64(par*runtime.GOMAXPROCS(0))), "nest-ops/s")
	})
	// Rounds alternate raw and nest (raw, nest, raw#01, nest#01, ...), so
	// a change of load on the machine hits both.
	for range 5 {
		b.Run("raw", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(par)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := raw(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run("nest", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(par)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := ours(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
