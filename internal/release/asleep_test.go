package release

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/image"
	"github.com/lowfare/lowfare/internal/stack"
)

const (
	sleepyCluster = "lowfare-links-dev"
	sleepyService = "links"
	sleepyTG      = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/lf-links-dev-svc/1"
	// The task definitions before and after the deploy: the stack update
	// registers the new one and points the service at it.
	oldTaskDef = "arn:aws:ecs:us-east-1:123456789012:task-definition/lowfare-links-dev:1"
	newTaskDef = "arn:aws:ecs:us-east-1:123456789012:task-definition/lowfare-links-dev:2"
)

// scheduler is what ECS (and, behind an ALB, ELB's health checks) do with
// a service that wants tasks, one step a DescribeServices: the test's
// stand-in for Fargate starting the new image.
type scheduler func(step int, s *awsfake.ECSService, elb *awsfake.ELBv2)

// startsHealthy: a task is provisioned, runs, then passes its checks.
func startsHealthy(step int, s *awsfake.ECSService, elb *awsfake.ELBv2) {
	task := awsfake.ECSTask{ARN: "arn:aws:ecs:us-east-1:123456789012:task/lowfare-links-dev/new1", TaskDefinition: s.TaskDefinition,
		LastStatus: "PROVISIONING", HealthStatus: "UNKNOWN"}
	switch {
	case step == 1:
	case step == 2:
		task.LastStatus = "RUNNING"
		elb.SetTargets(sleepyTG, awsfake.Target{ID: "10.0.0.5", Port: 8080, State: "initial", Reason: "Elb.RegistrationInProgress"})
	default:
		task.LastStatus, task.HealthStatus = "RUNNING", "HEALTHY"
		elb.SetTargets(sleepyTG, awsfake.Target{ID: "10.0.0.5", Port: 8080, State: "healthy"})
	}
	s.Tasks = append(stoppedOnly(s.Tasks), task)
	s.Running = 0
	if task.LastStatus == "RUNNING" {
		s.Running = 1
	}
}

// neverHealthy: the first task failed its health checks and was stopped;
// its replacement runs and fails them too, for ever.
func neverHealthy(step int, s *awsfake.ECSService, elb *awsfake.ELBv2) {
	if step > 1 {
		return
	}
	exit := int32(1)
	s.Tasks = append(s.Tasks,
		awsfake.ECSTask{ARN: "arn:aws:ecs:us-east-1:123456789012:task/lowfare-links-dev/new1", TaskDefinition: s.TaskDefinition,
			LastStatus: "STOPPED", StoppedReason: "Task failed ELB health checks in (target-group " + sleepyTG + ")", ExitCode: &exit},
		awsfake.ECSTask{ARN: "arn:aws:ecs:us-east-1:123456789012:task/lowfare-links-dev/new2", TaskDefinition: s.TaskDefinition,
			LastStatus: "RUNNING", HealthStatus: "UNHEALTHY"})
	s.Running = 1
	elb.SetTargets(sleepyTG, awsfake.Target{ID: "10.0.0.6", Port: 8080, State: "unhealthy", Reason: "Target.ResponseCodeMismatch"})
}

// sleptByReconcile: the controller's reconcile puts the service back to
// sleep while the task starts.
func sleptByReconcile(step int, s *awsfake.ECSService, elb *awsfake.ELBv2) {
	startsHealthy(1, s, elb)
	if step == 2 {
		s.Desired, s.Running, s.Tasks = 0, 0, stoppedOnly(s.Tasks)
		s.Tags = sleepTags("asleep", "reconcile")
	}
}

func stoppedOnly(tasks []awsfake.ECSTask) []awsfake.ECSTask {
	return slices.DeleteFunc(slices.Clone(tasks), func(t awsfake.ECSTask) bool { return t.LastStatus != "STOPPED" })
}

func sleepTags(state, reason string) map[string]string {
	return map[string]string{"lowfare:sleep": state, "lowfare:sleep-reason": reason, "lowfare:sleep-since": "2026-12-07T20:00:00Z"}
}

