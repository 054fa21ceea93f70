package stack

import (
	"bytes"
	"compress/zlib"
	_ "embed"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
)

// PartFreeTier is the daily free tier check: a schedule, a small function
// and the parameter that remembers which limits it has emailed about.
const PartFreeTier = "free tier check"

// FreeTierCheckRate is when the check runs: once a day, 06:00 UTC (the
// Free Tier API's figures change daily at most). 31 invocations a month:
// EventBridge Scheduler's free tier is 14 million invocations a month
// (https://aws.amazon.com/eventbridge/pricing/), and at 128 MB and a few
// seconds each the function stays far inside Lambda's always-free 1 million
// requests and 400,000 GB-seconds (https://aws.amazon.com/lambda/pricing/).
const FreeTierCheckRate = "cron(0 6 * * ? *)"

// FreeTierWarnShare is the share of a free tier limit, by this month's
// forecast, at which the check emails (lowfare status marks the same
// rows): 80%.
const FreeTierWarnShare = 0.8

// FreeTierCheckNote is what the part costs, for plan: nothing. 31 runs
// a month are inside the Scheduler's and Lambda's always-free tiers, SSM
// standard parameters are free, and AWS lists no price for the Free Tier
// API (Cost Explorer's API, by contrast, costs $0.01 a request).
const FreeTierCheckNote = "$0 a month: 31 runs inside the always-free tiers; one email per limit and month at 80% by forecast"

// FreeTierStateName is the check's state parameter: one per stack (app,
// env and region), beside the app's secrets (spec.SecretPrefix), not
// under them.
func FreeTierStateName(s *spec.Spec) string { return "/lowfare-freetier/" + s.App + "/" + s.Env }

// PartNote is what plan prints beside a part's name: the free tier
// check's cost; "" for the other parts (their cost is in the estimate).
func PartNote(part string) string {
	if part == PartFreeTier {
		return FreeTierCheckNote
	}
	return ""
}

//go:embed freetier_check.py
var freeTierCheckSource string

// FreeTierCheckSource is the check's Python source as it runs:
// freetier_check.py without full-line comments and blank lines, with one
// space of indentation for each four (the idle controller's reduction).
// Python in Lambda's python3.13 runtime carries boto3, whose botocore has
// had the freetier client since early 2024 (the runtime came in November
// 2024), so the code needs no package.
func FreeTierCheckSource() string {
	var out []string
	for line := range strings.SplitSeq(freeTierCheckSource, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		lead := len(line) - len(strings.TrimLeft(line, " "))
		out = append(out, strings.Repeat(" ", lead/4+lead%4)+t)
	}
	return strings.Join(out, "\n") + "\n"
}

// FreeTierCheckZipFile is FreeTierCheckSource as the template carries it
// (Code.ZipFile): zlib-packed and base64-encoded behind a two-import
// loader, which saves about 400 of the template's bytes over the plain
// source (every stack carries the check, and idle stacks are within a
// few hundred bytes of TestIdleTemplatesKeepHeadroom's limit). exec runs
// it in the module's own namespace, so index.handler is the check's.
func FreeTierCheckZipFile() string {
	var b bytes.Buffer
	w, err := zlib.NewWriterLevel(&b, zlib.BestCompression)
	if err != nil {
		panic(err) // a valid level: cannot fail
	}
	_, _ = w.Write([]byte(FreeTierCheckSource()))
	_ = w.Close()
	return "import base64,zlib\nexec(zlib.decompress(base64.b64decode(\"" + base64.StdEncoding.EncodeToString(b.Bytes()) + "\")))\n"
}

// FreeTierServices are what the stack of s runs, as parts of the Free
// Tier API's service names (FreeTierServiceIn): the offers lowfare status
// lists and the daily check watches. The API names services as billing
// does ("Amazon DynamoDB", "AmazonCloudWatch", "AWS Lambda", "Amazon EC2
// Container Registry (ECR)"), so the keys are the distinctive words,
// short because the template carries them.
func FreeTierServices(s *spec.Spec) []string {
	keys := []string{"dynamodb", "cloudwatch", "notificationservice", "containerregistry", "datatransfer",
		// the daily check itself runs on Lambda
		"lambda"}
	if s.Ingress.Kind == spec.IngressAPIGW {
		keys = append(keys, "apigateway")
	}
	if s.ECS() && s.Ingress.Kind == spec.IngressALB {
		keys = append(keys, "loadbalancing")
	}
	slices.Sort(keys)
	return keys
}

// FreeTierServiceIn reports whether a Free Tier API service name is one
// of keys (FreeTierServices): the name without case or spaces contains
// one. freetier_check.py matches the same way.
func FreeTierServiceIn(name string, keys []string) bool {
	n := strings.ToLower(strings.ReplaceAll(name, " ", ""))
	for _, k := range keys {
		if strings.Contains(n, k) {
			return true
		}
	}
	return false
}

