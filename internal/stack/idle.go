package stack

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/cost"
	"github.com/lowfare/lowfare/internal/price"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/wakepage"
)

// PartIdle is the idle sleep and wake machinery (service.idle).
const PartIdle = "idle"

// OutputWakeFunction names the wake controller (service.idle only): lowfare
// sleep and wake invoke it, so that the ingress moves with the service.
const OutputWakeFunction = "WakeFunctionName"

// ControllerRuntime is the wake controller's Lambda runtime: Python carries
// boto3, so the code needs no package and fits inline (Code.ZipFile).
//
// Why Python inline and not a Go controller image: a Go controller would
// share wakepage and the decision logic with `lowfare dev`, but it needs an
// image per app (built and pushed by every deploy, even of a spec that only
// changes an alarm), a second ECR lifecycle, and a cold start that pulls
// it. Inline Python costs nothing to ship: the template carries it, and
// since deploy sends the template compact (json.Marshal, internal/deploy)
// the source travels as it is, without the zlib packing it once needed
// (TestIdleTemplatesKeepHeadroom holds every idle shape to 25% headroom
// under CloudFormation's 51,200 bytes). The waking page's second copy
// stays small because the pages themselves come from wakepage (PAGES) and
// testdata/idle/test_controller.py holds the Python renderer to wakepage's
// output byte for byte.
const ControllerRuntime = "python3.13"

// idleRetryAfter is the waking page's Retry-After: a Fargate task takes about
// a minute to pass its health checks, and the page reloads itself this often.
const idleRetryAfter = wakepage.DefaultRetryAfter

// ReconcileRate is how often the controller puts the service, its scaling
// bounds and the ingress in the state the idle alarm and the schedule say.
// Alarm actions run once per state change, so a sleep that failed, or a
// task started by something else, would otherwise stay as it is; and with
// serve: app requests no longer reach the controller, so this is also
// what routes the ingress back once a woken task is healthy. Every minute
// is 44,640 invocations in a 31-day month: EventBridge Scheduler's free
// tier is 14 million invocations a month
// (https://aws.amazon.com/eventbridge/pricing/), and at 128 MB and under a
// second each the controller stays far inside Lambda's always-free 1
// million requests and 400,000 GB-seconds
// (https://aws.amazon.com/lambda/pricing/).
const ReconcileRate = "rate(1 minute)"

// ReconcileInput is what the reconcile schedule sends the controller.
const ReconcileInput = `{"lowfare":"reconcile"}`

// busyPeriods is how many consecutive minutes above the break-even rate
// wake the service (serve: app), and assumedLambdaMS the average billed
// duration of one request of the app on Lambda for that rate: the figures
// lowfare cost and lowfare dev use too (internal/price).
const (
	busyPeriods     = price.BusyMinutes
	assumedLambdaMS = price.DefaultLambdaMS
)

// BusyPerMinute is the request rate (per minute) above which one Fargate
// task of the service costs less than serving the same requests with the
// app on Lambda: service.idle serve: app wakes the service when requests
// stay at or above it for busyPeriods minutes. For the default task (0.25
// vCPU, 512 MB, arm64, us-east-1) it is 465 requests a minute, assuming
// 50 ms a request (internal/price AppOnLambda).
func BusyPerMinute(s *spec.Spec) float64 {
	// The estimate's own figure (lowfare cost and plan print it), with the
	// built-in prices of the spec's region: one mapping of a spec to
	// price.AppOnLambda.
	return cost.WakePerMinute(s, price.Builtin(s.Region), assumedLambdaMS)
}

//go:embed idle_controller.py
var controllerSource string

