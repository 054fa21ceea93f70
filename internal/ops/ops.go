// Package ops runs the day-2 commands against a deployed app: status, logs,
// scale, sleep and wake, and secrets. It finds the app's resources through
// the main stack's outputs (internal/stack/contract.go), or by logical ID
// through DescribeStackResources when an output is missing
// (OutputResources), and talks to each service through the real SDK
// clients, every call under its own timeout.
package ops

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/budgets"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/freetier"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// CallTimeout bounds each single API call an ops command makes.
const CallTimeout = 20 * time.Second

// Clients are the service clients the ops commands use.
type Clients struct {
	CloudFormation *cloudformation.Client
	ECS            *ecs.Client
	Logs           *cloudwatchlogs.Client
	SSM            *ssm.Client
	Budgets        *budgets.Client
	AutoScaling    *applicationautoscaling.Client
	ELB            *elbv2.Client
	CloudWatch     *cloudwatch.Client
	STS            *sts.Client
	Lambda         *lambda.Client // service.idle: the wake controller
	RDS            *rds.Client    // the database (spec.Database)
	// FreeTier reads the account's free tier (us-east-1, whatever the
	// app's region); nil leaves it out of status.
	FreeTier *freetier.Client
	// CostExplorer answers from us-east-1 (its endpoint for the
	// commercial partition); status --costs only.
	CostExplorer *costexplorer.Client
}

// NewClients builds every client from one configuration.
func NewClients(cfg aws.Config) *Clients {
	return &Clients{
		CloudFormation: cloudformation.NewFromConfig(cfg),
		ECS:            ecs.NewFromConfig(cfg),
		Logs:           cloudwatchlogs.NewFromConfig(cfg),
		SSM:            ssm.NewFromConfig(cfg),
		Budgets:        budgets.NewFromConfig(cfg),
		AutoScaling:    applicationautoscaling.NewFromConfig(cfg),
		Lambda:         lambda.NewFromConfig(cfg),
		ELB:            elbv2.NewFromConfig(cfg),
		CloudWatch:     cloudwatch.NewFromConfig(cfg),
		STS:            sts.NewFromConfig(cfg),
		RDS:            rds.NewFromConfig(cfg),
		FreeTier:       freetier.New(cfg),
		CostExplorer: costexplorer.NewFromConfig(cfg, func(o *costexplorer.Options) {
			o.Region = "us-east-1"
		}),
	}
}

// call runs one API call under CallTimeout.
func call[T any](ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	return fn(ctx)
}

// ErrStackNotFound means the app has not been deployed (in this region):
// the one value every package that reads stacks wraps
// (awsconf.ErrStackNotFound).
var ErrStackNotFound = awsconf.ErrStackNotFound

// Stack is the main stack as the ops commands need it.
type Stack struct {
	Name    string
	Status  string
	Reason  string
	Updated time.Time
	Outputs map[string]string
}

// Output returns an output's value, or an error naming it when the stack
// does not have it (an older or foreign template).
func (st *Stack) Output(name string) (string, error) {
	v, ok := st.Outputs[name]
	if !ok || v == "" {
		return "", fmt.Errorf("stack %s has no output %s: redeploy with this version of lowfare (lowfare deploy)", st.Name, name)
	}
	return v, nil
}

