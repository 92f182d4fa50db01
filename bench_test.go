package nest_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// Every benchmark here runs raw go-redis doing the same work beside our
// layer, in the same run and against the same server, so the ratio between
// the two lines is what our layer costs. `make bench` runs them.

type benchProfile struct {
	ID      int64             `json:"id"`
	Name    string            `json:"name"`
	Email   string            `json:"email"`
	Tags    []string          `json:"tags"`
	Scores  map[string]int    `json:"scores"`
	Meta    map[string]string `json:"meta"`
	Premium bool              `json:"premium"`
}

type benchUser struct {
	nest.Namespace `nest:"user:{user_id}" ttl:"120s"`
	Age            nest.Key[int]          `nest:"age" default:"0"`
	Name           nest.Key[string]       `nest:"name" default:"Unknown"`
	Profile        nest.Key[benchProfile] `nest:"profile"`
}

type benchRoot struct {
	nest.Namespace `nest:"root"`
	User           nest.Sub[benchUser]
}

// The raw baselines use these key names from variables, as real code
// does: a constant would let Go box the string statically, hiding an
// allocation that every real caller pays.
var ageKey, nameKey, profileKey = "root:user:1:age", "root:user:1:name", "root:user:1:profile"

var nameVal = "Ada Lovelace"

var profile = benchProfile{
	ID: 42, Name: "Ada Lovelace", Email: "ada@example.com",
	Tags:   []string{"admin", "beta", "math"},
	Scores: map[string]int{"chess": 1800, "go": 1500},
	Meta:   map[string]string{"lang": "en", "tz": "Europe/London"},
}