// ControllerSource is the wake controller's Python source as the template
// carries it (Code.ZipFile): idle_controller.py without its full-line
// comments, without the parts that answer requests unless page (serve:
// page; between "# lowfare:page-begin" and "-end"), and with one space of indentation for each four (Python needs
// only consistent indentation; inside brackets any will do), with
// wakepage's templates put in for PAGES as a JSON object (also a Python
// dict literal). Only serve: page answers requests, and only
// a schedule has closed pages; the controller always knows when the next
// window opens, so it never needs the "opening unknown" pages.
func ControllerSource(page, schedule bool) string {
	p := map[string]string{}
	if page {
		p["HTMLWaking"], p["JSONWaking"] = wakepage.HTMLWaking, wakepage.JSONWaking
		if schedule {
			p["HTMLClosed"], p["JSONClosed"] = wakepage.HTMLClosed, wakepage.JSONClosed
		}
	}
	var pages bytes.Buffer
	enc := json.NewEncoder(&pages)
	enc.SetEscapeHTML(false) // Python reads < as it is; \u003c only hides it
	if err := enc.Encode(p); err != nil {
		panic(err) // strings only: cannot fail
	}
	var out []string
	skip := false
	for line := range strings.SplitSeq(controllerSource, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "# lowfare:page-begin"):
			skip = !page
		case strings.HasPrefix(t, "# lowfare:page-end"):
			skip = false
		}
		if !skip && t != "" && !strings.HasPrefix(t, "#") {
			lead := len(line) - len(strings.TrimLeft(line, " "))
			out = append(out, strings.Repeat(" ", lead/4+lead%4)+strings.TrimLeft(line, " "))
		}
	}
	return strings.Replace(strings.Join(out, "\n")+"\n", "__PAGES__", strings.TrimSpace(pages.String()), 1)
}

// IdleAlarmPeriod is the idle alarm's period in seconds: ingress metrics
// arrive per minute, so the service sleeps within a minute of `after`.
// period x evaluation periods = after; CloudWatch allows at most one day
// for periods under an hour, which is idle.after's upper bound
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
const IdleAlarmPeriod = 60

// idleShape is what decides the idle resources.
type idleShape struct {
	alb, app, schedule bool
	listener           any // ALB: the listener the controller moves
}

// idle adds, only when service.idle is set: the wake controller (a Lambda
// function with inline code and its own role and log group), what answers
// while the service sleeps (the app on Lambda for serve: app, the
// controller's waking page for serve: page) and the ingress's way to it,
// the idle alarm that puts the service to sleep, with serve: app the busy
// alarm that wakes it, the reconcile schedule, and with a schedule the
// EventBridge Scheduler schedules that put the service to sleep when each
// awake window ends.
func (b *builder) idle() {
	if b.s.Service.Idle == nil || !b.s.ECS() {
		return
	}
	sh := idleShape{
		alb:      b.s.Ingress.Kind != spec.IngressAPIGW,
		app:      b.s.Service.Idle.ServesApp(),
		schedule: b.s.Service.Schedule != nil,
	}
	if sh.alb {
		sh.listener = cfn.Ref("HttpListener")
		if b.s.Ingress.TLS() {
			sh.listener = cfn.Ref("HttpsListener") // HTTP only redirects
		}
		b.anchorServiceTargetGroup(sh.listener)
	}
	if sh.app {
		b.idleAppFunction()
	}
	b.idleController(sh)
	if sh.alb {
		b.asleepTargetGroup(sh)
	} else {
		b.asleepIntegration(sh)
	}
	b.idleAlarm(sh)
	if sh.app {
		b.busyAlarm()
	}
	b.scheduleController()
	b.output(OutputWakeFunction, "The wake controller (service.idle)", cfn.Ref("WakeFunction"))
}

// idleAppFunction is the app on Lambda while the service sleeps (serve:
// app): the image the task runs, started through lowfare's Lambda adapter
// (images lowfare builds for ECS with serve: app carry it, without making
// it their entrypoint), with the task's environment, secrets, table and a
// role with the task role's permissions; its own log group.
func (b *builder) idleAppFunction() {
	b.add(PartIdle, "AppLogGroup", "AWS::Logs::LogGroup", cfn.Props{
		"RetentionInDays": b.s.Logs.RetentionDays,
	})
	b.add(PartIdle, "AppFunctionRole", "AWS::IAM::Role", b.functionRole("AppLogGroup"))
	b.add(PartIdle, "AppFunction", "AWS::Lambda::Function",
		b.appFunction("AppFunctionRole", "AppLogGroup", []any{spec.LambdaAdapter, AppBinDir + "/" + b.s.Service.BinaryName()}))
}

// AppBinDir is where images lowfare builds keep the app's binary
// (internal/image.BinDir; a test holds the two equal).
const AppBinDir = "/app"

