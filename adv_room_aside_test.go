package nest_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
)

// Adversarial tests of the commands direct Key Set, Get, Lookup and
// Password.Set build in a room of their own (setRoom, getRoom in
// args_unsafe.go; directSet, directGet in key.go). Each checks the
// arguments go-redis and its hooks see against those go-redis's own Set,
// Get and GetEx build for the same call, and that they stay as they were
// sent while hooks keep the commands across garbage collections and moves
// of goroutine stacks.

type (
	araDoc struct {
		A string `json:"a" msgpack:"a"`
		B []int  `json:"b" msgpack:"b"`
	}
	araUser struct {
		nest.Namespace `nest:"u:{id}" ttl:"90s"`
		Int            nest.Key[int]       `nest:"int"`
		Big            nest.Key[uint64]    `nest:"big"`
		I8             nest.Key[int8]      `nest:"i8"`
		U16            nest.Key[uint16]    `nest:"u16"`
		Never          nest.Key[int64]     `nest:"never" ttl:"none"`
		Str            nest.Key[string]    `nest:"str" ttl:"1500ms"`
		F              nest.Key[float64]   `nest:"f"`
		B              nest.Key[bool]      `nest:"b"`
		Bytes          nest.Key[[]byte]    `nest:"bytes"`
		Doc            nest.Key[araDoc]    `nest:"doc"`
		DocMP          nest.Key[araDoc]    `nest:"docmp" codec:"msgpack"`
		Floats         nest.Key[[]float64] `nest:"floats"`
		Slide          nest.Key[string]    `nest:"slide" ttl:"2s,sliding"`
		SlideMs        nest.Key[int]       `nest:"slidems" ttl:"1500ms,sliding"`
		Tok            nest.Secret[string] `nest:"tok"`
		PW             nest.Password       `nest:"pw"`
	}
	araRoot struct {
		nest.Namespace `nest:"ara"`
		User           nest.Sub[araUser]
	}
)

var araSecret = nest.SecretKey{ID: "ara1", Key: []byte("0123456789abcdef0123456789abcdef")}

func newAraRoot(t testing.TB, rdb redis.UniversalClient) *araRoot {
	t.Helper()
	r, err := nest.New[araRoot](rdb, &nest.Options{SecretKeys: []nest.SecretKey{araSecret}, Password: fastPasswords})
	if err != nil {
		t.Fatalf("nest.New: %v", err)
	}
	return r
}

// araTag marks the commands of one operation in its context.
type araTag struct{}

// araKept is a command a hook kept, with a copy of its arguments and their
// types as the hook saw them before it was sent.
type araKept struct {
	cmd   redis.Cmder
	args  []any
	types []string
}

func araSnap(cmd redis.Cmder) *araKept {
	a := slices.Clone(cmd.Args())
	ts := make([]string, len(a))
	for i, x := range a {
		ts[i] = fmt.Sprintf("%T", x)
		switch v := x.(type) {
		case string:
			a[i] = strings.Clone(v)
		case []byte:
			a[i] = slices.Clone(v)
		}
	}
	return &araKept{cmd: cmd, args: a, types: ts}
}

// same reports how args differ from the copy, or "".
func (k *araKept) same(args []any) string {
	if len(args) != len(k.args) {
		return fmt.Sprintf("%d arguments %v, were %d %v", len(args), args, len(k.args), k.args)
	}
	for i := range args {
		if fmt.Sprintf("%T", args[i]) != k.types[i] || !reflect.DeepEqual(args[i], k.args[i]) {
			return fmt.Sprintf("argument %d is %T %#v, was %s %#v", i, args[i], args[i], k.types[i], k.args[i])
		}
	}
	return ""
}

// araHook keeps every command whose context carries an araTag, collects
// garbage every gcEvery commands, and runs on a deep stack, so that the
// goroutine's stack grows and moves under the commands it sends.
type araHook struct {
	mu      sync.Mutex
	kept    map[int][]*araKept
	n       atomic.Int64
	gcEvery int64
}

