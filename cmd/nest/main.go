// Command nest is the command-line tool of github.com/redisimnest/nest, the
// typed, nested key-schema library for go-redis: it inspects, audits and
// clears a live keyspace through a schema export (--schema FILE, the JSON
// of nest.Export), and runs the original redisimnest example (demo).
//
// Usage:
//
//	nest <command> [flags]
//
// Commands:
//
//	tree        the live keyspace grouped by declared template (or inferred pattern)
//	audit       check the keyspace against the schema (exit 1 on findings)
//	clear       delete a subtree exactly as the library's Clear does
//	describe    the schema as a tree (--json: the schema export)
//	ui          a local web view: tree, memory, TTLs, decoded values
//	version     versions of the command, the library and Go
//	completion  shell completion scripts (bash, zsh, fish, powershell)
//	demo        run the original redisimnest example end to end
//
// Commands read the server from --url, --addr (repeated for a Redis
// Cluster) or the environment (REDIS_URL, or REDIS_HOST, REDIS_PORT,
// REDIS_USERNAME, REDIS_PASSWORD or REDIS_PASS, REDIS_DB, REDIS_CLUSTER;
// see nest.RedisOptionsFromEnv); --tls, --tls-ca and --tls-insecure
// adjust TLS. A .env file in the current directory, as the original
// package read, sets the variables the environment does not.
//
// An application can ship the same commands bound to its live schema:
// see package github.com/redisimnest/nest/cmd/nest/nestcli.
//
// Exit status: 0 ok, 1 findings (audit), 2 usage mistake, 3 connection or
// other error.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/redisimnest/nest/cmd/nest/nestcli"
)

// env holds a command's output streams.
type env struct {
	stdout, stderr io.Writer
}

func usageErrorf(format string, args ...any) error {
	return &nestcli.UsageError{Msg: fmt.Sprintf(format, args...)}
}

// go-redis logs every failed dial to stderr; the commands report
// connection errors themselves, once.
func init() { redis.SetLogger(quietLogger{}) }

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Stdin, os.Stdout, os.Stderr, os.Args[1:])
	stop()
	os.Exit(code)
}

// run runs the command line args (without the program name) and returns
// the exit status.
func run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args []string) int {
	if err := loadDotEnv(dotEnvFile); err != nil {
		fmt.Fprintf(stderr, "nest: %v\n", err)
		return nestcli.ExitError
	}
	cmd := nestcli.New()
	cmd.AddCommand(demoCommand())
	cmd.SetIn(stdin)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	return nestcli.Main(ctx, cmd, args)
}
