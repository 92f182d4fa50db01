package nest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// aiRender renders arguments with their types.
func aiRender(args []any) string {
	s := ""
	for _, a := range args {
		s += fmt.Sprintf("%T(%#v) ", a, a)
	}
	return s
}

// aiDurations are expirations at the edges of go-redis's rules: EX for
// whole seconds, PX otherwise (at least 1), KEEPTTL for -1, nothing for
// other values <= 0, and boxed integers below and above 256.
func aiDurations(r *rand.Rand) []time.Duration {
	ds := []time.Duration{
		0, -1, -2, math.MinInt64, 1, time.Microsecond, time.Millisecond - 1, time.Millisecond,
		time.Millisecond + 1, 255 * time.Millisecond, 256 * time.Millisecond, 999 * time.Millisecond,
		time.Second - 1, time.Second, time.Second + 1, 255 * time.Second, 256 * time.Second,
		257*time.Second + time.Millisecond, time.Hour, math.MaxInt64, time.Duration(math.MaxInt64 - math.MaxInt64%int64(time.Second)),
	}
	for range 2000 {
		switch r.IntN(3) {
		case 0:
			ds = append(ds, time.Duration(r.Int64N(int64(10*time.Second))))
		case 1:
			ds = append(ds, time.Duration(r.Int64N(1<<33))*time.Second)
		default:
			ds = append(ds, time.Duration(r.Int64()))
		}
	}
	return ds
}

// TestAdvArgSpaceMatchesGoRedis builds SET and GETEX in one argSpace for
// thousands of expirations and values, and the same commands with
// go-redis's Set and GetEx on a pipeline (built, never sent): the
// arguments are equal, of the same types, and stay so once every command
// is built (no command's room overlaps another's).
func TestAdvArgSpaceMatchesGoRedis(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	pp := rdb.Pipeline()
	var s argSpace
	type pair struct{ ours, theirs redis.Cmder }
	var pairs []pair
	vals := []func(int) (any, any){
		func(i int) (any, any) { v := r.Int(); return boxAs(&s, any(0), v), v },
		func(i int) (any, any) { v := int8(r.Int()); return boxAs(&s, any(int8(0)), v), v },
		func(i int) (any, any) { v := uint16(r.Int()); return boxAs(&s, any(uint16(0)), v), v },
		func(i int) (any, any) { v := uint32(r.Int()); return boxAs(&s, any(uint32(0)), v), v },
		func(i int) (any, any) { v := int32(r.Int()); return boxAs(&s, any(int32(0)), v), v },
		func(i int) (any, any) { v := r.Uint64(); return boxAs(&s, any(uint64(0)), v), v },
		func(i int) (any, any) { v := int64(r.Uint64()); return boxAs(&s, any(int64(0)), v), v },
		func(i int) (any, any) { v := uint8(i); return boxAs(&s, any(uint8(0)), v), v },
		func(i int) (any, any) { v := uint(i); return boxAs(&s, any(uint(0)), v), v },
		func(i int) (any, any) { v := "v" + strconv.Itoa(i); return v, v },
		func(i int) (any, any) { v := []byte(strconv.Itoa(i)); return v, v },
	}
	for i, d := range aiDurations(r) {
		key := "k:" + strconv.Itoa(i)
		ours, theirs := vals[i%len(vals)](i)
		if !reflect.DeepEqual(ours, theirs) || reflect.TypeOf(ours) != reflect.TypeOf(theirs) || ours != any(nil) && reflect.TypeOf(ours).Comparable() && ours != theirs {
			t.Fatalf("boxed %T(%v), want %T(%v)", ours, ours, theirs, theirs)
		}
		pairs = append(pairs, pair{s.setCmd(ctx, key, ours, d), pp.Set(ctx, key, theirs, d)})
		if d > 0 {
			pairs = append(pairs, pair{s.getCmd(ctx, key, d), pp.GetEx(ctx, key, d)})
		} else {
			pairs = append(pairs, pair{s.getCmd(ctx, key, d), pp.Get(ctx, key)})
		}
	}
	check := func(when string) {
		for i, p := range pairs {
			a, b := p.ours.Args(), p.theirs.Args()
			if aiRender(a) != aiRender(b) || !reflect.DeepEqual(a, b) {
				t.Fatalf("%s: command %d:\n ours:   %s\n theirs: %s", when, i, aiRender(a), aiRender(b))
			}
			if len(a) != cap(a) {
				t.Fatalf("command %d: args of length %d, capacity %d: an append would write over the next", i, len(a), cap(a))
			}
			if p.ours.String() != p.theirs.String() || p.ours.Name() != p.theirs.Name() || p.ours.FullName() != p.theirs.FullName() {
				t.Fatalf("command %d: %q / %q", i, p.ours.String(), p.theirs.String())
			}
		}
	}
	check("built")
	runtime.GC()
	// Taking more room, and collecting, changes none of them.
	for i := range 5000 {
		s.setCmd(ctx, "x"+strconv.Itoa(i), boxAs(&s, any(0), -i-1000), time.Duration(i)*time.Second+1)
	}
	runtime.GC()
	check("after 5000 more")
}

