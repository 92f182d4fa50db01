package nest_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
	"github.com/redisimnest/nest/internal/redisurl/urltest"
)

// The variables the ...FromEnv functions read.
var envVars = []string{
	"REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_USERNAME", "REDIS_PASSWORD", "REDIS_PASS", "REDIS_DB", "REDIS_CLUSTER",
	"REDIS_DELETE_CHUNK_SIZE", "SHOW_METHOD_DISPATCH_LOGS", "NEST_SECRET_KEYS", "NEST_SECRET_KEYS_FILE", "MY_ENCRYPTION_KEY",
}

func TestRedisOptionsFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     []string
		addrs   []string
		cluster bool
		check   func(*redis.UniversalOptions) bool
	}{
		{name: "defaults", addrs: []string{"localhost:6379"},
			check: func(o *redis.UniversalOptions) bool { return o.DB == 0 && o.Username == "" && o.Password == "" }},
		{name: "host variables",
			env:   []string{"REDIS_HOST", "cache.internal", "REDIS_PORT", "6380", "REDIS_USERNAME", "app", "REDIS_PASSWORD", "hunter2", "REDIS_DB", "3"},
			addrs: []string{"cache.internal:6380"},
			check: func(o *redis.UniversalOptions) bool {
				return o.Username == "app" && o.Password == "hunter2" && o.DB == 3
			}},
		{name: "REDIS_PASS, as the original spells it",
			env: []string{"REDIS_PASS", "hunter2"}, addrs: []string{"localhost:6379"},
			check: func(o *redis.UniversalOptions) bool { return o.Password == "hunter2" }},
		{name: "REDIS_PASSWORD wins over REDIS_PASS",
			env: []string{"REDIS_PASS", "old", "REDIS_PASSWORD", "new"}, addrs: []string{"localhost:6379"},
			check: func(o *redis.UniversalOptions) bool { return o.Password == "new" }},
		{name: "IPv6 host", env: []string{"REDIS_HOST", "::1", "REDIS_PORT", "7000"}, addrs: []string{"[::1]:7000"}},
		{name: "bracketed IPv6 host", env: []string{"REDIS_HOST", "[::1]"}, addrs: []string{"[::1]:6379"}},
		{name: "host with its port", env: []string{"REDIS_HOST", "cache:7000", "REDIS_PORT", "6380"}, addrs: []string{"cache:7000"}},
		{name: "several hosts make a Redis Cluster",
			env:   []string{"REDIS_HOST", "n1:7000, n2:7001 ,n3", "REDIS_PORT", "7002"},
			addrs: []string{"n1:7000", "n2:7001", "n3:7002"}, cluster: true},
		{name: "REDIS_CLUSTER with one seed", env: []string{"REDIS_HOST", "seed", "REDIS_CLUSTER", "1"},
			addrs: []string{"seed:6379"}, cluster: true},
		{name: "REDIS_CLUSTER=false with one host", env: []string{"REDIS_CLUSTER", "false"}, addrs: []string{"localhost:6379"}},
		{name: "URL",
			env:   []string{"REDIS_URL", "rediss://u:p4ss@example.com:6390/2?pool_size=7", "REDIS_HOST", "ignored", "REDIS_PASSWORD", "ignored"},
			addrs: []string{"example.com:6390"},
			check: func(o *redis.UniversalOptions) bool {
				return o.Username == "u" && o.Password == "p4ss" && o.DB == 2 && o.TLSConfig != nil && o.PoolSize == 7
			}},
		{name: "URL with a percent-encoded password",
			env: []string{"REDIS_URL", "redis://:S3cr3t%23t%2Fa%3Fil@localhost"}, addrs: []string{"localhost:6379"},
			check: func(o *redis.UniversalOptions) bool { return o.Password == "S3cr3t#t/a?il" }},
		{name: "cluster URL", env: []string{"REDIS_URL", "redis://:pw@n1:7000?addr=n2:7001&addr=n3:7002&read_only=true"},
			addrs: []string{"n1:7000", "n2:7001", "n3:7002"}, cluster: true,
			check: func(o *redis.UniversalOptions) bool { return o.Password == "pw" && o.ReadOnly }},
		{name: "URL with REDIS_CLUSTER", env: []string{"REDIS_URL", "redis://seed:7000", "REDIS_CLUSTER", "true"},
			addrs: []string{"seed:7000"}, cluster: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t, tc.env...)
			opt, err := nest.RedisOptionsFromEnv()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(opt.Addrs, tc.addrs) || opt.IsClusterMode != tc.cluster {
				t.Errorf("addrs %q cluster %t, want %q %t", opt.Addrs, opt.IsClusterMode, tc.addrs, tc.cluster)
			}
			if tc.check != nil && !tc.check(opt) {
				t.Errorf("options %+v", opt)
			}
		})
	}
}

