package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/testutil"
)

func TestProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			w.WriteHeader(http.StatusNoContent)
		case "/sick":
			http.Error(w, "down", http.StatusServiceUnavailable)
		case "/moved":
			http.Redirect(w, r, "/health", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	port := u.Port()
	for _, tc := range []struct {
		name, port string
		args       []string
		want       int
		says       string
	}{
		{"2xx", port, []string{"/health"}, 0, ""},
		{"5xx", port, []string{"/sick"}, 1, "503"},
		{"a redirect is not healthy", port, []string{"/moved"}, 1, "302"},
		{"404", port, []string{"/nothere"}, 1, "404"},
		{"nothing listening", testutil.FreePort(t), []string{"/health"}, 1, "refused"},
		{"no path", port, nil, 1, "usage"},
		{"not a path", port, []string{"health"}, 1, "usage"},
		{"header injection", port, []string{"/h\r\nX: y"}, 1, "usage"},
	} {
		var stderr bytes.Buffer
		if got := run(tc.args, tc.port, &stderr); got != tc.want || !strings.Contains(stderr.String(), tc.says) {
			t.Errorf("%s: exit %d, %q; want %d saying %q", tc.name, got, stderr.String(), tc.want, tc.says)
		}
	}
}

// TestProbeTimeout: an app that accepts but never answers is unhealthy.
func TestProbeTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() }) // held open, never answered
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	var stderr bytes.Buffer
	if got := run([]string{"/health"}, port, &stderr); got != 1 || !strings.Contains(stderr.String(), "timeout") {
		t.Errorf("exit %d, %q; want 1 with a timeout", got, stderr.String())
	}
}