func BenchmarkSet(b *testing.B) {
	root, rdb := newBench(b)
	ctx := context.Background()
	ttl := 120 * time.Second
	u := root.User.At(1)

	b.Run("int/raw", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			if err := rdb.Set(ctx, ageKey, i, ttl).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("int/handle", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			if err := u.Age.Set(ctx, i); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("int/percall", func(b *testing.B) {
		b.ReportAllocs()
		for i := range b.N {
			if err := root.User.At(1).Age.Set(ctx, i); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("string/raw", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := rdb.Set(ctx, nameKey, nameVal, ttl).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("string/handle", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := u.Name.Set(ctx, nameVal); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("string/percall", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := root.User.At(1).Name.Set(ctx, nameVal); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json/raw", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			data, err := json.Marshal(profile)
			if err != nil {
				b.Fatal(err)
			}
			if err := rdb.Set(ctx, profileKey, data, ttl).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json/handle", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := u.Profile.Set(ctx, profile); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json/percall", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := root.User.At(1).Profile.Set(ctx, profile); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkGet(b *testing.B) {
	root, rdb := newBench(b)
	ctx := context.Background()
	u := root.User.At(1)
	if err := u.Age.Set(ctx, 30); err != nil {
		b.Fatal(err)
	}
	if err := u.Name.Set(ctx, nameVal); err != nil {
		b.Fatal(err)
	}
	if err := u.Profile.Set(ctx, profile); err != nil {
		b.Fatal(err)
	}

	b.Run("int/raw", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := rdb.Get(ctx, ageKey).Int(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("int/handle", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := u.Age.Get(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("int/percall", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := root.User.At(1).Age.Get(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("string/raw", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := rdb.Get(ctx, nameKey).Result(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("string/handle", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := u.Name.Get(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("string/percall", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := root.User.At(1).Name.Get(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json/raw", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			data, err := rdb.Get(ctx, profileKey).Bytes()
			if err != nil {
				b.Fatal(err)
			}
			var p benchProfile
			if err := json.Unmarshal(data, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json/handle", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := u.Profile.Get(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json/percall", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := root.User.At(1).Profile.Get(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkClear deletes a subtree of 100 000 keys (user 1) while 10 000
// keys of user 12 stay, with our Clear and with the loop one would write by
// hand: SCAN a batch, then UNLINK it in pipelined chunks of 1000.
func BenchmarkClear(b *testing.B) {
	root, rdb := newBench(b)
	ctx := context.Background()
	const n = 100_000

	var names []string
	for i := range n {
		names = append(names, "root:user:1:item:"+strconv.Itoa(i))
		if i < n/10 {
			names = append(names, "root:user:12:item:"+strconv.Itoa(i))
		}
	}
	fill := func(b *testing.B) { writeKeys(b, rdb, names...) }
	check := func(b *testing.B, deleted int64) {
		b.Helper()
		if deleted != n {
			b.Fatalf("deleted %d keys, want %d", deleted, n)
		}
		if size := rdb.DBSize(ctx).Val(); size != n/10 {
			b.Fatalf("%d keys left, want the %d of user 12", size, n/10)
		}
	}

	b.Run("raw", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			fill(b)
			b.StartTimer()
			var deleted int64
			var cursor uint64
			for {
				keys, next, err := rdb.Scan(ctx, cursor, "root:user:1:*", 1000).Result()
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
					break
				}
			}
			b.StopTimer()
			check(b, deleted)
			b.StartTimer()
		}
	})
	b.Run("nest", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			fill(b)
			b.StartTimer()
			// The items are not declared in benchUser: WithUndeclared
			// clears them (see BenchmarkSubtreeClearParam for declared ones).
			deleted, err := root.User.At(1).Clear(ctx, nest.WithUndeclared())
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			check(b, deleted)
			b.StartTimer()
		}
	})
}

// BenchmarkOverhead measures the cost of our layer as a ratio that noise
// on a shared machine cannot skew: each iteration runs the raw go-redis
// command and our equivalent back to back, timing each, and the benchmark
// reports both means and nest/raw. (The separate Set and Get benchmarks
// give each side's allocations.)
func BenchmarkOverhead(b *testing.B) {
	root, rdb := newBench(b)
	ctx := context.Background()
	ttl := 120 * time.Second
	u := root.User.At(1)
	if err := u.Profile.Set(ctx, profile); err != nil {
		b.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	cases := []struct {
		name      string
		raw, nest func(i int)
	}{
		{"set-int/handle",
			func(i int) { must(rdb.Set(ctx, ageKey, i, ttl).Err()) },
			func(i int) { must(u.Age.Set(ctx, i)) }},
		{"set-int/percall",
			func(i int) { must(rdb.Set(ctx, ageKey, i, ttl).Err()) },
			func(i int) { must(root.User.At(1).Age.Set(ctx, i)) }},
		{"get-int/handle",
			func(int) { _, err := rdb.Get(ctx, ageKey).Int(); must(err) },
			func(int) { _, err := u.Age.Get(ctx); must(err) }},
		{"get-int/percall",
			func(int) { _, err := rdb.Get(ctx, ageKey).Int(); must(err) },
			func(int) { _, err := root.User.At(1).Age.Get(ctx); must(err) }},
		{"set-string/handle",
			func(int) { must(rdb.Set(ctx, nameKey, nameVal, ttl).Err()) },
			func(int) { must(u.Name.Set(ctx, nameVal)) }},
		{"set-string/percall",
			func(int) { must(rdb.Set(ctx, nameKey, nameVal, ttl).Err()) },
			func(int) { must(root.User.At(1).Name.Set(ctx, nameVal)) }},
		{"get-string/handle",
			func(int) { must(rdb.Get(ctx, nameKey).Err()) },
			func(int) { _, err := u.Name.Get(ctx); must(err) }},
		{"get-string/percall",
			func(int) { must(rdb.Get(ctx, nameKey).Err()) },
			func(int) { _, err := root.User.At(1).Name.Get(ctx); must(err) }},
		{"set-json/handle",
			func(int) {
				data, err := json.Marshal(profile)
				must(err)
				must(rdb.Set(ctx, profileKey, data, ttl).Err())
			},
			func(int) { must(u.Profile.Set(ctx, profile)) }},
		{"get-json/handle",
			func(int) {
				data, err := rdb.Get(ctx, profileKey).Bytes()
				must(err)
				var p benchProfile
				must(json.Unmarshal(data, &p))
			},
			func(int) { _, err := u.Profile.Get(ctx); must(err) }},
		{"get-json/percall",
			func(int) {
				data, err := rdb.Get(ctx, profileKey).Bytes()
				must(err)
				var p benchProfile
				must(json.Unmarshal(data, &p))
			},
			func(int) { _, err := root.User.At(1).Profile.Get(ctx); must(err) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			interleave(b, c.raw, c.nest)
		})
	}
}

// Building a handle is cheap by construction, so its allocations are
// asserted (they are deterministic, unlike timings): At allocates the
// struct of handles with its namespace instance, and one buffer with
// every name; ParamKey.At allocates the name.
func TestAllocations(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	offline := offlineClient(t)
	root := nest.MustNew[benchRoot](offline, nil)
	uncached := nest.MustNew[benchRoot](offline, &nest.Options{InstanceCache: -1})
	fixture := nest.MustNew[Root](offline, nil)
	customer := nest.MustNew[Shop](offline, nil).Customer.At(1)
	id := 12345
	for _, tc := range []struct {
		name string
		max  float64
		fn   func()
	}{
		{"Sub.At, instance remembered", 0, func() { _ = root.User.At(id).Age.Name() }},
		{"Sub.At, new instance", 1, func() { id++; _ = root.User.At(id).Age.Name() }},
		{"Sub.At, cache off", 1, func() { _ = uncached.User.At(id).Age.Name() }},
		{"Sub.At with two parameters", 0, func() { _ = fixture.Admin.At(id, "eu").Level.Name() }},
		{"ParamKey.At", 1, func() { _ = customer.Settings.At(id).Name() }},
	} {
		if got := testing.AllocsPerRun(200, tc.fn); got > tc.max+1 { // +1: boxing id for the variadic
			t.Errorf("%s: %.0f allocations, want at most %.0f (+1 boxing the parameter)", tc.name, got, tc.max)
		}
	}
	// Against a server: a command through a handle, built beforehand or
	// per call with a remembered instance, allocates one object fewer
	// than raw go-redis (the argument slice and the boxed key name share
	// one block, see args_unsafe.go; a regression once made every Get
	// allocate 8 bytes more, errors.As's target escaping before the error
	// was checked).
	rdb := redistest.Shared(t)
	live := nest.MustNew[benchRoot](rdb, nil)
	ctx := context.Background()
	u := live.User.At(1)
	if err := u.Age.Set(ctx, 7); err != nil {
		t.Fatal(err)
	}
	ttl := 120 * time.Second
	for _, tc := range []struct {
		name      string
		raw, nest func()
	}{
		{"Get", func() { _, _ = rdb.Get(ctx, ageKey).Int() }, func() { _, _ = u.Age.Get(ctx) }},
		{"Get per call", func() { _, _ = rdb.Get(ctx, ageKey).Int() }, func() { _, _ = live.User.At(1).Age.Get(ctx) }},
		{"Set", func() { _ = rdb.Set(ctx, ageKey, 7, ttl).Err() }, func() { _ = u.Age.Set(ctx, 7) }},
		{"Set per call", func() { _ = rdb.Set(ctx, ageKey, 7, ttl).Err() }, func() { _ = live.User.At(1).Age.Set(ctx, 7) }},
	} {
		raw, ours := testing.AllocsPerRun(200, tc.raw), testing.AllocsPerRun(200, tc.nest)
		if ours > raw-1 {
			t.Errorf("%s: %.0f allocations, raw go-redis %.0f: want at least one fewer", tc.name, ours, raw)
		}
	}
	// A pipeline of 100 Sets and 100 Gets: queued operations share the
	// Pipe's chunks of arguments and Futures, at least one allocation
	// fewer per operation than raw go-redis.
	const n = 100
	keys, names := make([]nest.Key[int], n), make([]string, n)
	for i := range n {
		keys[i], names[i] = live.User.At(i).Age, "root:user:"+strconv.Itoa(i)+":age"
	}
	raw := testing.AllocsPerRun(20, func() {
		p := rdb.Pipeline()
		for i, name := range names {
			p.Set(ctx, name, 1000+i, ttl)
			p.Get(ctx, name)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	})
	ours := testing.AllocsPerRun(20, func() {
		p := live.Pipeline()
		for i, k := range keys {
			k.In(p).Set(ctx, 1000+i)
			k.In(p).Get(ctx)
		}
		if err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	})
	if ours > raw-2*n {
		t.Errorf("pipeline of %d operations: %.0f allocations, raw go-redis %.0f: want at least one fewer per operation", 2*n, ours, raw)
	}
}

// BenchmarkAt measures Sub.At with no server: binding one of 100
// parameters it bound before (the instance cache's hit), and new
// parameters each time with the cache on (a miss: the instance and its
// names are built and remembered) and off. New parameters are large
// numbers, which Go boxes with one allocation for the variadic.
func BenchmarkAt(b *testing.B) {
	offline := offlineClient(b)
	for _, c := range []struct {
		name  string
		cache int
		ids   int
	}{{"remembered", 0, 100}, {"new", 0, 1 << 30}, {"new-cache-off", -1, 1 << 30}} {
		b.Run(c.name, func(b *testing.B) {
			root := nest.MustNew[benchRoot](offline, &nest.Options{InstanceCache: c.cache})
			b.ReportAllocs()
			var name string
			for i := 0; b.Loop(); i++ {
				name = root.User.At(i % c.ids).Age.Name()
			}
			_ = name
		})
	}
}

// BenchmarkAutoPipeline measures throughput under high concurrency through
// go-redis's AutoPipeliner, the recommended setup there: each round, 512
// workers each write 8 keys, 4 096 in all, raw and through nest, in
// paired rounds (see pairedRounds). The workers live across rounds, as a
// server's connection goroutines do, so a round measures the writes and
// not the creation of 512 goroutines and the growth of their first
// stacks, which made the ratio swing by 10 % from one run to the next.
// In "percall" each side builds its key per write: nest with
// root.User.At(i).Age.Set, raw with "root:user:"+strconv.Itoa(i)+":age";
// "percall-cache-off" is the same with Options.InstanceCache -1; in
// "handles" both were built before (nest's Key handles, raw's names).
// "control" runs raw against a copy of itself: its nest/raw, 1 give or
// take the machine's noise, is the harness's own.
func BenchmarkAutoPipeline(b *testing.B) {
	rdb := redistest.Shared(b)
	ap, err := rdb.AutoPipeline()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ap.Close() })
	root, err := nest.New[benchRoot](ap, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ttl := 120 * time.Second
	const workers, perWorker = 512, 8
	names := make([]string, workers*perWorker)
	keys := make([]nest.Key[int], workers*perWorker)
	for i := range names {
		names[i] = "root:user:" + strconv.Itoa(i) + ":age"
		keys[i] = root.User.At(i).Age
	}
	pool := newWorkers(b, workers)
	round := func(op func(i int) error) func() error {
		return func() error {
			return pool.run(func(w int) error {
				for j := range perWorker {
					if err := op(w*perWorker + j); err != nil {
						return err
					}
				}
				return nil
			})
		}
	}
	rawPerCall := round(func(i int) error {
		return ap.Set(ctx, "root:user:"+strconv.Itoa(i)+":age", i, ttl).Err()
	})
	uncached, err := nest.New[benchRoot](ap, &nest.Options{InstanceCache: -1})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		root *benchRoot
	}{{"percall", root}, {"percall-cache-off", uncached}} {
		b.Run(c.name, func(b *testing.B) {
			pairedRounds(b, rawPerCall, round(func(i int) error {
				return c.root.User.At(i).Age.Set(ctx, i)
			}))
		})
	}
	b.Run("handles", func(b *testing.B) {
		pairedRounds(b, round(func(i int) error {
			return ap.Set(ctx, names[i], i, ttl).Err()
		}), round(func(i int) error {
			return keys[i].Set(ctx, i)
		}))
	})
	b.Run("control", func(b *testing.B) {
		pairedRounds(b, rawPerCall, round(func(i int) error {
			return ap.Set(ctx, "root:user:"+strconv.Itoa(i)+":age", i, ttl).Err()
		}))
	})
}