func (h *araHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *araHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if tag, ok := ctx.Value(araTag{}).(int); ok && !handshake(cmd) {
			k := araSnap(cmd)
			h.mu.Lock()
			h.kept[tag] = append(h.kept[tag], k)
			h.mu.Unlock()
			if h.gcEvery > 0 && h.n.Add(1)%h.gcEvery == 0 {
				runtime.GC()
			}
			araDeep(int(h.n.Load() % 300))
		}
		return next(ctx, cmd)
	}
}

func (h *araHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if tag, ok := ctx.Value(araTag{}).(int); ok && !handshake(cmds[0]) {
			h.mu.Lock()
			for _, cmd := range cmds {
				h.kept[tag] = append(h.kept[tag], araSnap(cmd))
			}
			h.mu.Unlock()
		}
		return next(ctx, cmds)
	}
}

func (h *araHook) take(tag int) []*araKept {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.kept[tag]
}

// araDeep recurses n frames of half a kilobyte each: the stack grows,
// and is copied when it does.
//
//go:noinline
func araDeep(n int) byte {
	var buf [512]byte
	buf[n%len(buf)] = byte(n)
	if n <= 0 {
		return buf[0]
	}
	return araDeep(n-1) + buf[n%len(buf)]
}

// araAtDepth calls f n frames down.
//
//go:noinline
func araAtDepth(n int, f func()) {
	var buf [256]byte
	if n <= 0 {
		f()
		return
	}
	buf[n%len(buf)] = byte(n)
	araAtDepth(n-1, f)
	_ = buf[n%len(buf)]
}

// araRaw is a go-redis client whose hook records a command and sends
// nothing: what go-redis's own methods build, offline.
type araRaw struct {
	*redis.Client
	last redis.Cmder
}

func newAraRaw() *araRaw {
	r := &araRaw{Client: redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})}
	r.AddHook(r)
	return r
}

func (r *araRaw) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *araRaw) ProcessHook(redis.ProcessHook) redis.ProcessHook {
	return func(_ context.Context, cmd redis.Cmder) error { r.last = cmd; return nil }
}
func (r *araRaw) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// araOp is one direct call and the go-redis call it must send the same
// command as. raw gets the value nest sent, for values whose encoding is
// not go-redis's (codecs, secrets, password hashes): it then checks the
// rest of the command.
type araOp struct {
	name string
	once bool // go-redis logs a warning for it: run it once
	nest func(ctx context.Context, u *araUser) error
	raw  func(ctx context.Context, r *araRaw, u *araUser, sent any)
}

