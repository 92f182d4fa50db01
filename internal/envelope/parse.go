package envelope

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of arrays and objects, as nest's JSON codec
// does, so that a stored value cannot exhaust the stack.
const MaxDepth = 10000

// MaxIntDigits bounds the digits of an integer literal, as Python's
// int() does by default since 3.11 (sys.get_int_max_str_digits()): the
// original cannot have written a longer one, and converting one costs time
// quadratic in its length.
const MaxIntDigits = 4300

type kind uint8

const (
	kNull kind = iota
	kBool
	kNumber
	kString
	kArray
	kObject
)

func (k kind) String() string {
	return [...]string{"null", "a bool", "a number", "a string", "a list", "a dict"}[k]
}

// node is a parsed JSON value, in the dialect Python's json module reads:
// JSON plus the number tokens NaN, Infinity and -Infinity.
type node struct {
	kind  kind
	isInt bool   // a number literal without fraction or exponent
	b     bool   // kBool
	s     string // kString: the text; kNumber: the literal
	key   string // the member name, when the node is a member of an object
	elems []node // kArray: elements; kObject: members, in order
}

// member returns the last member named key (Python keeps the last of
// duplicates), or nil.
func (n *node) member(key string) *node {
	for i := len(n.elems) - 1; i >= 0; i-- {
		if n.elems[i].key == key {
			return &n.elems[i]
		}
	}
	return nil
}

// parser reads one JSON text. Parsers are reused (parse, release) with
// their stack and slab, so that parsing allocates little beyond strings.
type parser struct {
	data  []byte
	pos   int
	depth int
	stack []node // the elements of the open lists and dicts
	slab  []node // the elements of the closed ones
}

var parsers = sync.Pool{New: func() any { return new(parser) }}

// collect moves the elements pushed since mark to the slab, and returns
// them there.
func (p *parser) collect(mark int) []node {
	k := len(p.stack) - mark
	if cap(p.slab)-len(p.slab) < k {
		p.slab = make([]node, 0, max(64, k, 2*cap(p.slab)))
	}
	start := len(p.slab)
	p.slab = append(p.slab, p.stack[mark:]...)
	clear(p.stack[mark:])
	p.stack = p.stack[:mark]
	return p.slab[start:len(p.slab):len(p.slab)]
}

// parse parses data, which must hold exactly one value (surrounded by
// whitespace at most). The tree lives in the parser: call release once
// done with it (on error too).
func parse(data []byte) (*parser, node, error) {
	p := parsers.Get().(*parser)
	p.data, p.pos, p.depth = data, 0, 0
	p.ws()
	n, err := p.value()
	if err == nil {
		p.ws()
		if p.pos < len(p.data) {
			err = p.errorf("unexpected %s after the value", p.quoteNext())
		}
	}
	if err != nil {
		return p, node{}, err
	}
	return p, n, nil
}

// release returns the parser to the pool; the nodes of its tree must no
// longer be used.
func (p *parser) release() {
	clear(p.stack)
	clear(p.slab)
	p.data, p.stack, p.slab = nil, p.stack[:0], p.slab[:0]
	if cap(p.stack) > 1<<10 || cap(p.slab) > 1<<12 {
		return // a rare huge value: let its memory go
	}
	parsers.Put(p)
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at byte %d: %s", p.pos, fmt.Sprintf(format, args...))
}

// quoteNext quotes a few bytes at the current position for an error.
func (p *parser) quoteNext() string {
	if p.pos >= len(p.data) {
		return "end of input"
	}
	end := min(p.pos+8, len(p.data))
	return fmt.Sprintf("%q", p.data[p.pos:end])
}

func (p *parser) ws() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value() (node, error) {
	if p.pos >= len(p.data) {
		return node{}, p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.str()
		return node{kind: kString, s: s}, err
	case c == 't':
		return node{kind: kBool, b: true}, p.literal("true")
	case c == 'f':
		return node{kind: kBool}, p.literal("false")
	case c == 'n':
		return node{kind: kNull}, p.literal("null")
	case c == 'N':
		return node{kind: kNumber, s: "NaN"}, p.literal("NaN")
	case c == 'I':
		return node{kind: kNumber, s: "Infinity"}, p.literal("Infinity")
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	}
	return node{}, p.errorf("unexpected %s", p.quoteNext())
}

func (p *parser) literal(word string) error {
	if !bytes.HasPrefix(p.data[p.pos:], []byte(word)) {
		return p.errorf("unexpected %s", p.quoteNext())
	}
	p.pos += len(word)
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errorf("nested deeper than %d levels", MaxDepth)
	}
	return nil
}

func (p *parser) array() (node, error) {
	if err := p.enter(); err != nil {
		return node{}, err
	}
	p.pos++ // [
	n := node{kind: kArray}
	p.ws()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		p.depth--
		return n, nil
	}
	mark := len(p.stack)
	for {
		p.ws()
		el, err := p.value()
		if err != nil {
			return node{}, err
		}
		p.stack = append(p.stack, el)
		p.ws()
		if p.pos >= len(p.data) {
			return node{}, p.errorf("unexpected end of input in a list")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			p.depth--
			n.elems = p.collect(mark)
			return n, nil
		default:
			return node{}, p.errorf("want ',' or ']' in a list, got %s", p.quoteNext())
		}
	}
}

