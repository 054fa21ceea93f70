package release

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/deploy"
	"github.com/lowfare/lowfare/internal/ops"
	"github.com/lowfare/lowfare/internal/stack"
	"github.com/lowfare/lowfare/internal/wait"
)

// DefaultHealthTimeout bounds how long a deploy waits for the new image of
// a service that slept through it to be healthy: a Fargate task usually
// starts and passes its first health checks in one to two minutes.
const DefaultHealthTimeout = 10 * time.Minute

// restoreTimeout bounds putting the service back to sleep, which runs even
// when the deploy's own context is done (interrupted): a woken service
// left awake bills until the idle alarm or the reconcile sleeps it.
const restoreTimeout = time.Minute

// ProofStage is a step of proving the new image of a service that slept
// through a deploy.
type ProofStage string

const (
	// ProofWaking: the service runs no task, so the stack update started
	// nothing; the deploy asks the wake controller to start one.
	ProofWaking ProofStage = "waking"
	// ProofWaiting: what the last check saw, each time it changes.
	ProofWaiting ProofStage = "waiting"
	// ProofHealthy: a task of the new task definition is healthy.
	ProofHealthy ProofStage = "healthy"
	// ProofAsleep: the controller put the service back to sleep.
	ProofAsleep ProofStage = "asleep"
	// ProofRollback: the image failed; the main stack goes back to the
	// template and parameters it had before the deploy.
	ProofRollback ProofStage = "rollback"
)

// Proof is one step of proving a sleeping service's new image.
type Proof struct {
	Stage   ProofStage
	Service string
	Detail  string
}

// ProofError is a deploy whose stacks were updated but whose service, asleep
// (service.idle), never ran the new image to health: the live tag was not
// moved and the service was put back to sleep.
type ProofError struct {
	Service string
	Image   string
	// Cause is what went wrong, one clause.
	Cause string
	// Live: the image is one lowfare pushed, so stack.LiveImageTag exists
	// and stayed where it was.
	Live bool
	// LogGroup is the app's log group, where the task's output went.
	LogGroup string
	// SleepErr is why putting the service back to sleep failed (nil when
	// it sleeps again).
	SleepErr error
	// RolledBack: the main stack is back on the template and parameters
	// (the image) it had before the deploy. RollbackErr is why that
	// failed; both are zero when the deploy did not try (an interrupted
	// deploy, a first deploy, a stack the deploy did not change).
	RolledBack  bool
	RollbackErr error
}

func (e *ProofError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "service %s slept through the deploy, so lowfare woke it to prove the new image %s, and %s. ", e.Service, e.Image, e.Cause)
	if e.Live {
		fmt.Fprintf(&b, "The tag %s stays on the image that ran before (the repository keeps it). ", stack.LiveImageTag)
	}
	if e.SleepErr != nil {
		fmt.Fprintf(&b, "Putting the service back to sleep failed too (%v): run lowfare sleep. ", e.SleepErr)
	} else {
		b.WriteString("The service sleeps again. ")
	}
	logs := "lowfare logs --since 30m"
	if e.LogGroup != "" {
		logs += " (log group " + e.LogGroup + ")"
	}
	switch {
	case e.RolledBack:
		fmt.Fprintf(&b, "The main stack is back on the template and image it had before the deploy, which the next wake starts. Read why the new image failed with %s, fix it and deploy again.", logs)
	case e.RollbackErr != nil:
		fmt.Fprintf(&b, "Putting the main stack back on the template and image it had before failed (%v), so it names the new image, which the next wake starts: read why it failed with %s, and deploy the last good revision (docs/runbooks/deploy-and-rollback.md) or a fix.", e.RollbackErr, logs)
	default:
		fmt.Fprintf(&b, "The stack names the new image, which the next wake starts: read why it failed with %s, then fix it and deploy again, or deploy the last good revision (docs/runbooks/deploy-and-rollback.md).", logs)
	}
	return b.String()
}

// before is the main stack as it was before a deploy changed it: what a
// deploy whose image fails its proof puts back, as CloudFormation itself
// rolls back an update whose tasks fail while the service is awake.
type before struct {
	stack deploy.Stack
	// err: reading it failed, so there is nothing to put back.
	err error
}

