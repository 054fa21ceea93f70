package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// The two event shapes an HTTP front end sends a Lambda function.
//
// Payload format 2.0 is what a function URL and an API Gateway HTTP API
// (payloadFormatVersion 2.0) send: "version": "2.0", rawPath,
// rawQueryString, headers joined with commas, cookies in their own array,
// requestContext.http.{method,sourceIp}. Payload format 1.0 is an API
// Gateway REST API proxy integration (or an HTTP API with
// payloadFormatVersion 1.0): httpMethod, path, multiValueHeaders,
// multiValueQueryStringParameters, requestContext.identity.sourceIp.
// See "Working with AWS Lambda proxy integrations for HTTP APIs" (API
// Gateway developer guide, payload format versions) and "Invoking Lambda
// function URLs" (Lambda developer guide, request and response payloads).
type event struct {
	Version string `json:"version"`

	// 2.0
	RawPath        string            `json:"rawPath"`
	RawQueryString string            `json:"rawQueryString"`
	Cookies        []string          `json:"cookies"`
	Headers        map[string]string `json:"headers"`

	// 1.0
	HTTPMethod        string              `json:"httpMethod"`
	Path              string              `json:"path"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	QueryString       map[string]string   `json:"queryStringParameters"`
	MultiValueQuery   map[string][]string `json:"multiValueQueryStringParameters"`

	RequestContext struct {
		RequestID  string `json:"requestId"`
		DomainName string `json:"domainName"`
		HTTP       struct {
			Method   string `json:"method"`
			Path     string `json:"path"`
			SourceIP string `json:"sourceIp"`
		} `json:"http"`
		Identity struct {
			SourceIP string `json:"sourceIp"`
		} `json:"identity"`
		// ELB is set by an Application Load Balancer's Lambda target
		// group (service.idle serve: app), which sends the 1.0 shape with
		// the path and query parameters as the client wrote them: "If the
		// query parameters are URL-encoded, the load balancer does not
		// decode them"
		// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html).
		ELB *struct {
			TargetGroupArn string `json:"targetGroupArn"`
		} `json:"elb"`
	} `json:"requestContext"`

	Body            string `json:"body"`
	IsBase64Encoded bool   `json:"isBase64Encoded"`
}

// maxResponse is the largest response payload the event's caller takes:
// 1 MB for an ALB, Lambda's 6 MB otherwise.
func (e *event) maxResponse() (int, string) {
	if e.RequestContext.ELB != nil {
		return maxPayloadALB, "an Application Load Balancer's"
	}
	return maxPayload, "Lambda's"
}

// v1 reports whether the event is payload format 1.0.
func (e *event) v1() bool { return e.Version != "2.0" && e.HTTPMethod != "" }

// errNotHTTP says the event is not from an HTTP front end (a direct
// invoke, a queue, a schedule): there is no request to make.
var errNotHTTP = errors.New("the event is not an HTTP request (want a function URL, HTTP API or REST API proxy event: payload 2.0 with requestContext.http.method, or 1.0 with httpMethod)")

// parseEvent decodes an invocation's payload.
func parseEvent(payload []byte) (*event, error) {
	var e event
	if err := json.Unmarshal(payload, &e); err != nil {
		return nil, fmt.Errorf("decoding the event: %w", err)
	}
	if e.RequestContext.HTTP.Method == "" && e.HTTPMethod == "" {
		return nil, errNotHTTP
	}
	return &e, nil
}

// hopByHop are the headers that describe one connection, not the message
// (RFC 9110 section 7.6.1); they are not forwarded either way.
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// request builds the HTTP request to the app at base (http://127.0.0.1:PORT).
func (e *event) request(ctx context.Context, base string) (*http.Request, error) {
	body, err := e.decodeBody()
	if err != nil {
		return nil, err
	}
	in := e.fromFrontEnd()
	target, err := e.target(in.path, in.query)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, in.method, base+target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("the event's request line %s %q: %w", in.method, in.path, err)
	}
	req.Host = e.forwardHeaders(in.header, in.sourceIP)
	req.Header = in.header
	req.ContentLength = int64(len(body))
	if len(body) == 0 {
		req.Body = http.NoBody
	}
	return req, nil
}

// decodeBody is the request body, decoded from base64 when the event says so.
func (e *event) decodeBody() ([]byte, error) {
	if !e.IsBase64Encoded {
		return []byte(e.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(e.Body)
	if err != nil {
		return nil, fmt.Errorf("the event body is marked base64 but does not decode: %w", err)
	}
	return b, nil
}

// incoming is the request the front end received, read from either
// payload format.
type incoming struct {
	method, path, query, sourceIP string
	header                        http.Header
}

// fromFrontEnd reads the request from the event; an empty path is "/".
func (e *event) fromFrontEnd() incoming {
	var in incoming
	if e.v1() {
		in = e.fromPayload1()
	} else {
		in = e.fromPayload2()
	}
	if in.path == "" {
		in.path = "/"
	}
	return in
}

// fromPayload1 reads a payload 1.0 request.
func (e *event) fromPayload1() incoming {
	in := incoming{method: e.HTTPMethod, path: e.Path, sourceIP: e.RequestContext.Identity.SourceIP, header: http.Header{}}
	in.query = e.query1()
	if e.RequestContext.ELB != nil {
		in.query = e.queryALB()
	}
	for k, vs := range e.MultiValueHeaders {
		for _, v := range vs {
			in.header.Add(k, v)
		}
	}
	for k, v := range e.Headers {
		// REST APIs send both maps; the multi-value one is complete.
		if _, ok := in.header[http.CanonicalHeaderKey(k)]; !ok {
			in.header.Set(k, v)
		}
	}
	return in
}

// fromPayload2 reads a payload 2.0 request.
func (e *event) fromPayload2() incoming {
	in := incoming{method: e.RequestContext.HTTP.Method, path: e.RawPath, query: e.RawQueryString, sourceIP: e.RequestContext.HTTP.SourceIP, header: http.Header{}}
	if in.path == "" {
		in.path = e.RequestContext.HTTP.Path
	}
	for k, v := range e.Headers {
		// Payload 2.0 joins a repeated header with commas, which
		// HTTP reads as the same list (RFC 9110 section 5.3).
		in.header.Set(k, v)
	}
	if len(e.Cookies) > 0 {
		cookies := strings.Join(e.Cookies, "; ")
		if c := in.header.Get("Cookie"); c != "" {
			cookies = c + "; " + cookies
		}
		in.header.Set("Cookie", cookies)
	}
	return in
}

// target is the request target for the app: the path, escaped where the
// event decoded it, and the query.
func (e *event) target(path, query string) (string, error) {
	if !strings.HasPrefix(path, "/") {
		return "", fmt.Errorf("the event's path %q does not start with /", path)
	}
	// The path arrives decoded in 1.0 (escape it) and as the client
	// wrote it in 2.0 (send it as it is). base fixes the authority: a path
	// such as //host/x stays a path.
	target := path
	if e.v1() && e.RequestContext.ELB == nil {
		target = (&url.URL{Path: path}).EscapedPath()
	}
	if query != "" {
		target += "?" + query
	}
	return target, nil
}

// forwardHeaders turns the front end's request headers into the app's:
// connection headers and Content-Length go, and X-Forwarded-Proto,
// X-Forwarded-For and X-Request-Id say what the front end saw. It
// returns the host the client asked for, which leaves the header map.
func (e *event) forwardHeaders(header http.Header, sourceIP string) (host string) {
	for _, h := range hopByHop {
		header.Del(h)
	}
	header.Del("Content-Length") // the body's own length is sent
	host = e.RequestContext.DomainName
	if h := header.Get("Host"); h != "" {
		host = h
	}
	header.Del("Host")
	if header.Get("X-Forwarded-Proto") == "" {
		// Function URLs, HTTP APIs and REST APIs answer HTTPS only.
		header.Set("X-Forwarded-Proto", "https")
	}
	if sourceIP != "" {
		header.Set("X-Forwarded-For", forwardedFor(header.Get("X-Forwarded-For"), sourceIP))
	}
	if header.Get("X-Request-Id") == "" && e.RequestContext.RequestID != "" {
		header.Set("X-Request-Id", e.RequestContext.RequestID)
	}
	return host
}

// query1 rebuilds a 1.0 event's query string from its decoded parameters
// (1.0 has no raw query string): the multi-value map when present, sorted
// by name, keeping each name's values in order.
func (e *event) query1() string {
	q := url.Values{}
	for k, vs := range e.MultiValueQuery {
		q[k] = append(q[k], vs...)
	}
	if len(q) == 0 {
		for k, v := range e.QueryString {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

// queryALB rebuilds the query string of a load balancer's event, whose
// parameters arrive still encoded: joined as they are, sorted by name,
// each name's values in order.
func (e *event) queryALB() string {
	q := e.MultiValueQuery
	if len(q) == 0 {
		q = map[string][]string{}
		for k, v := range e.QueryString {
			q[k] = []string{v}
		}
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(q)) {
		for _, v := range q[k] {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, "&")
}

// forwardedFor puts the front end's source IP last in X-Forwarded-For, the
// way a load balancer appends the peer it saw, unless it is already the
// last entry (function URLs set the header themselves). Apps that trust
// one proxy read the last entry.
func forwardedFor(existing, sourceIP string) string {
	if existing == "" {
		return sourceIP
	}
	parts := strings.Split(existing, ",")
	if strings.TrimSpace(parts[len(parts)-1]) == sourceIP {
		return existing
	}
	return existing + ", " + sourceIP
}

// response2 is the payload 2.0 response (function URL, HTTP API).
type response2 struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Cookies         []string          `json:"cookies,omitempty"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
}

