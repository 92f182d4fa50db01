// Package msgpackguard checks MessagePack bytes before
// github.com/vmihailenco/msgpack/v5 decodes them, so that a hostile stored
// value can neither crash the process nor make it allocate more than the
// value's own size justifies.
//
// The decoder trusts the input: it recurses once per nesting level (3 MB of
// one-element arrays overflow the goroutine stack, a fatal error that
// recover cannot catch) and sizes slices, maps and byte buffers from the
// lengths that headers declare (a 9-byte bin32 value allocates 4 GiB).
// [Check] walks the bytes once, without recursion, and refuses a value
// nested deeper than a limit, a header declaring more bytes or elements than
// follow it, bytes after the value, and the reserved code 0xc1.
//
// Extension values (time.Time, types registered with msgpack.RegisterExt)
// need one more step. Their payload is opaque bytes to the format, but the
// decoder, when it expects a map, skips an extension header and reads the
// payload as a map header: an 11-byte value decoded into a
// map[string][]int allocates 256 MiB that way. A payload that is itself a
// well-formed sequence of MessagePack values is checked like the rest; any
// other payload (a timestamp, for instance) is marked, and the [Reader]
// that Check returns refuses to hand out its first byte as a header code.
// The decoder reads the payloads it decodes legitimately (timestamps) in
// bulk with Read, never with ReadByte, so only the misreading fails.
package msgpackguard

import (
	"errors"
	"fmt"
	"io"
	"slices"
)

// MaxDepth is the default nesting limit, the one encoding/json applies.
const MaxDepth = 10000

// maxExtLevel bounds how deeply extension payloads are checked as
// MessagePack; deeper payloads are treated as opaque. It keeps Check linear:
// every byte is walked at most once per enclosing extension level.
const maxExtLevel = 8

// errOpaque is returned by [Reader.ReadByte] at the first byte of an opaque
// extension payload.
var errOpaque = errors.New("msgpack: extension payload read as a MessagePack header")

// Check reports whether data holds exactly one MessagePack value that is
// safe to decode, nested at most maxDepth levels deep, and returns a reader
// of data for the decoder. Its errors name the offset of the offending byte.
func Check(data []byte, maxDepth int) (*Reader, error) {
	w := walker{data: data, maxDepth: maxDepth}
	end, err := w.walk(0, len(data), 0, 0, true)
	if err != nil {
		return nil, err
	}
	if end != len(data) {
		return nil, fmt.Errorf("msgpack: %d bytes after the value at offset %d", len(data)-end, end)
	}
	return &Reader{data: data, opaque: w.opaque}, nil
}

type walker struct {
	data     []byte
	maxDepth int
	opaque   []int // offsets of opaque extension payloads, ascending
}

