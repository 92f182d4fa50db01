package nest_test

// Review of 89726ea (Lock.Obtain: a try slower than the lease no longer
// reads as not obtained): retries bounded by the lease through
// retryWithin, each try left to ctx and the client's timeouts.

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bsm/redislock"
	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// countingRetry wraps a strategy and counts its calls: one per failed try
// (redislock asks for a backoff after each try that found the lock held).
type countingRetry struct {
	s     nest.RetryStrategy
	calls atomic.Int64
}

func (c *countingRetry) NextBackoff() time.Duration {
	c.calls.Add(1)
	return c.s.NextBackoff()
}

// fixedRetry returns the same backoff forever, whatever it is (zero,
// negative, huge).
type fixedRetry time.Duration

func (f fixedRetry) NextBackoff() time.Duration { return time.Duration(f) }

// advLockServer starts a dedicated server (standalone on both backends:
// these tests pause it, reset its stats or stop it) and a bound schema.
func advLockServer(t *testing.T, opt *redis.Options) (*redistest.Server, *redis.Client, *ctrRoot) {
	t.Helper()
	srv := redistest.Start(t)
	if opt == nil {
		opt = &redis.Options{}
	}
	opt.Addr = srv.Addr()
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	root, err := nest.New[ctrRoot](rdb, nil)
	if err != nil {
		t.Fatal(err)
	}
	return srv, rdb, root
}

// holdLock obtains l for the rest of the test, so that Obtain finds it
// held by another token.
func holdLock(t *testing.T, l nest.Lock) {
	t.Helper()
	ctx := context.Background()
	held, err := l.Obtain(ctx)
	must(t, err)
	t.Cleanup(func() { _ = held.Release(ctx) })
}

// advEvalCalls returns how many EVALSHA and EVAL the server ran since its
// stats were last reset.
func advEvalCalls(t *testing.T, rdb *redis.Client) int {
	t.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	must(t, err)
	n := 0
	for line := range strings.Lines(info) {
		line = strings.TrimSpace(line)
		for _, cmd := range []string{"cmdstat_evalsha:", "cmdstat_eval:"} {
			if rest, ok := strings.CutPrefix(line, cmd); ok {
				calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
				c, err := strconv.Atoi(calls)
				must(t, err)
				n += c
			}
		}
	}
	return n
}

// Without a ctx deadline, retries against a holder stop with
// ErrNotObtained about one lease after the first try: not earlier than a
// lease less one backoff, not much later than the lease, whatever the
// strategy.
func TestAdvLockReviewRetriesStopAfterLease(t *testing.T) {
	ctx := context.Background()
	root, _ := newCtrRoot(t)
	u := root.User.At(101)
	holdLock(t, u.Lock)
	const lease = 400 * time.Millisecond
	for _, tc := range []struct {
		name       string
		s          nest.RetryStrategy
		maxBackoff time.Duration
	}{
		{"linear", redislock.LinearBackoff(20 * time.Millisecond), 20 * time.Millisecond},
		{"exponential", redislock.ExponentialBackoff(16*time.Millisecond, 64*time.Millisecond), 64 * time.Millisecond},
		{"limited", redislock.LimitRetry(redislock.LinearBackoff(20*time.Millisecond), 1000), 20 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr := &countingRetry{s: tc.s}
			start := time.Now()
			lz, err := u.Lock.Obtain(ctx, nest.WithLease(lease), nest.WithRetry(cr))
			took := time.Since(start)
			if lz != nil || !errors.Is(err, nest.ErrNotObtained) || !errors.Is(err, redislock.ErrNotObtained) || !strings.Contains(err.Error(), u.Lock.Name()) {
				t.Fatalf("Obtain of a held lock = %v, %v; want ErrNotObtained naming the key", lz, err)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Obtain without deadline = %v: a deadline error", err)
			}
			if took < lease-tc.maxBackoff-15*time.Millisecond || took > lease+time.Second {
				t.Fatalf("gave up after %v; want about the lease %v (within one backoff %v)", took, lease, tc.maxBackoff)
			}
			if n := cr.calls.Load(); n < 3 {
				t.Fatalf("%d tries in %v with backoff <= %v", n, took, tc.maxBackoff)
			}
		})
	}
	// LimitRetry still ends the retries first: 1 try + 3 retries.
	cr := &countingRetry{s: redislock.LimitRetry(redislock.LinearBackoff(10*time.Millisecond), 3)}
	start := time.Now()
	_, err := u.Lock.Obtain(ctx, nest.WithLease(10*time.Second), nest.WithRetry(cr))
	if !errors.Is(err, nest.ErrNotObtained) || time.Since(start) > 2*time.Second {
		t.Fatalf("LimitRetry(3) = %v after %v", err, time.Since(start))
	}
	if n := cr.calls.Load(); n != 4 {
		t.Fatalf("LimitRetry(3): %d tries; want 4", n)
	}
}

