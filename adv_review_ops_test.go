package nest_test

// Review of the direct Set/Get/Lookup paths (key.go, password.go): the
// commands sent, dispatch logging, indexes, errors and their wrapping.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
)

// reviewRecord is one captured slog record.
type reviewRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
	keys  []string
}

// reviewLogs keeps every record with its attributes.
type reviewLogs struct {
	mu    sync.Mutex
	level slog.Level
	recs  []reviewRecord
}

func (h *reviewLogs) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h *reviewLogs) Handle(_ context.Context, r slog.Record) error {
	rec := reviewRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		rec.keys = append(rec.keys, a.Key)
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, rec)
	return nil
}
func (h *reviewLogs) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *reviewLogs) WithGroup(string) slog.Handler      { return h }
func (h *reviewLogs) take() []reviewRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.recs
	h.recs = nil
	return r
}

// expectOne checks that recs is exactly one dispatch record of method on
// key, with ttl (or none when ttl is ""), and an error attribute only
// when wantErr.
func expectOne(t *testing.T, what string, recs []reviewRecord, method, key, ttl string, wantErr bool) {
	t.Helper()
	if len(recs) != 1 {
		t.Errorf("%s: %d records, want 1: %+v", what, len(recs), recs)
		return
	}
	r := recs[0]
	wantKeys := []string{"method", "key"}
	if ttl != "" {
		wantKeys = append(wantKeys, "ttl")
	}
	wantKeys = append(wantKeys, "took")
	if wantErr {
		wantKeys = append(wantKeys, "error")
	}
	if r.msg != "nest dispatch" || r.level != slog.LevelDebug || !slices.Equal(r.keys, wantKeys) ||
		r.attrs["method"] != method || r.attrs["key"] != key || r.attrs["ttl"] != ttl {
		t.Errorf("%s: record %q %v %v %v; want method=%s key=%s ttl=%q attrs %v", what, r.msg, r.level, r.keys, r.attrs, method, key, ttl, wantKeys)
	}
}

