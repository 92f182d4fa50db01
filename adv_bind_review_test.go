package nest_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/redisimnest/nest"
)

// Review of binding by value (bind.go, instance_cache.go): the one-value
// fast path (bindOne) against the rendering path, the cache holding
// instances with plain child namespaces, == on handles, concurrency, and
// real Redis operations through handles bound both ways.

type (
	abrItem struct {
		nest.Namespace `nest:"item-{id}-v"`
		X              nest.Key[int]         `nest:"x"`
		Tag            nest.ParamKey[string] `nest:"tag:{t}"`
	}
	abrPin struct {
		nest.Namespace `nest:"p-{pid}" slot:"pin"`
		X              nest.Key[int] `nest:"x"`
	}
	abrMulti struct { // one placeholder, three segments
		nest.Namespace `nest:"a:{mid}:b"`
		X              nest.Key[int] `nest:"x"`
	}
	abrLeaf struct {
		nest.Namespace `nest:"leaf:{lid}"`
		Y              nest.Key[string] `nest:"y"`
	}
	abrTeam struct {
		nest.Namespace `nest:"team:{team_id}"`
		Name           nest.Key[string] `nest:"name"`
		Leaf           nest.Sub[abrLeaf]
		Stats          struct {
			nest.Namespace `nest:"stats"`
			Hits           nest.Key[int]      `nest:"hits"`
			Day            nest.ParamKey[int] `nest:"day:{day}"`
			Leaf2          nest.Sub[abrLeaf]
			Deep           struct {
				nest.Namespace `nest:"deep"`
				Z              nest.Key[int] `nest:"z"`
			}
		}
	}
	abrIx struct {
		nest.Namespace `nest:"ix:{xid}"`
		V              nest.Key[string] `nest:"v"`
	}
	abrRoot struct {
		nest.Namespace `nest:"abr"`
		Item           nest.Sub[abrItem]
		Pin            nest.Sub[abrPin]
		Multi          nest.Sub[abrMulti]
		Team           nest.Sub[abrTeam]
		Ix             nest.Sub[abrIx] `index:"set"`
		Val            nest.Sub[abrVal]
	}
	// abrVal has ValidateParams: never cached, never bound by the fast path.
	abrVal struct {
		nest.Namespace `nest:"val:{vid}"`
		K              nest.Key[int] `nest:"k"`
		Leaf           nest.Sub[abrLeaf]
	}
	// abrStringer takes the rendering path (a fmt.Stringer) with the text
	// the fast path writes for the predeclared value.
	abrStringer struct{ s string }
	// abrText and abrInt take the rendering path through reflection.
	abrText string
	abrInt  int64
)

var abrValidated atomic.Int64

func (abrVal) ValidateParams(p map[string]string) error {
	abrValidated.Add(1)
	if strings.HasPrefix(p["vid"], "bad") {
		return fmt.Errorf("vid %q refused", p["vid"])
	}
	return nil
}

func (s abrStringer) String() string { return s.s }

// abrText returns the text appendParam writes for v (a string or a
// predeclared integer).
func abrTextOf(v any) string { return fmt.Sprint(v) }

