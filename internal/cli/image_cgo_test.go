package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cgoAppSpec copies internal/gosrc's testdata app that needs cgo (its
// store imports a local stand-in for github.com/mattn/go-sqlite3, a file
// with import "C") into a fresh directory with a spec building it, and
// returns the spec's path.
func cgoAppSpec(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "gosrc", "testdata", "cgoapp")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "lowfare.yaml")
	spec := "app: notes\nservice:\n  image: .\ningress:\n  kind: apigw\nbudget:\n  emails: [ops@notes.dev]\nalarms:\n  emails: [ops@notes.dev]\n"
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCgoAppRefusedAlike: an app that needs cgo gets the same answer from
// every command that builds or commits to its image, before any build or
// AWS call: exit 2 naming the package with C code, how the app imports it
// and the pure-Go driver to use; plan shows it as a warning.
func TestCgoAppRefusedAlike(t *testing.T) {
	file := cgoAppSpec(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_PROFILE", "lowfare-test-none") // no AWS call may be needed
	wants := []string{"github.com/mattn/go-sqlite3", "example.com/cgoapp -> example.com/cgoapp/store -> github.com/mattn/go-sqlite3", "modernc.org/sqlite"}
	for _, args := range [][]string{
		{"image", "build", "-f", file},
		{"plan", "--check", "-f", file},
		{"deploy", "-f", file},
		{"dev", "-f", file},
	} {
		code, _, stderr := runCmd(t, args...)
		if code != ExitUsage {
			t.Errorf("%s: exit %d; want %d\n%s", strings.Join(args, " "), code, ExitUsage, stderr)
			continue
		}
		for _, w := range wants {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", strings.Join(args, " "), w, stderr)
			}
		}
	}
	code, stdout, stderr := runCmd(t, "plan", "-f", file)
	if code != 0 || !strings.Contains(stdout, "needs cgo") || !strings.Contains(stdout, "modernc.org/sqlite") {
		t.Errorf("plan: exit %d; want 0 with the cgo warning:\n%s%s", code, stdout, stderr)
	}
}
