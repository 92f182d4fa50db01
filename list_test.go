package nest_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// lsRoot declares the lists and sets of list_test.go and set_test.go:
// under a pinned user (one slot, so multi-key commands work on Redis
// Cluster) and under a loose namespace whose keys spread over slots.
type lsRoot struct {
	nest.Namespace `nest:"ls"`
	User           nest.Sub[lsUser]
	Loose          nest.Sub[lsLoose]
}

type lsUser struct {
	nest.Namespace `nest:"user:{id}" slot:"pin" ttl:"1h"`
	Jobs           nest.List[string] `nest:"jobs"`
	Done           nest.List[string] `nest:"done"`
	Fixed          nest.List[string] `nest:"fixed" ttl:"1m,fixed"`
	Slide          nest.List[string] `nest:"slide" ttl:"1m,sliding"`
	Plain          nest.List[string] `nest:"plain" ttl:"none"`
	Nums           nest.List[int]    `nest:"nums"`
	JSONJobs       nest.List[string] `nest:"jjobs" codec:"json"`

	Tags     nest.Set[string] `nest:"tags"`
	Other    nest.Set[string] `nest:"other"`
	Third    nest.Set[string] `nest:"third"`
	Dest     nest.Set[string] `nest:"dest" ttl:"10m"`
	FixedSet nest.Set[string] `nest:"fixedset" ttl:"1m,fixed"`
	SlideSet nest.Set[string] `nest:"slideset" ttl:"1m,sliding"`
	PlainSet nest.Set[string] `nest:"plainset" ttl:"none"`
	IDs      nest.Set[int]    `nest:"ids"`
	JSONTags nest.Set[string] `nest:"jtags" codec:"json"`
}

type lsLoose struct {
	nest.Namespace `nest:"loose:{id}"`
	A              nest.List[string] `nest:"a"`
	B              nest.List[string] `nest:"b"`
	SA             nest.Set[string]  `nest:"sa"`
	SB             nest.Set[string]  `nest:"sb"`
}

func newLsRoot(t testing.TB, opts *nest.Options) (*lsRoot, redis.UniversalClient) {
	t.Helper()
	rdb := newRedis(t)
	root, err := nest.New[lsRoot](rdb, opts)
	if err != nil {
		t.Fatalf("nest.New: %v", err)
	}
	return root, rdb
}

func rawList(t *testing.T, rdb redis.UniversalClient, name string) []string {
	t.Helper()
	ss, err := rdb.LRange(context.Background(), name, 0, -1).Result()
	must(t, err)
	return ss
}

func TestListPushPop(t *testing.T) {
	ctx := context.Background()
	root, rdb := newLsRoot(t, nil)
	u := root.User.At(1)
	if n, err := u.Jobs.RPush(ctx, "b", "c"); err != nil || n != 2 {
		t.Fatalf("RPush = %d, %v", n, err)
	}
	if n, err := u.Jobs.LPush(ctx, "a", "z"); err != nil || n != 4 {
		t.Fatalf("LPush = %d, %v", n, err)
	}
	if got := rawList(t, rdb, u.Jobs.Name()); !slices.Equal(got, []string{"z", "a", "b", "c"}) {
		t.Fatalf("list = %v", got)
	}
	assertTTLNear(t, rdb, u.Jobs.Name(), time.Hour, 5*time.Second)
	if x, err := u.Jobs.LPop(ctx); err != nil || x != "z" {
		t.Fatalf("LPop = %q, %v", x, err)
	}
	if x, err := u.Jobs.RPop(ctx); err != nil || x != "c" {
		t.Fatalf("RPop = %q, %v", x, err)
	}
	// Pops leave the TTL alone.
	must(t, rdb.PExpire(ctx, u.Jobs.Name(), time.Minute).Err())
	if _, err := u.Jobs.LPop(ctx); err != nil {
		t.Fatal(err)
	}
	assertTTLNear(t, rdb, u.Jobs.Name(), time.Minute, 5*time.Second)
	if x, err := u.Jobs.RPop(ctx); err != nil || x != "b" {
		t.Fatalf("RPop = %q, %v", x, err)
	}
	if _, err := u.Jobs.LPop(ctx); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("LPop of empty = %v, want ErrNotFound", err)
	}
	if _, err := u.Jobs.RPop(ctx); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("RPop of empty = %v, want ErrNotFound", err)
	}

	// X forms create nothing.
	if n, err := u.Jobs.LPushX(ctx, "x"); err != nil || n != 0 {
		t.Fatalf("LPushX on missing = %d, %v", n, err)
	}
	if n, err := u.Jobs.RPushX(ctx, "x"); err != nil || n != 0 {
		t.Fatalf("RPushX on missing = %d, %v", n, err)
	}
	assertAbsent(t, rdb, u.Jobs.Name())
	must(t, rdb.RPush(ctx, u.Jobs.Name(), "m").Err())
	if n, err := u.Jobs.LPushX(ctx, "l"); err != nil || n != 2 {
		t.Fatalf("LPushX = %d, %v", n, err)
	}
	if n, err := u.Jobs.RPushX(ctx, "r"); err != nil || n != 3 {
		t.Fatalf("RPushX = %d, %v", n, err)
	}
	assertTTLNear(t, rdb, u.Jobs.Name(), time.Hour, 5*time.Second)

	// Counts.
	must(t, rdb.Del(ctx, u.Jobs.Name()).Err())
	if _, err := u.Jobs.RPush(ctx, "1", "2", "3", "4", "5"); err != nil {
		t.Fatal(err)
	}
	if xs, err := u.Jobs.LPopCount(ctx, 2); err != nil || !slices.Equal(xs, []string{"1", "2"}) {
		t.Fatalf("LPopCount = %v, %v", xs, err)
	}
	if xs, err := u.Jobs.RPopCount(ctx, 2); err != nil || !slices.Equal(xs, []string{"5", "4"}) {
		t.Fatalf("RPopCount = %v, %v", xs, err)
	}
	if xs, err := u.Jobs.LPopCount(ctx, 0); err != nil || len(xs) != 0 {
		t.Fatalf("LPopCount(0) = %v, %v", xs, err)
	}
	if xs, err := u.Jobs.RPopCount(ctx, 10); err != nil || !slices.Equal(xs, []string{"3"}) {
		t.Fatalf("RPopCount(10) = %v, %v", xs, err)
	}
	if xs, err := u.Jobs.LPopCount(ctx, 3); err != nil || len(xs) != 0 {
		t.Fatalf("LPopCount of missing = %v, %v", xs, err)
	}
}

