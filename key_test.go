package nest_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
)

// keyRoot is a small schema of parameterised keys, next to the example
// schema Root of main_test.go.
type keyRoot struct {
	nest.Namespace `nest:"kt"`
	Session        nest.ParamKey[string] `nest:"session:{sid}" ttl:"45s"`
	Pair           nest.ParamKey[int]    `nest:"pair:{a}:{b}"`
	Counter        nest.Key[int]         `nest:"counter"`
	Tags           nest.Key[[]string]    `nest:"tags" default:"[\"a\",\"b\"]"`
	User           nest.Sub[keyUser]
}

// keyUser holds a parameterised key inside a parameterised namespace.
type keyUser struct {
	nest.Namespace `nest:"u:{uid}" ttl:"60s"`
	Item           nest.ParamKey[string] `nest:"item:{item_id}"`
}

// TestKeyOriginalExample ports the key part of the original's example.
func TestKeyOriginalExample(t *testing.T) {
	t.Parallel()
	root, rdb := newRoot(t)
	ctx := t.Context()

	must(t, root.ProjectName.Set(ctx, "RedisimNest"))
	name, err := root.ProjectName.Get(ctx)
	if err != nil || name != "RedisimNest" {
		t.Fatalf("ProjectName.Get = %q, %v; want RedisimNest", name, err)
	}
	if got := rawGet(t, rdb, "root:project_name"); got != "RedisimNest" {
		t.Fatalf("raw root:project_name = %q", got)
	}
	assertNoExpiry(t, root.ProjectName)

	age := root.User.At(1).Age
	must(t, age.Set(ctx, 30))
	if got, err := root.User.At(1).Age.Get(ctx); err != nil || got != 30 {
		t.Fatalf("User.At(1).Age.Get = %d, %v; want 30", got, err)
	}
	if got := rawGet(t, rdb, "root:user:1:age"); got != "30" {
		t.Fatalf("raw root:user:1:age = %q, want 30", got)
	}
	assertPTTLIn(t, age, 110*time.Second, 120*time.Second)

	tokens := root.App.Tokens
	must(t, tokens.Set(ctx, []string{"token1", "token2"}))
	got, err := tokens.Get(ctx)
	if err != nil || !reflect.DeepEqual(got, []string{"token1", "token2"}) {
		t.Fatalf("Tokens.Get = %q, %v", got, err)
	}
	assertPTTLIn(t, tokens, 70*time.Second, 80*time.Second) // the app namespace's 80s
	ok, err := tokens.Expire(ctx, 60*time.Second)
	if err != nil || !ok {
		t.Fatalf("Tokens.Expire = %v, %v; want true", ok, err)
	}
	if d, err := tokens.TTL(ctx); err != nil || d <= 50*time.Second || d > 60*time.Second {
		t.Fatalf("Tokens.TTL after Expire(60s) = %v, %v", d, err)
	}
}

func TestKeyGetDefaultsAndNotFound(t *testing.T) {
	t.Parallel()
	root, _ := newRoot(t)
	ctx := t.Context()
	u := root.User.At(1)

	t.Run("int default", func(t *testing.T) {
		v, err := u.Age.Get(ctx)
		if err != nil || v != 0 {
			t.Fatalf("Get = %d, %v; want 0, nil", v, err)
		}
	})
	t.Run("string default", func(t *testing.T) {
		v, err := u.Name.Get(ctx)
		if err != nil || v != "Unknown" {
			t.Fatalf("Get = %q, %v; want Unknown", v, err)
		}
	})
	t.Run("slice default", func(t *testing.T) {
		v, err := root.App.Tokens.Get(ctx)
		if err != nil || v == nil || len(v) != 0 {
			t.Fatalf("Get = %#v, %v; want []string{}", v, err)
		}
	})
	for _, tc := range []struct {
		name string
		get  func() error
		key  string
	}{
		{"pending users", func() error { _, err := root.App.PendingUsers.Get(ctx); return err }, "root:app:pending_users"},
		{"project name", func() error { _, err := root.ProjectName.Get(ctx); return err }, "root:project_name"},
		{"message text", func() error { _, err := u.Messages.At(3).Text.Get(ctx); return err }, "root:user:1:message:3:text"},
	} {
		t.Run("no default/"+tc.name, func(t *testing.T) {
			err := tc.get()
			if !errors.Is(err, nest.ErrNotFound) {
				t.Fatalf("Get = %v, want ErrNotFound", err)
			}
			if errors.Is(err, redis.Nil) {
				t.Fatalf("redis.Nil leaks: %v", err)
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("error %q does not name %s", err, tc.key)
			}
		})
	}
}

func TestKeyLookupAndRaw(t *testing.T) {
	t.Parallel()
	root, rdb := newRoot(t)
	ctx := t.Context()
	age := root.User.At(1).Age

	v, ok, err := age.Lookup(ctx)
	if err != nil || ok || v != 0 {
		t.Fatalf("Lookup missing = %d, %v, %v; want 0, false, nil", v, ok, err)
	}
	name, ok, err := root.User.At(1).Name.Lookup(ctx)
	if err != nil || ok || name != "Unknown" {
		t.Fatalf("Lookup missing name = %q, %v, %v; want default, false", name, ok, err)
	}
	pending, ok, err := root.App.PendingUsers.Lookup(ctx)
	if err != nil || ok || pending != nil {
		t.Fatalf("Lookup missing key without default = %v, %v, %v; want nil, false, nil", pending, ok, err)
	}
	if _, err := age.Raw(ctx); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("Raw missing = %v, want ErrNotFound", err)
	}

	must(t, age.Set(ctx, 0)) // the zero value stored is not "missing"
	v, ok, err = age.Lookup(ctx)
	if err != nil || !ok || v != 0 {
		t.Fatalf("Lookup stored 0 = %d, %v, %v; want 0, true, nil", v, ok, err)
	}
	must(t, age.Set(ctx, 41))
	v, ok, err = age.Lookup(ctx)
	if err != nil || !ok || v != 41 {
		t.Fatalf("Lookup = %d, %v, %v; want 41, true, nil", v, ok, err)
	}
	raw, err := age.Raw(ctx)
	if err != nil || string(raw) != "41" {
		t.Fatalf("Raw = %q, %v; want 41", raw, err)
	}

	must(t, root.App.Tokens.Set(ctx, []string{"a", "b"}))
	raw, err = root.App.Tokens.Raw(ctx)
	if err != nil || string(raw) != `["a","b"]` {
		t.Fatalf("Tokens.Raw = %q, %v", raw, err)
	}
	if got := rawGet(t, rdb, "root:app:tokens"); got != `["a","b"]` {
		t.Fatalf("raw root:app:tokens = %q", got)
	}
}

