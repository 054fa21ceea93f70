package cost

import (
	"fmt"
	"math"
	"time"

	"github.com/lowfare/lowfare/internal/price"
	"github.com/lowfare/lowfare/internal/spec"
)

// Idle sleep (service.idle) in the model. A service that sleeps when idle
// is awake for the hours requests arrive in (workload.active_hours) plus,
// after each spell of use, the idle time before the alarm puts it to sleep
// (service.idle.after). The number of such spells is the assumption
// docs/cost-model.md states: one wake per active hour, as if every active
// hour were a visit of its own (the most wakes, so the most idle tails,
// the active hours allow; longer visits wake less and cost less).
//
// With serve: app the app answers on Lambda while the service sleeps, and
// the busy alarm wakes the service only when requests come at the
// break-even rate or faster (price.AppOnLambda). The model spreads the
// month's requests evenly over the active hours: below the break-even
// rate the service never wakes and Lambda answers everything; at or above
// it the service is awake as with serve: page, and Lambda answers the
// minutes of each wake before a task is healthy.
const (
	// WakesPerActiveHour is the assumed number of wakes per active hour.
	WakesPerActiveHour = 1.0
	// idleAssumedAfter is the idle.after --compare prices for a spec
	// without service.idle: the example in the issue and the docs.
	idleAssumedAfter = 15 * time.Minute

	// The controller: a Lambda function (128 MB) that the alarms and the
	// reconcile schedule invoke. The reconcile runs every minute in both
	// serve modes (a sleep whose invocation failed, or a task something
	// else started, is put right within a minute): 730 x 60 = 43,800
	// invocations a month, about 1 s each (a handful of AWS API calls).
	reconcilesPerMonth = HoursPerMonth * 60
	reconcileMS        = 1000
	controllerMemoryMB = 128
	// serve: page: the waking page reloads every 5 s until the task is
	// healthy (about 90 s), plus the alarm's call that put the service to
	// sleep; each a few API calls.
	controllerCallsPerWake = 90/5 + 1
	controllerMS           = 300
	// serve: app: the busy alarm's call that wakes the service and the
	// idle alarm's that puts it back to sleep; the reconcile moves the
	// ingress once a task is healthy.
	appControllerCallsPerWake = 2
	// controllerLogBytesPerCall: Lambda's START, END and REPORT lines
	// (about 300 bytes) and one line of the controller's own.
	controllerLogBytesPerCall = 500.0

	// wakeLagMinutes is how long Lambda keeps answering once requests
	// reach the break-even rate: the busy alarm's three one-minute periods
	// (internal/stack: three busy minutes wake the service, one is a burst
	// Lambda serves well), then about 90 s for a Fargate task to start and
	// pass its health checks.
	wakeLagMinutes = BusyMinutes + 1.5
	// lcuGBPerHourLambda: an LCU processes 0.4 GB an hour for Lambda
	// targets, against 1 GB for IP targets
	// (https://aws.amazon.com/elasticloadbalancing/pricing/).
	lcuGBPerHourLambda = 0.4
)

// BusyMinutes is how many consecutive minutes at the break-even rate wake
// a serve: app service: the template's busy alarm (internal/price).
const BusyMinutes = price.BusyMinutes

// EventBridge Scheduler, which runs the reconcile: "$0 for the first 14
// million scheduled invocations" a month, then $1.00 per million in
// us-east-1 (https://aws.amazon.com/eventbridge/pricing/, Scheduler; AWS
// Price List offer AWSEvents, usage type ScheduledInvocation). One
// schedule at one a minute is 43,800 invocations, 0.3% of the free 14 M
// in every region, so this price is not in the region table: a required
// key there would break every --prices file written before it, for a
// line that cannot leave the free tier.
const freeSchedulerInvocationsM = 14.0

var schedulerMillionInvocations = price.Price{
	USD:    1.00,
	Date:   "2026-12",
	Source: "https://aws.amazon.com/eventbridge/pricing/ (Scheduler, us-east-1; 14 M invocations a month free)",
}

// IdleHours is how long an idle-sleeping service is awake in a month, and
// how many times it wakes, given the active hours, idle.after and the
// hours its schedule allows (730 without one). Active hours beyond the
// window are cut to it: requests outside it get the closed page.
func IdleHours(active float64, after time.Duration, window float64) (awake, wakes float64) {
	active = math.Min(math.Max(active, 0), window)
	wakes = active * WakesPerActiveHour
	return math.Min(window, active+wakes*after.Hours()), wakes
}

// ActiveHours is the spec's workload.active_hours, or when 0 the default
// (spec.ActiveHoursDefault) within the hours the schedule allows.
func ActiveHours(s *spec.Spec, window float64) (hours float64, derived bool) {
	if h := s.Workload.ActiveHours; h > 0 {
		return math.Min(h, window), false
	}
	return math.Min(spec.ActiveHoursDefault, window), true
}

