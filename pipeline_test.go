package nest_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// A pinned schema for the transaction tests: a team's subtree shares one
// Redis Cluster slot.
type (
	memberNS struct {
		nest.Namespace `nest:"member:{member_id}" ttl:"60s"`
		Role           nest.Key[string] `nest:"role"`
	}

	teamNS struct {
		nest.Namespace `nest:"team:{team_id}" slot:"pin"`
		Score          nest.Key[int]    `nest:"score" default:"0"`
		Name           nest.Key[string] `nest:"name"`
		Members        nest.Sub[memberNS]
	}

	teamRoot struct {
		nest.Namespace `nest:"pl"`
		Team           nest.Sub[teamNS]
		Any            nest.Key[map[string]any] `nest:"any"`
		Session        nest.Key[string]         `nest:"session" ttl:"30s,sliding"`
	}
)

func TestPipelineTypedResults(t *testing.T) {
	root, rdb := newRoot(t)
	ctx := context.Background()
	u := root.User.At(1)
	if err := root.App.Tokens.Set(ctx, []string{"x"}); err != nil {
		t.Fatal(err)
	}

	p := root.Pipeline()
	setAge := u.Age.In(p).Set(ctx, 30)
	setName := u.Name.In(p).Set(ctx, "Ada")
	nx := u.Name.In(p).SetNX(ctx, "Bob")
	nxNew := root.ProjectName.In(p).SetNX(ctx, "nest")
	age := u.Age.In(p).Get(ctx)
	name := u.Name.In(p).Get(ctx)
	missingDefault := root.User.At(2).Age.In(p).Get(ctx)
	missing := root.App.PendingUsers.In(p).Get(ctx)
	exists := u.Age.In(p).Exists(ctx)
	existsNot := root.User.At(2).Name.In(p).Exists(ctx)
	expire := root.App.Tokens.In(p).Expire(ctx, time.Hour)
	ttl := root.App.Tokens.In(p).TTL(ctx)
	ttlMissing := root.User.At(3).Age.In(p).TTL(ctx)
	del := root.App.Tokens.In(p).Delete(ctx)
	delNot := root.App.Tokens.In(p).Delete(ctx)
	if got := p.Len(); got != 15 {
		t.Errorf("Len = %d, want 15", got)
	}
	if err := p.Exec(ctx); err != nil { // ErrNotFound of missing is an answer, not a failure
		t.Fatalf("Exec: %v", err)
	}

	mustResult(t, setAge)
	mustResult(t, setName)
	if mustResult(t, nx) {
		t.Error("SetNX on an existing key stored")
	}
	if !mustResult(t, nxNew) {
		t.Error("SetNX on a missing key did not store")
	}
	if v := mustResult(t, age); v != 30 {
		t.Errorf("age = %d", v)
	}
	if v := mustResult(t, name); v != "Ada" {
		t.Errorf("name = %q", v)
	}
	if v := mustResult(t, missingDefault); v != 0 {
		t.Errorf("missing age = %d, want the default 0", v)
	}
	if _, err := missing.Result(); !errors.Is(err, nest.ErrNotFound) || !strings.Contains(err.Error(), "root:app:pending_users") {
		t.Errorf("missing without default: %v, want ErrNotFound naming the key", err)
	}
	if !mustResult(t, exists) || mustResult(t, existsNot) {
		t.Error("Exists results wrong")
	}
	if !mustResult(t, expire) {
		t.Error("Expire reported a missing key")
	}
	if d := mustResult(t, ttl); d <= 59*time.Minute || d > time.Hour {
		t.Errorf("TTL = %v, want about 1h", d)
	}
	if _, err := ttlMissing.Result(); !errors.Is(err, nest.ErrNotFound) {
		t.Errorf("TTL of a missing key: %v, want ErrNotFound", err)
	}
	if !mustResult(t, del) || mustResult(t, delNot) {
		t.Error("Delete results wrong")
	}
	if got := age.Val(); got != 30 {
		t.Errorf("Val = %d", got)
	}

	// The TTL was applied in the same SET, as Key.Set does.
	for _, k := range []string{u.Age.Name(), u.Name.Name()} {
		d, err := rdb.PTTL(ctx, k).Result()
		if err != nil || d <= 0 || d > 120*time.Second {
			t.Errorf("PTTL %s = %v, %v; want the namespace's 120s", k, d, err)
		}
	}
	if d, _ := rdb.PTTL(ctx, root.ProjectName.Name()).Result(); d != -1 {
		t.Errorf("PTTL %s = %v, want no expiry", root.ProjectName.Name(), d)
	}
}