// TestAdvReviewSetGetLogged checks the dispatch records of Set (declared
// TTL, KeepTTL, WithTTL, no TTL), Get, Lookup, a sliding GETEX and a
// failed Set, and that a logger not enabled at debug gets nothing.
func TestAdvReviewSetGetLogged(t *testing.T) {
	rdb := newRedis(t)
	logs := &reviewLogs{level: slog.LevelDebug}
	root := nest.MustNew[Root](rdb, &nest.Options{Logger: slog.New(logs)})
	troot := nest.MustNew[ttlRoot](rdb, &nest.Options{Logger: slog.New(logs)})
	ctx := t.Context()
	u := root.User.At(7)
	age := u.Age.Name()

	must(t, u.Age.Set(ctx, 30))
	expectOne(t, "Set", logs.take(), "SET", age, "2m0s", false)
	must(t, u.Age.Set(ctx, 31, nest.KeepTTL()))
	expectOne(t, "Set KeepTTL", logs.take(), "SET", age, "", false)
	must(t, u.Age.Set(ctx, 32, nest.WithTTL(5*time.Second)))
	expectOne(t, "Set WithTTL", logs.take(), "SET", age, "5s", false)
	must(t, u.Age.Set(ctx, 33, nest.WithTTL(0)))
	expectOne(t, "Set WithTTL(0)", logs.take(), "SET", age, "", false)
	must(t, root.ProjectName.Set(ctx, "p"))
	expectOne(t, "Set no TTL", logs.take(), "SET", "root:project_name", "", false)

	if n, err := u.Age.Get(ctx); err != nil || n != 33 {
		t.Fatalf("Get = %d, %v", n, err)
	}
	expectOne(t, "Get", logs.take(), "GET", age, "", false)
	if n, ok, err := u.Age.Lookup(ctx); err != nil || !ok || n != 33 {
		t.Fatalf("Lookup = %d, %v, %v", n, ok, err)
	}
	expectOne(t, "Lookup", logs.take(), "GET", age, "", false)
	if _, ok, err := root.User.At(8).Age.Lookup(ctx); err != nil || ok {
		t.Fatalf("Lookup of a missing key = %v, %v", ok, err)
	}
	expectOne(t, "Lookup missing", logs.take(), "GET", "root:user:8:age", "", false)

	// Sliding: GETEX with the TTL, which it renews.
	k := troot.Slide.K
	must(t, k.Set(ctx, 5))
	expectOne(t, "Set sliding", logs.take(), "SET", k.Name(), "1.5s", false)
	must(t, rdb.PExpire(ctx, k.Name(), 300*time.Millisecond).Err())
	if n, err := k.Get(ctx); err != nil || n != 5 {
		t.Fatalf("sliding Get = %d, %v", n, err)
	}
	expectOne(t, "sliding Get", logs.take(), "GETEX", k.Name(), "1.5s", false)
	if ttl := rdb.PTTL(ctx, k.Name()).Val(); ttl < time.Second {
		t.Errorf("sliding Get did not renew: PTTL %v", ttl)
	}
	// Not sliding, same TTL: GET, no renewal.
	must(t, troot.Slide.Fixed.Set(ctx, 1))
	logs.take()
	must(t, rdb.PExpire(ctx, troot.Slide.Fixed.Name(), 300*time.Millisecond).Err())
	if _, err := troot.Slide.Fixed.Get(ctx); err != nil {
		t.Fatal(err)
	}
	expectOne(t, "fixed Get", logs.take(), "GET", troot.Slide.Fixed.Name(), "", false)
	if ttl := rdb.PTTL(ctx, troot.Slide.Fixed.Name()).Val(); ttl > 400*time.Millisecond {
		t.Errorf("a Get of a non-sliding key renewed it: PTTL %v", ttl)
	}

	// A failed Set and Get are logged with their error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := u.Age.Set(cctx, 1); err == nil {
		t.Fatal("Set with a cancelled context succeeded")
	}
	expectOne(t, "failed Set", logs.take(), "SET", age, "2m0s", true)
	if _, err := u.Age.Get(cctx); err == nil {
		t.Fatal("Get with a cancelled context succeeded")
	}
	expectOne(t, "failed Get", logs.take(), "GET", age, "", true)

	// Refused before sending: nothing logged.
	if err := root.User.At("a:b").Age.Set(ctx, 1); err == nil {
		t.Fatal("Set of an unusable handle succeeded")
	}
	if recs := logs.take(); len(recs) != 0 {
		t.Errorf("a refused Set logged %+v", recs)
	}

	// A logger not enabled at debug: no record, and the writes work.
	quiet := &reviewLogs{level: slog.LevelInfo}
	qroot := nest.MustNew[Root](rdb, &nest.Options{Logger: slog.New(quiet)})
	must(t, qroot.User.At(9).Age.Set(ctx, 9))
	if n, err := qroot.User.At(9).Age.Get(ctx); err != nil || n != 9 {
		t.Fatalf("Get = %d, %v", n, err)
	}
	if recs := quiet.take(); len(recs) != 0 {
		t.Errorf("a logger at info got %+v", recs)
	}
}

// TestAdvReviewSetCommand checks the SET a direct Set sends, argument by
// argument, with and without a logger: as go-redis's Set builds it.
func TestAdvReviewSetCommand(t *testing.T) {
	for _, logged := range []bool{false, true} {
		t.Run(fmt.Sprint("logged=", logged), func(t *testing.T) {
			rdb := newRedis(t)
			opts := &nest.Options{}
			if logged {
				opts.Logger = slog.New(&reviewLogs{level: slog.LevelDebug})
			}
			root := nest.MustNew[Root](rdb, opts)
			troot := nest.MustNew[ttlRoot](rdb, opts)
			rec := newRecorder(rdb)
			ctx := t.Context()
			u := root.User.At(1)
			cases := []struct {
				what string
				do   func() error
				want []any
			}{
				{"declared", func() error { return u.Age.Set(ctx, 1<<40) }, []any{"set", u.Age.Name(), int(1 << 40), "ex", int64(120)}},
				{"keepttl", func() error { return u.Age.Set(ctx, -5, nest.KeepTTL()) }, []any{"set", u.Age.Name(), int(-5), "keepttl"}},
				{"withttl ms", func() error { return u.Age.Set(ctx, 300, nest.WithTTL(1500*time.Millisecond)) },
					[]any{"set", u.Age.Name(), int(300), "px", int64(1500)}},
				{"none", func() error { return root.ProjectName.Set(ctx, "v") }, []any{"set", "root:project_name", "v"}},
				{"ms tag", func() error { return troot.Forms.MS.Set(ctx, "m") }, []any{"set", troot.Forms.MS.Name(), "m", "px", int64(2500)}},
				{"json", func() error { return root.App.Tokens.Set(ctx, []string{"a"}) }, []any{"set", root.App.Tokens.Name(), []byte(`["a"]`), "ex", int64(80)}},
			}
			for _, c := range cases {
				n := rec.Len()
				if err := c.do(); err != nil {
					t.Fatalf("%s: %v", c.what, err)
				}
				got := rec.Since(n)
				if len(got) != 1 {
					t.Fatalf("%s: %d commands: %v", c.what, len(got), got)
				}
				if fmt.Sprintf("%#v", got[0]) != fmt.Sprintf("%#v", c.want) {
					t.Errorf("%s: sent %#v, want %#v", c.what, got[0], c.want)
				}
			}
			if n, err := u.Age.Get(ctx); err != nil || n != 300 {
				t.Errorf("Get = %d, %v", n, err)
			}
		})
	}
}

