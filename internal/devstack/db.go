package devstack

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	miniserver "github.com/truora/minidyn/server"

	"github.com/lowfare/lowfare/internal/ddbfront"
	"github.com/lowfare/lowfare/internal/ddblocal"
	"github.com/lowfare/lowfare/internal/links/store"
)

// This file is what the links runner (Run) and the app's supervisor
// (RunApp) share: the data directory and the table's DynamoDB endpoint.

// Defaults of both.
const (
	DefaultDataDir          = ".lowfare/dev"
	DefaultSnapshotInterval = 2 * time.Second

	SnapshotFile = "snapshot.json"

	// finalSnapshotTimeout bounds the snapshot written on shutdown.
	finalSnapshotTimeout = 30 * time.Second
)

// prepareDataDir creates the data directory and locks it for this process.
func prepareDataDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the data directory: %w (choose another with --data)", err)
	}
	return lockDataDir(dir)
}

// devDB is the table's DynamoDB endpoint: in-process minidyn with a
// snapshot, or the endpoint the user named.
type devDB struct {
	endpoint string
	snap     *snapshotter
	stop     func()
	wg       sync.WaitGroup
	cancel   context.CancelFunc
}

// openDB starts the endpoint (minidyn restored from the data directory's
// snapshot, saved every snapshotEvery, when endpoint is "") and creates
// table there.
func openDB(ctx context.Context, endpoint, dataDir, table string, snapshotEvery time.Duration, log *slog.Logger) (*devDB, error) {
	db := &devDB{endpoint: endpoint, stop: func() {}, cancel: func() {}}
	if endpoint == "" {
		ep, raw, stop, err := startMinidyn()
		if err != nil {
			return nil, err
		}
		db.endpoint, db.stop = ep, stop
		db.snap = &snapshotter{
			// The snapshot goes around ddbfront: it is dev's own storage,
			// and a snapshot written before the front refused (an item
			// over 400 KB, an empty key) still loads.
			ddb:    ddblocal.NewClient(raw),
			path:   filepath.Join(dataDir, SnapshotFile),
			tables: map[string]tableSchema{table: schemaOf(store.TableInput(table))},
			log:    log,
		}
		if err := db.snap.load(ctx); err != nil {
			stop()
			return nil, err
		}
	}
	// The table has the stack's key schema (PK/SK and GSI1, internal/stack's
	// Table* constants); store.CreateTable creates exactly that one, which
	// stack's store contract test asserts.
	if err := store.CreateTable(ctx, ddblocal.NewClient(db.endpoint), table); err != nil {
		db.stop()
		return nil, fmt.Errorf("preparing table %s at %s: %w", table, db.endpoint, err)
	}
	if db.snap != nil {
		sctx, cancel := context.WithCancel(ctx)
		db.cancel = cancel
		db.wg.Go(func() { db.snap.loop(sctx, snapshotEvery) })
	}
	return db, nil
}

func (db *devDB) snapshotPath() string {
	if db.snap == nil {
		return ""
	}
	return db.snap.path
}

// finalSnapshot stops the periodic snapshots and takes the last one, once
// the app has stopped writing.
func (db *devDB) finalSnapshot(ctx context.Context) error {
	db.cancel()
	db.wg.Wait()
	if db.snap == nil {
		return nil
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalSnapshotTimeout)
	defer cancel()
	if err := db.snap.save(sctx); err != nil {
		return fmt.Errorf("writing the final snapshot: %w", err)
	}
	return nil
}

func (db *devDB) close() {
	db.cancel()
	db.wg.Wait()
	db.stop()
}

// startMinidyn serves minidyn on free 127.0.0.1 ports: endpoint behind
// ddbfront, for the app, and raw, minidyn alone, for the snapshot.
func startMinidyn() (endpoint, raw string, stop func(), err error) {
	mini := miniserver.NewServer()
	var (
		servers []*http.Server
		urls    []string
	)
	stop = func() {
		for _, srv := range servers {
			_ = srv.Close()
		}
	}
	// ddbfront makes minidyn answer like DynamoDB where it does not
	// (checksum header, item size limit, ReturnValues, cancellation
	// reasons), so the app meets the table it will meet in AWS.
	for _, h := range []http.Handler{ddbfront.Handler(mini), mini} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			stop()
			return "", "", nil, fmt.Errorf("starting the in-process DynamoDB endpoint: %w", err)
		}
		srv := &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
		}
		servers = append(servers, srv)
		urls = append(urls, "http://"+ln.Addr().String())
		go func() { _ = srv.Serve(ln) }()
	}
	return urls[0], urls[1], stop, nil
}
