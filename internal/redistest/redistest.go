// Package redistest starts real redis-server processes for tests.
//
// Three ways to get a server, from cheapest to most isolated:
//
//   - [Shared] returns a client for a fresh, empty logical database on one
//     redis-server process that is started lazily, once per test binary.
//     It is the fastest choice and suits most tests.
//   - [Start] starts a dedicated redis-server for a single test. Use it when a
//     test needs its own configuration or process, for example to stop the
//     server with [Server.Stop] and observe how the code behaves once Redis
//     has gone away.
//   - [StartCluster] and [SharedCluster] do the same for Redis Cluster.
//
// The shared servers outlive individual tests, so they cannot be stopped by
// a test's cleanup. A package that uses [Shared] or [SharedCluster] must
// stop them from its TestMain:
//
//	func TestMain(m *testing.M) {
//		os.Exit(redistest.Main(m))
//	}
//
// redis-server (and redis-cli for clusters) is looked up in PATH. When it is
// missing the test is skipped, unless the environment variable CI is "true"
// or "1", or NEST_REQUIRE_REDIS is "1", in which case the test fails: a CI
// run or `make test` must never pass by skipping every Redis test.
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// readyTimeout bounds how long a started redis-server may take to answer.
	readyTimeout = 10 * time.Second
	// clusterReadyTimeout bounds how long a cluster may take to become usable
	// once its nodes answer.
	clusterReadyTimeout = 30 * time.Second
	// stopTimeout is how long a server may take to exit after SIGTERM before
	// it is killed.
	stopTimeout = 5 * time.Second
	// startAttempts is how many ports are tried when a server fails to bind.
	startAttempts = 5
	// sharedDatabases is the number of logical databases of the shared server,
	// and so the number of [Shared] calls one test binary can make.
	sharedDatabases = 4096
	// clusterBusOffset is the fixed distance between a cluster node's client
	// port and its cluster bus port.
	clusterBusOffset = 10000
	// clusterVerifyKeys is how many keys are written through a cluster client
	// to check that every master serves its slots.
	clusterVerifyKeys = 50
)

// Server is a redis-server process started by [Start]. Its methods are safe
// for concurrent use.
type Server struct {
	port int
	cmd  *exec.Cmd
	log  *logBuffer

	exited  chan struct{} // closed once the process has been waited for
	waitErr error         // the result of cmd.Wait, set before exited closes

	stopOnce sync.Once
}

// Start starts a redis-server on a free port of 127.0.0.1 with persistence
// disabled and its working directory in tb.TempDir(), waits until it answers,
// and stops it when the test and its subtests have finished.
//
// Extra args are appended to the command line in redis-server's own form, so
// that they can add settings or override the defaults, for example
// Start(tb, "--maxmemory", "1mb", "--maxmemory-policy", "noeviction").
//
// When redis-server is not in PATH, Start skips the test, or fails it when CI
// or NEST_REQUIRE_REDIS says Redis is required (see the package doc).
func Start(tb testing.TB, args ...string) *Server {
	tb.Helper()
	bin := lookPath(tb, "redis-server")
	s, err := startServer(bin, tb.TempDir(), false, args)
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	// Registered after TempDir, so it runs before the directory is removed.
	tb.Cleanup(s.Stop)
	return s
}

// Addr returns the server's address, "127.0.0.1:port".
func (s *Server) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// Port returns the server's TCP port.
func (s *Server) Port() int {
	return s.port
}

// Client returns a go-redis client for logical database db of the server.
// The client is closed when the test finishes.
func (s *Server) Client(tb testing.TB, db int) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), DB: db})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Stop stops the server now: it sends SIGTERM, kills the process if it has
// not exited within a few seconds, and waits for it. Clients of the server
// fail from then on. Stop may be called more than once and concurrently; it
// also runs by itself when the test that started the server finishes.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		select {
		case <-s.exited:
			return
		default:
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(stopTimeout):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
}

