package nest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/internal/redistest"
)

// The examples declare a small shop keyspace.

type Cart struct {
	nest.Namespace `nest:"cart:{cart_id}" ttl:"30m"`
	Items          nest.Key[[]string] `nest:"items" default:"[]"`
	Coupon         nest.Key[string]   `nest:"coupon" ttl:"5m"`
}

type Customer struct {
	nest.Namespace `nest:"customer:{customer_id}" ttl:"24h"`
	Name           nest.Key[string]      `nest:"name" default:"guest"`
	Visits         nest.Key[int]         `nest:"visits" default:"0"`
	Born           nest.Key[time.Time]   `nest:"born"`
	Prefs          nest.Key[Prefs]       `nest:"prefs"`
	PrefsPacked    nest.Key[Prefs]       `nest:"prefs_packed" codec:"msgpack"`
	Settings       nest.ParamKey[string] `nest:"setting:{name}"`
	Cart           nest.Sub[Cart]
	Session        nest.Key[map[string]bool] `nest:"session" ttl:"none"`
}

type Prefs struct {
	Theme  string   `json:"theme"`
	Topics []string `json:"topics"`
}

type Shop struct {
	nest.Namespace `nest:"shop"`
	Customer       nest.Sub[Customer]
	Motd           nest.Key[string] `nest:"motd"`
}

// exampleRedis returns a client for an empty database of the test server.
// In your code: rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"}).
func exampleRedis() *redis.Client {
	rdb, err := redistest.SharedClient()
	if err != nil {
		log.Fatal(err)
	}
	return rdb
}

// Declare the keyspace once as Go structs, bind it to a go-redis client,
// then use typed handles.
func Example() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()

	shop := nest.MustNew[Shop](rdb, nil)

	ada := shop.Customer.At(42)
	if err := ada.Name.Set(ctx, "Ada"); err != nil {
		log.Fatal(err)
	}
	name, _ := ada.Name.Get(ctx)
	visits, _ := ada.Visits.Get(ctx) // missing: the declared default
	fmt.Println(ada.Name.Name(), "=", name)
	fmt.Println(ada.Visits.Name(), "=", visits)

	_, err := shop.Motd.Get(ctx) // missing, no default
	fmt.Println(errors.Is(err, nest.ErrNotFound))
	// Output:
	// shop:customer:42:name = Ada
	// shop:customer:42:visits = 0
	// true
}

// Parameterised namespaces and keys are reachable only through At (or the
// named form With); unsafe parameter values are refused before anything
// reaches Redis.
func ExampleSub_At() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	shop := nest.MustNew[Shop](rdb, nil)

	fmt.Println(shop.Customer.At(42).Cart.At("c-7").Items.Name())
	fmt.Println(shop.Customer.With(nest.Params{"customer_id": 42}).Settings.At("theme").Name())

	evil := shop.Customer.At("42:*")
	err := evil.Name.Set(ctx, "x")
	fmt.Println(errors.Is(err, nest.ErrInvalidParam))
	fmt.Println(err)
	// Output:
	// shop:customer:42:cart:c-7:items
	// shop:customer:42:setting:theme
	// true
	// nest: invalid parameter {customer_id} of Shop.Customer ("customer:{customer_id}"): value "42:*" contains the separator ':'
}

// A key's TTL is its own, else its nearest namespace's; "none" opts out.
// Writes apply it atomically (SET ... EX/PX).
func ExampleKey_EffectiveTTL() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	shop := nest.MustNew[Shop](rdb, nil)
	cart := shop.Customer.At(1).Cart.At("c1")

	for _, k := range []interface {
		Name() string
		EffectiveTTL() (time.Duration, bool)
	}{shop.Customer.At(1).Name, cart.Items, cart.Coupon, shop.Customer.At(1).Session, shop.Motd} {
		ttl, ok := k.EffectiveTTL()
		fmt.Println(k.Name(), ttl, ok)
	}

	_ = cart.Coupon.Set(ctx, "SPRING")
	left, _ := cart.Coupon.TTL(ctx)
	fmt.Println(left > 4*time.Minute && left <= 5*time.Minute)
	// Output:
	// shop:customer:1:name 24h0m0s true
	// shop:customer:1:cart:c1:items 30m0s true
	// shop:customer:1:cart:c1:coupon 5m0s true
	// shop:customer:1:session 0s false
	// shop:motd 0s false
	// true
}