// DescribeStack reads the main stack of s. A stack that does not exist
// gives an error wrapping ErrStackNotFound that says what to do.
func DescribeStack(ctx context.Context, cf *cloudformation.Client, s *spec.Spec) (*Stack, error) {
	name := s.StackName()
	out, err := call(ctx, func(ctx context.Context) (*cloudformation.DescribeStacksOutput, error) {
		return cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	})
	if err != nil {
		if awsconf.IsStackNotFound(err) {
			return nil, fmt.Errorf("%w: %s does not exist in %s; deploy it first with lowfare deploy (or check --region and --aws-profile)", ErrStackNotFound, name, cfRegion(cf))
		}
		return nil, fmt.Errorf("describing stack %s: %w", name, err)
	}
	if len(out.Stacks) == 0 {
		return nil, fmt.Errorf("%w: %s does not exist in %s; deploy it first with lowfare deploy", ErrStackNotFound, name, cfRegion(cf))
	}
	cs := out.Stacks[0]
	st := &Stack{
		Name:    name,
		Status:  string(cs.StackStatus),
		Reason:  aws.ToString(cs.StackStatusReason),
		Outputs: map[string]string{},
	}
	st.Updated = aws.ToTime(cs.CreationTime)
	if cs.LastUpdatedTime != nil {
		st.Updated = *cs.LastUpdatedTime
	}
	if st.Status == "DELETE_COMPLETE" {
		return nil, fmt.Errorf("%w: %s was deleted; deploy it again with lowfare deploy", ErrStackNotFound, name)
	}
	for _, o := range cs.Outputs {
		st.Outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	if err := fillFromResources(ctx, cf, st, wantedOutputs(s)); err != nil {
		return nil, err
	}
	return st, nil
}

// OutputResources maps each output the day-2 commands read to the logical
// ID of the resource it names (internal/stack; TestOutputResources checks
// the two agree). A stack without the output (made by an older lowfare, or
// by an endpoint such as moto whose change sets leave Outputs empty) is
// still usable: the resource's physical ID is the value, read the way
// CloudFormation itself reports it (DescribeStackResources). For these
// types the physical ID is what the output holds (Ref or the service's
// ARN, whose last part ServiceOf takes).
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackResources.html
var OutputResources = map[string]string{
	stack.OutputCluster:      "Cluster",
	stack.OutputService:      "Service",
	stack.OutputTable:        "Table",
	stack.OutputLogGroup:     "LogGroup",
	stack.OutputAlarmTopic:   "AlarmTopic",
	stack.OutputTargetGroup:  "TargetGroup",
	stack.OutputFunction:     "Function",
	stack.OutputWakeFunction: "WakeFunction",
}

// wantedOutputs are the outputs of OutputResources that the template of s
// has.
func wantedOutputs(s *spec.Spec) []string {
	out := []string{stack.OutputTable, stack.OutputLogGroup, stack.OutputAlarmTopic}
	if s.ECS() {
		out = append(out, stack.OutputCluster, stack.OutputService)
		if s.Ingress.Kind == spec.IngressALB {
			out = append(out, stack.OutputTargetGroup)
		}
		if s.Service.Idle != nil {
			out = append(out, stack.OutputWakeFunction)
		}
	} else {
		out = append(out, stack.OutputFunction)
	}
	return out
}

// fillFromResources fills the wanted outputs that the stack lacks from its
// resources, with one DescribeStackResources call, and only when one is
// missing.
func fillFromResources(ctx context.Context, cf *cloudformation.Client, st *Stack, wanted []string) error {
	missing := false
	for _, out := range wanted {
		if st.Outputs[out] == "" {
			missing = true
		}
	}
	if !missing {
		return nil
	}
	res, err := call(ctx, func(ctx context.Context) (*cloudformation.DescribeStackResourcesOutput, error) {
		return cf.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String(st.Name)})
	})
	if err != nil {
		return fmt.Errorf("stack %s lacks outputs, and listing its resources failed: %w", st.Name, err)
	}
	byID := map[string]string{}
	for _, r := range res.StackResources {
		if id := aws.ToString(r.PhysicalResourceId); id != "" && !strings.HasPrefix(string(r.ResourceStatus), "DELETE_") {
			byID[aws.ToString(r.LogicalResourceId)] = id
		}
	}
	for _, out := range wanted {
		if logical := OutputResources[out]; st.Outputs[out] == "" && byID[logical] != "" {
			st.Outputs[out] = byID[logical]
		}
	}
	return nil
}

func cfRegion(cf *cloudformation.Client) string { return cf.Options().Region }

// ServiceRef names the ECS service and its scalable target.
type ServiceRef struct {
	Cluster string
	Service string
}

// ResourceID is the Application Auto Scaling resource id of the service.
func (r ServiceRef) ResourceID() string { return "service/" + r.Cluster + "/" + r.Service }

// ServiceOf reads the cluster and service names from the stack outputs.
func ServiceOf(st *Stack) (ServiceRef, error) {
	cluster, err := st.Output(stack.OutputCluster)
	if err != nil {
		return ServiceRef{}, err
	}
	service, err := st.Output(stack.OutputService)
	if err != nil {
		return ServiceRef{}, err
	}
	return ServiceRef{Cluster: lastPart(cluster), Service: lastPart(service)}, nil
}

// lastPart turns an ARN into a name; ECS outputs may be either.
func lastPart(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 && strings.HasPrefix(s, "arn:") {
		return s[i+1:]
	}
	return s
}

// The budget and alarm names come from the stack package, which sets them.
func budgetName(s *spec.Spec) string  { return stack.BudgetName(s) }
func alarmPrefix(s *spec.Spec) string { return stack.AlarmPrefix(s) }
