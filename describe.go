package nest

import (
	"slices"
	"time"

	"github.com/redisimnest/nest/internal/slot"
)

// Description describes a namespace: its template, parameters, TTL, keys
// and child namespaces. It needs no Redis round trip. The Description of
// the root, wrapped with a version by [Export], is the schema export that
// tools read (see [Schema]).
type Description struct {
	Field     string           `json:"field"`               // Go path from the root, e.g. "Root.User"
	Type      string           `json:"type"`                // Go type
	Template  string           `json:"template"`            // own prefix template
	Prefix    string           `json:"prefix,omitempty"`    // full prefix, when every parameter is bound
	Pattern   string           `json:"pattern"`             // glob matching every full prefix
	Params    []Param          `json:"params,omitempty"`    // own placeholders
	Missing   []string         `json:"missing,omitempty"`   // names of unbound placeholders
	TTL       *TTLInfo         `json:"ttl,omitempty"`       // effective TTL; nil when none applies
	Pinned    bool             `json:"pinned,omitempty"`    // declared `slot:"pin"`
	HashTag   string           `json:"hash_tag,omitempty"`  // tag deciding the subtree's slot (a pattern when unbound); "" when not pinned
	Validated bool             `json:"validated,omitempty"` // the type implements [ParamValidator]: rules an export cannot carry
	Keys      []KeyDescription `json:"keys,omitempty"`
	Index     *IndexInfo       `json:"index,omitempty"` // the instance index of an indexed Sub (`index` tag)
	Children  []Description    `json:"children,omitempty"`
	Error     string           `json:"error,omitempty"` // why the handle is unusable
}

// KeyDescription describes a key.
type KeyDescription struct {
	Field     string     `json:"field"`             // Go path, e.g. "Root.User.Age"
	Template  string     `json:"template"`          // name template, e.g. "age"
	Name      string     `json:"name,omitempty"`    // full name, when resolvable
	Pattern   string     `json:"pattern"`           // glob matching every full name
	Type      string     `json:"type"`              // Go value type
	Codec     string     `json:"codec"`             // "int", "string", "json", "argon2id", ...
	Kind      string     `json:"kind,omitempty"`    // "password", "secret", "counter", "hash", "struct", "list", "set", "sortedset", "lock"; "" for a Key
	RedisType string     `json:"redis_type"`        // Redis type the key holds, as TYPE reports it: "string", "hash", "list", "set", "zset"
	Default   *string    `json:"default,omitempty"` // as written in the tag; nil when none
	Missing   []string   `json:"missing,omitempty"` // unbound placeholders of the key's own template
	TTL       *TTLInfo   `json:"ttl,omitempty"`
	Index     *IndexInfo `json:"index,omitempty"` // the instance index of an indexed ParamKey (`index` tag)
}

// IndexInfo describes an instance index: a Redis set in the parent
// namespace listing the instances of a Sub or ParamKey (see
// [Sub.RepairIndex]).
type IndexInfo struct {
	Name    string `json:"name,omitempty"` // full name, when the parent's prefix is bound
	Pattern string `json:"pattern"`        // glob matching every index key of the field
	Type    string `json:"type"`           // "set"
}

func indexInfo(parentPattern, parentPrefix string, ix *indexPlan) *IndexInfo {
	if ix == nil {
		return nil
	}
	info := &IndexInfo{Pattern: parentPattern + ":" + ix.name, Type: "set"}
	if parentPrefix != "" {
		info.Name = parentPrefix + ":" + ix.name
	}
	return info
}

// Param is a placeholder of a template and, when bound, its value.
type Param struct {
	Name  string `json:"name"`            // placeholder name
	Value string `json:"value,omitempty"` // formatted value, when bound
	Bound bool   `json:"bound"`
}

