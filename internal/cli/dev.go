package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/devstack"
	"github.com/lowfare/lowfare/internal/spec"
)

// devFlags are the flags of `lowfare dev`.
type devFlags struct {
	file     string
	port     int
	data     string
	endpoint string
	quiet    bool
	watch    bool
	demo     bool
	idle     time.Duration
}

// newDevCmd runs the spec's service (or, with --demo, links) on this
// machine.
func newDevCmd(opts *rootOptions) *cobra.Command {
	f := &devFlags{}
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run your app (or, with --demo, links) on this machine, no AWS account needed",
		Long: `Run the spec's service on this machine against an in-process
DynamoDB-compatible endpoint (minidyn), so nothing but Go is needed.

With a lowfare.yaml here (or -f), lowfare dev builds the Go main package
of service.image for this machine and runs it with the app contract's
environment (docs/apps.md): PORT, TABLE_NAME (a table with the stack's
key schema, created on the local endpoint), AWS_ENDPOINT_URL_DYNAMODB,
dummy credentials, the spec's env, and the spec's secrets, each from the
environment or from the data directory's secrets.env (NAME=value lines);
a secret found in neither is named before the app starts (a change to
secrets.env restarts a down app, or with --watch any app, with the new
values). The app is
served at 127.0.0.1:--port (default service.port); its output is shown,
and each request is logged (-q: only those that fail with a 5xx). It is
restarted when it exits. An app that does not start (it exits, or listens
on another port than $PORT) is reported with its last 20 lines of output,
and lowfare dev keeps running: saving a fix rebuilds and starts it. With
--watch it is rebuilt and restarted whenever a file it is built from
changes: the Go files of its module's packages it imports and the files
they embed (templates, static files); a failed build keeps the running
one and prints the compiler's output. With --idle (or the spec's service.idle.after) it is
stopped after that long without a request, as the deployed service
sleeps: the next request gets the waking page (503, Retry-After) and
starts it.

Without a spec it stops with exit 2: run 'lowfare init' first. --demo
runs the reference service links in-process instead, whatever spec is
here; its admin token for DELETE comes from ADMIN_TOKEN, or is generated
once and kept in the data directory (mode 0600).

Data survives restarts: the table is saved to a snapshot in the data
directory every few seconds and on exit (Ctrl-C), and loaded on start.
With --dynamodb-endpoint the app uses that endpoint instead (dynalite,
DynamoDB Local, ...), with no snapshot.

With a database: section, the app also gets a real local Postgres, from this
machine's PostgreSQL server programs (Debian package postgresql): the cluster
is kept in the data directory's pg, the server listens on a free port of
127.0.0.1 and stops after the app, and the app gets PGHOST, PGPORT,
PGDATABASE, PGUSER, PGPASSWORD and DATABASE_URL (sslmode=disable). Run as
root, the server runs as the user postgres (or nobody), which Postgres needs.`,
		Example: `  # your app: the spec in this directory, rebuilt on every save
  lowfare dev --watch

  # another spec; try the idle sleep with a short idle time
  lowfare dev -f examples/guestbook/lowfare.yaml --idle 3s

  # the reference app links; shorten a link, follow it and read its stats
  lowfare dev --demo
  curl -si -X POST localhost:8080/api/links -H 'Content-Type: application/json' -d '{"url":"https://example.com","slug":"ex1"}'
  curl -si localhost:8080/ex1
  curl -s localhost:8080/api/links/ex1
  curl -si -X DELETE -H "Authorization: Bearer $(cat .lowfare/dev/admin-token)" localhost:8080/api/links/ex1

  # another port and data directory
  lowfare dev --port 9000 --data /tmp/dev-data

  # against a dynalite started with: npx dynalite --port 4567
  lowfare dev --dynamodb-endpoint http://127.0.0.1:4567`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDev(cmd, opts, f)
		},
	}
	fl := cmd.Flags()
	addSpecFlag(cmd, &f.file)
	fl.IntVar(&f.port, "port", devstack.DefaultPort, "port to serve on (127.0.0.1); 0 picks a free one (default service.port, which is 8080 unless the spec sets it; 8080 with --demo)")
	fl.Lookup("port").DefValue = "0" // the usage names the default; cobra's "(default 8080)" would be a second one
	fl.StringVar(&f.data, "data", devstack.DefaultDataDir, "directory for the snapshot, secrets.env and the admin token")
	fl.StringVar(&f.endpoint, "dynamodb-endpoint", "", "use this DynamoDB-compatible endpoint instead of the in-process one (no snapshot)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "log only warnings and errors (requests that fail with a 5xx), not every request")
	fl.BoolVar(&f.watch, "watch", false, "rebuild and restart the app when a Go file it is built from, or a file it embeds, changes")
	fl.BoolVar(&f.demo, "demo", false, "run the reference app links instead of a spec's app")
	fl.DurationVar(&f.idle, "idle", 0, "stop the app after this long without a request (overrides service.idle.after), e.g. 3s")
	return cmd
}

