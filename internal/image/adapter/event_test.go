package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRequestFromEvents(t *testing.T) {
	for _, tc := range []struct {
		name, event                          string
		method, uri, host, cookie, xff, body string
		accept                               []string
	}{{
		name: "function URL",
		event: `{"version":"2.0","rawPath":"/a%2Fb/c","rawQueryString":"x=1&x=2",
			"cookies":["s=1","t=2"],"headers":{"host":"fn.example","accept":"a/b, c/d","content-length":"99","connection":"close"},
			"requestContext":{"requestId":"r1","domainName":"d.example","http":{"method":"POST","sourceIp":"203.0.113.1"}},
			"body":"aGk=","isBase64Encoded":true}`,
		method: "POST", uri: "/a%2Fb/c?x=1&x=2", host: "fn.example", cookie: "s=1; t=2", xff: "203.0.113.1", body: "hi",
		accept: []string{"a/b, c/d"},
	}, {
		name: "HTTP API 2.0 with a forwarded-for of its own and no host header",
		event: `{"version":"2.0","rawPath":"/","headers":{"x-forwarded-for":"198.51.100.2","cookie":"a=0"},"cookies":["b=1"],
			"requestContext":{"domainName":"api.example","http":{"method":"GET","sourceIp":"203.0.113.1"}}}`,
		method: "GET", uri: "/", host: "api.example", cookie: "a=0; b=1", xff: "198.51.100.2, 203.0.113.1",
	}, {
		name: "function URL that already put the source IP last",
		event: `{"version":"2.0","rawPath":"/p","headers":{"x-forwarded-for":"203.0.113.1"},
			"requestContext":{"http":{"method":"GET","sourceIp":"203.0.113.1"}}}`,
		method: "GET", uri: "/p", xff: "203.0.113.1",
	}, {
		name: "REST API 1.0",
		event: `{"httpMethod":"PUT","path":"/a b","multiValueHeaders":{"Accept":["x/y","z/w"],"Cookie":["k=v"]},"headers":{"Accept":"z/w","Host":"rest.example"},
			"queryStringParameters":{"q":"2"},"multiValueQueryStringParameters":{"q":["1","2"],"e":["a&b"]},
			"requestContext":{"identity":{"sourceIp":"192.0.2.3"}},"body":"plain"}`,
		method: "PUT", uri: "/a%20b?e=a%26b&q=1&q=2", host: "rest.example", cookie: "k=v", xff: "192.0.2.3", body: "plain",
		accept: []string{"x/y", "z/w"},
	}, {
		name: "ALB target group with multi-value headers: path and query as the client sent them",
		event: `{"httpMethod":"GET","path":"/a%20b","multiValueQueryStringParameters":{"x":["foo%3Dbar","2"],"e":["1"]},
			"multiValueHeaders":{"host":["alb.example"],"x-forwarded-for":["198.51.100.7"],"cookie":["s=1"]},
			"requestContext":{"elb":{"targetGroupArn":"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/lfa/1"}},"body":"","isBase64Encoded":false}`,
		method: "GET", uri: "/a%20b?e=1&x=foo%3Dbar&x=2", host: "alb.example", cookie: "s=1", xff: "198.51.100.7",
	}, {
		name:   "REST API 1.0 with single-value query only",
		event:  `{"httpMethod":"GET","path":"/s","queryStringParameters":{"q":"1 2"},"requestContext":{"identity":{}}}`,
		method: "GET", uri: "/s?q=1+2",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := parseEvent([]byte(tc.event))
			if err != nil {
				t.Fatal(err)
			}
			req, err := ev.request(context.Background(), "http://127.0.0.1:1")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(req.Body)
			if req.Method != tc.method || req.URL.RequestURI() != tc.uri || req.Host != tc.host {
				t.Errorf("%s %s host %q; want %s %s host %q", req.Method, req.URL.RequestURI(), req.Host, tc.method, tc.uri, tc.host)
			}
			if got := req.Header.Get("Cookie"); got != tc.cookie {
				t.Errorf("Cookie %q; want %q", got, tc.cookie)
			}
			if got := req.Header.Get("X-Forwarded-For"); got != tc.xff {
				t.Errorf("X-Forwarded-For %q; want %q", got, tc.xff)
			}
			if string(body) != tc.body || req.ContentLength != int64(len(tc.body)) {
				t.Errorf("body %q (length %d); want %q", body, req.ContentLength, tc.body)
			}
			if tc.accept != nil && !slices.Equal(req.Header.Values("Accept"), tc.accept) {
				t.Errorf("Accept %q; want %q", req.Header.Values("Accept"), tc.accept)
			}
			if req.Header.Get("X-Forwarded-Proto") != "https" {
				t.Errorf("X-Forwarded-Proto %q; want https", req.Header.Get("X-Forwarded-Proto"))
			}
			for _, h := range []string{"Connection", "Content-Length", "Host"} {
				if v := req.Header.Get(h); v != "" {
					t.Errorf("%s header %q passed through", h, v)
				}
			}
		})
	}
}

