//go:build !unix

package devstack

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
)

// Without POSIX signals the server can only be killed.
var stopSignals = []os.Signal{os.Kill}

func processAlive(int) bool { return true }

// account is this process's user: only unix has root to avoid.
type account struct{ name string }

func (account) display() string { return "this user" }

func (account) credential() *syscall.SysProcAttr { return nil }

func postgresAccount() (account, error) { return account{}, nil }

func postgresDir(dataDir string, _ account) (string, error) {
	dir := filepath.Join(dataDir, PostgresDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating the Postgres directory: %w", err)
	}
	return dir, nil
}

func stopLeftover(string, *slog.Logger) error { return nil }

func chownTo(string, account) error { return nil }
