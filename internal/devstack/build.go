package devstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lowfare/lowfare/internal/gosrc"
)

// builder compiles the spec's Go main package for this machine. The image
// lowfare deploys is built from the same package through the same
// gosrc.Build (internal/image), as a static release binary for linux and
// the spec's arch; here it is for this machine, with the user's
// environment, and without cgo like the image.
type builder struct {
	goBin  string    // "go" unless a test says otherwise
	pkgDir string    // the package's directory (service.image, from the spec's directory)
	out    string    // directory of the binaries
	n      int       // builds so far: each gets a new file, so a running app keeps its own
	began  time.Time // when the last build began: sources saved later are not in it
}

// build compiles the package and returns the binary's path. A failure
// returns the compiler's output, so the user sees what to fix.
func (b *builder) build(ctx context.Context) (string, error) {
	if err := os.MkdirAll(b.out, 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w", b.out, err)
	}
	b.n++
	b.began = time.Now()
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
		var be *gosrc.BuildError
		if errors.As(err, &be) {
			return "", &buildError{dir: b.pkgDir, status: be.Err, output: be.Output}
		}
		return "", err
	}
	if old := filepath.Join(b.out, fmt.Sprintf("app-%d", b.n-2)); b.n > 2 {
		_ = os.Remove(old) // the one before the running one is no longer needed
	}
	return bin, nil
}

// buildError is a failed build of the app: the compiler's output as it
// wrote it, one line per line, indented under what failed.
type buildError struct {
	dir    string
	status error
	output string
}

func (e *buildError) Error() string {
	return fmt.Sprintf("go build in %s failed (%v):\n%s", e.dir, e.status, indent(e.output, "    "))
}

// indent puts prefix before each line of s.
func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}
