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

// Schema types with a mistake each. Every one must be refused by New.
type (
	// Malformed key-name templates.
	tplOpen struct {
		nest.Namespace `nest:"root"`
		Bad            nest.ParamKey[int] `nest:"user:{id"`
	}
	tplClose struct {
		nest.Namespace `nest:"root"`
		Bad            nest.Key[int] `nest:"user:id}"`
	}
	tplEmptyPlaceholder struct {
		nest.Namespace `nest:"root"`
		Bad            nest.ParamKey[int] `nest:"user:{}"`
	}
	tplDupPlaceholder struct {
		nest.Namespace `nest:"root"`
		Bad            nest.ParamKey[int] `nest:"{a}:{a}"`
	}
	tplTwoInSegment struct {
		nest.Namespace `nest:"root"`
		Bad            nest.ParamKey[int] `nest:"{a}{b}"`
	}
	tplEmptySegment struct {
		nest.Namespace `nest:"root"`
		Bad            nest.Key[int] `nest:"a::b"`
	}
	tplTrailingColon struct {
		nest.Namespace `nest:"root"`
		Bad            nest.Key[int] `nest:"a:"`
	}
	tplStar struct {
		nest.Namespace `nest:"root"`
		Bad            nest.Key[int] `nest:"a*b"`
	}
	tplQuestion struct {
		nest.Namespace `nest:"root"`
		Bad            nest.Key[int] `nest:"a?b"`
	}
	tplBracket struct {
		nest.Namespace `nest:"root"`
		Bad            nest.Key[int] `nest:"a[b]"`
	}
	tplBackslash struct {
		nest.Namespace `nest:"root"`
		Bad            nest.Key[int] `nest:"a\\b"`
	}
	tplSpace struct {
		nest.Namespace `nest:"root"`
		Bad            nest.Key[int] `nest:"a b"`
	}
	tplBadName struct {
		nest.Namespace `nest:"root"`
		Bad            nest.ParamKey[int] `nest:"user:{1id}"`
	}

	// Malformed namespace prefix templates, on the child type and on the
	// field that holds it.
	badPrefixNS struct {
		nest.Namespace `nest:"grp:{g"`
		K              nest.Key[int] `nest:"k"`
	}
	badPrefixParent struct {
		nest.Namespace `nest:"root"`
		Group          nest.Sub[badPrefixNS]
	}
	plainNS struct {
		nest.Namespace `nest:"plain"`
		K              nest.Key[int] `nest:"k"`
	}
	badFieldPrefix struct {
		nest.Namespace `nest:"root"`
		Other          plainNS `nest:"a*"`
	}
	badRootPrefix struct {
		nest.Namespace `nest:"ro{ot"`
	}
	emptyRootPrefix struct {
		nest.Namespace
		K nest.Key[int] `nest:"k"`
	}

	// A placeholder name an ancestor already uses.
	ancChild struct {
		nest.Namespace `nest:"child:{id}"`
		K              nest.Key[int] `nest:"k"`
	}
	ancParent struct {
		nest.Namespace `nest:"parent:{id}"`
		Child          nest.Sub[ancChild]
	}
	ancRoot struct {
		nest.Namespace `nest:"root"`
		Parent         nest.Sub[ancParent]
	}
	ancKeyParent struct {
		nest.Namespace `nest:"parent:{id}"`
		Item           nest.ParamKey[int] `nest:"item:{id}"`
	}
	ancKeyRoot struct {
		nest.Namespace `nest:"root"`
		Parent         nest.Sub[ancKeyParent]
	}
	ancPlainMid struct {
		nest.Namespace `nest:"mid"`
		Child          nest.Sub[ancChild]
	}
	ancDeepParent struct {
		nest.Namespace `nest:"parent:{id}"`
		Mid            ancPlainMid
	}
	ancDeepRoot struct {
		nest.Namespace `nest:"root"`
		Parent         nest.Sub[ancDeepParent]
	}

	// Name collisions inside one namespace.
	dupKeys struct {
		nest.Namespace `nest:"root"`
		First          nest.Key[int]    `nest:"x"`
		Second         nest.Key[string] `nest:"x"`
	}
	dupParamKeys struct {
		nest.Namespace `nest:"root"`
		First          nest.ParamKey[int] `nest:"item:{a}"`
		Second         nest.ParamKey[int] `nest:"item:{b}"`
	}
	keyVsChild struct {
		nest.Namespace `nest:"root"`
		App            App
		AppKey         nest.Key[string] `nest:"app"`
	}
	keyVsSub struct {
		nest.Namespace `nest:"root"`
		User           nest.Sub[User]
		UserKey        nest.ParamKey[string] `nest:"user:{uid}"`
	}
	childVsChild struct {
		nest.Namespace `nest:"root"`
		App            App
		Other          plainNS `nest:"app"`
	}

	// Sub and plain fields of the wrong kind.
	staticNS struct {
		nest.Namespace `nest:"static"`
		K              nest.Key[int] `nest:"k"`
	}
	subOfStatic struct {
		nest.Namespace `nest:"root"`
		Static         nest.Sub[staticNS]
	}
	plainOfParam struct {
		nest.Namespace `nest:"root"`
		Users          User
	}
	subOverrideStatic struct {
		nest.Namespace `nest:"root"`
		Users          nest.Sub[User] `nest:"users"`
	}

	// ParamKey with a static name, Key with a parameterised one.
	paramKeyStatic struct {
		nest.Namespace `nest:"root"`
		Item           nest.ParamKey[int] `nest:"item"`
	}
	keyParam struct {
		nest.Namespace `nest:"root"`
		Item           nest.Key[int] `nest:"item:{id}"`
	}

	// Unparsable TTLs.
	ttlSoon struct {
		nest.Namespace `nest:"root"`
		K              nest.Key[int] `nest:"k" ttl:"soon"`
	}
	ttlNegative struct {
		nest.Namespace `nest:"root"`
		K              nest.Key[int] `nest:"k" ttl:"-5s"`
	}
	ttlZero struct {
		nest.Namespace `nest:"root"`
		K              nest.Key[int] `nest:"k" ttl:"0"`
	}
	ttlBadOption struct {
		nest.Namespace `nest:"root"`
		K              nest.Key[int] `nest:"k" ttl:"5s,forever"`
	}
	ttlNoneSliding struct {
		nest.Namespace `nest:"root"`
		K              nest.Key[int] `nest:"k" ttl:"none,sliding"`
	}
	ttlSubMillisecond struct {
		nest.Namespace `nest:"root"`
		K              nest.Key[int] `nest:"k" ttl:"1500us"`
	}
	ttlBadNS struct {
		nest.Namespace `nest:"grp" ttl:"soon"`
		K              nest.Key[int] `nest:"k"`
	}
	ttlBadNSParent struct {
		nest.Namespace `nest:"root"`
		Group          ttlBadNS
	}
	ttlBadFieldTag struct {
		nest.Namespace `nest:"root"`
		Group          plainNS `ttl:"-5s"`
	}
	ttlBadRoot struct {
		nest.Namespace `nest:"root" ttl:"soon"`
	}

	// Unparsable defaults.
	defaultInt struct {
		nest.Namespace `nest:"root"`
		Count          nest.Key[int] `nest:"count" default:"abc"`
	}
	defaultStruct struct {
		nest.Namespace `nest:"root"`
		Where          nest.Key[pointVal] `nest:"where" default:"{"`
	}
	defaultInt8 struct {
		nest.Namespace `nest:"root"`
		Small          nest.Key[int8] `nest:"small" default:"300"`
	}
	defaultBool struct {
		nest.Namespace `nest:"root"`
		Flag           nest.Key[bool] `nest:"flag" default:"maybe"`
	}
	defaultTime struct {
		nest.Namespace `nest:"root"`
		At             nest.Key[time.Time] `nest:"at" default:"yesterday"`
	}

	// Field types a schema cannot hold.
	intField struct {
		nest.Namespace `nest:"root"`
		Count          int
	}
	ptrField struct {
		nest.Namespace `nest:"root"`
		App            *App
	}
	missingKeyTag struct {
		nest.Namespace `nest:"root"`
		Age            nest.Key[int]
	}
	emptyKeyTag struct {
		nest.Namespace `nest:"root"`
		Age            nest.Key[int] `nest:""`
	}
	noNSChild struct {
		K nest.Key[int] `nest:"k"`
	}
	noNSPlain struct {
		nest.Namespace `nest:"root"`
		Child          noNSChild
	}
	noNSSub struct {
		nest.Namespace `nest:"root"`
		Child          nest.Sub[noNSChild]
	}
	noNSRoot struct {
		K nest.Key[int] `nest:"k"`
	}
	paramRootBad struct {
		nest.Namespace `nest:"root:{tenant}"`
		K              nest.Key[int] `nest:"k"`
	}
	unknownCodec struct {
		nest.Namespace `nest:"root"`
		Data           nest.Key[pointVal] `nest:"data" codec:"yaml"`
	}
	embeddedStruct struct {
		nest.Namespace `nest:"root"`
		pointVal
	}
)

