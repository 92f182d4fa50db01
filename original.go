package nest

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/redisimnest/nest/internal/envelope"
	"github.com/redisimnest/nest/internal/original"
)

// Running beside the original Python package (redisimnest 0.10.0), on one
// Redis: its value envelope as a codec, its Fernet secrets and its bcrypt
// passwords. See the README section "Running beside the Python original".

// originalCodecName is the codec of `codec:"redisimnest"` tags: on a Key
// the original's JSON envelope, on a Secret its Fernet token, on a
// Password its bcrypt hash.
const originalCodecName = "redisimnest"

// OriginalOptions configure running beside the original Python package,
// redisimnest, which shares the keyspace. Its format is chosen per key with
// a `codec:"redisimnest"` tag, or for every key of a kind with Values,
// Secrets and Passwords (a key's own codec tag wins).
//
// The original stores every value as JSON text, as Python's json.dumps
// writes it, in an envelope naming the Python type:
//
//	{"__type__": "int", "value": 42}
//	{"__type__": "str", "value": "h\u00e9llo"}
//	{"__type__": "datetime", "value": "2025-05-07T10:21:44.798000"}
//	{"__type__": "none", "value": "None"}
//
// The codec reads every value the original writes into the matching Go
// type and writes Go values as the original writes the matching Python
// value, byte for byte where Go can express it: bool as bool; integers and
// big.Int as int (a stored int beyond the Go type's range, such as 2⁶⁴+1
// read into an int64, is a *[DecodeError], never a wrapped value); floats
// as float, with Python's repr (1.0, 1e-05, NaN, Infinity); strings and
// encoding.TextMarshalers as str (a []byte as the str of its bytes, which
// must be UTF-8 text); time.Time as datetime (microseconds, as Python's
// datetime; see NaiveLocation); a [16]byte type named UUID (such as
// github.com/google/uuid.UUID) as uuid; slices and arrays as list; maps
// and structs (their fields as encoding/json sees them) as dict, with
// datetimes and UUIDs inside them in their own envelopes; nil pointers,
// slices and maps as None. A stored None reads into pointers, slices, maps
// and interfaces only. A tuple reads as a list; a uuid also reads into a
// string. Into an empty interface, an int reads as an int64 (a *big.Int
// beyond its range) and a float as a float64, so that writing the value
// back keeps its Python type. A stored value without the envelope — bare
// text, a number, JSON without __type__, an unknown __type__, a value that
// does not match its __type__ — is a *[DecodeError]. The codec applies to
// every value type, strings and numbers included; a `default` tag is read
// as on a key without a codec tag (the stored form of strings, numbers,
// bools and times; JSON otherwise).
type OriginalOptions struct {
	// Values stores the values of every Key (and ParamKey) of the schema,
	// and the elements of its collections (Hash values, List, Set and
	// SortedSet members), in the original's envelope, as if each had
	// `codec:"redisimnest"`. Counters stay decimal text (INCRBY), and a
	// Struct's fields follow their own codec tags.
	Values bool

	// Secrets makes every [Secret] of the schema a secret in the
	// original's format, as if each had `codec:"redisimnest"`: a Fernet
	// token of the value's text under EncryptionKey, in a str envelope. It
	// is weaker than nest's own format: a token is not bound to its key
	// name, so a value copied from one key to another opens there, and
	// there are no key IDs for rotation. Such a Secret holds text
	// (Secret[string] or Secret[[]byte]), as the original encrypts str
	// values. See [Namespace.Reencrypt] for the migration to nest's format.
	Secrets bool

	// Passwords makes every [Password] of the schema a password in the
	// original's format, as if each had `codec:"redisimnest"`: Set writes
	// a bcrypt hash (cost BcryptCost) in a str envelope, and Verify keeps
	// such hashes (rewriting argon2id ones as bcrypt after a match) so
	// that the original can still verify them. Without it, Verify still
	// accepts the original's bcrypt hashes, and replaces them with
	// argon2id after a match.
	Passwords bool

	// EncryptionKey is the original's MY_ENCRYPTION_KEY: a Fernet key, 32
	// bytes in URL-safe base64 (Fernet.generate_key()). Secrets in the
	// original's format need it. While it is set, Secrets in nest's format
	// also open the original's values (a migration in progress, see
	// [Namespace.Reencrypt]) — and so share the original's weakness: a
	// Fernet token copied onto such a key opens there. Remove it once
	// Reencrypt has rewritten them.
	// default: none ([OptionsFromEnv]: $MY_ENCRYPTION_KEY)
	EncryptionKey FernetKey

	// NaiveLocation is the location of datetimes stored without a UTC
	// offset, which the original writes for naive Python datetimes
	// (datetime.now(), datetime.utcnow()): they are read as wall-clock
	// times there. Set it to the zone your Python services' naive
	// datetimes are in (time.Local if that is this machine's).
	// default: time.UTC
	NaiveLocation *time.Location

	// WriteAware writes time.Time values with their UTC offset
	// ("2025-05-07T10:21:44+02:00"), as isoformat() writes timezone-aware
	// Python datetimes. By default they are written naive, converted to
	// NaiveLocation ("2025-05-07T08:21:44" for UTC), as the original
	// writes datetime.now(): Python cannot compare naive and aware
	// datetimes, so write what your Python code stores.
	// default: false (naive)
	WriteAware bool

	// BcryptCost is the cost of the bcrypt hashes Passwords in the
	// original's format write (and, below it, rewrite after a match), from
	// 4 to 31. Verify refuses stored hashes costing more than 4 times
	// max(BcryptCost, 12), that is a cost above max(BcryptCost, 12)+2, as
	// a planted hash must not tie up the hashing slots.
	// default: 12, as the original
	BcryptCost int
}

