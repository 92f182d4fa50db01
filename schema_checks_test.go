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

// schemaErrs returns the *nest.SchemaError values in err, which New returns
// alone or joined with errors.Join; any other error in it fails the test.
func schemaErrs(t *testing.T, err error) []*nest.SchemaError {
	t.Helper()
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	var out []*nest.SchemaError
	for _, e := range list {
		se, ok := e.(*nest.SchemaError)
		if !ok {
			t.Fatalf("New's error holds %q (%T), want only *nest.SchemaError values", e, e)
		}
		out = append(out, se)
	}
	return out
}

type (
	// Three mistakes at three depths: a misspelt tag key on the root, an
	// unparsable default in a plain child, a value type no codec encodes in
	// a Sub.
	scThreeChild struct {
		nest.Namespace `nest:"child"`
		Count          nest.Key[int] `nest:"count" default:"many"`
	}
	scThreeSub struct {
		nest.Namespace `nest:"sub:{sub_id}"`
		Events         nest.Key[chan int] `nest:"events"`
		Fine           nest.Key[string]   `nest:"fine"`
	}
	scThree struct {
		nest.Namespace `nest:"three"`
		Session        nest.Key[string] `nest:"session" tll:"5s"`
		Child          scThreeChild
		Sub            nest.Sub[scThreeSub]
		Name           nest.Key[string] `nest:"name"`
	}
)

func TestSchemaReportsEveryMistake(t *testing.T) {
	t.Parallel()
	_, err := nest.New[scThree](scOfflineClient(t), nil)
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
		{"nest_test.scThree", "Session", `unknown tag key "tll" (did you mean ttl?)`},
		{"nest_test.scThreeChild", "Count", `default "many" does not parse as int`},
		{"nest_test.scThreeSub", "Events", "the json codec cannot encode chan int"},
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
		nest.MustNew[scThree](scOfflineClient(t), nil)
	}()
}

type (
	// A namespace whose own prefix is broken still has its fields checked;
	// a type reused under two parents reports its own mistakes once; a
	// broken key name is not also reported as colliding.
	scGoOnBadPrefix struct {
		nest.Namespace `nest:"bad*prefix"`
		K              nest.Key[int] `nest:"k" ttl:"soon"`
	}
	scGoOnReused struct {
		nest.Namespace `nest:"reused"`
		F              nest.Key[func()] `nest:"f"`
	}
	scGoOnNoNS struct {
		X int // not looked into: the type is not a namespace
	}
	scGoOn struct {
		nest.Namespace `nest:"goon"`
		Bad            scGoOnBadPrefix
		A              scGoOnReused
		B              scGoOnReused `nest:"b"`
		NoNS           nest.Sub[scGoOnNoNS]
		K1             nest.Key[int] `nest:"k*"`
		K2             nest.Key[int] `nest:"k*"`
		Count          int
	}
)

