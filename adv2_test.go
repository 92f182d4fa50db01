package nest_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// Adversarial tests of the collection kinds and schema-aware subtrees
// (second round). Each names the rule of issues 8 and 12 it checks.

type adv2Root struct {
	nest.Namespace `nest:"a2"`
	User           nest.Sub[adv2User]
	Plain          adv2Plain
}

type adv2Plain struct {
	nest.Namespace `nest:"plain" ttl:"1h"`
	N              nest.Counter           `nest:"n"`
	Sa             nest.Set[string]       `nest:"sa"`
	Sb             nest.Set[string]       `nest:"sb"`
	La             nest.List[string]      `nest:"la"`
	Lb             nest.List[string]      `nest:"lb"`
	Za             nest.SortedSet[string] `nest:"za"`
	Zb             nest.SortedSet[string] `nest:"zb"`
}

type adv2User struct {
	nest.Namespace `nest:"user:{id}" ttl:"1h" slot:"pin"`
	Tags           nest.Set[string]       `nest:"tags"`
	Queue          nest.List[string]      `nest:"queue"`
	Other          nest.List[string]      `nest:"other"`
	Board          nest.SortedSet[string] `nest:"board"`
	Prefs          nest.Hash[string]      `nest:"prefs"`
	Hits           nest.Counter           `nest:"hits"`
	SlideH         nest.Hash[string]      `nest:"slideh" ttl:"1m,sliding"`
	SlideS         nest.Set[string]       `nest:"slides" ttl:"1m,sliding"`
	SlideL         nest.List[string]      `nest:"slidel" ttl:"1m,sliding"`
	SlideZ         nest.SortedSet[string] `nest:"slidez" ttl:"1m,sliding"`
	SlideC         nest.Counter           `nest:"slidec" ttl:"1m,sliding"`
	Mutex          nest.Lock              `nest:"mutex" ttl:"2s"`
	Win            nest.Counter           `nest:"win" ttl:"3s,fixed"`
	WinH           nest.Hash[int]         `nest:"winh" ttl:"3s,fixed"`
}

func newAdv2(t *testing.T) (*adv2Root, redis.UniversalClient) {
	t.Helper()
	rdb := newRedis(t)
	root, err := nest.New[adv2Root](rdb, nil)
	if err != nil {
		t.Fatalf("nest.New: %v", err)
	}
	return root, rdb
}

// Issue 8, wrong type: "changes nothing". A read of a sliding-TTL
// collection on a key holding another type must not touch that key's TTL.
func TestAdv2SlidingReadWrongTypeChangesNothing(t *testing.T) {
	root, rdb := newAdv2(t)
	ctx := context.Background()
	u := root.User.At("1")
	reads := map[string]func() (string, error){
		"HGETALL":  func() (string, error) { _, err := u.SlideH.GetAll(ctx); return u.SlideH.Name(), err },
		"HLEN":     func() (string, error) { _, err := u.SlideH.Len(ctx); return u.SlideH.Name(), err },
		"SMEMBERS": func() (string, error) { _, err := u.SlideS.Members(ctx); return u.SlideS.Name(), err },
		"LRANGE":   func() (string, error) { _, err := u.SlideL.Range(ctx, 0, -1); return u.SlideL.Name(), err },
		"ZCARD":    func() (string, error) { _, err := u.SlideZ.Len(ctx); return u.SlideZ.Name(), err },
	}
	for op, read := range reads {
		t.Run(op, func(t *testing.T) {
			name, _ := read() // learn the name
			if err := rdb.Set(ctx, name, "foreign", 0).Err(); err != nil {
				t.Fatal(err)
			}
			_, err := read()
			var wt *nest.WrongTypeError
			if !errors.As(err, &wt) {
				t.Fatalf("%s on a string: %v; want a *WrongTypeError", op, err)
			}
			if ttl := rdb.PTTL(ctx, name).Val(); ttl != -1 {
				t.Errorf("%s on a foreign string key: its TTL became %v; a refused read must change nothing (it was -1, no expiry)", op, ttl)
			}
		})
	}
}