func TestSchemaNewRejects(t *testing.T) {
	t.Parallel()
	rdb := offlineClient(t)
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
		{"unbalanced open brace", newErr(tryNew[tplOpen]), "tplOpen", "Bad", []string{"user:{id", "unbalanced '{'"}},
		{"unbalanced close brace", newErr(tryNew[tplClose]), "tplClose", "Bad", []string{"user:id}", "unbalanced '}'"}},
		{"empty placeholder", newErr(tryNew[tplEmptyPlaceholder]), "tplEmptyPlaceholder", "Bad", []string{"empty placeholder"}},
		{"duplicate placeholder", newErr(tryNew[tplDupPlaceholder]), "tplDupPlaceholder", "Bad", []string{"{a}", "twice"}},
		{"two placeholders in one segment", newErr(tryNew[tplTwoInSegment]), "tplTwoInSegment", "Bad", []string{"more than one placeholder"}},
		{"empty segment", newErr(tryNew[tplEmptySegment]), "tplEmptySegment", "Bad", []string{"a::b", "empty segment"}},
		{"trailing separator", newErr(tryNew[tplTrailingColon]), "tplTrailingColon", "Bad", []string{"empty segment"}},
		{"glob star in literal", newErr(tryNew[tplStar]), "tplStar", "Bad", []string{"a*b", "'*'"}},
		{"glob question mark in literal", newErr(tryNew[tplQuestion]), "tplQuestion", "Bad", []string{"'?'"}},
		{"glob bracket in literal", newErr(tryNew[tplBracket]), "tplBracket", "Bad", []string{"'['"}},
		{"backslash in literal", newErr(tryNew[tplBackslash]), "tplBackslash", "Bad", []string{`'\\'`}},
		{"space in literal", newErr(tryNew[tplSpace]), "tplSpace", "Bad", []string{"' '"}},
		{"placeholder name not an identifier", newErr(tryNew[tplBadName]), "tplBadName", "Bad", []string{"{1id}"}},
		{"bad prefix on Sub child type", newErr(tryNew[badPrefixParent]), "badPrefixParent", "Group", []string{"grp:{g", "unbalanced '{'"}},
		{"bad prefix in field tag", newErr(tryNew[badFieldPrefix]), "badFieldPrefix", "Other", []string{"a*"}},
		{"bad root prefix", newErr(tryNew[badRootPrefix]), "badRootPrefix", "", []string{"ro{ot"}},
		{"missing root prefix", newErr(tryNew[emptyRootPrefix]), "emptyRootPrefix", "", []string{"missing prefix"}},
		// placeholders reused by an ancestor
		{"placeholder reused by parent namespace", newErr(tryNew[ancRoot]), "ancParent", "Child", []string{"{id}", "ancRoot.Parent"}},
		{"placeholder reused by a key", newErr(tryNew[ancKeyRoot]), "ancKeyParent", "Item", []string{"{id}"}},
		{"placeholder reused through a plain namespace", newErr(tryNew[ancDeepRoot]), "ancPlainMid", "Child", []string{"{id}", "ancDeepRoot.Parent"}},
		// collisions
		{"duplicate key names", newErr(tryNew[dupKeys]), "dupKeys", "Second", []string{`"x"`, "First"}},
		{"duplicate param key shapes", newErr(tryNew[dupParamKeys]), "dupParamKeys", "Second", []string{"item:{b}", "First"}},
		{"key name equals child prefix", newErr(tryNew[keyVsChild]), "keyVsChild", "AppKey", []string{`"app"`, "App"}},
		{"param key shape equals Sub prefix", newErr(tryNew[keyVsSub]), "keyVsSub", "UserKey", []string{"user:{uid}", "User"}},
		{"two children with one prefix", newErr(tryNew[childVsChild]), "childVsChild", "Other", []string{`"app"`, "App"}},
		// wrong field kinds
		{"Sub of a static namespace", newErr(tryNew[subOfStatic]), "subOfStatic", "Static", []string{`"static"`, "nest.Sub"}},
		{"Sub whose field tag makes it static", newErr(tryNew[subOverrideStatic]), "subOverrideStatic", "Users", []string{`"users"`, "nest.Sub"}},
		{"parameterised namespace as plain field", newErr(tryNew[plainOfParam]), "plainOfParam", "Users", []string{"user:{user_id}", "nest.Sub[nest_test.User]"}},
		{"ParamKey with static name", newErr(tryNew[paramKeyStatic]), "paramKeyStatic", "Item", []string{`"item"`, "nest.Key"}},
		{"Key with parameterised name", newErr(tryNew[keyParam]), "keyParam", "Item", []string{"item:{id}", "nest.ParamKey"}},
		// TTLs
		{"ttl soon", newErr(tryNew[ttlSoon]), "ttlSoon", "K", []string{`"soon"`}},
		{"ttl negative", newErr(tryNew[ttlNegative]), "ttlNegative", "K", []string{`"-5s"`, "positive"}},
		{"ttl zero", newErr(tryNew[ttlZero]), "ttlZero", "K", []string{`"0"`, "positive"}},
		{"ttl unknown option", newErr(tryNew[ttlBadOption]), "ttlBadOption", "K", []string{"forever"}},
		{"ttl none cannot slide", newErr(tryNew[ttlNoneSliding]), "ttlNoneSliding", "K", []string{"none,sliding"}},
		{"ttl below a millisecond", newErr(tryNew[ttlSubMillisecond]), "ttlSubMillisecond", "K", []string{"1500us", "millisecond"}},
		{"ttl soon on namespace", newErr(tryNew[ttlBadNSParent]), "ttlBadNSParent", "Group", []string{`"soon"`}},
		{"ttl negative in field tag", newErr(tryNew[ttlBadFieldTag]), "ttlBadFieldTag", "Group", []string{`"-5s"`}},
		{"ttl soon on root", newErr(tryNew[ttlBadRoot]), "ttlBadRoot", "", []string{`"soon"`}},
		// defaults
		{"default abc on Key[int]", newErr(tryNew[defaultInt]), "defaultInt", "Count", []string{`"abc"`, "int"}},
		{"default { on struct key", newErr(tryNew[defaultStruct]), "defaultStruct", "Where", []string{`"{"`, "pointVal"}},
		{"default 300 on Key[int8]", newErr(tryNew[defaultInt8]), "defaultInt8", "Small", []string{`"300"`, "int8"}},
		{"default maybe on Key[bool]", newErr(tryNew[defaultBool]), "defaultBool", "Flag", []string{`"maybe"`}},
		{"default yesterday on Key[time.Time]", newErr(tryNew[defaultTime]), "defaultTime", "At", []string{`"yesterday"`}},
		// field types
		{"int field", newErr(tryNew[intField]), "intField", "Count", []string{"unsupported field type int"}},
		{"pointer to namespace field", newErr(tryNew[ptrField]), "ptrField", "App", []string{"*nest_test.App"}},
		{"key without nest tag", newErr(tryNew[missingKeyTag]), "missingKeyTag", "Age", []string{"missing key name"}},
		{"key with empty nest tag", newErr(tryNew[emptyKeyTag]), "emptyKeyTag", "Age", []string{"missing key name"}},
		{"plain struct without nest.Namespace", newErr(tryNew[noNSPlain]), "noNSPlain", "Child", []string{"noNSChild", "nest.Namespace"}},
		{"Sub of struct without nest.Namespace", newErr(tryNew[noNSSub]), "noNSSub", "Child", []string{"noNSChild", "nest.Namespace"}},
		{"root without nest.Namespace", newErr(tryNew[noNSRoot]), "noNSRoot", "", []string{"nest.Namespace"}},
		{"root with parameters", newErr(tryNew[paramRootBad]), "paramRootBad", "", []string{"root:{tenant}", "parameters"}},
		{"unknown codec", newErr(tryNew[unknownCodec]), "unknownCodec", "Data", []string{`"yaml"`}},
		{"embedded non-namespace struct", newErr(tryNew[embeddedStruct]), "embeddedStruct", "pointVal", []string{"embedded"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assertSchemaErr(t, tt.newFn(), tt.typ, tt.field, tt.want...)
		})
	}
}