func TestSchemaGoesOnPastMistakes(t *testing.T) {
	t.Parallel()
	_, err := nest.New[scGoOn](scOfflineClient(t), nil)
	want := []struct{ typ, field, msg string }{
		{"nest_test.scGoOn", "Bad", `namespace type nest_test.scGoOnBadPrefix: template "bad*prefix"`},
		{"nest_test.scGoOnBadPrefix", "K", `ttl "soon"`},
		{"nest_test.scGoOnReused", "F", "the json codec cannot encode func()"},
		{"nest_test.scGoOn", "NoNS", "does not embed nest.Namespace"},
		{"nest_test.scGoOn", "K1", `"k*"`},
		{"nest_test.scGoOn", "K2", `"k*"`},
		{"nest_test.scGoOn", "Count", "unsupported field type int"},
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
	scSelfNode struct {
		nest.Namespace `nest:"node:{id}"`
		Child          nest.Sub[scSelfNode] `nest:"child:{child_id}"`
		K              nest.Key[int]        `nest:"k"`
	}
	scSelfMid struct {
		nest.Namespace `nest:"mid"`
		Back           nest.Sub[scSelfOuter]
	}
	scSelfOuter struct {
		nest.Namespace `nest:"outer:{outer_id}"`
		Mid            scSelfMid
	}
	scSelfRoot struct {
		nest.Namespace `nest:"self"`
		Node           nest.Sub[scSelfNode]
		Outer          nest.Sub[scSelfOuter]
	}
)

func TestSchemaRefusesSelfHoldingNamespaces(t *testing.T) {
	t.Parallel()
	done := make(chan error, 1)
	go func() { done <- scNew[scSelfRoot](scOfflineClient(t), nil) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("New does not return for a namespace type that holds itself")
	}
	want := []struct{ typ, field, msg string }{
		{"nest_test.scSelfNode", "Child", "namespace type nest_test.scSelfNode: type nest_test.scSelfNode holds itself (it is also scSelfRoot.Node)"},
		{"nest_test.scSelfMid", "Back", "type nest_test.scSelfOuter holds itself (it is also scSelfRoot.Outer)"},
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
	scCfgVault struct {
		nest.Namespace `nest:"vault"`
		A              nest.Secret[string] `nest:"a"`
		B              nest.Secret[string] `nest:"b"`
	}
	scCfgAndSchema struct {
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
	rdb := scOfflineClient(t)

	_, err := nest.New[scCfgVault](rdb, nil)
	if !errors.Is(err, nest.ErrConfig) || errors.Is(err, nest.ErrSchema) {
		t.Fatalf("New = %v, want ErrConfig and not ErrSchema", err)
	}
	var se *nest.SchemaError
	if errors.As(err, &se) {
		t.Errorf("errors.As found a SchemaError in %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "scCfgVault.A") || strings.Contains(msg, "scCfgVault.B") || strings.Contains(msg, "\n") {
		t.Errorf("New = %q, want one error naming the first Secret field", msg)
	}

	_, err = nest.New[scCfgAndSchema](rdb, nil)
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
	_, err = nest.New[scCfgAndSchema](rdb, &nest.Options{SecretKeys: []nest.SecretKey{newKey(t, "k1")}})
	if errors.Is(err, nest.ErrConfig) || len(schemaErrs(t, err)) != 1 {
		t.Errorf("New with a keyring = %v, want one schema error", err)
	}
}

// Schemas with unknown or misplaced tag keys (malformed tags and repeated
// keys, which go vet or staticcheck refuse in a test, are checked in
// schema_checks_internal_test.go).
type (
	scTagTll struct {
		nest.Namespace `nest:"r"`
		K              nest.Key[int] `nest:"k" tll:"5s"`
	}
	scTagDefualt struct {
		nest.Namespace `nest:"r"`
		K              nest.Key[int] `nest:"k" defualt:"3"`
	}
	scTagUpper struct {
		nest.Namespace `nest:"r"`
		K              nest.Key[int] `nest:"k" TTL:"5s"`
	}
	scTagCodex struct {
		nest.Namespace `nest:"r"`
		K              nest.Key[scPoint] `nest:"k" codex:"msgpack"`
	}
	scTagJSON struct {
		nest.Namespace `nest:"r"`
		K              nest.Key[int] `nest:"k" json:"k"`
	}
	scTagExpire struct {
		nest.Namespace `nest:"r"`
		K              nest.Key[int] `nest:"k" expire:"5s"`
	}
	scTagSlotOnKey struct {
		nest.Namespace `nest:"r"`
		K              nest.Key[int] `nest:"k" slot:"pin"`
	}
	scTagParamKey struct {
		nest.Namespace `nest:"r"`
		K              nest.ParamKey[int] `nest:"k:{id}" tll:"5s"`
	}
	scTagPassword struct {
		nest.Namespace `nest:"r"`
		P              nest.Password `nest:"p" tl:"5s"`
	}
	scTagSecret struct {
		nest.Namespace `nest:"r"`
		S              nest.Secret[int] `nest:"s" defualt:"3"`
	}
	scTagNSEmbedded struct {
		nest.Namespace `nest:"r" tll:"5s"`
	}
	scTagNSDefault struct {
		nest.Namespace `nest:"r" default:"1"`
	}
	scTagChildField struct {
		nest.Namespace `nest:"r"`
		App            App `slto:"pin"`
	}
	scTagSubField struct {
		nest.Namespace `nest:"r"`
		User           nest.Sub[User] `tll:"5s"`
	}
	scTagCodecOnNS struct {
		nest.Namespace `nest:"r"`
		App            App `codec:"json"`
	}
	scTagUnknownCodec struct {
		nest.Namespace `nest:"r"`
		K              nest.Key[scPoint] `nest:"k" codec:"msgpak"`
	}
	scTagCodecOnPassword struct {
		nest.Namespace `nest:"r"`
		P              nest.Password `nest:"p" codec:"json"`
	}
)

func TestSchemaRejectsUnknownTagKeys(t *testing.T) {
	t.Parallel()
	rdb := scOfflineClient(t)
	tests := []struct {
		name, typ, field string
		newFn            func(redis.UniversalClient, *nest.Options) error
		want             []string
	}{
		{"tll on Key", "scTagTll", "K", scNew[scTagTll], []string{`unknown tag key "tll" (did you mean ttl?)`, "nest, ttl, default, codec"}},
		{"defualt on Key", "scTagDefualt", "K", scNew[scTagDefualt], []string{`"defualt" (did you mean default?)`}},
		{"upper-case TTL", "scTagUpper", "K", scNew[scTagUpper], []string{`"TTL" (did you mean ttl?)`}},
		{"codex on Key", "scTagCodex", "K", scNew[scTagCodex], []string{`"codex" (did you mean codec?)`}},
		{"unrelated json key", "scTagJSON", "K", scNew[scTagJSON], []string{`unknown tag key "json": a key field takes nest, ttl, default, codec`}},
		{"guessed expire key", "scTagExpire", "K", scNew[scTagExpire], []string{`unknown tag key "expire"`}},
		{"slot on a key", "scTagSlotOnKey", "K", scNew[scTagSlotOnKey], []string{`"slot" (slot is read on namespaces only)`}},
		{"tll on ParamKey", "scTagParamKey", "K", scNew[scTagParamKey], []string{"did you mean ttl?"}},
		{"tl on Password", "scTagPassword", "P", scNew[scTagPassword], []string{`"tl" (did you mean ttl?)`}},
		{"defualt on Secret", "scTagSecret", "S", func(rdb redis.UniversalClient, _ *nest.Options) error {
			return scNew[scTagSecret](rdb, &nest.Options{SecretKeys: []nest.SecretKey{newKey(t, "k1")}})
		}, []string{"did you mean default?"}},
		{"tll on embedded Namespace", "scTagNSEmbedded", "Namespace", scNew[scTagNSEmbedded], []string{`"tll" (did you mean ttl?)`, "an embedded nest.Namespace takes nest, ttl, slot"}},
		{"default on embedded Namespace", "scTagNSDefault", "Namespace", scNew[scTagNSDefault], []string{`"default" (default is read on keys only)`}},
		{"slto on child field", "scTagChildField", "App", scNew[scTagChildField], []string{`"slto" (did you mean slot?)`, "a namespace field takes"}},
		{"tll on Sub field", "scTagSubField", "User", scNew[scTagSubField], []string{"did you mean ttl?", "a nest.Sub field takes"}},
		{"codec on child field", "scTagCodecOnNS", "App", scNew[scTagCodecOnNS], []string{`"codec" (codec is read on keys only)`}},
		{"unknown codec name", "scTagUnknownCodec", "K", scNew[scTagUnknownCodec], []string{`unknown codec "msgpak" (did you mean msgpack?`, "json, msgpack"}},
		{"codec on Password", "scTagCodecOnPassword", "P", scNew[scTagCodecOnPassword], []string{"takes no codec tag"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.newFn(rdb, nil)
			scSchemaErr(t, err, tt.typ, tt.field, tt.want...)
			if n := len(schemaErrs(t, err)); n != 1 {
				t.Errorf("New reports %d mistakes, want 1 (no follow-on errors):\n%v", n, err)
			}
		})
	}
}

// Fields that New does not read (tagged `nest:"-"`) may carry any tags.
type scTagSkipped struct {
	nest.Namespace `nest:"r"`
	Notes          string        `nest:"-" json:"notes" yaml:"notes"`
	Ignored        nest.Key[int] `nest:"-" tll:"5s"`
	K              nest.Key[int] `nest:"k"   ttl:"5s"` // several spaces are fine
}

func TestSchemaTagsOfSkippedFieldsAreFree(t *testing.T) {
	t.Parallel()
	r, err := nest.New[scTagSkipped](scOfflineClient(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := r.K.EffectiveTTL(); d != 5*time.Second {
		t.Errorf("K.EffectiveTTL() = %v, want 5s", d)
	}
}

// Value types.
type (
	scWithChan struct {
		Name string
		Done chan struct{}
	}
	scChanSkipped struct {
		Name string
		Done chan struct{} `json:"-"`
		//lint:ignore U1000 the codecs skip unexported fields, which is what is tested
		hide func()
	}
	scSelfJSON struct{ Done chan struct{} }
	scNested   struct {
		Items map[string][]*scWithChan
	}
	scComplexCodec   struct{} // a custom codec that handles complex numbers
	scRefusingCodec  struct{}
	scPanickingCodec struct{}
)

func (scSelfJSON) MarshalJSON() ([]byte, error) { return []byte("{}"), nil }

func (scComplexCodec) Name() string { return "complex" }
func (scComplexCodec) Marshal(v any) ([]byte, error) {
	return fmt.Append(nil, *v.(*complex128)), nil
}
func (scComplexCodec) Unmarshal(data []byte, v any) error {
	_, err := fmt.Sscan(string(data), v.(*complex128))
	return err
}

func (scRefusingCodec) Name() string                       { return "refusing" }
func (scRefusingCodec) Marshal(any) ([]byte, error)        { return nil, errors.New("nothing today") }
func (scRefusingCodec) Unmarshal(data []byte, v any) error { return nil }

func (scPanickingCodec) Name() string                       { return "panicking" }
func (scPanickingCodec) Marshal(v any) ([]byte, error)      { panic("boom") }
func (scPanickingCodec) Unmarshal(data []byte, v any) error { return nil }

type (
	scEncChan struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[chan int] `nest:"v"`
	}
	scEncFunc struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[func()] `nest:"v"`
	}
	scEncComplex struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[complex128] `nest:"v"`
	}
	scEncComplexMsgpack struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[complex64] `nest:"v" codec:"msgpack"`
	}
	scEncStructChan struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[scWithChan] `nest:"v"`
	}
	scEncNested struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[scNested] `nest:"v"`
	}
	scEncMapKey struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[map[bool]int] `nest:"v"`
	}
	scEncMsgpackMapKey struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[map[chan int]int] `nest:"v" codec:"msgpack"`
	}
	scEncParamKey struct {
		nest.Namespace `nest:"r"`
		V              nest.ParamKey[[]func()] `nest:"v:{id}"`
	}
	scEncSecret struct {
		nest.Namespace `nest:"r"`
		V              nest.Secret[scWithChan] `nest:"v"`
	}
	scEncCustom struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[int] `nest:"v" codec:"refusing"`
	}
	scEncPanics struct {
		nest.Namespace `nest:"r"`
		V              nest.Key[scPoint] `nest:"v" codec:"panicking"`
	}
	scEncWithDefault struct { // the default is not parsed for a type that cannot be stored
		nest.Namespace `nest:"r"`
		V              nest.Key[chan int] `nest:"v" default:"1"`
	}

	// Value types every codec at hand encodes.
	scEncFine struct {
		nest.Namespace `nest:"r"`
		Any            nest.Key[any]                         `nest:"any"`
		Ptr            nest.Key[*int]                        `nest:"ptr"`
		Dur            nest.Key[time.Duration]               `nest:"dur"`
		Addr           nest.Key[netip.Addr]                  `nest:"addr"`
		Skipped        nest.Key[scChanSkipped]               `nest:"skipped"`
		Self           nest.Key[scSelfJSON]                  `nest:"self"`
		Empty          nest.Key[[0]chan int]                 `nest:"empty"`
		BoolKeys       nest.Key[map[bool]int]                `nest:"boolkeys" codec:"msgpack"`
		IntKeys        nest.Key[map[int]string]              `nest:"intkeys"`
		Complex        nest.Key[complex128]                  `nest:"complex" codec:"complex"`
		Ints           nest.ParamKey[[]int]                  `nest:"ints:{id}"`
		Secret         nest.Secret[map[string]scChanSkipped] `nest:"secret"`
		Password       nest.Password                         `nest:"password"`
	}
)

