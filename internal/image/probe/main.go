// Command healthcheck is the container health probe lowfare adds to every
// image it builds, at spec.HealthProbe (/lowfare/healthcheck): the ECS
// container health check runs `healthcheck <path>`, which sends
// GET http://127.0.0.1:$PORT<path> and exits 0 on a 2xx answer, 1 on any
// other answer, on no answer within Timeout, or when PORT is unset.
//
// It exists because the app contract asks nothing of the image: no shell
// (so no `CMD-SHELL curl`), no healthcheck subcommand. It is built from
// this source by internal/image for the image's architecture, with the
// standard library only, so it stays small and needs nothing in the image.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// Timeout bounds the whole probe. It is below lowfare's default container
// health-check timeout (service.health.timeout, 5 s), so a hung app is
// reported by the probe's exit code with a message in the health log; with a
// shorter ECS timeout ECS stops the probe first, which counts as a failure
// too ("Timeout: 2-60 seconds", ECS HealthCheck, Amazon ECS API Reference).
const Timeout = 3 * time.Second

func main() {
	os.Exit(run(os.Args[1:], os.Getenv("PORT"), os.Stderr))
}

// run speaks just enough HTTP/1.1 over a TCP connection to read the status
// line: with net/http the probe would be 5.4 MB for arm64 instead of
// 2.2 MB, and it is in every image.
func run(args []string, port string, stderr io.Writer) int {
	if len(args) != 1 || !strings.HasPrefix(args[0], "/") || strings.ContainsAny(args[0], " \r\n") {
		fmt.Fprintln(stderr, "usage: healthcheck /path (GET http://127.0.0.1:$PORT/path; exit 0 on 2xx)")
		return 1
	}
	if port == "" {
		port = "8080" // the app contract's default when the stack sets none
	}
	addr := net.JoinHostPort("127.0.0.1", port)
	status, err := get(addr, args[0], time.Now().Add(Timeout))
	if err != nil {
		fmt.Fprintf(stderr, "healthcheck: GET http://%s%s: %v\n", addr, args[0], err)
		return 1
	}
	if !strings.HasPrefix(status, "2") {
		fmt.Fprintf(stderr, "healthcheck: GET http://%s%s: %s\n", addr, args[0], status)
		return 1
	}
	return 0
}

// get sends one GET and returns the response's status ("200 OK").
func get(addr, path string, deadline time.Time) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Until(deadline))
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.SetDeadline(deadline); err != nil {
		return "", err
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: lowfare-healthcheck\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("reading the status line: %w", err)
	}
	// HTTP-version SP status-code SP [reason-phrase] (RFC 9112 section 4).
	proto, status, ok := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/1.") || len(status) < 3 || !isDigits(status[:3]) {
		return "", fmt.Errorf("not an HTTP/1.x status line: %q", line)
	}
	return status, nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