// Strings, numbers, bools and times are stored as readable text, so
// redis-cli and INCRBY work; other values use JSON, or a codec named in the
// key's tag.
func ExampleCodec() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	c := nest.MustNew[Shop](rdb, nil).Customer.At(7)

	_ = c.Visits.Set(ctx, 3)
	_ = c.Born.Set(ctx, time.Date(1815, 12, 10, 8, 30, 0, 0, time.UTC))
	_ = c.Prefs.Set(ctx, Prefs{Theme: "dark", Topics: []string{"math"}})
	_ = c.PrefsPacked.Set(ctx, Prefs{Theme: "dark", Topics: []string{"math"}})

	rdb.IncrBy(ctx, c.Visits.Name(), 1)
	visits, _ := c.Visits.Get(ctx)
	prefs, _ := c.PrefsPacked.Get(ctx)
	fmt.Println(visits, prefs.Theme, prefs.Topics)
	for _, name := range []string{c.Visits.Name(), c.Born.Name(), c.Prefs.Name()} {
		fmt.Printf("%s = %s\n", name, rdb.Get(ctx, name).Val())
	}

	rdb.Set(ctx, c.Visits.Name(), "many", 0) // someone else wrote garbage
	_, err := c.Visits.Get(ctx)
	var de *nest.DecodeError
	fmt.Println(errors.Is(err, nest.ErrDecode), errors.As(err, &de), string(de.Raw))
	// Output:
	// 4 dark [math]
	// shop:customer:7:visits = 4
	// shop:customer:7:born = 1815-12-10T08:30:00Z
	// shop:customer:7:prefs = {"theme":"dark","topics":["math"]}
	// true true many
}

// Clear removes a namespace's subtree — here customer 1: its prefix key,
// its declared keys and its carts — and never a sibling such as customer
// 12, nor a key the schema does not declare (unless asked with
// WithUndeclared).
func ExampleNamespace_Clear() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	shop := nest.MustNew[Shop](rdb, nil)

	for _, id := range []int{1, 12} {
		c := shop.Customer.At(id)
		_ = c.Name.Set(ctx, "someone")
		_ = c.Visits.Set(ctx, id)
		_ = c.Cart.At("a").Items.Set(ctx, []string{"book"})
	}

	_ = rdb.Set(ctx, "shop:customer:1:legacy", "x", 0).Err() // not declared

	n, err := shop.Customer.At(1).Clear(ctx, nest.WithChunkSize(500))
	fmt.Println(n, err)
	left, _ := shop.Customer.At(12).Count(ctx)
	fmt.Println(left)
	name, _ := shop.Customer.At(1).Name.Get(ctx)
	fmt.Println(name)
	n, _ = shop.Customer.At(1).Clear(ctx, nest.WithUndeclared())
	fmt.Println(n)
	// Output:
	// 3 <nil>
	// 3
	// guest
	// 1
}

// Instances lists the customers that have keys, with their parameters
// parsed back; a foreign name that does not parse is skipped.
func ExampleSub_Instances() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	shop := nest.MustNew[Shop](rdb, nil)

	_ = shop.Customer.At(7).Name.Set(ctx, "ada")
	_ = shop.Customer.At(7).Visits.Set(ctx, 2)
	_ = shop.Customer.At(9).Cart.At("x").Coupon.Set(ctx, "SPRING")
	_ = shop.Customer.At(9).Settings.At("theme").Set(ctx, "dark")
	_ = rdb.Set(ctx, "shop:customer:*:name", "not a customer", 0).Err()

	var ids []string
	for c, err := range shop.Customer.Instances(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		ids = append(ids, c.Params()["customer_id"])
	}
	slices.Sort(ids)
	fmt.Println(ids)

	for k, err := range shop.Customer.At(9).Settings.Instances(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		v, _ := k.Get(ctx)
		fmt.Println(k.Params()["name"], v)
	}
	// Output:
	// [7 9]
	// theme dark
}

// Update is a typed optimistic read-modify-write (WATCH/MULTI with retries).
func ExampleKey_Update() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	cart := nest.MustNew[Shop](rdb, nil).Customer.At(5).Cart.At("c9")

	items, err := cart.Items.Update(ctx, func(cur []string, exists bool) ([]string, error) {
		return append(cur, "pen"), nil
	})
	fmt.Println(items, err)
	// Output:
	// [pen] <nil>
}

// The secure examples declare members with a password and an API token.

type Member struct {
	nest.Namespace `nest:"member:{member_id}" ttl:"720h"`
	Password       nest.Password       `nest:"password"`
	APIToken       nest.Secret[string] `nest:"api_token"`
}

type Club struct {
	nest.Namespace `nest:"club"`
	Member         nest.Sub[Member]
}

