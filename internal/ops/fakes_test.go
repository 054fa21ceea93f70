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
	spec *spec.Spec
	*awsfake.DayTwo
	outputs map[string]string // the main stack's, as put in CloudFormation
	clients *Clients
}

func newWorld(t *testing.T) *world {
	t.Helper()
	s := spec.Default()
	w := &world{
		spec:   s,
		DayTwo: awsfake.NewDayTwo(testAccount),
	}
	w.outputs = map[string]string{
		stack.OutputURL:         "http://lf-links-dev-abc123.us-east-1.elb.amazonaws.com",
		stack.OutputCluster:     testCluster,
		stack.OutputService:     "arn:aws:ecs:us-east-1:123456789012:service/" + testCluster + "/" + testService,
		stack.OutputLogGroup:    testGroup,
		stack.OutputTargetGroup: testTG,
		stack.OutputTable:       "lowfare-links-dev-Table-XYZ",
	}
	w.CloudFormation.PutStack(s.StackName(), "UPDATE_COMPLETE", w.outputs)
	w.ECS.AddService(awsfake.ECSService{Cluster: testCluster, Name: testService, Desired: 1, Running: 1})
	w.AutoScaling.AddTarget(awsfake.ScalableTarget{Namespace: "ecs", ResourceID: "service/" + testCluster + "/" + testService, Dimension: "ecs:service:DesiredCount", Min: 1, Max: 2})
	w.Logs.AddGroup(testGroup)
	w.clients = &Clients{
		CloudFormation: cloudformation.NewFromConfig(awsfake.Config(t, w.CloudFormation)),
		ECS:            ecs.NewFromConfig(awsfake.Config(t, w.ECS)),
		Logs:           cloudwatchlogs.NewFromConfig(awsfake.Config(t, w.Logs)),
		SSM:            ssm.NewFromConfig(awsfake.Config(t, w.SSM)),
		Budgets:        budgets.NewFromConfig(awsfake.Config(t, w.Budgets)),
		AutoScaling:    applicationautoscaling.NewFromConfig(awsfake.Config(t, w.AutoScaling)),
		ELB:            elbv2.NewFromConfig(awsfake.Config(t, w.ELB)),
		CloudWatch:     cloudwatch.NewFromConfig(awsfake.Config(t, w.CloudWatch)),
		STS:            sts.NewFromConfig(awsfake.Config(t, w.STS)),
	}
	return w
}

func (w *world) resourceID() string { return "service/" + testCluster + "/" + testService }

func (w *world) addSchedule() {
	zero, one, two := int32(0), int32(1), int32(2)
	w.AutoScaling.AddScheduledAction(awsfake.ScheduledAction{Name: "lowfare-links-dev-sleep-0", Namespace: "ecs", ResourceID: w.resourceID(),
		Dimension: "ecs:service:DesiredCount", Schedule: "cron(0 20 ? * MON-FRI *)", Timezone: "Europe/Berlin", Min: &zero, Max: &zero})
	w.AutoScaling.AddScheduledAction(awsfake.ScheduledAction{Name: "lowfare-links-dev-wake-0", Namespace: "ecs", ResourceID: w.resourceID(),
		Dimension: "ecs:service:DesiredCount", Schedule: "cron(0 8 ? * MON-FRI *)", Timezone: "Europe/Berlin", Min: &one, Max: &two})
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
