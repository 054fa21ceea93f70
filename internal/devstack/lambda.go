package devstack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/lowfare/lowfare/internal/cost"
	"github.com/lowfare/lowfare/internal/image"
	"github.com/lowfare/lowfare/internal/price"
	"github.com/lowfare/lowfare/internal/spec"
)

// service.idle serve: app on this machine. While the service sleeps the
// deployed ingress sends requests to a Lambda function that runs the same
// image through lowfare's Lambda adapter. Here the same adapter (compiled
// for this machine from the sources the image build embeds) runs the same
// app binary against a small Lambda Runtime API in this process: each
// request becomes the event the spec's ingress sends (an HTTP API payload
// 2.0 event, or an ALB event) and the adapter's answer becomes the
// response, so what a user sees while asleep is what the adapter does on
// Lambda, not a second implementation of it.

// The Runtime API paths the adapter uses ("Using the Lambda runtime API for
// custom runtimes" and "Lambda Extensions API", Lambda developer guide).
const (
	rtNext         = "/2018-06-01/runtime/invocation/next"
	rtInvocation   = "/2018-06-01/runtime/invocation/"
	rtInitError    = "/2018-06-01/runtime/init/error"
	extRegister    = "/2020-01-01/extension/register"
	extNext        = "/2020-01-01/extension/event/next"
	devLambdaLimit = 6 << 20 // a synchronous invocation's request and response payloads
)

// devLambdaTimeout is the function timeout dev gives an invocation (its
// Lambda-Runtime-Deadline-Ms): the HTTP API's own integration timeout.
const devLambdaTimeout = 30 * time.Second

// lambdaResult is how an invocation ended: a response payload, or the
// error the runtime (the adapter) posted.
type lambdaResult struct {
	payload []byte
	err     *lambdaError
}

// lambdaError is the Runtime API's error document.
type lambdaError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func (e *lambdaError) Error() string { return e.Type + ": " + e.Message }

type lambdaInvocation struct {
	id       string
	payload  []byte
	deadline time.Time
	done     chan lambdaResult // buffered 1: the runtime's answer
}

// runtimeAPI is the Lambda Runtime API of one execution environment: /next
// hands out one invocation at a time, as Lambda does, so requests that
// arrive together wait for the environment to be free.
type runtimeAPI struct {
	addr     string
	srv      *http.Server
	queue    chan *lambdaInvocation
	initErr  chan lambdaError // buffered 1
	shutdown chan struct{}
	closing  sync.Once

	mu      sync.Mutex
	pending map[string]*lambdaInvocation
}

func startRuntimeAPI() (*runtimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the local Lambda Runtime API: %w", err)
	}
	a := &runtimeAPI{
		addr:     ln.Addr().String(),
		queue:    make(chan *lambdaInvocation),
		initErr:  make(chan lambdaError, 1),
		shutdown: make(chan struct{}),
		pending:  map[string]*lambdaInvocation{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+rtNext, a.next)
	mux.HandleFunc("POST "+rtInvocation+"{id}/response", a.result(false))
	mux.HandleFunc("POST "+rtInvocation+"{id}/error", a.result(true))
	mux.HandleFunc("POST "+rtInitError, a.initError)
	mux.HandleFunc("POST "+extRegister, a.register)
	mux.HandleFunc("GET "+extNext, a.extensionNext)
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.srv.Serve(ln) }()
	return a, nil
}

// close ends the environment's API (once: an environment can be ended by
// a timeout and a rebuild at the same time).
func (a *runtimeAPI) close() {
	a.closing.Do(func() {
		close(a.shutdown)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = a.srv.Shutdown(ctx)
	})
}

// next is GET /invocation/next: the long poll of an idle environment.
func (a *runtimeAPI) next(w http.ResponseWriter, r *http.Request) {
	select {
	case inv := <-a.queue:
		a.mu.Lock()
		a.pending[inv.id] = inv
		a.mu.Unlock()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:local:000000000000:function:lowfare-dev")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.payload)
	case <-r.Context().Done():
	case <-a.shutdown:
		http.Error(w, "shutting down", http.StatusGone)
	}
}

