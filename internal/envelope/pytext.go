package envelope

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// The text forms Python gives its values: float repr, json.dumps's string
// escapes with ensure_ascii, datetime.isoformat, str(uuid.UUID).

const hexDigits = "0123456789abcdef"

// appendString appends s as json.dumps writes a str with ensure_ascii=True:
// printable ASCII as it is, '"' and '\' escaped, \n \r \t \b \f by name,
// every other code point as \uXXXX in lowercase hex (a surrogate pair
// beyond the BMP). s must be valid UTF-8.
func appendString(b []byte, s string) ([]byte, error) {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = appendU(b, rune(c))
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return b, errNotUTF8
		}
		if r > 0xffff {
			r -= 0x10000
			b = appendU(b, 0xd800+(r>>10)&0x3ff)
			b = appendU(b, 0xdc00+r&0x3ff)
		} else {
			b = appendU(b, r)
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"'), nil
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// appendFloat appends f as Python's float repr (which json.dumps uses):
// the shortest digits that read back as f, in positional notation with at
// least one decimal ("1.0", "0.0001") when the decimal exponent is in
// [-4, 16), else in scientific notation with a signed exponent of at least
// two digits ("1e-05", "1.5e+16"); NaN, Infinity and -Infinity as bare
// tokens. bits is 32 for a float32, whose shortest digits are its own.
func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, bits) // -d.ddde±XX
	if e[0] == '-' {
		b = append(b, '-')
		e = e[1:]
	}
	mark := 0
	for e[mark] != 'e' {
		mark++
	}
	exp, _ := strconv.Atoi(string(e[mark+1:]))
	digits := make([]byte, 0, mark)
	digits = append(digits, e[0])
	if mark > 1 {
		digits = append(digits, e[2:mark]...) // skip the '.'
	}
	decpt := exp + 1 // the value is 0.DIGITS × 10^decpt
	if decpt <= -4 || decpt > 16 {
		b = append(b, digits[0])
		if len(digits) > 1 {
			b = append(append(b, '.'), digits[1:]...)
		}
		b = append(b, 'e')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10)
	}
	switch {
	case decpt <= 0:
		b = append(b, '0', '.')
		for range -decpt {
			b = append(b, '0')
		}
		return append(b, digits...)
	case decpt < len(digits):
		b = append(b, digits[:decpt]...)
		b = append(b, '.')
		return append(b, digits[decpt:]...)
	default:
		b = append(b, digits...)
		for range decpt - len(digits) {
			b = append(b, '0')
		}
		return append(b, '.', '0')
	}
}

// parseFloat reads a number literal as Python's float() does: NaN,
// Infinity and -Infinity by name, and a literal beyond the range of a
// float64 as an infinity (json.loads("1e999") is inf). With bits 32 a
// finite value beyond a float32's range is an error.
func parseFloat(lit string, bits int) (float64, error) {
	switch lit {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, err
	}
	if bits == 32 && !math.IsInf(f, 0) && math.Abs(f) > math.MaxFloat32 {
		return 0, fmt.Errorf("%s overflows float32", lit)
	}
	return f, nil
}

// appendISO appends t as Python's datetime.isoformat() writes it:
// YYYY-MM-DDTHH:MM:SS, then .ffffff only when the microseconds are not
// zero (nanoseconds are truncated: Python's datetime has microseconds),
// then, when aware, the UTC offset as +HH:MM (+HH:MM:SS when it has
// seconds). Years outside 1..9999, which Python's datetime cannot hold,
// are an error.
func appendISO(b []byte, t time.Time, aware bool) ([]byte, error) {
	y, mo, d := t.Date()
	if y < 1 || y > 9999 {
		return b, fmt.Errorf("the year %d is outside Python's datetime range (1 to 9999)", y)
	}
	h, mi, s := t.Clock()
	b = appendInt(b, y, 4)
	b = append(b, '-')
	b = appendInt(b, int(mo), 2)
	b = append(b, '-')
	b = appendInt(b, d, 2)
	b = append(b, 'T')
	b = appendInt(b, h, 2)
	b = append(b, ':')
	b = appendInt(b, mi, 2)
	b = append(b, ':')
	b = appendInt(b, s, 2)
	if us := t.Nanosecond() / 1000; us != 0 {
		b = append(b, '.')
		b = appendInt(b, us, 6)
	}
	if !aware {
		return b, nil
	}
	_, off := t.Zone()
	if off < 0 {
		b = append(b, '-')
		off = -off
	} else {
		b = append(b, '+')
	}
	b = appendInt(b, off/3600, 2)
	b = append(b, ':')
	b = appendInt(b, off/60%60, 2)
	if off%60 != 0 {
		b = append(b, ':')
		b = appendInt(b, off%60, 2)
	}
	return b, nil
}

