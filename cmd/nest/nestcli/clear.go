package nestcli

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/redisimnest/nest/cmd/nest/internal/inspect"
)

// clearResult is `nest clear --json`.
type clearResult struct {
	Template string `json:"template"`
	Prefix   string `json:"prefix"`
	Count    int64  `json:"count"`
	DryRun   bool   `json:"dry_run"`
	Deleted  int64  `json:"deleted"`
}

func (a *app) clearCommand() *cobra.Command {
	var (
		params []string
		dryRun bool
		yes    bool
		rate   float64
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "clear TEMPLATE-OR-PREFIX",
		Short: "Delete a namespace's subtree exactly as the library's Clear does",
		Long: `clear deletes the subtree of one namespace instance, named by its template
and --param values, or by its prefix: the same keys as the library's Clear
(its prefix key, its declared keys, and below parameterised children every
name that parses as an instance's key). Clearing user 42 never touches user
420 or a key the schema does not declare.

Parameter values are checked as the library checks them: a value with ':',
a glob character, a brace, whitespace, a look-alike or invisible character
is refused. With the command embedded in a program (nestcli.Command) it calls
the library itself; from a schema export it builds the same name set, and
refuses namespaces with ValidateParams rules, which an export cannot carry.

It counts first and asks for confirmation on standard input (--yes skips
it; --dry-run stops after the count), shows progress on a terminal, deletes
at most --rate keys a second, and prints the count deleted.`,
		Example: `  nest clear --schema schema.json 'root:user:{user_id}' --param user_id=42 --dry-run
  nest clear --schema schema.json root:user:42 --yes --rate 5000`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("takes one TEMPLATE-OR-PREFIX, got %d arguments", len(args))
			}
			return nil
		},
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if rate < 0 {
				return usageErrorf("--rate must be 0 (no limit) or more")
			}
			vals := map[string]string{}
			for _, p := range params {
				k, v, ok := strings.Cut(p, "=")
				if !ok || k == "" {
					return usageErrorf("--param %q: want NAME=VALUE", p)
				}
				if _, dup := vals[k]; dup {
					return usageErrorf("--param %s given twice", k)
				}
				vals[k] = v
			}
			m, err := a.model(false)
			if err != nil {
				return err
			}
			st, err := m.Subtree(args[0], vals)
			if errors.Is(err, inspect.ErrUsage) {
				return &UsageError{Msg: strings.TrimPrefix(err.Error(), "usage: ")}
			}
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			rdb, done, err := a.client(ctx)
			if err != nil {
				return err
			}
			defer done()
			stderr, out := cmd.ErrOrStderr(), cmd.OutOrStdout()
			prog := newProgress(stderr, "counted")
			n, err := st.Count(ctx, rdb, prog.update)
			prog.done()
			if err != nil {
				return err
			}
			res := clearResult{Template: st.Template, Prefix: st.Prefix, Count: n, DryRun: dryRun}
			if !asJSON {
				fmt.Fprintf(out, "%s keys in the subtree of %s (%s)\n", count(n), st.Prefix, st.Template)
			}
			if dryRun || n == 0 {
				if asJSON {
					return writeJSON(out, res)
				}
				if dryRun {
					fmt.Fprintln(out, "Dry run: nothing deleted.")
				}
				return nil
			}
			if !yes {
				fmt.Fprintf(stderr, "Delete these %s keys? Type 'yes' to confirm: ", count(n))
				line, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if a := strings.TrimSpace(strings.ToLower(line)); a != "yes" && a != "y" {
					return errors.New("not confirmed: nothing deleted (--yes skips the question)")
				}
			}
			prog = newProgress(stderr, "deleted")
			prog.total = n
			res.Deleted, err = st.Clear(ctx, rdb, rate, prog.update)
			prog.done()
			if err != nil {
				return fmt.Errorf("%w (deleted %d keys)", err, res.Deleted)
			}
			if asJSON {
				return writeJSON(out, res)
			}
			fmt.Fprintf(out, "Deleted %s keys.\n", count(res.Deleted))
			return nil
		}),
	}
	fs := cmd.Flags()
	fs.StringArrayVar(&params, "param", nil, "`NAME=VALUE` of a placeholder of the template (repeatable)")
	fs.BoolVar(&dryRun, "dry-run", false, "count the keys and stop")
	fs.BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	fs.Float64Var(&rate, "rate", 0, "delete at most this many `keys` a second (0: no limit)")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}
