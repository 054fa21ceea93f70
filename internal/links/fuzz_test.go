package links

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzHandler sends arbitrary requests to the service on a healthy store:
// it must never panic and never answer 5xx, and every /api error must be
// the documented JSON shape.
func FuzzHandler(f *testing.F) {
	seeds := []struct {
		method, path, body, hk, hv string
	}{
		{"GET", "/", "", "", ""},
		{"POST", "/api/links", `{"url":"https://example.com","slug":"seeded"}`, "Content-Type", "application/json"},
		{"POST", "/api/links", `{"url":"https://example.com"}`, "", ""},
		{"POST", "/", "url=https%3A%2F%2Fexample.com&slug=formy", "Content-Type", "application/x-www-form-urlencoded"},
		{"GET", "/seeded", "", "", ""},
		{"GET", "/s/seeded", "", "", ""},
		{"GET", "/api/links?limit=2&cursor=abc", "", "", ""},
		{"GET", "/api/links/seeded", "", "", ""},
		{"DELETE", "/api/links/seeded", "", "Authorization", "Bearer " + testToken},
		{"DELETE", "/api/links/seeded", "", "Authorization", "Bearer nope"},
		{"GET", "/healthz", "", "X-Request-Id", "abc"},
		{"OPTIONS", "/api/", "", "", ""},
		{"GET", "/static/style.css", "", "", ""},
		{"GET", "/static/../../etc/passwd", "", "", ""},
		{"POST", "/api/links", `{"url":"https://example.com"}{}`, "", ""},
		{"POST", "/api/links", `{"url":"https://example.com","slg":"typo"}`, "Content-Type", "application/json"},
		{"POST", "/api/links", `{"url":"https://example.com"}`, "Content-Type", "text/plain"},
		{"POST", "/", "url=https%3A%2F%2Fexample.com", "Sec-Fetch-Site", "cross-site"},
		{"GET", "/", "", "Cookie", "links_recent=seeded:1764000000.x:y..:"},
		{"GET", "/api/links?limit=101", "", "", ""},
		{"GET", "/static/", "", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, []byte(s.body), s.hk, s.hv)
	}
	svc := newTestService(f, Config{AdminToken: testToken})
	f.Fuzz(func(t *testing.T, method, path string, body []byte, hk, hv string) {
		req, err := http.NewRequest(method, "http://links.test"+path, bytes.NewReader(body))
		if err != nil || !strings.HasPrefix(path, "/") {
			return // the HTTP server rejects such requests before any handler runs
		}
		if _, err := url.ParseRequestURI(path); err != nil {
			return
		}
		if hk != "" && validHeader(hk, hv) {
			req.Header.Set(hk, hv)
		}
		rec := httptest.NewRecorder()
		svc.h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: status %d: %s", method, path, rec.Code, rec.Body.String())
		}
		if isAPI(req) && rec.Code >= 400 {
			var e errorJSON
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("%s %q: %d with a non-JSON error %q", method, path, rec.Code, rec.Body.String())
			}
		}
	})
}

// validHeader mirrors what net/http's server accepts in a header line.
func validHeader(k, v string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
