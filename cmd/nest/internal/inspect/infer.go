package inspect

import "strings"

// Infer returns the pattern of a name when no schema says what it is:
// its ':'-separated segments, with those that look like identifiers
// (decimal numbers, UUIDs, hexadecimal strings of 8 characters or more
// holding a digit) replaced by "{}". "session:4f9c…-…:user:42" gives
// "session:{}:user:{}".
func Infer(name string) string {
	if !strings.ContainsAny(name, "0123456789") {
		return name // nothing to collapse: the common case of static names
	}
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; ; i++ {
		seg, rest, more := strings.Cut(name, ":")
		if i > 0 {
			b.WriteByte(':')
		}
		if isID(seg) {
			b.WriteString("{}")
		} else {
			b.WriteString(seg)
		}
		if !more {
			return b.String()
		}
		name = rest
	}
}

// isID reports whether a segment looks like an identifier value.
func isID(s string) bool {
	if s == "" {
		return false
	}
	digits, hex := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F':
			hex++
		case c == '-' && isUUID(s):
			return true
		default:
			return false
		}
	}
	return digits == len(s) || (len(s) >= 8 && digits > 0)
}

// isUUID reports whether s is a UUID in its 8-4-4-4-12 text form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
