package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/awsfake/deployed"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
	"github.com/lowfare/lowfare/internal/testutil"
)

// The deployed app's names, as the tests here call them.
const (
	opsCluster = deployed.Cluster
	opsService = deployed.Service
	opsGroup   = deployed.LogGroup
	opsTG      = deployed.TargetGroup
	opsRes     = deployed.ResourceID
)

// opsWorld is a deployed links/dev app on local endpoints, reached by the
// CLI through the SDK's AWS_ENDPOINT_URL_<SERVICE> variables.
type opsWorld struct {
	*deployed.World
}

// newOpsWorld is deployed.World with what the commands' output shows: a
// daily schedule (sleep 20:00, wake 08:00, so a next wake exists whatever
// the day), a healthy target, the month's spend; ECS converges at once.
func newOpsWorld(t *testing.T) *opsWorld {
	t.Helper()
	w := &opsWorld{World: deployed.New()}
	w.ECS.Converge = true
	zero, one, two := int32(0), int32(1), int32(2)
	w.AutoScaling.AddScheduledAction(awsfake.ScheduledAction{Name: "sleep", Namespace: "ecs", ResourceID: opsRes, Dimension: deployed.Dimension,
		Schedule: "cron(0 20 ? * * *)", Timezone: "Europe/Berlin", Min: &zero, Max: &zero})
	w.AutoScaling.AddScheduledAction(awsfake.ScheduledAction{Name: "wake", Namespace: "ecs", ResourceID: opsRes, Dimension: deployed.Dimension,
		Schedule: "cron(0 8 ? * * *)", Timezone: "Europe/Berlin", Min: &one, Max: &two})
	w.ELB.SetTargets(opsTG, awsfake.Target{ID: "10.0.0.9", Port: 8080, State: "healthy"})
	w.Budgets.AddBudget(awsfake.Budget{Name: stack.BudgetName(spec.Default()), Limit: 10, Actual: 1.25, Forecasted: 4})
	awsfake.UseEndpoints(t, w.Endpoints(t))
	return w
}

const opsSpec = "app: links\nenv: dev\nregion: us-east-1\nservice:\n  count: {desired: 1, min: 1, max: 3}\n  secrets: [ADMIN_TOKEN, DB_KEY]\n"

func TestStatusCommand(t *testing.T) {
	w := newOpsWorld(t)
	w.CloudWatch.AddAlarm(awsfake.Alarm{Name: "lowfare-links-dev-5xx", State: "ALARM", Reason: "5xx above 5", Updated: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)})
	file := specFile(t, opsSpec)
	code, out, errOut := runCmdInput(t, "", "status", "-f", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"lowfare-links-dev UPDATE_COMPLETE", "links active: 1 desired, 1 running, 0 pending, bounds 1-2",
		"10.0.0.9:8080 healthy", "lowfare-links-dev-5xx in ALARM", "$1.25 of $10.00 this month", "next sleep", "Europe/Berlin"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = runCmdInput(t, "", "status", "-f", file, "--format", "json")
	if code != 0 {
		t.Fatalf("json: exit %d: %s", code, errOut)
	}
	var st struct {
		Service struct{ Desired, Running int }
		Alarms  []struct{ Name string }
		Budget  struct {
			Actual float64 `json:"actual_usd"`
		}
		Schedule struct {
			NextWake struct{ Action string } `json:"next_wake"`
		}
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --format json is not JSON: %v\n%s", err, out)
	}
	if st.Service.Running != 1 || len(st.Alarms) != 1 || st.Budget.Actual != 1.25 || st.Schedule.NextWake.Action != "wake" {
		t.Fatalf("json status = %+v", st)
	}
}

func TestOpsCommandsMissingStack(t *testing.T) {
	w := newOpsWorld(t)
	file := specFile(t, strings.Replace(opsSpec, "app: links", "app: ghost", 1))
	for _, args := range [][]string{{"status"}, {"logs"}, {"scale", "1"}, {"sleep"}, {"wake"}} {
		flag := "-f"
		if args[0] == "logs" {
			flag = "--file"
		}
		code, out, errOut := runCmdInput(t, "", append(args, flag, file)...)
		if code != 1 {
			t.Errorf("%v: exit %d, want 1 (stdout %q)", args, code, out)
		}
		if !strings.Contains(errOut, "lowfare-ghost-dev does not exist in us-east-1") || !strings.Contains(errOut, "lowfare deploy") {
			t.Errorf("%v: stderr %q does not say the stack is missing and what to do", args, errOut)
		}
	}
	if len(w.AutoScaling.Calls())+len(w.ECS.Calls())+len(w.Logs.Calls()) != 0 {
		t.Fatal("commands went past the missing stack")
	}
}

