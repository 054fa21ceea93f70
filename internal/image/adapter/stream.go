package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Response streaming, for a function URL whose InvokeMode is
// RESPONSE_STREAM (profile serverless with ingress url; the stack sets
// envInvokeMode on the function to say so). The app's answer goes to the
// client as the app writes it, so server-sent events, progress and large
// downloads work, and the body is neither base64-encoded nor held to the
// 6 MB of a buffered response: "RESPONSE_STREAM – ... The maximum response
// payload size is 200 MB"
// (https://docs.aws.amazon.com/lambda/latest/dg/config-rs-invoke-furls.html).
// An HTTP API cannot stream a Lambda answer (API Gateway streams only REST
// APIs: https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode.html)
// and neither can an ALB, so their events stay buffered.
//
// The wire format a custom runtime writes, from "Implementing response
// streaming in a custom runtime"
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html#runtimes-custom-response-streaming):
// POST /runtime/invocation/{id}/response with
// "Lambda-Runtime-Function-Response-Mode: streaming" and
// "Transfer-Encoding: chunked", the body in HTTP/1.1 chunks, the connection
// closed after it; an error after the response began goes in the trailers
// Lambda-Runtime-Function-Error-Type and Lambda-Runtime-Function-Error-Body
// (base64), which "the runtime must set the Trailer header value at the
// beginning of the HTTP request" to send; /error "can only be called
// before the runtime begins sending an invocation response".
//
// The body is an HTTP integration response
// (application/vnd.awslambda.http-integration-response): a JSON prelude
// {statusCode, headers, cookies}, eight NUL bytes, then the body as it
// comes. API Gateway documents the same framing for its streaming Lambda
// proxy integration ("metadata JSON ... delimiter ... raw payload",
// https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode-lambda.html);
// aws-lambda-go's events.LambdaFunctionURLStreamingResponse and the
// Node.js runtime's awslambda.HttpResponseStream.from write it for
// function URLs.
const (
	// envInvokeMode is set by the stack on a function whose URL streams.
	envInvokeMode    = "LOWFARE_INVOKE_MODE"
	invokeModeStream = "RESPONSE_STREAM"

	headerResponseMode         = "Lambda-Runtime-Function-Response-Mode"
	responseModeStreaming      = "streaming"
	trailerErrorType           = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody           = "Lambda-Runtime-Function-Error-Body"
	contentTypeHTTPIntegration = "application/vnd.awslambda.http-integration-response"

	// streamGrace lets a stream post outlive the invocation's deadline a
	// little: Lambda ends the invocation itself at the deadline, and the
	// adapter must not cut the stream first.
	streamGrace = 5 * time.Second
)

// preludeDelimiter ends the prelude.
var preludeDelimiter = make([]byte, 8)

// streams reports whether the event comes from a function URL, the one
// front end here that reads a streamed answer. An HTTP API sends the same
// payload 2.0, so the URL's domain decides: "Function URL endpoints have
// the following format: https://<url-id>.lambda-url.<region>.on.aws"
// (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html),
// and the event carries it as requestContext.domainName whatever Host the
// client (or a CDN in front) sent. So an HTTP API event is answered
// buffered even where the function was told to stream (service.env can set
// any variable); an ALB's (requestContext.elb) and a REST API's (1.0)
// events always are.
func (e *event) streams() bool {
	d := e.RequestContext.DomainName
	return !e.v1() && e.RequestContext.ELB == nil && strings.Contains(d, ".lambda-url.") && strings.HasSuffix(d, ".on.aws")
}

// prelude is the JSON before the body of a streamed HTTP response.
type prelude struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Cookies    []string          `json:"cookies,omitempty"`
}

// streamPrelude is the prelude and its delimiter for the app's status and
// headers: connection headers go, Set-Cookie goes in cookies (it cannot be
// joined with commas, RFC 6265 section 3), other repeated headers are
// joined (RFC 9110 section 5.3). Content-Length goes too: the function URL
// frames the streamed body itself, and a length that a broken-off answer
// never reaches would make the client wait.
func streamPrelude(status int, header http.Header) ([]byte, error) {
	p := prelude{StatusCode: status, Headers: map[string]string{}}
	for k, vs := range header {
		switch {
		case k == "Set-Cookie":
			p.Cookies = append(p.Cookies, vs...)
		case k == "Content-Length" || isHopByHop(k):
		default:
			p.Headers[k] = strings.Join(vs, ", ")
		}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return append(b, preludeDelimiter...), nil
}

func isHopByHop(name string) bool {
	for _, h := range hopByHop {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}

// streamBody is the body of the stream post: the prelude, then the app's
// body read by read, so each piece the app flushes becomes one chunk (Go's
// client flushes after every chunk of a chunked request body). When
// reading the app's body fails midway, it ends the body and puts the error
// in the trailers, which the client sends after the last chunk.
type streamBody struct {
	prelude []byte
	app     io.Reader // nil once finished
	where   string
	trailer http.Header

	mu   sync.Mutex
	sent int64
	err  *lambdaError
}

func (b *streamBody) Read(p []byte) (int, error) {
	if len(b.prelude) > 0 {
		n := copy(p, b.prelude)
		b.prelude = b.prelude[n:]
		return n, nil
	}
	if b.app == nil {
		return 0, io.EOF
	}
	n, err := b.app.Read(p)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sent += int64(n)
	switch {
	case err == io.EOF:
		b.app = nil
	case err != nil:
		b.app = nil
		b.err = &lambdaError{Type: "Adapter.ResponseInterrupted",
			Message: fmt.Sprintf("%s: the app's answer broke off after %d bytes of body: %v", b.where, b.sent, err)}
		doc, _ := json.Marshal(b.err)
		b.trailer.Set(trailerErrorType, b.err.Type)
		b.trailer.Set(trailerErrorBody, base64.StdEncoding.EncodeToString(doc))
		err = io.EOF
	}
	return n, err
}

// failure is the error put in the trailers, if any.
func (b *streamBody) failure() *lambdaError {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// stream posts the app's answer to an invocation as a streamed HTTP
// response, as the app writes it. The error it returns is the Runtime
// API's; an app that breaks off midway is reported in the trailers and
// the log.
func (c *runtimeClient) stream(ctx context.Context, inv *invocation, x *exchange, logf func(string, ...any)) error {
	pre, err := streamPrelude(x.resp.StatusCode, x.resp.Header)
	if err != nil {
		// Nothing was sent yet: /error still takes it.
		return c.fail(ctx, inv.id, lambdaError{Type: "Adapter.InvalidResponse", Message: err.Error()})
	}
	body := &streamBody{
		prelude: pre,
		app:     x.resp.Body,
		where:   x.where(),
		// Declared before the body, as chunked encoding requires; a key
		// without a value is not sent.
		trailer: http.Header{trailerErrorType: nil, trailerErrorBody: nil},
	}
	if !inv.deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, inv.deadline.Add(streamGrace))
		defer cancel()
	}
	path := runtimeAPI + "invocation/" + inv.id + "/response"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, body)
	if err != nil {
		return err
	}
	req.ContentLength = -1 // unknown: chunked
	req.TransferEncoding = []string{"chunked"}
	req.Trailer = body.trailer
	req.Close = true // "Close the underlying connection after it has successfully written the response."
	req.Header.Set("Content-Type", contentTypeHTTPIntegration)
	req.Header.Set(headerResponseMode, responseModeStreaming)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("runtime API %s (streaming): %w", path, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if lerr := body.failure(); lerr != nil {
		logf("invocation %s: %s", inv.id, lerr.Message)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("runtime API %s (streaming): %s: %s", path, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}
