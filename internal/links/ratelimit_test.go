package links

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRateLimiter(t *testing.T) {
	l := newRateLimiter(10, time.Minute, 3)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i := 0; i < 10; i++ {
		if ok, _ := l.allow(a, t0); !ok {
			t.Fatalf("event %d of a burst of 10 refused", i+1)
		}
	}
	ok, wait := l.allow(a, t0)
	if ok || wait != 6*time.Second {
		t.Fatalf("11th event in the same instant: ok=%v wait=%s, want refused for 6s", ok, wait)
	}
	if ok, _ := l.allow(b, t0); !ok {
		t.Error("another client is limited by the first one's budget")
	}
	if ok, _ := l.allow(a, t0.Add(5*time.Second)); ok {
		t.Error("allowed before the wait it announced")
	}
	if ok, _ := l.allow(a, t0.Add(6*time.Second)); !ok {
		t.Error("refused after the wait it announced")
	}
	// Steady state: one event per 6 s, never more.
	if ok, _ := l.allow(a, t0.Add(7*time.Second)); ok {
		t.Error("a second event within 6 s of the last one")
	}
	// A minute after its last event a client has its whole burst again.
	t1 := t0.Add(2 * time.Minute)
	for i := 0; i < 10; i++ {
		if ok, _ := l.allow(a, t1); !ok {
			t.Fatalf("after a quiet minute, event %d refused", i+1)
		}
	}
}

func TestRateLimiterBoundedMemory(t *testing.T) {
	l := newRateLimiter(2, time.Minute, 3)
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}) }
	for i := 0; i < 3; i++ {
		l.allow(addr(i), t0)
	}
	// The table is full of clients within their period: new clients
	// share one overflow budget (2 events) and are not remembered.
	allowed := 0
	for i := 3; i < 100; i++ {
		if ok, _ := l.allow(addr(i), t0); ok {
			allowed++
		}
	}
	if allowed != 2 || l.clients() != 3 {
		t.Errorf("a flood of 97 new clients: %d allowed, %d tracked; want 2 and 3", allowed, l.clients())
	}
	// Once the first clients' budgets are full again, they are swept and
	// new clients get their own.
	t1 := t0.Add(time.Minute)
	if ok, _ := l.allow(addr(200), t1); !ok || l.clients() != 1 {
		t.Errorf("after the period: ok=%v, %d tracked; want a fresh client admitted and tracked alone", ok, l.clients())
	}
	if ok, _ := newRateLimiter(-1, time.Minute, 1).allow(addr(1), t0); !ok {
		t.Error("a negative rate must mean no limit")
	}
}

func TestClientAddr(t *testing.T) {
	tests := []struct {
		name   string
		remote string
		xff    []string
		hops   int
		want   string
	}{
		{"direct", "203.0.113.9:5000", nil, 0, "203.0.113.9"},
		{"direct ignores a forged header", "203.0.113.9:5000", []string{"198.51.100.1"}, 0, "203.0.113.9"},
		{"behind the ALB", "10.0.1.5:3000", []string{"198.51.100.1"}, 1, "198.51.100.1"},
		{"client-sent entries are ignored", "10.0.1.5:3000", []string{"1.1.1.1, 2.2.2.2, 198.51.100.1"}, 1, "198.51.100.1"},
		{"several header lines are one list", "10.0.1.5:3000", []string{"1.1.1.1", "198.51.100.1"}, 1, "198.51.100.1"},
		{"two trusted hops", "10.0.1.5:3000", []string{"1.1.1.1, 198.51.100.1, 10.0.0.7"}, 2, "198.51.100.1"},
		{"entry with a port", "10.0.1.5:3000", []string{"198.51.100.1:61000"}, 1, "198.51.100.1"},
		{"IPv6 keyed by its /64", "10.0.1.5:3000", []string{"2001:db8:1:2:aaaa::1"}, 1, "2001:db8:1:2::"},
		{"bracketed IPv6 with a port", "10.0.1.5:3000", []string{"[2001:db8:1:2::5]:443"}, 1, "2001:db8:1:2::"},
		{"IPv4-mapped IPv6", "[::ffff:203.0.113.9]:5000", nil, 0, "203.0.113.9"},
		{"no header behind a proxy: the connection", "10.0.1.5:3000", nil, 1, "10.0.1.5"},
		{"garbage entry: the connection", "10.0.1.5:3000", []string{"1.1.1.1, not-an-ip"}, 1, "10.0.1.5"},
		{"fewer entries than hops: the connection", "10.0.1.5:3000", []string{"198.51.100.1"}, 2, "10.0.1.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got, ok := clientAddr(r, tt.hops)
			if !ok || got.String() != tt.want {
				t.Errorf("clientAddr = %v (ok %v), want %s", got, ok, tt.want)
			}
		})
	}
}

