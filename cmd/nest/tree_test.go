package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redisimnest/nest/internal/redistest"
)

func TestVersionAndCompletion(t *testing.T) {
	r := nestCmd(t, "", "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "nest ") || !strings.Contains(r.stdout, "schema export version 1") {
		t.Errorf("nest version = %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		r := nestCmd(t, "", "completion", sh)
		if r.code != 0 || !strings.Contains(r.stdout, "nest") || len(r.stdout) < 500 {
			t.Errorf("nest completion %s = %d, %d bytes, %q", sh, r.code, len(r.stdout), r.stderr)
		}
	}
}

func TestUsageExitCodes(t *testing.T) {
	for _, args := range [][]string{
		{"tree", "--bogus"},
		{"tree", "a", "b"},
		{"frobnicate"},
		{"describe"}, // no schema
		{"describe", "--schema", "/nonexistent.json"},
		{"tree", "--url", "http://example.com"},
		{"tree", "--url", "redis://127.0.0.1:1", "--addr", "127.0.0.1:2"},
		{"version", "extra"},
		{"help", "frobnicate"},
	} {
		r := nestCmd(t, "", args...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != 2 || len(lines) != 2 || !strings.HasPrefix(lines[1], "Run 'nest") || !strings.HasSuffix(lines[1], "--help' for usage.") || r.stdout != "" {
			t.Errorf("nest %q = %d, stdout %q, stderr %q; want 2, one line and a pointer to --help", args, r.code, r.stdout, r.stderr)
		}
	}
	r := nestCmd(t, "", "tree", "--url", "redis://127.0.0.1:1/0")
	if r.code != 3 || !strings.Contains(r.stderr, "cannot reach Redis at 127.0.0.1:1") {
		t.Errorf("unreachable server: %d, %q; want 3", r.code, r.stderr)
	}
}

func TestDescribe(t *testing.T) {
	schema := schemaFile(t)
	r := nestCmd(t, "", "describe", "--schema", schema)
	if r.code != 0 {
		t.Fatalf("nest describe = %d, %s", r.code, r.stderr)
	}
	golden(t, "describe.txt", r.stdout)
	r = nestCmd(t, "", "describe", "--schema", schema, "--json")
	if r.code != 0 {
		t.Fatalf("nest describe --json = %d, %s", r.code, r.stderr)
	}
	golden(t, "describe.json", r.stdout)
	// The export round-trips: describe --json reads back as the same schema.
	var v struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.Version != 1 {
		t.Errorf("describe --json: version %d, %v", v.Version, err)
	}
}

func TestTree(t *testing.T) {
	rdb := redistest.Shared(t)
	seed(t, rdb)
	schema := schemaFile(t)
	url := serverURL(rdb)

	r := nestCmd(t, "", "tree", "--schema", schema, "--url", url, "--json")
	if r.code != 0 {
		t.Fatalf("nest tree = %d, %s", r.code, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("progress or noise on a non-terminal stderr: %q", r.stderr)
	}
	golden(t, "tree.json", normalise(t, r.stdout))

	r = nestCmd(t, "", "tree", "--schema", schema, "--url", url)
	if r.code != 0 || !strings.Contains(r.stdout, "shop:user:{user_id}:age") || !strings.Contains(r.stdout, "(orphan: no template)") {
		t.Errorf("nest tree (table) = %d:\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A prefix limits the walk.
	r = nestCmd(t, "", "tree", "--schema", schema, "--url", url, "--json", "shop:{team:")
	if r.code != 0 {
		t.Fatalf("nest tree PREFIX = %d, %s", r.code, r.stderr)
	}
	golden(t, "tree_prefix.json", normalise(t, r.stdout))

	// Without a schema: inferred patterns.
	r = nestCmd(t, "", "tree", "--url", url, "--json")
	if r.code != 0 {
		t.Fatalf("nest tree (no schema) = %d, %s", r.code, r.stderr)
	}
	golden(t, "tree_inferred.json", normalise(t, r.stdout))
}

func TestTreeCluster(t *testing.T) {
	c := freshCluster(t)
	seed(t, c)
	schema := schemaFile(t)
	args := append([]string{"tree", "--schema", schema, "--json"}, clusterArgs(c)...)
	r := nestCmd(t, "", args...)
	if r.code != 0 {
		t.Fatalf("nest tree on the cluster = %d, %s", r.code, r.stderr)
	}
	var rep struct {
		Nodes int `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Nodes != 3 {
		t.Errorf("nodes = %d, %v; want the 3 masters", rep.Nodes, err)
	}
	// The same report as on one server.
	golden(t, "tree.json", normalise(t, r.stdout))
}

// TestTreeProbes: with more keys in a template than --probes, counts stay
// exact and the TTL figures are scaled from the probed keys; --exact
// reads every key.
func TestTreeProbes(t *testing.T) {
	rdb := redistest.Shared(t)
	ctx := t.Context()
	pipe := rdb.Pipeline()
	for i := range 400 {
		name := fmt.Sprintf("big:item:%d", i)
		if i%4 == 0 {
			pipe.Set(ctx, name, "v", time.Hour)
		} else {
			pipe.Set(ctx, name, "v", 0)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	group := func(args ...string) map[string]any {
		t.Helper()
		r := nestCmd(t, "", append([]string{"tree", "--url", serverURL(rdb), "--json"}, args...)...)
		if r.code != 0 {
			t.Fatalf("nest tree %v = %d, %s", args, r.code, r.stderr)
		}
		var rep struct{ Groups []map[string]any }
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.Groups) != 1 {
			t.Fatalf("tree %v: %v %s", args, err, r.stdout)
		}
		return rep.Groups[0]
	}
	g := group("--probes", "100")
	ttl := g["ttl"].(map[string]any)
	if g["count"].(float64) != 400 || ttl["estimated"] != true || ttl["probed"].(float64) != 100 {
		t.Fatalf("probed tree: count %v, ttl %v", g["count"], ttl)
	}
	none, exp := ttl["none"].(float64), ttl["expiring"].(float64)
	if none+exp != 400 || none < 200 || none > 380 { // 300 expected; 100 random probes
		t.Fatalf("scaled TTL figures: none %v expiring %v", none, exp)
	}
	if types := g["types"].(map[string]any); types["string"].(float64) != 400 {
		t.Fatalf("scaled types %v", types)
	}
	g = group("--exact")
	ttl = g["ttl"].(map[string]any)
	if ttl["estimated"] != nil || ttl["none"].(float64) != 300 || ttl["expiring"].(float64) != 100 {
		t.Fatalf("exact tree: %v", ttl)
	}
	if r := nestCmd(t, "", "tree", "--url", serverURL(rdb), "--probes", "0"); r.code != 2 {
		t.Fatalf("--probes 0 = %d", r.code)
	}
}