// idleController is the wake controller: its log group, role and function.
func (b *builder) idleController(sh idleShape) {
	b.add(PartIdle, "WakeLogGroup", "AWS::Logs::LogGroup", cfn.Props{
		"LogGroupName":    "/aws/lambda/" + b.n.WakeFunction,
		"RetentionInDays": b.s.Logs.RetentionDays,
	})
	b.add(PartIdle, "WakeRole", "AWS::IAM::Role", cfn.Props{
		"AssumeRolePolicyDocument": trust("lambda.amazonaws.com"),
		"Policies":                 []any{inlinePolicy("wake", b.controllerStatements(sh)...)},
	})
	b.add(PartIdle, "WakeFunction", "AWS::Lambda::Function", cfn.Props{
		"FunctionName":  b.n.WakeFunction,
		"Description":   "lowfare wake controller (service.idle)",
		"Runtime":       ControllerRuntime,
		"Architectures": []any{"arm64"},
		"MemorySize":    128,
		"Timeout":       10,
		"Handler":       "index.handler",
		"Role":          cfn.GetAtt("WakeRole", "Arn"),
		"Code":          map[string]any{"ZipFile": ControllerSource(!sh.app, sh.schedule)},
		"Environment":   map[string]any{"Variables": b.controllerEnv(sh)},
	}).DependsOn = []string{"WakeLogGroup"}
}

// controllerEnv is the controller's configuration (idle_controller.py
// reads it).
func (b *builder) controllerEnv(sh idleShape) map[string]any {
	c := b.counts()
	serve := spec.ServePage
	if sh.app {
		serve = spec.ServeApp
	}
	env := map[string]any{
		"CLUSTER": cfn.Ref("Cluster"),
		"SERVICE": cfn.GetAtt("Service", "Name"),
		// The wake floor: count.min 0 lets the service sleep, but a wake
		// must start a task.
		"MIN":        fmt.Sprint(max(1, c.min)),
		"MAX":        fmt.Sprint(max(1, c.max)),
		"INGRESS":    b.s.Ingress.Kind,
		"SERVE":      serve,
		"AFTER":      fmt.Sprint(int(b.s.Service.Idle.Duration().Seconds())),
		"IDLE_ALARM": b.n.alarmPrefix + "-idle",
	}
	if sh.app {
		env["BUSY_ALARM"] = b.n.alarmPrefix + "-busy"
	} else {
		env["RETRY_AFTER"] = fmt.Sprint(idleRetryAfter)
	}
	if sched := b.s.Service.Schedule; sched != nil {
		if parsed, err := sched.Parse(); err == nil {
			env["TZ_NAME"] = sched.Timezone
			env["TZ_RULE"] = posixTZ[sched.Timezone]
			env["WINDOWS"] = windowsJSON(parsed)
		}
	}
	if sh.alb {
		env["LISTENERS"] = sh.listener
		env["SERVICE_TG"] = cfn.Ref("TargetGroup")
		if sh.app {
			env["ASLEEP_TG"] = cfn.Ref("AppTargetGroup")
		} else {
			env["CONTROLLER_TG_NAME"] = b.n.WakeTargetGroup
		}
		return env
	}
	env["API_ID"] = cfn.Ref("HttpApi")
	env["ROUTE_ID"] = cfn.Ref("DefaultRoute")
	env["SERVICE_INTEGRATION"] = cfn.Ref("Integration")
	env["DISCOVERY_SERVICE"] = cfn.GetAtt("DiscoveryService", "Id")
	env["VPC_LINK"] = cfn.Ref("VpcLink")
	env["PROBE_URL"] = cfn.Sub("${HttpApi.ApiEndpoint}" + vpcLinkProbePath)
	if sh.app {
		env["ASLEEP_INTEGRATION"] = cfn.Ref("AppIntegration")
	}
	return env
}