// TestAdvReviewIndexedSet checks that a direct Set of a key in an indexed
// instance still adds the instance to its indexes, with and without a
// logger, on one server (one MULTI) and on a Ring (the index after).
func TestAdvReviewIndexedSet(t *testing.T) {
	run := func(t *testing.T, rdb redis.UniversalClient, logged bool) {
		logs := &reviewLogs{level: slog.LevelDebug}
		opts := &nest.Options{}
		if logged {
			opts.Logger = slog.New(logs)
		}
		root := nest.MustNew[ixRoot](rdb, opts)
		ctx := t.Context()
		var wantUsers []string
		for i := range 20 {
			u := root.User.At(i)
			must(t, u.Age.Set(ctx, i))
			must(t, u.Session.At(fmt.Sprint("s", i)).Data.Set(ctx, "d"))
			must(t, u.Setting.At("theme").Set(ctx, "dark", nest.KeepTTL()))
			wantUsers = append(wantUsers, fmt.Sprint("user:", i))
			assertMembers(t, rdb, fmt.Sprint("root:user:", i, ":session"), fmt.Sprint("session:s", i))
			assertMembers(t, rdb, fmt.Sprint("root:user:", i, ":setting"), "setting:theme")
			if n, err := u.Age.Get(ctx); err != nil || n != i {
				t.Fatalf("Get = %d, %v", n, err)
			}
		}
		assertMembers(t, rdb, "root:user", wantUsers...)
		if logged {
			sets := 0
			for _, r := range logs.take() {
				if r.attrs["method"] == "SET" {
					sets++
					if _, hasErr := r.attrs["error"]; hasErr {
						t.Errorf("SET logged an error: %v", r.attrs)
					}
				}
			}
			if sets != 60 {
				t.Errorf("%d SET records, want 60", sets)
			}
		}
		// Outside an indexed instance: no index written.
		must(t, root.Name.Set(ctx, "n"))
		// A cancelled Set of a new instance indexes nothing.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		err := root.User.At(99).Age.Set(cctx, 1)
		var oe *nest.OpError
		if !errors.Is(err, context.Canceled) || !errors.As(err, &oe) || oe.Op != "SET" || oe.Key != "root:user:99:age" {
			t.Errorf("cancelled indexed Set = %v", err)
		}
		if ok, _ := rdb.SIsMember(ctx, "root:user", "user:99").Result(); ok {
			t.Error("a cancelled Set indexed its instance")
		}
	}
	for _, logged := range []bool{false, true} {
		t.Run(fmt.Sprint("server/logged=", logged), func(t *testing.T) { run(t, newRedis(t), logged) })
		t.Run(fmt.Sprint("ring/logged=", logged), func(t *testing.T) {
			ring, _, _ := newRing(t)
			run(t, ring, logged)
		})
	}
}

// TestAdvReviewIndexedSetIndexFails checks that an index key of the wrong
// type fails the Set with an error naming the index key (as before).
func TestAdvReviewIndexedSetIndexFails(t *testing.T) {
	rdb := newRedis(t)
	root := nest.MustNew[ixRoot](rdb, nil)
	ctx := t.Context()
	must(t, rdb.Set(ctx, "root:user", "not a set", 0).Err())
	err := root.User.At(1).Age.Set(ctx, 1)
	if err == nil || !strings.Contains(err.Error(), "root:user") || !strings.Contains(err.Error(), "WRONGTYPE") {
		t.Fatalf("Set with a broken index = %v; want an error naming root:user and WRONGTYPE", err)
	}
	var oe *nest.OpError
	if !errors.As(err, &oe) || oe.Op != "SET" || oe.Key != "root:user:1:age" {
		t.Errorf("Set with a broken index = %#v; want an OpError of SET root:user:1:age", err)
	}
}