// Issue 8: 100 000 items in one call go in chunks through the script; the
// result equals one command's and the TTL is applied.
func TestAdv2HugeWritesChunked(t *testing.T) {
	root, rdb := newAdv2(t)
	ctx := context.Background()
	u := root.User.At("big")
	const n = 100_000
	xs := make([]string, n)
	zs := make([]nest.Z[string], n)
	m := make(map[string]string, n)
	for i := range xs {
		xs[i] = strconv.Itoa(i)
		zs[i] = nest.Z[string]{Member: xs[i], Score: float64(i)}
		m[xs[i]] = xs[i]
	}
	if got, err := u.Queue.LPush(ctx, xs...); err != nil || got != n {
		t.Fatalf("LPush = %d, %v", got, err)
	}
	if got, err := u.Other.RPush(ctx, xs...); err != nil || got != n {
		t.Fatalf("RPush = %d, %v", got, err)
	}
	want := rdb.Pipeline()
	for _, x := range xs {
		want.LPush(ctx, "a2:ref:l", x)
	}
	if _, err := want.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	gotL := rdb.LRange(ctx, u.Queue.Name(), 0, -1).Val()
	refL := rdb.LRange(ctx, "a2:ref:l", 0, -1).Val()
	for i := range refL {
		if gotL[i] != refL[i] {
			t.Fatalf("LPush of %d items: index %d = %q; one LPUSH gives %q", n, i, gotL[i], refL[i])
		}
	}
	gotR := rdb.LRange(ctx, u.Other.Name(), 0, -1).Val()
	for i := range xs {
		if gotR[i] != xs[i] {
			t.Fatalf("RPush of %d items: index %d = %q; want %q", n, i, gotR[i], xs[i])
		}
	}
	if got, err := u.Tags.Add(ctx, append(xs, xs[:10]...)...); err != nil || got != n {
		t.Fatalf("Set.Add = %d, %v; want %d", got, err, n)
	}
	if got, err := u.Board.Add(ctx, zs...); err != nil || got != n {
		t.Fatalf("SortedSet.Add = %d, %v; want %d", got, err, n)
	}
	if got, err := u.Prefs.MSet(ctx, m); err != nil || got != n {
		t.Fatalf("Hash.MSet = %d, %v; want %d", got, err, n)
	}
	for _, name := range []string{u.Queue.Name(), u.Other.Name(), u.Tags.Name(), u.Board.Name(), u.Prefs.Name()} {
		if ttl := rdb.PTTL(ctx, name).Val(); ttl <= 0 || ttl > time.Hour {
			t.Errorf("%s after a huge write: PTTL %v", name, ttl)
		}
	}
	if l := rdb.ZCard(ctx, u.Board.Name()).Val(); l != n {
		t.Errorf("ZCARD %d", l)
	}
}

