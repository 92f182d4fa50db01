package nest_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/redisimnest/nest"
)

// childDesc returns the child description whose Field is field.
func childDesc(t *testing.T, d nest.Description, field string) nest.Description {
	t.Helper()
	for _, c := range d.Children {
		if c.Field == field {
			return c
		}
	}
	t.Fatalf("%s has no child %s", d.Field, field)
	return nest.Description{}
}

// keyDesc returns the key description whose Field is field.
func keyDesc(t *testing.T, d nest.Description, field string) nest.KeyDescription {
	t.Helper()
	for _, k := range d.Keys {
		if k.Field == field {
			return k
		}
	}
	t.Fatalf("%s has no key %s", d.Field, field)
	return nest.KeyDescription{}
}

func strPtr(s string) *string { return &s }

func TestDescribeRoot(t *testing.T) {
	t.Parallel()
	root := nest.MustNew[Root](offlineClient(t), nil)
	d := root.Describe()

	if d.Field != "Root" || d.Type != "nest_test.Root" || d.Template != "root" || d.Prefix != "root" ||
		d.Pattern != "root" || d.Params != nil || d.Missing != nil || d.TTL != nil || d.Error != "" {
		t.Errorf("root description = %+v", d)
	}
	if got := len(d.Children); got != 3 {
		t.Errorf("root has %d children, want 3 (App, User, Admin)", got)
	}
	pn := keyDesc(t, d, "Root.ProjectName")
	want := nest.KeyDescription{Field: "Root.ProjectName", Template: "project_name", Name: "root:project_name",
		Pattern: "root:project_name", Type: "string", Codec: "string", RedisType: "string"}
	if !reflect.DeepEqual(pn, want) {
		t.Errorf("ProjectName = %+v, want %+v", pn, want)
	}

	app := childDesc(t, d, "Root.App")
	if app.Type != "nest_test.App" || app.Template != "app" || app.Prefix != "root:app" || app.Pattern != "root:app" || app.Missing != nil {
		t.Errorf("App = %+v", app)
	}
	assertTTLInfo(t, "App", app.TTL, 80*time.Second, "Root.App")
	tokens := keyDesc(t, app, "Root.App.Tokens")
	if tokens.Name != "root:app:tokens" || tokens.Type != "[]string" || tokens.Codec != "json" ||
		tokens.Default == nil || *tokens.Default != "[]" {
		t.Errorf("Tokens = %+v", tokens)
	}
	assertTTLInfo(t, "Tokens", tokens.TTL, 80*time.Second, "Root.App")
	if pu := keyDesc(t, app, "Root.App.PendingUsers"); pu.Default != nil {
		t.Errorf("PendingUsers.Default = %q, want nil", *pu.Default)
	}

	user := childDesc(t, d, "Root.User")
	if user.Template != "user:{user_id}" || user.Prefix != "" || user.Pattern != "root:user:*" ||
		!slices.Equal(user.Missing, []string{"user_id"}) ||
		!reflect.DeepEqual(user.Params, []nest.Param{{Name: "user_id"}}) {
		t.Errorf("User = %+v", user)
	}
	assertTTLInfo(t, "User", user.TTL, 120*time.Second, "Root.User")
	age := keyDesc(t, user, "Root.User.Age")
	if age.Name != "" || age.Pattern != "root:user:*:age" || age.Type != "int" || age.Codec != "int" ||
		age.Default == nil || *age.Default != "0" {
		t.Errorf("Age = %+v", age)
	}
	if name := keyDesc(t, user, "Root.User.Name"); name.Default == nil || *name.Default != "Unknown" {
		t.Errorf("Name = %+v", name)
	}
	msgs := childDesc(t, user, "Root.User.Messages")
	if msgs.Type != "nest_test.Message" || msgs.Template != "message:{message_id}" ||
		msgs.Pattern != "root:user:*:message:*" || !slices.Equal(msgs.Missing, []string{"message_id"}) {
		t.Errorf("User.Messages = %+v", msgs)
	}
	assertTTLInfo(t, "User.Messages", msgs.TTL, 120*time.Second, "Root.User")
	seen := keyDesc(t, msgs, "Root.User.Messages.Seen")
	assertTTLInfo(t, "User.Messages.Seen", seen.TTL, 30*time.Second, "Root.User.Messages.Seen")
	if seen.Type != "bool" || seen.Codec != "bool" || *seen.Default != "false" || seen.Pattern != "root:user:*:message:*:seen" {
		t.Errorf("Seen = %+v", seen)
	}
	text := keyDesc(t, msgs, "Root.User.Messages.Text")
	assertTTLInfo(t, "User.Messages.Text", text.TTL, 120*time.Second, "Root.User")

	admin := childDesc(t, d, "Root.Admin")
	if admin.Pattern != "root:admin:*:*" || !slices.Equal(admin.Missing, []string{"admin_id", "region"}) {
		t.Errorf("Admin = %+v", admin)
	}
	assertTTLInfo(t, "Admin", admin.TTL, 0, "")
	am := childDesc(t, admin, "Root.Admin.Messages")
	assertTTLInfo(t, "Admin.Messages", am.TTL, 0, "")
	assertTTLInfo(t, "Admin.Messages.Text", keyDesc(t, am, "Root.Admin.Messages.Text").TTL, 0, "")
	assertTTLInfo(t, "Admin.Messages.Seen", keyDesc(t, am, "Root.Admin.Messages.Seen").TTL, 30*time.Second, "Root.Admin.Messages.Seen")
}

