package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The helpers every command test shares: run lowfare in-process, and
// write a spec file.

// runCmd runs `lowfare args...` with an empty stdin and returns its exit
// code and output.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runCmdInput(t, "", args...)
}

// runCmdInput runs `lowfare args...` with stdin. The command's context
// ends with the test, or after five minutes, so a command stuck on a fake
// fails the test instead of hanging the package.
func runCmdInput(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code = Execute(ctx, args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// specFile writes body as lowfare.yaml in a fresh directory and returns
// its path.
func specFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lowfare.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
