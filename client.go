package nest

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
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
	scanCount int64
	retries   int
	log       *slog.Logger
	logLevel  slog.Level     // Debug for Options.Logger, Info for SHOW_METHOD_DISPATCH_LOGS
	pw        PasswordParams // resolved: no zero fields
	hashSem   chan struct{}  // bounds concurrent argon2id computations
	keys      *keyring       // nil until a Secret key needs it
	keysErr   error          // why keys could not be loaded
	keysOpt   []SecretKey    // Options.SecretKeys
	maxValue  int            // Options.MaxValueSize, resolved by valueCodec.setMaxSize
}

func newClient(rdb redis.UniversalClient, o *Options) (*client, error) {
	if o == nil {
		o = &Options{}
	}
	c := &client{
		rdb:       rdb,
		codec:     o.Codec,
		chunk:     o.DeleteChunkSize,
		scanCount: int64(o.ScanCount),
		retries:   o.UpdateRetries,
		log:       o.Logger,
		maxValue:  o.MaxValueSize,
		codecs:    map[string]Codec{JSON.Name(): JSON, MsgPack.Name(): MsgPack},
	}
	for name, cd := range o.Codecs {
		if cd == nil {
			return nil, fmt.Errorf("%w: Options.Codecs[%q] is nil", ErrConfig, name)
		}
		c.codecs[name] = cd
	}
	c.cluster, _ = rdb.(*redis.ClusterClient)
	c.ring, _ = rdb.(*redis.Ring)
	if c.codec == nil {
		c.codec = JSON
	}
	if c.chunk <= 0 {
		c.chunk = 1000
		if s := os.Getenv("REDIS_DELETE_CHUNK_SIZE"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("%w: REDIS_DELETE_CHUNK_SIZE=%q is not a positive integer", ErrConfig, s)
			}
			c.chunk = n
		}
	}
	if c.scanCount <= 0 {
		c.scanCount = 1000
	}
	if c.retries <= 0 {
		c.retries = 32
	}
	c.logLevel = slog.LevelDebug
	if c.log == nil && envBool("SHOW_METHOD_DISPATCH_LOGS") {
		// Info, so that the switch alone shows the records with the
		// default handler (which drops debug records).
		c.log, c.logLevel = slog.Default(), slog.LevelInfo
	}
	pw, err := o.Password.resolve()
	if err != nil {
		return nil, fmt.Errorf("%w: Options.Password: %w", ErrConfig, err)
	}
	c.pw, c.hashSem = pw, make(chan struct{}, pw.Concurrency)
	if len(o.SecretKeys) > 0 {
		c.keysOpt = o.SecretKeys
		if _, err := c.keyring(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// dispatch logs one command about to be sent. Only names and TTLs are
// logged: values may be secrets.
func (c *client) dispatch(ctx context.Context, method, key string, ttl time.Duration) {
	if c.log == nil || !c.log.Enabled(ctx, c.logLevel) {
		return
	}
	attrs := []slog.Attr{slog.String("method", method), slog.String("key", key)}
	if ttl > 0 {
		attrs = append(attrs, slog.Duration("ttl", ttl))
	}
	c.log.LogAttrs(ctx, c.logLevel, "nest dispatch", attrs...)
}

// keyring returns the schema's keyring, loading it on first use: from
// Options.SecretKeys, else from $NEST_SECRET_KEYS_FILE, else from
// $NEST_SECRET_KEYS. It runs only inside New, which is single-threaded.
func (c *client) keyring() (*keyring, error) {
	if c.keys != nil || c.keysErr != nil {
		return c.keys, c.keysErr
	}
	keys, src, err := c.keysOpt, " in Options.SecretKeys", error(nil)
	if len(keys) == 0 {
		keys, src, err = keysFromEnv()
	}
	if err == nil {
		c.keys, err = newKeyring(keys)
	}
	if err != nil {
		c.keysErr = fmt.Errorf("%w: secret keys%s: %v", ErrConfig, src, err)
	}
	return c.keys, c.keysErr
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
			return fmt.Errorf("%w: %s is in slot %d, %s in slot %d; pin their common namespace with `slot:\"pin\"` so its subtree shares one slot",
				redis.ErrCrossSlot, keys[0], first, k, s)
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
