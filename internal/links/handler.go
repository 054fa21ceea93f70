package links

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lowfare/lowfare/internal/links/store"
)

// MaxBodyBytes bounds every request body; larger bodies get 413.
const MaxBodyBytes = 16 << 10

// statsDays is how many days the stats page and API show.
const statsDays = 7

// storeTimeout bounds the store calls of one request, well inside the
// server's WriteTimeout so a slow table yields a clean 5xx, not a cut connection.
const storeTimeout = 10 * time.Second

// handler serves the links API and web pages over one store.
type handler struct {
	st      store.API
	cfg     Config
	log     *slog.Logger
	pages   *pages
	now     func() time.Time
	creates *rateLimiter // per client, for POST /api/links and POST /
	// crossOrigin refuses the form when a browser posts it from another site.
	crossOrigin *http.CrossOriginProtection
}

// NewHandler returns the links service as an http.Handler: routes, request
// logging (to cfg.RequestLog), request ids, security headers, body limit
// and panic recovery.
func NewHandler(st store.API, cfg Config, log *slog.Logger) http.Handler {
	cfg = cfg.withDefaults()
	h := &handler{st: st, cfg: cfg, log: log, pages: mustPages(), now: time.Now,
		creates: newRateLimiter(cfg.CreateRate, time.Minute, maxRateClients), crossOrigin: http.NewCrossOriginProtection()}
	if cfg.BaseURL != "" {
		// Behind a proxy that rewrites Host (API Gateway), Origin is the
		// public address: trust it. BaseURL is checked in cmd/links.
		_ = h.crossOrigin.AddTrustedOrigin(strings.TrimRight(cfg.BaseURL, "/"))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.HandleFunc("GET /readyz", h.readyz)
	// /api routes dispatch methods themselves so that every /api error,
	// 405 included, is JSON.
	mux.HandleFunc("/api/links", h.apiLinks)
	mux.HandleFunc("/api/links/{slug}", h.apiLink)
	mux.HandleFunc("/api/", h.apiNotFound)
	mux.HandleFunc("GET /{$}", h.index)
	mux.HandleFunc("POST /{$}", h.createForm)
	mux.HandleFunc("GET /s/{slug}", h.statsPage)
	mux.Handle("GET /static/", h.staticHandler())
	mux.HandleFunc("GET /robots.txt", robots)
	mux.HandleFunc("GET /{slug}", h.redirect)
	mux.HandleFunc("/", h.notFound)
	return &middleware{next: mux, log: log, out: cfg.RequestLog}
}

// middleware does what every request needs: a request id, the security
// headers, the body limit, panic recovery and one JSON log line. It is the
// redirect's fixed cost, so it allocates as little as it can (bench/links.sh
// holds it to the floor of a bare net/http server).
type middleware struct {
	next http.Handler
	log  *slog.Logger // decides whether request lines are wanted (LOG_LEVEL)
	out  io.Writer    // where request lines go; nil: through log
}

// recorder remembers what the handler wrote, for the log line.
type recorder struct {
	http.ResponseWriter
	start  time.Time // when the request arrived
	status int
	bytes  int64
	err    error // a store error worth logging; never user input or headers
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Pools for the per-request recorder and log line buffer: a redirect then
// allocates only its request id.
var (
	recorders   = sync.Pool{New: func() any { return new(recorder) }}
	lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}
)

// Header values shared by every response; net/http only reads them.
var (
	hdrNosniff    = []string{"nosniff"}
	hdrNoReferrer = []string{"no-referrer"}
	// A redirect is not cached, so every click reaches us and is counted.
	hdrNoStoreCache = []string{"private, max-age=0"}
)

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := requestID(r.Header.Get("X-Request-Id"))
	hdr := w.Header()
	hdr["X-Request-Id"] = []string{id}
	// On every response: no MIME sniffing (a target URL or an error must
	// never be read as HTML), and no Referer from our pages or redirects,
	// so a target does not learn which short link or stats page sent the
	// visitor.
	hdr["X-Content-Type-Options"] = hdrNosniff
	hdr["Referrer-Policy"] = hdrNoReferrer
	rec := recorders.Get().(*recorder)
	*rec = recorder{ResponseWriter: w, start: start}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			rec.err = errors.New("panic: " + slog.AnyValue(p).String())
			if rec.status == 0 {
				http.Error(rec, "internal error", http.StatusInternalServerError)
			}
		}
		m.logRequest(r, rec, id, start)
		*rec = recorder{}
		recorders.Put(rec)
	}()
	if r.ContentLength > MaxBodyBytes {
		tooLarge(rec, r)
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(rec, r.Body, MaxBodyBytes)
	}
	m.next.ServeHTTP(rec, r)
}

