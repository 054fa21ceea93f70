package image

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"

	"github.com/lowfare/lowfare/internal/gosrc"
)

// The helper binaries lowfare adds to the images it builds: the health
// probe (spec.HealthProbe) in every image, the Lambda adapter
// (spec.LambdaAdapter) in images for profile serverless.
//
// The user's module does not contain them, and lowfare may be a binary
// installed with `go install`, far from its source tree. So their sources
// are embedded here (standard-library-only main packages under probe/ and
// adapter/) and compiled at image build time, for the image's GOARCH, in a
// throwaway module of their own: nothing from the user's module (its
// go.mod, vendor directory, GOFLAGS) can change them, and they need no
// network. The results are cached by content (sources, Go version,
// GOARCH) under the user cache directory, so only the first build for an
// architecture compiles them.
//
//go:embed probe/main.go
//go:embed adapter/main.go adapter/event.go adapter/runtime.go adapter/secrets.go adapter/stream.go
//go:embed adapter/sysproc_linux.go adapter/sysproc_other.go
var helperSources embed.FS

// helperModule is the throwaway module's path; its go directive is the
// oldest Go the sources need (1.23: the adapter sorts with slices.Sorted
// over maps.Keys), so a toolchain older than lowfare's own still builds
// them.
const helperModule = "module lowfare.invalid/imagehelpers\n\ngo 1.23\n"

// Helper packages (directories of helperSources).
const (
	probePackage   = "probe"
	adapterPackage = "adapter"
)

// helperCache is where compiled helpers are kept: lowfare/image-helpers
// under the user cache directory, or "" (no cache) when there is none.
func helperCache() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "lowfare", "image-helpers")
}

// helperBinary returns the helper package pkg compiled for linux/goarch,
// from cacheDir when it was built before ("" builds without a cache).
func helperBinary(ctx context.Context, cacheDir, pkg, goarch, goVersion string) ([]byte, error) {
	return helperBinaryFor(ctx, cacheDir, pkg, "linux", goarch, goVersion)
}

// AdapterForHost is lowfare's Lambda adapter compiled for this machine:
// 'lowfare dev' runs it, with the app as its argument, against an
// in-process Lambda Runtime API, so a sleeping service is answered through
// the same request path as on Lambda. Cached like the image helpers.
func AdapterForHost(ctx context.Context) ([]byte, error) {
	_, goVersion, err := gosrc.Toolchain(ctx)
	if err != nil {
		return nil, err
	}
	return helperBinaryFor(ctx, helperCache(), adapterPackage, runtime.GOOS, runtime.GOARCH, goVersion)
}

// helperBinaryFor is helperBinary for any GOOS.
func helperBinaryFor(ctx context.Context, cacheDir, pkg, goos, goarch, goVersion string) ([]byte, error) {
	files, err := fs.Glob(helperSources, pkg+"/*.go")
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("lowfare carries no sources for the image helper %q", pkg)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", helperModule, goVersion, goarch)
	if goos != "linux" {
		fmt.Fprintf(h, "%s\n", goos) // linux keys stay those of earlier caches
	}
	for _, f := range files {
		data, err := helperSources.ReadFile(f)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "%s %d\n", f, len(data))
		h.Write(data)
	}
	key := hex.EncodeToString(h.Sum(nil))[:32]

	cached := ""
	if cacheDir != "" {
		cached = filepath.Join(cacheDir, key, pkg)
		if data, err := os.ReadFile(cached); err == nil {
			return data, nil
		}
	}
	tmp, err := os.MkdirTemp("", "lowfare-helper-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "go.mod"), []byte(helperModule), 0o644); err != nil {
		return nil, err
	}
	if err := os.Mkdir(filepath.Join(tmp, pkg), 0o755); err != nil {
		return nil, err
	}
	for _, f := range files {
		data, _ := helperSources.ReadFile(f)
		if err := os.WriteFile(filepath.Join(tmp, pkg, path.Base(f)), data, 0o644); err != nil {
			return nil, err
		}
	}
	out := filepath.Join(tmp, "out")
	if err := goBuildHelper(ctx, tmp, pkg, goos, goarch, out); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	if cached != "" {
		// Best effort: a cache that cannot be written only costs a
		// rebuild next time. Rename makes the entry appear whole.
		if err := os.MkdirAll(filepath.Dir(cached), 0o755); err == nil {
			part := cached + ".part" + filepath.Base(tmp)
			if os.WriteFile(part, data, 0o755) == nil && os.Rename(part, cached) != nil {
				os.Remove(part)
			}
		}
	}
	return data, nil
}

// goBuildHelper compiles ./pkg of the throwaway module in dir. The
// environment is the user's, minus what would tie the build to their
// module (GOFLAGS such as -mod=vendor, a go.work).
func goBuildHelper(ctx context.Context, dir, pkg, goos, goarch, out string) error {
	err := gosrc.Build(ctx, gosrc.BuildOptions{
		Dir: dir, Package: "./" + pkg, Out: out,
		GOOS: goos, GOARCH: goarch, NoCgo: true, Release: true, Isolated: true,
		Why: "building the image", Timeout: BuildTimeout,
	})
	var failed *gosrc.BuildError
	if errors.As(err, &failed) {
		return fmt.Errorf("building lowfare's image helper %s: %w", pkg, err)
	}
	return err
}
