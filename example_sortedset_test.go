package nest_test

import (
	"context"
	"fmt"
	"math"

	"github.com/redisimnest/nest"
)

// The sorted-set examples declare a game with a daily leaderboard.

type Game struct {
	nest.Namespace `nest:"game:{game_id}" slot:"pin" ttl:"24h"`
	Daily          nest.SortedSet[string] `nest:"daily"`
	Weekly         nest.SortedSet[string] `nest:"weekly" ttl:"168h"`
	Coins          nest.ParamKey[int]     `nest:"coins:{player}" default:"0"`
}

type Arcade struct {
	nest.Namespace `nest:"arcade"`
	Game           nest.Sub[Game]
}

// A leaderboard: scores with their TTL applied in the same atomic write,
// typed ranges, and a union into another board.
func ExampleSortedSet() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	g := nest.MustNew[Arcade](rdb, nil).Game.At("tetris")

	_, _ = g.Daily.Add(ctx,
		nest.Z[string]{Member: "ada", Score: 120},
		nest.Z[string]{Member: "bob", Score: 90},
		nest.Z[string]{Member: "cy", Score: 150})
	score, _ := g.Daily.IncrBy(ctx, "bob", 45)
	fmt.Println("bob:", score)

	// Keep a better score only (GT); CH counts the members changed.
	n, _ := g.Daily.AddWith(ctx, nest.AddGT|nest.AddCH, nest.Z[string]{Member: "ada", Score: 100})
	fmt.Println("changed:", n)

	top, _ := g.Daily.RangeByRankWithScores(ctx, nest.RankRange{Start: 0, Stop: 1, Rev: true})
	fmt.Println("top 2:", top)

	over100, _ := g.Daily.RangeByScore(ctx, nest.ScoreRange{Min: 100, Max: math.Inf(1), ExclusiveMin: true})
	fmt.Println("over 100:", over100)

	rank, _ := g.Daily.RevRank(ctx, "ada")
	fmt.Println("ada's place:", rank+1)

	size, _ := g.Weekly.UnionStore(ctx, nest.StoreOptions{Aggregate: nest.AggregateMax}, g.Daily, g.Weekly)
	ttl, _ := g.Weekly.EffectiveTTL()
	fmt.Println("weekly:", size, "members, ttl", ttl)

	lowest, _ := g.Daily.PopMin(ctx, 1)
	fmt.Println("popped:", lowest)
	// Output:
	// bob: 135
	// changed: 0
	// top 2: [{cy 150} {bob 135}]
	// over 100: [ada bob cy]
	// ada's place: 3
	// weekly: 3 members, ttl 168h0m0s
	// popped: [{ada 120}]
}
