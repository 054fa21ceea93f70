package devstack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// builder compiles the spec's Go main package for this machine. The image
// lowfare deploys is built from the same package (internal/image), for
// linux and the spec's arch; here it is whatever `go` builds by default.
type builder struct {
	goBin  string // "go" unless a test says otherwise
	pkgDir string // the package's directory (service.image, from the spec's directory)
	out    string // directory of the binaries
	n      int    // builds so far: each gets a new file, so a running app keeps its own
}

// build compiles the package and returns the binary's path. A failure
// returns the compiler's output, so the user sees what to fix.
func (b *builder) build(ctx context.Context) (string, error) {
	if err := os.MkdirAll(b.out, 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w", b.out, err)
	}
	b.n++
	bin, err := filepath.Abs(filepath.Join(b.out, fmt.Sprintf("app-%d", b.n)))
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, b.goBin, "build", "-o", bin, ".")
	cmd.Dir = b.pkgDir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("lowfare dev builds service.image with Go, and %q is not on PATH: install Go from https://go.dev/dl/", b.goBin)
		}
		return "", fmt.Errorf("go build in %s failed: %w\n%s", b.pkgDir, err, strings.TrimSpace(out.String()))
	}
	if old := filepath.Join(b.out, fmt.Sprintf("app-%d", b.n-2)); b.n > 2 {
		_ = os.Remove(old) // the one before the running one is no longer needed
	}
	return bin, nil
}

// moduleRoot is the directory of the go.mod that holds dir, or "".
func moduleRoot(dir string) string {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// maxWatched bounds the files --watch looks at each time, so a module with
// a huge tree cannot make the poll loop expensive.
const maxWatched = 20000

// sourceStamp fingerprints the Go sources --watch cares about: every .go
// file, go.mod and go.sum below the module root (the package and the
// packages of its own module it may import), by name, size and mtime.
// Hidden directories, vendor, testdata and node_modules are skipped.
func sourceStamp(root string) [32]byte {
	h := sha256.New()
	n := 0
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "vendor" || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") && name != "go.mod" && name != "go.sum" {
			return nil
		}
		if n++; n > maxWatched {
			return filepath.SkipAll
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", path, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// watch calls changed each time the sources under root change, checking
// every interval, until ctx ends. Several saves in one interval are one
// change: an editor that writes a file twice rebuilds once.
func watch(ctx context.Context, root string, interval time.Duration, changed func()) {
	last := sourceStamp(root)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s := sourceStamp(root); s != last {
				last = s
				changed()
			}
		}
	}
}
