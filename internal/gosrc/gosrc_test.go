package gosrc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tree writes files (slash paths relative to a new temporary directory,
// made as needed) and returns the directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const (
	goMod      = "module example.com/shop\n\ngo 1.22\n"
	serverMain = "package main\n\nfunc main() {}\n"
)

// module is a temporary module with a main package, a library, a nested
// module of its own and a few things that are not packages.
func module(t *testing.T) string {
	return tree(t, map[string]string{
		"go.mod":                     goMod,
		"cmd/server/main.go":         serverMain,
		"cmd/server/main_test.go":    "package main_test\n",
		"cmd/mixed/doc.go":           "// Package lib is not what main.go says.\npackage lib\n",
		"cmd/mixed/main.go":          serverMain,
		"cmd/onlytests/x_test.go":    "package main\n",
		"cmd/broken/main.go":         "package main\n\nfunc main() {\n", // does not compile: still a main package
		"internal/store/store.go":    "package store\n",
		"docs/README.md":             "hello\n",
		"tools/go.mod":               "module example.com/tools\n\ngo 1.22\n",
		"tools/cmd/gen/main.go":      serverMain,
		"internal/store/testdata/x":  "",
		"internal/store/store.go.md": "not Go\n",
	})
}

func TestModuleRoot(t *testing.T) {
	root := module(t)
	bare := tree(t, map[string]string{"cmd/app/main.go": serverMain})
	for _, tc := range []struct {
		dir, want string
	}{
		{root, root},
		{filepath.Join(root, "cmd", "server"), root},
		{filepath.Join(root, "internal", "store", "testdata"), root},
		{filepath.Join(root, "tools", "cmd", "gen"), filepath.Join(root, "tools")}, // the nearest go.mod wins
		{filepath.Join(root, "cmd", "not-there"), root},                            // the walk needs no directory
		{filepath.Join(bare, "cmd", "app"), ""},
	} {
		if got := ModuleRoot(tc.dir); got != tc.want {
			t.Errorf("ModuleRoot(%s) = %q; want %q", tc.dir, got, tc.want)
		}
	}
	// A relative directory is resolved from the working directory.
	t.Chdir(filepath.Join(root, "cmd"))
	if got := ModuleRoot("server"); got != root {
		t.Errorf("ModuleRoot(server) from %s/cmd = %q; want %q", root, got, root)
	}
}

func TestCheckMain(t *testing.T) {
	root := module(t)
	bare := tree(t, map[string]string{"cmd/app/main.go": serverMain})
	in := func(p string) string { return filepath.Join(root, filepath.FromSlash(p)) }
	for _, tc := range []struct {
		dir     string
		reason  Reason // 0: no problem
		pkg     string
		message string // in the error
	}{
		{in("cmd/server"), 0, "", ""},
		{in("cmd/mixed"), 0, "", ""},  // one main file makes it main
		{in("cmd/broken"), 0, "", ""}, // the build, not the check, says what does not compile
		{in("tools/cmd/gen"), 0, "", ""},
		{in("cmd/nothere"), Missing, "", in("cmd/nothere") + " does not exist"},
		{in("go.mod"), NotDir, "", in("go.mod") + " is a file, not a package directory"},
		{in("docs"), NoGoFiles, "", in("docs") + " has no Go files"},
		{in("cmd/onlytests"), NoGoFiles, "", "has no Go files"},
		{in("internal/store"), NotMain, "store", in("internal/store") + " is package store, not a main package (one with func main)"},
		{filepath.Join(bare, "cmd", "app"), NoModule, "", "is not inside a Go module (no go.mod in it or above); run 'go mod init <module path>'"},
	} {
		err := CheckMain(tc.dir)
		if tc.reason == 0 {
			if err != nil {
				t.Errorf("CheckMain(%s) = %v; want nil", tc.dir, err)
			}
			continue
		}
		var p *Problem
		if !errors.As(err, &p) {
			t.Errorf("CheckMain(%s) = %v; want a *Problem", tc.dir, err)
			continue
		}
		if p.Reason != tc.reason || p.Dir != tc.dir || p.Package != tc.pkg || !strings.Contains(p.Error(), tc.message) {
			t.Errorf("CheckMain(%s) = %+v (%v); want reason %d, package %q, message with %q", tc.dir, p, p, tc.reason, tc.pkg, tc.message)
		}
	}
}

func TestCheckMainUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		// root reads a directory whatever its mode: make one unreadable
		// another way, a path through a file.
		dir := filepath.Join(module(t), "go.mod", "cmd")
		var p *Problem
		if err := CheckMain(dir); !errors.As(err, &p) || p.Reason != Unreadable || p.Err == nil || !strings.Contains(p.Error(), "not a directory") {
			t.Fatalf("CheckMain(%s) = %v; want Unreadable with the stat error", dir, err)
		}
		return
	}
	dir := filepath.Join(module(t), "cmd", "server")
	if err := os.Chmod(dir, 0o000); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	var p *Problem
	if err := CheckMain(dir); !errors.As(err, &p) || p.Reason != Unreadable || !errors.Is(err, os.ErrPermission) {
		t.Fatalf("CheckMain(%s) = %v; want Unreadable wrapping the permission error", dir, err)
	}
}
