package spec

import (
	"fmt"
	"strings"
)

// NoResourceActions are IAM actions that take no resource (the Service
// Authorization Reference lists no resource type for them, so a policy
// must name Resource "*"), each with why an app may want it. A
// service.permissions statement may use Resource "*" only for these; any
// other action must name its resources. See
// https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
// (the "Resource types" column is empty for each of these).
var NoResourceActions = map[string]string{
	"ecr:GetAuthorizationToken": "it returns a registry login token for the account and supports no resource-level permissions",
	"cloudwatch:PutMetricData":  "custom metrics; restrict by the cloudwatch:namespace condition instead",
	"cloudwatch:GetMetricData":  "reading metrics has no resource type",
	"cloudwatch:ListMetrics":    "listing metrics has no resource type",
	"xray:PutTraceSegments":     "sending traces has no resource type",
	"xray:PutTelemetryRecords":  "sending X-Ray telemetry has no resource type",
	"xray:GetSamplingRules":     "the X-Ray SDK's sampling rules have no resource type",
	"xray:GetSamplingTargets":   "the X-Ray SDK's sampling targets have no resource type",
	"sts:GetCallerIdentity":     "it needs no permission and takes no resource",
	"s3:ListAllMyBuckets":       "listing the account's buckets has no resource type",
	"ssm:DescribeParameters":    "listing parameters has no resource type",
	"dynamodb:ListTables":       "listing tables has no resource type",
	"sqs:ListQueues":            "listing queues has no resource type",
	"sns:ListTopics":            "listing topics has no resource type",
	"kms:ListKeys":              "listing keys has no resource type",
	// The wake controller (stack/idle.go) reads its listener, its own
	// target group and the service's target health; ELBv2's Describe* actions take no resource
	// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html).
	"elasticloadbalancing:DescribeListeners":    "ELBv2 Describe* actions have no resource type",
	"elasticloadbalancing:DescribeTargetGroups": "ELBv2 Describe* actions have no resource type",
	"elasticloadbalancing:DescribeTargetHealth": "ELBv2 Describe* actions have no resource type",
	"kms:ListAliases":                           "listing aliases has no resource type",
	"secretsmanager:ListSecrets":                "listing secrets has no resource type",
}

// noResourceAction reports whether action (IAM action names are not case
// sensitive) is in NoResourceActions.
func noResourceAction(action string) bool {
	for a := range NoResourceActions {
		if strings.EqualFold(a, action) {
			return true
		}
	}
	return false
}

var (
	actionPattern = newLazyRegexp(`^[a-z0-9-]+:[A-Za-z0-9]+$`)
	arnPattern    = newLazyRegexp(`^arn:aws(-[a-z]+)*:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12}|aws)?:\S+$`)
)

// permissions checks service.permissions: every statement names actions
// exactly (no wildcards, nothing from IAM) and resources by ARN, "*" only
// for actions that take none.
func (v *validator) permissions() {
	for i, p := range v.s.Service.Permissions {
		path := fmt.Sprintf("service.permissions[%d]", i)
		if len(p.Actions) == 0 {
			v.fail(path+".actions", "no actions; list the IAM actions the app needs, such as [s3:GetObject]")
		}
		if len(p.Resources) == 0 {
			v.fail(path+".resources", "no resources; list the ARNs the actions apply to, such as [arn:aws:s3:::my-bucket/*]")
		}
		star := -1
		for j, r := range p.Resources {
			rpath := fmt.Sprintf("%s.resources[%d]", path, j)
			switch {
			case r == "*":
				star = j
			case !arnPattern.MatchString(r):
				v.fail(rpath, "%q is not a resource ARN; use one such as arn:aws:s3:::my-bucket/* (arn:<partition>:<service>:<region>:<account>:<resource>)", shorten(r))
			}
		}
		for j, a := range p.Actions {
			apath := fmt.Sprintf("%s.actions[%d]", path, j)
			service, _, _ := strings.Cut(a, ":")
			switch {
			case strings.ContainsAny(a, "*?"):
				v.fail(apath, "%q is a wildcard action: it grants every matching action, including ones AWS adds later; list each action the app calls", shorten(a))
			case strings.EqualFold(service, "iam"):
				v.fail(apath, "%q is an IAM action: a role that can change IAM can grant itself anything; manage IAM outside the app", shorten(a))
			case !actionPattern.MatchString(a):
				v.fail(apath, "%q is not an IAM action; use service:Action, such as s3:GetObject", shorten(a))
			case star >= 0 && !noResourceAction(a):
				v.fail(fmt.Sprintf("%s.resources[%d]", path, star), "Resource \"*\" for %s, which takes a resource: name the ARNs it needs (\"*\" is only for actions without resources, such as cloudwatch:PutMetricData)", a)
			}
		}
	}
}