func TestRedisOptionsFromEnvErrors(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want []string // in the message
	}{
		{[]string{"REDIS_PORT", "http"}, []string{`REDIS_PORT="http"`}},
		{[]string{"REDIS_PORT", "70000"}, []string{"REDIS_PORT"}},
		{[]string{"REDIS_DB", "x"}, []string{`REDIS_DB="x"`}},
		{[]string{"REDIS_DB", "-1"}, []string{"REDIS_DB=-1"}},
		{[]string{"REDIS_HOST", "a:7000,b:port"}, []string{"REDIS_HOST address 2"}},
		{[]string{"REDIS_CLUSTER", "maybe"}, []string{`REDIS_CLUSTER="maybe"`}},
		{[]string{"REDIS_HOST", "a:1,b:2", "REDIS_DB", "2"}, []string{"REDIS_DB=2", "only database 0"}},
		{[]string{"REDIS_HOST", "a:1,b:2", "REDIS_CLUSTER", "0"}, []string{"REDIS_CLUSTER is false"}},
		{[]string{"REDIS_URL", "redis://a:1?addr=b:2", "REDIS_CLUSTER", "false"}, []string{"REDIS_CLUSTER is false"}},
		{[]string{"REDIS_URL", "redis://a:1/3", "REDIS_CLUSTER", "1"}, []string{"REDIS_URL", "only database 0"}},
		// Every malformed variable is reported at once.
		{[]string{"REDIS_PORT", "http", "REDIS_DB", "x"}, []string{"REDIS_PORT", "REDIS_DB"}},
	} {
		clearEnv(t, tc.env...)
		opt, err := nest.RedisOptionsFromEnv()
		if opt != nil || !errors.Is(err, nest.ErrConfig) {
			t.Errorf("%q: RedisOptionsFromEnv = %v, %v; want ErrConfig", tc.env, opt, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q does not mention %q", tc.env, err, w)
			}
		}
		if _, err := nest.ClientFromEnv(); !errors.Is(err, nest.ErrConfig) {
			t.Errorf("%q: ClientFromEnv = %v, want ErrConfig", tc.env, err)
		}
	}
}

// Issue 7, defect 4: a malformed REDIS_URL never shows any part of the
// user name or password, whether it is read as one server's URL or a
// Redis Cluster's, in the message or in %+v or %#v.
func TestRedisURLErrorsHideUserInfo(t *testing.T) {
	for _, raw := range urltest.MalformedURLs {
		if strings.ContainsRune(raw, 0) {
			continue // no environment variable can hold a NUL
		}
		for _, cluster := range []string{"", "1"} {
			clearEnv(t, "REDIS_URL", raw, "REDIS_CLUSTER", cluster)
			_, err := nest.RedisOptionsFromEnv()
			if !errors.Is(err, nest.ErrConfig) || !strings.Contains(err.Error(), "REDIS_URL") {
				t.Errorf("REDIS_URL=%q REDIS_CLUSTER=%q: %v; want ErrConfig naming REDIS_URL", raw, cluster, err)
			}
			if leak := urltest.Leak(err); leak != "" {
				t.Errorf("REDIS_URL=%q REDIS_CLUSTER=%q: the error shows %q: %v", raw, cluster, leak, err)
			}
			if _, err := nest.ClientFromEnv(); err == nil || urltest.Leak(err) != "" {
				t.Errorf("REDIS_URL=%q REDIS_CLUSTER=%q: ClientFromEnv = %v", raw, cluster, err)
			}
		}
	}
}