// startServer starts redis-server bin in dir and waits until it answers.
// With cluster set, the port is chosen so that the cluster bus port
// (port+10000) is free as well. A server that fails to bind its port is
// retried on another one.
func startServer(bin, dir string, cluster bool, args []string) (*Server, error) {
	var lastErr error
	for range startAttempts {
		port, err := freePort(cluster)
		if err != nil {
			return nil, err
		}
		s, err := launch(bin, dir, port, args)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !errors.Is(err, errBind) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("redis-server could not bind a port in %d attempts: %w", startAttempts, lastErr)
}

// errBind marks a server that exited because its port was taken.
var errBind = errors.New("port already in use")

// launch starts one redis-server on port and waits until it answers.
func launch(bin, dir string, port int, args []string) (*Server, error) {
	argv := []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", dir,
		// Log to stdout, which is kept for error messages.
		"--logfile", "",
		"--daemonize", "no",
	}
	argv = append(argv, args...)

	log := &logBuffer{}
	cmd := exec.Command(bin, argv...)
	cmd.Dir = dir
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = sysProcAttr()
	// A fork child (BGSAVE) holding the output pipe must not block Wait.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	s := &Server{port: port, cmd: cmd, log: log, exited: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	// Wait until the server answers, and make sure that what answers is this
	// process and not another server that took the port first.
	want := "process_id:" + strconv.Itoa(cmd.Process.Pid) + "\r\n"
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	var lastErr error
	for {
		select {
		case <-s.exited:
			out := log.String()
			err := fmt.Errorf("redis-server on port %d exited during startup (%v); output:\n%s", port, s.waitErr, out)
			if strings.Contains(out, "Address already in use") {
				err = fmt.Errorf("%w: %w", errBind, err)
			}
			return nil, err
		default:
		}
		info, err := command(ctx, s.Addr(), "INFO", "server")
		if err == nil && strings.Contains(info, want) {
			return s, nil
		}
		if err == nil {
			err = errors.New("another process answers on the port")
		}
		lastErr = err
		select {
		case <-ctx.Done():
			s.Stop()
			return nil, fmt.Errorf("redis-server on port %d did not answer within %v (last error: %v); output:\n%s",
				port, readyTimeout, lastErr, log.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// sysProcAttr asks the kernel to kill a started server when the test binary
// dies without running its cleanups (a panic, a -timeout, a signal), so that
// no redis-server is left behind. Pdeathsig exists only on some systems
// (Linux, FreeBSD), hence the reflection, which keeps this file portable.
// The signal is tied to the OS thread that started the process; the Go
// runtime keeps its threads alive unless a goroutine exits while locked to
// one with runtime.LockOSThread, which tests starting servers must not do.
func sysProcAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{}
	if f := reflect.ValueOf(attr).Elem().FieldByName("Pdeathsig"); f.IsValid() && f.CanSet() {
		f.Set(reflect.ValueOf(syscall.SIGKILL).Convert(f.Type()))
	}
	return attr
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago. With
// cluster set, port+10000 (the cluster bus port) was free too.
func freePort(cluster bool) (int, error) {
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if !cluster {
			_ = l.Close()
			return port, nil
		}
		ok := false
		if port+clusterBusOffset <= 65535 {
			if bl, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+clusterBusOffset))); err == nil {
				_ = bl.Close()
				ok = true
			}
		}
		_ = l.Close()
		if ok {
			return port, nil
		}
	}
	return 0, errors.New("find a free port: no port with a free cluster bus port found")
}

// command sends one command to addr over a new connection and returns its
// reply: the text of a simple string, integer or bulk string reply, or the
// text of an error reply as an error. It speaks RESP2 directly so that
// readiness checks need no client and leave nothing to close.
func command(ctx context.Context, addr string, args ...string) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	deadline := time.Now().Add(2 * time.Second)
	if ctxDeadline, ok := ctx.Deadline(); ok && ctxDeadline.Before(deadline) {
		deadline = ctxDeadline
	}
	_ = conn.SetDeadline(deadline)

	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return "", err
	}

	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", fmt.Errorf("bad bulk length %q", line)
		}
		if n < 0 {
			return "", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	default:
		return "", fmt.Errorf("unexpected reply %q", line)
	}
}

// logBuffer keeps the last logBufferSize bytes written to it.
type logBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const logBufferSize = 64 << 10

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - logBufferSize; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// lookPath returns the path of the named Redis program, or ends the test:
// with a failure when Redis is required, with a skip otherwise.
func lookPath(tb testing.TB, name string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if required() {
		tb.Fatalf("redistest: %s not found in PATH, and Redis is required here (CI=%q, NEST_REQUIRE_REDIS=%q); "+
			"install it with `make redis` or `apt-get install redis-server redis-tools`",
			name, os.Getenv("CI"), os.Getenv("NEST_REQUIRE_REDIS"))
	}
	tb.Skipf("redistest: %s not found in PATH; skipping (set NEST_REQUIRE_REDIS=1 to fail instead)", name)
	return ""
}

