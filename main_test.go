package nest_test

import (
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// TestMain stops the shared redis-server of the package's tests.
func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// The original redisimnest example schema, extended with the Message
// namespace it nests under both User and Admin. Tests of every file use it.
type (
	App struct {
		nest.Namespace `nest:"app" ttl:"80s"`
		Tokens         nest.Key[[]string] `nest:"tokens" default:"[]"`
		PendingUsers   nest.Key[[]string] `nest:"pending_users"`
	}

	Message struct {
		nest.Namespace `nest:"message:{message_id}"`
		Text           nest.Key[string] `nest:"text"`
		Seen           nest.Key[bool]   `nest:"seen" default:"false" ttl:"30s"`
	}

	User struct {
		nest.Namespace `nest:"user:{user_id}" ttl:"120s"`
		Age            nest.Key[int]    `nest:"age" default:"0"`
		Name           nest.Key[string] `nest:"name" default:"Unknown"`
		Messages       nest.Sub[Message]
	}

	Admin struct {
		nest.Namespace `nest:"admin:{admin_id}:{region}"`
		Level          nest.Key[int] `nest:"level"`
		Messages       nest.Sub[Message]
	}

	Root struct {
		nest.Namespace `nest:"root"`
		App            App
		User           nest.Sub[User]
		Admin          nest.Sub[Admin]
		ProjectName    nest.Key[string] `nest:"project_name"`
	}
)

// newRoot binds the example schema to a fresh, empty database of the shared
// test server.
func newRoot(t testing.TB) (*Root, *redis.Client) {
	t.Helper()
	rdb := redistest.Shared(t)
	root, err := nest.New[Root](rdb, nil)
	if err != nil {
		t.Fatalf("nest.New: %v", err)
	}
	return root, rdb
}
