package nest

import (
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/redisimnest/nest/internal/envelope"
)

// FuzzDecodeEnvelope: the original Python package's envelope codec (the
// `codec:"redisimnest"` of a ported schema), into interfaces, maps, a
// recursive type, a struct of many kinds and the scalars, with the default
// value size limit and a small one. Values that decode read back the same
// after being written again.
func FuzzDecodeEnvelope(f *testing.F) {
	fzSeeds(f,
		`{"__type__": "int", "value": 42}`, `{"__type__": "str", "value": "hello world"}`,
		`{"__type__": "list", "value": ["a", "b"]}`, `{"__type__": "dict", "value": {"k": "v", "n": 1, "nested": {"x": true}}}`,
		`{"__type__": "datetime", "value": "2025-05-07T10:21:44.798000"}`, `{"__type__": "none", "value": "None"}`,
		`{"__type__": "bool", "value": true}`, `{"__type__": "float", "value": 1.5}`, `{"__type__": "float", "value": NaN}`,
		`{"__type__": "datetime", "value": "2025-05-07T10:21:44+00:00"}`, `{"__type__": "int", "value": 18446744073709551617}`,
		`{"__type__": "tuple", "value": [1, -Infinity]}`, `{"__type__": "uuid", "value": "12345678-1234-5678-1234-567812345678"}`,
		`{"__type__": "dict", "value": {"when": {"__type__": "datetime", "value": "2025-05-07T10:21:44,5+05:30"}, "id": {"__type__": "uuid", "value": "12345678-1234-5678-1234-567812345678"}}}`,
		`{"__type__": "dict", "value": {"name": "a", "kids": [{"name": "\ud83d\ude00", "kids": null}]}}`,
		`{"value": 1, "__type__": "int"}`, `{"__type__": "int"}`, `{"__type__": "str", "value": "\ud800"}`,
		`{"__type__": "list", "value": [[[[[[[[`, `42`, `hello world`, "{\"__type__\": \"str\", \"value\": \"\xff\"}")
	oc := &originalCodec{cfg: envelope.Config{Naive: time.UTC}}
	fzRun(f, []fzDecoder{
		fzCheck[any](oc, nil, 0, nil),
		fzCheck[map[string]any](oc, nil, 0, nil),
		fzCheck[fzTree](oc, nil, 0, nil),
		fzCheck[[]fzTree](oc, nil, 0, nil),
		fzCheck[fzRecord](oc, nil, 0, nil),
		fzCheck[fzRecord](oc, nil, 64, nil),
		fzCheck[string](oc, nil, 0, fzEq[string]),
		fzCheck[int64](oc, nil, 0, fzEq[int64]),
		fzCheck[uint8](oc, nil, 0, fzEq[uint8]),
		fzCheck[float64](oc, nil, 0, fzFloatEq[float64]),
		fzCheck[float32](oc, nil, 0, fzFloatEq[float32]),
		fzCheck[bool](oc, nil, 0, fzEq[bool]),
		fzCheck[time.Time](oc, nil, 0, time.Time.Equal),
		fzCheck[[]string](oc, nil, 0, slices.Equal[[]string]),
		fzCheck[*big.Int](oc, nil, 0, func(a, b *big.Int) bool { return a == nil && b == nil || a != nil && b != nil && a.Cmp(b) == 0 }),
		fzCheck[*string](oc, nil, 0, func(a, b *string) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }),
	})
}
