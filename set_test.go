package nest_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
)

func sorted[T any](xs []T, cmp func(a, b T) int) []T {
	xs = slices.Clone(xs)
	slices.SortFunc(xs, cmp)
	return xs
}

func sortedStrings(xs []string) string { return strings.Join(sorted(xs, strings.Compare), ",") }

func rawSet(t *testing.T, rdb redis.UniversalClient, name string) string {
	t.Helper()
	ss, err := rdb.SMembers(context.Background(), name).Result()
	must(t, err)
	return sortedStrings(ss)
}

func TestSetBasics(t *testing.T) {
	ctx := context.Background()
	root, rdb := newLsRoot(t, nil)
	u := root.User.At(1)
	s := u.Tags
	if n, err := s.Add(ctx, "a", "b", "c", "a"); err != nil || n != 3 {
		t.Fatalf("Add = %d, %v", n, err)
	}
	assertTTLNear(t, rdb, s.Name(), time.Hour, 5*time.Second)
	if ok, err := s.IsMember(ctx, "b"); err != nil || !ok {
		t.Fatalf("IsMember(b) = %v, %v", ok, err)
	}
	if ok, err := s.IsMember(ctx, "z"); err != nil || ok {
		t.Fatalf("IsMember(z) = %v, %v", ok, err)
	}
	if bs, err := s.MIsMember(ctx, "a", "z", "c"); err != nil || !slices.Equal(bs, []bool{true, false, true}) {
		t.Fatalf("MIsMember = %v, %v", bs, err)
	}
	if bs, err := s.MIsMember(ctx); err != nil || len(bs) != 0 {
		t.Fatalf("MIsMember() = %v, %v", bs, err)
	}
	if n, err := s.Len(ctx); err != nil || n != 3 {
		t.Fatalf("Len = %d, %v", n, err)
	}
	if got, err := s.Members(ctx); err != nil || sortedStrings(got) != "a,b,c" {
		t.Fatalf("Members = %v, %v", got, err)
	}
	x, err := s.RandMember(ctx)
	if err != nil || !strings.Contains("abc", x) {
		t.Fatalf("RandMember = %q, %v", x, err)
	}
	if xs, err := s.RandMemberCount(ctx, 2); err != nil || len(xs) != 2 || xs[0] == xs[1] {
		t.Fatalf("RandMemberCount(2) = %v, %v", xs, err)
	}
	if xs, err := s.RandMemberCount(ctx, -7); err != nil || len(xs) != 7 {
		t.Fatalf("RandMemberCount(-7) = %v, %v (Redis: 7 members, repeats allowed)", xs, err)
	}
	must(t, rdb.PExpire(ctx, s.Name(), time.Minute).Err())
	if n, err := s.Remove(ctx, "a", "z"); err != nil || n != 1 {
		t.Fatalf("Remove = %d, %v", n, err)
	}
	assertTTLNear(t, rdb, s.Name(), time.Minute, 5*time.Second) // removals leave the TTL
	x, err = s.Pop(ctx)
	if err != nil || (x != "b" && x != "c") {
		t.Fatalf("Pop = %q, %v", x, err)
	}
	if xs, err := s.PopCount(ctx, 5); err != nil || len(xs) != 1 {
		t.Fatalf("PopCount(5) = %v, %v", xs, err)
	}
	assertAbsent(t, rdb, s.Name())
	if _, err := s.Pop(ctx); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("Pop of missing = %v", err)
	}
	if _, err := s.RandMember(ctx); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("RandMember of missing = %v", err)
	}
	if xs, err := s.PopCount(ctx, 2); err != nil || len(xs) != 0 {
		t.Fatalf("PopCount of missing = %v, %v", xs, err)
	}
	if xs, err := s.RandMemberCount(ctx, 2); err != nil || len(xs) != 0 {
		t.Fatalf("RandMemberCount of missing = %v, %v", xs, err)
	}
	if got, err := s.Members(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Members of missing = %v, %v", got, err)
	}
	if n, err := s.Len(ctx); err != nil || n != 0 {
		t.Fatalf("Len of missing = %v, %v", n, err)
	}
	// Typed members.
	if _, err := u.IDs.Add(ctx, 3, 1, 2); err != nil {
		t.Fatal(err)
	}
	ids, err := u.IDs.Members(ctx)
	if err != nil || !slices.Equal(sorted(ids, func(a, b int) int { return a - b }), []int{1, 2, 3}) {
		t.Fatalf("int Members = %v, %v", ids, err)
	}
}