// result is POST /invocation/{id}/response and /error.
func (a *runtimeAPI) result(failed bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		a.mu.Lock()
		inv := a.pending[id]
		delete(a.pending, id)
		a.mu.Unlock()
		if inv == nil {
			writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation "+id+" is waiting for a result")
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, devLambdaLimit+1))
		switch {
		case err != nil:
			inv.done <- lambdaResult{err: &lambdaError{Type: "Runtime.ReadError", Message: err.Error()}}
		case len(body) > devLambdaLimit:
			// Lambda refuses a response over 6 MB.
			inv.done <- lambdaResult{err: &lambdaError{Type: "Function.ResponseSizeTooLarge", Message: "the response is over Lambda's 6 MB limit"}}
			writeRuntimeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "response over 6 MB")
			return
		case failed:
			var le lambdaError
			if json.Unmarshal(body, &le) != nil || le.Type == "" {
				le = lambdaError{Type: r.Header.Get("Lambda-Runtime-Function-Error-Type"), Message: string(body)}
			}
			inv.done <- lambdaResult{err: &le}
		default:
			inv.done <- lambdaResult{payload: body}
		}
		w.WriteHeader(http.StatusAccepted)
	}
}

func (a *runtimeAPI) initError(w http.ResponseWriter, r *http.Request) {
	var le lambdaError
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if json.Unmarshal(body, &le) != nil || le.Type == "" {
		le = lambdaError{Type: r.Header.Get("Lambda-Runtime-Function-Error-Type"), Message: string(body)}
	}
	select {
	case a.initErr <- le:
	default:
	}
	w.WriteHeader(http.StatusAccepted)
}

// register is the Extensions API's register: the adapter registers an
// extension that takes no events, so that it gets SIGTERM at shutdown.
func (a *runtimeAPI) register(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Lambda-Extension-Identifier", newID())
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"functionName":"lowfare-dev","functionVersion":"$LATEST","handler":"lambda-adapter"}`)
}

// extensionNext blocks until the environment shuts down.
func (a *runtimeAPI) extensionNext(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-a.shutdown:
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"eventType":"SHUTDOWN","shutdownReason":"spindown"}`)
	}
}

func writeRuntimeError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(lambdaError{Type: typ, Message: msg})
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// lambdaFunc is the function that answers while the service sleeps: one
// execution environment (the adapter with the app as its argument) started
// on the first request, as a cold start, and kept until the app or the
// adapter exits, a rebuild replaces the app, or dev stops.
type lambdaFunc struct {
	adapter     string   // the adapter binary
	env         []string // the app's environment (the task's), without PORT
	out         io.Writer
	log         *slog.Logger
	stopTimeout time.Duration

	mu  sync.Mutex
	bin string
	cur *lambdaEnv // the running environment, or nil
}

// lambdaEnv is one execution environment: its Runtime API and process.
type lambdaEnv struct {
	api    *runtimeAPI
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

// replace makes the next request cold-start a rebuilt app: the running
// environment ends, as after a function update Lambda sends requests to
// new environments with the new code.
func (f *lambdaFunc) replace(bin string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bin = bin
	if f.cur != nil {
		go f.stopEnv(f.cur)
		f.cur = nil
	}
}

// setEnv gives environments started from now on env, the task's new
// environment (its secrets changed), less the task's PORT.
func (f *lambdaFunc) setEnv(env []string) {
	f.mu.Lock()
	f.env = withoutEnv(env, "PORT", "AWS_LAMBDA_RUNTIME_API")
	f.mu.Unlock()
}

// stop ends the running environment.
func (f *lambdaFunc) stop() {
	f.mu.Lock()
	e := f.cur
	f.cur = nil
	f.mu.Unlock()
	if e != nil {
		f.stopEnv(e)
	}
}

func (f *lambdaFunc) stopEnv(e *lambdaEnv) {
	e.api.close() // extension and /next waits end: the adapter gets no more events
	select {
	case <-e.exited:
	default:
		_ = terminate(e.cmd)
		select {
		case <-e.exited:
		case <-time.After(f.stopTimeout):
			_ = e.cmd.Process.Kill()
			<-e.exited
		}
	}
}

// environment returns the running environment, starting one (a cold
// start) when there is none or the last one ended.
func (f *lambdaFunc) environment() (*lambdaEnv, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.cur; e != nil {
		select {
		case <-e.exited:
			e.api.close()
			f.cur = nil
		default:
			return e, nil
		}
	}
	api, err := startRuntimeAPI()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		api.close()
		return nil, err
	}
	cmd := exec.Command(f.adapter, f.bin)
	cmd.Env = append(append([]string{}, f.env...), "PORT="+strconv.Itoa(port), "AWS_LAMBDA_RUNTIME_API="+api.addr,
		"AWS_LAMBDA_FUNCTION_NAME=lowfare-dev", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512")
	cmd.Stdout, cmd.Stderr = f.out, f.out
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		api.close()
		return nil, fmt.Errorf("starting the Lambda adapter: %w", err)
	}
	e := &lambdaEnv{api: api, cmd: cmd, exited: make(chan struct{})}
	go func() { e.err = cmd.Wait(); close(e.exited) }()
	f.cur = e
	f.log.Info("a request arrived while asleep: starting the app through the Lambda adapter (a cold start)")
	return e, nil
}

