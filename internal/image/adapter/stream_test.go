package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Streaming is tested against a Runtime API double that enforces the
// documented wire format, not under the Runtime Interface Emulator: the
// RIE this repository runs (internal/image rieVersion) accepts
// "Lambda-Runtime-Function-Response-Mode: streaming", but on its invoke
// path rapidcore.Server.sendResponseUnsafe reads the whole response
// (io.ReadAll) before writing it to the caller and drops the trailers, so
// under it a streamed and a buffered answer look alike and a mid-stream
// error is invisible (aws/aws-lambda-runtime-interface-emulator#179, open,
// would change that). The double checks what "Implementing response
// streaming in a custom runtime" asks (stream.go cites it): the mode
// header, chunked transfer encoding, the trailers declared up front, the
// connection closed after; and what a function URL reads: the JSON
// prelude, eight NUL bytes, then the body. It reads the body as it
// arrives, so it can tell whether the first server-sent event came while
// the app was still answering.

// streamPost is what the double saw of one /response post.
type streamPost struct {
	prelude    prelude
	body       []byte
	trailer    http.Header
	firstEvent bool // the first SSE event arrived before the app finished
}

// runtimeDouble is a Lambda Runtime API with one invocation.
type runtimeDouble struct {
	t        *testing.T
	event    []byte
	posts    chan streamPost  // /response, streamed
	buffered chan []byte      // /response, buffered
	failures chan lambdaError // /error
	onEvent  func()           // called when the first "\n\n" arrives
	finished func() bool      // whether the app finished its answer
	srv      *httptest.Server
}

const streamInvocationID = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"

func newRuntimeDouble(t *testing.T, event []byte) *runtimeDouble {
	d := &runtimeDouble{t: t, event: event, posts: make(chan streamPost, 1), buffered: make(chan []byte, 1), failures: make(chan lambdaError, 1),
		onEvent: func() {}, finished: func() bool { return false }}
	d.srv = httptest.NewServer(http.HandlerFunc(d.serve))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *runtimeDouble) client() *runtimeClient {
	return newRuntimeClient(strings.TrimPrefix(d.srv.URL, "http://"))
}

func (d *runtimeDouble) serve(w http.ResponseWriter, r *http.Request) {
	inv := runtimeAPI + "invocation/" + streamInvocationID
	switch {
	case r.Method == http.MethodGet && r.URL.Path == runtimeAPI+"invocation/next":
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", streamInvocationID)
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
		w.Write(d.event)
	case r.Method == http.MethodPost && r.URL.Path == inv+"/error":
		var e lambdaError
		if err := json.NewDecoder(r.Body).Decode(&e); err != nil || r.Header.Get(trailerErrorType) != e.Type {
			d.refuse(w, "an error document with its type in Lambda-Runtime-Function-Error-Type: %v", err)
			return
		}
		d.failures <- e
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPost && r.URL.Path == inv+"/response":
		if r.Header.Get(headerResponseMode) == "" {
			b, _ := io.ReadAll(r.Body)
			d.buffered <- b
			w.WriteHeader(http.StatusAccepted)
			return
		}
		d.stream(w, r)
	default:
		d.refuse(w, "no such Runtime API call: %s %s", r.Method, r.URL.Path)
	}
}

// refuse answers a call the Runtime API would not take and fails the test.
func (d *runtimeDouble) refuse(w http.ResponseWriter, format string, a ...any) {
	d.t.Errorf("runtime API double: "+format, a...)
	http.Error(w, `{"errorMessage":"refused by the test double","errorType":"InvalidRequest"}`, http.StatusBadRequest)
}

