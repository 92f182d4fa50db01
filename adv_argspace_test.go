package nest_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"runtime/debug"
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

// Adversarial tests of the commands Key Get and Set build themselves in an
// argSpace (args.go, args_unsafe.go) and of Sub.At's lookup of remembered
// instances by parameter value (bind.go).

type (
	aaItem struct {
		nest.Namespace `nest:"item-{id}-v"`
		N              nest.Key[int]    `nest:"n"`
		S              nest.Key[string] `nest:"s"`
	}
	aaDoc struct {
		A string `json:"a" msgpack:"a"`
		B []int  `json:"b" msgpack:"b"`
	}
	aaUser struct {
		nest.Namespace `nest:"user:{user_id}" ttl:"120s"`
		Age            nest.Key[int]       `nest:"age" default:"0"`
		Name           nest.Key[string]    `nest:"name"`
		Long           nest.Key[int]       `nest:"long" ttl:"300s"`
		Short          nest.Key[string]    `nest:"short" ttl:"1500ms"`
		Slide          nest.Key[string]    `nest:"slide" ttl:"2s,sliding"`
		SlideMs        nest.Key[int64]     `nest:"slidems" ttl:"1500ms,sliding"`
		SlideLong      nest.Key[int]       `nest:"slidelong" ttl:"400s,sliding"`
		Never          nest.Key[int]       `nest:"never" ttl:"none"`
		Big            nest.Key[uint64]    `nest:"big"`
		Neg            nest.Key[int64]     `nest:"neg"`
		Small          nest.Key[int8]      `nest:"small"`
		U16            nest.Key[uint16]    `nest:"u16"`
		U32            nest.Key[uint32]    `nest:"u32"`
		Named          nest.Key[aaID]      `nest:"named"`
		Doc            nest.Key[aaDoc]     `nest:"doc"`
		DocMP          nest.Key[aaDoc]     `nest:"docmp" codec:"msgpack"`
		IntJSON        nest.Key[int]       `nest:"intjson" codec:"json"`
		Tok            nest.Secret[string] `nest:"tok"`
		PIN            nest.Secret[int]    `nest:"pin"`
		Hits           nest.Counter        `nest:"hits"`
		Items          nest.Sub[aaItem]
	}
	aaPinned struct {
		nest.Namespace `nest:"p:{pid}" slot:"pin" ttl:"60s"`
		V              nest.Key[int] `nest:"v"`
		Items          nest.Sub[aaItem]
	}
	aaPinnedX struct {
		nest.Namespace `nest:"pin-{pid}-x" slot:"pin"`
		V              nest.Key[int] `nest:"v"`
	}
	aaRoot struct {
		nest.Namespace `nest:"aa"`
		User           nest.Sub[aaUser]
		Pinned         nest.Sub[aaPinned]
		PinnedX        nest.Sub[aaPinnedX]
		Motd           nest.Key[string] `nest:"motd"`
	}
)

type (
	aaID  int
	aaStr string
)

type aaStringer struct{ n int }

func (s aaStringer) String() string { return strconv.Itoa(s.n) }

var aaKey = nest.SecretKey{ID: "aa1", Key: []byte("0123456789abcdef0123456789abcdef")}

func newAARoot(t testing.TB, rdb redis.UniversalClient, cache int) *aaRoot {
	t.Helper()
	r, err := nest.New[aaRoot](rdb, &nest.Options{InstanceCache: cache, SecretKeys: []nest.SecretKey{aaKey}})
	if err != nil {
		t.Fatalf("nest.New: %v", err)
	}
	return r
}

// ---- Recording hook ----

// aaCall is one command a client processed: the arguments as the hook saw
// them before sending (copied), their types, the command itself (kept, to
// be read again later) and its String() after the reply.
type aaCall struct {
	cmd   redis.Cmder
	args  []any
	types []string
	str   string
}

type aaRec struct {
	mu    sync.Mutex
	calls []*aaCall
	// mutate, when set, runs on every command before it is sent.
	mutate func(redis.Cmder)
}

func newAARec(rdb redis.UniversalClient) *aaRec {
	r := &aaRec{}
	rdb.AddHook(r)
	return r
}

func aaSnap(cmd redis.Cmder) *aaCall {
	a := slices.Clone(cmd.Args())
	ts := make([]string, len(a))
	for i, x := range a {
		ts[i] = fmt.Sprintf("%T", x)
	}
	return &aaCall{cmd: cmd, args: a, types: ts}
}

func (r *aaRec) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *aaRec) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if handshake(cmd) {
			return next(ctx, cmd)
		}
		c := aaSnap(cmd)
		if r.mutate != nil {
			r.mutate(cmd)
		}
		err := next(ctx, cmd)
		c.str = cmd.String()
		r.mu.Lock()
		r.calls = append(r.calls, c)
		r.mu.Unlock()
		return err
	}
}

func (r *aaRec) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && handshake(cmds[0]) {
			return next(ctx, cmds)
		}
		cs := make([]*aaCall, len(cmds))
		for i, cmd := range cmds {
			cs[i] = aaSnap(cmd)
		}
		if r.mutate != nil {
			for _, cmd := range cmds {
				r.mutate(cmd)
			}
		}
		err := next(ctx, cmds)
		for i, cmd := range cmds {
			cs[i].str = cmd.String()
		}
		r.mu.Lock()
		r.calls = append(r.calls, cs...)
		r.mu.Unlock()
		return err
	}
}

func (r *aaRec) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

func (r *aaRec) since(n int) []*aaCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls[n:])
}

// aaSame fails unless got and want are the same command: the same
// arguments of the same types, and the same String().
func aaSame(t *testing.T, what string, got, want []*aaCall) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: nest sent %d commands %v, raw go-redis %d %v", what, len(got), aaArgs(got), len(want), aaArgs(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if !slices.Equal(g.types, w.types) || !reflect.DeepEqual(g.args, w.args) {
			t.Fatalf("%s: command %d\n nest: %v %v\n  raw: %v %v", what, i, g.args, g.types, w.args, w.types)
		}
		if g.str != w.str {
			t.Fatalf("%s: command %d String()\n nest: %q\n  raw: %q", what, i, g.str, w.str)
		}
		// What the command holds after the reply is what the hook saw.
		if now := g.cmd.Args(); !reflect.DeepEqual(now, g.args) {
			t.Fatalf("%s: command %d args changed after the reply: %v, was %v", what, i, now, g.args)
		}
	}
}

func aaArgs(cs []*aaCall) [][]any {
	out := make([][]any, len(cs))
	for i, c := range cs {
		out[i] = c.args
	}
	return out
}

// aaOp is one operation done through nest and, for comparison, through
// go-redis's own methods, directly and queued in a pipeline.
type aaOp struct {
	name    string
	nest    func(ctx context.Context) error
	raw     func(ctx context.Context, c redis.Cmdable)
	nestQ   func(ctx context.Context, p *nest.Pipe)
	hasPipe bool
}

