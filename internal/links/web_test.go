package links

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/ddbtest"
	"github.com/lowfare/lowfare/internal/links/store"
)

var formHeader = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

func TestPages(t *testing.T) {
	s := newTestService(t, Config{})
	s.create(t, "https://example.com/<b>bold</b>", "shown")
	tests := []struct {
		name     string
		c        call
		status   int
		location string
		contains []string
		absent   []string
	}{
		{
			name: "index has the form and lists no one's links", c: call{method: "GET", path: "/"}, status: 200,
			contains: []string{`<form method="post" action="/"`, `name="url"`, `name="slug"`},
			absent:   []string{"shown", "Recent", `name="token"`, "<script"},
		},
		{
			name: "index lists this browser's links, escaped", status: 200,
			c:        call{method: "GET", path: "/", header: map[string]string{"Cookie": recentCookie + "=shown:1764000000.gone1:1764000000.bad/slug:1"}},
			contains: []string{`href="/s/shown"`, `https://example.com/&lt;b&gt;bold&lt;/b&gt;`, "2025-11-24 16:00 UTC"},
			absent:   []string{"<b>bold</b>", "gone1", "bad/slug"},
		},
		{
			name: "form creates and redirects to stats", status: 303, location: "/s/formed",
			c: call{method: "POST", path: "/", body: url.Values{"url": {"https://example.org/x"}, "slug": {"formed"}}.Encode(), header: formHeader},
		},
		{
			name: "form with a generated slug", status: 303, location: "/s/",
			c: call{method: "POST", path: "/", body: url.Values{"url": {"https://example.org/gen"}}.Encode(), header: formHeader},
		},
		{
			name: "form error is shown with the input kept", status: 400,
			c:        call{method: "POST", path: "/", body: url.Values{"url": {"ftp://nope"}, "slug": {"keepme"}}.Encode(), header: formHeader},
			contains: []string{`role="alert"`, "http:// or https://", `value="ftp://nope"`, `value="keepme"`},
		},
		{
			name: "form conflict", status: 409,
			c:        call{method: "POST", path: "/", body: url.Values{"url": {"https://example.org/"}, "slug": {"shown"}}.Encode(), header: formHeader},
			contains: []string{"is taken"},
		},
		{
			name: "form body too large", status: 413,
			c: call{method: "POST", path: "/", body: "url=" + strings.Repeat("a", MaxBodyBytes), header: formHeader},
		},
		{
			name: "stats page with chart", c: call{method: "GET", path: "/s/shown"}, status: 200,
			contains: []string{`<svg id="chart"`, `data-clicks="0"`, `<dd id="total">0</dd>`},
		},
		{name: "static css", c: call{method: "GET", path: "/static/style.css"}, status: 200, contains: []string{"svg.chart"}},
		{name: "no listing of static", c: call{method: "GET", path: "/static/"}, status: 404, contains: []string{"<h1>Not found</h1>"}, absent: []string{`<a href="style.css">`}},
		{name: "no such static file", c: call{method: "GET", path: "/static/nope.css"}, status: 404},
		{name: "healthz", c: call{method: "GET", path: "/healthz"}, status: 200, contains: []string{"ok"}},
		{name: "readyz", c: call{method: "GET", path: "/readyz"}, status: 200, contains: []string{"ok"}},
		{name: "robots", c: call{method: "GET", path: "/robots.txt"}, status: 200, contains: []string{"Disallow: /api/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(t, tt.c)
			body := readBody(t, resp)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.location != "" && !strings.HasPrefix(resp.Header.Get("Location"), tt.location) {
				t.Errorf("Location %q, want prefix %q", resp.Header.Get("Location"), tt.location)
			}
			for _, c := range tt.contains {
				if !strings.Contains(body, c) {
					t.Errorf("body lacks %q", c)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(body, a) {
					t.Errorf("body contains %q", a)
				}
			}
		})
	}
}

func TestStatsPageCountsClicks(t *testing.T) {
	s := newTestService(t, Config{})
	s.create(t, "https://example.com/", "clicky")
	for i := 0; i < 2; i++ {
		s.do(t, call{method: "GET", path: "/clicky"})
	}
	s.flush(t)
	body := readBody(t, s.do(t, call{method: "GET", path: "/s/clicky"}))
	if !strings.Contains(body, `<dd id="total">2</dd>`) || strings.Count(body, `data-clicks="2"`) != 1 || strings.Count(body, `class="day"`) != 7 {
		t.Errorf("stats page does not show 2 clicks today across 7 days:\n%s", body)
	}
}

func TestChartBars(t *testing.T) {
	days := []store.DayCount{{Day: "2026-11-19", Clicks: 0}, {Day: "2026-11-20", Clicks: 1}, {Day: "2026-11-21", Clicks: 100}, {Day: "2026-11-22", Clicks: 50}}
	bars := chartBars(days)
	plotH := chartH - chartTop - chartBottom
	want := []int{0, 2, plotH, plotH / 2} // a day with clicks is never invisible
	for i, b := range bars {
		if b.H != want[i] {
			t.Errorf("bar %d height %d, want %d", i, b.H, want[i])
		}
		if b.Y+b.H != chartH-chartBottom {
			t.Errorf("bar %d does not stand on the baseline", i)
		}
		if b.X < 0 || b.X+b.W > chartW {
			t.Errorf("bar %d outside the chart: x=%d w=%d", i, b.X, b.W)
		}
	}
	if bars[0].Short != "11-19" {
		t.Errorf("label %q", bars[0].Short)
	}
	if chartBars(nil) != nil {
		t.Error("no days, no bars")
	}
}

// TestStoreDown points the service at a table that does not exist: the
// store fails, and the service says so with 503s instead of panicking.
func TestStoreDown(t *testing.T) {
	down := newServiceOn(t, ddbtest.Minidyn(t), "missing_table", Config{AdminToken: testToken})
	tests := []call{
		{method: "GET", path: "/readyz"},
		{method: "GET", path: "/abcdef"},
		{method: "POST", path: "/api/links", body: `{"url":"https://example.com"}`},
		{method: "GET", path: "/api/links"},
		{method: "GET", path: "/api/links/abcdef"},
		{method: "DELETE", path: "/api/links/abcdef", header: map[string]string{"Authorization": "Bearer " + testToken}},
		{method: "GET", path: "/s/abcdef"},
	}
	for _, c := range tests {
		resp := down.do(t, c)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s %s: status %d, want 503", c.method, c.path, resp.StatusCode)
		}
	}
	// The start page still renders its form when the listing fails.
	resp := down.do(t, call{method: "GET", path: "/", header: map[string]string{"Cookie": recentCookie + "=mine1:1764000000"}})
	if body := readBody(t, resp); resp.StatusCode != 200 || !strings.Contains(body, "could not be loaded") {
		t.Errorf("index with the table down: %d", resp.StatusCode)
	}
	if r := down.do(t, call{method: "GET", path: "/healthz"}); r.StatusCode != 200 {
		t.Errorf("healthz must not touch the table: %d", r.StatusCode)
	}
	if !strings.Contains(down.logs.String(), `"error":"`) {
		t.Error("store errors are not in the request log")
	}
}