// stream takes a streamed /response the way the docs describe it.
func (d *runtimeDouble) stream(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Header.Get(headerResponseMode) != responseModeStreaming:
		// The RIE refuses any other mode: InvalidFunctionResponseMode.
		d.refuse(w, "%s %q, want %q", headerResponseMode, r.Header.Get(headerResponseMode), responseModeStreaming)
		return
	case !slices.Equal(r.TransferEncoding, []string{"chunked"}) || r.ContentLength != -1:
		d.refuse(w, "Transfer-Encoding %v, Content-Length %d: want chunked, no length", r.TransferEncoding, r.ContentLength)
		return
	case r.Header.Get("Content-Type") != contentTypeHTTPIntegration:
		d.refuse(w, "Content-Type %q, want %q", r.Header.Get("Content-Type"), contentTypeHTTPIntegration)
		return
	case !hasKeys(r.Trailer, trailerErrorType, trailerErrorBody):
		// Trailers must be declared in the Trailer header before the body.
		d.refuse(w, "Trailer declares %v, want %s and %s", r.Trailer, trailerErrorType, trailerErrorBody)
		return
	case !r.Close:
		d.refuse(w, "the connection stays open (no Connection: close); the runtime must close it after the response")
		return
	}
	var p streamPost
	br := bufio.NewReader(r.Body)
	// The prelude: JSON up to the first NUL, then exactly eight NULs.
	raw, err := br.ReadBytes(0)
	if err != nil {
		d.refuse(w, "no NUL after the prelude: %q (%v)", raw, err)
		return
	}
	if err := json.Unmarshal(raw[:len(raw)-1], &p.prelude); err != nil || p.prelude.StatusCode == 0 {
		d.refuse(w, "the prelude %q is not {statusCode, headers, cookies}: %v", raw, err)
		return
	}
	rest := make([]byte, len(preludeDelimiter)-1)
	if _, err := io.ReadFull(br, rest); err != nil || !bytes.Equal(rest, preludeDelimiter[1:]) {
		d.refuse(w, "the prelude ends in %q, want eight NUL bytes", append([]byte{0}, rest...))
		return
	}
	// The body, as it arrives.
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			break
		}
		if err != nil {
			d.refuse(w, "reading the streamed body: %v (invalid chunked encoding?)", err)
			return
		}
		p.body = append(p.body, b)
		if !p.firstEvent && bytes.HasSuffix(p.body, []byte("\n\n")) && !bytes.Contains(p.body[:len(p.body)-1], []byte("\n\n")) {
			p.firstEvent = !d.finished()
			d.onEvent()
		}
	}
	p.trailer = r.Trailer.Clone()
	if typ := r.Trailer.Get(trailerErrorType); typ != "" {
		doc, err := base64.StdEncoding.DecodeString(r.Trailer.Get(trailerErrorBody))
		var e lambdaError
		if err != nil || json.Unmarshal(doc, &e) != nil || e.Type != typ {
			d.refuse(w, "%s %q: want the base64 of an error document of that type", trailerErrorBody, r.Trailer.Get(trailerErrorBody))
			return
		}
	}
	d.posts <- p
	w.WriteHeader(http.StatusAccepted)
}

// streamed is the invocation's streamed response; a buffered one or an
// error fails the test.
func (d *runtimeDouble) streamed() streamPost {
	d.t.Helper()
	select {
	case p := <-d.posts:
		return p
	case b := <-d.buffered:
		d.t.Fatalf("a buffered response where a stream was due: %.200s", b)
	case e := <-d.failures:
		d.t.Fatalf("an invocation error where a stream was due: %+v", e)
	default:
		d.t.Fatal("nothing was posted")
	}
	return streamPost{}
}

func hasKeys(h http.Header, keys ...string) bool {
	for _, k := range keys {
		if _, ok := h[k]; !ok {
			return false
		}
	}
	return true
}

// urlEvent is a function URL event (payload 2.0) for path.
func urlEvent(path string) []byte {
	return []byte(`{"version":"2.0","rawPath":"` + path + `","headers":{"accept":"text/event-stream"},"requestContext":{"domainName":"abc.lambda-url.us-east-1.on.aws","http":{"method":"GET","sourceIp":"203.0.113.9"}}}`)
}

// runOnce serves one invocation from the double through the adapter's
// own loop step (next, then answer).
func runOnce(t *testing.T, d *runtimeDouble, fw *forwarder) {
	t.Helper()
	rt := d.client()
	inv, err := rt.next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := answer(context.Background(), rt, fw, inv, t.Logf); err != nil {
		t.Fatal(err)
	}
}

// TestStreamsServerSentEvents: with the function URL streaming, an app's
// server-sent events reach the Runtime API as the app flushes them: the
// first event arrives while the app is still answering (it sends the
// second only once the first arrived), under the documented framing, with
// its status, headers and cookies in the prelude.
func TestStreamsServerSentEvents(t *testing.T) {
	var finished atomic.Bool
	release := make(chan struct{})
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer finished.Store(true)
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Add("Set-Cookie", "a=1; Path=/")
		w.Header().Add("Set-Cookie", "b=2; Expires=Wed, 09 Jun 2027 10:18:14 GMT")
		w.Header().Set("X-Forwarded-For-Seen", r.Header.Get("X-Forwarded-For"))
		io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		// A buffering adapter never delivers the first event before
		// the app returns; the wait ends anyway so the test fails
		// instead of hanging.
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		io.WriteString(w, "data: two\n\n")
	}))
	defer app.Close()
	d := newRuntimeDouble(t, urlEvent("/events"))
	d.onEvent = func() { close(release) }
	d.finished = finished.Load
	fw := newForwarder(app.URL)
	fw.stream = true
	runOnce(t, d, fw)
	p := d.streamed()
	if !p.firstEvent {
		t.Error("the first event reached the Runtime API only after the app finished: the answer was buffered")
	}
	if got := string(p.body); got != "data: one\n\ndata: two\n\n" {
		t.Errorf("body %q", got)
	}
	want := prelude{StatusCode: 200, Cookies: []string{"a=1; Path=/", "b=2; Expires=Wed, 09 Jun 2027 10:18:14 GMT"}}
	if p.prelude.StatusCode != want.StatusCode || !slices.Equal(p.prelude.Cookies, want.Cookies) ||
		p.prelude.Headers["Content-Type"] != "text/event-stream" || p.prelude.Headers["Cache-Control"] != "no-cache" ||
		p.prelude.Headers["X-Forwarded-For-Seen"] != "203.0.113.9" {
		t.Errorf("prelude %+v", p.prelude)
	}
	for _, h := range []string{"Set-Cookie", "Transfer-Encoding", "Content-Length"} {
		if _, ok := p.prelude.Headers[h]; ok {
			t.Errorf("prelude headers carry %s: %v", h, p.prelude.Headers)
		}
	}
	if p.trailer.Get(trailerErrorType) != "" {
		t.Errorf("an answer that completed reported an error: %v", p.trailer)
	}
}