// FernetKey is the original's Fernet key (MY_ENCRYPTION_KEY) in its base64
// text form. It never prints: String, GoString, Format, LogValue and
// MarshalJSON show "[redacted]".
type FernetKey string

// String returns a redaction marker, never the key.
func (FernetKey) String() string { return "nest.FernetKey([redacted])" }

// GoString is [FernetKey.String], for %#v.
func (k FernetKey) GoString() string { return k.String() }

// Format writes [FernetKey.String] for every verb.
func (k FernetKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// MarshalJSON writes a redaction marker.
func (FernetKey) MarshalJSON() ([]byte, error) { return json.Marshal("[redacted]") }

// LogValue implements [slog.LogValuer]: a redaction marker.
func (FernetKey) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// originalCodec is the codec named "redisimnest": the original's envelope
// (internal/envelope) with the schema's rule for naive datetimes. It is an
// ordinary [Codec], so that anything holding values (collections, per
// element) can use it.
type originalCodec struct{ cfg envelope.Config }

func (*originalCodec) Name() string { return originalCodecName }

func (c *originalCodec) Marshal(v any) ([]byte, error) { return envelope.Marshal(v, c.cfg) }

func (c *originalCodec) Unmarshal(data []byte, v any) error {
	return envelope.Unmarshal(data, v, c.cfg)
}

// defaultBcryptCost is the original's bcrypt cost.
const defaultBcryptCost = 12

// origConfig is a schema's [OriginalOptions], resolved by newClient.
type origConfig struct {
	opts       OriginalOptions
	codec      *originalCodec
	fernet     *original.Fernet // nil without EncryptionKey
	bcryptCost int
}

// resolve checks o, fills in the defaults and registers the codec; it
// returns the configuration mistakes, matching ErrConfig.
func (oc *origConfig) resolve(o OriginalOptions, codecs map[string]Codec) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: Options.Original."+format, append([]any{ErrConfig}, args...)...))
	}
	oc.opts = o
	if oc.opts.NaiveLocation == nil {
		oc.opts.NaiveLocation = time.UTC
	}
	oc.codec = &originalCodec{cfg: envelope.Config{Naive: oc.opts.NaiveLocation, Aware: o.WriteAware}}
	if _, taken := codecs[originalCodecName]; taken {
		errs = append(errs, fmt.Errorf("%w: Options.Codecs[%q]: the name is the original package's codec (configure it with Options.Original)", ErrConfig, originalCodecName))
	}
	codecs[originalCodecName] = oc.codec
	switch c := o.BcryptCost; {
	case c == 0:
		oc.bcryptCost = defaultBcryptCost
	case c < 4 || c > 31:
		bad("BcryptCost is %d: want 4 to 31, or 0 for the default (%d)", c, defaultBcryptCost)
		oc.bcryptCost = defaultBcryptCost
	default:
		oc.bcryptCost = c
	}
	if o.EncryptionKey != "" {
		f, err := original.ParseFernetKey(string(o.EncryptionKey))
		if err != nil {
			bad("EncryptionKey (the original's MY_ENCRYPTION_KEY): %v", err)
		}
		oc.fernet = f
	}
	return errs
}

// wants reports whether a key with the codec tag explicit (nil: none) is
// in the original's format, schemaWide being the OriginalOptions switch of
// its kind.
func (oc *origConfig) wants(explicit Codec, schemaWide bool) bool {
	return explicit == Codec(oc.codec) || explicit == nil && schemaWide
}

// valuesCodec returns the codec of a value key (Key, ParamKey, and the
// members of collections) whose tag names explicit (nil: none): explicit,
// else the original's codec when Options.Original.Values is set, else nil
// (the native forms and the schema's codec).
func (c *client) valuesCodec(explicit Codec) Codec {
	if explicit == nil && c.orig.opts.Values {
		return c.orig.codec
	}
	return explicit
}

// fernetMissing is the configuration mistake of a schema declaring Secrets
// in the original's format without its key; nil when the key is set or
// was given malformed (newClient reports that).
func (oc *origConfig) fernetMissing() error {
	if oc.fernet != nil || oc.opts.EncryptionKey != "" {
		return nil
	}
	return fmt.Errorf("%w: the schema declares Secret keys in the original's format (codec %q) but Options.Original.EncryptionKey is empty; "+
		"set it to the original's MY_ENCRYPTION_KEY (nest.OptionsFromEnv reads that variable)", ErrConfig, originalCodecName)
}
