package nest_test

// Adversarial tests of the compiled subtree matcher (glob, compileGlob,
// nsPlan.below and nsPlan.instanceSegment in subtree_plan.go): hostile
// stored names planted with raw go-redis next to the names a hostile
// schema declares, and Keys, Count, Clear and Instances checked name by
// name against a hand-written oracle, on whatever backend the package
// runs on (standalone or NEST_TEST_BACKEND=cluster).

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
)

// The schema: literal text around a parameter in one segment, several
// parameters, a ValidateParams, Subs three deep, ParamKeys inside
// instances, a plain namespace inside an instance, a pinned Sub and an
// indexed Sub.

type amDeep struct {
	nest.Namespace `nest:"d-{d}-x"`
	Val            nest.Key[string]      `nest:"val"`
	Tag            nest.ParamKey[string] `nest:"tag:{t}:end"`
}

type amCfg struct {
	nest.Namespace `nest:"cfg:x"`
	K              nest.Key[string]      `nest:"k"`
	P              nest.ParamKey[string] `nest:"p-{p}"`
}

type amMid struct {
	nest.Namespace `nest:"mid:{m}:{region}"`
	Note           nest.Key[string] `nest:"note"`
	Deep           nest.Sub[amDeep]
	Cfg            amCfg
}

func (amMid) ValidateParams(p map[string]string) error {
	if p["region"] == "xx" {
		return errors.New("region xx is closed")
	}
	return nil
}

type amItem struct {
	nest.Namespace `nest:"item-{id}-v"`
	Age            nest.Key[int] `nest:"age"`
	Mid            nest.Sub[amMid]
}

type amPinInner struct {
	nest.Namespace `nest:"s:{s}"`
	V              nest.Key[string] `nest:"v"`
}

type amPin struct {
	nest.Namespace `nest:"pin:{pid}"`
	K              nest.Key[string] `nest:"k"`
	S              nest.Sub[amPinInner]
}

type amIx struct {
	nest.Namespace `nest:"ix:{xid}"`
	A              nest.Key[string] `nest:"a"`
}

type amRoot struct {
	nest.Namespace `nest:"am"`
	Item           nest.Sub[amItem]
	Pin            nest.Sub[amPin]       `slot:"pin"`
	Ix             nest.Sub[amIx]        `index:"set"`
	Set            nest.ParamKey[string] `nest:"set:{name}"`
	Flag           nest.Key[string]      `nest:"flag"`
}

// amMaxParam is the parameter length cap of the tests' clients.
const amMaxParam = 16

func newAmRoot(t *testing.T) (*amRoot, redis.UniversalClient) {
	t.Helper()
	rdb := newRedis(t)
	root, err := nest.New[amRoot](rdb, &nest.Options{MaxParamLen: amMaxParam})
	if err != nil {
		t.Fatalf("nest.New: %v", err)
	}
	return root, rdb
}

// amItem1 are declared names in the subtree of am:item-1-v (and so of am).
var amItem1 = []string{
	"am:item-1-v",
	"am:item-1-v:age",
	"am:item-1-v:mid:5:eu",
	"am:item-1-v:mid:5:eu:note",
	"am:item-1-v:mid:5:eu:d-7-x",
	"am:item-1-v:mid:5:eu:d-7-x:val",
	"am:item-1-v:mid:5:eu:d-7-x:tag:a:end",
	"am:item-1-v:mid:5:eu:d-x-x-x:val", // d = "x-x"
	"am:item-1-v:mid:5:eu:d---x:val",   // d = "-"
	"am:item-1-v:mid:5:eu:cfg:x",       // prefix key of a plain namespace inside an instance
	"am:item-1-v:mid:5:eu:cfg:x:k",
	"am:item-1-v:mid:5:eu:cfg:x:p-9",
	"am:item-1-v:mid:5:eu:cfg:x:p--",                                  // p = "-"
	"am:item-1-v:mid:é:ü:note",                                        // non-ASCII values At accepts
	"am:item-1-v:mid:5:note",                                          // the prefix key of Mid.At(5, "note"), not a key "note" one segment short
	"am:item-1-v:mid:" + strings.Repeat("m", amMaxParam) + ":eu:note", // exactly at the cap
}

