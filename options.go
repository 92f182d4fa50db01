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
}

// PasswordParams sets the cost of the argon2id hashes of [Password] keys.
// Zero fields take their defaults, OWASP's minimum recommendation for
// argon2id. Raising them later is safe: [Password.Verify] upgrades old
// hashes as their users log in. Parameters below the defaults are for
// tests only.
type PasswordParams struct {
	// Memory is the memory cost, in KiB; at most 1 GiB.
	// default: 19456 (19 MiB)
	Memory uint32
	// Iterations is the number of passes over the memory; at most 64.
	// default: 2
	Iterations uint32
	// Parallelism is the number of lanes (p).
	// default: 1
	Parallelism uint8
	// Concurrency bounds how many hashes the schema computes at once, so
	// that a burst of logins cannot take Memory × burst of RAM; the others
	// wait, or give up when their context ends. It is not stored in hashes.
	// default: GOMAXPROCS
	Concurrency int
}
