package wakepage

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestWantsHTML(t *testing.T) {
	for _, tc := range []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"*/*", false},
		{"application/json", false},
		{"text/html", true},
		{"TEXT/HTML", true},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true}, // Firefox and Chrome navigation
		{"application/json, text/html;q=0.5", true},
		{"text/html;q=0", false},
		{"text/html; q=0.0", false},
		{"text/html;q=bogus", true},
		{"text/htmlx", false},
		{"text/plain, text/html ; level=1", true},
	} {
		if got := WantsHTML(tc.accept); got != tc.want {
			t.Errorf("WantsHTML(%q) = %v, want %v", tc.accept, got, tc.want)
		}
	}
}

func get(t *testing.T, h http.Handler, method, accept string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, "/any/path?q=1", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestWakingPage(t *testing.T) {
	h := Handler(func() Page { return Page{Kind: Waking, RetryAfter: 7} })

	resp, body := get(t, h, http.MethodGet, "text/html,*/*;q=0.8")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "7" {
		t.Errorf("browser: status %d Retry-After %q, want 503 and 7", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("browser: Content-Type %q", ct)
	}
	for _, want := range []string{"Waking up", "reloads by itself", `http-equiv=refresh content=7>`} {
		if !strings.Contains(body, want) {
			t.Errorf("browser page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "{{") {
		t.Errorf("browser page has an unfilled placeholder:\n%s", body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", resp.Header.Get("Cache-Control"))
	}

	resp, body = get(t, h, http.MethodGet, "application/json")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "7" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("api: status %d Retry-After %q Content-Type %q", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"))
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("api body is not JSON: %v\n%s", err, body)
	}
	if len(got) != 2 || got["error"] != "waking up" || got["retry_after"] != float64(7) {
		t.Errorf("api body = %v, want {error: waking up, retry_after: 7}", got)
	}
}

func TestWakingDefaultRetryAfter(t *testing.T) {
	r := Render(Page{Kind: Waking}, "", time.Time{})
	if r.Headers["Retry-After"] != strconv.Itoa(DefaultRetryAfter) || r.Body != `{"error":"waking up","retry_after":5}`+"\n" {
		t.Errorf("default: %+v", r)
	}
}

func TestClosedPage(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	opens := time.Date(2026, 12, 7, 8, 0, 0, 0, berlin)
	now := opens.Add(-90*time.Minute - 500*time.Millisecond)

	r := Render(Page{Kind: Closed, Opens: opens}, "text/html", now)
	if r.Status != 503 || r.Headers["Retry-After"] != "5401" {
		t.Errorf("closed: status %d Retry-After %q, want 503 and 5401 (rounded up)", r.Status, r.Headers["Retry-After"])
	}
	if !strings.Contains(r.Body, "It opens at Mon 7 Dec 2026 08:00 CET.") || strings.Contains(r.Body, "refresh") {
		t.Errorf("closed page should name the opening time and not reload:\n%s", r.Body)
	}

	r = Render(Page{Kind: Closed, Opens: opens}, "application/json", now)
	var got map[string]any
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
		t.Fatalf("closed JSON: %v\n%s", err, r.Body)
	}
	if got["error"] != "closed" || got["opens_at"] != "2026-12-07T08:00:00+01:00" || got["opens"] != "Mon 7 Dec 2026 08:00 CET" {
		t.Errorf("closed JSON = %v", got)
	}

	// Past the opening time (a clock skew, a late schedule): still a valid header.
	if r := Render(Page{Kind: Closed, Opens: opens}, "", opens.Add(time.Hour)); r.Headers["Retry-After"] != "1" {
		t.Errorf("late: Retry-After %q, want 1", r.Headers["Retry-After"])
	}

	r = Render(Page{Kind: Closed}, "text/html", now)
	if _, ok := r.Headers["Retry-After"]; ok || !strings.Contains(r.Body, "Closed") || strings.Contains(r.Body, "{{") {
		t.Errorf("closed, unknown opening: %+v", r)
	}
	if r := Render(Page{Kind: Closed}, "", now); r.Body != JSONClosedUnknown {
		t.Errorf("closed JSON, unknown opening: %q", r.Body)
	}
}

func TestHeadHasNoBody(t *testing.T) {
	resp, body := get(t, Handler(func() Page { return Page{} }), http.MethodHead, "text/html")
	if resp.StatusCode != 503 || body != "" || resp.Header.Get("Content-Length") == "0" {
		t.Errorf("HEAD: status %d body %q Content-Length %q", resp.StatusCode, body, resp.Header.Get("Content-Length"))
	}
}

// Every placeholder in every template is one that Render fills, so the
// controller (which fills the same names) cannot miss one either.
func TestTemplatesPlaceholders(t *testing.T) {
	known := map[string]bool{"{{RETRY_AFTER}}": true, "{{OPENS}}": true, "{{OPENS_AT}}": true}
	for name, tmpl := range map[string]string{"HTMLWaking": HTMLWaking, "HTMLClosed": HTMLClosed, "HTMLClosedUnknown": HTMLClosedUnknown, "JSONWaking": JSONWaking, "JSONClosed": JSONClosed, "JSONClosedUnknown": JSONClosedUnknown} {
		rest := tmpl
		for {
			i := strings.Index(rest, "{{")
			if i < 0 {
				break
			}
			j := strings.Index(rest[i:], "}}")
			if j < 0 {
				t.Fatalf("%s: unterminated placeholder", name)
			}
			if ph := rest[i : i+j+2]; !known[ph] {
				t.Errorf("%s: unknown placeholder %s", name, ph)
			}
			rest = rest[i+j+2:]
		}
	}
}
