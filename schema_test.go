package nest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// scOfflineClient returns a go-redis client pointed at an address where no
// server listens. New does no I/O, so schema checks need no server; any
// command sent through this client would fail.
func scOfflineClient(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 50 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Schema types with a mistake each. Every one must be refused by New.
type (
	scPoint struct {
		X int `json:"x"`
		Y int `json:"y"`
	}

	// Malformed key-name templates.
	scTplOpen struct {
		nest.Namespace `nest:"root"`
		Bad            nest.ParamKey[int] `nest:"user:{id"`
	}
	scTplClose struct {
		nest.Namespace `nest:"root"`
		Bad            nest.Key[int] `nest:"user:id}"`
	}
	scTplEmptyPlaceholder struct {
		nest.Namespace `nest:"root"`
		Bad            nest.ParamKey[int] `nest:"user:{}"`
	}
	scTplDupPlaceholder struct {
		nest.Namespace `nest:"root"`
		Bad            nest.ParamKey[int] `nest:"{a}:{a}"`
	}
	scTplTwoInSegment struct {
		nest.Namespace `nest:"root"`
		Bad            nest.ParamKey[int] `nest:"{a}{b}"`
	}
	scTplEmptySegment struct {
		nest.Namespace `nest:"root"`
		Bad            nest.Key[int] `nest:"a::b"`
	}
	scTplTrailingColon struct {
		nest.Namespace `nest:"root"`
		Bad            nest.Key[int] `nest:"a:"`
	}
	scTplStar struct {
		nest.Namespace `nest:"root"`
		Bad            nest.Key[int] `nest:"a*b"`
	}
	scTplQuestion struct {
		nest.Namespace `nest:"root"`
		Bad            nest.Key[int] `nest:"a?b"`
	}
	scTplBracket struct {
		nest.Namespace `nest:"root"`
		Bad            nest.Key[int] `nest:"a[b]"`
	}
	scTplBackslash struct {
		nest.Namespace `nest:"root"`
		Bad            nest.Key[int] `nest:"a\\b"`
	}
	scTplSpace struct {
		nest.Namespace `nest:"root"`
		Bad            nest.Key[int] `nest:"a b"`
	}
	scTplBadName struct {
		nest.Namespace `nest:"root"`
		Bad            nest.ParamKey[int] `nest:"user:{1id}"`
	}

	// Malformed namespace prefix templates, on the child type and on the
	// field that holds it.
	scBadPrefixNS struct {
		nest.Namespace `nest:"grp:{g"`
		K              nest.Key[int] `nest:"k"`
	}
	scBadPrefixParent struct {
		nest.Namespace `nest:"root"`
		Group          nest.Sub[scBadPrefixNS]
	}
	scPlainNS struct {
		nest.Namespace `nest:"plain"`
		K              nest.Key[int] `nest:"k"`
	}
	scBadFieldPrefix struct {
		nest.Namespace `nest:"root"`
		Other          scPlainNS `nest:"a*"`
	}
	scBadRootPrefix struct {
		nest.Namespace `nest:"ro{ot"`
	}
	scEmptyRootPrefix struct {
		nest.Namespace
		K nest.Key[int] `nest:"k"`
	}

	// A placeholder name an ancestor already uses.
	scAncChild struct {
		nest.Namespace `nest:"child:{id}"`
		K              nest.Key[int] `nest:"k"`
	}
	scAncParent struct {
		nest.Namespace `nest:"parent:{id}"`
		Child          nest.Sub[scAncChild]
	}
	scAncRoot struct {
		nest.Namespace `nest:"root"`
		Parent         nest.Sub[scAncParent]
	}
	scAncKeyParent struct {
		nest.Namespace `nest:"parent:{id}"`
		Item           nest.ParamKey[int] `nest:"item:{id}"`
	}
	scAncKeyRoot struct {
		nest.Namespace `nest:"root"`
		Parent         nest.Sub[scAncKeyParent]
	}
	scAncPlainMid struct {
		nest.Namespace `nest:"mid"`
		Child          nest.Sub[scAncChild]
	}
	scAncDeepParent struct {
		nest.Namespace `nest:"parent:{id}"`
		Mid            scAncPlainMid
	}
	scAncDeepRoot struct {
		nest.Namespace `nest:"root"`
		Parent         nest.Sub[scAncDeepParent]
	}

	// Name collisions inside one namespace.
	scDupKeys struct {
		nest.Namespace `nest:"root"`
		First          nest.Key[int]    `nest:"x"`
		Second         nest.Key[string] `nest:"x"`
	}
	scDupParamKeys struct {
		nest.Namespace `nest:"root"`
		First          nest.ParamKey[int] `nest:"item:{a}"`
		Second         nest.ParamKey[int] `nest:"item:{b}"`
	}
	scKeyVsChild struct {
		nest.Namespace `nest:"root"`
		App            App
		AppKey         nest.Key[string] `nest:"app"`
	}
	scKeyVsSub struct {
		nest.Namespace `nest:"root"`
		User           nest.Sub[User]
		UserKey        nest.ParamKey[string] `nest:"user:{uid}"`
	}
	scChildVsChild struct {
		nest.Namespace `nest:"root"`
		App            App
		Other          scPlainNS `nest:"app"`
	}

	// Sub and plain fields of the wrong kind.
	scStaticNS struct {
		nest.Namespace `nest:"static"`
		K              nest.Key[int] `nest:"k"`
	}
	scSubOfStatic struct {
		nest.Namespace `nest:"root"`
		Static         nest.Sub[scStaticNS]
	}
	scPlainOfParam struct {
		nest.Namespace `nest:"root"`
		Users          User
	}
	scSubOverrideStatic struct {
		nest.Namespace `nest:"root"`
		Users          nest.Sub[User] `nest:"users"`
	}

	// ParamKey with a static name, Key with a parameterised one.
	scParamKeyStatic struct {
		nest.Namespace `nest:"root"`
		Item           nest.ParamKey[int] `nest:"item"`
	}
	scKeyParam struct {
		nest.Namespace `nest:"root"`
		Item           nest.Key[int] `nest:"item:{id}"`
	}

	// Unparsable TTLs.
	scTTLSoon struct {
		nest.Namespace `nest:"root"`
		K              nest.Key[int] `nest:"k" ttl:"soon"`
	}
	scTTLNegative struct {
		nest.Namespace `nest:"root"`
		K              nest.Key[int] `nest:"k" ttl:"-5s"`
	}
	scTTLZero struct {
		nest.Namespace `nest:"root"`
		K              nest.Key[int] `nest:"k" ttl:"0"`
	}
	scTTLBadOption struct {
		nest.Namespace `nest:"root"`
		K              nest.Key[int] `nest:"k" ttl:"5s,forever"`
	}
	scTTLNoneSliding struct {
		nest.Namespace `nest:"root"`
		K              nest.Key[int] `nest:"k" ttl:"none,sliding"`
	}
	scTTLSubMillisecond struct {
		nest.Namespace `nest:"root"`
		K              nest.Key[int] `nest:"k" ttl:"1500us"`
	}
	scTTLBadNS struct {
		nest.Namespace `nest:"grp" ttl:"soon"`
		K              nest.Key[int] `nest:"k"`
	}
	scTTLBadNSParent struct {
		nest.Namespace `nest:"root"`
		Group          scTTLBadNS
	}
	scTTLBadFieldTag struct {
		nest.Namespace `nest:"root"`
		Group          scPlainNS `ttl:"-5s"`
	}
	scTTLBadRoot struct {
		nest.Namespace `nest:"root" ttl:"soon"`
	}

	// Unparsable defaults.
	scDefaultInt struct {
		nest.Namespace `nest:"root"`
		Count          nest.Key[int] `nest:"count" default:"abc"`
	}
	scDefaultStruct struct {
		nest.Namespace `nest:"root"`
		Where          nest.Key[scPoint] `nest:"where" default:"{"`
	}
	scDefaultInt8 struct {
		nest.Namespace `nest:"root"`
		Small          nest.Key[int8] `nest:"small" default:"300"`
	}
	scDefaultBool struct {
		nest.Namespace `nest:"root"`
		Flag           nest.Key[bool] `nest:"flag" default:"maybe"`
	}
	scDefaultTime struct {
		nest.Namespace `nest:"root"`
		At             nest.Key[time.Time] `nest:"at" default:"yesterday"`
	}

	// Field types a schema cannot hold.
	scIntField struct {
		nest.Namespace `nest:"root"`
		Count          int
	}
	scPtrField struct {
		nest.Namespace `nest:"root"`
		App            *App
	}
	scMissingKeyTag struct {
		nest.Namespace `nest:"root"`
		Age            nest.Key[int]
	}
	scEmptyKeyTag struct {
		nest.Namespace `nest:"root"`
		Age            nest.Key[int] `nest:""`
	}
	scNoNSChild struct {
		K nest.Key[int] `nest:"k"`
	}
	scNoNSPlain struct {
		nest.Namespace `nest:"root"`
		Child          scNoNSChild
	}
	scNoNSSub struct {
		nest.Namespace `nest:"root"`
		Child          nest.Sub[scNoNSChild]
	}
	scNoNSRoot struct {
		K nest.Key[int] `nest:"k"`
	}
	scParamRootBad struct {
		nest.Namespace `nest:"root:{tenant}"`
		K              nest.Key[int] `nest:"k"`
	}
	scUnknownCodec struct {
		nest.Namespace `nest:"root"`
		Data           nest.Key[scPoint] `nest:"data" codec:"yaml"`
	}
	scEmbedded struct {
		nest.Namespace `nest:"root"`
		scPoint
	}
)

// scSchemaErr checks that err is a schema error naming typ and field (field
// "" means the type itself) and containing every want substring.
func scSchemaErr(t *testing.T, err error, typ, field string, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("New returned no error, want a schema error for %s.%s", typ, field)
	}
	if !errors.Is(err, nest.ErrSchema) {
		t.Fatalf("error %q does not match nest.ErrSchema", err)
	}
	var se *nest.SchemaError
	if !errors.As(err, &se) {
		t.Fatalf("error %q (%T) is not a *nest.SchemaError", err, err)
	}
	msg := err.Error()
	if se.Type != "nest_test."+typ {
		t.Errorf("SchemaError.Type = %q, want %q (error: %s)", se.Type, "nest_test."+typ, msg)
	}
	if se.Field != field {
		t.Errorf("SchemaError.Field = %q, want %q (error: %s)", se.Field, field, msg)
	}
	name := typ
	if field != "" {
		name += "." + field
	}
	if !strings.Contains(msg, name) {
		t.Errorf("error %q does not name %s", msg, name)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
}

func TestSchemaNewRejects(t *testing.T) {
	t.Parallel()
	rdb := scOfflineClient(t)
	type tc struct {
		name  string
		newFn func() error
		typ   string // Go type the error must name, without "nest_test."
		field string
		want  []string
	}
	newErr := func(f func(redis.UniversalClient, *nest.Options) error) func() error {
		return func() error { return f(rdb, nil) }
	}
	tests := []tc{
		// templates
		{"unbalanced open brace", newErr(scNew[scTplOpen]), "scTplOpen", "Bad", []string{"user:{id", "unbalanced '{'"}},
		{"unbalanced close brace", newErr(scNew[scTplClose]), "scTplClose", "Bad", []string{"user:id}", "unbalanced '}'"}},
		{"empty placeholder", newErr(scNew[scTplEmptyPlaceholder]), "scTplEmptyPlaceholder", "Bad", []string{"empty placeholder"}},
		{"duplicate placeholder", newErr(scNew[scTplDupPlaceholder]), "scTplDupPlaceholder", "Bad", []string{"{a}", "twice"}},
		{"two placeholders in one segment", newErr(scNew[scTplTwoInSegment]), "scTplTwoInSegment", "Bad", []string{"more than one placeholder"}},
		{"empty segment", newErr(scNew[scTplEmptySegment]), "scTplEmptySegment", "Bad", []string{"a::b", "empty segment"}},
		{"trailing separator", newErr(scNew[scTplTrailingColon]), "scTplTrailingColon", "Bad", []string{"empty segment"}},
		{"glob star in literal", newErr(scNew[scTplStar]), "scTplStar", "Bad", []string{"a*b", "'*'"}},
		{"glob question mark in literal", newErr(scNew[scTplQuestion]), "scTplQuestion", "Bad", []string{"'?'"}},
		{"glob bracket in literal", newErr(scNew[scTplBracket]), "scTplBracket", "Bad", []string{"'['"}},
		{"backslash in literal", newErr(scNew[scTplBackslash]), "scTplBackslash", "Bad", []string{`'\\'`}},
		{"space in literal", newErr(scNew[scTplSpace]), "scTplSpace", "Bad", []string{"' '"}},
		{"placeholder name not an identifier", newErr(scNew[scTplBadName]), "scTplBadName", "Bad", []string{"{1id}"}},
		{"bad prefix on Sub child type", newErr(scNew[scBadPrefixParent]), "scBadPrefixParent", "Group", []string{"grp:{g", "unbalanced '{'"}},
		{"bad prefix in field tag", newErr(scNew[scBadFieldPrefix]), "scBadFieldPrefix", "Other", []string{"a*"}},
		{"bad root prefix", newErr(scNew[scBadRootPrefix]), "scBadRootPrefix", "", []string{"ro{ot"}},
		{"missing root prefix", newErr(scNew[scEmptyRootPrefix]), "scEmptyRootPrefix", "", []string{"missing prefix"}},
		// placeholders reused by an ancestor
		{"placeholder reused by parent namespace", newErr(scNew[scAncRoot]), "scAncParent", "Child", []string{"{id}", "scAncRoot.Parent"}},
		{"placeholder reused by a key", newErr(scNew[scAncKeyRoot]), "scAncKeyParent", "Item", []string{"{id}"}},
		{"placeholder reused through a plain namespace", newErr(scNew[scAncDeepRoot]), "scAncPlainMid", "Child", []string{"{id}", "scAncDeepRoot.Parent"}},
		// collisions
		{"duplicate key names", newErr(scNew[scDupKeys]), "scDupKeys", "Second", []string{`"x"`, "First"}},
		{"duplicate param key shapes", newErr(scNew[scDupParamKeys]), "scDupParamKeys", "Second", []string{"item:{b}", "First"}},
		{"key name equals child prefix", newErr(scNew[scKeyVsChild]), "scKeyVsChild", "AppKey", []string{`"app"`, "App"}},
		{"param key shape equals Sub prefix", newErr(scNew[scKeyVsSub]), "scKeyVsSub", "UserKey", []string{"user:{uid}", "User"}},
		{"two children with one prefix", newErr(scNew[scChildVsChild]), "scChildVsChild", "Other", []string{`"app"`, "App"}},
		// wrong field kinds
		{"Sub of a static namespace", newErr(scNew[scSubOfStatic]), "scSubOfStatic", "Static", []string{`"static"`, "nest.Sub"}},
		{"Sub whose field tag makes it static", newErr(scNew[scSubOverrideStatic]), "scSubOverrideStatic", "Users", []string{`"users"`, "nest.Sub"}},
		{"parameterised namespace as plain field", newErr(scNew[scPlainOfParam]), "scPlainOfParam", "Users", []string{"user:{user_id}", "nest.Sub[nest_test.User]"}},
		{"ParamKey with static name", newErr(scNew[scParamKeyStatic]), "scParamKeyStatic", "Item", []string{`"item"`, "nest.Key"}},
		{"Key with parameterised name", newErr(scNew[scKeyParam]), "scKeyParam", "Item", []string{"item:{id}", "nest.ParamKey"}},
		// TTLs
		{"ttl soon", newErr(scNew[scTTLSoon]), "scTTLSoon", "K", []string{`"soon"`}},
		{"ttl negative", newErr(scNew[scTTLNegative]), "scTTLNegative", "K", []string{`"-5s"`, "positive"}},
		{"ttl zero", newErr(scNew[scTTLZero]), "scTTLZero", "K", []string{`"0"`, "positive"}},
		{"ttl unknown option", newErr(scNew[scTTLBadOption]), "scTTLBadOption", "K", []string{"forever"}},
		{"ttl none cannot slide", newErr(scNew[scTTLNoneSliding]), "scTTLNoneSliding", "K", []string{"none,sliding"}},
		{"ttl below a millisecond", newErr(scNew[scTTLSubMillisecond]), "scTTLSubMillisecond", "K", []string{"1500us", "millisecond"}},
		{"ttl soon on namespace", newErr(scNew[scTTLBadNSParent]), "scTTLBadNSParent", "Group", []string{`"soon"`}},
		{"ttl negative in field tag", newErr(scNew[scTTLBadFieldTag]), "scTTLBadFieldTag", "Group", []string{`"-5s"`}},
		{"ttl soon on root", newErr(scNew[scTTLBadRoot]), "scTTLBadRoot", "", []string{`"soon"`}},
		// defaults
		{"default abc on Key[int]", newErr(scNew[scDefaultInt]), "scDefaultInt", "Count", []string{`"abc"`, "int"}},
		{"default { on struct key", newErr(scNew[scDefaultStruct]), "scDefaultStruct", "Where", []string{`"{"`, "scPoint"}},
		{"default 300 on Key[int8]", newErr(scNew[scDefaultInt8]), "scDefaultInt8", "Small", []string{`"300"`, "int8"}},
		{"default maybe on Key[bool]", newErr(scNew[scDefaultBool]), "scDefaultBool", "Flag", []string{`"maybe"`}},
		{"default yesterday on Key[time.Time]", newErr(scNew[scDefaultTime]), "scDefaultTime", "At", []string{`"yesterday"`}},
		// field types
		{"int field", newErr(scNew[scIntField]), "scIntField", "Count", []string{"unsupported field type int"}},
		{"pointer to namespace field", newErr(scNew[scPtrField]), "scPtrField", "App", []string{"*nest_test.App"}},
		{"key without nest tag", newErr(scNew[scMissingKeyTag]), "scMissingKeyTag", "Age", []string{"missing key name"}},
		{"key with empty nest tag", newErr(scNew[scEmptyKeyTag]), "scEmptyKeyTag", "Age", []string{"missing key name"}},
		{"plain struct without nest.Namespace", newErr(scNew[scNoNSPlain]), "scNoNSPlain", "Child", []string{"scNoNSChild", "nest.Namespace"}},
		{"Sub of struct without nest.Namespace", newErr(scNew[scNoNSSub]), "scNoNSSub", "Child", []string{"scNoNSChild", "nest.Namespace"}},
		{"root without nest.Namespace", newErr(scNew[scNoNSRoot]), "scNoNSRoot", "", []string{"nest.Namespace"}},
		{"root with parameters", newErr(scNew[scParamRootBad]), "scParamRootBad", "", []string{"root:{tenant}", "parameters"}},
		{"unknown codec", newErr(scNew[scUnknownCodec]), "scUnknownCodec", "Data", []string{`"yaml"`}},
		{"embedded non-namespace struct", newErr(scNew[scEmbedded]), "scEmbedded", "scPoint", []string{"embedded"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			scSchemaErr(t, tt.newFn(), tt.typ, tt.field, tt.want...)
		})
	}
}

// scNew is nest.New with its result dropped, so that table entries can
// refer to one function per schema type.
func scNew[R any](rdb redis.UniversalClient, opts *nest.Options) error {
	r, err := nest.New[R](rdb, opts)
	if err == nil && r == nil {
		return errors.New("nest.New returned a nil root and no error")
	}
	if err != nil && r != nil {
		return errors.New("nest.New returned a root together with an error")
	}
	return err
}

func TestSchemaNewRejectsNonStructAndNilClient(t *testing.T) {
	t.Parallel()
	rdb := scOfflineClient(t)
	if _, err := nest.New[int](rdb, nil); !errors.Is(err, nest.ErrSchema) || !strings.Contains(err.Error(), "int") {
		t.Errorf("New[int]: err = %v, want ErrSchema naming int", err)
	}
	if _, err := nest.New[Root](nil, nil); !errors.Is(err, nest.ErrConfig) {
		t.Errorf("New with nil client: err = %v, want ErrConfig", err)
	}
	if _, err := nest.New[Root](rdb, &nest.Options{Codecs: map[string]nest.Codec{"broken": nil}}); !errors.Is(err, nest.ErrConfig) ||
		!strings.Contains(err.Error(), "broken") {
		t.Errorf("New with nil codec: err = %v, want ErrConfig naming the codec", err)
	}
}

func TestSchemaMustNewPanicsWithTheSameError(t *testing.T) {
	t.Parallel()
	rdb := scOfflineClient(t)
	_, want := nest.New[scDupKeys](rdb, nil)
	if want == nil {
		t.Fatal("New accepted scDupKeys")
	}
	got := func() (got any) {
		defer func() { got = recover() }()
		nest.MustNew[scDupKeys](rdb, nil)
		return nil
	}()
	err, ok := got.(error)
	if !ok {
		t.Fatalf("MustNew panicked with %#v, want an error", got)
	}
	if !errors.Is(err, nest.ErrSchema) || err.Error() != want.Error() {
		t.Errorf("MustNew panicked with %q, want %q", err, want)
	}

	// And a valid schema does not panic.
	root := nest.MustNew[Root](rdb, nil)
	if root.Prefix() != "root" {
		t.Errorf("MustNew[Root].Prefix() = %q", root.Prefix())
	}
}

type scSkipped struct {
	nest.Namespace `nest:"skip"`
	Kept           nest.Key[int]    `nest:"kept"`
	Ignored        nest.Key[int]    `nest:"-"`
	Notes          string           `nest:"-"`
	Counter        int              `nest:"-"`
	Helper         scNoNSChild      `nest:"-"`
	AlsoKept       nest.Key[string] `nest:"also"`
}

func TestSchemaDashSkipsField(t *testing.T) {
	t.Parallel()
	rdb := redistest.Shared(t)
	ctx := context.Background()
	s, err := nest.New[scSkipped](rdb, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if got := s.Kept.Name(); got != "skip:kept" {
		t.Errorf("Kept.Name() = %q, want skip:kept", got)
	}
	if got := s.AlsoKept.Name(); got != "skip:also" {
		t.Errorf("AlsoKept.Name() = %q, want skip:also", got)
	}
	if err := s.Ignored.Err(); !errors.Is(err, nest.ErrNotBound) {
		t.Errorf("Ignored.Err() = %v, want ErrNotBound", err)
	}
	if err := s.Ignored.Set(ctx, 1); !errors.Is(err, nest.ErrNotBound) {
		t.Errorf("Ignored.Set = %v, want ErrNotBound", err)
	}
	if err := s.Helper.K.Err(); !errors.Is(err, nest.ErrNotBound) {
		t.Errorf("Helper.K.Err() = %v, want ErrNotBound", err)
	}
	if err := s.Kept.Set(ctx, 7); err != nil {
		t.Fatalf("Kept.Set: %v", err)
	}
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil || len(keys) != 1 || keys[0] != "skip:kept" {
		t.Errorf("keys in DB = %v (%v), want [skip:kept]", keys, err)
	}
	d := s.Describe()
	if len(d.Keys) != 2 {
		t.Errorf("Describe lists %d keys, want 2 (Kept, AlsoKept): %+v", len(d.Keys), d.Keys)
	}
}

func TestSchemaReusedTypeUnderTwoParents(t *testing.T) {
	t.Parallel()
	root, rdb := newRoot(t)
	ctx := context.Background()

	um := root.User.At(1).Messages.At(7)
	am := root.Admin.At(5, "eu").Messages.At(9)
	checks := []struct{ got, want string }{
		{um.Prefix(), "root:user:1:message:7"},
		{um.Text.Name(), "root:user:1:message:7:text"},
		{um.Seen.Name(), "root:user:1:message:7:seen"},
		{am.Prefix(), "root:admin:5:eu:message:9"},
		{am.Text.Name(), "root:admin:5:eu:message:9:text"},
		{am.Seen.Name(), "root:admin:5:eu:message:9:seen"},
		{root.User.Template(), "user:{user_id}"},
		{root.Admin.Template(), "admin:{admin_id}:{region}"},
		{root.User.At(1).Messages.Template(), "message:{message_id}"},
		{root.Admin.At(5, "eu").Messages.Template(), "message:{message_id}"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	// The two uses are distinct declarations: Message under User inherits
	// User's TTL, under Admin it has none.
	if d, ok := um.EffectiveTTL(); !ok || d != 120*time.Second {
		t.Errorf("user message EffectiveTTL = %v, %v; want 120s", d, ok)
	}
	if d, ok := am.EffectiveTTL(); ok {
		t.Errorf("admin message EffectiveTTL = %v, want none", d)
	}
	if err := um.Text.Set(ctx, "hello"); err != nil {
		t.Fatal(err)
	}
	if err := am.Text.Set(ctx, "bonjour"); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"root:user:1:message:7:text":     "hello",
		"root:admin:5:eu:message:9:text": "bonjour",
	} {
		if got, err := rdb.Get(ctx, name).Result(); err != nil || got != want {
			t.Errorf("GET %s = %q, %v; want %q", name, got, err, want)
		}
	}
	if d := rdb.TTL(ctx, "root:user:1:message:7:text").Val(); d <= 0 || d > 120*time.Second {
		t.Errorf("TTL of user message text = %v, want (0, 120s]", d)
	}
	if d := rdb.TTL(ctx, "root:admin:5:eu:message:9:text").Val(); d != -1 {
		t.Errorf("TTL of admin message text = %v, want -1 (no expiry)", d)
	}
}

// scOverride reuses App under a second name with its own TTL, and
// scPlainNS with and without a TTL.
type scOverride struct {
	nest.Namespace `nest:"root"`
	App            App
	Archive        App       `nest:"archive" ttl:"10s"`
	Forever        App       `nest:"forever" ttl:"none"`
	Plain          scPlainNS `ttl:"1h"`
	PlainAgain     scPlainNS `nest:"plain2"`
	Users          nest.Sub[User]
	Members        nest.Sub[User] `nest:"member:{member_id}" ttl:"30s"`
}

func TestSchemaFieldTagOverridesChildPrefixAndTTL(t *testing.T) {
	t.Parallel()
	rdb := redistest.Shared(t)
	ctx := context.Background()
	r, err := nest.New[scOverride](rdb, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	type exp struct {
		prefix string
		ttl    time.Duration // 0: none
		key    nest.Key[[]string]
		name   string
	}
	cases := map[string]exp{
		"App":     {"root:app", 80 * time.Second, r.App.Tokens, "root:app:tokens"},
		"Archive": {"root:archive", 10 * time.Second, r.Archive.Tokens, "root:archive:tokens"},
		"Forever": {"root:forever", 0, r.Forever.Tokens, "root:forever:tokens"},
	}
	prefixes := map[string]string{"App": r.App.Prefix(), "Archive": r.Archive.Prefix(), "Forever": r.Forever.Prefix()}
	for field, e := range cases {
		if prefixes[field] != e.prefix {
			t.Errorf("%s.Prefix() = %q, want %q", field, prefixes[field], e.prefix)
		}
		if e.key.Name() != e.name {
			t.Errorf("%s.Tokens.Name() = %q, want %q", field, e.key.Name(), e.name)
		}
		d, ok := e.key.EffectiveTTL()
		if ok != (e.ttl > 0) || d != e.ttl {
			t.Errorf("%s.Tokens.EffectiveTTL() = %v, %v; want %v", field, d, ok, e.ttl)
		}
		if err := e.key.Set(ctx, []string{field}); err != nil {
			t.Fatal(err)
		}
		pttl := rdb.PTTL(ctx, e.name).Val()
		switch {
		case e.ttl == 0 && pttl != -1:
			t.Errorf("PTTL %s = %v, want no expiry", e.name, pttl)
		case e.ttl > 0 && (pttl <= 0 || pttl > e.ttl):
			t.Errorf("PTTL %s = %v, want (0, %v]", e.name, pttl, e.ttl)
		}
	}
	if got := r.Plain.K.Name(); got != "root:plain:k" {
		t.Errorf("Plain.K = %q", got)
	}
	if d, _ := r.Plain.K.EffectiveTTL(); d != time.Hour {
		t.Errorf("Plain.K EffectiveTTL = %v, want 1h", d)
	}
	if got := r.PlainAgain.K.Name(); got != "root:plain2:k" {
		t.Errorf("PlainAgain.K = %q", got)
	}
	if _, ok := r.PlainAgain.K.EffectiveTTL(); ok {
		t.Error("PlainAgain.K has a TTL, want none")
	}
	if got := r.Users.At(3).Age.Name(); got != "root:user:3:age" {
		t.Errorf("Users.At(3).Age = %q", got)
	}
	m := r.Members.At(3)
	if got := m.Age.Name(); got != "root:member:3:age" {
		t.Errorf("Members.At(3).Age = %q", got)
	}
	if got := r.Members.Template(); got != "member:{member_id}" {
		t.Errorf("Members.Template() = %q", got)
	}
	if d, _ := m.Age.EffectiveTTL(); d != 30*time.Second {
		t.Errorf("Members Age EffectiveTTL = %v, want 30s", d)
	}
	if got := r.Members.With(nest.Params{"member_id": 4}).Name.Name(); got != "root:member:4:name" {
		t.Errorf("Members.With = %q", got)
	}
	// The override is per field: the User type's own prefix still applies
	// to the other field, and the override's placeholder name is the one
	// the named form knows.
	if err := r.Members.With(nest.Params{"user_id": 4}).Err(); !errors.Is(err, nest.ErrMissingParam) {
		t.Errorf("Members.With(user_id) err = %v, want ErrMissingParam", err)
	}
	// Message under the overridden User is reachable and inherits 30s.
	if got := m.Messages.At(8).Seen.Name(); got != "root:member:3:message:8:seen" {
		t.Errorf("nested message = %q", got)
	}
	if d, _ := m.Messages.At(8).Text.EffectiveTTL(); d != 30*time.Second {
		t.Errorf("nested message text TTL = %v, want 30s", d)
	}
}

// A deep schema mixing plain and Sub children:
// root → org:{org_id} (Sub) → team (plain) → member:{member_id} (Sub) →
// profile (plain) → docs:{doc_id} (Sub) → rev (plain) → key.
type (
	scDeepRev struct {
		nest.Namespace `nest:"rev"`
		Body           nest.Key[string] `nest:"body"`
	}
	scDeepDoc struct {
		nest.Namespace `nest:"docs:{doc_id}"`
		Title          nest.Key[string] `nest:"title"`
		Rev            scDeepRev
	}
	scDeepProfile struct {
		nest.Namespace `nest:"profile" ttl:"45s"`
		Bio            nest.Key[string]      `nest:"bio"`
		Attr           nest.ParamKey[string] `nest:"attr:{attr}"`
		Docs           nest.Sub[scDeepDoc]
	}
	scDeepMember struct {
		nest.Namespace `nest:"member:{member_id}"`
		Profile        scDeepProfile
		Role           nest.Key[string] `nest:"role"`
	}
	scDeepTeam struct {
		nest.Namespace `nest:"team"`
		Members        nest.Sub[scDeepMember]
		Size           nest.Key[int] `nest:"size"`
	}
	scDeepOrg struct {
		nest.Namespace `nest:"org:{org_id}" ttl:"2h"`
		Team           scDeepTeam
		Name           nest.Key[string] `nest:"name"`
	}
	scDeepRoot struct {
		nest.Namespace `nest:"root"`
		Orgs           nest.Sub[scDeepOrg]
	}
)

func TestSchemaDeepNesting(t *testing.T) {
	t.Parallel()
	rdb := redistest.Shared(t)
	ctx := context.Background()
	r, err := nest.New[scDeepRoot](rdb, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	org := r.Orgs.At("acme")
	mem := org.Team.Members.At(7)
	doc := mem.Profile.Docs.At(3)
	checks := []struct{ what, got, want string }{
		{"org prefix", org.Prefix(), "root:org:acme"},
		{"org name", org.Name.Name(), "root:org:acme:name"},
		{"team prefix", org.Team.Prefix(), "root:org:acme:team"},
		{"team size", org.Team.Size.Name(), "root:org:acme:team:size"},
		{"member prefix", mem.Prefix(), "root:org:acme:team:member:7"},
		{"member role", mem.Role.Name(), "root:org:acme:team:member:7:role"},
		{"profile prefix", mem.Profile.Prefix(), "root:org:acme:team:member:7:profile"},
		{"profile bio", mem.Profile.Bio.Name(), "root:org:acme:team:member:7:profile:bio"},
		{"profile attr", mem.Profile.Attr.At("color").Name(), "root:org:acme:team:member:7:profile:attr:color"},
		{"doc prefix", doc.Prefix(), "root:org:acme:team:member:7:profile:docs:3"},
		{"doc title", doc.Title.Name(), "root:org:acme:team:member:7:profile:docs:3:title"},
		{"rev prefix", doc.Rev.Prefix(), "root:org:acme:team:member:7:profile:docs:3:rev"},
		{"rev body", doc.Rev.Body.Name(), "root:org:acme:team:member:7:profile:docs:3:rev:body"},
		{"named forms", r.Orgs.With(nest.Params{"org_id": "acme"}).Team.Members.With(nest.Params{"member_id": 7}).
			Profile.Docs.With(nest.Params{"doc_id": 3}).Rev.Body.Name(), "root:org:acme:team:member:7:profile:docs:3:rev:body"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	// TTL drills through the levels: 2h from the org, 45s from the profile
	// down to the doc's rev.
	if d, _ := org.Team.Size.EffectiveTTL(); d != 2*time.Hour {
		t.Errorf("team size TTL = %v, want 2h", d)
	}
	if d, _ := mem.Role.EffectiveTTL(); d != 2*time.Hour {
		t.Errorf("member role TTL = %v, want 2h", d)
	}
	if d, _ := doc.Rev.Body.EffectiveTTL(); d != 45*time.Second {
		t.Errorf("rev body TTL = %v, want 45s", d)
	}
	// Write through every level and read the names back from Redis.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(org.Name.Set(ctx, "Acme"))
	must(org.Team.Size.Set(ctx, 3))
	must(mem.Role.Set(ctx, "lead"))
	must(mem.Profile.Bio.Set(ctx, "hi"))
	must(mem.Profile.Attr.At("color").Set(ctx, "blue"))
	must(doc.Title.Set(ctx, "T"))
	must(doc.Rev.Body.Set(ctx, "B"))
	// A second member must stay apart.
	must(org.Team.Members.At(70).Role.Set(ctx, "other"))
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"root:org:acme:name": true, "root:org:acme:team:size": true,
		"root:org:acme:team:member:7:role": true, "root:org:acme:team:member:7:profile:bio": true,
		"root:org:acme:team:member:7:profile:attr:color":      true,
		"root:org:acme:team:member:7:profile:docs:3:title":    true,
		"root:org:acme:team:member:7:profile:docs:3:rev:body": true,
		"root:org:acme:team:member:70:role":                   true,
	}
	if len(keys) != len(want) {
		t.Errorf("DB holds %d keys %v, want %d", len(keys), keys, len(want))
	}
	for _, k := range keys {
		if !want[k] {
			t.Errorf("unexpected key %q", k)
		}
	}
	if n, err := mem.Count(ctx); err != nil || n != 5 {
		t.Errorf("member 7 Count = %d, %v; want 5", n, err)
	}
	if pttl := rdb.PTTL(ctx, "root:org:acme:team:member:7:profile:docs:3:rev:body").Val(); pttl <= 0 || pttl > 45*time.Second {
		t.Errorf("PTTL rev body = %v, want (0, 45s]", pttl)
	}
}

// Names that can collide across segments: a multi-segment key name that
// equals a child namespace's key, a static key inside a Sub's range, and a
// static key that a ParamKey can render.
type (
	scOverlapChildKey struct {
		nest.Namespace `nest:"root"`
		App            App
		AppTokens      nest.Key[[]string] `nest:"app:tokens"`
	}
	scOverlapSubKey struct {
		nest.Namespace `nest:"root"`
		User           nest.Sub[User]
		Admin          nest.Key[string] `nest:"user:admin"`
	}
	scOverlapParamKey struct {
		nest.Namespace `nest:"root"`
		Msg            nest.ParamKey[string] `nest:"msg:{id}"`
		Latest         nest.Key[string]      `nest:"msg:latest"`
	}
)

func TestSchemaRejectsOverlappingNames(t *testing.T) {
	t.Parallel()
	rdb := redistest.Shared(t)
	ctx := context.Background()

	// The harm, shown on a real server: with scOverlapChildKey,
	// Root.AppTokens and Root.App.Tokens are one Redis key, so clearing
	// Root.App deletes a key that Root declares.
	if r, err := nest.New[scOverlapChildKey](rdb, nil); err == nil && r.AppTokens.Name() == r.App.Tokens.Name() {
		if err := r.AppTokens.Set(ctx, []string{"root's"}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.App.Clear(ctx); err != nil {
			t.Fatal(err)
		}
		if ok, _ := r.AppTokens.Exists(ctx); !ok {
			t.Logf("clearing Root.App deleted Root.AppTokens (%s)", r.AppTokens.Name())
		}
	}
	// With scOverlapSubKey, user input "admin" makes User.At("admin")
	// own the sibling key root:user:admin.
	if r, err := nest.New[scOverlapSubKey](rdb, nil); err == nil {
		if err := r.Admin.Set(ctx, "root's"); err != nil {
			t.Fatal(err)
		}
		if n, _ := r.User.At("admin").Count(ctx); n == 1 {
			t.Logf("User.At(\"admin\").Count() counts the sibling key %s", r.Admin.Name())
		}
	}
	// With scOverlapParamKey, Msg.At("latest") is the key Latest.
	if r, err := nest.New[scOverlapParamKey](rdb, nil); err == nil && r.Msg.At("latest").Name() == r.Latest.Name() {
		t.Logf("Msg.At(\"latest\") and Latest are both %s", r.Latest.Name())
	}

	tests := []struct {
		name, typ, field, want string
		newFn                  func(redis.UniversalClient, *nest.Options) error
	}{
		{"multi-segment key equals a child's key", "scOverlapChildKey", "AppTokens", "app:tokens", scNew[scOverlapChildKey]},
		{"static key inside a Sub's range", "scOverlapSubKey", "Admin", "user:admin", scNew[scOverlapSubKey]},
		{"static key a ParamKey can render", "scOverlapParamKey", "Latest", "msg:latest", scNew[scOverlapParamKey]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.newFn(rdb, nil)
			if err == nil {
				t.Fatal("New accepts sibling templates that render the same or nested names across ':' segments")
			}
			scSchemaErr(t, err, tt.typ, tt.field, tt.want)
		})
	}
}

type scEmbedsKey struct {
	N int
	nest.Key[int]
}

type scBadHandles1 struct {
	nest.Namespace `nest:"r"`
	K              scEmbedsKey `nest:"k"`
}
type scBadHandles2 struct {
	nest.Namespace `nest:"r"`
	K              *nest.Key[int] `nest:"k"`
}
type scBadHandles3 struct {
	nest.Namespace `nest:"r"`
	U              *nest.Sub[User]
}
type scBadHandles4 struct {
	nest.Namespace `nest:"r"`
	K              struct{ *nest.Key[int] } `nest:"k"`
}

// Types that merely look like handles (a pointer to one, a struct that
// embeds one) are refused: binding writes handle state at the field's
// offset, which is only sound for the handle types themselves.
func TestSchemaRejectsLookalikeHandles(t *testing.T) {
	rdb := scOfflineClient(t)
	for _, f := range []func() error{
		func() error { _, err := nest.New[scBadHandles1](rdb, nil); return err },
		func() error { _, err := nest.New[scBadHandles2](rdb, nil); return err },
		func() error { _, err := nest.New[scBadHandles3](rdb, nil); return err },
		func() error { _, err := nest.New[scBadHandles4](rdb, nil); return err },
	} {
		err := f()
		if !errors.Is(err, nest.ErrSchema) {
			t.Fatalf("New accepted a look-alike handle field: %v", err)
		}
	}
}
