package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/testutil"
)

// pinboardDir is a test app that is neither links nor guestbook, written
// the way a Go developer writes one: its own module (the AWS SDK v2 at the
// versions of lowfare's go.mod, so it builds from the same module cache),
// main package in cmd/server, an embedded html/template, an API key from
// service.secrets, a TransactWriteItems of two items and a GSI1 Query.
// internal/image's TestPinboardServerlessUnderRIE runs its serverless
// image.
const pinboardDir = "testdata/pinboard"

// TestPinboardJourney takes pinboard through what a new user runs, in its
// own folder: init, plan, synth (and cfn-lint on the templates), image
// build (pushed to a local registry), and dev, with requests that create
// pins through the transaction, list them through GSI1, render the
// embedded page, and need the secret from .lowfare/dev/secrets.env.
func TestPinboardJourney(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds pinboard twice and runs cfn-lint")
	}
	dir := filepath.Join(t.TempDir(), "pinboard")
	if err := os.CopyFS(dir, os.DirFS(pinboardDir)); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	// The SDK comes from the module cache lowfare's own build fills: the
	// app's go.sum is complete, so no download and no go.mod rewrite.
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=readonly")

	code, out, errOut := runCmd(t, "init")
	if code != ExitOK || !strings.Contains(out, "app: pinboard (the module example.com/pinboard)") ||
		!strings.Contains(out, "service.image: ./cmd/server") || !strings.Contains(out, "service.health.path: /healthz") {
		t.Fatalf("init: exit %d\n%s\n%s", code, out, errOut)
	}
	// init lists the secret the app reads (os.Getenv("API_KEY")).
	if !strings.Contains(out, "service.secrets: API_KEY") {
		t.Errorf("init did not name the secret the app reads:\n%s", out)
	}
	if s, err := spec.Load("lowfare.yaml"); err != nil || s.App != "pinboard" || s.Service.Image != "./cmd/server" || !slices.Equal(s.Service.Secrets, []string{"API_KEY"}) {
		t.Fatalf("the spec init wrote: %+v, %v", s, err)
	}

	if code, out, errOut := runCmd(t, "plan"); code != ExitOK || !strings.Contains(out, "pinboard/dev: profile free") ||
		!strings.Contains(out, "Within budget") || strings.Contains(out, "links") {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, errOut)
	}

	t.Run("synth and cfn-lint", func(t *testing.T) {
		outDir := t.TempDir()
		if code, out, errOut := runCmd(t, "synth", "-o", outDir); code != ExitOK {
			t.Fatalf("synth: exit %d\n%s\n%s", code, out, errOut)
		}
		files, _ := filepath.Glob(filepath.Join(outDir, "*.json"))
		if len(files) != 2 {
			t.Fatalf("synth wrote %v, want the bootstrap and the main template", files)
		}
		lintTemplates(t, files)
	})

	t.Run("image build", func(t *testing.T) {
		t.Setenv("DOCKER_CONFIG", t.TempDir()) // anonymous
		srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
		t.Cleanup(srv.Close)
		ref := strings.TrimPrefix(srv.URL, "http://") + "/pinboard:dev"
		code, out, errOut := runCmd(t, "image", "build", "--push", ref)
		if code != ExitOK || !strings.Contains(out, "Pushed "+strings.TrimSuffix(ref, ":dev")+"@sha256:") {
			t.Fatalf("image build: exit %d\n%s\n%s", code, out, errOut)
		}
	})

	t.Run("dev", func(t *testing.T) {
		if err := os.MkdirAll(filepath.Join(".lowfare", "dev"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(".lowfare", "dev", "secrets.env"), []byte("API_KEY=pin-secret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("API_KEY", "") // from secrets.env, not the test's environment
		os.Unsetenv("API_KEY")
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var stdout, stderr testutil.Buffer
		done := make(chan int, 1)
		go func() { done <- Execute(ctx, []string{"dev", "--port", "0"}, strings.NewReader(""), &stdout, &stderr) }()
		wait, stop := context.WithTimeout(ctx, 3*time.Minute)
		defer stop()
		if err := stdout.WaitFor(wait, "Press Ctrl-C"); err != nil {
			t.Fatalf("%v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
		}
		m := regexp.MustCompile(`pinboard is running at (http://\S+)`).FindStringSubmatch(stdout.String())
		if m == nil {
			t.Fatalf("no URL in the banner:\n%s", stdout.String())
		}
		base := m[1]
		call := func(method, path, key, body string) (int, string) {
			t.Helper()
			for {
				req, _ := http.NewRequestWithContext(wait, method, base+path, strings.NewReader(body))
				if key != "" {
					req.Header.Set("X-Api-Key", key)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v\nstderr: %s", method, path, err, stderr.String())
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" {
					time.Sleep(100 * time.Millisecond) // dev's waking page while the app starts
					continue
				}
				return resp.StatusCode, string(b)
			}
		}
		if code, body := call("POST", "/pins", "wrong", `{"text":"x"}`); code != http.StatusUnauthorized {
			t.Fatalf("POST with a wrong key: %d %q", code, body)
		}
		for _, text := range []string{"first pin", "second <pin>"} {
			if code, body := call("POST", "/pins", "pin-secret", `{"text":"`+text+`"}`); code != http.StatusCreated {
				t.Fatalf("POST %q: %d %q\nstderr: %s", text, code, body, stderr.String())
			}
		}
		code, body := call("GET", "/pins", "", "")
		var pins []struct{ ID, Text string }
		if err := json.Unmarshal([]byte(body), &pins); code != http.StatusOK || err != nil {
			t.Fatalf("GET /pins: %d %q: %v", code, body, err)
		}
		if len(pins) != 2 || pins[0].Text != "second <pin>" || pins[1].Text != "first pin" {
			t.Errorf("GSI1 listing, newest first: %+v", pins)
		}
		code, body = call("GET", "/", "", "")
		if code != http.StatusOK || !strings.Contains(body, `<p id="count">2 pins so far</p>`) || !strings.Contains(body, "second &lt;pin&gt;") {
			t.Errorf("the page from the embedded template (the count comes from the transaction's second item): %d\n%s", code, body)
		}
		cancel()
		if code := <-done; code != ExitOK {
			t.Fatalf("dev: exit %d\nstderr: %s", code, stderr.String())
		}
	})
}

// lintTemplates runs cfn-lint over the templates: no error and no warning.
func lintTemplates(t *testing.T, files []string) {
	t.Helper()
	lint := testutil.CfnLint(t)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(lint, append([]string{"--format", "json", "--regions", "us-east-1", "--"}, files...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run() // non-zero whenever there are findings
	var findings []struct {
		Level, Message string
		Rule           struct{ Id string }
		Location       struct{ Path []any }
	}
	if err := json.Unmarshal(stdout.Bytes(), &findings); err != nil {
		t.Fatalf("cfn-lint: %v (%v)\n%s\n%s", err, runErr, stdout.String(), stderr.String())
	}
	for _, f := range findings {
		t.Errorf("cfn-lint %s %s at %v: %s", f.Level, f.Rule.Id, f.Location.Path, f.Message)
	}
}
