package nest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/redisimnest/nest/internal/msgpackguard"
)

// The msgpack guard must accept every value the MsgPack codec writes, and
// refuse every strict prefix of one (each is a truncated value).
func TestAdvCheckMsgpackAcceptsWhatMsgPackWrites(t *testing.T) {
	type inner struct {
		B []byte         `json:"b"`
		M map[string]int `json:"m"`
	}
	values := []any{
		nil, true, false, 0, -1, 127, 128, -33, 255, 256, 65535, 65536, 1 << 40, -1 << 40,
		uint64(1 << 63), float32(1.5), 2.25,
		"", strings.Repeat("s", 31), strings.Repeat("s", 32), strings.Repeat("s", 255),
		strings.Repeat("s", 256), strings.Repeat("s", 65535), strings.Repeat("s", 65536),
		[]byte{}, bytes.Repeat([]byte{1}, 255), bytes.Repeat([]byte{1}, 256), bytes.Repeat([]byte{1}, 70000),
		time.Unix(1, 0), time.Unix(1<<40, 5), time.Unix(1, 5).UTC(),
		make([]int, 15), make([]int, 16), make([]int, 70000),
		map[string]any{"a": []any{1, "x", nil, map[string]any{}}},
		map[int]string{1: "a", 2: "b"},
		inner{B: []byte("x"), M: map[string]int{"k": 1}},
		[]inner{{}, {B: []byte{}}},
	}
	big := map[string]int{}
	for i := range 70000 {
		big[strings.Repeat("k", i%40)+string(rune('a'+i%26))+string(rune(i))] = i
	}
	values = append(values, big)
	for _, v := range values {
		b, err := MsgPack.Marshal(&v)
		if err != nil {
			t.Fatalf("%T: %v", v, err)
		}
		if _, err := msgpackguard.Check(b, msgpackguard.MaxDepth); err != nil {
			t.Errorf("%T (%d bytes): %v", v, len(b), err)
		}
		for n := range len(b) {
			if n > 300 && n < len(b)-300 {
				continue
			}
			if _, err := msgpackguard.Check(b[:n], msgpackguard.MaxDepth); err == nil {
				t.Errorf("%T: the prefix of %d of %d bytes is accepted", v, n, len(b))
				break
			}
		}
	}
}
