package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest/cmd/nest/internal/server"
	"github.com/spf13/pflag"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redisurl"
)

// pingTimeout bounds how long connecting to a server may take before a
// command gives up with a clear error.
const pingTimeout = 5 * time.Second

// serverFlags are the connection flags shared by the commands that talk to
// Redis.
type serverFlags struct {
	url      string
	embedded bool // only for commands that offer an embedded server
}

// add declares --url and, when allowEmbedded, --embedded.
func (sf *serverFlags) add(fs *pflag.FlagSet, allowEmbedded bool) {
	fs.StringVar(&sf.url, "url", "",
		"Redis server `URL`, redis://[user:password@]host:port/db, rediss:// for TLS or unix://;\n"+
			"a Redis Cluster with ?addr=host:port parameters (or REDIS_CLUSTER=1)\n"+
			"(default: $REDIS_URL, or $REDIS_HOST/$REDIS_PORT/$REDIS_USERNAME/$REDIS_PASSWORD/$REDIS_DB)")
	if allowEmbedded {
		fs.BoolVar(&sf.embedded, "embedded", false,
			"use an embedded in-process Redis even when REDIS_URL or REDIS_HOST is set")
	}
}

// conn is an open connection to Redis.
type conn struct {
	rdb      redis.UniversalClient
	desc     string // where the client points, credentials left out
	embedded bool
	close    func()
}

// connect opens the server the flags and the environment name. Without
// --url, REDIS_URL or REDIS_HOST it starts an embedded in-process Redis
// when allowEmbedded, and otherwise uses localhost:6379 as
// nest.ClientFromEnv does. --url takes the place of REDIS_URL and is read
// the same way (a Redis Cluster with addr= parameters or REDIS_CLUSTER
// set), its errors never showing the password. connect pings the server,
// so an unreachable one fails here with a clear error.
func (sf *serverFlags) connect(ctx context.Context, allowEmbedded bool) (*conn, error) {
	fromEnv := os.Getenv("REDIS_URL") != "" || os.Getenv("REDIS_HOST") != ""
	switch {
	case sf.embedded && sf.url != "":
		return nil, usageErrorf("--embedded and --url exclude each other")
	case sf.embedded || (allowEmbedded && sf.url == "" && !fromEnv):
		return startEmbedded()
	}
	var (
		opt    *redis.UniversalOptions
		source string
		err    error
	)
	if sf.url != "" {
		source = "--url"
		cluster, cerr := server.EnvCluster()
		if cerr != nil {
			return nil, cerr
		}
		if opt, err = redisurl.Parse(sf.url, cluster); err != nil {
			return nil, usageErrorf("--url: %v", err)
		}
	} else {
		source = "REDIS_HOST"
		if os.Getenv("REDIS_URL") != "" {
			source = "REDIS_URL"
		}
		if opt, err = nest.RedisOptionsFromEnv(); err != nil {
			return nil, err
		}
	}
	desc := server.Describe(opt) + " (from " + source + ")"
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
	return &conn{rdb: rdb, desc: desc, close: func() { _ = rdb.Close() }}, nil
}

// startEmbedded starts an in-process Redis (miniredis) on a free port of
// 127.0.0.1 and a client for it. TTLs on it do not count down by
// themselves; they behave otherwise as on Redis.
func startEmbedded() (*conn, error) {
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		return nil, fmt.Errorf("starting the embedded Redis: %w", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	return &conn{
		rdb:      rdb,
		desc:     "an embedded in-process Redis (miniredis)",
		embedded: true,
		close: func() {
			_ = rdb.Close()
			m.Close()
		},
	}, nil
}
