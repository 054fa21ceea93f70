package devstack

// The links runner: without a spec's app, `lowfare dev` runs the links
// service in this process (Run).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/lowfare/lowfare/internal/ddblocal"
	"github.com/lowfare/lowfare/internal/links"
)

// Defaults of Run.
const (
	DefaultPort  = 8080
	DefaultTable = "links"

	TokenFile = "admin-token"
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
	if err := o.fill(); err != nil {
		return err
	}
	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(o.Port))
	if err := checkPortFree(addr, o.Port); err != nil {
		return err
	}
	unlock, err := prepareDataDir(o.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	token, tokenSource, err := adminToken(o.AdminToken, o.DataDir)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, o.Endpoint, o.DataDir, o.Table, o.SnapshotInterval, o.Logger)
	if err != nil {
		return err
	}
	defer db.close()

	info := Info{
		AdminToken: token, TokenSource: tokenSource,
		Endpoint: db.endpoint, Table: o.Table, Snapshot: db.snapshotPath(),
	}
	cfg := links.Config{
		Addr:          addr,
		TableName:     o.Table,
		AdminToken:    token,
		FlushInterval: o.FlushInterval,
	}
	runErr := links.Run(ctx, cfg, ddblocal.NewClient(db.endpoint), o.Logger, func(addr string) {
		info.URL = "http://" + addr
		if o.Ready != nil {
			o.Ready(info)
		}
	})

	// The service has stopped and flushed its clicks: take the last picture.
	if err := db.finalSnapshot(ctx); err != nil {
		return errors.Join(runErr, err)
	}
	return runErr
}

// fill sets the defaults and checks the port.
func (o *Options) fill() error {
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
	return nil
}

// checkPortFree says which flag to change before anything starts; port 0
// (any free port) always is.
func checkPortFree(addr string, port int) error {
	if port == 0 {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("port %d is not free (%w): choose another with --port, or --port 0 for any free one", port, err)
	}
	ln.Close()
	return nil
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