func TestPipelineSetOptions(t *testing.T) {
	root, rdb := newRoot(t)
	ctx := context.Background()
	u := root.User.At(1)
	p := root.Pipeline()
	u.Age.In(p).Set(ctx, 1, nest.WithTTL(time.Hour))
	u.Name.In(p).Set(ctx, "x", nest.WithTTL(0))
	if err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := rdb.PTTL(ctx, u.Age.Name()).Result(); d <= 59*time.Minute {
		t.Errorf("WithTTL(1h): PTTL %v", d)
	}
	if d, _ := rdb.PTTL(ctx, u.Name.Name()).Result(); d != -1 {
		t.Errorf("WithTTL(0): PTTL %v, want none", d)
	}
}

// A sliding TTL is renewed by the queued Get (GETEX), and every queued
// command goes through the dispatch log.
func TestPipelineSlidingAndLog(t *testing.T) {
	rdb := newRedis(t)
	var buf bytes.Buffer
	pl, err := nest.New[teamRoot](rdb, &nest.Options{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := pl.Session.Set(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	rdb.PExpire(ctx, pl.Session.Name(), time.Second)
	p := pl.Pipeline()
	got := pl.Session.In(p).Get(ctx)
	pl.Team.At(1).Score.In(p).Set(ctx, 3)
	if err := p.Exec(ctx); err != nil || got.Val() != "s" {
		t.Fatalf("Exec: %v, %q", err, got.Val())
	}
	if d, _ := rdb.PTTL(ctx, pl.Session.Name()).Result(); d < 20*time.Second {
		t.Errorf("PTTL after a queued Get of a sliding key: %v, want renewed to 30s", d)
	}
	logs := buf.String()
	for _, want := range []string{"method=GETEX key=pl:session", "method=SET key=pl:{team:1}:score"} {
		if !strings.Contains(logs, want) {
			t.Errorf("dispatch log lacks %q:\n%s", want, logs)
		}
	}
}

func TestPipelineDecodeError(t *testing.T) {
	root, rdb := newRoot(t)
	ctx := context.Background()
	u := root.User.At(1)
	if err := rdb.Set(ctx, u.Age.Name(), "not a number", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := u.Name.Set(ctx, "Ada"); err != nil {
		t.Fatal(err)
	}
	p := root.Pipeline()
	name1 := u.Name.In(p).Get(ctx)
	age := u.Age.In(p).Get(ctx)
	name2 := u.Name.In(p).Get(ctx)
	err := p.Exec(ctx)
	var de *nest.DecodeError
	if !errors.As(err, &de) || de.Key != u.Age.Name() || string(de.Raw) != "not a number" {
		t.Fatalf("Exec: %v, want the *DecodeError of %s", err, u.Age.Name())
	}
	if _, err := age.Result(); !errors.As(err, &de) || !errors.Is(err, nest.ErrDecode) {
		t.Errorf("age: %v, want *DecodeError", err)
	}
	for _, f := range []*nest.Future[string]{name1, name2} {
		if v := mustResult(t, f); v != "Ada" {
			t.Errorf("name = %q", v)
		}
	}
}

func TestPipelineLifecycle(t *testing.T) {
	root, _ := newRoot(t)
	ctx := context.Background()
	p := root.Pipeline()
	f := root.User.At(1).Age.In(p).Get(ctx)
	if _, err := f.Result(); !errors.Is(err, nest.ErrNotExecuted) {
		t.Errorf("Result before Exec: %v, want ErrNotExecuted", err)
	}
	if err := f.Err(); !errors.Is(err, nest.ErrNotExecuted) {
		t.Errorf("Err before Exec: %v", err)
	}
	if err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Exec(ctx); !errors.Is(err, nest.ErrPipeDone) {
		t.Errorf("second Exec: %v, want ErrPipeDone", err)
	}
	if err := root.User.At(1).Age.In(p).Set(ctx, 1).Err(); !errors.Is(err, nest.ErrPipeDone) {
		t.Errorf("queue after Exec: %v, want ErrPipeDone", err)
	}
	empty := root.TxPipeline()
	if err := empty.Exec(ctx); err != nil || empty.Len() != 0 {
		t.Errorf("empty Exec: %v", err)
	}
	var zero nest.Namespace
	if err := zero.Pipeline().Exec(ctx); !errors.Is(err, nest.ErrNotBound) {
		t.Errorf("unbound namespace: %v, want ErrNotBound", err)
	}
	var zp nest.Pipe
	if err := root.ProjectName.In(&zp).Set(ctx, "x").Err(); !errors.Is(err, nest.ErrNotBound) {
		t.Errorf("zero Pipe: %v, want ErrNotBound", err)
	}
	if err := new(nest.Pipe).Exec(ctx); !errors.Is(err, nest.ErrNotBound) {
		t.Errorf("zero Pipe Exec: %v, want ErrNotBound", err)
	}
}

// A queue-time failure fails the Pipe: Exec sends nothing, so nothing
// queued before or after it is written.
func TestPipelineQueueFailureSendsNothing(t *testing.T) {
	root, rdb := newRoot(t)
	pl := newPipelineRoot(t, rdb)
	ctx := context.Background()
	u := root.User.At(1)
	other, err := nest.New[Root](redistest.Shared(t), nil)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		bad   func(p *nest.Pipe) error
		isErr error
	}{
		{"encode", func(p *nest.Pipe) error {
			return pl.Any.In(p).Set(ctx, map[string]any{"c": make(chan int)}).Err()
		}, nest.ErrEncode},
		{"invalid param", func(p *nest.Pipe) error {
			return root.User.At("a:b").Age.In(p).Set(ctx, 1).Err()
		}, nest.ErrInvalidParam},
		{"unbound key", func(p *nest.Pipe) error {
			var k nest.Key[int]
			return k.In(p).Get(ctx).Err()
		}, nest.ErrNotBound},
		{"another client", func(p *nest.Pipe) error {
			return other.ProjectName.In(p).Set(ctx, "x").Err()
		}, nest.ErrConfig},
		{"expire under a millisecond", func(p *nest.Pipe) error {
			return root.ProjectName.In(p).Expire(ctx, 0).Err()
		}, nest.ErrInvalidTTL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := root.Pipeline()
			before := u.Age.In(p).Set(ctx, 30)
			err := tc.bad(p)
			if !errors.Is(err, tc.isErr) {
				t.Fatalf("queue: %v, want %v", err, tc.isErr)
			}
			after := u.Name.In(p).Set(ctx, "Ada")
			if err := p.Exec(ctx); !errors.Is(err, tc.isErr) {
				t.Errorf("Exec: %v, want %v", err, tc.isErr)
			}
			for _, f := range []*nest.Future[struct{}]{before, after} {
				if err := f.Err(); !errors.Is(err, tc.isErr) {
					t.Errorf("future: %v, want %v", err, tc.isErr)
				}
			}
			assertAbsent(t, rdb, u.Age.Name(), u.Name.Name(), pl.Any.Name())
		})
	}
}

func TestPipelineCanceledContext(t *testing.T) {
	root, rdb := newRoot(t)
	ctx, cancel := context.WithCancel(context.Background())
	u := root.User.At(1)
	p := root.TxPipeline()
	set := u.Age.In(p).Set(ctx, 30)
	cancel()
	if err := p.Exec(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Exec: %v, want context.Canceled", err)
	}
	if err := set.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("future: %v, want context.Canceled", err)
	}
	assertAbsent(t, rdb, u.Age.Name())
}

func TestTxPipeline(t *testing.T) {
	_, rdb := newRoot(t)
	pl := newPipelineRoot(t, rdb)
	ctx := context.Background()
	team := pl.Team.At(7)
	var rec *cmdRecorder
	if !onCluster {
		rec = newRecorder(rdb) // Redis Cluster node clients do not run hooks
	}

	// A pinned subtree shares one slot: a transaction within it works on
	// Redis Cluster too.
	p := team.TxPipeline()
	team.Score.In(p).Set(ctx, 10)
	team.Name.In(p).Set(ctx, "Blue")
	team.Members.At(3).Role.In(p).Set(ctx, "lead")
	score := team.Score.In(p).Get(ctx)
	if err := p.Exec(ctx); err != nil {
		t.Fatalf("Exec: %v", err)
	}
	if v := mustResult(t, score); v != 10 {
		t.Errorf("score = %d", v)
	}
	for k, want := range map[string]string{team.Name.Name(): "Blue", team.Members.At(3).Role.Name(): "lead"} {
		if got, err := rdb.Get(ctx, k).Result(); err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", k, got, err, want)
		}
	}
	if d, _ := rdb.PTTL(ctx, team.Members.At(3).Role.Name()).Result(); d <= 0 || d > time.Minute {
		t.Errorf("member role PTTL %v, want the declared 60s", d)
	}
	if rec != nil {
		if len(rec.named("multi")) != 1 || len(rec.named("exec")) != 1 {
			t.Errorf("want one MULTI and one EXEC, recorded %v", rec.Since(0))
		}
	}

	// Two teams live in different slots: on Redis Cluster the second key
	// fails when queued, and nothing is sent.
	p = pl.TxPipeline()
	first := pl.Team.At(1).Score.In(p).Set(ctx, 1)
	second := pl.Team.At(2).Score.In(p).Set(ctx, 2)
	err := p.Exec(ctx)
	if !onCluster {
		if err != nil || first.Err() != nil || second.Err() != nil {
			t.Fatalf("single node: Exec %v, futures %v %v", err, first.Err(), second.Err())
		}
		return
	}
	if !errors.Is(err, redis.ErrCrossSlot) {
		t.Fatalf("Exec: %v, want ErrCrossSlot", err)
	}
	msg := second.Err().Error()
	for _, want := range []string{"pl:{team:1}:score", "pl:{team:2}:score", "different pinned subtrees"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %s", msg, want)
		}
	}
	assertAbsent(t, rdb, pl.Team.At(1).Score.Name(), pl.Team.At(2).Score.Name())
}

