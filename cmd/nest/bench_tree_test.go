package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest/internal/redistest"
)

// TestTreeVersusScan measures `nest tree` (the binary, with the test
// schema) over NEST_BENCH_TREE keys (e.g. 1000000) against a raw go-redis
// SCAN COUNT 1000 loop over the same keys plus as many MEMORY USAGE calls
// as tree samples, in interleaved rounds, and reports the median, min and
// max of each and tree's peak RSS. It is a measurement, not a check:
//
//	NEST_BENCH_TREE=1000000 go test -run TestTreeVersusScan -v -timeout 30m ./cmd/nest
func TestTreeVersusScan(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("NEST_BENCH_TREE"))
	if n <= 0 {
		t.Skip("set NEST_BENCH_TREE=1000000 to run")
	}
	rounds := 5
	if r, _ := strconv.Atoi(os.Getenv("NEST_BENCH_ROUNDS")); r > 0 {
		rounds = r
	}
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := srv.Client(t, 0)
	load(t, rdb, n)
	schema := schemaFile(t)
	url := serverURL(rdb)

	tree := func() (time.Duration, int64) {
		start := time.Now()
		cmd := exec.Command(nestBin, "tree", "--schema", schema, "--url", url, "--json")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("nest tree: %v\n%.500s", err, out)
		}
		d := time.Since(start)
		return d, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
	}
	// The raw loop: SCAN COUNT 1000, and MEMORY USAGE on as many keys as
	// tree samples (5 per template: 5 templates here).
	raw := func() time.Duration {
		start := time.Now()
		var cursor uint64
		seen, measured := 0, 0
		for {
			keys, next, err := rdb.Scan(ctx, cursor, "", 1000).Result()
			if err != nil {
				t.Fatal(err)
			}
			seen += len(keys)
			for _, k := range keys {
				if measured >= 25 {
					break
				}
				if err := rdb.MemoryUsage(ctx, k).Err(); err != nil {
					t.Fatal(err)
				}
				measured++
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		if seen < n {
			t.Fatalf("SCAN saw %d keys, want %d", seen, n)
		}
		return time.Since(start)
	}
	var tt, rt []time.Duration
	var rss int64
	for i := range rounds {
		var d time.Duration
		var r int64
		if i%2 == 0 { // alternate which goes first
			d, r = tree()
			rt = append(rt, raw())
		} else {
			rt = append(rt, raw())
			d, r = tree()
		}
		tt = append(tt, d)
		rss = max(rss, r)
		t.Logf("round %d: tree %v, raw %v", i+1, d.Round(time.Millisecond), rt[len(rt)-1].Round(time.Millisecond))
	}
	summary := func(ds []time.Duration) string {
		s := slices.Clone(ds)
		slices.Sort(s)
		return fmt.Sprintf("median %v (min %v, max %v)", s[len(s)/2].Round(time.Millisecond), s[0].Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond))
	}
	med := func(ds []time.Duration) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2]
	}
	t.Logf("%d keys, %d rounds", n, rounds)
	t.Logf("nest tree: %s, peak RSS %.1f MiB", summary(tt), float64(rss)/1024)
	t.Logf("raw SCAN:  %s", summary(rt))
	t.Logf("ratio of medians: %.2f", float64(med(tt))/float64(med(rt)))
}

// load writes n keys of the test schema's templates (5 per user, 1h TTL).
func load(t *testing.T, rdb *redis.Client, n int) {
	t.Helper()
	ctx := context.Background()
	names := []string{"name", "age", "tags", "visits", "prefs"}
	vals := []string{"user", "42", `["a","b"]`, "7", ""}
	pipe := rdb.Pipeline()
	for i := range n {
		u, f := i/len(names), i%len(names)
		key := fmt.Sprintf("shop:user:%d:%s", u, names[f])
		if names[f] == "prefs" {
			pipe.HSet(ctx, key, "theme", "dark")
			pipe.Expire(ctx, key, time.Hour)
		} else {
			pipe.Set(ctx, key, vals[f], time.Hour)
		}
		if pipe.Len() >= 10000 {
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rdb.DBSize(ctx).Val(); got != int64(n) {
		t.Fatalf("DBSIZE = %d, want %d", got, n)
	}
}