func aaOps(u *aaUser, root *aaRoot) []aaOp {
	var ops []aaOp
	set := func(name string, k nest.Key[int], v int, exp time.Duration, opts ...nest.SetOption) {
		ops = append(ops, aaOp{
			name: name,
			nest: func(ctx context.Context) error { return k.Set(ctx, v, opts...) },
			raw:  func(ctx context.Context, c redis.Cmdable) { c.Set(ctx, k.Name(), v, exp) },
			nestQ: func(ctx context.Context, p *nest.Pipe) {
				k.In(p).Set(ctx, v, opts...)
			},
			hasPipe: true,
		})
	}
	ttl := 120 * time.Second
	set("int 30", u.Age, 30, ttl)
	set("int 255", u.Age, 255, ttl)
	set("int 256", u.Age, 256, ttl)
	set("int -1", u.Age, -1, ttl)
	set("int max", u.Age, math.MaxInt, ttl)
	set("int min", u.Age, math.MinInt, ttl)
	set("keepttl", u.Age, 31, redis.KeepTTL, nest.KeepTTL())
	set("withttl 0", u.Age, 32, 0, nest.WithTTL(0))
	set("withttl -1s", u.Age, 33, 0, nest.WithTTL(-time.Second))
	set("withttl -1ns (KeepTTL's value)", u.Age, 33, 0, nest.WithTTL(-1))
	set("withttl 1500ms", u.Age, 34, 1500*time.Millisecond, nest.WithTTL(1500*time.Millisecond))
	set("withttl 999us", u.Age, 35, 999*time.Microsecond, nest.WithTTL(999*time.Microsecond))
	set("withttl 1ns", u.Age, 36, time.Nanosecond, nest.WithTTL(time.Nanosecond))
	set("withttl 1500us", u.Age, 37, 1500*time.Microsecond, nest.WithTTL(1500*time.Microsecond))
	set("withttl 255ms", u.Age, 38, 255*time.Millisecond, nest.WithTTL(255*time.Millisecond))
	set("withttl 257ms", u.Age, 38, 257*time.Millisecond, nest.WithTTL(257*time.Millisecond))
	set("withttl 1s", u.Age, 39, time.Second, nest.WithTTL(time.Second))
	set("withttl 1h", u.Age, 40, time.Hour, nest.WithTTL(time.Hour))
	set("withttl 1h+1ns", u.Age, 41, time.Hour+1, nest.WithTTL(time.Hour+1))
	set("withttl max", u.Age, 42, math.MaxInt64, nest.WithTTL(math.MaxInt64))
	set("keepttl then withttl", u.Age, 43, 5*time.Second, nest.KeepTTL(), nest.WithTTL(5*time.Second))
	set("withttl then keepttl", u.Age, 44, redis.KeepTTL, nest.WithTTL(5*time.Second), nest.KeepTTL())
	set("own ttl 300s", u.Long, 5, 300*time.Second)
	set("ttl none", u.Never, 1, 0)
	set("ttl none + withttl", u.Never, 2, 7*time.Second, nest.WithTTL(7*time.Second))
	set("sliding key set", u.SlideLong, 3, 400*time.Second)
	set("nested sub", u.Items.At(5).N, 700, ttl)

	typed := func(name string, nestSet func(ctx context.Context) error, q func(ctx context.Context, p *nest.Pipe), key string, v any, exp time.Duration) {
		ops = append(ops, aaOp{name: name, nest: nestSet, nestQ: q, hasPipe: true,
			raw: func(ctx context.Context, c redis.Cmdable) { c.Set(ctx, key, v, exp) }})
	}
	typed("uint64 max", func(ctx context.Context) error { return u.Big.Set(ctx, math.MaxUint64) },
		func(ctx context.Context, p *nest.Pipe) { u.Big.In(p).Set(ctx, math.MaxUint64) }, u.Big.Name(), uint64(math.MaxUint64), ttl)
	typed("int64 min", func(ctx context.Context) error { return u.Neg.Set(ctx, math.MinInt64) },
		func(ctx context.Context, p *nest.Pipe) { u.Neg.In(p).Set(ctx, math.MinInt64) }, u.Neg.Name(), int64(math.MinInt64), ttl)
	typed("int8 -128", func(ctx context.Context) error { return u.Small.Set(ctx, -128) },
		func(ctx context.Context, p *nest.Pipe) { u.Small.In(p).Set(ctx, -128) }, u.Small.Name(), int8(-128), ttl)
	typed("int8 127", func(ctx context.Context) error { return u.Small.Set(ctx, 127) },
		func(ctx context.Context, p *nest.Pipe) { u.Small.In(p).Set(ctx, 127) }, u.Small.Name(), int8(127), ttl)
	typed("uint16 max", func(ctx context.Context) error { return u.U16.Set(ctx, math.MaxUint16) },
		func(ctx context.Context, p *nest.Pipe) { u.U16.In(p).Set(ctx, math.MaxUint16) }, u.U16.Name(), uint16(math.MaxUint16), ttl)
	typed("uint32 max", func(ctx context.Context) error { return u.U32.Set(ctx, math.MaxUint32) },
		func(ctx context.Context, p *nest.Pipe) { u.U32.In(p).Set(ctx, math.MaxUint32) }, u.U32.Name(), uint32(math.MaxUint32), ttl)
	typed("string", func(ctx context.Context) error { return u.Name.Set(ctx, "Ada") },
		func(ctx context.Context, p *nest.Pipe) { u.Name.In(p).Set(ctx, "Ada") }, u.Name.Name(), "Ada", ttl)
	typed("empty string", func(ctx context.Context) error { return u.Name.Set(ctx, "") },
		func(ctx context.Context, p *nest.Pipe) { u.Name.In(p).Set(ctx, "") }, u.Name.Name(), "", ttl)
	typed("sub-second own ttl", func(ctx context.Context) error { return u.Short.Set(ctx, "x") },
		func(ctx context.Context, p *nest.Pipe) { u.Short.In(p).Set(ctx, "x") }, u.Short.Name(), "x", 1500*time.Millisecond)
	typed("root key without ttl", func(ctx context.Context) error { return root.Motd.Set(ctx, "hi") },
		func(ctx context.Context, p *nest.Pipe) { root.Motd.In(p).Set(ctx, "hi") }, root.Motd.Name(), "hi", 0)
	typed("json codec on int", func(ctx context.Context) error { return u.IntJSON.Set(ctx, 1234) },
		func(ctx context.Context, p *nest.Pipe) { u.IntJSON.In(p).Set(ctx, 1234) }, u.IntJSON.Name(), []byte("1234"), ttl)

	get := func(name string, nestGet func(ctx context.Context) error, q func(ctx context.Context, p *nest.Pipe), raw func(ctx context.Context, c redis.Cmdable)) {
		ops = append(ops, aaOp{name: name, nest: nestGet, nestQ: q, raw: raw, hasPipe: true})
	}
	ignore := func(err error) error {
		if errors.Is(err, nest.ErrNotFound) {
			return nil
		}
		return err
	}
	get("get", func(ctx context.Context) error { _, err := u.Age.Get(ctx); return err },
		func(ctx context.Context, p *nest.Pipe) { u.Age.In(p).Get(ctx) },
		func(ctx context.Context, c redis.Cmdable) { c.Get(ctx, u.Age.Name()) })
	get("get missing", func(ctx context.Context) error { _, err := u.Name.Get(ctx); return ignore(err) },
		func(ctx context.Context, p *nest.Pipe) { u.Name.In(p).Get(ctx) },
		func(ctx context.Context, c redis.Cmdable) { c.Get(ctx, u.Name.Name()) })
	get("getex 2s", func(ctx context.Context) error { _, err := u.Slide.Get(ctx); return ignore(err) },
		func(ctx context.Context, p *nest.Pipe) { u.Slide.In(p).Get(ctx) },
		func(ctx context.Context, c redis.Cmdable) { c.GetEx(ctx, u.Slide.Name(), 2*time.Second) })
	get("getex 1500ms", func(ctx context.Context) error { _, err := u.SlideMs.Get(ctx); return ignore(err) },
		func(ctx context.Context, p *nest.Pipe) { u.SlideMs.In(p).Get(ctx) },
		func(ctx context.Context, c redis.Cmdable) { c.GetEx(ctx, u.SlideMs.Name(), 1500*time.Millisecond) })
	get("getex 400s", func(ctx context.Context) error { _, err := u.SlideLong.Get(ctx); return ignore(err) },
		func(ctx context.Context, p *nest.Pipe) { u.SlideLong.In(p).Get(ctx) },
		func(ctx context.Context, c redis.Cmdable) { c.GetEx(ctx, u.SlideLong.Name(), 400*time.Second) })
	get("lookup", func(ctx context.Context) error { _, _, err := u.U32.Lookup(ctx); return err },
		nil, func(ctx context.Context, c redis.Cmdable) { c.Get(ctx, u.U32.Name()) })
	ops[len(ops)-1].hasPipe = false
	return ops
}