func TestListTTLModes(t *testing.T) {
	ctx := context.Background()
	root, rdb := newLsRoot(t, nil)
	u := root.User.At(2)
	if _, err := u.Fixed.RPush(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	assertTTLNear(t, rdb, u.Fixed.Name(), time.Minute, 5*time.Second)
	must(t, rdb.PExpire(ctx, u.Fixed.Name(), 10*time.Second).Err())
	if _, err := u.Fixed.LPush(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	must(t, u.Fixed.Set(ctx, 0, "c"))
	if _, err := u.Fixed.InsertAfter(ctx, "c", "d"); err != nil {
		t.Fatal(err)
	}
	if d := pttl(t, rdb, u.Fixed.Name()); d > 10*time.Second {
		t.Fatalf("fixed TTL extended: %v", d)
	}
	if _, err := u.Plain.RPush(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if d := pttl(t, rdb, u.Plain.Name()); d != -1 {
		t.Fatalf("ttl none: PTTL %v", d)
	}
	// Sliding reads renew.
	if _, err := u.Slide.RPush(ctx, "a", "b"); err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func() error{
		"Range": func() error { _, err := u.Slide.Range(ctx, 0, -1); return err },
		"Index": func() error { _, err := u.Slide.Index(ctx, 0); return err },
		"Len":   func() error { _, err := u.Slide.Len(ctx); return err },
	} {
		must(t, rdb.PExpire(ctx, u.Slide.Name(), 5*time.Second).Err())
		must(t, read())
		assertTTLNear(t, rdb, u.Slide.Name(), time.Minute, 5*time.Second)
		_ = name
	}
	p := u.Pipeline()
	must(t, rdb.PExpire(ctx, u.Slide.Name(), 5*time.Second).Err())
	r := u.Slide.In(p).Range(ctx, 0, -1)
	must(t, p.Exec(ctx))
	if got := mustResult(t, r); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("queued Range = %v", got)
	}
	assertTTLNear(t, rdb, u.Slide.Name(), time.Minute, 5*time.Second)
}

func TestListReadsAndEdits(t *testing.T) {
	ctx := context.Background()
	root, rdb := newLsRoot(t, nil)
	u := root.User.At(3)
	if got, err := u.Jobs.Range(ctx, 0, -1); err != nil || len(got) != 0 {
		t.Fatalf("Range of missing = %v, %v", got, err)
	}
	if n, err := u.Jobs.Len(ctx); err != nil || n != 0 {
		t.Fatalf("Len of missing = %d, %v", n, err)
	}
	if _, err := u.Jobs.RPush(ctx, "a", "b", "c", "b", "d", "b"); err != nil {
		t.Fatal(err)
	}
	if got, err := u.Jobs.Range(ctx, 1, 3); err != nil || !slices.Equal(got, []string{"b", "c", "b"}) {
		t.Fatalf("Range(1, 3) = %v, %v", got, err)
	}
	if got, err := u.Jobs.Range(ctx, -2, 100); err != nil || !slices.Equal(got, []string{"d", "b"}) {
		t.Fatalf("Range(-2, 100) = %v, %v", got, err)
	}
	if x, err := u.Jobs.Index(ctx, -2); err != nil || x != "d" {
		t.Fatalf("Index(-2) = %q, %v", x, err)
	}
	if _, err := u.Jobs.Index(ctx, 6); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("Index(6) = %v, want ErrNotFound", err)
	}
	if n, err := u.Jobs.Len(ctx); err != nil || n != 6 {
		t.Fatalf("Len = %d, %v", n, err)
	}
	must(t, rdb.PExpire(ctx, u.Jobs.Name(), time.Minute).Err())
	must(t, u.Jobs.Set(ctx, 0, "A"))
	assertTTLNear(t, rdb, u.Jobs.Name(), time.Hour, 5*time.Second) // a change refreshes the TTL
	err := u.Jobs.Set(ctx, 6, "X")
	if !errors.Is(err, nest.ErrOutOfRange) || !strings.Contains(err.Error(), "index 6") || !strings.Contains(err.Error(), u.Jobs.Name()) {
		t.Fatalf("Set(6) = %v, want ErrOutOfRange naming the index and key", err)
	}
	if err := u.Done.Set(ctx, 0, "X"); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("Set on missing = %v, want ErrNotFound", err)
	}
	assertAbsent(t, rdb, u.Done.Name())
	if n, err := u.Jobs.InsertBefore(ctx, "c", "C"); err != nil || n != 7 {
		t.Fatalf("InsertBefore = %d, %v", n, err)
	}
	if n, err := u.Jobs.InsertAfter(ctx, "c", "c2"); err != nil || n != 8 {
		t.Fatalf("InsertAfter = %d, %v", n, err)
	}
	if _, err := u.Jobs.InsertAfter(ctx, "nope", "x"); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("InsertAfter without pivot = %v, want ErrNotFound", err)
	}
	if _, err := u.Done.InsertAfter(ctx, "nope", "x"); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("InsertAfter on missing = %v, want ErrNotFound", err)
	}
	assertAbsent(t, rdb, u.Done.Name())
	if got := rawList(t, rdb, u.Jobs.Name()); !slices.Equal(got, []string{"A", "b", "C", "c", "c2", "b", "d", "b"}) {
		t.Fatalf("list = %v", got)
	}
	if n, err := u.Jobs.Remove(ctx, -1, "b"); err != nil || n != 1 {
		t.Fatalf("Remove(-1) = %d, %v", n, err)
	}
	if got := rawList(t, rdb, u.Jobs.Name()); !slices.Equal(got, []string{"A", "b", "C", "c", "c2", "b", "d"}) {
		t.Fatalf("after Remove(-1): %v", got)
	}
	if n, err := u.Jobs.Remove(ctx, 0, "b"); err != nil || n != 2 {
		t.Fatalf("Remove(0) = %d, %v", n, err)
	}
	must(t, rdb.PExpire(ctx, u.Jobs.Name(), time.Minute).Err())
	must(t, u.Jobs.Trim(ctx, 1, -2))
	if got := rawList(t, rdb, u.Jobs.Name()); !slices.Equal(got, []string{"C", "c", "c2"}) {
		t.Fatalf("after Trim: %v", got)
	}
	assertTTLNear(t, rdb, u.Jobs.Name(), time.Minute, 5*time.Second) // removals leave it
	must(t, u.Jobs.Trim(ctx, 5, 10))
	assertAbsent(t, rdb, u.Jobs.Name())
}

