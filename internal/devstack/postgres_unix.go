//go:build unix

package devstack

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopSignals stop the server: fast shutdown (sessions end, data
// flushed), then immediate, then kill.
// https://www.postgresql.org/docs/current/server-shutdown.html
var stopSignals = []os.Signal{syscall.SIGINT, syscall.SIGQUIT, syscall.SIGKILL}

func processAlive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

// account is who the server programs run as: this process's user, or,
// when that is root, an unprivileged one (initdb and postgres refuse to
// run as root).
type account struct {
	name     string // "" for this process's user
	uid, gid uint32
}

func (a account) display() string {
	if a.name == "" {
		return "this user"
	}
	return a.name
}

// credential is what a child process runs as; nil for this user.
func (a account) credential() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true} // not stopped by the terminal's Ctrl-C before the app is
	if a.name != "" {
		attr.Credential = &syscall.Credential{Uid: a.uid, Gid: a.gid}
	}
	return attr
}

// postgresAccount is this user, or as root the user postgres (Debian's
// package makes it), else nobody.
func postgresAccount() (account, error) {
	if os.Geteuid() != 0 {
		return account{}, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 == nil && err2 == nil {
			return account{name: name, uid: uint32(uid), gid: uint32(gid)}, nil
		}
	}
	return account{}, errors.New("lowfare dev runs as root, and PostgreSQL refuses to: it runs the server as the user postgres or nobody, and this machine has neither; run lowfare dev as an ordinary user")
}

// postgresDir makes the cluster's directory, <data dir>/pg. As root it is
// a symlink to a directory the unprivileged account owns under
// /var/tmp/lowfare-dev-pg (one per data dir, kept across reboots), because
// that account can reach neither into the data dir (0700, root's) nor,
// often, through the project's parent directories.
func postgresDir(dataDir string, acct account) (string, error) {
	link := filepath.Join(dataDir, PostgresDir)
	if acct.name == "" {
		if err := os.MkdirAll(link, 0o700); err != nil {
			return "", fmt.Errorf("creating the Postgres directory: %w", err)
		}
		return link, nil
	}
	target := ""
	fi, err := os.Lstat(link)
	switch {
	case err == nil && fi.Mode()&os.ModeSymlink != 0:
		if target, err = os.Readlink(link); err != nil {
			return "", err
		}
	case err == nil:
		return "", fmt.Errorf("%s was made by lowfare dev run as an ordinary user; as root, Postgres runs as %s, which cannot reach it: run lowfare dev as that user again, or move the directory away to start a new cluster", link, acct.name)
	case !errors.Is(err, os.ErrNotExist):
		return "", err
	default:
		abs, err := filepath.Abs(dataDir)
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256([]byte(abs))
		target = filepath.Join(unprivilegedRoot, hex.EncodeToString(sum[:8]))
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o711); err != nil {
		return "", fmt.Errorf("creating %s for Postgres: %w", filepath.Dir(target), err)
	}
	if err := os.Chmod(filepath.Dir(target), 0o711); err != nil { // traversable, not listable
		return "", err
	}
	if err := os.MkdirAll(target, 0o700); err != nil {
		return "", fmt.Errorf("creating the Postgres directory: %w", err)
	}
	if err := chownTo(target, acct); err != nil {
		return "", err
	}
	if fi == nil {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return "", fmt.Errorf("creating the data directory: %w", err)
		}
		if err := os.Symlink(target, link); err != nil {
			return "", fmt.Errorf("linking %s to %s: %w", link, target, err)
		}
	}
	return target, nil
}

// chownTo gives path to the account the server runs as (nothing to do
// when that is this user).
func chownTo(path string, acct account) error {
	if acct.name == "" {
		return nil
	}
	if err := os.Chown(path, int(acct.uid), int(acct.gid)); err != nil {
		return fmt.Errorf("giving %s to the user %s, who runs Postgres: %w", path, acct.name, err)
	}
	return nil
}

// stopLeftover stops a server an earlier lowfare dev left running (killed
// before it could stop it): its postmaster.pid names a live process.
func stopLeftover(data string, log *slog.Logger) error {
	b, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		return nil
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil || pid <= 1 {
		return nil
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), "postgres") {
		return nil // gone (or not Linux): postgres removes a stale pid file itself
	}
	log.Info("stopping the Postgres an earlier lowfare dev left running", "pid", pid)
	_ = syscall.Kill(pid, syscall.SIGINT)
	deadline := time.Now().Add(postgresStopTimeout)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("a Postgres left running on %s (pid %d) did not stop: stop it, then start lowfare dev again", data, pid)
}
