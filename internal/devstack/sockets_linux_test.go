package devstack

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/testutil"
)

// listenRows reads the LISTEN rows of /proc/net/tcp and tcp6 for the
// given socket inodes only.
func TestListenRows(t *testing.T) {
	table := []byte(`  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 111 1 0000000000000000 100 0 0 10 0
   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 222 1 0000000000000000 100 0 0 10 0
   2: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 333 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 444 1 0000000000000000 100 0 0 10 0
`)
	got := listenRows(table, map[string]bool{"111": true, "222": true, "333": true})
	if !slices.Equal(got, []int{8081, 8080}) {
		t.Errorf("ports %v, want [8081 8080]: LISTEN rows of our inodes only", got)
	}
}

// listeningPorts finds a port this very process listens on.
func TestListeningPortsOfThisProcess(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	want := ln.Addr().(*net.TCPAddr).Port
	got, ok := listeningPorts(os.Getpid())
	if !ok || !slices.Contains(got, want) {
		t.Errorf("listeningPorts = %v, %v; want %d among them", got, ok, want)
	}
}

// An app that listens on a literal port, not $PORT, is named with the port
// it listens on as soon as its socket is seen, not after the start
// timeout; a fix saved meanwhile (without --watch) is built and started.
func TestRunAppSaysTheAppIgnoresPORT(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	literal := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir, s := copyShelf(t, nil)
	listen := `"127.0.0.1:" + os.Getenv("PORT")`
	editSource(t, dir, "main.go", listen, strconv.Quote("127.0.0.1:"+strconv.Itoa(literal)))

	out := &testutil.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan AppInfo, 1)
	done := make(chan error, 1)
	go func() {
		done <- RunApp(ctx, AppOptions{
			Spec: s, SpecPath: filepath.Join(dir, "lowfare.yaml"), DataDir: filepath.Join(dir, "data"),
			AppOutput: out, Logger: slog.New(slog.NewTextHandler(out, nil)),
			StartTimeout: 10 * time.Minute, StopTimeout: 5 * time.Second, WatchInterval: 100 * time.Millisecond,
			Ready: func(i AppInfo) { ready <- i },
		})
	}()
	wait, stop := context.WithTimeout(ctx, 3*time.Minute)
	defer stop()
	if err := out.WaitFor(wait, "the app listens on port "+strconv.Itoa(literal)+", not on $PORT"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "did not answer 2xx within") {
		t.Errorf("named only at the start timeout:\n%s", out)
	}
	editSource(t, dir, "main.go", strconv.Quote("127.0.0.1:"+strconv.Itoa(literal)), listen)
	select {
	case info := <-ready:
		if info.Down {
			t.Fatalf("the fixed app is down:\n%s", out)
		}
		if code, _, _ := getBody(t, info.URL+"/healthz"); code != 200 {
			t.Errorf("the fixed app answers %d", code)
		}
	case err := <-done:
		t.Fatalf("RunApp returned %v:\n%s", err, out)
	case <-wait.Done():
		t.Fatalf("the fixed app did not start:\n%s", out)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