func TestKeySet(t *testing.T) {
	t.Parallel()
	root, rdb := newRoot(t)
	ctx := t.Context()
	u := root.User.At(5)

	t.Run("declared TTL", func(t *testing.T) {
		must(t, u.Age.Set(ctx, 7))
		assertPTTLIn(t, u.Age, 110*time.Second, 120*time.Second)
	})
	t.Run("overwrite renews TTL", func(t *testing.T) {
		must(t, u.Age.Set(ctx, 1, nest.WithTTL(3*time.Second)))
		assertPTTLIn(t, u.Age, 0, 3*time.Second)
		must(t, u.Age.Set(ctx, 8))
		assertPTTLIn(t, u.Age, 110*time.Second, 120*time.Second)
		if got := rawGet(t, rdb, "root:user:5:age"); got != "8" {
			t.Fatalf("raw = %q, want 8", got)
		}
	})
	t.Run("KeepTTL", func(t *testing.T) {
		_, err := u.Age.Expire(ctx, 9*time.Second)
		must(t, err)
		must(t, u.Age.Set(ctx, 9, nest.KeepTTL()))
		assertPTTLIn(t, u.Age, 0, 9*time.Second)
	})
	t.Run("WithTTL zero is no expiry", func(t *testing.T) {
		must(t, u.Age.Set(ctx, 10, nest.WithTTL(0)))
		assertNoExpiry(t, u.Age)
	})
	t.Run("no TTL declared", func(t *testing.T) {
		lvl := root.Admin.At(1, "eu").Level
		must(t, lvl.Set(ctx, 3))
		assertNoExpiry(t, lvl)
		if got := rawGet(t, rdb, "root:admin:1:eu:level"); got != "3" {
			t.Fatalf("raw = %q", got)
		}
	})
	t.Run("own TTL beats namespace TTL", func(t *testing.T) {
		seen := u.Messages.At(1).Seen
		must(t, seen.Set(ctx, true))
		assertPTTLIn(t, seen, 20*time.Second, 30*time.Second)
		if got := rawGet(t, rdb, "root:user:5:message:1:seen"); got != "1" {
			t.Fatalf("raw seen = %q, want 1", got)
		}
	})
}

func TestKeySetNX(t *testing.T) {
	t.Parallel()
	root, _ := newRoot(t)
	ctx := t.Context()
	age := root.User.At(1).Age

	ok, err := age.SetNX(ctx, 30)
	if err != nil || !ok {
		t.Fatalf("first SetNX = %v, %v; want true", ok, err)
	}
	assertPTTLIn(t, age, 110*time.Second, 120*time.Second)
	ok, err = age.SetNX(ctx, 31)
	if err != nil || ok {
		t.Fatalf("second SetNX = %v, %v; want false", ok, err)
	}
	if v, err := age.Get(ctx); err != nil || v != 30 {
		t.Fatalf("Get after failed SetNX = %d, %v; want 30", v, err)
	}

	lvl := root.Admin.At(2, "us").Level
	ok, err = lvl.SetNX(ctx, 5)
	if err != nil || !ok {
		t.Fatalf("SetNX on TTL-less key = %v, %v", ok, err)
	}
	assertNoExpiry(t, lvl)

	txt := root.User.At(1).Messages.At(1).Text
	ok, err = txt.SetNX(ctx, "hi", nest.WithTTL(5*time.Second))
	if err != nil || !ok {
		t.Fatalf("SetNX WithTTL = %v, %v", ok, err)
	}
	assertPTTLIn(t, txt, 0, 5*time.Second)
}

func TestKeyGetSet(t *testing.T) {
	t.Parallel()
	root, _ := newRoot(t)
	ctx := t.Context()
	name := root.User.At(1).Name

	old, existed, err := name.GetSet(ctx, "alice")
	if err != nil || existed || old != "Unknown" {
		t.Fatalf("GetSet on missing = %q, %v, %v; want default, false", old, existed, err)
	}
	assertPTTLIn(t, name, 110*time.Second, 120*time.Second)

	_, err = name.Expire(ctx, 4*time.Second)
	must(t, err)
	old, existed, err = name.GetSet(ctx, "bob")
	if err != nil || !existed || old != "alice" {
		t.Fatalf("GetSet = %q, %v, %v; want alice, true", old, existed, err)
	}
	assertPTTLIn(t, name, 110*time.Second, 120*time.Second) // declared TTL re-applied

	_, err = name.Expire(ctx, 4*time.Second)
	must(t, err)
	old, existed, err = name.GetSet(ctx, "carol", nest.KeepTTL())
	if err != nil || !existed || old != "bob" {
		t.Fatalf("GetSet KeepTTL = %q, %v, %v", old, existed, err)
	}
	assertPTTLIn(t, name, 0, 4*time.Second)
	if v, err := name.Get(ctx); err != nil || v != "carol" {
		t.Fatalf("Get = %q, %v; want carol", v, err)
	}

	pn := root.ProjectName
	old, existed, err = pn.GetSet(ctx, "x")
	if err != nil || existed || old != "" {
		t.Fatalf("GetSet missing key without default = %q, %v, %v", old, existed, err)
	}
	assertNoExpiry(t, pn)
}

