package links

import (
	"context"
	"encoding/base64"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lowfare/lowfare/internal/links/lambdahttp"
	"github.com/lowfare/lowfare/internal/links/store"
)

// TestLambdaAdapter serves the real handler and store through the Lambda
// adapter, the way cmd/links does under AWS_LAMBDA_RUNTIME_API: a form
// post with a base64 body, a redirect, and a click flushed before the
// invocation returns (Lambda freezes the process afterwards).
func TestLambdaAdapter(t *testing.T) {
	s := newTestService(t, Config{})
	a := &lambdahttp.Adapter{Handler: s.h, After: s.st.Flush}
	ctx := context.Background()
	event := func(method, path, body string) events.LambdaFunctionURLRequest {
		return events.LambdaFunctionURLRequest{
			Version: "2.0", RawPath: path,
			Headers:         map[string]string{"content-type": "application/x-www-form-urlencoded", "host": "fn.lambda-url.us-east-1.on.aws"},
			Body:            base64.StdEncoding.EncodeToString([]byte(body)),
			IsBase64Encoded: true,
			RequestContext: events.LambdaFunctionURLRequestContext{
				RequestID: "lambda-req", DomainName: "fn.lambda-url.us-east-1.on.aws",
				HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: method, Path: path},
			},
		}
	}
	resp, err := a.Invoke(ctx, event("POST", "/", url.Values{"url": {"https://example.com/l"}, "slug": {"lambda"}}.Encode()))
	if err != nil || resp.StatusCode != 303 || resp.Headers["Location"] != "/s/lambda" {
		t.Fatalf("form post: %d %v %v", resp.StatusCode, resp.Headers, err)
	}
	if resp.Headers["X-Request-Id"] != "lambda-req" {
		t.Errorf("request id %q, want Lambda's", resp.Headers["X-Request-Id"])
	}
	resp, err = a.Invoke(ctx, event("GET", "/lambda", ""))
	if err != nil || resp.StatusCode != 302 || resp.Headers["Location"] != "https://example.com/l" {
		t.Fatalf("redirect: %d %v %v", resp.StatusCode, resp.Headers, err)
	}
	// No explicit flush here: the adapter's After already wrote the click.
	// It is read through a second store, whose Stats cannot count the
	// first one's buffered clicks: only what reached the table.
	fresh := store.New(s.ddb, s.table, store.Options{FlushInterval: time.Hour})
	t.Cleanup(func() { fresh.Close(context.Background()) })
	st, err := fresh.Stats(ctx, "lambda", s.now(), 1)
	if err != nil || st.Total != 1 {
		t.Errorf("clicks in the table after the invocation: %d %v, want 1", st.Total, err)
	}
}
