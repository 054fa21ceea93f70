package ddbtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/testutil"
)

// Where dynalite is looked for, in order: DYNALITE_URL (an already running
// server), DYNALITE_BIN, `dynalite` on PATH, the module's own npm prefix
// (tools/dynalite, after `npm ci --prefix tools/dynalite`), then an older
// local npm prefix.
const (
	envURL        = "DYNALITE_URL"
	envBin        = "DYNALITE_BIN"
	envRequire    = "LOWFARE_REQUIRE_DYNALITE"
	fallbackBin   = "/tmp/npmdyn/node_modules/.bin/dynalite"
	startDeadline = 20 * time.Second
)

func requireDynalite() bool { return os.Getenv(envRequire) == "1" }

func findDynalite() (string, error) {
	if p := os.Getenv(envBin); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", envBin, p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("dynalite"); err == nil {
		return p, nil
	}
	if root, ok := moduleRoot(); ok {
		p := filepath.Join(root, "tools", "dynalite", "node_modules", ".bin", "dynalite")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if _, err := os.Stat(fallbackBin); err == nil {
		return fallbackBin, nil
	}
	return "", errors.New("dynalite not found: install it with `npm ci --prefix tools/dynalite`, put it on PATH, or set DYNALITE_BIN or DYNALITE_URL")
}

// dynaliteBackend returns a running dynalite, or a Backend whose
// SkipReason says why there is none.
func dynaliteBackend(t testing.TB) Backend {
	t.Helper()
	b := Backend{Name: "dynalite"}
	if u := os.Getenv(envURL); u != "" {
		b.Endpoint, b.Client = u, NewClient(u)
		return b
	}
	bin, err := findDynalite()
	if err != nil {
		b.SkipReason = err.Error()
		return b
	}
	u, err := startDynalite(t, bin)
	if err != nil {
		b.SkipReason = "dynalite did not start: " + err.Error()
		return b
	}
	b.Endpoint, b.Client = u, NewClient(u)
	return b
}

// startDynalite runs dynalite in memory on a free 127.0.0.1 port until
// the test ends. Tables become ACTIVE at once (--createTableMs 0).
func startDynalite(t testing.TB, bin string) (string, error) {
	t.Helper()
	var lastErr error
	for range 3 { // the free port can be taken between probe and start
		port, err := testutil.PickPort()
		if err != nil {
			return "", err
		}
		var out testutil.Buffer // the child's output, for error messages
		cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
			"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			return "", err
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err := waitListening(addr, exited); err != nil {
			_ = cmd.Process.Kill()
			lastErr = fmt.Errorf("%w; output: %s", err, out.String())
			continue
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-exited
		})
		return "http://" + addr, nil
	}
	return "", lastErr
}

// moduleRoot is the nearest directory above the working directory (a
// test's package directory) with a go.mod.
func moduleRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func waitListening(addr string, exited <-chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), startDeadline)
	defer cancel()
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("dynalite exited: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("dynalite not listening on %s after %s", addr, startDeadline)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