// TTLInfo is an effective TTL and where it was declared.
type TTLInfo struct {
	TTL     time.Duration `json:"-"`              // the duration; 0 with None
	Seconds float64       `json:"seconds"`        // TTL in seconds, for JSON
	None    bool          `json:"none,omitempty"` // declared "none": never expires
	Sliding bool          `json:"sliding,omitempty"`
	Fixed   bool          `json:"fixed,omitempty"` // counted from creation, never extended by writes
	From    string        `json:"from"`            // Go path of the declaration
}

func ttlInfo(t ttlSpec) *TTLInfo {
	if !t.declared() {
		return nil
	}
	return &TTLInfo{TTL: t.d, Seconds: t.d.Seconds(), None: t.none, Sliding: t.sliding, Fixed: t.fixed, From: t.from}
}

// Describe describes the namespace and everything declared under it.
func (n Namespace) Describe() Description {
	if n.ns.plan == nil {
		return Description{Error: ErrNotBound.Error()}
	}
	return describeNamespace(n.ns.plan, n.ns.prefix, n.ns.values(), n.ns.err, "")
}

// describeNamespace describes p; prefix is its full prefix ("" when not
// resolvable), vals the values of its own parameters (nil if unbound) and
// tag the hash tag its parent resolved, if any.
func describeNamespace(p *nsPlan, prefix string, vals []string, err error, tag string) Description {
	d := Description{
		Field: p.path, Type: p.typ.String(), Template: p.tmpl.String(),
		Pattern: p.pattern, TTL: ttlInfo(p.ttl),
	}
	if err != nil {
		d.Error, prefix = err.Error(), ""
	}
	if !p.tmpl.Static() && vals == nil {
		prefix = ""
	}
	d.Prefix = prefix
	d.Pinned = p.pinned
	d.Validated = p.validate != nil
	switch {
	case p.pin == nil:
	case prefix != "":
		d.HashTag = slot.Tag(prefix)
	case tag != "" && !p.pinned:
		d.HashTag = tag
	default:
		d.HashTag = slot.Tag(p.pattern)
	}
	for i, name := range p.tmpl.Params() {
		if vals == nil {
			d.Params = append(d.Params, Param{Name: name})
			d.Missing = append(d.Missing, name)
			continue
		}
		d.Params = append(d.Params, Param{Name: name, Value: vals[i], Bound: true})
	}
	for _, k := range p.keys {
		kd := KeyDescription{
			Field: k.path, Template: k.tmpl.String(), Pattern: k.pattern,
			Type: k.typeName, Codec: k.codecOf, Kind: k.kind.String(), RedisType: k.kind.redisType(), TTL: ttlInfo(k.ttl),
			Missing: slices.Clone(k.tmpl.Params()),
		}
		if k.hasDef {
			def := k.def
			kd.Default = &def
		}
		if prefix != "" && k.tmpl.Static() {
			kd.Name = prefix + ":" + k.tmpl.String()
		}
		kd.Index = indexInfo(p.pattern, prefix, k.index)
		d.Keys = append(d.Keys, kd)
	}
	for _, c := range p.children {
		childPrefix := ""
		if prefix != "" && c.tmpl.Static() {
			childPrefix = prefix + ":" + c.segment(c.tmpl.String())
		}
		cd := describeNamespace(c, childPrefix, nil, nil, d.HashTag)
		cd.Index = indexInfo(p.pattern, prefix, c.index)
		d.Children = append(d.Children, cd)
	}
	return d
}

func describeKey(h *keyHandle) KeyDescription {
	if h.p == nil {
		return KeyDescription{}
	}
	in := h.inst()
	prefix, vals := in.prefix, in.values()
	if !in.plan.tmpl.Static() && vals == nil {
		prefix = ""
	}
	d := describeNamespace(in.plan, prefix, vals, nil, "")
	for _, kd := range d.Keys {
		if kd.Field == h.p.path {
			if len(h.name) > int(h.cut) && h.err == nil { // not a ParamKey before At
				kd.Name, kd.Missing = h.name, nil
			}
			return kd
		}
	}
	return KeyDescription{}
}