// A plain pipeline may cross slots: go-redis splits it per node.
func TestPipelineAcrossSlots(t *testing.T) {
	root, _ := newRoot(t)
	ctx := context.Background()
	p := root.Pipeline()
	var sets []*nest.Future[struct{}]
	for i := range 20 {
		sets = append(sets, root.User.At(i).Age.In(p).Set(ctx, i))
	}
	if err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if v, err := root.User.At(i).Age.Get(ctx); err != nil || v != i || sets[i].Err() != nil {
			t.Errorf("user %d: %d, %v", i, v, err)
		}
	}
}

func TestPipelineSecret(t *testing.T) {
	v, rdb := newVault(t, nil, newSecretKey(t, "k1"))
	ctx := context.Background()
	acct := v.Account.At(1)
	p := v.Pipeline() // a transaction would cross slots on Redis Cluster

	acct.Token.In(p).Set(ctx, "tok_secret")
	acct.Card.In(p).Set(ctx, Card{Number: "4242", Expiry: "12/30"})
	nx := acct.Token.In(p).SetNX(ctx, "other")
	if err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if mustResult(t, nx) {
		t.Error("SetNX on an existing secret stored")
	}

	raw, err := rdb.Get(ctx, acct.Token.Name()).Bytes()
	if err != nil || strings.Contains(string(raw), "tok_secret") {
		t.Errorf("stored %q, %v: want ciphertext", raw, err)
	}
	if d, _ := rdb.PTTL(ctx, acct.Token.Name()).Result(); d <= 0 || d > 120*time.Second {
		t.Errorf("PTTL %v, want the namespace's 120s", d)
	}

	p = v.Pipeline()
	tok := acct.Token.In(p).Get(ctx)
	card := acct.Card.In(p).Get(ctx)
	pin := acct.PIN.In(p).Get(ctx) // missing, default 0
	missing := v.Master.In(p).Get(ctx)
	exists := acct.Token.In(p).Exists(ctx)
	ttl := acct.Token.In(p).TTL(ctx)
	if err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if got := mustResult(t, tok); got != "tok_secret" {
		t.Errorf("token = %q", got)
	}
	if got := mustResult(t, card); got.Number != "4242" {
		t.Errorf("card = %+v", got)
	}
	if got := mustResult(t, pin); got != 0 {
		t.Errorf("pin = %d", got)
	}
	if _, err := missing.Result(); !errors.Is(err, nest.ErrNotFound) {
		t.Errorf("missing secret: %v", err)
	}
	if !mustResult(t, exists) || mustResult(t, ttl) <= 0 {
		t.Error("Exists/TTL of a secret wrong")
	}

	// A ciphertext copied to another key does not open there.
	rdb.Set(ctx, v.Account.At(2).Token.Name(), raw, 0)
	p = v.Pipeline()
	moved := v.Account.At(2).Token.In(p).Get(ctx)
	if err := p.Exec(ctx); !errors.Is(err, nest.ErrDecrypt) || !errors.Is(moved.Err(), nest.ErrDecrypt) {
		t.Errorf("copied ciphertext: %v, want ErrDecrypt", err)
	}
}