// required reports whether a missing Redis must fail tests instead of
// skipping them.
func required() bool {
	ci := os.Getenv("CI")
	return ci == "true" || ci == "1" || os.Getenv("NEST_REQUIRE_REDIS") == "1"
}

// Cluster is a Redis Cluster of redis-server processes started by
// [StartCluster]. Its methods are safe for concurrent use.
type Cluster struct {
	nodes []*Server
}

// StartCluster starts a Redis Cluster of masters masters, each with
// replicasPerMaster replicas, on free ports of 127.0.0.1. Every node runs with
// cluster-node-timeout 2000 (milliseconds) and its own directory under
// tb.TempDir(). The nodes are joined with `redis-cli --cluster create`, and
// StartCluster returns once every node reports cluster_state:ok, every
// replica is in sync with its master, and a cluster client can write and read
// keys spread over all masters. The nodes are stopped when the test finishes.
//
// masters must be at least 3, as Redis Cluster requires. When redis-server or
// redis-cli is not in PATH, StartCluster skips or fails the test like [Start].
func StartCluster(tb testing.TB, masters, replicasPerMaster int) *Cluster {
	tb.Helper()
	server := lookPath(tb, "redis-server")
	cli := lookPath(tb, "redis-cli")
	c, err := startCluster(server, cli, tb.TempDir(), masters, replicasPerMaster)
	if c != nil {
		tb.Cleanup(c.Stop)
	}
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	return c
}

// Addrs returns the addresses of all nodes, masters and replicas, in the
// order of [Cluster.Nodes].
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// Nodes returns the cluster's nodes. The first ones were made masters by
// redis-cli, the rest replicas; roles may change once a test stops nodes.
// [Server.Stop] on a node simulates that node going away.
func (c *Cluster) Nodes() []*Server {
	return append([]*Server(nil), c.nodes...)
}

// Client returns a go-redis cluster client for the cluster. It is closed when
// the test finishes.
func (c *Cluster) Client(tb testing.TB) *redis.ClusterClient {
	tb.Helper()
	cc := c.newClient()
	tb.Cleanup(func() { _ = cc.Close() })
	return cc
}

// Stop stops every node of the cluster. It may be called more than once; it
// also runs by itself when the test that started the cluster finishes.
func (c *Cluster) Stop() {
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		wg.Go(n.Stop)
	}
	wg.Wait()
}

func (c *Cluster) newClient() *redis.ClusterClient {
	return redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
}

// startCluster starts and joins the nodes of a cluster under dir. On error it
// may return a partly started cluster, which the caller must stop.
func startCluster(server, cli, dir string, masters, replicasPerMaster int) (*Cluster, error) {
	if masters < 3 {
		return nil, fmt.Errorf("a Redis Cluster needs at least 3 masters, not %d", masters)
	}
	if replicasPerMaster < 0 {
		return nil, fmt.Errorf("replicas per master must not be negative, not %d", replicasPerMaster)
	}
	total := masters * (1 + replicasPerMaster)
	args := []string{
		"--cluster-enabled", "yes",
		"--cluster-config-file", "nodes.conf",
		"--cluster-node-timeout", "2000",
		// Replicas sync at once instead of after the default 5 s delay.
		"--repl-diskless-sync-delay", "0",
	}

	dirs := make([]string, total)
	for i := range dirs {
		dirs[i] = filepath.Join(dir, "node"+strconv.Itoa(i))
		if err := os.MkdirAll(dirs[i], 0o755); err != nil {
			return nil, err
		}
	}
	c := &Cluster{nodes: make([]*Server, total)}
	errs := make([]error, total)
	var wg sync.WaitGroup
	for i := range total {
		wg.Go(func() {
			c.nodes[i], errs[i] = startServer(server, dirs[i], true, args)
		})
	}
	wg.Wait()
	started := c.nodes[:0]
	for _, n := range c.nodes {
		if n != nil {
			started = append(started, n)
		}
	}
	c.nodes = started
	if err := errors.Join(errs...); err != nil {
		return c, err
	}

	ctx, cancel := context.WithTimeout(context.Background(), clusterReadyTimeout)
	defer cancel()
	create := append([]string{"--cluster", "create"}, c.Addrs()...)
	create = append(create, "--cluster-replicas", strconv.Itoa(replicasPerMaster), "--cluster-yes")
	out, err := exec.CommandContext(ctx, cli, create...).CombinedOutput()
	if err != nil {
		return c, fmt.Errorf("redis-cli --cluster create: %v; output:\n%s", err, out)
	}
	if err := c.waitReady(ctx, masters*replicasPerMaster); err != nil {
		return c, err
	}
	return c, nil
}

