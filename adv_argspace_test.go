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
	aaU8  uint8
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
			p = root.User.At(1).TxPipeline() // keys of one slot on a cluster
		}
		var gets []*nest.Future[int]
		for i := range n {
			u := root.User.At(1)
			k := u.Items.At(i).N
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
