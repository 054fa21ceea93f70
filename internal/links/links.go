// Package links is the reference service lowfare deploys: a link shortener
// with a JSON API, server-rendered pages and a redirect path kept lean
// (cached lookups, clicks counted in memory and flushed in batches) so one
// 0.25 vCPU task serves thousands of redirects a second. docs/links.md
// describes the HTTP side: configuration, the create limits, the headers.
//
// Routes:
//
//	POST   /api/links           create {"url","slug"?} (application/json; CREATE_TOKEN
//	                            when set) -> 201 | 400 | 401/403 | 409 | 415 | 429
//	GET    /api/links           newest first, ?limit=1..100&cursor=
//	GET    /api/links/{slug}    link, total clicks, clicks per day (7 days)
//	DELETE /api/links/{slug}    Authorization: Bearer ADMIN_TOKEN
//	GET    /{slug}              302 to the target, counts a click
//	GET    /                    the form and this browser's recent links (POST / submits it)
//	GET    /s/{slug}            stats page with an SVG chart
//	GET    /healthz, /readyz    liveness (touches nothing), readiness (the table)
package links

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lowfare/lowfare/internal/links/store"
)

// NewServer wraps a handler in an http.Server with the service's limits.
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Run serves until ctx is cancelled, then shuts down gracefully (stop accepting,
// let in-flight requests finish within ShutdownGrace, flush buffered clicks) and
// returns nil. ready, if not nil, is called with the bound address once listening.
func Run(ctx context.Context, cfg Config, ddb *dynamodb.Client, log *slog.Logger, ready func(addr string)) error {
	cfg = cfg.withDefaults()
	if cfg.TableName == "" {
		return errors.New("no table name: set TABLE_NAME")
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w (set PORT to a free port)", cfg.Addr, err)
	}
	st := store.New(ddb, cfg.TableName, store.Options{FlushInterval: cfg.FlushInterval, Logger: log})
	srv := NewServer(NewHandler(st, cfg, log), log)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "table", cfg.TableName)
	if ready != nil {
		ready(ln.Addr().String())
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}

	// ECS sends SIGKILL 30 s after SIGTERM; StopBudget ends a margin
	// before that. The store's final flush gets what the drain leaves.
	stopDeadline := time.Now().Add(cfg.StopBudget)
	log.Info("shutting down", "grace", cfg.ShutdownGrace.String(), "stop_budget", cfg.StopBudget.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownGrace)
	shutErr := srv.Shutdown(sctx)
	cancel()
	if shutErr != nil {
		// Requests still running after the grace period: cut them so the
		// clicks already counted can still be flushed before ECS kills us.
		srv.Close()
		shutErr = fmt.Errorf("in-flight requests did not finish within %s; closed them", cfg.ShutdownGrace)
	}
	fctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), stopDeadline)
	defer cancel()
	closeErr := st.Close(fctx) // logs what it could not save
	if closeErr != nil {
		closeErr = fmt.Errorf("flushing buffered clicks: %w", closeErr)
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = fmt.Errorf("serving on %s: %w", cfg.Addr, serveErr)
	} else {
		serveErr = nil
	}
	if err := errors.Join(serveErr, shutErr, closeErr); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}
