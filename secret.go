package nest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest/internal/seal"
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
// Reads, writes, TTLs, defaults and the key commands behave as for [Key];
// there is no Dump or Restore (a dumped secret only opens under its own
// key name), and Rename re-seals the value for its new name. Errors never
// contain the value: a value that does not encode or decode is reported
// with [ErrEncode] or [ErrDecode] but without the codec's message, which
// may quote it. A Secret is an immutable handle, safe to copy and share.
//
// With `codec:"redisimnest"` (or [OriginalOptions].Secrets) the Secret is
// in the original Python package's format instead, so that Python reads
// it: the value's text (T is a string or []byte type) as a Fernet token
// under Options.Original.EncryptionKey, in a str envelope. That format is
// weaker: the token is not bound to the key name and carries no key ID.
// While EncryptionKey is set, a Secret in nest's format opens the
// original's values too, and [Namespace.Reencrypt] rewrites them in nest's
// format.
type Secret[T any] struct {
	_ [0]secretMark[T]
	value[T]
}

func (Secret[T]) compileKey(kp *keyPlan, explicit Codec) error {
	if kp.c.orig.wants(explicit, kp.c.orig.opts.Secrets) {
		return compileOriginalSecret[T](kp)
	}
	if err := compileKeyCodec[T](kp, explicit); err != nil {
		return err
	}
	kp.kind = kindSecret
	_, err := kp.c.keyring()
	return err
}

func (Secret[T]) isParamKey() bool { return false }

func (Secret[T]) fieldKind() keyKind { return kindSecret }

// seal encodes x with the key's codec and encrypts it for this key name.
func (v value[T]) seal(x T) ([]byte, error) {
	enc, err := v.codec().enc(x)
	if err != nil {
		return nil, fmt.Errorf("%w (%s codec): the codec's message is withheld because the value is secret",
			ErrEncode, v.p.codecOf)
	}
	var pt []byte
	switch e := enc.(type) {
	case string:
		pt = []byte(e)
	case []byte:
		pt = e
	case int64:
		pt = strconv.AppendInt(make([]byte, 0, 20), e, 10)
	case uint64:
		pt = strconv.AppendUint(make([]byte, 0, 20), e, 10)
	case float64:
		pt = strconv.AppendFloat(make([]byte, 0, 24), e, 'g', -1, 64)
	default:
		return nil, fmt.Errorf("%w: unexpected encoded type %T", ErrEncode, enc)
	}
	return v.sealPlain(pt)
}

// sealPlain encrypts an encoded value for the key: with AES-256-GCM bound
// to its name or, for a Secret in the original's format, as a Fernet token
// in a str envelope.
func (h *keyHandle) sealPlain(pt []byte) ([]byte, error) {
	if h.p.original {
		return h.p.c.orig.seal(pt)
	}
	return h.p.c.keys.Seal(h.name, pt), nil
}

// openPlain authenticates and decrypts a stored value of the key.
func (h *keyHandle) openPlain(stored []byte) ([]byte, error) {
	if h.p.original {
		return h.p.c.orig.open(stored)
	}
	return h.p.c.openOurs(h.name, stored)
}