// controllerStatements is the controller's role: the service, its scaling
// bounds, the idle alarm's state, and the one listener or route it moves.
//
// RegisterScalableTarget stays on scalable-target/*: Application Auto
// Scaling defines no condition key for the service namespace, dimension or
// resource ID, only the tag keys (aws:ResourceTag, aws:RequestTag,
// aws:TagKeys), and a scalable target's ARN is an opaque ID the template
// cannot name
// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsapplicationautoscaling.html).
func (b *builder) controllerStatements(sh idleShape) []any {
	st := []any{
		statement([]string{"logs:CreateLogStream", "logs:PutLogEvents"}, cfn.GetAtt("WakeLogGroup", "Arn")),
		statement([]string{"ecs:DescribeServices", "ecs:UpdateService", "ecs:TagResource"}, cfn.Ref("Service")),
		statement([]string{"application-autoscaling:RegisterScalableTarget"},
			cfn.Sub("arn:${AWS::Partition}:application-autoscaling:${AWS::Region}:${AWS::AccountId}:scalable-target/*")),
		// By name: the alarm's ARN (GetAtt) would make the role wait for
		// the alarm, which waits for this function.
		statement([]string{"cloudwatch:DescribeAlarms"},
			cfn.Sub("arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:"+b.n.alarmPrefix+"-idle")),
	}
	if sh.alb {
		return append(st,
			statement([]string{"elasticloadbalancing:ModifyListener"}, sh.listener),
			// Describe* actions take no resource-level permissions.
			statement([]string{"elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"}, "*"))
	}
	return append(st,
		statement([]string{"apigateway:PATCH"}, cfn.Sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/apis/${HttpApi}/routes/${DefaultRoute}")),
		statement([]string{"apigateway:GET"},
			cfn.Sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/apis/${HttpApi}/routes/${DefaultRoute}"),
			cfn.Sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/apis/${HttpApi}/integrations"),
			cfn.Sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/vpclinks/${VpcLink}")),
		statement([]string{"servicediscovery:GetInstancesHealthStatus"}, cfn.GetAtt("DiscoveryService", "Arn")))
}

// asleepTargetGroup is the Lambda target group the ALB's listener points
// at while the service sleeps: the app function's (serve: app) or the
// controller's (serve: page). ALB invokes a function through a Lambda
// target group
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html);
// the invoke permission must exist before the target is registered, and
// since the target group's ARN ends in an ID only known once it exists,
// the permission matches its name.
func (b *builder) asleepTargetGroup(sh idleShape) {
	id, fn, name := "WakeTargetGroup", "WakeFunction", b.n.WakeTargetGroup
	props := cfn.Props{"TargetType": "lambda", "HealthCheckEnabled": false}
	if sh.app {
		id, fn = "AppTargetGroup", "AppFunction"
		name = fit("lfa-"+b.s.App+"-"+b.s.Env, maxELBName, b.s.App+"-"+b.s.Env, "app", "lambda")
		// The adapter answers with multiValueHeaders (repeated
		// Set-Cookie); the load balancer reads them only with this on.
		props["TargetGroupAttributes"] = []any{kv("lambda.multi_value_headers.enabled", "true")}
	}
	b.add(PartIdle, id+"Permission", "AWS::Lambda::Permission", cfn.Props{
		"FunctionName": cfn.GetAtt(fn, "Arn"),
		"Action":       "lambda:InvokeFunction",
		"Principal":    "elasticloadbalancing.amazonaws.com",
		"SourceArn":    cfn.Sub("arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:targetgroup/" + name + "/*"),
	})
	props["Name"] = name
	props["Targets"] = []any{map[string]any{"Id": cfn.GetAtt(fn, "Arn")}}
	b.add(PartIdle, id, "AWS::ElasticLoadBalancingV2::TargetGroup", props).DependsOn = []string{id + "Permission"}
}

// vpcLinkProbePath is a route to the service's integration that the
// controller requests when the VPC link went INACTIVE: "If no traffic is
// sent over the VPC link for 60 days, it becomes INACTIVE ... If API
// requests resume, API Gateway reprovisions network interfaces"
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vpc-links.html).
// While the $default route still points at the function, this route is
// the only way a request can reach the link; the controller routes back
// once the link is AVAILABLE.
const vpcLinkProbePath = "/.well-known/lowfare-vpc-link"

// asleepIntegration is the HTTP API's Lambda proxy integration the
// $default route points at while the service sleeps, the app function's
// or the controller's, and the VPC link probe route.
func (b *builder) asleepIntegration(sh idleShape) {
	id, fn := "WakeIntegration", "WakeFunction"
	if sh.app {
		id, fn = "AppIntegration", "AppFunction"
	}
	b.add(PartIdle, id, "AWS::ApiGatewayV2::Integration", cfn.Props{
		"ApiId":                cfn.Ref("HttpApi"),
		"IntegrationType":      "AWS_PROXY",
		"IntegrationUri":       cfn.GetAtt(fn, "Arn"),
		"PayloadFormatVersion": "2.0",
	})
	b.add(PartIdle, id+"Permission", "AWS::Lambda::Permission", cfn.Props{
		"FunctionName": cfn.GetAtt(fn, "Arn"),
		"Action":       "lambda:InvokeFunction",
		"Principal":    "apigateway.amazonaws.com",
		"SourceArn":    cfn.Sub("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*/$default"),
	})
	b.add(PartIdle, "VpcLinkProbeRoute", "AWS::ApiGatewayV2::Route", cfn.Props{
		"ApiId":    cfn.Ref("HttpApi"),
		"RouteKey": "GET " + vpcLinkProbePath,
		"Target":   cfn.Sub("integrations/${Integration}"),
	})
}

