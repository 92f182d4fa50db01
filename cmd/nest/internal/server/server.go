// Package server holds what the nest command's subcommands and its demo
// share about the Redis server they connect to.
package server

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// EnvCluster reads REDIS_CLUSTER, which applies to --url and --addr as to
// REDIS_URL.
func EnvCluster() (bool, error) {
	s := os.Getenv("REDIS_CLUSTER")
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("REDIS_CLUSTER=%q is not a boolean (1, true, 0 or false)", s)
	}
	return b, nil
}

// Describe names the server of opt without its credentials:
// "127.0.0.1:6379 db 0", or "Redis Cluster a:7000,b:7001".
func Describe(opt *redis.UniversalOptions) string {
	var s string
	if opt.IsClusterMode || len(opt.Addrs) > 1 {
		s = "Redis Cluster " + strings.Join(opt.Addrs, ",")
	} else {
		s = opt.Addrs[0] + " db " + strconv.Itoa(opt.DB)
	}
	if opt.TLSConfig != nil {
		s += " over TLS"
	}
	if opt.Username != "" {
		s += " as " + opt.Username
	}
	return s
}