// ClientFromEnv against real servers: passwords from each variable, ACL
// users, an encoded password in REDIS_URL, a unix socket.
func TestClientFromEnv(t *testing.T) {
	ctx := context.Background()
	sock := filepath.Join(t.TempDir(), "redis.sock")
	srv := redistest.Start(t, "--unixsocket", sock, "--unixsocketperm", "700")
	host, port, _ := net.SplitHostPort(srv.Addr())
	const pw, aclPw = "S3cr3t#t/a?il", "app-S3cr3t"
	admin := srv.Client(t, 0)
	if err := admin.Do(ctx, "ACL", "SETUSER", "app", "on", ">"+aclPw, "~*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.ConfigSet(ctx, "requirepass", pw).Err(); err != nil {
		t.Fatal(err)
	}

	// ping builds a client from the environment and returns its PING
	// error, and the client for more checks.
	ping := func(t *testing.T, kv ...string) (redis.UniversalClient, error) {
		t.Helper()
		clearEnv(t, kv...)
		rdb, err := nest.ClientFromEnv()
		if err != nil {
			t.Fatalf("ClientFromEnv: %v", err)
		}
		t.Cleanup(func() { _ = rdb.Close() })
		if _, ok := rdb.(*redis.Client); !ok {
			t.Fatalf("ClientFromEnv = %T, want *redis.Client", rdb)
		}
		return rdb, rdb.Ping(ctx).Err()
	}
	hostEnv := []string{"REDIS_HOST", host, "REDIS_PORT", port}

	t.Run("REDIS_PASS", func(t *testing.T) {
		if _, err := ping(t, append(hostEnv, "REDIS_PASS", pw)...); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("REDIS_PASSWORD wins", func(t *testing.T) {
		if _, err := ping(t, append(hostEnv, "REDIS_PASS", "wrong", "REDIS_PASSWORD", pw)...); err != nil {
			t.Fatal(err)
		}
		if _, err := ping(t, append(hostEnv, "REDIS_PASS", pw, "REDIS_PASSWORD", "wrong")...); err == nil {
			t.Fatal("PING with a wrong REDIS_PASSWORD (and the right REDIS_PASS) succeeded")
		}
	})
	t.Run("no password", func(t *testing.T) {
		if _, err := ping(t, hostEnv...); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
			t.Fatalf("PING = %v, want NOAUTH", err)
		}
	})
	t.Run("ACL user and REDIS_DB", func(t *testing.T) {
		rdb, err := ping(t, append(hostEnv, "REDIS_USERNAME", "app", "REDIS_PASSWORD", aclPw, "REDIS_DB", "5")...)
		if err != nil {
			t.Fatal(err)
		}
		if who, err := rdb.Do(ctx, "ACL", "WHOAMI").Text(); err != nil || who != "app" {
			t.Fatalf("ACL WHOAMI = %q, %v", who, err)
		}
		assertDB(t, rdb, 5)
	})
	t.Run("REDIS_URL with an encoded password", func(t *testing.T) {
		rdb, err := ping(t, "REDIS_URL", "redis://:"+urlEscape(pw)+"@"+srv.Addr()+"/4")
		if err != nil {
			t.Fatal(err)
		}
		assertDB(t, rdb, 4)
	})
	t.Run("unix socket", func(t *testing.T) {
		rdb, err := ping(t, "REDIS_URL", "unix://app:"+aclPw+"@"+sock+"?db=6&dial_timeout=2s")
		if err != nil {
			t.Fatal(err)
		}
		assertDB(t, rdb, 6)
		if id, err := rdb.Do(ctx, "CLIENT", "INFO").Text(); err != nil || !strings.Contains(id, sock) {
			t.Fatalf("CLIENT INFO = %q, %v; want a connection on %s", id, err, sock)
		}
	})
}

// urlEscape percent-encodes every byte but letters and digits.
func urlEscape(s string) string {
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// ClientFromEnv builds a Redis Cluster client, which reaches every master
// of a real 3-master cluster, from several REDIS_HOST addresses, from a
// cluster URL, and from one seed with REDIS_CLUSTER.
func TestClientFromEnvCluster(t *testing.T) {
	cc := redistest.SharedCluster(t)
	clusterMu.Lock()
	t.Cleanup(clusterMu.Unlock)
	flushCluster(t, cc)
	addrs := cc.Options().Addrs
	ctx := context.Background()

	for _, tc := range []struct {
		name string
		env  []string
	}{
		{"REDIS_HOST list", []string{"REDIS_HOST", strings.Join(addrs, ",")}},
		{"cluster URL", []string{"REDIS_URL", "redis://" + addrs[0] + "?addr=" + addrs[1] + "&addr=" + addrs[2]}},
		{"REDIS_CLUSTER with one seed", []string{"REDIS_CLUSTER", "1", "REDIS_HOST", addrs[0]}},
		{"REDIS_CLUSTER with a seed URL", []string{"REDIS_CLUSTER", "true", "REDIS_URL", "redis://" + addrs[1] + "/0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t, tc.env...)
			rdb, err := nest.ClientFromEnv()
			if err != nil {
				t.Fatal(err)
			}
			defer rdb.Close()
			cl, ok := rdb.(*redis.ClusterClient)
			if !ok {
				t.Fatalf("ClientFromEnv = %T, want *redis.ClusterClient", rdb)
			}
			root, err := nest.New[Root](rdb, nil)
			if err != nil {
				t.Fatal(err)
			}
			const users = 30 // spread over every master's slots
			for i := range users {
				if err := root.User.At(i).Age.Set(ctx, i); err != nil {
					t.Fatal(err)
				}
			}
			var masters atomic.Int32 // ForEachMaster calls concurrently
			err = cl.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
				n, err := m.DBSize(ctx).Result()
				if n > 0 {
					masters.Add(1)
				}
				return err
			})
			if err != nil || masters.Load() != 3 {
				t.Fatalf("keys on %d masters (%v), want 3", masters.Load(), err)
			}
			if n, err := root.Clear(ctx); err != nil || n != users {
				t.Fatalf("Clear = %d, %v; want %d", n, err, users)
			}
		})
	}
}

