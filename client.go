package nest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redisimnest/nest/internal/phc"
	"github.com/redisimnest/nest/internal/seal"
	"github.com/redisimnest/nest/internal/slot"
)

// client is what every handle of one bound schema shares. It is immutable
// after New.
type client struct {
	rdb       redis.UniversalClient
	cluster   *redis.ClusterClient // rdb, when it is a Redis Cluster client
	ring      *redis.Ring          // rdb, when it is a sharded Ring
	codec     Codec
	codecs    map[string]Codec
	chunk     int
	maxParam  int
	instCache int // slots of each Sub's instance cache; 0: none
	scanCount int64
	retries   int
	log       *slog.Logger
	hasher    *phc.Hasher           // argon2id with the schema's PasswordParams
	keys      *seal.Ring            // nil until a Secret key needs it
	keysErr   error                 // why keys could not be loaded
	keysOpt   []SecretKey           // Options.SecretKeys
	maxValue  int                   // Options.MaxValueSize, resolved by valueCodec.setMaxSize
	admin     redis.UniversalClient // Options.AdminClient: subtree SCANs go through it
	orig      origConfig            // Options.Original (original.go)

	standalone atomic.Int32 // modeUnknown, modeStandalone or modeOther: what an AutoPipeliner rdb reaches
}

// newClient resolves o's defaults. It always returns a client, so that New
// can go on checking the schema, with every configuration mistake joined
// in the error: a nil client, a negative setting, a nil codec, password
// parameters out of range, a malformed keyring.
func newClient(rdb redis.UniversalClient, o *Options) (*client, error) {
	if o == nil {
		o = &Options{}
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	if rdb == nil {
		bad("nil go-redis client")
	}
	c := &client{
		rdb:      rdb,
		codec:    o.Codec,
		log:      o.Logger,
		maxValue: o.MaxValueSize,
		admin:    o.AdminClient,
		codecs:   map[string]Codec{JSON.Name(): JSON, MsgPack.Name(): MsgPack},
	}
	for name, cd := range o.Codecs {
		if cd == nil {
			bad("Options.Codecs[%q] is nil", name)
			continue
		}
		c.codecs[name] = cd
	}
	switch o.AdminClient.(type) {
	case nil, *redis.Client, *redis.ClusterClient, *redis.Ring:
	default:
		bad("Options.AdminClient is a %T: want a *redis.Client, *redis.ClusterClient or *redis.Ring", o.AdminClient)
	}
	errs = append(errs, c.orig.resolve(o.Original, c.codecs)...)
	c.cluster, _ = rdb.(*redis.ClusterClient)
	c.ring, _ = rdb.(*redis.Ring)
	if c.codec == nil {
		c.codec = JSON
	}
	setting := func(name string, v, def int) int {
		switch {
		case v < 0:
			bad("Options.%s is %d: want a positive number, or 0 for the default (%d)", name, v, def)
		case v > 0:
			return v
		}
		return def
	}
	c.chunk = setting("DeleteChunkSize", o.DeleteChunkSize, 1000)
	c.scanCount = int64(setting("ScanCount", o.ScanCount, 1000))
	c.retries = setting("UpdateRetries", o.UpdateRetries, 32)
	c.maxParam = setting("MaxParamLen", o.MaxParamLen, DefaultMaxParamLen)
	switch c.instCache = o.InstanceCache; {
	case c.instCache == 0:
		c.instCache = DefaultInstanceCache
	case c.instCache < 0:
		c.instCache = 0 // off
	case c.instCache > maxInstanceCache:
		bad("Options.InstanceCache is %d: want at most %d slots, 0 for the default (%d) or a negative number to turn the cache off", o.InstanceCache, maxInstanceCache, DefaultInstanceCache)
		c.instCache = DefaultInstanceCache
	}
	pw, err := o.Password.resolve()
	if err != nil {
		bad("Options.Password: %w", err)
		pw, _ = PasswordParams{}.resolve()
	}
	c.hasher = phc.NewHasher(phc.Params{Memory: pw.Memory, Iterations: pw.Iterations, Parallelism: pw.Parallelism}, pw.Concurrency)
	if len(o.SecretKeys) > 0 {
		// Keys given are checked even when the schema declares no Secret.
		c.keysOpt = o.SecretKeys
		if _, err := c.keyring(); err != nil {
			errs = append(errs, err)
		}
	}
	return c, errors.Join(errs...)
}

// clock returns the start time of a command for its log record, or the
// zero time when nothing is logged (time.Now is not free).
func (c *client) clock() time.Time {
	if c.log == nil {
		return time.Time{}
	}
	return time.Now()
}

// logged writes the record of a command after it ran: the operation, the
// key, the TTL it applied, how long it took and its error. Only names and
// TTLs are logged, never values (they may be secrets); error messages of
// Secret and Password keys never quote values either.
func (c *client) logged(ctx context.Context, op, key string, ttl time.Duration, start time.Time, err error) {
	if c.log == nil || !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := make([]slog.Attr, 0, 5)
	attrs = append(attrs, slog.String("method", op), slog.String("key", key))
	if ttl > 0 {
		attrs = append(attrs, slog.Duration("ttl", ttl))
	}
	attrs = append(attrs, slog.Duration("took", time.Since(start)))
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "nest dispatch", attrs...)
}