func TestSchemaRejectsValueTypesNoCodecEncodes(t *testing.T) {
	t.Parallel()
	rdb := scOfflineClient(t)
	opts := &nest.Options{
		SecretKeys: []nest.SecretKey{newKey(t, "k1")},
		Codecs: map[string]nest.Codec{
			"refusing": scRefusingCodec{}, "panicking": scPanickingCodec{}, "complex": scComplexCodec{},
		},
	}
	tests := []struct {
		name, typ string
		newFn     func(redis.UniversalClient, *nest.Options) error
		want      []string
	}{
		{"Key[chan int]", "scEncChan", scNew[scEncChan], []string{"the json codec cannot encode chan int: unsupported type chan int"}},
		{"Key[func()]", "scEncFunc", scNew[scEncFunc], []string{"cannot encode func()"}},
		{"Key[complex128]", "scEncComplex", scNew[scEncComplex], []string{"cannot encode complex128"}},
		{"Key[complex64] under msgpack", "scEncComplexMsgpack", scNew[scEncComplexMsgpack], []string{"the msgpack codec cannot encode complex64"}},
		{"struct with a chan field", "scEncStructChan", scNew[scEncStructChan], []string{
			"cannot encode nest_test.scWithChan: unsupported type chan struct {} at .Done", "`json:\"-\"`"}},
		{"chan deep inside", "scEncNested", scNew[scEncNested], []string{"at .Items[value][].Done"}},
		{"map with bool keys", "scEncMapKey", scNew[scEncMapKey], []string{"unsupported map key type bool"}},
		{"msgpack map with chan keys", "scEncMsgpackMapKey", scNew[scEncMsgpackMapKey], []string{"unsupported type chan int at [key]"}},
		{"ParamKey[[]func()]", "scEncParamKey", scNew[scEncParamKey], []string{"unsupported type func() at []"}},
		{"Secret with a chan field", "scEncSecret", scNew[scEncSecret], []string{"at .Done"}},
		{"custom codec refusing the zero value", "scEncCustom", scNew[scEncCustom], []string{
			"the refusing codec cannot encode the zero value of int: nothing today"}},
		{"custom codec panicking", "scEncPanics", scNew[scEncPanics], []string{"the panicking codec", "panic: boom"}},
		{"no default check for such types", "scEncWithDefault", scNew[scEncWithDefault], []string{"cannot encode chan int"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.newFn(rdb, opts)
			scSchemaErr(t, err, tt.typ, "V", tt.want...)
			if n := len(schemaErrs(t, err)); n != 1 {
				t.Errorf("New reports %d mistakes, want 1:\n%v", n, err)
			}
		})
	}

	// A schema-wide codec applies too.
	err := scNew[scEncMapKey](rdb, &nest.Options{Codec: nest.MsgPack})
	if err != nil {
		t.Errorf("map[bool]int under Options.Codec = MsgPack: %v, want no error", err)
	}
	err = scNew[scEncComplex](rdb, &nest.Options{Codec: nest.MsgPack})
	scSchemaErr(t, err, "scEncComplex", "V", "the msgpack codec cannot encode complex128")

	// And no false alarms.
	if err := scNew[scEncFine](rdb, opts); err != nil {
		t.Errorf("New refuses types its codecs encode: %v", err)
	}
}
