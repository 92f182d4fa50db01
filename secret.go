package nest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"
)

// Secret is a key whose value is encrypted at rest:
//
//	Token nest.Secret[string] `nest:"api_token" ttl:"24h"`
//
// Set encodes the value as [Key] would (strings raw, numbers as text,
// structs as JSON, or the codec named by a `codec` tag), then seals it with
// AES-256-GCM under the current key of the schema's keyring
// ([Options.SecretKeys]) and a fresh random 96-bit nonce, so the same value
// set twice is stored as two different ciphertexts. The stored bytes are
//
//	version (1) | len(key ID) | key ID | nonce (12 bytes) | ciphertext | tag (16 bytes)
//
// and the associated data is the version, key ID and the full Redis key
// name: a value copied to another key, a changed byte or a truncated value
// fails to open with [ErrDecrypt]. The key ID lets values sealed before a
// key rotation still open; see [Namespace.Reencrypt].
//
// It protects the value in Redis dumps (RDB/AOF), replicas and backups, and
// from an operator with redis-cli; not from a compromised application host,
// which holds the keys. A random nonce bounds each key to about 2^32
// writes; rotate well before that.
//
// TTLs, defaults and the key commands behave as for [Key]. Errors never
// contain the value: a value that does not encode or decode is reported
// with [ErrEncode] or [ErrDecode] but without the codec's message, which
// may quote it. A Secret is an immutable handle, safe to copy and share.
type Secret[T any] struct {
	_ [0]secretMark[T]
	h keyHandle
}

func (Secret[T]) compileKey(kp *keyPlan, explicit Codec) error {
	if err := compileKeyCodec[T](kp, explicit); err != nil {
		return err
	}
	kp.kind = kindSecret
	_, err := kp.c.keyring()
	return err
}

func (Secret[T]) isParamKey() bool { return false }

func (Secret[T]) secureKind() keyKind { return kindSecret }

// key is the same handle seen as a plain Key, whose value codec, default,
// TTL and commands a Secret shares.
func (s Secret[T]) key() Key[T] { return Key[T]{h: s.h} }

// Name returns the full Redis key name, or "" when the handle is unusable.
func (s Secret[T]) Name() string { return s.key().Name() }

// String returns the full key name; a Secret handle never holds a value.
func (s Secret[T]) String() string { return s.key().Name() }

// Err reports why the handle cannot be used; see [Key.Err].
func (s Secret[T]) Err() error { return s.h.ready() }

// EffectiveTTL returns the TTL that writes apply; see [Key.EffectiveTTL].
func (s Secret[T]) EffectiveTTL() (ttl time.Duration, ok bool) { return s.key().EffectiveTTL() }

// Describe describes the key; its Kind is "secret".
func (s Secret[T]) Describe() KeyDescription { return describeKey(&s.h) }

// Get returns the decrypted value, or the declared default when the key
// does not exist (a missing key without a `default` tag returns
// [ErrNotFound]). A value that does not open returns [ErrDecrypt]; one
// that opens but does not decode into T returns [ErrDecode]. With a
// sliding TTL, Get renews the TTL in the same command (GETEX).
func (s Secret[T]) Get(ctx context.Context) (T, error) {
	v, ok, err := s.Lookup(ctx)
	if err == nil && !ok && !s.h.p.hasDef {
		err = opError("GET", s.h.name, ErrNotFound)
	}
	return v, err
}

// Lookup is like [Secret.Get] but tells a missing key from a stored one:
// ok is false when the key does not exist.
func (s Secret[T]) Lookup(ctx context.Context) (v T, ok bool, err error) {
	if err := s.h.ready(); err != nil {
		return v, false, err
	}
	return s.getResult("GET", s.key().getCmd(ctx, s.h.p.c.rdb))
}

// getResult opens and decodes a reply holding a sealed value.
func (s Secret[T]) getResult(cmdName string, cmd interface{ Result() (string, error) }) (T, bool, error) {
	var zero T
	stored, err := cmd.Result()
	if err == redis.Nil {
		return s.key().dflt(), false, nil
	}
	if err != nil {
		return zero, false, s.h.fail(cmdName, err)
	}
	pt, err := s.h.p.c.keys.open(s.h.name, stored)
	if err != nil {
		return zero, false, opError(cmdName, s.h.name, err)
	}
	// pt is fresh and never reused, so the decoder may keep it as a string.
	v, err := s.key().codec().dec(unsafe.String(unsafe.SliceData(pt), len(pt)))
	if err != nil {
		return zero, false, fmt.Errorf("%w: %s as %s (%s codec): the codec's message is withheld because the value is secret",
			ErrDecode, s.h.name, reflect.TypeFor[T]().String(), s.h.p.codecOf)
	}
	return v, true, nil
}

// Raw returns the stored ciphertext (format version, key ID, nonce,
// ciphertext and tag) without opening it, or [ErrNotFound].
func (s Secret[T]) Raw(ctx context.Context) ([]byte, error) { return s.key().Raw(ctx) }

