package cost

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/price"
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

// serveAppSeed is examples/free-idle.yaml: the seed with ingress apigw,
// idle after 15m and serve: app, 1 M requests in 40 active hours.
func serveAppSeed(active float64) *spec.Spec {
	s := idleSeed("15m", active)
	s.Service.Idle.Serve = spec.ServeApp
	return s
}

// quietServeAppTotal is the bill of the apigw seed with serve: app when its
// requests stay under the break-even rate, from the price table: the
// service never wakes, so no Fargate, IPv4 or Cloud Map traffic; the app's
// requests on Lambda (at 512 MB and 50 ms) and the controller's reconcile
// every minute (128 MB, 1 s) share the always-free 1 M requests and
// 400,000 GB-s; EventBridge Scheduler's 43,800 invocations are within its
// free 14 M; logs within the free 5 GB; alarm metrics 9 (the HTTP API's 5xx
// rate reads errors and requests only: with serve: app every period counts,
// whoever answers) + idle + busy = 11.
func quietServeAppTotal(p price.RegionPrices, requests float64) (total float64, parts map[string]float64) {
	reconciles := 730.0 * 60
	lambdaReq := requests + reconciles
	lambdaGBs := requests*0.050*0.5 + reconciles*1.0*0.125
	logGB := (requests*600 + reconciles*500) / 1e9
	parts = map[string]float64{
		"http_api":       requests / 1e6 * p.HTTPAPIMillionRequests.USD,
		"namespace_zone": p.Route53HostedZoneMonth.USD,
		"lambda_req":     math.Max(0, lambdaReq/1e6-1) * p.LambdaMillionRequests.USD,
		"lambda_gbs":     math.Max(0, lambdaGBs-400000) * p.LambdaGBSecondARM64.USD,
		"scheduler":      0, // 0.0438 M of the free 14 M
		"logs":           math.Max(0, logGB-5) * p.LogsIngestGB.USD,
		"alarms":         (11 - 10) * p.AlarmMonth.USD,
		"ecr":            10 * 10.0 / 1000 * p.ECRStorageGBMonth.USD,
	}
	for _, v := range parts {
		total += v
	}
	return total, parts
}

// The seed workload of docs/cost-model.md with serve: app: at most $2.00 a
// month, and the break-even rate derived from the price table.
func TestServeAppSeedUnderTwoDollars(t *testing.T) {
	p := usEast1(t)
	r := estimate(t, serveAppSeed(40), Options{})

	// Break-even: one arm64 task (0.25 vCPU, 0.5 GB) and its IPv4 an
	// hour, against a request on Lambda (the request charge and 50 ms at
	// 0.5 GB), per minute, rounded up.
	taskHour := 0.25*p.FargateVCPUHourARM64.USD + 0.5*p.FargateGBHourARM64.USD + p.PublicIPv4Hour.USD
	perRequest := p.LambdaMillionRequests.USD/1e6 + 0.050*0.5*p.LambdaGBSecondARM64.USD
	breakEven := math.Ceil(taskHour / perRequest / 60)
	if r.Shape.WakePerMinute != breakEven {
		t.Errorf("wakes at %v a minute, want %v", r.Shape.WakePerMinute, breakEven)
	}
	// 1 M requests in 40 h: 416.7 a minute, below it: never awake.
	if rate := 1e6 / (40 * 60.0); !near(r.Shape.RatePerMinute, rate) || rate >= breakEven {
		t.Fatalf("rate %v a minute (want %v), break-even %v", r.Shape.RatePerMinute, rate, breakEven)
	}
	if r.Shape.HoursAwake != 0 || r.Shape.Wakes != 0 || r.Shape.LambdaRequests != 1e6 {
		t.Errorf("awake %v h, %v wakes, %v requests on Lambda; want 0, 0, all", r.Shape.HoursAwake, r.Shape.Wakes, r.Shape.LambdaRequests)
	}
	want, parts := quietServeAppTotal(p, 1e6)
	if !near(r.TotalUSD, want) {
		t.Errorf("total $%.6f, want $%.6f from %v", r.TotalUSD, want, parts)
	}
	if r.TotalUSD > 2.00 {
		t.Errorf("the seed with serve: app costs $%.2f, over $2.00", r.TotalUSD)
	}
	for name, usd := range map[string]float64{
		"fargate_vcpu": 0, "task_public_ipv4": 0, "cloud_map_discovery": 0,
		"app_lambda_requests": 0, "app_lambda_compute": 0, "scheduler_invocations": 0,
		"wake_controller_requests": parts["lambda_req"], "cloudwatch_alarms": parts["alarms"],
	} {
		if got := find(t, r.Items, name).USD; !near(got, usd) {
			t.Errorf("%s: $%v, want $%v", name, got, usd)
		}
	}
	// The controller gets what the app left of the free 1 M requests.
	if got := find(t, r.Items, "wake_controller_requests").FreeQuantity; got != 0 {
		t.Errorf("controller's free requests %v, want 0 (the app used the 1 M)", got)
	}
	if r.Shape.Alarms != 11 {
		t.Errorf("%d alarm metrics, want 11 (9, the idle alarm and the busy alarm)", r.Shape.Alarms)
	}
	// It is well under serve: page's bill for the same workload.
	if r.TotalUSD >= apigwIdle40HandTotal {
		t.Errorf("serve: app $%.2f is not under serve: page's $%.2f", r.TotalUSD, apigwIdle40HandTotal)
	}
}