// amRootOnly are declared names in the subtree of am but not of
// am:item-1-v (raw-planted; the indexed instance is written through the
// API, see plantAm).
var amRootOnly = []string{
	"am",
	"am:flag",
	"am:item-12-v:age",
	"am:item-1-v-v:age", // instance "1-v"
	"am:item--v-v",      // prefix key of instance "-v"
	"am:item-11-v:mid:5:eu:d-7-x:val",
	"am:set:a",
	"am:set:a-b",
	"am:{pin:1}",
	"am:{pin:1}:k",
	"am:{pin:1}:s:2",
	"am:{pin:1}:s:2:v",
	"am:{pin:é}:k",
}

// amForeign are names no subtree of the schema holds: Keys, Count and
// Clear must never touch them.
var amForeign = []string{
	"amx", "am:", "am::flag", "am:flag:", "am:flag:x", "am:flagx", "am:set", "am:set:", "am:set:a:b",
	"am:set::", "am:set:*", "am:set:a b", "am:ix:1:b", "am:ixx", "am:ix:",
	// Around the item instance.
	"am:item-1-v:", "am:item-1-v::age", "am:item-1-v:agex", "am:item-1-v:age:x", "am:item-1-v:age:",
	"am:item-1-vx:age", "am:item-1:age", "am:item--v:age", "am:item-v", "am:item-1-v-:age", "am:item--v",
	"am:item-1-w:age", "aitem-1-v:age", "am:item-1-v:Age", "am:Item-1-v:age",
	// Values At refuses.
	"am:item-*-v:age", "am:item-?-v:age", "am:item-[1]-v:age", `am:item-\-v:age`, "am:item-{1}-v:age",
	"am:item-1}-v:age", "am:item-1 2-v:age", "am:item-\t-v:age", "am:item-\x00-v:age", "am:item-\x7f-v:age",
	"am:item-\xff-v:age", "am:item-\xc3-v:age", "am:item-\u200b-v:age", "am:item-\u00ad-v:age",
	"am:item-\ufeff-v:age", "am:item-\uff1a-v:age", "am:item-\u2236-v:age", "am:item-\u3164-v:age",
	"am:item-\ufffd-v:age", "am:item-\ue000-v:age", "am:item-1\u034f-v:age", "am:item-\u00a0-v:age",
	"am:item-" + strings.Repeat("x", amMaxParam+1) + "-v:age",
	"am:item-" + strings.Repeat("é", amMaxParam/2+1) + "-v:age", // over the cap in bytes
	"am:item-" + strings.Repeat("x", amMaxParam+1) + "-v",
	// Inside the Mid instance: wrong arity, refused values, undeclared keys.
	"am:item-1-v:mid:5", "am:item-1-v:mid:5:eu:west:note",
	"am:item-1-v:mid:5:xx", "am:item-1-v:mid:5:xx:note", "am:item-1-v:mid:5:xx:d-7-x:val",
	"am:item-1-v:mid::eu:note", "am:item-1-v:mid:5::note", "am:item-1-v:mid:5:eu::note",
	"am:item-1-v:mid:5:eu:note:", "am:item-1-v:mid:5:eu:nope", "am:item-1-v:mid:5:e u:note",
	"am:item-1-v:mid:*:eu:note", "am:item-1-v:mid:5:eu*", "am:item-1-v:mid:5:eu:",
	"am:item-1-v:mid:5:" + strings.Repeat("r", amMaxParam+1) + ":note",
	// Three deep.
	"am:item-1-v:mid:5:eu:d--x:val", "am:item-1-v:mid:5:eu:d-x:val", "am:item-1-v:mid:5:eu:d-7-x:vals",
	"am:item-1-v:mid:5:eu:d-7-x:val:x", "am:item-1-v:mid:5:eu:d-7-x:", "am:item-1-v:mid:5:eu:d-7-y:val",
	"am:item-1-v:mid:5:eu:d-7-x:tag:a:b:end", "am:item-1-v:mid:5:eu:d-7-x:tag:a:end:",
	"am:item-1-v:mid:5:eu:d-7-x:tag::end", "am:item-1-v:mid:5:eu:d-7-x:tag:a", "am:item-1-v:mid:5:eu:d-7-x:tag:a:",
	"am:item-1-v:mid:5:eu:d-7-x:tag:a:endx", "am:item-1-v:mid:5:eu:d-7-x:tag:*:end", "am:item-1-v:mid:5:eu:d-7-x:tag",
	"am:item-1-v:mid:5:eu:d-{7}-x:val", "am:item-1-v:mid:5:eu:d-7:x-x:val",
	// The plain namespace inside the instance.
	"am:item-1-v:mid:5:eu:cfg", "am:item-1-v:mid:5:eu:cfg:k", "am:item-1-v:mid:5:eu:cfg:x:p-",
	"am:item-1-v:mid:5:eu:cfg:x:p-1:2", "am:item-1-v:mid:5:eu:cfg:x:kk", "am:item-1-v:mid:5:eu:cfg:x:",
	"am:item-1-v:mid:5:eu:cfg:x:k:", "am:item-1-v:mid:5:eu:cfg:y:k", "am:item-1-v:mid:5:eu:cfg:x:p-[1]",
	// Pinned: the unpinned form, broken tags, undeclared keys.
	"am:pin:1:k", "am:pin:1", "am:{pin:1}x:k", "am:{pin:1:k}", "am:{pin:1}}:k", "am:{{pin:1}:k", "am:{pin:}:k",
	"am:{pin:1}:s:2:w", "am:{pin:1}:s::v", "am:{pin:1 }:k", "am:{pin:1}:", "am:{pin:1}:s:2:", "am:{pin}:k",
	"am:{pin:1}:kk", "am:{pin:1}:s", "am:{pin:1}:s:2:v:x", "am:{pin:{1}}:k", "am:{pin:1}:k:",
	"am:{pin:*}:k", "am:{pin:1:2}:k", "am:{pin:\xff}:k",
}

