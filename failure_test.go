package nest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redisimnest/nest"
)

func TestFailureServerGone(t *testing.T) {
	t.Parallel()
	srv, rdb := newFragileServer(t)
	root, err := nest.New[Root](rdb, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	age := root.User.At(1).Age
	must(t, age.Set(ctx, 30))
	if v, err := age.Get(ctx); err != nil || v != 30 {
		t.Fatalf("Get before Stop = %d, %v", v, err)
	}

	srv.Stop()

	for _, op := range keyOps(root.User.At(2).Age) {
		t.Run(op.name, func(t *testing.T) {
			err := assertNoPanic(t, op.name, func() error { return op.run(ctx, age) })
			switch {
			case err == nil:
				t.Fatalf("%s succeeded against a stopped server", op.name)
			case errors.Is(err, nest.ErrNotFound):
				t.Fatalf("%s = %v; a connection failure must not match ErrNotFound", op.name, err)
			case !strings.Contains(err.Error(), "root:user:1:age"):
				t.Fatalf("%s = %q; want the key name in the message", op.name, err)
			}
		})
	}
	t.Run("Get does not fall back to the default", func(t *testing.T) {
		v, err := root.User.At(1).Name.Get(ctx)
		if err == nil || v == "Unknown" {
			t.Fatalf("Name.Get = %q, %v; want an error, not the default", v, err)
		}
		if _, ok, err := root.User.At(1).Name.Lookup(ctx); err == nil || ok {
			t.Fatalf("Lookup = %v, %v", ok, err)
		}
	})
	for _, op := range namespaceOps(root.User.At(1).Namespace) {
		t.Run(op.name, func(t *testing.T) {
			err := assertNoPanic(t, op.name, func() error { return op.run(ctx) })
			switch {
			case err == nil:
				t.Fatalf("%s succeeded against a stopped server", op.name)
			case errors.Is(err, nest.ErrNotFound):
				t.Fatalf("%s = %v; must not match ErrNotFound", op.name, err)
			case !strings.Contains(err.Error(), "root:user:1"):
				t.Fatalf("%s = %q; want the namespace prefix in the message", op.name, err)
			}
		})
	}
}

func TestFailureContext(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()

	for _, tc := range []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"cancelled", cancelled, context.Canceled},
		{"deadline exceeded", expired, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root, rdb := newRoot(t)
			age := root.User.At(1).Age
			must(t, age.Set(t.Context(), 30, nest.WithTTL(50*time.Second)))
			must(t, root.User.At(1).Messages.At(1).Text.Set(t.Context(), "hi"))

			for _, op := range keyOps(root.User.At(2).Age) {
				err := assertNoPanic(t, op.name, func() error { return op.run(tc.ctx, age) })
				if !errors.Is(err, tc.want) {
					t.Errorf("%s = %v, want %v", op.name, err, tc.want)
				}
			}
			calls := 0
			if _, err := age.Update(tc.ctx, func(c int, _ bool) (int, error) { calls++; return c, nil }); !errors.Is(err, tc.want) || calls != 0 {
				t.Errorf("Update = %v after %d fn calls; want %v and no call", err, calls, tc.want)
			}
			if _, err := root.User.At(1).Name.Get(tc.ctx); !errors.Is(err, tc.want) {
				t.Errorf("Name.Get = %v, want %v (not the default)", err, tc.want)
			}
			for _, op := range namespaceOps(root.User.At(1).Namespace) {
				err := assertNoPanic(t, op.name, func() error { return op.run(tc.ctx) })
				if !errors.Is(err, tc.want) {
					t.Errorf("%s = %v, want %v", op.name, err, tc.want)
				}
			}

			// Nothing was changed.
			if got := rawGet(t, rdb, "root:user:1:age"); got != "30" {
				t.Fatalf("age = %q, want 30", got)
			}
			assertPTTLIn(t, age, 40*time.Second, 50*time.Second)
			if size := dbSize(t, rdb); size != 2 {
				t.Fatalf("DBSIZE = %d, want 2", size)
			}
			assertAbsent(t, rdb, "root:user:2:age")
		})
	}
}