// With a ctx deadline the lease does not bound the retries: they go on
// until ctx's deadline, which Obtain returns.
func TestAdvLockReviewDeadlineOutlastsLease(t *testing.T) {
	ctx := context.Background()
	root, _ := newCtrRoot(t)
	u := root.User.At(102)
	holdLock(t, u.Lock)
	for _, s := range []nest.RetryStrategy{
		redislock.LinearBackoff(10 * time.Millisecond),
		redislock.ExponentialBackoff(16*time.Millisecond, 32*time.Millisecond),
		fixedRetry(math.MaxInt64),
	} {
		dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		start := time.Now()
		_, err := u.Lock.Obtain(dctx, nest.WithLease(30*time.Millisecond), nest.WithRetry(s))
		took := time.Since(start)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nest.ErrNotObtained) || !strings.Contains(err.Error(), u.Lock.Name()) {
			t.Fatalf("%T: Obtain past its deadline = %v; want DeadlineExceeded naming the key", s, err)
		}
		if took < 280*time.Millisecond || took > 2*time.Second {
			t.Fatalf("%T: returned after %v; want ctx's 300ms", s, took)
		}
	}
}

// Without WithRetry, or with a strategy whose backoff is zero, negative
// or longer than the lease, Obtain sends exactly one try and returns
// ErrNotObtained at once.
func TestAdvLockReviewSingleTry(t *testing.T) {
	ctx := context.Background()
	_, rdb, root := advLockServer(t, nil)
	u := root.User.At(103)
	holdLock(t, u.Lock) // also loads the script
	for name, opts := range map[string][]nest.LockOption{
		"no WithRetry":  nil,
		"NoRetry":       {nest.WithRetry(redislock.NoRetry())},
		"zero":          {nest.WithRetry(fixedRetry(0))},
		"negative":      {nest.WithRetry(fixedRetry(-time.Second))},
		"min int64":     {nest.WithRetry(fixedRetry(math.MinInt64))},
		"huge":          {nest.WithRetry(fixedRetry(math.MaxInt64))},
		"beyond lease":  {nest.WithRetry(fixedRetry(31 * time.Second))},
		"beyond WithLe": {nest.WithLease(50 * time.Millisecond), nest.WithRetry(fixedRetry(60 * time.Millisecond))},
	} {
		must(t, rdb.ConfigResetStat(ctx).Err())
		start := time.Now()
		_, err := u.Lock.Obtain(ctx, opts...)
		if !errors.Is(err, nest.ErrNotObtained) || time.Since(start) > time.Second {
			t.Errorf("%s: Obtain of a held lock = %v after %v; want ErrNotObtained at once", name, err, time.Since(start))
		}
		if n := advEvalCalls(t, rdb); n != 1 {
			t.Errorf("%s: %d tries; want 1", name, n)
		}
	}
	// A 1ns backoff retries (in a tight loop) until the lease.
	must(t, rdb.ConfigResetStat(ctx).Err())
	start := time.Now()
	_, err := u.Lock.Obtain(ctx, nest.WithLease(100*time.Millisecond), nest.WithRetry(fixedRetry(1)))
	if !errors.Is(err, nest.ErrNotObtained) || time.Since(start) < 90*time.Millisecond || time.Since(start) > 2*time.Second {
		t.Fatalf("1ns backoff: %v after %v; want ErrNotObtained after the lease", err, time.Since(start))
	}
	if n := advEvalCalls(t, rdb); n < 2 {
		t.Fatalf("1ns backoff: %d tries", n)
	}
}