func appendInt(b []byte, n, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(n), 10)
	for range width - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

// parseISO reads what Python's datetime.fromisoformat reads from
// isoformat's output and its common variants: YYYY-MM-DD, optionally
// followed by 'T' or ' ' and HH, HH:MM, HH:MM:SS or HH:MM:SS.f (or ,f),
// optionally followed by Z or a UTC offset ±HH:MM,
// ±HHMM or ±HH:MM:SS. Fractional seconds are truncated to microseconds,
// as Python's datetime holds them. A value without an offset is naive: it
// is read in naive. An offset of zero reads as time.UTC.
func parseISO(s string, naive *time.Location) (time.Time, error) {
	bad := func(why string) (time.Time, error) {
		return time.Time{}, fmt.Errorf("%q is not an ISO 8601 datetime as Python writes it: %s", truncate(s), why)
	}
	p := 0
	num := func(n int) (int, bool) {
		if p+n > len(s) {
			return 0, false
		}
		v := 0
		for _, c := range []byte(s[p : p+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		p += n
		return v, true
	}
	sep := func(c byte) bool {
		if p < len(s) && s[p] == c {
			p++
			return true
		}
		return false
	}
	y, ok1 := num(4)
	ok2 := sep('-')
	mo, ok3 := num(2)
	ok4 := sep('-')
	d, ok5 := num(2)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return bad("want YYYY-MM-DD")
	}
	var h, mi, sec, ns int
	if p < len(s) && (s[p] == 'T' || s[p] == ' ') {
		p++
		var ok bool
		if h, ok = num(2); !ok {
			return bad("want HH after the date")
		}
		if sep(':') {
			if mi, ok = num(2); !ok {
				return bad("want MM after HH:")
			}
			if sep(':') {
				if sec, ok = num(2); !ok {
					return bad("want SS after HH:MM:")
				}
				if sep('.') || sep(',') {
					// As fromisoformat: any number of digits, truncated
					// to microseconds.
					start := p
					for p < len(s) && '0' <= s[p] && s[p] <= '9' {
						p++
					}
					if p == start {
						return bad("want fractional digits after the decimal point")
					}
					frac := s[start:min(p, start+6)]
					us, _ := strconv.Atoi(frac)
					for range 6 - len(frac) {
						us *= 10
					}
					ns = us * 1000
				}
			}
		}
	}
	loc := naive
	if p < len(s) {
		switch s[p] {
		case 'Z':
			p++
			loc = time.UTC
		case '+', '-':
			neg := s[p] == '-'
			p++
			oh, ok := num(2)
			if !ok {
				return bad("want HH in the UTC offset")
			}
			colon := sep(':')
			om, ok := num(2)
			if !ok {
				return bad("want MM in the UTC offset")
			}
			osec := 0
			if colon && sep(':') {
				if osec, ok = num(2); !ok {
					return bad("want SS in the UTC offset")
				}
				if p < len(s) && s[p] == '.' {
					return bad("a UTC offset with fractions of a second, which Go's time zones cannot hold")
				}
			}
			if oh > 23 || om > 59 || osec > 59 {
				return bad("the UTC offset is out of range")
			}
			off := oh*3600 + om*60 + osec
			if neg {
				off = -off
			}
			loc = time.UTC
			if off != 0 {
				loc = time.FixedZone("", off)
			}
		}
	}
	if p != len(s) {
		return bad("unexpected text after the datetime")
	}
	if y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysIn(time.Month(mo), y) || h > 23 || mi > 59 || sec > 59 {
		return bad("a field is out of range")
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, ns, loc), nil
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// appendUUID appends u as Python's str(uuid.UUID): lowercase hex in groups
// of 8-4-4-4-12.
func appendUUID(b []byte, u [16]byte) []byte {
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

// parseUUID reads the canonical form str(uuid.UUID) writes, in either case.
func parseUUID(s string) ([16]byte, error) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, fmt.Errorf("%q is not a UUID in the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", truncate(s))
	}
	hex := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	for i := range u {
		hi, ok1 := unhex(hex[2*i])
		lo, ok2 := unhex(hex[2*i+1])
		if !ok1 || !ok2 {
			return u, fmt.Errorf("%q is not a UUID: not hexadecimal", s)
		}
		u[i] = hi<<4 | lo
	}
	return u, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
