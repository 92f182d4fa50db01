package nest_test

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redisimnest/nest"
)

type hashLevel int

type hashAddress struct {
	City string `json:"city"`
}

// hashProfile has a field of each encoding: native scalars, time, text
// marshalling, JSON, a pointer, an untagged field, and fields left out.
type hashProfile struct {
	Name    string        `redis:"name"`
	Email   string        `redis:"email"`
	Age     int           `redis:"age"`
	Score   float64       `redis:"score"`
	Small   uint8         `redis:"small"`
	Admin   bool          `redis:"admin"`
	Seen    time.Time     `redis:"seen"`
	Wait    time.Duration `redis:"wait"`
	Raw     []byte        `redis:"raw"`
	Level   hashLevel     `redis:"level"`
	IP      netip.Addr    `redis:"ip"`
	Tags    []string      `redis:"tags"`
	Address *hashAddress  `redis:"address"`
	Nick    string        // untagged: stored under its Go name
	Note    string        `redis:"-"`
	secret  string
}

var ada = hashProfile{
	Name: "Ada", Email: "ada@example.com", Age: 36, Score: 9.5, Small: 200, Admin: true,
	Seen: time.Date(2024, 5, 1, 12, 0, 0, 5, time.UTC), Wait: time.Second, Raw: []byte{0, 1, 2},
	Level: 3, IP: netip.MustParseAddr("10.0.0.1"), Tags: []string{"math"},
	Address: &hashAddress{City: "London"}, Nick: "countess",
}

func TestStructSaveLoad(t *testing.T) {
	ctx := context.Background()
	root, rdb := newHashRoot(t, nil)
	s := root.User.At(1).Profile
	if _, err := s.Load(ctx); !errors.Is(err, nest.ErrNotFound) {
		t.Fatalf("Load of a missing key = %v; want ErrNotFound", err)
	}
	v := ada
	v.Note, v.secret = "not stored", "not stored"
	must(t, s.Save(ctx, v))
	assertHashTTL(t, rdb, s.Name(), time.Hour)
	stored := rdb.HGetAll(ctx, s.Name()).Val()
	want := map[string]string{
		"name": "Ada", "email": "ada@example.com", "age": "36", "score": "9.5", "small": "200", "admin": "1",
		"seen": "2024-05-01T12:00:00.000000005Z", "wait": "1000000000", "raw": "\x00\x01\x02", "level": "3",
		"ip": "10.0.0.1", "tags": `["math"]`, "address": `{"city":"London"}`, "Nick": "countess",
	}
	if !reflect.DeepEqual(stored, want) {
		t.Fatalf("stored fields:\n got %q\nwant %q", stored, want)
	}
	got, err := s.Load(ctx)
	must(t, err)
	if !reflect.DeepEqual(got, ada) {
		t.Fatalf("Load = %+v\nwant %+v", got, ada)
	}
	// Fields missing from the hash keep their zero value; fields T does
	// not declare are ignored by Load and left alone by Save.
	must(t, rdb.HDel(ctx, s.Name(), "email", "tags").Err())
	must(t, rdb.HSet(ctx, s.Name(), "legacy", "kept").Err())
	got, err = s.Load(ctx)
	must(t, err)
	if got.Email != "" || got.Tags != nil || got.Name != "Ada" {
		t.Fatalf("Load with missing fields = %+v", got)
	}
	must(t, s.Save(ctx, hashProfile{Name: "Bob"}))
	if rdb.HGet(ctx, s.Name(), "legacy").Val() != "kept" || rdb.HGet(ctx, s.Name(), "age").Val() != "0" {
		t.Fatalf("Save: %q", rdb.HGetAll(ctx, s.Name()).Val())
	}
	// A nil []byte is stored as "" and read back empty, as for a Key.
	if got, _ := s.Load(ctx); !reflect.DeepEqual(got, hashProfile{Name: "Bob", Raw: []byte{}}) {
		t.Fatalf("Load after Save of zero fields = %+v", got)
	}
}

