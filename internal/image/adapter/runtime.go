package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// The Lambda Runtime API, as a custom runtime uses it ("Using the Lambda
// runtime API for custom runtimes", Lambda developer guide):
//
//	GET  /2018-06-01/runtime/invocation/next          the next event (long poll)
//	POST /2018-06-01/runtime/invocation/{id}/response  the function's result
//	POST /2018-06-01/runtime/invocation/{id}/error     a failed invocation
//	POST /2018-06-01/runtime/init/error                a failed initialisation
//
// and one call of the Extensions API ("Lambda Extensions API"): registering
// an extension, even one that takes no events, makes Lambda send the
// runtime SIGTERM before it shuts the execution environment down, which is
// what lets the app flush and close like it does on ECS.
const (
	runtimeAPI   = "/2018-06-01/runtime/"
	extensionAPI = "/2020-01-01/extension/"
	// postTimeout bounds a response or error post. The Runtime API is on
	// this machine; it answers at once.
	postTimeout = 30 * time.Second
	// maxPayload is Lambda's limit for a synchronous invocation's response
	// (6 MB), so a larger app answer is reported instead of truncated.
	maxPayload = 6 << 20
	// maxPayloadALB is an Application Load Balancer's limit for a Lambda
	// target's answer: "The maximum size of the response JSON that the
	// Lambda function can send is 1 MB"
	// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html).
	// Past it the load balancer answers 502 with no word why; the adapter
	// reports the cause in the function's log instead.
	maxPayloadALB = 1 << 20
)

// invocation is one event from /next.
type invocation struct {
	id       string
	deadline time.Time // zero when Lambda sent none
	traceID  string
	payload  []byte
}

// runtimeClient talks to $AWS_LAMBDA_RUNTIME_API.
type runtimeClient struct {
	base string // http://host:port
	// http has no timeout: /next blocks until an event arrives, and the
	// execution environment is frozen meanwhile, for minutes or hours.
	// Every other call has a context deadline.
	http *http.Client
}

func newRuntimeClient(addr string) *runtimeClient {
	return &runtimeClient{
		base: "http://" + addr,
		http: &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2}},
	}
}

// next waits for the next invocation.
func (c *runtimeClient) next(ctx context.Context) (*invocation, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+runtimeAPI+"invocation/next", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("runtime API /next: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("runtime API /next: reading the event: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("runtime API /next: %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	inv := &invocation{
		id:      resp.Header.Get("Lambda-Runtime-Aws-Request-Id"),
		traceID: resp.Header.Get("Lambda-Runtime-Trace-Id"),
		payload: body,
	}
	if inv.id == "" {
		return nil, fmt.Errorf("runtime API /next: no Lambda-Runtime-Aws-Request-Id header")
	}
	if ms, err := strconv.ParseInt(resp.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64); err == nil && ms > 0 {
		inv.deadline = time.UnixMilli(ms)
	}
	return inv, nil
}

// respond posts an invocation's result.
func (c *runtimeClient) respond(ctx context.Context, id string, payload []byte) error {
	return c.post(ctx, runtimeAPI+"invocation/"+id+"/response", "", payload)
}

// lambdaError is the error document the Runtime API takes.
type lambdaError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

// fail posts an invocation's error.
func (c *runtimeClient) fail(ctx context.Context, id string, e lambdaError) error {
	b, _ := json.Marshal(e)
	return c.post(ctx, runtimeAPI+"invocation/"+id+"/error", e.Type, b)
}

// initFail posts an initialisation error.
func (c *runtimeClient) initFail(ctx context.Context, e lambdaError) error {
	b, _ := json.Marshal(e)
	return c.post(ctx, runtimeAPI+"init/error", e.Type, b)
}

func (c *runtimeClient) post(ctx context.Context, path, errorType string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, postTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if errorType != "" {
		req.Header.Set("Lambda-Runtime-Function-Error-Type", errorType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("runtime API %s: %w", path, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("runtime API %s: %s: %s", path, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// enableSIGTERM registers an internal extension that takes no events, and
// waits on its /event/next (which never answers) so that Lambda knows the
// extension finished initialising. Its only effect is SIGTERM at shutdown.
func (c *runtimeClient) enableSIGTERM(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, postTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.base+extensionAPI+"register", bytes.NewReader([]byte(`{"events":[]}`)))
	if err != nil {
		return err
	}
	req.Header.Set("Lambda-Extension-Name", "lowfare-lambda-adapter")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("registering the SIGTERM extension: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("registering the SIGTERM extension: %s", resp.Status)
	}
	id := resp.Header.Get("Lambda-Extension-Identifier")
	go func() {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+extensionAPI+"event/next", nil)
		if err != nil {
			return
		}
		req.Header.Set("Lambda-Extension-Identifier", id)
		if resp, err := c.http.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	return nil
}
