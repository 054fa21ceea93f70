package cli

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/devstack"
)

// newDevCmd runs the links service on this machine.
func newDevCmd(_ *rootOptions) *cobra.Command {
	o := devstack.Options{}
	var quiet bool
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the links service on this machine, no AWS account needed",
		Long: `Run the links service on this machine against an in-process
DynamoDB-compatible endpoint (minidyn), so nothing but Go is needed.

The service listens on 127.0.0.1 only. Its data survives restarts: the
table is saved to a snapshot in the data directory every few seconds and
on exit (Ctrl-C), and loaded on start. The admin token for DELETE comes
from ADMIN_TOKEN, or is generated once and kept in the data directory
(mode 0600).

With --dynamodb-endpoint the service uses that endpoint instead (dynalite,
DynamoDB Local, ...), with dummy credentials and no snapshot; the table is
created there if it is missing.`,
		Example: `  # start, then shorten a link, follow it and read its stats
  lowfare dev
  curl -si -X POST localhost:8080/api/links -H 'Content-Type: application/json' -d '{"url":"https://example.com","slug":"ex1"}'
  curl -si localhost:8080/ex1
  curl -s localhost:8080/api/links/ex1
  curl -si -X DELETE -H "Authorization: Bearer $(cat .lowfare/dev/admin-token)" localhost:8080/api/links/ex1

  # another port and data directory
  lowfare dev --port 9000 --data /tmp/links-data

  # against a dynalite started with: npx dynalite --port 4567
  lowfare dev --dynamodb-endpoint http://127.0.0.1:4567`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Port < 0 || o.Port > 65535 {
				return usageErrf("--port %d is out of range: use 1-65535, or 0 for any free port", o.Port)
			}
			if o.Endpoint != "" {
				u, err := url.Parse(o.Endpoint)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return usageErrf("--dynamodb-endpoint %q is not an http(s) URL, e.g. http://127.0.0.1:4567", o.Endpoint)
				}
			}
			level := slog.LevelInfo
			if quiet {
				level = slog.LevelWarn
			}
			o.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			o.AdminToken = os.Getenv("ADMIN_TOKEN")
			out := cmd.OutOrStdout()
			var snapshot string
			o.Ready = func(i devstack.Info) {
				snapshot = i.Snapshot
				devstack.PrintInfo(out, i)
			}
			if err := devstack.Run(cmd.Context(), o); err != nil {
				return err
			}
			if snapshot != "" {
				fmt.Fprintf(out, "stopped; data saved in %s\n", snapshot)
			} else {
				fmt.Fprintln(out, "stopped")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Port, "port", devstack.DefaultPort, "port to listen on (127.0.0.1); 0 picks a free one")
	f.StringVar(&o.DataDir, "data", devstack.DefaultDataDir, "directory for the snapshot and the admin token")
	f.StringVar(&o.Endpoint, "dynamodb-endpoint", "", "use this DynamoDB-compatible endpoint instead of the in-process one (no snapshot)")
	f.BoolVarP(&quiet, "quiet", "q", false, "log only warnings, not every request")
	return cmd
}