func TestStructPartialUpdates(t *testing.T) {
	ctx := context.Background()
	root, rdb := newHashRoot(t, nil)
	s := root.User.At(2).Profile
	must(t, s.Save(ctx, ada))
	must(t, rdb.PExpire(ctx, s.Name(), time.Minute).Err())
	must(t, s.SetFields(ctx, hashProfile{Email: "new@example.com", Age: 37, Name: "ignored"}, "email", "age"))
	assertHashTTL(t, rdb, s.Name(), time.Hour)
	got, err := s.Load(ctx)
	must(t, err)
	if got.Email != "new@example.com" || got.Age != 37 || got.Name != "Ada" {
		t.Fatalf("after SetFields: %+v", got)
	}
	for what, err := range map[string]error{
		"unknown": s.SetFields(ctx, ada, "email", "emial"),
		"Go name": s.SetFields(ctx, ada, "Email"),
		"none":    s.SetFields(ctx, ada),
	} {
		if !errors.Is(err, nest.ErrUnknownField) || !strings.Contains(err.Error(), s.Name()) {
			t.Errorf("SetFields %s = %v; want ErrUnknownField naming the key", what, err)
		}
	}
	if err := s.SetFields(ctx, ada, "emial"); !strings.Contains(err.Error(), "stores name, email, age") {
		t.Errorf("SetFields of an unknown field does not list the fields: %v", err)
	}
	if got, _ := s.Load(ctx); got.Email != "new@example.com" {
		t.Fatalf("a refused SetFields wrote: %+v", got)
	}

	// Typed field handles.
	email := nest.Field[string](s, "email")
	must(t, email.Err())
	if email.Name() != "email" {
		t.Fatalf("Name = %q", email.Name())
	}
	if v, err := email.Get(ctx); v != "new@example.com" || err != nil {
		t.Fatalf("field Get = %q, %v", v, err)
	}
	must(t, email.Set(ctx, "ada@example.org"))
	if v := rdb.HGet(ctx, s.Name(), "email").Val(); v != "ada@example.org" {
		t.Fatalf("field Set stored %q", v)
	}
	seen := nest.Field[time.Time](s, "seen")
	if v, err := seen.Get(ctx); err != nil || !v.Equal(ada.Seen) {
		t.Fatalf("time field Get = %v, %v", v, err)
	}
	addr := nest.Field[*hashAddress](s, "address")
	must(t, addr.Set(ctx, &hashAddress{City: "Paris"}))
	if v, err := addr.Get(ctx); err != nil || v.City != "Paris" {
		t.Fatalf("pointer field = %v, %v", v, err)
	}
	must(t, rdb.HDel(ctx, s.Name(), "age").Err())
	age := nest.Field[int](s, "age")
	if _, err := age.Get(ctx); !errors.Is(err, nest.ErrNotFound) || !strings.Contains(err.Error(), `field "age"`) {
		t.Fatalf("Get of a missing field = %v", err)
	}
	must(t, rdb.Del(ctx, s.Name()).Err())
	must(t, age.Set(ctx, 5))
	assertHashTTL(t, rdb, s.Name(), time.Hour)

	for what, f := range map[string]interface{ Err() error }{
		"unknown name": nest.Field[string](s, "nope"),
		"Go name":      nest.Field[string](s, "Email"),
		"wrong type":   nest.Field[int64](s, "age"),
		"left out":     nest.Field[string](s, "Note"),
	} {
		if err := f.Err(); !errors.Is(err, nest.ErrUnknownField) || !strings.Contains(err.Error(), "hashProfile") {
			t.Errorf("Field %s: Err = %v; want ErrUnknownField naming the struct type", what, err)
		}
	}
	bad := nest.Field[int64](s, "age")
	if !strings.Contains(bad.Err().Error(), "hashProfile.Age is a int, not a int64") {
		t.Errorf("wrong type message: %v", bad.Err())
	}
	if _, err := bad.Get(ctx); !errors.Is(err, nest.ErrUnknownField) {
		t.Errorf("Get on a bad field handle = %v", err)
	}
	if err := bad.Set(ctx, 1); !errors.Is(err, nest.ErrUnknownField) || bad.Name() != "" {
		t.Errorf("Set on a bad field handle = %v", err)
	}
	var zero nest.Struct[hashProfile]
	if err := nest.Field[string](zero, "email").Err(); !errors.Is(err, nest.ErrNotBound) {
		t.Errorf("Field of a zero Struct: %v", err)
	}
}

