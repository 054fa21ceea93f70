package gosrc

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSourceStamp: a save of a Go file, go.mod or go.sum anywhere in the
// module changes the stamp; files --watch must not rebuild for do not.
func TestSourceStamp(t *testing.T) {
	for _, tc := range []struct {
		file    string // slash path in the module, written anew
		changes bool
	}{
		{"cmd/server/main.go", true},
		{"internal/store/store.go", true},
		{"internal/store/new.go", true}, // a new file
		{"go.mod", true},
		{"go.sum", true},
		{"docs/README.md", false},
		{"internal/store/testdata/x.go", false},
		{"vendor/example.com/dep/dep.go", false},
		{".git/hooks/x.go", false},
		{"web/node_modules/x/x.go", false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			root := module(t)
			before := SourceStamp(root)
			if again := SourceStamp(root); again != before {
				t.Fatal("two stamps of an unchanged tree differ")
			}
			path := filepath.Join(root, filepath.FromSlash(tc.file))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte("package x // saved\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			// An editor's save in the same clock tick as the tree was
			// made: move the mtime so only size and name could not tell.
			later := time.Now().Add(time.Minute)
			if err := os.Chtimes(path, later, later); err != nil {
				t.Fatal(err)
			}
			if changed := SourceStamp(root) != before; changed != tc.changes {
				t.Errorf("stamp changed: %v; want %v", changed, tc.changes)
			}
		})
	}
}
