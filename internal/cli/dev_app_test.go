package cli

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/testutil"
)

// lowfare dev with a user's app (devstack's test app shelf, not links):
// the missing secret is named before the app starts, whatever -q says,
// and requests are logged as -q says: each one without it, only the 5xx
// with it.
func TestDevUserAppQuietAndSecrets(t *testing.T) {
	t.Setenv("SHELF_TOKEN", "")
	for _, quiet := range []bool{false, true} {
		args := []string{"dev", "-f", "../devstack/testdata/shelf/lowfare.yaml", "--port", "0", "--data", t.TempDir()}
		if quiet {
			args = append(args, "-q")
		}
		ctx, cancel := context.WithCancel(context.Background())
		var stdout, stderr testutil.Buffer
		done := make(chan int, 1)
		go func() { done <- Execute(ctx, args, strings.NewReader(""), &stdout, &stderr) }()
		wait, stop := context.WithTimeout(ctx, 3*time.Minute)
		if err := stdout.WaitFor(wait, "Press Ctrl-C"); err != nil {
			t.Fatalf("%v\nstderr: %s", err, stderr.String())
		}
		stop()
		url := regexp.MustCompile(`shelf is running at (http://\S+)`).FindStringSubmatch(stdout.String())[1]
		for _, path := range []string{"/healthz", "/fail"} {
			resp, err := http.Get(url + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		cancel()
		if code := <-done; code != ExitOK {
			t.Fatalf("exit %d\nstderr: %s", code, stderr.String())
		}
		errOut := stderr.String()
		warn, started := strings.Index(errOut, "secret SHELF_TOKEN"), strings.Index(errOut, "shelf listening on")
		if warn < 0 || started < 0 || warn > started || !strings.Contains(errOut, "SHELF_TOKEN=<value>") {
			t.Errorf("-q %v: the missing secret is not named before the app starts:\n%s", quiet, errOut)
		}
		logged200 := strings.Contains(errOut, "msg=request method=GET path=/healthz status=200")
		logged500 := strings.Contains(errOut, "msg=request method=GET path=/fail status=500")
		if logged200 == quiet || !logged500 {
			t.Errorf("-q %v: logged the 200 %v, the 500 %v:\n%s", quiet, logged200, logged500, errOut)
		}
	}
}

// lowfare dev with an app that listens on a literal port: the source's
// literal is named before the build, and the port it really listens on
// once it runs, within seconds, not at the start timeout.
func TestDevNamesALiteralPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	literal := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	main := strings.Replace(literalPortMain, `":8081"`, `"127.0.0.1:`+literal+`"`, 1)
	file := writeApp(t, main, "app: shelf\nservice: {image: ./cmd/server, port: 8080, health: {path: /healthz}}\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testutil.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, []string{"dev", "-f", file, "--port", "0", "--data", t.TempDir()}, strings.NewReader(""), &stdout, &stderr)
	}()
	wait, stop := context.WithTimeout(ctx, 3*time.Minute)
	defer stop()
	for _, want := range []string{`cmd/server/main.go:7 listens on the literal`, "the app listens on port " + literal + ", not on $PORT"} {
		if err := stderr.WaitFor(wait, want); err != nil {
			t.Fatal(err)
		}
	}
	cancel() // before the start timeout: dev still waits for $PORT
	if code := <-done; code != ExitOK {
		t.Fatalf("exit %d\nstderr: %s", code, stderr.String())
	}
}
