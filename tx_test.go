package nest_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
)

// transfer moves amount from one key to another in a Watch transaction,
// reading both through the watched connection.
func transfer(ctx context.Context, tm *zTeam, amount int) error {
	return tm.Watch(ctx, func(tx *nest.Tx) error {
		r := tx.Reads()
		from, to := tm.From.In(r).Get(ctx), tm.To.In(r).Get(ctx)
		if err := r.Exec(ctx); err != nil {
			return err
		}
		w := tx.Writes()
		tm.From.In(w).Set(ctx, from.Val()-amount)
		tm.To.In(w).Set(ctx, to.Val()+amount)
		return nil
	}, tm.From, tm.To)
}

// TestWatchTransfer: 32 goroutines transferring between two keys of a
// pinned namespace keep the total (on Redis Cluster too: one slot).
func TestWatchTransfer(t *testing.T) {
	ctx := context.Background()
	root, rdb := newZRoot(t, &nest.Options{UpdateRetries: 100000})
	tm := root.Team.At(1)
	must(t, tm.From.Set(ctx, 1000))
	const workers, each = 32, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if err := transfer(ctx, tm, 1); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	from, _ := tm.From.Get(ctx)
	to, _ := tm.To.Get(ctx)
	if from+to != 1000 || to != workers*each {
		t.Fatalf("from %d + to %d; want 1000 with to = %d", from, to, workers*each)
	}
	if ttl := rdb.PTTL(ctx, tm.To.Name()).Val(); ttl < 59*time.Minute {
		t.Fatalf("written key's TTL = %v; want about 1h", ttl)
	}
}

// TestWatchRetries: a watched key changed by another client between the
// reads and EXEC makes the transaction run again; a key changed every
// time ends in ErrConflict after Options.UpdateRetries attempts.
func TestWatchRetries(t *testing.T) {
	ctx := context.Background()
	root, rdb := newZRoot(t, &nest.Options{UpdateRetries: 4})
	tm := root.Team.At(2)
	must(t, tm.From.Set(ctx, 10))
	runs := 0
	err := tm.Watch(ctx, func(tx *nest.Tx) error {
		runs++
		r := tx.Reads()
		cur := tm.From.In(r).Get(ctx)
		if err := r.Exec(ctx); err != nil {
			return err
		}
		if runs == 1 {
			must(t, rdb.Set(ctx, tm.From.Name(), 20, 0).Err()) // another client
		}
		tm.From.In(tx.Writes()).Set(ctx, cur.Val()+1)
		return nil
	}, tm.From)
	if err != nil || runs != 2 {
		t.Fatalf("Watch = %v after %d runs; want success after 2", err, runs)
	}
	if v, _ := tm.From.Get(ctx); v != 21 {
		t.Fatalf("value = %d; want 21 (the retry read the other client's 20)", v)
	}

	runs = 0
	err = tm.Watch(ctx, func(tx *nest.Tx) error {
		runs++
		must(t, rdb.Incr(ctx, tm.To.Name()).Err())
		tm.From.In(tx.Writes()).Set(ctx, -1)
		return nil
	}, tm.From, tm.To)
	var oe *nest.OpError
	if !errors.Is(err, nest.ErrConflict) || !errors.As(err, &oe) || oe.Key != tm.From.Name() || runs != 4 {
		t.Fatalf("Watch under constant change = %v after %d runs; want ErrConflict after 4", err, runs)
	}
	if v, _ := tm.From.Get(ctx); v != 21 {
		t.Fatalf("a conflicting transaction wrote: %d", v)
	}
}

