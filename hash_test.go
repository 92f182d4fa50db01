package nest_test

import (
	"context"
	"errors"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
)

// hashRoot declares hashes and structs of several value types under a
// user; the Hash and Struct tests share it.
type hashRoot struct {
	nest.Namespace `nest:"hh"`
	User           nest.Sub[hashUser]
}

type hashDoc struct {
	Title string `json:"title"`
	N     int    `json:"n"`
}

// hashUser is pinned, so that its keys share a slot on Redis Cluster
// and a transaction may name several of them.
type hashUser struct {
	nest.Namespace `nest:"user:{id}" ttl:"1h" slot:"pin"`
	Prefs          nest.Hash[string]        `nest:"prefs"`
	Stock          nest.Hash[int]           `nest:"stock"`
	Small          nest.Hash[int8]          `nest:"small"`
	Count          nest.Hash[uint]          `nest:"count"`
	Price          nest.Hash[float64]       `nest:"price"`
	Wait           nest.Hash[time.Duration] `nest:"wait"`
	Docs           nest.Hash[hashDoc]       `nest:"docs"`
	Slide          nest.Hash[string]        `nest:"slide" ttl:"1m,sliding"`
	Fixed          nest.Hash[int]           `nest:"fixed" ttl:"1m,fixed"`
	Forever        nest.Hash[string]        `nest:"forever" ttl:"none"`
	Profile        nest.Struct[hashProfile] `nest:"profile"`
	SlideProfile   nest.Struct[hashProfile] `nest:"sprofile" ttl:"1m,sliding"`
	ForeverProfile nest.Struct[hashProfile] `nest:"fprofile" ttl:"none"`
}

func newHashRoot(t testing.TB, opts *nest.Options) (*hashRoot, redis.UniversalClient) {
	t.Helper()
	rdb := newRedis(t)
	root, err := nest.New[hashRoot](rdb, opts)
	if err != nil {
		t.Fatalf("nest.New: %v", err)
	}
	return root, rdb
}

// assertHashTTL checks that name has a TTL within (want-1m, want].
func assertHashTTL(t *testing.T, rdb redis.UniversalClient, name string, want time.Duration) {
	t.Helper()
	got := rdb.PTTL(context.Background(), name).Val()
	if got > want || got < want-time.Minute {
		t.Fatalf("PTTL %s = %v; want about %v", name, got, want)
	}
}

