package inspect

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Finding kinds.
const (
	FindOrphan      = "orphan"      // under the root, matching no declared key
	FindImmortal    = "immortal"    // no TTL although the schema declares one
	FindWrongType   = "wrong_type"  // another Redis type than declared
	FindUndecodable = "undecodable" // the value does not decode with the declared codec (sampled)
	FindTooLarge    = "too_large"   // over AuditOptions.MaxValueSize
)

// FindingKinds lists the kinds in report order.
var FindingKinds = []string{FindOrphan, FindImmortal, FindWrongType, FindUndecodable, FindTooLarge}

// Finding is one problem with one key.
type Finding struct {
	Kind     string `json:"kind"`
	Key      string `json:"key"`
	Template string `json:"template,omitempty"` // the declared template, or the inferred pattern of an orphan
	Detail   string `json:"detail"`
}

// AuditReport is the result of [Audit]: `nest audit --json`.
type AuditReport struct {
	Schema  string `json:"schema"`
	Nodes   int    `json:"nodes"`
	Scanned int64  `json:"scanned"` // names SCAN returned
	Audited int64  `json:"audited"` // of those, keys under the schema's root
	Decoded int64  `json:"decoded"` // values decoded (a sample per template)
	// Counts holds the number of findings of each kind.
	Counts map[string]int64 `json:"counts"`
	// Findings lists at most AuditOptions.Limit findings of each kind,
	// sorted by kind and key.
	Findings []Finding `json:"findings"`
	// NotChecked lists the templates whose values audit cannot decode
	// (secrets, custom codecs, collections' elements), with why.
	NotChecked []string `json:"not_checked,omitempty"`
}

// Total returns the number of findings.
func (r *AuditReport) Total() int64 {
	var n int64
	for _, c := range r.Counts {
		n += c
	}
	return n
}

// AuditOptions adjust [Audit].
type AuditOptions struct {
	Samples      int   // values decoded per template; default 20, negative: none
	MaxValueSize int64 // bytes (STRLEN of strings, MEMORY USAGE of others); 0: no check
	ScanCount    int
	Limit        int // findings listed per kind; default 100
	Progress     func(scanned int64)
}

