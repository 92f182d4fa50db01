// Package nestcli is the nest command as a library: the whole command
// tree (tree, audit, clear, describe, ui, version), built on cobra.
//
// An application ships it bound to its own live schema, so that its
// operators run `myapp nest audit` with no export step:
//
//	root := nest.MustNew[Root](rdb, nil)
//	app := &cobra.Command{Use: "myapp"}
//	app.AddCommand(nestcli.Command(root.Namespace, rdb))
//	os.Exit(nestcli.Main(ctx, app, os.Args[1:]))
//
// The standalone binary (cmd/nest) uses [New] instead, which reads the
// schema from a file written by nest.Export (--schema FILE) and the server
// from connection flags or the environment.
//
// Exit status: 0 ok, 1 findings (audit), 2 usage mistake, 3 connection or
// other error ([ExitCode]).
package nestcli

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/cmd/nest/internal/inspect"
)

// app is what the commands share: where the schema and the server come
// from.
type app struct {
	live       *inspect.Model        // a live schema (Command), or nil
	rdb        redis.UniversalClient // a fixed client (Command), or nil: connection flags
	schemaFile string                // --schema (New)
	conn       connFlags
}

// Command returns the nest command tree bound to a live schema: root is
// normally the schema's root namespace (root.Namespace) and rdb the client
// it was bound with. With a nil rdb the commands take the connection flags
// (--url, --addr, --tls...) and read the environment, as the standalone
// command does. Add it to an application's own cobra command, or run it
// with [Main].
func Command(root nest.Namespace, rdb redis.UniversalClient) *cobra.Command {
	a := &app{rdb: rdb}
	m, err := inspect.FromNamespace(root)
	cmd := a.command("nest")
	if err != nil {
		cmd.PersistentPreRunE = func(*cobra.Command, []string) error { return &runError{err: err} }
	}
	a.live = m
	if rdb == nil {
		a.conn.add(cmd.PersistentFlags())
	}
	return cmd
}

// New returns the standalone nest command: the schema comes from a file
// written by nest.Export (--schema FILE; without it, tree infers patterns)
// and the server from the connection flags or the environment.
func New() *cobra.Command {
	a := &app{}
	cmd := a.command("nest")
	cmd.PersistentFlags().StringVar(&a.schemaFile, "schema", "", "schema export `file` (the JSON of nest.Export); without it, tree infers patterns and the other commands refuse to run")
	a.conn.add(cmd.PersistentFlags())
	return cmd
}

// command builds the root command and its subcommands.
func (a *app) command(name string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   name,
		Short: "Inspect, audit and clear a Redis keyspace described by a nest schema",
		Long: `nest inspects a live Redis keyspace through the schema declared with
github.com/redisimnest/nest: which keys exist under which template, how much
memory each template takes, which keys lack the TTL the schema declares,
which keys match no template, and it clears a subtree exactly as the
library's Clear does.

Exit status: 0 ok, 1 findings (audit), 2 usage mistake, 3 connection or other error.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          noArgs,
		// Without a command: the help, on standard error, as a usage mistake.
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(cmd.ErrOrStderr())
			_ = cmd.Help()
			return usageErrorf("no command given")
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Msg: err.Error()} })
	cmd.SetHelpCommand(helpCommand())
	cmd.AddCommand(a.treeCommand(), a.describeCommand(), a.auditCommand(), a.clearCommand(), a.uiCommand(), versionCommand())
	return cmd
}

// noArgs refuses arguments as a usage mistake, naming the unknown
// command when the first looks like one.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		if cmd.HasSubCommands() {
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				return usageErrorf("unknown command %q (did you mean %q?)", args[0], s[0])
			}
			return usageErrorf("unknown command %q", args[0])
		}
		return usageErrorf("takes no arguments, got %q", args)
	}
	return nil
}

func maxArgs(n int) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) > n {
			return usageErrorf("takes at most %d argument(s), got %d: %q", n, len(args), args)
		}
		return nil
	}
}

// model returns the schema: the live one, the --schema file, or nil when
// there is none and optional.
func (a *app) model(optional bool) (*inspect.Model, error) {
	if a.live != nil {
		return a.live, nil
	}
	if a.schemaFile == "" {
		if optional {
			return nil, nil
		}
		return nil, usageErrorf("needs a schema: --schema FILE (the JSON of nest.Export)")
	}
	f, err := os.Open(a.schemaFile)
	if err != nil {
		return nil, usageErrorf("--schema: %v", err)
	}
	defer f.Close()
	m, err := inspect.Load(f)
	if err != nil {
		return nil, usageErrorf("--schema %s: %v", a.schemaFile, err)
	}
	return m, nil
}

// client returns the client and the function that releases it.
func (a *app) client(ctx context.Context) (redis.UniversalClient, func(), error) {
	if a.rdb != nil {
		return a.rdb, func() {}, nil
	}
	rdb, err := a.conn.connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	return rdb, func() { _ = rdb.Close() }, nil
}

// Main runs cmd with args (without the program name) under ctx, prints
// an error the way the nest command does (one line; for a usage mistake,
// a pointer to --help rather than the whole help) and returns the exit
// status (see [ExitCode]).
func Main(ctx context.Context, cmd *cobra.Command, args []string) int {
	cmd.SetArgs(args)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	wrapRunE(cmd)
	c, err := cmd.ExecuteContextC(ctx)
	if c == nil {
		c = cmd
	}
	var re *runError
	if err != nil && !errors.As(err, &re) {
		// cobra's own message may carry its own hint; keep the first line.
		msg, _, _ := strings.Cut(err.Error(), "\n")
		var ue *UsageError
		if !errors.As(err, &ue) {
			err = &UsageError{Msg: msg}
		}
	}
	report(cmd.ErrOrStderr(), c, err)
	return ExitCode(err)
}

// isTerminal reports whether w is a terminal (progress and colour go
// only there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// colour reports whether output to w may use colour: a terminal, and
// NO_COLOR unset (https://no-color.org).
func colour(w io.Writer) bool {
	return isTerminal(w) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// wrapRunE marks the errors of every command's own function in the tree
// of cmd (an application's commands included), so that ExitCode tells
// them from cobra's parsing errors.
func wrapRunE(cmd *cobra.Command) {
	if cmd.RunE != nil && cmd.Annotations[wrapped] == "" {
		cmd.RunE = runE(cmd.RunE)
		if cmd.Annotations == nil {
			cmd.Annotations = map[string]string{}
		}
		cmd.Annotations[wrapped] = "1"
	}
	for _, c := range cmd.Commands() {
		wrapRunE(c)
	}
}

const wrapped = "nestcli.wrapped"

// helpCommand replaces cobra's, which answers an unknown topic with exit
// status 0.
func helpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		RunE: func(c *cobra.Command, args []string) error {
			root := c.Parent()
			target, rest, err := root.Find(args)
			if err != nil || target == nil {
				return usageErrorf("unknown help topic %q", args)
			}
			if len(rest) > 0 {
				return usageErrorf("unknown help topic %q", args)
			}
			target.SetOut(c.OutOrStdout())
			return target.Help()
		},
	}
}
