package stack

import (
	stdzip "archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/gosrc"
	"github.com/lowfare/lowfare/internal/image"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/testutil"
	"github.com/lowfare/lowfare/internal/wakepage"
)

func idleSpec(kind, after string, schedule bool) *spec.Spec {
	return idleServeSpec(kind, after, spec.ServePage, schedule)
}

func idleServeSpec(kind, after, serve string, schedule bool) *spec.Spec {
	return variant(func(s *spec.Spec) {
		s.Ingress.Kind = kind
		s.Service.Idle = &spec.Idle{After: after, Serve: serve}
		if schedule {
			s.Service.Schedule = &spec.Schedule{Timezone: "Europe/Berlin", Awake: "Mon-Fri 08:00-20:00, Sat 10:00-14:00"}
		}
	})
}

// policyOf returns the wake role's statements as action -> resources (JSON).
func policyOf(t *testing.T, g map[string]any) map[string][]string {
	t.Helper()
	role := resourcesOfType(g, "AWS::IAM::Role")["WakeRole"]
	if role == nil {
		t.Fatal("no WakeRole")
	}
	out := map[string][]string{}
	for _, p := range role["Policies"].([]any) {
		for _, st := range p.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			sm := st.(map[string]any)
			for _, a := range asList(sm["Action"]) {
				for _, r := range asList(sm["Resource"]) {
					j, _ := json.Marshal(r)
					out[a.(string)] = append(out[a.(string)], string(j))
				}
			}
		}
	}
	return out
}

func TestIdleAbsentWithoutIdle(t *testing.T) {
	for _, c := range allSpecs(t) {
		if c.spec.Service.Idle != nil {
			continue
		}
		for _, e := range build(t, c.spec).Entries {
			if e.Part == PartIdle || strings.HasPrefix(e.LogicalID, "Wake") || e.LogicalID == "IdleAlarm" {
				t.Errorf("%s: %s (%s) without service.idle", c.name, e.LogicalID, e.Type)
			}
		}
	}
}

