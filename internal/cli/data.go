package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/atomicfile"
	"github.com/lowfare/lowfare/internal/data"
	"github.com/lowfare/lowfare/internal/ddblocal"
	"github.com/lowfare/lowfare/internal/devstack"
	"github.com/lowfare/lowfare/internal/ops"
	"github.com/lowfare/lowfare/internal/stack"
)

// dataFlags are the flags every data subcommand shares.
type dataFlags struct {
	file     string // the spec, for the region and the stack's table
	table    string
	endpoint string
	rate     string
}

// defaultOnDemandRate is the pace, in capacity units a second, of work on
// a table without provisioned capacity (on-demand, or a local endpoint):
// a little under the free tier's 25, so a mistake stays cheap.
const defaultOnDemandRate = 20

func newDataCmd(opts *rootOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "data",
		Short: "Export, import and migrate the app's DynamoDB table",
		Long: `Move the app's data in and out of its DynamoDB table, and migrate it.

  lowfare data export -o links.jsonl     every item, as JSON Lines
  lowfare data import links.jsonl        write them back (into this or another table)
  lowfare data migrate --dry-run         list your migrations (migrations/*.yaml) not applied yet

The table is the one the deployed stack reports (its TableName output), or
--table. With --dynamodb-endpoint the commands talk to a local
DynamoDB-compatible endpoint (dynalite, DynamoDB Local, lowfare dev's with
--dynamodb-endpoint) with dummy credentials, and the table defaults to the
one lowfare dev gives the spec's app (<app>-<env>; lowfare dev --demo's is
"links").

Every command paces itself (--rate, in capacity units a second) so it does
not throttle the live service: by default half the table's provisioned
capacity, or 20 on an on-demand table. See docs/runbooks/restore-data.md.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usageErrf("data needs a subcommand: export, import or migrate")
		},
	}
	c.AddCommand(withDatabaseExport(opts, newDataExportCmd(opts)), withDatabaseImport(opts, newDataImportCmd(opts)), newDataMigrateCmd(opts)) // --database: data_pg.go
	return c
}

func addDataFlags(c *cobra.Command, f *dataFlags, rateUnit string) {
	addSpecFlag(c, &f.file)
	c.Flags().StringVar(&f.table, "table", "", "the table (default: the deployed stack's, or with --dynamodb-endpoint lowfare dev's <app>-<env>)")
	c.Flags().StringVar(&f.endpoint, "dynamodb-endpoint", "", "a local DynamoDB-compatible endpoint, e.g. http://127.0.0.1:4567 (dummy credentials)")
	c.Flags().StringVar(&f.rate, "rate", "auto", "pace in "+rateUnit+" a second: a number, auto (half the table's provisioned capacity, 20 if on-demand) or unlimited")
}

// parseRate reads --rate: auto (0, true), unlimited (-1) or a positive number.
func parseRate(s string) (rate float64, auto bool, err error) {
	switch s {
	case "auto", "":
		return 0, true, nil
	case "unlimited":
		return -1, false, nil
	}
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || !(r > 0 && r <= 1e6) { // also refuses NaN
		return 0, false, fmt.Errorf("--rate %q: use a positive number of capacity units a second, auto or unlimited", s)
	}
	return r, false, nil
}

// check validates the flags before any AWS call.
func (f *dataFlags) check() error {
	if _, _, err := parseRate(f.rate); err != nil {
		return usageErr(err)
	}
	if f.endpoint != "" {
		u, err := url.Parse(f.endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageErrf("--dynamodb-endpoint %q is not an http(s) URL, e.g. http://127.0.0.1:4567", f.endpoint)
		}
	}
	if f.table != "" && !validTableName(f.table) {
		return usageErrf("--table %q is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)", f.table)
	}
	return nil
}

func validTableName(s string) bool {
	if len(s) < 3 || len(s) > 255 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}

// dataTarget is the resolved client and table, and the table's capacity
// (which every data command paces itself by).
type dataTarget struct {
	ddb      *dynamodb.Client
	table    string
	capacity data.Capacity
}

// resolve finds the table (see locate) and reads its capacity.
func (f *dataFlags) resolve(ctx context.Context, opts *rootOptions) (*dataTarget, error) {
	t, err := f.locate(ctx, opts)
	if err != nil {
		return nil, err
	}
	if t.capacity, err = data.TableCapacity(ctx, t.ddb, t.table); err != nil {
		return nil, err
	}
	return t, nil
}

// locate finds the table: --dynamodb-endpoint with dummy credentials, or
// the AWS configuration of the spec (as every day-2 command loads it) and
// the stack's TableName output unless --table names one.
func (f *dataFlags) locate(ctx context.Context, opts *rootOptions) (*dataTarget, error) {
	if f.endpoint != "" {
		table := f.table
		if table == "" {
			// The table lowfare dev gives the spec's app.
			s, err := loadSpec(opts, f.file)
			if err != nil {
				return nil, usageErrf("%v\n(with --dynamodb-endpoint the table is the one lowfare dev gives the spec's app, <app>-<env>; or name it with --table, e.g. --table links for lowfare dev --demo)", err)
			}
			table = devstack.DevTable(s)
		}
		return &dataTarget{ddb: ddblocal.NewClient(f.endpoint), table: table}, nil
	}
	s, err := loadSpec(opts, f.file)
	if err != nil {
		return nil, err
	}
	cfg, err := specAWS(ctx, opts, s)
	if err != nil {
		return nil, err
	}
	t := &dataTarget{ddb: dynamodb.NewFromConfig(cfg), table: f.table}
	if t.table == "" {
		st, err := ops.DescribeStack(ctx, cloudformation.NewFromConfig(cfg), s)
		if err != nil {
			return nil, err
		}
		if t.table, err = st.Output(stack.OutputTable); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// limiter builds the pacing for --rate; provisioned is the capacity of the
// kind the command uses (0: on-demand or unknown).
func (f *dataFlags) limiter(provisioned int64) *data.Limiter {
	rate, auto, _ := parseRate(f.rate) // checked before
	if auto {
		rate = defaultOnDemandRate
		if provisioned > 0 {
			rate = max(1, float64(provisioned)/2)
		}
	}
	if rate < 0 {
		return nil
	}
	return data.NewLimiter(rate, nil)
}

func rateString(l *data.Limiter) string {
	if l == nil {
		return "unlimited"
	}
	return strconv.FormatFloat(l.Rate(), 'f', -1, 64)
}

// progressTo prints progress lines on stderr.
func progressTo(w io.Writer, verb, unit string) func(data.Progress) {
	return func(p data.Progress) {
		secs := max(p.Elapsed.Seconds(), 0.001)
		skipped := ""
		if p.Skipped > 0 {
			skipped = fmt.Sprintf(", %d skipped", p.Skipped)
		}
		fmt.Fprintf(w, "%s %d items%s in %s (%.0f items/s, %.1f %s/s)\n", verb, p.Items, skipped,
			p.Elapsed.Round(time.Second), float64(p.Items+p.Skipped)/secs, p.Units/secs, unit)
	}
}

func newDataExportCmd(opts *rootOptions) *cobra.Command {
	f := &dataFlags{}
	var out string
	var segments int
	c := &cobra.Command{
		Use:   "export [-o FILE]",
		Short: "Write every item of the table to a file (JSON Lines, DynamoDB JSON)",
		Long: `Write every item of the table as JSON Lines: a header line (format version,
table, key schema, time), one item per line in DynamoDB JSON, and a trailer
line with the item count and a checksum, which import checks.

The export is a parallel Scan (--segments), paced to --rate read capacity
units a second. It is not a point-in-time snapshot: items written while it
runs may appear in their old or new state. Writing to a file, the file
appears only once the export is complete.`,
		Example: `  lowfare data export -o links-$(date +%F).jsonl
  lowfare data export --rate 10 | gzip > links.jsonl.gz
  lowfare data export --dynamodb-endpoint http://127.0.0.1:4567 -o dev.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			if segments < 1 || segments > 64 {
				return usageErrf("--segments %d: use 1 to 64", segments)
			}
			if out != "-" {
				if dir := filepath.Dir(out); dir != "." {
					if st, err := os.Stat(dir); err != nil || !st.IsDir() {
						return usageErrf("-o %s: directory %s does not exist", out, dir)
					}
				}
			}
			return runDataExport(cmd, opts, f, out, segments)
		},
	}
	addDataFlags(c, f, "RCU")
	c.Flags().StringVarP(&out, "output", "o", "-", "file to write; - for standard output")
	c.Flags().IntVar(&segments, "segments", data.DefaultSegments, "parallel Scan segments")
	return c
}

