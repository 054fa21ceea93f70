package testutil

import (
	"net"
	"strconv"
	"testing"
)

// PickPort asks the kernel for a loopback TCP port nobody listens on. The
// port is free when PickPort returns, not promised to stay free: a caller
// that starts a child process on it retries when the child cannot bind.
func PickPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreePort is PickPort for a test: the port as text, for a command line or
// an address, failing t when no port is free.
func FreePort(t testing.TB) string {
	t.Helper()
	port, err := PickPort()
	if err != nil {
		t.Fatalf("no free loopback port: %v", err)
	}
	return strconv.Itoa(port)
}
