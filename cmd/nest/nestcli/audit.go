package nestcli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/redisimnest/nest/cmd/nest/internal/inspect"
)

func (a *app) auditCommand() *cobra.Command {
	var (
		asJSON    bool
		samples   int
		maxSize   int64
		scanCount int
		limit     int
	)
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Check the live keyspace against the schema; exit status 1 on findings",
		Long: `audit walks the keys under the schema's root on every master and reports:

  orphan       a key under the root that matches no declared template
  immortal     a key without a TTL whose declaration has one
  wrong_type   a key holding another Redis type than declared
  undecodable  a value that does not decode with the declared codec
               (a sample of --samples values per template; secrets, custom
               codecs and collections' elements are listed as not checked)
  too_large    a value over --max-value-size bytes (STRLEN of strings,
               MEMORY USAGE of other types)

It exits with status 1 when it finds anything, 0 when the keyspace is clean:
run it in CI with --json.`,
		Example: `  nest audit --schema schema.json
  nest audit --schema schema.json --json --max-value-size 65536`,
		Args: noArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			m, err := a.model(false)
			if err != nil {
				return err
			}
			rdb, done, err := a.client(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			if samples == 0 {
				samples = -1
			}
			prog := newProgress(cmd.ErrOrStderr(), "audited")
			rep, err := inspect.Audit(cmd.Context(), rdb, m, inspect.AuditOptions{
				Samples: samples, MaxValueSize: maxSize, ScanCount: scanCount, Limit: limit, Progress: prog.update,
			})
			prog.done()
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), rep); err != nil {
					return err
				}
			} else {
				printAudit(cmd.OutOrStdout(), rep)
			}
			if rep.Total() > 0 {
				return ErrFindings
			}
			return nil
		}),
	}
	fs := cmd.Flags()
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.IntVar(&samples, "samples", 20, "values decoded per template (0: none)")
	fs.Int64Var(&maxSize, "max-value-size", 1<<20, "`bytes` over which a value is too large (0: no check)")
	fs.IntVar(&scanCount, "scan-count", inspect.DefaultScanCount, "COUNT of each SCAN")
	fs.IntVar(&limit, "limit", 100, "findings listed per kind (all are counted)")
	return cmd
}

func printAudit(w io.Writer, rep *inspect.AuditReport) {
	red, plain := "", ""
	if colour(w) {
		red, plain = "\033[31m", "\033[0m"
	}
	fmt.Fprintf(w, "audited %s keys under %s (%s scanned, %s values decoded)\n\n",
		count(rep.Audited), rep.Schema, count(rep.Scanned), count(rep.Decoded))
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "FINDING\tKEYS")
	for _, k := range inspect.FindingKinds {
		fmt.Fprintf(tw, "%s\t%s\n", k, count(rep.Counts[k]))
	}
	tw.Flush()
	if len(rep.Findings) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tKEY\tDETAIL")
		for _, f := range rep.Findings {
			fmt.Fprintf(tw, "%s\t%q\t%s\n", f.Kind, f.Key, f.Detail)
		}
		tw.Flush()
	}
	if len(rep.NotChecked) > 0 {
		fmt.Fprintln(w, "\nNot checked:")
		for _, s := range rep.NotChecked {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	if n := rep.Total(); n > 0 {
		fmt.Fprintf(w, "\n%s%s findings%s\n", red, count(n), plain)
	} else {
		fmt.Fprintln(w, "\nno findings")
	}
}