func TestKeyGetDel(t *testing.T) {
	t.Parallel()
	root, rdb := newRoot(t)
	ctx := t.Context()
	age := root.User.At(1).Age

	v, existed, err := age.GetDel(ctx)
	if err != nil || existed || v != 0 {
		t.Fatalf("GetDel missing = %d, %v, %v; want 0, false, nil", v, existed, err)
	}
	must(t, age.Set(ctx, 12))
	v, existed, err = age.GetDel(ctx)
	if err != nil || !existed || v != 12 {
		t.Fatalf("GetDel = %d, %v, %v; want 12, true", v, existed, err)
	}
	assertAbsent(t, rdb, "root:user:1:age")
}

func TestKeyDeleteUnlinkExists(t *testing.T) {
	t.Parallel()
	root, rdb := newRoot(t)
	ctx := t.Context()
	age := root.User.At(1).Age
	other := root.User.At(2).Age
	must(t, other.Set(ctx, 2))

	for _, tc := range []struct {
		name string
		del  func(context.Context) (bool, error)
	}{
		{"Delete", age.Delete},
		{"Unlink", age.Unlink},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if ok, err := age.Exists(ctx); err != nil || ok {
				t.Fatalf("Exists before Set = %v, %v", ok, err)
			}
			if ok, err := tc.del(ctx); err != nil || ok {
				t.Fatalf("%s missing = %v, %v; want false", tc.name, ok, err)
			}
			must(t, age.Set(ctx, 1))
			if ok, err := age.Exists(ctx); err != nil || !ok {
				t.Fatalf("Exists after Set = %v, %v", ok, err)
			}
			if ok, err := tc.del(ctx); err != nil || !ok {
				t.Fatalf("%s = %v, %v; want true", tc.name, ok, err)
			}
			assertAbsent(t, rdb, "root:user:1:age")
			if ok, err := age.Exists(ctx); err != nil || ok {
				t.Fatalf("Exists after %s = %v, %v", tc.name, ok, err)
			}
		})
	}
	if v, err := other.Get(ctx); err != nil || v != 2 {
		t.Fatalf("sibling user 2 age = %d, %v; want 2 untouched", v, err)
	}
}