func TestStructTTLModes(t *testing.T) {
	ctx := context.Background()
	root, rdb := newHashRoot(t, nil)
	u := root.User.At(3)
	must(t, u.SlideProfile.Save(ctx, ada))
	for what, read := range map[string]func() error{
		"Load":      func() error { _, err := u.SlideProfile.Load(ctx); return err },
		"Field.Get": func() error { _, err := nest.Field[string](u.SlideProfile, "name").Get(ctx); return err },
	} {
		must(t, rdb.PExpire(ctx, u.SlideProfile.Name(), 5*time.Second).Err())
		if err := read(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		assertHashTTL(t, rdb, u.SlideProfile.Name(), time.Minute)
	}
	must(t, u.ForeverProfile.Save(ctx, ada))
	if d := rdb.PTTL(ctx, u.ForeverProfile.Name()).Val(); d != -1 {
		t.Fatalf("ttl none: PTTL %v", d)
	}
}

func TestStructErrors(t *testing.T) {
	ctx := context.Background()
	root, rdb := newHashRoot(t, &nest.Options{MaxValueSize: 1024})
	s := root.User.At(4).Profile
	e := func(_ any, err error) error { return err }
	ops := func(ctx context.Context) map[string]error {
		return map[string]error{
			"Load":      e(s.Load(ctx)),
			"Save":      s.Save(ctx, ada),
			"SetFields": s.SetFields(ctx, ada, "name"),
			"Field.Get": e(nest.Field[string](s, "name").Get(ctx)),
			"Field.Set": nest.Field[string](s, "name").Set(ctx, "x"),
		}
	}
	// Wrong type.
	must(t, rdb.SAdd(ctx, s.Name(), "x").Err())
	for op, err := range ops(ctx) {
		var wt *nest.WrongTypeError
		if !errors.As(err, &wt) || wt.Kind != "struct" || wt.Declared != "hash" || wt.Found != "set" || !strings.Contains(err.Error(), s.Name()) {
			t.Errorf("%s on a set = %v; want a WrongTypeError naming the key, struct (a hash), found set", op, err)
		}
	}
	if rdb.SCard(ctx, s.Name()).Val() != 1 || rdb.PTTL(ctx, s.Name()).Val() != -1 {
		t.Fatal("failed operations changed the set")
	}
	must(t, rdb.Del(ctx, s.Name()).Err())
	// Cancelled context: nothing reaches Redis.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	for op, err := range ops(cctx) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled ctx = %v", op, err)
		}
	}
	if rdb.Exists(ctx, s.Name()).Val() != 0 {
		t.Fatal("a cancelled write reached Redis")
	}
	// Values over MaxValueSize: nothing written.
	big := ada
	big.Nick = strings.Repeat("x", 1025)
	for what, err := range map[string]error{
		"Save":      s.Save(ctx, big),
		"SetFields": s.SetFields(ctx, big, "name", "Nick"),
		"Field.Set": nest.Field[string](s, "Nick").Set(ctx, big.Nick),
	} {
		if !errors.Is(err, nest.ErrTooLarge) || !strings.Contains(err.Error(), `field "Nick"`) || !strings.Contains(err.Error(), s.Name()) {
			t.Errorf("%s of a huge field = %v; want ErrTooLarge naming key and field", what, err)
		}
	}
	if rdb.Exists(ctx, s.Name()).Val() != 0 {
		t.Fatal("a refused Save wrote")
	}
	// Decode errors name the field.
	must(t, s.Save(ctx, ada))
	must(t, rdb.HSet(ctx, s.Name(), "age", "old").Err())
	for op, err := range map[string]error{
		"Load":      e(s.Load(ctx)),
		"Field.Get": e(nest.Field[int](s, "age").Get(ctx)),
	} {
		var de *nest.DecodeError
		if !errors.As(err, &de) || de.Elem != `field "age"` || de.Type != "int" || de.Key != s.Name() || string(de.Raw) != "old" {
			t.Errorf("%s of a bad field = %v; want a DecodeError at field \"age\"", op, err)
		}
	}
	must(t, rdb.HSet(ctx, s.Name(), "age", "1", "small", "300").Err())
	if _, err := s.Load(ctx); !errors.Is(err, nest.ErrDecode) || !strings.Contains(err.Error(), `field "small"`) {
		t.Errorf("Load of an out-of-range uint8 = %v", err)
	}
	must(t, rdb.HSet(ctx, s.Name(), "small", "1", "Nick", big.Nick).Err())
	if _, err := s.Load(ctx); !errors.Is(err, nest.ErrTooLarge) || !strings.Contains(err.Error(), `field "Nick"`) {
		t.Errorf("Load of an oversized field = %v", err)
	}
	// An unbound handle.
	var zero nest.Struct[hashProfile]
	if _, err := zero.Load(ctx); !errors.Is(err, nest.ErrNotBound) {
		t.Errorf("Load of a zero Struct = %v", err)
	}
	if err := zero.Save(ctx, ada); !errors.Is(err, nest.ErrNotBound) {
		t.Errorf("Save of a zero Struct = %v", err)
	}
}

