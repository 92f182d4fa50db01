package nestcli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/redisimnest/nest/cmd/nest/internal/inspect"
)

func (a *app) treeCommand() *cobra.Command {
	var (
		asJSON    bool
		samples   int
		probes    int
		exact     bool
		scanCount int
	)
	cmd := &cobra.Command{
		Use:   "tree [PREFIX]",
		Short: "Show the live keyspace grouped by declared template (or inferred pattern)",
		Long: `tree walks the keyspace with SCAN (COUNT 1000) on every master and groups the
keys by the template of the schema they are an instance of: count, Redis
type, memory (MEMORY USAGE of a sample, times the count) and TTLs (how many
have none; shortest, median and longest time left; how many lack a TTL that
the schema declares). Keys under the schema's root that match no template are
grouped as orphans, by inferred pattern; without a schema every key is
grouped by inferred pattern (numeric, UUID and hexadecimal segments become
{}). PREFIX limits the walk to names starting with it.

Counts are exact. Types and TTLs are read (TYPE, PTTL) for the first
--probes keys of each template, a random sample since SCAN returns keys in
hash order, and scaled to the count (marked "≈" and "estimated" in --json);
--exact reads every key's, at about three times the cost of the walk.
"nest audit" checks every key.

Memory use is bounded: one SCAN batch per master and a fixed amount per
group. Progress goes to standard error when it is a terminal.`,
		Example: `  nest tree --schema schema.json
  nest tree --schema schema.json root:user: --json
  nest tree --url redis://localhost:6379/0          # no schema: inferred patterns`,
		Args: maxArgs(1),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if samples < 0 {
				return usageErrorf("--samples must be 0 or more")
			}
			m, err := a.model(true)
			if err != nil {
				return err
			}
			rdb, done, err := a.client(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			if probes < 1 {
				return usageErrorf("--probes must be 1 or more")
			}
			opt := inspect.TreeOptions{Samples: samples, Probes: probes, ScanCount: scanCount}
			if exact {
				opt.Probes = -1
			}
			if samples == 0 {
				opt.Samples = -1
			}
			if len(args) == 1 {
				opt.Prefix = args[0]
			}
			prog := newProgress(cmd.ErrOrStderr(), "scanned")
			opt.Progress = prog.update
			rep, err := inspect.Tree(cmd.Context(), rdb, m, opt)
			prog.done()
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), rep)
			}
			printTree(cmd.OutOrStdout(), rep)
			return nil
		}),
	}
	fs := cmd.Flags()
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.IntVar(&samples, "samples", 5, "keys per template measured with MEMORY USAGE (0: none)")
	fs.IntVar(&probes, "probes", inspect.DefaultProbes, "keys per template whose TYPE and TTL are read; the figures are scaled to the exact count")
	fs.BoolVar(&exact, "exact", false, "read the TYPE and TTL of every key (about 3x slower on a large keyspace)")
	fs.IntVar(&scanCount, "scan-count", inspect.DefaultScanCount, "COUNT of each SCAN")
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printTree prints the report as a table.
func printTree(w io.Writer, rep *inspect.TreeReport) {
	var keys int64
	for _, g := range rep.Groups {
		keys += g.Count
	}
	where := "1 server"
	if rep.Nodes > 1 {
		where = fmt.Sprintf("%d masters", rep.Nodes)
	}
	schema := "patterns inferred (no schema)"
	if rep.Schema != "" {
		schema = "schema " + rep.Schema
	}
	bold, plain := "", ""
	if colour(w) {
		bold, plain = "\033[1m", "\033[0m"
	}
	fmt.Fprintf(w, "%s%s keys on %s, %s", bold, count(keys), where, schema)
	if rep.Prefix != "" {
		fmt.Fprintf(w, ", prefix %q", rep.Prefix)
	}
	fmt.Fprintln(w, plain)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "KEYS\tTYPE\tMEMORY\tNO TTL\tMIN TTL\tMEDIAN\tMAX TTL\tIMMORTAL\t  TEMPLATE")
	for _, g := range rep.Groups {
		name := g.Pattern
		switch g.Kind {
		case inspect.KindOrphan:
			name += "  (orphan: no template)"
		case inspect.KindPrefix:
			name += "  (namespace prefix key)"
		case inspect.KindIndex:
			name += "  (instance index of " + g.Field + ")"
		case inspect.KindOverflow:
			name += "  (too many patterns)"
		}
		approx := "" // figures scaled from the probed keys
		if g.TTL.Estimated {
			approx = "≈"
		}
		immortal := "-"
		if g.DeclaresTTL() {
			immortal = approx + strconv.FormatInt(g.TTL.Missing, 10)
		}
		minTTL, med, maxTTL := "-", "-", "-"
		if g.TTL.Expiring > 0 {
			minTTL, med, maxTTL = ms(g.TTL.MinMS), ms(g.TTL.MedianMS), ms(g.TTL.MaxMS)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t  %s\n", count(g.Count), types(g), bytes(g.Memory.EstimatedBytes, g.Memory.Sampled),
			approx+count(g.TTL.None), minTTL, med, maxTTL, immortal, name)
	}
	tw.Flush()
	if rep.Vanished > 0 {
		fmt.Fprintf(w, "%d keys vanished during the walk.\n", rep.Vanished)
	}
}

// count formats n with thin spaces between thousands: 1 000 000.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + " " + s[i:]
	}
	return s
}

func types(g *inspect.Group) string {
	if len(g.Types) == 0 {
		if g.DeclaredType != "" {
			return g.DeclaredType
		}
		return "-"
	}
	var parts []string
	if n, ok := g.Types[g.DeclaredType]; ok && n > 0 {
		parts = append(parts, g.DeclaredType)
	}
	for t := range g.Types {
		if t != g.DeclaredType {
			parts = append(parts, t)
		}
	}
	if len(parts) > 1 {
		rest := parts[1:]
		sortStrings(rest)
		return parts[0] + "+" + strings.Join(rest, "+")
	}
	return parts[0]
}

func ms(v int64) string {
	d := time.Duration(v) * time.Millisecond
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%.1fd", d.Hours()/24)
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	case d >= time.Second:
		return d.Round(time.Second).String()
	default:
		return d.String()
	}
}

func bytes(n int64, sampled int) string {
	if sampled == 0 {
		return "-"
	}
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for x := n / unit; x >= unit; x /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// progress reports a running count on a terminal, at most ten times a
// second, and erases itself when done.
type progress struct {
	w     io.Writer
	label string
	total int64 // 0: unknown
	mu    sync.Mutex
	last  time.Time
	shown bool
}

func newProgress(w io.Writer, label string) *progress {
	if !isTerminal(w) {
		return &progress{}
	}
	return &progress{w: w, label: label}
}

func (p *progress) update(n int64) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last, p.shown = time.Now(), true
	if p.total > 0 {
		const width = 30
		done := int(min(n, p.total) * width / p.total)
		fmt.Fprintf(p.w, "\r%s %s/%s [%s%s] %3d%%", p.label, count(n), count(p.total),
			strings.Repeat("=", done), strings.Repeat(" ", width-done), min(n, p.total)*100/p.total)
		return
	}
	fmt.Fprintf(p.w, "\r%s %s keys…", p.label, count(n))
}

func (p *progress) done() {
	if p.w == nil || !p.shown {
		return
	}
	fmt.Fprint(p.w, "\r\033[K")
}