// TestAdvReviewCancelledNamesKey checks that every direct call with a
// cancelled context fails with an *OpError naming its command and key,
// wrapping context.Canceled.
func TestAdvReviewCancelledNamesKey(t *testing.T) {
	rdb := newRedis(t)
	root := nest.MustNew[Root](rdb, nil)
	pw := nest.MustNew[passwordRoot](rdb, &nest.Options{Password: fastPasswords})
	troot := nest.MustNew[ttlRoot](rdb, nil)
	cctx, cancel := context.WithCancel(t.Context())
	cancel()
	check := func(what, op, key string, err error) {
		t.Helper()
		var oe *nest.OpError
		if !errors.Is(err, context.Canceled) || !errors.As(err, &oe) || oe.Op != op || oe.Key != key ||
			!strings.Contains(err.Error(), key) {
			t.Errorf("%s = %v; want an OpError %s %s wrapping context.Canceled", what, err, op, key)
		}
	}
	u := root.User.At(3)
	check("Set", "SET", u.Age.Name(), u.Age.Set(cctx, 1))
	check("Set KeepTTL", "SET", u.Age.Name(), u.Age.Set(cctx, 1, nest.KeepTTL()))
	_, err := u.Age.Get(cctx)
	check("Get", "GET", u.Age.Name(), err)
	_, _, err = u.Name.Lookup(cctx)
	check("Lookup", "GET", u.Name.Name(), err)
	_, err = troot.Slide.K.Get(cctx)
	check("sliding Get", "GET", troot.Slide.K.Name(), err)
	p := pw.User.At(3).Password
	check("Password.Set", "SET", p.Name(), p.Set(cctx, "hunter2"))
	_, err = pw.User.At(3).Recovery.Verify(cctx, "x")
	check("Password.Verify", "GET", pw.User.At(3).Recovery.Name(), err)
}

// reviewBad fails to encode.
type reviewBad struct{ N int }

var errReviewBad = errors.New("review: cannot encode")

func (reviewBad) MarshalJSON() ([]byte, error) { return nil, errReviewBad }

type reviewEncRoot struct {
	nest.Namespace `nest:"enc"`
	Bad            nest.Key[reviewBad] `nest:"bad"`
	Big            nest.Key[string]    `nest:"big"`
}

// TestAdvReviewRefusedWrites checks the errors of writes refused before
// anything is sent: an encoding error and an oversized value are OpErrors
// of SET and the key wrapping the cause; a handle with a parameter error
// or an unbound one returns that error as is. Nothing reaches Redis.
func TestAdvReviewRefusedWrites(t *testing.T) {
	rdb := newRedis(t)
	rec := newRecorder(rdb)
	r := nest.MustNew[reviewEncRoot](rdb, &nest.Options{MaxValueSize: 8})
	ctx := t.Context()
	var oe *nest.OpError

	err := r.Bad.Set(ctx, reviewBad{1})
	if !errors.Is(err, errReviewBad) || !errors.As(err, &oe) || oe.Op != "SET" || oe.Key != "enc:bad" {
		t.Errorf("Set of an unencodable value = %#v (%v)", err, err)
	}
	var me *json.MarshalerError
	if !errors.As(err, &me) {
		t.Errorf("Set of an unencodable value lost the json.MarshalerError: %v", err)
	}
	err = r.Big.Set(ctx, "0123456789abcdef")
	if !errors.Is(err, nest.ErrTooLarge) || !errors.As(err, &oe) || oe.Op != "SET" || oe.Key != "enc:big" {
		t.Errorf("Set of an oversized value = %v", err)
	}
	root := nest.MustNew[Root](rdb, nil)
	bad := root.User.At("a:b")
	want := bad.Err()
	if want == nil {
		t.Fatal("At(\"a:b\") accepted")
	}
	if err := bad.Age.Set(ctx, 1); err != want {
		t.Errorf("Set of a handle with a parameter error = %v, want %v as is", err, want)
	}
	if _, err := bad.Age.Get(ctx); err != want {
		t.Errorf("Get of a handle with a parameter error = %v, want %v", err, want)
	}
	var zero nest.Key[int]
	if err := zero.Set(ctx, 1); err != nest.ErrNotBound {
		t.Errorf("Set of an unbound Key = %v", err)
	}
	if _, _, err := zero.Lookup(ctx); err != nest.ErrNotBound {
		t.Errorf("Lookup of an unbound Key = %v", err)
	}
	var zp nest.Password
	if err := zp.Set(ctx, "x"); err != nest.ErrNotBound {
		t.Errorf("Set of an unbound Password = %v", err)
	}
	if _, err := zp.Verify(ctx, "x"); err != nest.ErrNotBound {
		t.Errorf("Verify of an unbound Password = %v", err)
	}
	if got := rec.Since(0); len(got) != 0 {
		t.Errorf("refused writes sent %v", got)
	}
}