func TestListMove(t *testing.T) {
	ctx := context.Background()
	root, rdb := newLsRoot(t, nil)
	u := root.User.At(4)
	if _, err := u.Jobs.RPush(ctx, "a", "b", "c"); err != nil {
		t.Fatal(err)
	}
	if x, err := u.Jobs.Move(ctx, u.Plain, nest.Left, nest.Right); err != nil || x != "a" {
		t.Fatalf("Move to a list without TTL = %q, %v", x, err)
	}
	if d := pttl(t, rdb, u.Plain.Name()); d != -1 {
		t.Fatalf("Move gave a TTL to a ttl:none list: %v", d)
	}
	must(t, rdb.PExpire(ctx, u.Jobs.Name(), time.Minute).Err())
	if x, err := u.Jobs.Move(ctx, u.Fixed, nest.Right, nest.Left); err != nil || x != "c" {
		t.Fatalf("Move = %q, %v", x, err)
	}
	assertTTLNear(t, rdb, u.Fixed.Name(), time.Minute, 5*time.Second)
	assertTTLNear(t, rdb, u.Jobs.Name(), time.Minute, 5*time.Second) // the source keeps its own
	if x, err := u.Jobs.Move(ctx, u.Jobs, nest.Left, nest.Right); err != nil || x != "b" {
		t.Fatalf("rotation = %q, %v", x, err)
	}
	if x, err := u.Jobs.Move(ctx, u.Done, nest.Left, nest.Left); err != nil || x != "b" {
		t.Fatalf("Move = %q, %v", x, err)
	}
	if _, err := u.Jobs.Move(ctx, u.Done, nest.Left, nest.Left); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("Move from empty = %v, want ErrNotFound", err)
	}
	if _, err := u.Done.Move(ctx, u.Jobs, nest.ListEnd(7), nest.Left); !errors.Is(err, nest.ErrInvalidArg) {
		t.Fatalf("Move with a bad end = %v, want ErrInvalidArg", err)
	}
	if _, err := u.Done.Move(ctx, u.JSONJobs, nest.Left, nest.Left); !errors.Is(err, nest.ErrConfig) {
		t.Fatalf("Move between codecs = %v, want ErrConfig", err)
	}
	if got := rawList(t, rdb, u.Done.Name()); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("a refused Move changed the source: %v", got)
	}
	// Lists in different slots: refused on Cluster before anything is sent.
	l := root.Loose.At(1)
	if _, err := l.A.RPush(ctx, "x", "y"); err != nil {
		t.Fatal(err)
	}
	_, err := l.A.Move(ctx, l.B, nest.Left, nest.Left)
	_, berr := l.A.BLMove(ctx, l.B, nest.Left, nest.Left, time.Second)
	if onCluster {
		if !errors.Is(err, redis.ErrCrossSlot) || !errors.Is(berr, redis.ErrCrossSlot) {
			t.Fatalf("cross-slot Move = %v, BLMove = %v; want ErrCrossSlot", err, berr)
		}
		if got := rawList(t, rdb, l.A.Name()); !slices.Equal(got, []string{"x", "y"}) {
			t.Fatalf("cross-slot Move changed the source: %v", got)
		}
	} else if err != nil || berr != nil {
		t.Fatalf("Move = %v, BLMove = %v", err, berr)
	}
}