// walk checks the values in data[pos:end]: one value when one is true (and
// returns the offset after it), else a sequence that fills the range
// exactly. depth is the nesting level of the values, extLevel the number of
// extension payloads around them.
func (w *walker) walk(pos, end, depth, extLevel int, one bool) (int, error) {
	var buf [32]int
	open := buf[:0] // elements still expected by each open container
	for {
		if !one && len(open) == 0 && pos == end {
			return pos, nil
		}
		if pos >= end {
			return 0, fmt.Errorf("msgpack: value truncated at offset %d", pos)
		}
		at := pos
		c := w.data[pos]
		pos++
		var (
			skip  int  // bytes of payload after the header
			elems int  // elements of an array or map (keys and values)
			isExt bool // skip is an extension's type byte and payload
			err   error
		)
		switch {
		case c <= 0x7f || c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3: // fixint, nil, false, true
		case c <= 0x8f:
			elems = 2 * int(c&0x0f)
		case c <= 0x9f:
			elems = int(c & 0x0f)
		case c <= 0xbf:
			skip = int(c & 0x1f)
		case c == 0xc1:
			return 0, fmt.Errorf("msgpack: reserved code 0xc1 at offset %d", at)
		case c == 0xc4 || c == 0xd9: // bin8, str8
			skip, pos, err = w.length(pos, end, 1)
		case c == 0xc5 || c == 0xda: // bin16, str16
			skip, pos, err = w.length(pos, end, 2)
		case c == 0xc6 || c == 0xdb: // bin32, str32
			skip, pos, err = w.length(pos, end, 4)
		case c == 0xc7, c == 0xc8, c == 0xc9: // ext8, ext16, ext32
			skip, pos, err = w.length(pos, end, 1<<(c-0xc7))
			skip++
			isExt = true
		case c == 0xca, c == 0xce, c == 0xd2: // float32, uint32, int32
			skip = 4
		case c == 0xcb, c == 0xcf, c == 0xd3: // float64, uint64, int64
			skip = 8
		case c == 0xcc, c == 0xd0: // uint8, int8
			skip = 1
		case c == 0xcd, c == 0xd1: // uint16, int16
			skip = 2
		case c <= 0xd8: // fixext1 ... fixext16
			skip = 1 + 1<<(c-0xd4)
			isExt = true
		case c == 0xdc: // array16
			elems, pos, err = w.length(pos, end, 2)
		case c == 0xdd: // array32
			elems, pos, err = w.length(pos, end, 4)
		case c == 0xde: // map16
			elems, pos, err = w.length(pos, end, 2)
			elems *= 2
		case c == 0xdf: // map32
			elems, pos, err = w.length(pos, end, 4)
			elems *= 2
		}
		if err != nil {
			return 0, fmt.Errorf("%w at offset %d", err, at)
		}
		if skip > end-pos {
			return 0, fmt.Errorf("msgpack: header at offset %d declares %d bytes, %d follow", at, skip, end-pos)
		}
		if isExt {
			w.checkExt(pos+1, pos+skip, depth+len(open)+1, extLevel)
		}
		pos += skip

		// The value is complete, unless it opens a container.
		if elems > 0 {
			// Every element takes at least one byte.
			if elems > end-pos {
				return 0, fmt.Errorf("msgpack: header at offset %d declares %d elements, %d bytes follow", at, elems, end-pos)
			}
			if depth+len(open)+1 > w.maxDepth {
				return 0, fmt.Errorf("msgpack: nested deeper than %d levels at offset %d", w.maxDepth, at)
			}
			open = append(open, elems)
			continue
		}
		for len(open) > 0 {
			open[len(open)-1]--
			if open[len(open)-1] > 0 {
				break
			}
			open = open[:len(open)-1]
		}
		if one && len(open) == 0 {
			return pos, nil
		}
	}
}

// length reads a big-endian length of size bytes at pos.
func (w *walker) length(pos, end, size int) (n, next int, err error) {
	if size > end-pos {
		return 0, 0, errors.New("msgpack: length truncated")
	}
	for _, b := range w.data[pos : pos+size] {
		n = n<<8 | int(b)
	}
	return n, pos + size, nil
}

// checkExt checks an extension payload data[start:end] as a sequence of
// MessagePack values, or marks it opaque.
func (w *walker) checkExt(start, end, depth, extLevel int) {
	if start == end {
		return // nothing to misread: the next header is checked as usual
	}
	mark := len(w.opaque)
	if extLevel < maxExtLevel && depth <= w.maxDepth {
		if _, err := w.walk(start, end, depth, extLevel+1, false); err == nil {
			return
		}
	}
	w.opaque = append(w.opaque[:mark], start)
}

// Reader reads checked bytes for the decoder (it implements io.Reader and
// io.ByteScanner, so the decoder adds no buffering). ReadByte, which the
// decoder uses for header codes, fails at the first byte of an opaque
// extension payload.
type Reader struct {
	data   []byte
	pos    int
	opaque []int
}

// Read reads up to len(b) bytes.
func (r *Reader) Read(b []byte) (int, error) {
	if r.pos >= len(r.data) {
		return 0, io.EOF
	}
	n := copy(b, r.data[r.pos:])
	r.pos += n
	return n, nil
}

// ReadByte reads one byte, the next header code.
func (r *Reader) ReadByte() (byte, error) {
	if r.pos >= len(r.data) {
		return 0, io.EOF
	}
	if len(r.opaque) > 0 {
		if _, found := slices.BinarySearch(r.opaque, r.pos); found {
			return 0, fmt.Errorf("%w at offset %d", errOpaque, r.pos)
		}
	}
	r.pos++
	return r.data[r.pos-1], nil
}

// UnreadByte steps back one byte.
func (r *Reader) UnreadByte() error {
	if r.pos == 0 {
		return errors.New("msgpack: UnreadByte at the start")
	}
	r.pos--
	return nil
}
