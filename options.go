package nest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options configure a schema bound by [New]. The zero value (or a nil
// *Options) means defaults; several defaults come from the environment, as
// in the original package.
type Options struct {
	// Codec encodes values that have no native text form (structs, maps,
	// slices other than []byte, ...). Keys may override it with a
	// `codec:"name"` tag.
	// default: [JSON]
	Codec Codec

	// Codecs names extra codecs that keys can select with `codec:"name"`.
	// "json" and "msgpack" are always available.
	Codecs map[string]Codec

	// DeleteChunkSize is how many keys one UNLINK command removes during
	// Clear; several chunks travel in one pipeline.
	// default: $REDIS_DELETE_CHUNK_SIZE, else 1000
	DeleteChunkSize int

	// ScanCount is the COUNT hint of the SCAN commands behind Keys, Count
	// and Clear.
	// default: 1000
	ScanCount int

	// UpdateRetries bounds the WATCH/MULTI attempts of [Key.Update].
	// default: 32
	UpdateRetries int

	// Logger receives one debug record per dispatched command (method,
	// key, TTL — never values).
	// default: nil (no logging); when $SHOW_METHOD_DISPATCH_LOGS is "1" or
	// "true", [slog.Default] at info level, so that the records show with
	// the default handler
	Logger *slog.Logger

	// SecretKeys is the keyring of [Secret] keys: one or more 32-byte
	// AES-256 keys with IDs. The first seals every new value; each value
	// is opened with the key whose ID it carries. To rotate, put a new key
	// first, keep the old ones until [Namespace.Reencrypt] has rewritten
	// their values, then drop them. Keys given here are checked by [New]
	// even when the schema declares no Secret key.
	// default: read only when the schema declares Secret keys, from the
	// file named by $NEST_SECRET_KEYS_FILE (recommended), else from
	// $NEST_SECRET_KEYS, both in the format of [ParseSecretKeys]; no keys
	// at all is an error from New.
	SecretKeys []SecretKey

	// Password sets the argon2id cost of [Password] keys; zero fields take
	// their defaults (OWASP's minimum for argon2id).
	Password PasswordParams
}

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
		codecs:    map[string]Codec{JSON.Name(): JSON, MsgPack.Name(): MsgPack},
	}
	for name, cd := range o.Codecs {
		if cd == nil {
			return nil, fmt.Errorf("%w: Options.Codecs[%q] is nil", ErrSchema, name)
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
				return nil, fmt.Errorf("%w: REDIS_DELETE_CHUNK_SIZE=%q is not a positive integer", ErrSchema, s)
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
		return nil, fmt.Errorf("%w: Options.Password: %w", ErrSchema, err)
	}
	c.pw, c.hashSem = pw, make(chan struct{}, pw.Concurrency)
	if len(o.SecretKeys) > 0 {
		c.keysOpt = o.SecretKeys
		if _, err := c.keyring(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSchema, err)
		}
	}
	return c, nil
}

func envBool(name string) bool {
	b, _ := strconv.ParseBool(os.Getenv(name))
	return b
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

// ClientFromEnv builds a go-redis client from the environment, as the
// original package does:
//
//   - REDIS_URL, a redis:// or rediss:// (TLS) URL as understood by
//     [redis.ParseURL], including user name, password and database;
//   - otherwise REDIS_HOST (default localhost), REDIS_PORT (default 6379),
//     REDIS_USERNAME, REDIS_PASSWORD and REDIS_DB (default 0).
//
// The caller closes the client.
func ClientFromEnv() (redis.UniversalClient, error) {
	opt, err := OptionsFromEnv()
	if err != nil {
		return nil, err
	}
	return redis.NewClient(opt), nil
}

// OptionsFromEnv returns the go-redis options [ClientFromEnv] uses, for
// callers that want to adjust them (pool size, timeouts) first.
func OptionsFromEnv() (*redis.Options, error) {
	if u := os.Getenv("REDIS_URL"); u != "" {
		opt, err := redis.ParseURL(u)
		if err != nil {
			return nil, fmt.Errorf("nest: REDIS_URL: %w", urlError(err))
		}
		return opt, nil
	}
	host := os.Getenv("REDIS_HOST")
	if host == "" {
		host = "localhost"
	}
	port := os.Getenv("REDIS_PORT")
	if port == "" {
		port = "6379"
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return nil, fmt.Errorf("nest: REDIS_PORT=%q is not a port number", port)
	}
	db := 0
	if s := os.Getenv("REDIS_DB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("nest: REDIS_DB=%q is not a database number", s)
		}
		db = n
	}
	return &redis.Options{
		Addr:     net.JoinHostPort(host, port),
		Username: os.Getenv("REDIS_USERNAME"),
		Password: os.Getenv("REDIS_PASSWORD"),
		DB:       db,
	}, nil
}

// urlError strips the URL from a parse error: it may hold a password.
func urlError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s URL: %w", ue.Op, ue.Err)
	}
	return err
}
