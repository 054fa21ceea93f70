package cost

import (
	"fmt"
	"math"
	"time"

	"github.com/lowfare/lowfare/internal/spec"
)

// Idle sleep (service.idle, issue 10) in the model. A service that sleeps
// when idle is awake for the hours requests arrive in (workload.active_hours)
// plus, after each spell of use, the idle time before the alarm puts it to
// sleep (service.idle.after). The number of such spells is the assumption
// docs/cost-model.md states: one wake per active hour, as if every active
// hour were a visit of its own (the most wakes, so the most idle tails,
// the active hours allow; longer visits wake less and cost less).
const (
	// WakesPerActiveHour is the assumed number of wakes per active hour.
	WakesPerActiveHour = 1.0
	// idleAssumedAfter is the idle.after --compare prices for a spec
	// without service.idle: the example in the issue and the docs.
	idleAssumedAfter = 15 * time.Minute
	// controllerCallsPerWake: the waking page reloads every 5 s until the
	// task is healthy (about 90 s), plus the alarm's call that put the
	// service to sleep.
	controllerCallsPerWake = 90/5 + 1
	controllerMS           = 300 // a few AWS API calls, boto3 warm
	controllerMemoryMB     = 128
)

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
// within its window (its current HoursAwake).
func (sh Shape) withIdle(active float64, after time.Duration, derived bool) Shape {
	sh.Idle, sh.IdleAfter, sh.ActiveHoursDerived = true, after, derived
	sh.WindowHours = sh.HoursAwake
	sh.HoursAwake, sh.Wakes = IdleHours(active, after, sh.WindowHours)
	sh.ActiveHours = math.Min(active, sh.WindowHours)
	label := fmt.Sprintf("idle after %s, %g active h", spec.DurationText(after), round1(sh.ActiveHours))
	if sh.ScheduleSet {
		label = sh.Schedule + ", " + label
	}
	sh.Schedule = label
	return sh
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// wakeController is the Lambda function that answers while the service
// sleeps: a few calls per wake, far inside Lambda's always-free 1 M
// requests and 400,000 GB-seconds (priced all the same, so the line shows).
func (pr pricer) wakeController(sh Shape) []Item {
	calls := sh.Wakes * controllerCallsPerWake
	req := newItem("wake_controller_requests", "Wake controller (Lambda) invocations",
		calls/1e6, "million requests", pr.p.LambdaMillionRequests, freeLambdaRequestsM)
	gbs := calls * controllerMS / 1000 * controllerMemoryMB / 1024
	comp := newItem("wake_controller_compute", fmt.Sprintf("Wake controller compute (arm64, %d MB, %d ms)", controllerMemoryMB, controllerMS),
		gbs, "GB-second", pr.p.LambdaGBSecondARM64, freeLambdaGBSeconds)
	return []Item{req, comp}
}

// idleNote states the idle arithmetic under the table.
func idleNote(sh Shape) string {
	src := "workload.active_hours"
	if sh.ActiveHoursDerived {
		src = fmt.Sprintf("derived: %g h, workload.active_hours sets it", spec.ActiveHoursDefault)
	}
	return fmt.Sprintf("Idle sleep: awake %.1f h a month = %.1f active h (%s) + %.0f wakes x %s idle before sleeping (assumed: %g wake per active hour; docs/cost-model.md).",
		sh.HoursAwake, sh.ActiveHours, src, sh.Wakes, spec.DurationText(sh.IdleAfter), WakesPerActiveHour)
}
