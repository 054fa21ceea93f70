package links

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestCreate(t *testing.T) {
	s := newTestService(t, Config{BaseURL: "https://sho.rt/"})
	s.create(t, "https://example.com/taken", "taken")
	long := "https://example.com/" + strings.Repeat("a", MaxURLBytes)
	tests := []struct {
		name       string
		body       string
		header     map[string]string
		wantStatus int
		wantError  string // substring of the JSON error
	}{
		{"custom slug", `{"url":"https://example.com/a?b=c#d","slug":"my-Link_1"}`, nil, 201, ""},
		{"generated slug", `{"url":"http://example.com"}`, nil, 201, ""},
		{"taken slug", `{"url":"https://example.com/other","slug":"taken"}`, nil, 409, "taken"},
		{"ftp", `{"url":"ftp://example.com/file"}`, nil, 400, "http:// or https://"},
		{"javascript", `{"url":"javascript:alert(1)"}`, nil, 400, "http:// or https://"},
		{"no host", `{"url":"https:///path"}`, nil, 400, "host"},
		{"relative", `{"url":"/local/path"}`, nil, 400, "http:// or https://"},
		{"space", `{"url":"https://example.com/a b"}`, nil, 400, "spaces"},
		{"empty url", `{"url":""}`, nil, 400, "required"},
		{"too long", `{"url":"` + long + `"}`, nil, 400, "at most 2048"},
		{"short slug", `{"url":"https://example.com","slug":"ab"}`, nil, 400, "3 to 64"},
		{"long slug", `{"url":"https://example.com","slug":"` + strings.Repeat("a", 65) + `"}`, nil, 400, "3 to 64"},
		{"slug chars", `{"url":"https://example.com","slug":"a/b.c"}`, nil, 400, "letters, digits"},
		{"reserved api", `{"url":"https://example.com","slug":"api"}`, nil, 400, "reserved"},
		{"reserved any case", `{"url":"https://example.com","slug":"HealthZ"}`, nil, 400, "reserved"},
		{"not json", `url=https://example.com`, nil, 400, "JSON object"},
		{"two objects", `{"url":"https://example.com"} {"url":"https://example.org"}`, nil, 400, "exactly one"},
		{"wrong type", `{"url":42}`, nil, 400, "JSON object"},
		{"too large", `{"url":"https://example.com","x":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, nil, 413, "16 KiB"},
		{"unknown field", `{"url":"https://example.com","slg":"typo"}`, nil, 400, `unknown field "slg"`},
		{"text/plain", `{"url":"https://example.com"}`, map[string]string{"Content-Type": "text/plain"}, 415, "application/json"},
		{"form body", `url=https://example.com`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "application/json"},
		{"no content type", `{"url":"https://example.com"}`, map[string]string{"Content-Type": ""}, 415, "application/json"},
		{"json with charset", `{"url":"https://example.com/cs"}`, map[string]string{"Content-Type": "application/json; charset=utf-8"}, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(t, call{method: "POST", path: "/api/links", body: tt.body, header: tt.header})
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, readBody(t, resp))
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if tt.wantStatus != 201 {
				e := decode[errorJSON](t, resp)
				if !strings.Contains(e.Error, tt.wantError) {
					t.Errorf("error %q does not mention %q", e.Error, tt.wantError)
				}
				return
			}
			l := decode[linkJSON](t, resp)
			var req createRequest
			json.Unmarshal([]byte(tt.body), &req)
			if l.URL != req.URL {
				t.Errorf("url %q, want %q", l.URL, req.URL)
			}
			if req.Slug != "" && l.Slug != req.Slug {
				t.Errorf("slug %q, want %q", l.Slug, req.Slug)
			}
			if req.Slug == "" && !regexp.MustCompile(`^[0-9A-Za-z]{7}$`).MatchString(l.Slug) {
				t.Errorf("generated slug %q is not 7 base62 characters", l.Slug)
			}
			if l.ShortURL != "https://sho.rt/"+l.Slug {
				t.Errorf("short_url %q", l.ShortURL)
			}
			if _, err := time.Parse(time.RFC3339, l.CreatedAt); err != nil {
				t.Errorf("created_at %q: %v", l.CreatedAt, err)
			}
			// The link now redirects.
			r := s.do(t, call{method: "GET", path: "/" + l.Slug})
			if r.StatusCode != http.StatusFound || r.Header.Get("Location") != req.URL {
				t.Errorf("redirect: %d to %q", r.StatusCode, r.Header.Get("Location"))
			}
		})
	}
}