func TestWatchAborts(t *testing.T) {
	ctx := context.Background()
	root, rdb := newZRoot(t, nil)
	tm := root.Team.At(3)
	must(t, tm.From.Set(ctx, 1))
	stop := errors.New("stop")
	err := tm.Watch(ctx, func(tx *nest.Tx) error {
		tm.From.In(tx.Writes()).Set(ctx, 99)
		return stop
	}, tm.From)
	if err != stop {
		t.Fatalf("Watch = %v; want fn's error as is", err)
	}
	if v, _ := tm.From.Get(ctx); v != 1 {
		t.Fatalf("an aborted transaction wrote %d", v)
	}
	// A queued write that fails to queue: nothing written.
	err = tm.Watch(ctx, func(tx *nest.Tx) error {
		w := tx.Writes()
		tm.From.In(w).Set(ctx, 99)
		tm.A.In(w).Add(ctx, nest.Z[string]{Member: "x", Score: nan()})
		return nil
	}, tm.From)
	if !errors.Is(err, nest.ErrInvalidArg) {
		t.Fatalf("Watch with a NaN queued = %v", err)
	}
	if v, _ := tm.From.Get(ctx); v != 1 {
		t.Fatalf("a failed transaction wrote %d", v)
	}
	// Cancelled ctx: its error, fn never called.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	called := false
	err = tm.Watch(cctx, func(*nest.Tx) error { called = true; return nil }, tm.From)
	if !errors.Is(err, context.Canceled) || called {
		t.Fatalf("Watch with a cancelled ctx = %v (fn called: %v)", err, called)
	}
	// No key, nil key, unusable key.
	if err := tm.Watch(ctx, func(*nest.Tx) error { return nil }); !errors.Is(err, nest.ErrInvalidArg) {
		t.Fatalf("Watch of no key = %v", err)
	}
	if err := tm.Watch(ctx, func(*nest.Tx) error { return nil }, nil); !errors.Is(err, nest.ErrInvalidArg) {
		t.Fatalf("Watch of a nil key = %v", err)
	}
	var zero nest.Key[int]
	if err := tm.Watch(ctx, func(*nest.Tx) error { return nil }, zero); !errors.Is(err, nest.ErrNotBound) {
		t.Fatalf("Watch of a zero key = %v", err)
	}
	// Read-only transaction: nothing to write, no error.
	err = tm.Watch(ctx, func(tx *nest.Tx) error {
		r := tx.Reads()
		f := tm.A.In(r).Len(ctx)
		return errors.Join(r.Exec(ctx), f.Err())
	}, tm.A)
	if err != nil {
		t.Fatalf("read-only Watch = %v", err)
	}
	_ = rdb
}

func nan() float64 { var z float64; return z / z }

// TestWatchSliding: reads of a sliding key inside the transaction do not
// touch it (which would fail EXEC every time); the commit renews it.
func TestWatchSliding(t *testing.T) {
	ctx := context.Background()
	root, rdb := newZRoot(t, &nest.Options{UpdateRetries: 3})
	tm := root.Team.At(4)
	must(t, rdb.Set(ctx, tm.Seen.Name(), 5, 10*time.Second).Err())
	err := tm.Watch(ctx, func(tx *nest.Tx) error {
		r := tx.Reads()
		cur := tm.Seen.In(r).Get(ctx)
		if err := r.Exec(ctx); err != nil {
			return err
		}
		if ttl := rdb.PTTL(ctx, tm.Seen.Name()).Val(); ttl > 10*time.Second {
			t.Errorf("a read inside the transaction renewed the TTL: %v", ttl)
		}
		tm.B.In(tx.Writes()).Add(ctx, nest.Z[string]{Member: "seen", Score: float64(cur.Val())})
		return nil
	}, tm.Seen)
	if err != nil {
		t.Fatalf("Watch of a sliding key = %v", err)
	}
	if ttl := rdb.PTTL(ctx, tm.Seen.Name()).Val(); ttl < 55*time.Second {
		t.Fatalf("the commit did not renew the sliding TTL: %v", ttl)
	}
	if f, _ := tm.B.Score(ctx, "seen"); f != 5 {
		t.Fatalf("written score = %v", f)
	}
}

