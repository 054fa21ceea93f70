package testutil

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.golden")
	Golden(t, path, []byte("a\nb\n"), true) // creates the directory
	Golden(t, path, []byte("a\nb\n"), false)

	rec := &recordT{TB: t}
	Golden(rec, path, []byte("a\nc\n"), false)
	if !strings.Contains(rec.msg, "at line 2") || !strings.Contains(rec.msg, " got: c") || !strings.Contains(rec.msg, "want: b") {
		t.Fatalf("a difference was reported as %q", rec.msg)
	}
}

// recordT keeps what Errorf reports instead of failing the test.
type recordT struct {
	testing.TB
	msg string
}

func (r *recordT) Errorf(format string, args ...any) { r.msg = fmt.Sprintf(format, args...) }
