package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/budgets"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/lowfare/lowfare/internal/freetier"
	"github.com/lowfare/lowfare/internal/price"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// Status is everything lowfare status reports. A part that could not be
// read is left nil and explained in Unavailable, so one missing permission
// does not hide the rest.
type Status struct {
	App      string         `json:"app"`
	Env      string         `json:"env"`
	Profile  string         `json:"profile"`
	Stack    StackStatus    `json:"stack"`
	URL      string         `json:"url,omitempty"`
	Service  *ServiceStatus `json:"service,omitempty"`
	Function string         `json:"function,omitempty"` // serverless
	Targets  []TargetStatus `json:"targets,omitempty"`
	Alarms   []AlarmStatus  `json:"alarms"` // in ALARM
	Budget   *BudgetStatus  `json:"budget,omitempty"`
	Schedule *Schedule      `json:"schedule,omitempty"`
	// FreeTier is the account's plan and this month's usage of the free
	// tier offers of the app's services (account-wide).
	FreeTier *FreeTierStatus `json:"free_tier,omitempty"`
	// Estimate is this spec's lowfare cost estimate, beside Budget.
	Estimate *EstimateStatus `json:"estimate,omitempty"`
	// Costs is this app's spend by service (status --costs).
	Costs       *CostsStatus      `json:"costs,omitempty"`
	Database    *DatabaseStatus   `json:"database,omitempty"`
	Unavailable map[string]string `json:"unavailable,omitempty"`
}

// StackStatus is the main stack's state.
type StackStatus struct {
	Name    string    `json:"name"`
	Status  string    `json:"status"`
	Reason  string    `json:"reason,omitempty"`
	Updated time.Time `json:"updated"`
}

