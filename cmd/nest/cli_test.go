package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// The tests of the nest command's inspection commands build the binary
// once and run it as a subprocess against real redis-server processes
// (internal/redistest), on a keyspace seeded through the library, with
// problems planted by a raw client.

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// nestBin is the binary TestMain builds.
var nestBin string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "nest-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	nestBin = filepath.Join(dir, "nest")
	if out, err := exec.Command("go", "build", "-o", nestBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building nest: %v\n%s", err, out)
		os.Exit(2)
	}
	code := redistest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

// nestCmd runs the binary with args, in an environment without REDIS_*
// variables, in a temporary directory (no .env), with stdin.
func nestCmd(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nestBin, args...)
	cmd.Dir = t.TempDir()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REDIS_") && !strings.HasPrefix(kv, "NEST_SECRET") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running nest %q: %v", args, err)
	}
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// ---- The test schema ----

type (
	cliSession struct {
		nest.Namespace `nest:"session:{sid}" ttl:"30m"`
		Token          nest.Key[string] `nest:"token"`
	}
	cliUser struct {
		nest.Namespace `nest:"user:{user_id}" ttl:"1h"`
		Name           nest.Key[string]     `nest:"name"`
		Age            nest.Key[int]        `nest:"age"`
		Tags           nest.Key[[]string]   `nest:"tags"`
		Visits         nest.Counter         `nest:"visits"`
		Prefs          nest.Hash[string]    `nest:"prefs"`
		Session        nest.Sub[cliSession] `index:"set"` // instance index shop:user:{user_id}:session
	}
	cliTeam struct {
		nest.Namespace `nest:"team:{team_id}" slot:"pin"`
		Name           nest.Key[string] `nest:"name"`
		Members        nest.Set[string] `nest:"members" ttl:"24h"`
	}
	cliRoot struct {
		nest.Namespace `nest:"shop"`
		Config         nest.Key[map[string]int] `nest:"config"`
		User           nest.Sub[cliUser]
		Team           nest.Sub[cliTeam]
	}
)

// schemaFile writes the schema export of cliRoot and returns its path.
func schemaFile(t *testing.T) string {
	t.Helper()
	root := nest.MustNew[cliRoot](redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), nil)
	data, err := json.MarshalIndent(nest.Export(root.Namespace), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "schema.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// seed writes the test keyspace: declared keys through the library, then
// problems through the raw client. It returns the number of keys.
func seed(t *testing.T, rdb redis.UniversalClient) {
	t.Helper()
	ctx := context.Background()
	root := nest.MustNew[cliRoot](rdb, nil)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(root.Config.Set(ctx, map[string]int{"a": 1}))
	for i := 1; i <= 20; i++ {
		u := root.User.At(i)
		must(u.Name.Set(ctx, fmt.Sprintf("user %d", i)))
		must(u.Age.Set(ctx, 20+i))
		must(u.Tags.Set(ctx, []string{"a", "b"}))
		_, err := u.Visits.Incr(ctx)
		must(err)
		_, err = u.Prefs.Set(ctx, "theme", "dark")
		must(err)
		if i <= 5 {
			must(u.Session.At(fmt.Sprintf("s%d", i)).Token.Set(ctx, "tok"))
		}
	}
	for _, id := range []string{"t1", "t2"} {
		tm := root.Team.At(id)
		must(tm.Name.Set(ctx, "team "+id))
		_, err := tm.Members.Add(ctx, "u1", "u2")
		must(err)
	}
	// Planted by someone else:
	raw := []struct {
		args []any
	}{
		{[]any{"set", "shop:legacy:1", "x"}},                                         // orphan
		{[]any{"set", "shop:legacy:2", "x"}},                                         // orphan
		{[]any{"set", "shop:user:3:unknown", "x"}},                                   // orphan: no such key
		{[]any{"set", "shop:user:a b:name", "x", "ex", "3600"}},                      // orphan: a value At refuses
		{[]any{"set", "shop:user:7:name", "immortal"}},                               // immortal: TTL declared, none set
		{[]any{"del", "shop:user:8:age"}},                                            // then a list where a string is declared
		{[]any{"rpush", "shop:user:8:age", "1", "2"}},                                // wrong type
		{[]any{"expire", "shop:user:8:age", "3600"}},                                 //
		{[]any{"set", "shop:user:9:age", "not a number", "ex", "3600"}},              // undecodable
		{[]any{"set", "shop:user:10:tags", "{not json", "ex", "3600"}},               // undecodable
		{[]any{"set", "shop:user:11:name", strings.Repeat("n", 2048), "ex", "3600"}}, // too large
		{[]any{"set", "shop:user:12:session", "x", "ex", "3600"}},                    // wrong type: an index is a set
		{[]any{"set", "other:thing:1", "x"}},                                         // outside the schema
		{[]any{"set", "cache:4f9c2d1e7a:x", "x", "ex", "600"}},                       // outside the schema
	}
	for _, r := range raw {
		must(rdb.Do(ctx, r.args...).Err())
	}
}

// normalise makes a --json report stable: memory sizes and TTLs left
// become 0 or 1 (measured or not), the node count 0.
func normalise(t *testing.T, out string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				switch k {
				case "sample_bytes", "estimated_bytes", "min_ms", "median_ms", "max_ms", "bytes":
					if n, ok := e.(float64); ok && n > 0 {
						x[k] = 1
					}
				case "nodes":
					x[k] = 0
				default:
					x[k] = walk(e)
				}
			}
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		}
		return v
	}
	data, err := json.MarshalIndent(walk(v), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(data) + "\n"
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n--- got\n%s", path, got)
	}
}

// serverURL returns a redis:// URL for a Shared client.
func serverURL(rdb *redis.Client) string {
	return fmt.Sprintf("redis://%s/%d", rdb.Options().Addr, rdb.Options().DB)
}

// clusterArgs returns the --addr flags of a cluster client.
func clusterArgs(c *redis.ClusterClient) []string {
	var args []string
	for _, a := range c.Options().Addrs {
		args = append(args, "--addr", a)
	}
	return args
}

// freshCluster returns the shared cluster, emptied.
func freshCluster(t *testing.T) *redis.ClusterClient {
	t.Helper()
	c := redistest.SharedCluster(t)
	err := c.ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error {
		return m.FlushAll(ctx).Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
