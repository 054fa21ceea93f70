package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/devstack"
	"github.com/lowfare/lowfare/internal/testutil"
)

const pgSpec = "app: pg-notes\nenv: dev\nregion: us-east-1\ndatabase:\n  engine: postgres\n"

// psqlIn runs SQL with psql against p and returns its unaligned output.
func psqlIn(t *testing.T, p *devstack.Postgres, sql string) string {
	t.Helper()
	tool, err := p.Tool("psql")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tool, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1")
	cmd.Env, cmd.Stdin = p.ClientEnv(), strings.NewReader(sql)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v: %s", err, out)
	}
	return string(out)
}

// withPG runs fn against the cluster of dataDir, started for it.
func withPG(t *testing.T, dataDir string, fn func(p *devstack.Postgres)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := devstack.WithPostgres(ctx, dataDir, "pg_notes", nil, func(p *devstack.Postgres) error { fn(p); return nil }); err != nil {
		t.Fatal(err)
	}
}

// TestDataDatabaseExportImport dumps lowfare dev's Postgres with data
// export --database (the cluster started for the command, then a running
// one), breaks the data, and restores it with data import --database; a
// damaged dump changes nothing.
func TestDataDatabaseExportImport(t *testing.T) {
	testutil.Postgres(t, devstack.PostgresBinDir)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, ".lowfare", "dev")
	t.Cleanup(func() { // as root the cluster lives outside the test's directory
		if target, err := os.Readlink(filepath.Join(dataDir, devstack.PostgresDir)); err == nil && strings.HasPrefix(target, "/var/tmp/lowfare-dev-pg/") {
			_ = os.RemoveAll(target)
		}
	})
	spec := specFile(t, pgSpec)
	withPG(t, dataDir, func(p *devstack.Postgres) {
		psqlIn(t, p, "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL);\nINSERT INTO notes (body) VALUES ('first'), ('second');\n")
	})

	dump := filepath.Join(dir, "db.dump")
	code, _, errOut := runCmd(t, "data", "export", "--database", "-f", spec, "--data", dataDir, "-o", dump)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "Dumped database pg_notes to "+dump) {
		t.Errorf("export says:\n%s", errOut)
	}
	if b, err := os.ReadFile(dump); err != nil || !strings.HasPrefix(string(b), "PGDMP") {
		t.Fatalf("%s is not a pg_dump custom-format file (%v)", dump, err)
	}

	// With the cluster running (as under lowfare dev), the commands use it.
	withPG(t, dataDir, func(p *devstack.Postgres) {
		psqlIn(t, p, "DELETE FROM notes WHERE body = 'first';\nINSERT INTO notes (body) VALUES ('third');\n")
		damaged := filepath.Join(dir, "damaged.dump")
		if err := os.WriteFile(damaged, []byte("PGDMP not really"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := runCmd(t, "data", "import", "--database", "-f", spec, "--data", dataDir, damaged)
		if code == 0 || !strings.Contains(errOut, "pg_restore failed") || !strings.Contains(errOut, "nothing was changed") {
			t.Errorf("damaged import: exit %d: %s", code, errOut)
		}
		if got := psqlIn(t, p, "SELECT body FROM notes ORDER BY id;\n"); got != "second\nthird\n" {
			t.Errorf("after a damaged import notes = %q, want them unchanged", got)
		}

		code, _, errOut = runCmd(t, "data", "import", "--database", "-f", spec, "--data", dataDir, dump)
		if code != 0 {
			t.Fatalf("import: exit %d: %s", code, errOut)
		}
		if got := psqlIn(t, p, "SELECT body FROM notes ORDER BY id;\n"); got != "first\nsecond\n" {
			t.Errorf("after the import notes = %q, want the dump's rows", got)
		}
	})
}

func TestDataDatabaseRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec string
		args []string
		want string
	}{
		{name: "no database", spec: opsSpec, args: []string{"export", "--database"}, want: "has no database: section"},
		{name: "table flag", spec: pgSpec, args: []string{"export", "--database", "--table", "x"}, want: "--table is for the table"},
		{name: "import mode", spec: pgSpec, args: []string{"import", "--database", "--mode", "overwrite", "x.dump"}, want: "--mode is for the table"},
		{name: "missing dump", spec: pgSpec, args: []string{"import", "--database", "nope.dump"}, want: "nope.dump: not a dump file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"data"}, tc.args...)
			args = append(args, "-f", specFile(t, tc.spec), "--data", t.TempDir())
			code, _, errOut := runCmd(t, args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want 2 saying %q: %s", code, tc.want, errOut)
			}
		})
	}
}
