// Package nest gives a Redis keyspace a declared, typed, nested schema.
//
// Instead of fmt.Sprintf("app:user:%d:age", id) scattered over a code base,
// the keyspace is declared once as Go structs, checked when it is bound,
// and used through typed handles:
//
//	type User struct {
//		nest.Namespace `nest:"user:{user_id}" ttl:"120s"`
//		Age            nest.Key[int]    `nest:"age" default:"0"`
//		Name           nest.Key[string] `nest:"name" default:"Unknown"`
//	}
//
//	type Root struct {
//		nest.Namespace `nest:"root"`
//		User           nest.Sub[User]
//		ProjectName    nest.Key[string] `nest:"project_name"`
//	}
//
//	root := nest.MustNew[Root](rdb, nil)         // rdb: any go-redis v9 UniversalClient
//	err := root.User.At(42).Age.Set(ctx, 30)     // SET root:user:42:age 30 EX 120
//	age, err := root.User.At(42).Age.Get(ctx)    // 30; 0 (the default) when missing
//	n, err := root.User.At(42).Clear(ctx)        // root:user:42 and root:user:42:*, nothing else
//
// # Namespaces
//
// A namespace — what the original Python redisimnest calls a "cluster";
// this package never uses that word for it, so that it cannot be confused
// with Redis Cluster — is a struct embedding [Namespace]. Its tag gives a
// prefix template; prefixes nest, so the full name of a key is the chain of
// prefixes and the key's name joined by ':'. A plain struct field holds a
// child namespace without parameters; a [Sub] field holds one whose template
// has placeholders, reachable only through [Sub.At] (positional) or
// [Sub.With] (named), so forgetting a parameter does not compile. Keys
// whose own names have placeholders are declared as [ParamKey].
//
// [New] checks the whole declaration and compiles it once; a mistake is a
// *[SchemaError] naming the Go type and field. Building a handle later, such
// as root.User.At(42).Age, costs a few small allocations and no reflection.
// Handles are immutable values, safe to share between goroutines.
//
// # Parameters
//
// Parameter values may be integers, strings, [fmt.Stringer] or
// [encoding.TextMarshaler] values. A value that is empty or contains ':',
// a glob character (* ? [ ] \), a brace, whitespace, a control character or
// invalid UTF-8 is refused with [ErrInvalidParam], so user input can never
// widen a SCAN, collide with a sibling key or move a key to another Redis
// Cluster slot. A namespace type may check more by implementing
// [ParamValidator]. The wrong number of values is [ErrMissingParam] (too
// few) or ErrInvalidParam (too many). A refused handle does not panic:
// every operation on it returns the error without contacting Redis.
//
// # TTLs
//
// A key's effective TTL is its own `ttl` tag, else the nearest enclosing
// namespace's, else none; `ttl:"none"` opts a key out of an inherited TTL.
// Writes apply it in the same command (SET ... EX/PX), never as a separate
// EXPIRE that could leave an immortal key. [KeepTTL] and [WithTTL] adjust a
// single write. A TTL declared with ",sliding" is renewed by every read
// (GETEX). [Key.EffectiveTTL] tells the TTL without Redis; [Key.TTL] tells
// the time left.
//
// # Values
//
// Strings and []byte are stored raw; integers, floats and bools as decimal
// text; time.Time as RFC 3339 with nanoseconds; types with MarshalText or
// MarshalBinary through those; everything else as JSON, or with another
// [Codec] ([MsgPack] ships built in) chosen per key or per schema. A stored
// value that does not decode is a *[DecodeError] naming the key and keeping
// the raw bytes; never a panic, never a silent zero value. That holds for
// hostile values too: a value larger than [Options.MaxValueSize] is not
// decoded, and the built-in codecs bound nesting and declared lengths (see
// [Codec]).
//
// # Subtrees
//
// [Namespace.Keys], [Namespace.Count] and [Namespace.Clear] work on a
// namespace's subtree: its prefix key and everything under prefix + ":",
// found with SCAN and a glob-escaped pattern, so clearing user 1 never
// touches user 12. Clear pipelines each SCAN with UNLINKs of the previous
// batch, in chunks of [Options.DeleteChunkSize].
//
// # Redis Cluster
//
// The same schema runs on a *redis.ClusterClient. Keys, Count and Clear
// then scan every master and Clear groups deletions by hash slot. A
// namespace declared with `slot:"pin"` renders its resolved segment as a
// hash tag ("root:{user:42}:age"), so its whole subtree shares one slot:
// subtree operations go to the one master owning it, and multi-key
// operations inside it work. Outside a pinned subtree, a multi-key
// operation across slots fails with [ErrCrossSlot] instead of being split.
//
// # Passwords and secrets
//
// A [Password] key stores an argon2id hash in PHC string format (OWASP's
// minimum parameters by default, see [PasswordParams]); [Password.Verify]
// compares in constant time, tells a mismatch from a missing password, and
// upgrades hashes made with weaker parameters. It has no Get: only the
// explicit [Password.Hash] reads the stored string.
//
// A [Secret] key encrypts any value a [Key] could hold with AES-256-GCM, a
// random nonce per write and the full key name as associated data, so a
// ciphertext copied to another key fails to open ([ErrDecrypt]). The
// keyring ([Options.SecretKeys], or the file named by NEST_SECRET_KEYS_FILE,
// or NEST_SECRET_KEYS; see [ParseSecretKeys]) holds 32-byte keys with IDs:
// the first seals, all open, and [Namespace.Reencrypt] moves old values to
// the current key. A schema with Secret keys and no usable keyring fails
// in [New].
//
// This protects against Redis dumps, replicas, backups and a curious
// operator with redis-cli; not against a compromised application host,
// which holds the keys. Dispatch logs, errors and printed handles never
// contain passwords, hashes, plaintext, ciphertext or keys.
//
// # Pipelines and transactions
//
// [Namespace.Pipeline] and [Namespace.TxPipeline] (MULTI/EXEC) return a
// [Pipe]. A key's [Key.In] (or [Secret.In]) queues its operations on it,
// each returning a typed [Future] that [Pipe.Exec] resolves in one round
// trip. Queued operations keep codecs, defaults, TTLs and encryption. An
// operation that cannot be queued (an unusable handle, a value that does
// not encode, a transaction crossing Redis Cluster slots) fails the Pipe
// before anything is sent: Exec then sends nothing and returns that error.
//
// # Errors
//
// Errors wrap the sentinels [ErrNotFound], [ErrInvalidParam],
// [ErrMissingParam], [ErrDecode], [ErrEncode], [ErrTooLarge], [ErrSchema],
// [ErrConflict], [ErrCrossSlot], [ErrNotBound], [ErrDecrypt], [ErrSecretKeys],
// [ErrInvalidPassword], [ErrNotExecuted] and [ErrPipeDone],
// or a go-redis or context error, with the command and the full key name;
// test them with [errors.Is]. redis.Nil never reaches callers.
//
// # Configuration
//
// [ClientFromEnv] builds a client from REDIS_URL (redis:// or rediss://),
// or REDIS_HOST, REDIS_PORT, REDIS_USERNAME, REDIS_PASSWORD and REDIS_DB.
// [Options] holds the schema-wide settings; REDIS_DELETE_CHUNK_SIZE,
// SHOW_METHOD_DISPATCH_LOGS (a record per command through slog.Default at
// info level, never values),
// NEST_SECRET_KEYS_FILE and NEST_SECRET_KEYS set their defaults.
package nest