func TestListBlocking(t *testing.T) {
	ctx := context.Background()
	root, rdb := newLsRoot(t, nil)
	u := root.User.At(5)

	// An element pushed while blocked is returned.
	go func() {
		time.Sleep(150 * time.Millisecond)
		_, _ = u.Jobs.RPush(ctx, "late")
	}()
	if x, err := u.Jobs.BLPop(ctx, 5*time.Second); err != nil || x != "late" {
		t.Fatalf("BLPop = %q, %v", x, err)
	}
	// Already there: returned at once; BRPop takes the tail.
	if _, err := u.Jobs.RPush(ctx, "a", "b"); err != nil {
		t.Fatal(err)
	}
	if x, err := u.Jobs.BRPop(ctx, 0); err != nil || x != "b" {
		t.Fatalf("BRPop = %q, %v", x, err)
	}
	if x, err := u.Jobs.BLPop(ctx, 0); err != nil || x != "a" {
		t.Fatalf("BLPop = %q, %v", x, err)
	}
	// The timeout: ErrNotFound, on time.
	start := time.Now()
	if _, err := u.Jobs.BLPop(ctx, 250*time.Millisecond); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("BLPop after timeout = %v, want ErrNotFound", err)
	}
	if d := time.Since(start); d < 240*time.Millisecond || d > 600*time.Millisecond {
		t.Fatalf("BLPop with a 250ms timeout took %v", d)
	}
	// A cancel while blocked returns promptly.
	for _, op := range []struct {
		name string
		f    func(context.Context) (string, error)
	}{
		{"BLPop", func(c context.Context) (string, error) { return u.Jobs.BLPop(c, 0) }},
		{"BRPop", func(c context.Context) (string, error) { return u.Jobs.BRPop(c, time.Minute) }},
		{"BLMove", func(c context.Context) (string, error) { return u.Jobs.BLMove(c, u.Done, nest.Left, nest.Right, 0) }},
		{"BLMove no TTL", func(c context.Context) (string, error) { return u.Jobs.BLMove(c, u.Plain, nest.Left, nest.Right, 0) }},
	} {
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(300*time.Millisecond, cancel)
		start := time.Now()
		_, err := op.f(cctx)
		if d := time.Since(start) - 300*time.Millisecond; !errors.Is(err, context.Canceled) || d > 200*time.Millisecond {
			t.Fatalf("%s cancelled while blocked: %v, returned %v after the cancel", op.name, err, d)
		}
		var oe *nest.OpError
		if !errors.As(err, &oe) || oe.Key != u.Jobs.Name() {
			t.Fatalf("%s: %v does not name the key", op.name, err)
		}
		// A deadline likewise.
		dctx, cancel2 := context.WithTimeout(ctx, 150*time.Millisecond)
		start = time.Now()
		_, err = op.f(dctx)
		cancel2()
		if d := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || d > 400*time.Millisecond {
			t.Fatalf("%s with a deadline: %v after %v", op.name, err, d)
		}
		// An already cancelled ctx sends nothing.
		done, cancel3 := context.WithCancel(ctx)
		cancel3()
		must(t, rdb.RPush(ctx, u.Jobs.Name(), "keep").Err())
		if _, err := op.f(done); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s with a cancelled ctx = %v", op.name, err)
		}
		if got := rawList(t, rdb, u.Jobs.Name()); !slices.Equal(got, []string{"keep"}) {
			t.Fatalf("%s with a cancelled ctx took an element: %v", op.name, got)
		}
		must(t, rdb.Del(ctx, u.Jobs.Name()).Err())
	}
	if _, err := u.Jobs.BLPop(ctx, -time.Second); !errors.Is(err, nest.ErrInvalidArg) {
		t.Fatalf("negative timeout = %v, want ErrInvalidArg", err)
	}
	// BLMove applies the destination's TTL.
	must(t, rdb.Del(ctx, u.Done.Name()).Err())
	go func() {
		time.Sleep(150 * time.Millisecond)
		_, _ = u.Jobs.RPush(ctx, "m")
	}()
	if x, err := u.Jobs.BLMove(ctx, u.Done, nest.Left, nest.Right, 5*time.Second); err != nil || x != "m" {
		t.Fatalf("BLMove = %q, %v", x, err)
	}
	assertTTLNear(t, rdb, u.Done.Name(), time.Hour, 5*time.Second)
	go func() {
		time.Sleep(150 * time.Millisecond)
		_, _ = u.Jobs.RPush(ctx, "n")
	}()
	if x, err := u.Jobs.BLMove(ctx, u.Plain, nest.Left, nest.Right, 5*time.Second); err != nil || x != "n" {
		t.Fatalf("BLMove without TTL = %q, %v", x, err)
	}
	if _, err := u.Jobs.BLMove(ctx, u.Done, nest.Left, nest.Right, 100*time.Millisecond); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("BLMove after timeout = %v", err)
	}
}

