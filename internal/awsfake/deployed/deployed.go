// Package deployed is one app as a finished `lowfare deploy` leaves it on
// the AWS fakes (internal/awsfake): the links app of spec.Default(), its
// main stack's outputs, its ECS service, scalable target and log group.
// The tests of the day-2 code (internal/ops) and of the commands that
// drive it (internal/cli) start from this one world and add what each test
// is about.
package deployed

import (
	"maps"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// The names the world's resources have, as lowfare's templates name them
// for links/dev in us-east-1.
const (
	Account     = "123456789012"
	Cluster     = "lowfare-links-dev"
	Service     = "links"
	LogGroup    = "/lowfare/links/dev"
	TargetGroup = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/lf-links-dev-abc123/1"
	Table       = "lowfare-links-dev-Table-XYZ"
	URL         = "http://lf-links-dev-abc123.us-east-1.elb.amazonaws.com"
	// ResourceID is the service's Application Auto Scaling resource ID.
	ResourceID = "service/" + Cluster + "/" + Service
	// Dimension is the scalable dimension of an ECS service's count.
	Dimension = "ecs:service:DesiredCount"
)

// World is the fakes of one account with the app deployed.
type World struct {
	Spec *spec.Spec
	*awsfake.DayTwo
	// Outputs are the main stack's outputs, as put in CloudFormation; a
	// test that changes them calls PutStack.
	Outputs map[string]string
}

// New returns the world: the main stack in UPDATE_COMPLETE (a deploy
// after the first) with its outputs, the ECS service at 1 desired and 1 running, its scalable
// target at 1..2, and its (empty) log group.
func New() *World {
	s := spec.Default()
	w := &World{Spec: s, DayTwo: awsfake.NewDayTwo(Account)}
	w.Outputs = map[string]string{
		stack.OutputURL:         URL,
		stack.OutputCluster:     Cluster,
		stack.OutputService:     Service,
		stack.OutputLogGroup:    LogGroup,
		stack.OutputTargetGroup: TargetGroup,
		stack.OutputTable:       Table,
	}
	w.PutStack()
	w.ECS.AddService(awsfake.ECSService{Cluster: Cluster, Name: Service, Desired: 1, Running: 1})
	w.AutoScaling.AddTarget(awsfake.ScalableTarget{Namespace: "ecs", ResourceID: ResourceID, Dimension: Dimension, Min: 1, Max: 2})
	w.Logs.AddGroup(LogGroup)
	return w
}

// PutStack puts the main stack again with the current Outputs.
func (w *World) PutStack() {
	w.CloudFormation.PutStack(w.Spec.StackName(), "UPDATE_COMPLETE", maps.Clone(w.Outputs))
}

// AddSchedule adds the scheduled actions of a Mon-Fri 08:00-20:00
// Europe/Berlin schedule: asleep (0..0) at 20:00, awake (1..2) at 08:00.
func (w *World) AddSchedule() {
	zero, one, two := int32(0), int32(1), int32(2)
	w.AutoScaling.AddScheduledAction(awsfake.ScheduledAction{Name: "lowfare-links-dev-sleep-0", Namespace: "ecs", ResourceID: ResourceID,
		Dimension: Dimension, Schedule: "cron(0 20 ? * MON-FRI *)", Timezone: "Europe/Berlin", Min: &zero, Max: &zero})
	w.AutoScaling.AddScheduledAction(awsfake.ScheduledAction{Name: "lowfare-links-dev-wake-0", Namespace: "ecs", ResourceID: ResourceID,
		Dimension: Dimension, Schedule: "cron(0 8 ? * MON-FRI *)", Timezone: "Europe/Berlin", Min: &one, Max: &two})
}