func TestIdleALB(t *testing.T) {
	r := build(t, idleSpec(spec.IngressALB, "15m", false))
	g := generic(t, r.Main)

	alarm := resourcesOfType(g, "AWS::CloudWatch::Alarm")["IdleAlarm"]
	if alarm == nil {
		t.Fatal("no IdleAlarm")
	}
	if alarm["Namespace"] != "AWS/ApplicationELB" || alarm["MetricName"] != "RequestCount" || alarm["Statistic"] != "Sum" {
		t.Errorf("alarm metric: %v %v %v", alarm["Namespace"], alarm["MetricName"], alarm["Statistic"])
	}
	wantDims := []any{map[string]any{"Name": "LoadBalancer", "Value": map[string]any{"Fn::GetAtt": []any{"LoadBalancer", "LoadBalancerFullName"}}}}
	if !reflect.DeepEqual(alarm["Dimensions"], wantDims) {
		t.Errorf("alarm dimensions %v, want %v", alarm["Dimensions"], wantDims)
	}
	checkIdleAlarm(t, alarm, 15*60)

	fn := resourcesOfType(g, "AWS::Lambda::Function")["WakeFunction"]
	if fn["Runtime"] != ControllerRuntime || !reflect.DeepEqual(fn["Architectures"], []any{"arm64"}) || fn["MemorySize"] != float64(128) || fn["Handler"] != "index.handler" {
		t.Errorf("function: %v %v %v %v", fn["Runtime"], fn["Architectures"], fn["MemorySize"], fn["Handler"])
	}
	if code := fn["Code"].(map[string]any)["ZipFile"].(string); code != ControllerSource(true, false) {
		t.Errorf("inline code is not the controller")
	}
	if src := ControllerSource(true, false); !strings.Contains(src, "def handler(event, context):") || strings.Contains(src, "__PAGES__") || !strings.Contains(src, "waking up") || strings.Contains(src, `"HTMLClosed":`) {
		t.Errorf("controller source lacks the handler or the waking pages, or has closed pages without a schedule")
	}
	env := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	if env["INGRESS"] != "alb" || env["CONTROLLER_TG_NAME"] == nil || env["SERVICE_TG"] == nil || env["WINDOWS"] != nil {
		t.Errorf("env: %v", env)
	}

	tg := resourcesOfType(g, "AWS::ElasticLoadBalancingV2::TargetGroup")["WakeTargetGroup"]
	if tg["TargetType"] != "lambda" || len(tg["Targets"].([]any)) != 1 {
		t.Errorf("wake target group: %v", tg)
	}
	if deps := r.Main.Resources["WakeTargetGroup"].DependsOn; !slices.Contains(deps, "WakeTargetGroupPermission") {
		t.Errorf("WakeTargetGroup depends on %v; the invoke permission must exist before the target registers", deps)
	}

	perms := resourcesOfType(g, "AWS::Lambda::Permission")
	principals := map[string]bool{}
	for id, p := range perms {
		if p["Action"] != "lambda:InvokeFunction" || p["SourceArn"] == nil {
			t.Errorf("%s: %v", id, p)
		}
		principals[p["Principal"].(string)] = true
	}
	if want := map[string]bool{"elasticloadbalancing.amazonaws.com": true, "lambda.alarms.cloudwatch.amazonaws.com": true}; !reflect.DeepEqual(principals, want) {
		t.Errorf("invokers %v, want %v", principals, want)
	}

	checkAnchorRule(t, g, "HttpListener")

	pol := policyOf(t, g)
	want := map[string][]string{
		"logs:CreateLogStream":                           {`{"Fn::GetAtt":["WakeLogGroup","Arn"]}`},
		"logs:PutLogEvents":                              {`{"Fn::GetAtt":["WakeLogGroup","Arn"]}`},
		"ecs:DescribeServices":                           {`{"Ref":"Service"}`},
		"ecs:UpdateService":                              {`{"Ref":"Service"}`},
		"ecs:TagResource":                                {`{"Ref":"Service"}`},
		"application-autoscaling:RegisterScalableTarget": {`{"Fn::Sub":"arn:${AWS::Partition}:application-autoscaling:${AWS::Region}:${AWS::AccountId}:scalable-target/*"}`},
		"cloudwatch:DescribeAlarms":                      {`{"Fn::Sub":"arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:lowfare-links-dev-idle"}`},
		"elasticloadbalancing:ModifyListener":            {`{"Ref":"HttpListener"}`},
		"elasticloadbalancing:DescribeListeners":         {`"*"`},
		"elasticloadbalancing:DescribeTargetGroups":      {`"*"`},
		"elasticloadbalancing:DescribeTargetHealth":      {`"*"`},
	}
	if !reflect.DeepEqual(pol, want) {
		t.Errorf("wake role:\n got %v\nwant %v", pol, want)
	}
	if _, ok := r.Main.Outputs[OutputWakeFunction]; !ok {
		t.Errorf("no %s output", OutputWakeFunction)
	}
}

func TestIdleALBWithTLSModifiesTheHTTPSListenerOnly(t *testing.T) {
	s := idleSpec(spec.IngressALB, "15m", false)
	s.Ingress.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
	g := generic(t, build(t, s).Main)
	pol := policyOf(t, g)
	if got := pol["elasticloadbalancing:ModifyListener"]; !reflect.DeepEqual(got, []string{`{"Ref":"HttpsListener"}`}) {
		t.Errorf("ModifyListener on %v, want the HTTPS listener (HTTP only redirects)", got)
	}
	checkAnchorRule(t, g, "HttpsListener")
}

// checkAnchorRule asserts that the listener the controller moves has a rule
// forwarding to the service's target group, so that ELB keeps
// health-checking its targets while the default action points elsewhere;
// the controller's tests against moto enforce what happens without it.
func checkAnchorRule(t *testing.T, g map[string]any, listener string) {
	t.Helper()
	rules := resourcesOfType(g, "AWS::ElasticLoadBalancingV2::ListenerRule")
	r := rules["ServiceAnchorRule"]
	if len(rules) != 1 || r == nil {
		t.Fatalf("listener rules %v, want ServiceAnchorRule only", rules)
	}
	if !reflect.DeepEqual(r["ListenerArn"], map[string]any{"Ref": listener}) {
		t.Errorf("anchor rule on %v, want %s", r["ListenerArn"], listener)
	}
	want := []any{map[string]any{"Type": "forward", "TargetGroupArn": map[string]any{"Ref": "TargetGroup"}}}
	if !reflect.DeepEqual(r["Actions"], want) {
		t.Errorf("anchor rule actions %v, want forward to TargetGroup", r["Actions"])
	}
	cond := r["Conditions"].([]any)[0].(map[string]any)
	if cond["Field"] != "http-header" {
		t.Errorf("anchor rule condition %v, want a header real traffic does not send", cond)
	}
}

