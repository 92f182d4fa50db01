package nestcli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/redisimnest/nest"
	"github.com/redisimnest/nest/cmd/nest/internal/inspect"
)

func (a *app) describeCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "describe",
		Short: "Show the schema as a tree: templates, kinds, codecs, TTLs and where they come from",
		Long: `describe prints the schema as a tree: each namespace's template (pinned ones
marked), each key's template, kind, Go type, codec, Redis type and effective
TTL with the field that declares it. It needs no server.

--json prints the schema export itself (the format of nest.Export, which
--schema reads), so that 'myapp nest describe --json > schema.json' writes the
file the standalone command needs.`,
		Args: noArgs,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			m, err := a.model(false)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), m.Export)
			}
			printSchema(cmd.OutOrStdout(), m)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the schema export (JSON)")
	return cmd
}

func printSchema(w io.Writer, m *inspect.Model) {
	fmt.Fprintf(w, "schema export version %d, parameter values up to %d bytes\n", m.Version, m.MaxParamLen)
	var walk func(n *inspect.Namespace, indent string, last bool, top bool)
	walk = func(n *inspect.Namespace, indent string, last, top bool) {
		branch, next := "", ""
		if !top {
			branch, next = "├── ", "│   "
			if last {
				branch, next = "└── ", "    "
			}
		}
		head := n.Own
		if top {
			head = n.Template
		}
		var notes []string
		notes = append(notes, n.Field)
		if n.Pinned {
			notes = append(notes, "pinned (one slot per instance)")
		}
		if n.Validated {
			notes = append(notes, "ValidateParams")
		}
		if n.TTL != nil {
			notes = append(notes, "ttl "+ttlText(n.TTL))
		}
		fmt.Fprintf(w, "%s%s%s  (%s)\n", indent, branch, head, strings.Join(notes, ", "))
		child := indent + next
		items := len(n.Keys) + len(n.Indexes) + len(n.Children)
		i := 0
		for _, k := range n.Keys {
			i++
			b := "├── "
			if i == items {
				b = "└── "
			}
			own := k.Template[len(n.Template)+1:]
			kind := k.Kind
			if kind == "" {
				kind = "key"
			}
			desc := fmt.Sprintf("%s %s, codec %s, %s", kind, k.GoType, k.Codec, k.RedisType)
			if k.TTL != nil {
				desc += ", ttl " + ttlText(k.TTL)
			} else {
				desc += ", no ttl"
			}
			if k.Default != nil {
				desc += fmt.Sprintf(", default %q", *k.Default)
			}
			fmt.Fprintf(w, "%s%s%s  %s\n", child, b, own, desc)
		}
		for _, k := range n.Indexes {
			i++
			b := "├── "
			if i == items {
				b = "└── "
			}
			fmt.Fprintf(w, "%s%s%s  instance index of %s, %s, no ttl\n", child, b, k.Template[len(n.Template)+1:], k.Field, k.RedisType)
		}
		for j, c := range n.Children {
			walk(c, child, j == len(n.Children)-1, false)
		}
	}
	walk(m.Root, "", true, true)
}

// ttlText formats an effective TTL with where it is declared.
func ttlText(t *nest.TTLInfo) string {
	if t.None {
		return "none (from " + t.From + ")"
	}
	s := (time.Duration(t.Seconds * float64(time.Second))).String()
	if t.Sliding {
		s += " sliding"
	}
	if t.Fixed {
		s += " fixed"
	}
	return s + " (from " + t.From + ")"
}