// ServiceStatus is the ECS service's task counts and scaling bounds.
type ServiceStatus struct {
	Cluster string `json:"cluster"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	Desired int32  `json:"desired"`
	Running int32  `json:"running"`
	Pending int32  `json:"pending"`
	Min     *int32 `json:"min,omitempty"`
	Max     *int32 `json:"max,omitempty"`
	// Sleep is whether the service is asleep, waking or awake, and why.
	Sleep SleepState `json:"sleep"`
}

// SleepState says whether a service sleeps, since when and why. With
// service.idle the wake controller records it in the service's tags
// (lowfare:sleep, lowfare:sleep-reason, lowfare:sleep-since); without, it
// follows from the counts and the reason is the schedule or lowfare sleep.
type SleepState struct {
	State  string    `json:"state"`            // asleep | waking | awake
	Reason string    `json:"reason,omitempty"` // idle | schedule | manual | request | busy | reconcile | external
	Since  time.Time `json:"since,omitzero"`
	// Next says how service.idle acts next ("" without it).
	Next string `json:"next,omitempty"`
}

// The tags the wake controller writes (internal/stack/idle_controller.py).
const (
	tagSleep       = "lowfare:sleep"
	tagSleepReason = "lowfare:sleep-reason"
	tagSleepSince  = "lowfare:sleep-since"
)

// sleepState reads the state from the controller's tags when they are
// there, else from the counts.
func sleepState(s *spec.Spec, desired, running int32, tags map[string]string) SleepState {
	var st SleepState
	if state := tags[tagSleep]; state != "" && s.Service.Idle != nil {
		st.State, st.Reason = state, tags[tagSleepReason]
		st.Since, _ = time.Parse(time.RFC3339, tags[tagSleepSince])
		// A deploy or lowfare scale can start tasks behind the controller's
		// back: the counts win over a tag that says asleep.
		if state == "asleep" && desired > 0 {
			st.State, st.Reason, st.Since = "waking", "manual", time.Time{}
		}
	} else {
		switch {
		case desired == 0:
			st.State, st.Reason = "asleep", "manual"
			if s.Service.Schedule != nil {
				st.Reason = "schedule or manual"
			}
		case running == 0:
			st.State = "waking"
		default:
			st.State = "awake"
		}
		if st.State == "waking" && running > 0 {
			st.State = "awake"
		}
	}
	if idle := s.Service.Idle; idle != nil {
		switch {
		case st.State == "asleep" && idle.ServesApp():
			st.Next = fmt.Sprintf("the app answers on Lambda; %.0f requests a minute for %d minutes wake it", stack.BusyPerMinute(s), price.BusyMinutes)
			if s.Service.Schedule != nil {
				st.Next += " (inside the awake windows)"
			}
		case st.State == "asleep":
			st.Next = "the next request wakes it"
			if s.Service.Schedule != nil {
				st.Next += " (inside the awake windows; outside them it gets the closed page)"
			}
		case st.State == "waking":
			st.Next = "the ingress returns to the service within a minute of a task being healthy"
		default:
			st.Next = "sleeps after " + idle.After + " without a request"
		}
	}
	return st
}

// TargetStatus is one load balancer target's health.
type TargetStatus struct {
	ID     string `json:"id"`
	Port   int32  `json:"port"`
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// AlarmStatus is one alarm in the ALARM state.
type AlarmStatus struct {
	Name   string    `json:"name"`
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
}

// BudgetStatus is this month's spend against the budget, in USD.
type BudgetStatus struct {
	Name       string  `json:"name"`
	Limit      float64 `json:"limit_usd"`
	Actual     float64 `json:"actual_usd"`
	Forecasted float64 `json:"forecasted_usd"`
}

// GetStatus gathers the status of the app of s. Only a missing stack (or a
// failure to read it) is an error.
func GetStatus(ctx context.Context, c *Clients, s *spec.Spec, now time.Time) (*Status, error) {
	st, err := DescribeStack(ctx, c.CloudFormation, s)
	if err != nil {
		return nil, err
	}
	out := &Status{
		App: s.App, Env: s.Env, Profile: s.Profile,
		Stack:       StackStatus{Name: st.Name, Status: st.Status, Reason: st.Reason, Updated: st.Updated},
		URL:         st.Outputs[stack.OutputURL],
		Alarms:      []AlarmStatus{},
		Unavailable: map[string]string{},
	}
	// The parts are independent reads: run them at once, so status costs
	// one round trip after the stack instead of one per service.
	var mu sync.Mutex
	note := func(part string, err error) {
		mu.Lock()
		out.Unavailable[part] = err.Error()
		mu.Unlock()
	}
	var wg sync.WaitGroup
	if s.ECS() {
		if ref, err := ServiceOf(st); err != nil {
			note("service", err)
		} else {
			wg.Go(func() {
				if svc, err := serviceStatus(ctx, c, s, ref); err != nil {
					note("service", err)
				} else {
					out.Service = svc
				}
			})
			wg.Go(func() {
				if sched, err := NextScheduled(ctx, c, ref, now); err != nil {
					note("schedule", err)
				} else if sched.NextSleep != nil || sched.NextWake != nil || len(sched.Unpredictable) > 0 {
					out.Schedule = sched
				}
			})
		}
	} else {
		if fn, err := st.Output(stack.OutputFunction); err != nil {
			note("function", err)
		} else {
			out.Function = fn
		}
	}
	if tg := st.Outputs[stack.OutputTargetGroup]; tg != "" {
		wg.Go(func() {
			if targets, err := targetHealth(ctx, c, tg); err != nil {
				note("targets", err)
			} else {
				out.Targets = targets
			}
		})
	}
	wg.Go(func() {
		if alarms, err := alarmsFiring(ctx, c, alarmPrefix(s)); err != nil {
			note("alarms", err)
			out.Alarms = nil
		} else {
			out.Alarms = alarms
		}
	})
	if s.HasDatabase() && s.ECS() {
		wg.Go(func() {
			if db, err := GetDatabaseStatus(ctx, c.RDS, CloudWatchCapacity(c.CloudWatch, func() time.Time { return now }), s); err != nil {
				note("database", err)
			} else {
				out.Database = db
			}
		})
	}
	wg.Go(func() {
		if b, err := budgetStatus(ctx, c, budgetName(s)); err != nil {
			note("budget", err)
		} else {
			out.Budget = b
		}
	})
	if c.FreeTier != nil {
		wg.Go(func() {
			if ft, err := freeTierStatus(ctx, c.FreeTier, s); err != nil {
				note("free tier", err)
			} else {
				out.FreeTier = ft
			}
		})
	}
	wg.Wait()
	plan, planStatus := freetier.PlanUnknown, ""
	if out.FreeTier != nil {
		plan, planStatus = out.FreeTier.Plan, out.FreeTier.status
	}
	if e, err := estimateStatus(s, plan, planStatus, now); err != nil {
		note("estimate", err)
	} else {
		out.Estimate = e
	}
	if len(out.Unavailable) == 0 {
		out.Unavailable = nil
	}
	return out, nil
}

// describeService reads one ECS service with its tags (one
// DescribeServices call); a service the cluster does not have is an error
// that says how to repair it.
func describeService(ctx context.Context, c *Clients, ref ServiceRef) (*ecstypes.Service, error) {
	out, err := call(ctx, func(ctx context.Context) (*ecs.DescribeServicesOutput, error) {
		return c.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(ref.Cluster), Services: []string{ref.Service},
			Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
	})
	if err != nil {
		return nil, fmt.Errorf("describing service %s in cluster %s: %w", ref.Service, ref.Cluster, err)
	}
	if len(out.Services) == 0 {
		return nil, fmt.Errorf("service %s is missing from cluster %s: the stack and the cluster disagree; run lowfare deploy", ref.Service, ref.Cluster)
	}
	return &out.Services[0], nil
}

func serviceStatus(ctx context.Context, c *Clients, s *spec.Spec, ref ServiceRef) (*ServiceStatus, error) {
	sv, err := describeService(ctx, c, ref)
	if err != nil {
		return nil, err
	}
	res := &ServiceStatus{Cluster: ref.Cluster, Name: ref.Service, Status: aws.ToString(sv.Status),
		Desired: sv.DesiredCount, Running: sv.RunningCount, Pending: sv.PendingCount}
	tags := map[string]string{}
	for _, t := range sv.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	res.Sleep = sleepState(s, sv.DesiredCount, sv.RunningCount, tags)
	tgt, err := call(ctx, func(ctx context.Context) (*applicationautoscaling.DescribeScalableTargetsOutput, error) {
		return c.AutoScaling.DescribeScalableTargets(ctx, &applicationautoscaling.DescribeScalableTargetsInput{
			ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceIds: []string{ref.ResourceID()},
			ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		})
	})
	if err == nil && len(tgt.ScalableTargets) > 0 {
		res.Min, res.Max = tgt.ScalableTargets[0].MinCapacity, tgt.ScalableTargets[0].MaxCapacity
	}
	return res, nil
}

func targetHealth(ctx context.Context, c *Clients, arn string) ([]TargetStatus, error) {
	out, err := call(ctx, func(ctx context.Context) (*elbv2.DescribeTargetHealthOutput, error) {
		return c.ELB.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)})
	})
	if err != nil {
		return nil, fmt.Errorf("reading target health: %w", err)
	}
	res := []TargetStatus{}
	for _, d := range out.TargetHealthDescriptions {
		ts := TargetStatus{}
		if d.Target != nil {
			ts.ID, ts.Port = aws.ToString(d.Target.Id), aws.ToInt32(d.Target.Port)
		}
		if d.TargetHealth != nil {
			ts.State, ts.Reason = string(d.TargetHealth.State), string(d.TargetHealth.Reason)
		}
		res = append(res, ts)
	}
	return res, nil
}

func alarmsFiring(ctx context.Context, c *Clients, prefix string) ([]AlarmStatus, error) {
	in := &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(prefix), StateValue: cwtypes.StateValueAlarm}
	res := []AlarmStatus{}
	for {
		out, err := call(ctx, func(ctx context.Context) (*cloudwatch.DescribeAlarmsOutput, error) {
			return c.CloudWatch.DescribeAlarms(ctx, in)
		})
		if err != nil {
			return nil, fmt.Errorf("reading alarms %s*: %w", prefix, err)
		}
		for _, a := range out.MetricAlarms {
			res = append(res, AlarmStatus{Name: aws.ToString(a.AlarmName), Reason: aws.ToString(a.StateReason), Since: aws.ToTime(a.StateUpdatedTimestamp)})
		}
		for _, a := range out.CompositeAlarms {
			res = append(res, AlarmStatus{Name: aws.ToString(a.AlarmName), Reason: aws.ToString(a.StateReason), Since: aws.ToTime(a.StateUpdatedTimestamp)})
		}
		if aws.ToString(out.NextToken) == "" {
			return res, nil
		}
		in.NextToken = out.NextToken
	}
}

func budgetStatus(ctx context.Context, c *Clients, name string) (*BudgetStatus, error) {
	id, err := call(ctx, func(ctx context.Context) (*sts.GetCallerIdentityOutput, error) {
		return c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	})
	if err != nil {
		return nil, fmt.Errorf("finding the account id (sts GetCallerIdentity): %w", err)
	}
	out, err := call(ctx, func(ctx context.Context) (*budgets.DescribeBudgetOutput, error) {
		return c.Budgets.DescribeBudget(ctx, &budgets.DescribeBudgetInput{AccountId: id.Account, BudgetName: aws.String(name)})
	})
	if err != nil {
		return nil, fmt.Errorf("reading budget %s: %w", name, err)
	}
	b := out.Budget
	res := &BudgetStatus{Name: name}
	if b == nil {
		return nil, fmt.Errorf("budget %s: empty answer", name)
	}
	if b.BudgetLimit != nil {
		res.Limit = amount(b.BudgetLimit.Amount)
	}
	if cs := b.CalculatedSpend; cs != nil {
		if cs.ActualSpend != nil {
			res.Actual = amount(cs.ActualSpend.Amount)
		}
		if cs.ForecastedSpend != nil {
			res.Forecasted = amount(cs.ForecastedSpend.Amount)
		}
	}
	return res, nil
}

func amount(s *string) float64 {
	v, _ := strconv.ParseFloat(aws.ToString(s), 64)
	return v
}

// WriteJSON writes the status as indented JSON.
func (st *Status) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(st)
}

// WriteText writes the status for a person; now makes "in 3h" relative.
func (st *Status) WriteText(w io.Writer, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(label, format string, args ...any) {
		fmt.Fprintf(tw, "%s\t%s\n", label, fmt.Sprintf(format, args...))
	}
	st.textHeader(p)
	st.textRuntime(p, now)
	st.textTargets(p)
	st.textAlarms(p)
	st.textSpend(p)
	st.textEstimate(p)
	st.textCosts(p)
	st.textFreeTier(p)
	st.textSchedule(p, now)
	if st.Database != nil {
		p("database", "%s", st.Database.Describe())
	}
	for _, part := range slices.Sorted(maps.Keys(st.Unavailable)) {
		p(part, "unavailable: %s", st.Unavailable[part])
	}
	return tw.Flush()
}

// linePrinter writes one labelled line of the text status.
type linePrinter func(label, format string, args ...any)

// textHeader is the app, its stack and its URL.
func (st *Status) textHeader(p linePrinter) {
	stackLine := st.Stack.Status
	if st.Stack.Reason != "" {
		stackLine += " (" + st.Stack.Reason + ")"
	}
	p("app", "%s/%s (profile %s)", st.App, st.Env, st.Profile)
	p("stack", "%s %s, updated %s", st.Stack.Name, stackLine, st.Stack.Updated.UTC().Format(time.RFC3339))
	if st.URL != "" {
		p("url", "%s", st.URL)
	}
}

// textRuntime is what runs the app: the ECS service's counts and sleep
// state, or the Lambda function.
func (st *Status) textRuntime(p linePrinter, now time.Time) {
	if sv := st.Service; sv != nil {
		bounds := ""
		if sv.Min != nil && sv.Max != nil {
			bounds = fmt.Sprintf(", bounds %d-%d", *sv.Min, *sv.Max)
		}
		p("service", "%s %s: %d desired, %d running, %d pending%s", sv.Name, strings.ToLower(sv.Status), sv.Desired, sv.Running, sv.Pending, bounds)
		p("state", "%s", sv.Sleep.Describe(now))
	}
	if st.Function != "" {
		p("function", "%s (Lambda; scales by itself)", st.Function)
	}
}

// textTargets is one line per load balancer target, when they were read.
func (st *Status) textTargets(p linePrinter) {
	if st.Targets == nil {
		return
	}
	if len(st.Targets) == 0 {
		p("targets", "none registered")
	}
	for i, t := range st.Targets {
		line := fmt.Sprintf("%s:%d %s", t.ID, t.Port, t.State)
		if t.Reason != "" {
			line += " (" + t.Reason + ")"
		}
		p(firstLabel(i, "targets"), "%s", line)
	}
}

// textAlarms is one line per alarm in ALARM, when they were read.
func (st *Status) textAlarms(p linePrinter) {
	if st.Alarms == nil {
		return
	}
	if len(st.Alarms) == 0 {
		p("alarms", "none in ALARM")
	}
	for i, a := range st.Alarms {
		p(firstLabel(i, "alarms"), "%s in ALARM since %s: %s", a.Name, a.Since.UTC().Format(time.RFC3339), a.Reason)
	}
}

// firstLabel labels the first line of a list only.
func firstLabel(i int, label string) string {
	if i == 0 {
		return label
	}
	return ""
}

// textSpend is this month's spend against the budget, when there is one.
func (st *Status) textSpend(p linePrinter) {
	b := st.Budget
	if b == nil {
		return
	}
	pct := 0.0
	if b.Limit > 0 {
		pct = 100 * b.Actual / b.Limit
	}
	over := ""
	if b.Limit > 0 && b.Forecasted > b.Limit {
		over = ", over the budget"
	}
	p("spend", "$%.2f of $%.2f this month (%.0f%%), forecast $%.2f%s", b.Actual, b.Limit, pct, b.Forecasted, over)
}

// textSchedule is the next scheduled sleep and wake, soonest first, or why
// there are none.
func (st *Status) textSchedule(p linePrinter, now time.Time) {
	sc := st.Schedule
	if sc == nil {
		st.textNoSchedule(p)
		return
	}
	runs := []struct {
		label string
		run   *ScheduledRun
	}{{"next sleep", sc.NextSleep}, {"next wake", sc.NextWake}}
	if sc.NextSleep != nil && sc.NextWake != nil && sc.NextWake.At.Before(sc.NextSleep.At) {
		runs[0], runs[1] = runs[1], runs[0]
	}
	for _, r := range runs {
		if r.run != nil {
			p(r.label, "%s", r.run.Describe(now))
		}
	}
	for _, u := range sc.Unpredictable {
		p("schedule", "%s", u)
	}
}

// textNoSchedule says, for a service without scheduled actions, who sleeps
// and wakes it: the wake controller with service.idle, or no one.
func (st *Status) textNoSchedule(p linePrinter) {
	switch {
	case st.Service == nil:
		// Lambda, or a service status could not be read (the
		// unavailable lines say so): nothing to say.
	case st.Service.Sleep.Next != "":
		p("schedule", "no scheduled actions: with service.idle the wake controller sleeps and wakes it (and ends the awake windows, if any)")
	default:
		p("schedule", "none: runs around the clock")
	}
}

// Describe is the state line: "asleep since 2026-12-01T10:00:00Z (3h 5m,
// idle); idle: the next request wakes it".
func (st SleepState) Describe(now time.Time) string {
	line := st.State
	if !st.Since.IsZero() {
		line += fmt.Sprintf(" since %s (%s ago", st.Since.UTC().Format(time.RFC3339), humanDuration(now.Sub(st.Since)))
		if st.Reason != "" {
			line += ", " + st.Reason
		}
		line += ")"
	} else if st.Reason != "" {
		line += " (" + st.Reason + ")"
	}
	if st.Next != "" {
		line += "; idle: " + st.Next
	}
	return line
}

// Describe renders a run in its own time zone with how far off it is:
// "Mon 2026-11-30 08:00 Europe/Berlin (in 2d 12h)".
func (r *ScheduledRun) Describe(now time.Time) string {
	loc, err := time.LoadLocation(r.Timezone)
	if err != nil {
		loc = time.UTC
	}
	return fmt.Sprintf("%s %s (in %s)", r.At.In(loc).Format("Mon 2006-01-02 15:04"), r.Timezone, humanDuration(r.At.Sub(now)))
}

// humanDuration rounds to the two largest units: "2d 3h", "3h 5m", "4m".
func humanDuration(d time.Duration) string {
	if d < time.Minute {
		return "under a minute"
	}
	d = d.Round(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	}
	return fmt.Sprintf("%dm", mins)
}