func TestIdleAPIGW(t *testing.T) {
	r := build(t, idleSpec(spec.IngressAPIGW, "1h30m", false))
	g := generic(t, r.Main)
	alarm := resourcesOfType(g, "AWS::CloudWatch::Alarm")["IdleAlarm"]
	if alarm["Namespace"] != "AWS/ApiGateway" || alarm["MetricName"] != "Count" {
		t.Errorf("alarm metric: %v %v", alarm["Namespace"], alarm["MetricName"])
	}
	wantDims := []any{
		map[string]any{"Name": "ApiId", "Value": map[string]any{"Ref": "HttpApi"}},
		map[string]any{"Name": "Stage", "Value": "$default"},
	}
	if !reflect.DeepEqual(alarm["Dimensions"], wantDims) {
		t.Errorf("alarm dimensions %v, want %v", alarm["Dimensions"], wantDims)
	}
	checkIdleAlarm(t, alarm, 90*60)

	integ := resourcesOfType(g, "AWS::ApiGatewayV2::Integration")["WakeIntegration"]
	if integ["IntegrationType"] != "AWS_PROXY" || integ["PayloadFormatVersion"] != "2.0" {
		t.Errorf("wake integration: %v", integ)
	}
	perms := resourcesOfType(g, "AWS::Lambda::Permission")
	if p := perms["WakeIntegrationPermission"]; p["Principal"] != "apigateway.amazonaws.com" ||
		!reflect.DeepEqual(p["SourceArn"], map[string]any{"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*/$default"}) {
		t.Errorf("API invoke permission: %v", p)
	}
	if len(perms) != 2 {
		t.Errorf("%d invoke permissions, want 2 (API Gateway, the alarm)", len(perms))
	}
	pol := policyOf(t, g)
	want := map[string][]string{
		"logs:CreateLogStream":                           {`{"Fn::GetAtt":["WakeLogGroup","Arn"]}`},
		"logs:PutLogEvents":                              {`{"Fn::GetAtt":["WakeLogGroup","Arn"]}`},
		"ecs:DescribeServices":                           {`{"Ref":"Service"}`},
		"ecs:UpdateService":                              {`{"Ref":"Service"}`},
		"ecs:TagResource":                                {`{"Ref":"Service"}`},
		"application-autoscaling:RegisterScalableTarget": {`{"Fn::Sub":"arn:${AWS::Partition}:application-autoscaling:${AWS::Region}:${AWS::AccountId}:scalable-target/*"}`},
		"cloudwatch:DescribeAlarms":                      {`{"Fn::Sub":"arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:lowfare-links-dev-idle"}`},
		"apigateway:PATCH":                               {`{"Fn::Sub":"arn:${AWS::Partition}:apigateway:${AWS::Region}::/apis/${HttpApi}/routes/${DefaultRoute}"}`},
		"apigateway:GET": {
			`{"Fn::Sub":"arn:${AWS::Partition}:apigateway:${AWS::Region}::/apis/${HttpApi}/routes/${DefaultRoute}"}`,
			`{"Fn::Sub":"arn:${AWS::Partition}:apigateway:${AWS::Region}::/apis/${HttpApi}/integrations"}`,
			`{"Fn::Sub":"arn:${AWS::Partition}:apigateway:${AWS::Region}::/vpclinks/${VpcLink}"}`,
		},
		"servicediscovery:GetInstancesHealthStatus": {`{"Fn::GetAtt":["DiscoveryService","Arn"]}`},
	}
	if !reflect.DeepEqual(pol, want) {
		t.Errorf("wake role:\n got %v\nwant %v", pol, want)
	}
}

