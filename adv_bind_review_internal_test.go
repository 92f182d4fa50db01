package nest

import (
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"unsafe"

	"github.com/redis/go-redis/v9"
)

type (
	abriLeaf struct {
		Namespace `nest:"leaf:{lid}"`
		Y         Key[string] `nest:"y"`
	}
	abriTeam struct {
		Namespace `nest:"team:{team_id}" slot:"pin"`
		Name      Key[string] `nest:"name"`
		Stats     struct {
			Namespace `nest:"stats"`
			Hits      Key[int] `nest:"hits"`
			Leaf      Sub[abriLeaf]
		}
	}
	abriRoot struct {
		Namespace `nest:"abri"`
		Team      Sub[abriTeam]
		Pair      Sub[abriPair]
	}
	abriPair struct {
		Namespace `nest:"pair:{a}:{b}"`
		X         Key[int] `nest:"x"`
	}
)

// abriNames returns the whole names string a bound struct's handles point
// into, read from the struct's own Namespace: its prefix starts right
// after the header.
func abriNames(lay *layout, ns *Namespace) string {
	p := (*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(ns.ns.prefix)), -namesHeader))
	return lay.namesAt(p)
}

// TestAdvBindCacheSlotsIntact binds overlapping values from many
// goroutines through tiny caches, then reads every slot of every cache:
// each holds a whole names string of its own Sub's layout, byte for byte
// what bind writes for its prefix (header included), whose prefix is one
// the test bound.
func TestAdvBindCacheSlotsIntact(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	for _, size := range []int{1, 2, 8} {
		t.Run(fmt.Sprint("slots=", size), func(t *testing.T) {
			root := MustNew[abriRoot](rdb, &Options{InstanceCache: size})
			valid := sync.Map{}
			var wg sync.WaitGroup
			for g := range 16 {
				wg.Go(func() {
					for i := range 200 {
						id := strconv.Itoa((g*5 + i) % 23)
						var v any = id
						if i%2 == 0 {
							v, _ = strconv.Atoi(id)
						}
						tm := root.Team.At(v)
						valid.Store(tm.Prefix(), true)
						l := tm.Stats.Leaf.At(v)
						valid.Store(l.Prefix(), true)
						valid.Store(root.Pair.At(v, id).Prefix(), true)
					}
				})
			}
			wg.Wait()
			for _, p := range []*nsPlan{root.Team.h.plan, root.Team.At(1).Stats.Leaf.h.plan, root.Pair.h.plan} {
				held := 0
				for i := range p.cache.slots {
					names := p.cache.slots[i].names.Load()
					if names == nil {
						continue
					}
					held++
					pfx := prefix(names)
					if _, ok := valid.Load(pfx); !ok {
						t.Fatalf("%s: slot %d holds %q, never bound", p.path, i, pfx)
					}
					u := reflect.New(p.typ)
					fresh := p.layout.bind(u.UnsafePointer(), []byte(pfx), 0)
					if got := p.layout.namesAt(names); got != fresh {
						t.Fatalf("%s: slot %d holds %q, bind writes %q", p.path, i, got, fresh)
					}
				}
				if held == 0 {
					t.Fatalf("%s: the cache holds nothing", p.path)
				}
			}
		})
	}
}

// TestAdvBindOneMatchesBindNew binds values through bindOne and through
// bindNew (the rendering path) with the cache off and compares the whole
// structs and the whole names strings, header included.
func TestAdvBindOneMatchesBindNew(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	root := MustNew[abriRoot](rdb, &Options{InstanceCache: -1})
	for _, v := range []string{"1", "42", "-7", "é", "x-y", "18446744073709551615"} {
		var a, b abriTeam
		h := root.Team.h
		h.bindOne(unsafe.Pointer(&a), []byte(v))
		h.bindNew(unsafe.Pointer(&b), []any{v}, nil)
		if a != b || a.Err() != nil {
			t.Fatalf("%q: bindOne %+v, bindNew %+v", v, a.Namespace, b.Namespace)
		}
		lay := h.plan.layout
		na, nb := abriNames(lay, &a.Namespace), abriNames(lay, &b.Namespace)
		if na != nb || len(na) != lay.namesLen(len(a.Prefix())) || prefixLen(unsafe.StringData(na)) != len(a.Prefix()) {
			t.Fatalf("%q: names %q and %q", v, na, nb)
		}
		want := "abri:{team:" + v + "}"
		if a.Prefix() != want || a.Stats.Hits.Name() != want+":stats:hits" || a.Stats.Leaf.At(v).Y.Name() != want+":stats:leaf:"+v+":y" {
			t.Fatalf("%q: %q %q", v, a.Prefix(), a.Stats.Hits.Name())
		}
	}
}