// TestCreateRateLimit drives the limit through both create paths, the
// JSON API and the form, and checks that the ingress's X-Forwarded-For
// hop is what counts, not what the client wrote into the header.
func TestCreateRateLimit(t *testing.T) {
	s := newTestService(t, Config{CreateRate: 3, TrustedProxyHops: 1})
	target := s.create(t, "https://example.com/unlimited", "") // from 192.0.2.1, the test connection
	post := func(client, forged string, i int) *http.Response {
		xff := client
		if forged != "" {
			xff = forged + ", " + client
		}
		return s.do(t, call{method: "POST", path: "/api/links", body: `{"url":"https://example.com/` + strconv.Itoa(i) + `"}`,
			header: map[string]string{"X-Forwarded-For": xff}})
	}
	for i := 0; i < 3; i++ {
		if r := post("198.51.100.1", "", i); r.StatusCode != http.StatusCreated {
			t.Fatalf("create %d within the limit: %d %s", i, r.StatusCode, readBody(t, r))
		}
	}
	r := post("198.51.100.1", "", 3)
	if r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th create in a minute: status %d, want 429", r.StatusCode)
	}
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 20 {
		t.Errorf("Retry-After %q, want whole seconds up to the 20 s a token takes", r.Header.Get("Retry-After"))
	}
	if e := decode[errorJSON](t, r); !strings.Contains(e.Error, "try again in") {
		t.Errorf("429 error %q", e.Error)
	}
	// Forging entries to the left of the ingress's does not escape the limit.
	if r := post("198.51.100.1", "203.0.113.77", 4); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("forged X-Forwarded-For escaped the limit: %d", r.StatusCode)
	}
	// The form counts against the same budget, and answers with the page.
	form := s.do(t, call{method: "POST", path: "/", body: url.Values{"url": {"https://example.com/f"}}.Encode(),
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": "198.51.100.1"}})
	if body := readBody(t, form); form.StatusCode != http.StatusTooManyRequests || form.Header.Get("Retry-After") == "" || !strings.Contains(body, "too many links") {
		t.Errorf("form over the limit: %d, Retry-After %q", form.StatusCode, form.Header.Get("Retry-After"))
	}
	// Another client has its own budget.
	if r := post("198.51.100.2", "", 5); r.StatusCode != http.StatusCreated {
		t.Errorf("another client: %d", r.StatusCode)
	}
	// A limited client still follows links.
	if r := s.do(t, call{method: "GET", path: "/" + target.Slug, header: map[string]string{"X-Forwarded-For": "198.51.100.1"}}); r.StatusCode != http.StatusFound {
		t.Errorf("redirect for a limited client: %d", r.StatusCode)
	}
}

func TestCreateToken(t *testing.T) {
	const createToken = "create-token-value-123"
	s := newTestService(t, Config{CreateToken: createToken, AdminToken: testToken})
	api := []struct {
		name   string
		auth   string
		status int
	}{
		{"no token", "", 401},
		{"not bearer", "Basic " + createToken, 401},
		{"wrong token", "Bearer nope", 403},
		{"empty token", "Bearer ", 403},
		{"create token", "Bearer " + createToken, 201},
		{"admin token", "Bearer " + testToken, 201},
	}
	for _, tt := range api {
		h := map[string]string{}
		if tt.auth != "" {
			h["Authorization"] = tt.auth
		}
		r := s.do(t, call{method: "POST", path: "/api/links", body: `{"url":"https://example.com/t"}`, header: h})
		if r.StatusCode != tt.status {
			t.Errorf("API, %s: status %d, want %d", tt.name, r.StatusCode, tt.status)
		}
		if tt.status == 401 && r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("API, %s: 401 without WWW-Authenticate", tt.name)
		}
	}
	if body := readBody(t, s.do(t, call{method: "GET", path: "/"})); !strings.Contains(body, `name="token" type="password"`) {
		t.Error("the form does not ask for the create token")
	}
	form := []struct {
		name, token string
		status      int
	}{
		{"no token", "", 401},
		{"wrong token", "nope", 403},
		{"create token", createToken, 303},
	}
	for i, tt := range form {
		v := url.Values{"url": {"https://example.com/f"}, "slug": {"formtok" + strconv.Itoa(i)}}
		if tt.token != "" {
			v.Set("token", tt.token)
		}
		r := s.do(t, call{method: "POST", path: "/", body: v.Encode(), header: formHeader})
		body := readBody(t, r)
		if r.StatusCode != tt.status {
			t.Errorf("form, %s: status %d, want %d", tt.name, r.StatusCode, tt.status)
		}
		if strings.Contains(body, createToken) {
			t.Errorf("form, %s: the page echoes the token", tt.name)
		}
	}
	if strings.Contains(s.logs.String(), createToken) {
		t.Error("the create token appears in the logs")
	}
	// Without CREATE_TOKEN the form has no token field.
	open := newTestService(t, Config{})
	if body := readBody(t, open.do(t, call{method: "GET", path: "/"})); strings.Contains(body, `name="token"`) {
		t.Error("token field shown with no CREATE_TOKEN")
	}
}
