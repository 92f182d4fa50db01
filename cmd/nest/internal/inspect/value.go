package inspect

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/redisimnest/nest/internal/msgpackguard"
)

// ErrSensitive is returned by [ReadValue] for the keys whose values are
// never shown, decoded or raw: secrets and password hashes.
var ErrSensitive = errors.New("the value of a secret or password key is never shown")

// ErrNotDeclared is returned by [ReadValue] for a name that is no
// instance of a declared key.
var ErrNotDeclared = errors.New("not an instance of a declared key")

// Sensitive reports whether k's values must never leave the server:
// Secret and Password keys, and any key stored with their codecs.
func (k *Key) Sensitive() bool {
	switch k.Kind {
	case "secret", "password":
		return true
	}
	switch k.Codec {
	case "fernet", "argon2id", "bcrypt":
		return true
	}
	return false
}

// Pattern returns the SCAN glob matching every instance of k.
func (k *Key) Pattern() string { return k.ns.pattern + ":" + k.own }

// KeyByTemplate returns the declared key whose full template is t, or nil.
func (m *Model) KeyByTemplate(t string) *Key {
	for _, k := range m.Keys() {
		if k.Template == t {
			return k
		}
	}
	return nil
}

// sensitiveName reports whether name could be an instance of any
// sensitive key, not only of the first key Match finds: should two
// templates overlap, the refusal wins.
func (m *Model) sensitiveName(name string) bool {
	for _, k := range m.Keys() {
		if k.Sensitive() && matchValid(k.Pattern(), name, m.MaxParamLen) {
			return true
		}
	}
	return false
}

// errEnough stops a walk once enough names were found.
var errEnough = errors.New("enough")

// SampleKeys returns at most limit names of instances of k, the first
// SCAN finds (every master is walked, until limit names are found),
// sorted.
func SampleKeys(ctx context.Context, rdb redis.UniversalClient, m *Model, k *Key, limit int) ([]string, error) {
	nodes, err := Nodes(ctx, rdb)
	if err != nil {
		return nil, err
	}
	var (
		mu    sync.Mutex
		names = []string{}
	)
	err = Walk(ctx, nodes, k.Pattern(), DefaultScanCount, func(_ context.Context, b Batch) error {
		mu.Lock()
		defer mu.Unlock()
		for _, name := range b.Names {
			if len(names) >= limit {
				return errEnough
			}
			if m.Match(name).Key == k {
				names = append(names, name)
			}
		}
		if len(names) >= limit {
			return errEnough
		}
		return nil
	})
	if errors.Is(err, errEnough) {
		err = nil
	}
	slices.Sort(names)
	return names, err
}

// Value is a key's stored value decoded for display: [ReadValue].
type Value struct {
	Key       string `json:"key"`
	Template  string `json:"template"`
	Field     string `json:"field"`
	GoType    string `json:"go_type"`
	Codec     string `json:"codec"`
	RedisType string `json:"redis_type"` // as TYPE reports it
	TTLMS     int64  `json:"ttl_ms"`     // -1: none
	// Value is the decoded value: a JSON value for the built-in codecs, a
	// string for text, {"base64": ...} for other bytes; collections give
	// an object (hash), an array (list, set) or pairs (sorted set) of at
	// most ValueLimit elements.
	Value     any    `json:"value"`
	Truncated bool   `json:"truncated,omitempty"`
	Note      string `json:"note,omitempty"` // why a value is shown raw
}

// ValueLimit is the number of elements of a collection ReadValue returns.
const ValueLimit = 200

