// Package wakepage owns what a user sees while a service sleeps:
// the waking page that a request to a sleeping service gets while that same
// request starts it, and the closed page that a request outside the
// schedule's awake windows gets (no wake).
//
// Two callers render these responses: Go code (lowfare dev, through Write
// and Handler) and the wake controller, a Python Lambda function whose code
// internal/stack writes inline into the template. So that both send the same
// bytes, the bodies are the exported templates below with plain {{NAME}}
// placeholders, filled by string replacement in both languages (Go's
// strings.Replacer, Python's str.replace) rather than by html/template, whose
// syntax Python cannot read. The HTML leaves out the quotes it may (it
// travels inside a JSON string inside Python inside a JSON template, where
// each " costs up to four bytes). Every placeholder value is HTML-escaped in the
// HTML bodies and JSON-encoded in the JSON bodies.
package wakepage

import (
	"encoding/json"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Kind says which page to send.
type Kind int

const (
	// Waking: the service is starting because of this (or an earlier)
	// request; the client should retry after RetryAfter seconds.
	Waking Kind = iota
	// Closed: the request arrived outside the schedule's awake windows; the
	// service stays asleep until Opens.
	Closed
)

// DefaultRetryAfter is the Retry-After, in seconds, of a waking page whose
// Page leaves it zero: short enough that a browser's reload finds the task
// soon after it turns healthy (a Fargate task needs about a minute), long
// enough that a reloading page costs few requests.
const DefaultRetryAfter = 5

// Page is one response to render.
type Page struct {
	Kind Kind
	// RetryAfter is in seconds (Waking); 0 means DefaultRetryAfter.
	RetryAfter int
	// Opens is when the next awake window starts (Closed), in the schedule's
	// time zone, which the page shows. The zero time means "not known" and
	// the page says only that the service is closed.
	Opens time.Time
}

// The bodies. Placeholders: {{RETRY_AFTER}} (decimal seconds), {{OPENS}}
// (the opening time for people, OpensText), {{OPENS_AT}} (RFC 3339 in the
// JSON body). The HTML pages are small and self-contained (no scripts, no
// external resources): the waking page reloads itself with a meta refresh.
const (
	HTMLWaking = `<!doctype html>
<html lang=en><head><meta charset=utf-8>
<meta name=viewport content='width=device-width, initial-scale=1'>
<meta http-equiv=refresh content={{RETRY_AFTER}}>
<title>Waking up</title>
</head><body>
<h1>Waking up</h1>
<p>This service was asleep to save money and is starting now. It usually takes about a minute.</p>
<p>This page reloads by itself every {{RETRY_AFTER}} seconds.</p>
</body></html>
`
	HTMLClosed = `<!doctype html>
<html lang=en><head><meta charset=utf-8>
<meta name=viewport content='width=device-width, initial-scale=1'>
<title>Closed</title>
</head><body>
<h1>Closed</h1>
<p>This service sleeps outside its opening hours and does not wake on requests now.</p>
<p>It opens at {{OPENS}}.</p>
</body></html>
`
	// HTMLClosedUnknown is the closed page when the opening time is not known.
	HTMLClosedUnknown = `<!doctype html>
<html lang=en><head><meta charset=utf-8>
<meta name=viewport content='width=device-width, initial-scale=1'>
<title>Closed</title>
</head><body>
<h1>Closed</h1>
<p>This service sleeps outside its opening hours and does not wake on requests now.</p>
</body></html>
`
	JSONWaking        = `{"error":"waking up","retry_after":{{RETRY_AFTER}}}` + "\n"
	JSONClosed        = `{"error":"closed","opens_at":{{OPENS_AT}},"opens":{{OPENS}}}` + "\n"
	JSONClosedUnknown = `{"error":"closed"}` + "\n"
)

// OpensLayout is how the pages write the opening time for people, in the
// schedule's zone: "Mon 7 Dec 2026 08:00 CET". The controller writes the same
// with strftime("%a %-d %b %Y %H:%M %Z").
const OpensLayout = "Mon 2 Jan 2006 15:04 MST"

// OpensText is the opening time as the pages write it.
func OpensText(t time.Time) string { return t.Format(OpensLayout) }

// WantsHTML reports whether a client with this Accept header gets the HTML
// page rather than JSON: when it names text/html with a q-value other than
// zero. Browsers send text/html first on navigation; fetch() and API clients
// do not. The controller implements the same rule (wants_html).
func WantsHTML(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		fields := strings.Split(part, ";")
		if !strings.EqualFold(strings.TrimSpace(fields[0]), "text/html") {
			continue
		}
		q := "1"
		for _, p := range fields[1:] {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				q = strings.TrimSpace(v)
			}
		}
		if f, err := strconv.ParseFloat(q, 64); err != nil || f > 0 {
			return true
		}
	}
	return false
}

// Response is a rendered page: what Write sends.
type Response struct {
	Status  int
	Headers map[string]string
	Body    string
}

// Render builds the response for a client with this Accept header at now
// (now only matters for a closed page: Retry-After counts down to Opens).
//
// Both pages are 503 Service Unavailable with Retry-After (RFC 9110 §15.6.4
// and §10.2.3) and Cache-Control: no-store, so that neither a browser nor a
// proxy keeps the page once the service is back. A waking page's Retry-After
// is its RetryAfter; a closed page's is the seconds until Opens (none when
// not known).
func Render(p Page, accept string, now time.Time) Response {
	htmlOut := WantsHTML(accept)
	r := Response{Status: http.StatusServiceUnavailable, Headers: map[string]string{"Cache-Control": "no-store"}}
	switch p.Kind {
	case Closed:
		if p.Opens.IsZero() {
			r.Body = pick(htmlOut, HTMLClosedUnknown, JSONClosedUnknown)
			break
		}
		secs := int(p.Opens.Sub(now).Seconds() + 0.999)
		if secs < 1 {
			secs = 1
		}
		r.Headers["Retry-After"] = strconv.Itoa(secs)
		text := OpensText(p.Opens)
		if htmlOut {
			r.Body = strings.ReplaceAll(HTMLClosed, "{{OPENS}}", html.EscapeString(text))
		} else {
			r.Body = strings.NewReplacer("{{OPENS_AT}}", jsonString(p.Opens.Format(time.RFC3339)), "{{OPENS}}", jsonString(text)).Replace(JSONClosed)
		}
	default:
		n := p.RetryAfter
		if n <= 0 {
			n = DefaultRetryAfter
		}
		r.Headers["Retry-After"] = strconv.Itoa(n)
		r.Body = strings.ReplaceAll(pick(htmlOut, HTMLWaking, JSONWaking), "{{RETRY_AFTER}}", strconv.Itoa(n))
	}
	r.Headers["Content-Type"] = pick(htmlOut, "text/html; charset=utf-8", "application/json")
	return r
}

// Write sends the page for r to w.
func Write(w http.ResponseWriter, r *http.Request, p Page) {
	resp := Render(p, r.Header.Get("Accept"), time.Now())
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(resp.Body)))
	w.WriteHeader(resp.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(resp.Body)) // the client may have gone; nothing to do
	}
}

// Handler answers every request with the page p returns at that moment, so
// that a caller can switch between pages (waking, closed) as state changes.
func Handler(p func() Page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { Write(w, r, p()) })
}

func pick(htmlOut bool, h, j string) string {
	if htmlOut {
		return h
	}
	return j
}

func jsonString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}
