package gosrc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// BuildOptions say what one `go build` compiles, for where and how. The
// zero value of each field is `go build`'s own default, so a build for
// this machine sets only Dir, Package and Out.
type BuildOptions struct {
	// Go is the go command; "" means "go" from PATH.
	Go string
	// Dir is where go runs: the module (or package) directory Package is
	// resolved from.
	Dir string
	// Package is what to build, such as "." or "./cmd/server".
	Package string
	// Out is the binary's path.
	Out string
	// GOOS and GOARCH are the target; "" keeps go's default (this
	// machine, unless the environment says otherwise).
	GOOS, GOARCH string
	// NoCgo sets CGO_ENABLED=0: a static binary that runs on an image
	// with no C library. A package that needs cgo is refused before the
	// build (a *CgoError, see CheckCgo), not built into a binary that
	// fails at run time.
	NoCgo bool
	// Release builds a reproducible production binary: -trimpath and no
	// symbols or build ID (-ldflags=-s -w -buildid=), so the same source
	// and toolchain give the same bytes, and the user's GOFLAGS without
	// instrumentation (ReleaseGOFLAGS).
	Release bool
	// Isolated ignores the user's GOFLAGS and go.work and forces module
	// mode: for a module that is not the user's (lowfare's own helpers),
	// which their settings must not change.
	Isolated bool
	// Why names the build in the error when go is missing, such as
	// "building the image"; "" means "the build".
	Why string
	// Log receives go's output as it runs; nil discards it. A failure's
	// error carries go's stderr either way.
	Log io.Writer
	// Timeout bounds the build; 0 leaves it to ctx.
	Timeout time.Duration
}

// BuildError is a `go build` that ran and failed.
type BuildError struct {
	Package, Dir string
	GOOS, GOARCH string // as asked; "" for go's default
	Err          error  // the exit status, or what stopped the command
	Output       string // go's stderr, or the context's error when it ended the build
}

func (e *BuildError) Error() string {
	where := "in " + e.Dir
	if e.GOOS != "" || e.GOARCH != "" {
		where += fmt.Sprintf(", GOOS=%s GOARCH=%s", e.GOOS, e.GOARCH)
	}
	return fmt.Sprintf("go build %s (%s) failed: %v\n%s", e.Package, where, e.Err, e.Output)
}

func (e *BuildError) Unwrap() error { return e.Err }

// Build runs `go build -o o.Out o.Package` in o.Dir with o's settings on
// top of this process's environment. A failure is a *BuildError with go's
// output, so the user sees what to fix, a *CgoError (NoCgo, for a package
// that needs cgo), or an error saying go is not on PATH and where to get
// it.
func Build(ctx context.Context, o BuildOptions) error {
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	if o.NoCgo && !o.Isolated {
		// lowfare's own helpers (Isolated) have no C code to look for.
		if err := CheckCgo(ctx, o); err != nil {
			return err
		}
	}
	goBin := o.Go
	if goBin == "" {
		goBin = "go"
	}
	args := []string{"build"}
	if o.Release {
		args = append(args, "-trimpath", "-ldflags=-s -w -buildid=")
	}
	args = append(args, "-o", o.Out, o.Package)
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = o.Dir
	cmd.Env = append(os.Environ(), o.env()...)
	var stderr bytes.Buffer
	cmd.Stdout = o.Log
	cmd.Stderr = &stderr
	if o.Log != nil {
		cmd.Stderr = io.MultiWriter(&stderr, o.Log)
	}
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			why := o.Why
			if why == "" {
				why = "the build"
			}
			return fmt.Errorf("%s needs the Go toolchain, and %q is not on PATH: install Go from https://go.dev/dl/", why, goBin)
		}
		msg := strings.TrimSpace(stderr.String())
		if ctx.Err() != nil {
			msg = ctx.Err().Error()
		}
		return &BuildError{Package: o.Package, Dir: o.Dir, GOOS: o.GOOS, GOARCH: o.GOARCH, Err: err, Output: msg}
	}
	return nil
}

// env is what o adds to the environment; later entries win over the
// process's own (os/exec keeps the last of duplicate keys).
func (o BuildOptions) env() []string {
	var env []string
	if o.GOOS != "" {
		env = append(env, "GOOS="+o.GOOS)
	}
	if o.GOARCH != "" {
		env = append(env, "GOARCH="+o.GOARCH)
	}
	if o.NoCgo {
		env = append(env, "CGO_ENABLED=0")
	}
	switch {
	case o.Isolated:
		env = append(env, "GOFLAGS=", "GOWORK=off", "GO111MODULE=on")
	case o.Release:
		env = append(env, "GOFLAGS="+ReleaseGOFLAGS(os.Getenv("GOFLAGS")))
	}
	return env
}

// ReleaseGOFLAGS keeps the user's GOFLAGS (such as -mod=vendor) but drops
// instrumentation that a static production binary cannot have (-race and
// friends need cgo) or should not have (coverage).
func ReleaseGOFLAGS(flags string) string {
	var keep []string
	for _, f := range strings.Fields(flags) {
		name, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
		switch name {
		case "race", "msan", "asan", "cover", "covermode", "coverpkg":
			continue
		}
		keep = append(keep, f)
	}
	return strings.Join(keep, " ")
}

// Toolchain asks the go command on PATH for its GOROOT (whose
// lib/time/zoneinfo.zip an image carries) and its version (which keys
// caches of what it built).
func Toolchain(ctx context.Context) (goroot, version string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "env", "GOROOT", "GOVERSION").Output()
	if err != nil {
		return "", "", fmt.Errorf("go env GOROOT GOVERSION: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		return "", "", fmt.Errorf("go env GOROOT GOVERSION: unexpected output %q", out)
	}
	return strings.TrimSpace(lines[0]), strings.TrimSpace(lines[1]), nil
}
