package lambdahttp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// echo answers with what it received, so tests can check the conversion.
func echo(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c, _ := r.Cookie("session")
	sess := ""
	if c != nil {
		sess = c.Value
	}
	switch r.URL.Path {
	case "/binary":
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte{0x89, 'P', 'N', 'G', 0xff, 0x00})
		return
	case "/redirect":
		http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
		http.SetCookie(w, &http.Cookie{Name: "b", Value: "2"})
		w.Header().Set("Location", "https://example.com/")
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Add("X-Multi", "one")
	w.Header().Add("X-Multi", "two")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]string{
		"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery,
		"body": string(body), "host": r.Host, "session": sess,
		"proto": r.Header.Get("X-Forwarded-Proto"), "request_id": r.Header.Get("X-Request-Id"),
		"content_length": r.Header.Get("Content-Length"),
	})
}

func loadEvent(t *testing.T, name string) events.LambdaFunctionURLRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.LambdaFunctionURLRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestInvoke(t *testing.T) {
	a := &Adapter{Handler: http.HandlerFunc(echo)}
	tests := []struct {
		name  string
		event string
		edit  func(*events.LambdaFunctionURLRequest)
		want  map[string]string
	}{
		{
			name: "function URL POST with JSON body", event: "function_url.json",
			want: map[string]string{"method": "POST", "path": "/api/links", "query": "a=1&b=2",
				"body": `{"url":"https://example.com"}`, "host": "abc123.lambda-url.us-east-1.on.aws",
				"session": "xyz", "proto": "https", "request_id": "req-1"},
		},
		{
			name: "HTTP API v2 event with base64 body", event: "apigw_v2.json",
			want: map[string]string{"method": "POST", "path": "/", "query": "",
				"body": "url=https%3A%2F%2Fexample.com", "host": "api.example.com",
				"session": "", "proto": "https", "request_id": "apigw-req"},
		},
		{
			name: "caller's request id wins", event: "function_url.json",
			edit: func(ev *events.LambdaFunctionURLRequest) { ev.Headers["x-request-id"] = "mine" },
			want: map[string]string{"method": "POST", "path": "/api/links", "query": "a=1&b=2",
				"body": `{"url":"https://example.com"}`, "host": "abc123.lambda-url.us-east-1.on.aws",
				"session": "xyz", "proto": "https", "request_id": "mine"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := loadEvent(t, tt.event)
			if tt.edit != nil {
				tt.edit(&ev)
			}
			resp, err := a.Invoke(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusCreated || resp.IsBase64Encoded {
				t.Fatalf("status %d base64 %v, want 201 text", resp.StatusCode, resp.IsBase64Encoded)
			}
			if got := resp.Headers["X-Multi"]; got != "one, two" {
				t.Errorf("X-Multi = %q, want joined values", got)
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
				t.Fatalf("body %q: %v", resp.Body, err)
			}
			delete(got, "content_length")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("handler saw\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

func TestInvokeBinaryAndCookies(t *testing.T) {
	a := &Adapter{Handler: http.HandlerFunc(echo)}
	ev := loadEvent(t, "function_url.json")
	ev.RequestContext.HTTP.Method, ev.RawPath, ev.Body = "GET", "/binary", ""
	resp, err := a.Invoke(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x89, 'P', 'N', 'G', 0xff, 0x00}
	got, err := base64.StdEncoding.DecodeString(resp.Body)
	if !resp.IsBase64Encoded || err != nil || string(got) != string(want) {
		t.Errorf("binary body: base64=%v body=%q err=%v", resp.IsBase64Encoded, resp.Body, err)
	}

	ev.RawPath = "/redirect"
	resp, err = a.Invoke(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusFound || resp.Headers["Location"] != "https://example.com/" {
		t.Errorf("redirect: %d %v", resp.StatusCode, resp.Headers)
	}
	if !reflect.DeepEqual(resp.Cookies, []string{"a=1", "b=2"}) {
		t.Errorf("cookies = %q, want both Set-Cookie values", resp.Cookies)
	}
	if _, ok := resp.Headers["Set-Cookie"]; ok {
		t.Error("Set-Cookie must travel in cookies, not headers")
	}
	if resp.Body != "" || resp.IsBase64Encoded {
		t.Errorf("empty body came back as %q base64=%v", resp.Body, resp.IsBase64Encoded)
	}
}

func TestInvokeRunsAfter(t *testing.T) {
	calls := 0
	a := &Adapter{Handler: http.HandlerFunc(echo), After: func(context.Context) error {
		calls++
		return errors.New("flush failed")
	}}
	resp, err := a.Invoke(context.Background(), loadEvent(t, "function_url.json"))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("after's failure must not change the response: %d %v", resp.StatusCode, err)
	}
	if calls != 1 {
		t.Errorf("After called %d times, want 1", calls)
	}
}

func TestInvokeBadEvents(t *testing.T) {
	a := &Adapter{Handler: http.HandlerFunc(echo)}
	tests := []struct {
		name string
		edit func(*events.LambdaFunctionURLRequest)
	}{
		{"no method", func(ev *events.LambdaFunctionURLRequest) { ev.RequestContext.HTTP.Method = "" }},
		{"bad base64", func(ev *events.LambdaFunctionURLRequest) { ev.IsBase64Encoded, ev.Body = true, "!!!" }},
		{"bad method", func(ev *events.LambdaFunctionURLRequest) { ev.RequestContext.HTTP.Method = "GE T" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := loadEvent(t, "function_url.json")
			tt.edit(&ev)
			resp, err := a.Invoke(context.Background(), ev)
			if err != nil || resp.StatusCode != http.StatusBadRequest {
				t.Errorf("got %d %v, want 400 and no error", resp.StatusCode, err)
			}
		})
	}
}
