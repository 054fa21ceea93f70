package gosrc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cgoApp is testdata/cgoapp: a main package whose store imports a SQLite
// driver with C code (a local stand-in for github.com/mattn/go-sqlite3,
// replace'd in go.mod, so no network is needed).
func cgoApp(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "cgoapp"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCheckCgoNamesThePackageChainAndAlternative: for both of lowfare's
// architectures (cross-compiling, where go turns cgo off by default) the
// check names the package with C code, how the main package imports it,
// and the pure-Go driver to use instead.
func TestCheckCgoNamesThePackageChainAndAlternative(t *testing.T) {
	dir := cgoApp(t)
	for _, goarch := range []string{"arm64", "amd64"} {
		err := CheckCgo(context.Background(), BuildOptions{Dir: dir, Package: ".", GOOS: "linux", GOARCH: goarch})
		var ce *CgoError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: CheckCgo = %v; want a *CgoError", goarch, err)
		}
		if len(ce.Needs) != 1 || ce.Needs[0].ImportPath != "github.com/mattn/go-sqlite3" {
			t.Fatalf("%s: needs %+v; want github.com/mattn/go-sqlite3 alone", goarch, ce.Needs)
		}
		wantChain := []string{"example.com/cgoapp", "example.com/cgoapp/store", "github.com/mattn/go-sqlite3"}
		if !slices.Equal(ce.Needs[0].Chain, wantChain) {
			t.Errorf("%s: chain %q; want %q", goarch, ce.Needs[0].Chain, wantChain)
		}
		msg := err.Error()
		for _, want := range []string{"needs cgo", "github.com/mattn/go-sqlite3", "example.com/cgoapp -> example.com/cgoapp/store -> github.com/mattn/go-sqlite3", "modernc.org/sqlite", "CGO_ENABLED=0"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: message %q lacks %q", goarch, msg, want)
			}
		}
	}
}

// TestCheckCgoPureGo: a main package with no C code outside the standard
// library (net/http uses cgo where it can, with a pure-Go fallback) passes.
func TestCheckCgoPureGo(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/pure\n\ngo 1.22\n")
	writeFile(t, filepath.Join(dir, "main.go"), "package main\n\nimport (\n\t\"net/http\"\n\t\"os/user\"\n)\n\nfunc main() { user.Current(); http.ListenAndServe(\":8080\", nil) }\n")
	if err := CheckCgo(context.Background(), BuildOptions{Dir: dir, Package: ".", GOOS: "linux", GOARCH: "arm64"}); err != nil {
		t.Fatalf("CheckCgo = %v; want nil", err)
	}
}

// TestBuildNoCgoRefusesCgo: the image's build (and dev's, which builds
// the same way) refuses the package instead of building the stub that
// fails at run time; without NoCgo nothing is checked.
func TestBuildNoCgoRefusesCgo(t *testing.T) {
	dir := cgoApp(t)
	out := filepath.Join(t.TempDir(), "app")
	err := Build(context.Background(), BuildOptions{Dir: dir, Package: ".", Out: out, GOOS: "linux", GOARCH: "arm64", NoCgo: true, Release: true})
	var ce *CgoError
	if !errors.As(err, &ce) {
		t.Fatalf("Build = %v; want a *CgoError", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a binary was written for a package that needs cgo")
	}
}

func TestOptionalCgo(t *testing.T) {
	for path, want := range map[string]bool{
		"github.com/ebitengine/purego/internal/cgo": true,
		"github.com/DataDog/go-libddwaf/v3":         true,
		"github.com/ebitengine/puregox":             false,
		"github.com/mattn/go-sqlite3":               false,
	} {
		if got := optionalCgo(path); got != want {
			t.Errorf("optionalCgo(%q) = %v; want %v", path, got, want)
		}
	}
}

func TestAlternativeFor(t *testing.T) {
	for _, tc := range []struct {
		chain []string
		want  string
	}{
		{[]string{"app", "github.com/mattn/go-sqlite3"}, "modernc.org/sqlite"},
		{[]string{"app", "gorm.io/driver/sqlite", "github.com/mattn/go-sqlite3"}, "github.com/glebarez/sqlite"},
		{[]string{"app", "github.com/confluentinc/confluent-kafka-go/v2/kafka"}, "github.com/twmb/franz-go"},
		{[]string{"app", "gopkg.in/confluentinc/confluent-kafka-go.v1/kafka"}, "github.com/segmentio/kafka-go"},
		{[]string{"app", "github.com/mattn/go-sqlite3x"}, ""},
		{[]string{"app", "example.com/c"}, ""},
	} {
		got := alternativeFor(tc.chain)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("alternativeFor(%q) = %q; want one naming %q", tc.chain, got, tc.want)
		}
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
