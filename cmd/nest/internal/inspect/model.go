// Package inspect is the data layer of the nest command: the schema model
// (from a schema export or a live namespace), matching stored names to
// declared templates, pattern inference for keyspaces without a schema,
// SCAN walks over every master, and the reports of `nest tree`,
// `nest audit` and `nest clear`. It prints nothing and knows no command
// line: its report types, with their json tags, are the commands' --json
// output and what the web view serves.
package inspect

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/redisimnest/nest"
)

// Model is a schema as the command sees it: the tree of namespaces and keys
// of a [nest.Schema] export, with each one's full template and its own
// pattern (relative to its parent) worked out once.
type Model struct {
	Version     int        `json:"version"`
	MaxParamLen int        `json:"max_param_len"`
	Root        *Namespace `json:"root"`
	// Live is the namespace the model was built from, when it was built
	// from a live schema (embedded command): Clear then calls the library.
	Live *nest.Namespace `json:"-"`
	// Export is the schema export the model was built from.
	Export nest.Schema `json:"-"`
}

// Namespace is one declared namespace.
type Namespace struct {
	Field     string        `json:"field"`
	Template  string        `json:"template"`         // full template, pinned segments in braces: "root:{user:{user_id}}"
	Own       string        `json:"own_template"`     // own template: "user:{user_id}"
	Params    []string      `json:"params,omitempty"` // own placeholders
	Pinned    bool          `json:"pinned,omitempty"`
	Validated bool          `json:"validated,omitempty"`
	TTL       *nest.TTLInfo `json:"ttl,omitempty"`
	Keys      []*Key        `json:"keys,omitempty"`
	// Indexes are the instance indexes kept in this namespace (of its
	// indexed Sub children and ParamKeys): keys of kind "index".
	Indexes  []*Key       `json:"indexes,omitempty"`
	Children []*Namespace `json:"children,omitempty"`

	pattern string // full glob pattern
	own     string // own glob pattern (relative to the parent)
	segs    int    // ':'-separated segments of own
	parent  *Namespace
}

// Key is one declared key.
type Key struct {
	Field     string        `json:"field"`
	Template  string        `json:"template"` // full template
	GoType    string        `json:"go_type"`
	Codec     string        `json:"codec"`
	Kind      string        `json:"kind,omitempty"` // the library's kinds, and KindIndex for an instance index
	RedisType string        `json:"redis_type"`
	TTL       *nest.TTLInfo `json:"ttl,omitempty"`

	ns      *Namespace
	own     string  // own glob pattern
	param   bool    // a ParamKey
	Default *string `json:"default,omitempty"`
}

// KindIndex is the Kind of an instance index: the Redis set, in the
// parent namespace, listing the instances of a Sub or ParamKey tagged
// `index:"set"` (see the library's index.go). Its Field is the indexed
// field's.
const KindIndex = "index"

// Expires reports whether the schema declares an expiry for the key.
func (k *Key) Expires() bool { return k.TTL != nil && !k.TTL.None && k.TTL.Seconds > 0 }

// Namespace returns the namespace declaring the key.
func (k *Key) Namespace() *Namespace { return k.ns }

// Sub reports whether the namespace is parameterised (a nest.Sub field).
func (n *Namespace) Sub() bool { return len(n.Params) > 0 }

// Parent returns the enclosing namespace, nil for the root.
func (n *Namespace) Parent() *Namespace { return n.parent }

// Pattern returns the SCAN glob matching every instance prefix.
func (n *Namespace) Pattern() string { return n.pattern }

// ErrSchemaFile is the cause of every error reading a schema file.
var ErrSchemaFile = errors.New("not a nest schema export")