// Cancelling a ctx without deadline while Obtain waits between retries
// returns context.Canceled promptly: the far deadline Obtain adds keeps
// nothing waiting.
func TestAdvLockReviewCancelBetweenRetries(t *testing.T) {
	ctx := context.Background()
	root, _ := newCtrRoot(t)
	u := root.User.At(104)
	holdLock(t, u.Lock)
	for _, s := range []nest.RetryStrategy{
		redislock.LinearBackoff(5 * time.Second),
		redislock.LinearBackoff(time.Millisecond),
		redislock.ExponentialBackoff(16*time.Millisecond, 10*time.Second),
	} {
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(80*time.Millisecond, cancel)
		start := time.Now()
		_, err := u.Lock.Obtain(cctx, nest.WithRetry(s)) // lease 30s
		took := time.Since(start)
		cancel()
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), u.Lock.Name()) {
			t.Fatalf("%v: Obtain cancelled between retries = %v; want Canceled naming the key", s, err)
		}
		if took < 70*time.Millisecond || took > 600*time.Millisecond {
			t.Fatalf("%v: returned %v after the start; cancelled at 80ms", s, took)
		}
	}
}

// A ctx cancelled while a try waits on a paused server: Obtain returns
// when the server answers (go-redis watches no ctx during a read), no
// later, and never hangs on the far deadline. What it returns is sound:
// ctx's error naming the key, or a lease that really holds the lock.
func TestAdvLockReviewCancelDuringBlockedTry(t *testing.T) {
	ctx := context.Background()
	srv, rdb, root := advLockServer(t, nil)
	u := root.User.At(105)
	for _, flush := range []bool{false, true} {
		for _, retry := range []bool{false, true} {
			l, err := u.Lock.Obtain(ctx) // loads the script
			must(t, err)
			must(t, l.Release(ctx))
			if flush {
				must(t, rdb.ScriptFlush(ctx).Err())
			}
			opts := []nest.LockOption{nest.WithLease(5 * time.Second)}
			if retry {
				opts = append(opts, nest.WithRetry(redislock.LinearBackoff(10*time.Millisecond)))
			}
			must(t, srv.Client(t, 0).ClientPause(ctx, 500*time.Millisecond).Err())
			cctx, cancel := context.WithCancel(ctx)
			time.AfterFunc(50*time.Millisecond, cancel)
			start := time.Now()
			lease, err := u.Lock.Obtain(cctx, opts...)
			took := time.Since(start)
			cancel()
			if took < 400*time.Millisecond || took > 2*time.Second {
				t.Fatalf("flush %v retry %v: Obtain returned after %v; the pause lasted 500ms", flush, retry, took)
			}
			switch {
			case err == nil:
				if v := rdb.Get(ctx, u.Lock.Name()).Val(); v != lease.Token() {
					t.Fatalf("flush %v retry %v: lease %q returned but the key holds %q", flush, retry, lease.Token(), v)
				}
				must(t, lease.Release(ctx))
			case !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), u.Lock.Name()):
				t.Fatalf("flush %v retry %v: Obtain = %v; want Canceled naming the key, or a lease", flush, retry, err)
			case flush && rdb.Exists(ctx, u.Lock.Name()).Val() != 0:
				t.Fatalf("flush %v retry %v: Canceled, yet the lock was taken", flush, retry)
			}
			must(t, rdb.Del(ctx, u.Lock.Name()).Err())
		}
	}
}