// open authenticates, decrypts and decodes a stored value. Its errors
// withhold the codec's message, which may quote the plaintext.
func (v value[T]) open(op, stored string) (T, error) {
	var zero T
	pt, err := v.openPlain([]byte(stored))
	if err != nil {
		return zero, opError(op, v.name, fmt.Errorf("%w: %v", ErrDecrypt, err))
	}
	x, err := v.codec().dec(string(pt))
	clear(pt)
	if err != nil {
		return zero, opError(op, v.name, fmt.Errorf("%w as %s (%s codec): the codec's message is withheld because the value is secret",
			ErrDecode, reflect.TypeFor[T]().String(), v.p.codecOf))
	}
	return x, nil
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

func (s Secret[T]) rename(ctx context.Context, op string, dst Secret[T], nx bool) (bool, error) {
	if err := s.Err(); err != nil {
		return false, err
	}
	if err := dst.Err(); err != nil {
		return false, err
	}
	if err := s.sameClient(&dst.keyHandle); err != nil {
		return false, s.fail(op, err)
	}
	if s.name == dst.name { // as RENAME: a no-op on an existing key
		ok, err := s.Exists(ctx)
		if err == nil && !ok {
			err = opError(op, s.name, ErrNotFound)
		}
		return false, err
	}
	c := s.p.c
	if err := c.sameSlot(s.name, dst.name); err != nil {
		return false, s.fail(op, err)
	}
	renamed := false
	err := c.watch(ctx, op, s.name, func(tx *redis.Tx) error {
		renamed = false
		stored, err := doOn(ctx, tx, &s.keyHandle, "GET", 0, func(c redis.Cmdable) *redis.StringCmd { return c.Get(ctx, s.name) }).Result()
		if err != nil {
			return s.fail("GET", err)
		}
		if nx {
			n, err := doOn(ctx, tx, &dst.keyHandle, "EXISTS", 0, func(c redis.Cmdable) *redis.IntCmd { return c.Exists(ctx, dst.name) }).Result()
			if err != nil {
				return dst.fail("EXISTS", err)
			}
			if n == 1 {
				return nil // dst taken: not renamed
			}
		}
		pt, err := s.openPlain([]byte(stored))
		if err != nil {
			return opError(op, s.name, fmt.Errorf("%w: %v", ErrDecrypt, err))
		}
		sealed, err := dst.sealPlain(pt) // as dst seals: its schema may hold another keyring, or another format
		clear(pt)
		if err != nil {
			return opError(op, dst.name, err)
		}
		start := c.clock()
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			dst.setCmd(ctx, dst.txPipe(p), nil, sealed, dst.p.ttl.d)
			p.Del(ctx, s.name)
			return nil
		})
		c.logged(ctx, "MULTI/EXEC SET+DEL", dst.name, dst.p.ttl.d, start, err)
		if errors.Is(err, redis.TxFailedErr) {
			return err // retry
		}
		renamed = err == nil
		if renamed {
			err = dst.indexAfter(ctx)
		}
		return s.fail("MULTI/EXEC", err)
	}, s.name, dst.name)
	return renamed, err
}

// SecretKeyLen is the length of a [SecretKey]: AES-256 takes 32 bytes.
const SecretKeyLen = seal.KeyLen

// SecretKey is one key of the keyring that seals [Secret] values. ID names
// it inside every value it seals, so that values sealed before a rotation
// still open: 1 to 32 characters from A-Z, a-z, 0-9, '.', '_' and '-'. Key
// is 32 bytes from a cryptographically secure source, for example
//
//	head -c 32 /dev/urandom | base64
//
// A SecretKey never prints its key: String, GoString, Format, LogValue and
// MarshalJSON show the ID and "[redacted]".
type SecretKey struct {
	ID  string
	Key []byte
}

// String returns the ID and a redaction marker, never the key.
func (k SecretKey) String() string { return "nest.SecretKey{ID:" + k.ID + ", Key:[redacted]}" }

// GoString is [SecretKey.String], for %#v.
func (k SecretKey) GoString() string { return k.String() }

// Format writes [SecretKey.String] for every verb, so that no verb (%x,
// %+v, ...) prints the key.
func (k SecretKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// MarshalJSON writes the ID and a redaction marker, so that a JSON log
// handler or an encoded config never carries the key.
func (k SecretKey) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ ID, Key string }{k.ID, "[redacted]"})
}

// LogValue implements [slog.LogValuer]: the ID and a redaction marker.
func (k SecretKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", k.ID), slog.String("key", "[redacted]"))
}

// ParseSecretKeys parses a keyring in the format of $NEST_SECRET_KEYS and
// of the file named by $NEST_SECRET_KEYS_FILE: entries "id:base64key"
// separated by commas or newlines, the current (sealing) key first. Blank
// lines and lines starting with '#' are ignored; the key may be standard or
// URL-safe base64, padded or not, and must decode to 32 bytes:
//
//	k2:3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
//
// Errors match [ErrConfig] and name the entry by position (and its ID
// once that is known to be well-formed), never its key.
func ParseSecretKeys(s string) ([]SecretKey, error) {
	keys, err := parseSecretKeys(s)
	if err != nil {
		return nil, fmt.Errorf("%w: secret keys: %v", ErrConfig, err)
	}
	return keys, nil
}

func parseSecretKeys(s string) ([]SecretKey, error) {
	parsed, err := seal.ParseKeys(s)
	if err != nil {
		return nil, err
	}
	keys := make([]SecretKey, len(parsed))
	for i, k := range parsed {
		keys[i] = SecretKey(k)
	}
	return keys, nil
}

// newRing builds the keyring of a schema's Secret keys.
func newRing(keys []SecretKey) (*seal.Ring, error) {
	ks := make([]seal.Key, len(keys))
	for i, k := range keys {
		ks[i] = seal.Key(k)
	}
	return seal.NewRing(ks)
}
