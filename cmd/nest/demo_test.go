package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest/internal/redistest"
)

// The embedded server backs the demo's default; the real redis-server runs
// prove that the demo (and the commands it shows) work on Redis.

func TestDemoEmbedded(t *testing.T) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })

	out := demoOutput(t, rdb, false)
	checkDemo(t, out)
	if got, want := m.Keys(), []string{"root:project_name", "root:user:1:age"}; !slices.Equal(got, want) {
		t.Errorf("keys after the demo = %q, want %q", got, want)
	}
}

func TestDemoEmbeddedCleanup(t *testing.T) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })

	out := demoOutput(t, rdb, true)
	checkDemo(t, out)
	checkCleanup(t, out)
	if keys := m.Keys(); len(keys) != 0 {
		t.Errorf("keys after the demo with cleanup = %q, want none", keys)
	}
}

func TestDemoRedis(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t, 0)
	ctx := context.Background()

	out := demoOutput(t, rdb, false)
	checkDemo(t, out)
	// The keys stay in place for inspection, stored the way the demo says.
	if got, want := scanRoot(t, rdb), []string{"root:project_name", "root:user:1:age"}; !slices.Equal(got, want) {
		t.Errorf("keys after the demo = %q, want %q", got, want)
	}
	if v, err := rdb.Get(ctx, "root:user:1:age").Result(); err != nil || v != "30" {
		t.Errorf("GET root:user:1:age = %q, %v; want \"30\"", v, err)
	}
	if d, err := rdb.TTL(ctx, "root:user:1:age").Result(); err != nil || d <= 110*time.Second || d > 120*time.Second {
		t.Errorf("TTL root:user:1:age = %v, %v; want about 120s", d, err)
	}
	if d, err := rdb.TTL(ctx, "root:project_name").Result(); err != nil || d != -1 {
		t.Errorf("TTL root:project_name = %v, %v; want -1 (no expiry)", d, err)
	}

	// A second run finds its own keys, runs again and, with cleanup,
	// leaves nothing under root; keys outside root are never touched.
	if err := rdb.Set(ctx, "rootless", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	out = demoOutput(t, rdb, true)
	checkDemo(t, out)
	checkCleanup(t, out)
	if keys := scanRoot(t, rdb); len(keys) != 0 {
		t.Errorf("keys under root after cleanup = %q, want none", keys)
	}
	if n, err := rdb.Exists(ctx, "rootless").Result(); err != nil || n != 1 {
		t.Errorf("EXISTS rootless = %d, %v; the demo deleted a key outside root", n, err)
	}
}

func TestDemoRefusesForeignKeys(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t, 0)
	ctx := context.Background()
	if err := rdb.Set(ctx, "root:app:session", "precious", 0).Err(); err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	err := runDemo(ctx, &buf, rdb, nil, true)
	if err == nil || !strings.Contains(err.Error(), "refusing to run") || !strings.Contains(err.Error(), "root:app:session") {
		t.Fatalf("runDemo = %v, want a refusal naming root:app:session", err)
	}
	if got, want := scanRoot(t, rdb), []string{"root:app:session"}; !slices.Equal(got, want) {
		t.Errorf("keys after the refusal = %q, want %q (nothing written or deleted)", got, want)
	}
}

// demoOutput runs the demo and returns its output.
func demoOutput(t *testing.T, rdb redis.UniversalClient, cleanup bool) string {
	t.Helper()
	var buf bytes.Buffer
	if err := runDemo(context.Background(), &buf, rdb, nil, cleanup); err != nil {
		t.Fatalf("runDemo: %v\noutput so far:\n%s", err, buf.String())
	}
	if testing.Verbose() {
		t.Logf("output:\n%s", buf.String())
	}
	return buf.String()
}

// checkDemo checks the lines that tell the example's story.
func checkDemo(t *testing.T, out string) {
	t.Helper()
	for _, want := range []string{
		"    → SET root:project_name RedisimNest\n",
		`    projectName = "RedisimNest"` + "\n",
		"root.User.At(1).Age.Set(ctx, 30)\n    → SET root:user:1:age 30 EX 120\n    ok\n",
		"age, err := root.User.At(1).Age.Get(ctx)\n    → GET root:user:1:age\n    age = 30\n",
		`    name = "Unknown" (default)` + "\n",
		`    → SET root:app:tokens '["token1","token2"]' EX 80` + "\n",
		`    tokens = []string{"token1", "token2"}` + "\n",
		"    → EXPIRE root:app:tokens 60\n    ok = true\n",
		"    ttl = 60s\n",
		"    err = nest: GET root:app:pending_users: not found\n    errors.Is(err, nest.ErrNotFound) = true",
		"n, err := root.User.At(\"1:*\").Clear(ctx)\n    → nothing sent to Redis\n    err = nest: invalid parameter {user_id}",
		"    errors.Is(err, nest.ErrInvalidParam) = true\n",
		"n, err := root.App.Clear(ctx)\n",
		"    → pipeline: UNLINK root:app | UNLINK root:app:tokens | UNLINK root:app:pending_users\n",
		"    n = 1 (deleted)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\noutput:\n%s", want, out)
		}
	}
	if strings.Contains(out, "FLUSH") {
		t.Errorf("output mentions FLUSH:\n%s", out)
	}

	lists := listings(out)
	if len(lists) < 2 {
		t.Fatalf("found %d key listings, want at least 2\noutput:\n%s", len(lists), out)
	}
	before := []string{"root:app:tokens 60s", "root:project_name no expiry", "root:user:1:age 120s"}
	if !slices.Equal(lists[0], before) {
		t.Errorf("listing before Clear = %q, want %q", lists[0], before)
	}
	after := []string{"root:project_name no expiry", "root:user:1:age 120s"}
	if !slices.Equal(lists[1], after) {
		t.Errorf("listing after root.App.Clear = %q, want %q", lists[1], after)
	}
}

func checkCleanup(t *testing.T, out string) {
	t.Helper()
	for _, want := range []string{
		"n, err := root.Clear(ctx)\n",
		"    n = 2 (deleted)\n",
		"    n = 0: nothing under root remains\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\noutput:\n%s", want, out)
		}
	}
}

// listings returns the key listings of the output, each line as
// "key ttl" with the padding collapsed.
func listings(out string) [][]string {
	var lists [][]string
	var cur []string
	in := false
	for line := range strings.SplitSeq(out, "\n") {
		switch {
		case strings.HasPrefix(line, "for key, err := range root.Keys(ctx)"):
			in, cur = true, nil
		case in && strings.HasPrefix(line, "    root:"):
			cur = append(cur, strings.Join(strings.Fields(line), " "))
		case in && (strings.HasSuffix(line, " keys") || strings.HasSuffix(line, " key")):
			lists, in = append(lists, cur), false
		}
	}
	return lists
}

// scanRoot returns the sorted names of the keys under root.
func scanRoot(t *testing.T, rdb redis.UniversalClient) []string {
	t.Helper()
	var keys []string
	iter := rdb.Scan(context.Background(), 0, "root:*", 100).Iterator()
	for iter.Next(context.Background()) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}