func (p *parser) object() (node, error) {
	if err := p.enter(); err != nil {
		return node{}, err
	}
	p.pos++ // {
	n := node{kind: kObject}
	p.ws()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		p.depth--
		return n, nil
	}
	mark := len(p.stack)
	for {
		p.ws()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return node{}, p.errorf("want a string key in a dict, got %s", p.quoteNext())
		}
		key, err := p.str()
		if err != nil {
			return node{}, err
		}
		p.ws()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return node{}, p.errorf("want ':' after a dict key, got %s", p.quoteNext())
		}
		p.pos++
		p.ws()
		v, err := p.value()
		if err != nil {
			return node{}, err
		}
		v.key = key
		p.stack = append(p.stack, v)
		p.ws()
		if p.pos >= len(p.data) {
			return node{}, p.errorf("unexpected end of input in a dict")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			p.depth--
			n.elems = p.collect(mark)
			return n, nil
		default:
			return node{}, p.errorf("want ',' or '}' in a dict, got %s", p.quoteNext())
		}
	}
}

// number reads a JSON number, or -Infinity.
func (p *parser) number() (node, error) {
	start := p.pos
	d := p.data
	if d[p.pos] == '-' {
		p.pos++
		if p.pos < len(d) && d[p.pos] == 'I' {
			if err := p.literal("Infinity"); err != nil {
				return node{}, err
			}
			return node{kind: kNumber, s: "-Infinity"}, nil
		}
	}
	digits := func() int {
		s := p.pos
		for p.pos < len(d) && '0' <= d[p.pos] && d[p.pos] <= '9' {
			p.pos++
		}
		return p.pos - s
	}
	intStart := p.pos
	n := digits()
	switch {
	case n == 0:
		return node{}, p.errorf("a number without digits")
	case n > 1 && d[intStart] == '0':
		p.pos = intStart
		return node{}, p.errorf("a number with a leading zero")
	}
	isInt := true
	if p.pos < len(d) && d[p.pos] == '.' {
		p.pos++
		isInt = false
		if digits() == 0 {
			return node{}, p.errorf("no digits after the decimal point")
		}
	}
	if p.pos < len(d) && (d[p.pos] == 'e' || d[p.pos] == 'E') {
		p.pos++
		isInt = false
		if p.pos < len(d) && (d[p.pos] == '+' || d[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return node{}, p.errorf("no digits in the exponent")
		}
	}
	if isInt && n > MaxIntDigits {
		p.pos = start
		return node{}, p.errorf("an integer of %d digits exceeds the limit of %d (as Python's int)", n, MaxIntDigits)
	}
	return node{kind: kNumber, isInt: isInt, s: string(d[start:p.pos])}, nil
}

var errNotUTF8 = errors.New("not valid UTF-8")

// str reads a string literal. Control characters must be escaped (as
// Python's json.loads wants by default), the text must be valid UTF-8, and
// escapes of lone surrogates become U+FFFD, as encoding/json does.
func (p *parser) str() (string, error) {
	p.pos++ // "
	d := p.data
	start := p.pos
	// Fast path: plain ASCII without escapes.
	for p.pos < len(d) {
		c := d[p.pos]
		if c == '"' {
			s := string(d[start:p.pos])
			p.pos++
			return s, nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		p.pos++
	}
	buf := make([]byte, 0, p.pos-start+16)
	buf = append(buf, d[start:p.pos]...)
	for p.pos < len(d) {
		c := d[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(buf), nil
		case c < 0x20:
			return "", p.errorf("an unescaped control character %q in a string", c)
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(d[p.pos:])
			if r == utf8.RuneError && size == 1 {
				return "", p.errorf("a string that is %v", errNotUTF8)
			}
			buf = append(buf, d[p.pos:p.pos+size]...)
			p.pos += size
		case c != '\\':
			buf = append(buf, c)
			p.pos++
		default:
			if p.pos+1 >= len(d) {
				return "", p.errorf("unexpected end of input in a string")
			}
			e := d[p.pos+1]
			p.pos += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.errorf("a malformed \\u escape")
				}
				if utf16.IsSurrogate(r) {
					r2 := utf8.RuneError
					save := p.pos
					if p.pos+1 < len(d) && d[p.pos] == '\\' && d[p.pos+1] == 'u' {
						p.pos += 2
						if lo, ok := p.hex4(); ok {
							r2 = utf16.DecodeRune(r, lo)
						}
					}
					if r2 == utf8.RuneError {
						p.pos = save // a lone surrogate: U+FFFD, and read what follows on its own
						r = utf8.RuneError
					} else {
						r = r2
					}
				}
				buf = utf8.AppendRune(buf, r)
			default:
				p.pos--
				return "", p.errorf("an invalid escape \\%c", e)
			}
		}
	}
	return "", p.errorf("unexpected end of input in a string")
}

func (p *parser) hex4() (rune, bool) {
	if p.pos+4 > len(p.data) {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.pos : p.pos+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	p.pos += 4
	return r, true
}
