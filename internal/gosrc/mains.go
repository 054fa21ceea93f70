package gosrc

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// FindMains lists the directories below dir (dir itself excluded) that hold
// a Go main package, as slash-separated paths relative to dir, sorted. It
// skips what the go tool skips (directories named testdata or starting
// with . or _) and vendor and node_modules, whose packages are not the
// app's own; it does not descend into nested modules (a go.mod of their
// own), which are other apps.
func FindMains(dir string) ([]string, error) {
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			return nil // an unreadable corner is not the app
		}
		if !d.IsDir() {
			return nil
		}
		if path == dir {
			return nil
		}
		name := d.Name()
		if name == "testdata" || name == "vendor" || name == "node_modules" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			return fs.SkipDir
		}
		if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
			return fs.SkipDir
		}
		if m, err := ParseMain(path); err == nil && m != nil {
			rel, err := filepath.Rel(dir, path)
			if err == nil {
				found = append(found, filepath.ToSlash(rel))
			}
		}
		return nil
	})
	slices.Sort(found)
	return found, err
}

// ModulePath is the module path the go.mod at root declares, "" when root
// has no go.mod or it declares none.
func ModulePath(root string) string {
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}