// idleAlarm puts the service to sleep after `after` without a request. It
// counts every request the ingress takes, also those the function answers
// while the service sleeps: ALB RequestCount by LoadBalancer (this load
// balancer serves only this service), HTTP API Count by ApiId and Stage.
// Counting only the service's target group would miss the request that
// woke it: if nobody came back after the waking page the alarm would stay
// in ALARM, never change state again, and the woken service would never
// sleep (the reconcile schedule would catch that too, a minute later).
func (b *builder) idleAlarm(sh idleShape) {
	periods := int(b.s.Service.Idle.Duration().Seconds()) / IdleAlarmPeriod
	alarm := cfn.Props{
		"AlarmName":          b.n.alarmPrefix + "-idle",
		"AlarmDescription":   "No request for " + b.s.Service.Idle.After + ": sleep",
		"Statistic":          "Sum",
		"Period":             IdleAlarmPeriod,
		"EvaluationPeriods":  periods,
		"DatapointsToAlarm":  periods,
		"Threshold":          1,
		"ComparisonOperator": "LessThanThreshold",
		// No datapoint is what no request looks like.
		"TreatMissingData": "breaching",
		"AlarmActions":     []any{cfn.GetAtt("WakeFunction", "Arn")},
	}
	if sh.alb {
		alarm["Namespace"], alarm["MetricName"] = "AWS/ApplicationELB", "RequestCount"
		alarm["Dimensions"] = []any{dim("LoadBalancer", cfn.GetAtt("LoadBalancer", "LoadBalancerFullName"))}
	} else {
		alarm["Namespace"], alarm["MetricName"] = "AWS/ApiGateway", "Count"
		alarm["Dimensions"] = []any{dim("ApiId", cfn.Ref("HttpApi")), dim("Stage", "$default")}
	}
	b.add(PartIdle, "IdleAlarm", "AWS::CloudWatch::Alarm", alarm)
	b.alarmInvokes("IdleAlarm")
}

// busyAlarm wakes the service (serve: app) when the app function takes at
// least BusyPerMinute requests a minute for busyPeriods minutes: above
// that rate a task costs less than Lambda. Invocations counts only the
// requests the function served, so once the ingress is back on the
// service the alarm returns to OK by itself.
func (b *builder) busyAlarm() {
	b.add(PartIdle, "BusyAlarm", "AWS::CloudWatch::Alarm", cfn.Props{
		"AlarmName": b.n.alarmPrefix + "-busy",
		"AlarmDescription": fmt.Sprintf("At least %.0f requests a minute on Lambda for %d minutes, where a Fargate task costs less: wake",
			BusyPerMinute(b.s), busyPeriods),
		"Namespace":          "AWS/Lambda",
		"MetricName":         "Invocations",
		"Dimensions":         []any{dim("FunctionName", cfn.Ref("AppFunction"))},
		"Statistic":          "Sum",
		"Period":             60,
		"EvaluationPeriods":  busyPeriods,
		"DatapointsToAlarm":  busyPeriods,
		"Threshold":          BusyPerMinute(b.s),
		"ComparisonOperator": "GreaterThanOrEqualToThreshold",
		"TreatMissingData":   "notBreaching",
		"AlarmActions":       []any{cfn.GetAtt("WakeFunction", "Arn")},
	})
	b.alarmInvokes("BusyAlarm")
}

// alarmInvokes lets one alarm invoke the controller: a CloudWatch alarm
// invokes a Lambda function directly when the function allows
// lambda.alarms.cloudwatch.amazonaws.com for that alarm
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-actions-Lambda).
func (b *builder) alarmInvokes(alarm string) {
	b.add(PartIdle, "WakeInvokeFrom"+alarm, "AWS::Lambda::Permission", cfn.Props{
		"FunctionName":  cfn.GetAtt("WakeFunction", "Arn"),
		"Action":        "lambda:InvokeFunction",
		"Principal":     "lambda.alarms.cloudwatch.amazonaws.com",
		"SourceAccount": cfn.Ref(cfn.AccountID),
		"SourceArn":     cfn.GetAtt(alarm, "Arn"),
	})
}

