package gosrc

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// MaxStampFiles bounds the files SourceStamp looks at, so a module with a
// huge tree cannot make a poll loop that calls it expensive.
const MaxStampFiles = 20000

// SourceStamp fingerprints the Go sources of the module at root: every
// .go file, go.mod and go.sum below it (a package and the packages of its
// own module it may import), by path, size and mtime, so any save changes
// it. Hidden directories, vendor, testdata and node_modules are skipped;
// past MaxStampFiles files the rest are not looked at.
func SourceStamp(root string) [32]byte {
	h := sha256.New()
	n := 0
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "vendor" || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") && name != "go.mod" && name != "go.sum" {
			return nil
		}
		if n++; n > MaxStampFiles {
			return filepath.SkipAll
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", path, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}