func TestOpsBadInputSendsNothing(t *testing.T) {
	w := newOpsWorld(t)
	good := specFile(t, opsSpec)
	bad := specFile(t, "app: [unclosed\n")
	serverless := specFile(t, opsSpec+"profile: serverless\n")
	tests := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"status invalid spec", "", []string{"status", "-f", bad}},
		{"status bad format", "", []string{"status", "-f", good, "--format", "xml"}},
		{"logs invalid spec", "", []string{"logs", "--file", bad}},
		{"logs bad since", "", []string{"logs", "--file", good, "--since", "-1h"}},
		{"scale invalid spec", "", []string{"scale", "1", "-f", bad}},
		{"scale negative", "", []string{"scale", "-f", good, "--", "-1"}},
		{"scale above max", "", []string{"scale", "4", "-f", good}},
		{"scale not a number", "", []string{"scale", "two", "-f", good}},
		{"scale no count", "", []string{"scale", "-f", good}},
		{"scale serverless", "", []string{"scale", "1", "-f", serverless}},
		{"sleep serverless", "", []string{"sleep", "-f", serverless}},
		{"wake invalid spec", "", []string{"wake", "-f", bad}},
		{"secrets no subcommand", "", []string{"secrets"}},
		{"secrets set bad name", "v", []string{"secrets", "set", "NOT-OK", "-f", good}},
		{"secrets set empty stdin", "\n", []string{"secrets", "set", "ADMIN_TOKEN", "-f", good}},
		{"secrets set missing file", "", []string{"secrets", "set", "ADMIN_TOKEN", "-f", good, "--from-file", "/nonexistent/x"}},
		{"secrets set invalid spec", "v", []string{"secrets", "set", "ADMIN_TOKEN", "-f", bad}},
		{"secrets rm bad name", "", []string{"secrets", "rm", "a/b", "-f", good}},
		{"secrets list invalid spec", "", []string{"secrets", "list", "-f", bad}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCmdInput(t, tt.stdin, tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr %q", code, errOut)
			}
			if errOut == "" {
				t.Error("no message on stderr")
			}
			if n := w.Requests(); n != 0 {
				t.Fatalf("the fakes saw %d requests for bad input", n)
			}
		})
	}
}

func TestScaleSleepWakeCommands(t *testing.T) {
	w := newOpsWorld(t)
	file := specFile(t, opsSpec)
	state := func() string {
		tg, _ := w.AutoScaling.Target("ecs", opsRes, "ecs:service:DesiredCount")
		sv, _ := w.ECS.Service(opsCluster, opsService)
		return strings.Join([]string{itoa(tg.Min), itoa(tg.Max), itoa(sv.Desired), itoa(sv.Running)}, " ")
	}
	steps := []struct {
		args    []string
		state   string // min max desired running
		printed string
		until   string // the kind of scheduled action that ends it
	}{
		{[]string{"scale", "3"}, "3 3 3 3", "links: 3 desired, bounds 3-3", ""},
		{[]string{"sleep"}, "0 0 0 0", "links: 0 desired, bounds 0-0", "wake (wake)"},
		{[]string{"wake"}, "1 3 1 1", "links: 1 desired, bounds 1-3", "sleep (sleep)"},
		{[]string{"scale", "0"}, "0 0 0 0", "links: 0 desired", ""},
	}
	for _, st := range steps {
		code, out, errOut := runCmdInput(t, "", append(st.args, "-f", file)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", st.args, code, errOut)
		}
		if got := state(); got != st.state {
			t.Fatalf("%v: state (min max desired running) = %s, want %s", st.args, got, st.state)
		}
		if !strings.Contains(out, st.printed) || !strings.Contains(out, "Holds until the next scheduled "+st.until) || !strings.Contains(out, "Europe/Berlin") {
			t.Fatalf("%v printed:\n%s", st.args, out)
		}
	}
}

func itoa(v int32) string { return strconv.Itoa(int(v)) }

