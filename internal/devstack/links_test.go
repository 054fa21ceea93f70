package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/ddbtest"
)

// running is one dev stack started by start.
type running struct {
	info Info
	stop func() error // cancels and returns Run's result
}

func start(t *testing.T, o Options) running {
	t.Helper()
	info, stop := startReady(t, time.Minute, func(ctx context.Context, ready func(Info)) error {
		o.Ready = ready
		return Run(ctx, o)
	}, func() string { return "" })
	return running{info: info, stop: stop}
}

// startReady runs run in the background until it calls ready, and returns
// what it was given and a stop that cancels run and returns its result
// (also called when the test ends). output is quoted when run fails first.
func startReady[I any](t *testing.T, wait time.Duration, run func(ctx context.Context, ready func(I)) error, output func() string) (I, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	readyCh := make(chan I, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(i I) { readyCh <- i }) }()
	var zero I
	select {
	case i := <-readyCh:
		stopped := false
		stop := func() error {
			if stopped {
				return nil
			}
			stopped = true
			cancel()
			return <-done
		}
		t.Cleanup(func() { _ = stop() })
		return i, stop
	case err := <-done:
		cancel()
		t.Fatalf("returned before it was ready: %v\n%s", err, output())
	case <-time.After(wait):
		cancel()
		t.Fatalf("not ready after %s\n%s", wait, output())
	}
	return zero, nil
}

var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func do(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type linkStats struct {
	Slug  string `json:"slug"`
	URL   string `json:"url"`
	Total int64  `json:"total_clicks"`
	Days  []struct {
		Day    string `json:"day"`
		Clicks int64  `json:"clicks"`
	} `json:"days"`
}

func stats(t *testing.T, base, slug string) linkStats {
	t.Helper()
	code, body := do(t, "GET", base+"/api/links/"+slug, "", "")
	if code != 200 {
		t.Fatalf("GET /api/links/%s = %d %s", slug, code, body)
	}
	var s linkStats
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("stats JSON %q: %v", body, err)
	}
	return s
}

func TestDataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	o := Options{DataDir: dir, SnapshotInterval: time.Hour} // only the final snapshot counts here

	first := start(t, o)
	base := first.info.URL
	if first.info.AdminToken == "" || !strings.Contains(first.info.TokenSource, "generated") {
		t.Fatalf("first run token %q from %q; want a generated one", first.info.AdminToken, first.info.TokenSource)
	}
	if code, body := do(t, "POST", base+"/api/links", "", `{"url":"https://example.com/a","slug":"keep1"}`); code != 201 {
		t.Fatalf("create keep1 = %d %s", code, body)
	}
	if code, body := do(t, "POST", base+"/api/links", "", `{"url":"https://example.com/b","slug":"gone1"}`); code != 201 {
		t.Fatalf("create gone1 = %d %s", code, body)
	}
	for range 5 {
		if code, _ := do(t, "GET", base+"/keep1", "", ""); code != 302 {
			t.Fatalf("redirect = %d, want 302", code)
		}
	}
	if code, body := do(t, "DELETE", base+"/api/links/gone1", first.info.AdminToken, ""); code != 204 {
		t.Fatalf("delete = %d %s", code, body)
	}
	if err := first.stop(); err != nil {
		t.Fatalf("first run: %v", err)
	}
	info, err := os.Stat(filepath.Join(dir, TokenFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, mode %v; want 0600", err, info.Mode())
	}

	second := start(t, o)
	base = second.info.URL
	if second.info.AdminToken != first.info.AdminToken {
		t.Errorf("token changed across restarts: %q then %q", first.info.AdminToken, second.info.AdminToken)
	}
	s := stats(t, base, "keep1")
	if s.URL != "https://example.com/a" || s.Total != 5 {
		t.Fatalf("after restart: %+v; want the link with 5 clicks", s)
	}
	if last := s.Days[len(s.Days)-1]; last.Clicks != 5 {
		t.Errorf("after restart today's bucket = %+v, want 5", last)
	}
	if code, _ := do(t, "GET", base+"/api/links/gone1", "", ""); code != 404 {
		t.Errorf("deleted link after restart = %d, want 404", code)
	}
	if code, _ := do(t, "GET", base+"/keep1", "", ""); code != 302 {
		t.Errorf("redirect after restart = %d, want 302", code)
	}
	if err := second.stop(); err != nil {
		t.Fatalf("second run: %v", err)
	}

	// And once more: the click of the second run was saved too.
	third := start(t, o)
	if s := stats(t, third.info.URL, "keep1"); s.Total != 6 {
		t.Errorf("third run total = %d, want 6", s.Total)
	}
}

func TestPeriodicSnapshot(t *testing.T) {
	dir := t.TempDir()
	r := start(t, Options{DataDir: dir, SnapshotInterval: 20 * time.Millisecond, FlushInterval: 20 * time.Millisecond})
	if code, body := do(t, "POST", r.info.URL+"/api/links", "", `{"url":"https://example.com/p","slug":"periodic"}`); code != 201 {
		t.Fatalf("create = %d %s", code, body)
	}
	// Wait (without a time limit of its own: the test deadline bounds it)
	// until the running stack has written the link.
	path := filepath.Join(dir, SnapshotFile)
	for {
		data, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(data), "LINK#periodic") {
			if _, err := parseSnapshot(data); err != nil {
				t.Fatalf("periodic snapshot does not parse: %v", err)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAdminTokenFromEnvironmentWins(t *testing.T) {
	dir := t.TempDir()
	r := start(t, Options{DataDir: dir, AdminToken: "s3cret"})
	if r.info.AdminToken != "s3cret" {
		t.Fatalf("token = %q, want the given one", r.info.AdminToken)
	}
	if _, err := os.Stat(filepath.Join(dir, TokenFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a given token was written to disk (err %v)", err)
	}
}

func TestExternalEndpoint(t *testing.T) {
	b := ddbtest.Minidyn(t)
	dir := t.TempDir()
	r := start(t, Options{DataDir: dir, Endpoint: b.Endpoint})
	if code, body := do(t, "POST", r.info.URL+"/api/links", "", `{"url":"https://example.com/e","slug":"ext1"}`); code != 201 {
		t.Fatalf("create = %d %s", code, body)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, SnapshotFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a snapshot was written with an external endpoint (err %v)", err)
	}
	// The link is in the external endpoint's table.
	r2 := start(t, Options{DataDir: t.TempDir(), Endpoint: b.Endpoint})
	if s := stats(t, r2.info.URL, "ext1"); s.URL != "https://example.com/e" {
		t.Errorf("link not in the external endpoint: %+v", s)
	}
}

func TestCorruptSnapshotSaysWhatToDo(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, SnapshotFile)
	if err := os.WriteFile(path, []byte(`{"version":1,"tables":[{"name":"links"`), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Run(context.Background(), Options{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "move it away") {
		t.Fatalf("err = %v; want one naming %s and what to do", err, path)
	}
}

func TestBusyPortNamesTheFlag(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	err = Run(context.Background(), Options{Port: port, DataDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "--port") {
		t.Fatalf("err = %v; want one that names --port", err)
	}
}

func TestSecondStackOnOneDataDirIsRefused(t *testing.T) {
	dir := t.TempDir()
	start(t, Options{DataDir: dir})
	err := Run(context.Background(), Options{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "--data") {
		t.Fatalf("err = %v; want a refusal that names --data", err)
	}
}
