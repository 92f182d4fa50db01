package nestcli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/redisimnest/nest/cmd/nest/internal/web"
)

func (a *app) uiCommand() *cobra.Command {
	var (
		listen      string
		token       string
		allowWrites bool
	)
	cmd := &cobra.Command{
		Use:   "ui",
		Short: "Serve a local web view of the keyspace (schema tree, memory, TTLs, values)",
		Long: `ui serves a web page showing the schema tree with the live count, memory and
TTLs of every template, a chart of memory by template, a TTL histogram per
template, and the decoded value of a key you click. The values of Secret and
Password keys are never shown, not even raw: the server refuses to read them.

It listens on 127.0.0.1 (--listen); listening on another interface requires
--token, which every request must then carry (open the page with
?token=TOKEN once). It is read-only unless --allow-writes, which adds a
"Clear subtree" button doing what 'nest clear' does, after a count and a
confirmation. Everything the page needs is built into the command: it works
offline.`,
		Example: `  nest ui --schema schema.json
  nest ui --schema schema.json --listen 0.0.0.0:8765 --token "$(openssl rand -hex 16)"
  nest ui --schema schema.json --allow-writes`,
		Args: noArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			host, _, err := net.SplitHostPort(listen)
			if err != nil {
				return usageErrorf("--listen %q: want HOST:PORT (%v)", listen, err)
			}
			if ip := net.ParseIP(host); token == "" && (ip == nil || !ip.IsLoopback()) && host != "localhost" {
				return usageErrorf("--listen %s is beyond loopback: set --token too", listen)
			}
			m, err := a.model(false)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			rdb, done, err := a.client(ctx)
			if err != nil {
				return err
			}
			defer done()
			h, err := web.New(web.Options{Model: m, Client: rdb, Token: token, AllowWrites: allowWrites})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			return serve(ctx, cmd, ln, h, token, allowWrites)
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&listen, "listen", "127.0.0.1:8765", "`address` to listen on (HOST:PORT; port 0 picks a free one)")
	fs.StringVar(&token, "token", "", "require this `token` on every request (required beyond loopback)")
	fs.BoolVar(&allowWrites, "allow-writes", false, "enable the \"Clear subtree\" button (POST, same origin only)")
	return cmd
}

// serve runs the server on ln until ctx is done, printing its address.
func serve(ctx context.Context, cmd *cobra.Command, ln net.Listener, h http.Handler, token string, writes bool) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	addr := "http://" + ln.Addr().String() + "/"
	if token != "" {
		addr += "?token=" + token
	}
	mode := "read-only"
	if writes {
		mode = "writes allowed"
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Serving the nest web view (%s) on %s\nPress Ctrl-C to stop.\n", mode, addr)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