// response1 is the payload 1.0 response (REST API proxy integration); every
// header goes in multiValueHeaders, which carries repeated Set-Cookie.
type response1 struct {
	StatusCode        int                 `json:"statusCode"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// encodeResponse turns the app's answer into the event's response shape.
func (e *event) encodeResponse(status int, header http.Header, body []byte) ([]byte, error) {
	header = header.Clone()
	for _, h := range hopByHop {
		header.Del(h)
	}
	text, b64 := encodeBody(header, body)
	if e.v1() {
		return json.Marshal(response1{StatusCode: status, MultiValueHeaders: header, Body: text, IsBase64Encoded: b64})
	}
	out := response2{StatusCode: status, Headers: map[string]string{}, Body: text, IsBase64Encoded: b64}
	for k, vs := range header {
		if k == "Set-Cookie" {
			// Set-Cookie cannot be joined with commas (RFC 6265
			// section 3): payload 2.0 carries each in cookies.
			out.Cookies = append(out.Cookies, vs...)
			continue
		}
		out.Headers[k] = strings.Join(vs, ", ")
	}
	return json.Marshal(out)
}

// encodeBody returns the body as the event response's string: as it is
// when it is text, else base64 (marked). A JSON string must be valid UTF-8,
// and the front end decodes base64 back to bytes, so anything compressed,
// binary or not UTF-8 goes as base64.
func encodeBody(header http.Header, body []byte) (string, bool) {
	if len(body) == 0 {
		return "", false
	}
	if isText(header) && utf8.Valid(body) {
		return string(body), false
	}
	return base64.StdEncoding.EncodeToString(body), true
}

// isText reports whether a response is text by its headers: not
// content-encoded (gzip is bytes), and a text/* type or one of the
// structured-text types (JSON, XML, JavaScript, forms, and their +json and
// +xml suffixes). Without a Content-Type the body's UTF-8 validity decides.
func isText(header http.Header) bool {
	if ce := header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return false
	}
	ct := header.Get("Content-Type")
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	if strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml") {
		return true
	}
	return slices.Contains([]string{
		"application/json", "application/xml", "application/javascript",
		"application/ecmascript", "application/x-www-form-urlencoded",
		"application/x-ndjson", "application/graphql", "application/yaml",
	}, mt)
}
