package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/redisimnest/nest/internal/redistest"
)

// runNest runs the tool with args and returns its exit status and output.
func runNest(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), strings.NewReader(""), &out, &errOut, args)
	return code, out.String(), errOut.String()
}

// noRedisEnv clears the variables that point the tool at a server or
// configure the library.
func noRedisEnv(t *testing.T) {
	for _, v := range []string{
		"REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_USERNAME", "REDIS_PASSWORD", "REDIS_PASS", "REDIS_DB", "REDIS_CLUSTER",
		"REDIS_DELETE_CHUNK_SIZE", "SHOW_METHOD_DISPATCH_LOGS", "NEST_SECRET_KEYS", "NEST_SECRET_KEYS_FILE",
	} {
		t.Setenv(v, "")
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		code, out, _ := runNest(t, args...)
		if code != 0 || !strings.Contains(out, "  nest [command]") || !strings.Contains(out, "  demo ") || !strings.Contains(out, "  tree ") {
			t.Errorf("nest %q = %d, output:\n%s", args, code, out)
		}
	}
	code, out, _ := runNest(t, "help", "demo")
	if code != 0 || !strings.Contains(out, "nest demo [--url") || !strings.Contains(out, "--cleanup") || !strings.Contains(out, "--url URL") {
		t.Errorf("nest help demo = %d, output:\n%s", code, out)
	}
	if code, _, _ := runNest(t, "demo", "-h"); code != 0 {
		t.Errorf("nest demo -h = %d, want 0", code)
	}
}

func TestUsageErrors(t *testing.T) {
	noRedisEnv(t)
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"help", "frobnicate"},
		{"help", "demo", "extra"},
		{"demo", "--bogus"},
		{"demo", "extra"},
		{"demo", "--url", "http://example.com"},
		{"demo", "--url", "redis://127.0.0.1:6379", "--embedded"},
	} {
		code, _, stderr := runNest(t, args...)
		if code != 2 || stderr == "" {
			t.Errorf("nest %q = %d, stderr %q; want 2 and a message", args, code, stderr)
		}
	}
}

func TestDemoUnreachable(t *testing.T) {
	srv := redistest.Start(t)
	url := "redis://" + srv.Addr() + "/0"
	srv.Stop() // nothing listens there any more

	code, out, stderr := runNest(t, "demo", "--url", url)
	if code != 3 || !strings.Contains(stderr, "nest demo: cannot reach Redis at "+srv.Addr()) {
		t.Errorf("nest demo --url %s = %d, stderr %q; want 3 and a clear message", url, code, stderr)
	}
	if out != "" {
		t.Errorf("stdout = %q, want nothing", out)
	}

	noRedisEnv(t)
	t.Setenv("REDIS_URL", url)
	code, _, stderr = runNest(t, "demo")
	if code != 3 || !strings.Contains(stderr, "(from REDIS_URL)") {
		t.Errorf("REDIS_URL=%s nest demo = %d, stderr %q; want 3 naming REDIS_URL", url, code, stderr)
	}
}

func TestDemoCommandEmbedded(t *testing.T) {
	noRedisEnv(t)
	code, out, stderr := runNest(t, "demo")
	if code != 0 {
		t.Fatalf("nest demo = %d, stderr:\n%s", code, stderr)
	}
	first, _, _ := strings.Cut(out, "\n")
	if !strings.Contains(first, "embedded in-process Redis") {
		t.Errorf("first line = %q, want it to say the Redis is embedded", first)
	}
	checkDemo(t, out)

	// --embedded wins over the environment.
	t.Setenv("REDIS_URL", "redis://127.0.0.1:1/0")
	code, out, stderr = runNest(t, "demo", "--embedded")
	if code != 0 || !strings.Contains(out, "embedded in-process Redis") {
		t.Errorf("nest demo --embedded = %d, stderr %q", code, stderr)
	}
}

func TestDemoCommandURL(t *testing.T) {
	noRedisEnv(t)
	srv := redistest.Start(t)
	url := "redis://" + srv.Addr() + "/3"

	code, out, stderr := runNest(t, "demo", "--url", url)
	if code != 0 {
		t.Fatalf("nest demo --url %s = %d, stderr:\n%s", url, code, stderr)
	}
	first, _, _ := strings.Cut(out, "\n")
	if want := "running on Redis at " + srv.Addr() + " db 3 (from --url)"; !strings.Contains(first, want) {
		t.Errorf("first line = %q, want it to contain %q", first, want)
	}
	checkDemo(t, out)
	if !strings.Contains(out, "left in place for inspection") {
		t.Errorf("output does not say the keys are left in place:\n%s", out)
	}
	rdb := srv.Client(t, 3)
	if n, err := rdb.DBSize(context.Background()).Result(); err != nil || n != 2 {
		t.Errorf("DBSIZE after the demo = %d, %v; want 2", n, err)
	}

	t.Setenv("REDIS_URL", url) // the environment names the server now
	code, out, stderr = runNest(t, "demo", "--cleanup")
	if code != 0 {
		t.Fatalf("nest demo --cleanup = %d, stderr:\n%s", code, stderr)
	}
	checkCleanup(t, out)
	if n, err := rdb.DBSize(context.Background()).Result(); err != nil || n != 0 {
		t.Errorf("DBSIZE after the demo with --cleanup = %d, %v; want 0", n, err)
	}
}
