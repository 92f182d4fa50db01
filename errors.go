package nest

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Errors returned by this package wrap one of them (or a
// go-redis or context error) together with the key or field concerned; test
// for them with [errors.Is]. An error of an operation on a key or subtree
// is an *[OpError] naming the command and the key.
//
// A multi-key operation on Redis Cluster (or a Ring) whose keys live in
// different hash slots (or shards) fails before anything is sent with an
// error matching go-redis's [redis.ErrCrossSlot]; pin the keys' common
// namespace (`slot:"pin"`) so that its subtree shares one slot.
var (
	// ErrNotFound: the key does not exist (for Get-style reads: and
	// declares no default).
	ErrNotFound = errors.New("nest: not found")
	// ErrInvalidParam: a parameter value is empty, contains a character
	// that could widen a SCAN pattern, collide with a sibling key or move a
	// key to another hash slot, has an unsupported type, was rejected by the
	// namespace's ValidateParams, or is one too many.
	ErrInvalidParam = errors.New("nest: invalid parameter")
	// ErrMissingParam: a parameterised namespace or key was given fewer
	// parameters than its template names.
	ErrMissingParam = errors.New("nest: missing parameter")
	// ErrDecode: a stored value does not decode into the key's type. The
	// error is a *[DecodeError] that keeps the raw bytes, except for
	// [Secret] and [Password] keys, whose errors withhold the value.
	ErrDecode = errors.New("nest: cannot decode value")
	// ErrEncode: a value could not be encoded with the key's codec.
	ErrEncode = errors.New("nest: cannot encode value")
	// ErrTooLarge: a value's stored form exceeds [Options.MaxValueSize].
	// Writes refuse it with [ErrEncode] and send nothing; reads return a
	// *[DecodeError] without decoding it. Both errors also match
	// ErrTooLarge, except for [Secret] keys, whose errors withhold the
	// cause.
	ErrTooLarge = errors.New("nest: value too large")
	// ErrSchema: the schema declaration is invalid; returned by [New] as
	// one or more *[SchemaError] values (joined with [errors.Join]).
	ErrSchema = errors.New("nest: invalid schema")
	// ErrConfig: a configuration mistake rather than a declaration one: a
	// nil go-redis client, an invalid [Options] field, a malformed
	// environment variable read by [OptionsFromEnv] or
	// [RedisOptionsFromEnv], or a missing or malformed keyring for
	// [Secret] keys (see [ParseSecretKeys]). Messages name the setting,
	// never key material or passwords.
	ErrConfig = errors.New("nest: invalid configuration")
	// ErrInvalidTTL: Expire was given a duration under a millisecond (zero
	// or negative included), or ExpireAt the zero time, which Redis would
	// take as "delete the key now". Nothing was sent.
	ErrInvalidTTL = errors.New("nest: invalid TTL")
	// ErrConflict: [Key.Update] gave up after its retries because other
	// clients kept changing the key.
	ErrConflict = errors.New("nest: optimistic update conflict")
	// ErrShardDown: a subtree operation on a go-redis Ring found a
	// configured shard marked down by the Ring's heartbeat, so it could not
	// reach every key; it sent nothing. (On Redis Cluster an unreachable
	// master fails the operation with its own error, naming the node.)
	ErrShardDown = errors.New("nest: shard down")
	// ErrNotBound: the handle was not built by [New] (for example a
	// zero-value Key), so it knows no client and no name.
	ErrNotBound = errors.New("nest: handle not bound to a schema (build it with nest.New)")
	// ErrDecrypt: a value stored under a [Secret] key does not open: it was
	// tampered with, truncated, copied from another key (the full key name
	// is authenticated), is not a sealed secret at all, or was sealed with a
	// key ID that is not in the keyring (the message then names the ID).
	ErrDecrypt = errors.New("nest: cannot decrypt secret")
	// ErrInvalidPassword: [Password.Set] refused the password: it is empty,
	// longer than [MaxPasswordLen] bytes, or not valid UTF-8. A wrong
	// password is not an error: [Password.Verify] reports it as false.
	ErrInvalidPassword = errors.New("nest: invalid password")
	// ErrWrongType: the key holds another Redis type than its declaration
	// (a list where a hash is declared); Redis's WRONGTYPE reply,
	// translated. The error is a *[WrongTypeError] naming both types.
	// Nothing was changed.
	ErrWrongType = errors.New("nest: wrong Redis type")
	// ErrNotExecuted: [Future.Result] was called before [Pipe.Exec].
	ErrNotExecuted = errors.New("nest: pipeline not executed yet")
	// ErrPipeDone: [Pipe.Exec] was called a second time, or an operation
	// was queued on a Pipe after its Exec. A Pipe executes once.
	ErrPipeDone = errors.New("nest: pipeline already executed")
	// ErrInvalidArg: an argument of an operation is out of its domain (a
	// NaN score, a negative count, flags that exclude each other, a
	// transaction watching no key). The error names the key and the
	// argument; nothing was sent.
	ErrInvalidArg = errors.New("nest: invalid argument")
	// ErrOutOfRange: [List.Set] was given an index outside the list.
	// Nothing was changed.
	ErrOutOfRange = errors.New("nest: index out of range")
)

// DecodeError reports a stored value that does not decode into the key's
// type. Raw holds the bytes as stored, so nothing is lost.
type DecodeError struct {
	Key   string // full Redis key name
	Type  string // the Go type the value was decoded into
	Codec string // codec name
	Raw   []byte // the stored bytes
	Elem  string // where in a collection: `field "name"`, "index 3", "member 2"; "" for a whole value
	Err   error  // the codec's error
}

// Error describes the value without naming the key: operations return a
// DecodeError inside an *[OpError], which names it.
func (e *DecodeError) Error() string {
	at := ""
	if e.Elem != "" {
		at = " at " + e.Elem
	}
	return fmt.Sprintf("nest: cannot decode %d bytes%s as %s (%s codec): %v",
		len(e.Raw), at, e.Type, e.Codec, e.Err)
}

// WrongTypeError reports a key that holds another Redis type than its
// declared kind stores. It matches [ErrWrongType]; operations return it
// inside an *[OpError], which names the key.
type WrongTypeError struct {
	Kind     string // declared kind: "hash", "list", "counter", ... ("string" for a Key)
	Declared string // Redis type the kind stores: "hash", "list", "string", ...
	Found    string // Redis type the key holds, when known ("" otherwise)
}

func (e *WrongTypeError) Error() string {
	msg := "nest: wrong Redis type: declared " + e.Kind
	if e.Kind != e.Declared {
		msg += " (a Redis " + e.Declared + ")"
	}
	if e.Found != "" {
		return msg + ", found a " + e.Found
	}
	return msg
}

// Is reports whether target is [ErrWrongType].
func (e *WrongTypeError) Is(target error) bool { return target == ErrWrongType }

// Is reports whether target is [ErrDecode].
func (e *DecodeError) Is(target error) bool { return target == ErrDecode }

// Unwrap returns the codec's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// ParamError reports a parameter value that was refused. It matches
// [ErrInvalidParam] or [ErrMissingParam] with [errors.Is].
type ParamError struct {
	Template string // the template the parameter belongs to
	Field    string // the Go field path of the namespace or key
	Param    string // placeholder name ("" when the count is wrong)
	Value    string // the offending value, quoted in messages
	Reason   string
	Kind     error // ErrInvalidParam or ErrMissingParam
}

func (e *ParamError) Error() string {
	if e.Param == "" {
		return fmt.Sprintf("%v for %s (%q): %s", e.Kind, e.Field, e.Template, e.Reason)
	}
	if e.Kind == ErrMissingParam { // there is no value to show
		return fmt.Sprintf("%v {%s} of %s (%q): %s", e.Kind, e.Param, e.Field, e.Template, e.Reason)
	}
	return fmt.Sprintf("%v {%s} of %s (%q): value %q %s", e.Kind, e.Param, e.Field, e.Template, e.Value, e.Reason)
}

// Is reports whether target is the error's kind.
func (e *ParamError) Is(target error) bool { return target == e.Kind }

// SchemaError reports a mistake in a schema declaration, naming the Go type
// and field. It matches [ErrSchema] with [errors.Is].
type SchemaError struct {
	Type  string // Go type that declares the field
	Field string // field name ("" for the type itself)
	Msg   string
	Err   error // underlying cause, when there is one (such as [ErrConfig])
}

func (e *SchemaError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("nest: schema: %s: %s", e.Type, e.Msg)
	}
	return fmt.Sprintf("nest: schema: %s.%s: %s", e.Type, e.Field, e.Msg)
}

// Is reports whether target is [ErrSchema].
func (e *SchemaError) Is(target error) bool { return target == ErrSchema }

// Unwrap returns the underlying cause, if any.
func (e *SchemaError) Unwrap() error { return e.Err }

// OpError reports a failed operation on a key or a subtree, like
// [os.PathError] and [net.OpError]: the command, the full key name (or
// subtree prefix) and the cause, which is a sentinel of this package, a
// go-redis error or a context error. Its message reads
// "nest: GET root:user:1:age: not found".
type OpError struct {
	Op  string // command or operation: "GET", "SET NX", "CLEAR", "MULTI/EXEC", ...
	Key string // full Redis key name, or the prefix of a subtree
	Err error  // the cause
}

func (e *OpError) Error() string {
	return "nest: " + e.Op + " " + e.Key + ": " + strings.TrimPrefix(e.Err.Error(), "nest: ")
}

// Unwrap returns the cause.
func (e *OpError) Unwrap() error { return e.Err }

// opError wraps err with the command and key it came from.
func opError(cmd, key string, err error) error {
	return &OpError{Op: cmd, Key: key, Err: err}
}