// withIdle makes sh sleep when idle: its awake hours become the idle hours
// within its window (its current HoursAwake). With serveApp, pricer.resolve
// then decides from the workload whether it wakes at all.
func (sh Shape) withIdle(active float64, after time.Duration, derived, serveApp bool) Shape {
	sh.Idle, sh.IdleAfter, sh.ActiveHoursDerived, sh.ServeApp = true, after, derived, serveApp
	sh.WindowHours = sh.HoursAwake
	sh.HoursAwake, sh.Wakes = IdleHours(active, after, sh.WindowHours)
	sh.ActiveHours = math.Min(active, sh.WindowHours)
	label := idleLabel(sh)
	if sh.ScheduleSet {
		label = sh.Schedule + ", " + label
	}
	sh.Schedule = label
	return sh
}

// idleLabel is what withIdle appends to a shape's schedule label.
func idleLabel(sh Shape) string {
	serve := spec.ServePage
	if sh.ServeApp {
		serve = spec.ServeApp
	}
	return fmt.Sprintf("idle after %s, serve %s, %g active h", spec.DurationText(sh.IdleAfter), serve, round1(sh.ActiveHours))
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// appOnLambda is a shape's task against its app on Lambda: the figures
// the busy alarm's threshold comes from (WakePerMinute for a spec).
func (pr pricer) appOnLambda(sh Shape) price.AppOnLambda {
	return price.AppOnLambda{CPU: sh.CPU, MemoryMB: sh.MemoryMB, ARM64: sh.Arch != spec.ArchX8664, LambdaMS: pr.w.LambdaMS}
}

// resolve settles what a serve: app shape's bill depends on beyond the
// spec: the rate at which the busy alarm wakes the service, the workload's
// rate within the active hours and so whether the service wakes, its
// awake hours and wakes, and the requests Lambda answers. It depends only
// on fields withIdle set, so resolving twice changes nothing.
func (pr pricer) resolve(sh Shape) Shape {
	if sh.Runtime != RuntimeECS || !sh.Idle || !sh.ServeApp {
		return sh
	}
	sh.WakePerMinute = pr.appOnLambda(sh).BreakEvenPerMinute(pr.p)
	sh.RatePerMinute = 0
	if sh.ActiveHours > 0 {
		sh.RatePerMinute = pr.w.RequestsPerMonth / (sh.ActiveHours * 60)
	}
	if sh.RatePerMinute < sh.WakePerMinute {
		sh.HoursAwake, sh.Wakes, sh.LambdaRequests = 0, 0, pr.w.RequestsPerMonth
		return sh
	}
	sh.HoursAwake, sh.Wakes = IdleHours(sh.ActiveHours, sh.IdleAfter, sh.WindowHours)
	sh.LambdaRequests = math.Min(pr.w.RequestsPerMonth, sh.Wakes*wakeLagMinutes*sh.RatePerMinute)
	return sh
}

// taskRequests are the requests a month the Fargate tasks answer.
func (pr pricer) taskRequests(sh Shape) float64 {
	return math.Max(0, pr.w.RequestsPerMonth-sh.LambdaRequests)
}

// lambdaHours are the hours in which Lambda answers the app's requests:
// the active hours when the service never wakes, else the minutes of each
// wake before a task is healthy.
func lambdaHours(sh Shape) float64 {
	if sh.Wakes == 0 {
		return sh.ActiveHours
	}
	return sh.Wakes * wakeLagMinutes / 60
}

// controllerCalls is the controller's invocations in a month: the
// reconcile every minute and the alarms' (and with serve: page the waking
// page's) calls per wake.
func controllerCalls(sh Shape) (reconciles, perWake float64) {
	perWake = controllerCallsPerWake * sh.Wakes
	if sh.ServeApp {
		perWake = appControllerCallsPerWake * sh.Wakes
	}
	return reconcilesPerMonth, perWake
}

// idleParts are the lines service.idle adds to an ECS shape: the app on
// Lambda (serve: app), the controller, and the schedule of its reconcile.
// The Lambda functions share the account's always-free allowance.
func (pr pricer) idleParts(sh Shape) []Item {
	var fns []lambdaFn
	if sh.ServeApp {
		fns = append(fns, lambdaFn{
			name: "app_lambda", desc: "App on Lambda while asleep",
			calls: sh.LambdaRequests, ms: pr.w.LambdaMS, memoryMB: sh.MemoryMB,
			arch: sh.Arch, // the app's function runs the service's image
		})
	}
	reconciles, perWake := controllerCalls(sh)
	ms := controllerMS
	if sh.ServeApp {
		ms = reconcileMS
	}
	fns = append(fns, lambdaFn{
		name: "wake_controller", desc: "Idle controller (Lambda)",
		// GB-seconds: the reconciles at their 1 s, the wake calls at
		// theirs; priced as one average duration.
		calls:    reconciles + perWake,
		ms:       (reconciles*reconcileMS + perWake*float64(ms)) / (reconciles + perWake),
		memoryMB: controllerMemoryMB,
		arch:     spec.ArchARM64, // the template's WakeFunction
	})
	items := pr.lambdaLines(fns...)
	sched := newItem("scheduler_invocations", "EventBridge Scheduler (reconcile every minute)",
		reconciles/1e6, "million invocations", schedulerMillionInvocations, freeSchedulerInvocationsM)
	return append(items, sched)
}

// lambdaFn is one Lambda function's month.
type lambdaFn struct {
	name, desc string
	calls, ms  float64
	memoryMB   int
	arch       string // arm64 | x86_64: Lambda bills x86 GB-seconds higher
}

// lambdaLines prices functions that share the account's always-free
// Lambda allowance (1 M requests, 400,000 GB-s a month for all functions
// together), in order: each takes what is left of it.
func (pr pricer) lambdaLines(fns ...lambdaFn) []Item {
	freeReq, freeGBs := float64(freeLambdaRequestsM), float64(freeLambdaGBSeconds)
	var items []Item
	for _, f := range fns {
		req := newItem(f.name+"_requests", f.desc+" invocations",
			f.calls/1e6, "million requests", pr.p.LambdaMillionRequests, freeReq)
		gbs := f.calls * f.ms / 1000 * float64(f.memoryMB) / 1024
		comp := newItem(f.name+"_compute", fmt.Sprintf("%s compute (%s, %d MB, %.4g ms average)", f.desc, f.arch, f.memoryMB, f.ms),
			gbs, "GB-second", pr.p.LambdaGBSecond(f.arch != spec.ArchX8664), freeGBs)
		freeReq, freeGBs = math.Max(0, freeReq-req.Quantity), math.Max(0, freeGBs-gbs)
		items = append(items, req, comp)
	}
	return items
}

// idleNote states the idle arithmetic under the table.
func idleNote(sh Shape, pr pricer) string {
	src := "workload.active_hours"
	if sh.ActiveHoursDerived {
		src = fmt.Sprintf("derived: %g h, workload.active_hours sets it", spec.ActiveHoursDefault)
	}
	if sh.ServeApp {
		return serveAppNote(sh, src, pr)
	}
	return fmt.Sprintf("Idle sleep: awake %.1f h a month = %.1f active h (%s) + %.0f wakes x %s idle before sleeping (assumed: %g wake per active hour; docs/cost-model.md).",
		sh.HoursAwake, sh.ActiveHours, src, sh.Wakes, spec.DurationText(sh.IdleAfter), WakesPerActiveHour)
}

func serveAppNote(sh Shape, src string, pr pricer) string {
	head := fmt.Sprintf("Idle sleep, serve: app: the requests are assumed spread evenly over %.1f active h (%s), %.0f a minute; the busy alarm wakes the service after %d minutes at %.0f a minute or more, where one task costs less than Lambda (break-even; docs/cost-model.md).",
		sh.ActiveHours, src, sh.RatePerMinute, BusyMinutes, sh.WakePerMinute)
	if sh.Ingress == spec.IngressAPIGW {
		// The break-even compares the task's hour with Lambda's request
		// price; behind an HTTP API a request to a task also costs a Cloud
		// Map discovery call (upper bound), more than Lambda's.
		task := discoveryCallsPerRequest * pr.p.CloudMapMillionDiscoveryCalls.USD
		if lambda := pr.appOnLambda(sh).LambdaRequestUSD(pr.p) * 1e6; task >= lambda {
			head += fmt.Sprintf(" Behind an HTTP API a request a task answers also costs a Cloud Map discovery call ($%.2f a million, upper bound), more than the same request on Lambda ($%.2f a million): waking buys latency and capacity, not a smaller bill.",
				task, lambda)
		}
	}
	if sh.Wakes == 0 {
		return head + fmt.Sprintf(" Below it, Lambda answers every request and Fargate never runs. Three minutes at the break-even rate wake it: each wake adds at least %s of one task awake.",
			spec.DurationText(sh.IdleAfter))
	}
	return head + fmt.Sprintf(" At or above it, the service is awake %.1f h a month = %.1f active h + %.0f wakes x %s idle before sleeping (assumed: %g wake per active hour); Lambda answers the first %g minutes of each wake (%s requests).",
		sh.HoursAwake, sh.ActiveHours, sh.Wakes, spec.DurationText(sh.IdleAfter), WakesPerActiveHour, wakeLagMinutes, formatQty(math.Round(sh.LambdaRequests)))
}

// WakePerMinute is the request rate at which a serve: app service wakes:
// the break-even of its task against its app on Lambda at lambdaMS a
// request (price.AppOnLambda.BreakEvenPerMinute).
func WakePerMinute(s *spec.Spec, p price.RegionPrices, lambdaMS float64) float64 {
	return price.AppOnLambda{CPU: s.Service.CPU, MemoryMB: s.Service.Memory, ARM64: s.Service.Arch != spec.ArchX8664, LambdaMS: lambdaMS}.BreakEvenPerMinute(p)
}
