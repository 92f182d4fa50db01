package nest_test

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
)

type (
	// Three mistakes at three depths: a misspelt tag key on the root, an
	// unparsable default in a plain child, a value type no codec encodes in
	// a Sub.
	threeChild struct {
		nest.Namespace `nest:"child"`
		Count          nest.Key[int] `nest:"count" default:"many"`
	}
	threeSub struct {
		nest.Namespace `nest:"sub:{sub_id}"`
		Events         nest.Key[chan int] `nest:"events"`
		Fine           nest.Key[string]   `nest:"fine"`
	}
	threeMistakes struct {
		nest.Namespace `nest:"three"`
		Session        nest.Key[string] `nest:"session" tll:"5s"`
		Child          threeChild
		Sub            nest.Sub[threeSub]
		Name           nest.Key[string] `nest:"name"`
	}
)

func TestSchemaReportsEveryMistake(t *testing.T) {
	t.Parallel()
	_, err := nest.New[threeMistakes](offlineClient(t), nil)
	if !errors.Is(err, nest.ErrSchema) {
		t.Fatalf("New = %v, want ErrSchema", err)
	}
	if errors.Is(err, nest.ErrConfig) {
		t.Errorf("New = %v matches ErrConfig, want only ErrSchema", err)
	}
	var first *nest.SchemaError
	if !errors.As(err, &first) || first.Field != "Session" {
		t.Errorf("errors.As = %+v, want the first mistake (Session)", first)
	}
	want := []struct{ typ, field, msg string }{
		{"nest_test.threeMistakes", "Session", `unknown tag key "tll" (did you mean ttl?)`},
		{"nest_test.threeChild", "Count", `default "many" does not parse as int`},
		{"nest_test.threeSub", "Events", "the json codec cannot encode chan int"},
	}
	got := schemaErrs(t, err)
	if len(got) != len(want) {
		t.Fatalf("New reports %d mistakes, want %d:\n%v", len(got), len(want), err)
	}
	for i, w := range want {
		if got[i].Type != w.typ || got[i].Field != w.field || !strings.Contains(got[i].Msg, w.msg) {
			t.Errorf("mistake %d = {%s %s %q}, want {%s %s ...%q...}", i, got[i].Type, got[i].Field, got[i].Msg, w.typ, w.field, w.msg)
		}
		if !strings.Contains(err.Error(), got[i].Error()) {
			t.Errorf("the joined message does not hold mistake %d: %v", i, err)
		}
	}
	if n := strings.Count(err.Error(), "\n"); n != len(want)-1 {
		t.Errorf("the message has %d lines, want one per mistake:\n%v", n+1, err)
	}
	// MustNew panics with the same error.
	func() {
		defer func() {
			if r, _ := recover().(error); r == nil || r.Error() != err.Error() {
				t.Errorf("MustNew panicked with %v, want %v", r, err)
			}
		}()
		nest.MustNew[threeMistakes](offlineClient(t), nil)
	}()
}

type (
	// A namespace whose own prefix is broken still has its fields checked;
	// a type reused under two parents reports its own mistakes once; a
	// broken key name is not also reported as colliding.
	goOnBadPrefix struct {
		nest.Namespace `nest:"bad*prefix"`
		K              nest.Key[int] `nest:"k" ttl:"soon"`
	}
	goOnReused struct {
		nest.Namespace `nest:"reused"`
		F              nest.Key[func()] `nest:"f"`
	}
	goOnNoNS struct {
		X int // not looked into: the type is not a namespace
	}
	goOn struct {
		nest.Namespace `nest:"goon"`
		Bad            goOnBadPrefix
		A              goOnReused
		B              goOnReused `nest:"b"`
		NoNS           nest.Sub[goOnNoNS]
		K1             nest.Key[int] `nest:"k*"`
		K2             nest.Key[int] `nest:"k*"`
		Count          int
	}
)

func TestSchemaGoesOnPastMistakes(t *testing.T) {
	t.Parallel()
	_, err := nest.New[goOn](offlineClient(t), nil)
	want := []struct{ typ, field, msg string }{
		{"nest_test.goOn", "Bad", `namespace type nest_test.goOnBadPrefix: template "bad*prefix"`},
		{"nest_test.goOnBadPrefix", "K", `ttl "soon"`},
		{"nest_test.goOnReused", "F", "the json codec cannot encode func()"},
		{"nest_test.goOn", "NoNS", "does not embed nest.Namespace"},
		{"nest_test.goOn", "K1", `"k*"`},
		{"nest_test.goOn", "K2", `"k*"`},
		{"nest_test.goOn", "Count", "unsupported field type int"},
	}
	got := schemaErrs(t, err)
	if len(got) != len(want) {
		t.Fatalf("New reports %d mistakes, want %d:\n%v", len(got), len(want), err)
	}
	for i, w := range want {
		if got[i].Type != w.typ || got[i].Field != w.field || !strings.Contains(got[i].Msg, w.msg) {
			t.Errorf("mistake %d = {%s %s %q}, want {%s %s ...%q...}", i, got[i].Type, got[i].Field, got[i].Msg, w.typ, w.field, w.msg)
		}
	}
}