// TestAdvArgsMatchRawGoRedis checks, through a hook, that every Key Get
// and Set nest builds itself, sent directly or queued in a Pipe, is the
// command go-redis's own Set, Get and GetEx build for the same operation:
// the same arguments of the same types, the same String(), and arguments
// that do not change once sent.
func TestAdvArgsMatchRawGoRedis(t *testing.T) {
	rdb := newRedis(t)
	rec := newAARec(rdb)
	root := newAARoot(t, rdb, 0)
	u := root.User.At(1)
	ctx := context.Background()
	ops := aaOps(u, root)
	for _, op := range ops {
		m := rec.mark()
		_ = op.nest(ctx)
		got := rec.since(m)
		m = rec.mark()
		op.raw(ctx, rdb)
		want := rec.since(m)
		aaSame(t, "direct "+op.name, got, want)
	}
	for _, op := range ops {
		if !op.hasPipe {
			continue
		}
		m := rec.mark()
		p := root.Pipeline()
		op.nestQ(ctx, p)
		_ = p.Exec(ctx)
		got := rec.since(m)
		m = rec.mark()
		pp := rdb.Pipeline()
		op.raw(ctx, pp)
		_, _ = pp.Exec(ctx)
		want := rec.since(m)
		aaSame(t, "pipelined "+op.name, got, want)
	}
	// All of them in one Pipe against all of them in one go-redis
	// pipeline: commands sharing the Pipe's chunks.
	for _, tx := range []bool{false, true} {
		if tx && onCluster {
			continue // the keys of one user span slots
		}
		m := rec.mark()
		p := root.Pipeline()
		if tx {
			p = u.TxPipeline()
		}
		for _, op := range ops {
			if op.hasPipe && op.name != "withttl max" { // an error reply would abort the MULTI
				op.nestQ(ctx, p)
			}
		}
		_ = p.Exec(ctx)
		got := rec.since(m)
		m = rec.mark()
		pp := rdb.Pipeline()
		if tx {
			pp = rdb.TxPipeline()
		}
		for _, op := range ops {
			if op.hasPipe && op.name != "withttl max" {
				op.raw(ctx, pp)
			}
		}
		_, _ = pp.Exec(ctx)
		want := rec.since(m)
		aaSame(t, fmt.Sprintf("one pipe (tx=%v)", tx), got, want)
	}
}

// TestAdvArgsSecretsAndCodecs sends Secret keys and codec-encoded keys
// through the same paths, directly and queued, and reads them back both
// ways: the key name is a string, the value what the codec or the seal
// made.
func TestAdvArgsSecretsAndCodecs(t *testing.T) {
	rdb := newRedis(t)
	rec := newAARec(rdb)
	root := newAARoot(t, rdb, 0)
	ctx := context.Background()
	doc := aaDoc{A: "x", B: []int{1, 300, -7}}
	for i := range 3 {
		u := root.User.At(100 + i)
		m := rec.mark()
		must(t, u.Doc.Set(ctx, doc))
		must(t, u.DocMP.Set(ctx, doc))
		must(t, u.Tok.Set(ctx, "s3cr3t"))
		must(t, u.PIN.Set(ctx, 123456))
		must(t, u.Named.Set(ctx, aaID(99999)))
		for _, c := range rec.since(m) {
			if len(c.args) != 5 || c.types[1] != "string" || c.args[1] == "" || c.args[3] != "ex" || c.args[4] != int64(120) {
				t.Fatalf("direct SET %v %v", c.args, c.types)
			}
			if c.types[2] != "[]uint8" && c.types[2] != "string" && c.types[2] != "int64" {
				t.Fatalf("direct SET value of type %s: %v", c.types[2], c.args)
			}
		}
		if got := rawGet(t, rdb, u.Doc.Name()); got != `{"a":"x","b":[1,300,-7]}` {
			t.Fatalf("json stored %q", got)
		}
		if got := rawGet(t, rdb, u.Named.Name()); got != "99999" {
			t.Fatalf("named int stored %q", got)
		}
		if got := rawGet(t, rdb, u.PIN.Name()); strings.Contains(got, "123456") {
			t.Fatalf("secret stored in the clear: %q", got)
		}
		p := root.Pipeline()
		fd, fm, ft, fp, fn := u.Doc.In(p).Get(ctx), u.DocMP.In(p).Get(ctx), u.Tok.In(p).Get(ctx), u.PIN.In(p).Get(ctx), u.Named.In(p).Get(ctx)
		must(t, p.Exec(ctx))
		if d := mustResult(t, fd); !reflect.DeepEqual(d, doc) {
			t.Fatalf("json doc %+v", d)
		}
		if d := mustResult(t, fm); !reflect.DeepEqual(d, doc) {
			t.Fatalf("msgpack doc %+v", d)
		}
		if s := mustResult(t, ft); s != "s3cr3t" {
			t.Fatalf("secret %q", s)
		}
		if n := mustResult(t, fp); n != 123456 {
			t.Fatalf("secret int %d", n)
		}
		if n := mustResult(t, fn); n != 99999 {
			t.Fatalf("named int %d", n)
		}
		// Queued writes, direct reads.
		p = root.Pipeline()
		doc2 := aaDoc{A: "y" + strconv.Itoa(i), B: []int{i}}
		u.Doc.In(p).Set(ctx, doc2)
		u.DocMP.In(p).Set(ctx, doc2)
		u.Tok.In(p).Set(ctx, "t"+strconv.Itoa(i))
		u.PIN.In(p).Set(ctx, 1000+i)
		u.Named.In(p).Set(ctx, aaID(-i-300))
		must(t, p.Exec(ctx))
		if d, err := u.Doc.Get(ctx); err != nil || !reflect.DeepEqual(d, doc2) {
			t.Fatalf("json doc %+v %v", d, err)
		}
		if d, err := u.DocMP.Get(ctx); err != nil || !reflect.DeepEqual(d, doc2) {
			t.Fatalf("msgpack doc %+v %v", d, err)
		}
		if s, err := u.Tok.Get(ctx); err != nil || s != "t"+strconv.Itoa(i) {
			t.Fatalf("secret %q %v", s, err)
		}
		if n, err := u.PIN.Get(ctx); err != nil || n != 1000+i {
			t.Fatalf("secret int %d %v", n, err)
		}
		if n, err := u.Named.Get(ctx); err != nil || n != aaID(-i-300) {
			t.Fatalf("named int %d %v", n, err)
		}
	}
}

// TestAdvArgsCounterUnaffected checks a Counter, whose writes share Set's
// code, directly and queued, and a Counter read as the int it stores.
func TestAdvArgsCounterUnaffected(t *testing.T) {
	rdb := newRedis(t)
	root := newAARoot(t, rdb, 0)
	ctx := context.Background()
	u := root.User.At(7)
	must(t, u.Hits.Set(ctx, 1000))
	if n, err := u.Hits.Incr(ctx); err != nil || n != 1001 {
		t.Fatalf("Incr = %d, %v", n, err)
	}
	p := root.Pipeline()
	u.Hits.In(p).Set(ctx, -5000)
	g := u.Hits.In(p).Get(ctx)
	must(t, p.Exec(ctx))
	if n := mustResult(t, g); n != -5000 {
		t.Fatalf("queued Get = %d", n)
	}
	if got := rawGet(t, rdb, u.Hits.Name()); got != "-5000" {
		t.Fatalf("stored %q", got)
	}
	assertTTLNear(t, rdb, u.Hits.Name(), 120*time.Second, 5*time.Second)
}

// aaSnapshot renders a command's arguments with their types.
func aaSnapshot(args []any) string {
	var b strings.Builder
	for _, a := range args {
		fmt.Fprintf(&b, "%T(%#v) ", a, a)
	}
	return b.String()
}

