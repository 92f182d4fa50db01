// Command nest is the command-line tool of github.com/redisimnest/nest, the
// typed, nested key-schema library for go-redis.
//
// Usage:
//
//	nest <command> [flags]
//
// Commands:
//
//	demo    run the original redisimnest example end to end
//	help    show help for nest or one of its commands
//
// The demo needs no server: with neither --url nor a REDIS_URL (or
// REDIS_HOST) in the environment it runs on an embedded in-process Redis.
//
// Commands read the server from --url or the environment (REDIS_URL, or
// REDIS_HOST, REDIS_PORT, REDIS_USERNAME, REDIS_PASSWORD or REDIS_PASS,
// REDIS_DB, REDIS_CLUSTER; see nest.RedisOptionsFromEnv) and the
// library's settings from the environment (REDIS_DELETE_CHUNK_SIZE,
// SHOW_METHOD_DISPATCH_LOGS, NEST_SECRET_KEYS_FILE, NEST_SECRET_KEYS; see
// nest.OptionsFromEnv). A .env file in the current directory, as the
// original package read, sets the variables the environment does not.
//
// Exit status: 0 on success, 1 when a command fails, 2 on a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/redis/go-redis/v9"
)

// env holds a command's output streams, so that tests can run commands
// with buffers. Commands read the process environment (REDIS_URL, ...),
// completed from .env.
type env struct {
	stdout, stderr io.Writer
}

// command is one subcommand. setup declares the command's flags on fs and
// returns the function that runs it with the remaining arguments.
type command struct {
	name    string
	args    string // synopsis of flags and arguments, for usage
	summary string // one line, for the command list
	doc     string // paragraphs printed by `nest help <name>`
	setup   func(fs *flag.FlagSet) runFunc
}

type runFunc func(ctx context.Context, e *env, args []string) error

// commands lists the subcommands in the order `nest help` shows them.
// New subcommands (tree, clear, audit, ...) add themselves here.
var commands = []*command{
	demoCommand,
}

// usageError is a mistake on the command line; it exits with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// go-redis logs every failed dial to stderr; the commands report
// connection errors themselves, once.
func init() { redis.SetLogger(quietLogger{}) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// run dispatches args (without the program name) and returns the exit
// status.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		printUsage(e.stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		return help(e, rest)
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(e.stderr, "nest: unknown command %q\n\n", name)
		printUsage(e.stderr)
		return 2
	}
	fs, runCmd := c.flagSet(e.stderr)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0 // the flag package has printed the usage
		}
		return 2 // the flag package has printed the error and the usage
	}
	if err := loadDotEnv(dotEnvFile); err != nil {
		fmt.Fprintf(e.stderr, "nest %s: %v\n", c.name, err)
		return 1
	}
	err := runCmd(ctx, e, fs.Args())
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "nest %s: %v\n", c.name, err)
		fmt.Fprintf(e.stderr, "Run 'nest help %s' for usage.\n", c.name)
		return 2
	default:
		fmt.Fprintf(e.stderr, "nest %s: %v\n", c.name, err)
		return 1
	}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// flagSet returns the command's flag set, reporting to out, and its runner.
func (c *command) flagSet(out io.Writer) (*flag.FlagSet, runFunc) {
	fs := flag.NewFlagSet("nest "+c.name, flag.ContinueOnError)
	fs.SetOutput(out)
	runCmd := c.setup(fs)
	fs.Usage = func() { c.printUsage(fs) }
	return fs, runCmd
}

func (c *command) printUsage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprintf(w, "Usage: nest %s %s\n\n", c.name, c.args)
	fmt.Fprintf(w, "%s\n", strings.TrimSpace(c.doc))
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintf(w, "\nFlags:\n")
		fs.PrintDefaults()
	}
}

// help implements `nest help [command]`.
func help(e *env, args []string) int {
	switch len(args) {
	case 0:
		printUsage(e.stdout)
		return 0
	case 1:
		c := lookup(args[0])
		if c == nil {
			fmt.Fprintf(e.stderr, "nest help: unknown command %q\n\n", args[0])
			printUsage(e.stderr)
			return 2
		}
		fs, _ := c.flagSet(e.stdout)
		fs.Usage()
		return 0
	default:
		fmt.Fprintf(e.stderr, "nest help: too many arguments\nUsage: nest help [command]\n")
		return 2
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, `nest is the command-line tool of github.com/redisimnest/nest:
typed, nested key schemas for Redis.

Usage:
  nest <command> [flags]

Commands:
`)
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	fmt.Fprintf(tw, "  help\tshow help for nest or one of its commands\n")
	tw.Flush()
	fmt.Fprintf(w, `
Run 'nest help <command>' for a command's flags.

Commands that talk to Redis take --url redis://[user:password@]host:port/db
(rediss:// for TLS); without it they read REDIS_URL, or REDIS_HOST, REDIS_PORT,
REDIS_USERNAME, REDIS_PASSWORD (or REDIS_PASS) and REDIS_DB. Several
comma-separated REDIS_HOST addresses, addr= parameters in the URL or
REDIS_CLUSTER=1 mean a Redis Cluster. REDIS_DELETE_CHUNK_SIZE,
SHOW_METHOD_DISPATCH_LOGS, NEST_SECRET_KEYS_FILE and NEST_SECRET_KEYS configure
the library as nest.OptionsFromEnv reads them. A .env file in the current
directory (KEY=value lines) sets the variables the environment does not.
`)
}