// assertOpErr checks that err is an *OpError of op on key matching target,
// whose message contains every want string.
func assertOpErr(t *testing.T, err error, op, key string, target error, want ...string) {
	t.Helper()
	var oe *nest.OpError
	if !errors.As(err, &oe) {
		t.Fatalf("error %v (%T) is not an *OpError", err, err)
	}
	if oe.Op != op || oe.Key != key {
		t.Errorf("OpError op %q key %q; want %q %q (%v)", oe.Op, oe.Key, op, key, err)
	}
	if target != nil && !errors.Is(err, target) {
		t.Errorf("error %v does not match %v", err, target)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

func TestHashReadWrite(t *testing.T) {
	ctx := context.Background()
	root, rdb := newHashRoot(t, nil)
	h := root.User.At(1).Prefs
	name := h.Name()

	if _, err := h.Get(ctx, "theme"); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("Get of a missing key = %v; want ErrNotFound", err)
	} else {
		assertOpErr(t, err, "HGET", name, nest.ErrNotFound, `field "theme"`, name)
	}
	if v, ok, err := h.Lookup(ctx, "theme"); v != "" || ok || err != nil {
		t.Fatalf("Lookup of a missing field = %q, %v, %v", v, ok, err)
	}
	if isNew, err := h.Set(ctx, "theme", "dark"); !isNew || err != nil {
		t.Fatalf("Set = %v, %v; want true", isNew, err)
	}
	assertHashTTL(t, rdb, name, time.Hour)
	if isNew, err := h.Set(ctx, "theme", "light"); isNew || err != nil {
		t.Fatalf("second Set = %v, %v; want false", isNew, err)
	}
	if v, err := h.Get(ctx, "theme"); v != "light" || err != nil {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if v, ok, err := h.Lookup(ctx, "theme"); v != "light" || !ok || err != nil {
		t.Fatalf("Lookup = %q, %v, %v", v, ok, err)
	}
	if n, err := h.MSet(ctx, map[string]string{"lang": "en", "tz": "UTC", "theme": "dark"}); n != 2 || err != nil {
		t.Fatalf("MSet = %d, %v; want 2 new", n, err)
	}
	if n, err := h.MSet(ctx, nil); n != 0 || err != nil {
		t.Fatalf("MSet of nothing = %d, %v", n, err)
	}
	if ok, err := h.SetNX(ctx, "lang", "fr"); ok || err != nil {
		t.Fatalf("SetNX of an existing field = %v, %v", ok, err)
	}
	if ok, err := h.SetNX(ctx, "font", "mono"); !ok || err != nil {
		t.Fatalf("SetNX of a new field = %v, %v", ok, err)
	}
	if ok, err := h.Has(ctx, "font"); !ok || err != nil {
		t.Fatalf("Has(font) = %v, %v", ok, err)
	}
	if ok, err := h.Has(ctx, "nope"); ok || err != nil {
		t.Fatalf("Has(nope) = %v, %v", ok, err)
	}
	if n, err := h.Len(ctx); n != 4 || err != nil {
		t.Fatalf("Len = %d, %v", n, err)
	}
	want := map[string]string{"theme": "dark", "lang": "en", "tz": "UTC", "font": "mono"}
	if got, err := h.GetAll(ctx); err != nil || !maps.Equal(got, want) {
		t.Fatalf("GetAll = %v, %v", got, err)
	}
	fs, err := h.Fields(ctx)
	slices.Sort(fs)
	if err != nil || !slices.Equal(fs, []string{"font", "lang", "theme", "tz"}) {
		t.Fatalf("Fields = %v, %v", fs, err)
	}
	vs, err := h.Values(ctx)
	slices.Sort(vs)
	if err != nil || !slices.Equal(vs, []string{"UTC", "dark", "en", "mono"}) {
		t.Fatalf("Values = %v, %v", vs, err)
	}
	m, err := h.MGet(ctx, "lang", "nope", "tz")
	if err != nil || !maps.Equal(m, map[string]string{"lang": "en", "tz": "UTC"}) {
		t.Fatalf("MGet = %v, %v; want the two present fields", m, err)
	}
	if m, err := h.MGet(ctx); err != nil || len(m) != 0 {
		t.Fatalf("MGet of nothing = %v, %v", m, err)
	}
	// Remove never touches the TTL.
	must(t, rdb.PExpire(ctx, name, 30*time.Second).Err())
	if n, err := h.Remove(ctx, "font", "nope", "tz"); n != 2 || err != nil {
		t.Fatalf("Remove = %d, %v; want 2", n, err)
	}
	assertHashTTL(t, rdb, name, 30*time.Second)
	if n, err := h.Remove(ctx); n != 0 || err != nil {
		t.Fatalf("Remove of nothing = %d, %v", n, err)
	}
	// The key's own commands stay: Delete deletes the hash.
	if ok, err := h.Delete(ctx); !ok || err != nil {
		t.Fatalf("Delete = %v, %v", ok, err)
	}
	if got, err := h.GetAll(ctx); err != nil || len(got) != 0 {
		t.Fatalf("GetAll of a missing key = %v, %v", got, err)
	}
	if n, err := h.Len(ctx); n != 0 || err != nil {
		t.Fatalf("Len of a missing key = %d, %v", n, err)
	}
}

func TestHashTypedValues(t *testing.T) {
	ctx := context.Background()
	root, rdb := newHashRoot(t, nil)
	u := root.User.At(2)
	if _, err := u.Docs.Set(ctx, "a", hashDoc{"Intro", 3}); err != nil {
		t.Fatal(err)
	}
	if got := rdb.HGet(ctx, u.Docs.Name(), "a").Val(); got != `{"title":"Intro","n":3}` {
		t.Fatalf("stored JSON = %q", got)
	}
	if d, err := u.Docs.Get(ctx, "a"); err != nil || d != (hashDoc{"Intro", 3}) {
		t.Fatalf("Get = %v, %v", d, err)
	}
	if _, err := u.Price.Set(ctx, "x", 1.5); err != nil {
		t.Fatal(err)
	}
	if got := rdb.HGet(ctx, u.Price.Name(), "x").Val(); got != "1.5" {
		t.Fatalf("stored float = %q", got)
	}
	if _, err := u.Wait.Set(ctx, "x", time.Second); err != nil {
		t.Fatal(err)
	}
	if got := rdb.HGet(ctx, u.Wait.Name(), "x").Val(); got != "1000000000" {
		t.Fatalf("stored duration = %q", got)
	}
}

func TestHashIncrBy(t *testing.T) {
	ctx := context.Background()
	root, rdb := newHashRoot(t, nil)
	u := root.User.At(3)
	if n, err := u.Stock.IncrBy(ctx, "apples", 5); n != 5 || err != nil {
		t.Fatalf("IncrBy = %d, %v", n, err)
	}
	assertHashTTL(t, rdb, u.Stock.Name(), time.Hour)
	if n, err := u.Stock.IncrBy(ctx, "apples", -7); n != -2 || err != nil {
		t.Fatalf("IncrBy -7 = %d, %v", n, err)
	}
	if f, err := u.Price.IncrBy(ctx, "x", 1.25); f != 1.25 || err != nil {
		t.Fatalf("float IncrBy = %v, %v", f, err)
	}
	if f, err := u.Price.IncrBy(ctx, "x", -0.5); f != 0.75 || err != nil {
		t.Fatalf("float IncrBy = %v, %v", f, err)
	}
	if d, err := u.Wait.IncrBy(ctx, "x", time.Second); d != time.Second || err != nil {
		t.Fatalf("duration IncrBy = %v, %v", d, err)
	}
	// A result out of V's range is stored (Redis keeps 64 bits) and
	// reported as a DecodeError naming the field.
	if _, err := u.Small.Set(ctx, "n", 127); err != nil {
		t.Fatal(err)
	}
	_, err := u.Small.IncrBy(ctx, "n", 1)
	var de *nest.DecodeError
	if !errors.As(err, &de) || de.Elem != `field "n"` {
		t.Fatalf("int8 overflow = %v; want a DecodeError at field \"n\"", err)
	}
	// Refused before anything is sent.
	for what, err := range map[string]error{
		"string V":  func() error { _, err := u.Prefs.IncrBy(ctx, "n", "1"); return err }(),
		"struct V":  func() error { _, err := u.Docs.IncrBy(ctx, "n", hashDoc{}); return err }(),
		"NaN":       func() error { _, err := u.Price.IncrBy(ctx, "nan", math.NaN()); return err }(),
		"+Inf":      func() error { _, err := u.Price.IncrBy(ctx, "inf", math.Inf(1)); return err }(),
		"huge uint": func() error { _, err := u.Count.IncrBy(ctx, "u", math.MaxUint64); return err }(),
	} {
		if !errors.Is(err, nest.ErrConfig) {
			t.Errorf("IncrBy with %s = %v; want ErrConfig", what, err)
		}
	}
	for _, k := range []string{u.Prefs.Name(), u.Docs.Name(), u.Count.Name()} {
		if n := rdb.Exists(ctx, k).Val(); n != 0 {
			t.Fatalf("a refused IncrBy created %s", k)
		}
	}
	if n := rdb.HLen(ctx, u.Price.Name()).Val(); n != 1 {
		t.Fatalf("a refused float IncrBy wrote a field: HLEN %d", n)
	}
}

func TestHashTTLModes(t *testing.T) {
	ctx := context.Background()
	root, rdb := newHashRoot(t, nil)
	u := root.User.At(4)
	// fixed: writes never extend the TTL.
	if _, err := u.Fixed.Set(ctx, "a", 1); err != nil {
		t.Fatal(err)
	}
	must(t, rdb.PExpire(ctx, u.Fixed.Name(), 10*time.Second).Err())
	if _, err := u.Fixed.MSet(ctx, map[string]int{"b": 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Fixed.IncrBy(ctx, "c", 2); err != nil {
		t.Fatal(err)
	}
	if d := rdb.PTTL(ctx, u.Fixed.Name()).Val(); d > 10*time.Second {
		t.Fatalf("fixed TTL extended to %v", d)
	}
	// sliding: reads renew.
	if _, err := u.Slide.Set(ctx, "a", "x"); err != nil {
		t.Fatal(err)
	}
	reads := map[string]func() error{
		"Get":    func() error { _, err := u.Slide.Get(ctx, "a"); return err },
		"Has":    func() error { _, err := u.Slide.Has(ctx, "a"); return err },
		"MGet":   func() error { _, err := u.Slide.MGet(ctx, "a"); return err },
		"GetAll": func() error { _, err := u.Slide.GetAll(ctx); return err },
		"Len":    func() error { _, err := u.Slide.Len(ctx); return err },
		"Fields": func() error { _, err := u.Slide.Fields(ctx); return err },
		"Values": func() error { _, err := u.Slide.Values(ctx); return err },
	}
	for what, read := range reads {
		must(t, rdb.PExpire(ctx, u.Slide.Name(), 5*time.Second).Err())
		must(t, read())
		assertHashTTL(t, rdb, u.Slide.Name(), time.Minute)
		_ = what
	}
	// none: no TTL.
	if _, err := u.Forever.Set(ctx, "a", "x"); err != nil {
		t.Fatal(err)
	}
	if d := rdb.PTTL(ctx, u.Forever.Name()).Val(); d != -1 {
		t.Fatalf("ttl none: PTTL %v", d)
	}
}

// hashOps runs every Hash[string] operation once and returns its error.
func hashOps(ctx context.Context, h nest.Hash[string], field string) map[string]error {
	e := func(_ any, err error) error { return err }
	out := map[string]error{
		"Get":    e(h.Get(ctx, field)),
		"Set":    e(h.Set(ctx, field, "v")),
		"MSet":   e(h.MSet(ctx, map[string]string{"ok": "v", field: "v"})),
		"SetNX":  e(h.SetNX(ctx, field, "v")),
		"Remove": e(h.Remove(ctx, "ok", field)),
		"Has":    e(h.Has(ctx, field)),
		"MGet":   e(h.MGet(ctx, "ok", field)),
	}
	_, _, out["Lookup"] = h.Lookup(ctx, field)
	return out
}

func TestHashWrongType(t *testing.T) {
	ctx := context.Background()
	root, rdb := newHashRoot(t, nil)
	h := root.User.At(5).Prefs
	must(t, rdb.RPush(ctx, h.Name(), "x").Err())
	errs := hashOps(ctx, h, "f")
	e := func(_ any, err error) error { return err }
	errs["GetAll"] = e(h.GetAll(ctx))
	errs["Len"] = e(h.Len(ctx))
	errs["Fields"] = e(h.Fields(ctx))
	errs["Values"] = e(h.Values(ctx))
	must(t, rdb.RPush(ctx, root.User.At(5).Stock.Name(), "x").Err())
	errs["IncrBy"] = e(root.User.At(5).Stock.IncrBy(ctx, "f", 1))
	for _, err := range root.User.At(5).Prefs.All(ctx) {
		errs["All"] = err
	}
	for op, err := range errs {
		var wt *nest.WrongTypeError
		if !errors.As(err, &wt) || wt.Found != "list" || wt.Declared != "hash" || !strings.Contains(err.Error(), ":5}:") {
			t.Errorf("%s on a list = %v; want a WrongTypeError naming the key, declared hash, found list", op, err)
		}
	}
	if n := rdb.LLen(ctx, h.Name()).Val(); n != 1 || rdb.PTTL(ctx, h.Name()).Val() != -1 {
		t.Fatalf("failed operations changed the list or its TTL")
	}
}

func TestHashDecodeErrors(t *testing.T) {
	ctx := context.Background()
	root, rdb := newHashRoot(t, nil)
	h := root.User.At(6).Docs
	must(t, rdb.HSet(ctx, h.Name(), "good", `{"title":"ok"}`, "bad", "{nope").Err())
	assertDecode := func(what string, err error, elem string) {
		t.Helper()
		var de *nest.DecodeError
		if !errors.As(err, &de) || de.Elem != elem || de.Key != h.Name() || string(de.Raw) != "{nope" {
			t.Errorf("%s = %v; want a DecodeError of %s at %s", what, err, h.Name(), elem)
		}
	}
	_, err := h.Get(ctx, "bad")
	assertDecode("Get", err, `field "bad"`)
	_, err = h.MGet(ctx, "good", "bad")
	assertDecode("MGet", err, `field "bad"`)
	_, err = h.GetAll(ctx)
	assertDecode("GetAll", err, `field "bad"`)
	_, err = h.Values(ctx)
	var de *nest.DecodeError
	if !errors.As(err, &de) || !strings.HasPrefix(de.Elem, "value ") {
		t.Errorf("Values = %v; want a DecodeError at a value's position", err)
	}
	if d, err := h.Get(ctx, "good"); err != nil || d.Title != "ok" {
		t.Fatalf("Get(good) = %v, %v", d, err)
	}
	// All yields the error and goes on.
	var good, bad int
	for e, err := range h.All(ctx) {
		switch {
		case err != nil:
			assertDecode("All", err, `field "bad"`)
			if e.Field != "bad" {
				t.Errorf("All: entry of the error has Field %q", e.Field)
			}
			bad++
		case e.Field == "good" && e.Value.Title == "ok":
			good++
		}
	}
	if good != 1 || bad != 1 {
		t.Fatalf("All yielded %d good and %d errors; want 1 and 1", good, bad)
	}
}

func TestHashHostileInput(t *testing.T) {
	ctx := context.Background()
	root, rdb := newHashRoot(t, &nest.Options{MaxValueSize: 1024})
	u := root.User.At(7)
	h := u.Prefs
	for op, err := range hashOps(ctx, h, "") {
		if !errors.Is(err, nest.ErrEmptyField) {
			t.Errorf("%s with an empty field = %v; want ErrEmptyField", op, err)
		}
	}
	if _, err := u.Stock.IncrBy(ctx, "", 1); !errors.Is(err, nest.ErrEmptyField) {
		t.Errorf("IncrBy with an empty field = %v", err)
	}
	long := strings.Repeat("f", 1025)
	for op, err := range hashOps(ctx, h, long) {
		if !errors.Is(err, nest.ErrTooLarge) {
			t.Errorf("%s with a %d-byte field = %v; want ErrTooLarge", op, len(long), err)
		}
	}
	huge := strings.Repeat("v", 1025)
	for what, err := range map[string]error{
		"Set":   func() error { _, err := h.Set(ctx, "a", huge); return err }(),
		"SetNX": func() error { _, err := h.SetNX(ctx, "a", huge); return err }(),
		"MSet":  func() error { _, err := h.MSet(ctx, map[string]string{"a": "ok", "b": huge, "c": "ok"}); return err }(),
	} {
		if !errors.Is(err, nest.ErrTooLarge) || !strings.Contains(err.Error(), h.Name()) {
			t.Errorf("%s of a %d-byte value = %v; want ErrTooLarge naming the key", what, len(huge), err)
		}
	}
	if n := rdb.Exists(ctx, h.Name()).Val(); n != 0 {
		t.Fatalf("refused writes left the hash behind")
	}
	// A value over the limit stored by someone else is not decoded.
	must(t, rdb.HSet(ctx, h.Name(), "big", huge).Err())
	if _, err := h.Get(ctx, "big"); !errors.Is(err, nest.ErrTooLarge) || !errors.Is(err, nest.ErrDecode) {
		t.Errorf("Get of an oversized stored value = %v", err)
	}
	must(t, rdb.Del(ctx, h.Name()).Err())

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	errs := hashOps(cctx, h, "f")
	e := func(_ any, err error) error { return err }
	errs["GetAll"] = e(h.GetAll(cctx))
	errs["IncrBy"] = e(u.Stock.IncrBy(cctx, "f", 1))
	for _, err := range h.All(cctx) {
		errs["All"] = err
	}
	for op, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled ctx = %v; want context.Canceled", op, err)
		}
	}
	if n := rdb.Exists(ctx, h.Name(), u.Stock.Name()).Val(); n != 0 {
		t.Fatalf("a cancelled write reached Redis")
	}

	// An unbound handle fails without contacting Redis.
	var zero nest.Hash[string]
	for op, err := range hashOps(ctx, zero, "f") {
		if !errors.Is(err, nest.ErrNotBound) {
			t.Errorf("%s on a zero Hash = %v; want ErrNotBound", op, err)
		}
	}
	for _, err := range zero.All(ctx) {
		if !errors.Is(err, nest.ErrNotBound) {
			t.Errorf("All on a zero Hash = %v", err)
		}
	}
}

func TestHashPipeline(t *testing.T) {
	ctx := context.Background()
	root, rdb := newHashRoot(t, nil)
	u := root.User.At(8)
	for _, tx := range []bool{false, true} {
		t.Run("tx="+strconv.FormatBool(tx), func(t *testing.T) {
			must(t, rdb.Del(ctx, u.Prefs.Name(), u.Stock.Name(), u.Slide.Name()).Err())
			p := u.Pipeline()
			if tx {
				p = u.TxPipeline()
			}
			q := u.Prefs.In(p)
			set := q.Set(ctx, "a", "1")
			mset := q.MSet(ctx, map[string]string{"b": "2", "c": "3"})
			empty := q.MSet(ctx, nil)
			setnx := q.SetNX(ctx, "a", "x")
			get := q.Get(ctx, "a")
			miss := q.Get(ctx, "zz")
			has := q.Has(ctx, "b")
			mget := q.MGet(ctx, "a", "zz")
			all := q.GetAll(ctx)
			n := q.Len(ctx)
			fs := q.Fields(ctx)
			vs := q.Values(ctx)
			rm := q.Remove(ctx, "c", "zz")
			rm0 := q.Remove(ctx)
			incr := u.Stock.In(p).IncrBy(ctx, "n", 4)
			slide := u.Slide.In(p).Get(ctx, "x")
			ttl := q.TTL(ctx)
			must(t, p.Exec(ctx))
			if !mustResult(t, set) || mustResult(t, mset) != 2 || mustResult(t, empty) != 0 || mustResult(t, setnx) {
				t.Fatalf("queued writes: %v %v %v %v", set.Val(), mset.Val(), empty.Val(), setnx.Val())
			}
			if mustResult(t, get) != "1" || !mustResult(t, has) || mustResult(t, n) != 3 || mustResult(t, rm) != 1 || mustResult(t, rm0) != 0 {
				t.Fatalf("queued reads: %v %v %v %v", get.Val(), has.Val(), n.Val(), rm.Val())
			}
			if _, err := miss.Result(); !errors.Is(err, nest.ErrNotFound) || !strings.Contains(err.Error(), `field "zz"`) {
				t.Fatalf("queued Get of a missing field = %v", err)
			}
			if !maps.Equal(mustResult(t, mget), map[string]string{"a": "1"}) || len(mustResult(t, all)) != 3 {
				t.Fatalf("queued MGet/GetAll = %v %v", mget.Val(), all.Val())
			}
			if len(mustResult(t, fs)) != 3 || len(mustResult(t, vs)) != 3 || mustResult(t, incr) != 4 {
				t.Fatalf("queued Fields/Values/IncrBy = %v %v %v", fs.Val(), vs.Val(), incr.Val())
			}
			if _, err := slide.Result(); !errors.Is(err, nest.ErrNotFound) {
				t.Fatalf("queued sliding Get = %v", err)
			}
			if d := mustResult(t, ttl); d < 59*time.Minute {
				t.Fatalf("queued TTL = %v", d)
			}
			assertHashTTL(t, rdb, u.Stock.Name(), time.Hour)
		})
	}
	// A bad operation fails the pipe: nothing is sent.
	p := u.TxPipeline()
	ok := u.Prefs.In(p).Set(ctx, "ok", "1")
	bad := u.Prefs.In(p).Set(ctx, "", "1")
	if err := p.Exec(ctx); !errors.Is(err, nest.ErrEmptyField) {
		t.Fatalf("Exec with an empty field = %v", err)
	}
	if !errors.Is(bad.Err(), nest.ErrEmptyField) || ok.Err() == nil {
		t.Fatalf("futures: ok %v, bad %v", ok.Err(), bad.Err())
	}
	if strings.Count(bad.Err().Error(), u.Prefs.Name()) != 1 {
		t.Fatalf("queued error names the key %d times: %v", strings.Count(bad.Err().Error(), u.Prefs.Name()), bad.Err())
	}
	if rdb.HExists(ctx, u.Prefs.Name(), "ok").Val() {
		t.Fatal("a failed pipe wrote")
	}
	p = u.Pipeline()
	f := u.Prefs.In(p).IncrBy(ctx, "n", "1")
	if err := p.Exec(ctx); !errors.Is(err, nest.ErrConfig) || !errors.Is(f.Err(), nest.ErrConfig) {
		t.Fatalf("queued IncrBy on Hash[string] = %v", err)
	}
	// Wrong type and decode errors through a pipe.
	must(t, rdb.Set(ctx, u.Forever.Name(), "x", 0).Err())
	must(t, rdb.HSet(ctx, u.Docs.Name(), "bad", "{").Err())
	p = u.Pipeline()
	wt := u.Forever.In(p).Get(ctx, "a")
	de := u.Docs.In(p).Get(ctx, "bad")
	_ = p.Exec(ctx)
	if !errors.Is(wt.Err(), nest.ErrWrongType) {
		t.Fatalf("queued Get on a string = %v", wt.Err())
	}
	var d *nest.DecodeError
	if !errors.As(de.Err(), &d) || d.Elem != `field "bad"` {
		t.Fatalf("queued Get of a bad value = %v", de.Err())
	}
}

// TestHashAll iterates over 100 000 fields: each is yielded (HSCAN may
// repeat one, never lose one), in batches of about Options.ScanCount,
// and breaking stops the scan.
func TestHashAll(t *testing.T) {
	ctx := context.Background()
	rdb := newRedis(t)
	rec := newRecorder(rdb)
	root, err := nest.New[hashRoot](rdb, &nest.Options{ScanCount: 1000})
	must(t, err)
	h := root.User.At(9).Stock
	const n = 100_000
	vals := make(map[string]int, n)
	for i := range n {
		vals["f"+strconv.Itoa(i)] = i
	}
	if added, err := h.MSet(ctx, vals); added != n || err != nil {
		t.Fatalf("MSet of %d = %d, %v", n, added, err)
	}
	assertHashTTL(t, rdb, h.Name(), time.Hour)
	mark := rec.Len()
	seen := make(map[string]bool, n)
	for e, err := range h.All(ctx) {
		must(t, err)
		if vals[e.Field] != e.Value {
			t.Fatalf("All: %s = %d, want %d", e.Field, e.Value, vals[e.Field])
		}
		seen[e.Field] = true
	}
	if len(seen) != n {
		t.Fatalf("All yielded %d distinct fields; want %d", len(seen), n)
	}
	scans := len(rec.Since(mark))
	if scans < 50 || scans > 200 {
		t.Fatalf("All sent %d HSCANs for %d fields with COUNT 1000", scans, n)
	}
	mark = rec.Len()
	i := 0
	for range h.All(ctx) {
		if i++; i == 10 {
			break
		}
	}
	if sent := len(rec.Since(mark)); sent != 1 {
		t.Fatalf("breaking after 10 fields sent %d HSCANs; want 1", sent)
	}
}

// TestHashOneRoundTrip: a TTL'd write is one command (the write script),
// a sliding read one pipeline of the read and PEXPIRE, a plain read one
// command.
func TestHashOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	rdb := newRedis(t)
	root, err := nest.New[hashRoot](rdb, nil)
	must(t, err)
	u := root.User.At(10)
	// The first write loads the script (EVALSHA, NOSCRIPT, EVAL), once
	// per server.
	_, err = u.Prefs.Set(ctx, "warm", "x")
	must(t, err)
	rec := newRecorder(rdb)
	for _, c := range []struct {
		what string
		op   func() error
		sent int
	}{
		{"Set", func() error { _, err := u.Prefs.Set(ctx, "a", "x"); return err }, 1},
		{"MSet", func() error { _, err := u.Prefs.MSet(ctx, map[string]string{"a": "x", "b": "y"}); return err }, 1},
		{"SetNX", func() error { _, err := u.Prefs.SetNX(ctx, "a", "x"); return err }, 1},
		{"IncrBy", func() error { _, err := u.Stock.IncrBy(ctx, "a", 1); return err }, 1},
		{"Get", func() error { _, err := u.Prefs.Get(ctx, "a"); return err }, 1},
		{"Save", func() error { return u.Profile.Save(ctx, ada) }, 1},
		{"SetFields", func() error { return u.Profile.SetFields(ctx, ada, "name", "age") }, 1},
		{"Load", func() error { _, err := u.Profile.Load(ctx); return err }, 1},
		{"Field.Set", func() error { return nest.Field[string](u.Profile, "name").Set(ctx, "x") }, 1},
	} {
		mark := rec.Len()
		must(t, c.op())
		if sent := rec.Since(mark); len(sent) != c.sent {
			t.Errorf("%s sent %d commands: %v", c.what, len(sent), sent)
		}
	}
}

// TestHashIncrByExact: HINCRBY through the TTL script returns the exact
// result beyond 2^53 (a Lua number is a double; the script reads the field
// back as text), with and without a TTL.
func TestHashIncrByExact(t *testing.T) {
	ctx := context.Background()
	root, _ := newHashRoot(t, nil)
	u := root.User.At(77)
	for _, h := range []nest.Hash[int]{u.Stock, u.Fixed} {
		if _, err := h.Set(ctx, "n", math.MaxInt64-10); err != nil {
			t.Fatal(err)
		}
		got, err := h.IncrBy(ctx, "n", 3)
		if err != nil || got != math.MaxInt64-7 {
			t.Fatalf("%s IncrBy near MaxInt64 = %d, %v; want %d", h.Name(), got, err, int64(math.MaxInt64-7))
		}
		if ttl, _ := h.TTL(ctx); ttl <= 0 {
			t.Fatalf("%s IncrBy: TTL %v", h.Name(), ttl)
		}
	}
}
