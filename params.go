package nest

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/redisimnest/nest/internal/suggest"
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

// DefaultMaxParamLen is the longest formatted parameter value, in bytes,
// accepted unless [Options.MaxParamLen] says otherwise: room for an email
// address (254), a URL path or a SHA-512 in hex; hash longer input first.
const DefaultMaxParamLen = 256

// lookAlikes are code points that render like the separator, a glob
// character or a brace, so that a name holding one reads like another key
// or pattern in logs, redis-cli and tools.
var lookAlikes = map[rune]string{
	'\uFF1A': "':'", '\u2236': "':'", '\uA789': "':'", '\uFE13': "':'", '\uFE55': "':'", '\u0589': "':'", '\u05C3': "':'", '\u02D0': "':'", '\u1361': "':'",
	'\u2217': "'*'", '\uFF0A': "'*'", '\u204E': "'*'", '\uFE61': "'*'", '\u066D': "'*'", '\u2731': "'*'", '\u273D': "'*'",
	'\uFF1F': "'?'", '\uFE56': "'?'",
	'\uFF3B': "'['", '\uFF3D': "']'", '\uFE5D': "'['", '\uFE5E': "']'",
	'\uFF3C': `'\'`, '\u29F5': `'\'`, '\u2216': `'\'`, '\uFE68': `'\'`, '\u29F9': `'\'`,
	'\uFF5B': "'{'", '\uFF5D': "'}'", '\uFE5B': "'{'", '\uFE5C': "'}'", '\uFE37': "'{'", '\uFE38': "'}'",
}

// asciiSpecial marks the printable ASCII bytes checkParam refuses.
var asciiSpecial = [utf8.RuneSelf]bool{':': true, '*': true, '?': true, '[': true, ']': true, '\\': true, '{': true, '}': true}

// checkParam reports why a formatted parameter value is unsafe, or "".
// Refused:
//   - empty values, and values over max bytes;
//   - the separator ':', the glob characters * ? [ ] \ (they would widen a
//     SCAN) and braces (a hash tag would move the key to another Redis
//     Cluster slot), and the code points that look like them (fullwidth
//     and small forms, U+2236 RATIO, U+2217 ASTERISK OPERATOR, U+29F5
//     REVERSE SOLIDUS OPERATOR, ...);
//   - whitespace, control and format characters, invalid UTF-8;
//   - invisible code points (default-ignorable ones such as U+034F, U+115F
//     and U+3164, variation selectors, U+2800 BRAILLE PATTERN BLANK), the
//     replacement character U+FFFD, private-use code points and
//     noncharacters: they make distinct keys look identical.
func checkParam(s []byte, max int) string {
	if len(s) == 0 {
		return "is empty"
	}
	if len(s) > max {
		return fmt.Sprintf("is %d bytes long, more than the maximum of %d (Options.MaxParamLen)", len(s), max)
	}
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf && b > ' ' && b != 0x7f && !asciiSpecial[b] {
			i++ // the common case: a printable ASCII byte with no meaning here
			continue
		}
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
		case lookAlikes[r] != "":
			return fmt.Sprintf("contains %U, which looks like %s", r, lookAlikes[r])
		case unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) || unicode.Is(unicode.Variation_Selector, r) ||
			r == '\u2800' || r == utf8.RuneError:
			return fmt.Sprintf("contains the invisible or placeholder character %U", r)
		case unicode.Is(unicode.Co, r):
			return fmt.Sprintf("contains the private-use character %U", r)
		case unicode.Is(unicode.Noncharacter_Code_Point, r):
			return fmt.Sprintf("contains the noncharacter %U", r)
		}
		i += size
	}
	return ""
}

// quoteValue shortens a refused value for an error message.
func quoteValue(s string) string {
	const keep = 64
	if len(s) <= keep {
		return s
	}
	cut := keep
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:cut], len(s))
}