// invoke runs one event through the function and returns the payload the
// adapter answered, or the error it posted (an invocation error), or err
// when the environment could not take it (it failed to start or died).
func (f *lambdaFunc) invoke(ctx context.Context, payload []byte) (lambdaResult, error) {
	e, err := f.environment()
	if err != nil {
		return lambdaResult{}, err
	}
	inv := &lambdaInvocation{id: newID(), payload: payload, deadline: time.Now().Add(devLambdaTimeout), done: make(chan lambdaResult, 1)}
	ctx, cancel := context.WithDeadline(ctx, inv.deadline)
	defer cancel()
	select {
	case e.api.queue <- inv:
	case le := <-e.api.initErr:
		return lambdaResult{err: &le}, nil
	case <-e.exited:
		return lambdaResult{}, fmt.Errorf("the Lambda adapter exited (%s) before it took the request", exitStatus(e.err))
	case <-ctx.Done():
		return lambdaResult{}, fmt.Errorf("the function did not take the request: %w", ctx.Err())
	}
	select {
	case res := <-inv.done:
		return res, nil
	case <-e.exited:
		return lambdaResult{}, fmt.Errorf("the Lambda adapter exited (%s) during the request", exitStatus(e.err))
	case <-ctx.Done():
		// Lambda ends an invocation at its timeout; the environment is
		// not reused after that.
		f.mu.Lock()
		if f.cur == e {
			f.cur = nil
		}
		f.mu.Unlock()
		go f.stopEnv(e)
		return lambdaResult{err: &lambdaError{Type: "Sandbox.Timedout", Message: "Task timed out after " + devLambdaTimeout.String()}}, nil
	}
}

// writeAdapterBinary puts the adapter where dev keeps its binaries.
func writeAdapterBinary(dir string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	p := filepath.Join(dir, "lambda-adapter")
	tmp := p + ".part"
	if err := os.WriteFile(tmp, data, 0o700); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, p); err != nil {
		return "", err
	}
	return filepath.Abs(p)
}

// ingressEvent turns an HTTP request into the event the spec's ingress
// sends its Lambda function, and reads the function's answer back.
type ingressEvent struct {
	alb bool // an ALB Lambda target; otherwise an HTTP API, payload 2.0
}

// eventFor is the request as an event. An HTTP API (payload format 2.0)
// joins repeated headers with commas, lowercases their names, passes
// cookies in their own array and the query string raw; an ALB target with
// multi-value headers passes every header and query value in lists, the
// query values as the client sent them (not decoded). "Working with AWS
// Lambda proxy integrations for HTTP APIs" (API Gateway developer guide)
// and "Lambda functions as targets" (ELB user guide).
func (ie ingressEvent) eventFor(r *http.Request, body []byte) ([]byte, error) {
	text, b64 := string(body), false
	if len(body) > 0 && !isUTF8Text(body) {
		text, b64 = encodeB64(body), true
	}
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	if ie.alb {
		return json.Marshal(albEvent(r, text, b64, sourceIP))
	}
	return json.Marshal(httpAPIEvent(r, text, b64, sourceIP))
}

// albEvent is the request as an ALB target with multi-value headers
// receives it.
func albEvent(r *http.Request, text string, b64 bool, sourceIP string) map[string]any {
	return map[string]any{
		"requestContext":                  map[string]any{"elb": map[string]string{"targetGroupArn": "arn:aws:elasticloadbalancing:local:000000000000:targetgroup/lowfare-dev/0"}},
		"httpMethod":                      r.Method,
		"path":                            r.URL.EscapedPath(), // as the client sent it, like the query
		"multiValueQueryStringParameters": albQuery(r.URL.RawQuery),
		"multiValueHeaders":               albHeaders(r, sourceIP),
		"body":                            text,
		"isBase64Encoded":                 b64,
	}
}

