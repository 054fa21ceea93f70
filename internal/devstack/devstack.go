// Package devstack runs the links service on this machine for `lowfare
// dev`: against an in-process minidyn DynamoDB endpoint on 127.0.0.1 (so
// nothing but Go is needed), with the data kept across restarts in a
// snapshot file, or against a DynamoDB-compatible endpoint the user names.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	miniserver "github.com/truora/minidyn/server"

	"github.com/lowfare/lowfare/internal/atomicfile"
	"github.com/lowfare/lowfare/internal/ddblocal"
	"github.com/lowfare/lowfare/internal/links"
	"github.com/lowfare/lowfare/internal/links/store"
)

// Defaults.
const (
	DefaultDataDir          = ".lowfare/dev"
	DefaultPort             = 8080
	DefaultTable            = "links"
	DefaultSnapshotInterval = 2 * time.Second

	SnapshotFile = "snapshot.json"
	TokenFile    = "admin-token"

	// finalSnapshotTimeout bounds the snapshot written on shutdown.
	finalSnapshotTimeout = 30 * time.Second
)

// Options configure Run. The zero value runs on port 0 (a free one): the
// CLI passes DefaultPort.
type Options struct {
	Port     int    // 0: any free port
	DataDir  string // "": DefaultDataDir
	Endpoint string // a DynamoDB-compatible endpoint; "": in-process minidyn with a snapshot
	// AdminToken is the token DELETE needs; "": read from DataDir, or
	// generated and kept there.
	AdminToken       string
	Table            string        // "": DefaultTable
	SnapshotInterval time.Duration // 0: DefaultSnapshotInterval
	FlushInterval    time.Duration // click flush; 0: the service's default
	Logger           *slog.Logger  // service logs; nil: discarded
	// Ready, if set, is called once the service listens.
	Ready func(Info)
}

// Info describes a running dev stack.
type Info struct {
	URL         string // e.g. http://127.0.0.1:8080
	AdminToken  string
	TokenSource string // "ADMIN_TOKEN", "generated" or the token file
	Endpoint    string // the DynamoDB endpoint in use
	Table       string // the table links uses there
	Snapshot    string // snapshot path; "" with an external endpoint
}

// Run serves until ctx is cancelled, then stops the service gracefully,
// writes the final snapshot and returns nil.
func Run(ctx context.Context, o Options) error {
	if o.DataDir == "" {
		o.DataDir = DefaultDataDir
	}
	if o.Table == "" {
		o.Table = DefaultTable
	}
	if o.SnapshotInterval <= 0 {
		o.SnapshotInterval = DefaultSnapshotInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Port < 0 || o.Port > 65535 {
		return fmt.Errorf("port %d is out of range 0-65535", o.Port)
	}
	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(o.Port))
	if o.Port != 0 { // say which flag to change before anything starts
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("port %d is not free (%w): choose another with --port, or --port 0 for any free one", o.Port, err)
		}
		ln.Close()
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return fmt.Errorf("creating the data directory: %w (choose another with --data)", err)
	}
	unlock, err := lockDataDir(o.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	token, tokenSource, err := adminToken(o.AdminToken, o.DataDir)
	if err != nil {
		return err
	}

	info := Info{AdminToken: token, TokenSource: tokenSource, Endpoint: o.Endpoint, Table: o.Table}
	var snap *snapshotter
	if o.Endpoint == "" {
		endpoint, stopDB, err := startMinidyn()
		if err != nil {
			return err
		}
		defer stopDB()
		info.Endpoint = endpoint
		info.Snapshot = filepath.Join(o.DataDir, SnapshotFile)
		snap = &snapshotter{
			ddb:    ddblocal.NewClient(endpoint),
			path:   info.Snapshot,
			tables: map[string]tableSchema{o.Table: schemaOf(store.TableInput(o.Table))},
			log:    o.Logger,
		}
		if err := snap.load(ctx); err != nil {
			return err
		}
	}
	ddb := ddblocal.NewClient(info.Endpoint)
	if err := store.CreateTable(ctx, ddb, o.Table); err != nil {
		return fmt.Errorf("preparing table %s at %s: %w", o.Table, info.Endpoint, err)
	}

	var wg sync.WaitGroup
	snapCtx, stopSnap := context.WithCancel(ctx)
	defer stopSnap()
	if snap != nil {
		wg.Go(func() { snap.loop(snapCtx, o.SnapshotInterval) })
	}

	cfg := links.Config{
		Addr:          addr,
		TableName:     o.Table,
		AdminToken:    token,
		FlushInterval: o.FlushInterval,
	}
	runErr := links.Run(ctx, cfg, ddb, o.Logger, func(addr string) {
		info.URL = "http://" + addr
		if o.Ready != nil {
			o.Ready(info)
		}
	})

	// The service has stopped and flushed its clicks: take the last picture.
	stopSnap()
	wg.Wait()
	if snap != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalSnapshotTimeout)
		defer cancel()
		if err := snap.save(sctx); err != nil {
			return errors.Join(runErr, fmt.Errorf("writing the final snapshot: %w", err))
		}
	}
	return runErr
}