func checkIdleAlarm(t *testing.T, alarm map[string]any, afterSeconds int) {
	t.Helper()
	period, periods := alarm["Period"].(float64), alarm["EvaluationPeriods"].(float64)
	if int(period*periods) != afterSeconds || alarm["DatapointsToAlarm"] != periods {
		t.Errorf("alarm: %v s x %v periods (%v to alarm), want %d s in all, every period", period, periods, alarm["DatapointsToAlarm"], afterSeconds)
	}
	if alarm["TreatMissingData"] != "breaching" || alarm["ComparisonOperator"] != "LessThanThreshold" || alarm["Threshold"] != float64(1) {
		t.Errorf("alarm: %v %v %v, want missing data breaching, < 1 request", alarm["TreatMissingData"], alarm["ComparisonOperator"], alarm["Threshold"])
	}
	if !reflect.DeepEqual(alarm["AlarmActions"], []any{map[string]any{"Fn::GetAtt": []any{"WakeFunction", "Arn"}}}) {
		t.Errorf("alarm actions %v, want the wake function", alarm["AlarmActions"])
	}
}

// With a schedule, the window ends invoke the controller (EventBridge
// Scheduler, in the schedule's zone) instead of Application Auto Scaling
// scheduled actions, and a window's start starts nothing.
func TestIdleWithSchedule(t *testing.T) {
	r := build(t, idleSpec(spec.IngressAPIGW, "15m", true))
	g := generic(t, r.Main)
	if st := resourcesOfType(g, "AWS::ApplicationAutoScaling::ScalableTarget")["ScalableTarget"]; st["ScheduledActions"] != nil {
		t.Errorf("scheduled actions with idle: %v", st["ScheduledActions"])
	}
	sched := resourcesOfType(g, "AWS::Scheduler::Schedule")
	if r := sched["ReconcileSchedule"]; r["ScheduleExpression"] != ReconcileRate || r["Target"].(map[string]any)["Input"] != ReconcileInput {
		t.Errorf("reconcile schedule %v", r)
	}
	delete(sched, "ReconcileSchedule")
	delete(sched, "FreeTierSchedule") // the daily free tier check (freetier_check_test.go)
	var exprs []string
	for _, p := range sched {
		if p["ScheduleExpressionTimezone"] != "Europe/Berlin" {
			t.Errorf("schedule zone %v", p["ScheduleExpressionTimezone"])
		}
		tgt := p["Target"].(map[string]any)
		if tgt["Input"] != `{"lowfare":"sleep","reason":"schedule"}` {
			t.Errorf("schedule input %v", tgt["Input"])
		}
		exprs = append(exprs, p["ScheduleExpression"].(string))
	}
	slices.Sort(exprs)
	if want := []string{"cron(0 14 ? * SAT *)", "cron(0 20 ? * MON,TUE,WED,THU,FRI *)"}; !reflect.DeepEqual(exprs, want) {
		t.Errorf("sleep schedules %v, want %v", exprs, want)
	}
	pol := resourcesOfType(g, "AWS::IAM::Role")["ScheduleRole"]
	if j, _ := json.Marshal(pol["Policies"]); !strings.Contains(string(j), `"Action":["lambda:InvokeFunction"],"Effect":"Allow","Resource":{"Fn::GetAtt":["WakeFunction","Arn"]}`) {
		t.Errorf("schedule role: %s", j)
	}
	env := resourcesOfType(g, "AWS::Lambda::Function")["WakeFunction"]["Environment"].(map[string]any)["Variables"].(map[string]any)
	if env["TZ_NAME"] != "Europe/Berlin" || env["TZ_RULE"] != "CET-1CEST,M3.5.0,M10.5.0/3" || env["WINDOWS"] != `[[[1,2,3,4,5],480,1200],[[6],600,840]]` {
		t.Errorf("env TZ_NAME %v TZ_RULE %v WINDOWS %v", env["TZ_NAME"], env["TZ_RULE"], env["WINDOWS"])
	}
}

