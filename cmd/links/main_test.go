package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/ddbtest"
	"github.com/lowfare/lowfare/internal/links/store"
	"github.com/lowfare/lowfare/internal/testutil"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		addr    string
	}{
		{"defaults", map[string]string{"TABLE_NAME": "links"}, "", ":8080"},
		{"port", map[string]string{"TABLE_NAME": "links", "PORT": "9000"}, "", ":9000"},
		{"no table", map[string]string{}, "TABLE_NAME", ""},
		{"bad port", map[string]string{"TABLE_NAME": "links", "PORT": "80a"}, "PORT", ""},
		{"bad base url", map[string]string{"TABLE_NAME": "links", "BASE_URL": "sho.rt"}, "BASE_URL", ""},
		{"bad log level", map[string]string{"TABLE_NAME": "links", "LOG_LEVEL": "loud"}, "LOG_LEVEL", ""},
		{"rate limit", map[string]string{"TABLE_NAME": "links", "CREATE_RATE_LIMIT": "30", "TRUSTED_PROXY_HOPS": "1", "CREATE_TOKEN": "t"}, "", ":8080"},
		{"bad rate limit", map[string]string{"TABLE_NAME": "links", "CREATE_RATE_LIMIT": "lots"}, "CREATE_RATE_LIMIT", ""},
		{"negative rate limit", map[string]string{"TABLE_NAME": "links", "CREATE_RATE_LIMIT": "-1"}, "CREATE_RATE_LIMIT", ""},
		{"bad hops", map[string]string{"TABLE_NAME": "links", "TRUSTED_PROXY_HOPS": "yes"}, "TRUSTED_PROXY_HOPS", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := configFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || cfg.Addr != tt.addr {
				t.Fatalf("cfg %+v err %v", cfg, err)
			}
		})
	}
	// On Lambda the stop budget is the shutdown phase's, not ECS's.
	cfg, _, err := configFromEnv(func(k string) string {
		return map[string]string{"TABLE_NAME": "links", "AWS_LAMBDA_FUNCTION_NAME": "fn"}[k]
	})
	if err != nil || cfg.StopBudget != lambdaStopBudget || cfg.ShutdownGrace != lambdaDrain {
		t.Errorf("on Lambda: stop budget %v, drain %v (%v); want %v and %v", cfg.StopBudget, cfg.ShutdownGrace, err, lambdaStopBudget, lambdaDrain)
	}
}

func TestUsageErrors(t *testing.T) {
	env := func(k string) string { return map[string]string{"TABLE_NAME": "t"}[k] }
	for _, args := range [][]string{{"--nope"}, {"serve"}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, env, &out, &errb); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, exitUsage, errb.String())
		}
	}
}

func TestHealthcheck(t *testing.T) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("ok"))
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)

	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"healthcheck"}, func(k string) string {
		return map[string]string{"PORT": port}[k]
	}, &out, &errb); code != exitOK {
		t.Errorf("healthy: exit %d: %s", code, errb.String())
	}
	srv.Close()
	errb.Reset()
	if code := run(context.Background(), []string{"healthcheck"}, func(k string) string {
		return map[string]string{"PORT": port}[k]
	}, &out, &errb); code != exitFail || !strings.Contains(errb.String(), "/healthz") {
		t.Errorf("down: exit %d, stderr %q", code, errb.String())
	}
}

