package devstack

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/testutil"
)

// runningApp is one RunApp started by startApp.
type runningApp struct {
	info AppInfo
	out  *testutil.Buffer // the app's output and lowfare dev's log
	stop func() error
}

// copyApp copies testdata/app into a fresh directory (so --watch tests can
// edit it) and loads its spec.
func copyApp(t *testing.T) (dir string, s *spec.Spec) {
	t.Helper()
	dir = t.TempDir()
	for _, name := range []string{"go.mod", "main.go", "lowfare.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", "app", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := spec.Load(filepath.Join(dir, "lowfare.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, s
}

func startApp(t *testing.T, dir string, o AppOptions) runningApp {
	t.Helper()
	return startAppLevel(t, dir, o, slog.LevelInfo)
}

// startAppLevel is startApp with lowfare dev's log at level, as the CLI
// sets it (-q: warnings only).
func startAppLevel(t *testing.T, dir string, o AppOptions, level slog.Level) runningApp {
	t.Helper()
	out := &testutil.Buffer{}
	o.SpecPath = filepath.Join(dir, "lowfare.yaml")
	o.AppOutput = out
	o.Logger = slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level})) // lowfare dev's own lines, in the same buffer
	if o.DataDir == "" {
		o.DataDir = filepath.Join(dir, ".lowfare", "dev")
	}
	o.StopTimeout = 5 * time.Second
	info, stop := startReady(t, 3*time.Minute, func(ctx context.Context, ready func(AppInfo)) error {
		o.Ready = ready
		return RunApp(ctx, o)
	}, out.String)
	return runningApp{info: info, out: out, stop: stop}
}