// The idle alarm is one more alarm metric than a service that sleeps on a
// schedule has, and when that goes beyond the 10 free, the build warns with
// the price (plan prints it).
func TestIdleCountsOneAlarm(t *testing.T) {
	for _, kind := range []string{spec.IngressALB, spec.IngressAPIGW} {
		scheduled := build(t, variant(func(s *spec.Spec) {
			s.Ingress.Kind = kind
			s.Service.Schedule = &spec.Schedule{Timezone: "UTC", Awake: "Mon-Fri 08:00-20:00"}
		})).AlarmMetrics
		r := build(t, idleSpec(kind, "15m", true))
		if r.AlarmMetrics != scheduled+1 {
			t.Errorf("%s: %d alarm metrics with idle, %d with a schedule only; want one more", kind, r.AlarmMetrics, scheduled)
		}
		warned := false
		for _, w := range r.Warnings {
			warned = warned || (w.Part == PartObservability && w.MonthlyUSD > 0)
		}
		if warned != (r.AlarmMetrics > freeAlarmMetrics) {
			t.Errorf("%s: %d alarm metrics, warned %v", kind, r.AlarmMetrics, warned)
		}
	}
}

// cfn-lint covers the idle templates in TestCfnLintMatrix (its sleep kinds
// include idle, alone and with a schedule, on both ingresses).

// The controller's logic against moto_server with boto3 (the SDK its Lambda
// runtime carries): testdata/idle/test_controller.py runs the source the
// template carries and compares its pages with internal/wakepage's.
func TestIdleControllerAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH")
	}
	moto := testutil.Moto(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	closedAt, opens := time.Date(2026, 12, 5, 15, 0, 0, 0, berlin), time.Date(2026, 12, 7, 8, 0, 0, 0, berlin)
	waking := wakepage.Page{Kind: wakepage.Waking, RetryAfter: idleRetryAfter}
	closed := wakepage.Page{Kind: wakepage.Closed, Opens: opens}
	expected, _ := json.Marshal(map[string]wakepage.Response{
		"waking_html": wakepage.Render(waking, "text/html,application/xhtml+xml,*/*;q=0.8", time.Time{}),
		"waking_json": wakepage.Render(waking, "application/json", time.Time{}),
		"closed_html": wakepage.Render(closed, "text/html", closedAt),
		"closed_json": wakepage.Render(closed, "application/json", closedAt),
	})
	cmd := exec.Command(python, "testdata/idle/test_controller.py")
	cmd.Env = append(os.Environ(),
		"MOTO_URL="+moto,
		"CONTROLLER_PAGE="+write("page.py", ControllerSource(true, false)),
		"CONTROLLER_SCHED="+write("sched.py", ControllerSource(true, true)),
		"CONTROLLER_APP="+write("app.py", ControllerSource(false, true)),
		"EXPECTED="+write("expected.json", string(expected)),
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("controller tests failed: %v\n%s", err, out)
	}
	if n := testutil.RequireUnittestRan(t, out); n < 30 {
		t.Errorf("the controller tests ran %d cases; the file has over 30: were some not collected?", n)
	}
	t.Logf("%s", out)
}

// Every idle shape, serialized as deploy sends it (compact JSON), keeps at
// least 25% headroom under CloudFormation's 51,200-byte inline limit: the
// controller travels as plain source now, and a spec's own env values,
// tags and alarm emails need the room.
func TestIdleTemplatesKeepHeadroom(t *testing.T) {
	const limit = cfn.MaxTemplateBody * 3 / 4
	for _, kind := range []string{spec.IngressALB, spec.IngressAPIGW} {
		for _, serve := range []string{spec.ServeApp, spec.ServePage} {
			for _, schedule := range []bool{false, true} {
				for _, tls := range []bool{false, true} {
					s := idleServeSpec(kind, "15m", serve, schedule)
					if tls {
						s.Ingress.Domain, s.Ingress.HostedZoneID = "links.example.com", "Z0123456789ABCDEFGHIJ"
					}
					body, err := json.Marshal(build(t, s).Main)
					if err != nil {
						t.Fatal(err)
					}
					name := fmt.Sprintf("%s/%s/schedule=%v/tls=%v", kind, serve, schedule, tls)
					t.Logf("%s: %d bytes (%d%% of %d)", name, len(body), len(body)*100/cfn.MaxTemplateBody, cfn.MaxTemplateBody)
					if len(body) > limit {
						t.Errorf("%s: %d bytes, over %d (75%% of CloudFormation's %d inline)", name, len(body), limit, cfn.MaxTemplateBody)
					}
				}
			}
		}
	}
}

