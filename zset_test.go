package nest_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
)

// zRoot declares the sorted sets of these tests: a board with TTL modes
// and codecs, a pinned team for multi-key commands, and a set outside
// both (another slot on Redis Cluster).
type zRoot struct {
	nest.Namespace `nest:"z"`
	Board          nest.Sub[zBoard]
	Team           nest.Sub[zTeam]
	Other          nest.SortedSet[string] `nest:"other"`
}

type zBoard struct {
	nest.Namespace `nest:"board:{id}" ttl:"1h"`
	Scores         nest.SortedSet[string] `nest:"scores"`
	Nums           nest.SortedSet[int]    `nest:"nums"`
	Fixed          nest.SortedSet[string] `nest:"fixed" ttl:"1m,fixed"`
	Slide          nest.SortedSet[string] `nest:"slide" ttl:"1m,sliding"`
	Forever        nest.SortedSet[string] `nest:"forever" ttl:"none"`
}

type zPoint struct {
	X, Y int
}

type zTeam struct {
	nest.Namespace `nest:"team:{id}" slot:"pin" ttl:"1h"`
	A              nest.SortedSet[string] `nest:"a"`
	B              nest.SortedSet[string] `nest:"b"`
	Dst            nest.SortedSet[string] `nest:"dst" ttl:"10m"`
	Points         nest.SortedSet[zPoint] `nest:"points"`
	Packed         nest.SortedSet[zPoint] `nest:"packed" codec:"msgpack"`
	From           nest.Key[int]          `nest:"from" default:"0"`
	To             nest.Key[int]          `nest:"to" default:"0"`
	Seen           nest.Key[int]          `nest:"seen" default:"0" ttl:"1m,sliding"`
}

func newZRoot(t testing.TB, opts *nest.Options) (*zRoot, redis.UniversalClient) {
	t.Helper()
	rdb := newRedis(t)
	root, err := nest.New[zRoot](rdb, opts)
	if err != nil {
		t.Fatalf("nest.New: %v", err)
	}
	return root, rdb
}

func zs(pairs ...any) []nest.Z[string] {
	out := make([]nest.Z[string], 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, nest.Z[string]{Member: pairs[i].(string), Score: float64(pairs[i+1].(int))})
	}
	return out
}

func assertTTLAbout(t *testing.T, rdb redis.UniversalClient, name string, want time.Duration) {
	t.Helper()
	got := rdb.PTTL(context.Background(), name).Val()
	if got > want || got < want-5*time.Second {
		t.Fatalf("PTTL %s = %v; want about %v", name, got, want)
	}
}