// readBefore reads the main stack's template (as submitted), parameters
// and tags when r's service can sleep (service.idle); nil for a stack
// that does not exist yet, and for every other spec.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_GetTemplate.html
func (rn *Runner) readBefore(ctx context.Context, r *Release) *before {
	if !r.Spec.ECS() || r.Spec.Service.Idle == nil {
		return nil
	}
	name := r.Spec.StackName()
	tpl, err := rn.AWS.CloudFormation.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: aws.String(name), TemplateStage: cfntypes.TemplateStageOriginal})
	if awsconf.IsStackNotFound(err) {
		return nil
	}
	if err != nil {
		return &before{err: fmt.Errorf("reading the template of %s before the deploy: %w", name, err)}
	}
	out, err := rn.AWS.CloudFormation.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil || len(out.Stacks) == 0 {
		return &before{err: fmt.Errorf("reading the parameters of %s before the deploy: %v", name, err)}
	}
	b := &before{stack: deploy.Stack{Name: name, Body: []byte(aws.ToString(tpl.TemplateBody)), Parameters: map[string]string{}, Tags: map[string]string{}}}
	for _, p := range out.Stacks[0].Parameters {
		b.stack.Parameters[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	for _, t := range out.Stacks[0].Tags {
		b.stack.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return b
}

// rollBack puts the main stack back as it was before the deploy, after a
// failed proof (fail), unless the deploy was interrupted, changed nothing,
// or created the stack.
func (rn *Runner) rollBack(ctx context.Context, fail *ProofError, prev *before, changed bool) {
	if prev == nil || !changed || ctx.Err() != nil {
		return
	}
	if prev.err != nil {
		fail.RollbackErr = prev.err
		return
	}
	rn.Report.Proof(Proof{Stage: ProofRollback, Service: fail.Service, Detail: "putting the main stack back on the template and image it had before the deploy"})
	if _, err := rn.Stacks.Deploy(ctx, prev.stack); err != nil {
		fail.RollbackErr = err
		return
	}
	fail.RolledBack = true
}

// healthTimeout is HealthTimeout, or DefaultHealthTimeout when zero.
func (rn *Runner) healthTimeout() time.Duration {
	if rn.HealthTimeout > 0 {
		return rn.HealthTimeout
	}
	return DefaultHealthTimeout
}

// poll is the interval between checks: the stack deployer's.
func (rn *Runner) poll() time.Duration {
	if rn.Stacks != nil && rn.Stacks.Poll > 0 {
		return rn.Stacks.Poll
	}
	return deploy.DefaultPoll
}

// proveIfAsleep runs the new image of a service that slept through the
// main stack's update (service.idle) before anything calls it live. The
// service's template carries no DesiredCount after its first deploy (so a
// deploy keeps the running count; see stack.CreateParameters), so at zero
// tasks the update registers the new task definition and starts nothing:
// CloudFormation reports success for an image no task ever ran. Here the
// wake controller starts a task (reason "deploy"), and the deploy waits,
// within HealthTimeout, until a task of the new task definition is healthy
// the way the ingress judges it.
//
// It returns restore, which puts the service back to sleep, for the caller
// to run once the image is tagged live; nil when the service was awake (the
// stack update then waited for ECS to run the new tasks). When the image
// never gets healthy the service is put back to sleep here, and the error
// is a *ProofError.
func (rn *Runner) proveIfAsleep(ctx context.Context, r *Release, imageURI string) (restore func(), err error) {
	if !r.Spec.ECS() || r.Spec.Service.Idle == nil {
		return nil, nil
	}
	c := ops.NewClients(rn.AWS.Config)
	st, err := ops.DescribeStack(ctx, c.CloudFormation, r.Spec)
	if err != nil {
		return nil, fmt.Errorf("the stacks are deployed, but reading the main stack to see whether its service sleeps failed: %w", err)
	}
	ro, err := ops.ReadService(ctx, c, st)
	if err != nil {
		return nil, fmt.Errorf("the stacks are deployed, but reading whether the service sleeps failed (%w); deploy again to prove the new image", err)
	}
	if !ro.Asleep() {
		return nil, nil
	}
	svc := ro.Service.Service
	fail := &ProofError{Service: svc, Image: imageURI, Live: r.Spec.Service.Pushed(), LogGroup: st.Outputs[stack.OutputLogGroup]}
	rn.Report.Proof(Proof{Stage: ProofWaking, Service: svc,
		Detail: fmt.Sprintf("the stack update started no task of the new image, so lowfare wakes the service to run it to health (at most %s) before calling it live", rn.healthTimeout())})
	if err := ops.AskController(ctx, c, st, "wake", "deploy"); err != nil {
		fail.Cause = "waking it failed: " + err.Error()
		// The wake may have half happened (bounds set, count not): ask for
		// the sleep all the same, which is idempotent.
		fail.SleepErr = rn.sleepAgain(ctx, c, st, svc)
		return nil, fail
	}
	if cause := rn.waitHealthy(ctx, c, r, st, svc); cause != "" {
		fail.Cause = cause
		fail.SleepErr = rn.sleepAgain(ctx, c, st, svc)
		return nil, fail
	}
	return func() {
		if err := rn.sleepAgain(ctx, c, st, svc); err != nil {
			rn.Report.Warning(fmt.Errorf("the new image is proven and live, but putting service %s back to sleep failed (%v); until the idle alarm or the reconcile does, it runs and bills: run lowfare sleep", svc, err))
		}
	}, nil
}

// waitHealthy polls the service until a task of its task definition is
// healthy, reporting each new state. It returns "" once one is, else why
// the image is not proven.
func (rn *Runner) waitHealthy(ctx context.Context, c *ops.Clients, r *Release, st *ops.Stack, svc string) string {
	timeout := rn.healthTimeout()
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last *ops.Rollout
	var readErr error
	seen := ""
	for {
		ro, err := ops.ReadRollout(waitCtx, c, r.Spec, st)
		switch {
		case err != nil && waitCtx.Err() != nil:
			// The deadline (or an interrupt) cut the read short: not news.
		case err != nil:
			// A failed read (a throttled call) is not a failed image: try
			// again until the deadline, and say it if it lasts.
			readErr = err
		case ro.Healthy:
			rn.Report.Proof(Proof{Stage: ProofHealthy, Service: svc, Detail: ro.Health})
			return ""
		case ro.Desired == 0:
			return fmt.Sprintf("the wake controller put it back to sleep (reason %q) before a task was healthy%s", ro.SleepReason, lastSeen(last))
		case ro.RolloutState == "FAILED":
			return fmt.Sprintf("ECS failed the deployment of its new task definition: %s%s", ro.RolloutReason, lastSeen(ro))
		default:
			last, readErr = ro, nil
			if line := progressLine(ro); line != seen {
				seen = line
				rn.Report.Proof(Proof{Stage: ProofWaiting, Service: svc, Detail: line})
			}
		}
		if err := wait.Sleep(waitCtx, rn.poll()); err != nil {
			how := fmt.Sprintf("no task of the new task definition was healthy after %s", timeout)
			if ctx.Err() != nil {
				how = "the deploy was interrupted before a task of the new task definition was healthy"
			}
			if readErr != nil {
				how += fmt.Sprintf(" (the last check failed: %v)", readErr)
			}
			return how + lastSeen(last)
		}
	}
}

// progressLine is what a check saw, for the Reporter.
func progressLine(ro *ops.Rollout) string {
	line := fmt.Sprintf("%d of %d task(s) running; %s", ro.Running, ro.Desired, ro.Health)
	if len(ro.Stopped) > 0 {
		line += "; stopped: " + ro.Stopped[0]
	}
	return line
}

// lastSeen is the last check's health and stopped tasks, for an error.
func lastSeen(ro *ops.Rollout) string {
	if ro == nil {
		return ""
	}
	s := "; last seen: " + ro.Health
	if len(ro.Stopped) > 0 {
		s += "; tasks stopped: " + strings.Join(ro.Stopped, "; ")
	}
	return s
}

// sleepAgain asks the controller to put the service back to sleep, even
// when ctx is done: an interrupted deploy must not leave it running.
func (rn *Runner) sleepAgain(ctx context.Context, c *ops.Clients, st *ops.Stack, svc string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), restoreTimeout)
	defer cancel()
	if err := ops.AskController(ctx, c, st, "sleep", "deploy"); err != nil {
		return err
	}
	rn.Report.Proof(Proof{Stage: ProofAsleep, Service: svc, Detail: "back to sleep, as before the deploy"})
	return nil
}
