package devstack

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lowfare/lowfare/internal/atomicfile"
	"github.com/lowfare/lowfare/internal/spec"
)

// The local Postgres of `lowfare dev` for an app with a database: the
// machine's own PostgreSQL server programs (Debian's package postgresql),
// a cluster kept in <data dir>/pg, listening on a free port of 127.0.0.1
// (and on a unix socket in <data dir>/pg/run), stopped after the app. The
// app gets the libpq variables and DATABASE_URL, as on AWS (docs/apps.md).
const (
	// PostgresDir is the directory of the local cluster in the data dir.
	PostgresDir = "pg"
	// PostgresPackage is the Debian package with the server programs.
	PostgresPackage = "postgresql"

	// postgresConnFile holds where a running lowfare dev's Postgres
	// listens, for `lowfare data export --database` beside it.
	postgresConnFile = "conn.json"
	// unprivilegedRoot is where the cluster lives when lowfare runs as
	// root (see postgresAccount); /var/tmp survives reboots, unlike /tmp.
	unprivilegedRoot = "/var/tmp/lowfare-dev-pg"
	// The longest unix socket path (sun_path less its NUL on Linux); a
	// longer socket directory gets no socket, TCP only.
	maxSocketPath = 107
)

// postgresStopTimeout bounds the fast shutdown before SIGQUIT.
var postgresStopTimeout = 30 * time.Second

// Postgres is a running local PostgreSQL server.
type Postgres struct {
	// Host, Port, Database, User and Password are what the app gets as
	// PGHOST, PGPORT, PGDATABASE, PGUSER and PGPASSWORD.
	Host     string
	Port     int
	Database string
	User     string
	Password string
	// Dir is the cluster's directory (<data dir>/pg), BinDir the
	// directory of the server programs, RunAs the account the server runs
	// as when lowfare runs as root ("" otherwise).
	Dir, BinDir, RunAs string

	cmd      *exec.Cmd
	exited   chan struct{}
	logf     *os.File
	connPath string // the conn file this server wrote
	once     sync.Once
}

// Env is the app's Postgres environment: the libpq variables every
// Postgres driver reads, and DATABASE_URL, without TLS on the loopback.
func (p *Postgres) Env() []string {
	if p == nil {
		return nil
	}
	return []string{
		"PGHOST=" + p.Host,
		"PGPORT=" + strconv.Itoa(p.Port),
		"PGDATABASE=" + p.Database,
		"PGUSER=" + p.User,
		"PGPASSWORD=" + p.Password,
		"PGSSLMODE=disable",
		"DATABASE_URL=" + p.URL(),
	}
}

// URL is DATABASE_URL: without the password, which drivers read from
// PGPASSWORD, as on AWS (spec.Spec.DatabaseURL, docs/apps.md).
func (p *Postgres) URL() string {
	u := &url.URL{Scheme: "postgres", Host: p.Host + ":" + strconv.Itoa(p.Port), Path: "/" + p.Database, RawQuery: "sslmode=disable"}
	u.User = url.User(p.User)
	return u.String()
}

// startDevPostgres starts the local Postgres of an app whose spec has a
// database, or returns nil when it has none.
func startDevPostgres(ctx context.Context, s *spec.Spec, dataDir string, log *slog.Logger) (*Postgres, error) {
	if s.Database == nil {
		return nil, nil
	}
	return StartPostgres(ctx, dataDir, s.DatabaseName(), log)
}

// StartPostgres starts the local cluster of the data dir, creating it
// (and the database, spec.DatabaseName as on AWS) the first time. The caller holds
// the data dir (lowfare dev's lock) and calls Stop.
func StartPostgres(ctx context.Context, dataDir, database string, log *slog.Logger) (*Postgres, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	bin, err := PostgresBinDir()
	if err != nil {
		return nil, err
	}
	acct, err := postgresAccount()
	if err != nil {
		return nil, err
	}
	dir, err := postgresDir(dataDir, acct)
	if err != nil {
		return nil, err
	}
	p := &Postgres{Host: "127.0.0.1", Database: database, User: spec.DatabaseUser, Dir: dir, BinDir: bin, RunAs: acct.name}
	if p.Password, err = postgresPassword(dir, acct); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := stopLeftover(data, log); err != nil {
		return nil, err
	}
	if p.logf, err = os.OpenFile(filepath.Join(dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		return nil, fmt.Errorf("opening the Postgres log: %w", err)
	}
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		log.Info("creating the local Postgres cluster", "dir", dir, "bin", bin, "as user", acct.display())
		if err := p.initCluster(ctx, acct, data); err != nil {
			p.logf.Close()
			return nil, err
		}
	}
	if p.Port, err = freePort(); err != nil {
		p.logf.Close()
		return nil, err
	}
	if err := p.start(ctx, acct, data); err != nil {
		p.logf.Close()
		return nil, err
	}
	if err := p.writeConn(dataDir); err != nil {
		p.Stop()
		return nil, err
	}
	log.Info("Postgres is running", "url", p.URL(), "password", filepath.Join(dir, "password"), "as user", acct.display())
	return p, nil
}