// Load reads a schema export (the JSON of [nest.Export]). A file holding
// a bare Description (json.Marshal(root.Describe()), as written before
// the export had a version) is read as version 0.
func Load(r io.Reader) (*Model, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var s struct {
		Version     *int             `json:"version"`
		MaxParamLen int              `json:"max_param_len"`
		Root        nest.Description `json:"root"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSchemaFile, err)
	}
	if s.Version == nil { // a bare Description?
		var d nest.Description
		if err := json.Unmarshal(data, &d); err != nil || d.Template == "" {
			return nil, fmt.Errorf("%w: no \"version\" field", ErrSchemaFile)
		}
		return build(nest.Schema{Version: 0, MaxParamLen: s.MaxParamLen, Root: d})
	}
	if *s.Version > nest.SchemaVersion {
		return nil, fmt.Errorf("%w: version %d is newer than this command reads (%d); update nest", ErrSchemaFile, *s.Version, nest.SchemaVersion)
	}
	return build(nest.Schema{Version: *s.Version, MaxParamLen: s.MaxParamLen, Root: s.Root})
}

// FromNamespace builds the model of a live schema, normally the root
// (root.Namespace).
func FromNamespace(ns nest.Namespace) (*Model, error) {
	m, err := build(nest.Export(ns))
	if err != nil {
		return nil, err
	}
	m.Live = &ns
	return m, nil
}

func build(s nest.Schema) (*Model, error) {
	if s.Root.Error != "" {
		return nil, fmt.Errorf("%w: the root namespace is unusable: %s", ErrSchemaFile, s.Root.Error)
	}
	if s.Root.Template == "" || s.Root.Pattern == "" {
		return nil, fmt.Errorf("%w: the root namespace has no template", ErrSchemaFile)
	}
	if s.MaxParamLen <= 0 {
		s.MaxParamLen = nest.DefaultMaxParamLen
	}
	root, err := buildNS(&s.Root, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSchemaFile, err)
	}
	return &Model{Version: s.Version, MaxParamLen: s.MaxParamLen, Root: root, Export: s}, nil
}

func buildNS(d *nest.Description, parent *Namespace) (*Namespace, error) {
	n := &Namespace{
		Field: d.Field, Own: d.Template, Pinned: d.Pinned, Validated: d.Validated, TTL: d.TTL,
		pattern: d.Pattern, parent: parent,
	}
	for _, p := range d.Params {
		n.Params = append(n.Params, p.Name)
	}
	own := n.Own
	if n.Pinned {
		own = "{" + own + "}"
	}
	if parent == nil {
		n.Template, n.own = own, d.Pattern
	} else {
		n.Template = parent.Template + ":" + own
		if !strings.HasPrefix(d.Pattern, parent.pattern+":") {
			return nil, fmt.Errorf("%s: pattern %q is not under %q", d.Field, d.Pattern, parent.pattern)
		}
		n.own = d.Pattern[len(parent.pattern)+1:]
	}
	n.segs = strings.Count(n.own, ":") + 1
	for i := range d.Keys {
		kd := &d.Keys[i]
		if !strings.HasPrefix(kd.Pattern, n.pattern+":") {
			return nil, fmt.Errorf("%s: pattern %q is not under %q", kd.Field, kd.Pattern, n.pattern)
		}
		n.Keys = append(n.Keys, &Key{
			Field: kd.Field, Template: n.Template + ":" + kd.Template, GoType: kd.Type, Codec: kd.Codec,
			Kind: kd.Kind, RedisType: kd.RedisType, TTL: kd.TTL, Default: kd.Default,
			ns: n, own: kd.Pattern[len(n.pattern)+1:], param: strings.Contains(kd.Template, "{"),
		})
	}
	for i := range d.Children {
		c, err := buildNS(&d.Children[i], n)
		if err != nil {
			return nil, err
		}
		n.Children = append(n.Children, c)
	}
	// Instance indexes live in this namespace: those of its indexed
	// ParamKeys, then those of its indexed Subs.
	for i := range d.Keys {
		if err := n.addIndex(d.Keys[i].Field, d.Keys[i].Index); err != nil {
			return nil, err
		}
	}
	for i := range d.Children {
		if err := n.addIndex(d.Children[i].Field, d.Children[i].Index); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// addIndex declares the instance index of field (a Sub or ParamKey
// declared in n), if it has one.
func (n *Namespace) addIndex(field string, ix *nest.IndexInfo) error {
	if ix == nil {
		return nil
	}
	own, ok := strings.CutPrefix(ix.Pattern, n.pattern+":")
	if !ok || own == "" || strings.ContainsAny(own, "*?[]\\{}") {
		return fmt.Errorf("%s: index pattern %q is not a literal name under %q", field, ix.Pattern, n.pattern)
	}
	typ := ix.Type
	if typ == "" {
		typ = "set"
	}
	n.Indexes = append(n.Indexes, &Key{
		Field: field, Template: n.Template + ":" + own, Kind: KindIndex, RedisType: typ,
		ns: n, own: own,
	})
	return nil
}

// Walk calls fn for n and every namespace below it, parents first.
func (n *Namespace) Walk(fn func(*Namespace)) {
	fn(n)
	for _, c := range n.Children {
		c.Walk(fn)
	}
}

// Keys returns every key declared in the model, in declaration order,
// each namespace's instance indexes after its keys.
func (m *Model) Keys() []*Key {
	var ks []*Key
	m.Root.Walk(func(n *Namespace) {
		ks = append(ks, n.Keys...)
		ks = append(ks, n.Indexes...)
	})
	return ks
}