func araOps() []araOp {
	const big = uint64(math.MaxUint64 - 12345)
	doc := araDoc{A: "é:{x}", B: []int{1, 300, -7}}
	return []araOp{
		{"int ttl", false, func(ctx context.Context, u *araUser) error { return u.Int.Set(ctx, 4242) },
			func(ctx context.Context, r *araRaw, u *araUser, _ any) {
				r.Set(ctx, u.Int.Name(), 4242, 90*time.Second)
			}},
		{"int small", false, func(ctx context.Context, u *araUser) error { return u.Int.Set(ctx, 7) },
			func(ctx context.Context, r *araRaw, u *araUser, _ any) { r.Set(ctx, u.Int.Name(), 7, 90*time.Second) }},
		{"int keepttl", false, func(ctx context.Context, u *araUser) error { return u.Int.Set(ctx, -99999, nest.KeepTTL()) },
			func(ctx context.Context, r *araRaw, u *araUser, _ any) {
				r.Set(ctx, u.Int.Name(), -99999, redis.KeepTTL)
			}},
		{"int px", false, func(ctx context.Context, u *araUser) error {
			return u.Int.Set(ctx, 1<<40, nest.WithTTL(2500*time.Millisecond))
		}, func(ctx context.Context, r *araRaw, u *araUser, _ any) {
			r.Set(ctx, u.Int.Name(), 1<<40, 2500*time.Millisecond)
		}},
		{"int sub-ms", true, func(ctx context.Context, u *araUser) error {
			return u.Int.Set(ctx, 1000, nest.WithTTL(300*time.Microsecond))
		}, func(ctx context.Context, r *araRaw, u *araUser, _ any) {
			r.Set(ctx, u.Int.Name(), 1000, 300*time.Microsecond)
		}},
		{"uint64", false, func(ctx context.Context, u *araUser) error { return u.Big.Set(ctx, big) },
			func(ctx context.Context, r *araRaw, u *araUser, _ any) { r.Set(ctx, u.Big.Name(), big, 90*time.Second) }},
		{"int8", false, func(ctx context.Context, u *araUser) error { return u.I8.Set(ctx, -128) },
			func(ctx context.Context, r *araRaw, u *araUser, _ any) {
				r.Set(ctx, u.I8.Name(), int8(-128), 90*time.Second)
			}},
		{"uint16", false, func(ctx context.Context, u *araUser) error { return u.U16.Set(ctx, 65535) },
			func(ctx context.Context, r *araRaw, u *araUser, _ any) {
				r.Set(ctx, u.U16.Name(), uint16(65535), 90*time.Second)
			}},
		{"ttl none", false, func(ctx context.Context, u *araUser) error { return u.Never.Set(ctx, math.MinInt64) },
			func(ctx context.Context, r *araRaw, u *araUser, _ any) {
				r.Set(ctx, u.Never.Name(), int64(math.MinInt64), 0)
			}},
		{"string", false, func(ctx context.Context, u *araUser) error { return u.Str.Set(ctx, "héllo wörld") },
			func(ctx context.Context, r *araRaw, u *araUser, v any) {
				r.Set(ctx, u.Str.Name(), v, 1500*time.Millisecond)
			}},
		{"float", false, func(ctx context.Context, u *araUser) error { return u.F.Set(ctx, -1.5e300) },
			func(ctx context.Context, r *araRaw, u *araUser, v any) { r.Set(ctx, u.F.Name(), v, 90*time.Second) }},
		{"bool", false, func(ctx context.Context, u *araUser) error { return u.B.Set(ctx, true, nest.KeepTTL()) },
			func(ctx context.Context, r *araRaw, u *araUser, v any) { r.Set(ctx, u.B.Name(), v, redis.KeepTTL) }},
		{"bytes", false, func(ctx context.Context, u *araUser) error { return u.Bytes.Set(ctx, []byte{0, 1, 255, ':'}) },
			func(ctx context.Context, r *araRaw, u *araUser, v any) { r.Set(ctx, u.Bytes.Name(), v, 90*time.Second) }},
		{"json", false, func(ctx context.Context, u *araUser) error { return u.Doc.Set(ctx, doc) },
			func(ctx context.Context, r *araRaw, u *araUser, v any) { r.Set(ctx, u.Doc.Name(), v, 90*time.Second) }},
		{"msgpack", false, func(ctx context.Context, u *araUser) error { return u.DocMP.Set(ctx, doc, nest.WithTTL(3*time.Second)) },
			func(ctx context.Context, r *araRaw, u *araUser, v any) { r.Set(ctx, u.DocMP.Name(), v, 3*time.Second) }},
		{"secret", false, func(ctx context.Context, u *araUser) error { return u.Tok.Set(ctx, "s3cr3t") },
			func(ctx context.Context, r *araRaw, u *araUser, v any) { r.Set(ctx, u.Tok.Name(), v, 90*time.Second) }},
		{"password", false, func(ctx context.Context, u *araUser) error { return u.PW.Set(ctx, "correct horse") },
			func(ctx context.Context, r *araRaw, u *araUser, v any) { r.Set(ctx, u.PW.Name(), v, 90*time.Second) }},
		{"password keepttl", false, func(ctx context.Context, u *araUser) error {
			return u.PW.Set(ctx, "battery staple", nest.KeepTTL())
		}, func(ctx context.Context, r *araRaw, u *araUser, v any) { r.Set(ctx, u.PW.Name(), v, redis.KeepTTL) }},
		{"get", false, func(ctx context.Context, u *araUser) error { _, err := u.Int.Get(ctx); return err },
			func(ctx context.Context, r *araRaw, u *araUser, _ any) { r.Get(ctx, u.Int.Name()) }},
		{"lookup", false, func(ctx context.Context, u *araUser) error { _, _, err := u.Str.Lookup(ctx); return err },
			func(ctx context.Context, r *araRaw, u *araUser, _ any) { r.Get(ctx, u.Str.Name()) }},
		{"secret get", false, func(ctx context.Context, u *araUser) error { _, _, err := u.Tok.Lookup(ctx); return err },
			func(ctx context.Context, r *araRaw, u *araUser, _ any) { r.Get(ctx, u.Tok.Name()) }},
		{"getex", false, func(ctx context.Context, u *araUser) error { _, _, err := u.Slide.Lookup(ctx); return err },
			func(ctx context.Context, r *araRaw, u *araUser, _ any) { r.GetEx(ctx, u.Slide.Name(), 2*time.Second) }},
		{"getex ms", false, func(ctx context.Context, u *araUser) error { _, _, err := u.SlideMs.Lookup(ctx); return err },
			func(ctx context.Context, r *araRaw, u *araUser, _ any) {
				r.GetEx(ctx, u.SlideMs.Name(), 1500*time.Millisecond)
			}},
	}
}

