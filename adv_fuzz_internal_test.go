package nest

import (
	"testing"
	"time"
)

// FuzzAdvMsgpackNeverPanics: the MsgPack codec decodes whatever Redis
// holds into an error or a value, never a panic or a crash. (With go test
// -fuzz it found the nil-into-time.Time panic of msgpack v5.4.1.)
func FuzzAdvMsgpackNeverPanics(f *testing.F) {
	type inner struct {
		A []int            `json:"a"`
		M map[string][]any `json:"m"`
		T time.Time        `json:"t"`
		P *inner           `json:"p"`
		B []byte           `json:"b"`
		F float32          `json:"f"`
		U uint8            `json:"u"`
		S string           `json:"s"`
		X [3]int           `json:"x"`
		I any              `json:"i"`
	}
	for _, v := range []any{
		inner{A: []int{1}, M: map[string][]any{"k": {1, "x"}}, T: time.Now(), P: &inner{}},
		[]any{1, "a", nil, 2.5, map[string]any{"x": []byte("y")}},
	} {
		b, err := MsgPack.Marshal(&v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\x81\xa1t\xc0"))              // {"t": nil}
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff}) // an array of 4G elements, in 5 bytes
	f.Fuzz(func(t *testing.T, data []byte) {
		var a inner
		_ = MsgPack.Unmarshal(data, &a)
		var b any
		_ = MsgPack.Unmarshal(data, &b)
		var c map[int]inner
		_ = MsgPack.Unmarshal(data, &c)
		var d []time.Time
		_ = MsgPack.Unmarshal(data, &d)
	})
}
