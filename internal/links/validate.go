package links

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Limits of what a link may be.
const (
	MaxURLBytes      = 2048
	MinSlugLen       = 3
	MaxSlugLen       = 64
	GeneratedSlugLen = 7
)

// reserved are slugs that would shadow a route of this service or a file
// browsers and crawlers ask for. Compared case-insensitively so that a link
// can never look like one of them.
var reserved = map[string]bool{
	"api": true, "s": true, "healthz": true, "readyz": true, "static": true,
	"favicon.ico": true, "robots.txt": true, "links": true, "admin": true,
	"login": true, "logout": true, "metrics": true, "index": true,
	"sitemap.xml": true, "apple-touch-icon.png": true, ".well-known": true,
}

// ValidateURL checks a target URL: http or https, a host, at most
// MaxURLBytes, no whitespace or control characters. Callers store the URL
// as given (not re-encoded) so the redirect goes exactly where the user asked.
func ValidateURL(raw string) error {
	if raw == "" {
		return errors.New("url is required")
	}
	if len(raw) > MaxURLBytes {
		return fmt.Errorf("url is %d bytes; at most %d are allowed", len(raw), MaxURLBytes)
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c == 0x7f {
			return errors.New("url must not contain spaces or control characters; percent-encode them")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("url is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("url must start with http:// or https://")
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return errors.New("url must have a host, e.g. https://example.com/page")
	}
	return nil
}

// ValidateSlug checks a user-chosen slug: [A-Za-z0-9_-]{3,64} and not a
// reserved word.
func ValidateSlug(slug string) error {
	if len(slug) < MinSlugLen || len(slug) > MaxSlugLen {
		return fmt.Errorf("slug must be %d to %d characters long", MinSlugLen, MaxSlugLen)
	}
	for i := 0; i < len(slug); i++ {
		if !slugChar(slug[i]) {
			return errors.New("slug may contain only letters, digits, '-' and '_'")
		}
	}
	if reserved[strings.ToLower(slug)] {
		return fmt.Errorf("slug %q is reserved; choose another", slug)
	}
	return nil
}

// validSlug is ValidateSlug without building an error, for the hot path.
func validSlug(slug string) bool {
	if len(slug) < MinSlugLen || len(slug) > MaxSlugLen {
		return false
	}
	for i := 0; i < len(slug); i++ {
		if !slugChar(slug[i]) {
			return false
		}
	}
	return !reserved[strings.ToLower(slug)]
}

func slugChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewSlug returns a random base62 slug of n characters from crypto/rand.
// Bytes >= 248 are rejected so every character is equally likely
// (248 = 4*62).
func NewSlug(n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("reading random bytes: %w", err)
		}
		for _, b := range buf {
			if b >= 248 {
				continue
			}
			out = append(out, base62[b%62])
			if len(out) == n {
				break
			}
		}
	}
	return string(out), nil
}