func TestZSetAddScoreRank(t *testing.T) {
	ctx := context.Background()
	root, rdb := newZRoot(t, nil)
	b := root.Board.At(1)
	s := b.Scores
	n, err := s.Add(ctx, zs("ada", 10, "bob", 20, "cy", 30, "ada", 15)...)
	if err != nil || n != 3 {
		t.Fatalf("Add = %d, %v; want 3", n, err)
	}
	assertTTLAbout(t, rdb, s.Name(), time.Hour)
	if d := s.Describe(); d.Kind != "sortedset" || d.RedisType != "zset" || d.Type != "string" {
		t.Fatalf("Describe = %+v", d)
	}
	if f, err := s.Score(ctx, "ada"); err != nil || f != 15 {
		t.Fatalf("Score(ada) = %v, %v; want 15 (the last pair of one ZADD wins)", f, err)
	}
	if _, err := s.Score(ctx, "zed"); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("Score of a non-member = %v; want ErrNotFound", err)
	}
	// Flags.
	cases := []struct {
		opts  nest.AddOption
		z     []nest.Z[string]
		want  int64
		score float64 // ada's score after
	}{
		{nest.AddNX, zs("ada", 1, "dan", 40), 1, 15},
		{nest.AddXX, zs("ada", 16, "eve", 50), 0, 16},
		{nest.AddXX | nest.AddCH, zs("ada", 17), 1, 17},
		{nest.AddGT | nest.AddCH, zs("ada", 5), 0, 17},
		{nest.AddGT | nest.AddCH, zs("ada", 18), 1, 18},
		{nest.AddLT | nest.AddCH, zs("ada", 12), 1, 12},
	}
	for i, c := range cases {
		n, err := s.AddWith(ctx, c.opts, c.z...)
		if err != nil || n != c.want {
			t.Fatalf("case %d: AddWith = %d, %v; want %d", i, n, err, c.want)
		}
		if f, _ := s.Score(ctx, "ada"); f != c.score {
			t.Fatalf("case %d: score of ada = %v; want %v", i, f, c.score)
		}
	}
	if ok, _ := rdb.ZScore(ctx, s.Name(), "eve").Result(); ok != 0 {
		t.Fatal("XX added a member")
	}
	if f, err := s.IncrBy(ctx, "ada", 2.5); err != nil || f != 14.5 {
		t.Fatalf("IncrBy = %v, %v; want 14.5", f, err)
	}
	if f, err := s.IncrBy(ctx, "new", -1); err != nil || f != -1 {
		t.Fatalf("IncrBy of a new member = %v, %v", f, err)
	}
	scores, err := s.MScore(ctx, "ada", "zed", "bob")
	if err != nil || len(scores) != 3 || scores[0] != 14.5 || !math.IsNaN(scores[1]) || scores[2] != 20 {
		t.Fatalf("MScore = %v, %v; want [14.5 NaN 20]", scores, err)
	}
	// new -1, ada 14.5, bob 20, cy 30, dan 40
	if r, err := s.Rank(ctx, "bob"); err != nil || r != 2 {
		t.Fatalf("Rank(bob) = %d, %v", r, err)
	}
	if r, err := s.RevRank(ctx, "bob"); err != nil || r != 2 {
		t.Fatalf("RevRank(bob) = %d, %v", r, err)
	}
	if r, err := s.RevRank(ctx, "dan"); err != nil || r != 0 {
		t.Fatalf("RevRank(dan) = %d, %v", r, err)
	}
	if _, err := s.Rank(ctx, "zed"); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("Rank of a non-member = %v", err)
	}
	if n, err := s.Len(ctx); err != nil || n != 5 {
		t.Fatalf("Len = %d, %v", n, err)
	}
	if n, err := s.Count(ctx, nest.ScoreRange{Min: 14.5, Max: 30, ExclusiveMin: true}); err != nil || n != 2 {
		t.Fatalf("Count((14.5, 30]) = %d, %v", n, err)
	}
	if n, err := s.Remove(ctx, "new", "zed"); err != nil || n != 1 {
		t.Fatalf("Remove = %d, %v", n, err)
	}
	// Fixed: never extended; none: no TTL.
	if _, err := b.Fixed.Add(ctx, zs("a", 1)...); err != nil {
		t.Fatal(err)
	}
	must(t, rdb.PExpire(ctx, b.Fixed.Name(), 10*time.Second).Err())
	if _, err := b.Fixed.IncrBy(ctx, "a", 1); err != nil {
		t.Fatal(err)
	}
	if ttl := rdb.PTTL(ctx, b.Fixed.Name()).Val(); ttl > 10*time.Second {
		t.Fatalf("fixed TTL extended by IncrBy: %v", ttl)
	}
	if _, err := b.Forever.Add(ctx, zs("a", 1)...); err != nil {
		t.Fatal(err)
	}
	if ttl := rdb.PTTL(ctx, b.Forever.Name()).Val(); ttl != -1 {
		t.Fatalf("ttl none: PTTL = %v", ttl)
	}
	// Sliding: reads renew.
	if _, err := b.Slide.Add(ctx, zs("a", 1)...); err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func() error{
		"Score": func() error { _, err := b.Slide.Score(ctx, "a"); return err },
		"Len":   func() error { _, err := b.Slide.Len(ctx); return err },
		"Range": func() error { _, err := b.Slide.RangeByRank(ctx, nest.RankRange{Stop: -1}); return err },
		"Rank":  func() error { _, err := b.Slide.Rank(ctx, "a"); return err },
	} {
		must(t, rdb.PExpire(ctx, b.Slide.Name(), 5*time.Second).Err())
		must(t, read())
		assertTTLAbout(t, rdb, b.Slide.Name(), time.Minute)
		_ = name
	}
}

