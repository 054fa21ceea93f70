package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/spec"
)

// ErrRunServerless refuses lowfare run for profile serverless: there is no
// task definition to run, and a Lambda function has no command line.
var ErrRunServerless = errors.New("lowfare run starts a one-off ECS task with the service's task definition; profile serverless runs the app as a Lambda function and has none. Run the command on your machine against the deployed resources, or use profile free or ha")

// RunOptions are what lowfare run starts and how it watches the task.
type RunOptions struct {
	// Command replaces the app container's command (the image's CMD). As
	// with `docker run IMAGE ARGS`, an image with an ENTRYPOINT gets it as
	// that entrypoint's arguments: images lowfare builds have the app's
	// binary as their entrypoint, so `run -- migrate up` runs
	// `/app/<name> migrate up`. ECS overrides cannot change the entrypoint:
	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerOverride.html
	Command []string
	// Poll is how often the task's state and its new log events are read
	// (DefaultPoll when 0).
	Poll time.Duration
	// Status, when set, receives one line per state the task reaches
	// (PROVISIONING, RUNNING, STOPPED...), apart from the task's own logs.
	Status io.Writer
}

// RunResult is the outcome of a one-off task.
type RunResult struct {
	Cluster        string   `json:"cluster"`
	TaskDefinition string   `json:"task_definition"`
	Container      string   `json:"container"`
	Command        []string `json:"command"`
	TaskARN        string   `json:"task_arn"`
	LogGroup       string   `json:"log_group,omitempty"`
	LogStream      string   `json:"log_stream,omitempty"`
	// ExitCode is the app container's exit code; nil when it never ran
	// (the image could not be pulled, a secret could not be read...).
	ExitCode *int32 `json:"exit_code"`
	// StopCode and StoppedReason are ECS's words for why the task stopped;
	// ContainerReason is the container's (set when it failed to start).
	StopCode        string `json:"stop_code,omitempty"`
	StoppedReason   string `json:"stopped_reason,omitempty"`
	ContainerReason string `json:"container_reason,omitempty"`
}

// Started reports whether the container ran and exited with a code.
func (r *RunResult) Started() bool { return r.ExitCode != nil }

// Problem says in one sentence why a task that never gave an exit code
// stopped, for the user to act on.
func (r *RunResult) Problem() string {
	why := []string{}
	for _, s := range []string{r.StopCode, r.StoppedReason, r.ContainerReason} {
		if s != "" && !slices.Contains(why, s) {
			why = append(why, s)
		}
	}
	if len(why) == 0 {
		why = append(why, "ECS gave no reason")
	}
	return fmt.Sprintf("task %s stopped before its container exited with a code: %s", shortTask(r.TaskARN), strings.Join(why, "; "))
}

// runTarget is what a one-off task copies from the deployed service.
type runTarget struct {
	cluster, taskDefinition, container string
	network                            *ecstypes.NetworkConfiguration
	platformVersion                    string
	logGroup, logPrefix                string // awslogs options; empty when the container logs elsewhere
}

