package nest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"

	"github.com/redisimnest/nest"
)

type Inventory struct {
	nest.Namespace `nest:"inventory"`
	Shop           nest.Sub[InventoryShop]
}

type InventoryShop struct {
	nest.Namespace `nest:"shop:{id}" ttl:"24h"`
	Stock          nest.Hash[int]       `nest:"stock"`
	Owner          nest.Struct[Owner]   `nest:"owner"`
	Labels         nest.Hash[ShopLabel] `nest:"labels"` // values as JSON
}

type ShopLabel struct {
	Text  string `json:"text"`
	Color string `json:"color"`
}

// Owner is stored as the hash fields name, email and since.
type Owner struct {
	Name  string `redis:"name"`
	Email string `redis:"email"`
	Since int    `redis:"since"`
}

// A Hash holds typed values under string fields; every write applies the
// key's TTL in the same atomic step.
func ExampleHash() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	inv := nest.MustNew[Inventory](rdb, nil)
	shop := inv.Shop.At(7)

	if _, err := shop.Stock.MSet(ctx, map[string]int{"apples": 10, "pears": 4}); err != nil {
		log.Fatal(err)
	}
	n, _ := shop.Stock.IncrBy(ctx, "apples", -3) // HINCRBY
	fmt.Println("apples:", n)

	_, err := shop.Stock.Get(ctx, "plums")
	fmt.Println(errors.Is(err, nest.ErrNotFound), err)

	m, _ := shop.Stock.MGet(ctx, "pears", "plums") // missing fields are absent
	fmt.Println(m)

	var fields []string
	for e, err := range shop.Stock.All(ctx) { // HSCAN, one batch at a time
		if err != nil {
			log.Fatal(err)
		}
		fields = append(fields, fmt.Sprintf("%s=%d", e.Field, e.Value))
	}
	slices.Sort(fields)
	fmt.Println(fields)

	_, _ = shop.Labels.Set(ctx, "sale", ShopLabel{"-20%", "red"})
	l, _ := shop.Labels.Get(ctx, "sale")
	fmt.Println(l.Text, l.Color)

	ttl, _ := shop.Stock.TTL(ctx)
	fmt.Println(ttl > 0)
	// Output:
	// apples: 7
	// true nest: HGET inventory:shop:7:stock: field "plums": not found
	// map[pears:4]
	// [apples=7 pears=4]
	// -20% red
	// true
}

// A Struct stores a Go struct as hash fields named by their `redis`
// tags; Field gives a typed handle on one of them.
func ExampleStruct() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	inv := nest.MustNew[Inventory](rdb, nil)
	owner := inv.Shop.At(8).Owner

	_, err := owner.Load(ctx)
	fmt.Println(errors.Is(err, nest.ErrNotFound))

	if err := owner.Save(ctx, Owner{Name: "Ada", Email: "ada@example.com", Since: 2020}); err != nil {
		log.Fatal(err)
	}
	fmt.Println(rdb.HGetAll(ctx, owner.Name()).Val())

	// A partial update writes the named fields only.
	_ = owner.SetFields(ctx, Owner{Email: "ada@example.org"}, "email")

	since := nest.Field[int](owner, "since") // checked against Owner.Since
	_ = since.Set(ctx, 2021)

	o, _ := owner.Load(ctx)
	fmt.Printf("%+v\n", o)

	fmt.Println(nest.Field[string](owner, "since").Err())
	// Output:
	// true
	// map[email:ada@example.com name:Ada since:2020]
	// {Name:Ada Email:ada@example.org Since:2021}
	// nest: Field inventory:shop:8:owner: field "since": unknown struct field: nest_test.Owner.Since is a int, not a string
}