// albHeaders lists every header's values under its lowercased name, with
// the headers the load balancer sets itself.
func albHeaders(r *http.Request, sourceIP string) map[string][]string {
	mh := map[string][]string{}
	for k, vs := range r.Header {
		mh[strings.ToLower(k)] = append([]string{}, vs...)
	}
	mh["host"] = []string{r.Host}
	mh["x-forwarded-for"] = []string{forwardedAppend(r.Header.Get("X-Forwarded-For"), sourceIP)}
	mh["x-forwarded-proto"] = []string{"http"}
	return mh
}

// albQuery lists every query value under its name, both as the client
// sent them (not decoded).
func albQuery(rawQuery string) map[string][]string {
	mq := map[string][]string{}
	for _, kv := range strings.Split(rawQuery, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		mq[k] = append(mq[k], v)
	}
	return mq
}

// httpAPIEvent is the request as an HTTP API sends it with payload
// format 2.0.
func httpAPIEvent(r *http.Request, text string, b64 bool, sourceIP string) map[string]any {
	headers, cookies := httpAPIHeaders(r, sourceIP)
	now := time.Now()
	ev := map[string]any{
		"version":        "2.0",
		"routeKey":       "$default",
		"rawPath":        r.URL.EscapedPath(),
		"rawQueryString": r.URL.RawQuery,
		"headers":        headers,
		"requestContext": map[string]any{
			"accountId":  "000000000000",
			"apiId":      "lowfare-dev",
			"domainName": r.Host,
			"http": map[string]string{
				"method": r.Method, "path": r.URL.Path, "protocol": r.Proto,
				"sourceIp": sourceIP, "userAgent": r.UserAgent(),
			},
			"requestId": newID(),
			"routeKey":  "$default",
			"stage":     "$default",
			"time":      now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			"timeEpoch": now.UnixMilli(),
		},
		"body":            text,
		"isBase64Encoded": b64,
	}
	if len(cookies) > 0 {
		ev["cookies"] = cookies
	}
	return ev
}