func TestSchemaNewRejectsNonStructAndNilClient(t *testing.T) {
	t.Parallel()
	rdb := offlineClient(t)
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
	rdb := offlineClient(t)
	_, want := nest.New[dupKeys](rdb, nil)
	if want == nil {
		t.Fatal("New accepted dupKeys")
	}
	got := func() (got any) {
		defer func() { got = recover() }()
		nest.MustNew[dupKeys](rdb, nil)
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

type skippedSchema struct {
	nest.Namespace `nest:"skip"`
	Kept           nest.Key[int]    `nest:"kept"`
	Ignored        nest.Key[int]    `nest:"-"`
	Notes          string           `nest:"-"`
	Counter        int              `nest:"-"`
	Helper         noNSChild        `nest:"-"`
	AlsoKept       nest.Key[string] `nest:"also"`
}

func TestSchemaDashSkipsField(t *testing.T) {
	t.Parallel()
	rdb := redistest.Shared(t)
	ctx := context.Background()
	s, err := nest.New[skippedSchema](rdb, nil)
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

// overrideSchema reuses App under a second name with its own TTL, and
// plainNS with and without a TTL.
type overrideSchema struct {
	nest.Namespace `nest:"root"`
	App            App
	Archive        App     `nest:"archive" ttl:"10s"`
	Forever        App     `nest:"forever" ttl:"none"`
	Plain          plainNS `ttl:"1h"`
	PlainAgain     plainNS `nest:"plain2"`
	Users          nest.Sub[User]
	Members        nest.Sub[User] `nest:"member:{member_id}" ttl:"30s"`
}

func TestSchemaFieldTagOverridesChildPrefixAndTTL(t *testing.T) {
	t.Parallel()
	rdb := redistest.Shared(t)
	ctx := context.Background()
	r, err := nest.New[overrideSchema](rdb, nil)
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
	deepRev struct {
		nest.Namespace `nest:"rev"`
		Body           nest.Key[string] `nest:"body"`
	}
	deepDoc struct {
		nest.Namespace `nest:"docs:{doc_id}"`
		Title          nest.Key[string] `nest:"title"`
		Rev            deepRev
	}
	deepProfile struct {
		nest.Namespace `nest:"profile" ttl:"45s"`
		Bio            nest.Key[string]      `nest:"bio"`
		Attr           nest.ParamKey[string] `nest:"attr:{attr}"`
		Docs           nest.Sub[deepDoc]
	}
	deepMember struct {
		nest.Namespace `nest:"member:{member_id}"`
		Profile        deepProfile
		Role           nest.Key[string] `nest:"role"`
	}
	deepTeam struct {
		nest.Namespace `nest:"team"`
		Members        nest.Sub[deepMember]
		Size           nest.Key[int] `nest:"size"`
	}
	deepOrg struct {
		nest.Namespace `nest:"org:{org_id}" ttl:"2h"`
		Team           deepTeam
		Name           nest.Key[string] `nest:"name"`
	}
	deepRoot struct {
		nest.Namespace `nest:"root"`
		Orgs           nest.Sub[deepOrg]
	}
)

func TestSchemaDeepNesting(t *testing.T) {
	t.Parallel()
	rdb := redistest.Shared(t)
	ctx := context.Background()
	r, err := nest.New[deepRoot](rdb, nil)
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
	overlapChildKey struct {
		nest.Namespace `nest:"root"`
		App            App
		AppTokens      nest.Key[[]string] `nest:"app:tokens"`
	}
	overlapSubKey struct {
		nest.Namespace `nest:"root"`
		User           nest.Sub[User]
		Admin          nest.Key[string] `nest:"user:admin"`
	}
	overlapParamKey struct {
		nest.Namespace `nest:"root"`
		Msg            nest.ParamKey[string] `nest:"msg:{id}"`
		Latest         nest.Key[string]      `nest:"msg:latest"`
	}
)

func TestSchemaRejectsOverlappingNames(t *testing.T) {
	t.Parallel()
	rdb := redistest.Shared(t)
	ctx := context.Background()

	// The harm, shown on a real server: with overlapChildKey,
	// Root.AppTokens and Root.App.Tokens are one Redis key, so clearing
	// Root.App deletes a key that Root declares.
	if r, err := nest.New[overlapChildKey](rdb, nil); err == nil && r.AppTokens.Name() == r.App.Tokens.Name() {
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
	// With overlapSubKey, user input "admin" makes User.At("admin")
	// own the sibling key root:user:admin.
	if r, err := nest.New[overlapSubKey](rdb, nil); err == nil {
		if err := r.Admin.Set(ctx, "root's"); err != nil {
			t.Fatal(err)
		}
		if n, _ := r.User.At("admin").Count(ctx); n == 1 {
			t.Logf("User.At(\"admin\").Count() counts the sibling key %s", r.Admin.Name())
		}
	}
	// With overlapParamKey, Msg.At("latest") is the key Latest.
	if r, err := nest.New[overlapParamKey](rdb, nil); err == nil && r.Msg.At("latest").Name() == r.Latest.Name() {
		t.Logf("Msg.At(\"latest\") and Latest are both %s", r.Latest.Name())
	}

	tests := []struct {
		name, typ, field, want string
		newFn                  func(redis.UniversalClient, *nest.Options) error
	}{
		{"multi-segment key equals a child's key", "overlapChildKey", "AppTokens", "app:tokens", tryNew[overlapChildKey]},
		{"static key inside a Sub's range", "overlapSubKey", "Admin", "user:admin", tryNew[overlapSubKey]},
		{"static key a ParamKey can render", "overlapParamKey", "Latest", "msg:latest", tryNew[overlapParamKey]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.newFn(rdb, nil)
			if err == nil {
				t.Fatal("New accepts sibling templates that render the same or nested names across ':' segments")
			}
			assertSchemaErr(t, err, tt.typ, tt.field, tt.want)
		})
	}
}

type embedsKey struct {
	N int
	nest.Key[int]
}

type badHandles1 struct {
	nest.Namespace `nest:"r"`
	K              embedsKey `nest:"k"`
}
type badHandles2 struct {
	nest.Namespace `nest:"r"`
	K              *nest.Key[int] `nest:"k"`
}
type badHandles3 struct {
	nest.Namespace `nest:"r"`
	U              *nest.Sub[User]
}
type badHandles4 struct {
	nest.Namespace `nest:"r"`
	K              struct{ *nest.Key[int] } `nest:"k"`
}

// Types that merely look like handles (a pointer to one, a struct that
// embeds one) are refused: binding writes handle state at the field's
// offset, which is only sound for the handle types themselves.
func TestSchemaRejectsLookalikeHandles(t *testing.T) {
	rdb := offlineClient(t)
	for _, f := range []func() error{
		func() error { _, err := nest.New[badHandles1](rdb, nil); return err },
		func() error { _, err := nest.New[badHandles2](rdb, nil); return err },
		func() error { _, err := nest.New[badHandles3](rdb, nil); return err },
		func() error { _, err := nest.New[badHandles4](rdb, nil); return err },
	} {
		err := f()
		if !errors.Is(err, nest.ErrSchema) {
			t.Fatalf("New accepted a look-alike handle field: %v", err)
		}
	}
}