// waitReady waits until every node reports cluster_state:ok, the expected
// number of replicas are in sync with their masters, and a cluster client can
// set and get keys in slots of every master.
func (c *Cluster) waitReady(ctx context.Context, replicas int) error {
	var last error
	check := func() error {
		synced := 0
		for _, n := range c.nodes {
			info, err := command(ctx, n.Addr(), "CLUSTER", "INFO")
			if err != nil {
				return fmt.Errorf("%s: CLUSTER INFO: %w", n.Addr(), err)
			}
			if !strings.Contains(info, "cluster_state:ok\r\n") {
				return fmt.Errorf("%s: cluster_state is not ok", n.Addr())
			}
			repl, err := command(ctx, n.Addr(), "INFO", "replication")
			if err != nil {
				return fmt.Errorf("%s: INFO replication: %w", n.Addr(), err)
			}
			if strings.Contains(repl, "role:slave\r\n") {
				if !strings.Contains(repl, "master_link_status:up\r\n") {
					return fmt.Errorf("%s: replica not in sync with its master", n.Addr())
				}
				synced++
			}
		}
		if synced != replicas {
			return fmt.Errorf("%d of %d replicas in sync", synced, replicas)
		}
		return nil
	}
	for {
		if last = check(); last == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not ready within %v: %v", clusterReadyTimeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}

	cc := c.newClient()
	defer cc.Close()
	for i := range clusterVerifyKeys {
		key := "redistest:ready:" + strconv.Itoa(i)
		for {
			last = cc.Set(ctx, key, i, 0).Err()
			if last == nil {
				var v int
				v, last = cc.Get(ctx, key).Int()
				if last == nil && v != i {
					last = fmt.Errorf("GET %s = %d, want %d", key, v, i)
				}
			}
			if last == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("cluster not usable within %v: %v", clusterReadyTimeout, last)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	keys := make([]string, clusterVerifyKeys)
	for i := range keys {
		keys[i] = "redistest:ready:" + strconv.Itoa(i)
	}
	// Leave the cluster empty for the tests. DEL on each key, as the keys are
	// in different slots.
	for _, k := range keys {
		if err := cc.Del(ctx, k).Err(); err != nil {
			return fmt.Errorf("clean up readiness keys: %w", err)
		}
	}
	return nil
}

// shared holds the servers shared by the tests of one binary.
var shared struct {
	mainRunning atomic.Bool // set by Main
	nextDB      atomic.Int64
	prefixSeq   atomic.Int64

	mu sync.Mutex // guards the fields below

	dir string // os.MkdirTemp directory of all shared servers

	server     *Server
	serverErr  error
	serverDone bool

	cluster     *Cluster
	clusterErr  error
	clusterDone bool
}

// Main runs the tests of m and then stops the servers started by [Shared]
// and [SharedCluster], if any, and removes their directory. It returns the
// exit code of m.Run. A package that uses Shared or SharedCluster must call
// it from TestMain:
//
//	func TestMain(m *testing.M) {
//		os.Exit(redistest.Main(m))
//	}
func Main(m *testing.M) int {
	shared.mainRunning.Store(true)
	code := m.Run()

	shared.mu.Lock()
	defer shared.mu.Unlock()
	var wg sync.WaitGroup
	if shared.server != nil {
		wg.Go(shared.server.Stop)
	}
	if shared.cluster != nil {
		wg.Go(shared.cluster.Stop)
	}
	wg.Wait()
	if shared.dir != "" {
		if err := os.RemoveAll(shared.dir); err != nil {
			fmt.Fprintf(os.Stderr, "redistest: remove %s: %v\n", shared.dir, err)
		}
	}
	return code
}

// sharedDir returns the directory for the shared servers, creating it on
// first use. shared.mu must be held.
func sharedDir() (string, error) {
	if shared.dir == "" {
		dir, err := os.MkdirTemp("", "redistest-")
		if err != nil {
			return "", err
		}
		shared.dir = dir
	}
	return shared.dir, nil
}

// requireMain fails the test when Main is not running the tests, as the
// shared servers would then never be stopped.
func requireMain(tb testing.TB, fn string) {
	tb.Helper()
	if !shared.mainRunning.Load() {
		tb.Fatalf("redistest: %s needs the package's TestMain to call os.Exit(redistest.Main(m))", fn)
	}
}

// Shared returns a client for a fresh, empty logical database on a
// redis-server shared by all the tests of the binary, which it starts on
// first use (with 4096 databases). Each call gets a database of its own, so
// tests using Shared may run in parallel; the client is closed when the test
// finishes. A test binary can make at most 4096 calls.
//
// The package's TestMain must call [Main], which stops the server. When
// redis-server is not in PATH, Shared skips or fails the test like [Start].
func Shared(tb testing.TB) *redis.Client {
	tb.Helper()
	requireMain(tb, "Shared")
	lookPath(tb, "redis-server") // skip, or fail under CI, when absent
	c, err := sharedClient()
	if err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// SharedClient is [Shared] for code without a testing.TB, such as Example
// functions: it returns a client for a fresh, empty database of the shared
// server, or an error (also when redis-server is not installed). The
// caller closes the client. The package's TestMain must call [Main].
func SharedClient() (*redis.Client, error) {
	if !shared.mainRunning.Load() {
		return nil, errors.New("redistest: SharedClient needs TestMain to call redistest.Main")
	}
	return sharedClient()
}

func sharedClient() (*redis.Client, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redistest: redis-server not found in PATH: %w", err)
	}
	shared.mu.Lock()
	if !shared.serverDone {
		shared.serverDone = true
		var dir string
		dir, shared.serverErr = sharedDir()
		if shared.serverErr == nil {
			dir = filepath.Join(dir, "server")
			shared.serverErr = os.Mkdir(dir, 0o755)
		}
		if shared.serverErr == nil {
			shared.server, shared.serverErr = startServer(bin, dir, false,
				[]string{"--databases", strconv.Itoa(sharedDatabases)})
		}
	}
	s, err := shared.server, shared.serverErr
	shared.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("redistest: start the shared server: %w", err)
	}

	db := int(shared.nextDB.Add(1) - 1)
	if db >= sharedDatabases {
		return nil, fmt.Errorf("redistest: all %d databases of the shared server are taken; use Start for more servers", sharedDatabases)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), DB: db})
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redistest: FLUSHDB on shared database %d: %w", db, err)
	}
	return c, nil
}

