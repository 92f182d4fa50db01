package inspect

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/tmpl"
)

// Group kinds.
const (
	KindDeclared = "declared" // instances of a declared key
	// KindIndex (defined with the model): instance indexes of an indexed Sub or ParamKey
	KindPrefix   = "prefix"   // keys stored under a namespace's own prefix (declared as no key)
	KindOrphan   = "orphan"   // under the schema's root, matching no declared template
	KindInferred = "inferred" // outside the schema (or with none): grouped by inferred pattern
	KindOverflow = "overflow" // inferred patterns past TreeOptions.MaxGroups
)

// Group is the keys of one declared template or inferred pattern.
type Group struct {
	Pattern      string           `json:"pattern"` // the declared full template, or the inferred pattern
	Kind         string           `json:"kind"`
	Field        string           `json:"field,omitempty"`         // Go field of a declared key or namespace
	DeclaredType string           `json:"declared_type,omitempty"` // Redis type the schema declares
	DeclaredTTL  *nest.TTLInfo    `json:"declared_ttl,omitempty"`
	Count        int64            `json:"count"`
	Types        map[string]int64 `json:"types"` // keys by Redis type, as TYPE reports it
	Memory       MemoryStats      `json:"memory"`
	TTL          TTLStats         `json:"ttl"`

	key      *Key
	memTaken int   // MEMORY USAGE calls reserved
	probed   int64 // keys whose TYPE and PTTL were read
}

// TreeReport is the result of [Tree]: `nest tree --json`.
type TreeReport struct {
	Schema   string   `json:"schema,omitempty"` // root template; "" when patterns are inferred
	Prefix   string   `json:"prefix,omitempty"`
	Nodes    int      `json:"nodes"`    // servers scanned (masters of a Redis Cluster)
	Scanned  int64    `json:"scanned"`  // names SCAN returned
	Vanished int64    `json:"vanished"` // names gone before they were examined
	Groups   []*Group `json:"groups"`
}

// TreeOptions adjust [Tree].
type TreeOptions struct {
	Prefix  string // only names starting with Prefix
	Samples int    // keys per group measured with MEMORY USAGE; default 5, negative: none
	// Probes is how many keys per group have their TYPE and PTTL read
	// (default DefaultProbes); the group's types and TTL figures are then
	// scaled to its exact count (TTLStats.Estimated). SCAN returns keys in
	// hash order, so the first keys of a group are a random sample.
	// Negative: every key (exact, about 3x the time of the SCAN walk).
	Probes    int
	ScanCount int // SCAN COUNT; default DefaultScanCount
	MaxGroups int // inferred patterns kept apart; default 10 000, then one overflow group
	// Progress, when set, is called after each batch with the names
	// scanned so far (from several goroutines on Redis Cluster, never at
	// once).
	Progress func(scanned int64)
}

// DefaultProbes is TreeOptions.Probes by default.
const DefaultProbes = 1024

func (o *TreeOptions) defaults() {
	if o.Samples == 0 {
		o.Samples = 5
	}
	if o.Probes == 0 {
		o.Probes = DefaultProbes
	}
	if o.MaxGroups <= 0 {
		o.MaxGroups = 10000
	}
}

// grouper assigns names to groups; shared by Tree and Audit.
type grouper struct {
	m         *Model
	maxGroups int
	declared  map[*Key]*Group
	prefixes  map[*Namespace]*Group
	byPattern map[string]*Group
	overflow  *Group
	order     []*Group // declared groups, in schema order
	rng       *rand.Rand
}

func newGrouper(m *Model, maxGroups int) *grouper {
	g := &grouper{m: m, maxGroups: maxGroups, declared: map[*Key]*Group{}, prefixes: map[*Namespace]*Group{},
		byPattern: map[string]*Group{}, rng: rand.New(rand.NewPCG(1, 2))}
	if m != nil {
		for _, k := range m.Keys() {
			kind := KindDeclared
			if k.Kind == KindIndex {
				kind = KindIndex
			}
			gr := &Group{Pattern: k.Template, Kind: kind, Field: k.Field, DeclaredType: k.RedisType,
				DeclaredTTL: k.TTL, Types: map[string]int64{}, key: k}
			g.declared[k] = gr
			g.order = append(g.order, gr)
		}
	}
	return g
}

