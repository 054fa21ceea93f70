package spec

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite golden files")

// checkProblems asserts err is a *Problems whose every line has the
// file:line:column shape, and returns its text.
func checkProblems(t *testing.T, name string, err error) string {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: loaded without error", name)
	}
	var probs *Problems
	if !errors.As(err, &probs) {
		t.Fatalf("%s: error is %T, want *Problems: %v", name, err, err)
	}
	if len(probs.List) == 0 {
		t.Fatalf("%s: *Problems with no problems", name)
	}
	for _, p := range probs.List {
		if p.Pos.Line < 1 || p.Pos.Column < 1 {
			t.Errorf("%s: problem without a position: %+v", name, p)
		}
		if p.Msg == "" {
			t.Errorf("%s: problem without a message: %+v", name, p)
		}
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if !strings.HasPrefix(line, name+":") {
			t.Errorf("%s: line %q does not start with the file name", name, line)
		}
	}
	return err.Error() + "\n"
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	testutil.Golden(t, path, []byte(got), *update)
}

// TestBadSpecs loads every file under testdata/bad and compares the
// problems with its golden file.
func TestBadSpecs(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("%d bad specs, want at least 30", len(files))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(name, data)
			got := checkProblems(t, name, err)
			golden(t, strings.TrimSuffix(f, ".yaml")+".golden", got)
		})
	}
}

// TestGeneratedBadSpecs covers files too large to commit.
func TestGeneratedBadSpecs(t *testing.T) {
	manyKeys := func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("app: links\ntags:\n")
		for i := range n {
			b.WriteString("  k")
			b.WriteString(strings.Repeat("x", i%7))
			b.WriteString(itoa([]int{i})[0])
			b.WriteString(": v\n")
		}
		return b.Bytes()
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"ten-megabytes.yaml", bytes.Repeat([]byte("# padding padding padding padding padding\n"), 10<<20/42+1), "larger than 1048576 bytes"},
		{"just-over-limit.yaml", append([]byte("app: links\n"), bytes.Repeat([]byte("#"), MaxFileSize)...), "larger than 1048576 bytes"},
		{"many-keys.yaml", manyKeys(30_000), "more than 5000 YAML tokens"},
		{"deep-flow.yaml", []byte("app: links\ntags: " + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)), "nesting deeper than 32"},
		{"deep-dashes.yaml", []byte("app: links\nx:\n " + strings.Repeat("- ", 200_000) + "x\n"), "nesting deeper than 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.name, tt.data)
			got := checkProblems(t, tt.name, err)
			if !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

// TestLoadRejectsLargeFileWithoutReadingIt checks the limit on the path a
// user takes: Load on a 10 MB file on disk.
func TestLoadTenMegabyteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lowfare.yaml")
	if err := os.WriteFile(path, bytes.Repeat([]byte("app: links\n"), 10<<20/11+1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	got := checkProblems(t, path, err)
	if !strings.Contains(got, "larger than") {
		t.Errorf("got %q", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want os.ErrNotExist", err)
	}
}

// A directory given as the spec says so once, and which file to give.
func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	want := dir + " is a directory, not a spec file; give the file itself, such as " + filepath.Join(dir, "lowfare.yaml")
	if err == nil || err.Error() != want {
		t.Errorf("Load of a directory: %v, want %q", err, want)
	}
}
