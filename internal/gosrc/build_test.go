package gosrc

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBuildOptionsEnv(t *testing.T) {
	t.Setenv("GOFLAGS", "-mod=vendor -race")
	for _, tc := range []struct {
		name string
		o    BuildOptions
		want []string
	}{
		{"this machine", BuildOptions{}, nil},
		{"image", BuildOptions{GOOS: "linux", GOARCH: "arm64", NoCgo: true, Release: true},
			[]string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=-mod=vendor"}},
		{"helper", BuildOptions{GOOS: "linux", GOARCH: "amd64", NoCgo: true, Release: true, Isolated: true},
			[]string{"GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off", "GO111MODULE=on"}},
	} {
		if got := tc.o.env(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: env %q; want %q", tc.name, got, tc.want)
		}
	}
}

func TestReleaseGOFLAGS(t *testing.T) {
	for in, want := range map[string]string{
		"":                               "",
		"-race":                          "",
		"-mod=vendor -race -cover":       "-mod=vendor",
		"-covermode=atomic -trimpath":    "-trimpath",
		"--race -tags=netgo -asan -msan": "-tags=netgo",
	} {
		if got := ReleaseGOFLAGS(in); got != want {
			t.Errorf("ReleaseGOFLAGS(%q) = %q; want %q", in, got, want)
		}
	}
}

// TestBuildTargets builds the module's cmd/server: for this machine as
// lowfare dev does, and as the image does for linux/arm64, where the
// binary is a static arm64 ELF and the same source in another directory
// gives the same bytes (-trimpath, no build ID).
func TestBuildTargets(t *testing.T) {
	ctx := context.Background()
	t.Setenv("GOFLAGS", "-race") // the release build must drop it: -race needs cgo
	for _, tc := range []struct {
		name    string
		o       BuildOptions
		machine elf.Machine // 0: not checked
	}{
		{"this machine", BuildOptions{Package: "."}, 0},
		{"image", BuildOptions{Package: "./cmd/server", GOOS: "linux", GOARCH: "arm64", NoCgo: true, Release: true}, elf.EM_AARCH64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.o.Release {
				t.Setenv("GOFLAGS", "")
			}
			var bins [][]byte
			for range 2 {
				o := tc.o
				o.Dir = module(t)
				if o.Package == "." {
					o.Dir = filepath.Join(o.Dir, "cmd", "server")
				}
				o.Out = filepath.Join(t.TempDir(), "server")
				var log bytes.Buffer
				o.Log = &log
				if err := Build(ctx, o); err != nil {
					t.Fatalf("Build: %v\nlog: %s", err, log.String())
				}
				data, err := os.ReadFile(o.Out)
				if err != nil {
					t.Fatal(err)
				}
				bins = append(bins, data)
			}
			if tc.machine == 0 {
				return
			}
			f, err := elf.NewFile(bytes.NewReader(bins[0]))
			if err != nil {
				t.Fatal(err)
			}
			if f.Machine != tc.machine || slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP }) {
				t.Errorf("machine %v, interpreter %v; want %v and static", f.Machine, f.Progs, tc.machine)
			}
			if !bytes.Equal(bins[0], bins[1]) {
				t.Error("the same source in two directories gave two binaries")
			}
		})
	}
}

func TestBuildFailures(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		o      BuildOptions
		want   []string // in the error
		failed bool     // a *BuildError
	}{
		{"does not compile", context.Background(), BuildOptions{Package: "./cmd/broken", GOOS: "linux", GOARCH: "amd64"},
			[]string{"go build ./cmd/broken (in ", ", GOOS=linux GOARCH=amd64) failed: exit status 1", "cmd/broken/main.go:4:1: syntax error"}, true},
		{"no such package", context.Background(), BuildOptions{Package: "./cmd/missing"},
			[]string{"go build ./cmd/missing (in ", ") failed", "cmd/missing"}, true},
		{"canceled", canceled, BuildOptions{Package: "./cmd/server"}, []string{"context canceled"}, true},
		{"no go", context.Background(), BuildOptions{Go: "lowfare-test-no-such-go", Package: "./cmd/server", Why: "building the image"},
			[]string{`building the image needs the Go toolchain, and "lowfare-test-no-such-go" is not on PATH: install Go from https://go.dev/dl/`}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.Dir, o.Out = module(t), filepath.Join(t.TempDir(), "out")
			err := Build(tc.ctx, o)
			if err == nil {
				t.Fatal("Build succeeded")
			}
			var be *BuildError
			if errors.As(err, &be) != tc.failed {
				t.Errorf("error %T %v; *BuildError %v", err, err, tc.failed)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestToolchain(t *testing.T) {
	goroot, version, err := Toolchain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(goroot, "lib", "time", "zoneinfo.zip")); err != nil {
		t.Errorf("GOROOT %s has no timezone data: %v", goroot, err)
	}
	if !strings.HasPrefix(version, "go1.") {
		t.Errorf("version %q; want go1.x", version)
	}
}
