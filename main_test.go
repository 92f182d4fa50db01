package nest_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// TestMain stops the shared redis-server of the package's tests, then
// fails the run if any goroutine is left behind (a leaked Clear worker,
// an unclosed AutoPipeliner, ...).
func TestMain(m *testing.M) {
	code := redistest.Main(m)
	if code == 0 {
		// go-redis retries a failed dial once a second in a goroutine of
		// its own, which ends by itself: it is not ours to wait for.
		if err := goleak.Find(goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).tryDial")); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines left behind:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// onCluster reports whether the scenario tests run against Redis Cluster:
// `make test` runs the package a second time with NEST_TEST_BACKEND=cluster.
var onCluster = os.Getenv("NEST_TEST_BACKEND") == "cluster"

// testRedis returns a client for an empty keyspace: a fresh database of the
// shared redis-server, or, on the cluster backend, the shared 3-master Redis
// Cluster, flushed and held by the calling test until it ends (a cluster has
// one database, so its tests take turns).
func testRedis(t testing.TB) redis.UniversalClient {
	t.Helper()
	if !onCluster {
		return redistest.Shared(t)
	}
	cc := redistest.SharedCluster(t)
	clusterHolderMu.Lock()
	held := clusterHolder != "" && (t.Name() == clusterHolder || strings.HasPrefix(t.Name(), clusterHolder+"/"))
	clusterHolderMu.Unlock()
	if !held {
		clusterMu.Lock()
		clusterHolderMu.Lock()
		clusterHolder = t.Name()
		clusterHolderMu.Unlock()
		t.Cleanup(func() {
			clusterHolderMu.Lock()
			clusterHolder = ""
			clusterHolderMu.Unlock()
			clusterMu.Unlock()
		})
	}
	flushCluster(t, cc)
	return cc
}

// scanAll returns every key matching pattern: SCAN on each master of a
// Redis Cluster (a cluster client's SCAN reaches one node only).
func scanAll(t testing.TB, rdb redis.UniversalClient, pattern string) []string {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var out []string
	scan := func(ctx context.Context, c redis.Cmdable) error {
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			out = append(out, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	var err error
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return scan(ctx, m) })
	} else {
		err = scan(ctx, rdb)
	}
	if err != nil {
		t.Fatalf("SCAN %s: %v", pattern, err)
	}
	return out
}

var (
	clusterMu       sync.Mutex // held by the test using the shared cluster
	clusterHolderMu sync.Mutex
	clusterHolder   string // name of the test holding clusterMu; its subtests share it
)

// The original redisimnest example schema, extended with the Message
// namespace it nests under both User and Admin. Tests of every file use it.
type (
	App struct {
		nest.Namespace `nest:"app" ttl:"80s"`
		Tokens         nest.Key[[]string] `nest:"tokens" default:"[]"`
		PendingUsers   nest.Key[[]string] `nest:"pending_users"`
	}

	Message struct {
		nest.Namespace `nest:"message:{message_id}"`
		Text           nest.Key[string] `nest:"text"`
		Seen           nest.Key[bool]   `nest:"seen" default:"false" ttl:"30s"`
	}

	User struct {
		nest.Namespace `nest:"user:{user_id}" ttl:"120s"`
		Age            nest.Key[int]    `nest:"age" default:"0"`
		Name           nest.Key[string] `nest:"name" default:"Unknown"`
		Messages       nest.Sub[Message]
	}

	Admin struct {
		nest.Namespace `nest:"admin:{admin_id}:{region}"`
		Level          nest.Key[int] `nest:"level"`
		Messages       nest.Sub[Message]
	}

	Root struct {
		nest.Namespace `nest:"root"`
		App            App
		User           nest.Sub[User]
		Admin          nest.Sub[Admin]
		ProjectName    nest.Key[string] `nest:"project_name"`
	}
)

// newRoot binds the example schema to a fresh, empty database of the shared
// test server.
func newRoot(t testing.TB) (*Root, redis.UniversalClient) {
	t.Helper()
	rdb := testRedis(t)
	root, err := nest.New[Root](rdb, nil)
	if err != nil {
		t.Fatalf("nest.New: %v", err)
	}
	return root, rdb
}

// cmdRecorder is a go-redis hook that records every command the client
// processes, alone or in a pipeline or transaction, so tests can check
// what goes on the wire. (Redis Cluster node clients do not run it.)
type cmdRecorder struct {
	mu   sync.Mutex
	cmds [][]any
}

// recordCommands installs a recorder on rdb.
func recordCommands(rdb redis.UniversalClient) *cmdRecorder {
	r := &cmdRecorder{}
	rdb.AddHook(r)
	return r
}

func (r *cmdRecorder) add(cmds ...redis.Cmder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cmds {
		r.cmds = append(r.cmds, slices.Clone(c.Args()))
	}
}

// Len returns the number of commands processed so far.
func (r *cmdRecorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.cmds)
}

// Since returns the commands processed after the first n.
func (r *cmdRecorder) Since(n int) [][]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.cmds[n:])
}

// named returns the args of the recorded commands called name.
func (r *cmdRecorder) named(name string) [][]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out [][]any
	for _, c := range r.cmds {
		if strings.EqualFold(fmt.Sprint(c[0]), name) {
			out = append(out, c)
		}
	}
	return out
}

func (r *cmdRecorder) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *cmdRecorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.add(cmd)
		return next(ctx, cmd)
	}
}

func (r *cmdRecorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.add(cmds...)
		return next(ctx, cmds)
	}
}

// writeKeys stores "v" at every name with pipelined SETs (not MSET, which
// would cross slots on Redis Cluster).
func writeKeys(tb testing.TB, rdb redis.UniversalClient, names ...string) {
	tb.Helper()
	ctx := context.Background()
	for batch := range slices.Chunk(names, 10_000) {
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, n := range batch {
				p.Set(ctx, n, "v", 0)
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("write %d keys: %v", len(batch), err)
		}
	}
}
