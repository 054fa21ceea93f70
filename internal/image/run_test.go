//go:build linux

package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lowfare/lowfare/internal/ddbtest"
	"github.com/lowfare/lowfare/internal/links/store"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/testutil"
)

// These tests run what an image lowfare built contains, from the image's
// own filesystem: its layers are unpacked into a root directory, and each
// process runs chrooted into it as the image's user (65532), with the
// image's environment, the way a container runtime would start it. Only
// the network namespace is the host's, so the tests reach the processes on
// 127.0.0.1. Without root (no chroot) the binaries run from the unpacked
// tree directly: they are static and read nothing from the filesystem but
// themselves, so the result is the same; the test logs which way it ran.

// hostArch is the spec architecture of this machine, so the image's
// binaries run here.
func hostArch(t *testing.T) string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "arm64"
	}
	t.Skipf("no lowfare architecture for GOARCH %s", runtime.GOARCH)
	return ""
}

// The apps the tests build: guestbook, the example app that is not links
// (its own module, the AWS SDK, a table), and testdata/webapp, which
// answers with what it received, cookies and binary bodies (guestbook has
// neither).
const (
	guestbookDir = "../../examples/guestbook"
	webappDir    = "testdata/webapp"
)

// buildApp builds package pkg of the module in moduleDir (copied out of
// this checkout, see buildFixture) for this machine.
func buildApp(t *testing.T, moduleDir, pkg string, serverless bool) *Built {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(moduleDir)); err != nil {
		t.Fatal(err)
	}
	b, err := Build(testCtx(t), Options{Dir: dir, Package: pkg, Arch: hostArch(t), Revision: "test", Serverless: serverless})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rootfs is an image unpacked into a directory.
type rootfs struct {
	dir    string
	config *v1.ConfigFile
	chroot bool
}