// TestAdvReviewWrongType checks that Get and Lookup of a key holding
// another type report a *WrongTypeError with the type found, and that Set
// overwrites it.
func TestAdvReviewWrongType(t *testing.T) {
	rdb := newRedis(t)
	root := nest.MustNew[Root](rdb, nil)
	ctx := t.Context()
	k := root.User.At(4).Age
	must(t, rdb.HSet(ctx, k.Name(), "f", "v").Err())
	for what, f := range map[string]func() error{
		"Get":    func() error { _, err := k.Get(ctx); return err },
		"Lookup": func() error { _, _, err := k.Lookup(ctx); return err },
	} {
		err := f()
		var wt *nest.WrongTypeError
		var oe *nest.OpError
		if !errors.As(err, &wt) || wt.Found != "hash" || wt.Declared != "string" || !errors.As(err, &oe) || oe.Op != "GET" || oe.Key != k.Name() {
			t.Errorf("%s of a hash = %v", what, err)
		}
	}
	must(t, k.Set(ctx, 5))
	if n, err := k.Get(ctx); err != nil || n != 5 {
		t.Errorf("Get after Set over a hash = %d, %v", n, err)
	}
}

// TestAdvReviewPassword checks Password Set/Verify round trips, with a
// logger: the records, the TTLs (KeepTTL, WithTTL, sliding renewal by
// Verify), a refused password, and a missing one.
func TestAdvReviewPassword(t *testing.T) {
	rdb := newRedis(t)
	logs := &reviewLogs{level: slog.LevelDebug}
	r := nest.MustNew[passwordRoot](rdb, &nest.Options{Password: fastPasswords, Logger: slog.New(logs)})
	ctx := t.Context()
	u := r.User.At(5)
	p, rc := u.Password, u.Recovery

	must(t, p.Set(ctx, "correct horse"))
	expectOne(t, "Password.Set", logs.take(), "SET", p.Name(), "2m0s", false)
	if stored := rawGet(t, rdb, p.Name()); !strings.HasPrefix(stored, "$argon2id$") {
		t.Errorf("stored %q, want an argon2id hash", stored)
	}
	if ok, err := p.Verify(ctx, "correct horse"); err != nil || !ok {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
	expectOne(t, "Password.Verify", logs.take(), "GET", p.Name(), "", false)
	if ok, err := p.Verify(ctx, "wrong"); err != nil || ok {
		t.Fatalf("Verify of a wrong password = %v, %v", ok, err)
	}
	logs.take()
	if ttl := rdb.TTL(ctx, p.Name()).Val(); ttl < 100*time.Second || ttl > 120*time.Second {
		t.Errorf("TTL after Set = %v", ttl)
	}
	must(t, p.Set(ctx, "second", nest.WithTTL(7*time.Second)))
	expectOne(t, "Password.Set WithTTL", logs.take(), "SET", p.Name(), "7s", false)
	if ttl := rdb.TTL(ctx, p.Name()).Val(); ttl > 7*time.Second || ttl < 5*time.Second {
		t.Errorf("TTL after WithTTL(7s) = %v", ttl)
	}
	must(t, p.Set(ctx, "third", nest.KeepTTL()))
	expectOne(t, "Password.Set KeepTTL", logs.take(), "SET", p.Name(), "", false)
	if ttl := rdb.TTL(ctx, p.Name()).Val(); ttl > 7*time.Second || ttl < 5*time.Second {
		t.Errorf("TTL after KeepTTL = %v", ttl)
	}
	if ok, err := p.Verify(ctx, "third"); err != nil || !ok {
		t.Fatalf("Verify after KeepTTL = %v, %v", ok, err)
	}
	if ok, _ := p.Verify(ctx, "second"); ok {
		t.Fatal("the replaced password still verifies")
	}
	logs.take()

	// Sliding: Verify renews with GETEX.
	must(t, rc.Set(ctx, "recover me"))
	expectOne(t, "Recovery.Set", logs.take(), "SET", rc.Name(), "30s", false)
	must(t, rdb.Expire(ctx, rc.Name(), 3*time.Second).Err())
	if ok, err := rc.Verify(ctx, "recover me"); err != nil || !ok {
		t.Fatalf("Recovery.Verify = %v, %v", ok, err)
	}
	expectOne(t, "Recovery.Verify", logs.take(), "GETEX", rc.Name(), "30s", false)
	if ttl := rdb.TTL(ctx, rc.Name()).Val(); ttl < 25*time.Second {
		t.Errorf("Verify of a sliding password did not renew: TTL %v", ttl)
	}

	// Refused and missing.
	err := p.Set(ctx, "")
	var oe *nest.OpError
	if !errors.Is(err, nest.ErrInvalidPassword) || !errors.As(err, &oe) || oe.Op != "SET" || oe.Key != p.Name() {
		t.Errorf("Set(\"\") = %v", err)
	}
	if recs := logs.take(); len(recs) != 0 {
		t.Errorf("a refused password logged %+v", recs)
	}
	missing := r.User.At(6).Password
	if ok, err := missing.Verify(ctx, "x"); ok || !errors.Is(err, nest.ErrNotFound) || !errors.As(err, &oe) || oe.Op != "GET" || oe.Key != missing.Name() {
		t.Errorf("Verify of a missing password = %v, %v", ok, err)
	}
	expectOne(t, "Verify missing", logs.take(), "GET", missing.Name(), "", true)
	// A Password in a wrong-typed key: a WrongTypeError naming the types.
	must(t, rdb.RPush(ctx, missing.Name(), "x").Err())
	_, err = missing.Verify(ctx, "x")
	var wt *nest.WrongTypeError
	if !errors.As(err, &wt) || wt.Kind != "password" {
		t.Errorf("Verify of a list = %v", err)
	}
}

// TestAdvReviewConcurrentSetGC sets and reads values from 64 goroutines
// while the collector runs: each command's arguments live in one block
// that holds its own argSpace (args_unsafe.go), and every value boxed
// there must reach Redis intact.
func TestAdvReviewConcurrentSetGC(t *testing.T) {
	rdb := newRedis(t)
	root := nest.MustNew[Root](rdb, nil)
	sec, _ := newVault(t, rdb, newSecretKey(t, "k1"))
	troot := nest.MustNew[ttlRoot](rdb, nil)
	ctx := t.Context()
	stop := make(chan struct{})
	var gcwg sync.WaitGroup
	gcwg.Add(1)
	go func() {
		defer gcwg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				v := (g*1000+i)*1_000_003 - 1<<40
				k := root.User.At(g).Age
				if err := k.Set(ctx, v); err != nil {
					errs <- err
					return
				}
				if got, err := k.Get(ctx); err != nil || got != v {
					errs <- fmt.Errorf("goroutine %d: Get = %d, %v; want %d", g, got, err, v)
					return
				}
				if raw := rdb.Get(ctx, k.Name()).Val(); raw != fmt.Sprint(v) {
					errs <- fmt.Errorf("goroutine %d: stored %q, want %d", g, raw, v)
					return
				}
				pin := sec.Account.At(g).PIN
				if err := pin.Set(ctx, v); err != nil {
					errs <- err
					return
				}
				if got, err := pin.Get(ctx); err != nil || got != v {
					errs <- fmt.Errorf("goroutine %d: Secret Get = %d, %v; want %d", g, got, err, v)
					return
				}
				if g%4 == 0 {
					s := troot.Slide.K
					if err := s.Set(ctx, v); err != nil {
						errs <- err
						return
					}
					if _, err := s.Get(ctx); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	gcwg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
