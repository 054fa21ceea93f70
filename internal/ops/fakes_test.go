package ops

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/budgets"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

const (
	testCluster = "lowfare-links-dev"
	testService = "links"
	testTG      = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/lf-links-dev-abc123/1"
	testGroup   = "/lowfare/links/dev"
	testAccount = "123456789012"
)

// world is one app's worth of local AWS, as a deploy would leave it.
type world struct {
	spec    *spec.Spec
	cfn     *awsfake.CloudFormation
	outputs map[string]string // the main stack's, as put in cfn
	ecs     *awsfake.ECS
	logs    *awsfake.Logs
	ssm     *awsfake.SSM
	budgets *awsfake.Budgets
	aas     *awsfake.AutoScaling
	elb     *awsfake.ELBv2
	cw      *awsfake.CloudWatch
	sts     *awsfake.STS
	clients *Clients
}

func newWorld(t *testing.T) *world {
	t.Helper()
	s := spec.Default()
	w := &world{
		spec:    s,
		cfn:     awsfake.NewCloudFormation(),
		ecs:     awsfake.NewECS(),
		logs:    awsfake.NewLogs(),
		ssm:     awsfake.NewSSM(),
		budgets: awsfake.NewBudgets(testAccount),
		aas:     awsfake.NewAutoScaling(),
		elb:     awsfake.NewELBv2(),
		cw:      awsfake.NewCloudWatch(),
		sts:     awsfake.NewSTS(testAccount),
	}
	w.outputs = map[string]string{
		stack.OutputURL:         "http://lf-links-dev-abc123.us-east-1.elb.amazonaws.com",
		stack.OutputCluster:     testCluster,
		stack.OutputService:     "arn:aws:ecs:us-east-1:123456789012:service/" + testCluster + "/" + testService,
		stack.OutputLogGroup:    testGroup,
		stack.OutputTargetGroup: testTG,
		stack.OutputTable:       "lowfare-links-dev-Table-XYZ",
	}
	w.cfn.PutStack(s.StackName(), "UPDATE_COMPLETE", w.outputs)
	w.ecs.AddService(awsfake.ECSService{Cluster: testCluster, Name: testService, Desired: 1, Running: 1})
	w.aas.AddTarget(awsfake.ScalableTarget{Namespace: "ecs", ResourceID: "service/" + testCluster + "/" + testService, Dimension: "ecs:service:DesiredCount", Min: 1, Max: 2})
	w.logs.AddGroup(testGroup)
	w.clients = &Clients{
		CloudFormation: cloudformation.NewFromConfig(awsfake.Config(t, w.cfn)),
		ECS:            ecs.NewFromConfig(awsfake.Config(t, w.ecs)),
		Logs:           cloudwatchlogs.NewFromConfig(awsfake.Config(t, w.logs)),
		SSM:            ssm.NewFromConfig(awsfake.Config(t, w.ssm)),
		Budgets:        budgets.NewFromConfig(awsfake.Config(t, w.budgets)),
		AutoScaling:    applicationautoscaling.NewFromConfig(awsfake.Config(t, w.aas)),
		ELB:            elbv2.NewFromConfig(awsfake.Config(t, w.elb)),
		CloudWatch:     cloudwatch.NewFromConfig(awsfake.Config(t, w.cw)),
		STS:            sts.NewFromConfig(awsfake.Config(t, w.sts)),
	}
	return w
}

func (w *world) resourceID() string { return "service/" + testCluster + "/" + testService }

func (w *world) addSchedule() {
	zero, one, two := int32(0), int32(1), int32(2)
	w.aas.AddScheduledAction(awsfake.ScheduledAction{Name: "lowfare-links-dev-sleep-0", Namespace: "ecs", ResourceID: w.resourceID(),
		Dimension: "ecs:service:DesiredCount", Schedule: "cron(0 20 ? * MON-FRI *)", Timezone: "Europe/Berlin", Min: &zero, Max: &zero})
	w.aas.AddScheduledAction(awsfake.ScheduledAction{Name: "lowfare-links-dev-wake-0", Namespace: "ecs", ResourceID: w.resourceID(),
		Dimension: "ecs:service:DesiredCount", Schedule: "cron(0 8 ? * MON-FRI *)", Timezone: "Europe/Berlin", Min: &one, Max: &two})
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