// Run starts one task with the deployed service's task definition and
// network (subnets, security groups, public IP: read from the service, so
// the task reaches what the service reaches), the app container's command
// replaced by o.Command, and the secrets the task definition injects.
// It prints the task's log events to logs while it runs and returns when
// the task has stopped. The error is for what kept Run from knowing the
// outcome; a task that ran and failed is a result with a non-zero
// ExitCode, and one that never started a result without ExitCode.
// Cancelling ctx stops the task (StopTask) before returning ctx's error.
func Run(ctx context.Context, c *Clients, s *spec.Spec, o RunOptions, logs io.Writer) (*RunResult, error) {
	if !s.ECS() {
		return nil, ErrRunServerless
	}
	if len(o.Command) == 0 {
		return nil, errors.New("lowfare run needs the command to run after --, such as: lowfare run -- migrate up")
	}
	st, err := DescribeStack(ctx, c.CloudFormation, s)
	if err != nil {
		return nil, err
	}
	ref, err := ServiceOf(st)
	if err != nil {
		return nil, err
	}
	target, err := runTargetOf(ctx, c.ECS, ref)
	if err != nil {
		return nil, err
	}
	res := &RunResult{Cluster: ref.Cluster, TaskDefinition: target.taskDefinition, Container: target.container,
		Command: slices.Clone(o.Command), LogGroup: target.logGroup}

	in := &ecs.RunTaskInput{
		Cluster:        aws.String(ref.Cluster),
		TaskDefinition: aws.String(target.taskDefinition),
		Count:          aws.Int32(1),
		// On-demand Fargate even when the service runs on Spot: a
		// migration cut off by a Spot reclaim leaves a half-changed
		// schema.
		LaunchType:           ecstypes.LaunchTypeFargate,
		NetworkConfiguration: target.network,
		Overrides: &ecstypes.TaskOverride{ContainerOverrides: []ecstypes.ContainerOverride{{
			Name:    aws.String(target.container),
			Command: slices.Clone(o.Command),
		}}},
		StartedBy: aws.String("lowfare-run"),
		// The task carries the task definition's tags, so its cost lands
		// on the app as the service's tasks do.
		PropagateTags:        ecstypes.PropagateTagsTaskDefinition,
		EnableECSManagedTags: true,
	}
	if target.platformVersion != "" {
		in.PlatformVersion = aws.String(target.platformVersion)
	}
	out, err := call(ctx, func(ctx context.Context) (*ecs.RunTaskOutput, error) { return c.ECS.RunTask(ctx, in) })
	if err != nil {
		return nil, fmt.Errorf("starting a task of %s in cluster %s: %w", target.taskDefinition, ref.Cluster, err)
	}
	if len(out.Tasks) == 0 {
		reasons := []string{}
		for _, f := range out.Failures {
			reasons = append(reasons, strings.TrimSpace(aws.ToString(f.Reason)+" "+aws.ToString(f.Detail)))
		}
		if len(reasons) == 0 {
			reasons = append(reasons, "ECS returned no task and no failure")
		}
		return nil, fmt.Errorf("ECS did not start a task of %s in cluster %s: %s", target.taskDefinition, ref.Cluster, strings.Join(reasons, "; "))
	}
	res.TaskARN = aws.ToString(out.Tasks[0].TaskArn)
	if target.logGroup != "" && target.logPrefix != "" {
		// awslogs names each stream prefix/container/task-id:
		// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
		res.LogStream = target.logPrefix + "/" + target.container + "/" + taskID(res.TaskARN)
	}
	status(o.Status, "task %s started (%s, %s): %s", shortTask(res.TaskARN), target.taskDefinition, ref.Cluster, strings.Join(o.Command, " "))
	if res.LogStream == "" {
		status(o.Status, "container %s does not log to CloudWatch Logs (awslogs with a stream prefix): its output cannot be shown", target.container)
	}

	if err := watchTask(ctx, c, o, res, logs); err != nil {
		if ctx.Err() != nil {
			stopTask(c.ECS, res, o.Status)
		}
		return res, err
	}
	return res, nil
}

// runTargetOf reads the service's task definition and network, and the app
// container's name and log settings from the task definition.
func runTargetOf(ctx context.Context, client *ecs.Client, ref ServiceRef) (*runTarget, error) {
	out, err := call(ctx, func(ctx context.Context) (*ecs.DescribeServicesOutput, error) {
		return client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(ref.Cluster), Services: []string{ref.Service}})
	})
	if err != nil {
		return nil, fmt.Errorf("reading service %s in cluster %s: %w", ref.Service, ref.Cluster, err)
	}
	if len(out.Services) == 0 {
		return nil, fmt.Errorf("service %s not found in cluster %s: deploy it first with lowfare deploy", ref.Service, ref.Cluster)
	}
	svc := out.Services[0]
	t := &runTarget{cluster: ref.Cluster, taskDefinition: aws.ToString(svc.TaskDefinition), network: svc.NetworkConfiguration}
	// A service's platform version is LATEST unless set; keep an explicit one.
	if pv := aws.ToString(svc.PlatformVersion); pv != "" && pv != "LATEST" {
		t.platformVersion = pv
	}
	if t.taskDefinition == "" {
		return nil, fmt.Errorf("service %s in cluster %s names no task definition: redeploy with lowfare deploy", ref.Service, ref.Cluster)
	}
	if t.network == nil || t.network.AwsvpcConfiguration == nil || len(t.network.AwsvpcConfiguration.Subnets) == 0 {
		return nil, fmt.Errorf("service %s in cluster %s has no awsvpc network configuration (subnets, security groups) for the task to copy: redeploy with lowfare deploy", ref.Service, ref.Cluster)
	}
	td, err := call(ctx, func(ctx context.Context) (*ecs.DescribeTaskDefinitionOutput, error) {
		return client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(t.taskDefinition)})
	})
	if err != nil {
		return nil, fmt.Errorf("reading task definition %s: %w", t.taskDefinition, err)
	}
	if td.TaskDefinition == nil || len(td.TaskDefinition.ContainerDefinitions) == 0 {
		return nil, fmt.Errorf("task definition %s has no containers", t.taskDefinition)
	}
	// lowfare's task definitions have one container, the app; take the
	// first essential one should a sidecar ever join it.
	defs := td.TaskDefinition.ContainerDefinitions
	app := defs[0]
	for _, d := range defs {
		if aws.ToBool(d.Essential) {
			app = d
			break
		}
	}
	t.container = aws.ToString(app.Name)
	if lc := app.LogConfiguration; lc != nil && lc.LogDriver == ecstypes.LogDriverAwslogs {
		t.logGroup, t.logPrefix = lc.Options["awslogs-group"], lc.Options["awslogs-stream-prefix"]
	}
	return t, nil
}