// serve: app: the app function runs the task's image through the adapter,
// with the task's environment, secrets, memory and architecture and a role
// with the task role's permissions; the ingress's asleep target is that
// function, and the busy alarm on its invocations wakes the service at the
// break-even rate.
func TestIdleServeApp(t *testing.T) {
	for _, kind := range []string{spec.IngressALB, spec.IngressAPIGW} {
		t.Run(kind, func(t *testing.T) {
			s := idleServeSpec(kind, "15m", spec.ServeApp, false)
			s.Service.Env = map[string]string{"GREETING": "hi"}
			s.Service.Arch = spec.ArchX8664
			g := generic(t, build(t, s).Main)
			fns := resourcesOfType(g, "AWS::Lambda::Function")
			fn := fns["AppFunction"]
			if fn == nil {
				t.Fatal("no AppFunction")
			}
			if fn["PackageType"] != "Image" || !reflect.DeepEqual(fn["Code"], map[string]any{"ImageUri": map[string]any{"Ref": ParamImageURI}}) {
				t.Errorf("app function image: %v %v", fn["PackageType"], fn["Code"])
			}
			wantEntry := []any{spec.LambdaAdapter, AppBinDir + "/" + s.Service.BinaryName()}
			if !reflect.DeepEqual(fn["ImageConfig"], map[string]any{"EntryPoint": wantEntry}) {
				t.Errorf("app function ImageConfig %v, want the adapter running %v", fn["ImageConfig"], wantEntry[1])
			}
			if fn["MemorySize"] != float64(s.Service.Memory) || !reflect.DeepEqual(fn["Architectures"], []any{"x86_64"}) {
				t.Errorf("app function memory %v arch %v, want the task's", fn["MemorySize"], fn["Architectures"])
			}
			env := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
			for k, v := range map[string]any{"PORT": "8080", "GREETING": "hi", "LOWFARE_SECRETS": "ADMIN_TOKEN", "TABLE_NAME": map[string]any{"Ref": "Table"}} {
				if !reflect.DeepEqual(env[k], v) {
					t.Errorf("app function env %s = %v, want %v", k, env[k], v)
				}
			}
			// The same function code as profile serverless's.
			b := newBuilder(s)
			same := b.appFunction("AppFunctionRole", "AppLogGroup", wantEntry)
			j1, _ := json.Marshal(same)
			j2, _ := json.Marshal(fn)
			if string(j1) != string(j2) {
				t.Errorf("AppFunction is not appFunction's:\n%s\n%s", j2, j1)
			}
			if lg := resourcesOfType(g, "AWS::Logs::LogGroup")["AppLogGroup"]; lg == nil {
				t.Error("no AppLogGroup")
			}

			// The role: logs of its own group, the table, the secrets.
			role := resourcesOfType(g, "AWS::IAM::Role")["AppFunctionRole"]
			j, _ := json.Marshal(role)
			for _, want := range []string{`"logs:PutLogEvents"`, `"AppLogGroup","Arn"`, `"dynamodb:PutItem"`, `"ssm:GetParameter"`, `"kms:Decrypt"`} {
				if !strings.Contains(string(j), want) {
					t.Errorf("app role lacks %s: %s", want, j)
				}
			}

			// Where the ingress sends requests while asleep.
			wake := fns["WakeFunction"]
			wenv := wake["Environment"].(map[string]any)["Variables"].(map[string]any)
			if wenv["SERVE"] != "app" || wenv["BUSY_ALARM"] != "lowfare-links-dev-busy" || wenv["RETRY_AFTER"] != nil {
				t.Errorf("controller env: %v", wenv)
			}
			if src := wake["Code"].(map[string]any)["ZipFile"].(string); strings.Contains(src, "waking up") {
				t.Error("serve: app controller carries the waking pages")
			}
			if kind == spec.IngressALB {
				tg := resourcesOfType(g, "AWS::ElasticLoadBalancingV2::TargetGroup")["AppTargetGroup"]
				if tg == nil || tg["TargetType"] != "lambda" || !reflect.DeepEqual(tg["Targets"], []any{map[string]any{"Id": map[string]any{"Fn::GetAtt": []any{"AppFunction", "Arn"}}}}) {
					t.Errorf("app target group: %v", tg)
				}
				if !reflect.DeepEqual(wenv["ASLEEP_TG"], map[string]any{"Ref": "AppTargetGroup"}) {
					t.Errorf("ASLEEP_TG %v", wenv["ASLEEP_TG"])
				}
				if resourcesOfType(g, "AWS::ElasticLoadBalancingV2::TargetGroup")["WakeTargetGroup"] != nil {
					t.Error("serve: app has the controller's target group")
				}
				checkAnchorRule(t, g, "HttpListener")
			} else {
				in := resourcesOfType(g, "AWS::ApiGatewayV2::Integration")["AppIntegration"]
				if in == nil || in["IntegrationType"] != "AWS_PROXY" || in["PayloadFormatVersion"] != "2.0" ||
					!reflect.DeepEqual(in["IntegrationUri"], map[string]any{"Fn::GetAtt": []any{"AppFunction", "Arn"}}) {
					t.Errorf("app integration: %v", in)
				}
				if !reflect.DeepEqual(wenv["ASLEEP_INTEGRATION"], map[string]any{"Ref": "AppIntegration"}) {
					t.Errorf("ASLEEP_INTEGRATION %v", wenv["ASLEEP_INTEGRATION"])
				}
				probe := resourcesOfType(g, "AWS::ApiGatewayV2::Route")["VpcLinkProbeRoute"]
				if probe == nil || probe["RouteKey"] != "GET "+vpcLinkProbePath {
					t.Errorf("VPC link probe route: %v", probe)
				}
			}

			busy := resourcesOfType(g, "AWS::CloudWatch::Alarm")["BusyAlarm"]
			if busy == nil {
				t.Fatal("no BusyAlarm")
			}
			if busy["Namespace"] != "AWS/Lambda" || busy["MetricName"] != "Invocations" || busy["Statistic"] != "Sum" || busy["Period"] != float64(60) ||
				busy["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || busy["Threshold"] != BusyPerMinute(s) ||
				!reflect.DeepEqual(busy["Dimensions"], []any{map[string]any{"Name": "FunctionName", "Value": map[string]any{"Ref": "AppFunction"}}}) ||
				!reflect.DeepEqual(busy["AlarmActions"], []any{map[string]any{"Fn::GetAtt": []any{"WakeFunction", "Arn"}}}) {
				t.Errorf("busy alarm: %v", busy)
			}
			if p := resourcesOfType(g, "AWS::Lambda::Permission")["WakeInvokeFromBusyAlarm"]; p == nil ||
				!reflect.DeepEqual(p["SourceArn"], map[string]any{"Fn::GetAtt": []any{"BusyAlarm", "Arn"}}) {
				t.Errorf("busy alarm invoke permission: %v", p)
			}
		})
	}
}

// The break-even rate of the default task in us-east-1, from the price
// table: what docs/architecture.md states.
func TestBusyPerMinute(t *testing.T) {
	s := spec.Default()
	s.Service.CPU, s.Service.Memory, s.Service.Arch, s.Region = 256, 512, spec.ArchARM64, "us-east-1"
	if got := BusyPerMinute(s); got != 465 {
		t.Errorf("break-even %v requests a minute, want 465 (docs/architecture.md)", got)
	}
}

// A wake must start a task even when count.min is 0 (which lets a
// scheduled service sleep): the controller's MIN is at least 1.
func TestIdleWakeFloor(t *testing.T) {
	for _, serve := range []string{spec.ServeApp, spec.ServePage} {
		s := idleServeSpec(spec.IngressAPIGW, "15m", serve, true)
		s.Service.Count.Min, s.Service.Count.Desired, s.Service.Count.Max = 0, 0, 3
		env := resourcesOfType(generic(t, build(t, s).Main), "AWS::Lambda::Function")["WakeFunction"]["Environment"].(map[string]any)["Variables"].(map[string]any)
		if env["MIN"] != "1" || env["MAX"] != "3" {
			t.Errorf("serve %s, count.min 0: controller MIN %v MAX %v, want 1 and 3", serve, env["MIN"], env["MAX"])
		}
	}
}

// The app function runs the binary where images lowfare builds put it.
func TestAppBinDirIsTheImages(t *testing.T) {
	if AppBinDir != image.BinDir {
		t.Errorf("AppBinDir %q, image.BinDir %q", AppBinDir, image.BinDir)
	}
}

// Every zone the spec accepts has a POSIX rule for the controller, and the
// table is what the Go toolchain's zoneinfo.zip says (else: go run
// idle_tzgen.go).
func TestPosixTZ(t *testing.T) {
	for _, z := range []string{"Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC", "Australia/Lord_Howe"} {
		if posixTZ[z] == "" {
			t.Errorf("no POSIX rule for %s", z)
		}
	}
	goroot, _, err := gosrc.Toolchain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	zip := filepath.Join(goroot, "lib", "time", "zoneinfo.zip")
	data, err := os.ReadFile(zip)
	if err != nil {
		t.Fatalf("the toolchain's time zone data: %v", err)
	}
	r, err := stdzip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range r.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		b = bytes.TrimSuffix(b, []byte("\n"))
		if !bytes.HasPrefix(b, []byte("TZif")) || b[4] < '2' {
			continue
		}
		if rule := string(b[bytes.LastIndexByte(b, '\n')+1:]); rule != "" && posixTZ[f.Name] != rule {
			t.Errorf("%s: table %q, toolchain %q: go run idle_tzgen.go", f.Name, posixTZ[f.Name], rule)
		}
		n++
	}
	if n != len(posixTZ) {
		t.Errorf("%d zones in the toolchain, %d in the table: go run idle_tzgen.go", n, len(posixTZ))
	}
}

