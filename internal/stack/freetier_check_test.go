package stack

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/testutil"
)

// The daily check as the template carries it (the packed Code.ZipFile),
// run by Python with boto3 against moto (SSM, SNS) and lowfare's Free
// Tier double: one email per limit crossing 80% by forecast and month,
// none below, none for services the app does not use, again in a new month.
func TestFreeTierCheckAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH")
	}
	moto := testutil.Moto(t)
	fake := awsfake.NewFreeTier()
	fake.PageSize = 2 // the check follows nextToken
	dir := t.TempDir()
	check := filepath.Join(dir, "index.py")
	if err := os.WriteFile(check, []byte(FreeTierCheckZipFile()), 0o644); err != nil {
		t.Fatal(err)
	}
	s := spec.Default()
	usage := func(cloudwatchForecast float64) {
		fake.SetUsage(
			awsfake.FreeTierUsage{Service: "Amazon DynamoDB", UsageType: "TimedStorage-ByteHrs", Region: "global", Actual: 10, Forecast: 20, Limit: 25, Unit: "GB-Mo", Description: "25 GB", FreeTierType: "Always Free"},
			awsfake.FreeTierUsage{Service: "AmazonCloudWatch", UsageType: "CW:AlarmMonitorUsage", Region: "global", Actual: 3, Forecast: cloudwatchForecast, Limit: 10, Unit: "Alarms", FreeTierType: "Always Free"},
			awsfake.FreeTierUsage{Service: "Amazon Elastic Compute Cloud", UsageType: "BoxUsage:freetier.micro", Region: "global", Actual: 700, Forecast: 900, Limit: 750, Unit: "Hrs", FreeTierType: "12 Months Free"},
			awsfake.FreeTierUsage{Service: "AWS Lambda", UsageType: "Request", Region: "global", Actual: 500000, Forecast: 900000, Limit: 1e6, Unit: "Requests", FreeTierType: "Always Free"},
		)
	}
	type run struct {
		Result map[string]int `json:"result"`
		Emails []struct {
			Subject, Message string
		} `json:"emails"`
		State map[string][]string `json:"state"`
	}
	invoke := func(now string) run {
		t.Helper()
		cmd := exec.Command(python, "testdata/freetier/run_check.py")
		cmd.Env = append(os.Environ(), "MOTO_URL="+moto, "FREETIER_URL="+awsfake.Serve(t, fake), "CHECK="+check, "NOW="+now,
			"SERVICES="+strings.Join(FreeTierServices(s), ","), "APP=links/dev")
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("the check failed: %v\n%s\n%s", err, out, stderr)
		}
		var r run
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return r
	}
	services := func(r run) []string {
		var out []string
		for _, e := range r.Emails {
			out = append(out, strings.SplitN(e.Message, " ", 3)[0]+" "+strings.SplitN(e.Message, " ", 3)[1])
		}
		slices.Sort(out)
		return out
	}

	usage(7) // CloudWatch at 70%: below
	first := invoke("2026-12-08T06:00:00+00:00")
	if got := services(first); !slices.Equal(got, []string{"AWS Lambda", "Amazon DynamoDB"}) || first.Result["emailed"] != 2 {
		t.Fatalf("first run emailed %v (%v), want DynamoDB (80%%) and Lambda (90%%) only", got, first.Result)
	}
	for _, e := range first.Emails {
		if e.Subject != "lowfare links/dev: free tier" || !strings.Contains(e.Message, "account-wide") {
			t.Errorf("email %q: %q", e.Subject, e.Message)
		}
	}
	if !strings.Contains(first.Emails[0].Message+first.Emails[1].Message, "Amazon DynamoDB TimedStorage-ByteHrs at 80% by forecast: 10 of 25 GB-Mo used, forecast 20") {
		t.Errorf("emails %+v", first.Emails)
	}
	if again := invoke("2026-12-09T06:00:00+00:00"); len(again.Emails) != 0 {
		t.Errorf("the next day emailed again: %+v", again.Emails)
	}
	usage(8) // CloudWatch reaches 80%: its own email, once
	third := invoke("2026-12-10T06:00:00+00:00")
	if got := services(third); !slices.Equal(got, []string{"AmazonCloudWatch CW:AlarmMonitorUsage"}) {
		t.Errorf("CloudWatch at 80%%: emailed %v", got)
	}
	if len(third.State["2026-12"]) != 3 {
		t.Errorf("state %v: want the three limits of December", third.State)
	}
	// A new month starts over: each limit still over is emailed once more.
	jan := invoke("2027-01-02T06:00:00+00:00")
	if len(jan.Emails) != 3 || len(jan.State) != 1 || len(jan.State["2027-01"]) != 3 {
		t.Errorf("January: %d emails, state %v", len(jan.Emails), jan.State)
	}
	if n := fake.CallCount("GetFreeTierUsage"); n != 4*2 {
		t.Errorf("%d GetFreeTierUsage calls, want 2 pages a run", n)
	}
}

// The part as plan shows it, and the function's configuration.
func TestFreeTierCheckPart(t *testing.T) {
	for _, s := range []*spec.Spec{spec.Default(), idleSpec(spec.IngressAPIGW, "15m", true)} {
		r := build(t, s)
		g := generic(t, r.Main)
		fn := resourcesOfType(g, "AWS::Lambda::Function")["FreeTierCheck"]
		env := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
		if env["SERVICES"] != strings.Join(FreeTierServices(s), ",") || fn["Runtime"] != ControllerRuntime {
			t.Errorf("function %v", fn)
		}
		sched := resourcesOfType(g, "AWS::Scheduler::Schedule")["FreeTierSchedule"]
		if sched["ScheduleExpression"] != FreeTierCheckRate {
			t.Errorf("schedule %v", sched)
		}
		var parts []string
		for _, e := range r.Entries {
			if e.Part == PartFreeTier {
				parts = append(parts, e.LogicalID)
			}
		}
		want := []string{"FreeTierCheck", "FreeTierLogGroup", "FreeTierRole", "FreeTierSchedule", "FreeTierScheduleRole", "FreeTierState"}
		if s.Service.Idle != nil {
			// The idle controller's schedule role invokes it too.
			want = slices.DeleteFunc(want, func(id string) bool { return id == "FreeTierScheduleRole" })
			role, _ := json.Marshal(resourcesOfType(g, "AWS::IAM::Role")["ScheduleRole"])
			if !strings.Contains(string(role), `"Fn::GetAtt":["FreeTierCheck","Arn"]`) {
				t.Errorf("idle schedule role does not invoke the check: %s", role)
			}
		}
		slices.Sort(parts)
		if !slices.Equal(parts, want) {
			t.Errorf("part %s: %v, want %v", PartFreeTier, parts, want)
		}
	}
	// The threshold the check compares with is the one status marks at.
	if !strings.Contains(FreeTierCheckSource(), "fc / 0.8") || FreeTierWarnShare != 0.8 {
		t.Error("the check's threshold is not FreeTierWarnShare")
	}
}