// TestAdvArgSpaceLargeArgs takes argument slices larger than a chunk,
// and strings and words across chunk boundaries, then checks each.
func TestAdvArgSpaceLargeArgs(t *testing.T) {
	var s argSpace
	var slices [][]any
	var strs, words []any
	for i := range 3000 {
		n := []int{1, 5, 511, 512, 513, 1000, 2, 3}[i%8]
		a := s.args(n)
		for j := range a {
			a[j] = i*10000 + j
		}
		slices = append(slices, a)
		strs = append(strs, s.str("s"+strconv.Itoa(i)))
		words = append(words, s.int64(int64(i)*1_000_003-1_500_000_000))
	}
	runtime.GC()
	for i, a := range slices {
		for j := range a {
			if a[j] != i*10000+j {
				t.Fatalf("slice %d[%d] = %v", i, j, a[j])
			}
		}
		if len(a) != cap(a) {
			t.Fatalf("slice %d: len %d cap %d", i, len(a), cap(a))
		}
		if strs[i] != "s"+strconv.Itoa(i) {
			t.Fatalf("str %d = %v", i, strs[i])
		}
		if w := words[i]; w != int64(i)*1_000_003-1_500_000_000 {
			t.Fatalf("word %d = %T(%v)", i, w, w)
		}
	}
	// Boxes behave as Go's own: equality, map keys, reflection, fmt.
	m := map[any]int{}
	for i := range 600 {
		m[s.int64(int64(i))] = i
		m[s.str(strconv.Itoa(i))] = -i
	}
	for i := range 600 {
		if m[int64(i)] != i || m[strconv.Itoa(i)] != -i {
			t.Fatalf("map lookup of %d", i)
		}
	}
	if v := reflect.ValueOf(s.str("abc")); v.Kind() != reflect.String || v.String() != "abc" || v.CanSet() {
		t.Fatalf("reflect of a boxed string: %v", v)
	}
	if got := fmt.Sprint(boxAs(&s, any(int8(0)), int8(-128)), boxAs(&s, any(uint16(0)), uint16(65535))); got != "-128 65535" {
		t.Fatalf("fmt of boxes: %q", got)
	}
}

// TestAdvParamText checks that the text At writes into a prefix itself
// (paramText) is the text appendParam renders, for every type it takes,
// at the edges, and that it takes no other type.
func TestAdvParamText(t *testing.T) {
	vals := []any{
		0, 1, -1, math.MaxInt, math.MinInt, int64(math.MinInt64), int64(math.MaxInt64),
		uint64(math.MaxUint64), uint64(1 << 63), int32(math.MinInt32), int32(math.MaxInt32),
		uint32(math.MaxUint32), int16(math.MinInt16), int16(math.MaxInt16), int8(-128), int8(127),
		uint16(math.MaxUint16), uint8(255), uint(math.MaxUint), "", "x", "é", "-0", "007",
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		vals = append(vals, int(r.Int64()), r.Int64(), r.Uint64(), int32(r.Int32()), r.Uint32(), uint(r.Uint64()))
	}
	for _, v := range vals {
		var digits [20]byte
		got, ok := paramText(&digits, v)
		if !ok {
			t.Fatalf("paramText(%T) not taken", v)
		}
		want, why := appendParam(nil, v)
		if why != "" || string(got) != string(want) {
			t.Fatalf("paramText(%T(%v)) = %q, appendParam %q (%s)", v, v, got, want, why)
		}
	}
	type named string
	for _, v := range []any{uintptr(1), 1.0, true, nil, []byte("1"), named("x")} {
		var digits [20]byte
		if _, ok := paramText(&digits, v); ok {
			t.Fatalf("paramText took %T", v)
		}
	}
}
