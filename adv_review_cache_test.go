package nest_test

// Review of the At cache-hit path (bind.go: findArg, hashArg with the new
// decimal/udecimal digits): a value found by its hash must be the
// instance the prefix renderer (appendParam, strconv) would name, for
// every integer type and edge value, under concurrency and collisions.

import (
	"fmt"
	"math"
	"strconv"
	"sync"
	"testing"

	"github.com/redisimnest/nest"
)

// reviewEdgeParams are the At values whose text hashArg writes itself, and
// the text strconv (appendParam) writes for them.
func reviewEdgeParams() []struct {
	v    any
	text string
} {
	type p = struct {
		v    any
		text string
	}
	ps := []p{
		{0, "0"}, {-0, "0"}, {1, "1"}, {-1, "-1"}, {9, "9"}, {10, "10"}, {-10, "-10"},
		{255, "255"}, {256, "256"}, {-256, "-256"},
		{math.MaxInt, strconv.Itoa(math.MaxInt)}, {math.MinInt, strconv.Itoa(math.MinInt)},
		{int64(math.MinInt64), "-9223372036854775808"}, {int64(math.MaxInt64), "9223372036854775807"},
		{int64(math.MinInt64 + 1), "-9223372036854775807"}, {int64(-1), "-1"}, {int64(0), "0"},
		{uint64(math.MaxUint64), "18446744073709551615"}, {uint64(1 << 63), "9223372036854775808"},
		{uint64(0), "0"}, {uint64(10000000000000000000), "10000000000000000000"},
		{int32(math.MinInt32), "-2147483648"}, {int32(math.MaxInt32), "2147483647"}, {int32(-1), "-1"},
		{uint32(math.MaxUint32), "4294967295"}, {uint32(0), "0"},
		// Rendered, not hashed by value: must still be right.
		{int8(-128), "-128"}, {int16(-32768), "-32768"}, {uint(math.MaxUint), strconv.FormatUint(math.MaxUint, 10)},
		{uint8(255), "255"}, {uint16(65535), "65535"},
		// Strings whose text equals an integer's.
		{"-1", "-1"}, {"18446744073709551615", "18446744073709551615"}, {"-9223372036854775808", "-9223372036854775808"},
		{"0", "0"}, {"00", "00"}, {"-0", "-0"}, {"x", "x"},
	}
	for i := range 200 {
		x := int64(uint64(i) * 0x9E3779B97F4A7C15)
		ps = append(ps, p{x, strconv.FormatInt(x, 10)}, p{uint64(x), strconv.FormatUint(uint64(x), 10)},
			p{int(x >> (i % 64)), strconv.FormatInt(x>>(i%64), 10)}, p{int32(x), strconv.FormatInt(int64(int32(x)), 10)},
			p{uint32(x), strconv.FormatUint(uint64(uint32(x)), 10)})
	}
	return ps
}

// TestAdvReviewAtEdgeIntegersConcurrent binds every edge value from 64
// goroutines, in different orders, with the cache at its default size, at
// one slot (every value replaces the last: values sharing a hash, such as
// int(-1) and uint64(MaxUint64), collide) and off, and compares every name
// with the one strconv gives, nested and pinned included.
func TestAdvReviewAtEdgeIntegersConcurrent(t *testing.T) {
	ps := reviewEdgeParams()
	for _, size := range []int{0, 1, 2, -1} {
		t.Run(fmt.Sprint("slots=", size), func(t *testing.T) {
			root := nest.MustNew[Root](offlineClient(t), &nest.Options{InstanceCache: size})
			cl := nest.MustNew[clusterRoot](offlineClient(t), &nest.Options{InstanceCache: size})
			var wg sync.WaitGroup
			errs := make(chan string, 64)
			for g := range 64 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for round := range 20 {
						for j := range ps {
							p := ps[(j*(g+1)+round)%len(ps)]
							want := "root:user:" + p.text
							u := root.User.At(p.v)
							if got := u.Age.Name(); got != want+":age" {
								errs <- fmt.Sprintf("At(%T %v).Age = %q, want %q", p.v, p.v, got, want+":age")
								return
							}
							if got := u.Prefix(); got != want {
								errs <- fmt.Sprintf("At(%T %v).Prefix() = %q, want %q", p.v, p.v, got, want)
								return
							}
							if got := u.Messages.At(p.v).Text.Name(); got != want+":message:"+p.text+":text" {
								errs <- fmt.Sprintf("nested At(%T %v) = %q", p.v, p.v, got)
								return
							}
							if got := root.Admin.At(p.v, "eu").Level.Name(); got != "root:admin:"+p.text+":eu:level" {
								errs <- fmt.Sprintf("Admin.At(%T %v) = %q", p.v, p.v, got)
								return
							}
							if got := cl.Pinned.At(p.v).Age.Name(); got != "cl:{puser:"+p.text+"}:age" {
								errs <- fmt.Sprintf("Pinned.At(%T %v).Age = %q", p.v, p.v, got)
								return
							}
							if got := cl.User.At(p.v).Age.Name(); got != "cl:user:"+p.text+":age" {
								errs <- fmt.Sprintf("cl.User.At(%T %v).Age = %q", p.v, p.v, got)
								return
							}
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
		})
	}
}

// TestAdvReviewAtEdgeIntegersHit checks that a value bound before is found
// by its value (no allocation: the instance is reused), not only named
// right: digits that differed from the prefix's would miss every time.
func TestAdvReviewAtEdgeIntegersHit(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	root := nest.MustNew[Root](offlineClient(t), &nest.Options{InstanceCache: 1 << 12})
	for _, p := range reviewEdgeParams()[:31] { // the fixed edge values, hashed by value or rendered
		var name string
		v := p.v
		name = root.User.At(v).Age.Name() // remembered
		if name != "root:user:"+p.text+":age" {
			t.Fatalf("At(%T %v) = %q", v, v, name)
		}
		allocs := testing.AllocsPerRun(50, func() { name = root.User.At(v).Age.Name() })
		if allocs != 0 {
			t.Errorf("At(%T %v) again: %v allocations, want 0 (a cache miss)", v, v, allocs)
		}
	}
}
