package cli

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// plan states what Lambda cannot do wherever requests reach Lambda: on
// profile serverless (streamed behind a function URL, buffered and cut at
// 30 s behind an HTTP API) and while an idle service sleeps with serve:
// app (1 MB behind an ALB); nowhere else.
func TestPlanSaysLambdaLimits(t *testing.T) {
	for name, tt := range map[string]struct {
		spec string
		want []string
		json planLambda // zero: no "lambda" in the JSON
	}{
		"serverless url": {
			spec: "app: shop\nprofile: serverless\n",
			want: []string{
				"Lambda limits (every request;",
				"request: at most 6 MB with its headers, as JSON; a binary body travels base64, which adds a third, so about 4.5 MB of it",
				"response: streamed as the app writes it (server-sent events work), up to 200 MB, raw (no base64)",
				"timeout: a request ends after 30 s (service.timeout, the function's timeout)",
			},
			json: planLambda{When: "always", Front: "function_url", RequestMB: 6, ResponseMB: 200, Streaming: true, TimeoutSeconds: 30},
		},
		"serverless url, own image": {
			spec: "app: shop\nprofile: serverless\nregion: us-east-1\nservice: {image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v1}\n",
			want: []string{"response: buffered: the app's answer is sent once complete (service.image is not built by lowfare", "at most 6 MB as JSON, about 4.5 MB of a binary body"},
			json: planLambda{When: "always", Front: "function_url", RequestMB: 6, ResponseMB: 6, TimeoutSeconds: 30},
		},
		"serverless apigw, long timeout": {
			spec: "app: shop\nprofile: serverless\ningress: {kind: apigw}\nservice: {timeout: 120}\n",
			want: []string{
				"(an HTTP API cannot stream a Lambda answer; ingress.kind url can)",
				"server-sent events and long polls arrive at once or time out",
				"timeout: a request ends after 30 s, the HTTP API's integration limit, although service.timeout is 120 s",
			},
			json: planLambda{When: "always", Front: "http_api", RequestMB: 6, ResponseMB: 6, TimeoutSeconds: 30},
		},
		"asleep behind an alb": {
			spec: "app: shop\ningress: {kind: alb}\nservice: {image: ., idle: {after: 15m, serve: app}}\n",
			want: []string{
				"Lambda limits while the service sleeps (serve: app;",
				"request: at most 1 MB with its headers, as JSON; a binary body travels base64, which adds a third, so about 768 KB of it",
				"(the ALB cannot stream a Lambda answer), at most 1 MB as JSON",
				"no WebSockets",
			},
			json: planLambda{When: "asleep", Front: "alb", RequestMB: 1, ResponseMB: 1, TimeoutSeconds: 30},
		},
		"asleep behind an http api": {
			spec: "app: shop\ningress: {kind: apigw}\nservice: {image: ., idle: {after: 15m, serve: app}}\n",
			want: []string{"(the HTTP API cannot stream a Lambda answer), at most 6 MB as JSON", "timeout: a request ends after 30 s (service.timeout; an HTTP API allows at most 30 s)"},
			json: planLambda{When: "asleep", Front: "http_api", RequestMB: 6, ResponseMB: 6, TimeoutSeconds: 30},
		},
		"ecs, awake only": {
			spec: "app: shop\ningress: {kind: alb}\n",
		},
		"asleep with a waking page": {
			spec: "app: shop\ningress: {kind: apigw}\nservice: {image: ., idle: {after: 15m, serve: page}}\n",
		},
	} {
		file := specFile(t, tt.spec)
		code, stdout, stderr := runCmd(t, "plan", "-f", file)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", name, code, stdout, stderr)
		}
		if len(tt.want) == 0 && strings.Contains(stdout, "Lambda limits") {
			t.Errorf("%s: Lambda limits where no request reaches Lambda:\n%s", name, stdout)
		}
		for _, w := range tt.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%s: want %q in\n%s", name, w, stdout)
			}
		}
		code, stdout, stderr = runCmd(t, "plan", "-f", file, "--format", "json")
		var out struct {
			Lambda *planLambda `json:"lambda"`
		}
		if err := json.Unmarshal([]byte(stdout), &out); code != 0 || err != nil {
			t.Fatalf("%s: json exit %d (%v)\n%s", name, code, err, stderr)
		}
		if (out.Lambda == nil) != (tt.json.Front == "") {
			t.Errorf("%s: json lambda %+v, want %+v", name, out.Lambda, tt.json)
			continue
		}
		if out.Lambda != nil {
			got := *out.Lambda
			if len(got.Lines) < 3 {
				t.Errorf("%s: json lines %q", name, got.Lines)
			}
			got.Lines, tt.json.Lines = nil, nil
			if !reflect.DeepEqual(got, tt.json) {
				t.Errorf("%s: json lambda %+v, want %+v", name, got, tt.json)
			}
		}
	}
}
