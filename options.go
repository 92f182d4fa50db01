package nest

import (
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// Options configure a schema bound by [New]. The zero value (or a nil
// *Options) means defaults. New reads nothing else — no environment
// variable; [OptionsFromEnv] builds Options from the original package's
// variables when asked.
type Options struct {
	// Codec encodes values that have no native text form (structs, maps,
	// slices other than []byte, ...). Keys may override it with a
	// `codec:"name"` tag.
	// default: [JSON]
	Codec Codec

	// Codecs names extra codecs that keys can select with `codec:"name"`.
	// "json", "msgpack" and "redisimnest" (the original Python package's
	// format, see [OriginalOptions]) are always available; the last name
	// cannot be taken.
	Codecs map[string]Codec

	// DeleteChunkSize is how many keys one UNLINK command removes during
	// Clear; several chunks travel in one pipeline.
	// default: 1000 ([OptionsFromEnv]: $REDIS_DELETE_CHUNK_SIZE)
	DeleteChunkSize int

	// ScanCount is the COUNT hint of the SCAN commands behind Keys, Count
	// and Clear.
	// default: 1000
	ScanCount int

	// AdminClient, when set, carries the SCANs of [Namespace.Keys],
	// [Namespace.Count], [Namespace.Clear], [Namespace.Reencrypt] and the
	// Instances iterators, which must reach every server holding keys: a
	// *redis.Client, *redis.ClusterClient or *redis.Ring of the same
	// servers as the client given to [New]. Set it when that client cannot
	// be walked node by node: a *redis.AutoPipeliner of a Redis Cluster
	// (go-redis does not expose the cluster behind it) or a wrapping
	// client of your own. Commands on known names still go through the
	// client given to New.
	// default: nil, SCAN through the client given to New (an
	// AutoPipeliner of a standalone server is detected and used as it is)
	AdminClient redis.UniversalClient

	// UpdateRetries bounds the WATCH/MULTI attempts of [Key.Update].
	// default: 32
	UpdateRetries int

	// MaxParamLen is the longest formatted parameter value, in bytes, that
	// Sub.At, ParamKey.At and their named forms accept; a longer one is
	// refused with [ErrInvalidParam], so user input cannot make huge key
	// names.
	// default: [DefaultMaxParamLen] (256)
	MaxParamLen int

	// InstanceCache is how many bound instances each Sub field of the
	// schema remembers, so that binding the same parameters again
	// (root.User.At(42) in a loop, or on every request for a hot user)
	// reuses the instance's key names: no names built, and no allocation
	// but the box Go makes to pass the value through ...any (an integer
	// over 255, a string not known at compile time). It
	// is a table of this many slots rounded up to a power of two,
	// allocated on the field's first At and shared by all its parent
	// instances (root.Org.At(o).User has one table for every o). An
	// instance may sit in either of two slots picked by a hash of its
	// parameters, and a new one replaces the older of the two:
	// parameters bound over and over in turn are found about 97 % of the
	// time when there are half as many as slots, 66 % when there are as
	// many. Its memory is the table (24 bytes a slot: 6 KiB at the
	// default) and the names of the instances it holds, which keep the
	// parameter values in memory until replaced. Namespaces with a
	// ValidateParams method (which must run on every At) are not cached.
	// The default is small on purpose: a table that stays in the
	// processor's caches costs little when it misses, while under high
	// concurrency over thousands of ids a large table's entries are read
	// cold and a hit costs about as much as binding anew (PERFORMANCE.md,
	// AutoPipeliner). When a third or fewer of its lookups find an
	// instance (ids bound once each, or far more ids than slots), the
	// cache stands aside on its own: At binds anew without looking and
	// remembers nothing, but for one lookup in 16, picked at random,
	// which tells it when the ids it holds come back, and a short trial
	// every 16 000 calls or so, in which it is consulted again and kept
	// if it finds enough. The verdict follows at least the last 16 000
	// lookups (a sixteenth of the slots' worth of samples for a larger
	// table), so a first pass over a set of ids that fits does not turn
	// it off; refused values do not count. Whether an instance came from the cache changes
	// nothing a handle shows: usable handles bound to equal parameters
	// compare equal with == either way.
	// default: [DefaultInstanceCache] (256); at most 1 048 576; a
	// negative number turns the cache off
	InstanceCache int

	// Logger receives one debug record per dispatched command (method,
	// key, TTL — never values). A logger whose handler drops debug
	// records (as [slog.Default]'s does unless configured) shows none.
	// default: nil, no logging ([OptionsFromEnv]: with
	// $SHOW_METHOD_DISPATCH_LOGS true, a text logger on standard error at
	// debug level)
	Logger *slog.Logger

	// SecretKeys is the keyring of [Secret] keys: one or more 32-byte
	// AES-256 keys with IDs. The first seals every new value; each value
	// is opened with the key whose ID it carries. To rotate, put a new key
	// first, keep the old ones until [Namespace.Reencrypt] has rewritten
	// their values, then drop them. Keys given here are checked by [New]
	// even when the schema declares no Secret key.
	// default: none; a schema that declares Secret keys then fails in New
	// ([OptionsFromEnv]: from the file named by $NEST_SECRET_KEYS_FILE,
	// recommended, or from $NEST_SECRET_KEYS, in the format of
	// [ParseSecretKeys]).
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

	// Original configures running beside the original Python package,
	// redisimnest, on one Redis: its stored format for every Key, Secret
	// or Password of the schema (or per key, with `codec:"redisimnest"`),
	// its MY_ENCRYPTION_KEY, and the rule for naive datetimes. See
	// [OriginalOptions].
	// default: nest's own formats; `codec:"redisimnest"` tags read naive
	// datetimes in UTC and write them naive
	Original OriginalOptions
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