func unpack(t *testing.T, img v1.Image) *rootfs {
	t.Helper()
	dir := t.TempDir()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	root := os.Geteuid() == 0
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, filepath.FromSlash(h.Name))
			if !strings.HasPrefix(p, dir+string(filepath.Separator)) {
				t.Fatalf("layer entry %q escapes the root", h.Name)
			}
			switch h.Typeflag {
			case tar.TypeDir:
				if err := os.MkdirAll(p, 0o755); err != nil {
					t.Fatal(err)
				}
			case tar.TypeReg:
				data, err := io.ReadAll(tr)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, data, 0o600); err != nil {
					t.Fatal(err)
				}
			default:
				t.Fatalf("layer entry %q: unexpected type %c", h.Name, h.Typeflag)
			}
			if err := os.Chmod(p, os.FileMode(h.Mode).Perm()|modeBits(h.Mode)); err != nil {
				t.Fatal(err)
			}
			if root {
				if err := os.Lchown(p, h.Uid, h.Gid); err != nil {
					t.Fatal(err)
				}
			}
		}
		rc.Close()
	}
	if root {
		// What a container runtime provides besides the image: /dev/null
		// (the RIE opens it for the runtime's stdin).
		if err := os.MkdirAll(filepath.Join(dir, "dev"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mknod(filepath.Join(dir, "dev/null"), syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, "dev/null"), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !root {
		t.Log("not root: running the image's binaries from its unpacked tree without chroot")
	}
	return &rootfs{dir: dir, config: cf, chroot: root}
}

func modeBits(m int64) os.FileMode {
	var fm os.FileMode
	if m&0o1000 != 0 {
		fm |= os.ModeSticky
	}
	return fm
}

// command runs args[0], a path inside the image, as the image's user with
// the image's environment plus env.
func (r *rootfs) command(env []string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if r.chroot {
		cmd = exec.Command(args[0], args[1:]...)
		cmd.Dir = "/"
		uid, gid := userOf(r.config.Config.User)
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: r.dir, Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	} else {
		cmd = exec.Command(filepath.Join(r.dir, args[0]), args[1:]...)
		cmd.Dir = r.dir
	}
	cmd.Env = append(slices.Clone(r.config.Config.Env), env...)
	return cmd
}

func userOf(user string) (uint32, uint32) {
	u, g, _ := strings.Cut(user, ":")
	uid, _ := strconv.ParseUint(u, 10, 32)
	gid, _ := strconv.ParseUint(g, 10, 32)
	return uint32(uid), uint32(gid)
}

// start starts cmd with its output in the test log and stops it at the end.
func start(t *testing.T, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	w := &testLog{t: t, name: filepath.Base(cmd.Args[0])}
	cmd.Stdout, cmd.Stderr = w, w
	// Its own process group, so that stopping it stops what it started
	// (the RIE starts the adapter, which starts the app).
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	return cmd
}

// testLog shows a process's output in the test log and keeps it.
type testLog struct {
	t    *testing.T
	name string
	mu   sync.Mutex
	all  bytes.Buffer
}

func (l *testLog) Write(p []byte) (int, error) {
	l.t.Logf("%s: %s", l.name, bytes.TrimRight(p, "\n"))
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all.Write(p)
}

func (l *testLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all.String()
}

// waitFor retries f until it succeeds or the test's context ends; it
// waits for a process to come up and asserts nothing about how long.
func waitFor(t *testing.T, what string, f func() error) {
	t.Helper()
	ctx := testCtx(t)
	var err error
	for {
		if err = f(); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestHealthProbeInImage runs the image's app and the image's own health
// command (the one internal/stack puts in the task definition:
// spec.HealthProbe and the health path) from the image's filesystem: it
// passes while the app runs, fails on a path that is not 2xx, and fails
// once the app is stopped. Guestbook's /health needs no table, only
// TABLE_NAME set.
func TestHealthProbeInImage(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds images and runs their binaries")
	}
	for _, dir := range []string{guestbookDir, webappDir} {
		t.Run(filepath.Base(dir), func(t *testing.T) { testHealthProbe(t, dir) })
	}
}

func testHealthProbe(t *testing.T, moduleDir string) {
	r := unpack(t, buildApp(t, moduleDir, ".", false).Image)
	port := testutil.FreePort(t)
	env := []string{"PORT=" + port, "TABLE_NAME=unused", "AWS_REGION=us-east-1"}
	app := start(t, r.command(env, r.config.Config.Entrypoint...))

	probe := func(path string) (int, string) {
		var out bytes.Buffer
		cmd := r.command(env, spec.HealthProbe, path)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return 0, out.String()
		case errors.As(err, &exit):
			return exit.ExitCode(), out.String()
		}
		t.Fatalf("running the probe: %v", err)
		return -1, ""
	}
	waitFor(t, "the app's health check never passed", func() error {
		if code, out := probe("/health"); code != 0 {
			return fmt.Errorf("exit %d: %s", code, out)
		}
		return nil
	})
	if code, out := probe("/nothere"); code != 1 || !strings.Contains(out, "404") {
		t.Errorf("probe of a 404 path: exit %d, %q; want 1 naming the 404", code, out)
	}
	if err := app.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = app.Wait()
	if code, out := probe("/health"); code != 1 {
		t.Errorf("probe after the app stopped: exit %d, %q; want 1", code, out)
	}
}

// rieVersion is the AWS Lambda Runtime Interface Emulator the tests run
// (github.com/aws/aws-lambda-runtime-interface-emulator publishes no
// tagged Go module versions; this is its commit of 2026-10-30).
const rieVersion = "v0.0.0-20261030222936-bef5c4ba774d"

// rieBinary builds cmd/aws-lambda-rie with CGO off, the way AWS ships it
// in its base images, into a cache directory (no go.mod entry needed).
func rieBinary(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	gobin := filepath.Join(cache, "lowfare-test", "aws-lambda-rie-"+rieVersion)
	bin := filepath.Join(gobin, "aws-lambda-rie")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	cmd := exec.CommandContext(testCtx(t), "go", "install", "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@"+rieVersion)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOBIN="+gobin, "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the Lambda Runtime Interface Emulator: %v\n%s", err, out)
	}
	return bin
}

// underRIE starts the image's entrypoint under the Runtime Interface
// Emulator (installed where AWS's base images keep it,
// /usr/local/bin/aws-lambda-rie) and returns its invoke URL.
func underRIE(t *testing.T, r *rootfs, env ...string) (string, *exec.Cmd) {
	t.Helper()
	rieBin, err := os.ReadFile(rieBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(r.dir, "usr/local/bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "usr/local/bin/aws-lambda-rie"), rieBin, 0o755); err != nil {
		t.Fatal(err)
	}
	invoke := "127.0.0.1:" + testutil.FreePort(t)
	entrypoint := slices.Clone(r.config.Config.Entrypoint)
	if !r.chroot {
		// The image's paths, found in its unpacked tree.
		for i, e := range entrypoint {
			if strings.HasPrefix(e, "/") {
				entrypoint[i] = filepath.Join(r.dir, e)
			}
		}
	}
	args := append([]string{"/usr/local/bin/aws-lambda-rie",
		"--runtime-api-address", "127.0.0.1:" + testutil.FreePort(t),
		"--runtime-interface-emulator-address", invoke,
	}, entrypoint...)
	if r.chroot {
		// Registered before start, so it runs after the RIE is killed:
		// nothing the image started (the adapter puts the app in its own
		// process group, out of reach of the kill) may outlive it.
		t.Cleanup(func() { noneLeft(t, r.dir) })
	}
	rie := start(t, r.command(append([]string{"PORT=" + testutil.FreePort(t)}, env...), args...))
	return "http://" + invoke + "/2015-03-31/functions/function/invocations", rie
}

// invokeRaw sends one event and returns the function's response payload.
func invokeRaw(t *testing.T, url string, event any) []byte {
	t.Helper()
	body, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	waitFor(t, "invoking under the RIE", func() error {
		resp, err := http.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			return err // not listening yet
		}
		defer resp.Body.Close()
		out, err = io.ReadAll(resp.Body)
		return err
	})
	return out
}

// fnResponse is a payload 2.0 response as the function returns it.
type fnResponse struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Cookies         []string          `json:"cookies"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	ErrorMessage    string            `json:"errorMessage"`
}

func invoke2(t *testing.T, url string, event map[string]any) fnResponse {
	t.Helper()
	raw := invokeRaw(t, url, event)
	var r fnResponse
	if err := json.Unmarshal(raw, &r); err != nil || r.StatusCode == 0 {
		t.Fatalf("not a function URL response (%v): %s", err, raw)
	}
	return r
}

// functionURLEvent is a Lambda function URL event (payload 2.0) as AWS
// documents it ("Invoking Lambda function URLs", request payload).
func functionURLEvent(method, rawPath, rawQuery string, headers map[string]string, cookies []string, body []byte) map[string]any {
	ev := map[string]any{
		"version":        "2.0",
		"routeKey":       "$default",
		"rawPath":        rawPath,
		"rawQueryString": rawQuery,
		"headers":        headers,
		"requestContext": map[string]any{
			"accountId":  "anonymous",
			"apiId":      "fnid",
			"domainName": "fnid.lambda-url.us-east-1.on.aws",
			"requestId":  "req-" + method,
			"http": map[string]any{
				"method": method, "path": rawPath, "protocol": "HTTP/1.1",
				"sourceIp": "203.0.113.9", "userAgent": "test",
			},
		},
		"isBase64Encoded": false,
	}
	if cookies != nil {
		ev["cookies"] = cookies
	}
	if body != nil {
		ev["body"] = base64.StdEncoding.EncodeToString(body)
		ev["isBase64Encoded"] = true
	}
	return ev
}

// echo is what testdata/webapp's /echo saw.
type echo struct {
	Method, Path, RawQuery, Host, Cookie string
	XForwardedFor, XForwardedProto       string
	ContentType                          string
	Accept                               []string
	Body                                 []byte
}

func bytes256() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// TestServerlessImageUnderRIE runs the serverless image of an app that
// knows nothing of Lambda under AWS's Runtime Interface Emulator, through
// the image's own entrypoint (the adapter, then the app), and sends
// function URL events: status, multi-value headers, cookies both ways, the
// source IP and binary bodies both ways come back intact. A REST API
// (payload 1.0) event works too.
func TestServerlessImageUnderRIE(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds an image and the Lambda Runtime Interface Emulator")
	}
	b := buildApp(t, webappDir, ".", true)
	assertConfig(t, b.Image, b.Arch, "app", true) // service.image "." is /app/app
	r := unpack(t, b.Image)
	url, _ := underRIE(t, r)

	t.Run("GET", func(t *testing.T) {
		got := invoke2(t, url, functionURLEvent("GET", "/echo", "a=1&a=2&q=x%20y",
			map[string]string{"accept": "text/html, application/json", "host": "fnid.lambda-url.us-east-1.on.aws", "x-forwarded-for": "198.51.100.1"},
			[]string{"session=abc", "theme=dark"}, nil))
		if got.StatusCode != 201 {
			t.Fatalf("status %d, want 201: %+v", got.StatusCode, got)
		}
		if got.Headers["X-Multi"] != "one, two" || got.Headers["Content-Type"] != "application/json" {
			t.Errorf("headers %v; want X-Multi: one, two and Content-Type: application/json", got.Headers)
		}
		if want := []string{"a=1; Path=/", "b=2; Path=/; HttpOnly"}; !slices.Equal(got.Cookies, want) {
			t.Errorf("cookies %q; want %q", got.Cookies, want)
		}
		if got.IsBase64Encoded {
			t.Error("a JSON answer came back base64")
		}
		var e echo
		if err := json.Unmarshal([]byte(got.Body), &e); err != nil {
			t.Fatalf("body %q: %v", got.Body, err)
		}
		want := echo{Method: "GET", Path: "/echo", RawQuery: "a=1&a=2&q=x%20y", Host: "fnid.lambda-url.us-east-1.on.aws",
			Cookie: "session=abc; theme=dark", XForwardedFor: "198.51.100.1, 203.0.113.9", XForwardedProto: "https",
			Accept: []string{"text/html, application/json"}, Body: []byte{}}
		if fmt.Sprint(e) != fmt.Sprint(want) {
			t.Errorf("the app saw\n%+v\nwant\n%+v", e, want)
		}
	})
	t.Run("POST binary", func(t *testing.T) {
		got := invoke2(t, url, functionURLEvent("POST", "/echo", "",
			map[string]string{"content-type": "application/octet-stream"}, nil, bytes256()))
		var e echo
		if err := json.Unmarshal([]byte(got.Body), &e); err != nil || got.StatusCode != 201 {
			t.Fatalf("status %d body %q: %v", got.StatusCode, got.Body, err)
		}
		if e.Method != "POST" || !bytes.Equal(e.Body, bytes256()) || e.ContentType != "application/octet-stream" {
			t.Errorf("the app got %s with %d body bytes of type %q; want POST with bytes 0..255", e.Method, len(e.Body), e.ContentType)
		}
		if len(got.Cookies) != 2 {
			t.Errorf("cookies %q; want both", got.Cookies)
		}
		if e.XForwardedFor != "203.0.113.9" {
			t.Errorf("X-Forwarded-For %q; want the source IP", e.XForwardedFor)
		}
	})
	t.Run("binary answer", func(t *testing.T) {
		got := invoke2(t, url, functionURLEvent("GET", "/binary", "", nil, nil, nil))
		body, err := base64.StdEncoding.DecodeString(got.Body)
		if got.StatusCode != 200 || !got.IsBase64Encoded || err != nil || !bytes.Equal(body, bytes256()) {
			t.Errorf("status %d base64 %v body %q (%v); want 200 and bytes 0..255 as base64", got.StatusCode, got.IsBase64Encoded, got.Body, err)
		}
		gz := invoke2(t, url, functionURLEvent("GET", "/gzip", "", nil, nil, nil))
		if !gz.IsBase64Encoded || gz.Headers["Content-Encoding"] != "gzip" {
			t.Errorf("a gzip-encoded text answer: base64 %v, headers %v; want base64 and Content-Encoding kept", gz.IsBase64Encoded, gz.Headers)
		}
	})
	t.Run("health", func(t *testing.T) {
		got := invoke2(t, url, functionURLEvent("GET", "/health", "", nil, nil, nil))
		if got.StatusCode != 200 || got.Body != "ok\n" {
			t.Errorf("GET /health: %d %q", got.StatusCode, got.Body)
		}
		if got := invoke2(t, url, functionURLEvent("GET", "/nothere", "", nil, nil, nil)); got.StatusCode != 404 {
			t.Errorf("GET /nothere: %d; want the app's 404", got.StatusCode)
		}
	})
	t.Run("REST API payload 1.0", func(t *testing.T) {
		raw := invokeRaw(t, url, map[string]any{
			"resource": "/{proxy+}", "path": "/echo", "httpMethod": "PUT",
			"headers":                         map[string]string{"Cookie": "x=1", "Content-Type": "text/plain"},
			"multiValueHeaders":               map[string][]string{"Cookie": {"x=1"}, "Content-Type": {"text/plain"}, "Accept": {"a/b", "c/d"}},
			"queryStringParameters":           map[string]string{"k": "2"},
			"multiValueQueryStringParameters": map[string][]string{"k": {"1", "2"}},
			"requestContext":                  map[string]any{"requestId": "rest-1", "identity": map[string]any{"sourceIp": "192.0.2.4"}},
			"body":                            "hello", "isBase64Encoded": false,
		})
		var got struct {
			StatusCode        int                 `json:"statusCode"`
			MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
			Body              string              `json:"body"`
		}
		if err := json.Unmarshal(raw, &got); err != nil || got.StatusCode != 201 {
			t.Fatalf("not a REST API response: %s", raw)
		}
		if sc := got.MultiValueHeaders["Set-Cookie"]; len(sc) != 2 {
			t.Errorf("Set-Cookie %q; want both cookies as separate values", sc)
		}
		var e echo
		if err := json.Unmarshal([]byte(got.Body), &e); err != nil {
			t.Fatal(err)
		}
		if e.Method != "PUT" || e.RawQuery != "k=1&k=2" || string(e.Body) != "hello" || e.Cookie != "x=1" || e.XForwardedFor != "192.0.2.4" || !slices.Equal(e.Accept, []string{"a/b", "c/d"}) {
			t.Errorf("the app saw %+v", e)
		}
	})
}

// TestLinksServerlessUnderRIE: links, which moved from its in-process
// Lambda adapter to the shared one, still serves function URL events from
// its serverless image: a form post creates a link (303), the slug
// redirects (302), and the click reaches the table (its flusher runs in
// the app, as on ECS). The table is an in-process minidyn.
func TestLinksServerlessUnderRIE(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds links and the Lambda Runtime Interface Emulator")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(testCtx(t), Options{Dir: root, Package: "./cmd/links", Arch: hostArch(t), Revision: "test", Serverless: true})
	if err != nil {
		t.Fatal(err)
	}
	assertConfig(t, b.Image, b.Arch, "links", true)
	db := ddbtest.Minidyn(t)
	table := ddbtest.NewTable(t, db, store.CreateTable)
	url, _ := underRIE(t, unpack(t, b.Image),
		"TABLE_NAME="+table, "AWS_ENDPOINT_URL_DYNAMODB="+db.Endpoint, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local")

	if got := invoke2(t, url, functionURLEvent("GET", "/healthz", "", nil, nil, nil)); got.StatusCode != 200 {
		t.Fatalf("GET /healthz: %d %q", got.StatusCode, got.Body)
	}
	form := []byte("url=https%3A%2F%2Fexample.com%2Frie&slug=underrie")
	got := invoke2(t, url, functionURLEvent("POST", "/", "",
		map[string]string{"content-type": "application/x-www-form-urlencoded", "host": "fnid.lambda-url.us-east-1.on.aws"}, nil, form))
	if got.StatusCode != 303 || got.Headers["Location"] != "/s/underrie" {
		t.Fatalf("form post: %d %v %q", got.StatusCode, got.Headers, got.Body)
	}
	got = invoke2(t, url, functionURLEvent("GET", "/underrie", "", nil, nil, nil))
	if got.StatusCode != 302 || got.Headers["Location"] != "https://example.com/rie" {
		t.Fatalf("redirect: %d %v", got.StatusCode, got.Headers)
	}
	fresh := store.New(db.Client, table, store.Options{FlushInterval: time.Hour})
	t.Cleanup(func() { fresh.Close(context.Background()) })
	waitFor(t, "the click never reached the table", func() error {
		st, err := fresh.Stats(testCtx(t), "underrie", time.Now(), 1)
		if err != nil {
			return err
		}
		if st.Total != 1 {
			return fmt.Errorf("%d clicks in the table", st.Total)
		}
		return nil
	})
}

// TestGuestbookServerlessUnderRIE: the example app, unchanged, as a Lambda
// function: function URL events for POST /entries (a JSON body, sent
// base64 as a function URL does for a binary-marked body) and GET /entries
// come back with the app's status, headers and body, against its table on
// an in-process minidyn.
func TestGuestbookServerlessUnderRIE(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds guestbook and the Lambda Runtime Interface Emulator")
	}
	b := buildApp(t, guestbookDir, ".", true)
	db := ddbtest.Minidyn(t)
	table := ddbtest.NewTable(t, db, store.CreateTable) // PK/SK strings and GSI1, as the stack makes it
	url, rie := underRIE(t, unpack(t, b.Image),
		"TABLE_NAME="+table, "AWS_ENDPOINT_URL_DYNAMODB="+db.Endpoint, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local")

	post := invoke2(t, url, functionURLEvent("POST", "/entries", "",
		map[string]string{"content-type": "application/json"}, []string{"visitor=1"},
		[]byte(`{"name":"Ada","message":"hello from Lambda"}`)))
	if post.StatusCode != 201 || post.Headers["Content-Type"] != "application/json" || post.IsBase64Encoded {
		t.Fatalf("POST /entries: %d %v base64=%v %q", post.StatusCode, post.Headers, post.IsBase64Encoded, post.Body)
	}
	var created struct{ ID, Name, Message string }
	if err := json.Unmarshal([]byte(post.Body), &created); err != nil || created.Name != "Ada" || created.ID == "" {
		t.Fatalf("POST /entries body %q: %v", post.Body, err)
	}
	get := invoke2(t, url, functionURLEvent("GET", "/entries", "", map[string]string{"accept": "application/json"}, nil, nil))
	var entries []struct{ ID, Name, Message string }
	if err := json.Unmarshal([]byte(get.Body), &entries); err != nil || get.StatusCode != 200 {
		t.Fatalf("GET /entries: %d %q: %v", get.StatusCode, get.Body, err)
	}
	if len(entries) != 1 || entries[0].ID != created.ID || entries[0].Message != "hello from Lambda" {
		t.Errorf("GET /entries: %+v; want the entry just posted", entries)
	}
	if bad := invoke2(t, url, functionURLEvent("POST", "/entries", "", map[string]string{"content-type": "application/json"}, nil, []byte(`{`))); bad.StatusCode != 400 {
		t.Errorf("POST /entries with bad JSON: %d; want the app's 400", bad.StatusCode)
	}

	// Lambda's shutdown: SIGTERM to the runtime process (the adapter,
	// which registered an extension so that Lambda sends it), passed on to
	// the app; guestbook drains and exits 0, and the adapter with it.
	adapter := childRunning(t, rie.Process.Pid, spec.LambdaAdapter)
	if err := syscall.Kill(adapter, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the adapter did not exit after SIGTERM", func() error {
		if running(adapter) {
			return errors.New("still running")
		}
		return nil
	})
	if out := rie.Stdout.(*testLog).String(); !strings.Contains(out, "lambda-adapter: the app exited: exit status 0") {
		t.Errorf("after SIGTERM the adapter did not report the app's clean exit:\n%s", out)
	}
}

// childRunning returns the pid of parent's child whose command is cmd.
func childRunning(t *testing.T, parent int, cmd string) int {
	t.Helper()
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", parent))
	for _, f := range tasks {
		data, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(data)) {
			pid, _ := strconv.Atoi(field)
			argv, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if first, _, _ := bytes.Cut(argv, []byte{0}); strings.HasSuffix(string(first), cmd) {
				return pid
			}
		}
	}
	t.Fatalf("no child of %d runs %s", parent, cmd)
	return 0
}

// running reports whether pid is alive (not gone, not a zombie).
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := bytes.Cut(stat, []byte(") "))
	return len(rest) > 0 && rest[0] != 'Z'
}

// noneLeft fails the test when a process still runs chrooted in root once
// the kernel has had a while to deliver the parent-death signals.
func noneLeft(t *testing.T, root string) {
	var left []string
	for range 600 { // up to 30 s
		left = left[:0]
		procs, _ := filepath.Glob("/proc/[0-9]*/root")
		for _, p := range procs {
			if dir, err := os.Readlink(p); err == nil && dir == root {
				pid := strings.Split(p, "/")[2]
				if n, _ := strconv.Atoi(pid); running(n) {
					argv, _ := os.ReadFile("/proc/" + pid + "/cmdline")
					left = append(left, pid+" "+string(bytes.ReplaceAll(argv, []byte{0}, []byte(" "))))
				}
			}
		}
		if len(left) == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, l := range left {
		if pid, _, _ := strings.Cut(l, " "); pid != "" {
			n, _ := strconv.Atoi(pid)
			_ = syscall.Kill(n, syscall.SIGKILL)
		}
	}
	t.Errorf("processes of the image outlived the emulator (killed now): %q", left)
}
