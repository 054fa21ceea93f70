package ops

import (
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// ReadRollout judges health as the ingress does, for the new task
// definition only: a target ELB does not check (no listener rule names its
// group: "unused") is not healthy; behind an HTTP API a task passes its
// container health check, or merely runs when it has none; a task of the
// old task definition counts for nothing.
func TestReadRollout(t *testing.T) {
	const (
		oldTD = "arn:aws:ecs:us-east-1:123456789012:task-definition/lowfare-links-dev:1"
		newTD = "arn:aws:ecs:us-east-1:123456789012:task-definition/lowfare-links-dev:2"
	)
	task := func(id, td, status, health string) awsfake.ECSTask {
		return awsfake.ECSTask{ARN: "arn:aws:ecs:us-east-1:123456789012:task/" + testCluster + "/" + id, TaskDefinition: td, LastStatus: status, HealthStatus: health}
	}
	for _, tc := range []struct {
		name    string
		apigw   bool
		image   string // service.image; "." (built by lowfare, with a probe) when empty
		tasks   []awsfake.ECSTask
		targets []awsfake.Target
		running int32
		healthy bool
		health  string
	}{
		{name: "alb, target not in any listener rule", running: 1,
			tasks:   []awsfake.ECSTask{task("a", newTD, "RUNNING", "HEALTHY")},
			targets: []awsfake.Target{{ID: "10.0.0.5", Port: 8080, State: "unused", Reason: "Target.NotInUse"}},
			health:  "target 10.0.0.5:8080 unused (Target.NotInUse)"},
		{name: "alb, healthy target", running: 1, healthy: true,
			tasks:   []awsfake.ECSTask{task("a", newTD, "RUNNING", "UNKNOWN")},
			targets: []awsfake.Target{{ID: "10.0.0.5", Port: 8080, State: "healthy"}},
			health:  "target 10.0.0.5:8080 healthy"},
		{name: "alb, healthy target of the old task definition only",
			tasks:   []awsfake.ECSTask{task("old", oldTD, "RUNNING", "HEALTHY"), task("a", newTD, "PROVISIONING", "UNKNOWN")},
			targets: []awsfake.Target{{ID: "10.0.0.4", Port: 8080, State: "healthy"}},
			health:  "no task of the new task definition is running yet; target 10.0.0.4:8080 healthy"},
		{name: "apigw, probe not passed yet", apigw: true, running: 1,
			tasks:  []awsfake.ECSTask{task("a", newTD, "RUNNING", "UNKNOWN")},
			health: "a task is running; its container health check has not passed yet"},
		{name: "apigw, probe passed", apigw: true, running: 1, healthy: true,
			tasks:  []awsfake.ECSTask{task("old", oldTD, "RUNNING", "UNHEALTHY"), task("a", newTD, "RUNNING", "HEALTHY")},
			health: "a task passes its container health check (GET /healthz)"},
		{name: "apigw, no container health check", apigw: true, image: "public.ecr.aws/nginx/nginx:1.27", running: 1, healthy: true,
			tasks:  []awsfake.ECSTask{task("a", newTD, "RUNNING", "UNKNOWN")},
			health: "a task is running (the task has no container health check, so Cloud Map sends requests to every running task)"},
		{name: "apigw, only the old task definition runs", apigw: true,
			tasks:  []awsfake.ECSTask{task("old", oldTD, "RUNNING", "HEALTHY")},
			health: "no task of the new task definition is running yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			s := w.spec
			if tc.image != "" {
				s.Service.Image = tc.image
			}
			w.ECS.AddService(awsfake.ECSService{Cluster: testCluster, Name: testService, Desired: 1, TaskDefinition: newTD, Tasks: tc.tasks})
			w.ELB.SetTargets(testTG, tc.targets...)
			st, err := DescribeStack(testCtx(t), w.clients.CloudFormation, s)
			if err != nil {
				t.Fatal(err)
			}
			if tc.apigw {
				s.Ingress.Kind = spec.IngressAPIGW
				delete(st.Outputs, stack.OutputTargetGroup)
			}
			ro, err := ReadRollout(testCtx(t), w.clients, s, st)
			if err != nil {
				t.Fatal(err)
			}
			if ro.Running != tc.running || ro.Healthy != tc.healthy || !strings.Contains(ro.Health, tc.health) {
				t.Errorf("running %d, healthy %v, %q; want %d, %v, %q", ro.Running, ro.Healthy, ro.Health, tc.running, tc.healthy, tc.health)
			}
			if ro.TaskDefinition != newTD || ro.RolloutState != "COMPLETED" || ro.Asleep() {
				t.Errorf("rollout %+v", ro)
			}
		})
	}
}
