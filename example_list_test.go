package nest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/redisimnest/nest"
)

// A work queue: producers push jobs, workers move each job to a
// processing list atomically (so a crashed worker's job is not lost), and
// both lists carry the declared TTL.
type Queues struct {
	nest.Namespace `nest:"queues"`
	Tenant         nest.Sub[Tenant]
}

type Tenant struct {
	nest.Namespace `nest:"tenant:{id}" slot:"pin" ttl:"24h"` // one slot: Move works on Cluster
	Jobs           nest.List[Job]                            `nest:"jobs"`
	Processing     nest.List[Job]                            `nest:"processing"`
}

type Job struct {
	ID   int    `json:"id"`
	Kind string `json:"kind"`
}

func ExampleList() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	t := nest.MustNew[Queues](rdb, nil).Tenant.At(7)

	n, _ := t.Jobs.RPush(ctx, Job{1, "email"}, Job{2, "resize"})
	fmt.Println("queued:", n)

	// A worker: wait up to a second for a job, moving it atomically.
	job, err := t.Jobs.BLMove(ctx, t.Processing, nest.Left, nest.Right, time.Second)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("working on %d (%s)\n", job.ID, job.Kind)
	_, _ = t.Processing.Remove(ctx, 1, job) // done

	rest, _ := t.Jobs.Range(ctx, 0, -1)
	fmt.Println("left:", rest)
	ttl, _ := t.Processing.EffectiveTTL()
	fmt.Println("processing TTL:", ttl)

	// A cancelled wait returns promptly and takes nothing.
	_, _ = t.Jobs.LPop(ctx)
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = t.Jobs.BLPop(cctx, 0)
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output:
	// queued: 2
	// working on 1 (email)
	// left: [{2 resize}]
	// processing TTL: 24h0m0s
	// true
}
