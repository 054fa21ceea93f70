package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// Rollout is an ECS service as a deploy reads it while it proves the task
// definition the stack just gave it: whether it sleeps, whether a task of
// that task definition runs, and whether the ingress would find it healthy.
type Rollout struct {
	Service ServiceRef
	// TaskDefinition is the service's (ARN): the one the stack names.
	TaskDefinition string
	Desired        int32
	// Running counts the RUNNING tasks of TaskDefinition.
	Running int32
	// RolloutState is the state of the deployment of TaskDefinition
	// (IN_PROGRESS, COMPLETED, FAILED), with ECS's reason.
	RolloutState, RolloutReason string
	// Sleep and SleepReason are the wake controller's tags
	// (lowfare:sleep, lowfare:sleep-reason); empty without them.
	Sleep, SleepReason string
	// Healthy says the ingress would send requests to a task of
	// TaskDefinition; Health says in one line what decided it.
	Healthy bool
	Health  string
	// Stopped says why tasks of TaskDefinition stopped, one line each, at
	// most maxStopped.
	Stopped []string
}

const maxStopped = 3

// Asleep reports whether the service runs no task: a stack update changes
// its task definition and starts nothing, so nothing proved the image.
func (r *Rollout) Asleep() bool { return r.Desired == 0 }

// ReadService reads the service of the main stack st (from ServiceOf):
// its task definition, counts, deployment and sleep tags, and nothing
// about its tasks (one DescribeServices call).
func ReadService(ctx context.Context, c *Clients, st *Stack) (*Rollout, error) {
	ref, err := ServiceOf(st)
	if err != nil {
		return nil, err
	}
	sv, err := describeService(ctx, c, ref)
	if err != nil {
		return nil, err
	}
	r := &Rollout{Service: ref, TaskDefinition: aws.ToString(sv.TaskDefinition), Desired: sv.DesiredCount}
	for _, t := range sv.Tags {
		switch aws.ToString(t.Key) {
		case tagSleep:
			r.Sleep = aws.ToString(t.Value)
		case tagSleepReason:
			r.SleepReason = aws.ToString(t.Value)
		}
	}
	for _, d := range sv.Deployments {
		if aws.ToString(d.TaskDefinition) == r.TaskDefinition {
			r.RolloutState, r.RolloutReason = string(d.RolloutState), aws.ToString(d.RolloutStateReason)
		}
	}
	return r, nil
}

// ReadRollout is ReadService and, when a task is wanted, the service's
// tasks of its task definition and their health.
func ReadRollout(ctx context.Context, c *Clients, s *spec.Spec, st *Stack) (*Rollout, error) {
	r, err := ReadService(ctx, c, st)
	if err != nil {
		return nil, err
	}
	if r.Desired == 0 {
		r.Health = "no task wanted (desired count 0)"
		return r, nil
	}
	running, err := r.tasks(ctx, c, ecstypes.DesiredStatusRunning)
	if err != nil {
		return nil, err
	}
	hasCheck := stack.HealthCheck(s) != nil
	taskHealthy := false
	for _, t := range running {
		if aws.ToString(t.LastStatus) == "RUNNING" {
			r.Running++
			// ECS reports a task HEALTHY when all its essential
			// containers pass their health check, UNKNOWN while it is
			// evaluated or when there is none
			// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html, healthStatus).
			taskHealthy = taskHealthy || !hasCheck || t.HealthStatus == ecstypes.HealthStatusHealthy
		}
	}
	if stopped, err := r.tasks(ctx, c, ecstypes.DesiredStatusStopped); err == nil {
		for _, t := range stopped {
			if len(r.Stopped) < maxStopped {
				r.Stopped = append(r.Stopped, stoppedLine(t))
			}
		}
	}
	// The ingress decides: behind an ALB a task gets requests once its
	// target is healthy in the service's target group; behind an HTTP API,
	// Cloud Map returns the instances ECS reports healthy, which ECS takes
	// from the container health check (HealthCheckCustomConfig, see
	// internal/stack/ingress_apigw.go).
	if tg := st.Outputs[stack.OutputTargetGroup]; tg != "" {
		r.Healthy, r.Health, err = targetsSay(ctx, c, tg)
		if err != nil {
			return nil, err
		}
		if r.Healthy && r.Running == 0 {
			// The healthy target is a task of another task definition.
			r.Healthy, r.Health = false, "no task of the new task definition is running yet; "+r.Health
		}
		return r, nil
	}
	r.Healthy = taskHealthy
	switch {
	case r.Running == 0:
		r.Health = "no task of the new task definition is running yet"
	case !hasCheck:
		r.Health = "a task is running (the task has no container health check, so Cloud Map sends requests to every running task)"
	case taskHealthy:
		r.Health = "a task passes its container health check (GET " + s.Service.Health.Path + ")"
	default:
		r.Health = "a task is running; its container health check has not passed yet"
	}
	return r, nil
}