// TestListBlockingCancelRace: an element pushed right around a cancel is
// either returned by the blocking pop or still in the list (for BLMove:
// in the destination exactly when returned), never lost nor duplicated.
func TestListBlockingCancelRace(t *testing.T) {
	ctx := context.Background()
	root, rdb := newLsRoot(t, nil)
	u := root.User.At(6)
	rounds := 150
	if testing.Short() {
		rounds = 30
	}
	kinds := []string{"BLPop", "BLMove", "BLMove no TTL"}
	var got, kept int
	for i := range rounds {
		kind := kinds[i%len(kinds)]
		dst := u.Done
		if kind == "BLMove no TTL" {
			dst = u.Plain
		}
		must(t, rdb.Del(ctx, u.Jobs.Name(), u.Done.Name(), u.Plain.Name()).Err())
		cctx, cancel := context.WithCancel(ctx)
		var (
			x   string
			err error
			wg  sync.WaitGroup
		)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if kind == "BLPop" {
				x, err = u.Jobs.BLPop(cctx, 0)
			} else {
				x, err = u.Jobs.BLMove(cctx, dst, nest.Left, nest.Right, 0)
			}
		}()
		time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond)
		v := "e" + strconv.Itoa(i)
		if rand.IntN(2) == 0 {
			cancel()
			must(t, rdb.RPush(ctx, u.Jobs.Name(), v).Err())
		} else {
			must(t, rdb.RPush(ctx, u.Jobs.Name(), v).Err())
			cancel()
		}
		wg.Wait()
		src := rawList(t, rdb, u.Jobs.Name())
		moved := rawList(t, rdb, dst.Name())
		switch {
		case err == nil && x == v && len(src) == 0 && (kind == "BLPop" && len(moved) == 0 || kind != "BLPop" && slices.Equal(moved, []string{v})):
			got++
		case errors.Is(err, context.Canceled) && slices.Equal(src, []string{v}) && len(moved) == 0:
			kept++
		default:
			t.Fatalf("round %d (%s): returned %q, %v; source %v, destination %v", i, kind, x, err, src, moved)
		}
		if kind == "BLMove" && err == nil {
			assertTTLNear(t, rdb, dst.Name(), time.Hour, 5*time.Second)
		}
	}
	t.Logf("%d rounds: %d elements returned, %d left in the list", rounds, got, kept)
}

func TestListDecodeErrors(t *testing.T) {
	ctx := context.Background()
	root, rdb := newLsRoot(t, nil)
	u := root.User.At(7)
	must(t, rdb.RPush(ctx, u.Nums.Name(), "1", "two", "3").Err())
	assertElem := func(what string, err error, elem string) {
		t.Helper()
		var de *nest.DecodeError
		if !errors.As(err, &de) || de.Elem != elem || de.Key != u.Nums.Name() || !strings.Contains(err.Error(), u.Nums.Name()) {
			t.Fatalf("%s: %v, want a DecodeError at %q naming the key", what, err, elem)
		}
	}
	_, err := u.Nums.Range(ctx, 0, -1)
	assertElem("Range", err, "index 1")
	_, err = u.Nums.Range(ctx, 1, 2)
	assertElem("Range(1, 2)", err, "index 1")
	_, err = u.Nums.Range(ctx, -3, -1)
	assertElem("Range(-3, -1)", err, "range position 1")
	_, err = u.Nums.Index(ctx, 1)
	assertElem("Index", err, "index 1")
	p := u.Pipeline()
	fr := u.Nums.In(p).Range(ctx, 0, -1)
	fi := u.Nums.In(p).Index(ctx, -2)
	fl := u.Nums.In(p).Len(ctx)
	if err := p.Exec(ctx); err == nil {
		t.Fatal("Exec hid the decode errors")
	}
	_, err = fr.Result()
	assertElem("queued Range", err, "index 1")
	_, err = fi.Result()
	assertElem("queued Index", err, "index -2")
	if n, err := fl.Result(); err != nil || n != 3 {
		t.Fatalf("queued Len beside decode errors = %d, %v", n, err)
	}
	if x, err := u.Nums.LPop(ctx); err != nil || x != 1 {
		t.Fatalf("LPop = %d, %v", x, err)
	}
	var de *nest.DecodeError
	if _, err := u.Nums.LPop(ctx); !errors.As(err, &de) || string(de.Raw) != "two" {
		t.Fatalf("LPop of a bad element = %v, want a DecodeError keeping its bytes", err)
	}
	must(t, rdb.RPush(ctx, u.Nums.Name(), "x").Err())
	_, err = u.Nums.LPopCount(ctx, 2)
	assertElem("LPopCount", err, "index 1")
}

