package nest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unsafe"

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
// reflection; every mistake is reported here as a *[SchemaError] naming
// the Go type and field. A schema that declares [Secret] keys needs a
// keyring (see [Options.SecretKeys]); a missing or malformed one is
// reported here too, naming the first Secret field.
//
// Field tags:
//
//	nest:"name"       key name or namespace prefix template, required
//	                  ("user:{user_id}"); "-" skips the field
//	ttl:"120s"        TTL of a key or namespace: a Go duration, a number of
//	                  seconds, or "none"; ",sliding" renews it on reads
//	default:"0"       value Get returns for a missing key (stored form for
//	                  strings, numbers, bools and times; JSON otherwise)
//	codec:"msgpack"   codec for this key (see [Codec])
//	slot:"pin"        on a namespace: make its resolved segment a Redis
//	                  Cluster hash tag ("root:{user:42}:age"), so its whole
//	                  subtree shares one slot
//
// On a field that holds a child namespace, nest, ttl and slot tags override the
// ones on the child type's embedded Namespace, so one type can be reused
// under several parents. opts may be nil.
func New[R any](rdb redis.UniversalClient, opts *Options) (*R, error) {
	if rdb == nil {
		return nil, fmt.Errorf("%w: nil go-redis client", ErrConfig)
	}
	c, err := newClient(rdb, opts)
	if err != nil {
		return nil, err
	}
	plan, err := compileRoot(c, reflect.TypeFor[R]())
	if err != nil {
		return nil, err
	}
	r := new(R)
	plan.layout.bind(unsafe.Pointer(r), make([]nsInst, len(plan.layout.nss)), []byte(plan.segment(plan.tmpl.String())), 0, nil)
	return r, nil
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
	layout   *layout // for the root and for Sub plans: how to bind typ
	pattern  string  // glob matching every full prefix of this namespace
	validate func(map[string]string) error
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
	kind     keyKind
}

// keyKind tells plain keys from the secure kinds, which Describe reports
// and Reencrypt looks for.
type keyKind uint8

const (
	kindValue    keyKind = iota // Key, ParamKey
	kindPassword                // Password: an argon2id PHC string
	kindSecret                  // Secret: a sealed value
)

func (k keyKind) String() string {
	switch k {
	case kindPassword:
		return "password"
	case kindSecret:
		return "secret"
	}
	return ""
}

// The field kinds of a schema, recognised by these unexported interfaces so
// that only this package's types implement them.
type (
	keyField interface {
		compileKey(kp *keyPlan, explicit Codec) error
		isParamKey() bool
	}
	subField interface{ subType() reflect.Type }
	// secureField is implemented by Password and Secret, whose names
	// cannot have parameters (there is no ParamKey form of them).
	secureField interface{ secureKind() keyKind }
)

var (
	namespaceType      = reflect.TypeFor[Namespace]()
	keyFieldType       = reflect.TypeFor[keyField]()
	subFieldType       = reflect.TypeFor[subField]()
	paramValidatorType = reflect.TypeFor[ParamValidator]()
)

func compileRoot(c *client, t reflect.Type) (*nsPlan, error) {
	if t.Kind() != reflect.Struct {
		return nil, &SchemaError{Type: t.String(), Msg: "the root must be a struct type that embeds nest.Namespace"}
	}
	return compileNamespace(c, t, nil, t.Name(), "", false, nil, 0, 0)
}