// TestAdvArgsKeptCommandsUnchanged keeps every command a hook sees, direct
// and pipelined, then runs 10 000 more operations (and collections) and
// reads all of the kept commands' arguments again: nothing changed.
func TestAdvArgsKeptCommandsUnchanged(t *testing.T) {
	rdb := newRedis(t)
	rec := newAARec(rdb)
	root := newAARoot(t, rdb, 16)
	ctx := context.Background()
	op := func(i int, p *nest.Pipe) {
		u := root.User.At(i % 97)
		v := i*1000 + 257
		switch i % 6 {
		case 0:
			if p != nil {
				u.Age.In(p).Set(ctx, v, nest.WithTTL(time.Duration(i%5000+300)*time.Millisecond))
			} else {
				must(t, u.Age.Set(ctx, v, nest.WithTTL(time.Duration(i%5000+300)*time.Millisecond)))
			}
		case 1:
			if p != nil {
				u.Long.In(p).Set(ctx, -v)
			} else {
				must(t, u.Long.Set(ctx, -v))
			}
		case 2:
			if p != nil {
				u.Name.In(p).Set(ctx, "n"+strconv.Itoa(i), nest.KeepTTL())
			} else {
				must(t, u.Name.Set(ctx, "n"+strconv.Itoa(i), nest.KeepTTL()))
			}
		case 3:
			if p != nil {
				u.SlideLong.In(p).Get(ctx)
			} else {
				_, _ = u.SlideLong.Get(ctx)
			}
		case 4:
			if p != nil {
				u.Items.At(i).N.In(p).Set(ctx, v)
			} else {
				must(t, u.Items.At(i).N.Set(ctx, v))
			}
		case 5:
			if p != nil {
				u.Big.In(p).Set(ctx, uint64(v)<<20)
			} else {
				must(t, u.Big.Set(ctx, uint64(v)<<20))
			}
		}
	}
	for i := range 600 {
		op(i, nil)
	}
	for j := range 10 {
		p := root.Pipeline()
		for i := range 100 {
			op(j*1000+i, p)
		}
		must(t, p.Exec(ctx))
	}
	kept := rec.since(0)
	want := make([]string, len(kept))
	for i, c := range kept {
		want[i] = aaSnapshot(c.args)
	}
	// 10 000 more operations, half of them in pipes, and collections.
	for i := range 5000 {
		op(100000+i, nil)
	}
	for j := range 50 {
		p := root.Pipeline()
		for i := range 100 {
			op(200000+j*100+i, p)
		}
		must(t, p.Exec(ctx))
		if j%10 == 0 {
			runtime.GC()
		}
	}
	runtime.GC()
	debug.FreeOSMemory()
	for i, c := range kept {
		if got := aaSnapshot(c.cmd.Args()); got != want[i] {
			t.Fatalf("kept command %d changed:\n now %s\n was %s", i, got, want[i])
		}
	}
	if len(kept) < 1500 {
		t.Fatalf("only %d commands kept", len(kept))
	}
}

// TestAdvArgsHookAppends runs a hook that appends to every command's
// arguments (writing over whatever capacity the slice has past its
// length, as append does) before the commands are sent: no command's
// arguments are overwritten, and every value is stored where it belongs.
func TestAdvArgsHookAppends(t *testing.T) {
	rdb := newRedis(t)
	rec := newAARec(rdb)
	rec.mutate = func(cmd redis.Cmder) {
		a := cmd.Args()
		full := a[:cap(a)]
		for j := len(a); j < len(full); j++ {
			full[j] = "CLOBBERED"
		}
		_ = append(a, "CLOBBERED", "CLOBBERED")
	}
	root := newAARoot(t, rdb, 0)
	ctx := context.Background()
	const n = 700
	for _, tx := range []bool{false, true} {
		p := root.Pipeline()
		if tx {
			p = root.Pinned.At(1).TxPipeline() // keys of one slot on a cluster
		}
		var gets []*nest.Future[int]
		for i := range n {
			k := root.Pinned.At(1).Items.At(i).N
			if !tx {
				k = root.User.At(i).Items.At(i).N
			}
			switch i % 3 {
			case 0:
				k.In(p).Set(ctx, i*1000+300)
			case 1:
				k.In(p).Set(ctx, i*1000+300, nest.KeepTTL())
			case 2:
				k.In(p).Set(ctx, i*1000+300, nest.WithTTL(time.Duration(i)*time.Millisecond+time.Second))
			}
			gets = append(gets, k.In(p).Get(ctx))
		}
		must(t, p.Exec(ctx))
		for i, f := range gets {
			if v := mustResult(t, f); v != i*1000+300 {
				t.Fatalf("tx=%v: item %d read %d", tx, i, v)
			}
		}
	}
	for _, c := range rec.since(0) {
		if now := c.cmd.Args(); aaSnapshot(now) != aaSnapshot(c.args) {
			t.Fatalf("a hook's append to another command changed this one:\n now %v\n was %v", now, c.args)
		}
	}
	// Direct calls too.
	u := root.User.At(3)
	for i := range 50 {
		must(t, u.Age.Set(ctx, 1000+i))
		if v, err := u.Age.Get(ctx); err != nil || v != 1000+i {
			t.Fatalf("direct: %d, %v", v, err)
		}
		must(t, u.SlideMs.Set(ctx, int64(5000+i)))
		if v, err := u.SlideMs.Get(ctx); err != nil || v != int64(5000+i) {
			t.Fatalf("direct getex: %d, %v", v, err)
		}
	}
}

// aaIDValue returns id in one of several forms whose text is the same.
func aaIDValue(id, form int) any {
	switch form % 10 {
	case 0:
		return id
	case 1:
		return int64(id)
	case 2:
		return strconv.Itoa(id)
	case 3:
		return uint32(id)
	case 4:
		return aaID(id)
	case 5:
		return aaStr(strconv.Itoa(id))
	case 6:
		return aaStringer{id}
	case 7:
		return uint64(id)
	case 8:
		return int32(id)
	default:
		return uint(id)
	}
}