func getBody(t *testing.T, url string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// eventually polls f every 50 ms until it is true or a minute has passed.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after a minute", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRunAppGivesTheAppContract runs a stand-in app (not links) and reads
// back, through its own API, the environment lowfare dev gave it.
func TestRunAppGivesTheAppContract(t *testing.T) {
	dir, s := copyApp(t)
	t.Setenv("API_KEY", "from-env")
	t.Setenv("AWS_PROFILE", "someones-real-account")
	r := startApp(t, dir, AppOptions{Spec: s, Port: 0})
	for name, want := range map[string]string{
		"TABLE_NAME":                "devtestapp-dev",
		"GREETING":                  "hello",
		"API_KEY":                   "from-env",
		"AWS_ENDPOINT_URL_DYNAMODB": r.info.Endpoint,
		"AWS_REGION":                "us-east-1",
		"AWS_PROFILE":               "", // never a real account
	} {
		if code, _, got := getBody(t, r.info.URL+"/env/"+name); code != 200 || got != want {
			t.Errorf("%s = %q (%d), want %q", name, got, code, want)
		}
	}
	if _, _, port := getBody(t, r.info.URL+"/env/PORT"); port == "" || strings.HasSuffix(r.info.URL, ":"+port) {
		t.Errorf("PORT = %q: the app listens on its own port behind %s", port, r.info.URL)
	}
	if _, _, host := getBody(t, r.info.URL+"/host"); "http://"+host != r.info.URL {
		t.Errorf("the app saw Host %q, want the one the user asked for (%s)", host, r.info.URL)
	}
	if strings.Join(r.info.Missing, ",") != "MISSING_ONE" {
		t.Errorf("missing secrets %v, want [MISSING_ONE]", r.info.Missing)
	}
	if err := r.out.WaitFor(context.Background(), "devtestapp listening on"); err != nil {
		t.Error("the app's output is not shown:", err)
	}
	if err := r.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

// TestRunAppRestartsAnAppThatExits: the app exits; lowfare dev starts it
// again and meanwhile answers the waking page, never a connection error.
func TestRunAppRestartsAnAppThatExits(t *testing.T) {
	dir, s := copyApp(t)
	r := startApp(t, dir, AppOptions{Spec: s})
	_, _, pid1 := getBody(t, r.info.URL+"/pid")
	resp, err := http.Post(r.info.URL+"/exit", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sawWaking := false
	eventually(t, "the app is back with a new process", func() bool {
		code, h, pid := getBody(t, r.info.URL+"/pid")
		if code == http.StatusServiceUnavailable && h.Get("Retry-After") != "" {
			sawWaking = true
		}
		return code == 200 && pid != pid1
	})
	if err := r.out.WaitFor(context.Background(), "the app exited; restarting it"); err != nil {
		t.Error(err)
	}
	_ = sawWaking // how often the restart is seen depends on timing; the 200 afterwards is what counts
}

// TestRunAppIdleSleepsAndWakes: after the idle time the app process is
// stopped; the next request gets the waking page at once and starts it;
// later requests reach it again.
func TestRunAppIdleSleepsAndWakes(t *testing.T) {
	dir, s := copyApp(t)
	r := startApp(t, dir, AppOptions{Spec: s, Idle: 500 * time.Millisecond})
	_, _, pid1 := getBody(t, r.info.URL+"/pid")
	if err := r.out.WaitFor(context.Background(), "the app is asleep"); err != nil {
		t.Fatal(err)
	}
	code, h, body := getBody(t, r.info.URL+"/pid", "Accept", "text/html")
	if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.Contains(body, "Waking up") {
		t.Fatalf("asleep: got %d Retry-After=%q %q, want the waking page", code, h.Get("Retry-After"), body)
	}
	code, h, body = getBody(t, r.info.URL+"/pid")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"error":"waking up"`) || h.Get("Content-Type") != "application/json" {
		t.Fatalf("asleep, API client: got %d %q %q", code, h.Get("Content-Type"), body)
	}
	eventually(t, "the woken app answers", func() bool {
		code, _, pid := getBody(t, r.info.URL+"/pid")
		return code == 200 && pid != pid1
	})
	if n := strings.Count(r.out.String(), "devtestapp listening on"); n != 2 {
		t.Errorf("the app started %d times, want 2 (once, then one wake for several requests)", n)
	}
}

// TestRunAppWatchRebuilds: an edit to the app's source is picked up; a
// broken edit keeps the running app.
func TestRunAppWatchRebuilds(t *testing.T) {
	dir, s := copyApp(t)
	r := startApp(t, dir, AppOptions{Spec: s, Watch: true, WatchInterval: 100 * time.Millisecond})
	if _, _, v := getBody(t, r.info.URL+"/version"); v != "v1" {
		t.Fatalf("version %q, want v1", v)
	}
	main := filepath.Join(dir, "main.go")
	src, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(src), `const version = "v1"`, `const version = v2 // not Go`, 1)
	if err := os.WriteFile(main, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.out.WaitFor(ctx, "rebuild failed; the running app stays as it was"); err != nil {
		t.Fatal(err)
	}
	if code, _, v := getBody(t, r.info.URL+"/version"); code != 200 || v != "v1" {
		t.Fatalf("after a failed rebuild: %d %q, want the running v1", code, v)
	}
	if err := os.WriteFile(main, []byte(strings.Replace(string(src), `"v1"`, `"v2"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the rebuilt app answers v2", func() bool {
		code, _, v := getBody(t, r.info.URL+"/version")
		return code == 200 && v == "v2"
	})
}

// TestRunAppIdleServeApp: with service.idle serve: app, after the idle time
// the app process stops and the next request is answered by the app itself
// through lowfare's Lambda adapter (2xx and the app's own body, never the
// waking page), with the same environment, cookies both ways, the query
// and a binary body intact; requests at the wake rate wake the service,
// and once it is healthy requests reach its task again. Both ingresses:
// an HTTP API sends payload 2.0 events, an ALB its own (query values as
// the client encoded them).
func TestRunAppIdleServeApp(t *testing.T) {
	for _, ingress := range []string{spec.IngressAPIGW, spec.IngressALB} {
		t.Run(ingress, func(t *testing.T) { testServeApp(t, ingress) })
	}
}

func testServeApp(t *testing.T, ingress string) {
	dir, s := copyApp(t)
	s.Service.Idle = &spec.Idle{After: "5m", Serve: spec.ServeApp}
	s.Ingress.Kind = ingress
	r := startApp(t, dir, AppOptions{Spec: s, Idle: 500 * time.Millisecond, WakePerMinute: 4, BusyMinutes: 1})
	if !r.info.ServeApp || r.info.WakePerMinute != 4 {
		t.Fatalf("info %+v: want serve app waking at 4 a minute", r.info)
	}
	_, _, taskPID := getBody(t, r.info.URL+"/pid")
	if err := r.out.WaitFor(context.Background(), "the app is asleep"); err != nil {
		t.Fatal(err)
	}

	// Asleep: the app answers, on "Lambda".
	code, h, body := getBody(t, r.info.URL+"/env/AWS_LAMBDA_FUNCTION_NAME", "Accept", "text/html")
	if code != http.StatusOK || body != "lowfare-dev" || h.Get("Retry-After") != "" {
		t.Fatalf("asleep: %d %q (Retry-After %q), want 200 from the app on the Lambda path", code, body, h.Get("Retry-After"))
	}
	if code, _, got := getBody(t, r.info.URL+"/env/GREETING"); code != 200 || got != "hello" {
		t.Errorf("GREETING on Lambda: %d %q, want the task's environment", code, got)
	}
	req, err := http.NewRequest(http.MethodPost, r.info.URL+"/echo?q=a%20b&q=c", strings.NewReader("\x00\x01bin"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", "session=s1; theme=dark")
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var echo struct {
		Method, Path, Query, Cookie, XFF, Lambda string
		Body                                     []byte
	}
	err = json.NewDecoder(resp.Body).Decode(&echo)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /echo: %d %v", resp.StatusCode, err)
	}
	if echo.Method != "POST" || echo.Path != "/echo" || echo.Query != "q=a%20b&q=c" || echo.Cookie != "session=s1; theme=dark" ||
		string(echo.Body) != "\x00\x01bin" || echo.Lambda != "lowfare-dev" || echo.XFF == "" {
		t.Errorf("the app saw %+v", echo)
	}
	if got := resp.Cookies(); len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" || !got[1].HttpOnly {
		t.Errorf("cookies back %v, want a and b (HttpOnly)", got)
	}
	if err := r.out.WaitFor(context.Background(), "starting the app through the Lambda adapter"); err != nil {
		t.Error(err)
	}
	if strings.Contains(r.out.String(), "waking the service") {
		t.Fatalf("woke below the rate:\n%s", r.out.String())
	}

	// Busy: the 4th request in a minute wakes the service; Lambda keeps
	// answering until its task is healthy, then the task answers.
	for range 2 {
		if code, _, _ := getBody(t, r.info.URL+"/version"); code != 200 {
			t.Fatalf("while waking: %d, want 200", code)
		}
	}
	if err := r.out.WaitFor(context.Background(), "busy: requests reached the wake rate"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the woken task answers", func() bool {
		code, _, fn := getBody(t, r.info.URL+"/env/AWS_LAMBDA_FUNCTION_NAME")
		if code != 200 {
			t.Fatalf("while waking: %d, want 200 (no waking page with serve: app)", code)
		}
		return fn == ""
	})
	if _, _, pid := getBody(t, r.info.URL+"/pid"); pid == taskPID {
		t.Errorf("the task answering is the one that went to sleep (%s)", pid)
	}
	if err := r.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

// The busy meter is the busy alarm's metric: requests in each of the last
// minutes up to now; every one must reach the rate.
func TestIdleBusyMeterCountsMinutes(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	var one busyMeter
	for i, tc := range []struct {
		at   time.Duration
		want bool
	}{
		{0, false}, {10 * time.Second, false}, {59 * time.Second, true}, // 3 in the minute
		{60 * time.Second, true}, // the first left the minute: 10s, 59s, 60s
		{2 * time.Minute, false}, // alone in its minute
	} {
		if got := one.add(t0.Add(tc.at), 1, 3); got != tc.want {
			t.Errorf("one minute, request %d at +%s: busy %v, want %v", i, tc.at, got, tc.want)
		}
	}
	// Three minutes: two requests in each of three consecutive minutes.
	var three busyMeter
	var got bool
	for _, at := range []time.Duration{0, 1, 60, 61, 120, 121} {
		got = three.add(t0.Add(at*time.Second), 3, 2)
	}
	if !got {
		t.Error("two requests in each of three minutes: not busy at a rate of 2")
	}
	if three.add(t0.Add(200*time.Second), 3, 2) {
		t.Error("busy with one request in the latest minute")
	}
}
