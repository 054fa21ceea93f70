package devstack

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildKeepsTheRunningBinary: each build is a new file, and only the
// one before the running one is removed, so a rebuild never overwrites
// the binary the app runs from.
func TestBuildKeepsTheRunningBinary(t *testing.T) {
	dir, _ := copyApp(t)
	b := &builder{goBin: "go", pkgDir: dir, out: filepath.Join(t.TempDir(), "bin")}
	var bins []string
	for range 3 {
		bin, err := b.build(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		bins = append(bins, bin)
	}
	for i, want := range []bool{false, true, true} {
		if _, err := os.Stat(bins[i]); (err == nil) != want {
			t.Errorf("build %d (%s): exists %v; want %v", i+1, bins[i], err == nil, want)
		}
	}
	if bins[1] == bins[2] {
		t.Errorf("two builds wrote the same file %s", bins[1])
	}
}

func TestBuildFailuresSayWhatToFix(t *testing.T) {
	for _, tc := range []struct {
		name, goBin, src string
		want             []string
	}{
		{"does not compile", "go", "package main\n\nfunc main() { undefinedThing() }\n",
			[]string{"go build in ", "failed (exit status 1):\n", "\n    ./main.go:3:15: undefined: undefinedThing"}}, // go's lines, indented
		{"no go", "lowfare-test-no-such-go", "",
			[]string{`lowfare dev needs the Go toolchain, and "lowfare-test-no-such-go" is not on PATH: install Go from https://go.dev/dl/`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := copyApp(t)
			if tc.src != "" {
				if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(tc.src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b := &builder{goBin: tc.goBin, pkgDir: dir, out: t.TempDir()}
			_, err := b.build(context.Background())
			if err == nil {
				t.Fatal("build succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}
