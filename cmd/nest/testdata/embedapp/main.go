// Command embedapp is the test program of the embeddable command: an
// application that ships `embedapp nest ...` bound to its live schema.
package main

import (
	"context"
	"os"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/cmd/nest/nestcli"
)

type tenant struct {
	nest.Namespace `nest:"tenant:{tenant_id}"`
	Plan           nest.Key[string] `nest:"plan"`
}

// ValidateParams: tenants are lowercase; an export cannot carry this rule.
func (tenant) ValidateParams(p map[string]string) error {
	for _, r := range p["tenant_id"] {
		if r < 'a' || r > 'z' {
			return os.ErrInvalid
		}
	}
	return nil
}

type user struct {
	nest.Namespace `nest:"user:{user_id}" ttl:"1h"`
	Name           nest.Key[string] `nest:"name"`
}

type root struct {
	nest.Namespace `nest:"app"`
	User           nest.Sub[user]
	Tenant         nest.Sub[tenant]
}

func main() {
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("EMBED_ADDR")})
	r := nest.MustNew[root](rdb, nil)
	app := &cobra.Command{Use: "embedapp"}
	app.AddCommand(nestcli.Command(r.Namespace, rdb))
	os.Exit(nestcli.Main(context.Background(), app, os.Args[1:]))
}
