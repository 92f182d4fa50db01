package nest_test

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/redisimnest/nest/internal/redistest"
)

// TestMain stops the shared redis-server of the package's tests, then
// fails the run if any goroutine is left behind (a leaked Clear worker,
// an unclosed AutoPipeliner, ...).
func TestMain(m *testing.M) {
	code := redistest.Main(m)
	if code == 0 {
		// go-redis retries a failed dial once a second in a goroutine of
		// its own, which ends by itself: it is not ours to wait for.
		if err := goleak.Find(goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).tryDial")); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines left behind:", err)
			code = 1
		}
	}
	os.Exit(code)
}