func TestDescribeBoundInstances(t *testing.T) {
	t.Parallel()
	root := nest.MustNew[Root](offlineClient(t), nil)

	u := root.User.At(42).Describe()
	if u.Prefix != "root:user:42" || u.Missing != nil ||
		!reflect.DeepEqual(u.Params, []nest.Param{{Name: "user_id", Value: "42", Bound: true}}) || u.Error != "" {
		t.Errorf("User.At(42) = %+v", u)
	}
	if age := keyDesc(t, u, "Root.User.Age"); age.Name != "root:user:42:age" || age.Pattern != "root:user:*:age" {
		t.Errorf("Age in bound User = %+v", age)
	}
	// The Sub under a bound instance is still unbound.
	m := childDesc(t, u, "Root.User.Messages")
	if m.Prefix != "" || !slices.Equal(m.Missing, []string{"message_id"}) {
		t.Errorf("Messages under bound User = %+v", m)
	}

	mm := root.User.At(42).Messages.At(7).Describe()
	if mm.Prefix != "root:user:42:message:7" || mm.Field != "Root.User.Messages" ||
		!reflect.DeepEqual(mm.Params, []nest.Param{{Name: "message_id", Value: "7", Bound: true}}) {
		t.Errorf("Messages.At(7) = %+v", mm)
	}
	if text := keyDesc(t, mm, "Root.User.Messages.Text"); text.Name != "root:user:42:message:7:text" {
		t.Errorf("Text = %+v", text)
	}

	a := root.Admin.At(5, "eu").Describe()
	if a.Prefix != "root:admin:5:eu" || !reflect.DeepEqual(a.Params, []nest.Param{
		{Name: "admin_id", Value: "5", Bound: true}, {Name: "region", Value: "eu", Bound: true}}) {
		t.Errorf("Admin.At(5, eu) = %+v", a)
	}

	// The unbound Sub.
	s := root.User.Describe()
	if s.Prefix != "" || s.Template != "user:{user_id}" || !slices.Equal(s.Missing, []string{"user_id"}) || s.Error != "" {
		t.Errorf("root.User.Describe() = %+v", s)
	}
	if age := keyDesc(t, s, "Root.User.Age"); age.Name != "" {
		t.Errorf("Age of unbound Sub has name %q", age.Name)
	}
	if ms := root.User.At(1).Messages.Describe(); ms.Prefix != "" || ms.Field != "Root.User.Messages" ||
		!slices.Equal(ms.Missing, []string{"message_id"}) {
		t.Errorf("Messages Sub describe = %+v", ms)
	}

	// A plain child of a bound instance.
	app := root.App.Describe()
	if app.Prefix != "root:app" || app.Field != "Root.App" {
		t.Errorf("root.App.Describe() = %+v", app)
	}

	// An unusable instance says why and resolves no names.
	bad := root.User.At("a:b").Describe()
	if bad.Error == "" || bad.Prefix != "" || keyDesc(t, bad, "Root.User.Age").Name != "" {
		t.Errorf("User.At(a:b) = %+v", bad)
	}
	bm := root.User.At("a:b").Messages.Describe()
	if bm.Error == "" || bm.Prefix != "" {
		t.Errorf("Messages Sub of an unusable User = %+v", bm)
	}

	// A zero Namespace.
	var zero nest.Namespace
	if d := zero.Describe(); d.Error == "" {
		t.Errorf("zero Namespace Describe = %+v, want an error", d)
	}
}

