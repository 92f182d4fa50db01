package nest

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// This file holds the key commands that do not read or write the value:
// existence, deletion, expiry, introspection, rename, dump and restore.

// Exists reports whether the key exists.
func (k Key[T]) Exists(ctx context.Context) (bool, error) {
	return k.intCmd(ctx, "EXISTS", func(c redis.UniversalClient) *redis.IntCmd { return c.Exists(ctx, k.h.name) })
}

// Delete deletes the key (DEL) and reports whether it existed.
func (k Key[T]) Delete(ctx context.Context) (bool, error) {
	return k.intCmd(ctx, "DEL", func(c redis.UniversalClient) *redis.IntCmd { return c.Del(ctx, k.h.name) })
}

// Unlink deletes the key, reclaiming its memory in the background
// (UNLINK), and reports whether it existed.
func (k Key[T]) Unlink(ctx context.Context) (bool, error) {
	return k.intCmd(ctx, "UNLINK", func(c redis.UniversalClient) *redis.IntCmd { return c.Unlink(ctx, k.h.name) })
}

// Touch updates the key's last access time and reports whether it exists.
func (k Key[T]) Touch(ctx context.Context) (bool, error) {
	return k.intCmd(ctx, "TOUCH", func(c redis.UniversalClient) *redis.IntCmd { return c.Touch(ctx, k.h.name) })
}

func (k Key[T]) intCmd(ctx context.Context, name string, send func(redis.UniversalClient) *redis.IntCmd) (bool, error) {
	if err := k.h.ready(); err != nil {
		return false, err
	}
	k.h.log(ctx, name, 0)
	n, err := send(k.h.p.c.rdb).Result()
	return n == 1, k.h.fail(name, err)
}

func (k Key[T]) boolCmd(ctx context.Context, name string, send func(redis.UniversalClient) *redis.BoolCmd) (bool, error) {
	if err := k.h.ready(); err != nil {
		return false, err
	}
	k.h.log(ctx, name, 0)
	ok, err := send(k.h.p.c.rdb).Result()
	return ok, k.h.fail(name, err)
}

// Expire sets the key's TTL to d, in whole seconds (EXPIRE), and reports
// whether the key exists.
func (k Key[T]) Expire(ctx context.Context, d time.Duration) (bool, error) {
	return k.boolCmd(ctx, "EXPIRE", func(c redis.UniversalClient) *redis.BoolCmd { return c.Expire(ctx, k.h.name, d) })
}

// PExpire sets the key's TTL to d, in milliseconds (PEXPIRE).
func (k Key[T]) PExpire(ctx context.Context, d time.Duration) (bool, error) {
	return k.boolCmd(ctx, "PEXPIRE", func(c redis.UniversalClient) *redis.BoolCmd { return c.PExpire(ctx, k.h.name, d) })
}

// ExpireAt makes the key expire at t, in whole seconds (EXPIREAT).
func (k Key[T]) ExpireAt(ctx context.Context, t time.Time) (bool, error) {
	return k.boolCmd(ctx, "EXPIREAT", func(c redis.UniversalClient) *redis.BoolCmd { return c.ExpireAt(ctx, k.h.name, t) })
}

// PExpireAt makes the key expire at t, in milliseconds (PEXPIREAT).
func (k Key[T]) PExpireAt(ctx context.Context, t time.Time) (bool, error) {
	return k.boolCmd(ctx, "PEXPIREAT", func(c redis.UniversalClient) *redis.BoolCmd { return c.PExpireAt(ctx, k.h.name, t) })
}

// Persist removes the key's TTL and reports whether one was removed.
func (k Key[T]) Persist(ctx context.Context) (bool, error) {
	return k.boolCmd(ctx, "PERSIST", func(c redis.UniversalClient) *redis.BoolCmd { return c.Persist(ctx, k.h.name) })
}

// TTL returns the key's remaining time to live in whole seconds,
// [NoExpiry] for a key without one, or [ErrNotFound].
func (k Key[T]) TTL(ctx context.Context) (time.Duration, error) {
	return k.ttlCmd(ctx, "TTL", func(c redis.UniversalClient) *redis.DurationCmd { return c.TTL(ctx, k.h.name) })
}

// PTTL is [Key.TTL] with millisecond precision.
func (k Key[T]) PTTL(ctx context.Context) (time.Duration, error) {
	return k.ttlCmd(ctx, "PTTL", func(c redis.UniversalClient) *redis.DurationCmd { return c.PTTL(ctx, k.h.name) })
}

// ExpireTime returns the absolute time at which the key expires, in whole
// seconds; the zero Time for a key without expiry; or [ErrNotFound].
func (k Key[T]) ExpireTime(ctx context.Context) (time.Time, error) {
	d, err := k.ttlCmd(ctx, "EXPIRETIME", func(c redis.UniversalClient) *redis.DurationCmd { return c.ExpireTime(ctx, k.h.name) })
	if err != nil || d == NoExpiry {
		return time.Time{}, err
	}
	return time.Unix(int64(d/time.Second), 0), nil
}

// ttlCmd maps the -2 (missing) and -1 (no expiry) replies.
func (k Key[T]) ttlCmd(ctx context.Context, name string, send func(redis.UniversalClient) *redis.DurationCmd) (time.Duration, error) {
	if err := k.h.ready(); err != nil {
		return 0, err
	}
	k.h.log(ctx, name, 0)
	d, err := send(k.h.p.c.rdb).Result()
	return k.h.ttlReply(name, d, err)
}

