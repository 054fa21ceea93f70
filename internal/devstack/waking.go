package devstack

import (
	"net/http"
	"strings"
)

// wakingRetryAfter is the Retry-After of the waking page on this machine,
// where a start takes a second or two (on AWS, about a minute).
const wakingRetryAfter = 2

// writeWaking answers a request while the app is not awake.
func writeWaking(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "2")
	w.Header().Set("Cache-Control", "no-store")
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="2"><title>Waking up</title><p>Waking up: this page reloads by itself.</p>`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"error":"waking up","retry_after":2}` + "\n"))
}
