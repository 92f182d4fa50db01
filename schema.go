package nest

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest/internal/tmpl"
)

// New binds the schema R to a go-redis client and returns its root.
//
// R is a struct that embeds [Namespace] (whose `nest:"prefix"` tag names the
// root prefix) and declares keys ([Key], [ParamKey], [Password], [Secret]),
// plain child namespaces (struct fields that embed Namespace) and
// parameterised child namespaces ([Sub]). New checks the whole declaration
// once and compiles it, so that reaching a handle later costs no
// reflection. It reports every mistake it finds, not only the first: each
// is a *[SchemaError] naming the Go type and field, matching [ErrSchema];
// several are joined with [errors.Join], one per line. A schema that
// declares [Secret] keys needs a keyring (see [Options.SecretKeys]); a
// missing or malformed one is reported once, naming the first Secret
// field, as an [ErrConfig] error that does not match ErrSchema (joined with
// the schema's mistakes, if it has any).
//
// Field tags:
//
//	nest:"name"       key name or namespace prefix template, required
//	                  ("user:{user_id}"); "-" skips the field
//	ttl:"120s"        TTL of a key or namespace: a Go duration, a number of
//	                  seconds, or "none"; ",sliding" renews it on reads
//	default:"0"       value Get returns for a missing key (stored form for
//	                  strings, numbers, bools and times; JSON otherwise)
//	codec:"msgpack"   codec for this key (see [Codec]); "redisimnest" stores
//	                  a Key, Secret or Password in the original Python
//	                  package's format (see [OriginalOptions])
//	slot:"pin"        on a namespace: make its resolved segment a Redis
//	                  Cluster hash tag ("root:{user:42}:age"), so its whole
//	                  subtree shares one slot
//
// Keys ([Key], [ParamKey], [Secret], [Password]) read nest, ttl, default
// and codec ([Password] refuses a default, and every codec but
// redisimnest); namespaces (the embedded
// Namespace, a child namespace field, a Sub field) read nest, ttl and slot.
// Any other key in the tag of a field New reads is a mistake, with a
// suggestion when it looks like a misspelling (`tll:"5s"`: did you mean
// ttl?), because a tag New ignored would silently change what is stored
// (a key without its TTL never expires). This includes tags of other
// packages, such as json: no other package reads schema fields, and fields
// tagged `nest:"-"` may carry any tags. A malformed tag (one that
// [reflect.StructTag.Get] would partly ignore, as go vet reports) and a
// key given twice are mistakes too.
//
// A key's value type must be one its codec can encode: New refuses, say,
// Key[chan int] or Key[func()], a struct with a channel field, a
// complex number, or (JSON) a map with bool keys, instead of failing the
// first Set. Values with a native form (strings, []byte, numbers, bools,
// time.Time, [encoding.TextMarshaler], [encoding.BinaryMarshaler]) need no
// codec. For [JSON] and [MsgPack] the type is checked by its structure, as
// those codecs see it (marshaling methods, fields tagged `json:"-"` and
// unexported fields are respected); a custom [Codec] must encode the zero
// value of the type, which New tries once.
//
// On a field that holds a child namespace, nest, ttl and slot tags override the
// ones on the child type's embedded Namespace, so one type can be reused
// under several parents. opts may be nil.
func New[R any](rdb redis.UniversalClient, opts *Options) (*R, error) {
	c, cfgErr := newClient(rdb, opts)
	plan, err := compileRoot(c, reflect.TypeFor[R]())
	switch {
	case cfgErr != nil && err != nil:
		return nil, errors.Join(cfgErr, err)
	case cfgErr != nil:
		return nil, cfgErr
	case err != nil:
		return nil, err
	}
	return bindRoot[R](plan), nil
}

// MustNew is like [New] but panics on error. It suits package-level schema
// variables and tests.
func MustNew[R any](rdb redis.UniversalClient, opts *Options) *R {
	r, err := New[R](rdb, opts)
	if err != nil {
		panic(err)
	}
	return r
}

// nsPlan is the compiled declaration of one namespace at one place in the
// tree. The same Go type under two parents yields two plans.
type nsPlan struct {
	c        *client
	typ      reflect.Type
	path     string // Go path from the root: "Root.User"
	tmpl     tmpl.Template
	parent   *nsPlan
	ttl      ttlSpec // effective: own, else inherited
	sub      bool    // reached through Sub[U]
	pinned   bool    // `slot:"pin"`: the resolved segment is a hash tag
	pin      *nsPlan // the pinned namespace whose tag decides this subtree's slot, or nil
	keys     []*keyPlan
	children []*nsPlan
	layout   *layout    // for the root and for Sub plans: how to bind typ
	cache    *instCache // a Sub's recently bound instances, or nil (instance_cache.go)
	one      *oneParam  // a Sub without ValidateParams whose template has one placeholder, or nil
	pattern  string     // glob matching every full prefix of this namespace
	own      glob       // its own segment's pattern (ownPattern), compiled
	validate func(map[string]string) error
	index    *indexPlan // a Sub tagged `index`: its instances are kept in a set in the parent
	// scanBelow says an instance holds keys only SCAN finds: a parameterised
	// descendant without an index (set by linkIndexes).
	scanBelow bool
}

// oneParam is what the prefix of an instance holds around its one
// parameter value, from the parent's prefix on: ":user:" and "" for
// "user:{user_id}", ":{user:" and "}" when pinned. At writes such a
// prefix without rendering the template (bind.go).
type oneParam struct{ before, after string }

