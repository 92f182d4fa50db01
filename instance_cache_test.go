package nest_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// Sub.At remembers the instances it bound (Options.InstanceCache): these
// tests check that a remembered instance is always the one asked for.

// TestInstanceCacheNames binds the same and different parameters, nested,
// with the cache at its default, at one slot (every instance collides with
// the last) and off, and checks every name.
func TestInstanceCacheNames(t *testing.T) {
	for _, size := range []int{0, 1, -1} {
		t.Run(fmt.Sprint("slots=", size), func(t *testing.T) {
			root := nest.MustNew[Root](offlineClient(t), &nest.Options{InstanceCache: size})
			for round := range 3 {
				for id := range 50 {
					u := root.User.At(id)
					want := "root:user:" + strconv.Itoa(id)
					if got := u.Age.Name(); got != want+":age" {
						t.Fatalf("round %d: At(%d).Age = %q, want %q", round, id, got, want+":age")
					}
					if got := u.Name.Name(); got != want+":name" {
						t.Fatalf("round %d: At(%d).Name = %q", round, id, got)
					}
					if got := u.Prefix(); got != want {
						t.Fatalf("round %d: At(%d).Prefix() = %q", round, id, got)
					}
					if got := u.Messages.At(id + 1).Text.Name(); got != want+":message:"+strconv.Itoa(id+1)+":text" {
						t.Fatalf("round %d: nested name %q", round, got)
					}
					if got := root.Admin.At(id, "eu").Level.Name(); got != "root:admin:"+strconv.Itoa(id)+":eu:level" {
						t.Fatalf("round %d: Admin.At(%d, eu).Level = %q", round, id, got)
					}
				}
			}
			// Same digits, different types and lengths: never confused.
			if a, b := root.User.At("1").Age.Name(), root.User.At(1).Age.Name(); a != b || a != "root:user:1:age" {
				t.Fatalf("At(\"1\") = %q, At(1) = %q", a, b)
			}
			if got := root.User.At(11).Age.Name(); got != "root:user:11:age" {
				t.Fatalf("At(11) after At(1) = %q", got)
			}
		})
	}
}

// TestInstanceCacheErrors checks that refused parameters are refused every
// time and never remembered: the next valid At is unaffected.
func TestInstanceCacheErrors(t *testing.T) {
	root := nest.MustNew[Root](offlineClient(t), &nest.Options{InstanceCache: 1})
	for range 3 {
		if err := root.User.At("a:b").Err(); err == nil {
			t.Fatal("At(\"a:b\") accepted")
		}
		if err := root.User.At().Err(); err == nil {
			t.Fatal("At() accepted")
		}
		if err := root.User.At(7).Err(); err != nil {
			t.Fatalf("At(7) after refusals: %v", err)
		}
	}
	// A namespace with ValidateParams is validated on every At.
	proot := nest.MustNew[paramsRoot](offlineClient(t), nil)
	for range 3 {
		if err := proot.Tenant.At("acme").Err(); err != nil {
			t.Fatal(err)
		}
		if err := proot.Tenant.At("ACME").Err(); err == nil {
			t.Fatal("ValidateParams was skipped for a remembered instance")
		}
	}
}

// TestInstanceCacheConcurrent has 64 goroutines bind overlapping
// parameters through a cache much smaller than their number, so that
// slots are replaced while others read them, and write and read through
// each handle on a real server (run it with -race).
func TestInstanceCacheConcurrent(t *testing.T) {
	rdb := redistest.Shared(t)
	root := nest.MustNew[Root](rdb, &nest.Options{InstanceCache: 16})
	ctx := context.Background()
	var wrong atomic.Int64
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for i := range 200 {
				id := (g*7 + i) % 100
				u := root.User.At(id)
				if u.Age.Name() != "root:user:"+strconv.Itoa(id)+":age" {
					wrong.Add(1)
				}
				if i%20 == 0 {
					if err := u.Age.Set(ctx, id); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if n := wrong.Load(); n != 0 {
		t.Fatalf("%d handles named another instance", n)
	}
	for id := range 100 {
		got, err := root.User.At(id).Age.Get(ctx)
		if err != nil || got != id {
			t.Fatalf("user %d: age %d, %v", id, got, err)
		}
	}
}

// TestInstanceCacheSizeRefused checks that New refuses a cache too large
// to allocate, naming the option, rather than panicking on the first At.
func TestInstanceCacheSizeRefused(t *testing.T) {
	for _, n := range []int{1<<20 + 1, 1 << 62} {
		_, err := nest.New[Root](offlineClient(t), &nest.Options{InstanceCache: n})
		if !errors.Is(err, nest.ErrConfig) || !strings.Contains(err.Error(), "InstanceCache") {
			t.Errorf("InstanceCache %d: New returned %v, want ErrConfig naming Options.InstanceCache", n, err)
		}
	}
	root := nest.MustNew[Root](offlineClient(t), &nest.Options{InstanceCache: 1 << 20})
	if got := root.User.At(3).Age.Name(); got != "root:user:3:age" {
		t.Fatalf("at the largest size: %q", got)
	}
}
