package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// ErrNotECS is returned by the scaling commands for the serverless
// profile, where Lambda scales by itself.
var ErrNotECS = errors.New("profile serverless runs on Lambda, which scales by itself: scale, sleep and wake apply to the free and ha profiles")

// Capacity is a task count with the bounds the autoscaler keeps it in.
type Capacity struct {
	Min     int32 `json:"min"`
	Max     int32 `json:"max"`
	Desired int32 `json:"desired"`
}

// ScaleResult is what a scale, sleep or wake did.
type ScaleResult struct {
	Service ServiceRef `json:"service"`
	Set     Capacity   `json:"set"`
	// Next is the scheduled action that will end this state: the next
	// wake after a sleep, the next sleep after a wake, the next action of
	// either kind after a scale. Nil when the service has no schedule.
	Next *ScheduledRun `json:"next,omitempty"`
	// Idle says how service.idle acts next ("" without it).
	Idle string `json:"idle,omitempty"`
}

// CheckScale validates a requested task count against the spec: bad input
// is reported before any AWS call.
func CheckScale(s *spec.Spec, n int) error {
	if !s.ECS() {
		return ErrNotECS
	}
	if n < 0 {
		return fmt.Errorf("task count %d is negative: give 0 (or use lowfare sleep) up to service.count.max (%d)", n, s.Service.Count.Max)
	}
	if n > s.Service.Count.Max {
		return fmt.Errorf("task count %d is above service.count.max (%d) in the spec: raise count.max and deploy, or scale to at most %d", n, s.Service.Count.Max, s.Service.Count.Max)
	}
	return nil
}

// Scale pins the service at n tasks: the scalable target's min and max are
// both set to n, so target tracking does not undo it, and the desired
// count follows at once. The next scheduled action (or lowfare wake)
// releases the pin.
func Scale(ctx context.Context, c *Clients, s *spec.Spec, n int) (*ScaleResult, error) {
	if err := CheckScale(s, n); err != nil {
		return nil, err
	}
	v := int32(n)
	return setCapacity(ctx, c, s, Capacity{Min: v, Max: v, Desired: v}, (*Schedule).Next)
}

// Sleep scales the service to zero tasks (min = max = desired = 0) until
// the next scheduled wake. With service.idle the wake controller does it,
// so that the ingress moves to the waking page with it, and the next
// request wakes the service.
func Sleep(ctx context.Context, c *Clients, s *spec.Spec) (*ScaleResult, error) {
	if !s.ECS() {
		return nil, ErrNotECS
	}
	if s.Service.Idle != nil {
		return idleAct(ctx, c, s, "sleep")
	}
	return setCapacity(ctx, c, s, Capacity{}, func(sc *Schedule) *ScheduledRun { return sc.NextWake })
}

// Wake restores min, max and desired from the spec. It lasts until the next
// scheduled sleep, which the result names. With service.idle the wake
// controller starts the service (and routes the ingress back once a task
// is healthy, on the next request).
func Wake(ctx context.Context, c *Clients, s *spec.Spec) (*ScaleResult, error) {
	if !s.ECS() {
		return nil, ErrNotECS
	}
	if s.Service.Idle != nil {
		return idleAct(ctx, c, s, "wake")
	}
	cnt := s.Service.Count
	return setCapacity(ctx, c, s, Capacity{Min: int32(cnt.Min), Max: int32(cnt.Max), Desired: int32(cnt.Desired)},
		func(sc *Schedule) *ScheduledRun { return sc.NextSleep })
}