// keyring returns the schema's keyring, built on first use from
// Options.SecretKeys (never from the environment: OptionsFromEnv reads
// it on request). It runs only inside New, which is single-threaded.
func (c *client) keyring() (*seal.Ring, error) {
	if c.keys != nil || c.keysErr != nil {
		return c.keys, c.keysErr
	}
	if len(c.keysOpt) == 0 {
		c.keysErr = fmt.Errorf("%w: the schema declares Secret keys but Options.SecretKeys is empty; "+
			"set it, for example with nest.OptionsFromEnv (NEST_SECRET_KEYS_FILE or NEST_SECRET_KEYS) or nest.ParseSecretKeys", ErrConfig)
		return nil, c.keysErr
	}
	keys, err := newRing(c.keysOpt)
	if err != nil {
		c.keysErr = fmt.Errorf("%w: secret keys in Options.SecretKeys: %v", ErrConfig, err)
		return nil, c.keysErr
	}
	c.keys = keys
	return keys, nil
}

// sameSlot checks, on Redis Cluster, that keys share a hash slot, so that a
// multi-key command fails here with advice instead of with CROSSSLOT.
func (c *client) sameSlot(keys ...string) error {
	if c.ring != nil && len(keys) >= 2 {
		return c.sameShard(keys)
	}
	if c.cluster == nil || len(keys) < 2 {
		return nil
	}
	first := slot.Of(keys[0])
	for _, k := range keys[1:] {
		if s := slot.Of(k); s != first {
			hint := "pin their common namespace with `slot:\"pin\"` so its subtree shares one slot"
			if a, b := slot.Tag(keys[0]), slot.Tag(k); a != keys[0] && b != k {
				hint = fmt.Sprintf("they belong to different pinned subtrees ({%s} and {%s}): Redis Cluster cannot run one command or transaction across them", a, b)
			}
			return fmt.Errorf("%w: %s is in slot %d, %s in slot %d; %s", redis.ErrCrossSlot, keys[0], first, k, s, hint)
		}
	}
	return nil
}

// sameShard checks, on a Ring, that keys live on one shard: a script or
// transaction runs on one shard only.
func (c *client) sameShard(keys []string) error {
	first, err := c.ring.GetShardClientForKey(keys[0])
	if err != nil {
		return err
	}
	for _, k := range keys[1:] {
		s, err := c.ring.GetShardClientForKey(k)
		if err != nil {
			return err
		}
		if s != first {
			return fmt.Errorf("%w: %s is on Ring shard %s, %s on %s; pin their common namespace with `slot:\"pin\"` so its subtree shares one shard",
				redis.ErrCrossSlot, keys[0], first.Options().Addr, k, s.Options().Addr)
		}
	}
	return nil
}

