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
//	n, err := root.User.At(42).Clear(ctx)        // root:user:42, its declared keys and sub-namespaces, nothing else
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
// [New] checks the whole declaration and compiles it once, reporting every
// mistake at once, each a *[SchemaError] naming the Go type and field:
// among them tag keys it does not read (`tll:"5s"`: did you mean ttl?) and
// value types the key's codec cannot encode (Key[chan int]). Building a
// handle later, such as root.User.At(42).Age, costs a few small
// allocations and no reflection.
// Handles are immutable values, safe to share between goroutines.
//
// # Parameters
//
// Parameter values may be integers, strings, [fmt.Stringer] or
// [encoding.TextMarshaler] values. A value that is empty or contains ':',
// a glob character (* ? [ ] \), a brace, whitespace, a control character or
// invalid UTF-8 is refused with [ErrInvalidParam], so user input can never
// widen a SCAN, collide with a sibling key or move a key to another Redis
// Cluster slot. So is a value holding a code point that looks like one of
// those (fullwidth and small forms, U+2236 RATIO, U+2217 ASTERISK
// OPERATOR, ...), an invisible one (default-ignorable code points,
// variation selectors, U+2800), U+FFFD, a private-use code point or a
// noncharacter, or a value over [Options.MaxParamLen] bytes
// ([DefaultMaxParamLen], 256): distinct keys never look alike. A namespace type may check more by implementing
// [ParamValidator]. The wrong number of values is [ErrMissingParam] (too
// few) or ErrInvalidParam (too many), saying how many values the template
// needs and which; a name missing from [Sub.With] is ErrMissingParam,
// suggesting the name meant when an unknown one is close. A refused handle
// does not panic: every operation on it returns the error without
// contacting Redis.
//
// # TTLs
//
// A key's effective TTL is its own `ttl` tag, else the nearest enclosing
// namespace's, else none; `ttl:"none"` opts a key out of an inherited TTL.
// Writes apply it in the same command (SET ... EX/PX), never as a separate
// EXPIRE that could leave an immortal key (collections: in one script, see
// Collections). [KeepTTL] and [WithTTL] adjust a
// single write. A TTL declared with ",sliding" is renewed by every read
// (GETEX): Get, Lookup and a queued Get renew it; Raw, GetSet and GetDel
// do not. [Key.EffectiveTTL] tells the TTL without Redis; [Key.TTL] tells
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
// # Collections
//
// Every Redis data type is a key kind declared like [Key]: [Counter] and
// [FloatCounter], [Hash], [Struct], [List], [Set], [SortedSet] and
// [Lock]. Their names take no parameters (those come from an enclosing
// [Sub]); elements go through the key's codec. Every write that can create
// or grow one applies the effective TTL in the same atomic step (one Lua
// script with the command and PEXPIRE), so no key ever exists without its
// declared expiry. `ttl:"1m,fixed"` counts the TTL from the key's creation
// and never extends it (a fixed rate-limit window); by default writes
// refresh it. Removals leave it alone; reads of a ",sliding" key renew it
// in the same round trip. A key holding another Redis type is
// [ErrWrongType]; an element that does not decode is a *[DecodeError]
// whose Elem says where. Multi-key commands need one slot on Redis
// Cluster. [Namespace.Watch] runs optimistic transactions over several
// keys of any kind.
//
// # Subtrees
//
// [Namespace.Keys], [Namespace.Count] and [Namespace.Clear] work on what
// the schema declares under a namespace: its prefix key, its declared keys
// and plain child namespaces, by name and without SCAN, and below
// parameterised children ([Sub], [ParamKey]) every stored name that parses
// as an instance's key, found by one filtered SCAN; clearing user 1 never
// touches user 12. [WithUndeclared] adds every other key under
// prefix + ":". [Sub.Instances] and [ParamKey.Instances] list instances
// with their parameters parsed back.
//
// # Redis Cluster
//
// The same schema runs on a *redis.ClusterClient. Keys, Count and Clear
// then scan every master and Clear groups deletions by hash slot. A
// namespace declared with `slot:"pin"` renders its resolved segment as a
// hash tag ("root:{user:42}:age"), so its whole subtree shares one slot:
// subtree operations go to the one master owning it, and multi-key
// operations inside it work. Outside a pinned subtree, a multi-key
// operation across slots fails with an error matching go-redis's
// redis.ErrCrossSlot instead of being split. On a go-redis Ring, a subtree
// operation fails with [ErrShardDown] when a configured shard is down,
// rather than miss its keys.
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
// keyring ([Options.SecretKeys]; [OptionsFromEnv] reads it from the file
// named by NEST_SECRET_KEYS_FILE, or from NEST_SECRET_KEYS; see
// [ParseSecretKeys]) holds 32-byte keys with IDs:
// the first seals, all open, and [Namespace.Reencrypt] moves old values to
// the current key. A schema with Secret keys and no usable keyring fails
// in [New].
//
// This protects against Redis dumps, replicas, backups and a curious
// operator with redis-cli; not against a compromised application host,
// which holds the keys. Dispatch logs, errors and printed handles never
// contain passwords, hashes, plaintext, ciphertext or keys.
//
// # Running beside the Python original
//
// A Go service can share one Redis with services still on the original
// Python package, redisimnest, reading and writing its stored data: a
// `codec:"redisimnest"` tag on a key, or [OriginalOptions] in
// [Options].Original for the whole schema, stores values in the original's
// JSON envelope ({"__type__": "int", "value": 42}, byte for byte as
// Python's json.dumps writes it), secrets as its Fernet tokens (under its
// MY_ENCRYPTION_KEY, which [OptionsFromEnv] reads) and passwords as its
// bcrypt hashes. [Password.Verify] accepts the original's bcrypt hashes in
// any schema and replaces them with argon2id after a match, unless the
// schema keeps them for the original. A schema ported from the original
// names its keys as the original does for integer and string parameters.
// When the last Python reader is gone, drop the tags and options:
// [Namespace.Reencrypt] moves the original's secrets to nest's format in
// one call.
//
// # Pipelines and transactions
//
// [Namespace.Pipeline] and [Namespace.TxPipeline] (MULTI/EXEC) return a
// [Pipe]. A key's In method ([Key] and [Secret] alike) returns a [Queued]
// view that queues its operations,
// each returning a typed [Future] that [Pipe.Exec] resolves in one round
// trip. Queued operations keep codecs, defaults, TTLs and encryption. An
// operation that cannot be queued (an unusable handle, a value that does
// not encode, a transaction crossing Redis Cluster slots) fails the Pipe
// before anything is sent: Exec then sends nothing and returns that error.
//
// # Errors
//
// A failed operation on a key or subtree returns an *[OpError] (Op, Key,
// Err), like os.PathError: errors.As yields the command and the full key
// name, and the message reads "nest: GET root:user:1:age: not found". Its
// cause is one of the sentinels listed once in errors.go ([ErrNotFound],
// [ErrDecode], [ErrConfig], ...; test them with [errors.Is]), a go-redis
// error or a context error. redis.Nil never reaches callers. [New]
// reports declaration mistakes as *[SchemaError] values (matching
// [ErrSchema]) and configuration mistakes as [ErrConfig].
//
// # Configuration
//
// [New] reads only its [Options], never the environment, as go-redis
// constructors read only theirs. The environment variables of the
// original package are read on request:
//
//	rdb, err := nest.ClientFromEnv()   // REDIS_URL, or REDIS_HOST, REDIS_PORT, ...
//	opts, err := nest.OptionsFromEnv() // REDIS_DELETE_CHUNK_SIZE, SHOW_METHOD_DISPATCH_LOGS, NEST_SECRET_KEYS(_FILE), MY_ENCRYPTION_KEY
//	root, err := nest.New[Root](rdb, opts)
//
// [RedisOptionsFromEnv] (which [ClientFromEnv] uses) reads REDIS_URL
// (redis://, rediss:// for TLS, unix://), or REDIS_HOST, REDIS_PORT,
// REDIS_USERNAME, REDIS_PASSWORD (or REDIS_PASS) and REDIS_DB, into
// redis.UniversalOptions: several REDIS_HOST addresses, addr= parameters in
// the URL or REDIS_CLUSTER=1 make it a Redis Cluster. [OptionsFromEnv]
// reads the delete chunk size, dispatch logging (a text logger on standard
// error at debug level, method, key and TTL of every command, never
// values), the keyring of Secret keys and the original's Fernet key
// (MY_ENCRYPTION_KEY). Their errors match [ErrConfig],
// name the variable and never show a password or a key.
package nest
