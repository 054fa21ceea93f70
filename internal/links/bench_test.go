package links

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkRedirect is the hot path in-process (no network): middleware,
// routing, a cached Resolve, a buffered click and the JSON log line.
// Whole-process CPU under load is measured by bench/links.sh.
func BenchmarkRedirect(b *testing.B) {
	s := newTestService(b, Config{})
	s.create(b, "https://example.com/bench", "bench")
	s.h = NewHandler(s.st, Config{RequestLog: NewLogWriter(io.Discard)}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	req := httptest.NewRequest("GET", "/bench", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		s.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusFound {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