// PostgresBinDir finds the directory of the PostgreSQL server programs
// (initdb and postgres): on PATH, else in Debian's versioned directories
// (/usr/lib/postgresql/<major>/bin, the newest first), which Debian keeps
// off PATH.
func PostgresBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if dir := filepath.Dir(p); isFile(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	var dirs []string
	for _, pattern := range postgresSearch {
		found, _ := filepath.Glob(pattern)
		slices.SortFunc(found, func(a, b string) int { return majorOf(b) - majorOf(a) })
		dirs = append(dirs, found...)
	}
	for _, dir := range dirs {
		if isFile(filepath.Join(dir, "initdb")) && isFile(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("the spec has a database, and lowfare dev runs it with this machine's PostgreSQL server programs (initdb, postgres), which are not installed: install the package %s (Debian, Ubuntu: sudo apt-get install %s), or put the directory holding initdb and postgres on PATH", PostgresPackage, PostgresPackage)
}

// postgresSearch are where PostgresBinDir looks beyond PATH: Debian's
// versioned directories, then the source build's default prefix.
var postgresSearch = []string{"/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin"}

// majorOf is the major version in /usr/lib/postgresql/<major>/bin.
func majorOf(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// postgresPassword reads the cluster's password, or makes one.
func postgresPassword(dir string, _ account) (string, error) {
	path := filepath.Join(dir, "password")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	pw := rand.Text() // 26 characters of base32: 130 bits, safe in a URL
	if err := atomicfile.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("saving the Postgres password: %w", err)
	}
	return pw, nil
}

// initCluster runs initdb (password authentication for every connection,
// the app's role as superuser) and creates the app's database in
// single-user mode, so nothing but the server programs is needed.
func (p *Postgres) initCluster(ctx context.Context, acct account, data string) error {
	pwfile := filepath.Join(p.Dir, "initdb-password")
	if err := os.WriteFile(pwfile, []byte(p.Password+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pwfile)
	if err := chownTo(pwfile, acct); err != nil {
		return err
	}
	if err := p.runTool(ctx, acct, nil, "initdb", "-D", data, "-U", p.User, "--pwfile="+pwfile,
		"--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(data) // a half-made cluster would make the next start fail
		return err
	}
	// A database of the role's name too, so psql without -d connects.
	sql := fmt.Sprintf("CREATE DATABASE %s;\nCREATE DATABASE %s;\n", p.Database, p.User)
	if p.Database == p.User {
		sql = fmt.Sprintf("CREATE DATABASE %s;\n", p.Database)
	}
	return p.runTool(ctx, acct, strings.NewReader(sql), "postgres", "--single", "-D", data, "-c", "lc_messages=C", "postgres")
}

// runTool runs one of the server programs to completion, its output to
// the Postgres log; on failure the error carries the output's tail.
func (p *Postgres) runTool(ctx context.Context, acct account, stdin io.Reader, name string, args ...string) error {
	var out tailBuffer
	cmd := exec.CommandContext(ctx, filepath.Join(p.BinDir, name), args...)
	cmd.Dir, cmd.Env, cmd.Stdin = p.Dir, postgresEnv(), stdin
	cmd.Stdout, cmd.Stderr = io.MultiWriter(p.logf, &out), io.MultiWriter(p.logf, &out)
	cmd.SysProcAttr = acct.credential()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s failed (%w); its output, also in %s:\n%s", name, err, p.logf.Name(), out.String())
	}
	return nil
}

// start runs the server and waits until it accepts connections.
func (p *Postgres) start(ctx context.Context, acct account, data string) error {
	socketDir := filepath.Join(p.Dir, "run")
	if err := os.MkdirAll(socketDir, 0o700); err != nil {
		return err
	}
	if err := chownTo(socketDir, acct); err != nil {
		return err
	}
	if len(socketDir)+len("/.s.PGSQL.")+5 > maxSocketPath {
		socketDir = "" // TCP only: the path is too long for a socket
	}
	cmd := exec.Command(filepath.Join(p.BinDir, "postgres"), "-D", data,
		"-c", "listen_addresses=127.0.0.1", "-c", "port="+strconv.Itoa(p.Port),
		"-c", "unix_socket_directories="+socketDir, "-c", "lc_messages=C",
		"-c", "logging_collector=off", "-c", "shared_buffers=32MB", "-c", "max_connections=50")
	cmd.Dir, cmd.Env = p.Dir, postgresEnv()
	cmd.SysProcAttr = acct.credential()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.Stdout = p.logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	ready := make(chan struct{})
	var tail tailBuffer
	go func() {
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(p.logf, line)
			if !signalled {
				fmt.Fprintln(&tail, line)
				if strings.Contains(line, "database system is ready to accept connections") {
					signalled = true
					close(ready)
				}
			}
		}
		_ = cmd.Wait()
		close(p.exited)
	}()
	t := time.NewTimer(DefaultStartTimeout)
	defer t.Stop()
	select {
	case <-ready:
		return nil
	case <-p.exited:
		return fmt.Errorf("Postgres stopped while starting; its log, also in %s:\n%s", p.logf.Name(), tail.String())
	case <-ctx.Done():
		p.Stop()
		return ctx.Err()
	case <-t.C:
		p.Stop()
		return fmt.Errorf("Postgres did not accept connections within %s; its log, also in %s:\n%s", DefaultStartTimeout, p.logf.Name(), tail.String())
	}
}

// Stop shuts the server down (fast: open sessions end, the data is
// flushed), escalating to an immediate stop, then a kill, when it does not
// stop in time. It is safe to call on nil and more than once.
func (p *Postgres) Stop() {
	if p == nil {
		return
	}
	p.once.Do(func() {
		if p.cmd != nil && p.cmd.Process != nil {
			for i, sig := range stopSignals {
				_ = p.cmd.Process.Signal(sig)
				wait := 5 * time.Second
				if i == 0 {
					wait = postgresStopTimeout
				}
				if waitClosed(p.exited, wait) {
					break
				}
			}
		}
		if p.connPath != "" {
			_ = os.Remove(p.connPath)
		}
		if p.logf != nil {
			p.logf.Close()
		}
	})
}

func waitClosed(ch chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// postgresEnv is the server programs' environment: this process's less
// the libpq variables (which would point the tools elsewhere), in the C
// locale.
func postgresEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG=") {
			env = append(env, kv)
		}
	}
	return append(env, "LC_ALL=C")
}