func TestZSetRanges(t *testing.T) {
	ctx := context.Background()
	root, _ := newZRoot(t, nil)
	s := root.Board.At(2).Scores
	inf := math.Inf(1)
	if _, err := s.Add(ctx, append(zs("a", 1, "b", 2, "c", 3, "d", 4, "e", 5),
		nest.Z[string]{Member: "top", Score: inf}, nest.Z[string]{Member: "bottom", Score: -inf})...); err != nil {
		t.Fatal(err)
	}
	members := func(zz []nest.Z[string]) []string {
		var out []string
		for _, z := range zz {
			out = append(out, z.Member)
		}
		return out
	}
	eq := func(what string, got []string, err error, want ...string) {
		t.Helper()
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("%s = %q, %v; want %q", what, got, err, want)
		}
	}
	got, err := s.RangeByRank(ctx, nest.RankRange{Start: 0, Stop: -1})
	eq("all by rank", got, err, "bottom", "a", "b", "c", "d", "e", "top")
	got, err = s.RangeByRank(ctx, nest.RankRange{Start: 0, Stop: 1, Rev: true})
	eq("top 2", got, err, "top", "e")
	withS, err := s.RangeByRankWithScores(ctx, nest.RankRange{Start: -2, Stop: -1})
	if err != nil || len(withS) != 2 || withS[0] != (nest.Z[string]{Member: "e", Score: 5}) || !math.IsInf(withS[1].Score, 1) {
		t.Fatalf("RangeByRankWithScores = %v, %v", withS, err)
	}
	got, err = s.RangeByScore(ctx, nest.ScoreRange{Min: 2, Max: 4})
	eq("[2,4]", got, err, "b", "c", "d")
	got, err = s.RangeByScore(ctx, nest.ScoreRange{Min: 2, Max: 4, ExclusiveMin: true, ExclusiveMax: true})
	eq("(2,4)", got, err, "c")
	got, err = s.RangeByScore(ctx, nest.AllScores())
	eq("all scores", got, err, "bottom", "a", "b", "c", "d", "e", "top")
	got, err = s.RangeByScore(ctx, nest.ScoreRange{Min: 2, Max: inf, Rev: true, Offset: 1, Count: 2})
	eq("rev page", got, err, "e", "d")
	got, err = s.RangeByScore(ctx, nest.ScoreRange{Min: math.Inf(-1), Max: inf, Offset: 5})
	eq("offset without count", got, err, "e", "top")
	withS, err = s.RangeByScoreWithScores(ctx, nest.ScoreRange{Min: 3, Max: 3})
	if err != nil || len(withS) != 1 || withS[0].Member != "c" || withS[0].Score != 3 {
		t.Fatalf("RangeByScoreWithScores = %v, %v", withS, err)
	}
	if n, _ := s.Count(ctx, nest.AllScores()); n != 7 {
		t.Fatalf("Count(all) = %d", n)
	}
	if n, _ := s.Count(ctx, nest.ScoreRange{Min: inf, Max: inf}); n != 1 {
		t.Fatalf("Count([+inf,+inf]) = %d", n)
	}

	// Lexicographical ranges, on members of equal scores.
	lex := root.Board.At(2).Forever
	if _, err := lex.Add(ctx, zs("apple", 0, "apricot", 0, "banana", 0, "cherry", 0)...); err != nil {
		t.Fatal(err)
	}
	got, err = lex.RangeByLex(ctx, nest.LexRange[string]{Min: nest.LexIncl("ap"), Max: nest.LexExcl("b")})
	eq("[ap,b)", got, err, "apple", "apricot")
	got, err = lex.RangeByLex(ctx, nest.LexRange[string]{})
	eq("all lex", got, err, "apple", "apricot", "banana", "cherry")
	got, err = lex.RangeByLex(ctx, nest.LexRange[string]{Min: nest.LexExcl("apple"), Rev: true, Count: 2})
	eq("rev lex page", got, err, "cherry", "banana")
	if n, err := lex.LexCount(ctx, nest.LexRange[string]{Max: nest.LexIncl("banana")}); err != nil || n != 3 {
		t.Fatalf("LexCount = %d, %v", n, err)
	}
	if n, err := lex.RemoveRangeByLex(ctx, nest.LexRange[string]{Min: nest.LexIncl("b")}); err != nil || n != 2 {
		t.Fatalf("RemoveRangeByLex = %d, %v", n, err)
	}

	// Removals.
	if n, err := s.RemoveRangeByScore(ctx, nest.ScoreRange{Min: math.Inf(-1), Max: 1}); err != nil || n != 2 {
		t.Fatalf("RemoveRangeByScore = %d, %v", n, err)
	}
	if n, err := s.RemoveRangeByRank(ctx, nest.RankRange{Start: 0, Stop: 0, Rev: true}); err != nil || n != 1 {
		t.Fatalf("RemoveRangeByRank(rev 0) = %d, %v", n, err)
	}
	if n, err := s.RemoveRangeByRank(ctx, nest.RankRange{Start: -1, Stop: -1, Rev: true}); err != nil || n != 1 {
		t.Fatalf("RemoveRangeByRank(rev -1) = %d, %v", n, err)
	}
	zz, _ := s.RangeByRankWithScores(ctx, nest.RankRange{Stop: -1})
	if m := members(zz); !slices.Equal(m, []string{"c", "d", "e"}) {
		t.Fatalf("after removals: %q; want c d e", m)
	}
}