// scheduleController adds the EventBridge Scheduler schedules that invoke
// the controller, and their role: the reconcile every ReconcileRate, and
// with a schedule a sleep when each awake window ends, so that the ingress
// moves with the service. With idle, these replace the schedule's
// Application Auto Scaling actions (scaling.go): a window's start no
// longer starts a task (the first request inside it does, or with serve:
// app sustained traffic), and a window's end must also move the ingress,
// which a scheduled action cannot. EventBridge Scheduler keeps the
// schedule's IANA time zone, as the scheduled actions did
// (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based).
func (b *builder) scheduleController() {
	target := func(input string) map[string]any {
		return map[string]any{
			"Arn":     cfn.GetAtt("WakeFunction", "Arn"),
			"RoleArn": cfn.GetAtt("ScheduleRole", "Arn"),
			"Input":   input,
		}
	}
	b.add(PartIdle, "ReconcileSchedule", "AWS::Scheduler::Schedule", cfn.Props{
		"ScheduleExpression": ReconcileRate,
		"FlexibleTimeWindow": map[string]any{"Mode": "OFF"},
		"Target":             target(ReconcileInput),
	})
	if sched := b.s.Service.Schedule; sched != nil {
		if parsed, err := sched.Parse(); err == nil { // Check refused the spec otherwise
			n := 0
			for _, t := range transitions(parsed) {
				if t.wake {
					continue
				}
				n++
				b.add(PartIdle, fmt.Sprintf("ScheduleSleep%d", n), "AWS::Scheduler::Schedule", cfn.Props{
					"ScheduleExpression":         cronExpression(t),
					"ScheduleExpressionTimezone": sched.Timezone,
					"FlexibleTimeWindow":         map[string]any{"Mode": "OFF"},
					"Target":                     target(`{"lowfare":"sleep","reason":"schedule"}`),
				})
			}
		}
	}
	trustScheduler := trust("scheduler.amazonaws.com")
	trustScheduler["Statement"].([]any)[0].(map[string]any)["Condition"] = map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": cfn.Ref(cfn.AccountID)},
	}
	b.add(PartIdle, "ScheduleRole", "AWS::IAM::Role", cfn.Props{
		"AssumeRolePolicyDocument": trustScheduler,
		"Policies":                 []any{inlinePolicy("invoke-wake", statement([]string{"lambda:InvokeFunction"}, cfn.GetAtt("WakeFunction", "Arn")))},
	})
}

// windowsJSON is the schedule as the controller reads it (WINDOWS):
// [[weekdays (0 = Sunday), start minute, end minute], ...].
func windowsJSON(p spec.ParsedSchedule) string {
	out := make([][3]any, 0, len(p.Windows))
	for _, w := range p.Windows {
		days := []int{}
		for d, on := range w.Days {
			if on {
				days = append(days, d)
			}
		}
		out = append(out, [3]any{days, w.Start, w.End})
	}
	j, err := json.Marshal(out)
	if err != nil {
		panic(err) // ints only: cannot fail
	}
	return string(j)
}

// anchorHeader is the header of the rule that keeps the service's target
// group in use while the listener's default action points elsewhere.
const anchorHeader = "X-Lowfare-Anchor"

// anchorServiceTargetGroup keeps the service's target group named in a
// listener rule while the service sleeps. Sleep points the listener's
// default action at a Lambda target group; without this rule the service's
// target group would be in no rule, and "health checks are performed on
// all targets registered to a target group that is specified in a listener
// rule for your load balancer"
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html):
// a woken task would stay "unused" (Target.NotInUse,
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html)
// and the ingress would never route back to it. The rule's condition is a
// header with a value derived from the stack name, which real traffic does
// not send; a client that sends it only reaches the service's own target
// group, as it would when the service is awake.
func (b *builder) anchorServiceTargetGroup(listener any) {
	sum := sha256.Sum256([]byte(b.s.StackName()))
	b.add(PartIdle, "ServiceAnchorRule", "AWS::ElasticLoadBalancingV2::ListenerRule", cfn.Props{
		"ListenerArn": listener,
		// The last priority: any rule a user adds comes first.
		"Priority": 50000,
		"Conditions": []any{map[string]any{
			"Field":            "http-header",
			"HttpHeaderConfig": map[string]any{"HttpHeaderName": anchorHeader, "Values": []any{hex.EncodeToString(sum[:12])}},
		}},
		"Actions": []any{map[string]any{"Type": "forward", "TargetGroupArn": cfn.Ref("TargetGroup")}},
	})
}
