package devstack

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// The watch set is what the build reads: the main package's and its
// in-module imports' source files and the files they embed, go.mod and
// go.sum. A file the app writes beside its sources, a hidden file in an
// embedded directory, a test file, or a package it does not import
// changes nothing.
func TestWatchSetIsWhatTheBuildReads(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"go.mod":             "module example.com/shelf\n\ngo 1.24\n",
		"main.go":            "package main\n\nimport (\n\t\"embed\"\n\n\t\"example.com/shelf/store\"\n)\n\n//go:embed static templates/*.html\nvar files embed.FS\n\nfunc main() { _ = files; store.Open() }\n",
		"static/app.css":     "body{}\n",
		"templates/a.html":   "<p>a</p>\n",
		"store/store.go":     "package store\n\nfunc Open() {}\n",
		"tools/gen/main.go":  "package main\n\nfunc main() {}\n",
		"templates/notes.md": "not embedded\n",
	} {
		if err := writeFile(filepath.Join(dir, filepath.FromSlash(name)), body); err != nil {
			t.Fatal(err)
		}
	}
	ws := listWatchSet(context.Background(), "go", dir)
	if ws.listErr != nil {
		t.Fatal(ws.listErr)
	}
	base, _ := ws.stamp()
	for _, tc := range []struct {
		file    string
		changes bool
	}{
		{"data.db", false},            // the app's own file, beside main.go
		{"main_test.go", false},       // not in the binary
		{"static/.cache", false},      // go:embed leaves out hidden files of a directory
		{"templates/notes.md", false}, // not matched by *.html
		{"tools/gen/main.go", false},  // a package main does not import
		{"static/app.css", true},      // embedded
		{"static/img/logo.svg", true}, // new, below an embedded directory
		{"templates/b.html", true},    // new, matched by the pattern
		{"store/store.go", true},      // an imported package of the module
		{"store/extra.go", true},      // a new file of it
		{"handlers.go", true},         // a new file of the main package
		{"go.sum", true},              // the module's checksums
	} {
		path := filepath.Join(dir, filepath.FromSlash(tc.file))
		old, readErr := os.ReadFile(path)
		// Every edit changes the size too, so even a coarse mtime shows it.
		if err := writeFile(path, "package x // edited\n"); err != nil {
			t.Fatal(err)
		}
		if now, _ := ws.stamp(); (now != base) != tc.changes {
			t.Errorf("writing %s: changed %v, want %v", tc.file, now != base, tc.changes)
		}
		if readErr == nil { // put it back as it was, or remove the new file
			if err := writeFile(path, string(old)); err != nil {
				t.Fatal(err)
			}
		} else if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		base, _ = ws.stamp()
	}
}

// go list failing (not a module) falls back to every Go file of the
// module, and says why.
func TestWatchSetFallsBack(t *testing.T) {
	ws := listWatchSet(context.Background(), "go", t.TempDir())
	if ws.listErr == nil || ws.pkgDirs != nil {
		t.Errorf("watch set %+v: want the fallback with a reason", ws)
	}
}

// lineTail keeps the last lines, a line without its newline yet, and cuts
// a long one.
func TestLineTail(t *testing.T) {
	tail := &lineTail{max: 3}
	for _, w := range []string{"one\ntwo\r\n", "thr", "ee\nfour\nfi", "ve"} {
		if _, err := tail.Write([]byte(w)); err != nil {
			t.Fatal(err)
		}
	}
	got := tail.lines()
	if want := []string{"three", "four", "five"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("lines %q, want %q", got, want)
	}
	long := &lineTail{max: 2}
	long.Write(make([]byte, 3*maxTailLine))
	long.Write([]byte("\n"))
	if l := long.lines(); len(l) != 1 || len(l[0]) != maxTailLine {
		t.Errorf("a long line is kept as %d lines, the first of %d bytes; want one of %d", len(l), len(l[0]), maxTailLine)
	}
}
