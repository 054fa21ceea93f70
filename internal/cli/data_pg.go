package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/devstack"
)

// The database side of data export and import: --database dumps or
// restores the app's Postgres with the machine's pg_dump and pg_restore,
// against lowfare dev's local Postgres (the running one, or the cluster in
// its data directory, started for the command). On AWS the database has no
// public access: docs/runbooks/postgres-dump-restore.md dumps it from a
// one-off task (lowfare run).

// pgDumpFlags are pg_dump's: its custom format (compressed, what
// pg_restore reads, tables restorable one by one), without owners and
// grants, which name roles of the source server.
var pgDumpFlags = []string{"--format=custom", "--no-owner", "--no-privileges"}

// pgRestoreFlags are pg_restore's: in one transaction that stops at the
// first error (a damaged or foreign dump changes nothing), replacing the
// objects the dump holds.
var pgRestoreFlags = []string{"--single-transaction", "--exit-on-error", "--clean", "--if-exists", "--no-owner", "--no-privileges"}

// dbFlags are what --database adds to export and import.
type dbFlags struct {
	opts    *rootOptions
	on      bool
	dataDir string
}

func (d *dbFlags) add(c *cobra.Command, verb string) {
	c.Flags().BoolVar(&d.on, "database", false, verb+" the app's Postgres database (lowfare dev's local one) instead of the table")
	c.Flags().StringVar(&d.dataDir, "data", devstack.DefaultDataDir, "with --database: lowfare dev's data directory")
}

// tableOnly refuses the table's flags beside --database.
func (d *dbFlags) tableOnly(cmd *cobra.Command, names ...string) error {
	for _, n := range names {
		if f := cmd.Flags().Lookup(n); f != nil && f.Changed {
			return usageErrf("--%s is for the table; --database works on lowfare dev's Postgres (see --data)", n)
		}
	}
	return nil
}

// withDatabaseExport gives data export its --database.
func withDatabaseExport(opts *rootOptions, c *cobra.Command) *cobra.Command {
	d := &dbFlags{opts: opts}
	d.add(c, "dump")
	c.Long += `

With --database, the app's Postgres database is dumped instead: pg_dump's
custom format (compressed; pg_restore reads it), without owners and grants,
from lowfare dev's local Postgres (the running one, or the cluster kept in
--data, started for the dump). pg_dump is the server's own (Debian package
postgresql). On AWS the database is reachable only from the VPC: see
docs/runbooks/postgres-dump-restore.md.`
	c.Example += `
  lowfare data export --database -o db-$(date +%F).dump`
	next := c.RunE
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if !d.on {
			return next(cmd, args)
		}
		if err := d.tableOnly(cmd, "table", "dynamodb-endpoint", "rate", "segments"); err != nil {
			return err
		}
		out, _ := cmd.Flags().GetString("output")
		if out != "-" {
			if dir := filepath.Dir(out); dir != "." {
				if st, err := os.Stat(dir); err != nil || !st.IsDir() {
					return usageErrf("-o %s: directory %s does not exist", out, dir)
				}
			}
		}
		return d.withPostgres(cmd, func(p *devstack.Postgres) error {
			return pgExport(cmd, p, out)
		})
	}
	return c
}

// withDatabaseImport gives data import its --database.
func withDatabaseImport(opts *rootOptions, c *cobra.Command) *cobra.Command {
	d := &dbFlags{opts: opts}
	d.add(c, "restore")
	c.Long += `

With --database, FILE is a dump of data export --database (pg_dump's custom
format), restored into lowfare dev's local Postgres with pg_restore in one
transaction: the objects the dump holds are replaced, others are left as
they are, and a damaged file changes nothing.`
	c.Example += `
  lowfare data import --database db-2026-12-08.dump`
	next := c.RunE
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if !d.on {
			return next(cmd, args)
		}
		if err := d.tableOnly(cmd, "table", "dynamodb-endpoint", "rate", "mode"); err != nil {
			return err
		}
		in := args[0]
		if in != "-" {
			if st, err := os.Stat(in); err != nil || st.IsDir() {
				return usageErrf("%s: not a dump file (%v)", in, err)
			}
		}
		return d.withPostgres(cmd, func(p *devstack.Postgres) error {
			return pgImport(cmd, p, in)
		})
	}
	return c
}

// withPostgres loads the spec (which must have a database) and runs fn
// against lowfare dev's Postgres.
func (d *dbFlags) withPostgres(cmd *cobra.Command, fn func(*devstack.Postgres) error) error {
	file, _ := cmd.Flags().GetString("file")
	s, err := loadSpec(d.opts, file)
	if err != nil {
		return err
	}
	if s.Database == nil {
		return usageErrf("%s has no database: section, so the app has no Postgres to dump or restore (drop --database to work on the table)", file)
	}
	return devstack.WithPostgres(cmd.Context(), d.dataDir, s.DatabaseName(), nil, fn)
}

func pgExport(cmd *cobra.Command, p *devstack.Postgres, out string) error {
	tool, err := p.Tool("pg_dump")
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	fmt.Fprintf(stderr, "Dumping database %s (%s)...\n", p.Database, p.URL())
	w, commit, abort, err := exportWriter(cmd.OutOrStdout(), out)
	if err != nil {
		return err
	}
	if err := runPGTool(cmd, p, tool, nil, w, pgDumpFlags...); err != nil {
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
	fmt.Fprintf(stderr, "Dumped database %s to %s (restore with lowfare data import --database).\n", p.Database, where)
	return nil
}

func pgImport(cmd *cobra.Command, p *devstack.Postgres, in string) error {
	tool, err := p.Tool("pg_restore")
	if err != nil {
		return err
	}
	var src io.Reader = cmd.InOrStdin()
	if in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		src = f
	}
	stderr := cmd.ErrOrStderr()
	fmt.Fprintf(stderr, "Restoring %s into database %s (%s)...\n", in, p.Database, p.URL())
	if err := runPGTool(cmd, p, tool, src, stderr, append(pgRestoreFlags, "--dbname="+p.Database)...); err != nil {
		return fmt.Errorf("%w\nnothing was changed (the restore runs in one transaction)", err)
	}
	fmt.Fprintf(stderr, "Restored %s into database %s.\n", in, p.Database)
	return nil
}

// runPGTool runs a client program against p; its error carries the
// program's own message.
func runPGTool(cmd *cobra.Command, p *devstack.Postgres, tool string, stdin io.Reader, stdout io.Writer, args ...string) error {
	var errOut bytes.Buffer
	c := exec.CommandContext(cmd.Context(), tool, args...)
	c.Env, c.Stdin, c.Stdout, c.Stderr = p.ClientEnv(), stdin, stdout, &errOut
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s failed (%v): %s", filepath.Base(tool), err, strings.TrimSpace(errOut.String()))
	}
	return nil
}
