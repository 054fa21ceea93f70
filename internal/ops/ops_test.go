package ops

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
	"github.com/lowfare/lowfare/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testutil.Golden(t, filepath.Join("testdata", name), got, *update)
}

// wednesday evening in Berlin: the next sleep is tonight, the next wake tomorrow.
var statusNow = time.Date(2026, 11, 25, 18, 30, 0, 0, time.UTC)

func TestStatus(t *testing.T) {
	w := newWorld(t)
	w.AddSchedule()
	w.ECS.AddService(awsfake.ECSService{Cluster: testCluster, Name: testService, Desired: 2, Running: 1, Pending: 1})
	w.ELB.SetTargets(testTG, awsfake.Target{ID: "10.0.0.12", Port: 8080, State: "healthy"},
		awsfake.Target{ID: "10.0.1.40", Port: 8080, State: "initial", Reason: "Elb.RegistrationInProgress"})
	w.CloudWatch.AddAlarm(awsfake.Alarm{Name: "lowfare-links-dev-5xx", State: "ALARM", Reason: "Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0).", Updated: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)})
	w.CloudWatch.AddAlarm(awsfake.Alarm{Name: "lowfare-links-dev-cpu", State: "OK"})
	w.CloudWatch.AddAlarm(awsfake.Alarm{Name: "someone-else-5xx", State: "ALARM"})
	w.Budgets.AddBudget(awsfake.Budget{Name: stack.BudgetName(w.spec), Limit: 10, Actual: 3.2, Forecasted: 11.5})

	st, err := GetStatus(testCtx(t), w.clients, w.spec, statusNow)
	if err != nil {
		t.Fatal(err)
	}
	if st.Unavailable != nil {
		t.Fatalf("unavailable parts: %v", st.Unavailable)
	}
	if st.Service.Desired != 2 || st.Service.Running != 1 || st.Service.Pending != 1 || *st.Service.Min != 1 || *st.Service.Max != 2 {
		t.Errorf("service = %+v", st.Service)
	}
	if len(st.Alarms) != 1 || st.Alarms[0].Name != "lowfare-links-dev-5xx" {
		t.Errorf("alarms = %+v, want only the app's firing alarm", st.Alarms)
	}
	if st.Budget.Actual != 3.2 || st.Budget.Limit != 10 || st.Budget.Forecasted != 11.5 {
		t.Errorf("budget = %+v", st.Budget)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if !st.Schedule.NextSleep.At.Equal(time.Date(2026, 11, 25, 20, 0, 0, 0, berlin)) || !st.Schedule.NextWake.At.Equal(time.Date(2026, 11, 26, 8, 0, 0, 0, berlin)) {
		t.Errorf("schedule = sleep %v, wake %v", st.Schedule.NextSleep.At, st.Schedule.NextWake.At)
	}
	var text, js bytes.Buffer
	if err := st.WriteText(&text, statusNow); err != nil {
		t.Fatal(err)
	}
	golden(t, "status.txt", text.Bytes())
	if err := st.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	golden(t, "status.json", js.Bytes())
}

func TestStatusDegradesPerPart(t *testing.T) {
	w := newWorld(t)
	// No budget, no target group registered: the rest still shows.
	st, err := GetStatus(testCtx(t), w.clients, w.spec, statusNow)
	if err != nil {
		t.Fatal(err)
	}
	if st.Service == nil || st.Service.Running != 1 {
		t.Fatalf("service = %+v", st.Service)
	}
	for _, part := range []string{"budget", "targets"} {
		if !strings.Contains(st.Unavailable[part], "NotFound") {
			t.Errorf("unavailable[%s] = %q, want a not-found reason", part, st.Unavailable[part])
		}
	}
	var text bytes.Buffer
	_ = st.WriteText(&text, statusNow)
	for _, want := range []string{"1 desired, 1 running, 0 pending, bounds 1-2", "none in ALARM", "none: runs around the clock", "budget", "unavailable: reading budget lowfare-links-dev"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("status text lacks %q:\n%s", want, text.String())
		}
	}
}

func TestStatusServerless(t *testing.T) {
	w := newWorld(t)
	w.spec.Profile = spec.ProfileServerless
	w.CloudFormation.PutStack(w.spec.StackName(), "CREATE_COMPLETE", map[string]string{
		stack.OutputURL: "https://abc.lambda-url.us-east-1.on.aws/", stack.OutputFunction: "lowfare-links-dev-Fn-1", stack.OutputLogGroup: testGroup})
	st, err := GetStatus(testCtx(t), w.clients, w.spec, statusNow)
	if err != nil {
		t.Fatal(err)
	}
	if st.Function != "lowfare-links-dev-Fn-1" || st.Service != nil || st.Targets != nil {
		t.Fatalf("status = %+v", st)
	}
	if n := len(w.ECS.Calls()) + len(w.AutoScaling.Calls()) + len(w.ELB.Calls()); n != 0 {
		t.Fatalf("serverless status called ECS/AutoScaling/ELB %d times", n)
	}
}

