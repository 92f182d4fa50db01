package nest

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest/internal/original"
	"github.com/redisimnest/nest/internal/redisurl"
)

// Reading the environment is explicit: [New] reads only its [Options], as
// go-redis constructors read only theirs. These functions read the
// variables of the original package, on request.

// OptionsFromEnv returns [Options] built from the environment, for
// [New]:
//
//   - REDIS_DELETE_CHUNK_SIZE: [Options.DeleteChunkSize], a positive
//     integer;
//   - SHOW_METHOD_DISPATCH_LOGS: when true ("1", "true", ... as
//     [strconv.ParseBool] reads it), [Options.Logger] is a text logger on
//     standard error at debug level, so that it shows every dispatch record;
//   - NEST_SECRET_KEYS_FILE (recommended) or NEST_SECRET_KEYS:
//     [Options.SecretKeys], from the file named or the value itself, in the
//     format of [ParseSecretKeys]; setting both is an error;
//   - MY_ENCRYPTION_KEY: [OriginalOptions].EncryptionKey, the original
//     Python package's Fernet key (32 bytes in URL-safe base64), which
//     Secrets in its format need.
//
// An unset or empty variable leaves its field zero (the default). Each
// malformed variable is reported, all of them in one error (joined with
// [errors.Join]) matching [ErrConfig]; messages name the variable and never
// quote key material. Other fields may be set on the result before New:
//
//	opts, err := nest.OptionsFromEnv()
//	if err != nil { ... }
//	opts.Codec = nest.MsgPack
//	root, err := nest.New[Root](rdb, opts)
func OptionsFromEnv() (*Options, error) {
	var r envReader
	o := &Options{}
	if n, ok := r.int("REDIS_DELETE_CHUNK_SIZE"); ok {
		if n <= 0 {
			r.failf("REDIS_DELETE_CHUNK_SIZE=%d is not a positive integer", n)
		}
		o.DeleteChunkSize = n
	}
	if show, _ := r.bool("SHOW_METHOD_DISPATCH_LOGS"); show {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	o.SecretKeys = r.secretKeys()
	if k := os.Getenv("MY_ENCRYPTION_KEY"); k != "" {
		if _, err := original.ParseFernetKey(k); err != nil {
			r.failf("MY_ENCRYPTION_KEY (the original's Fernet key): %v", err)
		}
		o.Original.EncryptionKey = FernetKey(k)
	}
	if err := r.err(); err != nil {
		return nil, err
	}
	return o, nil
}

// RedisOptionsFromEnv returns go-redis options built from the environment,
// as the original package reads it:
//
//   - REDIS_URL: a redis://, rediss:// (TLS) or unix:// URL with user name,
//     password, database and go-redis's query parameters (dial_timeout,
//     pool_size, ...), read by [redis.ParseURL]; with addr= parameters
//     naming more nodes, a Redis Cluster URL read by [redis.ParseClusterURL];
//   - otherwise REDIS_HOST (default localhost) — one host, or several
//     addresses separated by commas ("10.0.0.1:7000,10.0.0.2:7000"), which
//     make a Redis Cluster — with REDIS_PORT (default 6379) for hosts given
//     without a port, REDIS_USERNAME, REDIS_PASSWORD (or REDIS_PASS, as the
//     original spells it; REDIS_PASSWORD wins when both are set) and
//     REDIS_DB (default 0);
//   - REDIS_CLUSTER: when true, a Redis Cluster even with a single seed
//     address (a cluster configuration endpoint); when false, several
//     addresses are an error.
//
// The result is a [redis.UniversalOptions] because the environment, not
// the code, decides between one server and a Redis Cluster: IsClusterMode
// says which, and [redis.NewUniversalClient] builds the matching client
// (*redis.Client or *redis.ClusterClient). Adjust the pool size or
// timeouts on it first, or use [ClientFromEnv] directly.
//
// Errors match [ErrConfig] and name the variable; no error quotes any part
// of a password, even from a malformed REDIS_URL.
func RedisOptionsFromEnv() (*redis.UniversalOptions, error) {
	var r envReader
	cluster, clusterSet := r.bool("REDIS_CLUSTER")
	var opt *redis.UniversalOptions
	if raw := os.Getenv("REDIS_URL"); raw != "" {
		o, err := redisurl.Parse(raw, cluster)
		if err != nil {
			r.failf("REDIS_URL: %v", err)
		}
		opt = o
	} else {
		opt = r.hostOptions(cluster)
	}
	if err := r.err(); err != nil {
		return nil, err
	}
	if clusterSet && !cluster && opt.IsClusterMode {
		return nil, fmt.Errorf("%w: REDIS_CLUSTER is false, but %d addresses name a Redis Cluster", ErrConfig, len(opt.Addrs))
	}
	return opt, nil
}

// ClientFromEnv returns a go-redis client built from
// [RedisOptionsFromEnv]: a *redis.ClusterClient when the environment names
// a Redis Cluster, else a *redis.Client. The caller closes it.
func ClientFromEnv() (redis.UniversalClient, error) {
	opt, err := RedisOptionsFromEnv()
	if err != nil {
		return nil, err
	}
	return redis.NewUniversalClient(opt), nil
}

// hostOptions reads REDIS_HOST, REDIS_PORT, REDIS_USERNAME, REDIS_PASSWORD
// (or REDIS_PASS) and REDIS_DB.
func (r *envReader) hostOptions(cluster bool) *redis.UniversalOptions {
	port := "6379"
	if p := os.Getenv("REDIS_PORT"); p != "" {
		if !isPort(p) {
			r.failf("REDIS_PORT=%q is not a port number", p)
		}
		port = p
	}
	var addrs []string
	for i, h := range strings.Split(os.Getenv("REDIS_HOST"), ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if host, p, err := net.SplitHostPort(h); err == nil {
			if host == "" || !isPort(p) {
				r.failf("REDIS_HOST address %d (%q) is not host:port", i+1, h)
			}
			addrs = append(addrs, h)
		} else {
			addrs = append(addrs, net.JoinHostPort(strings.Trim(h, "[]"), port))
		}
	}
	if len(addrs) == 0 {
		addrs = []string{net.JoinHostPort("localhost", port)}
	}
	opt := &redis.UniversalOptions{
		Addrs:         addrs,
		Username:      os.Getenv("REDIS_USERNAME"),
		Password:      os.Getenv("REDIS_PASSWORD"),
		IsClusterMode: cluster || len(addrs) > 1,
	}
	if opt.Password == "" {
		opt.Password = os.Getenv("REDIS_PASS")
	}
	if db, ok := r.int("REDIS_DB"); ok {
		switch {
		case db < 0:
			r.failf("REDIS_DB=%d is not a database number", db)
		case db != 0 && opt.IsClusterMode:
			r.failf("REDIS_DB=%d: Redis Cluster has only database 0", db)
		}
		opt.DB = db
	}
	return opt
}

func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0 && n <= 65535
}