// logRequest writes the request's one log line. Headers are never logged:
// Authorization carries the admin token. The query string is left out for
// the same reason (cursors are harmless, but a token pasted into a URL is not).
func (m *middleware) logRequest(r *http.Request, rec *recorder, id string, start time.Time) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	level, levelName := slog.LevelInfo, "INFO"
	if status >= 500 {
		level, levelName = slog.LevelError, "ERROR"
	}
	if !m.log.Enabled(context.Background(), level) {
		return
	}
	now := time.Now()
	line := requestLine{
		at: now, level: levelName, method: r.Method, path: r.URL.Path,
		status: status, bytes: rec.bytes, duration: now.Sub(start), id: id,
	}
	if rec.err != nil {
		line.err = rec.err.Error()
	}
	if m.out == nil {
		m.log.LogAttrs(context.Background(), level, "request", line.attrs()...)
		return
	}
	bp := lineBuffers.Get().(*[]byte)
	b := line.appendTo((*bp)[:0])
	m.out.Write(b)
	if cap(b) <= 4<<10 {
		*bp = b
		lineBuffers.Put(bp)
	}
}

// requestID accepts a caller's id when it is short and printable, else makes one.
func requestID(given string) string {
	if given != "" && len(given) <= 128 {
		ok := true
		for i := 0; i < len(given); i++ {
			if c := given[i]; c < 0x21 || c > 0x7e {
				ok = false
				break
			}
		}
		if ok {
			return given
		}
	}
	// Not a secret, only a correlation id: math/rand is enough and cheap.
	return strconv.FormatUint(rand.Uint64(), 36)
}

func tooLarge(w http.ResponseWriter, r *http.Request) {
	msg := "request body is larger than 16 KiB"
	if isAPI(r) {
		writeJSONError(w, http.StatusRequestEntityTooLarge, msg)
		return
	}
	http.Error(w, msg, http.StatusRequestEntityTooLarge)
}

func isAPI(r *http.Request) bool {
	p := r.URL.Path
	return p == "/api" || len(p) >= 5 && p[:5] == "/api/"
}

// storeFailed records a store error for the log line; the client only
// learns that the table did not answer. w is the middleware's recorder
// (ServeMux hands it through unchanged).
func storeFailed(w http.ResponseWriter, err error) {
	if rec, ok := w.(*recorder); ok {
		rec.err = err
	}
}

// apiTableDownMsg is what the API says when the store did not answer.
const apiTableDownMsg = "the link table did not answer; try again"

// apiTableDown answers an API request whose store call failed: 503 in
// JSON, with the cause kept for the request log.
func apiTableDown(w http.ResponseWriter, r *http.Request, err error) {
	storeFailed(w, err)
	retryIfBusy(w, err)
	writeJSONError(w, http.StatusServiceUnavailable, apiTableDownMsg)
}

// pageTableDown is apiTableDown for the HTML pages.
func (h *handler) pageTableDown(w http.ResponseWriter, r *http.Request, err error) {
	storeFailed(w, err)
	retryIfBusy(w, err)
	h.pages.renderError(w, http.StatusServiceUnavailable, "The link table did not answer. Try again in a moment.")
}

// retryIfBusy adds Retry-After when the store turned the call away because
// all its table calls were in use (store.ErrBusy): that passes within
// about a second, unlike an outage, for which we cannot say when.
func retryIfBusy(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrBusy) {
		w.Header().Set("Retry-After", "1")
	}
}

func (h *handler) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (h *handler) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := h.st.Ping(ctx); err != nil {
		storeFailed(w, err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("table not reachable\n"))
		return
	}
	w.Write([]byte("ok\n"))
}

func robots(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("User-agent: *\nDisallow: /api/\n"))
}

// redirect is the hot path: a cached lookup, a buffered click, a 302.
func (h *handler) redirect(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if !validSlug(slug) {
		h.notFound(w, r)
		return
	}
	// No timeout context of our own: a hit needs none, and on a miss
	// Resolve bounds the table read itself (a timer per redirect was a
	// measurable part of its cost).
	target, err := h.st.Resolve(r.Context(), slug)
	if errors.Is(err, store.ErrNotFound) {
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.pageTableDown(w, r, err)
		return
	}
	if r.Method == http.MethodGet {
		h.st.RecordClick(slug, h.arrival(w))
	}
	hdr := w.Header()
	hdr["Location"] = []string{target}
	hdr["Cache-Control"] = hdrNoStoreCache
	w.WriteHeader(http.StatusFound)
}

// arrival is when the request arrived, as the middleware saw it (one
// clock read fewer per redirect), else now.
func (h *handler) arrival(w http.ResponseWriter) time.Time {
	if rec, ok := w.(*recorder); ok && !rec.start.IsZero() {
		return rec.start
	}
	return h.now()
}

func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		writeJSONError(w, http.StatusNotFound, "not found")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h.pages.renderNotFound(w)
}