func TestKeyExpiry(t *testing.T) {
	t.Parallel()
	root, _ := newRoot(t)
	ctx := t.Context()
	k := root.Admin.At(1, "eu").Level // no declared TTL
	missing := root.Admin.At(2, "eu").Level

	t.Run("missing", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			run  func() (bool, error)
		}{
			{"Expire", func() (bool, error) { return missing.Expire(ctx, time.Minute) }},
			{"Expire (PEXPIRE)", func() (bool, error) { return missing.Expire(ctx, 1500*time.Millisecond) }},
			{"ExpireAt", func() (bool, error) { return missing.ExpireAt(ctx, time.Now().Add(time.Hour).Truncate(time.Second)) }},
			{"ExpireAt (PEXPIREAT)", func() (bool, error) {
				return missing.ExpireAt(ctx, time.Now().Add(time.Hour).Truncate(time.Second).Add(time.Millisecond))
			}},
			{"Persist", func() (bool, error) { return missing.Persist(ctx) }},
			{"Touch", func() (bool, error) { return missing.Touch(ctx) }},
		} {
			if ok, err := tc.run(); err != nil || ok {
				t.Errorf("%s on missing key = %v, %v; want false, nil", tc.name, ok, err)
			}
		}
		for name, f := range map[string]func(context.Context) (time.Duration, error){"TTL": missing.TTL} {
			if d, err := f(ctx); !errors.Is(err, nest.ErrNotFound) || d != 0 {
				t.Errorf("%s on missing key = %v, %v; want 0, ErrNotFound", name, d, err)
			} else if !strings.Contains(err.Error(), missing.Name()) {
				t.Errorf("%s error %q does not name the key", name, err)
			}
		}
		if at, err := missing.ExpireTime(ctx); !errors.Is(err, nest.ErrNotFound) || !at.IsZero() {
			t.Errorf("ExpireTime on missing key = %v, %v; want zero, ErrNotFound", at, err)
		}
	})

	must(t, k.Set(ctx, 1))
	t.Run("persistent", func(t *testing.T) {
		for name, f := range map[string]func(context.Context) (time.Duration, error){"TTL": k.TTL} {
			if d, err := f(ctx); err != nil || d != nest.NoExpiry {
				t.Errorf("%s = %v, %v; want NoExpiry", name, d, err)
			}
		}
		if at, err := k.ExpireTime(ctx); err != nil || !at.IsZero() {
			t.Errorf("ExpireTime = %v, %v; want zero time", at, err)
		}
		if ok, err := k.Persist(ctx); err != nil || ok {
			t.Errorf("Persist without TTL = %v, %v; want false", ok, err)
		}
	})
	t.Run("Expire", func(t *testing.T) {
		if ok, err := k.Expire(ctx, 30*time.Second); err != nil || !ok {
			t.Fatalf("Expire = %v, %v", ok, err)
		}
		if d, err := k.TTL(ctx); err != nil || d < 20*time.Second || d > 30*time.Second || d%time.Millisecond != 0 {
			t.Fatalf("TTL = %v, %v; want ~30s in milliseconds", d, err)
		}
		assertPTTLIn(t, k, 20*time.Second, 30*time.Second)
	})
	t.Run("Expire sub-second (PEXPIRE)", func(t *testing.T) {
		if ok, err := k.Expire(ctx, 4500*time.Millisecond); err != nil || !ok {
			t.Fatalf("Expire(4.5s) = %v, %v", ok, err)
		}
		assertPTTLIn(t, k, 0, 4500*time.Millisecond)
	})
	t.Run("ExpireAt", func(t *testing.T) {
		at := time.Now().Add(time.Hour).Truncate(time.Second)
		if ok, err := k.ExpireAt(ctx, at); err != nil || !ok {
			t.Fatalf("ExpireAt = %v, %v", ok, err)
		}
		got, err := k.ExpireTime(ctx)
		if err != nil || !got.Equal(at) {
			t.Fatalf("ExpireTime = %v, %v; want %v", got, err, at)
		}
		assertPTTLIn(t, k, 59*time.Minute, time.Hour)
	})
	t.Run("ExpireAt sub-second (PEXPIREAT)", func(t *testing.T) {
		at := time.Now().Add(90 * time.Second).Truncate(time.Second).Add(-250 * time.Millisecond)
		if ok, err := k.ExpireAt(ctx, at); err != nil || !ok {
			t.Fatalf("ExpireAt(.750) = %v, %v", ok, err)
		}
		got, err := k.ExpireTime(ctx)
		if err != nil || !got.Equal(at) {
			t.Fatalf("ExpireTime = %v, %v; want %v", got, err, at)
		}
		assertPTTLIn(t, k, 60*time.Second, 90*time.Second)
	})
	t.Run("ExpireAt in the past deletes", func(t *testing.T) {
		gone := root.Admin.At(3, "eu").Level
		must(t, gone.Set(ctx, 1))
		if ok, err := gone.ExpireAt(ctx, time.Now().Add(-time.Hour)); err != nil || !ok {
			t.Fatalf("ExpireAt past = %v, %v", ok, err)
		}
		if ok, err := gone.Exists(ctx); err != nil || ok {
			t.Fatalf("Exists = %v, %v; want deleted", ok, err)
		}
	})
	t.Run("Persist", func(t *testing.T) {
		if ok, err := k.Persist(ctx); err != nil || !ok {
			t.Fatalf("Persist = %v, %v; want true", ok, err)
		}
		assertNoExpiry(t, k)
		if v, err := k.Get(ctx); err != nil || v != 1 {
			t.Fatalf("value after expiry changes = %d, %v", v, err)
		}
	})
	t.Run("expires", func(t *testing.T) {
		short := root.User.At(9).Age
		must(t, short.Set(ctx, 5))
		if ok, err := short.Expire(ctx, 20*time.Millisecond); err != nil || !ok {
			t.Fatalf("PExpire = %v, %v", ok, err)
		}
		deadline := time.Now().Add(2 * time.Second)
		for {
			ok, err := short.Exists(ctx)
			must(t, err)
			if !ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("key did not expire")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if v, err := short.Get(ctx); err != nil || v != 0 {
			t.Fatalf("Get after expiry = %d, %v; want default 0", v, err)
		}
	})
}