// TestAdvAtConcurrent has 64 goroutines bind overlapping ids, in every
// form, through tiny instance caches, nested under overlapping parents,
// and Set and Get through the handles: every name and every value read
// is the one of the id asked for.
func TestAdvAtConcurrent(t *testing.T) {
	for _, size := range []int{1, 16} {
		t.Run(fmt.Sprint("cache=", size), func(t *testing.T) {
			rdb := newRedis(t)
			root := newAARoot(t, rdb, size)
			ctx := context.Background()
			const workers, rounds, ids = 64, 120, 24
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for w := range workers {
				wg.Go(func() {
					fail := func(format string, args ...any) {
						select {
						case errs <- fmt.Errorf("worker %d: "+format, append([]any{w}, args...)...):
						default:
						}
					}
					for r := range rounds {
						id := (w*7 + r*13) % ids
						item := (w + r) % ids
						u := root.User.At(aaIDValue(id, w+r))
						want := "aa:user:" + strconv.Itoa(id)
						if got := u.Prefix(); got != want {
							fail("User.At(%v).Prefix() = %q, want %q", aaIDValue(id, w+r), got, want)
							return
						}
						if got := u.Age.Name(); got != want+":age" {
							fail("Age = %q", got)
							return
						}
						it := u.Items.At(aaIDValue(item, w*3+r))
						wantItem := want + ":item-" + strconv.Itoa(item) + "-v"
						if got := it.N.Name(); got != wantItem+":n" {
							fail("Items.At(%d).N = %q, want %q", item, got, wantItem+":n")
							return
						}
						pv := root.Pinned.At(aaIDValue(id, r)).Items.At(aaIDValue(item, w))
						if got, wantP := pv.S.Name(), "aa:{p:"+strconv.Itoa(id)+"}:item-"+strconv.Itoa(item)+"-v:s"; got != wantP {
							fail("pinned nested = %q, want %q", got, wantP)
							return
						}
						if got, wantX := root.PinnedX.At(aaIDValue(item, r+w)).V.Name(), "aa:{pin-"+strconv.Itoa(item)+"-x}:v"; got != wantX {
							fail("PinnedX = %q, want %q", got, wantX)
							return
						}
						// Values are a function of the key, so any read is checkable.
						if r%3 == 0 {
							p := root.Pipeline()
							u.Age.In(p).Set(ctx, id*1000+7)
							it.N.In(p).Set(ctx, id*100000+item*10+300)
							fa, fi := u.Age.In(p).Get(ctx), it.N.In(p).Get(ctx)
							if err := p.Exec(ctx); err != nil {
								fail("Exec: %v", err)
								return
							}
							if v := fa.Val(); v != id*1000+7 {
								fail("queued Age of %d = %d", id, v)
								return
							}
							if v := fi.Val(); v != id*100000+item*10+300 {
								fail("queued item %d/%d = %d", id, item, v)
								return
							}
							continue
						}
						if err := u.Age.Set(ctx, id*1000+7); err != nil {
							fail("Set: %v", err)
							return
						}
						if err := it.N.Set(ctx, id*100000+item*10+300); err != nil {
							fail("Set: %v", err)
							return
						}
						if v, err := u.Age.Get(ctx); err != nil || v != id*1000+7 {
							fail("Age of %d = %d, %v", id, v, err)
							return
						}
						if v, err := it.N.Get(ctx); err != nil || v != id*100000+item*10+300 {
							fail("item %d/%d = %d, %v", id, item, v, err)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			// Every key holds the value of its own name.
			for id := range ids {
				if got := rawGet(t, rdb, "aa:user:"+strconv.Itoa(id)+":age"); got != strconv.Itoa(id*1000+7) {
					t.Fatalf("aa:user:%d:age = %q", id, got)
				}
			}
		})
	}
}

// aaHostile are parameter values the policy refuses (params.go checkParam).
var aaHostile = []any{
	"", "1:2", ":", "1*", "*", "?", "1?", "[1]", "a]", "a\\b", "{1}", "1}", "{",
	" 1", "1 ", "1\t", "\n", "1\r", "\x00", "\x7f", "a\u00a0b", "a\u2028b", "a\u3000b",
	"a\u200bb", "a\u200db", "\ufeff1", "a\u00adb", "a\u034fb", "a\u115fb", "a\u3164b",
	"a\ufe0fb", "a\U000e0100b", "a\u2800b", "a\ufffdb", "a\ue000b", "a\U000f0000b",
	"a\ufdd0b", "a\uffffb", "1\uff1a2", "1\u22362", "1\ua7892", "1\u2217", "\uff0a",
	"\uff1f", "\uff3b1\uff3d", "\uff3c", "\uff5b1\uff5d", "\xff", "1\xc0", "a\xed\xa0\x80",
	strings.Repeat("7", 257), strings.Repeat("é", 129),
	aaStr("1:2"), aaStr(""), aaStringer{-1}, // "-1" is fine: checked below to be accepted
	nil, 1.5, true, []byte("1"), struct{}{},
}

// TestAdvAtHostileWarm binds refused values through Sub.At with the
// instance cache warm (with the accepted values they resemble bound
// first, so their instances are remembered): each is refused every time,
// and no handle gets a name.
func TestAdvAtHostileWarm(t *testing.T) {
	for _, size := range []int{1, 16, 0} {
		t.Run(fmt.Sprint("cache=", size), func(t *testing.T) {
			rdb := newRedis(t)
			root := newAARoot(t, rdb, size)
			ctx := context.Background()
			warm := []any{"1", 1, "2", "a", "ab", "b", "7", strings.Repeat("7", 256), "-1", -1, "1-v", "é"}
			for round := range 4 {
				for _, w := range warm {
					u := root.User.At(w)
					if err := u.Err(); err != nil {
						t.Fatalf("At(%#v): %v", w, err)
					}
					_ = u.Items.At(w).N.Name()
					_ = root.Pinned.At(w).V.Name()
					_ = root.PinnedX.At(w).V.Name()
				}
				for _, h := range aaHostile {
					if s, ok := h.(aaStringer); ok && s.n == -1 {
						if err := root.User.At(h).Err(); err != nil {
							t.Fatalf("At(Stringer -1): %v", err)
						}
						continue
					}
					checks := map[string]interface {
						Err() error
						Name() string
					}{
						"User":            root.User.At(h).Age,
						"User.Items":      root.User.At(1).Items.At(h).N,
						"Pinned":          root.Pinned.At(h).V,
						"Pinned.Items":    root.Pinned.At("1").Items.At(h).S,
						"PinnedX":         root.PinnedX.At(h).V,
						"User.Items warm": root.User.At("a").Items.At(h).S,
					}
					for what, k := range checks {
						err := k.Err()
						if err == nil || k.Name() != "" {
							t.Fatalf("round %d: %s.At(%#v) accepted: name %q, err %v", round, what, h, k.Name(), err)
						}
						if !errors.Is(err, nest.ErrInvalidParam) {
							t.Fatalf("round %d: %s.At(%#v): %v, want ErrInvalidParam", round, what, h, err)
						}
					}
					if err := root.User.At(h).Age.Set(ctx, 1); !errors.Is(err, nest.ErrInvalidParam) {
						t.Fatalf("Set through At(%#v): %v", h, err)
					}
					p := root.Pipeline()
					f := root.User.At(h).Age.In(p).Set(ctx, 1)
					if err := p.Exec(ctx); !errors.Is(err, nest.ErrInvalidParam) || !errors.Is(f.Err(), nest.ErrInvalidParam) {
						t.Fatalf("queued Set through At(%#v): %v / %v", h, err, f.Err())
					}
				}
			}
			if n := dbSize(t, rdb); n != 0 {
				t.Fatalf("%d keys written through refused values: %v", n, scanAll(t, rdb, "*"))
			}
		})
	}
}

// TestAdvAtSameTextSameName binds the same text in every form, in both
// orders, under parents bound in different forms: the names agree, a value
// written through one form is read through every other.
func TestAdvAtSameTextSameName(t *testing.T) {
	rdb := newRedis(t)
	ctx := context.Background()
	for _, size := range []int{1, 16, 4096, -1} {
		root := newAARoot(t, rdb, size)
		for _, id := range []int{0, 5, 255, 256, 65535, 1 << 33, -5} {
			var names []string
			for form := range 10 {
				v := aaIDValue(id, form)
				if id < 0 && (form == 3 || form == 7 || form == 9) {
					continue // unsigned
				}
				if id > math.MaxUint32 && form == 3 || id > math.MaxInt32 && form == 8 {
					continue
				}
				for pform := range 10 {
					parent := aaIDValue(9, pform)
					names = append(names, root.User.At(parent).Items.At(v).N.Name(), root.Pinned.At(parent).Items.At(v).N.Name())
				}
				names = append(names, root.User.At(v).Age.Name(), root.PinnedX.At(v).V.Name())
			}
			for _, n := range names {
				if n == "" {
					t.Fatalf("id %d: empty name among %v", id, names)
				}
			}
			s := strconv.Itoa(id)
			want := map[string]bool{
				"aa:user:9:item-" + s + "-v:n": true, "aa:{p:9}:item-" + s + "-v:n": true,
				"aa:user:" + s + ":age": true, "aa:{pin-" + s + "-x}:v": true,
			}
			for _, n := range names {
				if !want[n] {
					t.Fatalf("cache %d, id %d: unexpected name %q", size, id, n)
				}
			}
			must(t, root.User.At(int64(id)).Age.Set(ctx, id))
			for form := range 10 {
				if id < 0 && (form == 3 || form == 7 || form == 9) || id > math.MaxUint32 && form == 3 || id > math.MaxInt32 && form == 8 {
					continue
				}
				if v, err := root.User.At(aaIDValue(id, form)).Age.Get(ctx); err != nil || v != id {
					t.Fatalf("form %d of %d: %d, %v", form, id, v, err)
				}
			}
		}
	}
}

// TestAdvAtParentsNeverConfused binds one child value under many parents
// whose prefixes are prefixes of one another or differ in one byte, in
// alternation, through a one-slot cache: every name is its parent's.
func TestAdvAtParentsNeverConfused(t *testing.T) {
	root := newAARoot(t, offlineClient(t), 1)
	parents := []any{"1", "11", "1-v", 1, 11, 111, "111", "a", "aa", "b", "1a", "a1", 2, 12, 21}
	children := []any{"1", "11", 1, "v", "1-v", "-v", "v-1", 0}
	for round := range 5 {
		for i := range parents {
			for j := range children {
				pv, cv := parents[(i+round)%len(parents)], children[(j+i)%len(children)]
				got := root.User.At(pv).Items.At(cv).S.Name()
				want := fmt.Sprintf("aa:user:%v:item-%v-v:s", pv, cv)
				if got != want {
					t.Fatalf("round %d: User.At(%#v).Items.At(%#v) = %q, want %q", round, pv, cv, got, want)
				}
				got = root.Pinned.At(pv).Items.At(cv).N.Name()
				want = fmt.Sprintf("aa:{p:%v}:item-%v-v:n", pv, cv)
				if got != want {
					t.Fatalf("round %d: Pinned.At(%#v).Items.At(%#v) = %q, want %q", round, pv, cv, got, want)
				}
			}
		}
	}
	// A parent that is garbage collected, and a new one perhaps at its
	// address: the child's instance is still found by the whole prefix.
	for i := range 2000 {
		got := root.User.At(strconv.Itoa(i) + "x").Items.At(i % 3).N.Name()
		if want := fmt.Sprintf("aa:user:%dx:item-%d-v:n", i, i%3); got != want {
			t.Fatalf("%q, want %q", got, want)
		}
		if i%100 == 0 {
			runtime.GC()
		}
	}
}

// TestAdvArgsBigPipeline queues 10 000 operations (the Pipe's chunks grow
// to their largest size and are taken many times), plain and as one
// transaction: every Future and every stored value is right.
func TestAdvArgsBigPipeline(t *testing.T) {
	rdb := newRedis(t)
	rec := newAARec(rdb)
	root := newAARoot(t, rdb, 64)
	ctx := context.Background()
	const n = 10000
	val := func(i int) int { return i*7919 - 5_000_000 }
	for _, tx := range []bool{false, true} {
		t.Run(fmt.Sprint("tx=", tx), func(t *testing.T) {
			m := rec.mark()
			var p *nest.Pipe
			key := func(i int) nest.Key[int] { return root.User.At(i % 500).Items.At(i).N }
			if tx {
				p = root.Pinned.At(3).TxPipeline()
				key = func(i int) nest.Key[int] { return root.Pinned.At(3).Items.At(i).N }
			} else {
				p = root.Pipeline()
			}
			gets := make([]*nest.Future[int], 0, n/2)
			names := make([]string, 0, n/2)
			for i := range n / 2 {
				k := key(i)
				switch i % 4 {
				case 0:
					k.In(p).Set(ctx, val(i))
				case 1:
					k.In(p).Set(ctx, val(i), nest.WithTTL(time.Duration(i)*time.Millisecond+time.Second))
				case 2:
					k.In(p).Set(ctx, val(i), nest.WithTTL(time.Duration(i%40+1)*time.Second))
				case 3:
					k.In(p).Set(ctx, val(i), nest.KeepTTL())
				}
				gets = append(gets, k.In(p).Get(ctx))
				names = append(names, k.Name())
			}
			if p.Len() < n {
				t.Fatalf("Len = %d", p.Len())
			}
			must(t, p.Exec(ctx))
			for i, f := range gets {
				if v := mustResult(t, f); v != val(i) {
					t.Fatalf("future %d = %d, want %d", i, v, val(i))
				}
			}
			for lo := 0; lo < len(names); lo += 500 {
				hi := min(lo+500, len(names))
				pp := rdb.Pipeline()
				cmds := make([]*redis.StringCmd, 0, hi-lo)
				for _, name := range names[lo:hi] {
					cmds = append(cmds, pp.Get(ctx, name))
				}
				_, _ = pp.Exec(ctx)
				for j, c := range cmds {
					if got := c.Val(); got != strconv.Itoa(val(lo+j)) {
						t.Fatalf("%s = %q, want %d", names[lo+j], got, val(lo+j))
					}
				}
			}
			// The commands sent: each SET names its key once, with its value.
			sets := 0
			for _, c := range rec.since(m) {
				if c.args[0] != "set" {
					continue
				}
				i := sets
				sets++
				if c.args[1] != names[i] || c.args[2] != val(i) {
					t.Fatalf("SET %d sent %v, want %s %d", i, c.args, names[i], val(i))
				}
			}
			if sets != n/2 {
				t.Fatalf("%d SETs sent, want %d", sets, n/2)
			}
		})
	}
}

// TestAdvArgsPipeFailures queues Get and Set on Pipes that fail: a value
// that does not encode, a cancelled context, a second Exec. Nothing is
// sent, every Future fails naming its key or the cause, and the next Pipe
// works.
func TestAdvArgsPipeFailures(t *testing.T) {
	rdb := newRedis(t)
	rec := newAARec(rdb)
	root := newAARoot(t, rdb, 16)
	small, err := nest.New[aaRoot](rdb, &nest.Options{MaxValueSize: 8, SecretKeys: []nest.SecretKey{aaKey}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// A value over MaxValueSize in the middle of a pipe.
	m := rec.mark()
	p := small.Pipeline()
	var before []*nest.Future[struct{}]
	for i := range 100 {
		before = append(before, small.User.At(i).Age.In(p).Set(ctx, i*1000+999))
	}
	bad := small.User.At(1).Name.In(p).Set(ctx, "this is longer than eight bytes")
	after := small.User.At(2).Age.In(p).Set(ctx, 5)
	g := small.User.At(3).Age.In(p).Get(ctx)
	err = p.Exec(ctx)
	if !errors.Is(err, nest.ErrTooLarge) {
		t.Fatalf("Exec = %v, want ErrTooLarge", err)
	}
	var oe *nest.OpError
	if !errors.As(bad.Err(), &oe) || oe.Key != "aa:user:1:name" || oe.Op != "SET" {
		t.Fatalf("refused Set: %v", bad.Err())
	}
	for i, f := range append(before, after) {
		if f.Err() == nil {
			t.Fatalf("future %d of a failed pipe succeeded", i)
		}
	}
	if g.Err() == nil {
		t.Fatal("Get of a failed pipe succeeded")
	}
	if sent := rec.since(m); len(sent) != 0 {
		t.Fatalf("a failed pipe sent %d commands: %v", len(sent), aaArgs(sent))
	}
	if err := p.Exec(ctx); !errors.Is(err, nest.ErrPipeDone) {
		t.Fatalf("second Exec = %v", err)
	}
	if f := small.User.At(4).Age.In(p).Set(ctx, 1); !errors.Is(f.Err(), nest.ErrPipeDone) {
		t.Fatalf("Set after Exec: %v", f.Err())
	}
	if f := small.User.At(4).Age.In(p).Get(ctx); !errors.Is(f.Err(), nest.ErrPipeDone) {
		t.Fatalf("Get after Exec: %v", f.Err())
	}
	if n := dbSize(t, rdb); n != 0 {
		t.Fatalf("%d keys written", n)
	}

	// A cancelled context: nothing sent, each Future names its key.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	m = rec.mark()
	p = root.Pipeline()
	type fut interface{ Err() error }
	futs := map[string]fut{}
	for i := range 50 {
		u := root.User.At(i)
		futs[u.Age.Name()] = u.Age.In(p).Set(cctx, 300+i)
		futs[u.SlideMs.Name()] = u.SlideMs.In(p).Get(cctx)
	}
	if err := p.Exec(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Exec with a cancelled context = %v", err)
	}
	for name, f := range futs {
		if !errors.As(f.Err(), &oe) || oe.Key != name || !errors.Is(f.Err(), context.Canceled) {
			t.Fatalf("future of %s: %v", name, f.Err())
		}
	}
	if sent := rec.since(m); len(sent) != 0 {
		t.Fatalf("a cancelled pipe sent %v", aaArgs(sent))
	}
	// Direct calls with a cancelled context.
	u := root.User.At(1)
	if err := u.Age.Set(cctx, 12345); !errors.As(err, &oe) || oe.Key != u.Age.Name() || !errors.Is(err, context.Canceled) {
		t.Fatalf("direct Set with a cancelled context: %v", err)
	}
	if _, err := u.SlideMs.Get(cctx); !errors.As(err, &oe) || oe.Key != u.SlideMs.Name() || !errors.Is(err, context.Canceled) {
		t.Fatalf("direct GETEX with a cancelled context: %v", err)
	}
	if n := dbSize(t, rdb); n != 0 {
		t.Fatalf("%d keys written with a cancelled context", n)
	}

	// The next Pipe, on the same schema, works.
	p = root.Pipeline()
	for i := range 20 {
		root.User.At(i).Age.In(p).Set(ctx, 7000+i)
	}
	must(t, p.Exec(ctx))
	for i := range 20 {
		if v, err := root.User.At(i).Age.Get(ctx); err != nil || v != 7000+i {
			t.Fatalf("after failures: %d, %v", v, err)
		}
	}
}

// TestAdvArgsServerKilled stops the server while a pipeline of Sets and
// Gets is being sent: Exec fails, every Future fails with an error naming
// its key, and nothing panics; direct calls fail the same way.
func TestAdvArgsServerKilled(t *testing.T) {
	srv, rdb := newFragileServer(t)
	root := newAARoot(t, rdb, 16)
	ctx := context.Background()
	// Something stored first, so the connection exists.
	must(t, root.User.At(0).Age.Set(ctx, 1))
	kill := &aaRec{}
	var once sync.Once
	kill.mutate = func(redis.Cmder) { once.Do(srv.Stop) }
	p := root.Pipeline()
	names := map[int]string{}
	var sets []*nest.Future[struct{}]
	var gets []*nest.Future[int64]
	for i := range 3000 {
		u := root.User.At(i)
		sets = append(sets, u.Age.In(p).Set(ctx, i*1000+256))
		gets = append(gets, u.SlideMs.In(p).Get(ctx))
		names[i] = u.Age.Name()
	}
	rdb.AddHook(kill)
	if err := p.Exec(ctx); err == nil {
		t.Fatal("Exec on a stopped server succeeded")
	}
	var oe *nest.OpError
	for i := range sets {
		if err := sets[i].Err(); !errors.As(err, &oe) || oe.Key != names[i] || oe.Op != "SET" {
			t.Fatalf("Set %d: %v", i, err)
		}
		if err := gets[i].Err(); !errors.As(err, &oe) || oe.Key != "aa:user:"+strconv.Itoa(i)+":slidems" || oe.Op != "GETEX" {
			t.Fatalf("Get %d: %v", i, err)
		}
	}
	u := root.User.At(9)
	if err := u.Age.Set(ctx, 9999); !errors.As(err, &oe) || oe.Key != u.Age.Name() {
		t.Fatalf("direct Set on a stopped server: %v", err)
	}
	if _, err := u.Slide.Get(ctx); !errors.As(err, &oe) || oe.Key != u.Slide.Name() {
		t.Fatalf("direct Get on a stopped server: %v", err)
	}
}

// TestAdvArgsCluster sets and gets keys spread over every slot of a Redis
// Cluster, directly and pipelined, through a client that follows no
// redirection: a command routed by a wrong key would fail with MOVED.
func TestAdvArgsCluster(t *testing.T) {
	shared := redistest.SharedCluster(t)
	clusterMu.Lock()
	t.Cleanup(clusterMu.Unlock)
	flushCluster(t, shared)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: shared.Options().Addrs, MaxRedirects: -1})
	t.Cleanup(func() { _ = cc.Close() })
	rec := newAARec(cc)
	root := newAARoot(t, cc, 16)
	ctx := context.Background()
	const n = 400
	for i := range n {
		u := root.User.At(i)
		must(t, u.Age.Set(ctx, i*1000+300))
		must(t, u.SlideMs.Set(ctx, int64(i)))
		must(t, u.Short.Set(ctx, "s"+strconv.Itoa(i)))
		if v, err := u.Age.Get(ctx); err != nil || v != i*1000+300 {
			t.Fatalf("direct Get %d: %d, %v", i, v, err)
		}
		if v, err := u.SlideMs.Get(ctx); err != nil || v != int64(i) {
			t.Fatalf("direct GETEX %d: %d, %v", i, v, err)
		}
	}
	p := root.Pipeline()
	var gets []*nest.Future[int]
	var getx []*nest.Future[int64]
	for i := range n {
		u := root.User.At(strconv.Itoa(i))
		u.Items.At(i).N.In(p).Set(ctx, -i-1000)
		u.Age.In(p).Set(ctx, i, nest.WithTTL(time.Duration(i+1)*time.Second+time.Millisecond))
		gets = append(gets, u.Items.At(i).N.In(p).Get(ctx), u.Age.In(p).Get(ctx))
		getx = append(getx, u.SlideMs.In(p).Get(ctx))
	}
	must(t, p.Exec(ctx))
	for i := range n {
		if v := mustResult(t, gets[2*i]); v != -i-1000 {
			t.Fatalf("pipelined item %d = %d", i, v)
		}
		if v := mustResult(t, gets[2*i+1]); v != i {
			t.Fatalf("pipelined age %d = %d", i, v)
		}
		if v := mustResult(t, getx[i]); v != int64(i) {
			t.Fatalf("pipelined getex %d = %d", i, v)
		}
	}
	// One transaction per pinned instance: its keys share a slot.
	for i := range 20 {
		pu := root.Pinned.At(i)
		p := pu.TxPipeline()
		pu.V.In(p).Set(ctx, i+500)
		f := pu.V.In(p).Get(ctx)
		for j := range 30 {
			pu.Items.At(j).N.In(p).Set(ctx, i*100+j)
		}
		must(t, p.Exec(ctx))
		if v := mustResult(t, f); v != i+500 {
			t.Fatalf("pinned tx %d = %d", i, v)
		}
	}
	// Where each key went: the node that owns its slot holds it.
	for _, c := range rec.since(0) {
		if c.args[0] != "set" {
			continue
		}
		if len(c.args) == 5 && (c.args[3] == "px" || c.args[4].(int64) < 100) {
			continue // may have expired by now
		}
		name := c.args[1].(string)
		node, err := cc.MasterForKey(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := node.Exists(ctx, name).Result(); err != nil || n != 1 {
			t.Fatalf("%s is not on the master of its slot (%s): %d, %v", name, node.Options().Addr, n, err)
		}
	}
}

// aaWantSet fails unless c is SET name v EX secs (secs 0: no EX).
func aaWantSet(t *testing.T, what string, c *aaCall, name string, v any, secs int64) {
	t.Helper()
	want := []any{"set", name, v}
	if secs > 0 {
		want = append(want, "ex", secs)
	}
	if !reflect.DeepEqual(c.args, want) || aaSnapshot(c.args) != aaSnapshot(want) {
		t.Fatalf("%s: sent %s, want %s", what, aaSnapshot(c.args), aaSnapshot(want))
	}
	if now := c.cmd.Args(); aaSnapshot(now) != aaSnapshot(c.args) {
		t.Fatalf("%s: args changed after the reply: %v", what, now)
	}
}

// aaFind returns the recorded commands named name.
func aaFind(cs []*aaCall, name string) []*aaCall {
	var out []*aaCall
	for _, c := range cs {
		if strings.EqualFold(fmt.Sprint(c.args[0]), name) {
			out = append(out, c)
		}
	}
	return out
}

// TestAdvArgsOtherWriters sends SET through the other paths that build it
// in an argSpace: an indexed key's MULTI with its SADD (directly and
// queued), Update's MULTI/EXEC, and a Secret's Rename.
func TestAdvArgsOtherWriters(t *testing.T) {
	rdb := newRedis(t)
	rec := newAARec(rdb)
	ctx := context.Background()
	ix, err := nest.New[ixRoot](rdb, &nest.Options{InstanceCache: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		u := ix.User.At(i)
		s := u.Session.At(strconv.Itoa(i % 4))
		m := rec.mark()
		must(t, u.Age.Set(ctx, 1000+i))
		must(t, s.Data.Set(ctx, "d"+strconv.Itoa(i)))
		sets := aaFind(rec.since(m), "set")
		if len(sets) != 2 {
			t.Fatalf("%d SETs: %v", len(sets), aaArgs(rec.since(m)))
		}
		aaWantSet(t, "indexed Age", sets[0], u.Age.Name(), 1000+i, 120)
		aaWantSet(t, "indexed Session.Data", sets[1], s.Data.Name(), "d"+strconv.Itoa(i), 120)
		if n := len(aaFind(rec.since(m), "sadd")); n < 2 {
			t.Fatalf("%d SADDs", n)
		}
		m = rec.mark()
		p := ix.Pipeline()
		u.Age.In(p).Set(ctx, 2000+i)
		s.Data.In(p).Set(ctx, "q"+strconv.Itoa(i))
		must(t, p.Exec(ctx))
		sets = aaFind(rec.since(m), "set")
		aaWantSet(t, "queued indexed Age", sets[0], u.Age.Name(), 2000+i, 120)
		aaWantSet(t, "queued indexed Data", sets[1], s.Data.Name(), "q"+strconv.Itoa(i), 120)
	}
	assertMembers(t, rdb, "root:user:7:session", "session:3")

	root := newAARoot(t, rdb, 1)
	u := root.User.At(55)
	must(t, u.Age.Set(ctx, 300))
	m := rec.mark()
	got, err := u.Age.Update(ctx, func(cur int, _ bool) (int, error) { return cur*1000 + 7, nil })
	if err != nil || got != 300007 {
		t.Fatalf("Update = %d, %v", got, err)
	}
	// (On Redis Cluster a transaction runs on a node's client, which
	// does not run the cluster client's hooks.)
	if sets := aaFind(rec.since(m), "set"); !onCluster {
		if len(sets) != 1 {
			t.Fatalf("Update sent %v", aaArgs(rec.since(m)))
		}
		aaWantSet(t, "Update", sets[0], u.Age.Name(), 300007, 120)
	}
	if v, err := u.Age.Get(ctx); err != nil || v != 300007 {
		t.Fatalf("after Update: %d, %v", v, err)
	}
	if !onCluster { // the two users' keys are in different slots
		must(t, u.Tok.Set(ctx, "moved"))
		dst := root.User.At(56).Tok
		must(t, u.Tok.Rename(ctx, dst))
		if s, err := dst.Get(ctx); err != nil || s != "moved" {
			t.Fatalf("renamed secret: %q, %v", s, err)
		}
	}
	for _, c := range rec.since(0) {
		if now := c.cmd.Args(); aaSnapshot(now) != aaSnapshot(c.args) {
			t.Fatalf("args changed after the reply: %v, was %v", now, c.args)
		}
	}
}

// TestAdvAtEqualHashes binds integers whose hashes are equal by
// construction (the integer hash is a bijection of the 64-bit pattern:
// int64(-1) and uint64(2^64-1), math.MinInt64 and uint64(2^63)) under the
// same parent, alternating, through a cache of one slot and a large one:
// each gets its own name.
func TestAdvAtEqualHashes(t *testing.T) {
	for _, size := range []int{1, 4096} {
		root := newAARoot(t, offlineClient(t), size)
		pairs := [][2]any{
			{int64(-1), uint64(math.MaxUint64)},
			{-1, uint64(math.MaxUint64)},
			{int64(math.MinInt64), uint64(1 << 63)},
			{int32(-1), uint64(math.MaxUint64)},
			{int32(-5), uint32(math.MaxUint32 - 4)},
		}
		for round := range 4 {
			for _, pr := range pairs {
				for k, v := range []any{pr[round%2], pr[1-round%2]} {
					want := fmt.Sprint(v)
					if got := root.User.At(v).Age.Name(); got != "aa:user:"+want+":age" {
						t.Fatalf("cache %d, round %d, %d: At(%T(%v)) = %q", size, round, k, v, v, got)
					}
					if got := root.User.At(7).Items.At(v).N.Name(); got != "aa:user:7:item-"+want+"-v:n" {
						t.Fatalf("cache %d: Items.At(%T(%v)) = %q", size, v, v, got)
					}
					if got := root.PinnedX.At(v).V.Name(); got != "aa:{pin-"+want+"-x}:v" {
						t.Fatalf("cache %d: PinnedX.At(%T(%v)) = %q", size, v, v, got)
					}
				}
			}
		}
	}
}

// aaDual holds one namespace type under several Sub fields whose tags
// give it other templates (text after the placeholder, pinned by the
// field): the fields' instances, bound alternately, never mix.
type aaDual struct {
	nest.Namespace `nest:"dual"`
	One            nest.Sub[aaItem] `nest:"one-{id}"`
	Two            nest.Sub[aaItem] `nest:"two-{id}-z"`
	Pin            nest.Sub[aaItem] `nest:"pin:{id}x" slot:"pin"`
	Item           nest.Sub[aaItem]
	Deep           nest.Sub[aaDualInner]
}

type aaDualInner struct {
	nest.Namespace `nest:"d:{did}"`
	One            nest.Sub[aaItem] `nest:"one-{id}"`
	Item           nest.Sub[aaItem]
}

func TestAdvAtSameTypeManyFields(t *testing.T) {
	for _, size := range []int{1, 2, 4096} {
		root, err := nest.New[aaDual](offlineClient(t), &nest.Options{InstanceCache: size})
		if err != nil {
			t.Fatal(err)
		}
		for round := range 3 {
			for i := range 40 {
				v := aaIDValue(i, i+round)
				s := strconv.Itoa(i)
				for _, c := range []struct{ got, want string }{
					{root.One.At(v).N.Name(), "dual:one-" + s + ":n"},
					{root.Two.At(v).N.Name(), "dual:two-" + s + "-z:n"},
					{root.Pin.At(v).N.Name(), "dual:{pin:" + s + "x}:n"},
					{root.Item.At(v).N.Name(), "dual:item-" + s + "-v:n"},
					{root.Deep.At(v).One.At(v).S.Name(), "dual:d:" + s + ":one-" + s + ":s"},
					{root.Deep.At(s + "0").Item.At(v).S.Name(), "dual:d:" + s + "0:item-" + s + "-v:s"},
					{root.Deep.At(v).Item.At(s + "0").S.Name(), "dual:d:" + s + ":item-" + s + "0-v:s"},
				} {
					if c.got != c.want {
						t.Fatalf("cache %d, round %d: %q, want %q", size, round, c.got, c.want)
					}
				}
			}
		}
	}
}

// TestAdvAtParamsReadBack reads the parameters back from instances found
// by value (Params, Describe), pinned and with text after the placeholder.
func TestAdvAtParamsReadBack(t *testing.T) {
	root := newAARoot(t, offlineClient(t), 1)
	for round := range 3 {
		for i := range 30 {
			v := aaIDValue(i+round, i)
			s := strconv.Itoa(i + round)
			u := root.User.At(v)
			it := u.Items.At(v)
			px := root.PinnedX.At(v)
			pn := root.Pinned.At(v).Items.At(s + "9")
			for _, c := range []struct {
				got  map[string]string
				want map[string]string
			}{
				{u.Params(), map[string]string{"user_id": s}},
				{it.Params(), map[string]string{"user_id": s, "id": s}},
				{px.Params(), map[string]string{"pid": s}},
				{pn.Params(), map[string]string{"pid": s, "id": s + "9"}},
			} {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Fatalf("round %d, %v: Params = %v, want %v", round, v, c.got, c.want)
				}
			}
			if d := it.Describe(); d.Prefix != "aa:user:"+s+":item-"+s+"-v" {
				t.Fatalf("Describe().Prefix = %q", d.Prefix)
			}
		}
	}
}

// TestAdvArgsRing writes through a Ring, directly and pipelined: raw
// go-redis reads through the same Ring find every value (its shard is
// chosen by the key), and both shards hold keys.
func TestAdvArgsRing(t *testing.T) {
	ring, a, b := newRing(t)
	root := newAARoot(t, ring, 16)
	ctx := context.Background()
	const n = 300
	p := root.Pipeline()
	for i := range n {
		u := root.User.At(i)
		must(t, u.Age.Set(ctx, i*1000+256))
		u.Items.At(i).N.In(p).Set(ctx, -i-300, nest.WithTTL(90*time.Second+time.Millisecond))
		u.SlideMs.In(p).Set(ctx, int64(i))
	}
	must(t, p.Exec(ctx))
	for i := range n {
		u := root.User.At(i)
		for name, want := range map[string]string{
			u.Age.Name():           strconv.Itoa(i*1000 + 256),
			u.Items.At(i).N.Name(): strconv.Itoa(-i - 300),
			u.SlideMs.Name():       strconv.Itoa(i),
		} {
			if got, err := ring.Get(ctx, name).Result(); err != nil || got != want {
				t.Fatalf("ring GET %s = %q, %v; want %q", name, got, err, want)
			}
		}
		if v, err := u.SlideMs.Get(ctx); err != nil || v != int64(i) {
			t.Fatalf("GETEX through the ring: %d, %v", v, err)
		}
	}
	na, nb := dbSize(t, a.Client(t, 0)), dbSize(t, b.Client(t, 0))
	if na+nb != 3*n || na == 0 || nb == 0 {
		t.Fatalf("shards hold %d and %d keys, want %d spread over both", na, nb, 3*n)
	}
}
