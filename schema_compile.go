package nest

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/redisimnest/nest/internal/suggest"
	"github.com/redisimnest/nest/internal/tmpl"
)

// compiler compiles a schema declaration. It records every mistake and
// keeps going where it can (skipping the faulty field, or checking a
// namespace's fields despite a bad prefix), so that New reports them all at
// once.
type compiler struct {
	c    *client
	errs []error
	seen map[string]bool // recorded messages: a type reused under two parents reports its mistakes once
	cfg  bool            // a configuration error is recorded; one is enough
}

func (cp *compiler) add(err error) {
	if msg := err.Error(); !cp.seen[msg] {
		cp.seen[msg] = true
		cp.errs = append(cp.errs, err)
	}
}

// fail records a mistake in the declaration of field (or of the type
// itself when field is "") of type t.
func (cp *compiler) fail(t reflect.Type, field, format string, args ...any) {
	cp.add(&SchemaError{Type: t.String(), Field: field, Msg: fmt.Sprintf(format, args...)})
}

// err returns what was recorded: nil, the one error, or all of them joined.
func (cp *compiler) err() error {
	switch len(cp.errs) {
	case 0:
		return nil
	case 1:
		return cp.errs[0]
	}
	return errors.Join(cp.errs...)
}

func compileRoot(c *client, t reflect.Type) (*nsPlan, error) {
	if t.Kind() != reflect.Struct {
		return nil, &SchemaError{Type: t.String(), Msg: "the root must be a struct type that embeds nest.Namespace"}
	}
	cp := &compiler{c: c, seen: map[string]bool{}}
	p := cp.namespace(t, nil, t.Name(), "", false, nil, 0, 0)
	if err := cp.err(); err != nil {
		return nil, err
	}
	linkIndexes(p)
	return p, nil
}