func TestPipelineOneRoundTrip(t *testing.T) {
	if onCluster {
		t.Skip("Redis Cluster node clients do not run the client's hooks")
	}
	root, rdb := newRoot(t)
	ctx := context.Background()
	var c pipelineCounter
	rdb.AddHook(&c)
	p := root.Pipeline()
	const n = 50
	for i := range n / 2 {
		root.User.At(i).Age.In(p).Set(ctx, i)
		root.User.At(i).Age.In(p).Get(ctx)
	}
	if err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if calls, cmds := c.calls.Load(), c.cmds.Load(); calls != 1 || cmds != n {
		t.Errorf("%d round trips carrying %d commands, want 1 carrying %d", calls, cmds, n)
	}
}

// BenchmarkPipeline queues 100 Sets and 100 Gets of Key[int] in one
// pipeline, through a Pipe and through a raw go-redis pipeline, interleaved
// as in BenchmarkOverhead; it reports nest/raw and the allocations a
// queued operation costs beyond raw go-redis's (extra-allocs/op). In
// "handles" the key handles are built once; in "percall" every operation
// builds its handle (root.User.At(i).Age.In(p)).
func BenchmarkPipeline(b *testing.B) {
	root, rdb := newBench(b)
	ctx := context.Background()
	ttl := 120 * time.Second
	const n = 100
	keys := make([]nest.Key[int], n)
	names := make([]string, n)
	for i := range n {
		keys[i] = root.User.At(i).Age
		names[i] = "root:user:" + strconv.Itoa(i) + ":age"
	}
	gets := make([]*nest.Future[int], n)
	rawGets := make([]*redis.StringCmd, n)
	check := func(j int) {
		for i, f := range gets {
			if v, err := f.Result(); err != nil || v != i+j {
				b.Fatal(v, err)
			}
		}
	}
	handles := func(j int) {
		p := root.Pipeline()
		for i, k := range keys {
			k.In(p).Set(ctx, i+j)
			gets[i] = k.In(p).Get(ctx)
		}
		if err := p.Exec(ctx); err != nil {
			b.Fatal(err)
		}
		check(j)
	}
	uncached, err := nest.New[benchRoot](rdb, &nest.Options{InstanceCache: -1})
	if err != nil {
		b.Fatal(err)
	}
	percall := func(root *benchRoot, j int) {
		p := root.Pipeline()
		for i := range n {
			root.User.At(i).Age.In(p).Set(ctx, i+j)
			gets[i] = root.User.At(i).Age.In(p).Get(ctx)
		}
		if err := p.Exec(ctx); err != nil {
			b.Fatal(err)
		}
		check(j)
	}
	raw := func(j int) {
		p := rdb.Pipeline()
		for i, name := range names {
			p.Set(ctx, name, i+j, ttl)
			rawGets[i] = p.Get(ctx, name)
		}
		if _, err := p.Exec(ctx); err != nil {
			b.Fatal(err)
		}
		for i, c := range rawGets {
			if v, err := c.Int(); err != nil || v != i+j {
				b.Fatal(v, err)
			}
		}
	}
	for _, c := range []struct {
		name string
		ours func(int)
	}{{"handles", handles}, {"percall", func(j int) { percall(root, j) }},
		{"percall-cache-off", func(j int) { percall(uncached, j) }}} {
		b.Run(c.name, func(b *testing.B) {
			interleave(b, raw, c.ours)
			extra := testing.AllocsPerRun(20, func() { c.ours(1) }) - testing.AllocsPerRun(20, func() { raw(1) })
			b.ReportMetric(extra/(2*n), "extra-allocs/op")
		})
	}
}