// Audit walks the keys under the schema's root on every master and checks
// each against its declaration: orphans, missing TTLs, Redis types and
// sizes for every key, values decoded with the declared codec for a sample
// of each template.
func Audit(ctx context.Context, rdb redis.UniversalClient, m *Model, opt AuditOptions) (*AuditReport, error) {
	if opt.Samples == 0 {
		opt.Samples = 20
	}
	if opt.Limit <= 0 {
		opt.Limit = 100
	}
	nodes, err := Nodes(ctx, rdb)
	if err != nil {
		return nil, err
	}
	rep := &AuditReport{Schema: m.Root.Template, Nodes: len(nodes), Counts: map[string]int64{}}
	for _, k := range FindingKinds {
		rep.Counts[k] = 0
	}
	var (
		mu      sync.Mutex
		scanned atomic.Int64
		decodes = map[*Key]int{}
		notes   = map[string]string{}
	)
	for _, k := range m.Keys() {
		switch {
		case k.Kind == KindIndex:
		case k.Kind == "secret":
			notes[k.Template] = "secret: sealed, not decoded"
		case k.RedisType != "string" && k.Codec != "string" && k.Codec != "bytes":
			notes[k.Template] = k.Kind + " elements (" + k.Codec + "): not decoded"
		case k.RedisType == "string" && !checkable(k):
			notes[k.Template] = "codec " + k.Codec + ": not checked"
		}
	}
	add := func(f Finding) {
		rep.Counts[f.Kind]++
		if rep.Counts[f.Kind] <= int64(opt.Limit) {
			rep.Findings = append(rep.Findings, f)
		}
	}
	err = Walk(ctx, nodes, scanMatch(m.Root.pattern), opt.ScanCount, func(ctx context.Context, b Batch) error {
		type item struct {
			name   string
			mt     Match
			decode bool
		}
		items := make([]item, 0, len(b.Names))
		mu.Lock()
		for _, name := range b.Names {
			mt := m.Match(name)
			if !mt.Under {
				continue
			}
			it := item{name: name, mt: mt}
			if k := mt.Key; k != nil && checkable(k) && decodes[k] < opt.Samples {
				decodes[k]++
				it.decode = true
			}
			items = append(items, it)
		}
		mu.Unlock()
		pipe := b.Node.Client.Pipeline()
		tc := make([]*redis.StatusCmd, len(items))
		pc := make([]*redis.DurationCmd, len(items))
		sc := make([]*redis.IntCmd, len(items))
		gc := make([]*redis.StringCmd, len(items))
		for i, it := range items {
			tc[i] = pipe.Type(ctx, it.name)
			pc[i] = pipe.PTTL(ctx, it.name)
			if opt.MaxValueSize > 0 {
				if it.mt.Key != nil && it.mt.Key.RedisType == "string" {
					sc[i] = pipe.StrLen(ctx, it.name)
				} else {
					sc[i] = pipe.MemoryUsage(ctx, it.name)
				}
			}
			if it.decode {
				gc[i] = pipe.Get(ctx, it.name)
			}
		}
		if len(items) > 0 {
			if _, err := pipe.Exec(ctx); err != nil {
				for i := range items {
					if e := tc[i].Err(); e != nil {
						return e
					}
				}
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for i, it := range items {
			typ := tc[i].Val()
			if typ == "none" {
				continue // gone meanwhile
			}
			rep.Audited++
			k := it.mt.Key
			if k == nil {
				detail := "matches no declared template"
				if it.mt.Prefix != nil {
					detail = "the prefix of a " + it.mt.Prefix.Field + " instance, which declares no key there"
				}
				add(Finding{Kind: FindOrphan, Key: it.name, Template: Infer(it.name), Detail: detail})
				continue
			}
			if typ != k.RedisType {
				what := k.Field + " declares"
				if k.Kind == KindIndex {
					what = "the instance index of " + k.Field + " is"
				}
				add(Finding{Kind: FindWrongType, Key: it.name, Template: k.Template,
					Detail: fmt.Sprintf("holds a %s; %s a %s", typ, what, k.RedisType)})
			}
			if k.Expires() && pttlMS(pc[i]) < 0 {
				add(Finding{Kind: FindImmortal, Key: it.name, Template: k.Template,
					Detail: fmt.Sprintf("has no TTL; %s declares %gs (from %s)", k.Field, k.TTL.Seconds, k.TTL.From)})
			}
			if sc[i] != nil && sc[i].Err() == nil && sc[i].Val() > opt.MaxValueSize {
				what := "value"
				if k.RedisType != "string" || typ != "string" {
					what = "MEMORY USAGE"
				}
				add(Finding{Kind: FindTooLarge, Key: it.name, Template: k.Template,
					Detail: fmt.Sprintf("%s of %d bytes, over --max-value-size %d", what, sc[i].Val(), opt.MaxValueSize)})
			}
			if gc[i] != nil && typ == "string" && gc[i].Err() == nil {
				rep.Decoded++
				if why := checkValue(k, []byte(gc[i].Val())); why != "" {
					add(Finding{Kind: FindUndecodable, Key: it.name, Template: k.Template,
						Detail: fmt.Sprintf("%s (codec %s, %s)", why, k.Codec, k.GoType)})
				}
			}
		}
		n := scanned.Add(int64(len(b.Names)))
		if opt.Progress != nil {
			opt.Progress(n)
		}
		return nil
	})
	rep.Scanned = scanned.Load()
	kindRank := map[string]int{}
	for i, k := range FindingKinds {
		kindRank[k] = i
	}
	slices.SortFunc(rep.Findings, func(a, b Finding) int {
		if a.Kind != b.Kind {
			return kindRank[a.Kind] - kindRank[b.Kind]
		}
		return strings.Compare(a.Key, b.Key)
	})
	for t, why := range notes {
		rep.NotChecked = append(rep.NotChecked, t+": "+why)
	}
	slices.Sort(rep.NotChecked)
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
	return rep, err
}
