package nest

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkValueCodec measures the compiled codecs alone, without Redis:
// what our layer adds to a Set (encode) and a Get (decode) of each kind of
// value. It runs unchanged on the version with unsafe casts, so the two can
// be compared with benchstat.
func BenchmarkValueCodec(b *testing.B) {
	type (
		celsius float64
		mood    string
		blob    []byte
		level   int8
		flag    bool
	)
	type profile struct {
		ID     int64             `json:"id"`
		Name   string            `json:"name"`
		Tags   []string          `json:"tags"`
		Scores map[string]int    `json:"scores"`
		Meta   map[string]string `json:"meta"`
	}
	p := profile{ID: 42, Name: "Ada Lovelace", Tags: []string{"admin", "beta"},
		Scores: map[string]int{"chess": 1800}, Meta: map[string]string{"tz": "Europe/London"}}
	benchCodec(b, "int", newValueCodec[int](nil, JSON), 123456)
	benchCodec(b, "string", newValueCodec[string](nil, JSON), "Ada Lovelace")
	benchCodec(b, "float64", newValueCodec[float64](nil, JSON), 21.5)
	benchCodec(b, "bool", newValueCodec[bool](nil, JSON), true)
	benchCodec(b, "duration", newValueCodec[time.Duration](nil, JSON), 90*time.Second)
	benchCodec(b, "named-float", newValueCodec[celsius](nil, JSON), celsius(21.5))
	benchCodec(b, "named-string", newValueCodec[mood](nil, JSON), mood("happy"))
	benchCodec(b, "named-bytes", newValueCodec[blob](nil, JSON), blob("raw bytes"))
	benchCodec(b, "named-int8", newValueCodec[level](nil, JSON), level(-7))
	benchCodec(b, "named-bool", newValueCodec[flag](nil, JSON), flag(true))
	benchCodec(b, "time", newValueCodec[time.Time](nil, JSON), time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.UTC))
	benchCodec(b, "json", newValueCodec[profile](nil, JSON), p)
	benchCodec(b, "msgpack", newValueCodec[profile](MsgPack, JSON), p)
	env := &originalCodec{}
	benchCodec(b, "envelope", newValueCodec[profile](env, JSON), p)
	benchCodec(b, "envelope-int", newValueCodec[int](env, JSON), 123456)
	tags := []string{"admin", "beta", "math"}
	benchCodec(b, "json-list", newValueCodec[[]string](nil, JSON), tags)
	benchCodec(b, "envelope-list", newValueCodec[[]string](env, JSON), tags)
	benchCodec(b, "envelope-time", newValueCodec[time.Time](env, JSON), time.Date(2024, 2, 29, 23, 59, 59, 123456000, time.UTC))
}

func benchCodec[T any](b *testing.B, name string, c *valueCodec[T], v T) {
	out, err := c.encode("k", v)
	if err != nil {
		b.Fatal(err)
	}
	var stored string
	switch x := out.(type) {
	case string:
		stored = x
	case []byte:
		stored = string(x)
	case int64, uint64:
		stored = fmt.Sprint(x)
	}
	b.Run(name+"/encode", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := c.encode("k", v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(name+"/decode", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := c.decode("k", stored); err != nil {
				b.Fatal(err)
			}
		}
	})
}