// compileNamespace compiles the namespace type t. fieldTag is the tag of the
// parent's field holding it (it may override prefix and TTL). lay is the
// layout being filled when t is a plain child (inline in its parent's
// struct at offset base, parent slot parentSlot); nil starts a new layout.
func compileNamespace(c *client, t reflect.Type, parent *nsPlan, path string, fieldTag reflect.StructTag,
	sub bool, lay *layout, base uintptr, parentSlot int,
) (*nsPlan, error) {
	schemaErr := func(field, format string, args ...any) error {
		owner, msg := t.String(), fmt.Sprintf(format, args...)
		if parent != nil && field == "" {
			// Name the field holding the namespace, and the type declaring it.
			owner, field = parent.typ.String(), path[strings.LastIndexByte(path, '.')+1:]
			msg = fmt.Sprintf("namespace type %s: %s", t, msg)
		}
		return &SchemaError{Type: owner, Field: field, Msg: msg}
	}
	ns, ok := findNamespace(t)
	if !ok {
		return nil, schemaErr("", "type %s does not embed nest.Namespace (it carries the `nest:\"prefix\"` tag)", t)
	}
	prefix, ttlTag := ns.Tag.Get("nest"), ns.Tag.Get("ttl")
	if v, ok := fieldTag.Lookup("nest"); ok {
		prefix = v
	}
	if v, ok := fieldTag.Lookup("ttl"); ok {
		ttlTag = v
	}
	slotTag := ns.Tag.Get("slot")
	if v, ok := fieldTag.Lookup("slot"); ok {
		slotTag = v
	}
	if prefix == "" {
		return nil, schemaErr("", "missing prefix: add `nest:\"prefix\"` to the embedded nest.Namespace")
	}
	tp, err := tmpl.Parse(prefix)
	if err != nil {
		return nil, schemaErr("", "%v", err)
	}
	own, err := parseTTL(ttlTag, path)
	if err != nil {
		return nil, schemaErr("", "%v", err)
	}
	p := &nsPlan{c: c, typ: t, path: path, tmpl: tp, parent: parent, sub: sub}
	switch slotTag {
	case "":
	case "pin":
		p.pinned, p.pin = true, p
	default:
		return nil, schemaErr("", "slot tag %q: the only option is \"pin\"", slotTag)
	}
	p.ttl = own
	p.pattern = p.segment(tp.Pattern())
	if parent != nil {
		if parent.pin != nil && p.pinned {
			return nil, schemaErr("", "cannot pin a namespace inside the pinned namespace %s: its hash tag already decides the slot of the whole subtree", parent.pin.path)
		}
		if p.pin == nil {
			p.pin = parent.pin
		}
		p.ttl = drill(own, parent.ttl)
		p.pattern = parent.pattern + ":" + p.pattern
	}
	switch {
	case parent == nil && !tp.Static():
		return nil, schemaErr("", "the root prefix %q cannot have parameters", prefix)
	case sub && tp.Static():
		return nil, schemaErr("", "prefix %q has no parameters: declare the field as %s, not nest.Sub", prefix, t)
	case !sub && parent != nil && !tp.Static():
		return nil, schemaErr("", "prefix %q has parameters: declare the field as nest.Sub[%s]", prefix, t)
	}
	if err := checkAncestorParams(parent, tp); err != nil {
		return nil, schemaErr("", "%v", err)
	}
	if reflect.PointerTo(t).Implements(paramValidatorType) {
		// A fresh zero value per call: a ValidateParams with a pointer
		// receiver that writes to it must not race with other calls.
		p.validate = func(params map[string]string) error {
			return reflect.New(t).Interface().(ParamValidator).ValidateParams(params)
		}
	}
	slot := 0
	if lay == nil {
		lay = &layout{}
		p.layout = lay
		lay.nss = append(lay.nss, nsSlot{off: base + ns.Offset, plan: p})
	} else {
		slot = len(lay.nss)
		lay.nss = append(lay.nss, nsSlot{off: base + ns.Offset, plan: p, tail: lay.nss[parentSlot].tail + ":" + p.segment(prefix)})
	}
	if err := compileFields(p, lay, base, slot); err != nil {
		return nil, err
	}
	return p, nil
}