func TestOptionsFromEnv(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "keys")
	key := base64.StdEncoding.EncodeToString(make([]byte, nest.SecretKeyLen))
	if err := os.WriteFile(keyFile, []byte("k1:"+key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	clearEnv(t)
	opts, err := nest.OptionsFromEnv()
	if err != nil || opts.DeleteChunkSize != 0 || opts.Logger != nil || opts.SecretKeys != nil {
		t.Fatalf("empty environment: %+v, %v; want zero Options", opts, err)
	}

	clearEnv(t, "REDIS_DELETE_CHUNK_SIZE", "250", "SHOW_METHOD_DISPATCH_LOGS", "true", "NEST_SECRET_KEYS_FILE", keyFile)
	opts, err = nest.OptionsFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if opts.DeleteChunkSize != 250 || len(opts.SecretKeys) != 1 || opts.SecretKeys[0].ID != "k1" {
		t.Fatalf("options %+v", opts)
	}
	if opts.Logger == nil || !opts.Logger.Enabled(context.Background(), slog.LevelDebug) {
		t.Fatal("SHOW_METHOD_DISPATCH_LOGS=true: no logger enabled at debug level, the level of dispatch records")
	}
	for _, off := range []string{"0", "false", ""} {
		clearEnv(t, "SHOW_METHOD_DISPATCH_LOGS", off)
		if opts, err := nest.OptionsFromEnv(); err != nil || opts.Logger != nil {
			t.Errorf("SHOW_METHOD_DISPATCH_LOGS=%q: %+v, %v; want no logger", off, opts, err)
		}
	}

	for _, tc := range []struct {
		env  []string
		want []string
	}{
		{[]string{"REDIS_DELETE_CHUNK_SIZE", "abc"}, []string{`REDIS_DELETE_CHUNK_SIZE="abc"`}},
		{[]string{"REDIS_DELETE_CHUNK_SIZE", "0"}, []string{"REDIS_DELETE_CHUNK_SIZE=0 is not a positive integer"}},
		{[]string{"SHOW_METHOD_DISPATCH_LOGS", "yes please"}, []string{"SHOW_METHOD_DISPATCH_LOGS"}},
		{[]string{"NEST_SECRET_KEYS", "k1:" + key, "NEST_SECRET_KEYS_FILE", keyFile}, []string{"both NEST_SECRET_KEYS_FILE and NEST_SECRET_KEYS"}},
		{[]string{"REDIS_DELETE_CHUNK_SIZE", "-5", "SHOW_METHOD_DISPATCH_LOGS", "often", "NEST_SECRET_KEYS", "k1"},
			[]string{"REDIS_DELETE_CHUNK_SIZE", "SHOW_METHOD_DISPATCH_LOGS", "NEST_SECRET_KEYS: entry 1"}},
	} {
		clearEnv(t, tc.env...)
		opts, err := nest.OptionsFromEnv()
		if opts != nil || !errors.Is(err, nest.ErrConfig) {
			t.Errorf("%q: OptionsFromEnv = %+v, %v; want ErrConfig", tc.env, opts, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q does not mention %q", tc.env, err, w)
			}
		}
		if strings.Contains(err.Error(), key) {
			t.Errorf("%q: the error shows the key: %v", tc.env, err)
		}
	}
}

// New reads only its Options: a malformed variable does not stop it, and
// well-formed ones change nothing.
func TestNewIgnoresEnvironment(t *testing.T) {
	clearEnv(t, "REDIS_DELETE_CHUNK_SIZE", "abc")
	if _, err := nest.New[Root](newRedis(t), nil); err != nil {
		t.Fatalf("New with REDIS_DELETE_CHUNK_SIZE=abc in the environment: %v", err)
	}
	if _, err := nest.OptionsFromEnv(); !errors.Is(err, nest.ErrConfig) || !strings.Contains(err.Error(), "REDIS_DELETE_CHUNK_SIZE") {
		t.Fatalf("OptionsFromEnv = %v, want ErrConfig naming REDIS_DELETE_CHUNK_SIZE", err)
	}

	// Chunks of 2 in the environment; New(nil) keeps the default of 1000.
	clearEnv(t, "REDIS_DELETE_CHUNK_SIZE", "2", "SHOW_METHOD_DISPATCH_LOGS", "1")
	var logs strings.Builder
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ctx := context.Background()
	rdb := newRedis(t)
	rec := newRecorder(rdb)
	root, err := nest.New[Root](rdb, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := root.User.At(1).Messages.At(i).Text.Set(ctx, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := root.User.At(1).Clear(ctx); err != nil || n != 10 {
		t.Fatalf("Clear = %d, %v", n, err)
	}
	if !onCluster && maxChunk(rec) <= 2 {
		t.Fatalf("UNLINK chunks of at most %d keys: New read REDIS_DELETE_CHUNK_SIZE=2", maxChunk(rec))
	}
	if logs.Len() != 0 {
		t.Fatalf("SHOW_METHOD_DISPATCH_LOGS=1 made New(nil) log:\n%s", logs.String())
	}
}

// REDIS_DELETE_CHUNK_SIZE, through OptionsFromEnv, sets the UNLINK chunk
// size.
func TestDeleteChunkSizeFromEnv(t *testing.T) {
	ctx := context.Background()
	clearEnv(t, "REDIS_DELETE_CHUNK_SIZE", "3")
	opts, err := nest.OptionsFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	rdb := newRedis(t)
	rec := newRecorder(rdb)
	root, err := nest.New[Root](rdb, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := root.User.At(1).Messages.At(i).Text.Set(ctx, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := root.User.At(1).Clear(ctx); err != nil || n != 10 {
		t.Fatalf("Clear = %d, %v", n, err)
	}
	if !onCluster && maxChunk(rec) != 3 {
		t.Fatalf("UNLINK chunks of at most %d keys, REDIS_DELETE_CHUNK_SIZE is 3", maxChunk(rec))
	}
}

// The whole environment path in a process of its own, as an application
// uses it: ClientFromEnv and OptionsFromEnv, with SHOW_METHOD_DISPATCH_LOGS
// writing the dispatch records to standard error — and never a value, a
// password or a secret there.
func TestEnvEndToEnd(t *testing.T) {
	rdb := redistest.Shared(t)
	keyFile := filepath.Join(t.TempDir(), "keys")
	k := newSecretKey(t, "envk")
	if err := os.WriteFile(keyFile, []byte("envk:"+base64.StdEncoding.EncodeToString(k.Key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestEnvChild$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		"NEST_TEST_ENV_CHILD=1",
		"REDIS_URL=redis://"+rdb.Options().Addr+"/"+strconv.Itoa(rdb.Options().DB),
		"SHOW_METHOD_DISPATCH_LOGS=1",
		"NEST_SECRET_KEYS_FILE="+keyFile,
		"NEST_SECRET_KEYS=",
		"REDIS_DELETE_CHUNK_SIZE=2",
	)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	logs := stderr.String()
	for _, want := range []string{
		`level=DEBUG msg="nest dispatch" method=SET key=vault:account:1:token`,
		"method=GET key=vault:account:1:token",
		"method=SET key=site:user:1:password",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("standard error lacks %q:\n%s", want, logs)
		}
	}
	for _, secret := range []string{childSecret, childPassword} {
		if strings.Contains(logs, secret) {
			t.Errorf("standard error shows %q:\n%s", secret, logs)
		}
	}
	// The child sealed with the key of the file.
	v, _ := newVault(t, rdb, k)
	if got, err := v.Account.At(1).Token.Get(context.Background()); err != nil || got != childSecret {
		t.Fatalf("the child's secret = %q, %v", got, err)
	}
}

const (
	childSecret   = "child-plaintext-secret"
	childPassword = "child-plaintext-password"
)

// TestEnvChild is the process TestEnvEndToEnd starts.
func TestEnvChild(t *testing.T) {
	if os.Getenv("NEST_TEST_ENV_CHILD") == "" {
		t.Skip("run by TestEnvEndToEnd in a process of its own")
	}
	ctx := context.Background()
	rdb, err := nest.ClientFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	opts, err := nest.OptionsFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	opts.Password = fastPasswords
	v, err := nest.New[Vault](rdb, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Account.At(1).Token.Set(ctx, childSecret); err != nil {
		t.Fatal(err)
	}
	if got, err := v.Account.At(1).Token.Get(ctx); err != nil || got != childSecret {
		t.Fatalf("Get = %q, %v", got, err)
	}
	p, err := nest.New[passwordRoot](rdb, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.User.At(1).Password.Set(ctx, childPassword); err != nil {
		t.Fatal(err)
	}
	if ok, err := p.User.At(1).Password.Verify(ctx, childPassword); !ok || err != nil {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
}