func TestMissingStack(t *testing.T) {
	w := newWorld(t)
	w.spec.App = "ghost"
	_, err := GetStatus(testCtx(t), w.clients, w.spec, statusNow)
	if !errors.Is(err, ErrStackNotFound) {
		t.Fatalf("err = %v, want ErrStackNotFound", err)
	}
	for _, want := range []string{"lowfare-ghost-dev", "us-east-1", "lowfare deploy"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := Sleep(testCtx(t), w.clients, w.spec); !errors.Is(err, ErrStackNotFound) {
		t.Fatalf("sleep: err = %v", err)
	}
	if len(w.AutoScaling.Calls())+len(w.ECS.Calls()) != 0 {
		t.Fatal("scaling calls made for a missing stack")
	}
}

func TestScaleSleepWake(t *testing.T) {
	w := newWorld(t)
	w.AddSchedule()
	w.spec.Service.Count = spec.Count{Desired: 1, Min: 1, Max: 3}
	ctx := testCtx(t)
	check := func(step string, min, max, desired int32) {
		t.Helper()
		tg, _ := w.AutoScaling.Target("ecs", w.resourceID(), "ecs:service:DesiredCount")
		sv, _ := w.ECS.Service(testCluster, testService)
		if tg.Min != min || tg.Max != max || sv.Desired != desired {
			t.Fatalf("after %s: bounds %d-%d desired %d, want %d-%d desired %d", step, tg.Min, tg.Max, sv.Desired, min, max, desired)
		}
	}
	res, err := Scale(ctx, w.clients, w.spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	check("scale 3", 3, 3, 3)
	if res.Next == nil || res.Next.Kind == "" {
		t.Fatalf("scale result has no next scheduled action: %+v", res)
	}
	if _, err := Sleep(ctx, w.clients, w.spec); err != nil {
		t.Fatal(err)
	}
	check("sleep", 0, 0, 0)
	res, err = Wake(ctx, w.clients, w.spec)
	if err != nil {
		t.Fatal(err)
	}
	check("wake", 1, 3, 1)
	if res.Set != (Capacity{Min: 1, Max: 3, Desired: 1}) {
		t.Fatalf("wake result = %+v", res.Set)
	}
	// Bounds always go before the desired count.
	want := []string{"RegisterScalableTarget", "DescribeScheduledActions"}
	if got := w.AutoScaling.Calls(); !slices.Equal(got[:2], want) {
		t.Fatalf("auto scaling calls = %v", got)
	}
}

func TestScaleRejectsBadCounts(t *testing.T) {
	w := newWorld(t)
	for _, n := range []int{-1, 3} {
		if _, err := Scale(testCtx(t), w.clients, w.spec, n); err == nil {
			t.Errorf("Scale(%d) with max 2 succeeded", n)
		}
	}
	w.spec.Profile = spec.ProfileServerless
	for name, fn := range map[string]func() error{
		"scale": func() error { _, err := Scale(testCtx(t), w.clients, w.spec, 1); return err },
		"sleep": func() error { _, err := Sleep(testCtx(t), w.clients, w.spec); return err },
		"wake":  func() error { _, err := Wake(testCtx(t), w.clients, w.spec); return err },
	} {
		if err := fn(); !errors.Is(err, ErrNotECS) {
			t.Errorf("%s on serverless: %v, want ErrNotECS", name, err)
		}
	}
	if len(w.CloudFormation.Calls())+len(w.AutoScaling.Calls())+len(w.ECS.Calls()) != 0 {
		t.Fatal("a rejected request reached AWS")
	}
}

func TestScaleServiceGone(t *testing.T) {
	w := newWorld(t)
	w.outputs[stack.OutputCluster] = "other-cluster"
	w.CloudFormation.PutStack(w.spec.StackName(), "UPDATE_COMPLETE", w.outputs)
	_, err := Scale(testCtx(t), w.clients, w.spec, 1)
	if err == nil || !strings.Contains(err.Error(), "desired count") {
		t.Fatalf("err = %v, want the UpdateService failure explained", err)
	}
}

// TestOutputResources checks OutputResources against the templates: each
// output it maps is a Ref or GetAtt of that logical ID in every example,
// and each output wantedOutputs expects exists there.
func TestOutputResources(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, f := range files {
		s, err := spec.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		res, err := stack.Build(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, out := range wantedOutputs(s) {
			o, ok := res.Main.Outputs[out]
			if !ok {
				t.Errorf("%s: the template has no output %s, which ops reads", f, out)
				continue
			}
			v, _ := json.Marshal(o.Value)
			id := OutputResources[out]
			if string(v) != `{"Ref":"`+id+`"}` && !strings.HasPrefix(string(v), `{"Fn::GetAtt":["`+id+`",`) {
				t.Errorf("%s: output %s = %s; OutputResources says it names %s", f, out, v, id)
			}
		}
	}
}

// A stack without outputs (moto's change sets leave them empty; an older
// lowfare had fewer) is operated through its resources by logical ID.
func TestDayTwoWithoutOutputs(t *testing.T) {
	w := newWorld(t)
	name := w.spec.StackName()
	w.CloudFormation.PutStack(name, "CREATE_COMPLETE", nil)
	ctx := testCtx(t)
	if _, err := Sleep(ctx, w.clients, w.spec); err == nil || !strings.Contains(err.Error(), "has no output ClusterName") {
		t.Fatalf("sleep without outputs or resources = %v; want the missing output named", err)
	}
	w.CloudFormation.PutResource(name, "Cluster", "AWS::ECS::Cluster", testCluster)
	w.CloudFormation.PutResource(name, "Service", "AWS::ECS::Service", "arn:aws:ecs:us-east-1:123456789012:service/"+testCluster+"/"+testService)
	w.CloudFormation.PutResource(name, "LogGroup", "AWS::Logs::LogGroup", testGroup)
	if _, err := Sleep(ctx, w.clients, w.spec); err != nil {
		t.Fatal(err)
	}
	if sv, _ := w.ECS.Service(testCluster, testService); sv.Desired != 0 {
		t.Fatalf("desired after sleep = %d", sv.Desired)
	}
	st, err := DescribeStack(ctx, w.clients.CloudFormation, w.spec)
	if err != nil {
		t.Fatal(err)
	}
	if g, err := st.Output(stack.OutputLogGroup); err != nil || g != testGroup {
		t.Errorf("log group = %q, %v", g, err)
	}
}