func TestZSetHostileInput(t *testing.T) {
	ctx := context.Background()
	root, rdb := newZRoot(t, nil)
	s := root.Board.At(3).Scores
	nan := math.NaN()
	_, err := s.Add(ctx, nest.Z[string]{Member: "a", Score: 1}, nest.Z[string]{Member: "b", Score: nan})
	assertInvalid(t, "Add NaN", err, s.Name(), "member 1")
	_, err = s.IncrBy(ctx, "a", nan)
	assertInvalid(t, "IncrBy NaN", err, s.Name(), "increment")
	for name, opts := range map[string]nest.AddOption{
		"NX|XX": nest.AddNX | nest.AddXX, "NX|GT": nest.AddNX | nest.AddGT, "GT|LT": nest.AddGT | nest.AddLT, "bits": 1 << 7,
	} {
		_, err = s.AddWith(ctx, opts, zs("a", 1)...)
		assertInvalid(t, "AddWith "+name, err, s.Name(), "")
	}
	_, err = s.RangeByScore(ctx, nest.ScoreRange{Min: nan, Max: 1})
	assertInvalid(t, "NaN bound", err, s.Name(), "NaN")
	_, err = s.RangeByScore(ctx, nest.ScoreRange{Max: 1, Count: -1})
	assertInvalid(t, "negative Count", err, s.Name(), "negative")
	_, err = s.Count(ctx, nest.ScoreRange{Max: 1, Count: 1})
	assertInvalid(t, "limit on ZCOUNT", err, s.Name(), "Offset and Count")
	_, err = s.RemoveRangeByScore(ctx, nest.ScoreRange{Max: 1, Offset: 1})
	assertInvalid(t, "limit on removal", err, s.Name(), "Offset and Count")
	_, err = s.PopMin(ctx, -1)
	assertInvalid(t, "negative pop", err, s.Name(), "negative")
	_, err = s.BPopMin(ctx, -time.Second)
	assertInvalid(t, "negative timeout", err, s.Name(), "negative")
	_, err = s.UnionStore(ctx, nest.StoreOptions{})
	assertInvalid(t, "no sources", err, s.Name(), "no source")
	_, err = s.UnionStore(ctx, nest.StoreOptions{Weights: []float64{1, 2}}, s)
	assertInvalid(t, "weights", err, s.Name(), "2 weights")
	_, err = s.UnionStore(ctx, nest.StoreOptions{Weights: []float64{nan}}, s)
	assertInvalid(t, "NaN weight", err, s.Name(), "NaN")
	if n := rdb.Exists(ctx, s.Name()).Val(); n != 0 {
		t.Fatal("a refused write created the key")
	}
	// Nothing sent for nothing to do.
	if n, err := s.Add(ctx); err != nil || n != 0 {
		t.Fatalf("Add() = %d, %v", n, err)
	}
	if n, err := s.Remove(ctx); err != nil || n != 0 {
		t.Fatalf("Remove() = %d, %v", n, err)
	}
	if zz, err := s.PopMin(ctx, 0); err != nil || zz != nil {
		t.Fatalf("PopMin(0) = %v, %v", zz, err)
	}
	// ±Inf are scores; an increment to NaN is Redis's error.
	if _, err := s.Add(ctx, nest.Z[string]{Member: "inf", Score: math.Inf(1)}); err != nil {
		t.Fatal(err)
	}
	if f, err := s.Score(ctx, "inf"); err != nil || !math.IsInf(f, 1) {
		t.Fatalf("Score(inf) = %v, %v", f, err)
	}
	if _, err := s.IncrBy(ctx, "inf", math.Inf(-1)); err == nil {
		t.Fatal("+Inf + -Inf: no error")
	}
	// Huge member.
	big := string(make([]byte, 1<<20))
	if _, err := s.Add(ctx, nest.Z[string]{Member: big, Score: 1}); err != nil {
		t.Fatalf("Add of a 1 MiB member: %v", err)
	}
	if f, err := s.Score(ctx, big); err != nil || f != 1 {
		t.Fatalf("Score of a 1 MiB member = %v, %v", f, err)
	}
	// Cancelled ctx: an error, nothing written.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	fresh := root.Board.At(33).Scores
	_, err = fresh.Add(cctx, zs("a", 1)...)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Add with a cancelled ctx = %v", err)
	}
	if _, err := fresh.BPopMin(cctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("BPopMin with a cancelled ctx = %v", err)
	}
	if n := rdb.Exists(ctx, fresh.Name()).Val(); n != 0 {
		t.Fatal("a cancelled Add wrote")
	}
	// Unusable handle: its error, no panic.
	var zero nest.SortedSet[string]
	if _, err := zero.Add(ctx, zs("a", 1)...); !errors.Is(err, nest.ErrNotBound) {
		t.Fatalf("zero handle Add = %v", err)
	}
	for range zero.All(ctx) {
		break
	}
}