// exampleKeys is the examples' keyring, in the format of NEST_SECRET_KEYS.
// In your code, leave Options.SecretKeys empty and point
// NEST_SECRET_KEYS_FILE at a mounted secret holding a line such as
// "k1:<output of head -c 32 /dev/urandom | base64>".
const exampleKeys = "k1:YRIVbz36ZvaikrFcV8o1s0mcP5t7VAxdh2js4nC+Qso="

func exampleClub(rdb *redis.Client, keyring string) *Club {
	keys, err := nest.ParseSecretKeys(keyring)
	if err != nil {
		log.Fatal(err)
	}
	return nest.MustNew[Club](rdb, &nest.Options{SecretKeys: keys})
}

// A Password key stores an argon2id hash (OWASP parameters by default);
// Verify tells a match, a mismatch and "no password" apart. There is no
// Get: reading the hash takes the explicit Hash.
func ExamplePassword() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	club := exampleClub(rdb, exampleKeys)
	m := club.Member.At(7)

	if err := m.Password.Set(ctx, "correct horse battery staple"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Password.Verify(ctx, "correct horse battery staple"))
	fmt.Println(m.Password.Verify(ctx, "Tr0ub4dor&3"))
	_, err := club.Member.At(8).Password.Verify(ctx, "anything")
	fmt.Println(errors.Is(err, nest.ErrNotFound))

	hash, _ := m.Password.Hash(ctx)
	fmt.Println(strings.Join(strings.Split(hash, "$")[:4], "$")) // then $salt$hash
	fmt.Println(m.Password)                                      // a handle prints its key name only
	fmt.Println(m.Password.Set(ctx, ""))
	// Output:
	// true <nil>
	// false <nil>
	// true
	// $argon2id$v=19$m=19456,t=2,p=1
	// club:member:7:password
	// nest: SET club:member:7:password: invalid password: empty
}

// A Secret key is encrypted at rest with AES-256-GCM, bound to its key
// name: Raw shows what Redis holds, and a ciphertext copied to another
// key does not open there.
func ExampleSecret() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	club := exampleClub(rdb, exampleKeys)
	m := club.Member.At(7)

	if err := m.APIToken.Set(ctx, "tok_live_4eC39HqLyjWDarjt"); err != nil {
		log.Fatal(err)
	}
	token, _ := m.APIToken.Get(ctx)
	fmt.Println(token)

	raw, _ := m.APIToken.Raw(ctx)
	fmt.Println(bytes.Contains(raw, []byte(token)))
	fmt.Printf("header %q, %d bytes of nonce, ciphertext and tag\n", raw[:4], len(raw)-4)

	other := club.Member.At(8).APIToken
	rdb.Set(ctx, other.Name(), raw, 0) // someone copies the ciphertext
	_, err := other.Get(ctx)
	fmt.Println(errors.Is(err, nest.ErrDecrypt))
	// Output:
	// tok_live_4eC39HqLyjWDarjt
	// false
	// header "\x01\x02k1", 53 bytes of nonce, ciphertext and tag
	// true
}

// Rotating the secret key: put the new key first, keep the old one until
// Reencrypt has rewritten the values sealed with it, then drop it.
func ExampleNamespace_Reencrypt() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	old := exampleClub(rdb, exampleKeys)
	_ = old.Member.At(1).APIToken.Set(ctx, "token one")
	_ = old.Member.At(2).APIToken.Set(ctx, "token two")

	const k2 = "k2:CeCv0hMTc8xjLQSUyDuxo0wcZFyTUjjSuDsDopqxP3k="
	club := exampleClub(rdb, k2+","+exampleKeys) // k2 seals, k1 still opens
	n, err := club.Reencrypt(ctx)
	fmt.Println(n, err)

	rotated := exampleClub(rdb, k2) // k1 retired
	fmt.Println(rotated.Member.At(2).APIToken.Get(ctx))
	// Output:
	// 2 <nil>
	// token two <nil>
}

type Team struct {
	nest.Namespace `nest:"team:{team_id}" slot:"pin"`
	Name           nest.Key[string] `nest:"name"`
	Members        nest.Sub[TeamMember]
}

type TeamMember struct {
	nest.Namespace `nest:"member:{member_id}"`
	Role           nest.Key[string] `nest:"role"`
}

type Org struct {
	nest.Namespace `nest:"org"`
	Team           nest.Sub[Team]
}

