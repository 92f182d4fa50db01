package nest_test

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// ctrRoot declares counters (and a lock, see lock_test.go) under a user.
type ctrRoot struct {
	nest.Namespace `nest:"ctr"`
	User           nest.Sub[ctrUser]
	Team           nest.Sub[ctrTeam]
}

type ctrUser struct {
	nest.Namespace `nest:"user:{id}" ttl:"1h"`
	Logins         nest.Counter      `nest:"logins"`
	Window         nest.Counter      `nest:"window" ttl:"1m,fixed"`
	Short          nest.Counter      `nest:"short" ttl:"700ms,fixed"`
	Seen           nest.Counter      `nest:"seen" ttl:"10m,sliding"`
	Total          nest.Counter      `nest:"total" ttl:"none"`
	Zero           nest.Counter      `nest:"zero" default:"0"`
	Score          nest.FloatCounter `nest:"score" ttl:"10m"`
	FWindow        nest.FloatCounter `nest:"fwindow" ttl:"1m,fixed"`
	Lock           nest.Lock         `nest:"lock" ttl:"30s"`
	Short2         nest.Lock         `nest:"short_lock" ttl:"300ms"`
	Guarded        nest.Key[int]     `nest:"guarded" default:"0"`
}

// ctrTeam is pinned, so its keys share a slot (cluster transactions).
type ctrTeam struct {
	nest.Namespace `nest:"team:{id}" slot:"pin" ttl:"1h"`
	A              nest.Counter      `nest:"a"`
	B              nest.Counter      `nest:"b" ttl:"1m,fixed"`
	F              nest.FloatCounter `nest:"f"`
}

func newCtrRoot(t testing.TB) (*ctrRoot, redis.UniversalClient) {
	t.Helper()
	rdb := newRedis(t)
	root, err := nest.New[ctrRoot](rdb, nil)
	if err != nil {
		t.Fatalf("nest.New: %v", err)
	}
	return root, rdb
}

