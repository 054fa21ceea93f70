package ddbtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Fault is what a FaultProxy does to the calls of one operation.
type Fault struct {
	// Skip lets this many calls through untouched before the fault applies.
	Skip int
	// Times applies the fault to this many calls (after Skip), then lifts
	// it; 0 means every call.
	Times int
	// Slow delays the request before it reaches the table: a slow table
	// that applies the write late.
	Slow time.Duration
	// LateAnswer forwards the request at once (the table applies it) and
	// holds the answer back this long, or until the client gives up:
	// the write is in, but the client does not know.
	LateAnswer time.Duration
	// Throttle answers 400 ProvisionedThroughputExceededException without
	// forwarding: DynamoDB's answer to a table over its capacity.
	Throttle bool
	// Fail answers 500 InternalServerError without forwarding.
	Fail bool
	// Hang never answers and never forwards, until the client gives up
	// (an outage where connections open but nothing comes back).
	Hang bool
}

// FaultProxy is an HTTP proxy between DynamoDB clients and a backend that
// delays, throttles or fails chosen operations and counts calls. Its
// Client talks to the backend through it.
type FaultProxy struct {
	URL    string
	Client *dynamodb.Client

	target string
	fwd    *http.Client
	closed chan struct{}

	mu       sync.Mutex
	faults   map[string]*faultState // by operation ("UpdateItem"); "*" is every operation
	calls    map[string]int
	inflight map[string]int
	peak     map[string]int
}

type faultState struct {
	Fault
	seen int
}

// NewFaultProxy starts a proxy in front of b for the test's lifetime.
func NewFaultProxy(t testing.TB, b Backend) *FaultProxy {
	t.Helper()
	p, stop := StartFaultProxy(b.Endpoint)
	t.Cleanup(stop)
	return p
}

// StartFaultProxy starts a proxy in front of the DynamoDB endpoint (a
// base URL) for programs such as benchmarks; stop ends it.
func StartFaultProxy(endpoint string) (p *FaultProxy, stop func()) {
	p = &FaultProxy{
		target:   strings.TrimRight(endpoint, "/"),
		fwd:      &http.Client{Timeout: time.Minute},
		closed:   make(chan struct{}),
		faults:   map[string]*faultState{},
		calls:    map[string]int{},
		inflight: map[string]int{},
		peak:     map[string]int{},
	}
	srv := httptest.NewServer(p)
	p.URL = srv.URL
	p.Client = NewClient(srv.URL)
	return p, func() {
		close(p.closed) // hanging handlers return
		srv.CloseClientConnections()
		srv.Close()
	}
}

// Set makes op (an operation name such as "UpdateItem", or "*" for every
// operation) suffer f from now on, replacing an earlier fault.
func (p *FaultProxy) Set(op string, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults[op] = &faultState{Fault: f}
}

// Clear lifts every fault.
func (p *FaultProxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = map[string]*faultState{}
}

// Calls returns how many calls of op reached the proxy.
func (p *FaultProxy) Calls(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[op]
}

// PeakInFlight returns the most calls of op that were in the proxy at once.
func (p *FaultProxy) PeakInFlight(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak[op]
}

// WaitCalls waits until at least n calls of op reached the proxy.
func (p *FaultProxy) WaitCalls(ctx context.Context, op string, n int) error {
	for p.Calls(op) < n {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d %s calls (have %d): %w", n, op, p.Calls(op), ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// begin counts a call and returns the fault that applies to it.
func (p *FaultProxy) begin(op string) Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[op]++
	p.inflight[op]++
	p.peak[op] = max(p.peak[op], p.inflight[op])
	f := p.faults[op]
	if f == nil {
		f = p.faults["*"]
	}
	if f == nil {
		return Fault{}
	}
	f.seen++
	if f.seen <= f.Skip || (f.Times > 0 && f.seen > f.Skip+f.Times) {
		return Fault{}
	}
	return f.Fault
}

func (p *FaultProxy) end(op string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight[op]--
}

func (p *FaultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := r.Header.Get("X-Amz-Target")
	op = op[strings.LastIndexByte(op, '.')+1:]
	f := p.begin(op)
	defer p.end(op)
	ctx := r.Context()
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
		case <-p.closed:
		}
		return false
	}
	switch {
	case f.Hang:
		wait(time.Hour)
		return
	case f.Slow > 0 && !wait(f.Slow):
		return
	case f.Throttle:
		writeAWSError(w, http.StatusBadRequest, "ProvisionedThroughputExceededException",
			"The level of configured provisioned throughput for the table was exceeded (FaultProxy)")
		return
	case f.Fail:
		writeAWSError(w, http.StatusInternalServerError, "InternalServerError", "internal server error (FaultProxy)")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	// The table applies the request even when the client has gone: that
	// is the fault under test.
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := p.fwd.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if f.LateAnswer > 0 && !wait(f.LateAnswer) {
		return
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(answer)
}

// writeAWSError answers like DynamoDB's JSON protocol does.
func writeAWSError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q}`, code, msg)
}
