package links

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestValidateURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://example.com", true},
		{"http://example.com:8080/a/b?c=d#e", true},
		{"https://user:pw@example.com/", true},
		{"https://[::1]:443/", true},
		{"https://xn--bcher-kva.example/", true},
		{"HTTPS://EXAMPLE.COM/", true}, // url.Parse lowercases the scheme
		{"", false},
		{"example.com", false},
		{"//example.com/path", false},
		{"ftp://example.com", false},
		{"javascript:alert(1)", false},
		{"data:text/html,hi", false},
		{"https:example.com", false},
		{"https://", false},
		{"https://:80/", false},
		{"https://exa mple.com", false},
		{"https://example.com/\x00", false},
		{"https://example.com/\t", false},
		{"https://example.com/%zz", false},
		{"https://example.com/" + strings.Repeat("a", MaxURLBytes), false},
	}
	for _, tt := range tests {
		if err := ValidateURL(tt.url); (err == nil) != tt.ok {
			t.Errorf("ValidateURL(%q) = %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
}

func TestValidateSlug(t *testing.T) {
	tests := []struct {
		slug string
		ok   bool
	}{
		{"abc", true},
		{"A-b_9", true},
		{strings.Repeat("z", 64), true},
		{"ab", false},
		{strings.Repeat("z", 65), false},
		{"a b", false},
		{"a.b", false},
		{"a/b", false},
		{"ümlaut", false},
		{"api", false},
		{"API", false},
		{"healthz", false},
		{"static", false},
		{"readyz", false},
		{"links", false},
	}
	for _, tt := range tests {
		err := ValidateSlug(tt.slug)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateSlug(%q) = %v, want ok=%v", tt.slug, err, tt.ok)
		}
		if validSlug(tt.slug) != tt.ok {
			t.Errorf("validSlug(%q) disagrees with ValidateSlug", tt.slug)
		}
	}
}

func TestNewSlug(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	for i := 0; i < 2000; i++ {
		s, err := NewSlug(GeneratedSlugLen)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^[0-9A-Za-z]{7}$`).MatchString(s) {
			t.Fatalf("slug %q is not 7 base62 characters", s)
		}
		if seen[s] {
			t.Fatalf("duplicate slug %q in 2000 draws of 62^7", s)
		}
		seen[s] = true
		for _, c := range s {
			counts[c]++
		}
	}
	// 14,000 characters over 62 symbols: ~226 each. A broken alphabet
	// (a symbol never drawn) shows up as fewer than 62 distinct symbols.
	if len(counts) != 62 {
		t.Errorf("only %d distinct characters drawn", len(counts))
	}
}

var slugRE = regexp.MustCompile(`^[A-Za-z0-9_-]{3,64}$`)

func FuzzValidateSlug(f *testing.F) {
	for _, s := range []string{"abc", "api", "a-b_c", "", "ab", "a.b", "ÄÖÜ", strings.Repeat("x", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateSlug(s)
		want := slugRE.MatchString(s) && !reserved[strings.ToLower(s)]
		if (err == nil) != want {
			t.Fatalf("ValidateSlug(%q) = %v, regexp oracle says ok=%v", s, err, want)
		}
		if validSlug(s) != want {
			t.Fatalf("validSlug(%q) disagrees", s)
		}
	})
}

func FuzzValidateURL(f *testing.F) {
	for _, s := range []string{"https://example.com", "http://a.b/c?d#e", "ftp://x", "javascript:x", "https://", "//x", "https://[::1]/", "https://a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateURL(s) != nil {
			return
		}
		// Everything accepted is a URL a browser can be sent to.
		if len(s) > MaxURLBytes {
			t.Fatalf("accepted %d bytes", len(s))
		}
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("accepted %q, which does not parse: %v", s, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "" {
			t.Fatalf("accepted %q: scheme %q host %q", s, u.Scheme, u.Hostname())
		}
		if strings.ContainsAny(s, " \t\r\n\x00") {
			t.Fatalf("accepted %q with whitespace or NUL (header injection)", s)
		}
	})
}
