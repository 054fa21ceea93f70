package stack

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/wakepage"
)

// PartIdle is the idle sleep and wake-on-request machinery (service.idle).
const PartIdle = "idle"

// OutputWakeFunction names the wake controller (service.idle only): lowfare
// sleep and wake invoke it, so that the ingress moves with the service.
const OutputWakeFunction = "WakeFunctionName"

// ControllerRuntime is the wake controller's Lambda runtime: Python carries
// boto3, so the code needs no package and fits inline (Code.ZipFile).
const ControllerRuntime = "python3.13"

// idleRetryAfter is the waking page's Retry-After: a Fargate task takes about
// a minute to pass its health checks, and the page reloads itself this often.
const idleRetryAfter = wakepage.DefaultRetryAfter

//go:embed idle_controller.py
var controllerSource string

// ControllerSource is the wake controller's Python source: idle_controller.py
// with wakepage's templates put in for PAGES as a JSON object (also a Python
// dict literal). Only a schedule has closed pages, and the controller always
// knows when the next window opens, so it never needs the "opening unknown"
// pages.
func ControllerSource(schedule bool) string {
	p := map[string]string{"HTMLWaking": wakepage.HTMLWaking, "JSONWaking": wakepage.JSONWaking}
	if schedule {
		p["HTMLClosed"], p["JSONClosed"] = wakepage.HTMLClosed, wakepage.JSONClosed
	}
	var pages bytes.Buffer
	enc := json.NewEncoder(&pages)
	enc.SetEscapeHTML(false) // Python reads < as it is; \u003c only hides it
	if err := enc.Encode(p); err != nil {
		panic(err) // strings only: cannot fail
	}
	// Full-line comments are for readers of idle_controller.py; the
	// template carries the code without them.
	var out []string
	for line := range strings.SplitSeq(controllerSource, "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
			out = append(out, line)
		}
	}
	return strings.Replace(strings.Join(out, "\n")+"\n", "__PAGES__", strings.TrimSpace(pages.String()), 1)
}

// ControllerCode is the controller as the template carries it (Code.ZipFile):
// a two-line loader of the source, compressed. Template bytes are scarce
// (51,200 inline, and the indented form must fit): the source travels
// escaped twice, as a Python string inside a JSON string, and takes about
// 9 KB that way; zlib and base64 bring it to about a third. The loader
// names the file it comes from, which is the one to read.
func ControllerCode(schedule bool) string {
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, zlib.BestCompression) // a valid level: no error
	_, _ = w.Write([]byte(ControllerSource(schedule)))    // a bytes.Buffer does not fail
	_ = w.Close()
	return "# lowfare wake controller: internal/stack/idle_controller.py, compressed to fit the template\n" +
		"import base64, zlib\nexec(zlib.decompress(base64.b64decode('" + base64.StdEncoding.EncodeToString(z.Bytes()) + "')))\n"
}

// IdleAlarmPeriod is the idle alarm's period in seconds: ingress metrics
// arrive per minute, so the service sleeps within a minute of `after`.
// period x evaluation periods = after; CloudWatch allows at most one day
// for periods under an hour, which is idle.after's upper bound
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
const IdleAlarmPeriod = 60