// targetsSay reads the service's target group: healthy when a target is.
// A target group that no listener rule names is not health-checked at all:
// its targets report "unused" (Target.NotInUse), never healthy
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/check-target-health.html, reason codes).
func targetsSay(ctx context.Context, c *Clients, tg string) (bool, string, error) {
	targets, err := targetHealth(ctx, c, tg)
	if err != nil {
		return false, "", err
	}
	if len(targets) == 0 {
		return false, "no target registered in the target group yet", nil
	}
	var lines []string
	for _, t := range targets {
		line := fmt.Sprintf("target %s:%d %s", t.ID, t.Port, t.State)
		if t.Reason != "" {
			line += " (" + t.Reason + ")"
		}
		if t.State == "healthy" {
			return true, line, nil
		}
		lines = append(lines, line)
	}
	return false, strings.Join(lines, ", "), nil
}

// tasks lists the service's tasks of r.TaskDefinition with the given
// desired status (ListTasks, then DescribeTasks by the hundred).
func (r *Rollout) tasks(ctx context.Context, c *Clients, status ecstypes.DesiredStatus) ([]ecstypes.Task, error) {
	in := &ecs.ListTasksInput{Cluster: aws.String(r.Service.Cluster), ServiceName: aws.String(r.Service.Service), DesiredStatus: status}
	var arns []string
	for {
		out, err := call(ctx, func(ctx context.Context) (*ecs.ListTasksOutput, error) { return c.ECS.ListTasks(ctx, in) })
		if err != nil {
			return nil, fmt.Errorf("listing the %s tasks of service %s: %w", strings.ToLower(string(status)), r.Service.Service, err)
		}
		arns = append(arns, out.TaskArns...)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	var tasks []ecstypes.Task
	for chunk := range slices.Chunk(arns, 100) {
		out, err := call(ctx, func(ctx context.Context) (*ecs.DescribeTasksOutput, error) {
			return c.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(r.Service.Cluster), Tasks: chunk})
		})
		if err != nil {
			return nil, fmt.Errorf("describing the tasks of service %s: %w", r.Service.Service, err)
		}
		for _, t := range out.Tasks {
			if aws.ToString(t.TaskDefinitionArn) == r.TaskDefinition {
				tasks = append(tasks, t)
			}
		}
	}
	return tasks, nil
}

// stoppedLine is why a task stopped: ECS's reason, and the exit code of a
// container that exited.
func stoppedLine(t ecstypes.Task) string {
	line := aws.ToString(t.StoppedReason)
	if line == "" {
		line = "stopped"
	}
	for _, ct := range t.Containers {
		if ct.ExitCode != nil {
			line += fmt.Sprintf(" (container %s exit code %d)", aws.ToString(ct.Name), *ct.ExitCode)
		}
		if reason := aws.ToString(ct.Reason); reason != "" {
			line += " (" + reason + ")"
		}
	}
	return line
}

// AskController invokes the wake controller of the main stack st
// (service.idle) with {"lowfare": action, "reason": reason}: the one piece
// of code that changes the bounds, the desired count, the ingress's route
// and the state tags together. action is "sleep" or "wake".
func AskController(ctx context.Context, c *Clients, st *Stack, action, reason string) error {
	fn, err := st.Output(stack.OutputWakeFunction)
	if err != nil {
		return err
	}
	payload, _ := json.Marshal(map[string]string{"lowfare": action, "reason": reason}) // strings: cannot fail
	out, err := call(ctx, func(ctx context.Context) (*lambda.InvokeOutput, error) {
		return c.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: payload})
	})
	if err != nil {
		return fmt.Errorf("asking the wake controller %s to %s: %w", fn, action, err)
	}
	if out.FunctionError != nil {
		return fmt.Errorf("the wake controller %s failed to %s (%s): %s; its log group is /aws/lambda/%s", fn, action, aws.ToString(out.FunctionError), out.Payload, fn)
	}
	return nil
}