// A namespace type that holds itself (through a Sub) is refused, instead
// of compiling forever.
type (
	selfNode struct {
		nest.Namespace `nest:"node:{id}"`
		Child          nest.Sub[selfNode] `nest:"child:{child_id}"`
		K              nest.Key[int]      `nest:"k"`
	}
	selfMid struct {
		nest.Namespace `nest:"mid"`
		Back           nest.Sub[selfOuter]
	}
	selfOuter struct {
		nest.Namespace `nest:"outer:{outer_id}"`
		Mid            selfMid
	}
	selfRoot struct {
		nest.Namespace `nest:"self"`
		Node           nest.Sub[selfNode]
		Outer          nest.Sub[selfOuter]
	}
)

func TestSchemaRefusesSelfHoldingNamespaces(t *testing.T) {
	t.Parallel()
	done := make(chan error, 1)
	go func() { done <- tryNew[selfRoot](offlineClient(t), nil) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("New does not return for a namespace type that holds itself")
	}
	want := []struct{ typ, field, msg string }{
		{"nest_test.selfNode", "Child", "namespace type nest_test.selfNode: type nest_test.selfNode holds itself (it is also selfRoot.Node)"},
		{"nest_test.selfMid", "Back", "type nest_test.selfOuter holds itself (it is also selfRoot.Outer)"},
	}
	got := schemaErrs(t, err)
	if len(got) != len(want) {
		t.Fatalf("New reports %d mistakes, want %d:\n%v", len(got), len(want), err)
	}
	for i, w := range want {
		if got[i].Type != w.typ || got[i].Field != w.field || !strings.Contains(got[i].Msg, w.msg) {
			t.Errorf("mistake %d = {%s %s %q}, want {%s %s ...%q...}", i, got[i].Type, got[i].Field, got[i].Msg, w.typ, w.field, w.msg)
		}
	}
}

type (
	cfgVault struct {
		nest.Namespace `nest:"vault"`
		A              nest.Secret[string] `nest:"a"`
		B              nest.Secret[string] `nest:"b"`
	}
	cfgAndSchema struct {
		nest.Namespace `nest:"vault"`
		A              nest.Secret[string] `nest:"a"`
		K              nest.Key[int]       `nest:"k" defualt:"1"`
	}
)

