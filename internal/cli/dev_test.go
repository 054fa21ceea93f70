package cli

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/testutil"
)

var devURL = regexp.MustCompile(`links is running at (http://127\.0\.0\.1:\d+)`)

func TestDevServesAndStopsCleanly(t *testing.T) {
	t.Setenv("ADMIN_TOKEN", "dev-test-token")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testutil.Buffer // read while `lowfare dev` writes them
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, []string{"dev", "--port", "0", "--data", t.TempDir(), "-q"}, strings.NewReader(""), &stdout, &stderr)
	}()
	var url string
	for url == "" {
		select {
		case code := <-done:
			t.Fatalf("dev exited with %d before printing its URL\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if m := devURL.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
		}
	}
	if !strings.Contains(stdout.String(), "admin token: dev-test-token (from ADMIN_TOKEN)") {
		t.Errorf("banner does not show the token from ADMIN_TOKEN:\n%s", stdout.String())
	}
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/healthz = %d", resp.StatusCode)
	}
	cancel() // what SIGINT/SIGTERM do through main's context
	if code := <-done; code != ExitOK {
		t.Fatalf("exit code %d after cancel, want 0\nstderr: %s", code, stderr.String())
	}
}

func TestDevBadInputIsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"dev", "--port", "70000"},
		{"dev", "--port", "x"},
		{"dev", "--dynamodb-endpoint", "localhost:4567"},
		{"dev", "extra"},
	} {
		var out, errb bytes.Buffer
		if code := Execute(context.Background(), args, strings.NewReader(""), &out, &errb); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, ExitUsage, errb.String())
		}
	}
}

func TestDevHelpHasAnExample(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Execute(context.Background(), []string{"dev", "--help"}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"--dynamodb-endpoint", "--data", "--port", "curl", "Examples:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
}
