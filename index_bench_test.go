package nest_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redisimnest/nest"
)

// The schema of index_test.go without its indexes, under another root.
type (
	bxSession struct {
		nest.Namespace `nest:"session:{sid}"`
		Data           nest.Key[string] `nest:"data"`
	}
	bxUser struct {
		nest.Namespace `nest:"user:{user_id}"`
		Age            nest.Key[int]       `nest:"age"`
		Session        nest.Sub[bxSession] `index:"set"`
	}
	bxRoot struct {
		nest.Namespace `nest:"bx"`
		User           nest.Sub[bxUser] `index:"set"`
	}
	byUser struct {
		nest.Namespace `nest:"user:{user_id}"`
		Age            nest.Key[int]       `nest:"age"`
		Session        nest.Sub[bxSession] // no index: found by SCAN
	}
	byRoot struct {
		nest.Namespace `nest:"by"`
		User           nest.Sub[byUser]
	}
)

// BenchmarkIndexClearUser clears a user holding an age and 10 sessions in
// a database of 1 000 000 unrelated keys: with the sessions indexed
// (SSCAN, then the names), without an index (one SCAN walk), and raw
// go-redis UNLINKing the 11 names it knows (no index to maintain), in
// interleaved rounds. Each round writes the user again (through nest,
// so the index is kept), untimed.
func BenchmarkIndexClearUser(b *testing.B) {
	rdb := noisy(b)
	ctx := context.Background()
	ix := nest.MustNew[bxRoot](rdb, nil).User.At(42)
	scan := nest.MustNew[byRoot](rdb, nil).User.At(42)
	write := func(prefix string) []string {
		names := []string{prefix + ":user:42:age"}
		pipe := rdb.Pipeline()
		pipe.Set(ctx, names[0], 1, 0)
		for i := range 10 {
			n := fmt.Sprintf("%s:user:42:session:s%d:data", prefix, i)
			names = append(names, n)
			pipe.Set(ctx, n, "d", 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
		return names
	}
	writeIx := func() {
		if err := ix.Age.Set(ctx, 1); err != nil {
			b.Fatal(err)
		}
		for i := range 10 {
			if err := ix.Session.At(fmt.Sprint("s", i)).Data.Set(ctx, "d"); err != nil {
				b.Fatal(err)
			}
		}
	}
	check := func(n int64, err error) {
		if err != nil || n != 11 {
			b.Fatalf("Clear = %d, %v; want 11", n, err)
		}
	}
	r := rounds{}
	for i := range b.N {
		fs := []func(){
			func() {
				names := write("raw")
				start := time.Now()
				pipe := rdb.Pipeline()
				for _, n := range names {
					pipe.Unlink(ctx, n)
				}
				if _, err := pipe.Exec(ctx); err != nil {
					b.Fatal(err)
				}
				r["raw"] = append(r["raw"], time.Since(start))
			},
			func() {
				writeIx()
				start := time.Now()
				check(ix.Clear(ctx))
				r["index"] = append(r["index"], time.Since(start))
			},
			func() {
				write("by")
				start := time.Now()
				check(scan.Clear(ctx))
				r["scan"] = append(r["scan"], time.Since(start))
			},
		}
		if i%2 == 1 {
			slices.Reverse(fs)
		}
		for _, f := range fs {
			f()
		}
	}
	r.report(b, "raw")
}