func TestSetTTLModes(t *testing.T) {
	ctx := context.Background()
	root, rdb := newLsRoot(t, nil)
	u := root.User.At(2)
	if _, err := u.FixedSet.Add(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	must(t, rdb.PExpire(ctx, u.FixedSet.Name(), 10*time.Second).Err())
	if _, err := u.FixedSet.Add(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Tags.Add(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Tags.Move(ctx, u.FixedSet, "t"); err != nil {
		t.Fatal(err)
	}
	if d := pttl(t, rdb, u.FixedSet.Name()); d > 10*time.Second {
		t.Fatalf("fixed TTL extended: %v", d)
	}
	if _, err := u.PlainSet.Add(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if d := pttl(t, rdb, u.PlainSet.Name()); d != -1 {
		t.Fatalf("ttl none: %v", d)
	}
	if _, err := u.SlideSet.Add(ctx, "a", "b"); err != nil {
		t.Fatal(err)
	}
	reads := map[string]func() error{
		"IsMember":        func() error { _, err := u.SlideSet.IsMember(ctx, "a"); return err },
		"MIsMember":       func() error { _, err := u.SlideSet.MIsMember(ctx, "a"); return err },
		"Members":         func() error { _, err := u.SlideSet.Members(ctx); return err },
		"Len":             func() error { _, err := u.SlideSet.Len(ctx); return err },
		"RandMember":      func() error { _, err := u.SlideSet.RandMember(ctx); return err },
		"RandMemberCount": func() error { _, err := u.SlideSet.RandMemberCount(ctx, 1); return err },
		"Union":           func() error { _, err := u.Tags.Union(ctx, u.SlideSet); return err },
		"Inter":           func() error { _, err := u.SlideSet.Inter(ctx, u.Tags); return err },
		"queued Members": func() error {
			p := u.Pipeline()
			f := u.SlideSet.In(p).Members(ctx)
			_ = p.Exec(ctx)
			return f.Err()
		},
		"queued Diff": func() error {
			p := u.TxPipeline()
			f := u.Tags.In(p).Diff(ctx, u.SlideSet)
			_ = p.Exec(ctx)
			return f.Err()
		},
	}
	for name, read := range reads {
		must(t, rdb.PExpire(ctx, u.SlideSet.Name(), 5*time.Second).Err())
		if err := read(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := pttl(t, rdb, u.SlideSet.Name()); d < 55*time.Second {
			t.Errorf("%s did not renew the sliding TTL: %v", name, d)
		}
	}
}

func TestSetAlgebra(t *testing.T) {
	ctx := context.Background()
	root, rdb := newLsRoot(t, nil)
	u := root.User.At(3)
	_, _ = u.Tags.Add(ctx, "a", "b", "c")
	_, _ = u.Other.Add(ctx, "b", "c", "d")
	_, _ = u.Third.Add(ctx, "c", "e")
	for _, c := range []struct {
		name string
		f    func() ([]string, error)
		want string
	}{
		{"Union", func() ([]string, error) { return u.Tags.Union(ctx, u.Other, u.Third) }, "a,b,c,d,e"},
		{"Inter", func() ([]string, error) { return u.Tags.Inter(ctx, u.Other) }, "b,c"},
		{"Diff", func() ([]string, error) { return u.Tags.Diff(ctx, u.Other) }, "a"},
		{"Union alone", func() ([]string, error) { return u.Tags.Union(ctx) }, "a,b,c"},
		{"Inter with missing", func() ([]string, error) { return u.Tags.Inter(ctx, u.PlainSet) }, ""},
	} {
		got, err := c.f()
		if err != nil || sortedStrings(got) != c.want {
			t.Errorf("%s = %v, %v; want %s", c.name, got, err, c.want)
		}
	}
	for _, c := range []struct {
		name string
		f    func() (int64, error)
		n    int64
		want string
	}{
		{"UnionStore", func() (int64, error) { return u.Tags.UnionStore(ctx, u.Dest, u.Other, u.Third) }, 5, "a,b,c,d,e"},
		{"InterStore", func() (int64, error) { return u.Tags.InterStore(ctx, u.Dest, u.Other) }, 2, "b,c"},
		{"DiffStore", func() (int64, error) { return u.Tags.DiffStore(ctx, u.Dest, u.Other) }, 1, "a"},
		{"DiffStore into a source", func() (int64, error) { return u.Dest.DiffStore(ctx, u.Dest, u.Third) }, 1, "a"},
	} {
		must(t, rdb.PExpire(ctx, u.Dest.Name(), time.Second).Err())
		n, err := c.f()
		if err != nil || n != c.n || rawSet(t, rdb, u.Dest.Name()) != c.want {
			t.Errorf("%s = %d, %v; dest %s, want %d %s", c.name, n, err, rawSet(t, rdb, u.Dest.Name()), c.n, c.want)
		}
		assertTTLNear(t, rdb, u.Dest.Name(), 10*time.Minute, 5*time.Second)
	}
	if n, err := u.Tags.InterStore(ctx, u.Dest, u.PlainSet); err != nil || n != 0 {
		t.Fatalf("empty InterStore = %d, %v", n, err)
	}
	assertAbsent(t, rdb, u.Dest.Name())
	// Move.
	if ok, err := u.Tags.Move(ctx, u.Dest, "a"); err != nil || !ok {
		t.Fatalf("Move = %v, %v", ok, err)
	}
	assertTTLNear(t, rdb, u.Dest.Name(), 10*time.Minute, 5*time.Second)
	if ok, err := u.Tags.Move(ctx, u.Dest, "zz"); err != nil || ok {
		t.Fatalf("Move of a non-member = %v, %v", ok, err)
	}
	if rawSet(t, rdb, u.Tags.Name()) != "b,c" || rawSet(t, rdb, u.Dest.Name()) != "a" {
		t.Fatalf("after Move: %s / %s", rawSet(t, rdb, u.Tags.Name()), rawSet(t, rdb, u.Dest.Name()))
	}
	// Sets with other codecs are refused: their stored forms differ.
	if _, err := u.Tags.Union(ctx, u.JSONTags); !errors.Is(err, nest.ErrConfig) {
		t.Fatalf("Union across codecs = %v, want ErrConfig", err)
	}
	if _, err := u.Tags.UnionStore(ctx, u.JSONTags); !errors.Is(err, nest.ErrConfig) {
		t.Fatalf("UnionStore across codecs = %v, want ErrConfig", err)
	}
	// Cross-slot: refused on Cluster, direct and queued, nothing written.
	l := root.Loose.At(1)
	_, _ = l.SA.Add(ctx, "x")
	_, _ = l.SB.Add(ctx, "y")
	direct := map[string]func() error{
		"Union":      func() error { _, err := l.SA.Union(ctx, l.SB); return err },
		"Inter":      func() error { _, err := l.SA.Inter(ctx, l.SB); return err },
		"Diff":       func() error { _, err := l.SA.Diff(ctx, l.SB); return err },
		"UnionStore": func() error { _, err := l.SA.UnionStore(ctx, l.SB); return err },
		"InterStore": func() error { _, err := l.SA.InterStore(ctx, l.SB, l.SA); return err },
		"DiffStore":  func() error { _, err := l.SA.DiffStore(ctx, l.SB); return err },
		"Move":       func() error { _, err := l.SA.Move(ctx, l.SB, "x"); return err },
	}
	for name, op := range direct {
		if err := op(); onCluster && !errors.Is(err, redis.ErrCrossSlot) {
			t.Errorf("cross-slot %s = %v, want ErrCrossSlot", name, err)
		} else if !onCluster && err != nil {
			t.Errorf("%s = %v", name, err)
		}
	}
	if !onCluster {
		return
	}
	queued := map[string]func(p *nest.Pipe) error{
		"Union":      func(p *nest.Pipe) error { return l.SA.In(p).Union(ctx, l.SB).Err() },
		"Inter":      func(p *nest.Pipe) error { return l.SA.In(p).Inter(ctx, l.SB).Err() },
		"Diff":       func(p *nest.Pipe) error { return l.SA.In(p).Diff(ctx, l.SB).Err() },
		"UnionStore": func(p *nest.Pipe) error { return l.SA.In(p).UnionStore(ctx, l.SB).Err() },
		"InterStore": func(p *nest.Pipe) error { return l.SA.In(p).InterStore(ctx, l.SA, l.SB).Err() },
		"DiffStore":  func(p *nest.Pipe) error { return l.SA.In(p).DiffStore(ctx, l.SB).Err() },
		"Move":       func(p *nest.Pipe) error { return l.SA.In(p).Move(ctx, l.SB, "x").Err() },
	}
	for name, op := range queued {
		for _, tx := range []bool{false, true} {
			p := root.Pipeline()
			if tx {
				p = root.TxPipeline()
			}
			l.SA.In(p).Add(ctx, "queued-before")
			ferr := op(p)
			err := p.Exec(ctx)
			if !errors.Is(ferr, redis.ErrCrossSlot) || !errors.Is(err, redis.ErrCrossSlot) {
				t.Errorf("tx=%v: queued cross-slot %s: Future %v, Exec %v", tx, name, ferr, err)
			}
		}
	}
	if rawSet(t, rdb, l.SA.Name()) != "x" || rawSet(t, rdb, l.SB.Name()) != "y" {
		t.Fatalf("a refused cross-slot operation wrote: %s / %s", rawSet(t, rdb, l.SA.Name()), rawSet(t, rdb, l.SB.Name()))
	}
}

func TestSetAll(t *testing.T) {
	ctx := context.Background()
	root, rdb := newLsRoot(t, nil)
	u := root.User.At(4)
	want := make([]int, 5000)
	for i := range want {
		want[i] = i
	}
	if _, err := u.IDs.Add(ctx, want...); err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for x, err := range u.IDs.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		seen[x] = true
	}
	if len(seen) != len(want) {
		t.Fatalf("All yielded %d distinct members, want %d", len(seen), len(want))
	}
	// Early break.
	n := 0
	for range u.IDs.All(ctx) {
		if n++; n == 10 {
			break
		}
	}
	// Decode errors are yielded and the iteration goes on.
	must(t, rdb.SAdd(ctx, u.IDs.Name(), "bad1", "bad2").Err())
	var bad, good int
	for _, err := range u.IDs.All(ctx) {
		var de *nest.DecodeError
		switch {
		case err == nil:
			good++
		case errors.As(err, &de) && strings.HasPrefix(de.Elem, "member ") && strings.HasPrefix(string(de.Raw), "bad") && de.Key == u.IDs.Name():
			bad++
		default:
			t.Fatalf("All: %v", err)
		}
	}
	if bad != 2 || good < len(want) {
		t.Fatalf("All: %d good, %d bad; want %d and 2", good, bad, len(want))
	}
	_, err := u.IDs.Members(ctx)
	var de *nest.DecodeError
	if !errors.As(err, &de) || !strings.HasPrefix(de.Elem, "member ") {
		t.Fatalf("Members with bad members = %v", err)
	}
	// A missing set yields nothing; a wrong type yields the error and stops.
	for _, err := range u.Tags.All(ctx) {
		t.Fatalf("All of missing yielded %v", err)
	}
	must(t, rdb.Set(ctx, u.Tags.Name(), "s", 0).Err())
	var errs []error
	for _, err := range u.Tags.All(ctx) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], nest.ErrWrongType) {
		t.Fatalf("All of a string = %v", errs)
	}
	// A cancelled ctx, an unusable handle: one error.
	done, cancel := context.WithCancel(ctx)
	cancel()
	errs = nil
	for _, err := range u.IDs.All(done) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Fatalf("All with a cancelled ctx = %v", errs)
	}
	var zero nest.Set[int]
	for _, err := range zero.All(ctx) {
		if !errors.Is(err, nest.ErrNotBound) {
			t.Fatalf("All of a zero Set = %v", err)
		}
	}
}

func TestSetWrongType(t *testing.T) {
	ctx := context.Background()
	root, rdb := newLsRoot(t, nil)
	u := root.User.At(5)
	s := u.Tags
	must(t, rdb.RPush(ctx, s.Name(), "l").Err())
	_, _ = u.Other.Add(ctx, "o")
	ops := map[string]func() error{
		"Add":             func() error { _, err := s.Add(ctx, "x"); return err },
		"Remove":          func() error { _, err := s.Remove(ctx, "x"); return err },
		"IsMember":        func() error { _, err := s.IsMember(ctx, "x"); return err },
		"MIsMember":       func() error { _, err := s.MIsMember(ctx, "x"); return err },
		"Members":         func() error { _, err := s.Members(ctx); return err },
		"Len":             func() error { _, err := s.Len(ctx); return err },
		"Pop":             func() error { _, err := s.Pop(ctx); return err },
		"PopCount":        func() error { _, err := s.PopCount(ctx, 2); return err },
		"RandMember":      func() error { _, err := s.RandMember(ctx); return err },
		"RandMemberCount": func() error { _, err := s.RandMemberCount(ctx, 2); return err },
		"Union":           func() error { _, err := u.Other.Union(ctx, s); return err },
		"Inter":           func() error { _, err := s.Inter(ctx, u.Other); return err },
		"Diff":            func() error { _, err := u.Other.Diff(ctx, s); return err },
		"UnionStore":      func() error { _, err := u.Other.UnionStore(ctx, u.Dest, s); return err },
		"Move":            func() error { _, err := s.Move(ctx, u.Other, "x"); return err },
		"Move dst":        func() error { _, err := u.Other.Move(ctx, s, "o"); return err },
	}
	for name, op := range ops {
		err := op()
		var wt *nest.WrongTypeError
		var oe *nest.OpError
		if !errors.As(err, &wt) || wt.Found != "list" || wt.Declared != "set" || !errors.As(err, &oe) || oe.Key != s.Name() {
			t.Errorf("%s on a list: %v; want a WrongTypeError naming %s, declared set, found list", name, err, s.Name())
		}
	}
	if pttl(t, rdb, s.Name()) != -1 || rawSet(t, rdb, u.Other.Name()) != "o" {
		t.Fatal("a failed operation changed a key")
	}
	assertAbsent(t, rdb, u.Dest.Name())
	// The Store forms replace their destination whatever it holds, as in
	// Redis, and give it the declared TTL.
	if n, err := u.Other.UnionStore(ctx, s); err != nil || n != 1 || rawSet(t, rdb, s.Name()) != "o" {
		t.Fatalf("UnionStore over a list = %d, %v", n, err)
	}
	assertTTLNear(t, rdb, s.Name(), time.Hour, 5*time.Second)
}

func TestSetHostileInput(t *testing.T) {
	ctx := context.Background()
	root, rdb := newLsRoot(t, &nest.Options{MaxValueSize: 16})
	u := root.User.At(6)
	big := strings.Repeat("m", 17)
	for name, op := range map[string]func() error{
		"Add":       func() error { _, err := u.Tags.Add(ctx, "ok", big); return err },
		"Remove":    func() error { _, err := u.Tags.Remove(ctx, big); return err },
		"IsMember":  func() error { _, err := u.Tags.IsMember(ctx, big); return err },
		"MIsMember": func() error { _, err := u.Tags.MIsMember(ctx, "ok", big); return err },
		"Move":      func() error { _, err := u.Other.Move(ctx, u.Tags, big); return err },
	} {
		if err := op(); !errors.Is(err, nest.ErrTooLarge) || !strings.Contains(err.Error(), u.Tags.Name()) && !strings.Contains(err.Error(), u.Other.Name()) {
			t.Errorf("%s of a huge member = %v, want ErrTooLarge naming the key", name, err)
		}
	}
	assertAbsent(t, rdb, u.Tags.Name())
	for name, op := range map[string]func() error{
		"Add none":      func() error { _, err := u.Tags.Add(ctx); return err },
		"Remove none":   func() error { _, err := u.Tags.Remove(ctx); return err },
		"PopCount -1":   func() error { _, err := u.Tags.PopCount(ctx, -1); return err },
		"queued Add":    func() error { p := u.Pipeline(); f := u.Tags.In(p).Add(ctx); _ = p.Exec(ctx); return f.Err() },
		"queued MIs":    func() error { p := u.Pipeline(); f := u.Tags.In(p).MIsMember(ctx); _ = p.Exec(ctx); return f.Err() },
		"queued Remove": func() error { p := u.Pipeline(); f := u.Tags.In(p).Remove(ctx); _ = p.Exec(ctx); return f.Err() },
	} {
		if err := op(); !errors.Is(err, nest.ErrInvalidArg) || !strings.Contains(err.Error(), u.Tags.Name()) {
			t.Errorf("%s = %v, want ErrInvalidArg naming the key", name, err)
		}
	}
	p := u.TxPipeline()
	f := u.Tags.In(p).Add(ctx, "ok", big)
	if err := p.Exec(ctx); !errors.Is(err, nest.ErrTooLarge) || !errors.Is(f.Err(), nest.ErrTooLarge) {
		t.Fatalf("queued huge Add: Exec %v, Future %v", err, f.Err())
	}
	assertAbsent(t, rdb, u.Tags.Name())
	must(t, rdb.SAdd(ctx, u.Tags.Name(), big).Err())
	_, err := u.Tags.Members(ctx)
	assertTooLarge(t, "Members", err, u.Tags.Name(), []byte(big), 16)
	must(t, rdb.Del(ctx, u.Tags.Name()).Err())

	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := u.Tags.Add(done, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Add with a cancelled ctx = %v", err)
	}
	if _, err := u.Tags.UnionStore(done, u.Dest, u.Other); !errors.Is(err, context.Canceled) {
		t.Fatalf("UnionStore with a cancelled ctx = %v", err)
	}
	if _, err := u.Tags.Members(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Members with a cancelled ctx = %v", err)
	}
	assertAbsent(t, rdb, u.Tags.Name(), u.Dest.Name())
	var zero nest.Set[string]
	if _, err := zero.Add(ctx, "x"); !errors.Is(err, nest.ErrNotBound) {
		t.Fatalf("zero Set: %v", err)
	}
	if _, err := u.Tags.Union(ctx, zero); !errors.Is(err, nest.ErrNotBound) {
		t.Fatalf("Union with a zero Set: %v", err)
	}
	p = u.Pipeline()
	if err := u.Tags.In(p).UnionStore(ctx, zero).Err(); !errors.Is(err, nest.ErrNotBound) {
		t.Fatalf("queued UnionStore into a zero Set: %v", err)
	}
	// A huge Add goes in chunks with the count summed.
	many := make([]string, 9000)
	for i := range many {
		many[i] = strconv.Itoa(i)
	}
	if n, err := u.Other.Add(ctx, many...); err != nil || n != 9000 {
		t.Fatalf("Add of 9000 = %d, %v", n, err)
	}
}

func TestSetPipeline(t *testing.T) {
	ctx := context.Background()
	root, rdb := newLsRoot(t, nil)
	for _, tx := range []bool{false, true} {
		u := root.User.At(20)
		if tx {
			u = root.User.At(21)
		}
		p := u.Pipeline()
		if tx {
			p = u.TxPipeline()
		}
		q := u.Tags.In(p)
		add := q.Add(ctx, "a", "b", "c")
		oadd := u.Other.In(p).Add(ctx, "c", "d")
		isM := q.IsMember(ctx, "a")
		mis := q.MIsMember(ctx, "a", "z")
		ln := q.Len(ctx)
		mem := q.Members(ctx)
		rnd := q.RandMember(ctx)
		un := q.Union(ctx, u.Other)
		in := q.Inter(ctx, u.Other)
		df := q.Diff(ctx, u.Other)
		us := q.UnionStore(ctx, u.Dest, u.Other)
		is := q.InterStore(ctx, u.Third, u.Other)
		ds := u.Other.In(p).DiffStore(ctx, u.FixedSet, u.Tags)
		mv := q.Move(ctx, u.Other, "a")
		rm := q.Remove(ctx, "b", "zz")
		pop := u.Third.In(p).Pop(ctx)
		none := u.PlainSet.In(p).Pop(ctx)
		must(t, p.Exec(ctx))
		checks := []struct {
			what string
			got  any
			want any
		}{
			{"Add", mustResult(t, add), int64(3)},
			{"Add other", mustResult(t, oadd), int64(2)},
			{"IsMember", mustResult(t, isM), true},
			{"MIsMember", mustResult(t, mis)[1], false},
			{"Len", mustResult(t, ln), int64(3)},
			{"Members", sortedStrings(mustResult(t, mem)), "a,b,c"},
			{"RandMember", strings.Contains("abc", mustResult(t, rnd)), true},
			{"Union", sortedStrings(mustResult(t, un)), "a,b,c,d"},
			{"Inter", sortedStrings(mustResult(t, in)), "c"},
			{"Diff", sortedStrings(mustResult(t, df)), "a,b"},
			{"UnionStore", mustResult(t, us), int64(4)},
			{"InterStore", mustResult(t, is), int64(1)},
			{"DiffStore", mustResult(t, ds), int64(1)},
			{"Move", mustResult(t, mv), true},
			{"Remove", mustResult(t, rm), int64(1)},
			{"Pop", mustResult(t, pop), "c"},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("tx=%v: queued %s = %v, want %v", tx, c.what, c.got, c.want)
			}
		}
		if _, err := none.Result(); !errors.Is(err, nest.ErrNotFound) {
			t.Errorf("tx=%v: queued Pop of missing = %v", tx, err)
		}
		if got := rawSet(t, rdb, u.Tags.Name()); got != "c" {
			t.Errorf("tx=%v: set = %s", tx, got)
		}
		assertTTLNear(t, rdb, u.Tags.Name(), time.Hour, 5*time.Second)
		assertTTLNear(t, rdb, u.Dest.Name(), 10*time.Minute, 5*time.Second)
		assertTTLNear(t, rdb, u.FixedSet.Name(), time.Minute, 5*time.Second)
		assertTTLNear(t, rdb, u.Other.Name(), time.Hour, 5*time.Second)
	}
}