// A pinned namespace (`slot:"pin"`) turns its resolved segment into a
// Redis Cluster hash tag, so its whole subtree shares one slot: subtree
// operations then go to one master, and multi-key operations inside it
// work. The names are the same on a single Redis.
func ExampleNamespace_pinned() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	org := nest.MustNew[Org](rdb, nil)

	team := org.Team.At(7)
	fmt.Println(team.Name.Name())
	fmt.Println(team.Members.At(3).Role.Name())
	fmt.Println(team.Describe().HashTag)

	_ = team.Members.At(3).Role.Set(ctx, "lead")
	err := team.Members.At(3).Role.Rename(ctx, team.Members.At(4).Role) // same slot: allowed on a cluster
	fmt.Println(err)
	// Output:
	// org:{team:7}:name
	// org:{team:7}:member:3:role
	// team:7
	// <nil>
}

// Describe tells, without Redis, what a namespace holds: templates,
// parameters, keys with their types, codecs and effective TTLs. The root's
// Description, marshalled as JSON, is the schema export for tools.
func ExampleNamespace_Describe() {
	rdb := exampleRedis()
	defer rdb.Close()
	shop := nest.MustNew[Shop](rdb, nil)

	d := shop.Customer.At(42).Describe()
	fmt.Println(d.Template, d.Prefix, d.Params[0].Name, "=", d.Params[0].Value)
	for _, k := range d.Keys[:3] {
		fmt.Println(k.Name, k.Type, k.Codec, k.TTL.TTL, "from", k.TTL.From)
	}
	fmt.Println(d.Children[0].Template, "missing", d.Children[0].Missing)

	schema, _ := json.Marshal(shop.Describe())
	fmt.Println(len(schema) > 0)
	// Output:
	// customer:{customer_id} shop:customer:42 customer_id = 42
	// shop:customer:42:name string string 24h0m0s from Shop.Customer
	// shop:customer:42:visits int int 24h0m0s from Shop.Customer
	// shop:customer:42:born time.Time time 24h0m0s from Shop.Customer
	// cart:{cart_id} missing [cart_id]
	// true
}

// One write can replace the declared TTL (WithTTL) or keep the key's
// current one (KeepTTL).
func ExampleWithTTL() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	name := nest.MustNew[Shop](rdb, nil).Customer.At(3).Name

	_ = name.Set(ctx, "Ada", nest.WithTTL(time.Minute))
	_ = name.Set(ctx, "Ada Lovelace", nest.KeepTTL())
	left, _ := name.TTL(ctx)
	fmt.Println(left > 50*time.Second && left <= time.Minute)

	_ = name.Set(ctx, "Ada") // the declared 24h again
	left, _ = name.TTL(ctx)
	fmt.Println(left > 23*time.Hour)
	// Output:
	// true
	// true
}

// A Pipe queues typed operations and sends them in one round trip; each
// returns a Future that Exec resolves. Writes apply the declared TTL in the
// same SET, reads return defaults, as the direct calls do. TxPipeline
// wraps the same in MULTI/EXEC; on Redis Cluster its keys must share a
// slot, as those of one pinned namespace do.
func ExampleNamespace_Pipeline() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	shop := nest.MustNew[Shop](rdb, nil)
	ada := shop.Customer.At(42)

	p := shop.Pipeline()
	ada.Name.In(p).Set(ctx, "Ada") // SET shop:customer:42:name Ada EX 86400
	name := ada.Name.In(p).Get(ctx)
	visits := ada.Visits.In(p).Get(ctx) // missing: the default
	_, err := name.Result()
	fmt.Println(errors.Is(err, nest.ErrNotExecuted))
	if err := p.Exec(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(name.Val(), visits.Val())

	org := nest.MustNew[Org](rdb, nil)
	team := org.Team.At(7)
	tx := team.TxPipeline()
	team.Name.In(tx).Set(ctx, "Blue")
	team.Members.At(3).Role.In(tx).Set(ctx, "lead")
	fmt.Println(tx.Len(), tx.Exec(ctx))
	// Output:
	// true
	// Ada 0
	// 2 <nil>
}

// A failed operation returns an *OpError: errors.As yields the command
// and the full key name, errors.Is the cause.
func ExampleOpError() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()
	shop := nest.MustNew[Shop](rdb, nil)

	_, err := shop.Motd.Get(ctx) // missing, no default
	var opErr *nest.OpError
	if errors.As(err, &opErr) {
		fmt.Println(opErr.Op, opErr.Key, errors.Is(err, nest.ErrNotFound))
	}
	fmt.Println(err)

	_, err = shop.Motd.Expire(ctx, 0) // Redis would delete the key: refused
	fmt.Println(errors.Is(err, nest.ErrInvalidTTL))
	// Output:
	// GET shop:motd true
	// nest: GET shop:motd: not found
	// true
}