// assertInvalid checks an ErrInvalidArg naming the key and, when not
// empty, the argument.
func assertInvalid(t *testing.T, what string, err error, key, arg string) {
	t.Helper()
	var oe *nest.OpError
	if !errors.Is(err, nest.ErrInvalidArg) || !errors.As(err, &oe) || oe.Key != key {
		t.Fatalf("%s = %v; want ErrInvalidArg on %s", what, err, key)
	}
	if arg != "" && !strings.Contains(err.Error(), arg) {
		t.Fatalf("%s = %v; want it to name %q", what, err, arg)
	}
}

func TestZSetWrongType(t *testing.T) {
	ctx := context.Background()
	root, rdb := newZRoot(t, nil)
	s := root.Board.At(4).Scores
	must(t, rdb.RPush(ctx, s.Name(), "x").Err())
	check := func(what string, err error) {
		t.Helper()
		var wt *nest.WrongTypeError
		if !errors.As(err, &wt) || wt.Declared != "zset" || wt.Found != "list" {
			t.Fatalf("%s on a list = %v; want WrongTypeError declared zset found list", what, err)
		}
	}
	_, err := s.Add(ctx, zs("a", 1)...)
	check("Add", err)
	_, err = s.IncrBy(ctx, "a", 1)
	check("IncrBy", err)
	_, err = s.Score(ctx, "a")
	check("Score", err)
	_, err = s.RangeByScore(ctx, nest.AllScores())
	check("RangeByScore", err)
	_, err = s.PopMax(ctx, 1)
	check("PopMax", err)
	_, err = s.BPopMax(ctx, time.Second)
	check("BPopMax", err)
	for _, err := range s.All(ctx) {
		check("All", err)
	}
	if ttl := rdb.PTTL(ctx, s.Name()).Val(); ttl != -1 {
		t.Fatalf("failed write changed the TTL: %v", ttl)
	}
	if n := rdb.LLen(ctx, s.Name()).Val(); n != 1 {
		t.Fatal("the list changed")
	}
}

func TestZSetDecodeErrors(t *testing.T) {
	ctx := context.Background()
	root, rdb := newZRoot(t, nil)
	s := root.Board.At(5).Nums
	must(t, rdb.ZAdd(ctx, s.Name(), redis.Z{Member: "1", Score: 1}, redis.Z{Member: "x", Score: 2}, redis.Z{Member: "3", Score: 3}).Err())
	var de *nest.DecodeError
	if _, err := s.RangeByRank(ctx, nest.RankRange{Stop: -1}); !errors.As(err, &de) || de.Elem != "member 1" || string(de.Raw) != "x" || de.Key != s.Name() {
		t.Fatalf("RangeByRank = %v; want a DecodeError at member 1", err)
	}
	var good, bad int
	for z, err := range s.All(ctx) {
		if err != nil {
			if !errors.As(err, &de) || z.Score != 2 {
				t.Fatalf("All yielded %v, %v", z, err)
			}
			bad++
			continue
		}
		good++
	}
	if good != 2 || bad != 1 {
		t.Fatalf("All: %d good, %d bad; want 2 and 1 (it goes on)", good, bad)
	}
	zz, err := s.PopMin(ctx, 3)
	if !errors.As(err, &de) || string(de.Raw) != "x" || len(zz) != 2 || zz[0].Member != 1 || zz[1].Member != 3 {
		t.Fatalf("PopMin = %v, %v; want the two good members and the bad one's DecodeError", zz, err)
	}
	if n := rdb.ZCard(ctx, s.Name()).Val(); n != 0 {
		t.Fatalf("PopMin left %d members", n)
	}
}