func TestListWrongType(t *testing.T) {
	ctx := context.Background()
	root, rdb := newLsRoot(t, nil)
	u := root.User.At(8)
	must(t, rdb.Set(ctx, u.Jobs.Name(), "str", 0).Err())
	must(t, rdb.RPush(ctx, u.Done.Name(), "d").Err())
	l := u.Jobs
	ops := map[string]func() error{
		"LPush":        func() error { _, err := l.LPush(ctx, "x"); return err },
		"RPush":        func() error { _, err := l.RPush(ctx, "x"); return err },
		"LPushX":       func() error { _, err := l.LPushX(ctx, "x"); return err },
		"RPushX":       func() error { _, err := l.RPushX(ctx, "x"); return err },
		"LPop":         func() error { _, err := l.LPop(ctx); return err },
		"RPop":         func() error { _, err := l.RPop(ctx); return err },
		"LPopCount":    func() error { _, err := l.LPopCount(ctx, 2); return err },
		"RPopCount":    func() error { _, err := l.RPopCount(ctx, 2); return err },
		"BLPop":        func() error { _, err := l.BLPop(ctx, time.Second); return err },
		"BRPop":        func() error { _, err := l.BRPop(ctx, time.Second); return err },
		"BLMove":       func() error { _, err := l.BLMove(ctx, u.Done, nest.Left, nest.Left, time.Second); return err },
		"BLMove to":    func() error { _, err := u.Done.BLMove(ctx, l, nest.Left, nest.Left, time.Second); return err },
		"BLMove plain": func() error { _, err := l.BLMove(ctx, u.Plain, nest.Left, nest.Left, time.Second); return err },
		"Range":        func() error { _, err := l.Range(ctx, 0, -1); return err },
		"Index":        func() error { _, err := l.Index(ctx, 0); return err },
		"Len":          func() error { _, err := l.Len(ctx); return err },
		"Set":          func() error { return l.Set(ctx, 0, "x") },
		"InsertBefore": func() error { _, err := l.InsertBefore(ctx, "a", "x"); return err },
		"Trim":         func() error { return l.Trim(ctx, 0, 1) },
		"Remove":       func() error { _, err := l.Remove(ctx, 0, "x"); return err },
		"Move":         func() error { _, err := l.Move(ctx, u.Done, nest.Left, nest.Left); return err },
		"Move to":      func() error { _, err := u.Done.Move(ctx, l, nest.Left, nest.Left); return err },
	}
	for name, op := range ops {
		err := op()
		var wt *nest.WrongTypeError
		var oe *nest.OpError
		if !errors.As(err, &wt) || wt.Found != "string" || wt.Declared != "list" || !errors.As(err, &oe) || oe.Key != l.Name() {
			t.Errorf("%s on a string: %v; want a WrongTypeError naming %s, declared list, found string", name, err, l.Name())
		}
	}
	if v, _ := rdb.Get(ctx, l.Name()).Result(); v != "str" || pttl(t, rdb, l.Name()) != -1 {
		t.Fatalf("a failed write changed the key: %q", v)
	}
	if got := rawList(t, rdb, u.Done.Name()); !slices.Equal(got, []string{"d"}) {
		t.Fatalf("a failed Move changed the other list: %v", got)
	}
	// Queued: the Future reports it, the other operations are intact.
	p := u.Pipeline()
	f := l.In(p).RPush(ctx, "x")
	g := u.Done.In(p).Len(ctx)
	if err := p.Exec(ctx); !errors.Is(err, nest.ErrWrongType) {
		t.Fatalf("Exec = %v, want ErrWrongType", err)
	}
	if _, err := f.Result(); !errors.Is(err, nest.ErrWrongType) {
		t.Fatalf("queued RPush = %v", err)
	}
	if n, err := g.Result(); err != nil || n != 1 {
		t.Fatalf("queued Len = %d, %v", n, err)
	}
}