// httpAPIHeaders joins each header's values with commas under its
// lowercased name, with the headers the API sets itself, and takes the
// cookies out into their own list.
func httpAPIHeaders(r *http.Request, sourceIP string) (map[string]string, []string) {
	headers := map[string]string{}
	var cookies []string
	for k, vs := range r.Header {
		if http.CanonicalHeaderKey(k) == "Cookie" {
			cookies = append(cookies, splitCookies(vs)...)
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	headers["host"] = r.Host
	headers["x-forwarded-for"] = forwardedAppend(r.Header.Get("X-Forwarded-For"), sourceIP)
	headers["x-forwarded-proto"] = "http"
	return headers, cookies
}

// splitCookies is the name=value pairs of Cookie header values.
func splitCookies(values []string) []string {
	var cookies []string
	for _, v := range values {
		for _, c := range strings.Split(v, ";") {
			if c = strings.TrimSpace(c); c != "" {
				cookies = append(cookies, c)
			}
		}
	}
	return cookies
}

// writeResponse writes the function's response payload to w as the
// ingress would: status, headers (each of multiValueHeaders), cookies as
// Set-Cookie, the body decoded from base64 when marked.
func (ie ingressEvent) writeResponse(w http.ResponseWriter, payload []byte) error {
	var resp struct {
		StatusCode        int                 `json:"statusCode"`
		Headers           map[string]string   `json:"headers"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
		Cookies           []string            `json:"cookies"`
		Body              string              `json:"body"`
		IsBase64Encoded   bool                `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(payload, &resp); err != nil || resp.StatusCode == 0 {
		return fmt.Errorf("the function's response is not an HTTP response (statusCode, headers, body): %.200s", payload)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := decodeB64(resp.Body)
		if err != nil {
			return fmt.Errorf("the function's response body is marked base64 but does not decode: %w", err)
		}
		body = b
	}
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	return nil
}

// writeFailure answers a request the function failed as the ingress does:
// an HTTP API says 500 {"message":"Internal Server Error"}, an ALB 502.
func (ie ingressEvent) writeFailure(w http.ResponseWriter) {
	if ie.alb {
		http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(w, `{"message":"Internal Server Error"}`)
}

func forwardedAppend(existing, ip string) string {
	if existing == "" {
		return ip
	}
	return existing + ", " + ip
}

// serveOnLambda answers r through the function: the path a request takes
// while the service sleeps with serve: app.
func (s *supervisor) serveOnLambda(w http.ResponseWriter, r *http.Request) {
	answeredBy(w, "the app through the Lambda adapter", false)
	body, err := io.ReadAll(io.LimitReader(r.Body, devLambdaLimit+1))
	if err != nil {
		http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > devLambdaLimit {
		// Lambda takes at most 6 MB of event.
		http.Error(w, "413 Request Entity Too Large: over Lambda's 6 MB payload", http.StatusRequestEntityTooLarge)
		return
	}
	payload, err := s.ingress.eventFor(r, body)
	if err != nil {
		s.ingress.writeFailure(w)
		return
	}
	res, err := s.fn.invoke(r.Context(), payload)
	switch {
	case err != nil:
		s.log.Error("the app on Lambda did not answer", "method", r.Method, "path", r.URL.Path, "err", err)
		s.ingress.writeFailure(w)
	case res.err != nil:
		s.log.Error("the app on Lambda failed the request", "method", r.Method, "path", r.URL.Path, "err", res.err)
		s.ingress.writeFailure(w)
	default:
		if err := s.ingress.writeResponse(w, res.payload); err != nil {
			s.log.Error("the app on Lambda answered something the ingress cannot send", "err", err)
			s.ingress.writeFailure(w)
		}
	}
}

// busyMeter is the busy alarm's metric: the function's invocations in
// one-minute periods. The deployed alarm wakes the service when each of
// the last three periods reached the break-even rate (internal/stack's
// busy alarm); here the periods are the minutes up to the request.
type busyMeter struct {
	mu    sync.Mutex
	times []time.Time
}

// add records a request at now and reports whether each of the last
// minutes one-minute windows up to now holds at least rate requests.
func (b *busyMeter) add(now time.Time, minutes int, rate float64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	span := time.Duration(minutes) * time.Minute
	cut := 0
	for cut < len(b.times) && now.Sub(b.times[cut]) >= span {
		cut++
	}
	b.times = append(b.times[cut:], now)
	counts := make([]int, minutes)
	for _, t := range b.times {
		counts[int(now.Sub(t)/time.Minute)]++
	}
	for _, n := range counts {
		if float64(n) < rate {
			return false
		}
	}
	return true
}

// devBusyMinutes is how many consecutive minutes at the rate wake the
// service: the deployed busy alarm's evaluation periods.
const devBusyMinutes = cost.BusyMinutes

// isUTF8Text: a body an event can carry as a JSON string; anything else
// goes base64, as the ingresses send binary bodies.
func isUTF8Text(b []byte) bool { return bytes.IndexByte(b, 0) < 0 && utf8.Valid(b) }

func encodeB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func decodeB64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

// withoutEnv drops the variables named from an environment.
func withoutEnv(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, k) {
			out = append(out, kv)
		}
	}
	return out
}

// newLambdaFunc prepares the function of a serve: app service: the adapter
// compiled for this machine, and the app's environment (the task's, with
// its own PORT per environment).
func newLambdaFunc(ctx context.Context, o AppOptions, env []string, bin string) (*lambdaFunc, error) {
	o.Logger.Info("building lowfare's Lambda adapter for this machine (cached after the first build)")
	data, err := image.AdapterForHost(ctx)
	if err != nil {
		return nil, fmt.Errorf("service.idle serve: app answers through lowfare's Lambda adapter: %w", err)
	}
	adapter, err := writeAdapterBinary(filepath.Join(o.DataDir, "bin"), data)
	if err != nil {
		return nil, fmt.Errorf("writing the Lambda adapter: %w", err)
	}
	return &lambdaFunc{
		adapter: adapter, env: withoutEnv(env, "PORT", "AWS_LAMBDA_RUNTIME_API"),
		out: o.AppOutput, log: o.Logger, stopTimeout: o.StopTimeout, bin: bin,
	}, nil
}

// wakeRate is the busy alarm's threshold for the spec: the break-even of
// its task against its app on Lambda, with the prices of its region (or
// us-east-1's when the built-in table has none).
func wakeRate(s *spec.Spec) float64 {
	return cost.WakePerMinute(s, price.Builtin(s.Region), cost.DefaultLambdaMS)
}
