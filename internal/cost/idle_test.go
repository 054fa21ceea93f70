package cost

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/spec"
)

// Worked by hand in docs/cost-model.md: the seed with ingress apigw and
// idle after 15m, at 40 active hours, is awake 40 + 40 x 0.25 = 50 h:
//
//	Fargate  50 h x (0.25 x $0.03238 + 0.5 x $0.00356) = $0.49375
//	IPv4     50 h x $0.005                             = $0.25
//	HTTP API 1 M requests x $1                         = $1.00
//	Cloud Map 50/730 instance-month x $0.10            = $0.00685
//	          discovery 1 M x $1                       = $1.00
//	          namespace zone                           = $0.50
//	alarms   11 - 10 free = 1 x $0.10                  = $0.10
//	ECR      0.1 GB x $0.10                            = $0.01
//	                                                     $3.36
//
// and at 60 (the default) 75 h: $3.74. The schedule Mon-Fri 08:00-20:00
// costs $6.42.
const (
	apigwIdle40HandTotal = 0.49375 + 0.25 + 1 + 50.0/730*0.1 + 1 + 0.5 + 0.1 + 0.01
	apigwIdle60HandTotal = 75*0.009875 + 75*0.005 + 1 + 75.0/730*0.1 + 1 + 0.5 + 0.1 + 0.01
)

func idleSeed(after string, active float64) *spec.Spec {
	s := spec.Default()
	s.Ingress.Kind = spec.IngressAPIGW
	s.Service.Idle = &spec.Idle{After: after}
	s.Workload.ActiveHours = active
	return s
}

func TestIdleSeedWellUnderTheSchedule(t *testing.T) {
	r := estimate(t, idleSeed("15m", 40), Options{})
	if r.Shape.HoursAwake != 50 || r.Shape.Wakes != 40 {
		t.Errorf("awake %v h with %v wakes, want 50 and 40", r.Shape.HoursAwake, r.Shape.Wakes)
	}
	if math.Abs(r.TotalUSD-apigwIdle40HandTotal) > 0.005 {
		t.Errorf("total $%.4f, want $%.4f", r.TotalUSD, apigwIdle40HandTotal)
	}
	if r.TotalUSD > apigwScheduledHandTotal/1.5 {
		t.Errorf("idle $%.2f is not well under the schedule's $%.2f", r.TotalUSD, apigwScheduledHandTotal)
	}
	var note bool
	for _, n := range r.Notes {
		note = note || strings.Contains(n, "awake 50.0 h a month = 40.0 active h (workload.active_hours) + 40 wakes x 15m")
	}
	if !note {
		t.Errorf("no idle note: %q", r.Notes)
	}
	names := map[string]bool{}
	for _, it := range r.Items {
		names[it.Name] = true
		if strings.HasPrefix(it.Name, "wake_controller") && it.USD != 0 {
			t.Errorf("%s costs $%v; the controller is within Lambda's free tier", it.Name, it.USD)
		}
	}
	if !names["wake_controller_requests"] || !names["wake_controller_compute"] {
		t.Errorf("no wake controller lines: %v", names)
	}
	if r.Shape.Alarms != 11 {
		t.Errorf("%d alarm metrics, want 11 (the idle alarm is the 11th)", r.Shape.Alarms)
	}
}

func TestIdleHours(t *testing.T) {
	for _, tc := range []struct {
		active, window float64
		after          time.Duration
		awake, wakes   float64
	}{
		{40, 730, 15 * time.Minute, 50, 40},
		{0, 730, 15 * time.Minute, 0, 0},
		{700, 730, time.Hour, 730, 700},       // cut to the month
		{300, 260, 5 * time.Minute, 260, 260}, // cut to the schedule's window
		{10, 730, 24 * time.Hour, 250, 10},
	} {
		awake, wakes := IdleHours(tc.active, tc.after, tc.window)
		if math.Abs(awake-tc.awake) > 1e-9 || wakes != tc.wakes {
			t.Errorf("IdleHours(%v, %v, %v) = %v, %v; want %v, %v", tc.active, tc.after, tc.window, awake, wakes, tc.awake, tc.wakes)
		}
	}
}

// Without workload.active_hours the default applies, within the schedule.
func TestIdleActiveHoursDerived(t *testing.T) {
	r := estimate(t, idleSeed("15m", 0), Options{})
	if r.Shape.ActiveHours != spec.ActiveHoursDefault || !r.Shape.ActiveHoursDerived || math.Abs(r.TotalUSD-apigwIdle60HandTotal) > 0.005 {
		t.Errorf("derived: %v active h (derived %v), $%.4f", r.Shape.ActiveHours, r.Shape.ActiveHoursDerived, r.TotalUSD)
	}
	s := idleSeed("15m", 0)
	s.Service.Schedule = &spec.Schedule{Timezone: "UTC", Awake: "Sat 10:00-12:00"} // 8.7 h a month
	r = estimate(t, s, Options{Compare: true})
	window := 2 * HoursPerMonth / hoursPerWeek
	if math.Abs(r.Shape.ActiveHours-window) > 1e-9 || math.Abs(r.Shape.HoursAwake-window) > 1e-9 {
		t.Errorf("active %v, awake %v; want both cut to the window %v", r.Shape.ActiveHours, r.Shape.HoursAwake, window)
	}
	// --compare: the spec's own row is the idle one, within its schedule.
	var current []string
	for _, c := range r.Compare {
		if c.Current {
			current = append(current, c.Shape.Name())
			if !c.Shape.Idle || !c.Shape.ScheduleSet || !near(c.TotalUSD, r.TotalUSD) {
				t.Errorf("current row %s $%.4f, bill $%.4f", c.Shape.Name(), c.TotalUSD, r.TotalUSD)
			}
		}
	}
	if len(current) != 1 {
		t.Errorf("current rows %v, want one", current)
	}
}
