//go:build linux

package image

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/ddbtest"
	"github.com/lowfare/lowfare/internal/links/store"
	"github.com/lowfare/lowfare/internal/spec"
)

// albResponse is what a function answers an ALB Lambda target group with
// multi-value headers on (the 1.0 shape, every header a list).
type albResponse struct {
	StatusCode        int                 `json:"statusCode"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// albEvent is an Application Load Balancer's event for a Lambda target
// group with lambda.multi_value_headers.enabled (what the stack sets on
// the app function's target group): query parameters as the client sent
// them, every header a list.
func albEvent(method, path string, query, headers map[string][]string, body []byte) map[string]any {
	ev := map[string]any{
		"requestContext":                  map[string]any{"elb": map[string]any{"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/lfa-links/0123456789abcdef"}},
		"httpMethod":                      method,
		"path":                            path,
		"multiValueQueryStringParameters": query,
		"multiValueHeaders":               headers,
		"body":                            "",
		"isBase64Encoded":                 false,
	}
	if body != nil {
		ev["body"] = base64.StdEncoding.EncodeToString(body)
		ev["isBase64Encoded"] = true
	}
	return ev
}

func invokeALB(t *testing.T, url string, event map[string]any) albResponse {
	t.Helper()
	raw := invokeRaw(t, url, event)
	var r albResponse
	if err := json.Unmarshal(raw, &r); err != nil || r.StatusCode == 0 {
		t.Fatalf("not an ALB response (%v): %s", err, raw)
	}
	return r
}

// asIdleAppFunction unpacks an ECS image built with the adapter riding
// along and starts it the way service.idle serve: app's function does:
// ImageConfig.EntryPoint [adapter, /app/<binary>] (internal/stack idle.go).
func asIdleAppFunction(t *testing.T, b *Built, bin string, env ...string) string {
	t.Helper()
	assertConfig(t, b.Image, b.Arch, bin, false) // ECS still starts the app itself
	r := unpack(t, b.Image)
	r.config.Config.Entrypoint = []string{spec.LambdaAdapter, BinDir + "/" + bin}
	url, _ := underRIE(t, r, env...)
	return url
}

// TestIdleAppFunctionUnderRIE: the function that serves while an idle
// service sleeps (serve: app) answers with the apps' own responses, from
// the ECS image, behind an HTTP API (payload 2.0) and behind an ALB
// (multi-value 1.0): guestbook's entries, links' form post (its
// recent-links cookie, its redirect) and a redirect whose query string
// arrives still encoded, as a load balancer sends it.
func TestIdleAppFunctionUnderRIE(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds guestbook, links and the Lambda Runtime Interface Emulator")
	}
	db := ddbtest.Minidyn(t)
	awsEnv := func(table string) []string {
		return []string{"TABLE_NAME=" + table, "AWS_ENDPOINT_URL_DYNAMODB=" + db.Endpoint, "AWS_REGION=us-east-1",
			"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local"}
	}

	t.Run("guestbook", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS(guestbookDir)); err != nil {
			t.Fatal(err)
		}
		b, err := Build(testCtx(t), Options{Dir: dir, Package: ".", Arch: hostArch(t), Revision: "test", LambdaAdapter: true})
		if err != nil {
			t.Fatal(err)
		}
		url := asIdleAppFunction(t, b, spec.Service{Image: "."}.BinaryName(), awsEnv(ddbtest.NewTable(t, db, store.CreateTable))...)

		post := invokeALB(t, url, albEvent("POST", "/entries", nil,
			map[string][]string{"content-type": {"application/json"}, "host": {"lb.example"}, "x-forwarded-proto": {"https"}},
			[]byte(`{"name":"Ada","message":"asleep, answered anyway"}`)))
		if post.StatusCode != 201 || !slices.Equal(post.MultiValueHeaders["Content-Type"], []string{"application/json"}) {
			t.Fatalf("ALB POST /entries: %d %v %q", post.StatusCode, post.MultiValueHeaders, post.Body)
		}
		get := invoke2(t, url, functionURLEvent("GET", "/entries", "", map[string]string{"accept": "application/json"}, nil, nil))
		var entries []struct{ Name, Message string }
		if err := json.Unmarshal([]byte(get.Body), &entries); err != nil || get.StatusCode != 200 {
			t.Fatalf("HTTP API GET /entries: %d %q: %v", get.StatusCode, get.Body, err)
		}
		if len(entries) != 1 || entries[0].Message != "asleep, answered anyway" {
			t.Errorf("GET /entries: %+v; want the entry posted through the ALB", entries)
		}
	})

	t.Run("what arrives behind an ALB", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS(webappDir)); err != nil {
			t.Fatal(err)
		}
		b, err := Build(testCtx(t), Options{Dir: dir, Package: ".", Arch: hostArch(t), Revision: "test", LambdaAdapter: true})
		if err != nil {
			t.Fatal(err)
		}
		url := asIdleAppFunction(t, b, spec.Service{Image: "."}.BinaryName())
		r := invokeALB(t, url, albEvent("GET", "/echo", map[string][]string{"x": {"foo%3Dbar", "2"}, "q": {"a%20b"}},
			map[string][]string{"host": {"lb.example"}, "x-forwarded-for": {"198.51.100.7"}, "x-forwarded-proto": {"https"}}, nil))
		var e echo
		if err := json.Unmarshal([]byte(r.Body), &e); err != nil || r.StatusCode/100 != 2 {
			t.Fatalf("ALB GET /echo: %d %q: %v", r.StatusCode, r.Body, err)
		}
		// Re-encoding the load balancer's still-encoded values would give
		// foo%253Dbar.
		if e.Path != "/echo" || e.RawQuery != "q=a%20b&x=foo%3Dbar&x=2" || e.Host != "lb.example" || e.XForwardedFor != "198.51.100.7" || e.XForwardedProto != "https" {
			t.Errorf("the app saw %+v", e)
		}
	})

	t.Run("links", func(t *testing.T) {
		root, err := filepath.Abs("../..")
		if err != nil {
			t.Fatal(err)
		}
		b, err := Build(testCtx(t), Options{Dir: root, Package: "./cmd/links", Arch: hostArch(t), Revision: "test", LambdaAdapter: true})
		if err != nil {
			t.Fatal(err)
		}
		url := asIdleAppFunction(t, b, "links", awsEnv(ddbtest.NewTable(t, db, store.CreateTable))...)

		// HTTP API: the form post creates the link, the app's 303 and its
		// recent-links cookie come back.
		form := []byte("url=https%3A%2F%2Fexample.com%2Fidle%3Fq%3D1&slug=asleep")
		got := invoke2(t, url, functionURLEvent("POST", "/", "",
			map[string]string{"content-type": "application/x-www-form-urlencoded", "host": "api.example"}, nil, form))
		if got.StatusCode != 303 || got.Headers["Location"] != "/s/asleep" {
			t.Fatalf("HTTP API form post: %d %v %q", got.StatusCode, got.Headers, got.Body)
		}
		if len(got.Cookies) != 1 || !strings.Contains(got.Cookies[0], "asleep:") || !strings.Contains(got.Cookies[0], "HttpOnly") {
			t.Errorf("HTTP API form post: cookies %q, want links' recent-links cookie", got.Cookies)
		}

		// ALB: a second link, the cookie in multiValueHeaders.
		form = []byte("url=https%3A%2F%2Fexample.com%2Falb&slug=asleep2")
		alb := invokeALB(t, url, albEvent("POST", "/", nil,
			map[string][]string{"content-type": {"application/x-www-form-urlencoded"}, "host": {"lb.example"}, "cookie": {strings.SplitN(got.Cookies[0], ";", 2)[0]}},
			form))
		if alb.StatusCode != 303 || !slices.Equal(alb.MultiValueHeaders["Location"], []string{"/s/asleep2"}) {
			t.Fatalf("ALB form post: %d %v %q", alb.StatusCode, alb.MultiValueHeaders, alb.Body)
		}
		if c := alb.MultiValueHeaders["Set-Cookie"]; len(c) != 1 || !strings.Contains(c[0], "asleep2:") || !strings.Contains(c[0], "asleep:") {
			t.Errorf("ALB form post: Set-Cookie %q, want both links in the recent-links cookie", c)
		}

		// ALB: the redirect, with a query string the load balancer left
		// encoded; the app still redirects (302) to the target.
		redirect := invokeALB(t, url, albEvent("GET", "/asleep", map[string][]string{"ref": {"a%3Db"}}, map[string][]string{"host": {"lb.example"}}, nil))
		if redirect.StatusCode != 302 || !slices.Equal(redirect.MultiValueHeaders["Location"], []string{"https://example.com/idle?q=1"}) {
			t.Errorf("ALB redirect: %d %v", redirect.StatusCode, redirect.MultiValueHeaders)
		}
	})
}