// A slow try (paused server) against a holder: no retry starts after the
// lease went by, so Obtain answers ErrNotObtained right after the pause;
// a ctx deadline beyond the pause keeps retrying and obtains the lock once
// the holder's lease ran out. A client with ContextTimeoutEnabled no longer
// has its try cut at the lease either.
func TestAdvLockReviewSlowTries(t *testing.T) {
	ctx := context.Background()
	srv, rdb, root := advLockServer(t, &redis.Options{ContextTimeoutEnabled: true})
	u := root.User.At(106)
	held, err := u.Lock.Obtain(ctx)
	must(t, err)
	cr := &countingRetry{s: redislock.LinearBackoff(5 * time.Millisecond)}
	must(t, srv.Client(t, 0).ClientPause(ctx, 300*time.Millisecond).Err())
	start := time.Now()
	_, err = u.Lock.Obtain(ctx, nest.WithLease(30*time.Millisecond), nest.WithRetry(cr))
	took := time.Since(start)
	if !errors.Is(err, nest.ErrNotObtained) || took < 250*time.Millisecond || took > 2*time.Second {
		t.Fatalf("slow try on a held lock = %v after %v; want ErrNotObtained after the pause", err, took)
	}
	if n := cr.calls.Load(); n != 1 {
		t.Fatalf("%d tries; want 1 (the next would start past the lease)", n)
	}
	must(t, held.Release(ctx))

	// Free lock, no script cached, ContextTimeoutEnabled: obtained.
	must(t, rdb.ScriptFlush(ctx).Err())
	must(t, srv.Client(t, 0).ClientPause(ctx, 200*time.Millisecond).Err())
	lease, err := u.Lock.Obtain(ctx, nest.WithLease(30*time.Millisecond))
	if err != nil {
		t.Fatalf("slow try on a free lock (ContextTimeoutEnabled) = %v", err)
	}
	_ = lease.Release(ctx)

	// A holder with a 300ms lease; a slow first try; a ctx deadline of 2s.
	_, err = u.Lock.Obtain(ctx, nest.WithLease(300*time.Millisecond))
	must(t, err)
	must(t, srv.Client(t, 0).ClientPause(ctx, 100*time.Millisecond).Err())
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	lease, err = u.Lock.Obtain(dctx, nest.WithLease(time.Second), nest.WithRetry(redislock.LinearBackoff(10*time.Millisecond)))
	if err != nil {
		t.Fatalf("Obtain retrying to ctx's deadline after the holder's lease = %v", err)
	}
	must(t, lease.Release(ctx))
}