func TestDescribeKeys(t *testing.T) {
	t.Parallel()
	rdb := offlineClient(t)
	root := nest.MustNew[Root](rdb, nil)
	p := nest.MustNew[paramsRoot](rdb, nil)

	age := root.User.At(1).Age.Describe()
	want := nest.KeyDescription{
		Field: "Root.User.Age", Template: "age", Name: "root:user:1:age", Pattern: "root:user:*:age",
		Type: "int", Codec: "int", RedisType: "string", Default: strPtr("0"),
		TTL: &nest.TTLInfo{TTL: 120 * time.Second, Seconds: 120, From: "Root.User"},
	}
	if !reflect.DeepEqual(age, want) {
		t.Errorf("Age.Describe() = %+v, want %+v", age, want)
	}
	seen := root.Admin.At(1, "x").Messages.At(2).Seen.Describe()
	if seen.Name != "root:admin:1:x:message:2:seen" || seen.Pattern != "root:admin:*:*:message:*:seen" {
		t.Errorf("Seen.Describe() = %+v", seen)
	}
	assertTTLInfo(t, "Seen", seen.TTL, 30*time.Second, "Root.Admin.Messages.Seen")

	// A ParamKey unbound and bound.
	item := p.Item.Describe()
	if item.Name != "" || item.Template != "item:{item_id}" || item.Pattern != "proot:item:*" ||
		!slices.Equal(item.Missing, []string{"item_id"}) {
		t.Errorf("Item.Describe() = %+v", item)
	}
	bound := p.Item.At("x").Describe()
	if bound.Name != "proot:item:x" || bound.Missing != nil {
		t.Errorf("Item.At(x).Describe() = %+v", bound)
	}
	if bad := p.Item.At("").Describe(); bad.Name != "" || !slices.Equal(bad.Missing, []string{"item_id"}) {
		t.Errorf("Item.At(\"\").Describe() = %+v", bad)
	}
	if pair := p.Pair.Describe(); !slices.Equal(pair.Missing, []string{"left", "right"}) || pair.Pattern != "proot:pair:*:*" {
		t.Errorf("Pair.Describe() = %+v", pair)
	}

	// A key of an unusable instance resolves no name.
	if d := root.User.At("").Age.Describe(); d.Name != "" || d.Field != "Root.User.Age" {
		t.Errorf("Age of unusable User = %+v", d)
	}
	var zero nest.Key[int]
	if d := zero.Describe(); !reflect.DeepEqual(d, nest.KeyDescription{}) {
		t.Errorf("zero Key Describe = %+v", d)
	}
}