// Issue 12: exact subtrees and instances among hostile stored names.
func TestAdv2SubtreeHostileNames(t *testing.T) {
	root, rdb := newAdv2(t)
	ctx := context.Background()
	u1 := root.User.At("1")
	if _, err := u1.Hits.Incr(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := u1.Tags.Add(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := root.User.At("12").Hits.Incr(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := root.User.At("1x").Hits.Incr(ctx); err != nil {
		t.Fatal(err)
	}
	foreign := []string{
		"a2:{user:1}x", "a2:{user:1}:unknown", "a2:{user:1}:hits:x", "a2:{user:1}:h*ts", "a2:{user:1}:hit?",
		"a2:{user:[1]}:hits", "a2:{user:*}:hits", "a2:{user:?}:hits", "a2:{user:}:hits", "a2:{user:abc:def}:hits",
		"a2:{user:{1}}:hits", "a2:{user:1}}:hits", "a2:user:1:hits", "a2:{user:1\\}:hits", "a2:{user:1 }:hits",
		"a2:{user:\xff}:hits", "a2:{user:1}:", "a2:{user:1}::hits", "a2:{user:a:b}", "a2:{user:a}b:hits",
	}
	for _, f := range foreign {
		if err := rdb.Set(ctx, f, "foreign", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := u1.Count(ctx); err != nil || n != 2 {
		t.Errorf("Count of user 1 = %d, %v; want 2", n, err)
	}
	var got []string
	for k, err := range u1.Keys(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, k)
	}
	if len(got) != 2 {
		t.Errorf("Keys of user 1 = %q", got)
	}
	inst := map[string]int{}
	for u, err := range root.User.Instances(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		inst[u.Params()["id"]]++
	}
	if len(inst) != 3 || inst["1"] != 1 || inst["12"] != 1 || inst["1x"] != 1 {
		t.Errorf("Instances = %v; want 1, 12, 1x once each", inst)
	}
	if n, err := root.Count(ctx); err != nil || n != 4 {
		t.Errorf("root Count = %d, %v; want 4", n, err)
	}
	if n, err := u1.Clear(ctx); err != nil || n != 2 {
		t.Errorf("Clear of user 1 = %d, %v; want 2", n, err)
	}
	for _, f := range foreign {
		if rdb.Exists(ctx, f).Val() != 1 {
			t.Errorf("foreign %q did not survive Clear of user 1", f)
		}
	}
	if n, err := root.Clear(ctx); err != nil || n != 2 {
		t.Errorf("root Clear = %d, %v; want 2", n, err)
	}
	for _, f := range foreign {
		if rdb.Exists(ctx, f).Val() != 1 {
			t.Errorf("foreign %q did not survive root Clear", f)
		}
	}
}

// Issue 8, Lock: a holder whose lease ran out cannot release or refresh
// the lock another client obtained since; the lock key of another type
// is a wrong-type error, not "not obtained".
func TestAdv2LockLeaseExpiryRace(t *testing.T) {
	root, rdb := newAdv2(t)
	ctx := context.Background()
	lk := root.User.At("7").Mutex
	a, err := lk.Obtain(ctx, nest.WithLease(30*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	b, err := lk.Obtain(ctx)
	if err != nil {
		t.Fatalf("Obtain after the lease ran out: %v", err)
	}
	if err := a.Refresh(ctx, 0); !errors.Is(err, nest.ErrLockNotHeld) {
		t.Errorf("stale Refresh: %v; want ErrLockNotHeld", err)
	}
	if err := a.Release(ctx); !errors.Is(err, nest.ErrLockNotHeld) {
		t.Errorf("stale Release: %v; want ErrLockNotHeld", err)
	}
	if _, err := a.TTL(ctx); !errors.Is(err, nest.ErrLockNotHeld) {
		t.Errorf("stale TTL: %v; want ErrLockNotHeld", err)
	}
	if d, err := b.TTL(ctx); err != nil || d <= 0 {
		t.Errorf("holder's TTL = %v, %v", d, err)
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, lk.Name(), "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	_, err = lk.Obtain(ctx)
	var wt *nest.WrongTypeError
	if !errors.As(err, &wt) || !errors.Is(err, nest.ErrWrongType) {
		t.Errorf("Obtain on a hash key: %v (%T); want a *WrongTypeError", err, err)
	} else if !strings.Contains(err.Error(), "hash") || !strings.Contains(err.Error(), lk.Name()) {
		t.Errorf("Obtain on a hash key: %v; want the key and the type found named", err)
	}
	if rdb.PTTL(ctx, lk.Name()).Val() != -1 {
		t.Errorf("refused Obtain changed the foreign key's TTL")
	}
}

// Issue 8, blocking pops: pops cancelled at random while pushes race lose
// and duplicate no element.
func TestAdv2BlockingPopCancelNoLoss(t *testing.T) {
	root, rdb := newAdv2(t)
	ctx := context.Background()
	q := root.User.At("q").Queue
	const pushers, per, poppers = 4, 250, 8
	var mu sync.Mutex
	got := map[string]int{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := range poppers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-done:
					return
				default:
				}
				cctx, cancel := context.WithTimeout(ctx, time.Duration(1+(i*7+k)%20)*time.Millisecond)
				var x string
				var err error
				if k%2 == 0 {
					x, err = q.BLPop(cctx, 0)
				} else {
					x, err = q.BRPop(cctx, 0)
				}
				cancel()
				if err == nil {
					mu.Lock()
					got[x]++
					mu.Unlock()
				} else if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("pop: %v", err)
					return
				}
			}
		}()
	}
	var pw sync.WaitGroup
	for p := range pushers {
		pw.Add(1)
		go func() {
			defer pw.Done()
			for i := range per {
				if _, err := q.RPush(ctx, fmt.Sprintf("%d-%d", p, i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	pw.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.LLen(ctx, q.Name()).Val() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	close(done)
	wg.Wait()
	left := rdb.LRange(ctx, q.Name(), 0, -1).Val()
	for _, x := range left {
		got[x]++
	}
	for p := range pushers {
		for i := range per {
			if n := got[fmt.Sprintf("%d-%d", p, i)]; n != 1 {
				t.Errorf("element %d-%d seen %d times", p, i, n)
			}
		}
	}
	if len(got) != pushers*per {
		t.Errorf("%d distinct elements; want %d", len(got), pushers*per)
	}
}

// Issue 8, pipelines: one op failing to queue fails the pipe and nothing
// is sent, raw commands queued through Pipeliner included.
func TestAdv2PipeOneFailingOpSendsNothing(t *testing.T) {
	root, rdb := newAdv2(t)
	ctx := context.Background()
	u := root.User.At("p")
	p := root.Pipeline()
	u.Hits.In(p).Incr(ctx)
	u.Tags.In(p).Add(ctx, "a")
	p.Pipeliner().Set(ctx, "a2:raw", "x", 0)
	u.Board.In(p).Add(ctx, nest.Z[string]{Member: "m", Score: math.NaN()})
	u.Queue.In(p).RPush(ctx, "z")
	if err := p.Exec(ctx); err == nil {
		t.Fatal("Exec of a pipe with a NaN score succeeded")
	}
	if n := rdb.DBSize(ctx).Val(); n != 0 && !onCluster {
		t.Errorf("a failed pipe wrote %d keys: %v", n, rdb.Keys(ctx, "*").Val())
	}
	for _, k := range []string{u.Hits.Name(), u.Tags.Name(), u.Queue.Name(), "a2:raw"} {
		if rdb.Exists(ctx, k).Val() != 0 {
			t.Errorf("%s written by a failed pipe", k)
		}
	}
}

// Issue 8, blocking pops: a client with a short ReadTimeout. Redis ends a
// blocked command on its hz tick (up to 100ms after its timeout), so a
// slice of half the read timeout can outlast it: go-redis then drops the
// connection, and a pop the server made meanwhile is lost.
func TestAdv2BlockingPopShortReadTimeout(t *testing.T) {
	srv, _ := newFragileServer(t)
	for _, rt := range []time.Duration{120 * time.Millisecond, 180 * time.Millisecond} {
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), ReadTimeout: rt, MaxRetries: -1})
		t.Cleanup(func() { _ = rdb.Close() })
		root, err := nest.New[adv2Root](rdb, nil)
		if err != nil {
			t.Fatal(err)
		}
		u := root.User.At("rt")
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		_, err = u.Queue.BLPop(ctx, 0)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("ReadTimeout %v: BLPop on an empty list: %v; want the ctx's deadline", rt, err)
		}
		ctx, cancel = context.WithTimeout(context.Background(), 1500*time.Millisecond)
		_, err = u.Board.BPopMin(ctx, 0)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("ReadTimeout %v: BPopMin on an empty set: %v; want the ctx's deadline", rt, err)
		}
	}
}

// adv2FloatUser holds the float-valued kinds, whose replies differ most
// between RESP2 (strings) and RESP3 (doubles).
type adv2FloatRoot struct {
	nest.Namespace `nest:"f2"`
	User           nest.Sub[adv2FloatUser]
}

type adv2FloatUser struct {
	nest.Namespace `nest:"user:{id}" ttl:"1h" slot:"pin"`
	Board          nest.SortedSet[string] `nest:"board"`
	SBoard         nest.SortedSet[string] `nest:"sboard" ttl:"1m,sliding"`
	Price          nest.Hash[float64]     `nest:"price"`
	Total          nest.FloatCounter      `nest:"total"`
	STotal         nest.FloatCounter      `nest:"stotal" ttl:"1m,sliding"`
	Q              nest.List[float64]     `nest:"q"`
}

// Issue 8, reply readers: every read and write of the float kinds gives
// the same result over RESP2 as over RESP3, direct and queued.
func TestAdv2RESP2MatchesRESP3(t *testing.T) {
	srv := redistest.Start(t)
	results := map[int][]string{}
	for _, proto := range []int{3, 2} {
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: proto, DB: proto})
		t.Cleanup(func() { _ = rdb.Close() })
		root, err := nest.New[adv2FloatRoot](rdb, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		u := root.User.At("1")
		var out []string
		rec := func(what string, v any, err error) {
			out = append(out, fmt.Sprintf("%s: %v | %v", what, v, err))
		}
		for _, z := range []nest.SortedSet[string]{u.Board, u.SBoard} {
			n, err := z.Add(ctx, nest.Z[string]{Member: "a", Score: 1.5}, nest.Z[string]{Member: "b", Score: -0.25}, nest.Z[string]{Member: "c", Score: math.Inf(1)})
			rec("ZAdd", n, err)
			f, err := z.IncrBy(ctx, "a", 0.1)
			rec("ZIncrBy", f, err)
			f, err = z.Score(ctx, "c")
			rec("ZScore", f, err)
			fs, err := z.MScore(ctx, "a", "c", "zz")
			rec("ZMScore", fs, err)
			zs, err := z.RangeByRankWithScores(ctx, nest.RankRange{Start: 0, Stop: -1})
			rec("ZRangeWithScores", zs, err)
			zs, err = z.RangeByScoreWithScores(ctx, nest.ScoreRange{Min: math.Inf(-1), Max: math.Inf(1)})
			rec("ZRangeByScoreWithScores", zs, err)
			zs, err = z.PopMin(ctx, 1)
			rec("ZPopMin", zs, err)
			zz, err := z.BPopMax(ctx, time.Second)
			rec("BZPopMax", zz, err)
			r, err := z.Rank(ctx, "a")
			rec("ZRank", r, err)
			for zz, err := range z.All(ctx) {
				rec("ZScan", zz, err)
			}
			p := root.Pipeline()
			f1 := z.In(p).IncrBy(ctx, "a", 1)
			f2 := z.In(p).Score(ctx, "a")
			rec("pipe", p.Exec(ctx), nil)
			v1, e1 := f1.Result()
			rec("queued ZIncrBy", v1, e1)
			v2, e2 := f2.Result()
			rec("queued ZScore", v2, e2)
		}
		b, err := u.Price.Set(ctx, "x", 0.1)
		rec("HSet", b, err)
		f, err := u.Price.IncrBy(ctx, "x", 0.2)
		rec("HIncrByFloat", f, err)
		f, err = u.Price.Get(ctx, "x")
		rec("HGet", f, err)
		for _, c := range []nest.FloatCounter{u.Total, u.STotal} {
			f, err = c.IncrByFloat(ctx, 0.1)
			rec("IncrByFloat", f, err)
			f, err = c.IncrByFloat(ctx, 1e300)
			rec("IncrByFloat big", f, err)
			f, err = c.Get(ctx)
			rec("Get", f, err)
			p := root.Pipeline()
			f1 := c.In(p).IncrByFloat(ctx, -1e300)
			f2 := c.In(p).Get(ctx)
			rec("pipe", p.Exec(ctx), nil)
			v1, e1 := f1.Result()
			rec("queued IncrByFloat", v1, e1)
			v2, e2 := f2.Result()
			rec("queued Get", v2, e2)
		}
		n, err := u.Q.RPush(ctx, 0.5, math.MaxFloat64, math.Copysign(0, -1))
		rec("RPush", n, err)
		fs, err := u.Q.Range(ctx, 0, -1)
		rec("LRange", fs, err)
		results[proto] = out
	}
	for i := range results[3] {
		if i >= len(results[2]) || results[3][i] != results[2][i] {
			t.Errorf("RESP3 %q\n      RESP2 %q", results[3][i], results[2][i])
		}
	}
}

// Issue 8, Cluster: multi-key operations on keys of different slots are
// refused, direct and queued, and change nothing; never split.
func TestAdv2CrossSlotRefused(t *testing.T) {
	if !onCluster {
		t.Skip("cluster backend only")
	}
	root, rdb := newAdv2(t)
	ctx := context.Background()
	pl := root.Plain
	for _, pair := range [][2]string{{pl.Sa.Name(), pl.Sb.Name()}, {pl.La.Name(), pl.Lb.Name()}, {pl.Za.Name(), pl.Zb.Name()}} {
		if a, b := rdb.ClusterKeySlot(ctx, pair[0]).Val(), rdb.ClusterKeySlot(ctx, pair[1]).Val(); a == b {
			t.Fatalf("%s and %s share slot %d; pick other names", pair[0], pair[1], a)
		}
	}
	_, err := pl.Sa.Add(ctx, "x")
	must(t, err)
	_, err = pl.Sb.Add(ctx, "y")
	must(t, err)
	_, err = pl.La.RPush(ctx, "x")
	must(t, err)
	_, err = pl.Lb.RPush(ctx, "y")
	must(t, err)
	_, err = pl.Za.Add(ctx, nest.Z[string]{Member: "x", Score: 1})
	must(t, err)
	_, err = pl.Zb.Add(ctx, nest.Z[string]{Member: "y", Score: 2})
	must(t, err)
	snap := func() map[string]string {
		m := map[string]string{}
		for _, k := range []string{pl.Sa.Name(), pl.Sb.Name(), pl.La.Name(), pl.Lb.Name(), pl.Za.Name(), pl.Zb.Name()} {
			d, _ := rdb.Dump(ctx, k).Result()
			m[k] = d
		}
		return m
	}
	before := snap()
	cross := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, redis.ErrCrossSlot) {
			t.Errorf("%s across slots: %v; want an error matching redis.ErrCrossSlot", what, err)
		}
	}
	_, err = pl.Sa.Union(ctx, pl.Sb)
	cross("SUNION", err)
	_, err = pl.Sa.UnionStore(ctx, pl.Sb, pl.Sa)
	cross("SUNIONSTORE", err)
	_, err = pl.Sa.Move(ctx, pl.Sb, "x")
	cross("SMOVE", err)
	_, err = pl.La.Move(ctx, pl.Lb, nest.Left, nest.Right)
	cross("LMOVE", err)
	_, err = pl.La.BLMove(ctx, pl.Lb, nest.Left, nest.Right, 10*time.Millisecond)
	cross("BLMOVE", err)
	_, err = pl.Za.UnionStore(ctx, nest.StoreOptions{}, pl.Za, pl.Zb)
	cross("ZUNIONSTORE", err)
	_, err = pl.Za.InterStore(ctx, nest.StoreOptions{}, pl.Zb)
	cross("ZINTERSTORE", err)
	err = root.Watch(ctx, func(tx *nest.Tx) error { return nil }, pl.Sa, pl.Sb)
	cross("WATCH", err)
	p := root.Pipeline()
	f1 := pl.Sa.In(p).Union(ctx, pl.Sb)
	pl.Sa.In(p).Add(ctx, "z")
	cross("queued SUNION", p.Exec(ctx))
	_, err = f1.Result()
	cross("queued SUNION future", err)
	p = root.Pipeline()
	pl.La.In(p).Move(ctx, pl.Lb, nest.Left, nest.Right)
	cross("queued LMOVE", p.Exec(ctx))
	p = root.Pipeline()
	pl.Za.In(p).UnionStore(ctx, nest.StoreOptions{}, pl.Zb)
	cross("queued ZUNIONSTORE", p.Exec(ctx))
	p = root.Pipeline()
	pl.Sa.In(p).Move(ctx, pl.Sb, "x")
	cross("queued SMOVE", p.Exec(ctx))
	p = root.TxPipeline()
	pl.Sa.In(p).Add(ctx, "q")
	pl.Sb.In(p).Add(ctx, "q")
	cross("TxPipeline over two slots", p.Exec(ctx))
	after := snap()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed by refused cross-slot operations", k)
		}
	}
}

