package cli

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/stack"
)

const asleepTG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/lf-links-dev-svc/1"

// asleepWorld is newDepWorld's deploy endpoints plus a deployed idle
// service that sleeps: ECS, ELB and the wake controller (a Lambda Invoke
// fake that sets the count and the state tags as
// internal/stack/idle_controller.py does). healthy says whether the task a
// wake starts passes the ALB's health checks.
func asleepWorld(t *testing.T, healthy bool) (*depWorld, *awsfake.ECS, *awsfake.Lambda) {
	t.Helper()
	w := newDepWorld(t, "app: links\nenv: dev\nregion: us-east-1\nservice:\n  image: ./cmd/hello\n  idle: {after: 15m}\ningress:\n  kind: alb\n")
	ecs, elb, ctl := awsfake.NewECS(), awsfake.NewELBv2(), &awsfake.Lambda{}
	td := "arn:aws:ecs:us-east-1:123456789012:task-definition/lowfare-links-dev:2"
	ecs.AddService(awsfake.ECSService{Cluster: "lowfare-links-dev", Name: "links", TaskDefinition: td,
		Tags: map[string]string{"lowfare:sleep": "asleep", "lowfare:sleep-reason": "idle"}})
	elb.SetTargets(asleepTG)
	ctl.Handler = func(fn string, payload []byte) ([]byte, string) {
		var ev map[string]string
		_ = json.Unmarshal(payload, &ev)
		ecs.Update("lowfare-links-dev", "links", func(s *awsfake.ECSService) {
			s.Tags = map[string]string{"lowfare:sleep-reason": ev["reason"]}
			if ev["lowfare"] == "sleep" {
				s.Desired, s.Running, s.Tasks = 0, 0, nil
				s.Tags["lowfare:sleep"] = "asleep"
				return
			}
			s.Desired, s.Running = 1, 1
			s.Tags["lowfare:sleep"] = "waking"
			task := awsfake.ECSTask{ARN: "arn:aws:ecs:us-east-1:123456789012:task/lowfare-links-dev/t1", TaskDefinition: td, LastStatus: "RUNNING", HealthStatus: "HEALTHY"}
			target := awsfake.Target{ID: "10.0.0.5", Port: 8080, State: "healthy"}
			if !healthy {
				task.HealthStatus = "UNHEALTHY"
				target.State, target.Reason = "unhealthy", "Target.ResponseCodeMismatch"
				s.Tasks = append(s.Tasks, awsfake.ECSTask{ARN: "arn:aws:ecs:us-east-1:123456789012:task/lowfare-links-dev/t0", TaskDefinition: td,
					LastStatus: "STOPPED", StoppedReason: "Task failed ELB health checks in (target-group " + asleepTG + ")"})
			}
			s.Tasks = append(s.Tasks, task)
			elb.SetTargets(asleepTG, target)
		})
		return []byte(`{"state":"ok"}`), ""
	}
	awsfake.UseEndpoints(t, map[string]string{
		"ECS":                       awsfake.Serve(t, ecs),
		"ELASTIC_LOAD_BALANCING_V2": awsfake.Serve(t, elb),
		"LAMBDA":                    awsfake.Serve(t, ctl),
	})
	w.cfn.SetScenario("lowfare-links-dev", awsfake.CFNScenario{StepsPerPoll: 100, Outputs: map[string]string{
		stack.OutputURL: "http://links-123.us-east-1.elb.amazonaws.com", stack.OutputTable: "lowfare-links-dev-Table-ABC",
		stack.OutputCluster: "lowfare-links-dev", stack.OutputService: "links", stack.OutputTargetGroup: asleepTG,
		stack.OutputWakeFunction: "lowfare-links-dev-wake", stack.OutputLogGroup: "/lowfare/links/dev",
		stack.OutputAlarmTopic: "arn:aws:sns:us-east-1:123456789012:lowfare-links-dev-alarms",
	}})
	return w, ecs, ctl
}

// liveTag is the digest the registry's lowfare-live tag names ("" when
// there is none).
func (w *depWorld) liveTag(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodHead, "http://"+w.registry+"/v2/lowfare-links-dev/manifests/"+stack.LiveImageTag, nil)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("AWS:ecr-pass")))
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return resp.Header.Get("Docker-Content-Digest")
}

// lowfare deploy of a service that sleeps: the new image is woken to
// health before lowfare-live moves, and the service sleeps again; an image
// that never gets healthy fails the deploy (exit 1), leaves the tag and
// says where to look.
func TestDeployWhileAsleep(t *testing.T) {
	for _, tc := range []struct {
		name    string
		healthy bool
		code    int
		out     []string // in stdout
		errOut  []string // in stderr
	}{
		{name: "healthy", healthy: true, code: 0, out: []string{
			"Service links sleeps: the stack update started no task of the new image, so lowfare wakes the service to run it to health (at most 10m0s) before calling it live.",
			"Service links: the new image is healthy (target 10.0.0.5:8080 healthy).",
			"Service links: back to sleep, as before the deploy.",
			"Outputs of lowfare-links-dev:",
		}},
		{name: "never healthy", healthy: false, code: 1, out: []string{
			"Service links sleeps: the stack update started no task of the new image",
			"  links: 1 of 1 task(s) running; target 10.0.0.5:8080 unhealthy (Target.ResponseCodeMismatch); stopped: Task failed ELB health checks",
			"Service links: back to sleep, as before the deploy.",
		}, errOut: []string{
			"service links slept through the deploy, so lowfare woke it to prove the new image ",
			"no task of the new task definition was healthy after 2s",
			"The tag lowfare-live stays on the image that ran before",
			"lowfare logs --since 30m (log group /lowfare/links/dev)",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, ecs, ctl := asleepWorld(t, tc.healthy)
			args := []string{"deploy", "-f", w.spec, "--poll", "1ms"}
			if !tc.healthy {
				args = append(args, "--health-timeout", "2s") // room for a check or more on a busy machine
			}
			code, out, errOut := depRun(t, "", args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, out, errOut)
			}
			for _, want := range tc.out {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			for _, want := range tc.errOut {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			uri := w.cfn.StackParameters("lowfare-links-dev")[stack.ParamImageURI]
			live := w.liveTag(t)
			if tc.healthy && (live == "" || !strings.HasSuffix(uri, "@"+live)) {
				t.Errorf("%s on %q, want the deployed %s", stack.LiveImageTag, live, uri)
			}
			if !tc.healthy && live != "" {
				t.Errorf("%s on %s after an image that never got healthy", stack.LiveImageTag, live)
			}
			if calls := ctl.Calls(); len(calls) != 2 || !strings.Contains(calls[0], `"lowfare":"wake","reason":"deploy"`) || !strings.Contains(calls[1], `"lowfare":"sleep","reason":"deploy"`) {
				t.Errorf("controller calls %q, want a wake then a sleep, reason deploy", calls)
			}
			if svc, _ := ecs.Service("lowfare-links-dev", "links"); svc.Desired != 0 || svc.Tags["lowfare:sleep"] != "asleep" {
				t.Errorf("service after the deploy: %+v; want asleep", svc)
			}
		})
	}
}