func TestKeyIntrospection(t *testing.T) {
	t.Parallel()
	root, _ := newRoot(t)
	ctx := t.Context()
	age := root.User.At(1).Age
	name := root.User.At(1).Name

	if ok, err := age.Touch(ctx); err != nil || ok {
		t.Fatalf("Touch missing = %v, %v", ok, err)
	}
	if typ, err := age.Type(ctx); err != nil || typ != "none" {
		t.Fatalf("Type missing = %q, %v; want none", typ, err)
	}
	if _, err := age.MemoryUsage(ctx); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("MemoryUsage missing = %v, want ErrNotFound", err)
	}
	if _, err := age.ObjectEncoding(ctx); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("ObjectEncoding missing = %v, want ErrNotFound", err)
	}

	must(t, age.Set(ctx, 30))
	must(t, name.Set(ctx, "alice"))
	must(t, root.App.Tokens.Set(ctx, []string{strings.Repeat("x", 100)}))
	if ok, err := age.Touch(ctx); err != nil || !ok {
		t.Fatalf("Touch = %v, %v; want true", ok, err)
	}
	for _, k := range []interface {
		Type(context.Context) (string, error)
	}{age, name, root.App.Tokens} {
		if typ, err := k.Type(ctx); err != nil || typ != "string" {
			t.Fatalf("Type = %q, %v; want string", typ, err)
		}
	}
	if n, err := age.MemoryUsage(ctx); err != nil || n <= 0 {
		t.Fatalf("MemoryUsage = %d, %v; want > 0", n, err)
	}
	big, err := root.App.Tokens.MemoryUsage(ctx)
	if small, _ := age.MemoryUsage(ctx); err != nil || big <= small {
		t.Fatalf("MemoryUsage of a 100-byte value = %d, %v; want > %d", big, err, small)
	}
	for _, tc := range []struct {
		name string
		enc  func(context.Context) (string, error)
		want string
	}{
		{"int", age.ObjectEncoding, "int"},
		{"short string", name.ObjectEncoding, "embstr"},
		{"long string", root.App.Tokens.ObjectEncoding, "raw"},
	} {
		if got, err := tc.enc(ctx); err != nil || got != tc.want {
			t.Errorf("ObjectEncoding %s = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

func TestKeyRename(t *testing.T) {
	if onCluster {
		t.Skip("these renames cross hash slots, which Redis Cluster refuses by design (ErrCrossSlot); TestClusterCrossSlotRename covers renames there")
	}
	t.Parallel()
	root, rdb := newRoot(t)
	ctx := t.Context()
	age := root.User.At(1).Age             // TTL 120s
	level := root.Admin.At(1, "eu").Level  // no TTL
	level2 := root.Admin.At(2, "eu").Level // no TTL
	age2 := root.User.At(2).Age            // TTL 120s
	reset := func(t *testing.T) {
		t.Helper()
		must(t, rdb.FlushDB(ctx).Err())
	}

	t.Run("to TTL-less key", func(t *testing.T) {
		reset(t)
		must(t, age.Set(ctx, 30))
		must(t, age.Rename(ctx, level))
		assertAbsent(t, rdb, "root:user:1:age")
		if v, err := level.Get(ctx); err != nil || v != 30 {
			t.Fatalf("dst = %d, %v; want 30", v, err)
		}
		assertNoExpiry(t, level)
	})
	t.Run("to key with TTL", func(t *testing.T) {
		reset(t)
		must(t, level.Set(ctx, 31))
		must(t, level.Rename(ctx, age))
		assertAbsent(t, rdb, "root:admin:1:eu:level")
		if v, err := age.Get(ctx); err != nil || v != 31 {
			t.Fatalf("dst = %d, %v; want 31", v, err)
		}
		assertPTTLIn(t, age, 110*time.Second, 120*time.Second)
	})
	t.Run("TTL reset to destination's", func(t *testing.T) {
		reset(t)
		must(t, age.Set(ctx, 32, nest.WithTTL(2*time.Second)))
		must(t, age.Rename(ctx, age2))
		assertPTTLIn(t, age2, 110*time.Second, 120*time.Second)
	})
	t.Run("replaces destination", func(t *testing.T) {
		reset(t)
		must(t, age.Set(ctx, 33))
		must(t, level.Set(ctx, 99))
		must(t, age.Rename(ctx, level))
		if v, err := level.Get(ctx); err != nil || v != 33 {
			t.Fatalf("dst = %d, %v; want 33", v, err)
		}
		assertNoExpiry(t, level)
	})
	t.Run("missing source", func(t *testing.T) {
		reset(t)
		must(t, level.Set(ctx, 7))
		err := age.Rename(ctx, level)
		if !errors.Is(err, nest.ErrNotFound) || !strings.Contains(err.Error(), age.Name()) {
			t.Fatalf("Rename missing = %v; want ErrNotFound naming %s", err, age)
		}
		ok, err := age.RenameNX(ctx, level2)
		if ok || !errors.Is(err, nest.ErrNotFound) {
			t.Fatalf("RenameNX missing = %v, %v; want false, ErrNotFound", ok, err)
		}
		if v, err := level.Get(ctx); err != nil || v != 7 {
			t.Fatalf("dst touched: %d, %v", v, err)
		}
		assertAbsent(t, rdb, level2.Name())
	})
	t.Run("RenameNX to missing", func(t *testing.T) {
		reset(t)
		must(t, level.Set(ctx, 34))
		ok, err := level.RenameNX(ctx, age)
		if err != nil || !ok {
			t.Fatalf("RenameNX = %v, %v; want true", ok, err)
		}
		assertAbsent(t, rdb, level.Name())
		if v, err := age.Get(ctx); err != nil || v != 34 {
			t.Fatalf("dst = %d, %v", v, err)
		}
		assertPTTLIn(t, age, 110*time.Second, 120*time.Second)
	})
	t.Run("RenameNX to existing", func(t *testing.T) {
		reset(t)
		must(t, level.Set(ctx, 35))
		must(t, age.Set(ctx, 36, nest.WithTTL(50*time.Second)))
		ok, err := level.RenameNX(ctx, age)
		if err != nil || ok {
			t.Fatalf("RenameNX onto existing = %v, %v; want false, nil", ok, err)
		}
		if v, err := level.Get(ctx); err != nil || v != 35 {
			t.Fatalf("src = %d, %v; want 35 kept", v, err)
		}
		assertNoExpiry(t, level)
		if v, err := age.Get(ctx); err != nil || v != 36 {
			t.Fatalf("dst = %d, %v; want 36 untouched", v, err)
		}
		assertPTTLIn(t, age, 30*time.Second, 50*time.Second) // not reset to 120s
	})
	t.Run("invalid destination", func(t *testing.T) {
		reset(t)
		must(t, age.Set(ctx, 37))
		if err := age.Rename(ctx, nest.Key[int]{}); !errors.Is(err, nest.ErrNotBound) {
			t.Fatalf("Rename to zero key = %v, want ErrNotBound", err)
		}
		bad := root.User.At("a:b").Age
		if err := age.Rename(ctx, bad); !errors.Is(err, nest.ErrInvalidParam) {
			t.Fatalf("Rename to bad key = %v, want ErrInvalidParam", err)
		}
		if ok, err := age.RenameNX(ctx, bad); ok || !errors.Is(err, nest.ErrInvalidParam) {
			t.Fatalf("RenameNX to bad key = %v, %v", ok, err)
		}
		if v, err := age.Get(ctx); err != nil || v != 37 {
			t.Fatalf("src = %d, %v; want it untouched", v, err)
		}
		if n, err := rdb.DBSize(ctx).Result(); err != nil || n != 1 {
			t.Fatalf("DBSIZE = %d, %v; want 1", n, err)
		}
	})
}

func TestKeyDumpRestore(t *testing.T) {
	t.Parallel()
	root, rdb := newRoot(t)
	ctx := t.Context()
	age := root.User.At(1).Age
	level := root.Admin.At(1, "eu").Level

	if _, err := age.Dump(ctx); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("Dump missing = %v, want ErrNotFound", err)
	}
	must(t, age.Set(ctx, 42, nest.WithTTL(3*time.Second)))
	dump, err := age.Dump(ctx)
	if err != nil || len(dump) == 0 {
		t.Fatalf("Dump = %q, %v", dump, err)
	}

	t.Run("restore re-applies the drilled TTL", func(t *testing.T) {
		_, err := age.Delete(ctx)
		must(t, err)
		must(t, age.Restore(ctx, dump))
		if v, err := age.Get(ctx); err != nil || v != 42 {
			t.Fatalf("Get after Restore = %d, %v; want 42", v, err)
		}
		assertPTTLIn(t, age, 0, 120*time.Second)
		assertPTTLIn(t, age, 100*time.Second, 120*time.Second) // 120s, not the dumped key's 3s
	})
	t.Run("restore onto existing key fails", func(t *testing.T) {
		must(t, age.Set(ctx, 43))
		err := age.Restore(ctx, dump)
		if err == nil || !strings.Contains(err.Error(), "BUSYKEY") || !strings.Contains(err.Error(), age.Name()) {
			t.Fatalf("Restore onto existing = %v; want BUSYKEY naming the key", err)
		}
		if v, err := age.Get(ctx); err != nil || v != 43 {
			t.Fatalf("value after failed Restore = %d, %v; want 43", v, err)
		}
	})
	t.Run("RestoreReplace", func(t *testing.T) {
		_, err := age.Expire(ctx, 5*time.Second)
		must(t, err)
		must(t, age.RestoreReplace(ctx, dump))
		if v, err := age.Get(ctx); err != nil || v != 42 {
			t.Fatalf("Get after RestoreReplace = %d, %v; want 42", v, err)
		}
		assertPTTLIn(t, age, 100*time.Second, 120*time.Second)
	})
	t.Run("restore into TTL-less key", func(t *testing.T) {
		must(t, level.Restore(ctx, dump))
		if v, err := level.Get(ctx); err != nil || v != 42 {
			t.Fatalf("Get = %d, %v", v, err)
		}
		assertNoExpiry(t, level)
	})
	t.Run("bad payload", func(t *testing.T) {
		err := root.Admin.At(9, "eu").Level.Restore(ctx, []byte("garbage"))
		if err == nil {
			t.Fatal("Restore of garbage succeeded")
		}
		assertAbsent(t, rdb, "root:admin:9:eu:level")
	})
}

func TestKeyUpdate(t *testing.T) {
	t.Parallel()
	inc := func(cur int, _ bool) (int, error) { return cur + 1, nil }

	t.Run("increments", func(t *testing.T) {
		t.Parallel()
		root, rdb := newRoot(t)
		ctx := t.Context()
		age := root.User.At(1).Age
		var seen []bool
		for want := 1; want <= 3; want++ {
			got, err := age.Update(ctx, func(cur int, exists bool) (int, error) {
				seen = append(seen, exists)
				return cur + 1, nil
			})
			if err != nil || got != want {
				t.Fatalf("Update #%d = %d, %v; want %d", want, got, err, want)
			}
		}
		if !reflect.DeepEqual(seen, []bool{false, true, true}) {
			t.Fatalf("exists flags = %v, want [false true true]", seen)
		}
		if got := rawGet(t, rdb, "root:user:1:age"); got != "3" {
			t.Fatalf("raw = %q, want 3", got)
		}
		assertPTTLIn(t, age, 110*time.Second, 120*time.Second)
	})

	t.Run("default is the start value", func(t *testing.T) {
		t.Parallel()
		root, _ := newRoot(t)
		ctx := t.Context()
		got, err := root.User.At(1).Name.Update(ctx, func(cur string, exists bool) (string, error) {
			if exists {
				return "", errors.New("exists on a missing key")
			}
			return cur + "!", nil
		})
		if err != nil || got != "Unknown!" {
			t.Fatalf("Update = %q, %v; want Unknown!", got, err)
		}
	})

	t.Run("fn error aborts", func(t *testing.T) {
		t.Parallel()
		root, rdb := newRoot(t)
		ctx := t.Context()
		age := root.User.At(1).Age
		boom := errors.New("boom")
		fail := func(int, bool) (int, error) { return 99, boom }

		if _, err := age.Update(ctx, fail); err != boom {
			t.Fatalf("Update on missing = %v, want the fn's error unchanged", err)
		}
		assertAbsent(t, rdb, "root:user:1:age")

		must(t, age.Set(ctx, 5, nest.WithTTL(30*time.Second)))
		v, err := age.Update(ctx, fail)
		if err != boom || v != 0 {
			t.Fatalf("Update = %d, %v; want 0 and the fn's error unchanged", v, err)
		}
		if got := rawGet(t, rdb, "root:user:1:age"); got != "5" {
			t.Fatalf("raw = %q, want 5 (nothing written)", got)
		}
		assertPTTLIn(t, age, 20*time.Second, 30*time.Second)

		wrapped := fmt.Errorf("wrapped: %w", boom)
		if _, err := age.Update(ctx, func(int, bool) (int, error) { return 0, wrapped }); err != wrapped {
			t.Fatalf("Update = %v, want %v", err, wrapped)
		}
	})

	t.Run("conflict after retries", func(t *testing.T) {
		t.Parallel()
		root, rdb := newRootWith(t, &nest.Options{UpdateRetries: 2})
		ctx := t.Context()
		age := root.User.At(1).Age
		other := rdb // another connection of the pool, not the watching one

		calls := 0
		v, err := age.Update(ctx, func(cur int, _ bool) (int, error) {
			calls++
			// Another client changes the watched key each time.
			if err := other.Set(ctx, "root:user:1:age", 1000+calls, 0).Err(); err != nil {
				return 0, err
			}
			return cur + 1, nil
		})
		if !errors.Is(err, nest.ErrConflict) || v != 0 {
			t.Fatalf("Update = %d, %v; want 0, ErrConflict", v, err)
		}
		if !strings.Contains(err.Error(), "root:user:1:age") {
			t.Fatalf("error %q does not name the key", err)
		}
		if calls != 2 {
			t.Fatalf("fn ran %d times, want 2 (UpdateRetries)", calls)
		}
		if got := rawGet(t, rdb, "root:user:1:age"); got != "1002" {
			t.Fatalf("raw = %q, want the other client's 1002", got)
		}
		// The other client stops interfering: the next Update succeeds.
		if v, err := age.Update(ctx, inc); err != nil || v != 1003 {
			t.Fatalf("Update = %d, %v; want 1003", v, err)
		}
	})

	t.Run("concurrent increments", func(t *testing.T) {
		t.Parallel()
		root, rdb := newRoot(t)
		ctx := t.Context()
		const workers, per = 32, 10
		var (
			wg        sync.WaitGroup
			mu        sync.Mutex
			conflicts int
		)
		errs := make(chan error, workers)
		for range workers {
			wg.Go(func() {
				// Each goroutine builds its own handle.
				age := root.User.At(1).Age
				for done := 0; done < per; {
					_, err := age.Update(ctx, inc)
					switch {
					case err == nil:
						done++
					case errors.Is(err, nest.ErrConflict):
						mu.Lock()
						conflicts++
						mu.Unlock()
					default:
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got := rawGet(t, rdb, "root:user:1:age"); got != fmt.Sprint(workers*per) {
			t.Fatalf("after %d×%d increments value = %s", workers, per, got)
		}
		t.Logf("%d ErrConflict results retried", conflicts)
	})
}

func TestKeyParamKey(t *testing.T) {
	t.Parallel()
	rdb := newRedis(t)
	kr, err := nest.New[keyRoot](rdb, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	if got := kr.Session.Template(); got != "session:{sid}" {
		t.Fatalf("Template = %q", got)
	}
	for _, tc := range []struct {
		name string
		key  nest.Key[string]
		want string
	}{
		{"At", kr.Session.At("abc"), "kt:session:abc"},
		{"At int", kr.Session.At(42), "kt:session:42"},
		{"With", kr.Session.With(nest.Params{"sid": "abc"}), "kt:session:abc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.key.Err(); err != nil || tc.key.Name() != tc.want {
				t.Fatalf("Name = %q, Err = %v; want %q", tc.key.Name(), err, tc.want)
			}
		})
	}

	s := kr.Session.At("abc")
	must(t, s.Set(ctx, "token"))
	if got := rawGet(t, rdb, "kt:session:abc"); got != "token" {
		t.Fatalf("raw = %q", got)
	}
	if v, err := kr.Session.With(nest.Params{"sid": "abc"}).Get(ctx); err != nil || v != "token" {
		t.Fatalf("Get through With = %q, %v", v, err)
	}
	assertPTTLIn(t, s, 35*time.Second, 45*time.Second)
	if _, err := kr.Session.At("other").Get(ctx); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("Get other session = %v, want ErrNotFound", err)
	}

	p := kr.Pair.At(1, "x")
	if p.Name() != "kt:pair:1:x" {
		t.Fatalf("Pair name = %q", p.Name())
	}
	must(t, p.Set(ctx, 9))
	if v, err := kr.Pair.With(nest.Params{"b": "x", "a": 1}).Get(ctx); err != nil || v != 9 {
		t.Fatalf("Pair.With Get = %d, %v", v, err)
	}
	assertNoExpiry(t, p)

	for _, tc := range []struct {
		name string
		key  nest.Key[int]
		want error
	}{
		{"too few", kr.Pair.At(1), nest.ErrMissingParam},
		{"none", kr.Pair.At(), nest.ErrMissingParam},
		{"too many", kr.Pair.At(1, 2, 3), nest.ErrInvalidParam},
		{"separator", kr.Pair.At("a:b", 1), nest.ErrInvalidParam},
		{"glob", kr.Pair.At(1, "*"), nest.ErrInvalidParam},
		{"empty", kr.Pair.At("", 1), nest.ErrInvalidParam},
		{"With missing", kr.Pair.With(nest.Params{"a": 1}), nest.ErrMissingParam},
		{"With unknown", kr.Pair.With(nest.Params{"a": 1, "b": 2, "c": 3}), nest.ErrInvalidParam},
	} {
		t.Run("invalid/"+tc.name, func(t *testing.T) {
			if err := tc.key.Err(); !errors.Is(err, tc.want) {
				t.Fatalf("Err = %v, want %v", err, tc.want)
			}
			if tc.key.Name() != "" || tc.key.String() != "" {
				t.Fatalf("Name = %q, want empty", tc.key.Name())
			}
			for _, op := range keyOps(kr.Counter) {
				if err := op.run(ctx, tc.key); !errors.Is(err, tc.want) {
					t.Errorf("%s = %v, want %v", op.name, err, tc.want)
				}
			}
		})
	}
	if n, err := rdb.DBSize(ctx).Result(); err != nil || n != 2 {
		t.Fatalf("DBSIZE = %d, %v; want 2 (no write from an invalid key)", n, err)
	}

	t.Run("in a parameterised namespace", func(t *testing.T) {
		item := kr.User.At(5).Item.At("x")
		if item.Name() != "kt:u:5:item:x" {
			t.Fatalf("Name = %q", item.Name())
		}
		if d, ok := item.EffectiveTTL(); !ok || d != 60*time.Second {
			t.Fatalf("EffectiveTTL = %v, %v; want the namespace's 60s", d, ok)
		}
		must(t, item.Set(ctx, "v"))
		assertPTTLIn(t, item, 50*time.Second, 60*time.Second)
		if got := rawGet(t, rdb, "kt:u:5:item:x"); got != "v" {
			t.Fatalf("raw = %q", got)
		}
		if v, err := kr.User.With(nest.Params{"uid": 5}).Item.With(nest.Params{"item_id": "x"}).Get(ctx); err != nil || v != "v" {
			t.Fatalf("Get through With = %q, %v", v, err)
		}
		if n, err := kr.User.At(5).Count(ctx); err != nil || n != 1 {
			t.Fatalf("Count = %d, %v", n, err)
		}
		bad := kr.User.At("a*").Item.At("x")
		if _, err := bad.Get(ctx); !errors.Is(err, nest.ErrInvalidParam) {
			t.Fatalf("Get through a bad namespace = %v", err)
		}
		if err := kr.User.At(5).Item.At("x*").Set(ctx, "v"); !errors.Is(err, nest.ErrInvalidParam) {
			t.Fatalf("Set with a bad key parameter = %v", err)
		}
		if err := kr.User.At(5).Item.With(nest.Params{"uid": 5}).Err(); !errors.Is(err, nest.ErrMissingParam) {
			t.Fatalf("With an ancestor's parameter only = %v, want ErrMissingParam", err)
		}
	})

	t.Run("zero ParamKey", func(t *testing.T) {
		var pk nest.ParamKey[int]
		if pk.Template() != "" {
			t.Fatalf("Template = %q", pk.Template())
		}
		for _, k := range []nest.Key[int]{pk.At(1), pk.With(nest.Params{"a": 1})} {
			if _, err := k.Get(ctx); !errors.Is(err, nest.ErrNotBound) {
				t.Fatalf("Get = %v, want ErrNotBound", err)
			}
		}
	})

	t.Run("default is not shared", func(t *testing.T) {
		v, err := kr.Tags.Get(ctx)
		if err != nil || !reflect.DeepEqual(v, []string{"a", "b"}) {
			t.Fatalf("Get = %q, %v", v, err)
		}
		v[0] = "mutated"
		v2, err := kr.Tags.Get(ctx)
		if err != nil || !reflect.DeepEqual(v2, []string{"a", "b"}) {
			t.Fatalf("Get after mutating the returned default = %q, %v", v2, err)
		}
	})
}

func TestKeyNameStringErr(t *testing.T) {
	t.Parallel()
	root, rdb := newRoot(t)
	ctx := t.Context()

	t.Run("bound", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			got  fmt.Stringer
			err  error
			want string
		}{
			{"age", root.User.At(1).Age, root.User.At(1).Age.Err(), "root:user:1:age"},
			{"project", root.ProjectName, root.ProjectName.Err(), "root:project_name"},
			{"tokens", root.App.Tokens, root.App.Tokens.Err(), "root:app:tokens"},
			{"message", root.User.At(7).Messages.At("m1").Text, nil, "root:user:7:message:m1:text"},
			{"admin", root.Admin.At(3, "eu").Messages.At(4).Seen, nil, "root:admin:3:eu:message:4:seen"},
		} {
			if tc.err != nil || tc.got.String() != tc.want || fmt.Sprint(tc.got) != tc.want {
				t.Errorf("%s: String = %q, Err = %v; want %q", tc.name, tc.got, tc.err, tc.want)
			}
		}
		if n := root.User.At(1).Age.Name(); n != "root:user:1:age" {
			t.Errorf("Name = %q", n)
		}
	})

	t.Run("invalid parameter", func(t *testing.T) {
		k := root.User.At("1*").Age
		if !errors.Is(k.Err(), nest.ErrInvalidParam) || k.Name() != "" || k.String() != "" {
			t.Fatalf("Err = %v, Name = %q", k.Err(), k.Name())
		}
		for _, op := range keyOps(root.User.At(2).Age) {
			if err := op.run(ctx, k); !errors.Is(err, nest.ErrInvalidParam) {
				t.Errorf("%s = %v, want ErrInvalidParam", op.name, err)
			}
		}
		if n, err := rdb.DBSize(ctx).Result(); err != nil || n != 0 {
			t.Fatalf("DBSIZE = %d, %v; want 0", n, err)
		}
	})

	t.Run("zero value", func(t *testing.T) {
		var k nest.Key[int]
		if !errors.Is(k.Err(), nest.ErrNotBound) || k.Name() != "" || k.String() != "" {
			t.Fatalf("Err = %v, Name = %q", k.Err(), k.Name())
		}
		if d, ok := k.EffectiveTTL(); ok || d != 0 {
			t.Fatalf("EffectiveTTL = %v, %v", d, ok)
		}
		for _, op := range keyOps(root.User.At(2).Age) {
			t.Run(op.name, func(t *testing.T) {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v", r)
					}
				}()
				if err := op.run(ctx, k); !errors.Is(err, nest.ErrNotBound) {
					t.Fatalf("%s = %v, want ErrNotBound", op.name, err)
				}
			})
		}
		// Rename onto a zero key from a bound one.
		must(t, root.User.At(2).Age.Set(ctx, 1))
		if _, err := root.User.At(2).Age.RenameNX(ctx, k); !errors.Is(err, nest.ErrNotBound) {
			t.Fatalf("RenameNX to zero key = %v", err)
		}
		var s nest.Key[string]
		if _, err := s.Get(ctx); !errors.Is(err, nest.ErrNotBound) {
			t.Fatalf("zero Key[string].Get = %v", err)
		}
		var ns nest.Namespace
		if _, err := ns.Count(ctx); !errors.Is(err, nest.ErrNotBound) {
			t.Fatalf("zero Namespace.Count = %v", err)
		}
	})
}