// envReader reads environment variables and collects what is wrong with
// them, so that one error reports every malformed variable.
type envReader struct{ errs []error }

func (r *envReader) failf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
}

func (r *envReader) err() error { return errors.Join(r.errs...) }

// int reads an integer variable; ok is false when it is unset, empty or
// malformed (which is recorded).
func (r *envReader) int(name string) (n int, ok bool) {
	s := os.Getenv(name)
	if s == "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		r.failf("%s=%q is not an integer", name, s)
		return 0, false
	}
	return n, true
}

// bool reads a boolean variable as [strconv.ParseBool] does; set is false
// when it is unset, empty or malformed (which is recorded).
func (r *envReader) bool(name string) (v, set bool) {
	s := os.Getenv(name)
	if s == "" {
		return false, false
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		r.failf("%s=%q is not a boolean (1, true, 0 or false)", name, s)
		return false, false
	}
	return v, true
}

// secretKeys reads the keyring from NEST_SECRET_KEYS_FILE or
// NEST_SECRET_KEYS. Their values are never quoted: they hold keys.
func (r *envReader) secretKeys() []SecretKey {
	file, inline := os.Getenv("NEST_SECRET_KEYS_FILE"), os.Getenv("NEST_SECRET_KEYS")
	switch {
	case file != "" && inline != "":
		r.failf("both NEST_SECRET_KEYS_FILE and NEST_SECRET_KEYS are set; keep one (the file is recommended)")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			r.failf("NEST_SECRET_KEYS_FILE: %v", err)
			return nil
		}
		keys, err := parseSecretKeys(string(b))
		if err != nil {
			r.failf("NEST_SECRET_KEYS_FILE %s: %v", file, err)
		}
		return keys
	case inline != "":
		keys, err := parseSecretKeys(inline)
		if err != nil {
			r.failf("NEST_SECRET_KEYS: %v", err)
		}
		return keys
	}
	return nil
}