func runDev(cmd *cobra.Command, opts *rootOptions, f *devFlags) error {
	if f.port < 0 || f.port > 65535 {
		return usageErrf("--port %d is out of range: use 1-65535, or 0 for any free port", f.port)
	}
	if f.endpoint != "" {
		u, err := url.Parse(f.endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageErrf("--dynamodb-endpoint %q is not an http(s) URL, e.g. http://127.0.0.1:4567", f.endpoint)
		}
	}
	if f.idle < 0 {
		return usageErrf("--idle %s is negative: give a duration such as 3s or 15m", f.idle)
	}
	level := slog.LevelInfo
	if f.quiet {
		level = slog.LevelWarn
	}
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))

	if w := secretsNotIgnored(cmd.Context(), f.data); w != "" {
		logger.Warn(w)
	}
	if f.demo {
		if cmd.Flags().Changed("file") || f.watch || f.idle > 0 {
			return usageErrf("--demo runs the reference app links, which takes no -f, --watch or --idle: leave out --demo to run your spec's app")
		}
		return runDevLinks(cmd, f, logger)
	}
	if _, err := os.Stat(f.file); !cmd.Flags().Changed("file") && errors.Is(err, fs.ErrNotExist) {
		return usageErrf("there is no %s here: run 'lowfare init' to write one for your app (or pass -f with your spec); 'lowfare dev --demo' runs the reference app links", f.file)
	}
	s, err := loadSpec(opts, f.file)
	if err != nil {
		return err
	}
	if !s.Service.LocalPackage() {
		kind := "an image reference"
		if s.Service.Archive() {
			kind = "an image on disk"
		}
		return usageErrf("%s: service.image %q is %s: lowfare dev builds and runs a Go main package (such as . or ./cmd/server); point service.image at your package to run it here", f.file, s.Service.Image, kind)
	}
	if err := imageError(f.file, s); err != nil {
		return err
	}
	// What plan warns of, said before the build: dev then names the port
	// the app really listens on once it runs (its sockets).
	if msg := literalPortProblem(f.file, s); msg != "" {
		logger.Warn("the app's source does not read $PORT")
		fmt.Fprintln(cmd.ErrOrStderr(), "  "+msg) // plain, so its quotes are not escaped
	}
	o := devstack.AppOptions{
		Spec: s, SpecPath: f.file, Port: s.Service.Port, DataDir: f.data, Endpoint: f.endpoint,
		Idle: devIdle(s, f.idle), Watch: f.watch,
		AppOutput: cmd.ErrOrStderr(), Logger: logger,
	}
	if cmd.Flags().Changed("port") {
		o.Port = f.port
	}
	out := cmd.OutOrStdout()
	var snapshot string
	o.Ready = func(i devstack.AppInfo) {
		snapshot = i.Snapshot
		devstack.PrintAppInfo(out, i)
	}
	if err := devstack.RunApp(cmd.Context(), o); err != nil {
		return err
	}
	printStopped(out, snapshot)
	return nil
}

// devIdle is the idle time of lowfare dev: --idle, else the spec's
// service.idle.after, else none.
func devIdle(s *spec.Spec, flag time.Duration) time.Duration {
	if flag > 0 || s.Service.Idle == nil {
		return flag
	}
	return s.Service.Idle.Duration()
}

func runDevLinks(cmd *cobra.Command, f *devFlags, logger *slog.Logger) error {
	o := devstack.Options{Port: f.port, DataDir: f.data, Endpoint: f.endpoint, Logger: logger}
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
	printStopped(out, snapshot)
	return nil
}

func printStopped(out interface{ Write([]byte) (int, error) }, snapshot string) {
	if snapshot != "" {
		fmt.Fprintf(out, "stopped; data saved in %s\n", snapshot)
	} else {
		fmt.Fprintln(out, "stopped")
	}
}