// setCapacity applies want; until picks the scheduled run that ends it: a
// sleep lasts until the next wake, a wake until the next sleep, a pinned
// count until whichever action comes first.
func setCapacity(ctx context.Context, c *Clients, s *spec.Spec, want Capacity, until func(*Schedule) *ScheduledRun) (*ScaleResult, error) {
	st, err := DescribeStack(ctx, c.CloudFormation, s)
	if err != nil {
		return nil, err
	}
	ref, err := ServiceOf(st)
	if err != nil {
		return nil, err
	}
	// Bounds first: with the old bounds in place the autoscaler could move
	// the desired count straight back.
	_, err = call(ctx, func(ctx context.Context) (*applicationautoscaling.RegisterScalableTargetOutput, error) {
		return c.AutoScaling.RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{
			ServiceNamespace:  aastypes.ServiceNamespaceEcs,
			ResourceId:        aws.String(ref.ResourceID()),
			ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
			MinCapacity:       aws.Int32(want.Min),
			MaxCapacity:       aws.Int32(want.Max),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("setting the scaling bounds of %s to %d-%d: %w", ref.ResourceID(), want.Min, want.Max, err)
	}
	_, err = call(ctx, func(ctx context.Context) (*ecs.UpdateServiceOutput, error) {
		return c.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{
			Cluster:      aws.String(ref.Cluster),
			Service:      aws.String(ref.Service),
			DesiredCount: aws.Int32(want.Desired),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("setting the desired count of %s to %d (bounds are already %d-%d): %w", ref.Service, want.Desired, want.Min, want.Max, err)
	}
	res := &ScaleResult{Service: ref, Set: want}
	sched, err := NextScheduled(ctx, c, ref, time.Now())
	if err == nil {
		res.Next = until(sched)
	}
	// A failure to read the schedule does not undo a successful scale;
	// the result just has no next action.
	return res, nil
}

// ScheduledRun is one upcoming run of a scheduled action.
type ScheduledRun struct {
	Action   string    `json:"action"`
	Kind     string    `json:"kind"` // "sleep" (max 0) or "wake"
	At       time.Time `json:"at"`
	Timezone string    `json:"timezone"`
	Min      *int32    `json:"min,omitempty"`
	Max      *int32    `json:"max,omitempty"`
}

// Schedule holds the next sleep and wake of a service.
type Schedule struct {
	NextSleep *ScheduledRun `json:"next_sleep,omitempty"`
	NextWake  *ScheduledRun `json:"next_wake,omitempty"`
	// Unpredictable lists actions whose next run cannot be computed.
	Unpredictable []string `json:"unpredictable,omitempty"`
}

// Next returns the earlier of the next sleep and the next wake.
func (s *Schedule) Next() *ScheduledRun {
	switch {
	case s.NextSleep == nil:
		return s.NextWake
	case s.NextWake == nil:
		return s.NextSleep
	case s.NextWake.At.Before(s.NextSleep.At):
		return s.NextWake
	}
	return s.NextSleep
}

// NextScheduled reads the service's scheduled actions and computes their
// next runs after now. An action whose max capacity is 0 is a sleep; any
// other is a wake.
func NextScheduled(ctx context.Context, c *Clients, ref ServiceRef, now time.Time) (*Schedule, error) {
	var actions []aastypes.ScheduledAction
	in := &applicationautoscaling.DescribeScheduledActionsInput{
		ServiceNamespace:  aastypes.ServiceNamespaceEcs,
		ResourceId:        aws.String(ref.ResourceID()),
		ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
	}
	for {
		out, err := call(ctx, func(ctx context.Context) (*applicationautoscaling.DescribeScheduledActionsOutput, error) {
			return c.AutoScaling.DescribeScheduledActions(ctx, in)
		})
		if err != nil {
			return nil, fmt.Errorf("reading the scheduled actions of %s: %w", ref.ResourceID(), err)
		}
		actions = append(actions, out.ScheduledActions...)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	sched := &Schedule{}
	sort.Slice(actions, func(i, j int) bool {
		return aws.ToString(actions[i].ScheduledActionName) < aws.ToString(actions[j].ScheduledActionName)
	})
	for _, a := range actions {
		name := aws.ToString(a.ScheduledActionName)
		tz := aws.ToString(a.Timezone)
		at, ok, err := NextRun(aws.ToString(a.Schedule), tz, now)
		if err != nil {
			sched.Unpredictable = append(sched.Unpredictable, name+": "+err.Error())
			continue
		}
		if !ok {
			continue
		}
		if tz == "" {
			tz = "UTC"
		}
		run := &ScheduledRun{Action: name, Kind: "wake", At: at, Timezone: tz}
		if t := a.ScalableTargetAction; t != nil {
			run.Min, run.Max = t.MinCapacity, t.MaxCapacity
			if t.MaxCapacity != nil && *t.MaxCapacity == 0 {
				run.Kind = "sleep"
			}
		}
		slot := &sched.NextWake
		if run.Kind == "sleep" {
			slot = &sched.NextSleep
		}
		if *slot == nil || run.At.Before((*slot).At) {
			*slot = run
		}
	}
	return sched, nil
}

// idleAct asks the wake controller (internal/stack/idle_controller.py) to
// sleep or wake the service, with reason "manual", so that the scaling
// bounds, the desired count, the ingress's route and the state lowfare
// status reads all change together, by the one piece of code that changes
// them when idle.
//
// After a wake it sends one request to the app's URL: the idle alarm counts
// the ingress's requests and changes state only when they start or stop,
// so a wake nobody uses would otherwise never put the service back to sleep.
func idleAct(ctx context.Context, c *Clients, s *spec.Spec, action string) (*ScaleResult, error) {
	st, err := DescribeStack(ctx, c.CloudFormation, s)
	if err != nil {
		return nil, err
	}
	ref, err := ServiceOf(st)
	if err != nil {
		return nil, err
	}
	fn, err := st.Output(stack.OutputWakeFunction)
	if err != nil {
		return nil, err
	}
	payload, _ := json.Marshal(map[string]string{"lowfare": action, "reason": "manual"}) // strings: cannot fail
	out, err := call(ctx, func(ctx context.Context) (*lambda.InvokeOutput, error) {
		return c.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: payload})
	})
	if err != nil {
		return nil, fmt.Errorf("asking the wake controller %s to %s: %w", fn, action, err)
	}
	if out.FunctionError != nil {
		return nil, fmt.Errorf("the wake controller %s failed to %s (%s): %s; its log group is /aws/lambda/%s", fn, action, aws.ToString(out.FunctionError), out.Payload, fn)
	}
	after := s.Service.Idle.After
	res := &ScaleResult{Service: ref}
	if action == "sleep" {
		res.Idle = "idle: the next request wakes it (a waking page while it starts, about 90 s)"
		if s.Service.Schedule != nil {
			res.Idle += "; outside the awake windows requests get a page saying when it opens"
		}
		return res, nil
	}
	cnt := s.Service.Count
	res.Set = Capacity{Min: int32(max(1, cnt.Min)), Max: int32(max(1, cnt.Max)), Desired: int32(max(1, cnt.Min))}
	res.Idle = fmt.Sprintf("idle: requests reach it once a task is healthy (about 90 s); it sleeps again after %s without a request", after)
	if url := st.Outputs[stack.OutputURL]; url != "" {
		if pokeErr := poke(ctx, url+s.Service.Health.Path); pokeErr == nil {
			res.Idle += " (lowfare sent one request to start that count)"
		} else {
			res.Idle += fmt.Sprintf(" once one arrives (lowfare's own request failed: %v)", pokeErr)
		}
	}
	return res, nil
}

// poke sends one GET and reads nothing of the answer: a 503 waking page is
// as good as a 200 for the alarm's count.
func poke(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