func TestStructPipeline(t *testing.T) {
	ctx := context.Background()
	root, rdb := newHashRoot(t, nil)
	u := root.User.At(5)
	s := u.Profile
	for _, tx := range []bool{false, true} {
		t.Run("tx="+strconv.FormatBool(tx), func(t *testing.T) {
			must(t, rdb.Del(ctx, s.Name(), u.SlideProfile.Name()).Err())
			p := u.Pipeline()
			if tx {
				p = u.TxPipeline()
			}
			q := s.In(p)
			miss := q.Load(ctx)
			save := q.Save(ctx, ada)
			part := q.SetFields(ctx, hashProfile{Age: 40}, "age")
			email := nest.Field[string](s, "email")
			fset := email.In(p).Set(ctx, "q@example.com")
			fget := email.In(p).Get(ctx)
			load := q.Load(ctx)
			sl := u.SlideProfile.In(p).Load(ctx)
			ttl := q.TTL(ctx)
			must(t, p.Exec(ctx))
			if _, err := miss.Result(); !errors.Is(err, nest.ErrNotFound) {
				t.Fatalf("queued Load of a missing key = %v", err)
			}
			must(t, save.Err())
			must(t, part.Err())
			must(t, fset.Err())
			if v := mustResult(t, fget); v != "q@example.com" {
				t.Fatalf("queued field Get = %q", v)
			}
			got := mustResult(t, load)
			want := ada
			want.Age, want.Email = 40, "q@example.com"
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("queued Load = %+v", got)
			}
			if !errors.Is(sl.Err(), nest.ErrNotFound) {
				t.Fatalf("queued sliding Load = %v", sl.Err())
			}
			if d := mustResult(t, ttl); d < 59*time.Minute {
				t.Fatalf("TTL = %v", d)
			}
		})
	}
	// Queue-time failures fail the pipe, naming the key once.
	for what, queue := range map[string]func(p *nest.Pipe) error{
		"SetFields unknown": func(p *nest.Pipe) error { return s.In(p).SetFields(ctx, ada, "nope").Err() },
		"SetFields none":    func(p *nest.Pipe) error { return s.In(p).SetFields(ctx, ada).Err() },
		"bad field Get":     func(p *nest.Pipe) error { return nest.Field[int](s, "email").In(p).Get(ctx).Err() },
		"bad field Set":     func(p *nest.Pipe) error { return nest.Field[int](s, "email").In(p).Set(ctx, 1).Err() },
	} {
		must(t, rdb.Del(ctx, s.Name()).Err())
		p := u.TxPipeline()
		s.In(p).Save(ctx, ada)
		err := queue(p)
		if xerr := p.Exec(ctx); !errors.Is(err, nest.ErrUnknownField) || !errors.Is(xerr, nest.ErrUnknownField) || strings.Count(err.Error(), s.Name()) != 1 {
			t.Errorf("%s: future %v, Exec %v", what, err, xerr)
		}
		if rdb.Exists(ctx, s.Name()).Val() != 0 {
			t.Errorf("%s: a failed pipe wrote", what)
		}
	}
	// Decode errors through a pipe.
	must(t, rdb.HSet(ctx, s.Name(), "age", "x").Err())
	p := u.Pipeline()
	load := s.In(p).Load(ctx)
	age := nest.Field[int](s, "age").In(p).Get(ctx)
	_ = p.Exec(ctx)
	for what, err := range map[string]error{"Load": load.Err(), "Field.Get": age.Err()} {
		var de *nest.DecodeError
		if !errors.As(err, &de) || de.Elem != `field "age"` {
			t.Errorf("queued %s = %v", what, err)
		}
	}
}