func runDataExport(cmd *cobra.Command, opts *rootOptions, f *dataFlags, out string, segments int) error {
	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()
	t, err := f.resolve(ctx, opts)
	if err != nil {
		return err
	}
	lim := f.limiter(t.capacity.Read)
	fmt.Fprintf(stderr, "Exporting table %s (%s RCU/s)...\n", t.table, rateString(lim))

	w, commit, abort, err := exportWriter(cmd.OutOrStdout(), out)
	if err != nil {
		return err
	}
	sum, err := data.Export(ctx, t.ddb, w, data.ExportOptions{
		Table: t.table, Segments: segments, Limiter: lim,
		Progress: progressTo(stderr, "exported", "RCU"),
	})
	if err != nil {
		abort()
		return err
	}
	if err := commit(); err != nil {
		return err
	}
	where := out
	if out == "-" {
		where = "standard output"
	}
	segNote := fmt.Sprintf("scan segments: %d", sum.Header.Segments)
	if sum.Header.Segments != segments {
		segNote += fmt.Sprintf(" of the %d asked for: this endpoint does not split a Scan into segments", segments)
	}
	fmt.Fprintf(stderr, "Exported %d items of table %s to %s (%s).\n", sum.Items, t.table, where, segNote)
	return nil
}

// exportWriter writes to standard output, or to a new version of out
// that replaces it only when the export is complete (atomicfile).
func exportWriter(stdout io.Writer, out string) (io.Writer, func() error, func(), error) {
	if out == "-" {
		return stdout, func() error { return nil }, func() {}, nil
	}
	f, err := atomicfile.Create(out, 0o600) // an export holds the table's data: the owner's only
	if err != nil {
		return nil, nil, nil, fmt.Errorf("creating %s: %w", out, err)
	}
	commit := func() error {
		if err := f.Commit(); err != nil {
			return fmt.Errorf("writing %s: %w", out, err)
		}
		return nil
	}
	return f, commit, f.Abort, nil
}

