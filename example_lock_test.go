package nest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/bsm/redislock"

	"github.com/redisimnest/nest"
)

type Jobs struct {
	nest.Namespace `nest:"jobs"`
	// The lease: 30s unless Obtain says otherwise.
	Nightly nest.Lock `nest:"nightly_lock" ttl:"30s"`
}

// Only one worker runs the nightly job: the others fail to obtain the
// lock, or wait for it with a retry strategy bounded by ctx.
func ExampleLock() {
	ctx := context.Background()
	rdb := exampleRedis()
	defer rdb.Close()
	jobs := nest.MustNew[Jobs](rdb, nil)

	lease, err := jobs.Nightly.Obtain(ctx, nest.WithMetadata("worker-1"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("worker-1 holds", lease.Key())

	// Another worker tries for 100ms, then gives up.
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = jobs.Nightly.Obtain(wctx, nest.WithRetry(redislock.LinearBackoff(20*time.Millisecond)))
	fmt.Println("worker-2:", errors.Is(err, context.DeadlineExceeded))
	_, err = jobs.Nightly.Obtain(ctx)
	fmt.Println("worker-2 without retry:", errors.Is(err, nest.ErrNotObtained))

	if err := lease.Release(ctx); err != nil {
		log.Fatal(err)
	}
	err = lease.Release(ctx)
	fmt.Println("released twice:", errors.Is(err, nest.ErrLockNotHeld))
	// Output:
	// worker-1 holds jobs:nightly_lock
	// worker-2: true
	// worker-2 without retry: true
	// released twice: true
}
