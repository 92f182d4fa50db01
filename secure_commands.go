package nest

import (
	"context"
	"time"
)

// The key commands that neither read nor write the value work on Password
// and Secret keys exactly as on Key: they delegate to the same handle seen
// as a Key, so there is one implementation. Dump and Restore are left out
// on purpose: DUMP would be a second way to read a password hash, and a
// dumped secret only opens under its own key name. Secret's Rename re-seals
// (see secret.go); a password hash is not bound to its key name, so
// Password's Rename is the plain one.

// Password key commands.

// Exists reports whether the key exists.
func (p Password) Exists(ctx context.Context) (bool, error) { return p.key().Exists(ctx) }

// Delete deletes the key (DEL) and reports whether it existed.
func (p Password) Delete(ctx context.Context) (bool, error) { return p.key().Delete(ctx) }

// Unlink deletes the key in the background (UNLINK) and reports whether
// it existed.
func (p Password) Unlink(ctx context.Context) (bool, error) { return p.key().Unlink(ctx) }

// Touch updates the key's last access time and reports whether it exists.
func (p Password) Touch(ctx context.Context) (bool, error) { return p.key().Touch(ctx) }

// Expire sets the key's TTL to d, in whole seconds; see [Key.Expire].
func (p Password) Expire(ctx context.Context, d time.Duration) (bool, error) {
	return p.key().Expire(ctx, d)
}

// PExpire sets the key's TTL to d, in milliseconds; see [Key.PExpire].
func (p Password) PExpire(ctx context.Context, d time.Duration) (bool, error) {
	return p.key().PExpire(ctx, d)
}

// ExpireAt makes the key expire at t; see [Key.ExpireAt].
func (p Password) ExpireAt(ctx context.Context, t time.Time) (bool, error) {
	return p.key().ExpireAt(ctx, t)
}

// PExpireAt makes the key expire at t, in milliseconds; see [Key.PExpireAt].
func (p Password) PExpireAt(ctx context.Context, t time.Time) (bool, error) {
	return p.key().PExpireAt(ctx, t)
}

// Persist removes the key's TTL and reports whether one was removed.
func (p Password) Persist(ctx context.Context) (bool, error) { return p.key().Persist(ctx) }

// TTL returns the key's remaining time to live; see [Key.TTL].
func (p Password) TTL(ctx context.Context) (time.Duration, error) { return p.key().TTL(ctx) }

// PTTL returns the key's remaining time to live in milliseconds; see [Key.PTTL].
func (p Password) PTTL(ctx context.Context) (time.Duration, error) { return p.key().PTTL(ctx) }

// ExpireTime returns when the key expires; see [Key.ExpireTime].
func (p Password) ExpireTime(ctx context.Context) (time.Time, error) { return p.key().ExpireTime(ctx) }

// Type returns the Redis type of the stored value; see [Key.Type].
func (p Password) Type(ctx context.Context) (string, error) { return p.key().Type(ctx) }

// MemoryUsage returns the bytes the key takes in Redis; see [Key.MemoryUsage].
func (p Password) MemoryUsage(ctx context.Context) (int64, error) { return p.key().MemoryUsage(ctx) }

// ObjectEncoding returns Redis's internal encoding of the value; see
// [Key.ObjectEncoding].
func (p Password) ObjectEncoding(ctx context.Context) (string, error) {
	return p.key().ObjectEncoding(ctx)
}

// Secret key commands.

// Exists reports whether the key exists.
func (s Secret[T]) Exists(ctx context.Context) (bool, error) { return s.key().Exists(ctx) }

// Delete deletes the key (DEL) and reports whether it existed.
func (s Secret[T]) Delete(ctx context.Context) (bool, error) { return s.key().Delete(ctx) }

// Unlink deletes the key in the background (UNLINK) and reports whether
// it existed.
func (s Secret[T]) Unlink(ctx context.Context) (bool, error) { return s.key().Unlink(ctx) }

// Touch updates the key's last access time and reports whether it exists.
func (s Secret[T]) Touch(ctx context.Context) (bool, error) { return s.key().Touch(ctx) }

// Expire sets the key's TTL to d, in whole seconds; see [Key.Expire].
func (s Secret[T]) Expire(ctx context.Context, d time.Duration) (bool, error) {
	return s.key().Expire(ctx, d)
}

// PExpire sets the key's TTL to d, in milliseconds; see [Key.PExpire].
func (s Secret[T]) PExpire(ctx context.Context, d time.Duration) (bool, error) {
	return s.key().PExpire(ctx, d)
}

// ExpireAt makes the key expire at t; see [Key.ExpireAt].
func (s Secret[T]) ExpireAt(ctx context.Context, t time.Time) (bool, error) {
	return s.key().ExpireAt(ctx, t)
}

// PExpireAt makes the key expire at t, in milliseconds; see [Key.PExpireAt].
func (s Secret[T]) PExpireAt(ctx context.Context, t time.Time) (bool, error) {
	return s.key().PExpireAt(ctx, t)
}

// Persist removes the key's TTL and reports whether one was removed.
func (s Secret[T]) Persist(ctx context.Context) (bool, error) { return s.key().Persist(ctx) }

// TTL returns the key's remaining time to live; see [Key.TTL].
func (s Secret[T]) TTL(ctx context.Context) (time.Duration, error) { return s.key().TTL(ctx) }

// PTTL returns the key's remaining time to live in milliseconds; see [Key.PTTL].
func (s Secret[T]) PTTL(ctx context.Context) (time.Duration, error) { return s.key().PTTL(ctx) }

// ExpireTime returns when the key expires; see [Key.ExpireTime].
func (s Secret[T]) ExpireTime(ctx context.Context) (time.Time, error) { return s.key().ExpireTime(ctx) }

// Type returns the Redis type of the stored value; see [Key.Type].
func (s Secret[T]) Type(ctx context.Context) (string, error) { return s.key().Type(ctx) }

// MemoryUsage returns the bytes the key takes in Redis; see [Key.MemoryUsage].
func (s Secret[T]) MemoryUsage(ctx context.Context) (int64, error) { return s.key().MemoryUsage(ctx) }

// ObjectEncoding returns Redis's internal encoding of the value; see
// [Key.ObjectEncoding].
func (s Secret[T]) ObjectEncoding(ctx context.Context) (string, error) {
	return s.key().ObjectEncoding(ctx)
}

// Rename moves the hash to dst, giving it dst's effective TTL; see
// [Key.Rename].
func (p Password) Rename(ctx context.Context, dst Password) error {
	return p.key().Rename(ctx, dst.key())
}

// RenameNX is [Password.Rename] that only renames when dst does not exist;
// it reports whether it renamed.
func (p Password) RenameNX(ctx context.Context, dst Password) (bool, error) {
	return p.key().RenameNX(ctx, dst.key())
}