// ReadValue reads and decodes the value of name, which must be an
// instance of a declared key that is not [Key.Sensitive]: the refusal
// comes before any read, so a secret's bytes never leave Redis.
func ReadValue(ctx context.Context, rdb redis.UniversalClient, m *Model, name string) (*Value, error) {
	k := m.Match(name).Key
	if k == nil {
		return nil, ErrNotDeclared
	}
	if k.Sensitive() || m.sensitiveName(name) {
		return nil, ErrSensitive
	}
	v := &Value{Key: name, Template: k.Template, Field: k.Field, GoType: k.GoType, Codec: k.Codec}
	typ, err := rdb.Type(ctx, name).Result()
	if err != nil {
		return nil, err
	}
	v.RedisType = typ
	v.TTLMS = pttlMS(rdb.PTTL(ctx, name))
	dec := func(s string) any { return decode(k, s, v) }
	switch typ {
	case "none":
		return nil, redis.Nil
	case "string":
		s, err := rdb.Get(ctx, name).Result()
		if err != nil {
			return nil, err
		}
		v.Value = dec(s)
	case "hash":
		out := map[string]any{}
		var cursor uint64
		for {
			kv, next, err := rdb.HScan(ctx, name, cursor, "*", 100).Result()
			if err != nil {
				return nil, err
			}
			for i := 0; i+1 < len(kv); i += 2 {
				out[kv[i]] = dec(kv[i+1])
			}
			if next == 0 || len(out) >= ValueLimit {
				v.Truncated = next != 0
				break
			}
			cursor = next
		}
		v.Value = out
	case "list":
		els, err := rdb.LRange(ctx, name, 0, ValueLimit-1).Result()
		if err != nil {
			return nil, err
		}
		n, _ := rdb.LLen(ctx, name).Result()
		v.Truncated = n > int64(len(els))
		out := make([]any, len(els))
		for i, s := range els {
			out[i] = dec(s)
		}
		v.Value = out
	case "set":
		els, next, err := rdb.SScan(ctx, name, 0, "*", ValueLimit).Result()
		if err != nil {
			return nil, err
		}
		v.Truncated = next != 0
		out := make([]any, len(els))
		for i, s := range els {
			out[i] = dec(s)
		}
		v.Value = out
	case "zset":
		zs, err := rdb.ZRangeWithScores(ctx, name, 0, ValueLimit-1).Result()
		if err != nil {
			return nil, err
		}
		n, _ := rdb.ZCard(ctx, name).Result()
		v.Truncated = n > int64(len(zs))
		out := make([]any, len(zs))
		for i, z := range zs {
			s, _ := z.Member.(string)
			out[i] = map[string]any{"member": dec(s), "score": z.Score}
		}
		v.Value = out
	default:
		v.Note = "a " + typ + " is not shown"
	}
	return v, nil
}

// decode turns one stored string into a JSON-friendly value with k's
// codec; what does not decode is shown as text (or base64) with a note.
func decode(k *Key, s string, v *Value) any {
	raw := func(why string) any {
		if v.Note == "" && why != "" {
			v.Note = why
		}
		if utf8.ValidString(s) {
			return s
		}
		return map[string]string{"base64": base64.StdEncoding.EncodeToString([]byte(s))}
	}
	switch k.Codec {
	case "json":
		if json.Valid([]byte(s)) {
			return json.RawMessage(s)
		}
		return raw("not valid JSON: shown as stored")
	case "int", "uint", "float":
		if f, err := strconv.ParseFloat(s, 64); err == nil && !isInfNaN(f) {
			return json.Number(s)
		}
		return raw("not a number: shown as stored")
	case "bool":
		if b, err := strconv.ParseBool(s); err == nil {
			return b
		}
		return raw("not a bool: shown as stored")
	case "msgpack":
		if _, err := msgpackguard.Check([]byte(s), 10000); err != nil {
			return raw("not valid msgpack: shown as stored")
		}
		var x any
		if err := msgpack.Unmarshal([]byte(s), &x); err != nil {
			return raw("not valid msgpack: shown as stored")
		}
		if b, err := json.Marshal(x); err == nil {
			return json.RawMessage(b)
		}
		return fmt.Sprint(x)
	case "string", "token", "time", "bytes":
		return raw("")
	}
	return raw("codec " + k.Codec + ": shown as stored")
}

func isInfNaN(f float64) bool { return f != f || f > 1e308 || f < -1e308 }
