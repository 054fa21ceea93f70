package devstack

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// logRequests logs one line per request at the URL the user opens, as
// `lowfare dev --demo` does for links: "request" with method, path,
// status, bytes and duration at info (so -q hides it), at error for a
// 5xx the app answered (so -q keeps it). answered_by says who answered when it was not the
// app's task: the waking page, the app through the Lambda adapter, or
// lowfare dev while the app is down. Headers and the query string are not
// logged: they can carry tokens.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		level := slog.LevelInfo
		if status >= 500 && !rec.ownPage {
			level = slog.LevelError // the app's own failure, not a waking page
		}
		if !log.Enabled(r.Context(), level) {
			return
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Int64("bytes", rec.bytes),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		}
		if rec.by != "" {
			attrs = append(attrs, slog.String("answered_by", rec.by))
		}
		log.LogAttrs(context.WithoutCancel(r.Context()), level, "request", attrs...)
	})
}

// recorder notes a response's status and size. Unwrap lets
// http.ResponseController (the reverse proxy's flushes, for streamed
// responses) reach the server's writer.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	by     string
	// ownPage: lowfare dev answered itself (the waking page, or the app
	// is down), which its own log has already said.
	ownPage bool
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Flush() { _ = http.NewResponseController(r.ResponseWriter).Flush() }

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// answeredBy marks who answered a request that did not reach the app's
// task, for its log line; own says it was lowfare dev itself.
func answeredBy(w http.ResponseWriter, by string, own bool) {
	if rec, ok := w.(*recorder); ok {
		rec.by, rec.ownPage = by, own
	}
}
