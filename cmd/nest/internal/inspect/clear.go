package inspect

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/tmpl"
)

// ErrUsage marks a target or parameters that name no subtree, or that
// the library would refuse: the command reports them as usage mistakes.
var ErrUsage = errors.New("usage")

// Subtree is a namespace instance to count or clear, resolved from a
// template and parameters or from a prefix.
type Subtree struct {
	Namespace *Namespace `json:"-"`
	Template  string     `json:"template"` // the namespace's full template
	Prefix    string     `json:"prefix"`   // the instance's prefix

	live   nest.Namespace // bound by the library, when the model is live
	isLive bool
	max    int
}

// Subtree resolves target, a namespace's full template (with params
// giving its placeholders' values, by name) or a concrete prefix. Values
// are checked as the library checks them ([nest.CheckParam], and with a
// live schema ValidateParams through [nest.Namespace.Lookup]): a refused
// one is a *nest.ParamError, matching ErrUsage too. A schema export cannot
// carry ValidateParams rules, so a subtree under or holding a namespace
// that has them is refused unless the model is live.
func (m *Model) Subtree(target string, params map[string]string) (*Subtree, error) {
	var (
		n      *Namespace
		prefix string
		err    error
	)
	if strings.Contains(target, "{") && m.templateOf(target) != nil {
		n = m.templateOf(target)
		if prefix, err = m.render(n, params); err != nil {
			return nil, err
		}
	} else {
		if len(params) > 0 {
			return nil, fmt.Errorf("%w: --param goes with a template (such as %q), not with a prefix", ErrUsage, m.exampleTemplate())
		}
		if n, err = m.resolve(target); err != nil {
			return nil, err
		}
		prefix = target
	}
	st := &Subtree{Namespace: n, Template: n.Template, Prefix: prefix, max: m.MaxParamLen}
	if m.Live != nil {
		ns, err := m.Live.Lookup(prefix)
		if err != nil {
			return nil, usageErr(err)
		}
		st.live, st.isLive = ns, true
		return st, nil
	}
	var validated []string
	for p := n; p != nil; p = p.parent {
		if p.Validated {
			validated = append(validated, p.Field)
		}
	}
	n.Walk(func(c *Namespace) {
		if c != n && c.Validated {
			validated = append(validated, c.Field)
		}
	})
	if len(validated) > 0 {
		return nil, fmt.Errorf("%s declares ValidateParams, which a schema export cannot carry, so clearing %s from it could differ from the library's Clear; run the command embedded in your program (nestcli.Command)", strings.Join(validated, ", "), prefix)
	}
	return st, nil
}

func usageErr(err error) error { return &wrapUsage{err} }

type wrapUsage struct{ err error }

func (e *wrapUsage) Error() string   { return e.err.Error() }
func (e *wrapUsage) Unwrap() []error { return []error{e.err, ErrUsage} }

// templateOf returns the namespace whose full template is t, written with
// or without the braces of pinned segments.
func (m *Model) templateOf(t string) *Namespace {
	var found *Namespace
	m.Root.Walk(func(n *Namespace) {
		if found == nil && (n.Template == t || n.plainTemplate() == t) {
			found = n
		}
	})
	return found
}

func (n *Namespace) plainTemplate() string {
	if n.parent == nil {
		return n.Own
	}
	return n.parent.plainTemplate() + ":" + n.Own
}

func (m *Model) exampleTemplate() string {
	ex := m.Root.Template
	m.Root.Walk(func(n *Namespace) {
		if ex == m.Root.Template && n.Sub() {
			ex = n.Template
		}
	})
	return ex
}

