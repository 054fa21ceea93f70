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

// FuzzHandler sends arbitrary methods and Accept headers to both pages: the
// answer is always a 503 with a Retry-After that is a positive number (or,
// for a closed page of unknown opening, none), a body in the content type it
// claims (JSON that decodes, or HTML with no unfilled placeholder), and a
// Content-Length that matches.
func FuzzHandler(f *testing.F) {
	f.Add("GET", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", 0, int64(0))
	f.Add("POST", "application/json", 30, int64(3600))
	f.Add("HEAD", "text/html;q=0", -1, int64(-5))
	f.Add("GET", "", 1, int64(1))
	f.Fuzz(func(t *testing.T, method, accept string, retry int, opensIn int64) {
		if method == "" || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") || strings.ContainsAny(accept, "\r\n\x00") {
			t.Skip() // not a request net/http would deliver
		}
		now := time.Now()
		pages := []Page{
			{Kind: Waking, RetryAfter: retry},
			{Kind: Closed, Opens: now.Add(time.Duration(opensIn%1e6) * time.Second)},
			{Kind: Closed},
		}
		for _, p := range pages {
			req := httptest.NewRequest("GET", "/", nil)
			req.Method = method
			req.Header.Set("Accept", accept)
			rec := httptest.NewRecorder()
			Handler(func() Page { return p }).ServeHTTP(rec, req)
			resp := rec.Result()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if ra := resp.Header.Get("Retry-After"); ra != "" || !(p.Kind == Closed && p.Opens.IsZero()) {
				if n, err := strconv.Atoi(ra); err != nil || n < 1 {
					t.Fatalf("Retry-After %q for %+v", ra, p)
				}
			}
			if method == http.MethodHead {
				if len(body) != 0 {
					t.Fatalf("HEAD with a body")
				}
				continue
			}
			if resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
				t.Fatalf("Content-Length %s for %d bytes", resp.Header.Get("Content-Length"), len(body))
			}
			switch ct := resp.Header.Get("Content-Type"); ct {
			case "application/json":
				var v map[string]any
				if err := json.Unmarshal(body, &v); err != nil || v["error"] == nil {
					t.Fatalf("JSON body %q: %v", body, err)
				}
			case "text/html; charset=utf-8":
				if strings.Contains(string(body), "{{") || !strings.HasPrefix(string(body), "<!doctype html>") {
					t.Fatalf("HTML body %q", body)
				}
			default:
				t.Fatalf("Content-Type %q", ct)
			}
			if WantsHTML(accept) != strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("Accept %q got %s", accept, resp.Header.Get("Content-Type"))
			}
		}
	})
}
