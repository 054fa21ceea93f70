package links

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/testutil"
)

// logLines parses the JSON log lines written so far.
func logLines(t *testing.T, s *testService) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.logs.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// TestRequestLog checks the request lines both ways they are written:
// encoded by hand (Config.RequestLog, what cmd/links does) and through the
// slog logger (RequestLog nil, what lowfare dev does). Both have the
// same fields.
func TestRequestLog(t *testing.T) {
	for _, byHand := range []bool{true, false} {
		t.Run(map[bool]string{true: "by hand", false: "through slog"}[byHand], func(t *testing.T) {
			testRequestLog(t, byHand)
		})
	}
}

func testRequestLog(t *testing.T, byHand bool) {
	s := newTestService(t, Config{AdminToken: testToken})
	s.create(t, "https://example.com/", "logged")
	s.logs = &testutil.Buffer{} // only the calls below
	cfg := Config{AdminToken: testToken}
	if byHand {
		cfg.RequestLog = s.logs
	}
	s.h = NewHandler(s.st, cfg, newJSONLogger(s.logs))

	resp := s.do(t, call{method: "GET", path: "/logged?token=" + testToken, header: map[string]string{"X-Request-Id": "req-42"}})
	if got := resp.Header.Get("X-Request-Id"); got != "req-42" {
		t.Errorf("X-Request-Id echoed as %q", got)
	}
	s.do(t, call{method: "DELETE", path: "/api/links/logged", header: map[string]string{"Authorization": "Bearer " + testToken, "Cookie": "session=" + testToken}})
	s.do(t, call{method: "DELETE", path: "/api/links/logged", header: map[string]string{"Authorization": "Bearer wrong-" + testToken}})
	resp = s.do(t, call{method: "GET", path: "/healthz", header: map[string]string{"X-Request-Id": "bad id with spaces"}})
	generated := resp.Header.Get("X-Request-Id")
	if generated == "" || strings.Contains(generated, " ") {
		t.Errorf("generated request id %q", generated)
	}

	lines := logLines(t, s)
	if len(lines) != 4 {
		t.Fatalf("%d log lines for 4 requests:\n%s", len(lines), s.logs.String())
	}
	first := lines[0]
	for k, want := range map[string]any{"method": "GET", "path": "/logged", "status": 302.0, "request_id": "req-42", "msg": "request"} {
		if first[k] != want {
			t.Errorf("log %s = %v, want %v", k, first[k], want)
		}
	}
	for _, k := range []string{"bytes", "duration_ms", "time", "level"} {
		if _, ok := first[k]; !ok {
			t.Errorf("log line lacks %q: %v", k, first)
		}
	}
	if lines[1]["status"] != 204.0 || lines[2]["status"] != 403.0 {
		t.Errorf("statuses logged: %v, %v", lines[1]["status"], lines[2]["status"])
	}
	if lines[3]["request_id"] != generated {
		t.Errorf("logged id %v, answered %q", lines[3]["request_id"], generated)
	}
	if strings.Contains(s.logs.String(), testToken) {
		t.Errorf("the admin token appears in the logs:\n%s", s.logs.String())
	}
}

func TestBodyLimit(t *testing.T) {
	s := newTestService(t, Config{})
	big := `{"url":"https://example.com","pad":"` + strings.Repeat("x", MaxBodyBytes) + `"}`
	// Without Content-Length (chunked), the limit is enforced while reading.
	req := httptest.NewRequest("POST", "/api/links", io.NopCloser(strings.NewReader(big)))
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = -1
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked: status %d, want 413", rec.Code)
	}
	var e errorJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
		t.Errorf("413 on /api is not a JSON error: %q", rec.Body.String())
	}
	// With a Content-Length over the limit, before reading anything, on any route.
	for _, path := range []string{"/api/links", "/", "/healthz"} {
		req := httptest.NewRequest("POST", path, strings.NewReader(big))
		rec := httptest.NewRecorder()
		s.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: status %d, want 413", path, rec.Code)
		}
	}
	// Exactly at the limit is fine (and then a 400 for the bad URL, not 413).
	exact := `{"url":"x","pad":"` + strings.Repeat("x", MaxBodyBytes-len(`{"url":"x","pad":""}`)) + `"}`
	if len(exact) != MaxBodyBytes {
		t.Fatalf("test body is %d bytes", len(exact))
	}
	if r := s.do(t, call{method: "POST", path: "/api/links", body: exact}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("body of exactly 16 KiB: status %d, want 400", r.StatusCode)
	}
}

func TestRequestID(t *testing.T) {
	tests := []struct {
		given string
		keep  bool
	}{
		{"abc-123", true},
		{"", false},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"with space", false},
		{"new\nline", false},
		{"ünïcode", false},
	}
	for _, tt := range tests {
		got := requestID(tt.given)
		if (got == tt.given) != tt.keep || got == "" {
			t.Errorf("requestID(%q) = %q, keep=%v", tt.given, got, tt.keep)
		}
	}
}
