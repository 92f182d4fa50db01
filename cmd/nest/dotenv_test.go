package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redisimnest/nest/internal/redistest"
)

// inDir runs the rest of the test in a fresh directory holding a .env
// file with the given contents. The variables it sets are unset first (and
// restored when the test ends), so that the file can provide them.
func inDir(t *testing.T, dotEnv string, vars ...string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(dotEnv), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, v := range vars {
		t.Setenv(v, "") // registers the restore
		if err := os.Unsetenv(v); err != nil {
			t.Fatal(err)
		}
	}
}

// A .env in the current directory configures the command — the server and
// the library's settings — but a variable already set in the environment,
// even to "", wins over the file.
func TestDotEnv(t *testing.T) {
	noRedisEnv(t)
	srv := redistest.Start(t)
	ctx := context.Background()

	t.Run("sets the server", func(t *testing.T) {
		inDir(t, "# settings of the nest command\nexport REDIS_URL=\"redis://"+srv.Addr()+"/5\"\n", "REDIS_URL")
		code, out, stderr := runNest(t, "demo", "--cleanup")
		if code != 0 {
			t.Fatalf("nest demo = %d, stderr:\n%s", code, stderr)
		}
		first, _, _ := strings.Cut(out, "\n")
		if want := "running on Redis at " + srv.Addr() + " db 5 (from REDIS_URL)"; !strings.Contains(first, want) {
			t.Fatalf("first line %q, want %q", first, want)
		}
		checkDemo(t, out)
		checkCleanup(t, out)
	})
	t.Run("environment wins", func(t *testing.T) {
		inDir(t, "REDIS_URL=redis://"+srv.Addr()+"/5\nREDIS_DB=9\n", "REDIS_HOST", "REDIS_PORT", "REDIS_DB")
		t.Setenv("REDIS_URL", "") // set, although empty: the file's value does not apply
		t.Setenv("REDIS_HOST", "127.0.0.1")
		t.Setenv("REDIS_PORT", strings.TrimPrefix(srv.Addr(), "127.0.0.1:"))
		code, out, stderr := runNest(t, "demo")
		if code != 0 {
			t.Fatalf("nest demo = %d, stderr:\n%s", code, stderr)
		}
		first, _, _ := strings.Cut(out, "\n")
		if want := "running on Redis at " + srv.Addr() + " db 9 (from REDIS_HOST)"; !strings.Contains(first, want) {
			t.Fatalf("first line %q, want %q (REDIS_HOST from the environment, REDIS_DB from .env)", first, want)
		}
		if n, err := srv.Client(t, 9).DBSize(ctx).Result(); err != nil || n != 2 {
			t.Fatalf("DBSIZE of db 9 = %d, %v; want the demo's 2 keys", n, err)
		}
	})
	t.Run("library settings", func(t *testing.T) {
		inDir(t, "REDIS_DELETE_CHUNK_SIZE=abc\n", "REDIS_DELETE_CHUNK_SIZE")
		code, out, stderr := runNest(t, "demo")
		if code != 3 || !strings.Contains(stderr, "REDIS_DELETE_CHUNK_SIZE") || out != "" {
			t.Fatalf("nest demo with REDIS_DELETE_CHUNK_SIZE=abc in .env = %d, stderr %q", code, stderr)
		}
	})
	t.Run("malformed file", func(t *testing.T) {
		for _, content := range []string{
			"REDIS_PASSWORD=\"S3cr3tP4rt\nREDIS_HOST=x\n",
			"REDIS-PASSWORD=S3cr3tP4rt\n",
			"REDIS_PASSWORD='S3cr3tP4rt",
		} {
			inDir(t, content, "REDIS_PASSWORD")
			code, out, stderr := runNest(t, "demo")
			if code != 3 || !strings.Contains(stderr, "nest: .env: ") || out != "" {
				t.Errorf(".env %q: nest demo = %d, stderr %q; want 3 naming .env", content, code, stderr)
			}
			if strings.Contains(stderr, "S3cr3t") || strings.Contains(stderr, "P4rt") {
				t.Errorf(".env %q: the error shows the password: %s", content, stderr)
			}
			if _, set := os.LookupEnv("REDIS_PASSWORD"); set {
				t.Errorf(".env %q: a file that does not parse set REDIS_PASSWORD", content)
			}
		}
	})
}
