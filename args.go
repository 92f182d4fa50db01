package nest

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// cmdSender is what the commands nest builds itself are sent or queued
// on: a go-redis client or pipeline.
type cmdSender interface {
	redis.Cmdable
	Process(ctx context.Context, cmd redis.Cmder) error
}

// setCmd returns SET key val with the expiration exp, built as go-redis's
// Set builds it (EX or PX, KEEPTTL for [redis.KeepTTL]) in s.
func (s *argSpace) setCmd(ctx context.Context, key string, val any, exp time.Duration) *redis.StatusCmd {
	unit, n := s.expiry(exp)
	var a []any
	switch {
	case unit != nil:
		a = s.args(5)
		a[3], a[4] = unit, n
	case exp == redis.KeepTTL:
		a = s.args(4)
		a[3] = "keepttl"
	default:
		a = s.args(3)
	}
	a[0], a[1], a[2] = "set", s.str(key), val
	return redis.NewStatusCmd(ctx, a...)
}

// getCmd returns GET key or, for a sliding TTL exp (> 0), GETEX key with
// the expiration, built as go-redis's Get and GetEx build them in s.
func (s *argSpace) getCmd(ctx context.Context, key string, exp time.Duration) *redis.StringCmd {
	if exp <= 0 {
		a := s.args(2)
		a[0], a[1] = "get", s.str(key)
		return redis.NewStringCmd(ctx, a...)
	}
	unit, n := s.expiry(exp)
	a := s.args(4)
	a[0], a[1], a[2], a[3] = "getex", s.str(key), unit, n
	return redis.NewStringCmd(ctx, a...)
}