// plantAm writes every name of the oracle; the indexed instance through
// the API (so that its index lists it).
func plantAm(t *testing.T, root *amRoot, rdb redis.UniversalClient) {
	t.Helper()
	writeKeys(t, rdb, amItem1...)
	writeKeys(t, rdb, amRootOnly...)
	writeKeys(t, rdb, amForeign...)
	must(t, root.Ix.At(1).A.Set(t.Context(), "a"))
	// Hostile index members: none of them names an instance.
	must(t, rdb.SAdd(t.Context(), "am:ix", "ix:1:a", "ix:*", "ix:", "ix", "1", "ix:2 ", "ix:{2}", "ix:\xff").Err())
}

// amIndexed are the names the indexed instance's write created.
var amIndexed = []string{"am:ix:1:a", "am:ix"}

// subtreeKeys collects Keys, de-duplicated and sorted.
func subtreeKeys(t *testing.T, n nest.Namespace) []string {
	t.Helper()
	seen := map[string]bool{}
	for k, err := range n.Keys(t.Context()) {
		if err != nil {
			t.Fatalf("Keys(%s): %v", n.Prefix(), err)
		}
		seen[k] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

// assertSurvivors checks that exactly the names of want exist among all
// the names planted.
func assertSurvivors(t *testing.T, rdb redis.UniversalClient, planted, want []string) {
	t.Helper()
	ctx := t.Context()
	keep := map[string]bool{}
	for _, n := range want {
		keep[n] = true
	}
	for _, n := range planted {
		got, err := rdb.Exists(ctx, n).Result()
		must(t, err)
		switch {
		case got == 1 && !keep[n]:
			t.Errorf("%q survived Clear, but is in the subtree", n)
		case got == 0 && keep[n]:
			t.Errorf("%q was deleted by Clear, but is not in the subtree", n)
		}
	}
}

func sortedCopy(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestAdvMatchItemSubtree: Keys, Count and Clear of am:item-1-v take
// exactly its declared names among hundreds of near misses.
func TestAdvMatchItemSubtree(t *testing.T) {
	root, rdb := newAmRoot(t)
	plantAm(t, root, rdb)
	ctx := t.Context()
	item := root.Item.At("1")
	want := sortedCopy(amItem1)
	if got := subtreeKeys(t, item.Namespace); !slices.Equal(got, want) {
		t.Errorf("Keys(am:item-1-v):\n got  %q\n want %q", got, want)
	}
	n, err := item.Count(ctx)
	must(t, err)
	if n != int64(len(want)) {
		t.Errorf("Count(am:item-1-v) = %d, want %d", n, len(want))
	}
	var mu sync.Mutex
	var skipped []string
	n, err = item.Clear(ctx, nest.WithSkipped(func(name string) {
		mu.Lock()
		skipped = append(skipped, name)
		mu.Unlock()
	}))
	must(t, err)
	if n != int64(len(want)) {
		t.Errorf("Clear(am:item-1-v) = %d, want %d", n, len(want))
	}
	all := sortedCopy(amItem1, amRootOnly, amForeign, amIndexed)
	assertSurvivors(t, rdb, all, sortedCopy(amRootOnly, amForeign, amIndexed))
	for _, s := range skipped {
		if slices.Contains(amItem1, s) {
			t.Errorf("WithSkipped reported the declared name %q", s)
		}
	}
}

// TestAdvMatchRootSubtree: the same from the root, where every
// parameterised field contributes to one covering SCAN.
func TestAdvMatchRootSubtree(t *testing.T) {
	root, rdb := newAmRoot(t)
	plantAm(t, root, rdb)
	ctx := t.Context()
	want := sortedCopy(amItem1, amRootOnly, amIndexed)
	if got := subtreeKeys(t, root.Namespace); !slices.Equal(got, want) {
		t.Errorf("Keys(am):\n got  %q\n want %q", got, want)
	}
	n, err := root.Count(ctx)
	must(t, err)
	if n != int64(len(want)) {
		t.Errorf("Count(am) = %d, want %d", n, len(want))
	}
	n, err = root.Clear(ctx)
	must(t, err)
	if n != int64(len(want)) {
		t.Errorf("Clear(am) = %d, want %d", n, len(want))
	}
	assertSurvivors(t, rdb, sortedCopy(want, amForeign), amForeign)
	// Clear again finds nothing more.
	if n, err := root.Clear(ctx); err != nil || n != 0 {
		t.Errorf("second Clear(am) = %d, %v; want 0, nil", n, err)
	}
	assertSurvivors(t, rdb, amForeign, amForeign)
}

// TestAdvMatchNestedSubtrees: Clear of instances two and three deep, of a
// plain namespace inside an instance, and of a pinned instance.
func TestAdvMatchNestedSubtrees(t *testing.T) {
	for _, tc := range []struct {
		name string
		ns   func(*amRoot) nest.Namespace
		want []string
	}{
		{"mid", func(r *amRoot) nest.Namespace { return r.Item.At("1").Mid.At(5, "eu").Namespace }, []string{
			"am:item-1-v:mid:5:eu", "am:item-1-v:mid:5:eu:note", "am:item-1-v:mid:5:eu:d-7-x",
			"am:item-1-v:mid:5:eu:d-7-x:val", "am:item-1-v:mid:5:eu:d-7-x:tag:a:end", "am:item-1-v:mid:5:eu:d-x-x-x:val",
			"am:item-1-v:mid:5:eu:d---x:val", "am:item-1-v:mid:5:eu:cfg:x", "am:item-1-v:mid:5:eu:cfg:x:k",
			"am:item-1-v:mid:5:eu:cfg:x:p-9", "am:item-1-v:mid:5:eu:cfg:x:p--",
		}},
		{"deep", func(r *amRoot) nest.Namespace { return r.Item.At("1").Mid.At(5, "eu").Deep.At(7).Namespace }, []string{
			"am:item-1-v:mid:5:eu:d-7-x", "am:item-1-v:mid:5:eu:d-7-x:val", "am:item-1-v:mid:5:eu:d-7-x:tag:a:end",
		}},
		{"deep-x-x", func(r *amRoot) nest.Namespace { return r.Item.At("1").Mid.At(5, "eu").Deep.At("x-x").Namespace }, []string{
			"am:item-1-v:mid:5:eu:d-x-x-x:val",
		}},
		{"cfg", func(r *amRoot) nest.Namespace { return r.Item.At("1").Mid.At(5, "eu").Cfg.Namespace }, []string{
			"am:item-1-v:mid:5:eu:cfg:x", "am:item-1-v:mid:5:eu:cfg:x:k", "am:item-1-v:mid:5:eu:cfg:x:p-9",
			"am:item-1-v:mid:5:eu:cfg:x:p--",
		}},
		{"pin", func(r *amRoot) nest.Namespace { return r.Pin.At(1).Namespace }, []string{
			"am:{pin:1}", "am:{pin:1}:k", "am:{pin:1}:s:2", "am:{pin:1}:s:2:v",
		}},
		{"pin-inner", func(r *amRoot) nest.Namespace { return r.Pin.At(1).S.At(2).Namespace }, []string{
			"am:{pin:1}:s:2", "am:{pin:1}:s:2:v",
		}},
		{"item-1-v", func(r *amRoot) nest.Namespace { return r.Item.At("1-v").Namespace }, []string{
			"am:item-1-v-v:age",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, rdb := newAmRoot(t)
			plantAm(t, root, rdb)
			ns := tc.ns(root)
			want := sortedCopy(tc.want)
			if got := subtreeKeys(t, ns); !slices.Equal(got, want) {
				t.Errorf("Keys(%s):\n got  %q\n want %q", ns.Prefix(), got, want)
			}
			n, err := ns.Count(t.Context())
			must(t, err)
			if n != int64(len(want)) {
				t.Errorf("Count(%s) = %d, want %d", ns.Prefix(), n, len(want))
			}
			n, err = ns.Clear(t.Context())
			must(t, err)
			if n != int64(len(want)) {
				t.Errorf("Clear(%s) = %d, want %d", ns.Prefix(), n, len(want))
			}
			all := sortedCopy(amItem1, amRootOnly, amForeign, amIndexed)
			var keep []string
			for _, name := range all {
				if !slices.Contains(want, name) {
					keep = append(keep, name)
				}
			}
			assertSurvivors(t, rdb, all, keep)
		})
	}
}

// TestAdvMatchInstances: Sub.Instances and ParamKey.Instances parse the
// hostile keyspace back into exactly the declared instances.
func TestAdvMatchInstances(t *testing.T) {
	root, rdb := newAmRoot(t)
	plantAm(t, root, rdb)
	ctx := t.Context()
	var mu sync.Mutex
	skippedDeclared := func(name string) {
		mu.Lock()
		defer mu.Unlock()
		if slices.Contains(amItem1, name) || slices.Contains(amRootOnly, name) {
			t.Errorf("WithSkipped reported the declared name %q", name)
		}
	}
	collect := func(what string, seq func(func(nest.Namespace, error) bool)) []string {
		t.Helper()
		var out []string
		for ns, err := range seq {
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if err := ns.Err(); err != nil {
				t.Errorf("%s yielded an unusable instance: %v", what, err)
				continue
			}
			out = append(out, ns.Prefix())
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	subs := func(yield func(nest.Namespace, error) bool) {
		for u, err := range root.Item.Instances(ctx, nest.WithSkipped(skippedDeclared)) {
			if u == nil {
				yield(nest.Namespace{}, err)
				return
			}
			if !yield(u.Namespace, err) {
				return
			}
		}
	}
	if got, want := collect("Item.Instances", subs), []string{"am:item--v-v", "am:item-1-v", "am:item-1-v-v", "am:item-11-v", "am:item-12-v"}; !slices.Equal(got, want) {
		t.Errorf("Item.Instances:\n got  %q\n want %q", got, want)
	}
	mids := func(yield func(nest.Namespace, error) bool) {
		for u, err := range root.Item.At("1").Mid.Instances(ctx, nest.WithSkipped(skippedDeclared)) {
			if u == nil {
				yield(nest.Namespace{}, err)
				return
			}
			if !yield(u.Namespace, err) {
				return
			}
		}
	}
	if got, want := collect("Mid.Instances", mids), []string{
		"am:item-1-v:mid:5:eu", "am:item-1-v:mid:5:note", "am:item-1-v:mid:" + strings.Repeat("m", amMaxParam) + ":eu", "am:item-1-v:mid:é:ü",
	}; !slices.Equal(got, want) {
		t.Errorf("Mid.Instances:\n got  %q\n want %q", got, want)
	}
	deeps := func(yield func(nest.Namespace, error) bool) {
		for u, err := range root.Item.At("1").Mid.At(5, "eu").Deep.Instances(ctx, nest.WithSkipped(skippedDeclared)) {
			if u == nil {
				yield(nest.Namespace{}, err)
				return
			}
			if !yield(u.Namespace, err) {
				return
			}
		}
	}
	if got, want := collect("Deep.Instances", deeps), []string{
		"am:item-1-v:mid:5:eu:d---x", "am:item-1-v:mid:5:eu:d-7-x", "am:item-1-v:mid:5:eu:d-x-x-x",
	}; !slices.Equal(got, want) {
		t.Errorf("Deep.Instances:\n got  %q\n want %q", got, want)
	}
	pins := func(yield func(nest.Namespace, error) bool) {
		for u, err := range root.Pin.Instances(ctx, nest.WithSkipped(skippedDeclared)) {
			if u == nil {
				yield(nest.Namespace{}, err)
				return
			}
			if !yield(u.Namespace, err) {
				return
			}
		}
	}
	if got, want := collect("Pin.Instances", pins), []string{"am:{pin:1}", "am:{pin:é}"}; !slices.Equal(got, want) {
		t.Errorf("Pin.Instances:\n got  %q\n want %q", got, want)
	}
	ixs := func(yield func(nest.Namespace, error) bool) {
		for u, err := range root.Ix.Instances(ctx) {
			if u == nil {
				yield(nest.Namespace{}, err)
				return
			}
			if !yield(u.Namespace, err) {
				return
			}
		}
	}
	if got, want := collect("Ix.Instances", ixs), []string{"am:ix:1"}; !slices.Equal(got, want) {
		t.Errorf("Ix.Instances:\n got  %q\n want %q", got, want)
	}
	keyNames := func(what string, seq func(func(nest.Key[string], error) bool)) []string {
		t.Helper()
		var out []string
		for k, err := range seq {
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			out = append(out, k.Name())
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	if got, want := keyNames("Set.Instances", root.Set.Instances(ctx, nest.WithSkipped(skippedDeclared))), []string{"am:set:a", "am:set:a-b"}; !slices.Equal(got, want) {
		t.Errorf("Set.Instances:\n got  %q\n want %q", got, want)
	}
	tags := root.Item.At("1").Mid.At(5, "eu").Deep.At(7).Tag.Instances(ctx, nest.WithSkipped(skippedDeclared))
	if got, want := keyNames("Tag.Instances", tags), []string{"am:item-1-v:mid:5:eu:d-7-x:tag:a:end"}; !slices.Equal(got, want) {
		t.Errorf("Tag.Instances:\n got  %q\n want %q", got, want)
	}
	ps := root.Item.At("1").Mid.At(5, "eu").Cfg.P.Instances(ctx, nest.WithSkipped(skippedDeclared))
	if got, want := keyNames("P.Instances", ps), []string{"am:item-1-v:mid:5:eu:cfg:x:p--", "am:item-1-v:mid:5:eu:cfg:x:p-9"}; !slices.Equal(got, want) {
		t.Errorf("P.Instances:\n got  %q\n want %q", got, want)
	}
	// Instances changed nothing but the index (hostile members are
	// reported, not removed, by Instances).
	all := sortedCopy(amItem1, amRootOnly, amForeign, amIndexed)
	assertSurvivors(t, rdb, all, all)
}

// A schema whose parameterised fields start with a parameter: names of
// one field are one segment away from names of another.

type azData struct {
	nest.Namespace `nest:"{uid}:data"`
	X              nest.Key[string] `nest:"x"`
}

type azRoot struct {
	nest.Namespace `nest:"az"`
	Data           nest.Sub[azData]
	Meta           nest.Key[string]      `nest:"meta"`
	TS             nest.ParamKey[string] `nest:"{k}:ts"`
}

// TestAdvMatchLeadingParam: az:meta (a key), az:meta:ts (TS "meta"),
// az:meta:data (the prefix key of Data "meta") and az:meta:data:x sit
// side by side; each Clear takes its own.
func TestAdvMatchLeadingParam(t *testing.T) {
	rdb := newRedis(t)
	root, err := nest.New[azRoot](rdb, nil)
	must(t, err)
	ctx := t.Context()
	declared := []string{"az:meta", "az:meta:ts", "az:meta:data", "az:meta:data:x", "az:ts:ts", "az:data:data:x", "az:ts:data"}
	foreign := []string{"az:meta:x", "az:meta:data:y", "az:meta:data:x:ts", "az:meta:ts:data", "az::ts", "az::data:x",
		"az:meta:ts:ts", "az:*:ts", "az:a b:data:x", "az:meta:datax", "az:ts", "az:data", "az:data:x", "az:meta:", "az:meta:data:"}
	writeKeys(t, rdb, declared...)
	writeKeys(t, rdb, foreign...)
	all := sortedCopy(declared, foreign)
	var keys []string
	for ts, err := range root.TS.Instances(ctx) {
		must(t, err)
		keys = append(keys, ts.Name())
	}
	slices.Sort(keys)
	if want := []string{"az:meta:ts", "az:ts:ts"}; !slices.Equal(keys, want) {
		t.Errorf("TS.Instances = %q, want %q", keys, want)
	}
	var insts []string
	for d, err := range root.Data.Instances(ctx) {
		must(t, err)
		insts = append(insts, d.Prefix())
	}
	slices.Sort(insts)
	if want := []string{"az:data:data", "az:meta:data", "az:ts:data"}; !slices.Equal(insts, want) {
		t.Errorf("Data.Instances = %q, want %q", insts, want)
	}
	n, err := root.Data.At("meta").Clear(ctx)
	must(t, err)
	if n != 2 {
		t.Errorf("Clear(az:meta:data) = %d, want 2", n)
	}
	rest := slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s == "az:meta:data" || s == "az:meta:data:x" })
	assertSurvivors(t, rdb, all, rest)
	if got, want := subtreeKeys(t, root.Namespace), sortedCopy([]string{"az:meta", "az:meta:ts", "az:ts:ts", "az:data:data:x", "az:ts:data"}); !slices.Equal(got, want) {
		t.Errorf("Keys(az) = %q, want %q", got, want)
	}
	n, err = root.Clear(ctx)
	must(t, err)
	if n != 5 {
		t.Errorf("Clear(az) = %d, want 5", n)
	}
	assertSurvivors(t, rdb, all, foreign)
}

// A pinned Sub whose segment has literal text around its parameter and a
// ValidateParams, and an indexed Sub whose instances hold a ParamKey (so
// that SCAN runs below the index too).

type ayPin struct {
	nest.Namespace `nest:"p-{pid}-q"`
	K              nest.Key[string]      `nest:"k"`
	F              nest.ParamKey[string] `nest:"f:{f}"`
}

func (ayPin) ValidateParams(p map[string]string) error {
	if strings.HasPrefix(p["pid"], "bad") {
		return errors.New("bad pid")
	}
	return nil
}

type ayUser struct {
	nest.Namespace `nest:"u:{uid}"`
	Name           nest.Key[string]      `nest:"name"`
	Pref           nest.ParamKey[string] `nest:"pref:{p}"`
}

type ayRoot struct {
	nest.Namespace `nest:"ay"`
	Pin            nest.Sub[ayPin]  `slot:"pin"`
	User           nest.Sub[ayUser] `index:"set,users"`
}

func TestAdvMatchPinnedAndIndexedBelow(t *testing.T) {
	rdb := newRedis(t)
	root, err := nest.New[ayRoot](rdb, nil)
	must(t, err)
	ctx := t.Context()
	must(t, root.User.At(1).Name.Set(ctx, "a"))
	must(t, root.User.At(1).Pref.At("x").Set(ctx, "b"))
	pinned := []string{"ay:{p-1-q}", "ay:{p-1-q}:k", "ay:{p-1-q}:f:z", "ay:{p-q-q}:k", "ay:{p---q}:k"}
	users := []string{"ay:u:1:name", "ay:u:1:pref:x", "ay:users",
		"ay:u:2:pref:y"} // not in the index, but SCAN runs below the indexed Sub
	foreign := []string{"ay:{p--q}:k", "ay:p-1-q:k", "ay:{p-1-q:k}", "ay:{p-1-q}x:k", "ay:{p-1-q}:f:z:w", "ay:{p-1-q}:f:", "ay:{p-bad1-q}:k",
		"ay:{p-bad-q}", "ay:{p--q-}:k", "ay:{p-1-q}:kk", "ay:{p-{1}-q}:k", "ay:{p-1 -q}:k", "ay:{p-1-q}:f:{z}",
		"ay:u:1:nick", "ay:u:1:pref:", "ay:u:1:pref:x:y", "ay:u::pref:x", "ay:users:x", "ay:u:*:pref:x", "ay:{p-1-q}:users"}
	writeKeys(t, rdb, pinned...)
	writeKeys(t, rdb, users[3])
	writeKeys(t, rdb, foreign...)
	must(t, rdb.SAdd(ctx, "ay:users", "u:1:name", "u:*", "u:", "u:{3}").Err())
	all := sortedCopy(pinned, users, foreign)

	var pins []string
	for p, err := range root.Pin.Instances(ctx) {
		must(t, err)
		pins = append(pins, p.Prefix())
	}
	slices.Sort(pins)
	if want := []string{"ay:{p---q}", "ay:{p-1-q}", "ay:{p-q-q}"}; !slices.Equal(pins, want) {
		t.Errorf("Pin.Instances = %q, want %q", pins, want)
	}
	n, err := root.Pin.At(1).Clear(ctx)
	must(t, err)
	if n != 3 {
		t.Errorf("Clear(ay:{p-1-q}) = %d, want 3", n)
	}
	rest := slices.DeleteFunc(slices.Clone(all), func(s string) bool { return strings.HasPrefix(s, "ay:{p-1-q}") && slices.Contains(pinned, s) })
	assertSurvivors(t, rdb, all, rest)

	want := sortedCopy([]string{"ay:{p-q-q}:k", "ay:{p---q}:k"}, users)
	if got := subtreeKeys(t, root.Namespace); !slices.Equal(got, want) {
		t.Errorf("Keys(ay):\n got  %q\n want %q", got, want)
	}
	c, err := root.Count(ctx)
	must(t, err)
	if c != int64(len(want)) {
		t.Errorf("Count(ay) = %d, want %d", c, len(want))
	}
	n, err = root.Clear(ctx)
	must(t, err)
	if n != int64(len(want)) {
		t.Errorf("Clear(ay) = %d, want %d", n, len(want))
	}
	assertSurvivors(t, rdb, all, foreign)
}
