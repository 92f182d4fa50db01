package encodable

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/vmihailenco/msgpack/v5"
)

type (
	withChan     struct{ Ch chan int }
	withChanSkip struct {
		Ch chan int `json:"-"`
		N  int
	}
	withChanMsgpackSkip struct {
		Ch chan int `msgpack:"-"`
	}
	withChanDashComma struct {
		//lint:ignore SA5008 encoding/json reads this as a field named "-", which is what is tested
		Ch chan int `json:"-,"`
	}
	withUnexported struct {
		//lint:ignore U1000 the codecs skip unexported fields, which is what is tested
		ch chan int
		N  int
	}
	withOmitEmpty struct {
		C complex64 `json:",omitempty"`
	}
	withOmitZero struct {
		Ch chan int `json:",omitzero"`
	}
	withRecvChan struct{ Ch <-chan int }
	node         struct {
		Next *node
		Ch   chan int
		Kids []node
	}
	inner       struct{ Fn func() }
	outerInline struct {
		inner // json and msgpack look into it
		N     int
	}
	selfJSON struct{ Ch chan int }
	selfMsgp struct{ Ch chan int }
	textKey  struct{ A, B int }
	deep     struct {
		Tags map[string][]*withChan
	}
	byteArray [4]byte
	named     complex128
)

func (selfJSON) MarshalJSON() ([]byte, error)      { return []byte(`"self"`), nil }
func (*selfMsgp) MarshalMsgpack() ([]byte, error)  { return msgpack.Marshal("self") }
func (textKey) MarshalText() ([]byte, error)       { return []byte("k"), nil }
func (b byteArray) MarshalText() ([]byte, error)   { return b[:], nil }
func (*byteArray) UnmarshalText(data []byte) error { return nil }
func (n named) MarshalJSON() ([]byte, error)       { return []byte("0"), nil }

func encodeJSON(v any) error {
	_, err := json.Marshal(v)
	return err
}

func encodeMsgPack(v any) error {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetCustomStructTag("json") // as nest's MsgPack codec
	return enc.Encode(v)
}

