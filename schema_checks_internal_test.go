package nest

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseTag(t *testing.T) {
	tests := []struct {
		tag   string
		pairs []tagPair
		err   string // substring; "" means no error
	}{
		{``, nil, ""},
		{`   `, nil, ""},
		{`nest:"age"`, []tagPair{{"nest", "age"}}, ""},
		{`nest:"age" ttl:"5s"`, []tagPair{{"nest", "age"}, {"ttl", "5s"}}, ""},
		{`  nest:"age"   ttl:"5s"  `, []tagPair{{"nest", "age"}, {"ttl", "5s"}}, ""},
		{`nest:"a\"b" default:"\u00e9"`, []tagPair{{"nest", `a"b`}, {"default", "é"}}, ""},
		{`nest:""`, []tagPair{{"nest", ""}}, ""},
		{`nest:age`, nil, `"nest:age" is not key:"value"`},
		{`nest:"age" ttl:5s`, []tagPair{{"nest", "age"}}, `"ttl:5s" is not key:"value"`},
		{`nest: "age"`, nil, `is not key:"value"`},
		{`nest :"age"`, nil, `is not key:"value"`},
		{`:"age"`, nil, `is not key:"value"`},
		{`nest`, nil, `is not key:"value"`},
		{`nest:`, nil, `is not key:"value"`},
		{`nest:"age",ttl:"5s"`, []tagPair{{"nest", "age"}}, `no space before ",ttl:\"5s\""`},
		{`nest:"age"ttl:"5s"`, []tagPair{{"nest", "age"}}, "no space before"},
		{`nest:"age`, nil, "the value of nest has no closing quote"},
		{`nest:"age\"`, nil, "no closing quote"},
		{`nest:"a\qb"`, nil, "is not a valid Go string"},
	}
	for _, tt := range tests {
		pairs, err := parseTag(tt.tag)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("parseTag(`%s`) error = %v, want %q", tt.tag, err, tt.err)
		}
		if !reflect.DeepEqual(pairs, tt.pairs) {
			t.Errorf("parseTag(`%s`) = %q, want %q", tt.tag, pairs, tt.pairs)
		}
		// Where the tag is well-formed, it reads as reflect reads it.
		if err == nil {
			for _, p := range pairs {
				if v, _ := reflect.StructTag(tt.tag).Lookup(p.key); v != p.value {
					t.Errorf("parseTag(`%s`): %s = %q, reflect reads %q", tt.tag, p.key, p.value, v)
				}
			}
		}
	}
}

// FuzzParseTag checks parseTag against reflect.StructTag: a tag it accepts
// reads the same through Lookup (first occurrence of each key).
func FuzzParseTag(f *testing.F) {
	for _, s := range []string{``, `nest:"age" ttl:"5s"`, `nest:age`, `a:"\x00" b:"\"" c:"`, `x:"1",y:"2"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tag string) {
		pairs, err := parseTag(tag)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, p := range pairs {
			if seen[p.key] {
				continue
			}
			seen[p.key] = true
			if v, ok := reflect.StructTag(tag).Lookup(p.key); !ok || v != p.value {
				t.Errorf("parseTag(%q): %s = %q, reflect reads %q, %v", tag, p.key, p.value, v, ok)
			}
		}
	})
}

// Malformed tags go through New's compiler here, on struct types built
// with reflect.StructOf: go vet refuses to compile them as literals.
func TestSchemaRefusesMalformedTags(t *testing.T) {
	c, err := newClient(nil, nil) // no client: New would refuse it, the compiler needs none
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("newClient(nil) = %v, want ErrConfig", err)
	}
	field := func(name string, typ reflect.Type, tag string) reflect.StructField {
		return reflect.StructField{Name: name, Type: typ, Tag: reflect.StructTag(tag)}
	}
	type appNS struct {
		Namespace `nest:"app"`
		K         Key[int] `nest:"k"`
	}
	keyT, appT := reflect.TypeFor[Key[int]](), reflect.TypeFor[appNS]()
	tests := []struct {
		name   string
		fields []reflect.StructField
		errs   []string // one per mistake, in order
	}{
		{"unquoted value on a key", []reflect.StructField{field("K", keyT, `nest:"k" ttl:5s`)},
			[]string{".K: malformed struct tag `nest:\"k\" ttl:5s`: \"ttl:5s\" is not key:\"value\""}},
		{"comma between pairs", []reflect.StructField{field("K", keyT, `nest:"k",ttl:"5s"`)},
			[]string{".K: malformed struct tag `nest:\"k\",ttl:\"5s\"`: no space before \",ttl:\\\"5s\\\"\""}},
		{"no closing quote", []reflect.StructField{field("K", keyT, `nest:"k`)},
			[]string{".K: malformed struct tag `nest:\"k`: the value of nest has no closing quote"}},
		{"malformed and then fine", []reflect.StructField{
			field("A", keyT, `nest: "a"`), field("B", keyT, `nest:"b"`), field("C", keyT, `nest:"c" tll:"1s"`)},
			[]string{".A: malformed struct tag", `.C: unknown tag key "tll" (did you mean ttl?)`}},
		{"malformed namespace field", []reflect.StructField{field("App", appT, `nest:"app" ttl:"5s`)},
			[]string{".App: malformed struct tag"}},
		{"key given twice", []reflect.StructField{field("K", keyT, `nest:"k" ttl:"5s" ttl:"10s"`)},
			[]string{".K: tag key ttl appears twice"}},
		{"malformed field does not claim its name", []reflect.StructField{
			field("A", keyT, `nest:"k" x`), field("B", keyT, `nest:"k"`)},
			[]string{".A: malformed struct tag"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ := reflect.StructOf(tt.fields)
			cp := &compiler{c: c, seen: map[string]bool{}}
			p := &nsPlan{c: c, typ: typ, path: "Root"}
			cp.fields(p, &layout{nss: []nsSlot{{plan: p}}}, 0, 0)
			if len(cp.errs) != len(tt.errs) {
				t.Fatalf("%d errors, want %d: %v", len(cp.errs), len(tt.errs), cp.err())
			}
			for i, want := range tt.errs {
				if !strings.Contains(cp.errs[i].Error(), want) {
					t.Errorf("error %d = %q, want it to contain %q", i, cp.errs[i], want)
				}
			}
		})
	}

	// The tag of the embedded Namespace, on a struct of that one field
	// (reflect.StructOf cannot embed a type with methods beside others).
	typ := reflect.StructOf([]reflect.StructField{{Name: "Namespace", Type: namespaceType, Anonymous: true, Tag: `nest:root`}})
	_, err = compileRoot(c, typ)
	se, ok := err.(*SchemaError)
	if !ok || se.Field != "Namespace" || !strings.Contains(se.Msg, "malformed struct tag `nest:root`") {
		t.Errorf("compileRoot = %v, want one malformed-tag error on the embedded Namespace (and no missing-prefix one)", err)
	}
}
