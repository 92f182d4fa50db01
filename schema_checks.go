package nest

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/redisimnest/nest/internal/encodable"
	"github.com/redisimnest/nest/internal/suggest"
)

// The tag keys New reads on each kind of schema field. Every other key is
// refused: a misspelt `tll:"5s"` would otherwise leave keys immortal.
var (
	keyTagKeys       = []string{"nest", "ttl", "default", "codec", "index"} // Key, ParamKey, Secret, Password (index: ParamKey only)
	namespaceTagKeys = []string{"nest", "ttl", "slot"}                      // embedded Namespace, child namespace and Sub fields
	subTagKeys       = []string{"nest", "ttl", "slot", "index"}             // Sub fields
)

// tagPair is one key:"value" pair of a struct tag.
type tagPair struct{ key, value string }

// parseTag splits a struct tag into its pairs with the grammar of
// [reflect.StructTag.Lookup], which silently ignores everything from the
// first syntax error on; parseTag reports it instead. Like go vet, it also
// wants pairs separated by spaces (`nest:"a",ttl:"5s"` would otherwise
// read as a key named ",ttl").
func parseTag(tag string) ([]tagPair, error) {
	var pairs []tagPair
	for {
		i := 0
		for i < len(tag) && tag[i] == ' ' {
			i++
		}
		if len(pairs) > 0 && i == 0 && tag != "" {
			return pairs, fmt.Errorf("no space before %q", tag)
		}
		tag = tag[i:]
		if tag == "" {
			return pairs, nil
		}
		i = 0
		for i < len(tag) && tag[i] > ' ' && tag[i] != ':' && tag[i] != '"' && tag[i] != 0x7f {
			i++
		}
		if i == 0 || i+1 >= len(tag) || tag[i] != ':' || tag[i+1] != '"' {
			return pairs, fmt.Errorf("%q is not key:\"value\"", tag)
		}
		key := tag[:i]
		tag = tag[i+1:]
		i = 1
		for i < len(tag) && tag[i] != '"' {
			if tag[i] == '\\' {
				i++
			}
			i++
		}
		if i >= len(tag) {
			return pairs, fmt.Errorf("the value of %s has no closing quote", key)
		}
		value, err := strconv.Unquote(tag[:i+1])
		if err != nil {
			return pairs, fmt.Errorf("the value of %s, %s, is not a valid Go string", key, tag[:i+1])
		}
		pairs = append(pairs, tagPair{key, value})
		tag = tag[i+1:]
	}
}

// checkTag reports what is wrong with the tag of a schema field on which
// New reads the keys known, calling bad once per mistake. where names the
// kind of field for messages ("a key field"). It returns false when the
// tag is malformed, so that its values cannot be trusted.
func checkTag(tag reflect.StructTag, known []string, where string, bad func(msg string)) bool {
	pairs, err := parseTag(string(tag))
	if err != nil {
		bad(fmt.Sprintf("malformed struct tag `%s`: %v", tag, err))
		return false
	}
	seen := make(map[string]bool, len(pairs))
	for _, p := range pairs {
		switch {
		case seen[p.key]:
			bad(fmt.Sprintf("tag key %s appears twice", p.key))
		case slices.Contains(known, p.key):
		default:
			bad(unknownTagKey(p.key, known, where))
		}
		seen[p.key] = true
	}
	return true
}

func unknownTagKey(key string, known []string, where string) string {
	msg := fmt.Sprintf("unknown tag key %q", key)
	if s := suggest.Closest(key, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	} else if other := otherKind(key, known); other != "" {
		msg += fmt.Sprintf(" (%s is read on %s only)", key, other)
	}
	return msg + fmt.Sprintf(": %s takes %s", where, strings.Join(known, ", "))
}

// otherKind names the kind of field that reads key, when it is a key of
// another kind of field than the one at hand.
func otherKind(key string, known []string) string {
	switch {
	case slices.Contains(namespaceTagKeys, key) && !slices.Contains(known, key):
		return "namespaces"
	case slices.Contains(keyTagKeys, key) && !slices.Contains(known, key):
		return "keys"
	}
	return ""
}

// checkEncodable refuses a value type that codec c cannot encode, so that
// New reports it instead of the first Set.
//
// For the built-in JSON, MsgPack and redisimnest codecs the type is checked
// by its structure, with each codec's own rules (redisimnest encodes what
// encoding/json encodes) (see internal/encodable): no
// channels, functions, complex numbers or unsafe pointers where the codec
// would look, and (JSON) map keys that are strings, integers or
// TextMarshalers. Each finding is confirmed by encoding a value that
// reaches it, so that whatever the codec manages at run time (a registered
// msgpack extension, say) is never refused. Any other codec is opaque: it
// must encode the type's zero value.
func checkEncodable(t reflect.Type, c Codec) error {
	var rules encodable.Rules
	switch c.(type) {
	case jsonCodec, *originalCodec: // the original's codec writes what encoding/json writes
		rules = encodable.JSON
	case msgpackCodec:
		rules = encodable.MsgPack
	default:
		if err := tryMarshal(c, reflect.New(t).Interface()); err != nil {
			return fmt.Errorf("the %s codec cannot encode the zero value of %s: %v (New checks that a custom codec encodes it)", c.Name(), t, err)
		}
		return nil
	}
	var found []string
	for _, p := range encodable.Check(t, rules) {
		if v, ok := p.Probe(t); ok && tryMarshal(c, v) == nil {
			continue // the codec manages after all
		}
		what := p.Why
		if what == "unsupported type" {
			what += " " + p.Type.String()
		}
		if p.Path != "" {
			what += " at " + p.Path
		}
		if strings.HasPrefix(p.Why, "unsupported map key") {
			what += " (use string, integer or encoding.TextMarshaler keys)"
		}
		if p.Field {
			what += " (tag the field `json:\"-\"` to leave it out)"
		}
		found = append(found, what)
	}
	if len(found) == 0 {
		return nil
	}
	return fmt.Errorf("the %s codec cannot encode %s: %s", c.Name(), t, strings.Join(found, "; "))
}

// tryMarshal encodes v with c, turning a panic into an error.
func tryMarshal(c Codec, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	_, err = c.Marshal(v)
	return err
}
