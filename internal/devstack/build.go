package devstack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lowfare/lowfare/internal/gosrc"
)

// builder compiles the spec's Go main package for this machine. The image
// lowfare deploys is built from the same package through the same
// gosrc.Build (internal/image), as a static release binary for linux and
// the spec's arch; here it is for this machine, with the user's
// environment, and without cgo like the image.
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
	// Without cgo, as the image is built: a package that needs it is
	// refused here as it is there (gosrc.CgoError), not run in dev and
	// broken in AWS.
	err = gosrc.Build(ctx, gosrc.BuildOptions{
		Go: b.goBin, Dir: b.pkgDir, Package: ".", Out: bin, NoCgo: true,
		Why: "lowfare dev",
	})
	if err != nil {
		return "", err
	}
	if old := filepath.Join(b.out, fmt.Sprintf("app-%d", b.n-2)); b.n > 2 {
		_ = os.Remove(old) // the one before the running one is no longer needed
	}
	return bin, nil
}

// moduleRoot is the directory of the go.mod that holds dir, or "".
func moduleRoot(dir string) string { return gosrc.ModuleRoot(dir) }

// watch calls changed each time the sources under root change, checking
// every interval, until ctx ends. Several saves in one interval are one
// change: an editor that writes a file twice rebuilds once.
func watch(ctx context.Context, root string, interval time.Duration, changed func()) {
	last := gosrc.SourceStamp(root)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s := gosrc.SourceStamp(root); s != last {
				last = s
				changed()
			}
		}
	}
}
