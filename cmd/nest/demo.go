package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/redisimnest/nest"
)

// demoCommand returns `nest demo`.
func demoCommand() *cobra.Command {
	var (
		sf      serverFlags
		cleanup bool
		export  bool
	)
	cmd := &cobra.Command{
		Use:   "demo [--url redis://host:port/db | --embedded] [--cleanup] | --export",
		Short: "Run the original redisimnest example end to end",
		Long: `Demo runs the example of the original Python redisimnest README with the Go
library, step by step: it prints each call as Go code, the Redis commands the
call sent, and its result.

With neither --url nor REDIS_URL (or REDIS_HOST) in the environment, it runs
on an embedded in-process Redis, so it works on a machine without a server.

Against a real server it writes keys under "root:" and leaves them in place
for inspection; --cleanup deletes them at the end (the "root" subtree only,
never FLUSHDB). It refuses to run when keys under "root:" exist that it did
not write, so that it never overwrites or deletes other data. It ends with
the nest commands that inspect the keys it left: nest tree, and nest audit
with the example's schema, which --export prints (the JSON of nest.Export).`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unexpected arguments %q", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if export {
				if cmd.Flags().NFlag() > 1 {
					return usageErrorf("--export takes no other flag")
				}
				return writeDemoSchema(cmd.OutOrStdout())
			}
			return demoMain(cmd.Context(), &env{stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr()}, &sf, cleanup)
		},
	}
	sf.add(cmd.Flags(), true)
	cmd.Flags().BoolVar(&cleanup, "cleanup", false, "delete the example keys (everything under root:) at the end")
	cmd.Flags().BoolVar(&export, "export", false, "print the example's schema export (for nest audit --schema) and exit")
	return cmd
}

// demoMain connects, says where the demo runs, runs it and says where its
// keys are.
func demoMain(ctx context.Context, e *env, sf *serverFlags, cleanup bool) error {
	opts, err := nest.OptionsFromEnv() // SHOW_METHOD_DISPATCH_LOGS, REDIS_DELETE_CHUNK_SIZE, ...
	if err != nil {
		return err
	}
	c, err := sf.connect(ctx, true)
	if err != nil {
		return err
	}
	defer c.close()
	w := e.stdout
	if c.embedded {
		fmt.Fprintf(w, "nest demo: running on %s, no server needed (use --url redis://host:port/db or REDIS_URL for a real one)\n\n", c.desc)
	} else {
		fmt.Fprintf(w, "nest demo: running on Redis at %s\n\n", c.desc)
	}
	if err := runDemo(ctx, w, c.rdb, opts, cleanup); err != nil {
		return err
	}
	switch {
	case c.embedded:
		fmt.Fprintf(w, "The embedded Redis and its keys end with the demo; run it with --url to keep them for inspection.\n")
	case !cleanup:
		fmt.Fprintf(w, "The example keys are left in place for inspection:\n    %s\n", inspectHint(c.rdb))
		fmt.Fprintf(w, "Run the demo again with --cleanup to remove them.\n")
		conn := urlFlag(sf.url)
		fmt.Fprintf(w, "\nSee them grouped by template, with memory and TTLs, and check them against the schema:\n")
		fmt.Fprintf(w, "    nest tree%s root:\n", conn)
		fmt.Fprintf(w, "    nest demo --export > demo-schema.json && nest audit --schema demo-schema.json%s\n", conn)
	}
	return nil
}

// urlFlag is the --url flag that reaches the server the demo used, its
// password hidden; "" when the environment named the server (REDIS_URL,
// REDIS_HOST), which the nest command reads as the demo did.
func urlFlag(raw string) string {
	if raw == "" {
		return ""
	}
	if u, err := url.Parse(raw); err == nil {
		raw = u.Redacted()
	}
	return " --url '" + strings.ReplaceAll(raw, "'", `'\''`) + "'"
}