// 64 goroutines contend for one lock with short leases, no ctx deadline
// and retries. No two holders at once: a holder that finds another one
// inside must have lost its lease (its Release fails).
func TestAdvLockReviewContention(t *testing.T) {
	ctx := context.Background()
	root, _ := newCtrRoot(t)
	u := root.User.At(107)
	const goroutines, rounds = 64, 4
	var holder atomic.Int64 // goroutine+1 inside, 0 when free
	var obtained, notObtained atomic.Int64
	var mu sync.Mutex
	overlapped := map[int64]bool{} // holders someone found inside
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*rounds)
	for g := range int64(goroutines) {
		id := g + 1
		wg.Go(func() {
			for range rounds {
				lease, err := u.Lock.Obtain(ctx, nest.WithLease(150*time.Millisecond),
					nest.WithRetry(redislock.LinearBackoff(2*time.Millisecond)))
				if errors.Is(err, nest.ErrNotObtained) {
					notObtained.Add(1)
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				obtained.Add(1)
				if prev := holder.Swap(id); prev != 0 {
					mu.Lock()
					overlapped[prev] = true
					mu.Unlock()
				}
				time.Sleep(200 * time.Microsecond)
				holder.CompareAndSwap(id, 0)
				rerr := lease.Release(ctx)
				mu.Lock()
				found := overlapped[id]
				delete(overlapped, id)
				mu.Unlock()
				switch {
				case found && rerr == nil:
					errs <- errors.New("two holders at once, both with a live lease")
				case rerr != nil && !errors.Is(rerr, nest.ErrLockNotHeld):
					errs <- rerr
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if obtained.Load() == 0 {
		t.Fatalf("nobody obtained the lock (%d not obtained)", notObtained.Load())
	}
	t.Logf("%d obtained, %d not obtained", obtained.Load(), notObtained.Load())
}

// The server goes away while Obtain retries, or while its try waits on
// the server: Obtain returns the connection's error naming the key, soon,
// neither ErrNotObtained nor a ctx error.
func TestAdvLockReviewServerGone(t *testing.T) {
	ctx := context.Background()
	for _, blocked := range []bool{false, true} {
		srv, rdb, root := advLockServer(t, nil)
		u := root.User.At(108)
		held, err := u.Lock.Obtain(ctx)
		must(t, err)
		_ = held
		if blocked {
			must(t, rdb.ClientPause(ctx, 5*time.Second).Err())
		}
		time.AfterFunc(100*time.Millisecond, srv.Stop)
		start := time.Now()
		_, err = u.Lock.Obtain(ctx, nest.WithLease(time.Minute), nest.WithRetry(redislock.LinearBackoff(10*time.Millisecond)))
		took := time.Since(start)
		if err == nil || errors.Is(err, nest.ErrNotObtained) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			t.Fatalf("blocked %v: Obtain on a stopped server = %v; want the connection's error", blocked, err)
		}
		if !strings.Contains(err.Error(), u.Lock.Name()) || !strings.Contains(err.Error(), "OBTAIN") {
			t.Fatalf("blocked %v: %v; want the key and the operation named", blocked, err)
		}
		if took > 10*time.Second {
			t.Fatalf("blocked %v: Obtain returned after %v", blocked, took)
		}
	}
}

type advLockLogs struct {
	mu   sync.Mutex
	recs []map[string]string
}

func (h *advLockLogs) Enabled(context.Context, slog.Level) bool { return true }
func (h *advLockLogs) Handle(_ context.Context, r slog.Record) error {
	m := map[string]string{}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
	h.mu.Lock()
	h.recs = append(h.recs, m)
	h.mu.Unlock()
	return nil
}
func (h *advLockLogs) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *advLockLogs) WithGroup(string) slog.Handler      { return h }

// Options.Logger records one OBTAIN per Obtain (not one per try), with
// the key, the lease and the error when it fails.
func TestAdvLockReviewLogsObtain(t *testing.T) {
	ctx := context.Background()
	rdb := newRedis(t)
	logs := &advLockLogs{}
	root, err := nest.New[ctrRoot](rdb, &nest.Options{Logger: slog.New(logs)})
	must(t, err)
	u := root.User.At(109)
	lease, err := u.Lock.Obtain(ctx)
	must(t, err)
	_, err = u.Lock.Obtain(ctx, nest.WithLease(100*time.Millisecond), nest.WithRetry(redislock.LinearBackoff(10*time.Millisecond)))
	if !errors.Is(err, nest.ErrNotObtained) {
		t.Fatalf("Obtain of a held lock = %v", err)
	}
	must(t, lease.Release(ctx))
	logs.mu.Lock()
	defer logs.mu.Unlock()
	var obtains []map[string]string
	for _, r := range logs.recs {
		if r["method"] == "OBTAIN" {
			obtains = append(obtains, r)
		}
	}
	if len(obtains) != 2 {
		t.Fatalf("OBTAIN records %v; want 2", obtains)
	}
	for i, want := range []struct{ ttl, err string }{{"30s", ""}, {"100ms", "not obtained"}} {
		r := obtains[i]
		if r["key"] != u.Lock.Name() || r["ttl"] != want.ttl || (want.err == "") != (r["error"] == "") || !strings.Contains(r["error"], want.err) {
			t.Errorf("record %d = %v; want key %s, ttl %s, error %q", i, r, u.Lock.Name(), want.ttl, want.err)
		}
	}
}

// A try in flight follows the client's timeouts, as every command does:
// go-redis turns ctx's deadline into a socket deadline only with
// Options.ContextTimeoutEnabled. So on a default client a 100ms ctx on a
// server paused 400ms gets the lease when the server answers, and with
// ContextTimeoutEnabled ctx's error at its deadline. (The review found
// the WithRetry doc saying a try was bounded by ctx; the docs now say
// this.)
func TestAdvLockReviewTryInFlightFollowsClientTimeouts(t *testing.T) {
	ctx := context.Background()
	for _, ctxTimeouts := range []bool{false, true} {
		srv, rdb, root := advLockServer(t, &redis.Options{ContextTimeoutEnabled: ctxTimeouts})
		u := root.User.At(110)
		l, err := u.Lock.Obtain(ctx) // loads the script
		must(t, err)
		must(t, l.Release(ctx))
		must(t, srv.Client(t, 0).ClientPause(ctx, 400*time.Millisecond).Err())
		dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		start := time.Now()
		lease, err := u.Lock.Obtain(dctx)
		took := time.Since(start)
		cancel()
		switch {
		case ctxTimeouts && (!errors.Is(err, context.DeadlineExceeded) || lease != nil || took > 350*time.Millisecond):
			t.Errorf("ContextTimeoutEnabled: Obtain with a 100ms ctx on a paused server = lease %v, %v after %v; want DeadlineExceeded at the deadline", lease != nil, err, took)
		case !ctxTimeouts && (err != nil || lease == nil || took < 350*time.Millisecond):
			t.Errorf("default client: Obtain with a 100ms ctx on a paused server = lease %v, %v after %v; want the lease once the server answers", lease != nil, err, took)
		case !ctxTimeouts:
			if tok, _ := rdb.Get(ctx, u.Lock.Name()).Result(); tok != lease.Token() {
				t.Errorf("default client: the lease returned does not hold the key (%q, lease %q)", tok, lease.Token())
			}
		}
	}
}