func TestListHostileInput(t *testing.T) {
	ctx := context.Background()
	root, rdb := newLsRoot(t, &nest.Options{MaxValueSize: 16})
	u := root.User.At(9)
	big := strings.Repeat("x", 17)
	for name, op := range map[string]func() error{
		"LPush":  func() error { _, err := u.Jobs.LPush(ctx, "ok", big); return err },
		"RPush":  func() error { _, err := u.Jobs.RPush(ctx, "ok", big); return err },
		"Set":    func() error { return u.Jobs.Set(ctx, 0, big) },
		"Insert": func() error { _, err := u.Jobs.InsertAfter(ctx, "ok", big); return err },
		"Remove": func() error { _, err := u.Jobs.Remove(ctx, 0, big); return err },
	} {
		if err := op(); !errors.Is(err, nest.ErrTooLarge) || !errors.Is(err, nest.ErrEncode) || !strings.Contains(err.Error(), u.Jobs.Name()) {
			t.Errorf("%s of a huge element = %v, want ErrTooLarge naming the key", name, err)
		}
	}
	p := u.TxPipeline()
	f := u.Jobs.In(p).RPush(ctx, "ok", big)
	if err := p.Exec(ctx); !errors.Is(err, nest.ErrTooLarge) || !errors.Is(f.Err(), nest.ErrTooLarge) {
		t.Fatalf("queued huge RPush: Exec %v, Future %v", err, f.Err())
	}
	assertAbsent(t, rdb, u.Jobs.Name())
	// An element too large to read is a DecodeError, not a crash.
	must(t, rdb.RPush(ctx, u.Jobs.Name(), big).Err())
	_, err := u.Jobs.Range(ctx, 0, -1)
	assertTooLarge(t, "Range", err, u.Jobs.Name(), []byte(big), 16)
	must(t, rdb.Del(ctx, u.Jobs.Name()).Err())

	for name, op := range map[string]func() error{
		"LPush none":    func() error { _, err := u.Jobs.LPush(ctx); return err },
		"RPushX none":   func() error { _, err := u.Jobs.RPushX(ctx); return err },
		"LPopCount -1":  func() error { _, err := u.Jobs.LPopCount(ctx, -1); return err },
		"RPopCount -1":  func() error { _, err := u.Jobs.RPopCount(ctx, -5); return err },
		"queued RPush":  func() error { p := u.Pipeline(); f := u.Jobs.In(p).RPush(ctx); _ = p.Exec(ctx); return f.Err() },
		"BRPop timeout": func() error { _, err := u.Jobs.BRPop(ctx, -1); return err },
	} {
		err := op()
		if !errors.Is(err, nest.ErrInvalidArg) || !strings.Contains(err.Error(), u.Jobs.Name()) {
			t.Errorf("%s = %v, want ErrInvalidArg naming the key", name, err)
		}
	}
	// A cancelled ctx: the error, nothing written.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := u.Jobs.RPush(done, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("RPush with a cancelled ctx = %v", err)
	}
	if _, err := u.Plain.RPush(done, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("RPush (no TTL) with a cancelled ctx = %v", err)
	}
	if _, err := u.Jobs.Move(done, u.Done, nest.Left, nest.Left); !errors.Is(err, context.Canceled) {
		t.Fatalf("Move with a cancelled ctx = %v", err)
	}
	if _, err := u.Jobs.Range(done, 0, -1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Range with a cancelled ctx = %v", err)
	}
	assertAbsent(t, rdb, u.Jobs.Name(), u.Plain.Name(), u.Done.Name())
	// Unusable handles fail without contacting Redis.
	var zero nest.List[string]
	if _, err := zero.RPush(ctx, "x"); !errors.Is(err, nest.ErrNotBound) {
		t.Fatalf("zero List: %v", err)
	}
	if _, err := zero.BLPop(ctx, time.Second); !errors.Is(err, nest.ErrNotBound) {
		t.Fatalf("zero List BLPop: %v", err)
	}
	if _, err := u.Jobs.Move(ctx, zero, nest.Left, nest.Left); !errors.Is(err, nest.ErrNotBound) {
		t.Fatalf("Move to a zero List: %v", err)
	}
	bad := root.User.At("")
	if _, err := bad.Jobs.RPush(ctx, "x"); !errors.Is(err, nest.ErrInvalidParam) {
		t.Fatalf("RPush on a bad parameter: %v", err)
	}
	// Large pushes go in chunks, in order.
	many := make([]string, 10000)
	for i := range many {
		many[i] = strconv.Itoa(i)
	}
	if n, err := u.Jobs.RPush(ctx, many...); err != nil || n != 10000 {
		t.Fatalf("RPush of 10000 = %d, %v", n, err)
	}
	if n, err := u.Done.LPush(ctx, many...); err != nil || n != 10000 {
		t.Fatalf("LPush of 10000 = %d, %v", n, err)
	}
	if got := rawList(t, rdb, u.Jobs.Name()); !slices.Equal(got, many) {
		t.Fatal("RPush in chunks changed the order")
	}
	rev := rawList(t, rdb, u.Done.Name())
	slices.Reverse(rev)
	if !slices.Equal(rev, many) {
		t.Fatal("LPush in chunks changed the order")
	}
}

