package nestcli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest/cmd/nest/internal/server"
	"github.com/spf13/pflag"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redisurl"
)

// pingTimeout bounds how long connecting may take before a command gives
// up with a clear error.
const pingTimeout = 5 * time.Second

// connFlags are the connection flags of the commands that talk to Redis.
type connFlags struct {
	url         string
	addrs       []string
	tls         bool
	tlsCA       string
	tlsInsecure bool
}

func (f *connFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.url, "url", "", "Redis `URL`: redis://[user:password@]host:port/db, rediss:// for TLS, unix://; a Redis Cluster with ?addr=host:port parameters (default: $REDIS_URL, or $REDIS_HOST and the other REDIS_* variables)")
	fs.StringArrayVar(&f.addrs, "addr", nil, "server `host:port`; repeat it for the seed nodes of a Redis Cluster (credentials from REDIS_USERNAME and REDIS_PASSWORD)")
	fs.BoolVar(&f.tls, "tls", false, "connect over TLS (implied by rediss://)")
	fs.StringVar(&f.tlsCA, "tls-ca", "", "PEM `file` of the certificate authorities to trust (implies --tls)")
	fs.BoolVar(&f.tlsInsecure, "tls-insecure", false, "do not verify the server's certificate (implies --tls; for tests only)")
}

// options builds the client options from the flags, else the
// environment (as nest.RedisOptionsFromEnv reads it), and says where they
// come from.
func (f *connFlags) options() (*redis.UniversalOptions, string, error) {
	var (
		opt    *redis.UniversalOptions
		source string
		err    error
	)
	cluster, err := server.EnvCluster()
	if err != nil {
		return nil, "", err
	}
	switch {
	case f.url != "" && len(f.addrs) > 0:
		return nil, "", usageErrorf("--url and --addr exclude each other")
	case f.url != "":
		source = "--url"
		if opt, err = redisurl.Parse(f.url, cluster); err != nil {
			return nil, "", usageErrorf("--url: %v", err)
		}
	case len(f.addrs) > 0:
		source = "--addr"
		opt = &redis.UniversalOptions{
			Addrs: f.addrs, IsClusterMode: cluster || len(f.addrs) > 1,
			Username: os.Getenv("REDIS_USERNAME"), Password: os.Getenv("REDIS_PASSWORD"),
		}
		if opt.Password == "" {
			opt.Password = os.Getenv("REDIS_PASS")
		}
	default:
		source = "REDIS_HOST"
		if os.Getenv("REDIS_URL") != "" {
			source = "REDIS_URL"
		}
		if opt, err = nest.RedisOptionsFromEnv(); err != nil {
			return nil, "", err
		}
	}
	if f.tls || f.tlsCA != "" || f.tlsInsecure {
		if opt.TLSConfig == nil {
			opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		opt.TLSConfig.InsecureSkipVerify = f.tlsInsecure
		if f.tlsCA != "" {
			pem, err := os.ReadFile(f.tlsCA)
			if err != nil {
				return nil, "", usageErrorf("--tls-ca: %v", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, "", usageErrorf("--tls-ca: %s holds no PEM certificate", f.tlsCA)
			}
			opt.TLSConfig.RootCAs = pool
		}
	}
	return opt, server.Describe(opt) + " (from " + source + ")", nil
}

// connect opens and pings the server the flags and the environment name.
func (f *connFlags) connect(ctx context.Context) (redis.UniversalClient, error) {
	opt, desc, err := f.options()
	if err != nil {
		return nil, err
	}
	rdb := redis.NewUniversalClient(opt)
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		_ = rdb.Close()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("no answer within %v", pingTimeout)
		}
		return nil, fmt.Errorf("cannot reach Redis at %s: %w", desc, err)
	}
	return rdb, nil
}