func TestFailureWrongType(t *testing.T) {
	t.Parallel()
	root, rdb := newRoot(t)
	ctx := t.Context()
	age := root.User.At(1).Age
	list := []string{"a", "b", "c"}
	must(t, rdb.RPush(ctx, age.Name(), "a", "b", "c").Err())
	must(t, rdb.HSet(ctx, "root:app:tokens", "f", "v").Err())

	checkWrongType := func(t *testing.T, what, key string, err error) {
		t.Helper()
		switch {
		case err == nil:
			t.Errorf("%s on a %s of the wrong type succeeded", what, key)
		case !errors.Is(err, nest.ErrWrongType) || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "declared key (a Redis string)"):
			t.Errorf("%s = %q; want ErrWrongType, the declared type and %s in the message", what, err, key)
		case errors.Is(err, nest.ErrDecode), errors.Is(err, nest.ErrNotFound):
			t.Errorf("%s = %v; must match neither ErrDecode nor ErrNotFound", what, err)
		}
	}
	for _, tc := range []struct {
		name string
		run  func() error
	}{
		{"Get", func() error {
			v, err := age.Get(ctx)
			if err != nil && v != 0 {
				return fmt.Errorf("Get returned %d with error %w", v, err)
			}
			return err
		}},
		{"Lookup", func() error {
			_, ok, err := age.Lookup(ctx)
			if ok {
				return fmt.Errorf("Lookup ok with error %w", err)
			}
			return err
		}},
		{"Raw", func() error { _, err := age.Raw(ctx); return err }},
		{"GetSet", func() error { _, _, err := age.GetSet(ctx, 1); return err }},
		{"GetDel", func() error { _, _, err := age.GetDel(ctx); return err }},
		{"Update", func() error {
			_, err := age.Update(ctx, func(c int, _ bool) (int, error) { return c + 1, nil })
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := assertNoPanic(t, tc.name, tc.run)
			checkWrongType(t, tc.name, age.Name(), err)
			got, lerr := rdb.LRange(ctx, age.Name(), 0, -1).Result()
			if lerr != nil || !slices.Equal(got, list) {
				t.Fatalf("list after %s = %v, %v; want it intact", tc.name, got, lerr)
			}
		})
	}
	t.Run("Type", func(t *testing.T) {
		if typ, err := age.Type(ctx); err != nil || typ != "list" {
			t.Fatalf("Type = %q, %v; want list", typ, err)
		}
	})
	t.Run("slice key over a hash", func(t *testing.T) {
		_, err := recoverGet(ctx, root.App.Tokens.Get)
		checkWrongType(t, "Tokens.Get", "root:app:tokens", err)
	})
}

// TestFailureServerGoneMidClear stops the server from Clear's progress
// callback: Clear then fails with an error naming the namespace and
// reports the deletions made before the server went away.
func TestFailureServerGoneMidClear(t *testing.T) {
	t.Parallel()
	srv, rdb := newFragileServer(t)
	root, err := nest.New[Root](rdb, &nest.Options{ScanCount: 10, DeleteChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	fillUser(t, rdb, 300)

	var reported []int64
	n, err := root.User.At(1).Clear(t.Context(), nest.WithProgress(func(d int64) {
		reported = append(reported, d)
		if d >= 50 {
			srv.Stop()
		}
	}))
	if err == nil {
		t.Fatalf("Clear = %d, nil after the server stopped", n)
	}
	if !strings.Contains(err.Error(), "root:user:1") || errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("Clear error = %q; want it to name root:user:1 and not match ErrNotFound", err)
	}
	if len(reported) == 0 || n != reported[len(reported)-1] || n < 50 || n >= 301 {
		t.Fatalf("Clear returned %d; progress reported %v", n, reported)
	}
}
