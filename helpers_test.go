package nest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// Helpers shared by the package's external tests. Naming: newX builds
// something for a test (a client, a server, a bound schema) and registers
// its cleanup; assertX checks a condition and reports through t; mustX and
// must stop the test on an error and return the value; everything takes the
// testing.TB (or *testing.T) first and calls t.Helper(). Schema fixtures
// shared by several files are in fixtures_test.go.

// ---- Servers and clients ----

// onCluster reports whether the scenario tests run against Redis Cluster:
// `make test` runs the package a second time with NEST_TEST_BACKEND=cluster.
var onCluster = os.Getenv("NEST_TEST_BACKEND") == "cluster"

var (
	clusterMu       sync.Mutex // held by the test using the shared cluster
	clusterHolderMu sync.Mutex
	clusterHolder   string // name of the test holding clusterMu; its subtests share it
)

// newRedis returns a client for an empty keyspace: a fresh database of the
// shared redis-server, or, on the cluster backend, the shared 3-master Redis
// Cluster, flushed and held by the calling test until it ends (a cluster has
// one database, so its tests take turns).
func newRedis(t testing.TB) redis.UniversalClient {
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

// autoPipeliner returns the AutoPipeliner of rdb, a client newRedis
// returned (standalone or cluster).
func autoPipeliner(t testing.TB, rdb redis.UniversalClient) *redis.AutoPipeliner {
	t.Helper()
	type apClient interface {
		AutoPipeline() (*redis.AutoPipeliner, error)
	}
	ap, err := rdb.(apClient).AutoPipeline()
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// flushCluster empties every master of the cluster.
func flushCluster(t testing.TB, cc *redis.ClusterClient) {
	t.Helper()
	ctx := context.Background()
	err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		return m.FlushAll(ctx).Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// offlineClient returns a go-redis client pointed at an address where no
// server listens. New does no I/O, so schema checks need no server; any
// command sent through this client would fail.
func offlineClient(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 50 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newFragileServer starts a server of the test's own, which it may stop, and
// a client that fails fast once it is gone: short timeouts, no retries,
// and one dial attempt instead of retrying for half a second.
func newFragileServer(t *testing.T) (*redistest.Server, *redis.Client) {
	t.Helper()
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{
		Addr:               srv.Addr(),
		DialTimeout:        300 * time.Millisecond,
		ReadTimeout:        300 * time.Millisecond,
		WriteTimeout:       300 * time.Millisecond,
		MaxRetries:         -1,
		DialerRetries:      1,
		DialerRetryTimeout: time.Millisecond,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	return srv, rdb
}

// newRing starts two servers and a Ring sharding over them.
func newRing(t *testing.T) (*redis.Ring, *redistest.Server, *redistest.Server) {
	t.Helper()
	a, b := redistest.Start(t), redistest.Start(t)
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": a.Addr(), "b": b.Addr()}})
	t.Cleanup(func() { _ = ring.Close() })
	return ring, a, b
}

// clearEnv empties every variable the ...FromEnv functions read, for the
// rest of the test, then sets the pairs given.
func clearEnv(t *testing.T, kv ...string) {
	t.Helper()
	for _, v := range envVars {
		t.Setenv(v, "")
	}
	for i := 0; i+1 < len(kv); i += 2 {
		t.Setenv(kv[i], kv[i+1])
	}
}

// ---- Bound schemas and other fixtures under test ----

// newRoot binds the example schema to a fresh, empty database of the shared
// test server.
func newRoot(t testing.TB) (*Root, redis.UniversalClient) {
	t.Helper()
	rdb := newRedis(t)
	root, err := nest.New[Root](rdb, nil)
	if err != nil {
		t.Fatalf("nest.New: %v", err)
	}
	return root, rdb
}

// newRootWith binds the example schema with opts to a fresh database.
func newRootWith(t testing.TB, opts *nest.Options) (*Root, redis.UniversalClient) {
	t.Helper()
	rdb := newRedis(t)
	root, err := nest.New[Root](rdb, opts)
	if err != nil {
		t.Fatalf("nest.New: %v", err)
	}
	return root, rdb
}

// newPipelineRoot binds the transaction schema of pipeline_test.go to rdb.
func newPipelineRoot(t testing.TB, rdb redis.UniversalClient) *teamRoot {
	t.Helper()
	r, err := nest.New[teamRoot](rdb, nil)
	if err != nil {
		t.Fatalf("nest.New: %v", err)
	}
	return r
}

// newClusterRoot returns the schema bound to the shared cluster, emptied,
// and holds the cluster for the test.
func newClusterRoot(t *testing.T) (*clusterRoot, *redis.ClusterClient) {
	t.Helper()
	cc := redistest.SharedCluster(t)
	clusterMu.Lock()
	t.Cleanup(clusterMu.Unlock)
	flushCluster(t, cc)
	root, err := nest.New[clusterRoot](cc, nil)
	if err != nil {
		t.Fatal(err)
	}
	return root, cc
}

// newCodecRoot binds the codec schema of codec_test.go, with its b64json
// codec, to a fresh database.
func newCodecRoot(t *testing.T) (*codecRoot, redis.UniversalClient) {
	t.Helper()
	rdb := newRedis(t)
	r, err := nest.New[codecRoot](rdb, &nest.Options{Codecs: map[string]nest.Codec{"b64json": b64Codec{}}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r, rdb
}

// newHostileRoot binds the schema of codec_hostile_test.go to a fresh
// database.
func newHostileRoot(t *testing.T) (*hostileRoot, redis.UniversalClient) {
	t.Helper()
	rdb := newRedis(t)
	return nest.MustNew[hostileRoot](rdb, &nest.Options{SecretKeys: []nest.SecretKey{hostileKey}}), rdb
}

// newSizeRoot binds the schema of codec_size_test.go with MaxValueSize
// limit to rdb (a fresh database when nil).
func newSizeRoot(t *testing.T, rdb redis.UniversalClient, limit int) *sizeRoot {
	t.Helper()
	if rdb == nil {
		rdb = newRedis(t)
	}
	r, err := nest.New[sizeRoot](rdb, &nest.Options{MaxValueSize: limit, SecretKeys: []nest.SecretKey{hostileKey}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// newCountedRoot returns the example schema bound to a fresh DB whose client
// counts the commands it sends.
func newCountedRoot(t *testing.T) (*Root, redis.UniversalClient, *cmdRecorder) {
	t.Helper()
	root, rdb := newRoot(t)
	cc := newRecorder(rdb)
	return root, rdb, cc
}

// newRecordedTTLRoot returns a client for a fresh DB that records the commands it
// sends, and the schema bound to it.
func newRecordedTTLRoot(t *testing.T) (*ttlRoot, *Root, redis.UniversalClient, *cmdRecorder) {
	t.Helper()
	rdb := newRedis(t)
	cc := newRecorder(rdb)
	return nest.MustNew[ttlRoot](rdb, nil), nest.MustNew[Root](rdb, nil), rdb, cc
}

// newPasswords binds the password schema with params to rdb (a fresh
// database when nil).
func newPasswords(t testing.TB, rdb redis.UniversalClient, params nest.PasswordParams) (*passwordRoot, redis.UniversalClient) {
	t.Helper()
	if rdb == nil {
		rdb = newRedis(t)
	}
	r, err := nest.New[passwordRoot](rdb, &nest.Options{Password: params})
	if err != nil {
		t.Fatalf("nest.New: %v", err)
	}
	return r, rdb
}

// newSecretKey returns a fresh random secret key.
func newSecretKey(t testing.TB, id string) nest.SecretKey {
	t.Helper()
	k := nest.SecretKey{ID: id, Key: make([]byte, nest.SecretKeyLen)}
	if _, err := rand.Read(k.Key); err != nil {
		t.Fatal(err)
	}
	return k
}

// newVault binds the Vault schema to rdb (a fresh database when nil) with
// the given keys.
func newVault(t testing.TB, rdb redis.UniversalClient, keys ...nest.SecretKey) (*Vault, redis.UniversalClient) {
	t.Helper()
	if rdb == nil {
		rdb = newRedis(t)
	}
	v, err := nest.New[Vault](rdb, &nest.Options{SecretKeys: keys, Password: fastPasswords})
	if err != nil {
		t.Fatalf("nest.New: %v", err)
	}
	return v, rdb
}

// newBench binds the benchmark schema to the shared server.
func newBench(b *testing.B) (*benchRoot, *redis.Client) {
	b.Helper()
	rdb := redistest.Shared(b)
	root, err := nest.New[benchRoot](rdb, nil)
	if err != nil {
		b.Fatal(err)
	}
	return root, rdb
}

// newBenchSecure binds the secret and password benchmark schema to the
// shared server, and returns raw SET and GET functions to compare with.
func newBenchSecure(b *testing.B, params nest.PasswordParams) (*benchSecure, func(context.Context, string, string) error, func(context.Context, string) error) {
	b.Helper()
	rdb := redistest.Shared(b)
	s, err := nest.New[benchSecure](rdb, &nest.Options{
		SecretKeys: []nest.SecretKey{newSecretKey(b, "k1")},
		Password:   params,
	})
	if err != nil {
		b.Fatal(err)
	}
	set := func(ctx context.Context, k, v string) error { return rdb.Set(ctx, k, v, 0).Err() }
	get := func(ctx context.Context, k string) error { return rdb.Get(ctx, k).Err() }
	return s, set, get
}

// tryNew is nest.New with its result dropped, so that table entries can
// refer to one function per schema type.
func tryNew[R any](rdb redis.UniversalClient, opts *nest.Options) error {
	r, err := nest.New[R](rdb, opts)
	if err == nil && r == nil {
		return errors.New("nest.New returned a nil root and no error")
	}
	if err != nil && r != nil {
		return errors.New("nest.New returned a root together with an error")
	}
	return err
}

// ---- Assertions ----

// must stops the test on a non-nil err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// mustResult returns the value of a future, stopping the test on its error.
func mustResult[T any](t *testing.T, f *nest.Future[T]) T {
	t.Helper()
	v, err := f.Result()
	if err != nil {
		t.Fatalf("Result: %v", err)
	}
	return v
}

// assertNoPanic runs f and turns a panic into a test failure.
func assertNoPanic(t *testing.T, what string, f func() error) (err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

// recoverGet calls get, turning a panic into an error.
func recoverGet[T any](ctx context.Context, get func(context.Context) (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return get(ctx)
}

// assertPTTLIn fails unless the key's PTTL is in (lo, hi].
func assertPTTLIn[T any](t *testing.T, k nest.Key[T], lo, hi time.Duration) {
	t.Helper()
	d, err := k.TTL(t.Context())
	if err != nil {
		t.Fatalf("PTTL %s: %v", k, err)
	}
	if d <= lo || d > hi {
		t.Fatalf("PTTL %s = %v, want in (%v, %v]", k, d, lo, hi)
	}
}

// assertNoExpiry fails unless the key exists without a TTL.
func assertNoExpiry[T any](t *testing.T, k nest.Key[T]) {
	t.Helper()
	d, err := k.TTL(t.Context())
	if err != nil {
		t.Fatalf("PTTL %s: %v", k, err)
	}
	if d != nest.NoExpiry {
		t.Fatalf("PTTL %s = %v, want NoExpiry", k, d)
	}
}

// assertPTTL checks the remaining TTL of a key just written with want
// (0: no expiry) through the handle and with raw PTTL and TTL commands.
func assertPTTL(t *testing.T, rdb redis.UniversalClient, name string, want time.Duration, handlePTTL, handleTTL time.Duration) {
	t.Helper()
	ctx := context.Background()
	pttl, err := rdb.PTTL(ctx, name).Result()
	if err != nil {
		t.Fatalf("PTTL %s: %v", name, err)
	}
	ttl := rdb.TTL(ctx, name).Val()
	if want == 0 {
		if pttl != -1 || ttl != -1 || handlePTTL != nest.NoExpiry || handleTTL != nest.NoExpiry {
			t.Errorf("%s: PTTL %v, TTL %v, handle PTTL %v, handle TTL %v; want no expiry", name, pttl, ttl, handlePTTL, handleTTL)
		}
		return
	}
	// Allow a generous margin for a loaded machine, but the TTL must be
	// the declared one: it can only have gone down, and not by much.
	low := want - max(want/5, time.Second)
	for _, d := range []time.Duration{pttl, handlePTTL} {
		if d <= 0 || d > want || d < low {
			t.Errorf("%s: PTTL %v, want in [%v, %v]", name, d, low, want)
		}
	}
	if want >= time.Second {
		for _, d := range []time.Duration{ttl, handleTTL} {
			// TTL rounds the remaining milliseconds to the nearest second.
			if d <= 0 || d > (want+500*time.Millisecond).Truncate(time.Second) || d < low.Truncate(time.Second)-time.Second {
				t.Errorf("%s: TTL %v, want about %v", name, d, want)
			}
		}
	}
}

// assertTTLInfo checks a described TTL: want from from, or nil when want
// is 0.
func assertTTLInfo(t *testing.T, what string, got *nest.TTLInfo, want time.Duration, from string) {
	t.Helper()
	if want == 0 {
		if got != nil {
			t.Errorf("%s: TTL = %+v, want nil", what, *got)
		}
		return
	}
	if got == nil {
		t.Errorf("%s: TTL = nil, want %v from %s", what, want, from)
		return
	}
	if got.TTL != want || got.Seconds != want.Seconds() || got.From != from || got.None {
		t.Errorf("%s: TTL = %+v, want %v from %s", what, *got, want, from)
	}
}

// assertAbsent fails unless none of the names exists, checking every one.
func assertAbsent(t *testing.T, rdb redis.UniversalClient, names ...string) {
	t.Helper()
	for _, name := range names {
		if n, err := rdb.Exists(t.Context(), name).Result(); err != nil || n != 0 {
			t.Errorf("%s: EXISTS = %d, %v; want it absent", name, n, err)
		}
	}
}

// assertExist fails unless every name exists.
func assertExist(t *testing.T, rdb redis.UniversalClient, names []string) {
	t.Helper()
	for _, name := range names {
		n, err := rdb.Exists(t.Context(), name).Result()
		if err != nil || n != 1 {
			t.Errorf("%s: EXISTS = %d, %v; want it to survive", name, n, err)
		}
	}
}

// assertDB writes a key through rdb and checks that it landed in database
// db.
func assertDB(t *testing.T, rdb redis.UniversalClient, db int) {
	t.Helper()
	ctx := context.Background()
	key := "env-test-db"
	if err := rdb.Set(ctx, key, "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	defer rdb.Del(ctx, key)
	c := rdb.(*redis.Client)
	if got := c.Options().DB; got != db {
		t.Fatalf("client DB = %d, want %d", got, db)
	}
	n, err := c.Do(ctx, "CLIENT", "INFO").Text()
	if err != nil || !strings.Contains(n, " db="+strconv.Itoa(db)+" ") {
		t.Fatalf("CLIENT INFO = %q, %v; want db=%d", n, err, db)
	}
}

// assertRoundTrip sets v, checks the stored bytes (unless stored is nil) and
// reads the value back with Get, Lookup, GetSet and GetDel.
func assertRoundTrip[T any](t *testing.T, rdb redis.UniversalClient, k nest.Key[T], v T, stored []byte, eq func(a, b T) bool) {
	t.Helper()
	ctx := context.Background()
	if err := k.Set(ctx, v); err != nil {
		t.Fatalf("Set(%v): %v", v, err)
	}
	raw, err := rdb.Get(ctx, k.Name()).Bytes()
	if err != nil {
		t.Fatalf("raw GET %s: %v", k.Name(), err)
	}
	if stored != nil && !bytes.Equal(raw, stored) {
		t.Errorf("stored form of %v = %q, want %q", v, raw, stored)
	}
	if r, err := k.Raw(ctx); err != nil || !bytes.Equal(r, raw) {
		t.Errorf("Raw = %q, %v; want %q", r, err, raw)
	}
	got, err := k.Get(ctx)
	if err != nil {
		t.Fatalf("Get: %v (stored %q)", err, raw)
	}
	if !eq(got, v) {
		t.Errorf("Get = %#v, want %#v (stored %q)", got, v, raw)
	}
	got, ok, err := k.Lookup(ctx)
	if err != nil || !ok || !eq(got, v) {
		t.Errorf("Lookup = %#v, %v, %v; want %#v", got, ok, err, v)
	}
	old, existed, err := k.GetSet(ctx, v)
	if err != nil || !existed || !eq(old, v) {
		t.Errorf("GetSet = %#v, %v, %v; want %#v", old, existed, err, v)
	}
	old, existed, err = k.GetDel(ctx)
	if err != nil || !existed || !eq(old, v) {
		t.Errorf("GetDel = %#v, %v, %v; want %#v", old, existed, err, v)
	}
	if n := rdb.Exists(ctx, k.Name()).Val(); n != 0 {
		t.Errorf("key still exists after GetDel")
	}
}

// assertTooLarge checks that err is a *DecodeError of k holding raw, that
// names the size and the limit and matches ErrTooLarge.
func assertTooLarge(t *testing.T, what string, err error, key string, raw []byte, limit int) {
	t.Helper()
	var de *nest.DecodeError
	switch {
	case !errors.As(err, &de):
		t.Errorf("%s: err = %v, want a *nest.DecodeError", what, err)
	case !errors.Is(err, nest.ErrTooLarge) || !errors.Is(err, nest.ErrDecode):
		t.Errorf("%s: %v does not match ErrTooLarge and ErrDecode", what, err)
	case de.Key != key || !bytes.Equal(de.Raw, raw):
		t.Errorf("%s: DecodeError of %q with %d bytes, want %q and %d bytes", what, de.Key, len(de.Raw), key, len(raw))
	case !strings.Contains(err.Error(), fmt.Sprintf("%d bytes exceed the maximum value size of %d bytes", len(raw), limit)):
		t.Errorf("%s: message %q does not name the size %d and the limit %d", what, err, len(raw), limit)
	}
}

// assertSchemaErr checks that err is a schema error naming typ and field (field
// "" means the type itself) and containing every want substring.
func assertSchemaErr(t *testing.T, err error, typ, field string, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("New returned no error, want a schema error for %s.%s", typ, field)
	}
	if !errors.Is(err, nest.ErrSchema) {
		t.Fatalf("error %q does not match nest.ErrSchema", err)
	}
	var se *nest.SchemaError
	if !errors.As(err, &se) {
		t.Fatalf("error %q (%T) is not a *nest.SchemaError", err, err)
	}
	msg := err.Error()
	if se.Type != "nest_test."+typ {
		t.Errorf("SchemaError.Type = %q, want %q (error: %s)", se.Type, "nest_test."+typ, msg)
	}
	if se.Field != field {
		t.Errorf("SchemaError.Field = %q, want %q (error: %s)", se.Field, field, msg)
	}
	name := typ
	if field != "" {
		name += "." + field
	}
	if !strings.Contains(msg, name) {
		t.Errorf("error %q does not name %s", msg, name)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
}

// schemaErrs returns the *nest.SchemaError values in err, which New returns
// alone or joined with errors.Join; any other error in it fails the test.
func schemaErrs(t *testing.T, err error) []*nest.SchemaError {
	t.Helper()
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	var out []*nest.SchemaError
	for _, e := range list {
		se, ok := e.(*nest.SchemaError)
		if !ok {
			t.Fatalf("New's error holds %q (%T), want only *nest.SchemaError values", e, e)
		}
		out = append(out, se)
	}
	return out
}

// assertParamErr checks that err is the ErrInvalidParam (or kind) error
// for the given template, field path and placeholder.
func assertParamErr(t *testing.T, err, kind error, template, field, param string, contains ...string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want %v", err, kind)
	}
	other := nest.ErrMissingParam
	if kind == nest.ErrMissingParam {
		other = nest.ErrInvalidParam
	}
	if errors.Is(err, other) {
		t.Errorf("err %q matches both ErrInvalidParam and ErrMissingParam", err)
	}
	var pe *nest.ParamError
	if !errors.As(err, &pe) {
		t.Fatalf("err %q (%T) is not a *nest.ParamError", err, err)
	}
	if pe.Template != template || pe.Field != field || pe.Param != param {
		t.Errorf("ParamError{Template: %q, Field: %q, Param: %q}, want {%q, %q, %q}",
			pe.Template, pe.Field, pe.Param, template, field, param)
	}
	msg := err.Error()
	want := append([]string{template, field}, contains...)
	if param != "" {
		want = append(want, "{"+param+"}")
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
}

// assertAllFail checks that every operation returned an error whose text is
// exactly want's.
func assertAllFail(t *testing.T, what string, errs map[string]error, want error) {
	t.Helper()
	for op, err := range errs {
		if err == nil || err.Error() != want.Error() {
			t.Errorf("%s.%s: err = %v, want %v", what, op, err, want)
		}
	}
}

// assertSilent checks that the DB is empty and that the client sent no
// command since mark (besides the DBSIZE this check sends).
func assertSilent(t *testing.T, rdb redis.UniversalClient, cc *cmdRecorder, mark int) {
	t.Helper()
	if sent := cc.Since(mark); len(sent) != 0 {
		t.Errorf("the client sent %d commands to Redis, want none: %v", len(sent), sent)
	}
	n, err := rdb.DBSize(context.Background()).Result()
	if err != nil || n != 0 {
		keys, _ := rdb.Keys(context.Background(), "*").Result()
		t.Errorf("DBSIZE = %d (%v), want 0; keys %q", n, err, keys)
	}
}

func equal[T comparable](a, b T) bool { return a == b }

func floatEqual[T ~float32 | ~float64](a, b T) bool {
	if a != a { // NaN
		return b != b
	}
	return a == b && math.Signbit(float64(a)) == math.Signbit(float64(b))
}

// isNotFound reports whether err matches nest.ErrNotFound.
func isNotFound(err error) bool { return errors.Is(err, nest.ErrNotFound) }

// ---- Raw Redis inspection and writes ----

// rawGet returns the stored string at name, failing on any error.
func rawGet(t *testing.T, rdb redis.UniversalClient, name string) string {
	t.Helper()
	s, err := rdb.Get(t.Context(), name).Result()
	if err != nil {
		t.Fatalf("raw GET %s: %v", name, err)
	}
	return s
}

func dbSize(t *testing.T, rdb redis.UniversalClient) int64 {
	t.Helper()
	n, err := rdb.DBSize(t.Context()).Result()
	must(t, err)
	return n
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

// keysByNode lists every key of the cluster, per master address.
func keysByNode(t *testing.T, cc *redis.ClusterClient) map[string]map[string]bool {
	t.Helper()
	var mu sync.Mutex
	out := map[string]map[string]bool{}
	err := cc.ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error {
		keys := map[string]bool{}
		iter := m.Scan(ctx, 0, "*", 1000).Iterator()
		for iter.Next(ctx) {
			keys[iter.Val()] = true
		}
		mu.Lock()
		out[m.Options().Addr] = keys
		mu.Unlock()
		return iter.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
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

// fillUser writes n keys under user 1 plus the prefix key itself and
// returns all their names, and writes siblings next to them.
func fillUser(t *testing.T, rdb redis.UniversalClient, n int) []string {
	t.Helper()
	names := make([]string, 0, n+1)
	names = append(names, "root:user:1")
	for i := range n {
		names = append(names, fmt.Sprintf("root:user:1:message:%d:text", i))
	}
	writeKeys(t, rdb, names...)
	writeKeys(t, rdb, userSiblings...)
	return names
}

// userSiblings are keys next to user 1's subtree that no operation on
// user 1 may touch: other users whose ids start with 1, and raw keys whose
// names contain glob characters.
var userSiblings = []string{
	"root:user:12", "root:user:12:age", "root:user:10", "root:user:10:age",
	"root:user:10:message:1:text", "root:user:1x", "root:user:1x:age",
	"root:user:1*", "root:user:1*:x", "root:user:1?", "root:user:1?:x",
	"root:user:[1]:x", "root:user:[1]", "root:user:?:x", "root:user:*:x",
	"root:user:1\\:x", "root:user:\\1:x", "root:user:1[:]x", "root:user:1 :x",
	"root:user:", "root:user", "root:user:01:age", "root:user1:age", "user:1:age",
	"root:user:2:name", "root:app", "root:app:tokens", "root:project_name",
	"root:admin:1:eu:message:1:text",
}

// collectKeys collects a namespace's Keys, failing on an error or a name
// yielded twice.
func collectKeys(t *testing.T, ns nest.Namespace) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	for k, err := range ns.Keys(t.Context()) {
		if err != nil {
			t.Fatalf("Keys: %v", err)
		}
		if got[k] {
			t.Fatalf("Keys yielded %q twice", k)
		}
		got[k] = true
	}
	return got
}

// setOf returns names as a set.
func setOf(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// ---- Operation tables: every operation of a handle, to run in one loop ----

// keyOp is one operation of Key[int], for tables that run every
// operation against a handle or a server in some state.
type keyOp struct {
	name string
	run  func(ctx context.Context, k nest.Key[int]) error
}

// keyOps lists every operation of Key[int]; Rename and RenameNX move the
// key to dst.
func keyOps(dst nest.Key[int]) []keyOp {
	return []keyOp{
		{"Get", func(ctx context.Context, k nest.Key[int]) error { _, err := k.Get(ctx); return err }},
		{"Lookup", func(ctx context.Context, k nest.Key[int]) error { _, _, err := k.Lookup(ctx); return err }},
		{"Raw", func(ctx context.Context, k nest.Key[int]) error { _, err := k.Raw(ctx); return err }},
		{"Set", func(ctx context.Context, k nest.Key[int]) error { return k.Set(ctx, 1) }},
		{"SetNX", func(ctx context.Context, k nest.Key[int]) error { _, err := k.SetNX(ctx, 1); return err }},
		{"GetSet", func(ctx context.Context, k nest.Key[int]) error { _, _, err := k.GetSet(ctx, 1); return err }},
		{"GetDel", func(ctx context.Context, k nest.Key[int]) error { _, _, err := k.GetDel(ctx); return err }},
		{"Delete", func(ctx context.Context, k nest.Key[int]) error { _, err := k.Delete(ctx); return err }},
		{"Unlink", func(ctx context.Context, k nest.Key[int]) error { _, err := k.Unlink(ctx); return err }},
		{"Exists", func(ctx context.Context, k nest.Key[int]) error { _, err := k.Exists(ctx); return err }},
		{"Expire", func(ctx context.Context, k nest.Key[int]) error { _, err := k.Expire(ctx, time.Minute); return err }},
		{"Expire (PEXPIRE)", func(ctx context.Context, k nest.Key[int]) error {
			_, err := k.Expire(ctx, 1500*time.Millisecond)
			return err
		}},
		{"ExpireAt", func(ctx context.Context, k nest.Key[int]) error {
			_, err := k.ExpireAt(ctx, time.Now().Add(time.Hour).Truncate(time.Second))
			return err
		}},
		{"ExpireAt (PEXPIREAT)", func(ctx context.Context, k nest.Key[int]) error {
			_, err := k.ExpireAt(ctx, time.Now().Add(time.Hour).Truncate(time.Second).Add(time.Millisecond))
			return err
		}},
		{"Persist", func(ctx context.Context, k nest.Key[int]) error { _, err := k.Persist(ctx); return err }},
		{"TTL", func(ctx context.Context, k nest.Key[int]) error { _, err := k.TTL(ctx); return err }},
		{"ExpireTime", func(ctx context.Context, k nest.Key[int]) error { _, err := k.ExpireTime(ctx); return err }},
		{"Touch", func(ctx context.Context, k nest.Key[int]) error { _, err := k.Touch(ctx); return err }},
		{"Type", func(ctx context.Context, k nest.Key[int]) error { _, err := k.Type(ctx); return err }},
		{"MemoryUsage", func(ctx context.Context, k nest.Key[int]) error { _, err := k.MemoryUsage(ctx); return err }},
		{"ObjectEncoding", func(ctx context.Context, k nest.Key[int]) error { _, err := k.ObjectEncoding(ctx); return err }},
		{"Rename", func(ctx context.Context, k nest.Key[int]) error { return k.Rename(ctx, dst) }},
		{"RenameNX", func(ctx context.Context, k nest.Key[int]) error { _, err := k.RenameNX(ctx, dst); return err }},
		{"Dump", func(ctx context.Context, k nest.Key[int]) error { _, err := k.Dump(ctx); return err }},
		{"Restore", func(ctx context.Context, k nest.Key[int]) error { return k.Restore(ctx, []byte("not a dump")) }},
		{"RestoreReplace", func(ctx context.Context, k nest.Key[int]) error {
			return k.RestoreReplace(ctx, []byte("not a dump"))
		}},
		{"Update", func(ctx context.Context, k nest.Key[int]) error {
			_, err := k.Update(ctx, func(cur int, _ bool) (int, error) { return cur + 1, nil })
			return err
		}},
	}
}

// namespaceOps lists the subtree operations of a namespace.
func namespaceOps(ns nest.Namespace) []struct {
	name string
	run  func(ctx context.Context) error
} {
	return []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"Clear", func(ctx context.Context) error { _, err := ns.Clear(ctx); return err }},
		{"Count", func(ctx context.Context) error { _, err := ns.Count(ctx); return err }},
		{"Keys", func(ctx context.Context) error {
			var errs []error
			for k, err := range ns.Keys(ctx) {
				if err == nil {
					return fmt.Errorf("Keys yielded %q without error", k)
				}
				errs = append(errs, err)
			}
			if len(errs) != 1 {
				return fmt.Errorf("Keys yielded %d errors, want 1", len(errs))
			}
			return errs[0]
		}},
	}
}

// everyKeyOp runs every operation of a Key handle and returns their errors.
func everyKeyOp[T any](ctx context.Context, k nest.Key[T], v T) map[string]error {
	errs := map[string]error{}
	_, errs["Get"] = k.Get(ctx)
	_, _, errs["Lookup"] = k.Lookup(ctx)
	_, errs["Raw"] = k.Raw(ctx)
	errs["Set"] = k.Set(ctx, v)
	errs["Set KeepTTL"] = k.Set(ctx, v, nest.KeepTTL())
	_, errs["SetNX"] = k.SetNX(ctx, v)
	_, _, errs["GetSet"] = k.GetSet(ctx, v)
	_, _, errs["GetDel"] = k.GetDel(ctx)
	_, errs["Exists"] = k.Exists(ctx)
	_, errs["Delete"] = k.Delete(ctx)
	_, errs["Unlink"] = k.Unlink(ctx)
	_, errs["Touch"] = k.Touch(ctx)
	_, errs["TTL"] = k.TTL(ctx)
	_, errs["ExpireTime"] = k.ExpireTime(ctx)
	_, errs["Expire"] = k.Expire(ctx, time.Minute)
	_, errs["Expire (PEXPIRE)"] = k.Expire(ctx, 1500*time.Millisecond)
	_, errs["ExpireAt"] = k.ExpireAt(ctx, time.Now().Add(time.Hour).Truncate(time.Second))
	_, errs["ExpireAt (PEXPIREAT)"] = k.ExpireAt(ctx, time.Now().Add(time.Hour).Add(time.Millisecond))
	_, errs["Persist"] = k.Persist(ctx)
	_, errs["Type"] = k.Type(ctx)
	_, errs["MemoryUsage"] = k.MemoryUsage(ctx)
	_, errs["ObjectEncoding"] = k.ObjectEncoding(ctx)
	_, errs["Dump"] = k.Dump(ctx)
	errs["Restore"] = k.Restore(ctx, []byte("x"))
	errs["RestoreReplace"] = k.RestoreReplace(ctx, []byte("x"))
	errs["Rename to self"] = k.Rename(ctx, k)
	_, errs["RenameNX to self"] = k.RenameNX(ctx, k)
	called := false
	_, errs["Update"] = k.Update(ctx, func(cur T, _ bool) (T, error) {
		called = true
		return cur, nil
	})
	if called {
		errs["Update callback"] = errors.New("Update called fn on an unusable handle")
	}
	return errs
}

// everyNSOp runs every operation of a namespace handle.
func everyNSOp(ctx context.Context, ns nest.Namespace) map[string]error {
	errs := map[string]error{}
	_, errs["Clear"] = ns.Clear(ctx)
	_, errs["Count"] = ns.Count(ctx)
	n := 0
	for k, err := range ns.Keys(ctx) {
		n++
		if err == nil {
			errs["Keys"] = fmt.Errorf("Keys yielded %q without an error", k)
			break
		}
		errs["Keys"] = err
	}
	if n != 1 {
		errs["Keys count"] = fmt.Errorf("Keys yielded %d items, want exactly the error", n)
	}
	return errs
}

// readOp is one way of reading a key.
type readOp struct {
	name string
	read func(ctx context.Context) error
}

// readOps returns every way a value of k is read: direct commands, an
// optimistic update and a pipeline.
func readOps[T any](ns nest.Namespace, k nest.Key[T]) []readOp {
	return []readOp{
		{"Get", func(ctx context.Context) error { _, err := k.Get(ctx); return err }},
		{"Lookup", func(ctx context.Context) error { _, _, err := k.Lookup(ctx); return err }},
		{"GetSet", func(ctx context.Context) error { var zero T; _, _, err := k.GetSet(ctx, zero); return err }},
		{"GetDel", func(ctx context.Context) error { _, _, err := k.GetDel(ctx); return err }},
		{"Update", func(ctx context.Context) error {
			_, err := k.Update(ctx, func(cur T, _ bool) (T, error) { return cur, errors.New("fn ran on a hostile value") })
			return err
		}},
		{"Pipeline Get", func(ctx context.Context) error {
			p := ns.Pipeline()
			f := k.In(p).Get(ctx)
			_ = p.Exec(ctx)
			_, err := f.Result()
			return err
		}},
	}
}

// ---- Command recording ----

// cmdRecorder is a go-redis hook that records every command the client
// processes, alone or in a pipeline or transaction, so tests can check
// what goes on the wire. (Redis Cluster node clients do not run it.)
type cmdRecorder struct {
	mu   sync.Mutex
	cmds [][]any
}

// newRecorder installs a recorder on rdb.
func newRecorder(rdb redis.UniversalClient) *cmdRecorder {
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

// maxChunk returns the number of keys of the largest UNLINK recorded.
func maxChunk(rec *cmdRecorder) int {
	n := 0
	for _, c := range rec.named("unlink") {
		n = max(n, len(c)-1)
	}
	return n
}

// argStrings renders recorded commands as strings, such as "set t:plain v ex 100".
func argStrings(cmds [][]any) []string {
	out := make([]string, len(cmds))
	for i, c := range cmds {
		parts := make([]string, len(c))
		for j, a := range c {
			parts[j] = fmt.Sprint(a)
		}
		out[i] = strings.ToLower(strings.Join(parts, " "))
	}
	return out
}

// pipelineCounter counts the round trips a client makes for its user's
// commands (not a new connection's handshake).
type pipelineCounter struct{ calls, cmds atomic.Int64 }

func (c *pipelineCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *pipelineCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if handshake(cmd) {
			return next(ctx, cmd)
		}
		c.calls.Add(1)
		c.cmds.Add(1)
		return next(ctx, cmd)
	}
}

func (c *pipelineCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if handshake(cmds[0]) {
			return next(ctx, cmds)
		}
		c.calls.Add(1)
		c.cmds.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// handshake reports whether cmd belongs to a new connection's setup.
func handshake(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "client", "auth", "select":
		return true
	}
	return false
}

// ---- Benchmarks ----

// interleave runs raw and ours back to back b.N times, alternating which
// goes first so neither always runs on a warmer connection, and reports
// both mean times and their ratio nest/raw.
func interleave(b *testing.B, raw, ours func(i int)) {
	b.Helper()
	var rawT, oursT time.Duration
	for i := range b.N {
		first, second, ft, st := raw, ours, &rawT, &oursT
		if i%2 == 1 {
			first, second, ft, st = ours, raw, &oursT, &rawT
		}
		t0 := time.Now()
		first(i)
		t1 := time.Now()
		second(i)
		*ft += t1.Sub(t0)
		*st += time.Since(t1)
	}
	b.ReportMetric(float64(rawT.Nanoseconds())/float64(b.N), "raw-ns/op")
	b.ReportMetric(float64(oursT.Nanoseconds())/float64(b.N), "nest-ns/op")
	b.ReportMetric(float64(oursT)/float64(rawT), "nest/raw")
}

// pairedRounds runs rounds of raw and ours in pairs, b.N pairs, which of
// the two goes first alternating, and reports the median over the pairs
// of ours' time over raw's (nest/raw) with its quartiles, and the same
// median of the process's CPU time (cpu-nest/raw: client CPU, the
// redis-server is another process). A ratio per pair, rather than of the
// totals, keeps a slow spell of the machine, which lasts a few rounds,
// from weighing on one side; the median keeps the rare stalled round out.
func pairedRounds(b *testing.B, raw, ours func() error) {
	b.Helper()
	wall := make([]float64, 0, b.N)
	cpu := make([]float64, 0, b.N)
	var rawT, oursT time.Duration
	for i := range b.N {
		var t, c [2]time.Duration // raw, ours
		for k := range 2 {
			side := (k + i) % 2
			f := raw
			if side == 1 {
				f = ours
			}
			c0, t0 := processCPU(), time.Now()
			if err := f(); err != nil {
				b.Fatal(err)
			}
			t[side], c[side] = time.Since(t0), processCPU()-c0
		}
		rawT, oursT = rawT+t[0], oursT+t[1]
		wall = append(wall, float64(t[1])/float64(t[0]))
		if c[0] > 0 {
			cpu = append(cpu, float64(c[1])/float64(c[0]))
		}
	}
	slices.Sort(wall)
	slices.Sort(cpu)
	b.ReportMetric(float64(rawT.Nanoseconds())/float64(b.N), "raw-ns/op")
	b.ReportMetric(float64(oursT.Nanoseconds())/float64(b.N), "nest-ns/op")
	b.ReportMetric(wall[len(wall)/2], "nest/raw")
	b.ReportMetric(wall[len(wall)/4], "p25")
	b.ReportMetric(wall[len(wall)*3/4], "p75")
	if len(cpu) > 0 {
		b.ReportMetric(cpu[len(cpu)/2], "cpu-nest/raw")
	}
}

// processCPU returns the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// workers is a pool of goroutines that live until the benchmark ends.
type workers struct {
	jobs []chan func(w int) error
	wg   sync.WaitGroup
	err  atomic.Pointer[error]
}

// newWorkers starts n workers, stopped when b ends.
func newWorkers(b *testing.B, n int) *workers {
	p := &workers{jobs: make([]chan func(int) error, n)}
	var stopped sync.WaitGroup
	for w := range n {
		p.jobs[w] = make(chan func(int) error)
		stopped.Go(func() {
			for f := range p.jobs[w] {
				if err := f(w); err != nil {
					p.err.Store(&err)
				}
				p.wg.Done()
			}
		})
	}
	b.Cleanup(func() {
		for _, ch := range p.jobs {
			close(ch)
		}
		stopped.Wait()
	})
	return p
}

// run has every worker call f with its number, waits for all, and
// returns one of their errors.
func (p *workers) run(f func(w int) error) error {
	p.wg.Add(len(p.jobs))
	for _, ch := range p.jobs {
		ch <- f
	}
	p.wg.Wait()
	if err := p.err.Swap(nil); err != nil {
		return *err
	}
	return nil
}

// pttl returns the key's raw PTTL.
func pttl(t *testing.T, rdb redis.UniversalClient, name string) time.Duration {
	t.Helper()
	d, err := rdb.PTTL(context.Background(), name).Result()
	if err != nil {
		t.Fatalf("PTTL %s: %v", name, err)
	}
	return d
}

// assertTTLNear fails unless the key's PTTL is in (want-slack, want].
func assertTTLNear(t *testing.T, rdb redis.UniversalClient, name string, want, slack time.Duration) {
	t.Helper()
	if d := pttl(t, rdb, name); d > want || d <= want-slack {
		t.Fatalf("PTTL %s = %v, want in (%v, %v]", name, d, want-slack, want)
	}
}
