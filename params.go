package nest

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/redisimnest/nest/internal/tmpl"
)

// Params names parameter values for the named forms [Sub.With] and
// [ParamKey.With].
type Params map[string]any

// ParamValidator is implemented by namespace types that check their own
// parameter values beyond the built-in rules. ValidateParams receives the
// formatted values by placeholder name; an error it returns is wrapped with
// [ErrInvalidParam] and the namespace's field path. It is called on the zero
// value of the type, so it must not rely on the receiver's fields.
type ParamValidator interface {
	ValidateParams(params map[string]string) error
}

// appendParam appends the text form of a parameter value to buf.
//
// Strings are used as they are; integers in decimal; otherwise
// [encoding.TextMarshaler] is preferred over [fmt.Stringer]; named string
// and integer types without those methods use their underlying value.
// Other types (floats, bools, slices, nil, ...) are refused: their text
// form is ambiguous or unstable.
func appendParam(buf []byte, v any) ([]byte, string) {
	switch x := v.(type) {
	case string:
		return append(buf, x...), ""
	case int:
		return strconv.AppendInt(buf, int64(x), 10), ""
	case int64:
		return strconv.AppendInt(buf, x, 10), ""
	case int32:
		return strconv.AppendInt(buf, int64(x), 10), ""
	case int16:
		return strconv.AppendInt(buf, int64(x), 10), ""
	case int8:
		return strconv.AppendInt(buf, int64(x), 10), ""
	case uint:
		return strconv.AppendUint(buf, uint64(x), 10), ""
	case uint64:
		return strconv.AppendUint(buf, x, 10), ""
	case uint32:
		return strconv.AppendUint(buf, uint64(x), 10), ""
	case uint16:
		return strconv.AppendUint(buf, uint64(x), 10), ""
	case uint8:
		return strconv.AppendUint(buf, uint64(x), 10), ""
	case nil:
		return buf, "is nil"
	case encoding.TextMarshaler:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return buf, "is a nil pointer"
		}
		b, err := x.MarshalText()
		if err != nil {
			return buf, "cannot be formatted: " + err.Error()
		}
		return append(buf, b...), ""
	case fmt.Stringer:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return buf, "is a nil pointer"
		}
		return append(buf, x.String()...), ""
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return append(buf, rv.String()...), ""
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(buf, rv.Int(), 10), ""
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.AppendUint(buf, rv.Uint(), 10), ""
	}
	return buf, fmt.Sprintf("has unsupported type %T (use an integer, a string, a fmt.Stringer or an encoding.TextMarshaler)", v)
}

// checkParam reports why a formatted parameter value is unsafe, or "".
// Refused: empty values; the separator ':'; the glob characters * ? [ ] \
// (they would widen a SCAN); braces (a hash tag would move the key to
// another Redis Cluster slot); whitespace, control characters and invalid
// UTF-8.
func checkParam(s []byte) string {
	if len(s) == 0 {
		return "is empty"
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return "is not valid UTF-8"
		case r == ':':
			return "contains the separator ':'"
		case r == '*' || r == '?' || r == '[' || r == ']' || r == '\\':
			return fmt.Sprintf("contains the glob character %q", r)
		case r == '{' || r == '}':
			return fmt.Sprintf("contains the hash-tag brace %q", r)
		case unicode.IsSpace(r):
			return "contains whitespace"
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return fmt.Sprintf("contains the control or format character %U", r)
		}
		i += size
	}
	return ""
}

// appendRendered appends ':' and t rendered with args (one per
// placeholder, in template order) to dst, which holds the parent's name;
// wrapped in braces as a hash tag when pinned. A wrong count or an unsafe
// value is a *ParamError naming the template and the Go field path.
func appendRendered(dst []byte, t *tmpl.Template, path string, args []any, pinned bool) ([]byte, error) {
	names := t.Params()
	if len(args) != len(names) {
		kind := ErrMissingParam
		if len(args) > len(names) {
			kind = ErrInvalidParam
		}
		return dst, &ParamError{Template: t.String(), Field: path, Kind: kind,
			Reason: fmt.Sprintf("got %d parameter values, want %d %v", len(args), len(names), names)}
	}
	dst = append(dst, ':')
	if pinned {
		dst = append(dst, '{')
	}
	dst, err := t.AppendFunc(dst, func(buf []byte, i int) ([]byte, error) {
		start := len(buf)
		buf, why := appendParam(buf, args[i])
		if why == "" {
			why = checkParam(buf[start:])
		}
		if why == "" {
			return buf, nil
		}
		val := string(buf[start:])
		if val == "" {
			val = fmt.Sprint(args[i])
		}
		return buf, &ParamError{Template: t.String(), Field: path, Param: names[i],
			Value: val, Reason: why, Kind: ErrInvalidParam}
	})
	if pinned {
		dst = append(dst, '}')
	}
	return dst, err
}
