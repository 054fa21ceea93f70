package ops

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/spec"
)

// The deployed service's task definition and network, as the tests here
// give them to the fake.
const (
	runTaskDef = "arn:aws:ecs:us-east-1:123456789012:task-definition/lowfare-links-dev:7"
	runSubnet  = "subnet-0aaa"
	runSG      = "sg-0bbb"
)

// runWorld is the deployed world whose service has the task definition
// and network Run copies; ECS's RunTask and StopTask are internal/awsfake's
// (moto's containers always exit 0: see TestRunAgainstMoto).
func runWorld(t *testing.T, publicIP string) *world {
	t.Helper()
	w := newWorld(t)
	w.ECS.AddTaskDefinition(awsfake.ECSTaskDefinition{ARN: runTaskDef, Containers: []awsfake.ECSContainerDef{
		{Name: "links", Essential: true, LogGroup: testGroup, LogPrefix: "links"}}})
	w.ECS.Update(testCluster, testService, func(s *awsfake.ECSService) {
		s.TaskDefinition = runTaskDef
		s.Network = &awsfake.ECSNetwork{Subnets: []string{runSubnet}, SecurityGroups: []string{runSG}, AssignPublicIP: publicIP}
	})
	return w
}

func TestRunReturnsExitCodeAndStreamsLogs(t *testing.T) {
	w := runWorld(t, "ENABLED")
	w.ECS.RunExitCode = 3
	w.ECS.OnRun = func(task *awsfake.ECSTask) {
		stream := "links/links/" + taskID(task.ARN)
		w.Logs.Put(testGroup, stream, 1000, "applying 0002_add_users")
		w.Logs.Put(testGroup, "links/links/someothertask", 1001, "GET / 200")
		w.Logs.Put(testGroup, stream, 1002, "error: relation users already exists\n")
	}
	var logs, status bytes.Buffer
	res, err := Run(testCtx(t), w.clients, w.spec, RunOptions{Command: []string{"migrate", "up"}, Poll: time.Millisecond, Status: &status}, &logs)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode == nil || *res.ExitCode != 3 {
		t.Fatalf("exit code = %v, want 3 (result %+v)", res.ExitCode, res)
	}
	if want := "applying 0002_add_users\nerror: relation users already exists\n"; logs.String() != want {
		t.Errorf("logs = %q, want only the task's own stream: %q", logs.String(), want)
	}
	reqs := w.ECS.RunRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d RunTask calls", len(reqs))
	}
	r := reqs[0]
	if r.Cluster != testCluster || r.TaskDefinition != runTaskDef || r.Count != 1 || r.LaunchType != "FARGATE" || r.StartedBy != "lowfare-run" {
		t.Errorf("RunTask = %+v", r)
	}
	if n := r.Network.Awsvpc; n == nil || strings.Join(n.Subnets, ",") != runSubnet || strings.Join(n.SecurityGroups, ",") != runSG || n.AssignPublicIP != "ENABLED" {
		t.Errorf("network = %+v, want the service's", r.Network.Awsvpc)
	}
	if o := r.Overrides.ContainerOverrides; len(o) != 1 || o[0].Name != "links" || strings.Join(o[0].Command, " ") != "migrate up" {
		t.Errorf("overrides = %+v", o)
	}
	for _, want := range []string{"started", "RUNNING", "STOPPED"} {
		if !strings.Contains(status.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, status.String())
		}
	}
}

// A service without a public IP is the fake's task that never starts (no
// NAT gateway: it cannot pull its image): Run still returns, with no exit
// code and ECS's reason.
func TestRunTaskThatNeverStarted(t *testing.T) {
	w := runWorld(t, "DISABLED")
	res, err := Run(testCtx(t), w.clients, w.spec, RunOptions{Command: []string{"true"}, Poll: time.Millisecond}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Started() {
		t.Fatalf("exit code %d for a task that never started", *res.ExitCode)
	}
	for _, want := range []string{"TaskFailedToStart", "ResourceInitializationError", shortTask(res.TaskARN)} {
		if !strings.Contains(res.Problem(), want) {
			t.Errorf("problem %q lacks %q", res.Problem(), want)
		}
	}
}

func TestRunRefusals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(w *world)
		command []string
		want    string
		is      error
	}{
		{name: "serverless", setup: func(w *world) { w.spec.Profile = spec.ProfileServerless }, command: []string{"x"}, want: "profile serverless", is: ErrRunServerless},
		{name: "no command", command: nil, want: "lowfare run -- migrate up"},
		{name: "placement failure", setup: func(w *world) { w.ECS.RunFailure = "RESOURCE:ENI" }, command: []string{"x"}, want: "RESOURCE:ENI"},
		{name: "service without network", setup: func(w *world) {
			w.ECS.Update(testCluster, testService, func(s *awsfake.ECSService) { s.Network = nil })
		}, command: []string{"x"}, want: "no awsvpc network configuration"},
		{name: "not deployed", setup: func(w *world) { w.spec.App = "ghost" }, command: []string{"x"}, want: "lowfare deploy", is: ErrStackNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := runWorld(t, "ENABLED")
			if tc.setup != nil {
				tc.setup(w)
			}
			_, err := Run(testCtx(t), w.clients, w.spec, RunOptions{Command: tc.command, Poll: time.Millisecond}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one saying %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tc.is)
			}
			if tc.name == "serverless" && len(w.ECS.Calls()) != 0 {
				t.Errorf("serverless run called ECS: %v", w.ECS.Calls())
			}
		})
	}
}

// Interrupting lowfare run stops the task rather than leaving it running.
func TestRunInterruptStopsTheTask(t *testing.T) {
	w := runWorld(t, "ENABLED")
	ctx, cancel := context.WithCancel(testCtx(t))
	status := &onFirstLine{do: func() error { cancel(); return nil }}
	res, err := Run(ctx, w.clients, w.spec, RunOptions{Command: []string{"sleep", "60"}, Poll: time.Millisecond, Status: status}, &bytes.Buffer{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if stopped := w.ECS.StoppedTasks(); len(stopped) != 1 || stopped[0] != res.TaskARN {
		t.Fatalf("stopped tasks = %v, want %s", stopped, res.TaskARN)
	}
	if !strings.Contains(status.String(), "stopped (lowfare run was interrupted)") {
		t.Errorf("status:\n%s", status.String())
	}
}