func TestSecretsCommands(t *testing.T) {
	w := newOpsWorld(t)
	file := specFile(t, opsSpec)
	const value = "s3cr3t-VALUE-7f1c"

	code, out, errOut := runCmdInput(t, value+"\n", "secrets", "set", "ADMIN_TOKEN", "-f", file)
	if code != 0 {
		t.Fatalf("set: exit %d: %s", code, errOut)
	}
	if p, _ := w.SSM.Parameter("/lowfare/links/dev/ADMIN_TOKEN"); p.Value != value || p.Type != "SecureString" {
		t.Fatalf("stored %q (%s), want the value without its newline as SecureString", p.Value, p.Type)
	}
	all := out + errOut
	secretFile := filepath.Join(t.TempDir(), "v")
	if err := os.WriteFile(secretFile, []byte("line1\nline2\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCmdInput(t, "", "secrets", "set", "EXTRA", "-f", file, "--from-file", secretFile)
	if code != 0 {
		t.Fatalf("set --from-file: exit %d: %s", code, errOut)
	}
	if p, _ := w.SSM.Parameter("/lowfare/links/dev/EXTRA"); p.Value != "line1\nline2\n" {
		t.Fatalf("from file stored %q; only one trailing newline may go", p.Value)
	}
	if !strings.Contains(out, "not in service.secrets") {
		t.Errorf("set of a name outside the spec gave no note:\n%s", out)
	}
	all += out + errOut

	code, out, errOut = runCmdInput(t, "", "secrets", "list", "-f", file)
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"ADMIN_TOKEN", "EXTRA", "DB_KEY", "missing: lowfare secrets set DB_KEY"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	all += out + errOut

	// The same as JSON, names and versions, no values.
	code, out, errOut = runCmdInput(t, "", "secrets", "list", "-f", file, "--format", "json")
	var listed struct {
		Prefix  string `json:"prefix"`
		Secrets []struct {
			Name    string `json:"name"`
			Version int64  `json:"version"`
			InSpec  bool   `json:"in_spec"`
		} `json:"secrets"`
		Missing []string `json:"missing"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &listed) != nil || listed.Prefix != "/lowfare/links/dev/" || len(listed.Secrets) != 2 || !slices.Equal(listed.Missing, []string{"DB_KEY"}) {
		t.Errorf("list --format json: exit %d %s\n%s", code, errOut, out)
	}
	all += out + errOut

	code, out, errOut = runCmdInput(t, "", "secrets", "rm", "ADMIN_TOKEN", "-f", file)
	if code != 0 || !strings.Contains(out, "still in service.secrets") {
		t.Fatalf("rm: exit %d: %s%s", code, out, errOut)
	}
	all += out + errOut
	code, _, errOut = runCmdInput(t, "", "secrets", "rm", "ADMIN_TOKEN", "-f", file)
	if code != 1 || !strings.Contains(errOut, "secret not found") {
		t.Fatalf("rm of a missing secret: exit %d, stderr %q", code, errOut)
	}
	if strings.Contains(all, value) || strings.Contains(all, "line1") {
		t.Fatalf("a secret value was printed:\n%s", all)
	}
	if w.SSM.DecryptRequests() != 0 {
		t.Fatal("secrets asked SSM to decrypt")
	}
}

func TestLogsCommand(t *testing.T) {
	w := newOpsWorld(t)
	file := specFile(t, opsSpec)
	now := time.Now()
	w.Logs.Put(opsGroup, "links/links/feedfacecafebeef", now.Add(-3*time.Hour).UnixMilli(), "old start-up line")
	w.Logs.Put(opsGroup, "links/links/feedfacecafebeef", now.Add(-10*time.Minute).UnixMilli(), "GET /x 200")
	w.Logs.Put(opsGroup, "links/links/feedfacecafebeef", now.Add(-5*time.Minute).UnixMilli(), "GET /y 500")

	code, out, errOut := runCmdInput(t, "", "logs", "--file", file, "--since", "1h", "--filter", "500")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, " feedface GET /y 500\n") || strings.Contains(out, "/x") || strings.Contains(out, "old") {
		t.Fatalf("logs --filter 500 printed:\n%s", out)
	}
	code, out, _ = runCmdInput(t, "", "logs", "--file", file, "--since", "4h")
	if code != 0 || strings.Count(out, "\n") != 3 {
		t.Fatalf("logs --since 4h: exit %d:\n%s", code, out)
	}

	// --follow follows until the context is cancelled, then exits 0.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout := &testutil.Buffer{}
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, []string{"logs", "--follow", "-f", file}, strings.NewReader(""), stdout, &bytes.Buffer{})
	}()
	limit, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	wait := func(s string) {
		if err := stdout.WaitFor(limit, s); err != nil {
			t.Fatal(err)
		}
	}
	wait("GET /y 500")
	w.Logs.Put(opsGroup, "links/links/0000000011111111", time.Now().UnixMilli(), "arrived while following")
	wait("arrived while following")
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("logs -f exit %d after cancel, want 0", code)
		}
	case <-limit.Done():
		t.Fatal("logs -f did not stop when its context was cancelled")
	}
	if strings.Count(stdout.String(), "GET /y 500") != 1 {
		t.Fatalf("an event printed twice while following:\n%s", stdout.String())
	}
}

func TestOpsMissingCredentials(t *testing.T) {
	w := newOpsWorld(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	file := specFile(t, opsSpec)
	for _, args := range [][]string{{"status", "-f", file}, {"secrets", "list", "-f", file}, {"sleep", "-f", file}} {
		code, _, errOut := runCmdInput(t, "", args...)
		if code != 1 {
			t.Errorf("%v: exit %d, want 1", args, code)
		}
		if strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "AWS_PROFILE") {
			t.Errorf("%v: stderr %q, want one line naming what to set", args, errOut)
		}
	}
	if w.Requests() != 0 {
		t.Fatal("requests were made without credentials")
	}
}