// startMinidyn serves minidyn on a free 127.0.0.1 port.
func startMinidyn() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("starting the in-process DynamoDB endpoint: %w", err)
	}
	srv := &http.Server{
		Handler:           miniserver.NewServer(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// snapshotter keeps the snapshot file in step with the tables it knows.
type snapshotter struct {
	ddb    *dynamodb.Client
	path   string
	tables map[string]tableSchema // name -> schema
	log    *slog.Logger

	mu       sync.Mutex // one save at a time
	lastHash [32]byte
}

// load restores the snapshot file, if there is one.
func (s *snapshotter) load(ctx context.Context) error {
	snap, err := readSnapshot(s.path)
	if err != nil {
		return err
	}
	for _, t := range snap.Tables {
		if err := restoreTable(ctx, s.ddb, t); err != nil {
			return fmt.Errorf("loading snapshot %s: %w", s.path, err)
		}
		s.tables[t.Name] = t.Schema
	}
	if len(snap.Tables) > 0 {
		// What was loaded is what is on disk: no need to write it back.
		_, s.lastHash, err = s.encode(ctx)
	}
	return err
}

func (s *snapshotter) encode(ctx context.Context) ([]byte, [32]byte, error) {
	snap := &snapshot{Version: snapshotVersion}
	for _, name := range slices.Sorted(maps.Keys(s.tables)) {
		t, err := dumpTable(ctx, s.ddb, name, s.tables[name])
		if err != nil {
			return nil, [32]byte{}, err
		}
		snap.Tables = append(snap.Tables, t)
	}
	return encodeSnapshot(snap)
}

// save writes the snapshot when the data changed since the last write.
func (s *snapshotter) save(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, sum, err := s.encode(ctx)
	if err != nil {
		return err
	}
	if sum == s.lastHash {
		return nil
	}
	if err := atomicfile.WriteFile(s.path, data, 0o600); err != nil {
		return fmt.Errorf("writing snapshot %s: %w", s.path, err)
	}
	s.lastHash = sum
	return nil
}

func (s *snapshotter) loop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.save(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("snapshot failed; will retry", "path", s.path, "err", err)
			}
		}
	}
}

// PrintInfo writes the banner `lowfare dev` shows once the service is up.
func PrintInfo(w io.Writer, i Info) {
	fmt.Fprintf(w, "links is running at %s\n", i.URL)
	fmt.Fprintf(w, "  admin token: %s (%s)\n", i.AdminToken, i.TokenSource)
	if i.Snapshot != "" {
		fmt.Fprintf(w, "  data:        %s (saved every few seconds and on exit)\n", i.Snapshot)
	}
	// The endpoint is printed in both modes so the data tools can reach
	// the same table: lowfare data export --dynamodb-endpoint <it>.
	fmt.Fprintf(w, "  DynamoDB:    %s (table %s)\n", i.Endpoint, i.Table)
	fmt.Fprintf(w, "  try:         curl -si -X POST %s/api/links -H 'Content-Type: application/json' -d '{\"url\":\"https://example.com\"}'\n", i.URL)
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
}
