package cli

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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
		done <- Execute(ctx, []string{"dev", "--demo", "--port", "0", "--data", t.TempDir(), "-q"}, strings.NewReader(""), &stdout, &stderr)
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
		if code, _, errOut := runCmd(t, args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, ExitUsage, errOut)
		}
	}
}

func TestDevHelpHasAnExample(t *testing.T) {
	code, out, _ := runCmd(t, "dev", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"--dynamodb-endpoint", "--data", "--port", "curl", "Examples:"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}

var appURL = regexp.MustCompile(`guestbook is running at (http://127\.0\.0\.1:\d+)`)

// TestDevRunsTheSpecsApp: lowfare dev -f runs the example app that is not
// links, and a write and a read through its own API reach the local table.
func TestDevRunsTheSpecsApp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testutil.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, []string{"dev", "-f", "../../examples/guestbook/lowfare.yaml", "--port", "0", "--data", t.TempDir()}, strings.NewReader(""), &stdout, &stderr)
	}()
	wait, stop := context.WithTimeout(ctx, 5*time.Minute) // the first build downloads the app's modules
	defer stop()
	if err := stdout.WaitFor(wait, "Press Ctrl-C"); err != nil {
		t.Fatalf("%v\nstderr: %s", err, stderr.String())
	}
	m := appURL.FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no URL in the banner:\n%s", stdout.String())
	}
	url := m[1]
	resp, err := http.Post(url+"/entries", "application/json", strings.NewReader(`{"name":"Ada","message":"hello from dev"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /entries = %d\nstderr: %s", resp.StatusCode, stderr.String())
	}
	resp, err = http.Get(url + "/entries")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(body.String(), "hello from dev") {
		t.Fatalf("GET /entries = %d %s", resp.StatusCode, body.String())
	}
	if !strings.Contains(stderr.String(), "guestbook listening on") {
		t.Errorf("the app's own output is not shown:\n%s", stderr.String())
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Fatalf("exit %d after cancel\nstderr: %s", code, stderr.String())
	}
}

func TestDevSpecBadInputIsExit2(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.yaml")
	if err := os.WriteFile(ref, []byte("app: refapp\nenv: dev\nservice: {image: public.ecr.aws/nginx/nginx:latest}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"dev", "-f", ref}, "image reference"},
		{[]string{"dev", "-f", filepath.Join(dir, "nothere.yaml")}, "does not exist"},
		{[]string{"dev"}, "there is no lowfare.yaml here: run 'lowfare init'"},
		{[]string{"dev", "--watch"}, "run 'lowfare init'"},
		{[]string{"dev", "--demo", "--watch"}, "--demo runs the reference app links, which takes no -f, --watch or --idle"},
		{[]string{"dev", "--demo", "-f", ref}, "--demo runs the reference app links"},
		{[]string{"dev", "--idle", "-3s"}, "negative"},
	} {
		if code, _, errOut := runCmd(t, tc.args...); code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, ExitUsage, tc.want)
		}
	}
}

// TestDevIdle3s is the check as a user runs it: with --idle 3s the
// app is stopped after idle, the next request gets the waking page, and a
// later one reaches the app again.
func TestDevIdle3s(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testutil.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, []string{"dev", "-f", "../devstack/testdata/app/lowfare.yaml", "--port", "0", "--data", t.TempDir(), "--idle", "3s"}, strings.NewReader(""), &stdout, &stderr)
	}()
	wait, stop := context.WithTimeout(ctx, 3*time.Minute)
	defer stop()
	if err := stdout.WaitFor(wait, "Press Ctrl-C"); err != nil {
		t.Fatalf("%v\nstderr: %s", err, stderr.String())
	}
	url := regexp.MustCompile(`devtestapp is running at (http://\S+)`).FindStringSubmatch(stdout.String())[1]
	if !strings.Contains(stdout.String(), "stops after 3s without a request") {
		t.Errorf("the banner does not say how idle acts:\n%s", stdout.String())
	}
	if err := stderr.WaitFor(wait, "the app is asleep"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(url + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("asleep: %d Retry-After=%q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for {
		resp, err := http.Get(url + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-wait.Done():
			t.Fatalf("the app never woke\nstderr: %s", stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Fatalf("exit %d\nstderr: %s", code, stderr.String())
	}
}

// dev warns when its secrets.env would not be ignored in a git checkout,
// and is quiet once .gitignore has .lowfare/ or outside a checkout.
func TestDevWarnsSecretsNotIgnored(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	repo := t.TempDir()
	if out, err := exec.Command("git", "init", "-q", repo).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	data := filepath.Join(repo, ".lowfare", "dev")
	if w := secretsNotIgnored(context.Background(), data); !strings.Contains(w, "secrets.env is not ignored by git") {
		t.Errorf("in a checkout without .gitignore: warning %q", w)
	}
	if err := os.WriteFile(filepath.Join(repo, ".gitignore"), []byte(".lowfare/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if w := secretsNotIgnored(context.Background(), data); w != "" {
		t.Errorf("ignored: warning %q", w)
	}
	if w := secretsNotIgnored(context.Background(), filepath.Join(t.TempDir(), "dev")); w != "" {
		t.Errorf("outside a checkout: warning %q", w)
	}
}
