package nest_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// Parameter types that format naturally.
type (
	userID     int
	slug       string
	colorParam int // a fmt.Stringer
	bothParam  int // TextMarshaler and Stringer: the TextMarshaler wins
	uuidParam  [16]byte
	badText    struct{} // its MarshalText fails
	colonStr   struct{} // a Stringer whose text holds the separator
)

func (c colorParam) String() string { return [...]string{"red", "green", "blue"}[c] }

func (b bothParam) String() string               { return fmt.Sprintf("stringer-%d", int(b)) }
func (b bothParam) MarshalText() ([]byte, error) { return fmt.Appendf(nil, "text-%d", int(b)), nil }
func (badText) MarshalText() ([]byte, error)     { return nil, errors.New("no text today") }
func (colonStr) String() string                  { return "a:b" }
func (u uuidParam) MarshalText() ([]byte, error) {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return b[:], nil
}

// hostileParams lists parameter values that must be refused with
// ErrInvalidParam, and the text the error quotes for each.
var hostileParams = []struct {
	name  string
	val   any
	quote string // how the error message shows the value
}{
	{"empty", "", `""`},
	{"separator", ":", `":"`},
	{"star", "*", `"*"`},
	{"question mark", "?", `"?"`},
	{"open bracket", "[", `"["`},
	{"close bracket", "]", `"]"`},
	{"backslash", `\`, `"\\"`},
	{"open brace", "{", `"{"`},
	{"close brace", "}", `"}"`},
	{"space", " ", `" "`},
	{"tab", "\t", `"\t"`},
	{"newline", "\n", `"\n"`},
	{"NUL", "\x00", `"\x00"`},
	{"DEL", "\x7f", `"\x7f"`},
	{"inner space", "a b", `"a b"`},
	{"invalid UTF-8", "\xff", `"\xff"`},
	{"zero-width space", "\u200b", `"\u200b"`},
	{"no-break space", "a\u00a0b", `"a\u00a0b"`},
	{"C1 control", "a\u0085b", `"a\u0085b"`},
	{"glob in the middle", "42*", `"42*"`},
	{"separator in the middle", "1:2", `"1:2"`},
	{"nil", nil, `"<nil>"`},
	{"float", 1.5, `"1.5"`},
	{"bool", true, `"true"`},
	{"byte slice", []byte("abc"), `"[97 98 99]"`},
	{"pointer to int", new(int), `"0x`},
	{"failing TextMarshaler", badText{}, "no text today"},
	{"Stringer with separator", colonStr{}, `"a:b"`},
	{"empty named string", slug(""), `""`},
}

func TestParamsHostileValuesAreRefusedEverywhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range hostileParams {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root, rdb, cc := newCountedRoot(t)
			p, err := nest.New[paramsRoot](rdb, nil)
			if err != nil {
				t.Fatal(err)
			}
			mark := cc.Len()

			// A parameterised namespace.
			u := root.User.At(tc.val)
			uerr := u.Err()
			assertParamErr(t, uerr, nest.ErrInvalidParam, "user:{user_id}", "Root.User", "user_id", tc.quote)
			if u.Prefix() != "" || u.Age.Name() != "" {
				t.Errorf("unusable handle has Prefix %q, Age.Name %q; want empty", u.Prefix(), u.Age.Name())
			}
			for _, k := range []error{u.Age.Err(), u.Name.Err()} {
				if k == nil || k.Error() != uerr.Error() {
					t.Errorf("key Err() = %v, want %v", k, uerr)
				}
			}
			assertAllFail(t, "User.Age", everyKeyOp(ctx, u.Age, 30), uerr)
			assertAllFail(t, "User.Name", everyKeyOp(ctx, u.Name, "x"), uerr)
			assertAllFail(t, "User", everyNSOp(ctx, u.Namespace), uerr)
			// The error reaches the namespaces below, even with good values.
			m := u.Messages.At(1)
			assertAllFail(t, "User.Messages", everyNSOp(ctx, m.Namespace), uerr)
			assertAllFail(t, "User.Messages.Text", everyKeyOp(ctx, m.Text, "x"), uerr)
			assertAllFail(t, "User.Messages.With", map[string]error{
				"Err": u.Messages.With(nest.Params{"message_id": 1}).Err(),
			}, uerr)

			// A parameter one level further down.
			m2 := root.User.At(1).Messages.At(tc.val)
			merr := m2.Err()
			assertParamErr(t, merr, nest.ErrInvalidParam, "message:{message_id}", "Root.User.Messages", "message_id", tc.quote)
			assertAllFail(t, "Messages.Seen", everyKeyOp(ctx, m2.Seen, true), merr)
			assertAllFail(t, "Messages", everyNSOp(ctx, m2.Namespace), merr)

			// The second parameter of a two-parameter namespace.
			a := root.Admin.At(5, tc.val)
			aerr := a.Err()
			assertParamErr(t, aerr, nest.ErrInvalidParam, "admin:{admin_id}:{region}", "Root.Admin", "region", tc.quote)
			assertAllFail(t, "Admin.Level", everyKeyOp(ctx, a.Level, 1), aerr)
			assertAllFail(t, "Admin", everyNSOp(ctx, a.Namespace), aerr)

			// A parameterised key, positional and named.
			it := p.Item.At(tc.val)
			ierr := it.Err()
			assertParamErr(t, ierr, nest.ErrInvalidParam, "item:{item_id}", "paramsRoot.Item", "item_id", tc.quote)
			if it.Name() != "" {
				t.Errorf("unusable key Name() = %q", it.Name())
			}
			assertAllFail(t, "Item", everyKeyOp(ctx, it, "v"), ierr)
			if err := p.Item.With(nest.Params{"item_id": tc.val}).Err(); err == nil || err.Error() != ierr.Error() {
				t.Errorf("Item.With err = %v, want %v", err, ierr)
			}
			pr := p.Pair.At(1, tc.val)
			assertParamErr(t, pr.Err(), nest.ErrInvalidParam, "pair:{left}:{right}", "paramsRoot.Pair", "right", tc.quote)
			assertAllFail(t, "Pair", everyKeyOp(ctx, pr, 1), pr.Err())

			// The named form of a Sub.
			w := root.Admin.With(nest.Params{"admin_id": tc.val, "region": "eu"})
			assertParamErr(t, w.Err(), nest.ErrInvalidParam, "admin:{admin_id}:{region}", "Root.Admin", "admin_id", tc.quote)

			assertSilent(t, rdb, cc, mark)
		})
	}
}