func TestCreateTakenSlugKeepsFirstTarget(t *testing.T) {
	s := newTestService(t, Config{})
	s.create(t, "https://first.example/", "keep")
	resp := s.do(t, call{method: "POST", path: "/api/links", body: `{"url":"https://second.example/","slug":"keep"}`})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("status %d", resp.StatusCode)
	}
	r := s.do(t, call{method: "GET", path: "/keep"})
	if got := r.Header.Get("Location"); got != "https://first.example/" {
		t.Errorf("taken slug was overwritten: redirects to %q", got)
	}
}

func TestShortURLFromRequest(t *testing.T) {
	s := newTestService(t, Config{})
	tests := []struct {
		proto, want string
	}{
		{"", "http://example.com/"},
		{"https", "https://example.com/"},
	}
	for i, tt := range tests {
		slug := fmt.Sprintf("host%d", i)
		h := map[string]string{}
		if tt.proto != "" {
			h["X-Forwarded-Proto"] = tt.proto
		}
		resp := s.do(t, call{method: "POST", path: "/api/links", body: `{"url":"https://x.example","slug":"` + slug + `"}`, header: h})
		l := decode[linkJSON](t, resp)
		if l.ShortURL != tt.want+slug {
			t.Errorf("proto %q: short_url %q, want %q", tt.proto, l.ShortURL, tt.want+slug)
		}
	}
}

func TestRedirectAndStats(t *testing.T) {
	s := newTestService(t, Config{})
	s.create(t, "https://example.com/target", "abc")
	for i := 0; i < 3; i++ {
		r := s.do(t, call{method: "GET", path: "/abc"})
		if r.StatusCode != http.StatusFound || r.Header.Get("Location") != "https://example.com/target" {
			t.Fatalf("redirect %d: %d %q", i, r.StatusCode, r.Header.Get("Location"))
		}
	}
	// HEAD answers like GET but is not a click (link checkers and previews).
	if r := s.do(t, call{method: "HEAD", path: "/abc"}); r.StatusCode != http.StatusFound {
		t.Errorf("HEAD: %d", r.StatusCode)
	}
	s.flush(t)

	resp := s.do(t, call{method: "GET", path: "/api/links/abc"})
	if resp.StatusCode != 200 {
		t.Fatalf("stats: %d %s", resp.StatusCode, readBody(t, resp))
	}
	st := decode[statsJSON](t, resp)
	if st.TotalClicks != 3 {
		t.Errorf("total_clicks %d, want 3", st.TotalClicks)
	}
	if len(st.Days) != 7 {
		t.Fatalf("%d days, want 7", len(st.Days))
	}
	today := time.Now().UTC().Format("2006-01-02")
	if last := st.Days[6]; last.Day != today || last.Clicks != 3 {
		t.Errorf("last day %+v, want %s with 3 clicks", last, today)
	}
	for _, d := range st.Days[:6] {
		if d.Clicks != 0 {
			t.Errorf("day %+v has clicks", d)
		}
	}
}

func TestNotFound(t *testing.T) {
	s := newTestService(t, Config{})
	tests := []struct {
		method, path string
		status       int
		json         bool
	}{
		{"GET", "/nope", 404, false},
		{"GET", "/no", 404, false},               // too short to be a slug: no store call
		{"GET", "/api", 404, true},               // reserved, and under /api: JSON
		{"GET", "/a/b/c", 404, false},            // no such route
		{"GET", "/s/nope", 404, false},           // stats of an unknown link
		{"POST", "/abc", 405, false},             // only GET/HEAD on slugs
		{"GET", "/api/links/nope", 404, true},    // unknown link in the API
		{"GET", "/api/links/a.b", 404, true},     // invalid slug in the API
		{"GET", "/api/nothing", 404, true},       // unknown API route
		{"PUT", "/api/links", 405, true},         // wrong method, JSON error
		{"PATCH", "/api/links/abc", 405, true},   // wrong method, JSON error
		{"DELETE", "/api/links/nope", 401, true}, // auth comes first
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp := s.do(t, call{method: tt.method, path: tt.path})
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			body := readBody(t, resp)
			if tt.json {
				var e errorJSON
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
					t.Errorf("want a JSON error, got %q", body)
				}
			} else if tt.status == 404 && !strings.Contains(body, "<h1>Not found</h1>") {
				t.Errorf("want the 404 page, got %q", body)
			}
		})
	}
}