func TestZSetPops(t *testing.T) {
	ctx := context.Background()
	root, rdb := newZRoot(t, nil)
	s := root.Board.At(6).Scores
	if _, err := s.Add(ctx, zs("a", 1, "b", 2, "c", 3, "d", 4)...); err != nil {
		t.Fatal(err)
	}
	zz, err := s.PopMin(ctx, 2)
	if err != nil || len(zz) != 2 || zz[0].Member != "a" || zz[1] != (nest.Z[string]{Member: "b", Score: 2}) {
		t.Fatalf("PopMin(2) = %v, %v", zz, err)
	}
	zz, err = s.PopMax(ctx, 5)
	if err != nil || len(zz) != 2 || zz[0].Member != "d" || zz[1].Member != "c" {
		t.Fatalf("PopMax(5) = %v, %v", zz, err)
	}
	if zz, err := s.PopMax(ctx, 1); err != nil || len(zz) != 0 {
		t.Fatalf("PopMax of an empty set = %v, %v", zz, err)
	}
	// Blocking: served by a later Add, with the member's score.
	done := make(chan struct{})
	var got nest.Z[string]
	go func() {
		defer close(done)
		got, err = s.BPopMax(ctx, 5*time.Second)
	}()
	time.Sleep(150 * time.Millisecond)
	if _, err := s.Add(ctx, zs("late", 7)...); err != nil {
		t.Fatal(err)
	}
	<-done
	if err != nil || got != (nest.Z[string]{Member: "late", Score: 7}) {
		t.Fatalf("BPopMax = %v, %v", got, err)
	}
	start := time.Now()
	if _, err := s.BPopMin(ctx, 250*time.Millisecond); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("BPopMin timed out = %v; want ErrNotFound", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > time.Second {
		t.Fatalf("BPopMin(250ms) took %v", d)
	}
	// A cancelled ctx returns promptly.
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(50*time.Millisecond, cancel)
	start = time.Now()
	if _, err := s.BPopMin(cctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled BPopMin = %v", err)
	}
	if d := time.Since(start); d > 400*time.Millisecond {
		t.Fatalf("cancelled BPopMin returned after %v", d)
	}
	_ = rdb
}

// TestZSetBlockingPopCancelRace: a member added right around the
// cancellation of a blocking pop is either returned or still in the set,
// never lost.
func TestZSetBlockingPopCancelRace(t *testing.T) {
	ctx := context.Background()
	root, rdb := newZRoot(t, nil)
	s := root.Board.At(7).Scores
	var returned, kept int
	for i := range 40 {
		member := "m" + strconv.Itoa(i)
		cctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		var got nest.Z[string]
		var err error
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err = s.BPopMin(cctx, 0)
		}()
		time.Sleep(time.Duration(i%10) * 10 * time.Millisecond)
		go cancel()
		_, _ = s.Add(ctx, nest.Z[string]{Member: member, Score: float64(i)})
		wg.Wait()
		cancel()
		in := rdb.ZScore(ctx, s.Name(), member).Err() == nil
		switch {
		case err == nil && got.Member == member && !in:
			returned++
		case errors.Is(err, context.Canceled) && in:
			kept++
		default:
			t.Fatalf("round %d: BPopMin = %v, %v; member still in the set: %v", i, got, err, in)
		}
		must(t, rdb.Del(ctx, s.Name()).Err())
	}
	t.Logf("returned %d, kept %d", returned, kept)
}

func TestZSetAll(t *testing.T) {
	ctx := context.Background()
	root, _ := newZRoot(t, &nest.Options{ScanCount: 100})
	s := root.Board.At(8).Nums
	const n = 2500
	batch := make([]nest.Z[int], n)
	for i := range batch {
		batch[i] = nest.Z[int]{Member: i, Score: float64(i) / 2}
	}
	if added, err := s.Add(ctx, batch...); err != nil || added != n {
		t.Fatalf("Add = %d, %v", added, err)
	}
	seen := make(map[int]bool, n)
	for z, err := range s.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if z.Score != float64(z.Member)/2 {
			t.Fatalf("All: %v has the wrong score", z)
		}
		seen[z.Member] = true
	}
	if len(seen) != n {
		t.Fatalf("All saw %d members; want %d", len(seen), n)
	}
	k := 0
	for range s.All(ctx) {
		if k++; k == 3 {
			break
		}
	}
	if k != 3 {
		t.Fatal("break did not stop All")
	}
	for z, err := range root.Board.At(9).Nums.All(ctx) {
		t.Fatalf("All of a missing key yielded %v, %v", z, err)
	}
}

