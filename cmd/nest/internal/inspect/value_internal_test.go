package inspect

import (
	"context"
	"errors"
	"testing"

	"github.com/redisimnest/nest"
)

// TestSensitiveOverlap: a name that is an instance of a secret and, first
// in declaration order, of a plain parameterised key is still refused,
// before any read (the client here reaches no server).
func TestSensitiveOverlap(t *testing.T) {
	m, err := build(nest.Schema{Version: 1, Root: nest.Description{
		Field: "Root", Template: "app", Pattern: "app",
		Keys: []nest.KeyDescription{
			{Field: "Root.Any", Template: "{name}", Pattern: "app:*", Type: "string", Codec: "string", RedisType: "string"},
			{Field: "Root.Token", Template: "api_token", Pattern: "app:api_token", Type: "string", Codec: "string", Kind: "secret", RedisType: "string"},
			{Field: "Root.Pass", Template: "pw", Pattern: "app:pw", Type: "string", Codec: "argon2id", Kind: "password", RedisType: "string"},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if k := m.Match("app:api_token").Key; k == nil || k.Field != "Root.Any" {
		t.Fatalf("Match(app:api_token) = %+v; the test wants the plain key first", k)
	}
	for _, name := range []string{"app:api_token", "app:pw"} {
		if _, err := ReadValue(context.Background(), nil, m, name); !errors.Is(err, ErrSensitive) {
			t.Errorf("ReadValue(%s) = %v, want ErrSensitive", name, err)
		}
	}
	if _, err := ReadValue(context.Background(), nil, m, "nope"); !errors.Is(err, ErrNotDeclared) {
		t.Errorf("ReadValue(nope) = %v, want ErrNotDeclared", err)
	}
}
