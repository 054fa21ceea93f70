package stack

import (
	"slices"
	"testing"

	"github.com/lowfare/lowfare/internal/spec"
)

// The limits below come from AWS, not from lowfare: each is written here
// as a literal beside the page that states it, so that a changed constant
// fails this test instead of being believed by every check that reads it.

func TestNameLimitsAreAWSs(t *testing.T) {
	for _, c := range []struct {
		what      string
		got, want int
		doc       string
	}{
		// "can have a maximum of 32 characters"
		{"load balancer and target group", maxELBName, 32, "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html"},
		// repositoryName: "Length Constraints: Minimum length of 2. Maximum length of 256."
		{"ECR repository", maxECRName, 256, "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html"},
		// "Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed."
		{"ECS cluster", maxClusterName, 255, "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html"},
		// "The name of your service. Up to 255 letters ..."
		{"ECS service", maxServiceName, 255, "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html"},
		// "Up to 255 characters are allowed."
		{"task definition family", maxFamily, 255, "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html"},
		// "Log group names can be between 1 and 512 characters long."
		{"log group", maxLogGroup, 512, "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html"},
		// BudgetName: "Maximum length of 100."
		{"budget", maxBudgetName, 100, "https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Budget.html"},
		// DashboardName: "can be up to 255 characters long"
		{"dashboard", maxDashboardName, 255, "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html"},
		// VPC link name: "Length Constraints: Maximum length of 128."
		{"VPC link", maxVpcLinkName, 128, "https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/vpclinks.html"},
		// API name: "Length Constraints: Maximum length of 128."
		{"HTTP API", maxAPIName, 128, "https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis.html"},
		// AlarmName: "Maximum length of 255."
		{"alarm", maxAlarmName, 255, "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html"},
		// PolicyName: "Maximum length of 256."
		{"scaling policy", maxPolicyName, 256, "https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScalingPolicy.html"},
		// A DNS name is at most 253 characters, a label at most 63 (RFC 1035).
		{"Cloud Map namespace", maxNamespace, 253, "https://docs.aws.amazon.com/cloud-map/latest/api/API_CreatePrivateDnsNamespace.html"},
		{"DNS label", maxDNSLabel, 63, "https://www.rfc-editor.org/rfc/rfc1035#section-2.3.4"},
	} {
		if c.got != c.want {
			t.Errorf("%s name limit = %d, AWS says %d (%s)", c.what, c.got, c.want, c.doc)
		}
	}
}

// spec.FargateMemory is AWS's task size table
// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size,
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html):
// "512 (0.5 GB), 1024 (1 GB), 2048 (2 GB) - Available cpu values: 256 (.25
// vCPU)" ... "Between 32GB and 120 GB in 8 GB increments - Available cpu
// values: 16384 (16 vCPU)".
func TestFargateSizesAreAWSs(t *testing.T) {
	gb := func(from, to, step int) []int {
		var out []int
		for m := from; m <= to; m += step {
			out = append(out, m*1024)
		}
		return out
	}
	want := map[int][]int{
		256:   {512, 1024, 2048},
		512:   {1024, 2048, 3072, 4096},
		1024:  {2048, 3072, 4096, 5120, 6144, 7168, 8192},
		2048:  gb(4, 16, 1),
		4096:  gb(8, 30, 1),
		8192:  gb(16, 60, 4),
		16384: gb(32, 120, 8),
	}
	for cpu, mem := range want {
		if got := spec.FargateMemory(cpu); !slices.Equal(got, mem) {
			t.Errorf("FargateMemory(%d) = %v; AWS pairs it with %v", cpu, got, mem)
		}
	}
	for _, cpu := range []int{0, 128, 768, 3072, 32768} {
		if got := spec.FargateMemory(cpu); got != nil {
			t.Errorf("FargateMemory(%d) = %v; Fargate has no such CPU size", cpu, got)
		}
	}
}

// spec.RetentionDays is CloudWatch Logs' list: "Possible values are: 1,
// 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
// 2192, 2557, 2922, 3288, and 3653."
// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html)
func TestRetentionDaysAreAWSs(t *testing.T) {
	want := []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
	if got := spec.RetentionDays(); !slices.Equal(got, want) {
		t.Errorf("RetentionDays = %v; CloudWatch Logs accepts %v", got, want)
	}
}