func TestDescribeTTLForms(t *testing.T) {
	t.Parallel()
	r := nest.MustNew[ttlRoot](offlineClient(t), nil)
	d := r.Describe()
	assertTTLInfo(t, "t", d.TTL, 100*time.Second, "ttlRoot")
	frozen := childDesc(t, d, "ttlRoot.Frozen")
	if frozen.TTL == nil || !frozen.TTL.None || frozen.TTL.From != "ttlRoot.Frozen" || frozen.TTL.Seconds != 0 {
		t.Errorf("Frozen TTL = %+v, want none from ttlRoot.Frozen", frozen.TTL)
	}
	inner := keyDesc(t, childDesc(t, frozen, "ttlRoot.Frozen.Inner"), "ttlRoot.Frozen.Inner.K")
	if inner.TTL == nil || !inner.TTL.None || inner.TTL.From != "ttlRoot.Frozen" {
		t.Errorf("Frozen.Inner.K TTL = %+v, want none drilled from ttlRoot.Frozen", inner.TTL)
	}
	never := keyDesc(t, d, "ttlRoot.Never")
	if never.TTL == nil || !never.TTL.None || never.TTL.From != "ttlRoot.Never" {
		t.Errorf("Never TTL = %+v", never.TTL)
	}
	slide := childDesc(t, d, "ttlRoot.Slide")
	if slide.TTL == nil || !slide.TTL.Sliding || slide.TTL.TTL != 1500*time.Millisecond || slide.TTL.Seconds != 1.5 {
		t.Errorf("Slide TTL = %+v", slide.TTL)
	}
	if k := keyDesc(t, slide, "ttlRoot.Slide.K"); k.TTL == nil || !k.TTL.Sliding || k.TTL.From != "ttlRoot.Slide" {
		t.Errorf("Slide.K TTL = %+v", k.TTL)
	}
	if k := keyDesc(t, slide, "ttlRoot.Slide.Fixed"); k.TTL == nil || k.TTL.Sliding {
		t.Errorf("Slide.Fixed TTL = %+v, want not sliding", k.TTL)
	}
	forms := childDesc(t, d, "ttlRoot.Forms")
	for field, want := range map[string]time.Duration{"Secs": 80 * time.Second, "Dur": 80 * time.Second, "HM": 90 * time.Minute, "MS": 2500 * time.Millisecond} {
		assertTTLInfo(t, field, keyDesc(t, forms, "ttlRoot.Forms."+field).TTL, want, "ttlRoot.Forms."+field)
	}
}

// jsonPath walks m by keys and, for arrays, by the element whose "field"
// equals the step.
func jsonPath(t *testing.T, v any, path ...string) any {
	t.Helper()
	for _, step := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[step]; !ok {
				t.Fatalf("no %q in %v", step, x)
			}
		case []any:
			found := false
			for _, e := range x {
				if m, ok := e.(map[string]any); ok && m["field"] == step {
					v, found = m, true
					break
				}
			}
			if !found {
				t.Fatalf("no element with field %q", step)
			}
		default:
			t.Fatalf("cannot take %q of %v", step, v)
		}
	}
	return v
}

func TestDescribeJSONExport(t *testing.T) {
	t.Parallel()
	root := nest.MustNew[Root](offlineClient(t), nil)
	b, err := json.Marshal(root.Describe())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		path []string
		want any
	}{
		{[]string{"field"}, "Root"},
		{[]string{"type"}, "nest_test.Root"},
		{[]string{"prefix"}, "root"},
		{[]string{"keys", "Root.ProjectName", "name"}, "root:project_name"},
		{[]string{"keys", "Root.ProjectName", "codec"}, "string"},
		{[]string{"children", "Root.App", "prefix"}, "root:app"},
		{[]string{"children", "Root.App", "ttl", "seconds"}, 80.0},
		{[]string{"children", "Root.App", "ttl", "from"}, "Root.App"},
		{[]string{"children", "Root.App", "keys", "Root.App.Tokens", "default"}, "[]"},
		{[]string{"children", "Root.App", "keys", "Root.App.Tokens", "type"}, "[]string"},
		{[]string{"children", "Root.User", "template"}, "user:{user_id}"},
		{[]string{"children", "Root.User", "pattern"}, "root:user:*"},
		{[]string{"children", "Root.User", "missing"}, []any{"user_id"}},
		{[]string{"children", "Root.User", "params"}, []any{map[string]any{"name": "user_id", "bound": false}}},
		{[]string{"children", "Root.User", "ttl", "seconds"}, 120.0},
		{[]string{"children", "Root.User", "keys", "Root.User.Age", "default"}, "0"},
		{[]string{"children", "Root.User", "keys", "Root.User.Age", "pattern"}, "root:user:*:age"},
		{[]string{"children", "Root.User", "children", "Root.User.Messages", "keys", "Root.User.Messages.Seen", "ttl", "seconds"}, 30.0},
		{[]string{"children", "Root.User", "children", "Root.User.Messages", "keys", "Root.User.Messages.Seen", "ttl", "from"}, "Root.User.Messages.Seen"},
		{[]string{"children", "Root.Admin", "children", "Root.Admin.Messages", "pattern"}, "root:admin:*:*:message:*"},
	}
	for _, c := range checks {
		if got := jsonPath(t, m, c.path...); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v = %#v, want %#v", c.path, got, c.want)
		}
	}
	// Absent things are omitted, not null or empty.
	for _, path := range [][]string{
		{"children", "Root.User"},
		{"children", "Root.Admin", "children", "Root.Admin.Messages", "keys", "Root.Admin.Messages.Text"},
	} {
		obj := jsonPath(t, m, path...).(map[string]any)
		for _, k := range []string{"prefix", "ttl", "error", "name", "default"} {
			if k == "ttl" && path[len(path)-1] == "Root.User" {
				continue
			}
			if v, ok := obj[k]; ok {
				t.Errorf("%v has %q = %#v, want it omitted", path, k, v)
			}
		}
	}
	// The export round-trips into the Go type.
	var back nest.Description
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Field != "Root" || len(back.Children) != 3 || back.Children[1].Keys[0].Field == "" {
		t.Errorf("round-tripped description = %+v", back)
	}
}

