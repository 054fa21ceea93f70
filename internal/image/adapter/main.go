// Command lambda-adapter is the entrypoint of the images lowfare builds for
// profile serverless, at spec.LambdaAdapter (/lowfare/lambda-adapter):
//
//	lambda-adapter APP [ARGS...]
//
// It starts the app (an ordinary HTTP service following lowfare's app
// contract) on 127.0.0.1:$PORT (8080 when unset), waits until it listens,
// then serves the Lambda Runtime API loop: each invocation (a function URL
// or HTTP API event, payload 2.0, or an API Gateway REST API event,
// payload 1.0) becomes one HTTP request to the app, and the app's answer
// becomes the invocation's response: buffered, or streamed as the app
// writes it when the function URL streams (stream.go).
//
// The app does not see AWS_LAMBDA_RUNTIME_API, so an app that would serve
// Lambda itself does not compete with the adapter for events. Outside
// Lambda (no AWS_LAMBDA_RUNTIME_API) the adapter simply runs the app in
// its place, so the same image also runs as a plain container.
//
// It uses the standard library only, so it adds little to the image.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// readyTimeout is a backstop for an app that neither listens nor exits;
// Lambda's own init timeout normally ends the wait first.
const readyTimeout = 10 * time.Minute

func main() {
	os.Exit(run(os.Args[1:], os.Environ(), os.Stderr))
}

func run(args, environ []string, stderr io.Writer) int {
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "lambda-adapter: "+format+"\n", a...) }
	if len(args) == 0 {
		logf("usage: lambda-adapter APP [ARGS...]")
		return 2
	}
	api := lookup(environ, "AWS_LAMBDA_RUNTIME_API")
	if api == "" {
		return beTheApp(args, environ, logf)
	}
	port := lookup(environ, "PORT")
	if port == "" {
		port = "8080"
	}
	ctx := context.Background()
	rt := newRuntimeClient(api)
	if err := rt.enableSIGTERM(ctx); err != nil {
		logf("%v; the app gets no SIGTERM at shutdown", err)
	}
	app, exited, lerr := startApp(ctx, args, environ, port)
	if lerr != nil {
		return initFailed(ctx, rt, logf, lerr.Type, lerr.Message)
	}
	forwardSignals(app)
	addr := net.JoinHostPort("127.0.0.1", port)
	if err := waitListening(addr, exited); err != nil {
		_ = app.Process.Kill()
		return initFailed(ctx, rt, logf, "Runtime.ExitError", err.Error())
	}
	go exitWithApp(exited, logf)
	fw := newForwarder("http://" + addr)
	fw.stream = lookup(environ, envInvokeMode) == invokeModeStream
	return serve(ctx, rt, fw, app, logf)
}

// beTheApp replaces the adapter with the app, outside Lambda. It returns
// only when that fails.
func beTheApp(args, environ []string, logf func(string, ...any)) int {
	bin, err := exec.LookPath(args[0])
	if err == nil {
		err = syscall.Exec(bin, args, environ)
	}
	logf("running %s: %v", args[0], err)
	return 1
}

// startApp starts the app on port, with the secrets the environment names
// and without the Runtime API's address. exited receives its exit. A
// failure is the Lambda init error to report.
func startApp(ctx context.Context, args, environ []string, port string) (app *exec.Cmd, exited <-chan error, lerr *lambdaError) {
	secrets, err := secretEnv(ctx, environ, &http.Client{Timeout: secretsTimeout})
	if err != nil {
		return nil, nil, &lambdaError{Type: "Runtime.SecretsError", Message: err.Error()}
	}
	app = exec.Command(args[0], args[1:]...)
	app.Env = append(append(without(environ, "AWS_LAMBDA_RUNTIME_API", "PORT", envSecretNames, envInvokeMode), secrets...), "PORT="+port)
	app.Stdout, app.Stderr = os.Stdout, os.Stderr
	tieToAdapter(app)
	if err := app.Start(); err != nil {
		return nil, nil, &lambdaError{Type: "Runtime.InvalidEntrypoint", Message: fmt.Sprintf("starting the app %s: %v", args[0], err)}
	}
	done := make(chan error, 1)
	go func() { done <- app.Wait() }()
	return app, done, nil
}

// forwardSignals passes SIGTERM (Lambda's shutdown, which run enables) and
// SIGINT to the app, whose exit ends the adapter.
func forwardSignals(app *exec.Cmd) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		for s := range sigs {
			_ = app.Process.Signal(s)
		}
	}()
}

