package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest/internal/redistest"
)

func TestAudit(t *testing.T) {
	rdb := redistest.Shared(t)
	seed(t, rdb)
	schema, url := schemaFile(t), serverURL(rdb)
	r := nestCmd(t, "", "audit", "--schema", schema, "--url", url, "--json", "--max-value-size", "1024")
	if r.code != 1 {
		t.Fatalf("nest audit on a keyspace with problems = %d, want 1; %s", r.code, r.stderr)
	}
	golden(t, "audit.json", normalise(t, r.stdout))
	r = nestCmd(t, "", "audit", "--schema", schema, "--url", url, "--max-value-size", "1024")
	for _, want := range []string{"orphan", "immortal", "wrong_type", "undecodable", "too_large", "shop:legacy:1", "findings"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("audit table lacks %q:\n%s", want, r.stdout)
		}
	}

	// A clean keyspace: exit 0.
	clean := redistest.Shared(t)
	r = nestCmd(t, "", "audit", "--schema", schema, "--url", serverURL(clean))
	if r.code != 0 || !strings.Contains(r.stdout, "no findings") {
		t.Errorf("nest audit of an empty keyspace = %d:\n%s%s", r.code, r.stdout, r.stderr)
	}

	// The cluster gives the same report.
	c := freshCluster(t)
	seed(t, c)
	args := append([]string{"audit", "--schema", schema, "--json", "--max-value-size", "1024"}, clusterArgs(c)...)
	r = nestCmd(t, "", args...)
	if r.code != 1 {
		t.Fatalf("nest audit on the cluster = %d; %s", r.code, r.stderr)
	}
	golden(t, "audit.json", normalise(t, r.stdout))
}

func TestClear(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Shared(t)
	seed(t, rdb)
	// Decoys next to user 1: user 10..19 share its digits.
	schema, url := schemaFile(t), serverURL(rdb)
	base := []string{"clear", "--schema", schema, "--url", url}

	r := nestCmd(t, "", append(base, "shop:user:{user_id}", "--param", "user_id=1", "--dry-run")...)
	if r.code != 0 || !strings.Contains(r.stdout, "6 keys in the subtree of shop:user:1 (shop:user:{user_id})") {
		t.Fatalf("dry run = %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := rdb.Exists(ctx, "shop:user:1:name").Val(); n != 1 {
		t.Fatal("the dry run deleted")
	}
	// Not confirmed: nothing deleted, exit 3.
	r = nestCmd(t, "no\n", append(base, "shop:user:1")...)
	if r.code != 3 || rdb.Exists(ctx, "shop:user:1:name").Val() != 1 {
		t.Fatalf("unconfirmed clear = %d, %s", r.code, r.stderr)
	}
	before := keys(t, rdb)
	r = nestCmd(t, "yes\n", append(base, "shop:user:1", "--rate", "1000")...)
	if r.code != 0 || !strings.Contains(r.stdout, "Deleted 6 keys.") {
		t.Fatalf("clear = %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	after := keys(t, rdb)
	var gone []string
	for _, k := range before {
		if !slices.Contains(after, k) {
			gone = append(gone, k)
		}
	}
	want := []string{"shop:user:1:age", "shop:user:1:name", "shop:user:1:prefs", "shop:user:1:session:s1:token", "shop:user:1:tags", "shop:user:1:visits"}
	if !slices.Equal(gone, want) {
		t.Errorf("clear deleted %q, want %q", gone, want)
	}
	// A pinned team, by template and --yes.
	r = nestCmd(t, "", append(base, "shop:{team:{team_id}}", "--param", "team_id=t1", "--yes", "--json")...)
	if r.code != 0 || !strings.Contains(r.stdout, `"deleted": 2`) || rdb.Exists(ctx, "shop:{team:t2}:name").Val() != 1 {
		t.Errorf("clear of a pinned team = %d:\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Hostile parameters are refused as the library refuses them.
	for _, v := range []string{"4:2", "4*", "", "a b", "{x}", "4\uFF1A2", "\u3164"} {
		r := nestCmd(t, "", append(base, "shop:user:{user_id}", "--param", "user_id="+v, "--yes")...)
		if r.code != 2 || !strings.Contains(r.stderr, "nest: invalid parameter {user_id} of cliRoot.User") {
			t.Errorf("user_id=%q: %d, %q; want 2 and the library's refusal", v, r.code, r.stderr)
		}
	}
	for _, args := range [][]string{
		{"shop:user:{user_id}"},                              // missing
		{"shop:user:{user_id}", "--param", "userid=1"},       // unknown
		{"shop:user:2:name"},                                 // a key
		{"shop:nothing:2"},                                   // no such namespace
		{"elsewhere:1"},                                      // outside the schema
		{"shop:user:2", "--param", "user_id=2"},              // --param with a prefix
		{"shop:user:{user_id}", "--param", "user_id=1", "x"}, // two arguments
	} {
		r := nestCmd(t, "", append(base, args...)...)
		if r.code != 2 {
			t.Errorf("nest clear %q = %d, %q; want 2", args, r.code, r.stderr)
		}
	}
	if got := keys(t, rdb); len(got) != len(after)-2 {
		t.Errorf("refused clears changed the keyspace: %d keys, want %d", len(got), len(after)-2)
	}
}

func keys(t *testing.T, rdb *redis.Client) []string {
	t.Helper()
	k := rdb.Keys(context.Background(), "*").Val()
	slices.Sort(k)
	return k
}

// TestEmbedded runs a program that ships the command bound to its live
// schema (testdata/embedapp).
func TestEmbedded(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := srv.Client(t, 0)
	bin := filepath.Join(t.TempDir(), "embedapp")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/embedapp").CombinedOutput(); err != nil {
		t.Fatalf("building embedapp: %v\n%s", err, out)
	}
	for _, kv := range [][]any{{"app:user:42:name", "a"}, {"app:user:420:name", "decoy"}, {"app:tenant:acme:plan", "pro"}, {"app:tenant:ACME:plan", "x"}} {
		rdb.Set(ctx, kv[0].(string), kv[1], 0)
	}
	run := func(stdin string, args ...string) result {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "EMBED_ADDR="+srv.Addr())
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return result{code: code, stdout: out.String(), stderr: errOut.String()}
	}
	r := run("", "nest", "describe")
	if r.code != 0 || !strings.Contains(r.stdout, "tenant:{tenant_id}  (root.Tenant, ValidateParams)") {
		t.Errorf("embedapp nest describe = %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run("", "nest", "audit", "--json")
	if r.code != 1 || !strings.Contains(r.stdout, `"immortal": 2`) {
		t.Errorf("embedapp nest audit = %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	// ValidateParams applies: the library refuses ACME.
	r = run("", "nest", "clear", "app:tenant:{tenant_id}", "--param", "tenant_id=ACME", "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "ValidateParams") {
		t.Errorf("embedapp nest clear ACME = %d, %q; want 2", r.code, r.stderr)
	}
	r = run("", "nest", "clear", "app:user:42", "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, "Deleted 1 keys.") || rdb.Exists(ctx, "app:user:420:name").Val() != 1 {
		t.Errorf("embedapp nest clear = %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run("", "nest", "tree", "--bogus")
	if r.code != 2 || !strings.Contains(r.stderr, "Run 'embedapp nest tree --help' for usage.") {
		t.Errorf("embedapp nest tree --bogus = %d, %q", r.code, r.stderr)
	}
}