func newDataImportCmd(opts *rootOptions) *cobra.Command {
	f := &dataFlags{}
	var mode string
	c := &cobra.Command{
		Use:   "import FILE",
		Short: "Write the items of an export into the table",
		Long: `Write the items of an export into the table (FILE, or - for standard input).

A file is checked completely first, every line and the trailer's count and
checksum, so a damaged or truncated file changes nothing (exit 2, naming
the line). From standard input, lines are checked batch by batch: a bad
line stops the import with its line number and nothing of its batch of 25
is written.

--mode skip-existing (the default) keeps items whose key is already in the
table (a conditional put per item); --mode overwrite replaces them
(BatchWriteItem). Importing the same file twice is harmless either way.
Writes are paced to --rate write capacity units a second, index writes
included.`,
		Example: `  lowfare data import links-2026-11-25.jsonl
  lowfare data import --mode overwrite --rate 20 links.jsonl
  gunzip -c links.jsonl.gz | lowfare data import -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			m, err := data.ParseMode(mode)
			if err != nil {
				return usageErr(fmt.Errorf("--%w", err))
			}
			return runDataImport(cmd, opts, f, args[0], m)
		},
	}
	addDataFlags(c, f, "WCU")
	c.Flags().StringVar(&mode, "mode", string(data.ModeSkipExisting), "skip-existing or overwrite: what to do with items already in the table")
	return c
}

func runDataImport(cmd *cobra.Command, opts *rootOptions, f *dataFlags, path string, mode data.Mode) error {
	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()
	var in io.Reader = cmd.InOrStdin()
	if path != "-" {
		file, err := os.Open(path)
		if err != nil {
			return usageErr(err)
		}
		defer file.Close()
		sum, err := data.Verify(file)
		if err != nil {
			return usageErr(fmt.Errorf("%s: %w; nothing was written", path, err))
		}
		fmt.Fprintf(stderr, "%s: %d items of table %s, exported %s; checked.\n", path, sum.Items, sum.Header.Table, sum.Header.ExportedAt.Format(time.RFC3339))
		if _, err := file.Seek(0, io.SeekStart); err != nil {
			return err
		}
		in = file
	}
	t, err := f.resolve(ctx, opts)
	if err != nil {
		return err
	}
	lim := f.limiter(t.capacity.Write)
	fmt.Fprintf(stderr, "Importing into table %s (%s, %s WCU/s)...\n", t.table, mode, rateString(lim))
	res, err := data.Import(ctx, t.ddb, in, data.ImportOptions{
		Table: t.table, Mode: mode, Limiter: lim,
		Progress: progressTo(stderr, "imported", "WCU"),
	})
	if err != nil {
		var le *data.LineError
		if errors.As(err, &le) || errors.Is(err, data.ErrIncomplete) {
			return usageErr(err)
		}
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "Imported %d items into table %s", res.Written, t.table)
	if mode == data.ModeSkipExisting {
		fmt.Fprintf(cmd.OutOrStdout(), "; skipped %d already there", res.Skipped)
	}
	fmt.Fprintf(cmd.OutOrStdout(), " (about %.0f WCU).\n", res.Units)
	return nil
}

func newDataMigrateCmd(opts *rootOptions) *cobra.Command {
	f := &dataFlags{}
	var dryRun bool
	var dir string
	c := &cobra.Command{
		Use:   "migrate [--dry-run]",
		Short: "Apply the app's data migrations (migrations/*.yaml) the table has not had yet",
		Long: `Apply, in order, the data migrations of your app that its table has not had
yet. They are YAML files in a migrations/ folder beside lowfare.yaml (or
--migrations DIR), numbered 001-name.yaml, 002-name.yaml..., each a list of
steps:

  put     items, written only if their key is not taken yet
  set     an attribute on the items whose PK/SK start with given prefixes,
          to a value or to a template of their own attributes
          ("{created_at}#{PK}": how to backfill a GSI1 key), if_missing or not
  rename  an attribute on the matching items
  remove  an attribute from the matching items

Every step is idempotent: a run that is interrupted is simply run again.
The applied version is stored in the table (PK SCHEMA, SK VERSION) and a
lock item (SK LOCK, with an owner and an expiry) keeps two runs from
migrating at once; both are written only when there is a migration to
apply. Without migration files the command says so and touches nothing.
--dry-run lists what would be applied and changes nothing. See
docs/runbooks/migrate-data.md for the format, with an example.`,
		Example: `  lowfare data migrate --dry-run
  lowfare data migrate
  lowfare data migrate --dynamodb-endpoint http://127.0.0.1:4567   # try them on lowfare dev's table first`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			if dir == "" {
				dir = filepath.Join(filepath.Dir(f.file), data.MigrationsDir)
			}
			list, err := data.LoadMigrations(dir)
			if err != nil {
				return usageErr(err)
			}
			if len(list) == 0 {
				// Nothing of the user's to apply: no call at all, so a
				// table is never given bookkeeping items it has no use for.
				fmt.Fprintf(cmd.OutOrStdout(), "No migrations in %s: nothing to apply, and the table was not touched.\n"+
					"To write one, create %s (steps: put, set, rename, remove); see docs/runbooks/migrate-data.md.\n",
					dir, filepath.Join(dir, "001-name.yaml"))
				return nil
			}
			return runDataMigrate(cmd, opts, f, list, dryRun)
		},
	}
	addDataFlags(c, f, "capacity units (reads and writes each)")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "list the pending migrations; change nothing")
	c.Flags().StringVar(&dir, "migrations", "", "the folder of migration files (default: migrations/ beside the spec)")
	return c
}