// TestParamsHostileValuesSendNoCommand proves "sends nothing" a second
// way, with the server's own command statistics on a dedicated server.
func TestParamsHostileValuesSendNoCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := srv.Client(t, 0)
	root := nest.MustNew[Root](rdb, nil)
	if err := rdb.Ping(ctx).Err(); err != nil { // open the connection first
		t.Fatal(err)
	}
	if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range hostileParams {
		u := root.User.At(tc.val)
		everyKeyOp(ctx, u.Age, 1)
		everyNSOp(ctx, u.Namespace)
		everyKeyOp(ctx, root.Admin.At(1, tc.val).Messages.At(2).Text, "x")
	}
	stats, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(stats, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "cmdstat_") || strings.HasPrefix(line, "cmdstat_config|resetstat:") {
			continue
		}
		t.Errorf("the server ran a command: %s", line)
	}
	if n := rdb.DBSize(ctx).Val(); n != 0 {
		t.Errorf("DBSIZE = %d, want 0", n)
	}
}

func TestParamsArity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root, rdb, cc := newCountedRoot(t)
	p := nest.MustNew[paramsRoot](rdb, nil)
	mark := cc.Len()

	tests := []struct {
		name            string
		err             error
		kind            error
		template, field string
		param           string
		contains        []string
	}{
		{"Sub no values", root.User.At().Err(), nest.ErrMissingParam, "user:{user_id}", "Root.User", "", []string{"got 0", "needs 1 value ({user_id})", "{user_id} is missing"}},
		{"Sub too many", root.User.At(1, 2).Err(), nest.ErrInvalidParam, "user:{user_id}", "Root.User", "", []string{"got 2", "needs 1 value ({user_id})", "1 too many"}},
		{"two-param Sub one value", root.Admin.At(1).Err(), nest.ErrMissingParam, "admin:{admin_id}:{region}", "Root.Admin", "", []string{"got 1", "needs 2 values ({admin_id}, {region})", ": {region} is missing"}},
		{"two-param Sub three values", root.Admin.At(1, "eu", "x").Err(), nest.ErrInvalidParam, "admin:{admin_id}:{region}", "Root.Admin", "", []string{"got 3", "needs 2 values", "1 too many"}},
		{"nested Sub no values", root.User.At(1).Messages.At().Err(), nest.ErrMissingParam, "message:{message_id}", "Root.User.Messages", "", []string{"got 0", "{message_id} is missing"}},
		{"With missing", root.Admin.With(nest.Params{"admin_id": 1}).Err(), nest.ErrMissingParam, "admin:{admin_id}:{region}", "Root.Admin", "region", []string{"{region} of Root.Admin", "): was not given"}},
		{"With nil map", root.Admin.With(nil).Err(), nest.ErrMissingParam, "admin:{admin_id}:{region}", "Root.Admin", "admin_id", []string{"was not given, nor was {region}"}},
		{"With unknown", root.Admin.With(nest.Params{"admin_id": 1, "region": "eu", "zone": 3}).Err(), nest.ErrInvalidParam, "admin:{admin_id}:{region}", "Root.Admin", "", []string{`unknown parameter "zone"`, "the template names {admin_id}, {region}"}},
		{"With misspelt", root.User.With(nest.Params{"userid": 1}).Err(), nest.ErrMissingParam, "user:{user_id}", "Root.User", "user_id", []string{`got the unknown parameter "userid" (did you mean "user_id"?)`}},
		{"ParamKey no values", p.Item.At().Err(), nest.ErrMissingParam, "item:{item_id}", "paramsRoot.Item", "", []string{"needs 1 value ({item_id}), got 0"}},
		{"ParamKey too many", p.Item.At(1, 2).Err(), nest.ErrInvalidParam, "item:{item_id}", "paramsRoot.Item", "", []string{"needs 1 value ({item_id}), got 2: 1 too many"}},
		{"two-param ParamKey one value", p.Pair.At(1).Err(), nest.ErrMissingParam, "pair:{left}:{right}", "paramsRoot.Pair", "", []string{"needs 2 values ({left}, {right}), got 1: {right} is missing"}},
		{"ParamKey With missing", p.Pair.With(nest.Params{"left": 1}).Err(), nest.ErrMissingParam, "pair:{left}:{right}", "paramsRoot.Pair", "right", []string{"was not given"}},
		{"ParamKey With unknown", p.Item.With(nest.Params{"item_id": 1, "other": 2, "another": 3}).Err(), nest.ErrInvalidParam, "item:{item_id}", "paramsRoot.Item", "", []string{`unknown parameters "another", "other": the template names {item_id}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertParamErr(t, tt.err, tt.kind, tt.template, tt.field, tt.param, tt.contains...)
		})
	}

	// Every operation returns the arity error too.
	u := root.User.At()
	assertAllFail(t, "At()", everyKeyOp(ctx, u.Age, 1), u.Err())
	assertAllFail(t, "At()", everyNSOp(ctx, u.Namespace), u.Err())
	a := root.Admin.With(nest.Params{"admin_id": 1, "region": "eu", "zone": 3})
	assertAllFail(t, "With(extra)", everyKeyOp(ctx, a.Level, 1), a.Err())
	assertAllFail(t, "With(extra)", everyNSOp(ctx, a.Namespace), a.Err())
	k := p.Pair.With(nest.Params{"left": 1})
	assertAllFail(t, "Pair.With(missing)", everyKeyOp(ctx, k, 1), k.Err())
	assertSilent(t, rdb, cc, mark)

	// The correct arity works, positional and named, and names agree.
	if got := root.Admin.With(nest.Params{"region": "eu", "admin_id": 1}).Level.Name(); got != "root:admin:1:eu:level" {
		t.Errorf("Admin.With = %q", got)
	}
	if got := root.Admin.At(1, "eu").Level.Name(); got != "root:admin:1:eu:level" {
		t.Errorf("Admin.At = %q", got)
	}
	if got := p.Pair.With(nest.Params{"right": 2, "left": 1}).Name(); got != "proot:pair:1:2" {
		t.Errorf("Pair.With = %q", got)
	}
	if err := p.Pair.At(1, 2).Set(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if got := rdb.Get(ctx, "proot:pair:1:2").Val(); got != "3" {
		t.Errorf("GET proot:pair:1:2 = %q, want 3", got)
	}
}

// The messages of wrong arity and misspelt names say what the template
// needs and what was probably meant, for Sub and ParamKey alike.
func TestParamsArityAndNameMessages(t *testing.T) {
	t.Parallel()
	rdb := offlineClient(t)
	root := nest.MustNew[Root](rdb, nil)
	p := nest.MustNew[paramsRoot](rdb, nil)
	tests := []struct {
		name  string
		err   error
		kind  error
		param string
		msg   string // the whole message
	}{
		{"At too few", root.Admin.At(1).Err(), nest.ErrMissingParam, "",
			`nest: missing parameter for Root.Admin ("admin:{admin_id}:{region}"): the template needs 2 values ({admin_id}, {region}), got 1: {region} is missing`},
		{"At none of two", root.Admin.At().Err(), nest.ErrMissingParam, "",
			`nest: missing parameter for Root.Admin ("admin:{admin_id}:{region}"): the template needs 2 values ({admin_id}, {region}), got 0: {admin_id}, {region} are missing`},
		{"At too many", root.User.At(1, 2, 3).Err(), nest.ErrInvalidParam, "",
			`nest: invalid parameter for Root.User ("user:{user_id}"): the template needs 1 value ({user_id}), got 3: 2 too many`},
		{"ParamKey At too few", p.Pair.At().Err(), nest.ErrMissingParam, "",
			`nest: missing parameter for paramsRoot.Pair ("pair:{left}:{right}"): the template needs 2 values ({left}, {right}), got 0: {left}, {right} are missing`},
		{"With misspelt", root.User.With(nest.Params{"userid": 1}).Err(), nest.ErrMissingParam, "user_id",
			`nest: missing parameter {user_id} of Root.User ("user:{user_id}"): was not given; got the unknown parameter "userid" (did you mean "user_id"?)`},
		{"With other case", root.User.With(nest.Params{"userId": 1}).Err(), nest.ErrMissingParam, "user_id",
			`nest: missing parameter {user_id} of Root.User ("user:{user_id}"): was not given; got the unknown parameter "userId" (did you mean "user_id"?)`},
		{"With two misspelt", root.Admin.With(nest.Params{"regoin": "eu", "adminid": 1}).Err(), nest.ErrMissingParam, "admin_id",
			`nest: missing parameter {admin_id} of Root.Admin ("admin:{admin_id}:{region}"): was not given, nor was {region}; ` +
				`got the unknown parameters "adminid" (did you mean "admin_id"?), "regoin" (did you mean "region"?)`},
		{"With unrelated extra", root.Admin.With(nest.Params{"admin_id": 1, "zone": "eu"}).Err(), nest.ErrMissingParam, "region",
			`nest: missing parameter {region} of Root.Admin ("admin:{admin_id}:{region}"): was not given; got the unknown parameter "zone"`},
		{"With nothing", root.Admin.With(nil).Err(), nest.ErrMissingParam, "admin_id",
			`nest: missing parameter {admin_id} of Root.Admin ("admin:{admin_id}:{region}"): was not given, nor was {region}`},
		{"With extra beside every name", root.User.With(nest.Params{"user_id": 1, "userid": 2}).Err(), nest.ErrInvalidParam, "",
			`nest: invalid parameter for Root.User ("user:{user_id}"): unknown parameter "userid": the template names {user_id}`},
		{"nested Sub With misspelt", root.User.At(1).Messages.With(nest.Params{"messageid": 2}).Err(), nest.ErrMissingParam, "message_id",
			`nest: missing parameter {message_id} of Root.User.Messages ("message:{message_id}"): was not given; got the unknown parameter "messageid" (did you mean "message_id"?)`},
		{"ParamKey With misspelt", p.Pair.With(nest.Params{"left": 1, "rigth": 2}).Err(), nest.ErrMissingParam, "right",
			`nest: missing parameter {right} of paramsRoot.Pair ("pair:{left}:{right}"): was not given; got the unknown parameter "rigth" (did you mean "right"?)`},
		{"ParamKey With extras", p.Item.With(nest.Params{"item_id": 1, "b": 2, "a": 3}).Err(), nest.ErrInvalidParam, "",
			`nest: invalid parameter for paramsRoot.Item ("item:{item_id}"): unknown parameters "a", "b": the template names {item_id}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pe *nest.ParamError
			if !errors.As(tt.err, &pe) {
				t.Fatalf("err = %v (%T), want a *nest.ParamError", tt.err, tt.err)
			}
			if !errors.Is(tt.err, tt.kind) || pe.Kind != tt.kind {
				t.Errorf("Kind = %v, want %v", pe.Kind, tt.kind)
			}
			if pe.Param != tt.param || pe.Value != "" {
				t.Errorf("Param, Value = %q, %q; want %q, \"\"", pe.Param, pe.Value, tt.param)
			}
			if got := tt.err.Error(); got != tt.msg {
				t.Errorf("message\n got: %s\nwant: %s", got, tt.msg)
			}
		})
	}
}