// writeDemoSchema writes the schema export of the example (Root).
func writeDemoSchema(w io.Writer) error {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled: Export reads the schema only
	defer rdb.Close()
	root, err := nest.New[Root](rdb, nil)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(nest.Export(root.Namespace), "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}

// inspectHint is a redis-cli command line that lists the example keys.
func inspectHint(rdb redis.UniversalClient) string {
	cli := "redis-cli"
	if c, ok := rdb.(*redis.Client); ok {
		opt := c.Options()
		if host, port, err := net.SplitHostPort(opt.Addr); err == nil {
			if host != "localhost" && host != "127.0.0.1" {
				cli += " -h " + host
			}
			if port != "6379" {
				cli += " -p " + port
			}
		}
		if opt.TLSConfig != nil {
			cli += " --tls"
		}
		if opt.DB != 0 {
			cli += fmt.Sprintf(" -n %d", opt.DB)
		}
	}
	return cli + " --scan --pattern 'root:*'"
}

// The schema of the original example, declared in Go.
type (
	// App is the original's App cluster: its keys expire after 80 seconds.
	App struct {
		nest.Namespace `nest:"app" ttl:"80s"`
		Tokens         nest.Key[[]string] `nest:"tokens" default:"[]"`
		PendingUsers   nest.Key[[]string] `nest:"pending_users"`
	}

	// User is the original's parameterised User cluster.
	User struct {
		nest.Namespace `nest:"user:{user_id}" ttl:"120s"`
		Age            nest.Key[int]    `nest:"age" default:"0"`
		Name           nest.Key[string] `nest:"name" default:"Unknown"`
	}

	// Root is the original's RootCluster.
	Root struct {
		nest.Namespace `nest:"root"`
		App            App
		User           nest.Sub[User]
		ProjectName    nest.Key[string] `nest:"project_name"`
	}
)

// runDemo runs the original example on rdb, bound with opts (nil for
// defaults), and writes a readable account of it to w: each call as Go
// code, the commands it sent (recorded by a hook added to rdb) and its
// result. With cleanup it finally clears the root subtree. It refuses to
// touch a keyspace holding keys under root that it did not write.
func runDemo(ctx context.Context, w io.Writer, rdb redis.UniversalClient, opts *nest.Options, cleanup bool) error {
	root, err := nest.New[Root](rdb, opts)
	if err != nil {
		return err
	}
	tr := &tracer{}
	rdb.AddHook(tr)
	d := &demo{ctx: ctx, out: &printer{w: w}, tr: tr, rdb: rdb, root: root}
	if err := d.run(cleanup); err != nil {
		return err
	}
	return d.out.err
}

type demo struct {
	ctx  context.Context
	out  *printer
	tr   *tracer
	rdb  redis.UniversalClient
	root *Root
}

func (d *demo) run(cleanup bool) error {
	ctx, root, p := d.ctx, d.root, d.out
	if err := d.checkKeyspace(); err != nil {
		return err
	}
	d.schema()

	p.comment("The original's main(), call by call.")
	err := d.step(`root.ProjectName.Set(ctx, "RedisimNest")`, func() (string, error) {
		return "ok", root.ProjectName.Set(ctx, "RedisimNest")
	})
	if err == nil {
		err = d.step(`projectName, err := root.ProjectName.Get(ctx)`, func() (string, error) {
			v, err := root.ProjectName.Get(ctx)
			return fmt.Sprintf("projectName = %q", v), err
		})
	}
	if err == nil {
		p.comment("A parameterised namespace is reached with At; its TTL (120s) is written with the value.")
		err = d.step(`root.User.At(1).Age.Set(ctx, 30)`, func() (string, error) {
			return "ok", root.User.At(1).Age.Set(ctx, 30)
		})
	}
	if err == nil {
		err = d.step(`age, err := root.User.At(1).Age.Get(ctx)`, func() (string, error) {
			v, err := root.User.At(1).Age.Get(ctx)
			return fmt.Sprintf("age = %d", v), err
		})
	}
	if err == nil {
		p.comment(`Name was never set: Get returns the declared default:"Unknown".`)
		err = d.step(`name, err := root.User.At(1).Name.Get(ctx)`, func() (string, error) {
			v, err := root.User.At(1).Name.Get(ctx)
			return fmt.Sprintf("name = %q (default)", v), err
		})
	}
	if err == nil {
		p.comment("Slices are stored as JSON, with App's TTL (80s).")
		err = d.step(`root.App.Tokens.Set(ctx, []string{"token1", "token2"})`, func() (string, error) {
			return "ok", root.App.Tokens.Set(ctx, []string{"token1", "token2"})
		})
	}
	if err == nil {
		err = d.step(`tokens, err := root.App.Tokens.Get(ctx)`, func() (string, error) {
			v, err := root.App.Tokens.Get(ctx)
			return fmt.Sprintf("tokens = %#v", v), err
		})
	}
	if err == nil {
		err = d.step(`ok, err := root.App.Tokens.Expire(ctx, 60*time.Second)`, func() (string, error) {
			ok, err := root.App.Tokens.Expire(ctx, 60*time.Second)
			return fmt.Sprintf("ok = %t", ok), err
		})
	}
	if err == nil {
		err = d.step(`ttl, err := root.App.Tokens.TTL(ctx)`, func() (string, error) {
			ttl, err := root.App.Tokens.TTL(ctx)
			return "ttl = " + fmtTTL(ttl), err
		})
	}
	if err == nil {
		p.comment("pending_users is missing and declares no default: Get reports nest.ErrNotFound.")
		err = d.step(`pending, err := root.App.PendingUsers.Get(ctx)`, func() (string, error) {
			v, err := root.App.PendingUsers.Get(ctx)
			if err == nil {
				return "", fmt.Errorf("got %#v, want nest.ErrNotFound", v)
			}
			if !errors.Is(err, nest.ErrNotFound) {
				return "", err
			}
			return fmt.Sprintf("err = %v\nerrors.Is(err, nest.ErrNotFound) = true: handled, no pending users", err), nil
		})
	}
	if err == nil {
		p.comment(`A hostile parameter (say, a user id taken from a request) is refused before`)
		p.comment(`anything reaches Redis, so it can never widen a SCAN or a Clear:`)
		err = d.step(`n, err := root.User.At("1:*").Clear(ctx)`, func() (string, error) {
			n, err := root.User.At("1:*").Clear(ctx)
			if err == nil {
				return "", fmt.Errorf("deleted %d keys, want nest.ErrInvalidParam", n)
			}
			if !errors.Is(err, nest.ErrInvalidParam) {
				return "", err
			}
			return fmt.Sprintf("err = %v\nerrors.Is(err, nest.ErrInvalidParam) = true", err), nil
		})
	}
	if err == nil {
		err = d.listKeys()
	}
	if err == nil {
		p.comment("Clear deletes root:app and the keys App declares, by name (no SCAN), nothing else.")
		err = d.step(`n, err := root.App.Clear(ctx)`, func() (string, error) {
			n, err := root.App.Clear(ctx)
			return fmt.Sprintf("n = %d (deleted)", n), err
		})
	}
	if err == nil {
		err = d.listKeys()
	}
	if err == nil && cleanup {
		p.comment("--cleanup: remove the example keys.")
		err = d.step(`n, err := root.Clear(ctx)`, func() (string, error) {
			n, err := root.Clear(ctx)
			return fmt.Sprintf("n = %d (deleted)", n), err
		})
		if err == nil {
			err = d.step(`n, err := root.Count(ctx)`, func() (string, error) {
				n, err := root.Count(ctx)
				if err == nil && n != 0 {
					err = fmt.Errorf("%d keys remain under root", n)
				}
				return fmt.Sprintf("n = %d: nothing under root remains", n), err
			})
		}
	}
	return err
}

// demoKeys are the names of the keys the demo writes or reads.
func (d *demo) demoKeys() []string {
	r := d.root
	return []string{
		r.ProjectName.Name(), r.User.At(1).Age.Name(), r.User.At(1).Name.Name(),
		r.App.Tokens.Name(), r.App.PendingUsers.Name(),
	}
}

// checkKeyspace refuses to run when keys under root exist that the demo
// does not write: Clear would delete them.
func (d *demo) checkKeyspace() error {
	own := d.demoKeys()
	var foreign []string
	for key, err := range d.root.Keys(d.ctx, nest.WithUndeclared()) { // anything under root:, declared or not
		if err != nil {
			return err
		}
		if !slices.Contains(own, key) {
			foreign = append(foreign, key)
		}
	}
	if len(foreign) == 0 {
		return nil
	}
	slices.Sort(foreign)
	some := foreign[:min(len(foreign), 3)]
	more := ""
	if len(foreign) > len(some) {
		more = fmt.Sprintf(" and %d more", len(foreign)-len(some))
	}
	return fmt.Errorf("refusing to run: this database holds %s under %q that the demo did not write (%s%s), "+
		"and the demo clears that prefix; point --url at another database, e.g. redis://host:6379/15",
		plural(len(foreign), "key"), d.root.Prefix()+":", strings.Join(some, ", "), more)
}

// schema prints the declared keys with their types, defaults and drilled
// TTLs, from Describe (no Redis round trip).
func (d *demo) schema() {
	p := d.out
	p.comment("The schema, declared once as Go structs (type Root), as root.Describe() reports it:")
	tw := tabwriter.NewWriter(p, 0, 8, 2, ' ', 0)
	var walk func(desc nest.Description, prefix string)
	walk = func(desc nest.Description, prefix string) {
		prefix += desc.Template
		for _, k := range desc.Keys {
			def := "no default"
			if k.Default != nil {
				def = "default " + *k.Default
				if k.Type == "string" {
					def = fmt.Sprintf("default %q", *k.Default)
				}
			}
			ttl := "no TTL"
			if k.TTL != nil && k.TTL.TTL > 0 {
				ttl = fmt.Sprintf("TTL %s from %s", fmtTTL(k.TTL.TTL), k.TTL.From)
			}
			fmt.Fprintf(tw, "//   %s:%s\t%s\t%s\t%s\n", prefix, k.Template, k.Type, def, ttl)
		}
		for _, c := range desc.Children {
			walk(c, prefix+":")
		}
	}
	walk(d.root.Describe(), "")
	_ = tw.Flush()
	p.printf("\n")
}

// step prints code, runs op while recording the commands it sends, and
// prints them and the result op returns (one or more lines).
func (d *demo) step(code string, op func() (string, error)) error {
	p := d.out
	p.printf("%s\n", code)
	d.tr.start()
	res, err := op()
	d.printCmds(d.tr.stop())
	if err != nil {
		return fmt.Errorf("%s: %w", code, err)
	}
	for line := range strings.SplitSeq(res, "\n") {
		p.printf("    %s\n", line)
	}
	p.printf("\n")
	return nil
}

func (d *demo) printCmds(cmds []string) {
	if len(cmds) == 0 {
		d.out.printf("    → nothing sent to Redis\n")
	}
	for _, c := range cmds {
		d.out.printf("    → %s\n", c)
	}
}

// listKeys prints the keys under root, sorted, with their remaining TTLs.
func (d *demo) listKeys() error {
	ctx, p := d.ctx, d.out
	p.comment("Every key under root, sorted, with its TTL (PTTL, rounded to seconds):")
	p.printf("for key, err := range root.Keys(ctx) { ... }\n")
	d.tr.start()
	var keys []string
	var err error
	for key, kerr := range d.root.Keys(ctx) {
		if kerr != nil {
			err = kerr
			break
		}
		keys = append(keys, key)
	}
	d.printCmds(d.tr.stop())
	if err != nil {
		return fmt.Errorf("listing the keys under root: %w", err)
	}
	slices.Sort(keys)
	// The TTLs are the demo's own bookkeeping: read untraced, in one pipeline.
	ttls := make([]*redis.DurationCmd, len(keys))
	if len(keys) > 0 {
		_, err = d.rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
			for i, k := range keys {
				ttls[i] = pl.PTTL(ctx, k)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("reading the TTLs of the keys under root: %w", err)
		}
	}
	tw := tabwriter.NewWriter(p, 0, 8, 2, ' ', 0)
	for i, k := range keys {
		fmt.Fprintf(tw, "    %s\t%s\n", k, fmtTTL(ttls[i].Val()))
	}
	_ = tw.Flush()
	p.printf("    %s\n\n", plural(len(keys), "key"))
	return nil
}

// fmtTTL renders a remaining TTL in whole seconds.
func fmtTTL(d time.Duration) string {
	switch {
	case d == nest.NoExpiry:
		return "no expiry"
	case d < 0:
		return "missing"
	}
	return fmt.Sprintf("%ds", int64(d.Round(time.Second)/time.Second))
}

// plural returns "1 key", "2 keys".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// printer writes to w and remembers the first write error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) Write(b []byte) (int, error) {
	if p.err != nil {
		return len(b), nil
	}
	n, err := p.w.Write(b)
	if err != nil {
		p.err = fmt.Errorf("writing the demo's output: %w", err)
	}
	return n, nil
}

func (p *printer) printf(format string, args ...any) { fmt.Fprintf(p, format, args...) }

// comment prints a Go comment line.
func (p *printer) comment(s string) { p.printf("// %s\n", s) }