// postgresConn is what conn.json holds: where a running lowfare dev's
// Postgres listens (the password stays in its own file).
type postgresConn struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Database string `json:"database"`
	User     string `json:"user"`
	PID      int    `json:"pid"`
}

// writeConn records where this server listens, for the data commands.
func (p *Postgres) writeConn(dataDir string) error {
	p.connPath = filepath.Join(dataDir, PostgresDir+"-"+postgresConnFile)
	b, _ := json.Marshal(postgresConn{Host: p.Host, Port: p.Port, Database: p.Database, User: p.User, PID: os.Getpid()})
	return atomicfile.WriteFile(p.connPath, b, 0o600)
}

// RunningPostgres returns the Postgres a running lowfare dev serves from
// dataDir, or nil when none runs there.
func RunningPostgres(dataDir string) *Postgres {
	b, err := os.ReadFile(filepath.Join(dataDir, PostgresDir+"-"+postgresConnFile))
	if err != nil {
		return nil
	}
	var c postgresConn
	if json.Unmarshal(b, &c) != nil || c.Port == 0 || !processAlive(c.PID) {
		return nil
	}
	dir := filepath.Join(dataDir, PostgresDir)
	pw, err := os.ReadFile(filepath.Join(dir, "password"))
	if err != nil {
		return nil
	}
	bin, _ := PostgresBinDir()
	return &Postgres{Host: c.Host, Port: c.Port, Database: c.Database, User: c.User, Password: strings.TrimSpace(string(pw)), Dir: dir, BinDir: bin}
}

// tailBuffer keeps the last lines written to it, for error messages.
type tailBuffer struct {
	mu    sync.Mutex
	lines []string
	part  string
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.part + string(b)
	parts := strings.Split(s, "\n")
	t.part = parts[len(parts)-1]
	t.lines = append(t.lines, parts[:len(parts)-1]...)
	if len(t.lines) > 20 {
		t.lines = t.lines[len(t.lines)-20:]
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(append(slices.Clone(t.lines), t.part), "\n")
}

// WithPostgres calls fn with the local Postgres of dataDir: the one a
// running lowfare dev serves, or else one started for fn (holding the data
// dir as lowfare dev does, so neither starts the cluster twice) and
// stopped after it.
func WithPostgres(ctx context.Context, dataDir, database string, log *slog.Logger, fn func(*Postgres) error) error {
	if p := RunningPostgres(dataDir); p != nil {
		return fn(p)
	}
	unlock, err := prepareDataDir(dataDir)
	if err != nil {
		return err
	}
	defer unlock()
	p, err := StartPostgres(ctx, dataDir, database, log)
	if err != nil {
		return err
	}
	defer p.Stop()
	return fn(p)
}

// Tool is the path of one of PostgreSQL's client programs (pg_dump,
// pg_restore, psql): the server's own, whose version matches it, else
// the one on PATH.
func (p *Postgres) Tool(name string) (string, error) {
	if p.BinDir != "" && isFile(filepath.Join(p.BinDir, name)) {
		return filepath.Join(p.BinDir, name), nil
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s is not installed: install the package %s-client (Debian, Ubuntu: sudo apt-get install %s-client), or put it on PATH", name, PostgresPackage, PostgresPackage)
	}
	return path, nil
}

// ClientEnv is the environment for a client program run against this
// server: this process's, less any PG* variable of the user's, plus the
// server's.
func (p *Postgres) ClientEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			env = append(env, kv)
		}
	}
	return append(env, p.Env()...)
}
