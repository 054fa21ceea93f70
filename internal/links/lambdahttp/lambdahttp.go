// Package lambdahttp serves an http.Handler from AWS Lambda: it turns a
// Lambda function URL or API Gateway HTTP API (payload format 2.0) event
// into an *http.Request, records the handler's response in memory, and
// returns it as the event response. Both event sources share one JSON
// shape, so events.LambdaFunctionURLRequest decodes either.
package lambdahttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Adapter calls Handler for each event, then After (if set) before
// returning, because Lambda freezes the process between invocations and
// background work (such as a click flush) would otherwise stall.
type Adapter struct {
	Handler http.Handler
	After   func(ctx context.Context) error
	Log     *slog.Logger // receives After's failures; nil discards
}

// Invoke is the Lambda handler function: pass it to lambda.Start.
func (a *Adapter) Invoke(ctx context.Context, ev events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	req, err := Request(ctx, ev)
	if err != nil {
		return events.LambdaFunctionURLResponse{
			StatusCode: http.StatusBadRequest,
			Headers:    map[string]string{"Content-Type": "text/plain; charset=utf-8"},
			Body:       err.Error() + "\n",
		}, nil
	}
	rec := newRecorder()
	a.Handler.ServeHTTP(rec, req)
	if a.After != nil {
		if err := a.After(ctx); err != nil {
			// The response is already decided; report the failure in the
			// function's logs without failing the caller's request.
			if a.Log != nil {
				a.Log.Error("after invocation", "error", err.Error())
			}
		}
	}
	return rec.response(), nil
}

// Request builds the *http.Request an event describes.
func Request(ctx context.Context, ev events.LambdaFunctionURLRequest) (*http.Request, error) {
	method := ev.RequestContext.HTTP.Method
	if method == "" {
		return nil, fmt.Errorf("event has no requestContext.http.method; is this a function URL or HTTP API v2 event?")
	}
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	if path == "" {
		path = "/"
	}
	target := path
	if ev.RawQueryString != "" {
		target += "?" + ev.RawQueryString
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return nil, fmt.Errorf("event body is marked base64 but does not decode: %w", err)
		}
		body = b
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("event path %q: %w", target, err)
	}
	for k, v := range ev.Headers {
		// Payload 2.0 joins repeated headers with commas; keep them as one value.
		req.Header.Set(k, v)
	}
	if len(ev.Cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	req.Host = ev.RequestContext.DomainName
	if h := req.Header.Get("Host"); h != "" {
		req.Host = h
	}
	req.Header.Del("Host")
	req.ContentLength = int64(len(body))
	if req.Header.Get("X-Forwarded-Proto") == "" {
		req.Header.Set("X-Forwarded-Proto", "https") // function URLs and HTTP APIs are HTTPS only
	}
	if ip := ev.RequestContext.HTTP.SourceIP; ip != "" {
		req.RemoteAddr = ip + ":0"
	}
	if req.Header.Get("X-Request-Id") == "" && ev.RequestContext.RequestID != "" {
		req.Header.Set("X-Request-Id", ev.RequestContext.RequestID)
	}
	req.RequestURI = target
	return req, nil
}

// recorder is an in-memory http.ResponseWriter, like httptest.ResponseRecorder
// but without the testing package.
type recorder struct {
	header      http.Header
	status      int
	body        bytes.Buffer
	wroteHeader bool
}

func newRecorder() *recorder { return &recorder{header: make(http.Header)} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.wroteHeader {
		return
	}
	r.wroteHeader = true
	r.status = code
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

func (r *recorder) response() events.LambdaFunctionURLResponse {
	if !r.wroteHeader {
		r.status = http.StatusOK
	}
	out := events.LambdaFunctionURLResponse{StatusCode: r.status, Headers: map[string]string{}}
	for k, vs := range r.header {
		if k == "Set-Cookie" {
			out.Cookies = append(out.Cookies, vs...)
			continue
		}
		out.Headers[k] = strings.Join(vs, ", ")
	}
	if _, ok := out.Headers["Content-Type"]; !ok && r.body.Len() > 0 {
		out.Headers["Content-Type"] = http.DetectContentType(r.body.Bytes())
	}
	b := r.body.Bytes()
	if len(b) == 0 || textual(out.Headers["Content-Type"]) && utf8.Valid(b) {
		out.Body = string(b)
	} else {
		out.Body = base64.StdEncoding.EncodeToString(b)
		out.IsBase64Encoded = true
	}
	return out
}

// textual reports whether a content type can travel as a JSON string.
func textual(ct string) bool {
	ct = strings.ToLower(ct)
	return strings.HasPrefix(ct, "text/") ||
		strings.Contains(ct, "json") || strings.Contains(ct, "xml") ||
		strings.Contains(ct, "javascript") || strings.Contains(ct, "x-www-form-urlencoded")
}
