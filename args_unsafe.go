package nest

import (
	"time"
	"unsafe"
)

// go-redis takes a command's arguments as a []any, and boxing a key name
// into an interface allocates 16 bytes for its string header, an integer
// over 255 eight bytes, and the slice its own: three or four allocations
// for a SET, besides the command. An argSpace holds all of that for the
// commands nest builds itself (GET, GETEX and SET of a Key, the hottest
// operations): a Pipe's argSpace hands out chunks shared by all of its
// commands, and a direct call takes one room for its command (setRoom). The arguments go-redis and its hooks see are the same
// values of the same types as with go-redis's own methods.
//
// Boxing into an argSpace builds the interface from its two words, the
// type and a pointer to the value, which relies on Go's layout of an
// interface; this file is the only place that does. A box's value is
// written once, before the box is made, and never again: chunks are
// never reused, since a command may outlive its Pipe (a hook may keep it).
// BenchmarkPipeline and BenchmarkOverhead show what it saves.

// eface is the layout of an interface value.
type eface struct{ typ, data unsafe.Pointer }

// typeWord returns the type word of a.
func typeWord(a any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&a)).typ }

var stringType = typeWord("")

// box returns an interface holding the value at p, of the type whose
// type word is typ, without copying it.
func box(typ, p unsafe.Pointer) (a any) {
	*(*eface)(unsafe.Pointer(&a)) = eface{typ, p}
	return a
}

// argSpace hands out the room commands' arguments take: argument slices,
// and the strings and integers they box. A Pipe's takes chunks that grow
// with the pipeline, from 16 to 512 elements.
type argSpace struct {
	anys  []any
	strs  []string
	words []uint64 // integers of up to 8 bytes, of any integer type
	// the sizes of the last chunks taken
	nAnys, nStrs, nWords uint16
}

// nextChunk returns the size of the chunk after one of n elements.
func nextChunk(n uint16) uint16 { return min(max(2*n, 16), 512) }

// setRoom is the room of one command of up to 5 arguments, a string and
// two integers: a SET with a TTL. getRoom is that of a GET. A direct call
// takes one room, in one allocation, and hands it out through an argSpace
// in its own frame (directSet, directGet): the heap then holds the room
// alone, 112 bytes for a SET where a block holding its argSpace too took
// 192, which under an AutoPipeliner cost 2 % of the time per write.
type (
	setRoom struct {
		anys  [5]any
		strs  [1]string
		words [2]uint64
	}
	getRoom struct {
		anys [2]any
		strs [1]string
	}
)

// forSet makes s hand out a new setRoom: the room of one SET or GETEX.
func (s *argSpace) forSet() {
	r := new(setRoom)
	s.anys, s.strs, s.words = r.anys[:], r.strs[:], r.words[:]
}

// forGet makes s hand out a new getRoom: the room of one GET.
func (s *argSpace) forGet() {
	r := new(getRoom)
	s.anys, s.strs = r.anys[:], r.strs[:]
}

// args returns an argument slice of n elements, whose capacity is n: an
// append by go-redis or a hook copies it rather than write over the next.
func (s *argSpace) args(n int) []any {
	if len(s.anys) < n {
		s.nAnys = nextChunk(s.nAnys)
		s.anys = make([]any, max(int(s.nAnys), n))
	}
	a := s.anys[:n:n]
	s.anys = s.anys[n:]
	return a
}

// str returns v boxed in s.
func (s *argSpace) str(v string) any {
	if len(s.strs) == 0 {
		s.nStrs = nextChunk(s.nStrs)
		s.strs = make([]string, s.nStrs)
	}
	p := &s.strs[0]
	s.strs = s.strs[1:]
	*p = v
	return box(stringType, unsafe.Pointer(p))
}

// int64 returns v boxed in s (values under 256 need no room: Go boxes
// them statically).
func (s *argSpace) int64(v int64) any {
	if uint64(v) < 256 {
		return v
	}
	return boxAs(s, any(int64(0)), v)
}

// boxAs returns v boxed in s with the type of like, which must be the
// type of v: an integer type of up to 8 bytes (a word holds it, and the
// garbage collector finds no pointer in it).
func boxAs[T any](s *argSpace, like any, v T) any {
	if len(s.words) == 0 {
		s.nWords = nextChunk(s.nWords)
		s.words = make([]uint64, s.nWords)
	}
	p := &s.words[0]
	s.words = s.words[1:]
	*(*T)(unsafe.Pointer(p)) = v
	return box(typeWord(like), unsafe.Pointer(p))
}

// expiry returns the arguments go-redis's Set and GetEx add for the
// expiration exp: "px" and milliseconds when exp is not a whole number of
// seconds, else "ex" and seconds; none (nil) for exp <= 0. The unit is
// returned boxed, as a constant is: boxing a string variable allocates.
func (s *argSpace) expiry(exp time.Duration) (unit, n any) {
	if exp <= 0 {
		return nil, nil
	}
	if exp < time.Second || exp%time.Second != 0 {
		return "px", s.int64(max(int64(exp/time.Millisecond), 1))
	}
	return "ex", s.int64(int64(exp / time.Second))
}
