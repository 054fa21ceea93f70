package links

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/links/store"
)

// TestSecurityHeaders checks the headers every response carries, pages,
// redirects, API answers, static files and errors alike.
func TestSecurityHeaders(t *testing.T) {
	s := newTestService(t, Config{})
	s.create(t, "https://example.com/", "secure")
	for _, c := range []call{
		{method: "GET", path: "/"},
		{method: "GET", path: "/secure"},
		{method: "GET", path: "/s/secure"},
		{method: "GET", path: "/nope-not-here"},
		{method: "GET", path: "/api/links"},
		{method: "GET", path: "/api/links/secure"},
		{method: "POST", path: "/api/links", body: "{}"},
		{method: "GET", path: "/static/style.css"},
		{method: "GET", path: "/static/"},
		{method: "GET", path: "/healthz"},
		{method: "GET", path: "/robots.txt"},
	} {
		r := s.do(t, c)
		if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s: X-Content-Type-Options %q", c.method, c.path, got)
		}
		if got := r.Header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s %s: Referrer-Policy %q", c.method, c.path, got)
		}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			csp := r.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("%s %s: HTML with Content-Security-Policy %q", c.method, c.path, csp)
			}
		}
	}
}

// TestShortURLHost: with BASE_URL set, neither Host nor X-Forwarded-Proto
// of the request can change the short links the service hands out.
func TestShortURLHost(t *testing.T) {
	s := newTestService(t, Config{BaseURL: "https://sho.rt"})
	r := s.do(t, call{method: "POST", path: "/api/links", body: `{"url":"https://example.com","slug":"hosted"}`,
		header: map[string]string{"Host": "evil.example", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example"}})
	if l := decode[linkJSON](t, r); l.ShortURL != "https://sho.rt/hosted" {
		t.Errorf("short_url %q, want https://sho.rt/hosted", l.ShortURL)
	}
}

// TestFormCrossSite: a browser posting the form from another site is
// refused; the page itself (same origin) and non-browser clients are not.
func TestFormCrossSite(t *testing.T) {
	s := newTestService(t, Config{})
	body := url.Values{"url": {"https://example.com/x"}}.Encode()
	tests := []struct {
		name   string
		header map[string]string
		status int
	}{
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"foreign origin, old browser", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
		{"no browser headers", nil, http.StatusSeeOther},
	}
	for _, tt := range tests {
		h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		for k, v := range tt.header {
			h[k] = v
		}
		if r := s.do(t, call{method: "POST", path: "/", body: body, header: h}); r.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, r.StatusCode, tt.status)
		}
	}
}

// TestRecentCookie: the form remembers what this browser created, newest
// first, at most ten.
func TestRecentCookie(t *testing.T) {
	s := newTestService(t, Config{})
	cookie := ""
	for i := 0; i < 12; i++ {
		h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		if cookie != "" {
			h["Cookie"] = cookie
		}
		r := s.do(t, call{method: "POST", path: "/", body: url.Values{"url": {"https://example.com/"}, "slug": {"mine" + string(rune('a'+i))}}.Encode(), header: h})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("create %d: %d", i, r.StatusCode)
		}
		var c *http.Cookie
		for _, rc := range r.Cookies() {
			if rc.Name == recentCookie {
				c = rc
			}
		}
		if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Fatalf("create %d: recent cookie %+v", i, c)
		}
		cookie = c.Name + "=" + c.Value
	}
	body := readBody(t, s.do(t, call{method: "GET", path: "/", header: map[string]string{"Cookie": cookie}}))
	if n := strings.Count(body, `<td class="short">`); n != recentMax {
		t.Errorf("%d links listed, want %d", n, recentMax)
	}
	if i, j := strings.Index(body, "/s/minel"), strings.Index(body, "/s/minec"); i < 0 || j < 0 || i > j || strings.Contains(body, "/s/mineb") {
		t.Errorf("want minel first, minec last, mineb dropped:\n%s", body)
	}
}

// busyStore is a store whose every table call is turned away, as
// store.Store does when all its calls are in use.
type busyStore struct{ store.API }

func (busyStore) Resolve(context.Context, string) (string, error) { return "", store.ErrBusy }
func (busyStore) List(context.Context, int, string) (store.Page, error) {
	return store.Page{}, store.ErrBusy
}

// TestBusyIs503 checks that store.ErrBusy is a 503 with Retry-After on
// the redirect and in the API, and is in the request log.
func TestBusyIs503(t *testing.T) {
	s := newTestService(t, Config{})
	s.h = NewHandler(busyStore{s.st}, Config{RequestLog: s.logs, CreateRate: -1}, newJSONLogger(s.logs))
	for _, path := range []string{"/some-slug", "/api/links"} {
		r := s.do(t, call{method: "GET", path: path})
		if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") != "1" {
			t.Errorf("%s with the store busy: %d, Retry-After %q; want 503 and 1", path, r.StatusCode, r.Header.Get("Retry-After"))
		}
	}
	if !strings.Contains(s.logs.String(), "store busy") {
		t.Errorf("ErrBusy not in the request log:\n%s", s.logs.String())
	}
}