func runDataMigrate(cmd *cobra.Command, opts *rootOptions, f *dataFlags, list []data.Migration, dryRun bool) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	t, err := f.resolve(ctx, opts)
	if err != nil {
		return err
	}
	m := &data.Migrator{
		DDB: t.ddb, Table: t.table,
		Read: f.limiter(t.capacity.Read), Write: f.limiter(t.capacity.Write),
		Log: cmd.ErrOrStderr(),
	}
	if dryRun {
		plan, err := m.Plan(ctx, list)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Table %s is at version %d; the migration files go to %d.\n", t.table, plan.Current, plan.Latest)
		if len(plan.Pending) == 0 {
			fmt.Fprintln(out, "Nothing to apply.")
			return nil
		}
		fmt.Fprintln(out, "Would apply:")
		for _, mg := range plan.Pending {
			fmt.Fprintf(out, "  %d %s\n", mg.ID, mg.Name)
		}
		fmt.Fprintln(out, "Dry run: nothing was changed. Run lowfare data migrate to apply them.")
		return nil
	}
	res, err := m.Migrate(ctx, list)
	if err != nil {
		return err
	}
	if len(res.Applied) == 0 {
		fmt.Fprintf(out, "Table %s is at version %d: nothing to apply.\n", t.table, res.To)
		return nil
	}
	fmt.Fprintf(out, "Table %s migrated from version %d to %d.\n", t.table, res.From, res.To)
	return nil
}