// newOneParam returns the oneParam of p, or nil when p is not a Sub
// whose template has one placeholder or when it has a ValidateParams
// method, which At must call with the rendered values.
func newOneParam(p *nsPlan) *oneParam {
	before, after, ok := p.tmpl.Around()
	if !ok || !p.sub || p.validate != nil {
		return nil
	}
	if p.pinned {
		return &oneParam{before: ":{" + before, after: after + "}"}
	}
	return &oneParam{before: ":" + before, after: after}
}

// keyPlan is the compiled declaration of one key.
type keyPlan struct {
	c        *client
	ns       *nsPlan
	path     string // "Root.User.Age"
	tmpl     tmpl.Template
	param    bool // a ParamKey
	ttl      ttlSpec
	typeName string
	codec    any    // *valueCodec[T] for the key's T
	codecOf  string // codec name, for Describe
	def      string // default as written in the tag
	hasDef   bool
	pattern  string
	own      glob // the pattern of its name within its namespace (ownPattern), compiled
	kind     keyKind
	original bool       // a Secret or Password in the original Python package's format (original.go)
	index    *indexPlan // a ParamKey tagged `index`: its keys are kept in a set in the namespace
	ixs      []*nsPlan  // the indexed Sub namespaces enclosing the key, innermost first
	indexed  bool       // index != nil || len(ixs) > 0: writes update indexes (index.go)
}

// keyKind tells the kinds of key apart: plain string keys, the secure
// kinds (which Describe reports and Reencrypt looks for) and the
// collections, each stored as its own Redis type.
type keyKind uint8

const (
	kindValue     keyKind = iota // Key, ParamKey
	kindPassword                 // Password: an argon2id PHC string
	kindSecret                   // Secret: a sealed value
	kindCounter                  // Counter, FloatCounter: a number in a string
	kindHash                     // Hash: typed values under string fields
	kindStruct                   // Struct: a Go struct as hash fields
	kindList                     // List
	kindSet                      // Set
	kindSortedSet                // SortedSet
	kindLock                     // Lock: a lease token in a string
)

var kindNames = [...]struct{ kind, redisType string }{
	kindValue:     {"", "string"},
	kindPassword:  {"password", "string"},
	kindSecret:    {"secret", "string"},
	kindCounter:   {"counter", "string"},
	kindHash:      {"hash", "hash"},
	kindStruct:    {"struct", "hash"},
	kindList:      {"list", "list"},
	kindSet:       {"set", "set"},
	kindSortedSet: {"sortedset", "zset"},
	kindLock:      {"lock", "string"},
}

// String returns the kind as Describe reports it: "" for a plain key.
func (k keyKind) String() string { return kindNames[k].kind }

// fixedTTL reports whether keys of this kind support `ttl:"...,fixed"`.
func (k keyKind) fixedTTL() bool { return k == kindCounter || k.collection() }

// redisType returns the Redis type a key of this kind holds, as TYPE
// reports it.
func (k keyKind) redisType() string { return kindNames[k].redisType }

// collection reports whether keys of this kind are written through the
// TTL-applying write script (see write.go).
func (k keyKind) collection() bool { return k >= kindHash && k <= kindSortedSet }

// The field kinds of a schema, recognised by these unexported interfaces so
// that only this package's types implement them.
type (
	keyField interface {
		compileKey(kp *keyPlan, explicit Codec) error
		isParamKey() bool
	}
	subField interface{ subType() reflect.Type }
	// kindField is implemented by every key kind but Key and ParamKey:
	// their names cannot have parameters (there is no ParamKey form of
	// them; parameters come from an enclosing nest.Sub).
	kindField interface{ fieldKind() keyKind }
)

var (
	namespaceType      = reflect.TypeFor[Namespace]()
	keyFieldType       = reflect.TypeFor[keyField]()
	subFieldType       = reflect.TypeFor[subField]()
	paramValidatorType = reflect.TypeFor[ParamValidator]()
)

// segment returns a rendered template segment, wrapped as a Redis Cluster
// hash tag when the namespace is pinned: "user:42" -> "{user:42}".
func (p *nsPlan) segment(rendered string) string {
	if p.pinned {
		return "{" + rendered + "}"
	}
	return rendered
}

// unpin strips the hash-tag braces from a pinned namespace's segment.
func (p *nsPlan) unpin(seg string) string {
	if p.pinned && len(seg) >= 2 {
		return seg[1 : len(seg)-1]
	}
	return seg
}

// runValidate calls the namespace's ValidateParams with the formatted
// values, read back from the rendered segment.
func (p *nsPlan) runValidate(seg string) error {
	vals, ok := p.tmpl.Extract(p.unpin(seg))
	if !ok { // cannot happen: checkParam refuses what Extract cannot split
		return &ParamError{Template: p.tmpl.String(), Field: p.path, Kind: ErrInvalidParam,
			Reason: fmt.Sprintf("%q does not split into the template's parameters", seg)}
	}
	m := make(map[string]string, len(vals))
	for i, name := range p.tmpl.Params() {
		m[name] = vals[i]
	}
	if err := p.validate(m); err != nil {
		return &ParamError{Template: p.tmpl.String(), Field: p.path, Kind: ErrInvalidParam,
			Reason: "rejected by ValidateParams: " + err.Error()}
	}
	return nil
}