// TestStreamCases: bodies go raw (binary, no base64, no 6 MB cap), an
// app that breaks off midway is reported in the trailers, an app that
// cannot be reached before anything was sent goes to /error, and events
// that cannot stream (an ALB's, or any when the URL does not stream) stay
// buffered.
func TestStreamCases(t *testing.T) {
	binary := append([]byte{0, 1, 2, 0xff, 0, 0, 0, 0, 0, 0, 0, 0}, bytes.Repeat([]byte{0xfe}, maxPayload)...)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/binary":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.WriteHeader(http.StatusCreated)
			w.Write(binary)
		case "/broken":
			// Promises 1000 bytes, sends 5 and drops the connection.
			w.Header().Set("Content-Length", "1000")
			w.Write([]byte("hello"))
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Write([]byte("ok"))
		}
	}))
	defer app.Close()
	alb := []byte(`{"httpMethod":"GET","path":"/","requestContext":{"elb":{"targetGroupArn":"arn"}}}`)
	httpAPI := []byte(`{"version":"2.0","routeKey":"$default","rawPath":"/","requestContext":{"apiId":"abc123","domainName":"abc123.execute-api.us-east-1.amazonaws.com","http":{"method":"GET"}}}`)

	t.Run("binary", func(t *testing.T) {
		d := newRuntimeDouble(t, urlEvent("/binary"))
		fw := newForwarder(app.URL)
		fw.stream = true
		runOnce(t, d, fw)
		p := d.streamed()
		if p.prelude.StatusCode != http.StatusCreated || !bytes.Equal(p.body, binary) {
			t.Errorf("status %d, %d body bytes (want %d, as sent)", p.prelude.StatusCode, len(p.body), len(binary))
		}
	})
	t.Run("empty", func(t *testing.T) {
		d := newRuntimeDouble(t, urlEvent("/empty"))
		fw := newForwarder(app.URL)
		fw.stream = true
		runOnce(t, d, fw)
		if p := d.streamed(); p.prelude.StatusCode != http.StatusNoContent || len(p.body) != 0 {
			t.Errorf("status %d, body %q", p.prelude.StatusCode, p.body)
		}
	})
	t.Run("broken off", func(t *testing.T) {
		d := newRuntimeDouble(t, urlEvent("/broken"))
		fw := newForwarder(app.URL)
		fw.stream = true
		runOnce(t, d, fw)
		p := d.streamed()
		if string(p.body) != "hello" || p.trailer.Get(trailerErrorType) != "Adapter.ResponseInterrupted" {
			t.Errorf("body %q, trailers %v", p.body, p.trailer)
		}
		doc, _ := base64.StdEncoding.DecodeString(p.trailer.Get(trailerErrorBody))
		if !strings.Contains(string(doc), "GET /broken") || !strings.Contains(string(doc), "after 5 bytes") {
			t.Errorf("error body %s", doc)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close()
		d := newRuntimeDouble(t, urlEvent("/"))
		fw := newForwarder(gone.URL)
		fw.stream = true
		runOnce(t, d, fw)
		select {
		case e := <-d.failures:
			if e.Type != "Adapter.AppUnreachable" {
				t.Errorf("error %+v", e)
			}
		default:
			t.Error("an unreachable app was not reported to /error")
		}
	})
	for _, c := range []struct {
		name   string
		event  []byte
		stream bool
	}{
		{"alb event", alb, true},
		{"http api event", httpAPI, true},
		{"url not streaming", urlEvent("/"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newRuntimeDouble(t, c.event)
			fw := newForwarder(app.URL)
			fw.stream = c.stream
			runOnce(t, d, fw)
			select {
			case b := <-d.buffered:
				if !json.Valid(b) || !bytes.Contains(b, []byte(`"statusCode":200`)) {
					t.Errorf("buffered payload %s", b)
				}
			default:
				t.Error("no buffered response")
			}
		})
	}
}
