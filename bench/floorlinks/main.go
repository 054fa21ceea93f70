// Command floorlinks is the floor of bench/linksbench: a minimal Go
// net/http server answering 302 from an in-memory map, with no store, no
// middleware and no request log. What cmd/links spends per redirect above
// this is the cost of its own code (routing, cache, click buffer, log line).
//
// It answers just enough of the links API for the benchmark driver:
// GET /readyz, POST /api/links with {"url","slug"}, GET /{slug}.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

type links struct {
	mu sync.RWMutex
	m  map[string]string
}

func (l *links) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/links":
		var req struct{ URL, Slug string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.URL == "" || req.Slug == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		l.mu.Lock()
		l.m[req.Slug] = req.URL
		l.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	case r.URL.Path == "/readyz":
		w.Write([]byte("ok\n"))
	default:
		l.mu.RLock()
		target, ok := l.m[r.URL.Path[1:]]
		l.mu.RUnlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Location", target)
		w.WriteHeader(http.StatusFound)
	}
}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		fmt.Fprintln(os.Stderr, "floorlinks: set PORT")
		os.Exit(2)
	}
	srv := &http.Server{Addr: "127.0.0.1:" + port, Handler: &links{m: map[string]string{}}, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "floorlinks:", err)
		os.Exit(1)
	}
}