// exitWithApp ends the adapter when the app exits, with the app's success
// or failure.
func exitWithApp(exited <-chan error, logf func(string, ...any)) {
	err := <-exited
	// Whether Lambda stopped it or it crashed, the environment is
	// done: Lambda starts a fresh one for the next event.
	logf("the app exited: %v", describeExit(err))
	if err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

// serve is the Runtime API loop: it passes each invocation to the app and
// its answer back. It returns only when the Runtime API fails.
func serve(ctx context.Context, rt *runtimeClient, fw *forwarder, app *exec.Cmd, logf func(string, ...any)) int {
	for {
		inv, err := rt.next(ctx)
		if err == nil {
			err = answer(ctx, rt, fw, inv, logf)
		}
		if err != nil {
			logf("%v", err)
			_ = app.Process.Kill()
			return 1
		}
	}
}

// answer forwards one invocation and posts the app's response, streamed
// when the function URL streams (see stream.go), or the invocation's
// error; the error it returns is the Runtime API's.
func answer(ctx context.Context, rt *runtimeClient, fw *forwarder, inv *invocation, logf func(string, ...any)) error {
	x, lerr := fw.call(ctx, inv)
	if lerr == nil {
		defer x.close()
		if fw.stream && x.ev.streams() {
			return rt.stream(ctx, inv, x, logf)
		}
		var payload []byte
		if payload, lerr = x.buffered(); lerr == nil {
			return rt.respond(ctx, inv.id, payload)
		}
	}
	logf("invocation %s: %s", inv.id, lerr.Message)
	return rt.fail(ctx, inv.id, *lerr)
}

func initFailed(ctx context.Context, rt *runtimeClient, logf func(string, ...any), typ, msg string) int {
	logf("%s", msg)
	if err := rt.initFail(ctx, lambdaError{Message: msg, Type: typ}); err != nil {
		logf("%v", err)
	}
	return 1
}

// waitListening returns once something accepts connections on addr, or
// with an error when the app exits first or readyTimeout passes.
func waitListening(addr string, exited <-chan error) error {
	deadline := time.Now().Add(readyTimeout)
	// A fixed short wait: this is a cold start's critical path, and a
	// refused connection on 127.0.0.1 costs microseconds. (Doubling to
	// 100 ms made a Go app that listens after 20 ms wait until 35 ms.)
	const wait = 2 * time.Millisecond
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("the app exited before it listened on %s: %s", addr, describeExit(err))
		case <-time.After(wait):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the app did not listen on %s within %s (does it read $PORT?)", addr, readyTimeout)
		}
	}
}

func describeExit(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// forwarder sends invocations to the app.
type forwarder struct {
	base   string
	client *http.Client
	// stream says the function URL invokes with RESPONSE_STREAM, so
	// its events are answered as a stream (stream.go).
	stream bool
}

func newForwarder(base string) *forwarder {
	return &forwarder{base: base, client: &http.Client{
		Transport: &http.Transport{
			Proxy:               nil, // the app is on this machine
			DisableCompression:  true,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
		},
		// The app's redirects go back to the caller, as from any proxy.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// exchange is one request to the app and its answer, whose body the
// caller reads (buffered or streamed) and then closes.
type exchange struct {
	ev     *event
	req    *http.Request
	resp   *http.Response
	cancel context.CancelFunc
}

func (x *exchange) close() {
	x.resp.Body.Close()
	x.cancel()
}

// where names the request in errors and the log.
func (x *exchange) where() string { return x.req.Method + " " + x.req.URL.RequestURI() }

// call turns one invocation into a request to the app and returns its
// answer, body unread; an error is reported as the invocation's.
func (f *forwarder) call(ctx context.Context, inv *invocation) (*exchange, *lambdaError) {
	ev, err := parseEvent(inv.payload)
	if err != nil {
		return nil, &lambdaError{Type: "Adapter.InvalidEvent", Message: err.Error()}
	}
	cancel := context.CancelFunc(func() {})
	if !inv.deadline.IsZero() {
		ctx, cancel = context.WithDeadline(ctx, inv.deadline)
	}
	req, err := ev.request(ctx, f.base)
	if err != nil {
		cancel()
		return nil, &lambdaError{Type: "Adapter.InvalidEvent", Message: err.Error()}
	}
	if inv.traceID != "" && req.Header.Get("X-Amzn-Trace-Id") == "" {
		req.Header.Set("X-Amzn-Trace-Id", inv.traceID)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		cancel()
		return nil, &lambdaError{Type: "Adapter.AppUnreachable", Message: fmt.Sprintf("%s %s: %v", req.Method, req.URL.RequestURI(), err)}
	}
	return &exchange{ev: ev, req: req, resp: resp, cancel: cancel}, nil
}

// buffered reads the whole answer and encodes it as the event's response
// payload, within the limit of the event's caller.
func (x *exchange) buffered() ([]byte, *lambdaError) {
	limit, whose := x.ev.maxResponse()
	body, err := io.ReadAll(io.LimitReader(x.resp.Body, int64(limit)+1))
	if err != nil {
		return nil, &lambdaError{Type: "Adapter.AppUnreachable", Message: fmt.Sprintf("%s: reading the answer: %v", x.where(), err)}
	}
	if len(body) > limit {
		return nil, &lambdaError{Type: "Adapter.ResponseTooLarge", Message: fmt.Sprintf("%s: the answer is over %s %d-byte response limit", x.where(), whose, limit)}
	}
	payload, err := x.ev.encodeResponse(x.resp.StatusCode, x.resp.Header, body)
	if err != nil {
		return nil, &lambdaError{Type: "Adapter.InvalidResponse", Message: err.Error()}
	}
	if len(payload) > limit {
		return nil, &lambdaError{Type: "Adapter.ResponseTooLarge", Message: fmt.Sprintf("%s: the encoded answer (%d bytes, base64 adds a third) is over %s %d-byte response limit", x.where(), len(payload), whose, limit)}
	}
	return payload, nil
}

func lookup(environ []string, name string) string {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

func without(environ []string, names ...string) []string {
	var out []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			drop = drop || k == n
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}