func TestParamsAcceptedValuesFormatNaturally(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root, rdb := newRoot(t)
	uuid := uuidParam{0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00}
	tests := []struct {
		name string
		val  any
		want string
	}{
		{"int", 42, "42"},
		{"negative int", -42, "-42"},
		{"zero", 0, "0"},
		{"int8 min", int8(math.MinInt8), "-128"},
		{"int16 max", int16(math.MaxInt16), "32767"},
		{"int32 min", int32(math.MinInt32), "-2147483648"},
		{"int64 min", int64(math.MinInt64), "-9223372036854775808"},
		{"int64 max", int64(math.MaxInt64), "9223372036854775807"},
		{"uint", uint(7), "7"},
		{"uint8 max", uint8(math.MaxUint8), "255"},
		{"uint16 max", uint16(math.MaxUint16), "65535"},
		{"uint32 max", uint32(math.MaxUint32), "4294967295"},
		{"uint64 max", uint64(math.MaxUint64), "18446744073709551615"},
		{"string", "alice", "alice"},
		{"unicode string", "José-日本", "José-日本"},
		{"punctuation", "a.b-c_d@e+f=g/h", "a.b-c_d@e+f=g/h"},
		{"named int", userID(17), "17"},
		{"named string", slug("hello-world"), "hello-world"},
		{"Stringer", colorParam(2), "blue"},
		{"TextMarshaler over Stringer", bothParam(3), "text-3"},
		{"UUID TextMarshaler", uuid, "123e4567-e89b-12d3-a456-426614174000"},
		{"time.Duration Stringer", 90 * time.Second, "1m30s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := root.User.At(tt.val)
			if err := u.Err(); err != nil {
				t.Fatalf("At(%#v).Err() = %v", tt.val, err)
			}
			prefix := "root:user:" + tt.want
			if u.Prefix() != prefix || u.Age.Name() != prefix+":age" {
				t.Errorf("At(%#v): Prefix %q, Age %q; want %q", tt.val, u.Prefix(), u.Age.Name(), prefix)
			}
			if got := root.User.With(nest.Params{"user_id": tt.val}).Prefix(); got != prefix {
				t.Errorf("With: Prefix %q, want %q", got, prefix)
			}
			d := u.Describe()
			if len(d.Params) != 1 || d.Params[0].Value != tt.want || !d.Params[0].Bound {
				t.Errorf("Describe().Params = %+v, want user_id=%q bound", d.Params, tt.want)
			}
			if err := u.Age.Set(ctx, 1); err != nil {
				t.Fatal(err)
			}
			if n, err := rdb.Exists(ctx, prefix+":age").Result(); err != nil || n != 1 {
				t.Errorf("EXISTS %s:age = %d, %v; want 1", prefix, n, err)
			}
			if n, err := u.Count(ctx); err != nil || n != 1 {
				t.Errorf("Count = %d, %v; want 1", n, err)
			}
			if _, err := u.Clear(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
	if n := rdb.DBSize(ctx).Val(); n != 0 {
		t.Errorf("after clearing every instance, DBSIZE = %d", n)
	}
}

func TestParamsValidateParams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, rdb, cc := newCountedRoot(t)
	p := nest.MustNew[paramsRoot](rdb, nil)

	good := p.Tenant.At("acme")
	if err := good.Err(); err != nil {
		t.Fatalf("At(acme).Err() = %v", err)
	}
	if err := good.Plan.Set(ctx, "pro"); err != nil {
		t.Fatal(err)
	}
	if got := rdb.Get(ctx, "proot:tenant:acme:plan").Val(); got != "pro" {
		t.Errorf("GET = %q, want pro", got)
	}
	if _, err := good.Clear(ctx); err != nil {
		t.Fatal(err)
	}

	mark := cc.Len()
	for _, v := range []any{"Acme", "acme1", "ACME", slug("Mixed"), 42} {
		bad := p.Tenant.At(v)
		err := bad.Err()
		assertParamErr(t, err, nest.ErrInvalidParam, "tenant:{tenant_id}", "paramsRoot.Tenant", "", "ValidateParams", "not lowercase ASCII")
		assertAllFail(t, fmt.Sprint("Tenant ", v), everyKeyOp(ctx, bad.Plan, "x"), err)
		assertAllFail(t, fmt.Sprint("Tenant ", v), everyNSOp(ctx, bad.Namespace), err)
		// Describe still shows the values that were rejected.
		if d := bad.Describe(); len(d.Params) != 1 || !d.Params[0].Bound || d.Params[0].Value != fmt.Sprint(v) || len(d.Missing) != 0 || d.Error == "" {
			t.Errorf("Describe of a rejected tenant %v: params %+v, missing %v, error %q", v, d.Params, d.Missing, d.Error)
		}
		if werr := p.Tenant.With(nest.Params{"tenant_id": v}).Err(); !errors.Is(werr, nest.ErrInvalidParam) {
			t.Errorf("With(%v).Err() = %v, want ErrInvalidParam", v, werr)
		}
	}
	// The built-in rules still run first.
	if err := p.Tenant.At("a:b").Err(); !errors.Is(err, nest.ErrInvalidParam) || !strings.Contains(err.Error(), "separator") {
		t.Errorf("At(a:b).Err() = %v, want the separator rule", err)
	}
	assertSilent(t, rdb, cc, mark)
}

func TestParamsHandlesAreIndependent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root, rdb := newRoot(t)
	// A bad handle does not poison the Sub or its siblings.
	bad := root.User.At("")
	good := root.User.At(1)
	if bad.Err() == nil || good.Err() != nil {
		t.Fatalf("bad.Err() = %v, good.Err() = %v", bad.Err(), good.Err())
	}
	if err := good.Age.Set(ctx, 30); err != nil {
		t.Fatal(err)
	}
	if got := rdb.Get(ctx, "root:user:1:age").Val(); got != "30" {
		t.Errorf("GET = %q", got)
	}
	// A zero-value handle knows no client.
	var zero nest.Key[int]
	if err := zero.Set(ctx, 1); !errors.Is(err, nest.ErrNotBound) {
		t.Errorf("zero Key Set = %v, want ErrNotBound", err)
	}
	var zns nest.Namespace
	if _, err := zns.Count(ctx); !errors.Is(err, nest.ErrNotBound) {
		t.Errorf("zero Namespace Count = %v, want ErrNotBound", err)
	}
	var zsub nest.Sub[User]
	if err := zsub.At(1).Age.Set(ctx, 1); !errors.Is(err, nest.ErrNotBound) {
		t.Errorf("zero Sub At().Age.Set = %v, want ErrNotBound", err)
	}
	if n := rdb.DBSize(ctx).Val(); n != 1 {
		t.Errorf("DBSIZE = %d, want 1", n)
	}
}

// ptrStringer has a pointer-receiver String method that reads its field.
type ptrStringer struct{ s string }

func (p *ptrStringer) String() string { return p.s }

// A typed nil pointer (say an optional *uuid.UUID) must be refused like
// nil, not dereferenced: At never panics.
func TestParamsTypedNilPointerIsRefused(t *testing.T) {
	t.Parallel()
	root := nest.MustNew[Root](offlineClient(t), nil)
	tests := []struct {
		name string
		val  any
	}{
		{"nil *int", (*int)(nil)},
		{"nil *string", (*string)(nil)},
		{"nil pointer to value-receiver TextMarshaler", (*uuidParam)(nil)},
		{"nil pointer to value-receiver Stringer", (*colorParam)(nil)},
		{"nil pointer-receiver Stringer", (*ptrStringer)(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			panicked := func() (p any) {
				defer func() { p = recover() }()
				err = root.User.At(tt.val).Err()
				return nil
			}()
			if panicked != nil {
				t.Fatalf("User.At(%T(nil)) panics: %v; params.go appendParam should refuse typed nil "+
					"pointers (\"is nil\") before calling MarshalText/String", tt.val, panicked)
			}
			if !errors.Is(err, nest.ErrInvalidParam) {
				t.Errorf("At(%T(nil)).Err() = %v, want ErrInvalidParam", tt.val, err)
			}
		})
	}
	// A non-nil pointer formats through its methods.
	u := uuidParam{1}
	if got := root.User.At(&u).Prefix(); got != "root:user:01000000-0000-0000-0000-000000000000" {
		t.Errorf("At(&uuid).Prefix() = %q", got)
	}
	if got := root.User.At(&ptrStringer{"bob"}).Prefix(); got != "root:user:bob" {
		t.Errorf("At(&ptrStringer).Prefix() = %q", got)
	}
}

// Parameter values that look like something else, or like nothing, are
// refused with a reason, and so are values over the length cap; ordinary
// international text is not (issue 7, defect 6). New does no I/O here.
func TestParamLookAlikesAndLength(t *testing.T) {
	t.Parallel()
	rdb := offlineClient(t)
	root := nest.MustNew[Root](rdb, nil)
	for _, tc := range []struct {
		name, value, reason string
	}{
		{"hangul filler", "a\u3164b", "U+3164"},
		{"hangul choseong filler", "\u115F", "U+115F"},
		{"variation selector", "x\uFE0F", "U+FE0F"},
		{"combining grapheme joiner", "a\u034Fb", "U+034F"},
		{"braille blank", "\u2800", "U+2800"},
		{"replacement character", "a\uFFFDb", "U+FFFD"},
		{"noncharacter", "a\uFDD0", "noncharacter U+FDD0"},
		{"noncharacter FFFE", "\uFFFE", "noncharacter U+FFFE"},
		{"private use", "\uE000", "private-use character U+E000"},
		{"supplementary private use", "\U000F0000", "private-use character U+F0000"},
		{"fullwidth colon", "user\uFF1A1", "U+FF1A, which looks like ':'"},
		{"asterisk operator", "a\u2217", "U+2217, which looks like '*'"},
		{"ratio", "a\u2236b", "U+2236, which looks like ':'"},
		{"reverse solidus operator", "a\u29F5b", `U+29F5, which looks like '\'`},
		{"fullwidth brace", "\uFF5B1\uFF5D", "U+FF5B, which looks like '{'"},
		{"zero width space", "a\u200Bb", "format character U+200B"},
		{"257 bytes", strings.Repeat("x", 257), "257 bytes long, more than the maximum of 256"},
		{"1 MiB", strings.Repeat("y", 1<<20), "1048576 bytes long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := root.User.At(tc.value).Err()
			var pe *nest.ParamError
			if !errors.Is(err, nest.ErrInvalidParam) || !errors.As(err, &pe) || !strings.Contains(pe.Reason, tc.reason) {
				t.Fatalf("At(%q) = %v, want ErrInvalidParam saying %q", tc.value, err, tc.reason)
			}
			if len(err.Error()) > 400 {
				t.Fatalf("the error quotes %d bytes: %.80s...", len(err.Error()), err)
			}
			if kerr := root.User.At(1).Messages.At(tc.value).Text.Err(); !errors.Is(kerr, nest.ErrInvalidParam) {
				t.Fatalf("a nested Sub accepted %q: %v", tc.value, kerr)
			}
		})
	}
	for _, ok := range []string{"José", "naïve", "nai\u0308ve", "日本語", "नमस्ते", "🙂", "a-b_c.d@example.com", strings.Repeat("z", 256)} {
		if err := root.User.At(ok).Err(); err != nil {
			t.Errorf("At(%q) refused ordinary text: %v", ok, err)
		}
	}
	// The cap is configurable.
	long := nest.MustNew[Root](rdb, &nest.Options{MaxParamLen: 2048})
	if err := long.User.At(strings.Repeat("x", 2000)).Err(); err != nil {
		t.Fatalf("MaxParamLen 2048 refused 2000 bytes: %v", err)
	}
	if err := long.User.At(strings.Repeat("x", 2049)).Err(); !errors.Is(err, nest.ErrInvalidParam) {
		t.Fatalf("MaxParamLen 2048 accepted 2049 bytes: %v", err)
	}
}
