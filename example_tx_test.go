package nest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/redisimnest/nest"
)

// Watch moves coins between two players atomically: it reads both keys
// on the watched connection, queues the writes, and retries when another
// client changed a watched key before EXEC. The keys share a pinned
// namespace, so this works on Redis Cluster too.
func ExampleNamespace_Watch() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	g := nest.MustNew[Arcade](rdb, nil).Game.At("chess")
	ada, bob := g.Coins.At("ada"), g.Coins.At("bob")
	_ = ada.Set(ctx, 50)

	errPoor := errors.New("not enough coins")
	pay := func(from, to nest.Key[int], amount int) error {
		return g.Watch(ctx, func(tx *nest.Tx) error {
			r := tx.Reads()
			have, got := from.In(r).Get(ctx), to.In(r).Get(ctx)
			if err := r.Exec(ctx); err != nil {
				return err
			}
			if have.Val() < amount {
				return errPoor // aborts: nothing written
			}
			w := tx.Writes()
			from.In(w).Set(ctx, have.Val()-amount)
			to.In(w).Set(ctx, got.Val()+amount)
			return nil
		}, from, to)
	}

	fmt.Println(pay(ada, bob, 30))
	fmt.Println(pay(ada, bob, 30))
	a, _ := ada.Get(ctx)
	b, _ := bob.Get(ctx)
	fmt.Println(a, b)
	// Output:
	// <nil>
	// not enough coins
	// 20 30
}
