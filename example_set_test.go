package nest_test

import (
	"context"
	"fmt"
	"log"
	"slices"

	"github.com/redisimnest/nest"
)

type Forum struct {
	nest.Namespace `nest:"forum"`
	Topic          nest.Sub[Topic]
}

type Topic struct {
	nest.Namespace `nest:"topic:{id}" slot:"pin" ttl:"1h"`
	Readers        nest.Set[int] `nest:"readers"`
	Writers        nest.Set[int] `nest:"writers"`
	Active         nest.Set[int] `nest:"active" ttl:"10m"`
}

func ExampleSet() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	t := nest.MustNew[Forum](rdb, nil).Topic.At(3)

	_, _ = t.Readers.Add(ctx, 1, 2, 3, 4)
	_, _ = t.Writers.Add(ctx, 3, 4, 5)
	ok, _ := t.Readers.IsMember(ctx, 2)
	fmt.Println("2 reads:", ok)

	both, _ := t.Readers.Inter(ctx, t.Writers)
	slices.Sort(both)
	fmt.Println("read and write:", both)

	// The union lands in Active with Active's own TTL, in one step.
	n, _ := t.Readers.UnionStore(ctx, t.Active, t.Writers)
	fmt.Println("active:", n)

	// All walks the set with SSCAN, one batch in memory at a time.
	sum := 0
	for id, err := range t.Active.All(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		sum += id
	}
	fmt.Println("sum of ids:", sum)

	// Queued: one round trip.
	p := t.Pipeline()
	size := t.Readers.In(p).Len(ctx)
	t.Readers.In(p).Remove(ctx, 1)
	if err := p.Exec(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("readers before:", size.Val())
	// Output:
	// 2 reads: true
	// read and write: [3 4]
	// active: 5
	// sum of ids: 15
	// readers before: 4
}