func TestBadEvents(t *testing.T) {
	for name, ev := range map[string]string{
		"not JSON":      `{`,
		"not HTTP":      `{"Records":[{"eventSource":"aws:sqs"}]}`,
		"a direct call": `{"hello":"world"}`,
	} {
		if _, err := parseEvent([]byte(ev)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ev, err := parseEvent([]byte(`{"version":"2.0","rawPath":"/","body":"!!","isBase64Encoded":true,"requestContext":{"http":{"method":"POST"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ev.request(context.Background(), "http://127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "base64") {
		t.Errorf("a bad base64 body: %v; want an error saying so", err)
	}
}

func TestEncodeResponse(t *testing.T) {
	h := http.Header{}
	h.Add("Set-Cookie", "a=1")
	h.Add("Set-Cookie", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT")
	h.Add("Vary", "Accept")
	h.Add("Vary", "Cookie")
	h.Set("Content-Type", "image/png")
	h.Set("Connection", "keep-alive")
	png := []byte("\x89PNG\r\n\x1a\n")

	v2 := &event{Version: "2.0"}
	raw, err := v2.encodeResponse(200, h, png)
	if err != nil {
		t.Fatal(err)
	}
	var r2 response2
	if err := json.Unmarshal(raw, &r2); err != nil {
		t.Fatal(err)
	}
	got, _ := base64.StdEncoding.DecodeString(r2.Body)
	if r2.StatusCode != 200 || !r2.IsBase64Encoded || string(got) != string(png) {
		t.Errorf("2.0 binary body: %+v", r2)
	}
	if !slices.Equal(r2.Cookies, []string{"a=1", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT"}) || r2.Headers["Vary"] != "Accept, Cookie" {
		t.Errorf("2.0 cookies %q, Vary %q", r2.Cookies, r2.Headers["Vary"])
	}
	if _, ok := r2.Headers["Set-Cookie"]; ok {
		t.Error("2.0 response carries Set-Cookie in headers as well as cookies")
	}
	if _, ok := r2.Headers["Connection"]; ok {
		t.Error("a hop-by-hop header reached the response")
	}

	v1 := &event{HTTPMethod: "GET"}
	raw, err = v1.encodeResponse(302, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	var r1 response1
	if err := json.Unmarshal(raw, &r1); err != nil {
		t.Fatal(err)
	}
	if r1.StatusCode != 302 || len(r1.MultiValueHeaders["Set-Cookie"]) != 2 || r1.IsBase64Encoded || r1.Body != "" {
		t.Errorf("1.0 response: %+v", r1)
	}
}

func TestIsText(t *testing.T) {
	for ct, want := range map[string]bool{
		"text/html; charset=utf-8":          true,
		"application/json":                  true,
		"application/problem+json":          true,
		"image/svg+xml":                     true,
		"application/javascript":            true,
		"application/x-www-form-urlencoded": true,
		"":                                  true, // decided by UTF-8 validity
		"application/octet-stream":          false,
		"image/png":                         false,
		"application/pdf":                   false,
		"application/zip":                   false,
		"nonsense;;":                        false,
	} {
		h := http.Header{}
		if ct != "" {
			h.Set("Content-Type", ct)
		}
		if got := isText(h); got != want {
			t.Errorf("isText(%q) = %v; want %v", ct, got, want)
		}
	}
	h := http.Header{"Content-Type": {"text/plain"}, "Content-Encoding": {"br"}}
	if isText(h) {
		t.Error("a brotli-encoded text body counted as text")
	}
	if s, b64 := encodeBody(http.Header{"Content-Type": {"text/plain"}}, []byte{0xff, 0xfe}); !b64 || s != "//4=" {
		t.Errorf("invalid UTF-8 marked text: %q %v", s, b64)
	}
}

// invoke forwards one invocation as answer does for a buffered response
// and returns the payload it would post.
func (f *forwarder) invoke(ctx context.Context, inv *invocation) ([]byte, *lambdaError) {
	x, lerr := f.call(ctx, inv)
	if lerr != nil {
		return nil, lerr
	}
	defer x.close()
	return x.buffered()
}

// TestForwarder sends an invocation to an app and checks the payload,
// including an app that is gone and one that answers more than Lambda
// takes.
func TestForwarder(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Write(make([]byte, maxPayload+1))
		case "/mega":
			w.Write(make([]byte, maxPayloadALB+1)) // over an ALB's limit, within Lambda's
		case "/redirect":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		default:
			w.Header().Set("X-Trace", r.Header.Get("X-Amzn-Trace-Id"))
			w.Write([]byte("ok"))
		}
	}))
	defer app.Close()
	fw := newForwarder(app.URL)
	inv := func(path string) *invocation {
		return &invocation{id: "1", traceID: "Root=1-abc", deadline: time.Now().Add(time.Minute),
			payload: []byte(`{"version":"2.0","rawPath":"` + path + `","requestContext":{"http":{"method":"GET"}}}`)}
	}
	payload, lerr := fw.invoke(context.Background(), inv("/"))
	if lerr != nil {
		t.Fatal(lerr)
	}
	var r response2
	if err := json.Unmarshal(payload, &r); err != nil || r.Body != "ok" || r.Headers["X-Trace"] != "Root=1-abc" {
		t.Errorf("payload %s (%v)", payload, err)
	}
	if payload, lerr = fw.invoke(context.Background(), inv("/redirect")); lerr != nil || !strings.Contains(string(payload), `"statusCode":302`) {
		t.Errorf("a redirect was followed or failed: %s %v", payload, lerr)
	}
	if _, lerr = fw.invoke(context.Background(), inv("/big")); lerr == nil || lerr.Type != "Adapter.ResponseTooLarge" {
		t.Errorf("an answer over 6 MB: %v", lerr)
	}
	if _, lerr = fw.invoke(context.Background(), inv("/mega")); lerr != nil {
		t.Errorf("an answer over 1 MB through an HTTP API: %v", lerr)
	}
	alb := &invocation{id: "3", payload: []byte(`{"httpMethod":"GET","path":"/mega","requestContext":{"elb":{"targetGroupArn":"arn"}}}`)}
	if _, lerr = fw.invoke(context.Background(), alb); lerr == nil || lerr.Type != "Adapter.ResponseTooLarge" || !strings.Contains(lerr.Message, "Application Load Balancer") {
		t.Errorf("an answer over 1 MB through an ALB: %v", lerr)
	}
	if _, lerr = fw.invoke(context.Background(), &invocation{id: "2", payload: []byte(`{}`)}); lerr == nil || lerr.Type != "Adapter.InvalidEvent" {
		t.Errorf("a non-HTTP event: %v", lerr)
	}
	app.Close()
	if _, lerr = fw.invoke(context.Background(), inv("/")); lerr == nil || lerr.Type != "Adapter.AppUnreachable" {
		t.Errorf("the app gone: %v", lerr)
	}
}

// FuzzEvent feeds arbitrary payloads through decoding, the request and the
// response encoding: none may panic, and every response is valid JSON.
func FuzzEvent(f *testing.F) {
	f.Add([]byte(`{"version":"2.0","rawPath":"/x","rawQueryString":"a=1","cookies":["a=b"],"requestContext":{"http":{"method":"GET","sourceIp":"1.2.3.4"}}}`))
	f.Add([]byte(`{"httpMethod":"POST","path":"/y","multiValueQueryStringParameters":{"a":["1"]},"body":"eA==","isBase64Encoded":true}`))
	f.Add([]byte(`{"version":"2.0","rawPath":"//evil","requestContext":{"http":{"method":"G T"}}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := parseEvent(payload)
		if err != nil {
			return
		}
		req, err := ev.request(context.Background(), "http://127.0.0.1:1")
		if err == nil && (req.URL.Host != "127.0.0.1:1" || !strings.HasPrefix(req.URL.Path, "/")) {
			t.Fatalf("request escaped the app: %s", req.URL)
		}
		out, err := ev.encodeResponse(200, http.Header{"Content-Type": {"text/plain"}}, payload)
		if err != nil || !json.Valid(out) {
			t.Fatalf("response %q: %v", out, err)
		}
	})
}
