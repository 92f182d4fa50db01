package nest_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/redisimnest/nest"
)

// The original Python package's namespace interop:item:{item_id}, ported.
type (
	PyItem struct {
		nest.Namespace `nest:"item:{item_id}" ttl:"300s"`
		Count          nest.Key[int]       `nest:"n"`
		Tags           nest.Key[[]string]  `nest:"l"`
		Seen           nest.Key[time.Time] `nest:"t"`
		Token          nest.Secret[string] `nest:"secret"`
		Password       nest.Password       `nest:"password"`
	}

	PyInterop struct {
		nest.Namespace `nest:"interop"`
		Item           nest.Sub[PyItem]
	}
)

// A Go service beside the Python original on one Redis: it reads what the
// original stored (its JSON envelopes, a Fernet secret, a bcrypt password)
// and writes values the original reads, byte for byte as it writes them.
func ExampleOriginalOptions() {
	rdb := exampleRedis()
	defer rdb.Close()
	ctx := context.Background()

	opts := &nest.Options{Original: nest.OriginalOptions{
		Values:  true, // every Key in the original's envelope
		Secrets: true, // every Secret a Fernet token, as the original's
		// The original's MY_ENCRYPTION_KEY (nest.OptionsFromEnv reads it).
		EncryptionKey: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	}}
	root, err := nest.New[PyInterop](rdb, opts)
	if err != nil {
		log.Fatal(err)
	}
	item := root.Item.At(1)

	// What the original stored for item 1 (its password hash has cost 4
	// here, for speed; the original writes cost 12).
	for key, stored := range map[string]string{
		"interop:item:1:t":        `{"__type__": "datetime", "value": "2025-05-07T10:21:44.798000"}`,
		"interop:item:1:secret":   `{"__type__": "str", "value": "gAAAAABrDtBsxHUQxQkl2L6PhAU0BwFVY61_GXSAxFJDn-h0dtvhe7BTEUMmK489glqaFdbjE7KKxZbTMFv1SriKGRy6L_rLyw=="}`,
		"interop:item:1:password": `{"__type__": "str", "value": "$2b$04$RA3/n4C/TGJQKGBvfmirNes/T8CuuoxhXyDNIQ1QOpKqhUAxC8pPG"}`,
	} {
		if err := rdb.Set(ctx, key, stored, 300*time.Second).Err(); err != nil {
			log.Fatal(err)
		}
	}
	seen, _ := item.Seen.Get(ctx) // naive: read in UTC (OriginalOptions.NaiveLocation)
	token, _ := item.Token.Get(ctx)
	ok, _ := item.Password.Verify(ctx, "hunter2")
	hash, _ := item.Password.Hash(ctx) // rehashed to argon2id after the match
	fmt.Println(seen)
	fmt.Println(token)
	fmt.Println(ok, strings.HasPrefix(hash, "$argon2id$"))

	// What the original reads back as 42 and ['a', 'b'].
	_ = item.Count.Set(ctx, 42)
	_ = item.Tags.Set(ctx, []string{"a", "b"})
	fmt.Println(rdb.Get(ctx, item.Count.Name()).Val())
	fmt.Println(rdb.Get(ctx, item.Tags.Name()).Val())

	// Output:
	// 2025-05-07 10:21:44.798 +0000 UTC
	// top secret
	// true true
	// {"__type__": "int", "value": 42}
	// {"__type__": "list", "value": ["a", "b"]}
}