// ttlReply maps a TTL-style reply: -2 (missing) to ErrNotFound, -1 (no
// expiry) to NoExpiry.
func (h *keyHandle) ttlReply(name string, d time.Duration, err error) (time.Duration, error) {
	switch {
	case err != nil:
		return 0, h.fail(name, err)
	case d == -2:
		return 0, h.fail(name, ErrNotFound)
	case d == -1:
		return NoExpiry, nil
	}
	return d, nil
}

// Type returns the Redis type of the stored value ("string" for any key
// written by Set), or "none" when the key does not exist.
func (k Key[T]) Type(ctx context.Context) (string, error) {
	if err := k.h.ready(); err != nil {
		return "", err
	}
	k.h.log(ctx, "TYPE", 0)
	s, err := k.h.p.c.rdb.Type(ctx, k.h.name).Result()
	return s, k.h.fail("TYPE", err)
}

// MemoryUsage returns the bytes the key and its value take in Redis
// (MEMORY USAGE), or [ErrNotFound].
func (k Key[T]) MemoryUsage(ctx context.Context) (int64, error) {
	if err := k.h.ready(); err != nil {
		return 0, err
	}
	k.h.log(ctx, "MEMORY USAGE", 0)
	n, err := k.h.p.c.rdb.MemoryUsage(ctx, k.h.name).Result()
	return n, k.h.fail("MEMORY USAGE", err)
}

// ObjectEncoding returns Redis's internal encoding of the value ("int",
// "embstr", "raw", ...), or [ErrNotFound].
func (k Key[T]) ObjectEncoding(ctx context.Context) (string, error) {
	if err := k.h.ready(); err != nil {
		return "", err
	}
	k.h.log(ctx, "OBJECT ENCODING", 0)
	s, err := k.h.p.c.rdb.ObjectEncoding(ctx, k.h.name).Result()
	return s, k.h.fail("OBJECT ENCODING", err)
}

// Dump returns the value serialised in Redis's DUMP format, or
// [ErrNotFound]. Feed it to [Key.Restore].
func (k Key[T]) Dump(ctx context.Context) ([]byte, error) {
	if err := k.h.ready(); err != nil {
		return nil, err
	}
	k.h.log(ctx, "DUMP", 0)
	b, err := k.h.p.c.rdb.Dump(ctx, k.h.name).Bytes()
	return b, k.h.fail("DUMP", err)
}

// Restore creates the key from a [Key.Dump] payload, applying the key's
// effective TTL (RESTORE key ttl payload). It fails with Redis's BUSYKEY
// error when the key exists; see [Key.RestoreReplace].
func (k Key[T]) Restore(ctx context.Context, dump []byte) error {
	return k.restore(ctx, "RESTORE", dump, false)
}

// RestoreReplace is [Key.Restore] that replaces an existing key.
func (k Key[T]) RestoreReplace(ctx context.Context, dump []byte) error {
	return k.restore(ctx, "RESTORE REPLACE", dump, true)
}

func (k Key[T]) restore(ctx context.Context, name string, dump []byte, replace bool) error {
	if err := k.h.ready(); err != nil {
		return err
	}
	ttl := k.h.p.ttl.d
	k.h.log(ctx, name, ttl)
	c := k.h.p.c.rdb
	if replace {
		return k.h.fail(name, c.RestoreReplace(ctx, k.h.name, ttl, string(dump)).Err())
	}
	return k.h.fail(name, c.Restore(ctx, k.h.name, ttl, string(dump)).Err())
}

// renameScript renames KEYS[1] to KEYS[2] (RENAMENX when ARGV[1] is "1")
// and gives the destination its declared TTL (ARGV[2] milliseconds, "0"
// for none) in one atomic step. It returns -1 when the source is missing,
// 0 when RENAMENX found the destination taken, 1 on success.
var renameScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if ARGV[1] == '1' then
  if redis.call('RENAMENX', KEYS[1], KEYS[2]) == 0 then return 0 end
else
  redis.call('RENAME', KEYS[1], KEYS[2])
end
if ARGV[2] ~= '0' then redis.call('PEXPIRE', KEYS[2], ARGV[2]) else redis.call('PERSIST', KEYS[2]) end
return 1
`)

// Rename moves the value to dst, replacing dst's value, and gives it dst's
// effective TTL (or none), atomically. It returns [ErrNotFound] when the
// key does not exist. On Redis Cluster both keys must share a hash slot.
func (k Key[T]) Rename(ctx context.Context, dst Key[T]) error {
	_, err := k.rename(ctx, "RENAME", dst, false)
	return err
}

// RenameNX is [Key.Rename] that only renames when dst does not exist; it
// reports whether it renamed.
func (k Key[T]) RenameNX(ctx context.Context, dst Key[T]) (bool, error) {
	return k.rename(ctx, "RENAMENX", dst, true)
}

func (k Key[T]) rename(ctx context.Context, name string, dst Key[T], nx bool) (bool, error) {
	if err := k.h.ready(); err != nil {
		return false, err
	}
	if err := dst.h.ready(); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, k.h.fail(name, err)
	}
	if err := k.h.p.c.sameSlot(k.h.name, dst.h.name); err != nil {
		return false, k.h.fail(name, err)
	}
	flag := "0"
	if nx {
		flag = "1"
	}
	ttl := dst.h.p.ttl.d
	k.h.log(ctx, name, ttl)
	n, err := renameScript.Run(ctx, k.h.p.c.rdb, []string{k.h.name, dst.h.name},
		flag, strconv.FormatInt(ttl.Milliseconds(), 10)).Int()
	switch {
	case err != nil:
		return false, k.h.fail(name, err)
	case n < 0:
		return false, k.h.fail(name, ErrNotFound)
	}
	return n == 1, nil
}
