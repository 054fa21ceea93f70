package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/awsfake"
)

// runOpsWorld is the deployed world whose service has a task definition
// and a network for lowfare run to copy (internal/ops tests the rest).
func runOpsWorld(t *testing.T) *opsWorld {
	t.Helper()
	w := newOpsWorld(t)
	const td = "arn:aws:ecs:us-east-1:123456789012:task-definition/lowfare-links-dev:3"
	w.ECS.AddTaskDefinition(awsfake.ECSTaskDefinition{ARN: td, Containers: []awsfake.ECSContainerDef{{Name: "links", Essential: true, LogGroup: opsGroup, LogPrefix: "links"}}})
	w.ECS.Update(opsCluster, opsService, func(s *awsfake.ECSService) {
		s.TaskDefinition = td
		s.Network = &awsfake.ECSNetwork{Subnets: []string{"subnet-1"}, SecurityGroups: []string{"sg-1"}, AssignPublicIP: "ENABLED"}
	})
	w.ECS.OnRun = func(task *awsfake.ECSTask) {
		id := task.ARN[strings.LastIndexByte(task.ARN, '/')+1:]
		w.Logs.Put(opsGroup, "links/links/"+id, 1, "migrated 2")
	}
	return w
}

func TestRunCommandExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		exit     int32
		public   string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "success", args: []string{"--", "migrate", "up"}, wantCode: 0, wantOut: "migrated 2\n", wantErr: "migrate exited with code 0"},
		{name: "the command's code", args: []string{"--", "migrate", "--bad-flag"}, exit: 3, wantCode: 3, wantOut: "migrated 2\n", wantErr: "exited with code 3"},
		{name: "flags after the command are its own", args: []string{"migrate", "--format", "xml"}, wantCode: 0, wantOut: "migrated 2\n"},
		{name: "never started", args: []string{"--", "migrate"}, public: "DISABLED", wantCode: 1, wantErr: "stopped before its container exited with a code: TaskFailedToStart"},
		{name: "no command", args: []string{}, wantCode: 2, wantErr: "requires the command to run after --"},
		{name: "bad format", args: []string{"--format", "xml", "--", "x"}, wantCode: 2, wantErr: "use text or json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := runOpsWorld(t)
			w.ECS.RunExitCode = tc.exit
			if tc.public != "" {
				w.ECS.Update(opsCluster, opsService, func(s *awsfake.ECSService) { s.Network.AssignPublicIP = tc.public })
			}
			args := append([]string{"run", "-f", specFile(t, opsSpec)}, tc.args...)
			code, out, errOut := runCmd(t, args...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, out, errOut)
			}
			if tc.wantOut != "" && out != tc.wantOut {
				t.Errorf("stdout = %q, want %q", out, tc.wantOut)
			}
			if !strings.Contains(errOut, tc.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantErr, errOut)
			}
			if tc.name == "flags after the command are its own" {
				reqs := w.ECS.RunRequests()
				if len(reqs) != 1 || strings.Join(reqs[0].Overrides.ContainerOverrides[0].Command, " ") != "migrate --format xml" {
					t.Errorf("RunTask = %+v", reqs)
				}
			}
		})
	}
}

func TestRunCommandJSON(t *testing.T) {
	w := runOpsWorld(t)
	w.ECS.RunExitCode = 4
	code, out, errOut := runCmd(t, "run", "-f", specFile(t, opsSpec), "--format", "json", "--", "migrate")
	if code != 4 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		TaskARN   string   `json:"task_arn"`
		ExitCode  *int     `json:"exit_code"`
		Command   []string `json:"command"`
		LogStream string   `json:"log_stream"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("stdout is not the JSON result: %v\n%s", err, out)
	}
	if res.ExitCode == nil || *res.ExitCode != 4 || res.TaskARN == "" || !strings.HasPrefix(res.LogStream, "links/links/") {
		t.Errorf("result = %+v", res)
	}
	if !strings.Contains(errOut, "migrated 2") {
		t.Errorf("log lines not on stderr:\n%s", errOut)
	}
}

func TestRunCommandRefusesServerless(t *testing.T) {
	w := runOpsWorld(t)
	code, _, errOut := runCmd(t, "run", "-f", specFile(t, opsSpec+"profile: serverless\n"), "--", "migrate")
	if code != 2 || !strings.Contains(errOut, "profile serverless") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := w.Requests(); n != 0 {
		t.Errorf("%d AWS requests for a refused run", n)
	}
}

func TestRunHelpTeaches(t *testing.T) {
	code, out, _ := runCmd(t, "run", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Usage:", "-- COMMAND", "Examples:", "ENTRYPOINT", "exit code", "serverless", "--format"} {
		if !strings.Contains(out, want) {
			t.Errorf("run --help lacks %q:\n%s", want, out)
		}
	}
}