func findNamespace(t reflect.Type) (reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := range t.NumField() {
		if f := t.Field(i); f.Anonymous && f.Type == namespaceType {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// checkAncestorParams rejects placeholder names that an enclosing namespace
// already uses: the named forms and Describe key parameters by name.
func checkAncestorParams(parent *nsPlan, tp tmpl.Template) error {
	for a := parent; a != nil; a = a.parent {
		for _, name := range tp.Params() {
			for _, other := range a.tmpl.Params() {
				if name == other {
					return fmt.Errorf("placeholder {%s} is already used by the enclosing namespace %s (%q)", name, a.path, a.tmpl)
				}
			}
		}
	}
	return nil
}

// compileFields compiles the fields of p's struct, laid out from base.
func compileFields(p *nsPlan, lay *layout, base uintptr, slot int) error {
	t := p.typ
	type claimed struct {
		field string
		tp    tmpl.Template
		ns    bool
	}
	var taken []claimed
	claimAs := func(f reflect.StructField, tp tmpl.Template, ns bool) error {
		for _, c := range taken {
			same, under := c.tp.Overlap(tp)
			_, over := tp.Overlap(c.tp)
			if same || (under && c.ns) || (over && ns) {
				return &SchemaError{Type: t.String(), Field: f.Name,
					Msg: fmt.Sprintf("name %q collides with field %s in the same namespace", tp, c.field)}
			}
		}
		taken = append(taken, claimed{f.Name, tp, ns})
		return nil
	}
	claim := func(f reflect.StructField, tp tmpl.Template) error { return claimAs(f, tp, false) }
	claimNS := func(f reflect.StructField, tp tmpl.Template) error { return claimAs(f, tp, true) }
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type == namespaceType {
			continue
		}
		tag := f.Tag.Get("nest")
		if tag == "-" {
			continue
		}
		fieldErr := func(format string, args ...any) error {
			return &SchemaError{Type: t.String(), Field: f.Name, Msg: fmt.Sprintf(format, args...)}
		}
		path := p.path + "." + f.Name
		switch {
		case f.Anonymous:
			return fieldErr("embedded fields other than nest.Namespace are not supported (tag it `nest:\"-\"` to ignore it)")
		case isHandle(f.Type, keyHandleType) && f.Type.Implements(keyFieldType):
			kp, err := compileKey(p, f, path)
			if err != nil {
				return err
			}
			if err := claim(f, kp.tmpl); err != nil {
				return err
			}
			p.keys = append(p.keys, kp)
			if kp.param {
				lay.pkeys = append(lay.pkeys, keySlot{off: base + f.Offset, plan: kp, ns: slot})
			} else {
				lay.keys = append(lay.keys, keySlot{off: base + f.Offset, plan: kp, ns: slot,
					tail: lay.nss[slot].tail + ":" + kp.tmpl.String()})
			}
		case isHandle(f.Type, subHandleType) && f.Type.Implements(subFieldType):
			ut := reflect.Zero(f.Type).Interface().(subField).subType()
			child, err := compileNamespace(p.c, ut, p, path, f.Tag, true, nil, 0, 0)
			if err != nil {
				return err
			}
			if err := claimNS(f, child.tmpl); err != nil {
				return err
			}
			p.children = append(p.children, child)
			lay.subs = append(lay.subs, subSlot{off: base + f.Offset, plan: child, ns: slot})
		case f.Type.Kind() == reflect.Struct:
			if _, ok := findNamespace(f.Type); !ok {
				return fieldErr("struct type %s is not a namespace: embed nest.Namespace in it, or tag the field `nest:\"-\"`", f.Type)
			}
			child, err := compileNamespace(p.c, f.Type, p, path, f.Tag, false, lay, base+f.Offset, slot)
			if err != nil {
				return err
			}
			if err := claimNS(f, child.tmpl); err != nil {
				return err
			}
			p.children = append(p.children, child)
		default:
			return fieldErr("unsupported field type %s: want nest.Key[T], nest.ParamKey[T], nest.Password, nest.Secret[T], nest.Sub[T] or a namespace struct (tag it `nest:\"-\"` to ignore it)", f.Type)
		}
	}
	return nil
}

func compileKey(ns *nsPlan, f reflect.StructField, path string) (*keyPlan, error) {
	fieldErr := func(format string, args ...any) error {
		return &SchemaError{Type: ns.typ.String(), Field: f.Name, Msg: fmt.Sprintf(format, args...)}
	}
	name, ok := f.Tag.Lookup("nest")
	if !ok || name == "" {
		return nil, fieldErr("missing key name: add a `nest:\"name\"` tag (names are explicit so that renaming a Go field never renames Redis keys)")
	}
	tp, err := tmpl.Parse(name)
	if err != nil {
		return nil, fieldErr("%v", err)
	}
	kf := reflect.Zero(f.Type).Interface().(keyField)
	sf, secure := kf.(secureField)
	switch {
	case secure && !tp.Static():
		return nil, fieldErr("key name %q has parameters, which %s keys do not support: declare the parameter on an enclosing namespace (nest.Sub) instead", name, sf.secureKind())
	case kf.isParamKey() && tp.Static():
		return nil, fieldErr("key name %q has no parameters: declare the field as nest.Key, not nest.ParamKey", name)
	case !kf.isParamKey() && !tp.Static():
		return nil, fieldErr("key name %q has parameters: declare the field as nest.ParamKey", name)
	}
	if err := checkAncestorParams(ns, tp); err != nil {
		return nil, fieldErr("%v", err)
	}
	own, err := parseTTL(f.Tag.Get("ttl"), path)
	if err != nil {
		return nil, fieldErr("%v", err)
	}
	kp := &keyPlan{
		c: ns.c, ns: ns, path: path, tmpl: tp, param: kf.isParamKey(),
		ttl: drill(own, ns.ttl), pattern: ns.pattern + ":" + tp.Pattern(),
	}
	kp.def, kp.hasDef = f.Tag.Lookup("default")
	var explicit Codec
	if cn, ok := f.Tag.Lookup("codec"); ok {
		if explicit = ns.c.codecs[cn]; explicit == nil {
			return nil, fieldErr("unknown codec %q (register it in Options.Codecs)", cn)
		}
	}
	if err := kf.compileKey(kp, explicit); err != nil {
		if errors.Is(err, ErrConfig) {
			return nil, fmt.Errorf("%w (needed by %s)", err, path)
		}
		return nil, &SchemaError{Type: ns.typ.String(), Field: f.Name, Msg: err.Error(), Err: err}
	}
	return kp, nil
}

// compileKeyCodec sets the typed parts of kp for values of type T.
func compileKeyCodec[T any](kp *keyPlan, explicit Codec) error {
	vc := newValueCodec[T](explicit, kp.c.codec)
	vc.setMaxSize(kp.c.maxValue)
	kp.codec, kp.codecOf, kp.typeName = vc, vc.name, reflect.TypeFor[T]().String()
	if kp.hasDef {
		if _, err := vc.parseDefault(kp.def); err != nil {
			return fmt.Errorf("default %q does not parse as %s: %w", kp.def, kp.typeName, err)
		}
	}
	return nil
}

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