// namespace compiles the namespace type t. fieldTag is the tag of the
// parent's field holding it (it may override prefix and TTL); the caller
// has checked it. lay is the layout being filled when t is a plain child
// (inline in its parent's struct at offset base, parent slot parentSlot);
// nil starts a new layout. The result is nil when t is not a namespace at
// all; its template is the zero Template when the prefix is unusable.
func (cp *compiler) namespace(t reflect.Type, parent *nsPlan, path string, fieldTag reflect.StructTag,
	sub bool, lay *layout, base uintptr, parentSlot int,
) *nsPlan {
	fail := func(format string, args ...any) {
		if parent == nil {
			cp.fail(t, "", format, args...)
			return
		}
		// Name the field holding the namespace, and the type declaring it.
		cp.fail(parent.typ, path[strings.LastIndexByte(path, '.')+1:], "namespace type %s: %s", t, fmt.Sprintf(format, args...))
	}
	ns, ok := findNamespace(t)
	if !ok {
		fail("type %s does not embed nest.Namespace (it carries the `nest:\"prefix\"` tag)", t)
		return nil
	}
	for a := parent; a != nil; a = a.parent {
		if a.typ == t {
			// Compiling on would never end: each level holds the next.
			fail("type %s holds itself (it is also %s): a schema must be finite", t, a.path)
			return nil
		}
	}
	tagOK := checkTag(ns.Tag, namespaceTagKeys, "an embedded nest.Namespace", func(msg string) {
		cp.add(&SchemaError{Type: t.String(), Field: ns.Name, Msg: msg})
	})
	prefix, ttlTag, slotTag := ns.Tag.Get("nest"), ns.Tag.Get("ttl"), ns.Tag.Get("slot")
	if v, ok := fieldTag.Lookup("nest"); ok {
		prefix = v
	}
	if v, ok := fieldTag.Lookup("ttl"); ok {
		ttlTag = v
	}
	if v, ok := fieldTag.Lookup("slot"); ok {
		slotTag = v
	}
	p := &nsPlan{c: cp.c, typ: t, path: path, parent: parent, sub: sub}
	switch {
	case prefix == "" && !tagOK: // the malformed tag is reported
	case prefix == "":
		fail("missing prefix: add `nest:\"prefix\"` to the embedded nest.Namespace")
	default:
		tp, err := tmpl.Parse(prefix)
		if err != nil {
			fail("%v", err)
		}
		p.tmpl = tp
	}
	own, err := parseTTL(ttlTag, path)
	if err == nil && own.fixed {
		err = errors.New("ttl option \"fixed\" belongs on a counter or collection key, not on a namespace")
	}
	if err != nil {
		fail("%v", err)
		own = ttlSpec{from: path}
	}
	switch slotTag {
	case "":
	case "pin":
		p.pinned, p.pin = true, p
	default:
		fail("slot tag %q: the only option is \"pin\"", slotTag)
	}
	p.ttl = own
	p.pattern = p.segment(p.tmpl.Pattern())
	if parent != nil {
		if parent.pin != nil && p.pinned {
			fail("cannot pin a namespace inside the pinned namespace %s: its hash tag already decides the slot of the whole subtree", parent.pin.path)
			p.pinned, p.pin = false, nil
		}
		if p.pin == nil {
			p.pin = parent.pin
		}
		p.ttl = drill(own, parent.ttl)
		p.pattern = parent.pattern + ":" + p.pattern
	}
	p.own = compileGlob(p.ownPattern())
	if tp := p.tmpl; tp.String() != "" {
		switch {
		case parent == nil && !tp.Static():
			fail("the root prefix %q cannot have parameters", prefix)
		case sub && tp.Static():
			fail("prefix %q has no parameters: declare the field as %s, not nest.Sub", prefix, t)
		case !sub && parent != nil && !tp.Static():
			fail("prefix %q has parameters: declare the field as nest.Sub[%s]", prefix, t)
		}
		if err := checkAncestorParams(parent, tp); err != nil {
			fail("%v", err)
		}
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
		seg := p.segment(prefix)
		lay.nss = append(lay.nss, nsSlot{off: base + ns.Offset, plan: p, tail: lay.nss[parentSlot].tail + ":" + seg, seg: len(seg)})
	}
	cp.fields(p, lay, base, slot)
	if slot == 0 { // p's layout is complete
		lay.finish()
		p.cache = newInstCache(p, cp.c.instCache)
		p.one = newOneParam(p)
	}
	return p
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

// fields compiles the fields of p's struct, laid out from base.
func (cp *compiler) fields(p *nsPlan, lay *layout, base uintptr, slot int) {
	t := p.typ
	type claimed struct {
		field string
		tp    tmpl.Template
		ns    bool
	}
	var taken []claimed
	// claim records a field's name template, refusing one that renders a
	// name (or, for namespaces, a subtree) a sibling already covers. An
	// unusable template (reported already) claims nothing.
	claim := func(f reflect.StructField, tp tmpl.Template, ns bool) {
		if tp.String() == "" {
			return
		}
		for _, c := range taken {
			same, under := c.tp.Overlap(tp)
			_, over := tp.Overlap(c.tp)
			if same || (under && c.ns) || (over && ns) {
				cp.fail(t, f.Name, "name %q collides with field %s in the same namespace", tp, c.field)
				return
			}
		}
		taken = append(taken, claimed{f.Name, tp, ns})
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type == namespaceType {
			continue
		}
		if f.Tag.Get("nest") == "-" {
			continue
		}
		fail := func(format string, args ...any) { cp.fail(t, f.Name, format, args...) }
		tagOK := func(known []string, where string) bool {
			return checkTag(f.Tag, known, where, func(msg string) { fail("%s", msg) })
		}
		path := p.path + "." + f.Name
		switch {
		case f.Anonymous:
			fail("embedded fields other than nest.Namespace are not supported (tag it `nest:\"-\"` to ignore it)")
		case isHandle(f.Type, keyHandleType) && f.Type.Implements(keyFieldType):
			if !tagOK(keyTagKeys, "a key field") {
				continue
			}
			kp := cp.key(p, f, path)
			claim(f, kp.tmpl, false)
			if kp.index != nil {
				claim(f, kp.index.tmpl, false)
			}
			p.keys = append(p.keys, kp)
			if kp.param {
				lay.pkeys = append(lay.pkeys, keySlot{off: base + f.Offset, plan: kp, ns: slot})
			} else {
				lay.keys = append(lay.keys, keySlot{off: base + f.Offset, plan: kp, ns: slot,
					tail: lay.nss[slot].tail + ":" + kp.tmpl.String()})
			}
		case isHandle(f.Type, subHandleType) && f.Type.Implements(subFieldType):
			if !tagOK(subTagKeys, "a nest.Sub field") {
				continue
			}
			ut := reflect.Zero(f.Type).Interface().(subField).subType()
			if child := cp.namespace(ut, p, path, f.Tag, true, nil, 0, 0); child != nil {
				claim(f, child.tmpl, true)
				if v, ok := f.Tag.Lookup("index"); ok && child.tmpl.String() != "" {
					if ix, err := parseIndexTag(v, child.tmpl); err != nil {
						fail("%v", err)
					} else {
						child.index = ix
						claim(f, ix.tmpl, false)
					}
				}
				p.children = append(p.children, child)
				lay.subs = append(lay.subs, subSlot{off: base + f.Offset, plan: child, ns: slot})
			}
		case f.Type.Kind() == reflect.Struct:
			if _, ok := findNamespace(f.Type); !ok {
				fail("struct type %s is not a namespace: embed nest.Namespace in it, or tag the field `nest:\"-\"`", f.Type)
				continue
			}
			if !tagOK(namespaceTagKeys, "a namespace field") {
				continue
			}
			child := cp.namespace(f.Type, p, path, f.Tag, false, lay, base+f.Offset, slot)
			claim(f, child.tmpl, true)
			p.children = append(p.children, child)
		default:
			fail("unsupported field type %s: want a key (nest.Key[T], nest.ParamKey[T], nest.Secret[T], nest.Password, nest.Counter, nest.FloatCounter, nest.Hash[V], nest.Struct[T], nest.List[T], nest.Set[T], nest.SortedSet[T], nest.Lock), nest.Sub[T] or a namespace struct (tag it `nest:\"-\"` to ignore it)", f.Type)
		}
	}
}

// key compiles the key field f of namespace ns. Its template is the zero
// Template when the name is unusable.
func (cp *compiler) key(ns *nsPlan, f reflect.StructField, path string) *keyPlan {
	fail := func(format string, args ...any) { cp.fail(ns.typ, f.Name, format, args...) }
	kf := reflect.Zero(f.Type).Interface().(keyField)
	kp := &keyPlan{c: ns.c, ns: ns, path: path, param: kf.isParamKey()}
	if name := f.Tag.Get("nest"); name == "" {
		fail("missing key name: add a `nest:\"name\"` tag (names are explicit so that renaming a Go field never renames Redis keys)")
	} else if tp, err := tmpl.Parse(name); err != nil {
		fail("%v", err)
	} else {
		kp.tmpl = tp
		kd, kinded := kf.(kindField)
		switch {
		case kinded && !tp.Static():
			fail("key name %q has parameters, which %s keys do not support: declare the parameter on an enclosing namespace (nest.Sub) instead", name, kd.fieldKind())
		case kf.isParamKey() && tp.Static():
			fail("key name %q has no parameters: declare the field as nest.Key, not nest.ParamKey", name)
		case !kf.isParamKey() && !tp.Static():
			fail("key name %q has parameters: declare the field as nest.ParamKey", name)
		}
		if err := checkAncestorParams(ns, tp); err != nil {
			fail("%v", err)
		}
		if v, ok := f.Tag.Lookup("index"); ok {
			if !kp.param {
				fail("index tag on a key without parameters: only nest.ParamKey and nest.Sub fields have instances to index")
			} else if ix, err := parseIndexTag(v, tp); err != nil {
				fail("%v", err)
			} else {
				kp.index = ix
			}
		}
	}
	own, err := parseTTL(f.Tag.Get("ttl"), path)
	if err != nil {
		fail("%v", err)
		own = ttlSpec{from: path}
	}
	kp.ttl, kp.pattern = drill(own, ns.ttl), ns.pattern+":"+kp.tmpl.Pattern()
	kp.own = compileGlob(kp.ownPattern())
	kp.def, kp.hasDef = f.Tag.Lookup("default")
	var explicit Codec
	if cn, ok := f.Tag.Lookup("codec"); ok {
		if explicit = ns.c.codecs[cn]; explicit == nil {
			names := slices.Sorted(maps.Keys(ns.c.codecs))
			hint := ""
			if s := suggest.Closest(cn, names); s != "" {
				hint = fmt.Sprintf("did you mean %s? ", s)
			}
			fail("unknown codec %q (%sknown: %s; register others in Options.Codecs)", cn, hint, strings.Join(names, ", "))
			return kp // the value type cannot be checked without its codec
		}
	}
	err = kf.compileKey(kp, explicit)
	if err == nil {
		err = checkKindTTL(kp, own)
	}
	if err != nil {
		switch {
		case !errors.Is(err, ErrConfig):
			cp.add(&SchemaError{Type: ns.typ.String(), Field: f.Name, Msg: err.Error(), Err: err})
		case !cp.cfg && (len(cp.c.keysOpt) == 0 || err != cp.c.keysErr): // a keyring given in Options is reported by newClient
			cp.cfg = true
			cp.add(fmt.Errorf("%w (needed by %s)", err, path))
		}
	}
	return kp
}

// compileKeyCodec sets the typed parts of kp for values of type T, and
// refuses a T that its codec cannot encode (see checkEncodable) or a
// default that does not parse.
func compileKeyCodec[T any](kp *keyPlan, explicit Codec) error {
	vc := newValueCodec[T](explicit, kp.c.codec)
	vc.setMaxSize(kp.c.maxValue)
	rt := reflect.TypeFor[T]()
	kp.codec, kp.codecOf, kp.typeName = vc, vc.name, rt.String()
	// The codec encodes T unless T has a native form (the value codec is
	// then named after that form, not after the codec).
	if c := explicit; c != nil || vc.name == kp.c.codec.Name() {
		if c == nil {
			c = kp.c.codec
		}
		if err := checkEncodable(rt, c); err != nil {
			return err
		}
		if rt.Kind() == reflect.Interface && rt.NumMethod() > 0 {
			// Encoded through its dynamic value, never decodable back.
			return fmt.Errorf("the %s codec cannot decode into the interface type %s: declare a concrete type (or any)", c.Name(), rt)
		}
	}
	if kp.hasDef {
		if _, err := vc.parseDefault(kp.def); err != nil {
			return fmt.Errorf("default %q does not parse as %s: %w", kp.def, kp.typeName, err)
		}
	}
	return nil
}

// checkKindTTL refuses TTL options that mean nothing for the key's kind:
// "fixed" (the TTL counts from the key's creation and writes never extend
// it) needs writes that can leave an existing TTL alone, which counters
// and collections have and SET-based kinds do not; a Lock's TTL is its
// lease, which only Refresh extends.
func checkKindTTL(kp *keyPlan, own ttlSpec) error {
	switch {
	case own.fixed && !kp.kind.fixedTTL():
		what := "a nest.Key"
		if k := kp.kind.String(); k != "" {
			what = "a " + k + " key"
		}
		return fmt.Errorf("ttl option \"fixed\" is for counters and collections, not %s", what)
	case kp.kind == kindLock && own.sliding:
		return errors.New("a lock's TTL is its lease: it cannot slide (Refresh extends a held lock)")
	}
	return nil
}

// compileCollection compiles a collection key whose elements (members,
// field values) are of type T: like compileKeyCodec, without a default,
// which means nothing for a collection.
func compileCollection[T any](kp *keyPlan, explicit Codec, kind keyKind) error {
	kp.kind = kind
	if kp.hasDef {
		return fmt.Errorf("a %s key has no default: a missing %s reads as empty", kind, kind)
	}
	return compileKeyCodec[T](kp, kp.c.valuesCodec(explicit))
}