// Set encrypts and stores v, applying the effective TTL in the same
// command (SET ... EX/PX). Options: [KeepTTL], [WithTTL].
func (s Secret[T]) Set(ctx context.Context, v T, opts ...SetOption) error {
	if err := s.h.ready(); err != nil {
		return err
	}
	sealed, err := s.seal(v)
	if err != nil {
		return err
	}
	return s.h.fail("SET", s.key().setCmd(ctx, s.h.p.c.rdb, sealed, opts).Err())
}

// SetNX encrypts and stores v only if the key does not exist (SET ... NX,
// with the TTL). It reports whether the value was stored.
func (s Secret[T]) SetNX(ctx context.Context, v T, opts ...SetOption) (bool, error) {
	if err := s.h.ready(); err != nil {
		return false, err
	}
	sealed, err := s.seal(v)
	if err != nil {
		return false, err
	}
	ok, err := s.h.setNXCmd(ctx, s.h.p.c.rdb, sealed, opts).Result()
	return ok, s.h.fail("SET NX", err)
}

// seal encodes v with the key's codec and encrypts it for this key name.
func (s Secret[T]) seal(v T) ([]byte, error) {
	enc, err := s.key().codec().enc(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %s (%s codec): the codec's message is withheld because the value is secret",
			ErrEncode, s.h.name, s.h.p.codecOf)
	}
	var pt []byte
	switch x := enc.(type) {
	case string:
		// Seal only reads the plaintext, so the string's bytes are used in place.
		pt = unsafe.Slice(unsafe.StringData(x), len(x))
	case []byte:
		pt = x
	case int64:
		pt = strconv.AppendInt(make([]byte, 0, 20), x, 10)
	case uint64:
		pt = strconv.AppendUint(make([]byte, 0, 20), x, 10)
	default:
		return nil, fmt.Errorf("%w: %s: unexpected encoded type %T", ErrEncode, s.h.name, enc)
	}
	return s.h.p.c.keys.seal(s.h.name, pt), nil
}

// Rename moves the value to dst, re-sealing it for dst's name (a plain
// RENAME would leave a value bound to the old name, which no longer
// opens), with dst's effective TTL, replacing dst's value. It WATCHes both
// keys and writes in one MULTI/EXEC, retrying like [Key.Update]; it
// returns [ErrNotFound] when the key does not exist. On Redis Cluster both
// keys must share a hash slot.
func (s Secret[T]) Rename(ctx context.Context, dst Secret[T]) error {
	_, err := s.rename(ctx, "RENAME", dst, false)
	return err
}

// RenameNX is [Secret.Rename] that only renames when dst does not exist;
// it reports whether it renamed.
func (s Secret[T]) RenameNX(ctx context.Context, dst Secret[T]) (bool, error) {
	return s.rename(ctx, "RENAMENX", dst, true)
}

func (s Secret[T]) rename(ctx context.Context, name string, dst Secret[T], nx bool) (bool, error) {
	if err := s.h.ready(); err != nil {
		return false, err
	}
	if err := dst.h.ready(); err != nil {
		return false, err
	}
	if s.h.name == dst.h.name { // as RENAME: a no-op on an existing key
		ok, err := s.key().Exists(ctx)
		if err == nil && !ok {
			err = opError(name, s.h.name, ErrNotFound)
		}
		return false, err
	}
	c := s.h.p.c
	if err := c.sameSlot(s.h.name, dst.h.name); err != nil {
		return false, s.h.fail(name, err)
	}
	var txErr error // an error txf produced, already in its final form
	renamed := false
	txf := func(tx *redis.Tx) error {
		s.h.log(ctx, "GET", 0)
		stored, err := tx.Get(ctx, s.h.name).Result()
		if err != nil {
			txErr = s.h.fail("GET", err)
			return txErr
		}
		if nx {
			dst.h.log(ctx, "EXISTS", 0)
			n, err := tx.Exists(ctx, dst.h.name).Result()
			if err != nil {
				txErr = dst.h.fail("EXISTS", err)
				return txErr
			}
			if n == 1 {
				return nil // dst taken: not renamed
			}
		}
		pt, err := c.keys.open(s.h.name, stored)
		if err != nil {
			txErr = opError(name, s.h.name, err)
			return txErr
		}
		sealed := c.keys.seal(dst.h.name, pt)
		clear(pt)
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			dst.key().setCmd(ctx, p, sealed, nil)
			s.h.log(ctx, "DEL", 0)
			p.Del(ctx, s.h.name)
			return nil
		})
		if errors.Is(err, redis.TxFailedErr) {
			return err // retry
		}
		txErr, renamed = s.h.fail("MULTI/EXEC", err), err == nil
		return txErr
	}
	for attempt := range c.retries {
		if err := backoff(ctx, attempt); err != nil {
			return false, s.h.fail("WATCH", err)
		}
		txErr = nil
		s.h.log(ctx, "WATCH", 0)
		err := c.rdb.Watch(ctx, txf, s.h.name, dst.h.name)
		switch {
		case err == nil:
			return renamed, nil
		case errors.Is(err, redis.TxFailedErr):
			continue
		case txErr != nil:
			return false, txErr
		default:
			return false, s.h.fail("WATCH", err)
		}
	}
	return false, opError(name, s.h.name, ErrConflict)
}