// TestDescribePatternsMatchRealKeys checks every pattern of the export with
// SCAN MATCH on a real server: each pattern finds the keys its declaration
// wrote and no other.
func TestDescribePatternsMatchRealKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root, rdb := newRoot(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(root.ProjectName.Set(ctx, "p"))
	must(root.App.Tokens.Set(ctx, []string{"t"}))
	must(root.App.PendingUsers.Set(ctx, nil))
	for _, id := range []any{1, 12, "bob"} {
		u := root.User.At(id)
		must(u.Age.Set(ctx, 1))
		must(u.Name.Set(ctx, "n"))
		for _, mid := range []int{1, 2} {
			must(u.Messages.At(mid).Text.Set(ctx, "x"))
			must(u.Messages.At(mid).Seen.Set(ctx, true))
		}
	}
	a := root.Admin.At(5, "eu")
	must(a.Level.Set(ctx, 3))
	must(a.Messages.At(9).Text.Set(ctx, "y"))
	must(a.Messages.At(9).Seen.Set(ctx, false))

	scan := func(pattern string) []string {
		out := scanAll(t, rdb, pattern)
		sort.Strings(out)
		return out
	}
	// Walk the description; expected key sets come from the Go field.
	want := map[string][]string{
		"Root.ProjectName":         {"root:project_name"},
		"Root.App.Tokens":          {"root:app:tokens"},
		"Root.App.PendingUsers":    {"root:app:pending_users"},
		"Root.User.Age":            {"root:user:1:age", "root:user:12:age", "root:user:bob:age"},
		"Root.User.Name":           {"root:user:1:name", "root:user:12:name", "root:user:bob:name"},
		"Root.Admin.Level":         {"root:admin:5:eu:level"},
		"Root.Admin.Messages.Text": {"root:admin:5:eu:message:9:text"},
		"Root.Admin.Messages.Seen": {"root:admin:5:eu:message:9:seen"},
	}
	for _, k := range []string{"text", "seen"} {
		var names []string
		for _, id := range []string{"1", "12", "bob"} {
			for _, mid := range []string{"1", "2"} {
				names = append(names, "root:user:"+id+":message:"+mid+":"+k)
			}
		}
		sort.Strings(names)
		field := map[string]string{"text": "Root.User.Messages.Text", "seen": "Root.User.Messages.Seen"}[k]
		want[field] = names
	}
	seen := 0
	var walk func(d nest.Description)
	walk = func(d nest.Description) {
		for _, k := range d.Keys {
			w, ok := want[k.Field]
			if !ok {
				t.Errorf("unexpected key %s", k.Field)
				continue
			}
			seen++
			w = slices.Sorted(slices.Values(w))
			if got := scan(k.Pattern); !slices.Equal(got, w) {
				t.Errorf("SCAN MATCH %s (%s) = %q, want %q", k.Pattern, k.Field, got, w)
			}
		}
		for _, c := range d.Children {
			walk(c)
		}
	}
	walk(root.Describe())
	if seen != len(want) {
		t.Errorf("the description lists %d keys, want %d", seen, len(want))
	}
}
