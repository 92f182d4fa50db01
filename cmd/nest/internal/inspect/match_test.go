package inspect_test

import (
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/cmd/nest/internal/inspect"
)

func TestInfer(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		// Static names are kept whole, short words too.
		{"app:config", "app:config"},
		{"a:b:c", "a:b:c"},
		{"cafe:bad:feed", "cafe:bad:feed"}, // hex letters, no digit, short
		{"deadbeef:x", "deadbeef:x"},       // 8 hex letters without a digit: a word
		{"v2:users", "v2:users"},           // short mixed word
		{"abc123:x", "abc123:x"},           // under 8 characters
		{"user:42", "user:{}"},             // numeric
		{"user:0", "user:{}"},              // one digit
		{"user:42:session:7", "user:{}:session:{}"},
		{"42", "{}"},                                       // a bare number
		{"cache:4f9c2d1e7a:x", "cache:{}:x"},               // hex of 8+ with a digit
		{"cache:4F9C2D1E:x", "cache:{}:x"},                 // upper-case hex
		{"s:123e4567-e89b-12d3-a456-426614174000", "s:{}"}, // UUID
		{"s:123E4567-E89B-12D3-A456-426614174000:t", "s:{}:t"},
		{"s:123e4567-e89b-12d3-a456-42661417400", "s:123e4567-e89b-12d3-a456-42661417400"},   // one short: not a UUID
		{"s:123e4567_e89b_12d3_a456_426614174000", "s:123e4567_e89b_12d3_a456_426614174000"}, // not its separators
		{"user:-42", "user:-42"}, // not a plain number
		{"user:4 2", "user:4 2"},
		{"user:42x", "user:42x"}, // a digit and a non-hex letter
		{"a::1", "a::{}"},        // empty segments kept
		{"1:", "{}:"},
	} {
		if got := inspect.Infer(tc.name); got != tc.want {
			t.Errorf("Infer(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// The schema of the matching tests.
type (
	mSession struct {
		nest.Namespace `nest:"session:{sid}" ttl:"30m"`
		Token          nest.Key[string] `nest:"token"`
	}
	mUser struct {
		nest.Namespace `nest:"user:{user_id}"`
		Name           nest.Key[string]      `nest:"name"`
		Mail           nest.ParamKey[string] `nest:"mail:{slot}"`
		Session        nest.Sub[mSession]    `index:"set"`
	}
	mEdge struct {
		nest.Namespace `nest:"edge:{from}:{to}"`
		Weight         nest.Key[int] `nest:"weight"`
	}
	mTeam struct {
		nest.Namespace `nest:"team:{team_id}" slot:"pin"`
		Name           nest.Key[string] `nest:"name"`
	}
	mRoot struct {
		nest.Namespace `nest:"app"`
		Config         nest.Key[string] `nest:"config"`
		User           nest.Sub[mUser]
		Edge           nest.Sub[mEdge]
		Team           nest.Sub[mTeam] `index:"set,teams"`
	}
)

func matchModel(t *testing.T) (*inspect.Model, *mRoot) {
	t.Helper()
	root := nest.MustNew[mRoot](redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), nil)
	m, err := inspect.FromNamespace(root.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	return m, root
}

// where names what Match found: the key's field (with its kind when it is
// an index), the prefix's field, "under" or "".
func where(mt inspect.Match) string {
	switch {
	case mt.Key != nil && mt.Key.Kind == inspect.KindIndex:
		return "index " + mt.Key.Field
	case mt.Key != nil:
		return mt.Key.Field
	case mt.Prefix != nil:
		return "prefix " + mt.Prefix.Field
	case mt.Under:
		return "under"
	}
	return ""
}

func TestMatch(t *testing.T) {
	m, root := matchModel(t)
	for _, tc := range []struct{ name, want string }{
		// Names the library builds: positional (At) and named (With)
		// parameters, several parameters in one namespace, nested
		// namespaces, a ParamKey, a pinned namespace.
		{root.Config.Name(), "mRoot.Config"},
		{root.User.At(42).Name.Name(), "mRoot.User.Name"},
		{root.User.With(nest.Params{"user_id": "u-7"}).Name.Name(), "mRoot.User.Name"},
		{root.User.At(42).Mail.At("home").Name(), "mRoot.User.Mail"},
		{root.User.At(42).Session.At("s1").Token.Name(), "mRoot.User.Session.Token"},
		{root.User.With(nest.Params{"user_id": "é"}).Session.With(nest.Params{"sid": "ß"}).Token.Name(), "mRoot.User.Session.Token"},
		{root.Edge.At("a", "b").Weight.Name(), "mRoot.Edge.Weight"},
		{root.Edge.With(nest.Params{"from": "1", "to": "2"}).Weight.Name(), "mRoot.Edge.Weight"},
		{root.Team.At("t1").Name.Name(), "mRoot.Team.Name"},
		{"app:{team:t1}:name", "mRoot.Team.Name"},
		// Instance indexes, in the parent namespace.
		{"app:user:42:session", "index mRoot.User.Session"},
		{"app:teams", "index mRoot.Team"},
		// Prefix keys of namespaces.
		{"app", "prefix mRoot"},
		{"app:user:42", "prefix mRoot.User"},
		{"app:user:42:session:s1", "prefix mRoot.User.Session"},
		{"app:edge:a:b", "prefix mRoot.Edge"},
		{"app:{team:t1}", "prefix mRoot.Team"},
		// Under the root, no template.
		{"app:user:42:nope", "under"},
		{"app:user:42:session:s1:token:x", "under"},
		{"app:user", "under"}, // the index name of Team is "teams", not "user"
		{"app:team", "under"},
		{"app:edge:a", "under"}, // one parameter short
		{"app:edge:a:b:c:weight", "under"},
		{"app:team:t1:name", "under"}, // pinned: braces required
		{"app:{team:t1:name", "under"},
		{"app:{team:}:name", "under"},
		{"app:user:42:mail:", "under"},
		{"app:user::name", "under"}, // empty value
		// Elsewhere.
		{"apple:user:1:name", ""},
		{"ap", ""},
		{"", ""},
		{"other:app:config", ""},
	} {
		if got := where(m.Match(tc.name)); got != tc.want {
			t.Errorf("Match(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestMatchHostile: names whose parameter values the library refuses
// never match a template, though they lie under the root.
func TestMatchHostile(t *testing.T) {
	m, root := matchModel(t)
	for _, v := range []string{
		"a b", "a*", "a?", "a[1]", `a\b`, "{x}", "x}", "\x00", "a\tb", "a\x7f",
		"4\uFF1A2", "a\u2217", "\u3164", "a\u034f", "\uFFFD", "\uE000", "a\uFE0F",
		strings.Repeat("x", nest.DefaultMaxParamLen+1),
	} {
		// The library refuses the value...
		if err := root.User.At(v).Name.Err(); err == nil {
			t.Fatalf("the library accepts %q", v)
		}
		// ...and the names it would have made match nothing.
		for _, name := range []string{
			"app:user:" + v + ":name",
			"app:user:42:session:" + v + ":token",
			"app:user:42:mail:" + v,
			"app:edge:" + v + ":b:weight",
			"app:edge:a:" + v + ":weight",
			"app:{team:" + v + "}:name",
			"app:user:" + v,
		} {
			mt := m.Match(name)
			if mt.Key != nil || mt.Prefix != nil || !mt.Under {
				t.Errorf("Match(%q) = %q, want under the root only", name, where(mt))
			}
		}
	}
	// At the length limit a value is fine.
	long := strings.Repeat("x", nest.DefaultMaxParamLen)
	if got := where(m.Match("app:user:" + long + ":name")); got != "mRoot.User.Name" {
		t.Errorf("a value of the maximum length: %q", got)
	}
}