// render renders the prefix of n's instance from params, refusing what
// Sub.With would refuse.
func (m *Model) render(n *Namespace, params map[string]string) (string, error) {
	var path []*Namespace
	for p := n; p != nil; p = p.parent {
		path = append(path, p)
	}
	slices.Reverse(path)
	used := map[string]bool{}
	var b strings.Builder
	for i, p := range path {
		if i > 0 {
			b.WriteByte(':')
		}
		t, err := tmpl.Parse(p.Own)
		if err != nil {
			return "", fmt.Errorf("%w: %s: %v", ErrUsage, p.Field, err)
		}
		vals := make([]string, len(t.Params()))
		for j, name := range t.Params() {
			if used[name] {
				return "", fmt.Errorf("%w: {%s} appears twice on the way to %s; give the prefix instead of the template", ErrUsage, name, n.Template)
			}
			used[name] = true
			v, ok := params[name]
			if !ok {
				return "", usageErr(&nest.ParamError{Template: p.Own, Field: p.Field, Param: name, Kind: nest.ErrMissingParam,
					Reason: "was not given (--param " + name + "=VALUE)"})
			}
			if err := nest.CheckParam(v, m.MaxParamLen); err != nil {
				return "", usageErr(fill(err, p, name))
			}
			vals[j] = v
		}
		seg := t.Render(vals)
		if p.Pinned {
			seg = "{" + seg + "}"
		}
		b.WriteString(seg)
	}
	var unknown []string
	for name := range params {
		if !used[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return "", usageErr(&nest.ParamError{Template: n.Own, Field: n.Field, Kind: nest.ErrInvalidParam,
			Reason: fmt.Sprintf("unknown parameter %q: %s names %v", unknown, n.Template, n.allParams())})
	}
	return b.String(), nil
}

func (n *Namespace) allParams() []string {
	var ps []string
	for p := n; p != nil; p = p.parent {
		ps = append(slices.Clone(p.Params), ps...)
	}
	return ps
}

// fill completes CheckParam's error with where the value went.
func fill(err error, p *Namespace, name string) error {
	var pe *nest.ParamError
	if errors.As(err, &pe) {
		c := *pe
		c.Template, c.Field, c.Param = p.Own, p.Field, name
		return &c
	}
	return err
}

// resolve finds the namespace whose instance prefix is prefix, checking
// its values as the library's Lookup does.
func (m *Model) resolve(prefix string) (*Namespace, error) {
	r := m.Root
	if prefix == r.pattern {
		return r, nil
	}
	if !strings.HasPrefix(prefix, r.pattern+":") {
		return nil, fmt.Errorf("%w: %q is not a template or prefix of the schema (its root is %q)", ErrUsage, prefix, r.Template)
	}
	n, rest := r, prefix[len(r.pattern)+1:]
	for {
		var next *Namespace
		var tail string
		for _, c := range n.Children {
			head, t, ok := cutSegments(rest, c.segs)
			if !ok {
				continue
			}
			if !c.Sub() {
				if head == c.own {
					next, tail = c, t
				}
			} else if matched, err := m.instance(c, head); err != nil {
				return nil, err
			} else if matched {
				next, tail = c, t
			}
			if next != nil {
				break
			}
		}
		if next == nil {
			for _, k := range n.Keys {
				if (k.param && matchValid(k.own, rest, m.MaxParamLen)) || rest == k.own {
					return nil, fmt.Errorf("%w: %q is a key (%s), not a namespace; clear takes a namespace's template or prefix", ErrUsage, prefix, k.Field)
				}
			}
			return nil, fmt.Errorf("%w: %q names no namespace declared under %s (%q)", ErrUsage, prefix, n.Field, n.Template)
		}
		if tail == "" {
			return next, nil
		}
		n, rest = next, tail
	}
}

// instance reports whether head is an instance segment of c, refusing
// values the library refuses.
func (m *Model) instance(c *Namespace, head string) (bool, error) {
	seg := head
	if c.Pinned {
		if len(seg) < 2 || seg[0] != '{' || seg[len(seg)-1] != '}' {
			return false, nil
		}
		seg = seg[1 : len(seg)-1]
	}
	t, err := tmpl.Parse(c.Own)
	if err != nil {
		return false, nil
	}
	vals, ok := t.Extract(seg)
	if !ok {
		return false, nil
	}
	for i, v := range vals {
		if err := nest.CheckParam(v, m.MaxParamLen); err != nil {
			return false, usageErr(fill(err, c, t.Params()[i]))
		}
	}
	return t.Render(vals) == seg, nil
}

// shape is what the library's Clear walks for the instance: the names it
// knows in full, the SCAN pattern covering its parameterised descendants
// and the filter of scanned names.
func (st *Subtree) shape() (fixed []string, match string) {
	fixed = []string{st.Prefix}
	var pats []string
	var add func(n *Namespace, prefix string)
	add = func(n *Namespace, prefix string) {
		for _, k := range n.Keys {
			if k.param {
				pats = append(pats, prefix+":"+k.own)
				continue
			}
			fixed = append(fixed, prefix+":"+k.own)
		}
		for _, c := range n.Children {
			if c.Sub() {
				pat := prefix + ":" + c.own
				if !strings.HasSuffix(pat, "*") {
					pat += "*"
				}
				pats = append(pats, pat)
				continue
			}
			cp := prefix + ":" + c.own
			fixed = append(fixed, cp)
			add(c, cp)
		}
	}
	add(st.Namespace, st.Prefix)
	switch len(pats) {
	case 0:
	case 1:
		match = pats[0]
	default:
		common := pats[0]
		if i := strings.IndexByte(common, '*'); i >= 0 {
			common = common[:i]
		}
		for _, p := range pats[1:] {
			n := 0
			for n < len(common) && n < len(p) && common[n] == p[n] {
				n++
			}
			common = common[:n]
		}
		match = common + "*"
	}
	return fixed, match
}

// member reports whether a scanned name belongs to the subtree.
func (st *Subtree) member(name string) bool {
	n := len(st.Prefix)
	return len(name) > n+1 && name[n] == ':' && strings.HasPrefix(name, st.Prefix) && st.below(st.Namespace, name[n+1:], false)
}

func (st *Subtree) below(p *Namespace, rest string, crossed bool) bool {
	for _, k := range p.Keys {
		if k.param {
			if matchValid(k.own, rest, st.max) {
				return true
			}
		} else if crossed && rest == k.own {
			return true
		}
	}
	for _, c := range p.Children {
		head, tail, ok := cutSegments(rest, c.segs)
		if !ok || !matchValid(c.own, head, st.max) {
			continue
		}
		inside := crossed || c.Sub()
		if tail == "" {
			if inside {
				return true
			}
			continue
		}
		if st.below(c, tail, inside) {
			return true
		}
	}
	return false
}

// Count returns how many keys the subtree holds, as the library's Count.
func (st *Subtree) Count(ctx context.Context, rdb redis.UniversalClient, progress func(int64)) (int64, error) {
	if st.isLive {
		return st.live.Count(ctx, nest.WithProgress(progress))
	}
	fixed, match := st.shape()
	var known int64
	for chunk := range slices.Chunk(fixed, 1000) {
		pipe := rdb.Pipeline()
		cmds := make([]*redis.IntCmd, len(chunk))
		for i, name := range chunk {
			cmds[i] = pipe.Exists(ctx, name)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return known, err
		}
		for _, c := range cmds {
			known += c.Val()
		}
	}
	if match == "" {
		return known, nil
	}
	nodes, err := Nodes(ctx, rdb)
	if err != nil {
		return known, err
	}
	var (
		mu   sync.Mutex
		seen = map[uint64]struct{}{}
		seed = maphash.MakeSeed()
	)
	err = Walk(ctx, nodes, match, DefaultScanCount, func(_ context.Context, b Batch) error {
		mu.Lock()
		defer mu.Unlock()
		for _, name := range b.Names {
			if st.member(name) {
				seen[maphash.String(seed, name)] = struct{}{}
			}
		}
		if progress != nil {
			progress(known + int64(len(seen)))
		}
		return nil
	})
	return known + int64(len(seen)), err
}

// Clear deletes the subtree's keys, as the library's Clear (which it
// calls with a live schema), at most rate keys a second (0: no limit),
// and returns how many it deleted.
func (st *Subtree) Clear(ctx context.Context, rdb redis.UniversalClient, rate float64, progress func(int64)) (int64, error) {
	if st.isLive {
		opts := []nest.SubtreeOption{nest.WithKeyRate(rate)}
		if progress != nil {
			opts = append(opts, nest.WithProgress(progress))
		}
		return st.live.Clear(ctx, opts...)
	}
	fixed, match := st.shape()
	var deleted atomic.Int64
	start := time.Now()
	var paceMu sync.Mutex
	var paced int64
	pace := func(n int) error {
		if rate <= 0 {
			return nil
		}
		paceMu.Lock()
		paced += int64(n)
		due := start.Add(time.Duration(float64(paced) / rate * float64(time.Second)))
		paceMu.Unlock()
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	unlink := func(c redis.Cmdable, names []string) error {
		for chunk := range slices.Chunk(names, 1000) {
			if err := pace(len(chunk)); err != nil {
				return err
			}
			pipe := c.Pipeline()
			cmds := make([]*redis.IntCmd, len(chunk))
			for i, name := range chunk {
				cmds[i] = pipe.Unlink(ctx, name)
			}
			_, err := pipe.Exec(ctx)
			for _, c := range cmds {
				deleted.Add(c.Val())
			}
			if progress != nil {
				progress(deleted.Load())
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := unlink(rdb, fixed); err != nil || match == "" {
		return deleted.Load(), err
	}
	nodes, err := Nodes(ctx, rdb)
	if err != nil {
		return deleted.Load(), err
	}
	err = Walk(ctx, nodes, match, DefaultScanCount, func(_ context.Context, b Batch) error {
		names := b.Names[:0:0]
		for _, name := range b.Names {
			if st.member(name) {
				names = append(names, name)
			}
		}
		return unlink(b.Node.Client, names)
	})
	return deleted.Load(), err
}