// watchTask polls the task until it stops, printing its new log events on
// each round, then drains the events written just before it stopped.
func watchTask(ctx context.Context, c *Clients, o RunOptions, res *RunResult, logs io.Writer) error {
	poll := o.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	stream := &streamReader{client: c.Logs, group: res.LogGroup, stream: res.LogStream, seen: map[string]bool{}}
	last := ""
	for {
		task, err := describeTask(ctx, c.ECS, res)
		if err != nil {
			return err
		}
		state := aws.ToString(task.LastStatus)
		if state != last {
			status(o.Status, "task %s %s", shortTask(res.TaskARN), state)
			last = state
		}
		if _, err := stream.print(ctx, logs); err != nil {
			return err
		}
		if state == "STOPPED" {
			res.StopCode = string(task.StopCode)
			res.StoppedReason = aws.ToString(task.StoppedReason)
			for _, ct := range task.Containers {
				if aws.ToString(ct.Name) == res.Container {
					res.ExitCode = ct.ExitCode
					res.ContainerReason = aws.ToString(ct.Reason)
				}
			}
			return stream.drain(ctx, logs, poll)
		}
		if err := sleepCtx(ctx, poll); err != nil {
			return err
		}
	}
}

func describeTask(ctx context.Context, client *ecs.Client, res *RunResult) (*ecstypes.Task, error) {
	out, err := call(ctx, func(ctx context.Context) (*ecs.DescribeTasksOutput, error) {
		return client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(res.Cluster), Tasks: []string{res.TaskARN}})
	})
	if err != nil {
		return nil, fmt.Errorf("reading task %s: %w", res.TaskARN, err)
	}
	if len(out.Tasks) == 0 {
		// ECS keeps a stopped task for at least an hour, so this is not
		// a task that ended while we looked away.
		return nil, fmt.Errorf("task %s is not in cluster %s any more", res.TaskARN, res.Cluster)
	}
	return &out.Tasks[0], nil
}

// stopTask stops the task after the user interrupted lowfare run, under a
// fresh context: the interrupted one is done.
func stopTask(client *ecs.Client, res *RunResult, w io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), CallTimeout)
	defer cancel()
	_, err := client.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(res.Cluster), Task: aws.String(res.TaskARN),
		Reason: aws.String("interrupted: lowfare run was stopped")})
	if err != nil {
		status(w, "task %s may still be running; stopping it failed: %v", shortTask(res.TaskARN), err)
		return
	}
	status(w, "task %s stopped (lowfare run was interrupted)", shortTask(res.TaskARN))
}

// streamReader prints a task's log stream as it grows. FilterLogEvents
// (not GetLogEvents) so that the same call works before the stream exists
// (awslogs creates it when the container starts) and so that a shared
// ordering with lowfare logs holds; events already printed are skipped by
// id, as in Logs.
type streamReader struct {
	client        *cloudwatchlogs.Client
	group, stream string
	start         int64
	seen          map[string]bool
}

// print prints the events newer than the last one printed and reports how
// many it printed.
func (r *streamReader) print(ctx context.Context, w io.Writer) (int, error) {
	if r.stream == "" {
		return 0, nil
	}
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(r.group), LogStreamNames: []string{r.stream}, StartTime: aws.Int64(r.start)}
	n := 0
	for {
		out, err := call(ctx, func(ctx context.Context) (*cloudwatchlogs.FilterLogEventsOutput, error) {
			return r.client.FilterLogEvents(ctx, in)
		})
		if err != nil {
			if awsconf.IsResourceNotFound(err) {
				return n, nil // the stream does not exist yet
			}
			return n, fmt.Errorf("reading log stream %s of %s: %w", r.stream, r.group, err)
		}
		for _, e := range out.Events {
			id, ts := aws.ToString(e.EventId), aws.ToInt64(e.Timestamp)
			if r.seen[id] {
				continue
			}
			if ts > r.start {
				r.start = ts
				clear(r.seen)
			}
			r.seen[id] = true
			n++
			if _, err := fmt.Fprintln(w, strings.TrimRight(aws.ToString(e.Message), "\n")); err != nil {
				return n, err
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return n, nil
		}
		in.NextToken = out.NextToken
	}
}

// drain reads the stream until a read a poll apart finds nothing new: the
// awslogs driver flushes the last lines as the container exits, and they
// become readable a moment later.
func (r *streamReader) drain(ctx context.Context, w io.Writer, poll time.Duration) error {
	for range 5 {
		if err := sleepCtx(ctx, poll); err != nil {
			return err
		}
		n, err := r.print(ctx, w)
		if err != nil || n == 0 {
			return err
		}
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func status(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

// taskID is the last part of a task ARN (arn:...:task/cluster/id, or the
// old arn:...:task/id).
func taskID(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// shortTask is a task's id cut to 8 characters, as lowfare logs shows it.
func shortTask(arn string) string {
	id := taskID(arn)
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