// appendRendered appends ':' and t rendered with args (one per
// placeholder, in template order) to dst, which holds the parent's name;
// wrapped in braces as a hash tag when pinned. A wrong count or an unsafe
// value is a *ParamError naming the template and the Go field path.
func appendRendered(dst []byte, t *tmpl.Template, path string, args []any, pinned bool, max int) ([]byte, error) {
	names := t.Params()
	if len(args) != len(names) {
		return dst, arityError(t, path, len(args))
	}
	dst = append(dst, ':')
	if pinned {
		dst = append(dst, '{')
	}
	dst, err := t.AppendFunc(dst, func(buf []byte, i int) ([]byte, error) {
		start := len(buf)
		buf, why := appendParam(buf, args[i])
		if why == "" {
			why = checkParam(buf[start:], max)
		}
		if why == "" {
			return buf, nil
		}
		val := quoteValue(string(buf[start:]))
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

// arityError reports got positional values for t's placeholders, saying
// how many the template needs, which, and what is missing or extra:
// "the template needs 2 values ({admin_id}, {region}), got 1: {region} is
// missing".
func arityError(t *tmpl.Template, path string, got int) error {
	names := t.Params()
	want := len(names)
	reason := fmt.Sprintf("the template needs %d %s (%s), got %d", want, plural(want, "value", "values"), placeholders(names), got)
	kind := ErrMissingParam
	if got < want {
		missing := names[got:]
		reason += fmt.Sprintf(": %s %s missing", placeholders(missing), plural(len(missing), "is", "are"))
	} else {
		kind = ErrInvalidParam
		reason += fmt.Sprintf(": %d too many", got-want)
	}
	return &ParamError{Template: t.String(), Field: path, Kind: kind, Reason: reason}
}

// orderParams turns named parameters into template order. A missing name
// is ErrMissingParam naming it (and any other missing ones), with the
// unknown names given instead and what they were probably meant to be
// ("userid": did you mean "user_id"?); unknown names alone are
// ErrInvalidParam.
func orderParams(names []string, params Params, template, path string) ([]any, error) {
	args := make([]any, len(names))
	var missing []string
	for i, name := range names {
		v, ok := params[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		args[i] = v
	}
	var unknown []string
	if len(params) > len(names)-len(missing) {
		for name := range params {
			if !slices.Contains(names, name) {
				unknown = append(unknown, name)
			}
		}
		slices.Sort(unknown)
	}
	if len(missing) == 0 && len(unknown) == 0 {
		return args, nil
	}
	if len(missing) == 0 {
		quoted := make([]string, len(unknown))
		for i, name := range unknown {
			quoted[i] = strconv.Quote(name)
		}
		return nil, &ParamError{Template: template, Field: path, Kind: ErrInvalidParam,
			Reason: fmt.Sprintf("unknown %s %s: the template names %s",
				plural(len(unknown), "parameter", "parameters"), strings.Join(quoted, ", "), placeholders(names))}
	}
	reason := "was not given"
	switch rest := missing[1:]; len(rest) {
	case 0:
	case 1:
		reason += ", nor was " + placeholders(rest)
	default:
		reason += ", nor were " + placeholders(rest)
	}
	if len(unknown) > 0 {
		given := make([]string, len(unknown))
		for i, name := range unknown {
			given[i] = strconv.Quote(name)
			if s := suggest.Closest(name, missing); s != "" {
				given[i] += fmt.Sprintf(" (did you mean %q?)", s)
			}
		}
		reason += fmt.Sprintf("; got the unknown %s %s", plural(len(unknown), "parameter", "parameters"), strings.Join(given, ", "))
	}
	return nil, &ParamError{Template: template, Field: path, Param: missing[0], Kind: ErrMissingParam, Reason: reason}
}

// placeholders formats names as the template writes them: "{a}, {b}".
func placeholders(names []string) string {
	var b strings.Builder
	for i, name := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("{" + name + "}")
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
