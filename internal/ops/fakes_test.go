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
	"github.com/lowfare/lowfare/internal/awsfake/deployed"
	"github.com/lowfare/lowfare/internal/spec"
)

// The deployed app's names, as the tests here call them.
const (
	testCluster = deployed.Cluster
	testService = deployed.Service
	testTG      = deployed.TargetGroup
	testGroup   = deployed.LogGroup
	testAccount = deployed.Account
)

// world is one app's worth of local AWS, as a deploy would leave it
// (deployed.World), with SDK clients for the ops functions.
type world struct {
	*deployed.World
	spec    *spec.Spec        // the World's Spec
	outputs map[string]string // the World's Outputs
	clients *Clients
}

func newWorld(t *testing.T) *world {
	t.Helper()
	d := deployed.New()
	w := &world{World: d, spec: d.Spec, outputs: d.Outputs}
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

func (w *world) resourceID() string { return deployed.ResourceID }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