// Declaration mistakes in the struct type fail New, naming the struct
// type and the field.
type (
	badStructFunc struct {
		Name string `redis:"name"`
		F    func() `redis:"f"`
	}
	badStructEmbed struct {
		hashAddress
		Name string
	}
	badStructDup struct {
		A string `redis:"x"`
		B string `redis:"x"`
	}
	badStructOpt struct {
		A string `redis:"a,omitempty"`
	}
	badStructUnexported struct {
		A string `redis:"a"`
		//lint:ignore U1000 the unexported field New must refuse
		b string `redis:"b"`
	}
	badStructEmpty struct {
		//lint:ignore U1000 an unexported field, which is not stored
		a string
		B string `redis:"-"`
	}
)

type badStructs struct {
	nest.Namespace `nest:"bad"`
	Func           nest.Struct[badStructFunc]       `nest:"func"`
	Embed          nest.Struct[badStructEmbed]      `nest:"embed"`
	Dup            nest.Struct[badStructDup]        `nest:"dup"`
	Opt            nest.Struct[badStructOpt]        `nest:"opt"`
	Unexported     nest.Struct[badStructUnexported] `nest:"unexp"`
	Empty          nest.Struct[badStructEmpty]      `nest:"empty"`
	NotStruct      nest.Struct[int]                 `nest:"int"`
	Default        nest.Struct[hashAddress]         `nest:"def" default:"{}"`
	HashDefault    nest.Hash[int]                   `nest:"hdef" default:"1"`
	HashFunc       nest.Hash[func()]                `nest:"hfunc"`
}

func TestStructSchemaErrors(t *testing.T) {
	err := tryNew[badStructs](offlineClient(t), nil)
	errs := schemaErrs(t, err)
	want := map[string][]string{
		"Func":        {"badStructFunc", "field F", "func()"},
		"Embed":       {"badStructEmbed", "field hashAddress", "embedded"},
		"Dup":         {"badStructDup", "field B", `"x"`, "field A"},
		"Opt":         {"badStructOpt", "field A", "omitempty"},
		"Unexported":  {"badStructUnexported", "field b", "unexported"},
		"Empty":       {"badStructEmpty", "no fields"},
		"NotStruct":   {"struct type, not int"},
		"Default":     {"no default"},
		"HashDefault": {"no default"},
		"HashFunc":    {"func()"},
	}
	got := map[string]string{}
	for _, se := range errs {
		got[se.Field] = se.Error()
	}
	for field, subs := range want {
		msg, ok := got[field]
		if !ok {
			t.Errorf("no schema error for %s (got %v)", field, got)
			continue
		}
		for _, s := range subs {
			if !strings.Contains(msg, s) {
				t.Errorf("%s: %q does not contain %q", field, msg, s)
			}
		}
	}
	if len(errs) != len(want) {
		t.Errorf("%d schema errors; want %d: %v", len(errs), len(want), err)
	}
}

func TestHashStructDescribe(t *testing.T) {
	root, _ := newHashRoot(t, nil)
	u := root.User.At(1)
	for _, c := range []struct {
		d                      nest.KeyDescription
		kind, rtype, typ, codc string
	}{
		{u.Stock.Describe(), "hash", "hash", "int", "int"},
		{u.Docs.Describe(), "hash", "hash", "nest_test.hashDoc", "json"},
		{u.Profile.Describe(), "struct", "hash", "nest_test.hashProfile", "json"},
	} {
		if c.d.Kind != c.kind || c.d.RedisType != c.rtype || c.d.Type != c.typ || c.d.Codec != c.codc {
			t.Errorf("Describe = %+v; want kind %s, Redis type %s, type %s, codec %s", c.d, c.kind, c.rtype, c.typ, c.codc)
		}
	}
}