func TestZSetStore(t *testing.T) {
	ctx := context.Background()
	root, rdb := newZRoot(t, nil)
	tm := root.Team.At(1)
	if _, err := tm.A.Add(ctx, zs("x", 1, "y", 2)...); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.B.Add(ctx, zs("y", 10, "z", 20)...); err != nil {
		t.Fatal(err)
	}
	n, err := tm.Dst.UnionStore(ctx, nest.StoreOptions{Weights: []float64{1, 2}}, tm.A, tm.B)
	if err != nil || n != 3 {
		t.Fatalf("UnionStore = %d, %v", n, err)
	}
	assertTTLAbout(t, rdb, tm.Dst.Name(), 10*time.Minute)
	if f, _ := tm.Dst.Score(ctx, "y"); f != 22 {
		t.Fatalf("weighted sum of y = %v; want 22", f)
	}
	n, err = tm.Dst.InterStore(ctx, nest.StoreOptions{Aggregate: nest.AggregateMax}, tm.A, tm.B)
	if err != nil || n != 1 {
		t.Fatalf("InterStore = %d, %v", n, err)
	}
	if f, _ := tm.Dst.Score(ctx, "y"); f != 10 {
		t.Fatalf("max of y = %v; want 10", f)
	}
	assertTTLAbout(t, rdb, tm.Dst.Name(), 10*time.Minute)
	// Different codecs of one type: refused.
	if _, err := tm.Points.UnionStore(ctx, nest.StoreOptions{}, tm.Packed); !errors.Is(err, nest.ErrConfig) {
		t.Fatalf("UnionStore across codecs = %v; want ErrConfig", err)
	}
	// Another slot: refused before anything is sent (on Cluster).
	_, err = tm.Dst.UnionStore(ctx, nest.StoreOptions{}, tm.A, root.Other)
	if onCluster {
		if !errors.Is(err, redis.ErrCrossSlot) {
			t.Fatalf("UnionStore across slots = %v; want ErrCrossSlot", err)
		}
		p := root.Pipeline()
		f := tm.Dst.In(p).UnionStore(ctx, nest.StoreOptions{}, tm.A, root.Other)
		if err := p.Exec(ctx); !errors.Is(err, redis.ErrCrossSlot) || !errors.Is(f.Err(), redis.ErrCrossSlot) {
			t.Fatalf("queued UnionStore across slots = %v, %v", err, f.Err())
		}
	} else if err != nil {
		t.Fatalf("UnionStore on one server = %v", err)
	}
}