func TestCounterIncrements(t *testing.T) {
	ctx := context.Background()
	root, rdb := newCtrRoot(t)
	u := root.User.At(1)

	if n, err := u.Logins.Get(ctx); err != nil || n != 0 {
		t.Fatalf("Get of a missing counter = %d, %v; want 0", n, err)
	}
	if _, ok, err := u.Logins.Lookup(ctx); err != nil || ok {
		t.Fatalf("Lookup of a missing counter: ok %v, %v", ok, err)
	}
	steps := []struct {
		name string
		op   func() (int64, error)
		want int64
	}{
		{"Incr", func() (int64, error) { return u.Logins.Incr(ctx) }, 1},
		{"IncrBy", func() (int64, error) { return u.Logins.IncrBy(ctx, 41) }, 42},
		{"IncrBy negative", func() (int64, error) { return u.Logins.IncrBy(ctx, -2) }, 40},
		{"Decr", func() (int64, error) { return u.Logins.Decr(ctx) }, 39},
		{"DecrBy", func() (int64, error) { return u.Logins.DecrBy(ctx, 40) }, -1},
		{"DecrBy negative", func() (int64, error) { return u.Logins.DecrBy(ctx, -11) }, 10},
	}
	for _, s := range steps {
		// Shorten the TTL first: each write must bring it back to 1h.
		must(t, rdb.PExpire(ctx, u.Logins.Name(), 5*time.Second).Err())
		n, err := s.op()
		if err != nil || n != s.want {
			t.Fatalf("%s = %d, %v; want %d", s.name, n, err, s.want)
		}
		assertTTLNear(t, rdb, u.Logins.Name(), time.Hour, time.Minute)
	}
	if n, err := u.Logins.Get(ctx); err != nil || n != 10 {
		t.Fatalf("Get = %d, %v; want 10", n, err)
	}
	if raw := rdb.Get(ctx, u.Logins.Name()).Val(); raw != "10" {
		t.Fatalf("stored form %q, want \"10\"", raw)
	}

	// Set, SetNX, GetSet, GetDel and Update of value[int64], with the TTL.
	must(t, u.Logins.Set(ctx, 7))
	assertTTLNear(t, rdb, u.Logins.Name(), time.Hour, time.Minute)
	if ok, err := u.Logins.SetNX(ctx, 8); err != nil || ok {
		t.Fatalf("SetNX on an existing counter = %v, %v", ok, err)
	}
	if old, ok, err := u.Logins.GetSet(ctx, 9); err != nil || !ok || old != 7 {
		t.Fatalf("GetSet = %d, %v, %v; want 7", old, ok, err)
	}
	if n, err := u.Logins.Update(ctx, func(cur int64, _ bool) (int64, error) { return cur * 2, nil }); err != nil || n != 18 {
		t.Fatalf("Update = %d, %v", n, err)
	}
	if old, ok, err := u.Logins.GetDel(ctx); err != nil || !ok || old != 18 {
		t.Fatalf("GetDel = %d, %v, %v; want 18", old, ok, err)
	}

	// No TTL declared: none applied.
	if _, err := u.Total.IncrBy(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if d := pttl(t, rdb, u.Total.Name()); d != -1 {
		t.Fatalf("ttl none: PTTL %v", d)
	}

	// Sliding: reads renew the TTL.
	if _, err := u.Seen.Incr(ctx); err != nil {
		t.Fatal(err)
	}
	must(t, rdb.PExpire(ctx, u.Seen.Name(), 5*time.Second).Err())
	if n, err := u.Seen.Get(ctx); err != nil || n != 1 {
		t.Fatalf("sliding Get = %d, %v", n, err)
	}
	assertTTLNear(t, rdb, u.Seen.Name(), 10*time.Minute, time.Minute)

	// A default of 0 is allowed and changes nothing.
	if n, err := u.Zero.Get(ctx); err != nil || n != 0 {
		t.Fatalf("Get with default 0 = %d, %v", n, err)
	}
}

func TestCounterFloat(t *testing.T) {
	ctx := context.Background()
	root, rdb := newCtrRoot(t)
	u := root.User.At(2)
	if f, err := u.Score.IncrByFloat(ctx, 0.5); err != nil || f != 0.5 {
		t.Fatalf("IncrByFloat = %v, %v", f, err)
	}
	if f, err := u.Score.IncrByFloat(ctx, -0.25); err != nil || f != 0.25 {
		t.Fatalf("IncrByFloat = %v, %v", f, err)
	}
	assertTTLNear(t, rdb, u.Score.Name(), 10*time.Minute, time.Minute)
	if f, err := u.Score.Get(ctx); err != nil || f != 0.25 {
		t.Fatalf("Get = %v, %v", f, err)
	}
	must(t, u.Score.Set(ctx, 1e21))
	if f, err := u.Score.IncrByFloat(ctx, 1); err != nil || f != 1e21+1 {
		t.Fatalf("IncrByFloat after Set(1e21) = %v, %v", f, err)
	}

	// NaN and ±Inf are refused before anything is sent.
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		_, err := u.FWindow.IncrByFloat(ctx, bad)
		var oe *nest.OpError
		if !errors.Is(err, nest.ErrEncode) || !errors.As(err, &oe) || oe.Key != u.FWindow.Name() || oe.Op != "INCRBYFLOAT" {
			t.Fatalf("IncrByFloat(%v) = %v; want ErrEncode naming INCRBYFLOAT and the key", bad, err)
		}
		if err := u.FWindow.Set(ctx, bad); !errors.Is(err, nest.ErrEncode) {
			t.Fatalf("Set(%v) = %v; want ErrEncode", bad, err)
		}
	}
	assertAbsent(t, rdb, u.FWindow.Name())

	// Past float64's range: Redis, adding in long double, stores the
	// result; the increment reports ErrOverflow and reads fail to decode.
	must(t, u.Score.Set(ctx, math.MaxFloat64))
	if _, err := u.Score.IncrByFloat(ctx, math.MaxFloat64); !errors.Is(err, nest.ErrOverflow) || !strings.Contains(err.Error(), u.Score.Name()) {
		t.Fatalf("IncrByFloat past MaxFloat64 = %v; want ErrOverflow naming the key", err)
	}
	if _, err := u.Score.Get(ctx); !errors.Is(err, nest.ErrDecode) {
		t.Fatalf("Get of a value past float64 = %v; want ErrDecode", err)
	}

}

