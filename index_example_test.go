package nest_test

import (
	"context"
	"fmt"
	"log"
	"slices"

	"github.com/redisimnest/nest"
)

type Gadget struct {
	nest.Namespace `nest:"gadget:{gadget_id}"`
	Token          nest.Key[string] `nest:"token"`
}

type Fan struct {
	nest.Namespace `nest:"fan:{fan_id}" ttl:"1h"`
	Name           nest.Key[string]    `nest:"name"`
	Gadget         nest.Sub[Gadget]    `index:"set"` // root:member:{id}:gadget lists the gadgets
	Flag           nest.ParamKey[bool] `nest:"flag:{flag}" index:"set"`
}

type FanClub struct {
	nest.Namespace `nest:"club"`
	Fan            nest.Sub[Fan] `index:"set"` // club:fan lists the members
}

// An indexed Sub keeps its instances in a set, updated with every write:
// Instances and Clear read it instead of scanning the keyspace.
// RepairIndex adds what another client wrote.
func ExampleSub_RepairIndex() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	club := nest.MustNew[FanClub](rdb, nil)

	_ = club.Fan.At(1).Name.Set(ctx, "ada")
	_ = club.Fan.At(2).Gadget.At("phone").Token.Set(ctx, "t1")
	_ = club.Fan.At(2).Gadget.At("laptop").Token.Set(ctx, "t2")
	fans := rdb.SMembers(ctx, "club:fan").Val()
	slices.Sort(fans)
	fmt.Println(fans)
	fmt.Println(rdb.SCard(ctx, "club:fan:2:gadget").Val())

	_ = rdb.Set(ctx, "club:fan:3:name", "written by redis-cli", 0).Err()
	added, removed, _ := club.Fan.RepairIndex(ctx)
	fmt.Println(added, removed)

	var ids []string
	for m, err := range club.Fan.Instances(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		ids = append(ids, m.Params()["fan_id"])
	}
	slices.Sort(ids)
	fmt.Println(ids)

	n, _ := club.Fan.At(2).Clear(ctx) // SREM from club:fan, then the two gadgets' keys
	fmt.Println(n, rdb.SIsMember(ctx, "club:fan", "fan:2").Val())
	// Output:
	// [fan:1 fan:2]
	// 2
	// 1 0
	// [1 2 3]
	// 2 false
}