func TestZSetPipeline(t *testing.T) {
	ctx := context.Background()
	root, rdb := newZRoot(t, nil)
	tm := root.Team.At(2)
	for _, tx := range []bool{false, true} {
		must(t, rdb.Del(ctx, tm.A.Name(), tm.B.Name(), tm.Dst.Name()).Err())
		p := tm.Pipeline()
		if tx {
			p = tm.TxPipeline()
		}
		q := tm.A.In(p)
		add := q.Add(ctx, zs("a", 1, "b", 2, "c", 3)...)
		none := q.Add(ctx)
		ch := q.AddWith(ctx, nest.AddXX|nest.AddCH, zs("a", 5)...)
		inc := q.IncrBy(ctx, "b", 1)
		score := q.Score(ctx, "a")
		missing := q.Score(ctx, "zed")
		rank := q.Rank(ctx, "a")
		rev := q.RevRank(ctx, "a")
		card := q.Len(ctx)
		cnt := q.Count(ctx, nest.ScoreRange{Min: 3, Max: 5})
		byRank := q.RangeByRank(ctx, nest.RankRange{Stop: -1})
		byScore := q.RangeByScoreWithScores(ctx, nest.ScoreRange{Min: 3, Max: math.Inf(1), Rev: true})
		byRankS := q.RangeByRankWithScores(ctx, nest.RankRange{Stop: 0})
		byScoreM := q.RangeByScore(ctx, nest.ScoreRange{Max: 3})
		byLex := q.RangeByLex(ctx, nest.LexRange[string]{})
		tm.B.In(p).Add(ctx, zs("c", 100, "d", 4)...)
		store := tm.Dst.In(p).UnionStore(ctx, nest.StoreOptions{Aggregate: nest.AggregateMin}, tm.A, tm.B)
		inter := tm.Dst.In(p).InterStore(ctx, nest.StoreOptions{}, tm.A, tm.B)
		pop := q.PopMin(ctx, 1)
		popMax := q.PopMax(ctx, 1)
		rem := q.Remove(ctx, "b", "zed")
		remR := tm.B.In(p).RemoveRangeByRank(ctx, nest.RankRange{Start: 0, Stop: 0})
		remS := tm.B.In(p).RemoveRangeByScore(ctx, nest.ScoreRange{Min: 100, Max: 100})
		if err := p.Exec(ctx); err != nil {
			t.Fatalf("tx=%v: Exec = %v", tx, err)
		}
		checks := []struct {
			what string
			got  any
			err  error
			want any
		}{
			{"Add", add.Val(), add.Err(), int64(3)},
			{"Add()", none.Val(), none.Err(), int64(0)},
			{"AddWith", ch.Val(), ch.Err(), int64(1)},
			{"IncrBy", inc.Val(), inc.Err(), 3.0},
			{"Score", score.Val(), score.Err(), 5.0},
			{"Rank", rank.Val(), rank.Err(), int64(2)},
			{"RevRank", rev.Val(), rev.Err(), int64(0)},
			{"Len", card.Val(), card.Err(), int64(3)},
			{"Count", cnt.Val(), cnt.Err(), int64(3)},
			{"RangeByRank", byRank.Val(), byRank.Err(), []string{"b", "c", "a"}},
			{"RangeByScoreWithScores", byScore.Val(), byScore.Err(), []nest.Z[string]{{Member: "a", Score: 5}, {Member: "c", Score: 3}, {Member: "b", Score: 3}}},
			{"RangeByRankWithScores", byRankS.Val(), byRankS.Err(), []nest.Z[string]{{Member: "b", Score: 3}}},
			{"RangeByScore", byScoreM.Val(), byScoreM.Err(), []string{"b", "c"}},
			{"RangeByLex", len(byLex.Val()), byLex.Err(), 3},
			{"UnionStore", store.Val(), store.Err(), int64(4)},
			{"InterStore", inter.Val(), inter.Err(), int64(1)},
			{"PopMin", pop.Val(), pop.Err(), []nest.Z[string]{{Member: "b", Score: 3}}},
			{"PopMax", popMax.Val(), popMax.Err(), []nest.Z[string]{{Member: "a", Score: 5}}},
			{"Remove", rem.Val(), rem.Err(), int64(0)},
			{"RemoveRangeByRank", remR.Val(), remR.Err(), int64(1)},
			{"RemoveRangeByScore", remS.Val(), remS.Err(), int64(1)},
		}
		for _, c := range checks {
			if c.err != nil || !deepEqual(c.got, c.want) {
				t.Errorf("tx=%v: queued %s = %v, %v; want %v", tx, c.what, c.got, c.err, c.want)
			}
		}
		if !errors.Is(missing.Err(), nest.ErrNotFound) {
			t.Errorf("tx=%v: queued Score of a non-member = %v", tx, missing.Err())
		}
		assertTTLAbout(t, rdb, tm.A.Name(), time.Hour)
		assertTTLAbout(t, rdb, tm.Dst.Name(), 10*time.Minute)
	}
	// A refused argument fails the Pipe: nothing is sent.
	p := tm.TxPipeline()
	ok := tm.A.In(p).Add(ctx, zs("new", 1)...)
	bad := tm.A.In(p).Add(ctx, nest.Z[string]{Member: "nan", Score: math.NaN()})
	err := p.Exec(ctx)
	if !errors.Is(err, nest.ErrInvalidArg) || !errors.Is(bad.Err(), nest.ErrInvalidArg) || ok.Err() == nil {
		t.Fatalf("Exec with a NaN = %v (ok %v, bad %v)", err, ok.Err(), bad.Err())
	}
	if rdb.ZScore(ctx, tm.A.Name(), "new").Err() == nil {
		t.Fatal("a failed Pipe wrote")
	}
	// Wrong type, queued.
	must(t, rdb.Set(ctx, tm.B.Name(), "s", 0).Err())
	p = tm.Pipeline()
	wf := tm.B.In(p).Add(ctx, zs("a", 1)...)
	_ = p.Exec(ctx)
	if !errors.Is(wf.Err(), nest.ErrWrongType) {
		t.Fatalf("queued Add on a string = %v", wf.Err())
	}
	// Cross-slot transaction, queued.
	if onCluster {
		p := root.TxPipeline()
		tm.A.In(p).Len(ctx)
		f := root.Other.In(p).Len(ctx)
		if err := p.Exec(ctx); !errors.Is(err, redis.ErrCrossSlot) || !errors.Is(f.Err(), redis.ErrCrossSlot) {
			t.Fatalf("cross-slot transaction = %v", err)
		}
	}
}

func deepEqual(a, b any) bool {
	switch x := a.(type) {
	case []string:
		return slices.Equal(x, b.([]string))
	case []nest.Z[string]:
		return slices.Equal(x, b.([]nest.Z[string]))
	}
	return a == b
}
