package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// envRequirePostgres makes a missing PostgreSQL a failure instead of a
// skip; CI sets it after installing Debian's postgresql.
const envRequirePostgres = "LOWFARE_REQUIRE_POSTGRES"

// Postgres returns the directory of this machine's PostgreSQL programs as
// find (the code under test's own lookup) reports it, checking that psql,
// pg_dump and pg_restore are there too (the tests talk to the server
// through them). Without them it skips the test, or fails it when
// LOWFARE_REQUIRE_POSTGRES=1.
func Postgres(t testing.TB, find func() (string, error)) string {
	t.Helper()
	dir, err := find()
	if err == nil {
		for _, tool := range []string{"psql", "pg_dump", "pg_restore"} {
			if _, err = exec.LookPath(filepath.Join(dir, tool)); err != nil {
				break
			}
		}
	}
	if err == nil {
		return dir
	}
	if os.Getenv(envRequirePostgres) == "1" {
		t.Fatalf("PostgreSQL is required (%s=1) but not usable: %v", envRequirePostgres, err)
	}
	t.Skipf("PostgreSQL server programs not installed (Debian package postgresql; set %s=1 to make this a failure)", envRequirePostgres)
	return ""
}