// buildLinks compiles cmd/links into a temporary directory.
func buildLinks(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "links")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSIGTERMWithRequestsInFlight starts the real binary against minidyn,
// opens requests whose handlers are running (the server has asked for their
// bodies with 100 Continue), sends SIGTERM, waits until the service says it
// is shutting down, then lets the requests finish. Every one must succeed,
// the clicks counted before the signal must be in the table, and the
// process must exit 0.
func TestSIGTERMWithRequestsInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildLinks(t)
	ddb := ddbtest.Minidyn(t)
	table := ddbtest.TableName(t)
	port := testutil.FreePort(t)
	base := "http://127.0.0.1:" + port

	cmd := exec.Command(bin, "--create-table")
	cmd.Env = append(os.Environ(),
		"PORT="+port, "TABLE_NAME="+table, "AWS_ENDPOINT_URL_DYNAMODB="+ddb.Endpoint,
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"ADMIN_TOKEN=t0ken", "CREATE_RATE_LIMIT=0") // 21 creates from one address
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	// Watch the JSON log for "listening" and "shutting down".
	listening, shuttingDown := make(chan struct{}), make(chan struct{})
	var logMu sync.Mutex
	var logText strings.Builder
	go func() {
		sc := bufio.NewScanner(stdout)
		var l, s sync.Once
		for sc.Scan() {
			line := sc.Text()
			logMu.Lock()
			logText.WriteString(line + "\n")
			logMu.Unlock()
			var m map[string]any
			json.Unmarshal([]byte(line), &m)
			switch m["msg"] {
			case "listening":
				l.Do(func() { close(listening) })
			case "shutting down":
				s.Do(func() { close(shuttingDown) })
			}
		}
	}()
	select {
	case <-listening:
	case <-time.After(60 * time.Second):
		t.Fatalf("links did not start listening; stderr:\n%s", stderr.String())
	}

	client := &http.Client{
		Timeout:       60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{ExpectContinueTimeout: 30 * time.Second, MaxConnsPerHost: 0},
	}
	post := func(body io.Reader, trace *httptrace.ClientTrace) (int, string, error) {
		req, _ := http.NewRequest("POST", base+"/api/links", body)
		req.Header.Set("Content-Type", "application/json")
		if trace != nil {
			req.Header.Set("Expect", "100-continue")
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}

	// A link, and clicks on it before the signal.
	if code, body, err := post(strings.NewReader(`{"url":"https://example.com/t","slug":"term"}`), nil); err != nil || code != 201 {
		t.Fatalf("create: %d %s %v", code, body, err)
	}
	const clicks = 25
	for i := 0; i < clicks; i++ {
		resp, err := client.Get(base + "/term")
		if err != nil || resp.StatusCode != http.StatusFound {
			t.Fatalf("redirect %d: %v %v", i, resp, err)
		}
		resp.Body.Close()
	}

	// In-flight creates: each handler is running and reading its body.
	const inFlight = 20
	var started sync.WaitGroup
	started.Add(inFlight)
	writers := make([]*io.PipeWriter, inFlight)
	type result struct {
		code int
		body string
		err  error
	}
	results := make(chan result, inFlight)
	for i := 0; i < inFlight; i++ {
		pr, pw := io.Pipe()
		writers[i] = pw
		var once sync.Once
		trace := &httptrace.ClientTrace{Got100Continue: func() { once.Do(started.Done) }}
		go func() {
			code, body, err := post(pr, trace)
			results <- result{code, body, err}
		}()
	}
	waitOrFail(t, &started, 60*time.Second, "the in-flight requests did not reach their handlers")

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-shuttingDown:
	case <-time.After(30 * time.Second):
		t.Fatal("links did not log that it is shutting down")
	}
	// New connections are refused once the listener is closed. The log line
	// comes just before Shutdown closes it, so look until it is (a bounded
	// wait, not a timing assertion).
	refused := false
	for deadline := time.Now().Add(10 * time.Second); !refused && time.Now().Before(deadline); {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 2*time.Second)
		if refused = err != nil; !refused {
			c.Close()
			time.Sleep(20 * time.Millisecond)
		}
	}
	if !refused {
		t.Error("links still accepts connections 10 s after SIGTERM")
	}
	for i, pw := range writers {
		fmt.Fprintf(pw, `{"url":"https://example.com/%d","slug":"inflight%d"}`, i, i)
		pw.Close()
	}
	for i := 0; i < inFlight; i++ {
		r := <-results
		if r.err != nil || r.code != http.StatusCreated {
			t.Errorf("in-flight request failed: %d %s %v", r.code, r.body, r.err)
		}
	}

	if err := cmd.Wait(); err != nil {
		logMu.Lock()
		t.Fatalf("links exited with %v; stderr:\n%s\nlog:\n%s", err, stderr.String(), logText.String())
	}

	// The clicks buffered before the signal were flushed on the way out.
	st := store.New(ddb.Client, table, store.Options{})
	defer st.Close(context.Background())
	stats, err := st.Stats(context.Background(), "term", time.Now(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Total != clicks {
		t.Errorf("%d clicks in the table after shutdown, want %d", stats.Total, clicks)
	}
	for i := 0; i < inFlight; i++ {
		if _, err := st.Get(context.Background(), fmt.Sprintf("inflight%d", i)); err != nil {
			t.Errorf("in-flight link %d: %v", i, err)
		}
	}
}

func waitOrFail(t *testing.T, wg *sync.WaitGroup, d time.Duration, msg string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatal(msg)
	}
}