// sleepyWorld is a deployed idle app: the release fakes, plus ECS, ELB,
// the wake controller (a Lambda Invoke fake doing what
// internal/stack/idle_controller.py does to the service's count and tags)
// and a registry the image goes to.
type sleepyWorld struct {
	*world
	ecs  *awsfake.ECS
	elb  *awsfake.ELBv2
	ctl  *awsfake.Lambda
	repo string
	step int // the scheduler's, under the ECS fake's lock

	mu sync.Mutex
	// liveAtSleep is where the live tag was when the controller was asked
	// to put the service back to sleep: the tag moves first.
	liveAtSleep string
}

func newSleepyWorld(t *testing.T, ingress string, sched scheduler) (*sleepyWorld, *Runner, *record) {
	t.Helper()
	w := &sleepyWorld{ecs: awsfake.NewECS(), elb: awsfake.NewELBv2(), ctl: &awsfake.Lambda{}}
	w.ecs.OnDescribe = func(s *awsfake.ECSService) {
		if s.Desired > 0 {
			w.step++
			sched(w.step, s, w.elb)
		}
	}
	// Deployed and awake, running the old task definition.
	w.ecs.AddService(awsfake.ECSService{Cluster: sleepyCluster, Name: sleepyService, Desired: 1, Running: 1, TaskDefinition: oldTaskDef})
	w.elb.SetTargets(sleepyTG)
	w.ctl.Handler = w.controller
	reg := awsfake.Serve(t, registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	w.repo = strings.TrimPrefix(reg, "http://") + "/lowfare-links-dev"

	base, c := newWorld(t, map[string]string{
		"ECS":                       awsfake.Serve(t, w.ecs),
		"ELASTIC_LOAD_BALANCING_V2": awsfake.Serve(t, w.elb),
		"LAMBDA":                    awsfake.Serve(t, w.ctl),
	})
	w.world = base
	outputs := map[string]string{
		stack.OutputURL: "http://links.example", stack.OutputCluster: sleepyCluster, stack.OutputService: sleepyService,
		stack.OutputWakeFunction: "lowfare-links-dev-wake", stack.OutputLogGroup: "/lowfare/links/dev", stack.OutputTable: "lowfare-links-dev-Table-ABC",
		stack.OutputAlarmTopic: "arn:aws:sns:us-east-1:123456789012:lowfare-links-dev-alarms",
	}
	if ingress == "alb" {
		outputs[stack.OutputTargetGroup] = sleepyTG
	}
	w.cfn.SetScenario("lowfare-links-dev-bootstrap", awsfake.CFNScenario{StepsPerPoll: 100, Outputs: map[string]string{stack.OutputRepositoryURI: w.repo}})
	w.cfn.SetScenario("lowfare-links-dev", awsfake.CFNScenario{StepsPerPoll: 100, Outputs: outputs})
	rec := &record{}
	return w, newRunner(c, &pushing{}, rec), rec
}

// controller wakes and sleeps the service as the wake controller does:
// the desired count and the state tags.
func (w *sleepyWorld) controller(fn string, payload []byte) ([]byte, string) {
	var ev map[string]string
	if err := json.Unmarshal(payload, &ev); err != nil || fn != "lowfare-links-dev-wake" {
		return []byte(`{"errorMessage":"bad event"}`), "Unhandled"
	}
	switch ev["lowfare"] {
	case "wake":
		w.ecs.Update(sleepyCluster, sleepyService, func(s *awsfake.ECSService) {
			if s.Desired == 0 {
				s.Desired, s.Tags = 1, sleepTags("waking", ev["reason"])
			}
		})
		return []byte(`{"state":"waking"}`), ""
	case "sleep":
		live := w.liveDigest()
		w.mu.Lock()
		w.liveAtSleep = live
		w.mu.Unlock()
		w.ecs.Update(sleepyCluster, sleepyService, func(s *awsfake.ECSService) {
			s.Desired, s.Running, s.Tags = 0, 0, sleepTags("asleep", ev["reason"])
			for i := range s.Tasks {
				if s.Tasks[i].LastStatus != "STOPPED" {
					s.Tasks[i].LastStatus, s.Tasks[i].StoppedReason = "STOPPED", "Scaling activity initiated by (deployment ecs-svc/1)"
				}
			}
		})
		w.elb.SetTargets(sleepyTG)
		return []byte(`{"state":"asleep"}`), ""
	}
	return []byte(`{"errorMessage":"unknown event"}`), "Unhandled"
}

// liveDigest is the digest stack.LiveImageTag points at ("" when absent).
func (w *sleepyWorld) liveDigest() string {
	ref, err := name.ParseReference(w.repo + ":" + stack.LiveImageTag)
	if err != nil {
		return ""
	}
	desc, err := remote.Head(ref)
	if err != nil {
		return ""
	}
	return desc.Digest.String()
}

// deployed deploys r while the service is awake: the last proven
// deploy, which tags its image live. It returns the stack's image.
func (w *sleepyWorld) deployed(t *testing.T, rn *Runner, rec *record, r *Release) string {
	t.Helper()
	if _, err := rn.Deploy(testCtx(t), r); err != nil {
		t.Fatal(err)
	}
	if calls := w.ctl.Calls(); len(calls) != 0 || len(stages(rec.take())) != 0 {
		t.Fatalf("a deploy of an awake service asked the controller %q", calls)
	}
	// Awake, one read says so: no task or target is read.
	if calls := w.ecs.Calls(); !slices.Equal(calls, []string{"DescribeServices"}) || len(w.elb.Calls()) != 0 {
		t.Fatalf("a deploy of an awake service asked ECS %q and ELB %q", calls, w.elb.Calls())
	}
	return w.cfn.StackParameters("lowfare-links-dev")[stack.ParamImageURI]
}

// then puts svc in place of the service, as the stack update and the
// controller left it before the deploy under test.
func (w *sleepyWorld) then(svc awsfake.ECSService) {
	w.ecs.AddService(svc)
	w.ecs.Update(sleepyCluster, sleepyService, func(*awsfake.ECSService) { w.step = 0 })
	w.elb.SetTargets(sleepyTG)
}

// controllerCalls are the events the controller got, "action reason".
func (w *sleepyWorld) controllerCalls() []string {
	var out []string
	for _, c := range w.ctl.Calls() {
		var ev map[string]string
		_, payload, _ := strings.Cut(c, " ")
		_ = json.Unmarshal([]byte(payload), &ev)
		out = append(out, ev["lowfare"]+" "+ev["reason"])
	}
	return out
}

// pushing builds a new random image each time and pushes it for real.
type pushing struct {
	built  *image.Built
	pushed string // the last image pushed, by digest
}

func (p *pushing) Build(ctx context.Context, r *Release) (*image.Built, error) {
	var err error
	p.built, err = randomBuilt()
	return p.built, err
}

func (p *pushing) Push(ctx context.Context, built *image.Built, ref string, auth authn.Authenticator) (string, error) {
	var err error
	p.pushed, err = image.Push(ctx, built.Image, ref, auth, nil)
	return p.pushed, err
}

// stages are the Proof stages reported, a run of waiting counted once.
func stages(events []string) []string {
	var out []string
	for _, e := range events {
		f := strings.Fields(e)
		if len(f) < 2 || f[0] != "proof" || (len(out) > 0 && out[len(out)-1] == f[1]) {
			continue
		}
		out = append(out, f[1])
	}
	return out
}

func idleSpec(ingress string) string {
	return "app: links\nenv: dev\nregion: us-east-1\nservice:\n  image: ./cmd/links\n  idle: {after: 15m}\ningress:\n  kind: " + ingress + "\n"
}

func asleepService() awsfake.ECSService {
	exit := int32(0)
	return awsfake.ECSService{Cluster: sleepyCluster, Name: sleepyService, Desired: 0, TaskDefinition: newTaskDef,
		Tags: sleepTags("asleep", "idle"),
		// A task of the old image, stopped when the service fell asleep:
		// not the new image's failure.
		Tasks: []awsfake.ECSTask{{ARN: "arn:aws:ecs:us-east-1:123456789012:task/lowfare-links-dev/old1", TaskDefinition: oldTaskDef,
			LastStatus: "STOPPED", StoppedReason: "Scaling activity initiated by (deployment ecs-svc/0)", ExitCode: &exit}}}
}

// A deploy while the service sleeps runs the new image to health before it
// moves the live tag, then puts the service back to sleep; an image that
// never gets healthy leaves the tag where it was, sleeps again, puts the
// main stack back as it was and fails the deploy, saying what it saw and
// where to look.
func TestDeployWhileAsleepProvesTheImage(t *testing.T) {
	for _, tc := range []struct {
		name, ingress string
		svc           awsfake.ECSService // as the update leaves it
		sched         scheduler
		// wantErr: parts of the *ProofError; none for a proven image.
		wantErr []string
		calls   []string // to the controller
		stages  []string // reported
		healthy string   // the healthy stage's detail
		proven  bool     // the live tag moves to the new image
		// rolledBack: the main stack names the old image again.
		rolledBack bool
		// interrupt cancels the deploy's context at the scheduler's third
		// step, as Ctrl-C would.
		interrupt bool
	}{
		{name: "alb, asleep, healthy", ingress: "alb", svc: asleepService(), sched: startsHealthy,
			calls: []string{"wake deploy", "sleep deploy"}, stages: []string{"waking", "waiting", "healthy", "asleep"},
			healthy: "target 10.0.0.5:8080 healthy", proven: true},
		{name: "apigw, asleep, healthy", ingress: "apigw", svc: asleepService(), sched: startsHealthy,
			calls: []string{"wake deploy", "sleep deploy"}, stages: []string{"waking", "waiting", "healthy", "asleep"},
			healthy: "a task passes its container health check (GET /healthz)", proven: true},
		{name: "alb, asleep, never healthy", ingress: "alb", svc: asleepService(), sched: neverHealthy, rolledBack: true,
			calls: []string{"wake deploy", "sleep deploy"}, stages: []string{"waking", "waiting", "asleep", "rollback"},
			wantErr: []string{
				"service links slept through the deploy, so lowfare woke it to prove the new image ",
				"no task of the new task definition was healthy after 2s; last seen: ",
				"target 10.0.0.6:8080 unhealthy (Target.ResponseCodeMismatch)",
				"tasks stopped: Task failed ELB health checks in (target-group " + sleepyTG + ") (container app exit code 1)",
				"The tag lowfare-live stays on the image that ran before",
				"The service sleeps again.",
				"The main stack is back on the template and image it had before the deploy",
				"lowfare logs --since 30m (log group /lowfare/links/dev)",
			}},
		{name: "alb, asleep, interrupted", ingress: "alb", svc: asleepService(), sched: neverHealthy, interrupt: true,
			calls: []string{"wake deploy", "sleep deploy"}, stages: []string{"waking", "waiting", "asleep"},
			wantErr: []string{"the deploy was interrupted before a task of the new task definition was healthy; last seen: target 10.0.0.6:8080 unhealthy",
				"The service sleeps again.", "The stack names the new image, which the next wake starts"}},
		{name: "alb, asleep, slept again by the reconcile", ingress: "alb", svc: asleepService(), sched: sleptByReconcile, rolledBack: true,
			calls: []string{"wake deploy", "sleep deploy"}, stages: []string{"waking", "waiting", "asleep", "rollback"},
			wantErr: []string{`the wake controller put it back to sleep (reason "reconcile") before a task was healthy; last seen: no target registered`}},
		{name: "alb, awake: unchanged", ingress: "alb", sched: startsHealthy, proven: true,
			svc: awsfake.ECSService{Cluster: sleepyCluster, Name: sleepyService, Desired: 1, Running: 1, TaskDefinition: newTaskDef, Tags: sleepTags("awake", "request")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(testCtx(t))
			defer cancel()
			sched := tc.sched
			if tc.interrupt {
				sched = func(step int, s *awsfake.ECSService, elb *awsfake.ELBv2) {
					tc.sched(step, s, elb)
					if step == 3 {
						cancel()
					}
				}
			}
			w, rn, rec := newSleepyWorld(t, tc.ingress, sched)
			r := mustRelease(t, idleSpec(tc.ingress))
			oldImage := w.deployed(t, rn, rec, r)
			old := digestOf(oldImage)
			if live := w.liveDigest(); live != old {
				t.Fatalf("the first deploy left %s on %s, want %s", stack.LiveImageTag, live, old)
			}
			w.then(tc.svc)
			// Long enough for many checks; a proven image or an interrupt
			// ends the wait long before.
			rn.HealthTimeout = 2 * time.Second
			if tc.wantErr == nil || tc.interrupt {
				rn.HealthTimeout = time.Minute
			}

			_, err := rn.Deploy(ctx, r)
			var proof *ProofError
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("deploy: %v", err)
			case tc.wantErr != nil && !errors.As(err, &proof):
				t.Fatalf("deploy: %v, want a *ProofError", err)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
			if err != nil && (strings.Contains(err.Error(), "old1") || strings.Contains(err.Error(), "ecs-svc/0")) {
				t.Errorf("the error blames the old image's task:\n%v", err)
			}

			newImage := rn.Images.(*pushing).pushed
			if newImage == oldImage {
				t.Fatalf("the second deploy pushed the same image %s", newImage)
			}
			wantStack, wantLive := newImage, digestOf(newImage)
			if tc.rolledBack {
				wantStack = oldImage
			}
			if !tc.proven {
				wantLive = old
			}
			if got := w.cfn.StackParameters("lowfare-links-dev")[stack.ParamImageURI]; got != wantStack {
				t.Errorf("the stack runs %s, want %s (old %s, new %s)", got, wantStack, oldImage, newImage)
			}
			if live := w.liveDigest(); live != wantLive {
				t.Errorf("%s on %s, want %s (old %s, new %s)", stack.LiveImageTag, live, wantLive, oldImage, newImage)
			}
			if got := w.controllerCalls(); !slices.Equal(got, tc.calls) {
				t.Errorf("controller got %q, want %q", got, tc.calls)
			}
			events := rec.take()
			if got := stages(events); !slices.Equal(got, tc.stages) {
				t.Errorf("stages %q, want %q\n%s", got, tc.stages, strings.Join(events, "\n"))
			}
			if tc.healthy != "" && !slices.Contains(events, "proof healthy links: "+tc.healthy) {
				t.Errorf("no healthy event %q in\n%s", tc.healthy, strings.Join(events, "\n"))
			}
			svc, _ := w.ecs.Service(sleepyCluster, sleepyService)
			if tc.calls == nil {
				if svc.Desired != 1 {
					t.Errorf("an awake service was changed: %+v", svc)
				}
				return
			}
			// Asleep again, and the tag moved (or not) before the sleep.
			if svc.Desired != 0 || svc.Tags["lowfare:sleep"] != "asleep" {
				t.Errorf("service after the deploy: desired %d, tags %v; want asleep", svc.Desired, svc.Tags)
			}
			w.mu.Lock()
			atSleep := w.liveAtSleep
			w.mu.Unlock()
			if atSleep != wantLive {
				t.Errorf("%s on %s when the service was put back to sleep, want %s", stack.LiveImageTag, atSleep, wantLive)
			}
		})
	}
}

// digestOf is the digest of an image reference by digest.
func digestOf(ref string) string { return ref[strings.LastIndex(ref, "@")+1:] }