// Issue 12 under load: 64 goroutines write every kind into their own
// instances and Clear them, while Count and Instances of a stable user
// stay exact and the stable user's keys all survive.
func TestAdv2ConcurrentMixCountExact(t *testing.T) {
	root, rdb := newAdv2(t)
	ctx := context.Background()
	stable := root.User.At("stable")
	_, err := stable.Tags.Add(ctx, "a")
	must(t, err)
	_, err = stable.Hits.Incr(ctx)
	must(t, err)
	_, err = stable.Board.Add(ctx, nest.Z[string]{Member: "m", Score: 1})
	must(t, err)
	_, err = stable.Prefs.Set(ctx, "k", "v")
	must(t, err)
	_, err = stable.Queue.RPush(ctx, "q")
	must(t, err)
	const workers, rounds = 64, 8
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				u := root.User.At(fmt.Sprintf("w%d-%d", w, r%3))
				for i := range 20 {
					x := strconv.Itoa(i)
					u.Tags.Add(ctx, x)
					u.Hits.Incr(ctx)
					u.Board.IncrBy(ctx, x, 1)
					u.Prefs.Set(ctx, x, x)
					u.Queue.LPush(ctx, x)
					// shared keys of the stable user, read only
					stable.Tags.IsMember(ctx, "a")
				}
				p := root.Pipeline()
				u.Hits.In(p).Incr(ctx)
				u.Tags.In(p).Add(ctx, "p")
				u.Queue.In(p).RPush(ctx, "p")
				if err := p.Exec(ctx); err != nil {
					t.Error(err)
					return
				}
				if r%2 == 1 {
					if _, err := u.Clear(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	var checks int
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			n, err := stable.Count(ctx)
			if err != nil || n != 5 {
				t.Errorf("Count of the stable user under load = %d, %v; want 5", n, err)
				return
			}
			found := false
			for u, err := range root.User.Instances(ctx) {
				if err != nil {
					t.Errorf("Instances: %v", err)
					return
				}
				if u.Params()["id"] == "stable" {
					found = true
				}
			}
			if !found {
				t.Errorf("Instances under load missed the stable user")
				return
			}
			checks++
		}
	}()
	wg.Wait()
	close(stop)
	<-done
	t.Logf("%d Count/Instances checks under load", checks)
	for _, k := range []string{stable.Tags.Name(), stable.Hits.Name(), stable.Board.Name(), stable.Prefs.Name(), stable.Queue.Name()} {
		if rdb.Exists(ctx, k).Val() != 1 {
			t.Errorf("%s lost", k)
		}
	}
	if onCluster {
		return
	}
	// every key written has its TTL
	var cursor uint64
	for {
		ks, next, err := rdb.Scan(ctx, cursor, "a2:*", 1000).Result()
		must(t, err)
		for _, k := range ks {
			if d := rdb.PTTL(ctx, k).Val(); d < 0 && d != -2 {
				t.Errorf("%s has no TTL (%v)", k, d)
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
}

// Issue 8, fixed windows: under 64 concurrent writers the TTL counts from
// the first write and is never extended; the count is exact.
func TestAdv2FixedWindowConcurrent(t *testing.T) {
	root, rdb := newAdv2(t)
	ctx := context.Background()
	u := root.User.At("win")
	_, err := u.Win.Incr(ctx)
	must(t, err)
	_, err = u.WinH.IncrBy(ctx, "n", 1)
	must(t, err)
	first := time.Now()
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				var err error
				switch i % 4 {
				case 0, 1:
					_, err = u.Win.Incr(ctx)
				case 2:
					_, err = u.WinH.IncrBy(ctx, "n", 1)
				default:
					p := root.Pipeline()
					u.Win.In(p).Incr(ctx)
					u.WinH.In(p).Set(ctx, "x", i)
					err = p.Exec(ctx)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(first)
	for _, k := range []string{u.Win.Name(), u.WinH.Name()} {
		if d := rdb.PTTL(ctx, k).Val(); d <= 0 || d > 3*time.Second-el+50*time.Millisecond {
			t.Errorf("%s: PTTL %v after %v of writes; a fixed 3s window must not be extended", k, d, el)
		}
	}
	if n, err := u.Win.Get(ctx); err != nil || n != 1+64*15 {
		t.Errorf("Win = %d, %v; want %d", n, err, 1+64*15)
	}
}

// Issue 8, Watch: reads in the transaction renew no sliding TTL, EXEC
// renews it; a conflict retries.
func TestAdv2WatchSliding(t *testing.T) {
	root, rdb := newAdv2(t)
	ctx := context.Background()
	u := root.User.At("w")
	_, err := u.SlideH.Set(ctx, "n", "0")
	must(t, err)
	must(t, rdb.PExpire(ctx, u.SlideH.Name(), 5*time.Second).Err())
	attempts := 0
	err = root.Watch(ctx, func(tx *nest.Tx) error {
		attempts++
		r := tx.Reads()
		f := u.SlideH.In(r).Get(ctx, "n")
		if err := r.Exec(ctx); err != nil {
			return err
		}
		if d := rdb.PTTL(ctx, u.SlideH.Name()).Val(); d > 5*time.Second {
			t.Errorf("a read inside Watch renewed the TTL to %v", d)
		}
		v, err := f.Result()
		if err != nil {
			return err
		}
		if attempts == 1 { // a concurrent writer: the transaction must retry
			must(t, rdb.HSet(ctx, u.SlideH.Name(), "n", "9").Err())
		}
		u.SlideH.In(tx.Writes()).Set(ctx, "n", v+"1")
		return nil
	}, u.SlideH)
	must(t, err)
	if attempts != 2 {
		t.Errorf("%d attempts; want 2 (one conflict)", attempts)
	}
	if v, _ := rdb.HGet(ctx, u.SlideH.Name(), "n").Result(); v != "91" {
		t.Errorf("n = %q; want 91", v)
	}
	if d := rdb.PTTL(ctx, u.SlideH.Name()).Val(); d < 55*time.Second {
		t.Errorf("PTTL after the transaction %v; want the sliding TTL renewed (1m)", d)
	}
}

// Issue 8, blocking pops honour ctx promptly: not while the server holds
// the slice in flight, as under CLIENT PAUSE WRITE (a failover step). The
// pop waits the pause out (2s here) with a 200ms ctx; it loses nothing
// (the element pushed meanwhile is returned) but ignores the deadline.
func TestAdv2BlockingPopDuringClientPause(t *testing.T) {
	t.Skip("KNOWN: a blocking pop's slice is sent on a context without cancel, so a server that holds it (CLIENT PAUSE WRITE, a stalled server) keeps BLPop past ctx's deadline until the pause ends or ReadTimeout drops the connection; documented promptness (~150ms) does not hold then")
	srv, _ := newFragileServer(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = rdb.Close(); _ = admin.Close() })
	root, err := nest.New[adv2Root](rdb, nil)
	must(t, err)
	ctx := context.Background()
	q := root.User.At("p").Queue
	go func() {
		time.Sleep(30 * time.Millisecond)
		admin.Do(ctx, "CLIENT", "PAUSE", "2000", "WRITE")
	}()
	time.Sleep(100 * time.Millisecond)
	c, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = q.BLPop(c, 0)
	if el := time.Since(start); el > time.Second {
		t.Errorf("BLPop with a 200ms ctx during a 2s CLIENT PAUSE returned after %v (%v)", el, err)
	}
}
