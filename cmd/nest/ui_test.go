package main

import (
	"bufio"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redisimnest/nest/internal/redistest"
)

func TestUIUsage(t *testing.T) {
	schema := schemaFile(t)
	for _, args := range [][]string{
		{"ui", "--schema", schema, "--listen", "0.0.0.0:0"}, // beyond loopback without --token
		{"ui", "--schema", schema, "--listen", "nonsense"},
		{"ui", "--listen", "127.0.0.1:0"}, // no schema
		{"ui", "extra"},
	} {
		r := nestCmd(t, "", args...)
		if r.code != 2 || !strings.Contains(r.stderr, "Run 'nest ui --help'") {
			t.Errorf("nest %q = %d, %q; want a usage error", args, r.code, r.stderr)
		}
	}
	if r := nestCmd(t, "", "ui", "--schema", schema, "--listen", "0.0.0.0:0"); !strings.Contains(r.stderr, "--token") {
		t.Errorf("beyond loopback: %q, want it to name --token", r.stderr)
	}
}

// TestUIServe runs `nest ui` as the user does, on a free port, reads the
// address it prints, fetches the page and the tree, and stops it with
// SIGTERM (exit 0).
func TestUIServe(t *testing.T) {
	rdb := redistest.Shared(t)
	seed(t, rdb)
	cmd := exec.Command(nestBin, "ui", "--schema", schemaFile(t), "--url", serverURL(rdb), "--listen", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.Contains(line, "(read-only) on http://127.0.0.1:") {
		t.Fatalf("first line %q, %v", line, err)
	}
	base := strings.TrimSpace(line[strings.Index(line, "http://"):])
	for path, want := range map[string]string{"": "nest ui", "api/tree": `"pattern":"shop:user:{user_id}:name","kind":"declared","field":"cliRoot.User.Name","declared_type":"string","declared_ttl":{"seconds":3600,"from":"cliRoot.User"},"count":20`} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s%s = %d, want %q in:\n%.2000s", base, path, resp.StatusCode, want, b)
		}
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("nest ui after SIGTERM: %v, want exit 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("nest ui did not stop on SIGTERM")
	}
}