// SharedCluster returns a client for a Redis Cluster of 3 masters with 1
// replica each, shared by all the tests of the binary, which it starts on
// first use. The client is closed when the test finishes.
//
// A cluster has only database 0, so the tests sharing it see each other's
// keys: each test must use keys of its own, for example all starting with
// [KeyPrefix], and must not run commands that affect the whole cluster
// (FLUSHALL, FLUSHDB, CONFIG SET, stopping nodes); a test that needs those
// uses [StartCluster].
//
// The package's TestMain must call [Main], which stops the cluster. When
// redis-server or redis-cli is not in PATH, SharedCluster skips or fails the
// test like [Start].
func SharedCluster(tb testing.TB) *redis.ClusterClient {
	tb.Helper()
	requireMain(tb, "SharedCluster")
	server := lookPath(tb, "redis-server")
	cli := lookPath(tb, "redis-cli")

	shared.mu.Lock()
	if !shared.clusterDone {
		shared.clusterDone = true
		var dir string
		dir, shared.clusterErr = sharedDir()
		if shared.clusterErr == nil {
			dir = filepath.Join(dir, "cluster")
			shared.clusterErr = os.Mkdir(dir, 0o755)
		}
		if shared.clusterErr == nil {
			shared.cluster, shared.clusterErr = startCluster(server, cli, dir, 3, 1)
		}
	}
	c, err := shared.cluster, shared.clusterErr
	shared.mu.Unlock()
	if err != nil {
		tb.Fatalf("redistest: start the shared cluster: %v", err)
	}
	return c.Client(tb)
}

// KeyPrefix returns a key prefix unique to this call within the test binary,
// made of the test's name and a sequence number, such as
// "TestGet/miss#3:". Tests sharing the cluster of [SharedCluster] use it to
// keep their keys apart. It contains no braces, so
// keys built from it are spread over hash slots as usual.
func KeyPrefix(tb testing.TB) string {
	tb.Helper()
	name := strings.NewReplacer("{", "(", "}", ")").Replace(tb.Name())
	return name + "#" + strconv.FormatInt(shared.prefixSeq.Add(1), 10) + ":"
}