func TestListPipeline(t *testing.T) {
	ctx := context.Background()
	root, rdb := newLsRoot(t, nil)
	for _, tx := range []bool{false, true} {
		u := root.User.At(10)
		if tx {
			u = root.User.At(11)
		}
		p := u.Pipeline()
		if tx {
			p = u.TxPipeline()
		}
		q := u.Jobs.In(p)
		r := q.RPush(ctx, "a", "b", "c")
		l := q.LPush(ctx, "z")
		lx := u.Done.In(p).LPushX(ctx, "no")
		rx := q.RPushX(ctx, "d")
		set := q.Set(ctx, 1, "A")
		oor := q.Set(ctx, 99, "X")
		ins := q.InsertBefore(ctx, "b", "B")
		insA := q.InsertAfter(ctx, "c", "C")
		rng := q.Range(ctx, 0, -1)
		idx := q.Index(ctx, -1)
		ln := q.Len(ctx)
		lp := q.LPop(ctx)
		rp := q.RPop(ctx)
		rm := q.Remove(ctx, 0, "B")
		tr := q.Trim(ctx, 0, 1)
		mv := q.Move(ctx, u.Done, nest.Left, nest.Right)
		empty := u.Plain.In(p).LPop(ctx)
		err := p.Exec(ctx)
		if !errors.Is(err, nest.ErrOutOfRange) {
			t.Fatalf("tx=%v: Exec = %v, want the LSET's ErrOutOfRange", tx, err)
		}
		checks := []struct {
			what string
			got  any
			want any
		}{
			{"RPush", mustResult(t, r), int64(3)},
			{"LPush", mustResult(t, l), int64(4)},
			{"LPushX", mustResult(t, lx), int64(0)},
			{"RPushX", mustResult(t, rx), int64(5)},
			{"Set", set.Err(), nil},
			{"InsertBefore", mustResult(t, ins), int64(6)},
			{"InsertAfter", mustResult(t, insA), int64(7)},
			{"Range", strings.Join(mustResult(t, rng), ","), "z,A,B,b,c,C,d"},
			{"Index", mustResult(t, idx), "d"},
			{"Len", mustResult(t, ln), int64(7)},
			{"LPop", mustResult(t, lp), "z"},
			{"RPop", mustResult(t, rp), "d"},
			{"Remove", mustResult(t, rm), int64(1)},
			{"Trim", tr.Err(), nil},
			{"Move", mustResult(t, mv), "A"},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("tx=%v: queued %s = %v, want %v", tx, c.what, c.got, c.want)
			}
		}
		if !errors.Is(oor.Err(), nest.ErrOutOfRange) {
			t.Errorf("tx=%v: queued Set out of range = %v", tx, oor.Err())
		}
		if _, err := empty.Result(); !errors.Is(err, nest.ErrNotFound) {
			t.Errorf("tx=%v: queued LPop of missing = %v", tx, err)
		}
		if got := rawList(t, rdb, u.Jobs.Name()); !slices.Equal(got, []string{"b"}) {
			t.Errorf("tx=%v: list = %v", tx, got)
		}
		assertTTLNear(t, rdb, u.Jobs.Name(), time.Hour, 5*time.Second)
		assertTTLNear(t, rdb, u.Done.Name(), time.Hour, 5*time.Second)
	}
	// Cross-slot Move, queued: refused on Cluster, nothing sent.
	l := root.Loose.At(2)
	must(t, rdb.RPush(ctx, l.A.Name(), "x").Err())
	for _, tx := range []bool{false, true} {
		p := root.Pipeline()
		if tx {
			p = root.TxPipeline()
		}
		before := l.A.In(p).RPush(ctx, "y")
		f := l.A.In(p).Move(ctx, l.B, nest.Left, nest.Left)
		err := p.Exec(ctx)
		if onCluster {
			if !errors.Is(err, redis.ErrCrossSlot) || !errors.Is(f.Err(), redis.ErrCrossSlot) || before.Err() == nil {
				t.Fatalf("tx=%v: cross-slot queued Move: Exec %v, Future %v, before %v", tx, err, f.Err(), before.Err())
			}
			if got := rawList(t, rdb, l.A.Name()); !slices.Equal(got, []string{"x"}) {
				t.Fatalf("tx=%v: a refused pipe wrote: %v", tx, got)
			}
		} else if err != nil {
			t.Fatalf("tx=%v: Exec = %v", tx, err)
		}
	}
}

// TestCollectionRoundTrips: every TTL'd write of a list or set, multi-key
// ones included, is one round trip.
func TestCollectionRoundTrips(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Shared(t)
	root, err := nest.New[lsRoot](rdb, nil)
	must(t, err)
	u := root.User.At(1)
	_, _ = u.Jobs.RPush(ctx, "warm") // loads the write script
	tc := &pipelineCounter{}
	rdb.AddHook(tc)
	for _, c := range []struct {
		name string
		op   func() error
	}{
		{"RPush", func() error { _, err := u.Jobs.RPush(ctx, "a", "b"); return err }},
		{"LPush", func() error { _, err := u.Jobs.LPush(ctx, "c"); return err }},
		{"Set", func() error { return u.Jobs.Set(ctx, 0, "d") }},
		{"Insert", func() error { _, err := u.Jobs.InsertAfter(ctx, "d", "e"); return err }},
		{"Move", func() error { _, err := u.Jobs.Move(ctx, u.Done, nest.Left, nest.Right); return err }},
		{"BLMove", func() error { _, err := u.Jobs.BLMove(ctx, u.Done, nest.Left, nest.Right, time.Second); return err }},
		{"Add", func() error { _, err := u.Tags.Add(ctx, "a", "b"); return err }},
		{"UnionStore", func() error { _, err := u.Tags.UnionStore(ctx, u.Dest, u.Other); return err }},
		{"SMove", func() error { _, err := u.Tags.Move(ctx, u.Dest, "a"); return err }},
		{"sliding", func() error { _, err := u.SlideSet.Members(ctx); return err }},
	} {
		before := tc.calls.Load()
		must(t, c.op())
		if n := tc.calls.Load() - before; n != 1 {
			t.Errorf("%s took %d round trips, want 1", c.name, n)
		}
	}
}