// The 5xx rate of an idle service does not count what answers while it
// sleeps: behind an ALB it reads the service's own target group (the
// TargetGroup dimension), never the load balancer's 5xx; behind an HTTP
// API with serve: page it subtracts the controller's invocations (its
// pages), and with serve: app it counts every period (the app answers).
func TestIdle5xxAlarmCountsTheService(t *testing.T) {
	dimsOf := func(m map[string]any) []any {
		return m["MetricStat"].(map[string]any)["Metric"].(map[string]any)["Dimensions"].([]any)
	}
	nameOf := func(m map[string]any) string {
		return m["MetricStat"].(map[string]any)["Metric"].(map[string]any)["MetricName"].(string)
	}
	for _, serve := range []string{spec.ServeApp, spec.ServePage} {
		ms, expr := metricsByID(alarmProps(t, idleServeSpec(spec.IngressALB, "15m", serve, false), "Alarm5xx"))
		tg := map[string]any{"Name": "TargetGroup", "Value": map[string]any{"Fn::GetAtt": []any{"TargetGroup", "TargetGroupFullName"}}}
		for _, id := range []string{"errors", "requests"} {
			if d := dimsOf(ms[id]); len(d) != 2 || !reflect.DeepEqual(d[0], tg) {
				t.Errorf("alb %s: %s dimensions %v, want the service's TargetGroup first", serve, id, d)
			}
		}
		for id, m := range ms {
			if m["MetricStat"] != nil && nameOf(m) == "HTTPCode_ELB_5XX_Count" {
				t.Errorf("alb %s: %s reads the load balancer's 5xx (%s)", serve, id, expr)
			}
		}
	}

	ms, expr := metricsByID(alarmProps(t, idleServeSpec(spec.IngressAPIGW, "15m", spec.ServePage, false), "Alarm5xx"))
	pages := ms["pages"]
	if pages == nil || nameOf(pages) != "Invocations" ||
		!reflect.DeepEqual(dimsOf(pages), []any{map[string]any{"Name": "FunctionName", "Value": map[string]any{"Ref": "WakeFunction"}}}) {
		t.Fatalf("apigw page: no controller invocations to subtract: %v", pages)
	}
	if !strings.Contains(expr, "FILL(errors, 0) - FILL(pages, 0)") {
		t.Errorf("apigw page: rate %q does not subtract the pages", expr)
	}
	ms, expr = metricsByID(alarmProps(t, idleServeSpec(spec.IngressAPIGW, "15m", spec.ServeApp, false), "Alarm5xx"))
	if ms["awake"] != nil || ms["pages"] != nil || expr != "IF(FILL(requests, 0) > 0, 100 * FILL(errors, 0) / FILL(requests, 0), 0)" {
		t.Errorf("apigw app: rate %q over %v, want every period's 5xx", expr, ms)
	}
}
