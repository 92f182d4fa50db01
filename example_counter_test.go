package nest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/redisimnest/nest"
)

type RateLimits struct {
	nest.Namespace `nest:"rl:{client}"`
	// Hits in the current minute: the window starts at the first hit and
	// no later hit extends it.
	Hits nest.Counter `nest:"hits" ttl:"1m,fixed"`
	// Logins, kept a day after the last one.
	Logins nest.Counter `nest:"logins" ttl:"24h"`
}

type Limits struct {
	nest.Namespace `nest:"app"`
	Client         nest.Sub[RateLimits]
}

// A fixed-window rate limit: every Incr applies the TTL in the same
// atomic step, and with ttl "...,fixed" the window is never extended.
func ExampleCounter() {
	ctx := context.Background()
	rdb := exampleRedis()
	defer rdb.Close()
	app := nest.MustNew[Limits](rdb, nil)

	c := app.Client.At("api-key-1")
	for range 4 {
		n, err := c.Hits.Incr(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("hit", n, "allowed:", n <= 3)
	}
	ttl, _ := c.Hits.TTL(ctx)
	fmt.Println("window left ≤ 1m:", ttl > 0 && ttl <= time.Minute)

	missing, _ := c.Logins.Get(ctx)
	fmt.Println("logins:", missing)
	// Output:
	// hit 1 allowed: true
	// hit 2 allowed: true
	// hit 3 allowed: true
	// hit 4 allowed: false
	// window left ≤ 1m: true
	// logins: 0
}
