package nest

import (
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

type amiLeaf struct {
	Namespace `nest:"leaf-{l}-z:{m}"`
	V         Key[string]      `nest:"v"`
	P         ParamKey[string] `nest:"a:{a}:b"`
}

type amiPlain struct {
	Namespace `nest:"plain:two"`
	Leaf      Sub[amiLeaf]
}

type amiPinned struct {
	Namespace `nest:"pin:{p}:x"`
	Plain     amiPlain
}

type amiRoot struct {
	Namespace `nest:"ami:root"`
	Pin       Sub[amiPinned] `slot:"pin"`
	Plain     amiPlain       `slot:"pin"`
}

// TestAdvMatchSegmentsUnchanged: segments() (now len(own)) still counts
// the ':'-separated segments of a rendering of the template, pinned
// braces or not, and every compiled own pattern matches a rendering of
// its template and refuses it one segment longer or shorter.
func TestAdvMatchSegmentsUnchanged(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	root := MustNew[amiRoot](rdb, nil)
	var visit func(p *nsPlan)
	n := 0
	visit = func(p *nsPlan) {
		n++
		if got, want := p.segments(), strings.Count(p.tmpl.String(), ":")+1; got != want {
			t.Errorf("%s: segments() = %d, want %d", p.path, got, want)
		}
		vals := make([]string, len(p.tmpl.Params()))
		for i := range vals {
			vals[i] = "v" + strings.Repeat("-", i)
		}
		r := p.segment(p.tmpl.Render(vals))
		if !p.own.match(r, p.c.maxParam) {
			t.Errorf("%s: own pattern does not match its rendering %q", p.path, r)
		}
		if _, ok := p.instanceSegment(r); !ok {
			t.Errorf("%s: instanceSegment(%q) refused", p.path, r)
		}
		for _, bad := range []string{r + ":", r + ":x", ":" + r, "x:" + r} {
			if p.own.match(bad, p.c.maxParam) {
				t.Errorf("%s: own pattern matches %q", p.path, bad)
			}
		}
		for _, k := range p.keys {
			kv := make([]string, len(k.tmpl.Params()))
			for i := range kv {
				kv[i] = "k"
			}
			kr := k.tmpl.Render(kv)
			if !k.own.match(kr, k.c.maxParam) || k.own.match(kr+":x", k.c.maxParam) || k.own.match("x:"+kr, k.c.maxParam) {
				t.Errorf("%s: own pattern %v wrong on %q", k.path, k.own, kr)
			}
		}
		for _, ch := range p.children {
			visit(ch)
		}
	}
	visit(root.Namespace.ns.plan)
	if n != 6 {
		t.Errorf("visited %d plans, want 6", n)
	}
}