// idle adds, only when service.idle is set: the wake controller (a Lambda
// function with inline code and its own role and log group), the idle alarm
// that invokes it, the ingress's way to it (a Lambda target group, or a
// Lambda integration), the permissions for each caller, and with a
// schedule the EventBridge Scheduler schedules that put the service to
// sleep when each awake window ends.
//
// The idle alarm counts every request the ingress takes, also those the
// controller answers: ALB RequestCount by LoadBalancer (this load balancer
// serves only this service, so that is the service's requests plus the
// controller's), HTTP API Count by ApiId and Stage. Counting only the
// service's target group would miss the request that woke it: if nobody
// came back after the waking page the alarm would stay in ALARM, never
// change state again, and the woken service would never sleep.
func (b *builder) idle() {
	idle := b.s.Service.Idle
	if idle == nil || !b.s.ECS() {
		return
	}
	alb := b.s.Ingress.Kind != spec.IngressAPIGW
	c := b.counts()
	env := map[string]any{
		"CLUSTER":     cfn.Ref("Cluster"),
		"SERVICE":     cfn.GetAtt("Service", "Name"),
		"MIN":         fmt.Sprint(max(1, c.min)),
		"MAX":         fmt.Sprint(max(1, c.max)),
		"RETRY_AFTER": fmt.Sprint(idleRetryAfter),
		"INGRESS":     b.s.Ingress.Kind,
	}
	if sched := b.s.Service.Schedule; sched != nil {
		if parsed, err := sched.Parse(); err == nil {
			env["TZ_NAME"] = sched.Timezone
			env["WINDOWS"] = windowsJSON(parsed)
		}
	}
	statements := []any{
		statement([]string{"logs:CreateLogStream", "logs:PutLogEvents"}, cfn.GetAtt("WakeLogGroup", "Arn")),
		statement([]string{"ecs:DescribeServices", "ecs:UpdateService", "ecs:TagResource"}, cfn.Ref("Service")),
		statement([]string{"application-autoscaling:RegisterScalableTarget"},
			cfn.Sub("arn:${AWS::Partition}:application-autoscaling:${AWS::Region}:${AWS::AccountId}:scalable-target/*")),
	}
	if alb {
		listeners := []any{cfn.Ref("HttpListener")}
		if b.s.Ingress.TLS() {
			listeners = []any{cfn.Ref("HttpsListener")} // HTTP only redirects
		}
		b.anchorServiceTargetGroup(listeners[0])
		env["LISTENERS"] = cfn.Join(",", listeners...)
		env["SERVICE_TG"] = cfn.Ref("TargetGroup")
		env["CONTROLLER_TG_NAME"] = b.n.WakeTargetGroup
		statements = append(statements,
			statement([]string{"elasticloadbalancing:ModifyListener"}, listeners...),
			statement([]string{"elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"}, "*"))
	} else {
		env["API_ID"] = cfn.Ref("HttpApi")
		env["ROUTE_ID"] = cfn.Ref("DefaultRoute")
		env["SERVICE_INTEGRATION"] = cfn.Ref("Integration")
		env["DISCOVERY_SERVICE"] = cfn.GetAtt("DiscoveryService", "Id")
		statements = append(statements,
			statement([]string{"apigateway:PATCH"}, cfn.Sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/apis/${HttpApi}/routes/${DefaultRoute}")),
			statement([]string{"apigateway:GET"}, cfn.Sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/apis/${HttpApi}/integrations")),
			statement([]string{"servicediscovery:GetInstancesHealthStatus"}, cfn.GetAtt("DiscoveryService", "Arn")))
	}

	b.add(PartIdle, "WakeLogGroup", "AWS::Logs::LogGroup", cfn.Props{
		"LogGroupName":    "/aws/lambda/" + b.n.WakeFunction,
		"RetentionInDays": b.s.Logs.RetentionDays,
	})
	b.add(PartIdle, "WakeRole", "AWS::IAM::Role", cfn.Props{
		"AssumeRolePolicyDocument": trust("lambda.amazonaws.com"),
		"Policies":                 []any{inlinePolicy("wake", statements...)},
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
		"Code":          map[string]any{"ZipFile": ControllerCode(b.s.Service.Schedule != nil)},
		"Environment":   map[string]any{"Variables": env},
	}).DependsOn = []string{"WakeLogGroup"}

	if alb {
		// ALB invokes the function through a Lambda target group
		// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html):
		// the permission must exist before the target is registered.
		b.add(PartIdle, "WakeInvokeFromALB", "AWS::Lambda::Permission", cfn.Props{
			"FunctionName": cfn.GetAtt("WakeFunction", "Arn"),
			"Action":       "lambda:InvokeFunction",
			"Principal":    "elasticloadbalancing.amazonaws.com",
			// The target group's ARN ends in an ID only known once it
			// exists, and it needs this permission first: match its name.
			"SourceArn": cfn.Sub("arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:targetgroup/" + b.n.WakeTargetGroup + "/*"),
		})
		b.add(PartIdle, "WakeTargetGroup", "AWS::ElasticLoadBalancingV2::TargetGroup", cfn.Props{
			"Name":               b.n.WakeTargetGroup,
			"TargetType":         "lambda",
			"HealthCheckEnabled": false,
			"Targets":            []any{map[string]any{"Id": cfn.GetAtt("WakeFunction", "Arn")}},
		}).DependsOn = []string{"WakeInvokeFromALB"}
	} else {
		b.add(PartIdle, "WakeIntegration", "AWS::ApiGatewayV2::Integration", cfn.Props{
			"ApiId":                cfn.Ref("HttpApi"),
			"IntegrationType":      "AWS_PROXY",
			"IntegrationUri":       cfn.GetAtt("WakeFunction", "Arn"),
			"PayloadFormatVersion": "2.0",
		})
		b.add(PartIdle, "WakeInvokeFromAPI", "AWS::Lambda::Permission", cfn.Props{
			"FunctionName": cfn.GetAtt("WakeFunction", "Arn"),
			"Action":       "lambda:InvokeFunction",
			"Principal":    "apigateway.amazonaws.com",
			"SourceArn":    cfn.Sub("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*/$default"),
		})
	}

	after := int(idle.Duration().Seconds())
	alarm := cfn.Props{
		"AlarmName":          b.n.alarmPrefix + "-idle",
		"AlarmDescription":   "No request for " + idle.After + ": sleep",
		"Statistic":          "Sum",
		"Period":             IdleAlarmPeriod,
		"EvaluationPeriods":  after / IdleAlarmPeriod,
		"DatapointsToAlarm":  after / IdleAlarmPeriod,
		"Threshold":          1,
		"ComparisonOperator": "LessThanThreshold",
		// No datapoint is what no request looks like.
		"TreatMissingData": "breaching",
		"AlarmActions":     []any{cfn.GetAtt("WakeFunction", "Arn")},
	}
	if alb {
		alarm["Namespace"], alarm["MetricName"] = "AWS/ApplicationELB", "RequestCount"
		alarm["Dimensions"] = []any{dim("LoadBalancer", cfn.GetAtt("LoadBalancer", "LoadBalancerFullName"))}
	} else {
		alarm["Namespace"], alarm["MetricName"] = "AWS/ApiGateway", "Count"
		alarm["Dimensions"] = []any{dim("ApiId", cfn.Ref("HttpApi")), dim("Stage", "$default")}
	}
	b.add(PartIdle, "IdleAlarm", "AWS::CloudWatch::Alarm", alarm)
	// A CloudWatch alarm invokes a Lambda function directly when the
	// function allows lambda.alarms.cloudwatch.amazonaws.com for that alarm
	// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-actions-Lambda).
	b.add(PartIdle, "WakeInvokeFromAlarm", "AWS::Lambda::Permission", cfn.Props{
		"FunctionName":  cfn.GetAtt("WakeFunction", "Arn"),
		"Action":        "lambda:InvokeFunction",
		"Principal":     "lambda.alarms.cloudwatch.amazonaws.com",
		"SourceAccount": cfn.Ref(cfn.AccountID),
		"SourceArn":     cfn.GetAtt("IdleAlarm", "Arn"),
	})
	b.output(OutputWakeFunction, "The wake controller (service.idle)", cfn.Ref("WakeFunction"))
	b.scheduleSleeps()
}

// scheduleSleeps puts the service to sleep when each awake window ends,
// through the controller, so that the ingress moves to the closed page with
// it. With idle, these replace the schedule's Application Auto Scaling
// actions (scaling.go): a window's start no longer starts a task (the
// first request inside it does), and a window's end must also move the
// ingress, which a scheduled action cannot. EventBridge Scheduler keeps the
// schedule's IANA time zone, as the scheduled actions did
// (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based).
func (b *builder) scheduleSleeps() {
	sched := b.s.Service.Schedule
	if sched == nil {
		return
	}
	parsed, err := sched.Parse()
	if err != nil {
		return // Check refused the spec
	}
	var n int
	for _, t := range transitions(parsed) {
		if t.wake {
			continue
		}
		n++
		b.add(PartIdle, fmt.Sprintf("ScheduleSleep%d", n), "AWS::Scheduler::Schedule", cfn.Props{
			"ScheduleExpression":         cronExpression(t),
			"ScheduleExpressionTimezone": sched.Timezone,
			"FlexibleTimeWindow":         map[string]any{"Mode": "OFF"},
			"Target": map[string]any{
				"Arn":     cfn.GetAtt("WakeFunction", "Arn"),
				"RoleArn": cfn.GetAtt("ScheduleRole", "Arn"),
				"Input":   `{"lowfare":"sleep","reason":"schedule"}`,
			},
		})
	}
	if n == 0 {
		return
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
// default action at the controller (or the app function); without this
// rule the service's target group would be in no rule, and "health checks
// are performed on all targets registered to a target group that is
// specified in a listener rule for your load balancer"
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