// Above the break-even rate the service wakes as with serve: page, and
// Lambda answers the first minutes of each wake.
func TestServeAppWakesAboveBreakEven(t *testing.T) {
	p := usEast1(t)
	s := serveAppSeed(40)
	w := WorkloadOf(s)
	w.RequestsPerMonth = 2e6 // 833 a minute in 40 h
	r := estimate(t, s, Options{Workload: w})
	if r.Shape.HoursAwake != 50 || r.Shape.Wakes != 40 {
		t.Fatalf("awake %v h with %v wakes, want 50 and 40", r.Shape.HoursAwake, r.Shape.Wakes)
	}
	onLambda := 40 * 4.5 * 2e6 / (40 * 60) // 3 busy minutes and 90 s of start in each wake
	if !near(r.Shape.LambdaRequests, onLambda) {
		t.Errorf("%v requests on Lambda, want %v", r.Shape.LambdaRequests, onLambda)
	}
	checkItem(t, find(t, r.Items, "cloud_map_discovery"), itemWant{(2e6 - onLambda) / 1e6, 0, (2e6 - onLambda) / 1e6 * p.CloudMapMillionDiscoveryCalls.USD})
	checkItem(t, find(t, r.Items, "fargate_vcpu"), itemWant{50 * 0.25, 0, 50 * 0.25 * p.FargateVCPUHourARM64.USD})
	checkItem(t, find(t, r.Items, "app_lambda_requests"), itemWant{onLambda / 1e6, 1, 0})
	// The controller: a reconcile a minute and two calls a wake, with
	// what the app left of the free requests.
	calls := 730*60 + 2*40.0
	checkItem(t, find(t, r.Items, "wake_controller_requests"), itemWant{calls / 1e6, 1 - onLambda/1e6, 0})
	if !strings.Contains(strings.Join(r.Notes, " "), "Lambda answers the first 4.5 minutes of each wake") {
		t.Errorf("no wake note: %q", r.Notes)
	}
}

// Behind an ALB the requests Lambda answers count toward LCUs at the
// Lambda target's 0.4 GB an hour, and the ALB bills all month.
func TestServeAppALB(t *testing.T) {
	s := serveAppSeed(40)
	s.Ingress.Kind = spec.IngressALB
	r := estimate(t, s, Options{})
	// 25,000 requests an hour of 11 KB processed = 0.275 GB/h = 0.6875
	// LCU by bytes at 0.4 GB; new connections 25,000/3600/25 = 0.278.
	checkItem(t, find(t, r.Items, "alb_lcu"), itemWant{40 * 0.275 / 0.4, 0, 40 * 0.275 / 0.4 * usEast1(t).ALBLCUHour.USD})
	if got := find(t, r.Items, "alb_hours").Quantity; got != 730 {
		t.Errorf("ALB %v h, want 730", got)
	}
	if r.Shape.Alarms != 12 { // alb 10 (its 5xx included) + idle + busy
		t.Errorf("%d alarm metrics, want 12", r.Shape.Alarms)
	}
}

// --compare prices serve: app rows only for an image lowfare builds: an
// image reference cannot carry the adapter. The JSON says how idle was
// priced.
func TestServeAppRowsOnlyWithTheAdapter(t *testing.T) {
	count := func(s *spec.Spec) (app, page int) {
		for _, c := range estimate(t, s, Options{Compare: true}).Compare {
			switch {
			case c.Shape.Idle && c.Shape.ServeApp:
				app++
			case c.Shape.Idle:
				page++
			}
		}
		return app, page
	}
	if app, page := count(serveAppSeed(40)); app != 4 || page != 4 {
		t.Errorf("built image: %d serve app rows, %d serve page rows; want 4 and 4 (alb, apigw x arm64, x86_64)", app, page)
	}
	ref := idleSeed("15m", 40)
	ref.Service.Image = "public.ecr.aws/nginx/nginx:1.27"
	ref.Service.Idle.Serve = spec.ServePage
	if app, page := count(ref); app != 0 || page != 4 {
		t.Errorf("image reference: %d serve app rows, %d serve page rows; want 0 and 4", app, page)
	}

	var js bytes.Buffer
	if err := estimate(t, serveAppSeed(40), Options{}).WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var got struct{ Idle map[string]any }
	if err := json.Unmarshal(js.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Idle["serve"] != "app" || got.Idle["wake_per_minute"] != 465.0 || got.Idle["lambda_requests"] != 1e6 {
		t.Errorf("JSON idle %v", got.Idle)
	}
}

// serve: app on an x86_64 service runs the app's function on x86, priced at
// x86's GB-second rate; the wake controller stays on arm64.
func TestServeAppLambdaPricedAtTheServiceArch(t *testing.T) {
	p := price.Builtin("us-east-1")
	for _, tc := range []struct {
		arch string
		rate float64
	}{
		{spec.ArchARM64, p.LambdaGBSecondARM64.USD},
		{spec.ArchX8664, p.LambdaGBSecondX86.USD},
	} {
		t.Run(tc.arch, func(t *testing.T) {
			s := serveAppSeed(40)
			s.Service.Arch = tc.arch
			r := estimate(t, s, Options{})
			if app := find(t, r.Items, "app_lambda_compute"); app.UnitUSD != tc.rate || !strings.Contains(app.Description, tc.arch) {
				t.Errorf("app on Lambda: %q at $%v a GB-second, want %s at $%v", app.Description, app.UnitUSD, tc.arch, tc.rate)
			}
			if c := find(t, r.Items, "wake_controller_compute"); c.UnitUSD != p.LambdaGBSecondARM64.USD {
				t.Errorf("wake controller at $%v a GB-second, want arm64's $%v", c.UnitUSD, p.LambdaGBSecondARM64.USD)
			}
		})
	}
}