// TestAraKeptCommandsMatchRaw runs every direct Set, Get, Lookup (GETEX
// for a sliding TTL) and Password.Set from 16 goroutines, each at a random
// depth of stack, under a hook that keeps the commands, collects garbage
// every few commands and grows the stack, while another goroutine makes
// garbage. Every command must be the one go-redis's own method builds
// (same values, same types), must not change once sent, and must not share
// memory with another: after each call the test scribbles over the
// arguments of the odd commands it kept, and at the end every even one
// must read as it was sent. Run it under -race (checkptr) and with
// GODEBUG=clobberfree=1.
func TestAraKeptCommandsMatchRaw(t *testing.T) {
	rdb := newRedis(t)
	hook := &araHook{kept: map[int][]*araKept{}, gcEvery: 61}
	rdb.AddHook(hook)
	root := newAraRoot(t, rdb)
	ops := araOps()
	done := make(chan struct{})
	var junk sync.WaitGroup
	junk.Add(1)
	go func() { // garbage, and collections out of step with the hook's
		defer junk.Done()
		var keep [][]byte
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			keep = append(keep, make([]byte, 64+i%4096))
			if len(keep) > 512 {
				keep = keep[:0]
				runtime.GC()
			}
		}
	}()
	const goroutines, rounds = 16, 12
	var tags atomic.Int64
	type record struct {
		tag int
		op  string
	}
	var mu sync.Mutex
	var intact []record
	var wg sync.WaitGroup
	errs := make(chan string, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			raw := newAraRaw()
			defer raw.Close()
			u := root.User.At(g)
			rnd := rand.New(rand.NewPCG(uint64(g), 7))
			for round := range rounds {
				for _, op := range ops {
					if op.once && (g > 0 || round > 0) {
						continue
					}
					tag := int(tags.Add(1))
					ctx := context.WithValue(context.Background(), araTag{}, tag)
					var err error
					araAtDepth(rnd.IntN(400), func() { err = op.nest(ctx, u) })
					if err != nil && !errors.Is(err, nest.ErrNotFound) {
						errs <- fmt.Sprintf("%s: %v", op.name, err)
						return
					}
					kept := hook.take(tag)
					if len(kept) != 1 {
						errs <- fmt.Sprintf("%s: the hook saw %d commands, want 1", op.name, len(kept))
						return
					}
					k := kept[0]
					var sent any
					if len(k.args) > 2 {
						sent = k.args[2]
					}
					op.raw(ctx, raw, u, sent)
					if d := k.same(raw.last.Args()); d != "" {
						errs <- fmt.Sprintf("%s: go-redis's own method builds %v; nest sent something else: %s", op.name, raw.last.Args(), d)
						return
					}
					if d := k.same(k.cmd.Args()); d != "" {
						errs <- fmt.Sprintf("%s: the command changed after it was sent: %s", op.name, d)
						return
					}
					if tag%2 == 1 {
						a := k.cmd.Args()
						for i := range a {
							a[i] = "scribbled"
						}
					} else {
						mu.Lock()
						intact = append(intact, record{tag, op.name})
						mu.Unlock()
					}
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	junk.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	runtime.GC()
	runtime.GC()
	for _, r := range intact {
		k := hook.take(r.tag)[0]
		if d := k.same(k.cmd.Args()); d != "" {
			t.Errorf("%s (tag %d) kept by a hook, after other commands were sent and scribbled over: %s", r.op, r.tag, d)
		}
	}
}

// TestAraCancelledAndUnencodable pins what a direct call does when it
// cannot run: a value that fails to encode sends nothing, and the Key is
// usable right after; under a cancelled context Set, Get, GETEX and
// Password.Set fail with context.Canceled, as go-redis's own methods do,
// and a hook that sees the command sees go-redis's own arguments.
func TestAraCancelledAndUnencodable(t *testing.T) {
	rdb := newRedis(t)
	hook := &araHook{kept: map[int][]*araKept{}}
	rdb.AddHook(hook)
	root := newAraRoot(t, rdb)
	u := root.User.At("enc")
	ctx := context.WithValue(context.Background(), araTag{}, 1)
	for _, bad := range [][]float64{{math.NaN()}, {1, math.Inf(-1)}} {
		if err := u.Floats.Set(ctx, bad); err == nil {
			t.Errorf("Set(%v) of a JSON key: no error", bad)
		}
	}
	if kept := hook.take(1); len(kept) != 0 {
		t.Fatalf("values that do not encode sent %d commands: %v", len(kept), kept[0].args)
	}
	if err := u.Floats.Set(ctx, []float64{1.5}); err != nil {
		t.Fatalf("Set after a failed encode: %v", err)
	}
	if kept := hook.take(1); len(kept) != 1 || kept[0].same([]any{"set", u.Floats.Name(), kept[0].args[2], "ex", int64(90)}) != "" {
		t.Fatalf("Set after a failed encode sent %d commands", len(kept))
	}

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	raw := newAraRaw()
	defer raw.Close()
	for i, op := range araOps() {
		if op.once {
			continue
		}
		tag := 100 + 2*i
		errNest := op.nest(context.WithValue(cancelled, araTag{}, tag), u)
		var errRaw error
		kept := hook.take(tag)
		var sent any
		if len(kept) == 1 && len(kept[0].args) > 2 {
			sent = kept[0].args[2]
		}
		switch {
		case strings.HasPrefix(op.name, "password"), op.name == "secret":
			// the value is made fresh each time: only the error is compared
			errRaw = rdb.Set(context.WithValue(cancelled, araTag{}, tag+1), u.PW.Name(), "x", 0).Err()
		default:
			op.raw(cancelled, raw, u, sent)
			errRaw = rdb.Process(context.WithValue(cancelled, araTag{}, tag+1), raw.last)
		}
		if !errors.Is(errNest, context.Canceled) || !errors.Is(errRaw, context.Canceled) {
			t.Errorf("%s under a cancelled context: nest %v, go-redis %v", op.name, errNest, errRaw)
		}
		rawKept := hook.take(tag + 1)
		if len(kept) == 0 && (strings.HasPrefix(op.name, "password") || op.name == "secret") {
			continue // it stopped before sealing or hashing: nothing to send
		}
		if len(kept) != len(rawKept) {
			t.Errorf("%s under a cancelled context: the hook saw %d commands of nest, %d of go-redis", op.name, len(kept), len(rawKept))
			continue
		}
		if len(kept) == 1 && !strings.HasPrefix(op.name, "password") && op.name != "secret" {
			if d := kept[0].same(rawKept[0].args); d != "" {
				t.Errorf("%s under a cancelled context: %s", op.name, d)
			}
		}
	}
}

// araRepeatHits binds ids in turn, each k times in a row (a request
// reading k keys of one user through root.User.At(id)), and returns the
// share of the repeated binds of the last half that found the instance
// the first bind of the id made (the same names: the cache found it).
func araRepeatHits(root *araRoot, first, k, total int) float64 {
	hits, tries := 0, 0
	rounds := total / k
	for r := range rounds {
		name := root.User.At(first + r).Int.Name()
		for range k - 1 {
			again := root.User.At(first + r).Int.Name()
			if r >= rounds/2 {
				tries++
				if unsafe.StringData(again) == unsafe.StringData(name) {
					hits++
				}
			}
		}
	}
	return float64(hits) / float64(tries)
}

// TestAraInstancesTurnsCacheOff checks, from the outside, that the
// cache comes back after standing aside (TestAraAsideStuckAfterColdPhase):
// listing the users once with Sub.Instances (an admin page, a
// RepairIndex, a migration) binds each of them once, which makes
// root.User's cache stand aside; afterwards requests that read a user's
// keys 8 times in a row (7 binds in 8 a cache finds, as the control
// shows) must get it back. Before the cache's trials they never did,
// since while standing aside only one bind in 16 is remembered.
func TestAraInstancesTurnsCacheOff(t *testing.T) {
	const users, k, total = 40_000, 8, 200_000
	ctx := context.Background()
	rdb := newRedis(t)
	root := newAraRoot(t, rdb)
	if got := araRepeatHits(root, 1<<30, k, total); got < 0.8 {
		t.Fatalf("control: a fresh cache found %.3f of repeated binds, want about %.3f", got, float64(k-1)/k)
	}
	root = newAraRoot(t, rdb)
	for i := 0; i < users; i += 1000 {
		p := rdb.Pipeline()
		for j := i; j < i+1000; j++ {
			p.Set(ctx, root.User.At(j).Int.Name(), j, time.Minute)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	root = newAraRoot(t, rdb) // a fresh cache, as in a process that starts
	n := 0
	for _, err := range root.User.Instances(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != users {
		t.Fatalf("Instances listed %d users, want %d", n, users)
	}
	if got := araRepeatHits(root, 1<<30, k, total); got < 0.5 {
		t.Errorf("after one listing of %d users, ids bound %d times in a row found %.3f of repeated binds "+
			"(a cache that is consulted finds %.3f): the cache stood aside for good", users, k, got, float64(k-1)/k)
	}
}

// araKiller stops the server from inside the hook of the first tagged
// command, after the hook has kept it: the command is then in flight.
type araKiller struct {
	*araHook
	stop func()
	once sync.Once
}

func (k *araKiller) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	inner := k.araHook.ProcessHook(next)
	return func(ctx context.Context, cmd redis.Cmder) error {
		if _, ok := ctx.Value(araTag{}).(int); ok && !handshake(cmd) {
			k.once.Do(k.stop)
		}
		return inner(ctx, cmd)
	}
}

// TestAraServerKilledMidCall stops the server while a direct Set, Get
// (GETEX) or Password.Set is in flight: each call fails with an OpError
// naming its key, and the command the hook kept still reads as go-redis's
// own after the failure and a collection.
func TestAraServerKilledMidCall(t *testing.T) {
	if onCluster {
		t.Skip("a server of its own")
	}
	for i, op := range araOps() {
		if op.once {
			continue
		}
		t.Run(op.name, func(t *testing.T) {
			srv, rdb := newFragileServer(t)
			root := newAraRoot(t, rdb)
			u := root.User.At(i)
			ctx := context.Background()
			must(t, rdb.Ping(ctx).Err()) // the connection exists
			hook := &araKiller{araHook: &araHook{kept: map[int][]*araKept{}}, stop: srv.Stop}
			rdb.AddHook(hook)
			err := op.nest(context.WithValue(ctx, araTag{}, 1), u)
			var oe *nest.OpError
			if !errors.As(err, &oe) || !strings.HasPrefix(oe.Key, "ara:u:") {
				t.Fatalf("the server stopped mid-call: %v", err)
			}
			runtime.GC()
			kept := hook.take(1)
			if len(kept) != 1 {
				t.Fatalf("the hook saw %d commands", len(kept))
			}
			if d := kept[0].same(kept[0].cmd.Args()); d != "" {
				t.Fatalf("the command changed: %s", d)
			}
			raw := newAraRaw()
			defer raw.Close()
			op.raw(ctx, raw, u, kept[0].args[min(2, len(kept[0].args)-1)])
			if d := kept[0].same(raw.last.Args()); d != "" {
				t.Errorf("go-redis's own method builds %v: %s", raw.last.Args(), d)
			}
		})
	}
}
