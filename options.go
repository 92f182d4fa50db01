package nest

import (
	"log/slog"
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

	// MaxValueSize bounds, in bytes, the stored form of every value of
	// [Key] and [Secret] keys (for a Secret, its plaintext), whatever the
	// codec. A write of a larger value fails with [ErrEncode] and sends
	// nothing; a larger stored value is not decoded: reads return a
	// *[DecodeError] naming its size and the limit (keeping the bytes).
	// Both match [ErrTooLarge] (a Secret's errors withhold the cause and
	// match only ErrEncode or ErrDecode). It protects the process from values
	// written by someone else: decoding JSON or MessagePack into Go values
	// can take several times the stored size. A negative size means no
	// limit. (Redis itself refuses values over 512 MB, its
	// proto-max-bulk-len.)
	// default: [DefaultMaxValueSize], 64 MiB
	MaxValueSize int
}
