package nest_test

import (
	"context"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// Benchmarks of subtree operations. Each runs interleaved rounds (one
// b.N iteration is one round of every variant, alternating their order)
// and reports the median per variant, logging the min–max; run them with
// -benchtime=5x or more for 5 rounds:
//
//	go test -run '^$' -bench 'Subtree' -benchtime=5x .

type (
	stUser struct {
		nest.Namespace `nest:"user:{user_id}"`
		Age            nest.Key[int]    `nest:"age"`
		Name           nest.Key[string] `nest:"name"`
	}
	stTenant struct {
		nest.Namespace `nest:"tenant:{tenant_id}"`
		Item           nest.ParamKey[string] `nest:"item:{item_id}"`
	}
	stRoot struct {
		nest.Namespace `nest:"st"`
		User           nest.Sub[stUser]
		Tenant         nest.Sub[stTenant]
	}
)

// noisyDB is a database of the shared server holding 1 000 000 unrelated
// keys, filled once per benchmark process.
var noisyDB struct {
	once sync.Once
	rdb  *redis.Client
	err  error
}

const noiseKeys = 1_000_000

func noisy(b *testing.B) *redis.Client {
	b.Helper()
	noisyDB.once.Do(func() {
		rdb, err := redistest.SharedClient()
		if err != nil {
			noisyDB.err = err
			return
		}
		noisyDB.rdb, noisyDB.err = rdb, fill(rdb, "noise:", noiseKeys)
	})
	if noisyDB.err != nil {
		b.Fatal(noisyDB.err)
	}
	return noisyDB.rdb
}

// fill writes n keys prefix0, prefix1, ...: DEBUG POPULATE when the server
// allows it, else pipelined MSETs of 1000 keys.
func fill(rdb *redis.Client, prefix string, n int) error {
	ctx := context.Background()
	if err := rdb.Do(ctx, "DEBUG", "POPULATE", n, prefix[:len(prefix)-1]).Err(); err == nil && prefix[len(prefix)-1] == ':' {
		return nil
	}
	for start := 0; start < n; start += 100_000 {
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := start; i < min(start+100_000, n); i += 1000 {
				kv := make([]any, 0, 2000)
				for j := i; j < min(i+1000, n); j++ {
					kv = append(kv, prefix+strconv.Itoa(j), "v")
				}
				p.MSet(ctx, kv...)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// rounds collects the per-round times of named variants.
type rounds map[string][]time.Duration

func (r rounds) report(b *testing.B, base string) {
	b.Helper()
	med := map[string]time.Duration{}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range r {
			if !yield(k) {
				return
			}
		}
	}) {
		ts := slices.Clone(r[name])
		slices.Sort(ts)
		med[name] = ts[len(ts)/2]
		b.ReportMetric(float64(med[name].Nanoseconds()), name+"-ns/op")
		b.Logf("%-6s median %v  min %v  max %v  (%d rounds)", name, med[name], ts[0], ts[len(ts)-1], len(ts))
	}
	for name := range r {
		if name != base {
			b.ReportMetric(float64(med[name])/float64(med[base]), name+"/"+base)
		}
	}
}

// timed runs f reps times and returns the mean time of one run.
func timed(reps int, f func()) time.Duration {
	start := time.Now()
	for range reps {
		f()
	}
	return time.Since(start) / time.Duration(reps)
}

// BenchmarkSubtreeKnown clears and counts a user holding 2 keys, in a
// database of 1 000 000 unrelated keys: raw is a pipelined UNLINK (EXISTS
// for Count) of the two names; nest is Clear (Count); old is the SCAN walk
// of versions before 0.3, still available as WithUndeclared.
func BenchmarkSubtreeKnown(b *testing.B) {
	rdb := noisy(b)
	root := nest.MustNew[stRoot](rdb, nil)
	ctx := context.Background()
	u := root.User.At(42)
	names := []string{u.Age.Name(), u.Name.Name()}
	write := func() {
		if err := rdb.MSet(ctx, names[0], 1, names[1], "n").Err(); err != nil {
			b.Fatal(err)
		}
	}
	check := func(n int64, err error) {
		if err != nil || n != 2 {
			b.Fatalf("got %d, %v; want 2", n, err)
		}
	}
	const reps = 200
	for _, op := range []string{"Clear", "Count"} {
		b.Run(op, func(b *testing.B) {
			r := rounds{}
			for i := range b.N {
				raw := func() {
					write()
					r["raw"] = append(r["raw"], timed(reps, func() {
						pipe := rdb.Pipeline()
						for _, n := range names {
							if op == "Clear" {
								pipe.Unlink(ctx, n)
							} else {
								pipe.Exists(ctx, n)
							}
						}
						if _, err := pipe.Exec(ctx); err != nil {
							b.Fatal(err)
						}
						if op == "Clear" {
							write()
						}
					})-timed(reps, write)*btoi(op == "Clear"))
				}
				ours := func() {
					write()
					r["nest"] = append(r["nest"], timed(reps, func() {
						if op == "Clear" {
							check(u.Clear(ctx))
							write()
						} else {
							check(u.Count(ctx))
						}
					})-timed(reps, write)*btoi(op == "Clear"))
				}
				old := func() {
					write()
					start := time.Now()
					if op == "Clear" {
						check(u.Clear(ctx, nest.WithUndeclared()))
					} else {
						check(u.Count(ctx, nest.WithUndeclared()))
					}
					r["old"] = append(r["old"], time.Since(start))
				}
				fs := []func(){raw, ours, old}
				if i%2 == 1 {
					slices.Reverse(fs)
				}
				for _, f := range fs {
					f()
				}
			}
			r.report(b, "raw")
			b.ReportMetric(float64(slices.Min(r["old"]))/float64(slices.Max(r["nest"])), "old/nest-worst")
		})
	}
}

func btoi(v bool) time.Duration {
	if v {
		return 1
	}
	return 0
}

// BenchmarkSubtreeClearParam clears 100 000 keys below a parameterised
// child (tenant 1's items) while the 10 000 of tenant 12 stay: nest's
// Clear against the loop one would write by hand, SCAN a batch, then
// UNLINK it in pipelined chunks of 1000.
func BenchmarkSubtreeClearParam(b *testing.B) {
	rdb, err := redistest.SharedClient()
	if err != nil {
		b.Fatal(err)
	}
	defer rdb.Close()
	root := nest.MustNew[stRoot](rdb, nil)
	ctx := context.Background()
	const n = 100_000
	refill := func() {
		if err := fill(rdb, "st:tenant:1:item:", n); err != nil {
			b.Fatal(err)
		}
	}
	if err := fill(rdb, "st:tenant:12:item:", n/10); err != nil {
		b.Fatal(err)
	}
	check := func(deleted int64) {
		if deleted != n {
			b.Fatalf("deleted %d keys, want %d", deleted, n)
		}
		if size := rdb.DBSize(ctx).Val(); size != n/10 {
			b.Fatalf("%d keys left, want the %d of tenant 12", size, n/10)
		}
	}
	raw := func() int64 {
		var deleted int64
		var cursor uint64
		for {
			keys, next, err := rdb.Scan(ctx, cursor, "st:tenant:1:*", 1000).Result()
			if err != nil {
				b.Fatal(err)
			}
			if len(keys) > 0 {
				pipe := rdb.Pipeline()
				var cmds []*redis.IntCmd
				for start := 0; start < len(keys); start += 1000 {
					cmds = append(cmds, pipe.Unlink(ctx, keys[start:min(start+1000, len(keys))]...))
				}
				if _, err := pipe.Exec(ctx); err != nil {
					b.Fatal(err)
				}
				for _, c := range cmds {
					deleted += c.Val()
				}
			}
			if cursor = next; cursor == 0 {
				return deleted
			}
		}
	}
	ours := func() int64 {
		d, err := root.Tenant.At(1).Clear(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return d
	}
	r := rounds{}
	for i := range b.N {
		variants := []struct {
			name string
			f    func() int64
		}{{"raw", raw}, {"nest", ours}}
		if i%2 == 1 {
			slices.Reverse(variants)
		}
		for _, v := range variants {
			refill()
			start := time.Now()
			d := v.f()
			r[v.name] = append(r[v.name], time.Since(start))
			check(d)
		}
	}
	r.report(b, "raw")
	speed := make([]float64, len(r["raw"]))
	for i := range speed {
		speed[i] = float64(r["raw"][i]) / float64(r["nest"][i])
	}
	slices.Sort(speed)
	b.ReportMetric(speed[len(speed)/2], "speedup-median")
	b.Logf("per-round speedup raw/nest: median %.2fx, min %.2fx, max %.2fx", speed[len(speed)/2], speed[0], speed[len(speed)-1])
}

// BenchmarkSubtreeCountHeap counts 1 000 000 keys below a parameterised
// child and reports the peak of the live heap above the baseline, sampled
// every 200µs through runtime/metrics.
func BenchmarkSubtreeCountHeap(b *testing.B) {
	rdb, err := redistest.SharedClient()
	if err != nil {
		b.Fatal(err)
	}
	defer rdb.Close()
	const n = 1_000_000
	if err := fill(rdb, "st:tenant:2:item:", n); err != nil {
		b.Fatal(err)
	}
	root := nest.MustNew[stRoot](rdb, nil)
	ctx := context.Background()
	// objects: every heap object, garbage not yet collected included;
	// live: the heap marked live by the last GC.
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	heap := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	live := func() uint64 { return sample[1].Value.Uint64() }
	var peaks, livePeaks []float64
	for range b.N {
		runtime.GC()
		base, liveBase := heap(), live()
		var peak, livePeak atomic.Uint64
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			t := time.NewTicker(200 * time.Microsecond)
			defer t.Stop()
			for {
				if h := heap(); h > peak.Load() {
					peak.Store(h)
				}
				if l := live(); l > livePeak.Load() {
					livePeak.Store(l)
				}
				select {
				case <-done:
					return
				case <-t.C:
				}
			}
		})
		got, err := root.Tenant.At(2).Count(ctx)
		close(done)
		wg.Wait()
		if err != nil || got != n {
			b.Fatalf("Count = %d, %v; want %d", got, err, n)
		}
		peaks = append(peaks, float64(peak.Load()-min(base, peak.Load()))/(1<<20))
		livePeaks = append(livePeaks, float64(livePeak.Load()-min(liveBase, livePeak.Load()))/(1<<20))
	}
	slices.Sort(peaks)
	slices.Sort(livePeaks)
	b.ReportMetric(peaks[len(peaks)/2], "peak-heap-MiB")
	b.ReportMetric(livePeaks[len(livePeaks)/2], "peak-live-MiB")
	b.Logf("peak live heap above baseline: median %.1f MiB, min %.1f, max %.1f", livePeaks[len(livePeaks)/2], livePeaks[0], livePeaks[len(livePeaks)-1])
	b.Logf("peak heap above baseline, Count of %d keys: median %.1f MiB, min %.1f, max %.1f", n, peaks[len(peaks)/2], peaks[0], peaks[len(peaks)-1])
}

// BenchmarkSubtreeLatency measures the p99 latency of a GET loop running
// beside a Clear of 200 000 keys, unthrottled and throttled
// (WithKeyRate(200 000), WithScanCount(100)). It reports, never asserts.
func BenchmarkSubtreeLatency(b *testing.B) {
	rdb, err := redistest.SharedClient()
	if err != nil {
		b.Fatal(err)
	}
	defer rdb.Close()
	root := nest.MustNew[stRoot](rdb, nil)
	ctx := context.Background()
	const n = 200_000
	if err := rdb.Set(ctx, "probe", "v", 0).Err(); err != nil {
		b.Fatal(err)
	}
	measure := func(opts ...nest.SubtreeOption) (p99 time.Duration, took time.Duration) {
		if err := fill(rdb, "st:tenant:3:item:", n); err != nil {
			b.Fatal(err)
		}
		done := make(chan struct{})
		var lat []time.Duration
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				start := time.Now()
				if err := rdb.Get(ctx, "probe").Err(); err != nil {
					panic(err)
				}
				lat = append(lat, time.Since(start))
			}
		})
		start := time.Now()
		d, err := root.Tenant.At(3).Clear(ctx, opts...)
		took = time.Since(start)
		close(done)
		wg.Wait()
		if err != nil || d != n {
			b.Fatalf("Clear = %d, %v", d, err)
		}
		slices.Sort(lat)
		return lat[len(lat)*99/100], took
	}
	var free, slow []time.Duration
	var freeT, slowT []time.Duration
	for i := range b.N {
		if i%2 == 0 {
			p, t := measure()
			free, freeT = append(free, p), append(freeT, t)
			p, t = measure(nest.WithKeyRate(200_000), nest.WithScanCount(100))
			slow, slowT = append(slow, p), append(slowT, t)
		} else {
			p, t := measure(nest.WithKeyRate(200_000), nest.WithScanCount(100))
			slow, slowT = append(slow, p), append(slowT, t)
			p, t = measure()
			free, freeT = append(free, p), append(freeT, t)
		}
	}
	for _, s := range [][]time.Duration{free, slow, freeT, slowT} {
		slices.Sort(s)
	}
	med := func(s []time.Duration) time.Duration { return s[len(s)/2] }
	b.ReportMetric(float64(med(free).Microseconds()), "p99-us-unthrottled")
	b.ReportMetric(float64(med(slow).Microseconds()), "p99-us-throttled")
	b.Logf("GET p99 during Clear of %d keys: unthrottled median %v (min %v, max %v), Clear took %v; throttled median %v (min %v, max %v), Clear took %v",
		n, med(free), free[0], free[len(free)-1], med(freeT), med(slow), slow[0], slow[len(slow)-1], med(slowT))
}
