package devstack

import (
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
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
// timeout.
func TestRunAppSaysTheAppIgnoresPORT(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	literal := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir, s := copyShelf(t, nil)
	editSource(t, dir, "main.go", `"127.0.0.1:" + os.Getenv("PORT")`, strconv.Quote("127.0.0.1:"+strconv.Itoa(literal)))
	r := startApp(t, dir, AppOptions{Spec: s, StartTimeout: 10 * time.Minute})
	waitOut(t, r, "listens on port "+strconv.Itoa(literal))
	if out := r.out.String(); !strings.Contains(out, "$PORT") || strings.Contains(out, "did not answer 2xx within") {
		t.Errorf("want the literal port named before the start timeout:\n%s", out)
	}
}