// A missing keyring is a configuration error, kept apart from declaration
// mistakes: alone it does not match ErrSchema; reported once however many
// Secret keys need it; joined with the schema's mistakes when there are.
func TestSchemaConfigErrorsStayApart(t *testing.T) {
	t.Setenv("NEST_SECRET_KEYS", "")
	t.Setenv("NEST_SECRET_KEYS_FILE", "")
	rdb := offlineClient(t)

	_, err := nest.New[cfgVault](rdb, nil)
	if !errors.Is(err, nest.ErrConfig) || errors.Is(err, nest.ErrSchema) {
		t.Fatalf("New = %v, want ErrConfig and not ErrSchema", err)
	}
	var se *nest.SchemaError
	if errors.As(err, &se) {
		t.Errorf("errors.As found a SchemaError in %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "cfgVault.A") || strings.Contains(msg, "cfgVault.B") || strings.Contains(msg, "\n") {
		t.Errorf("New = %q, want one error naming the first Secret field", msg)
	}

	_, err = nest.New[cfgAndSchema](rdb, nil)
	if !errors.Is(err, nest.ErrConfig) || !errors.Is(err, nest.ErrSchema) {
		t.Fatalf("New = %v, want both ErrConfig and ErrSchema", err)
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok || len(j.Unwrap()) != 2 {
		t.Fatalf("New = %v, want two joined errors", err)
	}
	cfg, decl := j.Unwrap()[0], j.Unwrap()[1]
	if !errors.Is(cfg, nest.ErrConfig) || errors.Is(cfg, nest.ErrSchema) {
		t.Errorf("first error %v: want ErrConfig only", cfg)
	}
	if !errors.As(decl, &se) || se.Field != "K" || !strings.Contains(se.Msg, "did you mean default?") {
		t.Errorf("second error %v: want the SchemaError of field K", decl)
	}

	// With a keyring, the declaration mistake remains alone.
	_, err = nest.New[cfgAndSchema](rdb, &nest.Options{SecretKeys: []nest.SecretKey{newSecretKey(t, "k1")}})
	if errors.Is(err, nest.ErrConfig) || len(schemaErrs(t, err)) != 1 {
		t.Errorf("New with a keyring = %v, want one schema error", err)
	}
}

// Schemas with unknown or misplaced tag keys (malformed tags and repeated
// keys, which go vet or staticcheck refuse in a test, are checked in
// schema_checks_internal_test.go).
type (
	tagTll struct {
		nest.Namespace `nest:"r"`
		K              nest.Key[int] `nest:"k" tll:"5s"`
	}
	tagDefualt struct {
		nest.Namespace `nest:"r"`
		K              nest.Key[int] `nest:"k" defualt:"3"`
	}
	tagUpper struct {
		nest.Namespace `nest:"r"`
		K              nest.Key[int] `nest:"k" TTL:"5s"`
	}
	tagCodex struct {
		nest.Namespace `nest:"r"`
		K              nest.Key[pointVal] `nest:"k" codex:"msgpack"`
	}
	tagJSON struct {
		nest.Namespace `nest:"r"`
		K              nest.Key[int] `nest:"k" json:"k"`
	}
	tagExpire struct {
		nest.Namespace `nest:"r"`
		K              nest.Key[int] `nest:"k" expire:"5s"`
	}
	tagSlotOnKey struct {
		nest.Namespace `nest:"r"`
		K              nest.Key[int] `nest:"k" slot:"pin"`
	}
	tagParamKey struct {
		nest.Namespace `nest:"r"`
		K              nest.ParamKey[int] `nest:"k:{id}" tll:"5s"`
	}
	tagPassword struct {
		nest.Namespace `nest:"r"`
		P              nest.Password `nest:"p" tl:"5s"`
	}
	tagSecret struct {
		nest.Namespace `nest:"r"`
		S              nest.Secret[int] `nest:"s" defualt:"3"`
	}
	tagNSEmbedded struct {
		nest.Namespace `nest:"r" tll:"5s"`
	}
	tagNSDefault struct {
		nest.Namespace `nest:"r" default:"1"`
	}
	tagChildField struct {
		nest.Namespace `nest:"r"`
		App            App `slto:"pin"`
	}
	tagSubField struct {
		nest.Namespace `nest:"r"`
		User           nest.Sub[User] `tll:"5s"`
	}
	tagCodecOnNS struct {
		nest.Namespace `nest:"r"`
		App            App `codec:"json"`
	}
	tagUnknownCodec struct {
		nest.Namespace `nest:"r"`
		K              nest.Key[pointVal] `nest:"k" codec:"msgpak"`
	}
	tagCodecOnPassword struct {
		nest.Namespace `nest:"r"`
		P              nest.Password `nest:"p" codec:"json"`
	}
)

func TestSchemaRejectsUnknownTagKeys(t *testing.T) {
	t.Parallel()
	rdb := offlineClient(t)
	tests := []struct {
		name, typ, field string
		newFn            func(redis.UniversalClient, *nest.Options) error
		want             []string
	}{
		{"tll on Key", "tagTll", "K", tryNew[tagTll], []string{`unknown tag key "tll" (did you mean ttl?)`, "nest, ttl, default, codec"}},
		{"defualt on Key", "tagDefualt", "K", tryNew[tagDefualt], []string{`"defualt" (did you mean default?)`}},
		{"upper-case TTL", "tagUpper", "K", tryNew[tagUpper], []string{`"TTL" (did you mean ttl?)`}},
		{"codex on Key", "tagCodex", "K", tryNew[tagCodex], []string{`"codex" (did you mean codec?)`}},
		{"unrelated json key", "tagJSON", "K", tryNew[tagJSON], []string{`unknown tag key "json": a key field takes nest, ttl, default, codec`}},
		{"guessed expire key", "tagExpire", "K", tryNew[tagExpire], []string{`unknown tag key "expire"`}},
		{"slot on a key", "tagSlotOnKey", "K", tryNew[tagSlotOnKey], []string{`"slot" (slot is read on namespaces only)`}},
		{"tll on ParamKey", "tagParamKey", "K", tryNew[tagParamKey], []string{"did you mean ttl?"}},
		{"tl on Password", "tagPassword", "P", tryNew[tagPassword], []string{`"tl" (did you mean ttl?)`}},
		{"defualt on Secret", "tagSecret", "S", func(rdb redis.UniversalClient, _ *nest.Options) error {
			return tryNew[tagSecret](rdb, &nest.Options{SecretKeys: []nest.SecretKey{newSecretKey(t, "k1")}})
		}, []string{"did you mean default?"}},
		{"tll on embedded Namespace", "tagNSEmbedded", "Namespace", tryNew[tagNSEmbedded], []string{`"tll" (did you mean ttl?)`, "an embedded nest.Namespace takes nest, ttl, slot"}},
		{"default on embedded Namespace", "tagNSDefault", "Namespace", tryNew[tagNSDefault], []string{`"default" (default is read on keys only)`}},
		{"slto on child field", "tagChildField", "App", tryNew[tagChildField], []string{`"slto" (did you mean slot?)`, "a namespace field takes"}},
		{"tll on Sub field", "tagSubField", "User", tryNew[tagSubField], []string{"did you mean ttl?", "a nest.Sub field takes"}},
		{"codec on child field", "tagCodecOnNS", "App", tryNew[tagCodecOnNS], []string{`"codec" (codec is read on keys only)`}},
		{"unknown codec name", "tagUnknownCodec", "K", tryNew[tagUnknownCodec], []string{`unknown codec "msgpak" (did you mean msgpack?`, "json, msgpack"}},
		{"codec on Password", "tagCodecOnPassword", "P", tryNew[tagCodecOnPassword], []string{"takes no codec tag"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.newFn(rdb, nil)
			assertSchemaErr(t, err, tt.typ, tt.field, tt.want...)
			if n := len(schemaErrs(t, err)); n != 1 {
				t.Errorf("New reports %d mistakes, want 1 (no follow-on errors):\n%v", n, err)
			}
		})
	}
}

// Fields that New does not read (tagged `nest:"-"`) may carry any tags.
type tagSkipped struct {
	nest.Namespace `nest:"r"`
	Notes          string        `nest:"-" json:"notes" yaml:"notes"`
	Ignored        nest.Key[int] `nest:"-" tll:"5s"`
	K              nest.Key[int] `nest:"k"   ttl:"5s"` // several spaces are fine
}

func TestSchemaTagsOfSkippedFieldsAreFree(t *testing.T) {
	t.Parallel()
	r, err := nest.New[tagSkipped](offlineClient(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := r.K.EffectiveTTL(); d != 5*time.Second {
		t.Errorf("K.EffectiveTTL() = %v, want 5s", d)
	}
}

// Value types.
type (
	withChan struct {
		Name string
		Done chan struct{}
	}
	chanSkipped struct {
		Name string
		Done chan struct{} `json:"-"`
		//lint:ignore U1000 the codecs skip unexported fields, which is what is tested
		hide func()
	}
	selfJSON  struct{ Done chan struct{} }
	nestedVal struct {
		Items map[string][]*withChan
	}
	complexCodec   struct{} // a custom codec that handles complex numbers
	refusingCodec  struct{}
	panickingCodec struct{}
)

func (selfJSON) MarshalJSON() ([]byte, error) { return []byte("{}"), nil }

func (complexCodec) Name() string { return "complex" }
func (complexCodec) Marshal(v any) ([]byte, error) {
	return fmt.Append(nil, *v.(*complex128)), nil
}
func (complexCodec) Unmarshal(data []byte, v any) error {
	_, err := fmt.Sscan(string(data), v.(*complex128))
	return err
}

func (refusingCodec) Name() string                       { return "refusing" }
func (refusingCodec) Marshal(any) ([]byte, error)        { return nil, errors.New("nothing today") }
func (refusingCodec) Unmarshal(data []byte, v any) error { return nil }

func (panickingCodec) Name() string                       { return "panicking" }
func (panickingCodec) Marshal(v any) ([]byte, error)      { panic("boom") }
func (panickingCodec) Unmarshal(data []byte, v any) error { return nil }

type (
	encChan struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[chan int] `nest:"v"`
	}
	encFunc struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[func()] `nest:"v"`
	}
	encComplex struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[complex128] `nest:"v"`
	}
	encComplexMsgpack struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[complex64] `nest:"v" codec:"msgpack"`
	}
	encStructChan struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[withChan] `nest:"v"`
	}
	encNested struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[nestedVal] `nest:"v"`
	}
	encMapKey struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[map[bool]int] `nest:"v"`
	}
	encMsgpackMapKey struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[map[chan int]int] `nest:"v" codec:"msgpack"`
	}
	encParamKey struct {
		nest.Namespace `nest:"r"`
		V              nest.ParamKey[[]func()] `nest:"v:{id}"`
	}
	encSecret struct {
		nest.Namespace `nest:"r"`
		V              nest.Secret[withChan] `nest:"v"`
	}
	encCustom struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[int] `nest:"v" codec:"refusing"`
	}
	encPanics struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[pointVal] `nest:"v" codec:"panicking"`
	}
	encWithDefault struct { // the default is not parsed for a type that cannot be stored
		nest.Namespace `nest:"r"`
		V              nest.Key[chan int] `nest:"v" default:"1"`
	}

	// Value types every codec at hand encodes.
	encFine struct {
		nest.Namespace `nest:"r"`
		Any            nest.Key[any]                       `nest:"any"`
		Ptr            nest.Key[*int]                      `nest:"ptr"`
		Dur            nest.Key[time.Duration]             `nest:"dur"`
		Addr           nest.Key[netip.Addr]                `nest:"addr"`
		Skipped        nest.Key[chanSkipped]               `nest:"skipped"`
		Self           nest.Key[selfJSON]                  `nest:"self"`
		Empty          nest.Key[[0]chan int]               `nest:"empty"`
		BoolKeys       nest.Key[map[bool]int]              `nest:"boolkeys" codec:"msgpack"`
		IntKeys        nest.Key[map[int]string]            `nest:"intkeys"`
		Complex        nest.Key[complex128]                `nest:"complex" codec:"complex"`
		Ints           nest.ParamKey[[]int]                `nest:"ints:{id}"`
		Secret         nest.Secret[map[string]chanSkipped] `nest:"secret"`
		Password       nest.Password                       `nest:"password"`
	}
)

