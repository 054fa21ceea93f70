//go:build unix

package devstack

import (
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/testutil"
)

// pgApp copies testdata/pgapp into a fresh directory with a spec that has
// a database, and psql from binDir as the app's client.
func pgApp(t *testing.T, binDir string) (dir string, s *spec.Spec) {
	t.Helper()
	dir = t.TempDir()
	for _, name := range []string{"go.mod", "main.go"} {
		data, err := os.ReadFile(filepath.Join("testdata", "pgapp", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	yaml := "app: pg-notes\nenv: dev\nservice:\n  image: .\n  port: 9090\n  health: {path: /health}\n  env: {PSQL: " +
		filepath.Join(binDir, "psql") + "}\ndatabase:\n  engine: postgres\n"
	if err := os.WriteFile(filepath.Join(dir, "lowfare.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := spec.Load(filepath.Join(dir, "lowfare.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, s
}

// TestDevPostgres: an app with a database gets a real local Postgres
// through the PG* variables and DATABASE_URL; it creates a table, writes
// and reads it back; the data outlives lowfare dev; Postgres stops with it.
// Run as root (this machine, CI), the server runs as the user postgres
// (or nobody) from a directory that user owns.
func TestDevPostgres(t *testing.T) {
	binDir := testutil.Postgres(t, PostgresBinDir)
	dir, s := pgApp(t, binDir)
	dataDir := filepath.Join(dir, ".lowfare", "dev")
	removePostgresDir(t, dataDir)

	app := startApp(t, dir, AppOptions{Spec: s})
	env := func(name string) string {
		_, _, body := getBody(t, app.info.URL+"/env/"+name)
		return body
	}
	if env("PGHOST") != "127.0.0.1" || env("PGDATABASE") != "pg_notes" || env("PGUSER") != spec.DatabaseUser || env("PGPASSWORD") == "" || env("PGSSLMODE") != "disable" {
		t.Fatalf("PG* = %q %q %q %q %q", env("PGHOST"), env("PGDATABASE"), env("PGUSER"), env("PGPASSWORD"), env("PGSSLMODE"))
	}
	port, err := strconv.Atoi(env("PGPORT"))
	if err != nil {
		t.Fatal(err)
	}
	// The same URL as on AWS, but for host, port and TLS: no password.
	wantURL := s.DatabaseURL("127.0.0.1", port, "disable")
	if got := env("DATABASE_URL"); got != wantURL {
		t.Errorf("DATABASE_URL = %q, want %q", got, wantURL)
	}

	resp, err := http.Post(app.info.URL+"/notes", "text/plain", strings.NewReader("it's in postgres"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /notes = %d\n%s", resp.StatusCode, app.out.String())
	}
	for _, path := range []string{"/notes", "/notes?url"} { // the PG* variables, then DATABASE_URL and PGPASSWORD alone
		if code, _, body := getBody(t, app.info.URL+path); code != 200 || body != "it's in postgres\n" {
			t.Fatalf("GET %s = %d %q\n%s", path, code, body, app.out.String())
		}
	}

	// Who runs the server, and where its files are.
	pgDir := filepath.Join(dataDir, PostgresDir)
	fi, err := os.Lstat(pgDir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(pgDir, "data", "PG_VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	owner := st.Sys().(*syscall.Stat_t).Uid
	if os.Geteuid() == 0 {
		if fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("as root, %s is not a link to the unprivileged user's directory", pgDir)
		}
		if owner == 0 {
			t.Errorf("as root, the cluster is root's: Postgres would refuse to run")
		}
		if u, err := user.LookupId(strconv.Itoa(int(owner))); err == nil && u.Username != "postgres" && u.Username != "nobody" {
			t.Errorf("cluster owned by %s, want postgres or nobody", u.Username)
		}
		if !strings.Contains(app.out.String(), "as user") {
			t.Errorf("lowfare dev does not say which user runs Postgres:\n%s", app.out.String())
		}
	} else if owner != uint32(os.Geteuid()) || !fi.IsDir() {
		t.Errorf("cluster owned by uid %d in %v, want this user's directory", owner, fi.Mode())
	}
	if RunningPostgres(dataDir) == nil {
		t.Errorf("no running Postgres recorded in %s", dataDir)
	}

	if err := app.stop(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
		c.Close()
		t.Errorf("Postgres still listens on %d after lowfare dev stopped", port)
	}
	if RunningPostgres(dataDir) != nil {
		t.Errorf("a stopped lowfare dev's Postgres is still recorded as running")
	}

	// The data is kept in the data dir: a second lowfare dev reads it.
	again := startApp(t, dir, AppOptions{Spec: s})
	if code, _, body := getBody(t, again.info.URL+"/notes"); code != 200 || body != "it's in postgres\n" {
		t.Fatalf("after a restart GET /notes = %d %q\n%s", code, body, again.out.String())
	}
}

// removePostgresDir removes, when the test ends (after every lowfare dev
// it started has stopped), the cluster a run as root keeps outside the
// test's directory.
func removePostgresDir(t *testing.T, dataDir string) {
	t.Cleanup(func() {
		if target, err := os.Readlink(filepath.Join(dataDir, PostgresDir)); err == nil && strings.HasPrefix(target, unprivilegedRoot+"/") {
			if err := os.RemoveAll(target); err != nil {
				t.Error(err)
			}
		}
	})
}

// The server programs are found off PATH in Debian's versioned
// directories, the newest first; without them the message names the
// package to install.
func TestPostgresBinDir(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"9", "13", "16"} {
		bin := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, tool := range []string{"initdb", "postgres"} {
			if v == "9" && tool == "postgres" {
				continue // not a complete installation
			}
			if err := os.WriteFile(filepath.Join(bin, tool), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Setenv("PATH", t.TempDir())
	saved := postgresSearch
	t.Cleanup(func() { postgresSearch = saved })

	postgresSearch = []string{filepath.Join(root, "*", "bin")}
	got, err := PostgresBinDir()
	if err != nil || got != filepath.Join(root, "16", "bin") {
		t.Errorf("PostgresBinDir = %q, %v; want version 16's", got, err)
	}

	postgresSearch = []string{filepath.Join(root, "none", "bin")}
	_, err = PostgresBinDir()
	if err == nil || !strings.Contains(err.Error(), "apt-get install postgresql") || !strings.Contains(err.Error(), "package postgresql") {
		t.Errorf("err = %v, want one naming the package postgresql", err)
	}
}

// A Postgres left running by a lowfare dev that was killed (no Stop) is
// stopped by the next start, which then serves the same data.
func TestPostgresLeftRunning(t *testing.T) {
	testutil.Postgres(t, PostgresBinDir)
	dataDir := filepath.Join(t.TempDir(), "dev")
	removePostgresDir(t, dataDir)
	ctx := t.Context()
	first, err := StartPostgres(ctx, dataDir, "leftover", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(first.Stop)
	oldPID := first.cmd.Process.Pid

	second, err := StartPostgres(ctx, dataDir, "leftover", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Stop()
	// Gone: reaped (this test is its parent) once it exited.
	if !waitClosed(first.exited, 10*time.Second) {
		t.Errorf("the leftover server (pid %d) still runs after the next start", oldPID)
	}
	if second.Port == first.Port || second.Password != first.Password {
		t.Errorf("second server: port %d (first %d), same password %v", second.Port, first.Port, second.Password == first.Password)
	}
	if RunningPostgres(dataDir).Port != second.Port {
		t.Errorf("conn file names port %d, want the running server's %d", RunningPostgres(dataDir).Port, second.Port)
	}
}

// As root, a cluster directory made by an ordinary user is not handed to
// the postgres user behind the user's back.
func TestPostgresDirAsRootRefusesAUsersDirectory(t *testing.T) {
	dataDir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dataDir, PostgresDir), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := postgresDir(dataDir, account{name: "postgres", uid: 101, gid: 104})
	if err == nil || !strings.Contains(err.Error(), "made by lowfare dev run as an ordinary user") {
		t.Errorf("err = %v", err)
	}
}
