package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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

func TestDemoURLFlag(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"", ""}, // the environment named the server: nest reads it too
		{"redis://127.0.0.1:6380/2", " --url 'redis://127.0.0.1:6380/2'"},
		{"rediss://app:s3cret@redis.example:6380/0", " --url 'rediss://app:xxxxx@redis.example:6380/0'"},
		{"redis://h:1/0?client_name=it's", ` --url 'redis://h:1/0?client_name=it'\''s'`},
	} {
		if got := urlFlag(tc.raw); got != tc.want {
			t.Errorf("urlFlag(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
	// --export takes no other flag.
	if code, _, stderr := runNest(t, "demo", "--export", "--cleanup"); code != 2 || !strings.Contains(stderr, "--export takes no other flag") {
		t.Errorf("nest demo --export --cleanup = %d, %q; want 2", code, stderr)
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
	// The demo ends by pointing at nest tree and nest audit with its URL,
	// and both work as printed.
	treeHint := "    nest tree --url '" + url + "' root:\n"
	auditHint := "    nest demo --export > demo-schema.json && nest audit --schema demo-schema.json --url '" + url + "'\n"
	if !strings.HasSuffix(out, treeHint+auditHint) {
		t.Errorf("the demo does not end with the nest tree and nest audit commands:\n%s", out)
	}
	code, out, stderr = runNest(t, "tree", "--url", url, "root:")
	if code != 0 || !strings.Contains(out, "2 keys on 1 server") || !strings.Contains(out, "root:user:{}:age") || !strings.Contains(out, "root:project_name") {
		t.Errorf("nest tree as the demo prints it = %d:\n%s%s", code, out, stderr)
	}
	code, out, stderr = runNest(t, "demo", "--export")
	if code != 0 || !strings.Contains(out, `"version": 1`) {
		t.Fatalf("nest demo --export = %d:\n%s%s", code, out, stderr)
	}
	schema := filepath.Join(t.TempDir(), "demo-schema.json")
	if err := os.WriteFile(schema, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runNest(t, "audit", "--schema", schema, "--url", url)
	if code != 0 || !strings.Contains(out, "audited 2 keys under root") || !strings.Contains(out, "no findings") {
		t.Errorf("nest audit as the demo prints it = %d:\n%s%s", code, out, stderr)
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