// backoff sleeps before retry attempt n (none before the first): a random
// duration up to 100µs·2ⁿ, capped at 20ms, so that contending writers
// spread out instead of colliding again. It returns early with ctx's error.
func backoff(ctx context.Context, n int) error {
	if n == 0 {
		return nil
	}
	limit := min(100*time.Microsecond<<min(n, 16), 20*time.Millisecond)
	t := time.NewTimer(rand.N(limit))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// watch runs an optimistic transaction: fn reads the watched keys through
// tx and queues its writes in tx.TxPipelined. When another client changed
// a watched key meanwhile, EXEC fails and watch retries after a short
// random backoff, up to Options.UpdateRetries attempts, then returns
// ErrConflict for op on key. An error fn returns is returned as it is.
func (c *client) watch(ctx context.Context, op, key string, fn func(tx *redis.Tx) error, keys ...string) error {
	var fnErr error // an error fn returned, already in its final form
	txf := func(tx *redis.Tx) error {
		err := fn(tx)
		if err != nil && !errors.Is(err, redis.TxFailedErr) {
			fnErr = err
		}
		return err
	}
	for attempt := range c.retries {
		if err := backoff(ctx, attempt); err != nil {
			return opError("WATCH", key, err)
		}
		fnErr = nil
		start := c.clock()
		err := c.rdb.Watch(ctx, txf, keys...)
		c.logged(ctx, "WATCH", key, 0, start, err)
		switch {
		case err == nil:
			return nil
		case fnErr != nil:
			return fnErr
		case errors.Is(err, redis.TxFailedErr):
			continue
		default:
			return opError("WATCH", key, err)
		}
	}
	return opError(op, key, ErrConflict)
}

// node is one Redis server holding part of a subtree.
type node struct {
	c      redis.Cmdable
	addr   string // "" for a standalone server
	bySlot bool   // a Redis Cluster master: multi-key commands must not cross slots
}

func (n node) wrap(err error) error {
	if n.addr == "" || err == nil {
		return err
	}
	return fmt.Errorf("node %s: %w", n.addr, err)
}

// nodes returns the servers a SCAN must walk to see every key under
// prefix: the one server, every shard of a Ring, or every master of a
// Redis Cluster (only the master owning prefix's slot when the subtree is
// pinned). It goes through [Options.AdminClient] when set. An
// AutoPipeliner is used as it is once the server says it is not a
// cluster (asked once per schema); any other client kind is refused,
// since its SCAN might reach one shard of many.
func (c *client) nodes(ctx context.Context, prefix string, pinned bool) ([]node, error) {
	base := c.rdb
	if c.admin != nil {
		base = c.admin
	}
	switch b := base.(type) {
	case *redis.Ring:
		return ringNodes(ctx, b)
	case *redis.Client:
		return []node{{c: b}}, nil
	case *redis.ClusterClient:
		return clusterNodes(ctx, b, prefix, pinned)
	case *redis.AutoPipeliner:
		if err := c.probeStandalone(ctx, b); err != nil {
			return nil, err
		}
		return []node{{c: b}}, nil
	}
	return nil, fmt.Errorf("%w: SCAN needs a *redis.Client, *redis.ClusterClient, *redis.Ring or a *redis.AutoPipeliner of a standalone server, not %T; set Options.AdminClient to a plain client of the same servers", ErrConfig, base)
}

// Values of client.standalone.
const (
	modeUnknown int32 = iota
	modeStandalone
	modeOther
)

// probeStandalone checks, once per schema, that the AutoPipeliner ap
// talks to one standalone server (INFO server says redis_mode:standalone),
// whose SCAN then sees every key. go-redis does not expose the client
// under an AutoPipeliner, so a cluster behind one cannot be walked
// node by node: that needs Options.AdminClient.
func (c *client) probeStandalone(ctx context.Context, ap *redis.AutoPipeliner) error {
	switch c.standalone.Load() {
	case modeStandalone:
		return nil
	case modeOther:
		return errAutoPipelinerCluster
	}
	info, err := ap.Info(ctx, "server").Result()
	switch {
	case err == nil && strings.Contains(info, "redis_mode:standalone"):
		c.standalone.Store(modeStandalone)
		return nil
	case err == nil || isReplyError(err):
		// A cluster AutoPipeliner refuses INFO, a fan-out command.
		c.standalone.Store(modeOther)
		return errAutoPipelinerCluster
	}
	return fmt.Errorf("ask the server behind the AutoPipeliner for its mode: %w", err)
}

var errAutoPipelinerCluster = fmt.Errorf("%w: the AutoPipeliner does not reach a standalone server, and go-redis does not expose its cluster's nodes; set Options.AdminClient to the *redis.ClusterClient it was made from", ErrConfig)

// clusterNodes returns the masters of a Redis Cluster that may hold keys
// under prefix: all of them, or the owner of its slot when pinned.
func clusterNodes(ctx context.Context, cc *redis.ClusterClient, prefix string, pinned bool) ([]node, error) {
	if pinned {
		owner, err := cc.MasterForKey(ctx, prefix)
		if err != nil {
			return nil, fmt.Errorf("find the master of %s: %w", prefix, err)
		}
		return []node{{c: owner, addr: owner.Options().Addr, bySlot: true}}, nil
	}
	var mu sync.Mutex
	var nodes []node
	err := cc.ForEachMaster(ctx, func(_ context.Context, m *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		nodes = append(nodes, node{c: m, addr: m.Options().Addr, bySlot: true})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the cluster's masters: %w", err)
	}
	return nodes, nil
}

// ringNodes returns the shards of a Ring. Keys are spread over shards by
// consistent hashing, so each shard is scanned; none owns the prefix key
// (Clear deletes it through the Ring, which routes it). go-redis skips the
// shards its heartbeat marked down, and the keys on a down shard would be
// silently missed: every shard the Ring was configured with
// (RingOptions.Addrs) must be up, or the operation fails naming the ones
// that are not. (A Ring whose shards changed with SetAddrs is checked
// against its original configuration: a removed shard then fails the
// operation rather than letting it miss keys.)
func ringNodes(ctx context.Context, ring *redis.Ring) ([]node, error) {
	var mu sync.Mutex
	var nodes []node
	err := ring.ForEachShard(ctx, func(_ context.Context, s *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		nodes = append(nodes, node{c: s, addr: s.Options().Addr})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the ring's shards: %w", err)
	}
	var down []string
	for name, addr := range ring.Options().Addrs {
		if !slices.ContainsFunc(nodes, func(n node) bool { return n.addr == addr }) {
			down = append(down, fmt.Sprintf("%s (%s)", name, addr))
		}
	}
	if len(down) > 0 {
		slices.Sort(down)
		return nil, fmt.Errorf("%w: Ring shard %s is down, so its keys cannot be reached",
			ErrShardDown, strings.Join(down, ", "))
	}
	return nodes, nil
}
