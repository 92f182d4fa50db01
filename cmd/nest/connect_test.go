package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/redisimnest/nest/internal/redistest"
	"github.com/redisimnest/nest/internal/redisurl/urltest"
)

// Issue 7, defect 4: a malformed --url is a usage error that never shows
// any part of the user name or password, read as one server's URL or, with
// REDIS_CLUSTER=1, a Redis Cluster's.
func TestURLErrorsHideUserInfo(t *testing.T) {
	noRedisEnv(t)
	for _, raw := range urltest.MalformedURLs {
		for _, cluster := range []string{"", "1"} {
			t.Setenv("REDIS_CLUSTER", cluster)
			code, out, stderr := runNest(t, "demo", "--url", raw)
			if code != 2 || !strings.Contains(stderr, "nest demo: --url: ") {
				t.Errorf("nest demo --url %q (REDIS_CLUSTER=%q) = %d, stderr %q; want 2 and a --url error", raw, cluster, code, stderr)
			}
			for _, c := range urltest.Canaries {
				if strings.Contains(stderr+out, c) {
					t.Errorf("nest demo --url %q (REDIS_CLUSTER=%q) shows %q:\n%s", raw, cluster, c, stderr)
				}
			}
		}
	}
}

// The demo reads its library settings with nest.OptionsFromEnv: a
// malformed one stops it before it connects anywhere.
func TestDemoConfigError(t *testing.T) {
	noRedisEnv(t)
	t.Setenv("REDIS_DELETE_CHUNK_SIZE", "abc")
	code, out, stderr := runNest(t, "demo")
	if code != 3 || !strings.Contains(stderr, "REDIS_DELETE_CHUNK_SIZE") || out != "" {
		t.Fatalf("REDIS_DELETE_CHUNK_SIZE=abc nest demo = %d, stdout %q, stderr %q; want 3 naming the variable", code, out, stderr)
	}
	noRedisEnv(t)
	t.Setenv("REDIS_CLUSTER", "sometimes")
	if code, _, stderr := runNest(t, "demo", "--url", "redis://127.0.0.1:1"); code != 3 || !strings.Contains(stderr, "REDIS_CLUSTER") {
		t.Fatalf("REDIS_CLUSTER=sometimes nest demo --url = %d, stderr %q", code, stderr)
	}
}

// With SHOW_METHOD_DISPATCH_LOGS=1 the demo logs every command it sends on
// standard error, as before configuration became explicit. It runs in a
// process of its own, whose standard error it can read.
func TestDemoDispatchLogs(t *testing.T) {
	for _, server := range []string{"embedded", "redis-server"} {
		t.Run(server, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestDemoChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "NEST_TEST_DEMO_CHILD=1", "SHOW_METHOD_DISPATCH_LOGS=1", "REDIS_URL=", "REDIS_HOST=")
			if server == "redis-server" {
				srv := redistest.Start(t)
				cmd.Env = append(cmd.Env, "REDIS_URL=redis://"+srv.Addr()+"/0", "NEST_TEST_DEMO_ARGS=--cleanup")
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("child: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
			}
			checkDemo(t, string(out))
			for _, want := range []string{
				`level=DEBUG msg="nest dispatch" method=SET key=root:project_name`,
				`msg="nest dispatch" method=SET key=root:user:1:age ttl=2m0s`,
				`msg="nest dispatch" method=GET key=root:app:pending_users`,
			} {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("standard error lacks %q:\n%s", want, stderr.String())
				}
			}
		})
	}
}

// TestDemoChild is the process TestDemoDispatchLogs starts: nest demo, with
// the process's own standard output and error.
func TestDemoChild(t *testing.T) {
	if os.Getenv("NEST_TEST_DEMO_CHILD") == "" {
		t.Skip("run by TestDemoDispatchLogs in a process of its own")
	}
	args := append([]string{"demo"}, strings.Fields(os.Getenv("NEST_TEST_DEMO_ARGS"))...)
	if code := run(t.Context(), os.Stdin, os.Stdout, os.Stderr, args); code != 0 {
		t.Fatalf("nest %q = %d", args, code)
	}
}