// group returns the group of name and where it falls in the schema.
func (g *grouper) group(name string) (*Group, Match) {
	var mt Match
	if g.m != nil {
		mt = g.m.Match(name)
		switch {
		case mt.Key != nil:
			return g.declared[mt.Key], mt
		case mt.Prefix != nil:
			gr := g.prefixes[mt.Prefix]
			if gr == nil {
				gr = &Group{Pattern: mt.Prefix.Template, Kind: KindPrefix, Field: mt.Prefix.Field, Types: map[string]int64{}}
				g.prefixes[mt.Prefix] = gr
			}
			return gr, mt
		}
	}
	pat := Infer(name)
	kind := KindInferred
	if mt.Under {
		kind = KindOrphan
	}
	if gr := g.byPattern[kind+" "+pat]; gr != nil {
		return gr, mt
	}
	if len(g.byPattern) >= g.maxGroups {
		if g.overflow == nil {
			g.overflow = &Group{Pattern: "(other patterns)", Kind: KindOverflow, Types: map[string]int64{}}
		}
		return g.overflow, mt
	}
	gr := &Group{Pattern: pat, Kind: kind, Types: map[string]int64{}}
	g.byPattern[kind+" "+pat] = gr
	return gr, mt
}

// groups returns every group: declared ones in schema order (with no
// prefix, those without keys too), then the others by count.
func (g *grouper) groups(prefix string) []*Group {
	var out []*Group
	for _, gr := range g.order {
		if gr.Count > 0 || prefix == "" {
			out = append(out, gr)
		}
	}
	var rest []*Group
	for _, gr := range g.prefixes {
		rest = append(rest, gr)
	}
	for _, gr := range g.byPattern {
		rest = append(rest, gr)
	}
	rank := map[string]int{KindPrefix: 0, KindOrphan: 1, KindInferred: 2}
	slices.SortFunc(rest, func(a, b *Group) int {
		if rank[a.Kind] != rank[b.Kind] {
			return rank[a.Kind] - rank[b.Kind]
		}
		if a.Count != b.Count {
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		if a.Pattern < b.Pattern {
			return -1
		}
		if a.Pattern > b.Pattern {
			return 1
		}
		return 0
	})
	out = append(out, rest...)
	if g.overflow != nil {
		out = append(out, g.overflow)
	}
	for _, gr := range out {
		gr.TTL.finish()
		if gr.probed > 0 && gr.probed < gr.Count {
			gr.scale()
		}
		gr.Memory.finish(gr.Count)
	}
	return out
}

// scanMatch is the SCAN MATCH pattern of names starting with prefix.
func scanMatch(prefix string) string {
	if prefix == "" {
		return ""
	}
	return tmpl.EscapeGlob(prefix) + "*"
}

// Tree walks the keyspace of rdb (every master) and groups its keys by
// declared template (m may be nil: patterns are then inferred), with each
// group's count, Redis types, TTLs and the memory of a sample. It holds
// one SCAN batch per master and a fixed amount per group.
func Tree(ctx context.Context, rdb redis.UniversalClient, m *Model, opt TreeOptions) (*TreeReport, error) {
	opt.defaults()
	nodes, err := Nodes(ctx, rdb)
	if err != nil {
		return nil, err
	}
	rep := &TreeReport{Prefix: opt.Prefix, Nodes: len(nodes)}
	if m != nil {
		rep.Schema = m.Root.Template
	}
	g := newGrouper(m, opt.MaxGroups)
	var (
		mu      sync.Mutex
		scanned atomic.Int64
	)
	err = Walk(ctx, nodes, scanMatch(opt.Prefix), opt.ScanCount, func(ctx context.Context, b Batch) error {
		var groups []*Group
		var names []string
		var measure []bool
		mu.Lock()
		for _, name := range b.Names {
			gr, _ := g.group(name)
			if opt.Probes >= 0 && gr.probed >= int64(opt.Probes) {
				gr.Count++ // counted, not probed
				continue
			}
			gr.probed++
			groups = append(groups, gr)
			names = append(names, name)
			m := gr.memTaken < opt.Samples
			if m {
				gr.memTaken++
			}
			measure = append(measure, m)
		}
		mu.Unlock()
		types, ttls, mems, err := probe(ctx, b.Node.Client, names, measure)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for i, gr := range groups {
			if types[i] == "none" {
				gr.probed--
				rep.Vanished++
				continue
			}
			gr.Count++
			gr.Types[types[i]]++
			gr.TTL.add(ttls[i], g.rng)
			if ttls[i] < 0 && gr.DeclaresTTL() {
				gr.TTL.Missing++
			}
			if mems[i] >= 0 {
				gr.Memory.Sampled++
				gr.Memory.SampleBytes += mems[i]
			}
		}
		n := scanned.Add(int64(len(b.Names)))
		if opt.Progress != nil {
			opt.Progress(n)
		}
		return nil
	})
	rep.Scanned = scanned.Load()
	rep.Groups = g.groups(opt.Prefix)
	return rep, err
}

// probe sends TYPE and PTTL for every name, and MEMORY USAGE for those
// marked, in one pipeline. A missing reply to MEMORY USAGE (the key
// vanished) is -1, as is an unmeasured key.
func probe(ctx context.Context, c *redis.Client, names []string, measure []bool) (types []string, ttls, mems []int64, err error) {
	pipe := c.Pipeline()
	tc := make([]*redis.StatusCmd, len(names))
	pc := make([]*redis.DurationCmd, len(names))
	mc := make([]*redis.IntCmd, len(names))
	for i, name := range names {
		tc[i] = pipe.Type(ctx, name)
		pc[i] = pipe.PTTL(ctx, name)
		if measure[i] {
			mc[i] = pipe.MemoryUsage(ctx, name)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		// A vanished key makes MEMORY USAGE reply nil; other errors fail.
		for i := range names {
			if e := tc[i].Err(); e != nil {
				return nil, nil, nil, e
			}
		}
	}
	types = make([]string, len(names))
	ttls = make([]int64, len(names))
	mems = make([]int64, len(names))
	for i := range names {
		types[i] = tc[i].Val()
		ttls[i] = pttlMS(pc[i])
		mems[i] = -1
		if mc[i] != nil && mc[i].Err() == nil {
			mems[i] = mc[i].Val()
		}
	}
	return types, ttls, mems, nil
}

// pttlMS reads a PTTL reply as milliseconds; -1 for no TTL (and -2, a
// missing key).
func pttlMS(c *redis.DurationCmd) int64 {
	d := c.Val()
	if d < 0 {
		return -1
	}
	return d.Milliseconds()
}

// scale extrapolates the figures read from the group's probed keys to its
// count.
func (g *Group) scale() {
	f := func(n int64) int64 { return (n*g.Count + g.probed/2) / g.probed }
	for t, n := range g.Types {
		g.Types[t] = f(n)
	}
	t := &g.TTL
	t.None, t.Missing = f(t.None), f(t.Missing)
	t.Expiring = g.Count - t.None
	for i, n := range t.Histogram {
		t.Histogram[i] = f(n)
	}
	t.Estimated, t.Probed = true, g.probed
}

// DeclaresTTL reports whether the group is a declared key's with a
// declared expiry (so that keys without a TTL are immortal).
func (g *Group) DeclaresTTL() bool {
	return g.Kind == KindDeclared && g.DeclaredTTL != nil && !g.DeclaredTTL.None && g.DeclaredTTL.Seconds > 0
}
