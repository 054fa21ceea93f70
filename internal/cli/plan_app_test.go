package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// plan says which container health check the task gets: lowfare's probe
// for an image it builds, the spec's command, or none for an image
// reference (and what that means for the ingress).
func TestPlanSaysWhichHealthCheck(t *testing.T) {
	for name, tt := range map[string]struct{ spec, want string }{
		"built":           {"app: shop\nservice: {image: ., health: {path: /health}}\n", "container health check: /lowfare/healthcheck /health (the probe lowfare adds"},
		"command":         {"app: shop\nservice: {image: nginx:1.27, health: {command: [CMD-SHELL, curl -f localhost]}}\n", `container health check: ["CMD-SHELL" "curl -f localhost"] (service.health.command)`},
		"reference alb":   {"app: shop\nservice: {image: nginx:1.27, health: {path: /}}\n", "container health check: none: lowfare did not build nginx:1.27 and service.health.command is not set; the load balancer's GET / check"},
		"reference apigw": {"app: shop\nservice: {image: nginx:1.27}\ningress: {kind: apigw}\n", "Cloud Map sends requests to every running task; set service.health.command"},
		"serverless":      {"app: shop\nprofile: serverless\n", "container health check: none (Lambda"},
	} {
		code, stdout, stderr := runCmd(t, "plan", "-f", specFile(t, tt.spec))
		if code != 0 || !strings.Contains(stdout, tt.want) {
			t.Errorf("%s: exit %d, want %q in\n%s%s", name, code, tt.want, stdout, stderr)
		}
	}
}

// service.permissions with a wildcard or an IAM action is bad input: exit
// 2, the file, line and column, the field, and nothing deployed.
func TestPermissionsWildcardsExit2WithPosition(t *testing.T) {
	file := specFile(t, "app: shop\nservice:\n  permissions:\n    - actions: [s3:GetObject, \"*\"]\n      resources: [arn:aws:s3:::b/*]\n    - actions: [iam:*]\n      resources: [\"*\"]\n")
	for _, cmd := range []string{"plan", "synth", "deploy"} {
		code, stdout, stderr := runCmd(t, cmd, "-f", file, "-o", filepath.Join(t.TempDir(), "out"))
		if cmd != "synth" {
			code, stdout, stderr = runCmd(t, cmd, "-f", file)
		}
		for _, want := range []string{"lowfare.yaml:4:31 service.permissions[0].actions[1]", "lowfare.yaml:6:17 service.permissions[1].actions[0]: \"iam:*\""} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: want %q in stderr:\n%s", cmd, want, stderr)
			}
		}
		if code != 2 || strings.Contains(stdout, "AWS::") {
			t.Errorf("%s: exit %d, stdout %s", cmd, code, stdout)
		}
	}
}
