package stack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/spec"
)

// The serverless function reserves service.concurrency, so a public URL
// cannot start instances up to the account's limit; the idle function of
// serve: app does not, since it answers only while the service sleeps.
func TestServerlessReservesConcurrency(t *testing.T) {
	for _, c := range []struct {
		name string
		set  int // 0 keeps the default, -1 writes 0
		want float64
	}{
		{"default", 0, spec.DefaultConcurrency},
		{"set", 25, 25},
		{"none", -1, 0}, // concurrency: 0, no reservation
	} {
		t.Run(c.name, func(t *testing.T) {
			s := spec.Default()
			s.Profile, s.Ingress.Kind = spec.ProfileServerless, spec.IngressURL
			switch {
			case c.set > 0:
				s.Service.Concurrency = c.set
			case c.set < 0:
				s.Service.Concurrency = 0
			}
			fn := resourcesOfType(generic(t, build(t, s).Main), "AWS::Lambda::Function")["Function"]
			v, has := fn["ReservedConcurrentExecutions"]
			if got, _ := v.(float64); got != c.want || has != (c.want > 0) {
				t.Errorf("ReservedConcurrentExecutions %v, want %v", fn["ReservedConcurrentExecutions"], c.want)
			}
		})
	}
	s := spec.Default()
	s.Service.Idle = &spec.Idle{After: "15m", Serve: spec.ServeApp}
	fns := resourcesOfType(generic(t, build(t, s).Main), "AWS::Lambda::Function")
	if _, ok := fns["AppFunction"]; !ok {
		t.Fatal("idle serve: app made no AppFunction")
	}
	for id, fn := range fns {
		if v, ok := fn["ReservedConcurrentExecutions"]; ok {
			t.Errorf("%s (profile free) reserves concurrency %v", id, v)
		}
	}
}

// A function URL in front of an image lowfare builds streams (InvokeMode
// RESPONSE_STREAM, and the adapter is told so); an HTTP API cannot, an
// image of the user's own keeps BUFFERED, and the idle function of serve:
// app (behind an ALB or an HTTP API) never streams.
func TestFunctionURLStreams(t *testing.T) {
	for _, c := range []struct {
		name    string
		ingress string
		image   string
		stream  bool
	}{
		{"url, built image", spec.IngressURL, ".", true},
		{"url, package below", spec.IngressURL, "./cmd/server", true},
		{"url, image reference", spec.IngressURL, "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v1", false},
		{"apigw", spec.IngressAPIGW, ".", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := spec.Default()
			s.Profile, s.Ingress.Kind, s.Service.Image = spec.ProfileServerless, c.ingress, c.image
			if got := StreamsResponses(s); got != c.stream {
				t.Errorf("StreamsResponses = %v, want %v", got, c.stream)
			}
			main := generic(t, build(t, s).Main)
			fn := resourcesOfType(main, "AWS::Lambda::Function")["Function"]
			vars := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
			if got, want := vars[InvokeModeEnv], map[bool]any{true: InvokeModeStream, false: nil}[c.stream]; got != want {
				t.Errorf("%s = %v, want %v", InvokeModeEnv, got, want)
			}
			url, hasURL := resourcesOfType(main, "AWS::Lambda::Url")["FunctionUrl"]
			if hasURL != (c.ingress == spec.IngressURL) {
				t.Fatalf("function URL present %v with ingress %s", hasURL, c.ingress)
			}
			if got, want := url["InvokeMode"], map[bool]any{true: InvokeModeStream, false: nil}[c.stream]; hasURL && got != want {
				t.Errorf("InvokeMode %v, want %v", got, want)
			}
		})
	}
	s := spec.Default()
	s.Service.Idle = &spec.Idle{After: "15m", Serve: spec.ServeApp}
	for id, fn := range resourcesOfType(generic(t, build(t, s).Main), "AWS::Lambda::Function") {
		if v := fn["Environment"].(map[string]any)["Variables"].(map[string]any)[InvokeModeEnv]; v != nil {
			t.Errorf("%s (serve: app) is told to stream: %v", id, v)
		}
	}
	// The adapter reads the same name and value (it imports nothing of
	// lowfare's, so the names are written twice).
	src, err := os.ReadFile(filepath.Join("..", "image", "adapter", "stream.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"` + InvokeModeEnv + `"`, `"` + InvokeModeStream + `"`} {
		if !strings.Contains(string(src), want) {
			t.Errorf("the adapter (internal/image/adapter/stream.go) does not name %s", want)
		}
	}
}
