package nest

import (
	_ "embed"

	"github.com/redis/go-redis/v9"
)

// The Lua scripts of operations that must be atomic on the server. Each
// .lua file in lua/ says what its keys and arguments are.
var (
	//go:embed lua/rename.lua
	renameLua string
	//go:embed lua/cas.lua
	casLua string
	//go:embed lua/write.lua
	writeLua string
	//go:embed lua/renew.lua
	renewLua string
	//go:embed lua/unindex.lua
	unindexLua string

	// renameScript renames a key and applies the destination's TTL.
	renameScript = redis.NewScript(renameLua)
	// casScript replaces a value only if it is unchanged, keeping the TTL.
	casScript = redis.NewScript(casLua)
	// writeScript runs a counter's or collection's write and applies the
	// key's TTL atomically.
	writeScript = redis.NewScript(writeLua)
	// renewScript renews a sliding TTL after a read, only on a key of the
	// declared type.
	renewScript = redis.NewScript(renewLua)
	// unindexScript removes a stale member from an instance index only if
	// none of its keys exists.
	unindexScript = redis.NewScript(unindexLua)
)