// freeTierCheck adds the daily check: its log group, role, state
// parameter, function, schedule and the schedule's role.
//
// The state is an SSM Parameter Store standard parameter, created here
// with "{}" and rewritten by the function: standard parameters cost
// nothing (https://aws.amazon.com/systems-manager/pricing/) and hold 4 KB.
// Its name, FreeTierStateName, is outside the app's secrets path, so
// lowfare secrets never lists it and the app's roles never read it; it is
// named because moto (5.2.1) cannot create a parameter CloudFormation
// would name. The table would also be free but is the app's data, and its
// 25 WCU are the app's. CloudFormation rewrites the value only when the
// template's Value changes, which it never does.
func (b *builder) freeTierCheck() {
	b.add(PartFreeTier, "FreeTierLogGroup", "AWS::Logs::LogGroup", cfn.Props{
		"RetentionInDays": b.s.Logs.RetentionDays,
	})
	b.add(PartFreeTier, "FreeTierState", "AWS::SSM::Parameter", cfn.Props{
		"Name":  FreeTierStateName(b.s),
		"Type":  "String",
		"Value": "{}",
	})
	paramARN := cfn.Sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter" + FreeTierStateName(b.s))
	b.add(PartFreeTier, "FreeTierRole", "AWS::IAM::Role", cfn.Props{
		"AssumeRolePolicyDocument": trust("lambda.amazonaws.com"),
		"Policies": []any{inlinePolicy("freetier-check",
			writeLogs("FreeTierLogGroup"),
			// GetFreeTierUsage takes no resource: "If there is no value for
			// this column, you must specify all resources ("*")"
			// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsfreetier.html).
			statement([]string{"freetier:GetFreeTierUsage"}, "*"),
			statement([]string{"ssm:GetParameter", "ssm:PutParameter"}, paramARN),
			statement([]string{"sns:Publish"}, cfn.Ref("AlarmTopic")),
		)},
	})
	b.add(PartFreeTier, "FreeTierCheck", "AWS::Lambda::Function", cfn.Props{
		"Runtime": ControllerRuntime,
		"Timeout": 30,
		"Handler": "index.handler",
		"Role":    cfn.GetAtt("FreeTierRole", "Arn"),
		"Code":    map[string]any{"ZipFile": FreeTierCheckZipFile()},
		// Its own log group with the spec's retention, without a fixed
		// function name (the Ref also orders the two).
		"LoggingConfig": map[string]any{"LogGroup": cfn.Ref("FreeTierLogGroup")},
		"Environment": map[string]any{"Variables": map[string]any{
			"SERVICES": strings.Join(FreeTierServices(b.s), ","),
			"STATE":    cfn.Ref("FreeTierState"),
			"TOPIC":    cfn.Ref("AlarmTopic"),
			"APP":      b.s.App + "/" + b.s.Env,
		}},
	})
	role := b.freeTierScheduleRole()
	b.add(PartFreeTier, "FreeTierSchedule", "AWS::Scheduler::Schedule", cfn.Props{
		"ScheduleExpression": FreeTierCheckRate,
		"FlexibleTimeWindow": map[string]any{"Mode": "OFF"},
		"Target": map[string]any{
			"Arn":     cfn.GetAtt("FreeTierCheck", "Arn"),
			"RoleArn": cfn.GetAtt(role, "Arn"),
		},
	})
}

// freeTierScheduleRole is the role the schedule invokes the function with:
// with service.idle, the idle controller's ScheduleRole, which gains the
// one invoke statement (a second role would cost the template about 500
// bytes, and idle templates are the largest); without, a role of its own.
func (b *builder) freeTierScheduleRole() string {
	invoke := statement([]string{"lambda:InvokeFunction"}, cfn.GetAtt("FreeTierCheck", "Arn"))
	if r, ok := b.main.Resources["ScheduleRole"]; ok {
		doc := r.Properties["Policies"].([]any)[0].(map[string]any)["PolicyDocument"].(map[string]any)
		doc["Statement"] = append(doc["Statement"].([]any), invoke)
		return "ScheduleRole"
	}
	trustScheduler := trust("scheduler.amazonaws.com")
	trustScheduler["Statement"].([]any)[0].(map[string]any)["Condition"] = map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": cfn.Ref(cfn.AccountID)},
	}
	b.add(PartFreeTier, "FreeTierScheduleRole", "AWS::IAM::Role", cfn.Props{
		"AssumeRolePolicyDocument": trustScheduler,
		"Policies":                 []any{inlinePolicy("invoke", invoke)},
	})
	return "FreeTierScheduleRole"
}