func TestSchemaRejectsValueTypesNoCodecEncodes(t *testing.T) {
	t.Parallel()
	rdb := offlineClient(t)
	opts := &nest.Options{
		SecretKeys: []nest.SecretKey{newSecretKey(t, "k1")},
		Codecs: map[string]nest.Codec{
			"refusing": refusingCodec{}, "panicking": panickingCodec{}, "complex": complexCodec{},
		},
	}
	tests := []struct {
		name, typ string
		newFn     func(redis.UniversalClient, *nest.Options) error
		want      []string
	}{
		{"Key[chan int]", "encChan", tryNew[encChan], []string{"the json codec cannot encode chan int: unsupported type chan int"}},
		{"Key[func()]", "encFunc", tryNew[encFunc], []string{"cannot encode func()"}},
		{"Key[complex128]", "encComplex", tryNew[encComplex], []string{"cannot encode complex128"}},
		{"Key[complex64] under msgpack", "encComplexMsgpack", tryNew[encComplexMsgpack], []string{"the msgpack codec cannot encode complex64"}},
		{"struct with a chan field", "encStructChan", tryNew[encStructChan], []string{
			"cannot encode nest_test.withChan: unsupported type chan struct {} at .Done", "`json:\"-\"`"}},
		{"chan deep inside", "encNested", tryNew[encNested], []string{"at .Items[value][].Done"}},
		{"map with bool keys", "encMapKey", tryNew[encMapKey], []string{"unsupported map key type bool"}},
		{"msgpack map with chan keys", "encMsgpackMapKey", tryNew[encMsgpackMapKey], []string{"unsupported type chan int at [key]"}},
		{"ParamKey[[]func()]", "encParamKey", tryNew[encParamKey], []string{"unsupported type func() at []"}},
		{"Secret with a chan field", "encSecret", tryNew[encSecret], []string{"at .Done"}},
		{"custom codec refusing the zero value", "encCustom", tryNew[encCustom], []string{
			"the refusing codec cannot encode the zero value of int: nothing today"}},
		{"custom codec panicking", "encPanics", tryNew[encPanics], []string{"the panicking codec", "panic: boom"}},
		{"no default check for such types", "encWithDefault", tryNew[encWithDefault], []string{"cannot encode chan int"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.newFn(rdb, opts)
			assertSchemaErr(t, err, tt.typ, "V", tt.want...)
			if n := len(schemaErrs(t, err)); n != 1 {
				t.Errorf("New reports %d mistakes, want 1:\n%v", n, err)
			}
		})
	}

	// A schema-wide codec applies too.
	err := tryNew[encMapKey](rdb, &nest.Options{Codec: nest.MsgPack})
	if err != nil {
		t.Errorf("map[bool]int under Options.Codec = MsgPack: %v, want no error", err)
	}
	err = tryNew[encComplex](rdb, &nest.Options{Codec: nest.MsgPack})
	assertSchemaErr(t, err, "encComplex", "V", "the msgpack codec cannot encode complex128")

	// And no false alarms.
	if err := tryNew[encFine](rdb, opts); err != nil {
		t.Errorf("New refuses types its codecs encode: %v", err)
	}
}