func TestList(t *testing.T) {
	s := newTestService(t, Config{})
	var want []string
	for i := 0; i < 5; i++ {
		slug := fmt.Sprintf("list%d", i)
		s.create(t, "https://example.com/"+slug, slug)
		want = append([]string{slug}, want...) // newest first
		time.Sleep(2 * time.Millisecond)       // distinct creation times, for a stable order
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		path := "/api/links?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		resp := s.do(t, call{method: "GET", path: path})
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, readBody(t, resp))
		}
		page := decode[listJSON](t, resp)
		if len(page.Links) > 2 {
			t.Fatalf("page of %d links, limit 2", len(page.Links))
		}
		for _, l := range page.Links {
			got = append(got, l.Slug)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("listed %v, want %v", got, want)
	}

	for _, tt := range []struct {
		query  string
		status int
		n      int
	}{
		{"", 200, 5},
		{"?limit=100", 200, 5},
		{"?limit=101", 400, 0}, // above the maximum: an error, not silently fewer
		{"?limit=1000", 400, 0},
		{"?limit=0", 400, 0},
		{"?limit=-3", 400, 0},
		{"?limit=ten", 400, 0},
		{"?cursor=not-a-cursor", 400, 0},
	} {
		resp := s.do(t, call{method: "GET", path: "/api/links" + tt.query})
		if resp.StatusCode != tt.status {
			t.Errorf("%q: status %d, want %d", tt.query, resp.StatusCode, tt.status)
			continue
		}
		if tt.status == 200 {
			if n := len(decode[listJSON](t, resp).Links); n != tt.n {
				t.Errorf("%q: %d links, want %d", tt.query, n, tt.n)
			}
		}
	}
}

func TestDelete(t *testing.T) {
	s := newTestService(t, Config{AdminToken: testToken})
	s.create(t, "https://example.com/del", "delme")
	s.do(t, call{method: "GET", path: "/delme"}) // cached and clicked
	s.flush(t)
	tests := []struct {
		name   string
		auth   string
		status int
	}{
		{"no header", "", 401},
		{"not bearer", "Basic " + testToken, 401},
		{"wrong token", "Bearer wrong", 403},
		{"token prefix", "Bearer " + testToken[:5], 403},
		{"right token", "Bearer " + testToken, 204},
		{"already gone", "Bearer " + testToken, 404},
	}
	for _, tt := range tests {
		h := map[string]string{}
		if tt.auth != "" {
			h["Authorization"] = tt.auth
		}
		resp := s.do(t, call{method: "DELETE", path: "/api/links/delme", header: h})
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.status)
		}
	}
	if r := s.do(t, call{method: "GET", path: "/delme"}); r.StatusCode != 404 {
		t.Errorf("deleted link still answers %d", r.StatusCode)
	}
	if r := s.do(t, call{method: "GET", path: "/api/links/delme"}); r.StatusCode != 404 {
		t.Errorf("deleted link's stats answer %d", r.StatusCode)
	}
	if strings.Contains(s.logs.String(), testToken[:8]) {
		t.Error("the admin token appears in the logs")
	}
}

func TestDeleteWithoutConfiguredToken(t *testing.T) {
	s := newTestService(t, Config{}) // no ADMIN_TOKEN: nobody may delete
	s.create(t, "https://example.com/", "stays")
	for _, auth := range []string{"Bearer ", "Bearer anything"} {
		resp := s.do(t, call{method: "DELETE", path: "/api/links/stays", header: map[string]string{"Authorization": auth}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%q: status %d, want 403", auth, resp.StatusCode)
		}
	}
	if r := s.do(t, call{method: "GET", path: "/stays"}); r.StatusCode != http.StatusFound {
		t.Errorf("link gone: %d", r.StatusCode)
	}
}