// TestWatchSlots: on Redis Cluster, watched keys in different slots are
// refused before anything is sent, and so is a queued key outside the
// watched slot; keys of a pinned namespace work (TestWatchTransfer).
func TestWatchSlots(t *testing.T) {
	ctx := context.Background()
	root, rdb := newZRoot(t, nil)
	tm := root.Team.At(5)
	called := false
	err := root.Watch(ctx, func(*nest.Tx) error { called = true; return nil }, tm.From, root.Other)
	if onCluster {
		if !errors.Is(err, redis.ErrCrossSlot) || called {
			t.Fatalf("Watch across slots = %v (fn called: %v); want ErrCrossSlot", err, called)
		}
		err = tm.Watch(ctx, func(tx *nest.Tx) error {
			tm.From.In(tx.Writes()).Set(ctx, 1)
			root.Other.In(tx.Writes()).Add(ctx, nest.Z[string]{Member: "x"})
			return nil
		}, tm.From)
		if !errors.Is(err, redis.ErrCrossSlot) {
			t.Fatalf("a queued write in another slot = %v; want ErrCrossSlot", err)
		}
		if n := rdb.Exists(ctx, tm.From.Name(), root.Other.Name()).Val(); n != 0 {
			t.Fatal("a refused transaction wrote")
		}
		return
	}
	if err != nil || !called {
		t.Fatalf("Watch on one server = %v", err)
	}
}

// recordPipelines records the command names of each pipeline a client
// sends (MULTI and EXEC included).
type recordPipelines struct {
	mu    sync.Mutex
	calls [][]string
}

func (r *recordPipelines) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (r *recordPipelines) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (r *recordPipelines) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !handshake(cmds[0]) {
			names := make([]string, len(cmds))
			for i, c := range cmds {
				names[i] = c.Name()
			}
			r.mu.Lock()
			r.calls = append(r.calls, names)
			r.mu.Unlock()
		}
		return next(ctx, cmds)
	}
}

// TestPipeliner: raw go-redis commands queued through Pipe.Pipeliner go in
// the same round trip as the typed ones, inside the same MULTI/EXEC, in
// queue order; and inside a Watch transaction too.
func TestPipeliner(t *testing.T) {
	ctx := context.Background()
	shared := newRedis(t)
	var rdb redis.UniversalClient
	switch c := shared.(type) {
	case *redis.Client:
		rdb = redis.NewClient(c.Options())
	case *redis.ClusterClient:
		rdb = redis.NewClusterClient(c.Options())
	}
	t.Cleanup(func() { _ = rdb.Close() })
	rec := &recordPipelines{}
	rdb.AddHook(rec)
	root := nest.MustNew[zRoot](rdb, nil)
	tm := root.Team.At(6)

	p := tm.TxPipeline()
	set := tm.From.In(p).Set(ctx, 5)
	raw := p.Pipeliner().IncrBy(ctx, tm.From.Name(), 7)
	get := tm.From.In(p).Get(ctx)
	add := tm.A.In(p).Add(ctx, nest.Z[string]{Member: "m", Score: 1})
	rawCard := p.Pipeliner().ZCard(ctx, tm.A.Name())
	if err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if set.Err() != nil || raw.Val() != 12 || get.Val() != 12 || add.Val() != 1 || rawCard.Val() != 1 {
		t.Fatalf("results: set %v, raw %d, get %d, add %d, raw ZCARD %d", set.Err(), raw.Val(), get.Val(), add.Val(), rawCard.Val())
	}
	if len(rec.calls) != 1 {
		t.Fatalf("%d round trips; want 1: %v", len(rec.calls), rec.calls)
	}
	got := rec.calls[0]
	if got[0] != "multi" || got[len(got)-1] != "exec" || !slices.Contains(got, "incrby") || !slices.Contains(got, "zcard") {
		t.Fatalf("pipeline = %v; want the raw commands inside MULTI/EXEC", got)
	}

	rec.calls = nil
	err := tm.Watch(ctx, func(tx *nest.Tx) error {
		w := tx.Writes()
		tm.To.In(w).Set(ctx, 1)
		w.Pipeliner().Incr(ctx, tm.To.Name())
		return nil
	}, tm.To)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := tm.To.Get(ctx); v != 2 {
		t.Fatalf("To = %d; want 2", v)
	}
	if onCluster {
		return // a Watch runs on the node's client, whose hooks are not the cluster client's
	}
	last := rec.calls[len(rec.calls)-1]
	if !slices.Equal(last, []string{"multi", "set", "incr", "exec"}) {
		t.Fatalf("Watch's MULTI/EXEC = %v", last)
	}
}