func TestCheckAgreesWithTheCodecs(t *testing.T) {
	tests := []struct {
		typ      reflect.Type
		jsonWant []string // problem paths under encoding/json
		mpWant   []string // under msgpack
	}{
		{reflect.TypeFor[int](), nil, nil},
		{reflect.TypeFor[string](), nil, nil},
		{reflect.TypeFor[[]string](), nil, nil},
		{reflect.TypeFor[map[string]any](), nil, nil},
		{reflect.TypeFor[any](), nil, nil},
		{reflect.TypeFor[error](), nil, nil},
		{reflect.TypeFor[time.Time](), nil, nil},
		{reflect.TypeFor[*int](), nil, nil},
		{reflect.TypeFor[chan int](), []string{""}, []string{""}},
		{reflect.TypeFor[<-chan int](), []string{""}, []string{""}},
		{reflect.TypeFor[func()](), []string{""}, []string{""}},
		{reflect.TypeFor[complex128](), []string{""}, []string{""}},
		{reflect.TypeFor[complex64](), []string{""}, []string{""}},
		{reflect.TypeFor[unsafe.Pointer](), []string{""}, []string{""}},
		{reflect.TypeFor[named](), nil, []string{""}},
		{reflect.TypeFor[withChan](), []string{".Ch"}, []string{".Ch"}},
		{reflect.TypeFor[*withChan](), []string{".Ch"}, []string{".Ch"}},
		{reflect.TypeFor[withChanSkip](), nil, nil},
		{reflect.TypeFor[withChanMsgpackSkip](), []string{".Ch"}, nil},
		{reflect.TypeFor[withChanDashComma](), []string{".Ch"}, nil},
		{reflect.TypeFor[withUnexported](), nil, nil},
		{reflect.TypeFor[withOmitEmpty](), []string{".C"}, []string{".C"}},
		{reflect.TypeFor[withOmitZero](), []string{".Ch"}, []string{".Ch"}},
		{reflect.TypeFor[withRecvChan](), []string{".Ch"}, []string{".Ch"}},
		{reflect.TypeFor[node](), []string{".Ch"}, []string{".Ch"}},
		{reflect.TypeFor[outerInline](), []string{".inner.Fn"}, []string{".inner.Fn"}},
		{reflect.TypeFor[selfJSON](), nil, []string{".Ch"}},
		{reflect.TypeFor[selfMsgp](), []string{".Ch"}, nil},
		{reflect.TypeFor[[]func()](), []string{"[]"}, []string{"[]"}},
		{reflect.TypeFor[[0]chan int](), nil, nil},
		{reflect.TypeFor[[2]chan int](), []string{"[]"}, []string{"[]"}},
		{reflect.TypeFor[byteArray](), nil, nil},
		{reflect.TypeFor[map[bool]int](), []string{""}, nil},
		{reflect.TypeFor[map[float64]int](), []string{""}, nil},
		{reflect.TypeFor[map[[2]int]string](), []string{""}, nil},
		{reflect.TypeFor[map[textKey]int](), nil, nil},
		{reflect.TypeFor[map[int]string](), nil, nil},
		{reflect.TypeFor[map[chan int]int](), []string{""}, []string{"[key]"}},
		{reflect.TypeFor[map[string]chan int](), []string{"[value]"}, []string{"[value]"}},
		{reflect.TypeFor[deep](), []string{".Tags[value][].Ch"}, []string{".Tags[value][].Ch"}},
		{reflect.TypeFor[struct {
			A chan int
			B func()
			C chan int // the same type again: reported once
		}](), []string{".A", ".B"}, []string{".A", ".B"}},
	}
	codecs := []struct {
		name   string
		rules  Rules
		encode func(any) error
		want   func(i int) []string
	}{
		{"json", JSON, encodeJSON, func(i int) []string { return tests[i].jsonWant }},
		{"msgpack", MsgPack, encodeMsgPack, func(i int) []string { return tests[i].mpWant }},
	}
	for _, c := range codecs {
		for i, tt := range tests {
			probs := Check(tt.typ, c.rules)
			var paths []string
			for _, p := range probs {
				paths = append(paths, p.Path)
				if p.Type == nil || p.Why == "" {
					t.Errorf("%s %s: problem %+v lacks its type or reason", c.name, tt.typ, p)
				}
			}
			if !slices.Equal(paths, c.want(i)) {
				t.Errorf("%s: Check(%s) paths = %q, want %q", c.name, tt.typ, paths, c.want(i))
			}
			// Every problem is real: a value reaching it does not encode.
			for _, p := range probs {
				v, ok := p.Probe(tt.typ)
				if !ok {
					v = reflect.New(tt.typ).Interface()
				}
				if err := c.encode(v); err == nil {
					t.Errorf("%s: Check(%s) reports %q, but the codec encodes the probe %#v", c.name, tt.typ, p.Path, v)
				}
			}
			// And a type without problems encodes (its zero value here).
			if len(probs) == 0 {
				if err := c.encode(reflect.New(tt.typ).Interface()); err != nil {
					t.Errorf("%s: Check(%s) finds nothing, but the zero value does not encode: %v", c.name, tt.typ, err)
				}
			}
		}
	}
}

func TestProblemFields(t *testing.T) {
	probs := Check(reflect.TypeFor[map[bool]withChan](), JSON)
	if len(probs) != 2 {
		t.Fatalf("Check = %+v, want 2 problems", probs)
	}
	if p := probs[0]; p.Path != "" || p.Field || p.Why != "unsupported map key type bool" || p.Type != reflect.TypeFor[map[bool]withChan]() {
		t.Errorf("map key problem = %+v", p)
	}
	if p := probs[1]; p.Path != "[value].Ch" || !p.Field || p.Why != "unsupported type" || p.Type != reflect.TypeFor[chan int]() {
		t.Errorf("field problem = %+v", p)
	}
}

func TestProbeThroughUnexportedEmbeddedStruct(t *testing.T) {
	probs := Check(reflect.TypeFor[outerInline](), JSON)
	if len(probs) != 1 {
		t.Fatalf("Check = %+v", probs)
	}
	if v, ok := probs[0].Probe(reflect.TypeFor[outerInline]()); ok {
		t.Errorf("Probe = %#v, true; want false (the embedded field is unexported)", v)
	}
	var ute *json.UnsupportedTypeError
	if err := encodeJSON(new(outerInline)); !errors.As(err, &ute) {
		t.Errorf("json.Marshal(outerInline) = %v, want an UnsupportedTypeError", err)
	}
}