// abrValues are values of every kind the fast path takes, at the edges,
// and hostile strings.
func abrValues() []any {
	vals := []any{
		0, 1, -1, 7, 42, 99, 100, 999, 1000, -9, -99, -100, math.MaxInt, math.MinInt,
		int8(math.MinInt8), int8(math.MaxInt8), int8(0), int16(math.MinInt16), int16(math.MaxInt16),
		int32(math.MinInt32), int32(math.MaxInt32), int64(math.MinInt64), int64(math.MaxInt64),
		uint(0), uint(math.MaxUint), uint8(255), uint8(0), uint16(math.MaxUint16), uint32(math.MaxUint32),
		uint64(math.MaxUint64), uint64(1 << 63), uint64(5),
		"", "x", "42", "-0", "007", "abc", "abcd", "ab", "-v", "5-v", "v5", "item-5", "a:b", ":", "*", "a*", "?",
		"[", "]", `\`, "{", "}", "{x}", " ", "a b", "\t", "\n", "\x00", "\x7f", "é", "日本", "😀",
		"\u200b", "\u00ad", "\ufeff", "\u2028", "\u00a0", "\uff1a", "\u2236", "\u2217", "\uff5b", "\u034f",
		"\u3164", "\ufe0f", "\u2800", "\ufffd", "\ue000", "\ufdd0", "\xff", "\xc3", "a\xffb", "\xed\xa0\x80",
		strings.Repeat("a", 255), strings.Repeat("a", 256), strings.Repeat("a", 257), strings.Repeat("é", 128),
		strings.Repeat("9", 300),
	}
	return vals
}

// abrSnap is everything a bound namespace shows.
type abrSnap struct {
	Err       string
	ParamErr  nest.ParamError
	IsInvalid bool
	Prefix    string
	Params    map[string]string
	Desc      nest.Description
	Names     []string
	KeyParams []map[string]string
	KeyDesc   []nest.KeyDescription
}

type abrKey interface {
	Name() string
	Params() map[string]string
	Describe() nest.KeyDescription
	Err() error
}

func abrSnapOf(ns nest.Namespace, keys ...abrKey) abrSnap {
	s := abrSnap{Prefix: ns.Prefix(), Params: ns.Params(), Desc: ns.Describe()}
	if err := ns.Err(); err != nil {
		s.Err = err.Error()
		s.IsInvalid = errors.Is(err, nest.ErrInvalidParam)
		var pe *nest.ParamError
		if errors.As(err, &pe) {
			s.ParamErr = *pe
			s.ParamErr.Kind = nil // compared through IsInvalid and Err
		}
	}
	for _, k := range keys {
		s.Names = append(s.Names, k.Name())
		s.KeyParams = append(s.KeyParams, k.Params())
		s.KeyDesc = append(s.KeyDesc, k.Describe())
		if (k.Err() == nil) != (ns.Err() == nil) {
			s.Names = append(s.Names, "key and namespace disagree on Err")
		}
	}
	return s
}

// abrShapes binds v in every shape of Sub and returns what each shows,
// keyed by shape, with the prefix the value must give when accepted.
func abrShapes(root *abrRoot, v any, text string) map[string]struct {
	snap abrSnap
	want string
} {
	out := map[string]struct {
		snap abrSnap
		want string
	}{}
	add := func(name string, s abrSnap, want string) {
		out[name] = struct {
			snap abrSnap
			want string
		}{s, want}
	}
	it := root.Item.At(v)
	add("item", abrSnapOf(it.Namespace, it.X, it.Tag.At("q"), it.Tag.At(v)), "abr:item-"+text+"-v")
	p := root.Pin.At(v)
	add("pin", abrSnapOf(p.Namespace, p.X), "abr:{p-"+text+"}")
	m := root.Multi.At(v)
	add("multi", abrSnapOf(m.Namespace, m.X), "abr:a:"+text+":b")
	tm := root.Team.At(v)
	add("team", abrSnapOf(tm.Namespace, tm.Name, tm.Stats.Hits, tm.Stats.Day.At(3), tm.Stats.Deep.Z), "abr:team:"+text)
	add("team.stats", abrSnapOf(tm.Stats.Namespace, tm.Stats.Hits), "abr:team:"+text+":stats")
	add("team.stats.deep", abrSnapOf(tm.Stats.Deep.Namespace, tm.Stats.Deep.Z), "abr:team:"+text+":stats:deep")
	// Under a parent bound by the fast path and by the rendering path.
	for i, parent := range []*abrTeam{root.Team.At(7), root.Team.At(abrStringer{"7"})} {
		l := parent.Leaf.At(v)
		add(fmt.Sprint("leaf/", i), abrSnapOf(l.Namespace, l.Y), "abr:team:7:leaf:"+text)
		l2 := parent.Stats.Leaf2.At(v)
		add(fmt.Sprint("leaf2/", i), abrSnapOf(l2.Namespace, l2.Y), "abr:team:7:stats:leaf:"+text)
	}
	return out
}

// TestAdvBindFastPathEquivalence checks that a value the fast path takes
// (a string or a predeclared integer) binds exactly as the same text does
// through the rendering path (a fmt.Stringer, a named string, a named
// integer): names, Prefix, Params, Describe, Err and the ParamError's
// fields, in every shape of template, found in the cache or not, at the
// default MaxParamLen and at 3.
func TestAdvBindFastPathEquivalence(t *testing.T) {
	for _, maxLen := range []int{0, 3} {
		for _, size := range []int{1, 2, 0, -1} {
			t.Run(fmt.Sprintf("max=%d/slots=%d", maxLen, size), func(t *testing.T) {
				root := nest.MustNew[abrRoot](offlineClient(t), &nest.Options{InstanceCache: size, MaxParamLen: maxLen})
				limit := nest.DefaultMaxParamLen
				if maxLen > 0 {
					limit = maxLen
				}
				for _, v := range abrValues() {
					text := abrTextOf(v)
					twins := []any{abrStringer{text}}
					switch v.(type) {
					case string:
						twins = append(twins, abrText(text))
					case int, int8, int16, int32, int64:
						twins = append(twins, abrInt(reflect.ValueOf(v).Int()))
					}
					for round := range 2 {
						got := abrShapes(root, v, text)
						for _, twin := range twins {
							want := abrShapes(root, twin, text)
							for shape, g := range got {
								w := want[shape]
								if !reflect.DeepEqual(g.snap, w.snap) {
									t.Fatalf("round %d, %s: At(%T %q) shows\n%+v\nAt(%T) shows\n%+v", round, shape, v, text, g.snap, twin, w.snap)
								}
							}
						}
						// The value's own rule: integers are refused only for length.
						if _, isStr := v.(string); !isStr {
							g := got["item"].snap
							if ok := len(text) <= limit; ok != (g.Err == "") {
								t.Fatalf("At(%T %s) with MaxParamLen %d: err %q", v, text, limit, g.Err)
							}
						}
						for shape, g := range got {
							switch {
							case g.snap.Err == "" && g.snap.Prefix != g.want:
								t.Fatalf("%s: At(%T %q) prefix %q, want %q", shape, v, text, g.snap.Prefix, g.want)
							case g.snap.Err != "" && (g.snap.Prefix != "" || !g.snap.IsInvalid || slices.ContainsFunc(g.snap.Names, func(n string) bool { return n != "" })):
								t.Fatalf("%s: refused At(%T %q) shows %+v", shape, v, text, g.snap)
							}
						}
					}
				}
			})
		}
	}
}

// TestAdvBindRefusedNotCached checks that a refused value neither takes a
// slot (with one slot, a stored refusal would evict the instance bound
// before it) nor is found later, and that an unusable parent's error is
// what its children report, found by value or rendered.
func TestAdvBindRefusedNotCached(t *testing.T) {
	root := nest.MustNew[abrRoot](offlineClient(t), &nest.Options{InstanceCache: 1, MaxParamLen: 3})
	first := root.Item.At(5).X.Name()
	for _, bad := range []any{"a:b", 1000, "", "abcd", -100, "\xff", uint64(math.MaxUint64), abrStringer{"a:b"}} {
		for range 2 {
			if err := root.Item.At(bad).Err(); !errors.Is(err, nest.ErrInvalidParam) {
				t.Fatalf("At(%#v) = %v, want ErrInvalidParam", bad, err)
			}
		}
		again := root.Item.At(5).X.Name()
		if again != "abr:item-5-v:x" || unsafe.StringData(again) != unsafe.StringData(first) {
			t.Fatalf("after refusing %#v, At(5) no longer found the instance bound before it (%q)", bad, again)
		}
	}
	// An unusable parent: its error, not the child's, for every kind of value.
	bad := root.Team.At("a:b")
	for _, v := range []any{5, "5", abrStringer{"5"}, "x:y"} {
		for _, l := range []*abrLeaf{bad.Leaf.At(v), bad.Stats.Leaf2.At(v), bad.Leaf.With(nest.Params{"lid": v})} {
			if l.Err() == nil || l.Err() != bad.Err() || l.Prefix() != "" || l.Y.Name() != "" || l.Y.Err() != bad.Err() {
				t.Fatalf("child %#v of an unusable parent: err %v (parent %v), prefix %q, name %q", v, l.Err(), bad.Err(), l.Prefix(), l.Y.Name())
			}
		}
	}
}

// TestAdvBindValidateParams checks that a namespace with ValidateParams is
// validated on every At, whatever the value's type, never cached, that a
// refused instance's Describe keeps its values, and that its children
// report its error.
func TestAdvBindValidateParams(t *testing.T) {
	root := nest.MustNew[abrRoot](offlineClient(t), nil)
	for _, v := range []any{"ok", 5, abrStringer{"ok"}} {
		before := abrValidated.Load()
		a, b := root.Val.At(v), root.Val.At(v)
		if n := abrValidated.Load() - before; n != 2 {
			t.Fatalf("At(%#v) twice ran ValidateParams %d times", v, n)
		}
		if a.Err() != nil || unsafe.StringData(a.K.Name()) == unsafe.StringData(b.K.Name()) {
			t.Fatalf("At(%#v): err %v; second At shares the first's names (cached)", v, a.Err())
		}
		if *a != *b {
			t.Fatalf("At(%#v) twice: handles differ", v)
		}
		if l := a.Leaf.At(3); l.Y.Name() != "abr:val:"+abrTextOf(v)+":leaf:3:y" {
			t.Fatalf("leaf under a validated instance: %q", l.Y.Name())
		}
	}
	for _, v := range []any{"bad1", abrStringer{"bad1"}} {
		r := root.Val.At(v)
		var pe *nest.ParamError
		if !errors.As(r.Err(), &pe) || !strings.Contains(pe.Reason, "ValidateParams") {
			t.Fatalf("At(%#v) = %v", v, r.Err())
		}
		d := r.Describe()
		if d.Error == "" || len(d.Params) != 1 || d.Params[0].Value != "bad1" {
			t.Fatalf("Describe of a refused instance lost its value: %+v", d)
		}
		if r.Prefix() != "" || r.K.Name() != "" || r.K.Err() != r.Err() {
			t.Fatalf("refused instance: prefix %q, key %q, %v", r.Prefix(), r.K.Name(), r.K.Err())
		}
		if l := r.Leaf.At(3); l.Err() != r.Err() || l.Y.Name() != "" {
			t.Fatalf("child of a refused instance: %v, %q", l.Err(), l.Y.Name())
		}
	}
}

// TestAdvBindConcurrent has 64 goroutines bind overlapping values of
// several types through caches of 1, 2, the default and no slots, and
// checks every name, prefix and parameter against the expected text.
func TestAdvBindConcurrent(t *testing.T) {
	for _, size := range []int{1, 2, 0, -1} {
		t.Run(fmt.Sprint("slots=", size), func(t *testing.T) {
			root := nest.MustNew[abrRoot](offlineClient(t), &nest.Options{InstanceCache: size})
			var wrong atomic.Int64
			var first atomic.Value
			fail := func(format string, args ...any) {
				wrong.Add(1)
				first.CompareAndSwap(nil, fmt.Sprintf(format, args...))
			}
			var wg sync.WaitGroup
			for g := range 64 {
				wg.Go(func() {
					for i := range 150 {
						id := (g*13 + i*7) % 40
						s := strconv.Itoa(id)
						var v any
						switch (g + i) % 5 {
						case 0:
							v = id
						case 1:
							v = s
						case 2:
							v = abrStringer{s}
						case 3:
							v = int64(id)
						default:
							v = uint8(id)
						}
						tm := root.Team.At(v)
						p := "abr:team:" + s
						if tm.Prefix() != p || tm.Name.Name() != p+":name" || tm.Stats.Prefix() != p+":stats" ||
							tm.Stats.Hits.Name() != p+":stats:hits" || tm.Stats.Deep.Z.Name() != p+":stats:deep:z" ||
							tm.Stats.Deep.Prefix() != p+":stats:deep" || tm.Params()["team_id"] != s ||
							tm.Stats.Day.At(id).Name() != p+":stats:day:"+s {
							fail("Team.At(%#v): %q %q %q", v, tm.Prefix(), tm.Name.Name(), tm.Stats.Deep.Z.Name())
							continue
						}
						lid := (id + i) % 40
						if got, want := tm.Leaf.At(lid).Y.Name(), p+":leaf:"+strconv.Itoa(lid)+":y"; got != want {
							fail("Leaf: %q, want %q", got, want)
						}
						if got, want := tm.Stats.Leaf2.At(strconv.Itoa(lid)).Y.Name(), p+":stats:leaf:"+strconv.Itoa(lid)+":y"; got != want {
							fail("Leaf2: %q, want %q", got, want)
						}
						if got, want := root.Item.At(v).X.Name(), "abr:item-"+s+"-v:x"; got != want {
							fail("Item: %q, want %q", got, want)
						}
						if got, want := root.Pin.At(v).X.Name(), "abr:{p-"+s+"}:x"; got != want {
							fail("Pin: %q, want %q", got, want)
						}
						if *root.Team.At(v) != *root.Team.At(s) {
							fail("Team.At(%#v) != Team.At(%q)", v, s)
						}
					}
				})
			}
			wg.Wait()
			if n := wrong.Load(); n != 0 {
				t.Fatalf("%d wrong handles; first: %v", n, first.Load())
			}
		})
	}
}

// TestAdvBindSurvivesGC binds instances, drops everything but the cache and
// a few handles, collects garbage several times while allocating over the
// freed memory, and checks that both the kept handles and the cached
// instances still read their own names.
func TestAdvBindSurvivesGC(t *testing.T) {
	root := nest.MustNew[abrRoot](offlineClient(t), &nest.Options{InstanceCache: 64})
	kept := map[int]nest.Key[int]{}
	for id := range 200 {
		k := root.Team.At(id).Stats.Deep.Z
		if id%17 == 0 {
			kept[id] = k
		}
	}
	var junk [][]byte
	for range 4 {
		runtime.GC()
		for range 2000 {
			junk = append(junk, []byte(strings.Repeat("#", 64)))
		}
		junk = junk[len(junk)/2:]
	}
	for id, k := range kept {
		if want := "abr:team:" + strconv.Itoa(id) + ":stats:deep:z"; k.Name() != want {
			t.Fatalf("kept handle of %d reads %q", id, k.Name())
		}
	}
	for id := range 200 {
		tm := root.Team.At(id)
		p := "abr:team:" + strconv.Itoa(id)
		if tm.Stats.Deep.Z.Name() != p+":stats:deep:z" || tm.Name.Name() != p+":name" || tm.Prefix() != p {
			t.Fatalf("after GC, Team.At(%d): %q %q %q", id, tm.Prefix(), tm.Name.Name(), tm.Stats.Deep.Z.Name())
		}
	}
	runtime.KeepAlive(junk)
}

// TestAdvBindCompareEqual checks == on handles: equal for equal
// parameters whatever the path (positional, named, Stringer, cached or
// not), for structs with plain child namespaces, Subs and ParamKeys;
// different under other parents or in other Subs; and that comparing
// handles that carry errors does not panic.
func TestAdvBindCompareEqual(t *testing.T) {
	for _, size := range []int{1, 0, -1} {
		t.Run(fmt.Sprint("slots=", size), func(t *testing.T) {
			root := nest.MustNew[abrRoot](offlineClient(t), &nest.Options{InstanceCache: size})
			a := *root.Team.At(1)
			for _, v := range []any{1, "1", int8(1), uint64(1), abrStringer{"1"}, abrText("1"), abrInt(1)} {
				if b := *root.Team.At(v); b != a || b.Stats != a.Stats || b.Stats.Deep != a.Stats.Deep {
					t.Fatalf("Team.At(%#v) differs from Team.At(1)", v)
				}
				if *root.Team.With(nest.Params{"team_id": v}) != a {
					t.Fatalf("Team.With(%#v) differs from Team.At(1)", v)
				}
				if a.Leaf.At(v).Y != root.Team.At(v).Leaf.At(1).Y || a.Stats.Day.At(v) != root.Team.At("1").Stats.Day.At(1) {
					t.Fatalf("nested handles of %#v differ", v)
				}
			}
			if root.Team.At(1).Leaf.At(2).Y == root.Team.At(2).Leaf.At(2).Y ||
				root.Team.At(1).Leaf.At(2).Y == root.Team.At(1).Stats.Leaf2.At(2).Y ||
				*root.Team.At(1) == *root.Team.At(11) || root.Item.At(5).Namespace == root.Pin.At(5).Namespace {
				t.Fatal("handles of other parameters, parents or Subs compare equal")
			}
			// A zero Sub binds nothing, whatever the value.
			var zero nest.Sub[abrTeam]
			for _, v := range []any{1, "1", abrStringer{"1"}} {
				if z := zero.At(v); !errors.Is(z.Err(), nest.ErrNotBound) || z.Name.Name() != "" || *z != *zero.With(nest.Params{"team_id": v}) {
					t.Fatalf("zero Sub.At(%#v) = %v, %q", v, z.Err(), z.Name.Name())
				}
			}
			// Lookup of an instance is the instance At binds.
			if ns, err := root.Lookup("abr:team:1"); err != nil || ns != a.Namespace {
				t.Fatalf("Lookup(abr:team:1) = %+v, %v; At gives %+v", ns, err, a.Namespace)
			}
			// Error-carrying handles compare without panicking; equal errors
			// come from one refusal.
			assertNoPanic(t, "comparing refused handles", func() error {
				x, y := root.Team.At("a:b"), root.Team.At("a:b")
				_ = *x == *y
				_ = x.Leaf.At(1) == y.Leaf.At(1)
				v1, v2 := root.Val.At("bad"), root.Val.At("bad")
				_ = v1 == v2
				if x.Leaf.At(1).Y != x.Leaf.At(1).Y {
					t.Error("children of one unusable instance differ")
				}
				return nil
			})
		})
	}
}

// TestAdvBindLookupPlainChildEqual checks that Lookup of a plain child
// namespace of a bound instance gives the Namespace the instance's struct
// holds, as it does for the instance itself ("Handles bound to equal
// parameters compare equal with ==").
func TestAdvBindLookupPlainChildEqual(t *testing.T) {
	root := nest.MustNew[abrRoot](offlineClient(t), nil)
	tm := root.Team.At(1)
	for _, c := range []nest.Namespace{tm.Namespace, tm.Stats.Namespace, tm.Stats.Deep.Namespace} {
		ns, err := root.Lookup(c.Prefix())
		if err != nil || ns.Prefix() != c.Prefix() || ns.Describe().Field != c.Describe().Field {
			t.Fatalf("Lookup(%q) = %q, %v", c.Prefix(), ns.Prefix(), err)
		}
		if ns != c {
			t.Errorf("Lookup(%q) != the bound namespace %q (==)", c.Prefix(), c.Prefix())
		}
	}
}

// TestAdvBindPlainChildDescribe checks what the plain child namespaces of
// a cached instance show: Describe, Params, and the ParamKeys and Subs in
// them, found in the cache and built anew.
func TestAdvBindPlainChildDescribe(t *testing.T) {
	fresh := nest.MustNew[abrRoot](offlineClient(t), &nest.Options{InstanceCache: -1})
	root := nest.MustNew[abrRoot](offlineClient(t), &nest.Options{InstanceCache: 2})
	for round := range 3 {
		for _, v := range []any{3, "3", abrStringer{"3"}, 4} {
			tm, ref := root.Team.At(v), fresh.Team.At(abrStringer{abrTextOf(v)})
			p := "abr:team:" + abrTextOf(v)
			d := tm.Stats.Deep.Describe()
			if d.Prefix != p+":stats:deep" || d.Field != "abrRoot.Team.Stats.Deep" || len(d.Keys) != 1 || d.Keys[0].Name != p+":stats:deep:z" {
				t.Fatalf("round %d: Deep.Describe() = %+v", round, d)
			}
			if !reflect.DeepEqual(d, ref.Stats.Deep.Describe()) || !reflect.DeepEqual(tm.Describe(), ref.Describe()) ||
				!reflect.DeepEqual(tm.Stats.Describe(), ref.Stats.Describe()) {
				t.Fatalf("round %d: descriptions differ from an uncached instance", round)
			}
			if got := tm.Stats.Deep.Params(); got["team_id"] != abrTextOf(v) || len(got) != 1 {
				t.Fatalf("round %d: Deep.Params() = %v", round, got)
			}
			day := tm.Stats.Day.At(9)
			if day.Name() != p+":stats:day:9" || day.Params()["day"] != "9" || day.Params()["team_id"] != abrTextOf(v) {
				t.Fatalf("round %d: Day.At(9) = %q %v", round, day.Name(), day.Params())
			}
			if kd := tm.Stats.Day.Describe(); kd.Name != "" || !slices.Equal(kd.Missing, []string{"day"}) {
				t.Fatalf("round %d: unbound Day describes %+v", round, kd)
			}
			l := tm.Stats.Leaf2.At("z9")
			if l.Y.Name() != p+":stats:leaf:z9:y" || l.Params()["lid"] != "z9" || l.Params()["team_id"] != abrTextOf(v) {
				t.Fatalf("round %d: Leaf2 = %q %v", round, l.Y.Name(), l.Params())
			}
			if sd := tm.Stats.Leaf2.Describe(); sd.Prefix != "" || sd.Pattern != "abr:team:*:stats:leaf:*" {
				t.Fatalf("round %d: Leaf2.Describe() = %+v", round, sd)
			}
			if sub, err := tm.Lookup(p + ":stats:leaf:z9"); err != nil || sub != l.Namespace {
				t.Fatalf("round %d: Lookup of Leaf2 = %v, %v", round, sub.Prefix(), err)
			}
		}
	}
}

// TestAdvBindRedis runs commands through handles bound by the fast path
// and by the rendering path on a real server (or the cluster backend):
// each reads what the other wrote, and Keys, Count, Instances (scanned and
// indexed) and Clear see the same instances.
func TestAdvBindRedis(t *testing.T) {
	rdb := newRedis(t)
	ctx := context.Background()
	for _, size := range []int{1, -1} {
		root := nest.MustNew[abrRoot](rdb, &nest.Options{InstanceCache: size})
		for id := range 6 {
			s := strconv.Itoa(id)
			fast, slow := root.Team.At(id), root.Team.At(abrStringer{s})
			must(t, fast.Name.Set(ctx, "n"+s))
			must(t, slow.Stats.Hits.Set(ctx, id))
			must(t, fast.Leaf.At(id).Y.Set(ctx, "y"+s))
			must(t, root.Pin.At(s).X.Set(ctx, id))
			must(t, root.Ix.At(id).V.Set(ctx, "v"+s))
			if got, err := slow.Name.Get(ctx); err != nil || got != "n"+s {
				t.Fatalf("Name via rendering path: %q, %v", got, err)
			}
			if got, err := fast.Stats.Hits.Get(ctx); err != nil || got != id {
				t.Fatalf("Hits via fast path: %d, %v", got, err)
			}
			if got, err := slow.Leaf.At(abrText(s)).Y.Get(ctx); err != nil || got != "y"+s {
				t.Fatalf("Leaf via rendering path: %q, %v", got, err)
			}
			if got, err := root.Pin.At(abrStringer{s}).X.Get(ctx); err != nil || got != id {
				t.Fatalf("Pin via rendering path: %d, %v", got, err)
			}
			var keys []string
			for k, err := range fast.Keys(ctx) {
				must(t, err)
				keys = append(keys, k)
			}
			slices.Sort(keys)
			p := "abr:team:" + s
			if want := []string{p + ":leaf:" + s + ":y", p + ":name", p + ":stats:hits"}; !slices.Equal(keys, want) {
				t.Fatalf("Keys(%s) = %v, want %v", p, keys, want)
			}
			if n, err := slow.Count(ctx); err != nil || n != 3 {
				t.Fatalf("Count(%s) = %d, %v", p, n, err)
			}
		}
		for _, sub := range []struct {
			name string
			seq  func(func(string) bool)
		}{
			{"Team", func(yield func(string) bool) {
				for u, err := range root.Team.Instances(ctx) {
					must(t, err)
					if *u != *root.Team.At(u.Params()["team_id"]) || !yield(u.Prefix()) {
						t.Errorf("Team instance %q differs from At or stopped", u.Prefix())
						return
					}
				}
			}},
			{"Ix", func(yield func(string) bool) {
				for u, err := range root.Ix.Instances(ctx) {
					must(t, err)
					if *u != *root.Ix.At(abrStringer{u.Params()["xid"]}) || !yield(u.Prefix()) {
						t.Errorf("Ix instance %q differs from At or stopped", u.Prefix())
						return
					}
				}
			}},
		} {
			var got []string
			sub.seq(func(p string) bool { got = append(got, p); return true })
			slices.Sort(got)
			if len(got) != 6 {
				t.Fatalf("slots=%d: %s.Instances = %v", size, sub.name, got)
			}
		}
		for id := range 6 {
			if n, err := root.Team.At(abrStringer{strconv.Itoa(id)}).Clear(ctx); err != nil || n != 3 {
				t.Fatalf("Clear(team %d) = %d, %v", id, n, err)
			}
			if n, err := root.Team.At(id).Count(ctx); err != nil || n != 0 {
				t.Fatalf("Count after Clear(team %d) = %d, %v", id, n, err)
			}
		}
		if n, err := root.Clear(ctx); err != nil || n < 12 {
			t.Fatalf("slots=%d: Clear(root) = %d, %v (want the Pin and Ix keys at least)", size, n, err)
		}
		if n, err := root.Count(ctx); err != nil || n != 0 {
			t.Fatalf("slots=%d: Count(root) after Clear = %d, %v", size, n, err)
		}
	}
}

// TestAdvBindAllocations checks the allocation claims for instances with
// plain child namespaces, now cached: binding one found in the cache
// allocates nothing (a value under 256 boxes for free), a new one only
// its names, as does every bind with the cache off.
func TestAdvBindAllocations(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	root := nest.MustNew[abrRoot](offlineClient(t), nil)
	uncached := nest.MustNew[abrRoot](offlineClient(t), &nest.Options{InstanceCache: -1})
	id := 7
	sid := "7"
	for _, tc := range []struct {
		name string
		max  float64
		fn   func()
	}{
		{"Team.At(int) remembered", 0, func() { _ = root.Team.At(id).Stats.Deep.Z.Name() }},
		{"Team.At(string) remembered", 0, func() { _ = root.Team.At(sid).Stats.Deep.Z.Name() }},
		{"Team.At(7).Stats.Leaf2.At(int) remembered", 0, func() { _ = root.Team.At(id).Stats.Leaf2.At(id).Y.Name() }},
		{"Team.At(int), cache off", 1, func() { _ = uncached.Team.At(id).Stats.Deep.Z.Name() }},
	} {
		if got := testing.AllocsPerRun(200, tc.fn); got != tc.max {
			t.Errorf("%s: %.0f allocations, want %.0f", tc.name, got, tc.max)
		}
	}
}