// TestCounterFixedWindow: with ttl "fixed", the TTL counts from the
// first write and no write extends it; once it expires, the next write
// starts a new window.
func TestCounterFixedWindow(t *testing.T) {
	ctx := context.Background()
	root, rdb := newCtrRoot(t)
	u := root.User.At(3)
	name := u.Window.Name()
	if _, err := u.Window.Incr(ctx); err != nil {
		t.Fatal(err)
	}
	assertTTLNear(t, rdb, name, time.Minute, 5*time.Second)
	// Pretend most of the window has passed.
	must(t, rdb.PExpire(ctx, name, 20*time.Second).Err())
	writes := map[string]func() error{
		"Incr":   func() error { _, err := u.Window.Incr(ctx); return err },
		"IncrBy": func() error { _, err := u.Window.IncrBy(ctx, 5); return err },
		"Decr":   func() error { _, err := u.Window.Decr(ctx); return err },
		"DecrBy": func() error { _, err := u.Window.DecrBy(ctx, 2); return err },
		"Set":    func() error { return u.Window.Set(ctx, 100) },
		"GetSet": func() error { _, _, err := u.Window.GetSet(ctx, 101); return err },
		"SetNX":  func() error { _, err := u.Window.SetNX(ctx, 1); return err },
		"Update": func() error {
			_, err := u.Window.Update(ctx, func(cur int64, _ bool) (int64, error) { return cur + 1, nil })
			return err
		},
		"queued Set": func() error {
			p := u.Pipeline()
			f := u.Window.In(p).Set(ctx, 7)
			_ = p.Exec(ctx)
			return f.Err()
		},
		"queued Incr": func() error {
			p := u.TxPipeline()
			f := u.Window.In(p).Incr(ctx)
			_ = p.Exec(ctx)
			return f.Err()
		},
	}
	for what, write := range writes {
		if err := write(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if d := pttl(t, rdb, name); d > 20*time.Second || d <= 0 {
			t.Fatalf("%s extended or removed the fixed TTL: PTTL %v", what, d)
		}
	}
	// GetSet and Set on a fixed counter still return and store values.
	must(t, u.Window.Set(ctx, 5))
	if old, ok, err := u.Window.GetSet(ctx, 6); err != nil || !ok || old != 5 {
		t.Fatalf("fixed GetSet = %d, %v, %v", old, ok, err)
	}
	// A Set with an explicit TTL does what it says.
	must(t, u.Window.Set(ctx, 1, nest.WithTTL(time.Hour)))
	assertTTLNear(t, rdb, name, time.Hour, time.Minute)

	// A real window: hits within 700ms count together, then a new window.
	short := u.Short.Name()
	for i := 1; i <= 3; i++ {
		n, err := u.Short.Incr(ctx)
		if err != nil || n != int64(i) {
			t.Fatalf("hit %d = %d, %v", i, n, err)
		}
		if i == 1 {
			time.Sleep(300 * time.Millisecond)
		}
	}
	if d := pttl(t, rdb, short); d > 400*time.Millisecond || d <= 0 {
		t.Fatalf("window TTL extended: PTTL %v after 300ms of a 700ms window", d)
	}
	deadline := time.Now().Add(5 * time.Second)
	for rdb.Exists(ctx, short).Val() == 1 {
		if time.Now().After(deadline) {
			t.Fatal("the window never expired")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n, err := u.Short.Incr(ctx); err != nil || n != 1 {
		t.Fatalf("first hit of the new window = %d, %v; want 1", n, err)
	}
	assertTTLNear(t, rdb, short, 700*time.Millisecond, 300*time.Millisecond)

	// A fixed counter that lost its TTL (PERSIST) gets it back on the next write.
	must(t, rdb.Persist(ctx, short).Err())
	if _, err := u.Short.Incr(ctx); err != nil {
		t.Fatal(err)
	}
	if d := pttl(t, rdb, short); d <= 0 {
		t.Fatalf("fixed counter without TTL after a write: PTTL %v", d)
	}
}

func TestCounterOverflow(t *testing.T) {
	ctx := context.Background()
	root, _ := newCtrRoot(t)
	u := root.User.At(4)
	must(t, u.Logins.Set(ctx, math.MaxInt64-1))
	if n, err := u.Logins.Incr(ctx); err != nil || n != math.MaxInt64 {
		t.Fatalf("Incr to MaxInt64 = %d, %v", n, err)
	}
	for what, op := range map[string]func() (int64, error){
		"Incr":   func() (int64, error) { return u.Logins.Incr(ctx) },
		"IncrBy": func() (int64, error) { return u.Logins.IncrBy(ctx, 10) },
		"DecrBy": func() (int64, error) { return u.Logins.DecrBy(ctx, -1) },
	} {
		_, err := op()
		var oe *nest.OpError
		if !errors.Is(err, nest.ErrOverflow) || !errors.As(err, &oe) || oe.Key != u.Logins.Name() {
			t.Fatalf("%s past MaxInt64 = %v; want ErrOverflow naming the key", what, err)
		}
		if strings.Contains(err.Error(), "script") {
			t.Errorf("%s: the error leaks the script's text: %v", what, err)
		}
	}
	if n, _ := u.Logins.Get(ctx); n != math.MaxInt64 {
		t.Fatalf("after refused increments: %d", n)
	}
	must(t, u.Logins.Set(ctx, 0))
	if _, err := u.Logins.DecrBy(ctx, math.MinInt64); !errors.Is(err, nest.ErrOverflow) {
		t.Fatalf("DecrBy(MinInt64) = %v; want ErrOverflow", err)
	}
	// Queued: the Future carries the same error.
	must(t, u.Logins.Set(ctx, math.MaxInt64))
	p := u.Pipeline()
	f := u.Logins.In(p).Incr(ctx)
	if err := p.Exec(ctx); !errors.Is(err, nest.ErrOverflow) {
		t.Fatalf("Exec = %v", err)
	}
	if _, err := f.Result(); !errors.Is(err, nest.ErrOverflow) {
		t.Fatalf("queued Incr past MaxInt64 = %v", err)
	}
}

func TestCounterWrongType(t *testing.T) {
	ctx := context.Background()
	root, rdb := newCtrRoot(t)
	u := root.User.At(5)
	name := u.Logins.Name()
	must(t, rdb.RPush(ctx, name, "x").Err())
	ops := map[string]func() error{
		"Incr":   func() error { _, err := u.Logins.Incr(ctx); return err },
		"IncrBy": func() error { _, err := u.Logins.IncrBy(ctx, 2); return err },
		"Decr":   func() error { _, err := u.Logins.Decr(ctx); return err },
		"DecrBy": func() error { _, err := u.Logins.DecrBy(ctx, 2); return err },
		"Get":    func() error { _, err := u.Logins.Get(ctx); return err },
		"Lookup": func() error { _, _, err := u.Logins.Lookup(ctx); return err },
		"GetDel": func() error { _, _, err := u.Logins.GetDel(ctx); return err },
		"GetSet": func() error { _, _, err := u.Logins.GetSet(ctx, 1); return err },
		"fixed GetSet": func() error {
			must(t, rdb.RPush(ctx, u.Window.Name(), "x").Err())
			_, _, err := u.Window.GetSet(ctx, 1)
			return err
		},
	}
	for what, op := range ops {
		err := op()
		var wt *nest.WrongTypeError
		if !errors.Is(err, nest.ErrWrongType) || !errors.As(err, &wt) || wt.Found != "list" || wt.Declared != "string" || wt.Kind != "counter" {
			t.Fatalf("%s on a list = %v (%+v); want ErrWrongType, counter, found list", what, err, wt)
		}
	}
	if typ := rdb.Type(ctx, name).Val(); typ != "list" || pttl(t, rdb, name) != -1 {
		t.Fatalf("a failed write changed the key: type %s", typ)
	}
	// Queued: the Future names the declared kind.
	p := u.Pipeline()
	f := u.Logins.In(p).IncrBy(ctx, 1)
	_ = p.Exec(ctx)
	if _, err := f.Result(); !errors.Is(err, nest.ErrWrongType) {
		t.Fatalf("queued IncrBy on a list = %v", err)
	}

	// A string that is not a number.
	must(t, rdb.Set(ctx, u.Total.Name(), "abc", 0).Err())
	if _, err := u.Total.Incr(ctx); !errors.Is(err, nest.ErrDecode) {
		t.Fatalf("Incr of \"abc\" = %v; want ErrDecode", err)
	}
	var de *nest.DecodeError
	if _, err := u.Total.Get(ctx); !errors.As(err, &de) || string(de.Raw) != "abc" {
		t.Fatalf("Get of \"abc\" = %v; want a DecodeError with the raw bytes", err)
	}
	must(t, rdb.Set(ctx, u.Score.Name(), "abc", 0).Err())
	if _, err := u.Score.IncrByFloat(ctx, 1); !errors.Is(err, nest.ErrDecode) {
		t.Fatalf("IncrByFloat of \"abc\" = %v; want ErrDecode", err)
	}
	// INCRBY on a float refuses; the value stays.
	must(t, rdb.Set(ctx, u.Total.Name(), "1.5", 0).Err())
	if _, err := u.Total.Incr(ctx); !errors.Is(err, nest.ErrDecode) {
		t.Fatalf("Incr of \"1.5\" = %v; want ErrDecode", err)
	}
	if v := rdb.Get(ctx, u.Total.Name()).Val(); v != "1.5" {
		t.Fatalf("refused Incr changed the value to %q", v)
	}
}

func TestCounterCancelledContext(t *testing.T) {
	root, rdb := newCtrRoot(t)
	u := root.User.At(6)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ops := map[string]func() error{
		"Incr":        func() error { _, err := u.Logins.Incr(ctx); return err },
		"IncrBy":      func() error { _, err := u.Logins.IncrBy(ctx, 1); return err },
		"Decr":        func() error { _, err := u.Logins.Decr(ctx); return err },
		"DecrBy":      func() error { _, err := u.Logins.DecrBy(ctx, 1); return err },
		"IncrByFloat": func() error { _, err := u.Score.IncrByFloat(ctx, 1); return err },
		"Set":         func() error { return u.Logins.Set(ctx, 1) },
		"fixed Set":   func() error { return u.Window.Set(ctx, 1) },
		"fixed GetSet": func() error {
			_, _, err := u.Window.GetSet(ctx, 1)
			return err
		},
		"Get": func() error { _, err := u.Logins.Get(ctx); return err },
		"Pipeline": func() error {
			p := u.Pipeline()
			u.Logins.In(p).Incr(ctx)
			return p.Exec(ctx)
		},
	}
	for what, op := range ops {
		err := op()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled ctx = %v; want context.Canceled", what, err)
		}
		if err != nil && !strings.Contains(err.Error(), "ctr:user:6") && what != "Pipeline" {
			t.Errorf("%s: error does not name the key: %v", what, err)
		}
	}
	assertAbsent(t, rdb, u.Logins.Name(), u.Window.Name(), u.Score.Name())
}

func TestCounterUnusableHandle(t *testing.T) {
	ctx := context.Background()
	var zero nest.Counter
	if _, err := zero.Incr(ctx); !errors.Is(err, nest.ErrNotBound) {
		t.Fatalf("zero Counter Incr = %v", err)
	}
	var zf nest.FloatCounter
	if _, err := zf.IncrByFloat(ctx, math.NaN()); !errors.Is(err, nest.ErrNotBound) {
		t.Fatalf("zero FloatCounter IncrByFloat = %v", err)
	}
	if err := zero.Set(ctx, 1); !errors.Is(err, nest.ErrNotBound) {
		t.Fatalf("zero Counter Set = %v", err)
	}
	root := nest.MustNew[ctrRoot](offlineClient(t), nil)
	bad := root.User.At("a:b") // ':' is refused in a parameter
	for what, err := range map[string]error{
		"Incr":   func() error { _, err := bad.Logins.Incr(ctx); return err }(),
		"DecrBy": func() error { _, err := bad.Logins.DecrBy(ctx, 1); return err }(),
		"Set":    bad.Window.Set(ctx, 1),
		"GetSet": func() error { _, _, err := bad.Window.GetSet(ctx, 1); return err }(),
		"Float":  func() error { _, err := bad.Score.IncrByFloat(ctx, 1); return err }(),
	} {
		if !errors.Is(err, nest.ErrInvalidParam) {
			t.Errorf("%s on an unusable handle = %v; want ErrInvalidParam (and no Redis contact)", what, err)
		}
	}
}

func TestCounterPipeline(t *testing.T) {
	ctx := context.Background()
	root, rdb := newCtrRoot(t)
	for _, tx := range []bool{false, true} {
		team := root.Team.At(strconv.FormatBool(tx))
		p := team.Pipeline()
		if tx {
			p = team.TxPipeline()
		}
		qa := team.A.In(p)
		get0 := qa.Get(ctx)
		incr := qa.Incr(ctx)
		incrBy := qa.IncrBy(ctx, 10)
		decr := qa.Decr(ctx)
		decrBy := qa.DecrBy(ctx, 3)
		get := qa.Get(ctx)
		setB := team.B.In(p).Set(ctx, 5)
		nxB := team.B.In(p).SetNX(ctx, 6)
		incrB := team.B.In(p).IncrBy(ctx, 2)
		fl := team.F.In(p).IncrByFloat(ctx, 1.5)
		must(t, p.Exec(ctx))
		for what, got := range map[string]int64{
			"Get missing": mustResult(t, get0), "Incr": mustResult(t, incr), "IncrBy": mustResult(t, incrBy),
			"Decr": mustResult(t, decr), "DecrBy": mustResult(t, decrBy), "Get": mustResult(t, get), "B": mustResult(t, incrB),
		} {
			want := map[string]int64{"Get missing": 0, "Incr": 1, "IncrBy": 11, "Decr": 10, "DecrBy": 7, "Get": 7, "B": 7}[what]
			if got != want {
				t.Errorf("tx %v: queued %s = %d, want %d", tx, what, got, want)
			}
		}
		mustResult(t, setB)
		if ok := mustResult(t, nxB); ok {
			t.Errorf("tx %v: queued SetNX on an existing counter stored", tx)
		}
		if f := mustResult(t, fl); f != 1.5 {
			t.Errorf("tx %v: queued IncrByFloat = %v", tx, f)
		}
		assertTTLNear(t, rdb, team.A.Name(), time.Hour, time.Minute)
		assertTTLNear(t, rdb, team.B.Name(), time.Minute, 5*time.Second)
		assertTTLNear(t, rdb, team.F.Name(), time.Hour, time.Minute)
	}

	// NaN fails the pipe when queued: nothing is sent.
	team := root.Team.At("nan")
	p := team.TxPipeline()
	a := team.A.In(p).Incr(ctx)
	f := team.F.In(p).IncrByFloat(ctx, math.NaN())
	if err := p.Exec(ctx); !errors.Is(err, nest.ErrEncode) {
		t.Fatalf("Exec with a queued NaN = %v", err)
	}
	if _, err := f.Result(); !errors.Is(err, nest.ErrEncode) || !strings.Contains(err.Error(), "INCRBYFLOAT "+team.F.Name()) {
		t.Fatalf("queued IncrByFloat(NaN) = %v", err)
	}
	if _, err := a.Result(); err == nil {
		t.Fatal("a Future of a failed pipe has a result")
	}
	assertAbsent(t, rdb, team.A.Name(), team.F.Name())

	// A transaction crossing slots is refused when queued (on Redis Cluster).
	if onCluster {
		p := root.Team.At("x").TxPipeline()
		root.Team.At("x").A.In(p).Incr(ctx)
		f := root.User.At(1).Logins.In(p).Incr(ctx)
		if _, err := f.Result(); !errors.Is(err, redis.ErrCrossSlot) {
			t.Fatalf("cross-slot queued Incr = %v", err)
		}
	}
}

// TestCounterConcurrent: 64 goroutines × 1000 increments lose nothing and
// leave the TTL in place.
func TestCounterConcurrent(t *testing.T) {
	ctx := context.Background()
	root, rdb := newCtrRoot(t)
	u := root.User.At(7)
	const goroutines, each = 64, 1000
	var wg sync.WaitGroup
	var failed atomic.Value
	for range goroutines {
		wg.Go(func() {
			for range each {
				if _, err := u.Logins.Incr(ctx); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	if n, err := u.Logins.Get(ctx); err != nil || n != goroutines*each {
		t.Fatalf("final value %d, %v; want %d", n, err, goroutines*each)
	}
	assertTTLNear(t, rdb, u.Logins.Name(), time.Hour, time.Minute)
}

// TestCounterRoundTrips: a TTL'd write is one round trip (the script is
// sent by SHA once Redis knows it; the very first call also sends EVAL).
func TestCounterRoundTrips(t *testing.T) {
	ctx := context.Background()
	root, rdb := newCtrRoot(t)
	u := root.User.At(8)
	pc := &pipelineCounter{}
	rdb.AddHook(pc)
	if _, err := u.Logins.Incr(ctx); err != nil { // loads the script
		t.Fatal(err)
	}
	if n := pc.calls.Load(); n > 2 {
		t.Fatalf("first Incr: %d round trips", n)
	}
	writes := map[string]func() error{
		"Incr":        func() error { _, err := u.Logins.Incr(ctx); return err },
		"DecrBy":      func() error { _, err := u.Logins.DecrBy(ctx, 3); return err },
		"fixed Incr":  func() error { _, err := u.Window.Incr(ctx); return err },
		"fixed Set":   func() error { return u.Window.Set(ctx, 1) },
		"Set":         func() error { return u.Logins.Set(ctx, 1) },
		"IncrByFloat": func() error { _, err := u.Score.IncrByFloat(ctx, 1); return err },
	}
	for what, w := range writes {
		before := pc.calls.Load()
		if err := w(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n := pc.calls.Load() - before; n != 1 {
			t.Errorf("%s took %d round trips, want 1", what, n)
		}
	}
	for _, name := range []string{u.Logins.Name(), u.Window.Name(), u.Score.Name()} {
		if d := pttl(t, rdb, name); d <= 0 {
			t.Errorf("%s: PTTL %v", name, d)
		}
	}
}

// TestCounterTTLSurvivesKill: writes run from several goroutines against
// a server with appendfsync always, which is killed (SIGKILL) in the
// middle; restarted on the same data, every counter that exists has its
// TTL. The command and the PEXPIRE are one atomic step, so no crash can
// leave an immortal counter.
func TestCounterTTLSurvivesKill(t *testing.T) {
	if onCluster {
		t.Skip("runs on a dedicated standalone server; the standalone pass covers it")
	}
	ctx := context.Background()
	args := []string{"--appendonly", "yes", "--appendfsync", "always", "--dir", t.TempDir()}
	srv := redistest.Start(t, args...)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, DialTimeout: 300 * time.Millisecond, ReadTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	pid := serverPID(t, rdb)
	root := nest.MustNew[ctrRoot](rdb, nil)

	var wg sync.WaitGroup
	var written atomic.Int64
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				u := root.User.At(g*1_000_000 + i) // a new key at each write: creation is when a TTL could be lost
				var err error
				if i%2 == 0 {
					_, err = u.Logins.Incr(ctx)
				} else {
					_, err = u.Window.IncrBy(ctx, 2)
				}
				if err != nil {
					return // the server is gone
				}
				written.Add(1)
			}
		})
	}
	for written.Load() < 500 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	srv2 := redistest.Start(t, args...)
	rdb2 := srv2.Client(t, 0)
	keys, err := rdb2.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 500 {
		t.Fatalf("%d keys after the restart, %d acknowledged writes before the kill", len(keys), written.Load())
	}
	for _, k := range keys {
		if d := rdb2.PTTL(ctx, k).Val(); d <= 0 {
			t.Fatalf("%s survived the crash without a TTL (PTTL %v)", k, d)
		}
	}
	t.Logf("%d counters after the restart, all with their TTL", len(keys))
}

// serverPID returns the process id of the server behind rdb.
func serverPID(t *testing.T, rdb *redis.Client) int {
	t.Helper()
	info, err := rdb.Info(context.Background(), "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "process_id:"); ok {
			pid, err := strconv.Atoi(v)
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
	}
	t.Fatal("INFO server has no process_id")
	return 0
}

func TestCounterSchema(t *testing.T) {
	type withCodec struct {
		nest.Namespace `nest:"x"`
		C              nest.Counter `nest:"c" codec:"json"`
	}
	type withDefault struct {
		nest.Namespace `nest:"x"`
		C              nest.Counter `nest:"c" default:"5"`
	}
	type floatDefault struct {
		nest.Namespace `nest:"x"`
		C              nest.FloatCounter `nest:"c" default:"0.5"`
	}
	type badDefault struct {
		nest.Namespace `nest:"x"`
		C              nest.Counter `nest:"c" default:"many"`
	}
	type withParams struct {
		nest.Namespace `nest:"x"`
		C              nest.Counter `nest:"c:{id}"`
	}
	rdb := offlineClient(t)
	for what, err := range map[string]error{
		"codec":         tryNew[withCodec](rdb, nil),
		"default 5":     tryNew[withDefault](rdb, nil),
		"default 0.5":   tryNew[floatDefault](rdb, nil),
		"default many":  tryNew[badDefault](rdb, nil),
		"name template": tryNew[withParams](rdb, nil),
	} {
		if !errors.Is(err, nest.ErrSchema) {
			t.Errorf("%s: New = %v; want ErrSchema", what, err)
		}
	}
	root := nest.MustNew[ctrRoot](rdb, nil)
	d := root.User.At(1).Window.Describe()
	if d.Kind != "counter" || d.RedisType != "string" || d.Type != "int64" || d.TTL == nil || !d.TTL.Fixed || d.Name != "ctr:user:1:window" {
		t.Fatalf("Describe = %+v", d)
	}
	if d := root.User.At(1).Score.Describe(); d.Kind != "counter" || d.Type != "float64" {
		t.Fatalf("Describe float = %+v", d)
	}
}
