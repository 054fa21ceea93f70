package cli

import (
	"fmt"
	"strings"

	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// What Lambda cannot do, said before a deploy: an app served by Lambda
// (profile serverless, or service.idle serve: app while the service
// sleeps) meets limits an app on ECS does not. The figures, from AWS's
// pages:
//
//   - "Invocation payload (request and response): 6 MB each for request
//     and response (synchronous)", and for a streamed response "200 MB",
//     "Uncapped for the first 6 MB of your function's response. For
//     responses larger than 6 MB, 2MBps for the remainder"
//     (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html,
//     https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html).
//     The second page also warns that a stream whose client went away is
//     not stopped and is billed for the function's whole run.
//     A binary body travels base64 inside the JSON event or response,
//     which adds a third: about 4.5 MB of binary in 6 MB.
//   - A function URL waits for the function's own timeout (service.timeout,
//     up to 900 s); an HTTP API gives up earlier: "Maximum integration
//     timeout: 30 seconds", not adjustable
//     (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html).
//   - An ALB's Lambda target takes "The maximum size of the request body
//     that you can send to a Lambda function is 1 MB" and "The maximum
//     size of the response JSON that the Lambda function can send is 1 MB"
//     (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html).
//   - Only a function URL streams a response (stack.StreamsResponses); an
//     HTTP API and an ALB get it once complete.

// Lambda front ends in planLambda.Front.
const (
	frontFunctionURL = "function_url"
	frontHTTPAPI     = "http_api"
	frontALB         = "alb"
)

// httpAPITimeout is an HTTP API's integration timeout, in seconds.
const httpAPITimeout = 30

// planLambda is what Lambda cannot do for this spec: plan prints it, and
// --format json gives it as "lambda". Field names are a contract.
type planLambda struct {
	When           string   `json:"when"`  // always | asleep (serve: app)
	Front          string   `json:"front"` // function_url | http_api | alb
	RequestMB      float64  `json:"request_mb"`
	ResponseMB     float64  `json:"response_mb"`
	Streaming      bool     `json:"streaming"`
	TimeoutSeconds int      `json:"timeout_seconds"` // when a request ends, whichever of the function and the front end ends it first
	Lines          []string `json:"lines"`
}

// lambdaPlan is nil when no request reaches Lambda.
func lambdaPlan(s *spec.Spec) *planLambda {
	p := &planLambda{When: "always", RequestMB: 6, ResponseMB: 6, TimeoutSeconds: s.Service.Timeout}
	switch {
	case !s.ECS() && s.Ingress.Kind == spec.IngressURL:
		p.Front = frontFunctionURL
		if stack.StreamsResponses(s) {
			p.Streaming, p.ResponseMB = true, 200
		}
	case !s.ECS():
		p.Front = frontHTTPAPI
	case s.Service.Idle.ServesApp():
		p.When, p.Front = "asleep", frontHTTPAPI
		if s.Ingress.Kind == spec.IngressALB {
			p.Front, p.RequestMB, p.ResponseMB = frontALB, 1, 1
		}
	default:
		return nil
	}
	if p.Front == frontHTTPAPI {
		p.TimeoutSeconds = min(p.TimeoutSeconds, httpAPITimeout)
	}
	p.Lines = p.lines(s)
	return p
}

func (p *planLambda) lines(s *spec.Spec) []string {
	mb := func(v float64) string { return fmt.Sprintf("%g MB", v) }
	binary := func(v float64) string {
		if v < 2 {
			return fmt.Sprintf("about %.0f KB", v*1024*3/4)
		}
		return fmt.Sprintf("about %.1f MB", v*3/4)
	}
	var out []string
	out = append(out, fmt.Sprintf("request: at most %s with its headers, as JSON; a binary body travels base64, which adds a third, so %s of it",
		mb(p.RequestMB), binary(p.RequestMB)))
	switch {
	case p.Streaming:
		out = append(out, fmt.Sprintf("response: streamed as the app writes it (server-sent events work), up to %s, raw (no base64); the first 6 MB at full speed, then 2 MB/s; a stream runs, and is billed, until the app ends it or service.timeout does, even after the client has gone", mb(p.ResponseMB)))
	default:
		why := "the app's answer is sent once complete"
		switch {
		case p.Front == frontFunctionURL:
			why += " (service.image is not built by lowfare: its runtime answers, and the function URL stays BUFFERED)"
		case p.Front == frontHTTPAPI && !s.ECS() && s.Service.LocalPackage():
			why += " (an HTTP API cannot stream a Lambda answer; ingress.kind url can)"
		case p.Front == frontHTTPAPI && !s.ECS():
			why += " (an HTTP API cannot stream a Lambda answer)"
		default:
			why += " (the " + map[string]string{frontALB: "ALB", frontHTTPAPI: "HTTP API"}[p.Front] + " cannot stream a Lambda answer)"
		}
		out = append(out, fmt.Sprintf("response: buffered: %s, at most %s as JSON, %s of a binary body; server-sent events and long polls arrive at once or time out",
			why, mb(p.ResponseMB), binary(p.ResponseMB)))
	}
	timeout := fmt.Sprintf("timeout: a request ends after %d s", p.TimeoutSeconds)
	switch {
	case p.Front == frontHTTPAPI && s.Service.Timeout > httpAPITimeout:
		timeout += fmt.Sprintf(", the HTTP API's integration limit, although service.timeout is %d s", s.Service.Timeout)
	case p.Front == frontHTTPAPI:
		timeout += fmt.Sprintf(" (service.timeout; an HTTP API allows at most %d s)", httpAPITimeout)
	default:
		timeout += " (service.timeout, the function's timeout)"
	}
	out = append(out, timeout)
	return append(out, "no WebSockets, and no work after the response: Lambda freezes the app between requests, and each of several environments runs its own copy")
}

// text is plan's block of Lambda limits.
func (p *planLambda) text() string {
	head := "Lambda limits (every request; docs/apps.md, \"Lambda limits\"):"
	if p.When == "asleep" {
		head = "Lambda limits while the service sleeps (serve: app; docs/apps.md, \"Lambda limits\"):"
	}
	return head + "\n  - " + strings.Join(p.Lines, "\n  - ")
}
