package cost

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/price"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// seedHandTotal is the hand arithmetic of docs/cost-model.md for the seed
// (profile free, alb, arm64, one task 24/7, 1 M requests of 10 KB, free
// tier none, us-east-1):
//
//	Fargate vCPU   0.25 x 730 x 0.03238    =  5.91
//	Fargate memory 0.5 x 730 x 0.00356     =  1.30
//	task IPv4      730 x 0.005             =  3.65
//	ALB            730 x 0.0225            = 16.43
//	LCU            11.11 x 0.008           =  0.09
//	ALB IPv4       2 x 730 x 0.005         =  7.30
//	ECR            0.1 GB x 0.10           =  0.01
//	everything else within always-free     =  0.00
//	                                       = 34.69 (34.68 unrounded)
const seedHandTotal = 34.69

// apigwScheduledHandTotal: apigw, awake Mon-Fri 08:00-20:00 (260.71 h):
//
//	Fargate vCPU   0.25 x 260.71 x 0.03238 = 2.11
//	Fargate memory 0.5 x 260.71 x 0.00356  = 0.46
//	task IPv4      260.71 x 0.005          = 1.30
//	HTTP API       1 M x 1.00              = 1.00
//	Cloud Map      0.357 x 0.10            = 0.04
//	discovery      1 M x 1.00              = 1.00
//	namespace zone                         = 0.50
//	ECR                                    = 0.01
//	                                       = 6.42
const apigwScheduledHandTotal = 6.42

func apigwScheduled() *spec.Spec {
	s := spec.Default()
	s.Ingress.Kind = spec.IngressAPIGW
	s.Service.Schedule = &spec.Schedule{Timezone: "Europe/Berlin", Awake: "Mon-Fri 08:00-20:00"}
	return s
}

func estimate(t *testing.T, s *spec.Spec, o Options) *Report {
	t.Helper()
	if o.Workload == (Workload{}) {
		o.Workload = WorkloadOf(s)
	}
	r, err := Estimate(s, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSeedExceedsBudget(t *testing.T) {
	r := estimate(t, spec.Default(), Options{})
	if math.Abs(r.TotalUSD-seedHandTotal) > 0.50 {
		t.Errorf("seed total $%.2f, hand arithmetic $%.2f: more than $0.50 apart", r.TotalUSD, seedHandTotal)
	}
	if r.FitsBudget() {
		t.Errorf("seed at $%.2f fits the $%.2f budget; want exceeded", r.TotalUSD, r.BudgetUSD)
	}
	if v := r.Verdict(); !strings.Contains(v, "OVER BUDGET") || !strings.Contains(v, "$10.00") {
		t.Errorf("verdict %q does not say the $10.00 budget is exceeded", v)
	}
	if top := r.Largest(1); len(top) != 1 || top[0].Name != "alb_hours" {
		t.Errorf("largest line %+v, want alb_hours", top)
	}
}

func TestAPIGWScheduledFits(t *testing.T) {
	r := estimate(t, apigwScheduled(), Options{})
	if math.Abs(r.TotalUSD-apigwScheduledHandTotal) > 0.50 {
		t.Errorf("apigw scheduled total $%.2f, hand arithmetic $%.2f", r.TotalUSD, apigwScheduledHandTotal)
	}
	if !r.FitsBudget() || r.TotalUSD >= 10 {
		t.Errorf("apigw scheduled $%.2f does not fit under $10", r.TotalUSD)
	}
	if !strings.HasPrefix(r.Verdict(), "Within budget") {
		t.Errorf("verdict %q", r.Verdict())
	}
	if !near(r.Shape.HoursAwake, 60*730.0/168) {
		t.Errorf("hours awake %v, want %v", r.Shape.HoursAwake, 60*730.0/168)
	}
	for _, it := range r.Items {
		if strings.HasPrefix(it.Name, "alb_") {
			t.Errorf("apigw bill has an ALB line: %+v", it)
		}
	}
}

func TestCompareNamesTheShapeThatFits(t *testing.T) {
	r := estimate(t, spec.Default(), Options{Compare: true})
	// alb / apigw x arm64 / x86_64 x 24/7 / scheduled / idle serve page /
	// idle serve app, 2 serverless, 1 reference.
	if len(r.Compare) != 19 {
		t.Fatalf("%d compare rows, want 19", len(r.Compare))
	}
	var current, reference int
	for _, c := range r.Compare {
		if c.Current {
			current++
			if !near(c.TotalUSD, r.TotalUSD) {
				t.Errorf("current row $%.4f differs from the bill $%.4f", c.TotalUSD, r.TotalUSD)
			}
		}
		if c.Shape.Runtime == RuntimeCDKReference {
			reference++
			// 2 NAT $65.70 + their IPv4 $7.30 + x86 task $9.01 + ALB $16.43
			// + LCU $0.09 + ALB IPv4 $7.30 + NAT data $0.14 + ECR $0.01 = $105.97
			if math.Abs(c.TotalUSD-105.97) > 0.05 {
				t.Errorf("CDK reference $%.2f, want about $105.97", c.TotalUSD)
			}
		}
	}
	if current != 1 || reference != 1 {
		t.Errorf("%d current rows and %d reference rows, want 1 and 1", current, reference)
	}
	best, ok := r.CheapestContainerFit()
	if !ok {
		t.Fatal("no container shape fits")
	}
	// Sleeping when idle (15m, 60 active hours assumed) with the app
	// answering on Lambda beats office hours and the waking page: 1 M
	// requests in 60 h stay under the break-even rate.
	if best.Shape.Ingress != spec.IngressAPIGW || best.Shape.Arch != spec.ArchARM64 || !best.Shape.Idle || !best.Shape.ServeApp || best.Shape.ScheduleSet {
		t.Errorf("cheapest container shape that fits: %s", best.Shape.Name())
	}
	if want, _ := quietServeAppTotal(usEast1(t), 1e6); !near(best.TotalUSD, want) {
		t.Errorf("its total $%.4f, want $%.4f", best.TotalUSD, want)
	}
	for _, c := range r.Compare {
		if c.Shape.Ingress == spec.IngressAPIGW && c.Shape.Arch == spec.ArchARM64 && c.Shape.Idle && !c.Shape.ServeApp &&
			math.Abs(c.TotalUSD-apigwIdle60HandTotal) > 0.005 {
			t.Errorf("apigw idle serve page $%.2f, want $%.2f", c.TotalUSD, apigwIdle60HandTotal)
		}
	}
	for _, c := range r.Compare {
		if c.Shape.Ingress == spec.IngressAPIGW && c.Shape.Arch == spec.ArchARM64 && c.Shape.ScheduleSet && !c.Shape.Idle &&
			math.Abs(c.TotalUSD-apigwScheduledHandTotal) > 0.05 {
			t.Errorf("apigw office hours $%.2f, want about $%.2f", c.TotalUSD, apigwScheduledHandTotal)
		}
	}
	overall, ok := r.CheapestFit()
	if !ok || overall.Shape.Runtime != RuntimeServerless {
		t.Errorf("cheapest overall %+v, want a serverless shape", overall)
	}

	var b bytes.Buffer
	if err := r.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"OVER BUDGET", "cheapest shape that fits:", "apigw · arm64 · idle after 15m, serve app, 60 active h"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestCompareKeepsTheSpecSchedule(t *testing.T) {
	r := estimate(t, apigwScheduled(), Options{Compare: true})
	var sawBerlin, sawAssumed bool
	for _, c := range r.Compare {
		sawBerlin = sawBerlin || strings.Contains(c.Shape.Name(), "Europe/Berlin")
		sawAssumed = sawAssumed || strings.Contains(c.Shape.Name(), "assumed")
	}
	if !sawBerlin || sawAssumed {
		t.Errorf("scheduled rows should use the spec's own schedule (Berlin: %v, assumed: %v)", sawBerlin, sawAssumed)
	}
	// Within budget: the summary names no other shape.
	var b bytes.Buffer
	if err := r.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "cheapest shape") {
		t.Errorf("within budget, yet the summary proposes a shape:\n%s", b.String())
	}
}

func TestHAComparesNoSchedule(t *testing.T) {
	s := spec.Default()
	s.Profile = spec.ProfileHA
	r := estimate(t, s, Options{Compare: true})
	if r.Shape.Tasks != 2 || !r.Shape.PITR {
		t.Errorf("ha shape %+v: want 2 tasks and PITR", r.Shape)
	}
	for _, c := range r.Compare {
		if c.Shape.Runtime == RuntimeECS && c.Shape.ScheduleSet {
			t.Errorf("ha compared with a schedule: %s", c.Shape.Name())
		}
	}
	find(t, r.Items, "dynamodb_pitr")
}

func TestServerlessBill(t *testing.T) {
	s := spec.Default()
	s.Profile = spec.ProfileServerless
	s.Ingress.Kind = spec.IngressURL
	r := estimate(t, s, Options{})
	for _, it := range r.Items {
		if strings.HasPrefix(it.Name, "fargate") || strings.HasPrefix(it.Name, "alb") || strings.Contains(it.Name, "ipv4") {
			t.Errorf("serverless bill has %s", it.Name)
		}
	}
	// Lambda within the always-free allowance; ECR 0.1 GB x $0.10 = $0.01.
	if !near(r.TotalUSD, 0.01) {
		t.Errorf("serverless total $%v, want $0.01", r.TotalUSD)
	}
}

func TestFreeTierModels(t *testing.T) {
	none := estimate(t, spec.Default(), Options{FreeTier: FreeTierNone})
	legacy := estimate(t, spec.Default(), Options{FreeTier: FreeTierLegacy})
	credits := estimate(t, spec.Default(), Options{FreeTier: FreeTierCredits})
	// legacy removes the ALB hours ($16.425), LCU ($0.0889) and ECR ($0.01).
	if want := none.TotalUSD - 16.425 - 0.088888889 - 0.01; !near(legacy.TotalUSD, want) {
		t.Errorf("legacy $%v, want $%v", legacy.TotalUSD, want)
	}
	// Even legacy leaves Fargate and public IPv4: $18.16 > $10.
	if legacy.FitsBudget() {
		t.Errorf("legacy seed $%.2f fits $10: public IPv4 and Fargate are not free", legacy.TotalUSD)
	}
	if !near(credits.TotalUSD, none.TotalUSD) {
		t.Errorf("credits $%v differs from none $%v", credits.TotalUSD, none.TotalUSD)
	}
	if !strings.Contains(strings.Join(credits.Notes, " "), "credits") {
		t.Errorf("credits notes do not mention credits: %v", credits.Notes)
	}
}

func TestRouteHostedZoneOnlyWithDomainAndZone(t *testing.T) {
	s := spec.Default()
	s.Ingress.Domain = "links.example.com"
	r := estimate(t, s, Options{})
	for _, it := range r.Items {
		if it.Name == "route53_hosted_zone" {
			t.Error("hosted zone priced without hosted_zone_id")
		}
	}
	s.Ingress.HostedZoneID = "Z123"
	r = estimate(t, s, Options{})
	it := find(t, r.Items, "route53_hosted_zone")
	if !strings.Contains(it.Note, "already") {
		t.Errorf("hosted zone note %q does not say the user may already own it", it.Note)
	}
}

func TestEstimateErrors(t *testing.T) {
	neg := -1.0
	cases := []struct {
		name string
		mod  func(*spec.Spec, *Options)
		want string
	}{
		{"unknown region", func(s *spec.Spec, _ *Options) { s.Region = "ap-south-1" }, `"ap-south-1"`},
		{"unknown region lists supported", func(s *spec.Spec, _ *Options) { s.Region = "ap-south-1" }, "eu-central-1, eu-west-1, us-east-1, us-west-2"},
		{"region option", func(_ *spec.Spec, o *Options) { o.Region = "mars-1" }, `"mars-1"`},
		{"free tier", func(_ *spec.Spec, o *Options) { o.FreeTier = "always" }, `"always"`},
		{"negative requests", func(_ *spec.Spec, o *Options) { o.Workload.RequestsPerMonth = -5 }, "workload.requests_per_month -5"},
		{"negative response", func(_ *spec.Spec, o *Options) { o.Workload.ResponseKB = -1 }, "workload.response_kb -1"},
		{"NaN lambda", func(_ *spec.Spec, o *Options) { o.Workload.LambdaMS = math.NaN() }, "Lambda duration (ms) NaN"},
		{"negative log", func(_ *spec.Spec, o *Options) { o.Workload.LogGB = &neg }, "log GB -1"},
		{"overflow", func(_ *spec.Spec, o *Options) { o.Workload.RequestsPerMonth, o.Workload.ResponseKB = 1e300, 1e300 }, "too large to price"},
		{"negative budget", func(s *spec.Spec, _ *Options) { s.Budget.MonthlyUSD = -10 }, "budget.monthly_usd -10"},
		{"bad schedule", func(s *spec.Spec, _ *Options) {
			s.Service.Schedule = &spec.Schedule{Timezone: "Mars/Olympus", Awake: "Mon-Fri 08:00-20:00"}
		}, "service.schedule"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := spec.Default()
			o := Options{Workload: WorkloadOf(s)}
			c.mod(s, &o)
			_, err := Estimate(s, o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	s := spec.Default()
	s.Region = "ap-south-1"
	_, err := Estimate(s, Options{Workload: WorkloadOf(s)})
	var unknown *price.UnknownRegionError
	if !errors.As(err, &unknown) {
		t.Errorf("unknown region error is %T, want *price.UnknownRegionError", err)
	}
}

func TestAwakeHours(t *testing.T) {
	weekdays := [7]bool{false, true, true, true, true, true, false}
	everyDay := [7]bool{true, true, true, true, true, true, true}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	cases := []struct {
		name string
		ps   spec.ParsedSchedule
		want float64
	}{
		{"no windows", spec.ParsedSchedule{}, 0},
		// 5 days x 12 h = 60 h/week x 730/168 = 260.714286 h
		{"office hours", defaultSchedule(), 60 * 730.0 / 168},
		// the zone does not change local hours: same 260.714286 h
		{"office hours Berlin", spec.ParsedSchedule{Location: berlin, Windows: []spec.Window{{Days: weekdays, Start: 480, End: 1200}}}, 60 * 730.0 / 168},
		// all day every day: 168 h/week = 730 h
		{"always", spec.ParsedSchedule{Windows: []spec.Window{{Days: everyDay, Start: 0, End: 1440}}}, 730},
		// 08-12 and 14-18: 8 h a day x 5 = 40 h/week x 730/168 = 173.809524 h
		{"two windows add up", parsed(t, "Mon-Fri 08:00-12:00, Mon-Fri 14:00-18:00"), 40 * 730.0 / 168},
		// 09:30-10:15 on Saturday only: 0.75 h/week x 730/168 = 3.258929 h
		{"minutes", spec.ParsedSchedule{Windows: []spec.Window{{Days: [7]bool{time.Saturday: true}, Start: 570, End: 615}}}, 0.75 * 730 / 168},
	}
	for _, c := range cases {
		if got := AwakeHours(c.ps); !near(got, c.want) {
			t.Errorf("%s: %v h, want %v", c.name, got, c.want)
		}
	}
}

// parsed is the schedule Schedule.Parse makes of awake, in UTC: the only
// way a schedule reaches the cost model.
func parsed(t *testing.T, awake string) spec.ParsedSchedule {
	t.Helper()
	ps, err := spec.Schedule{Timezone: "UTC", Awake: awake}.Parse()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestAlarmCount(t *testing.T) {
	s := spec.Default()
	// 5xx rate (errors, requests and the ALB's own 5xx: 3) + p95 (1) +
	// throttles of the table and GSI1 (4) + the CPU target-tracking
	// policy's 2 = 10
	if n := AlarmCount(s); n != 10 {
		t.Errorf("alb alarm metrics %d, want 10", n)
	}
	// apigw: 2 + 1 + 4 + 2 = 9
	s.Ingress.Kind = spec.IngressAPIGW
	if n := AlarmCount(s); n != 9 {
		t.Errorf("apigw alarm metrics %d, want 9", n)
	}
	// apigw with a schedule: the 5xx rate also reads the CPU metric that
	// tells awake from asleep: 10
	s.Service.Schedule = &spec.Schedule{Timezone: "UTC", Awake: "Mon-Fri 08:00-18:00"}
	if n := AlarmCount(s); n != 10 {
		t.Errorf("apigw with a schedule: alarm metrics %d, want 10", n)
	}
	// service.idle adds its own alarm on the request count: 11
	s.Service.Idle = &spec.Idle{After: "15m"}
	if n := AlarmCount(s); n != 11 {
		t.Errorf("apigw with idle: alarm metrics %d, want 11", n)
	}
	// serve: app adds the busy alarm, and its 5xx rate counts every
	// period (no third metric): 9 + idle + busy = 11
	s.Service.Idle.Serve = spec.ServeApp
	if n := AlarmCount(s); n != 11 {
		t.Errorf("apigw with idle serve app: alarm metrics %d, want 11", n)
	}
	// behind an ALB the rate keeps its third metric: 10 + idle + busy = 12
	s.Ingress.Kind = spec.IngressALB
	if n := AlarmCount(s); n != 12 {
		t.Errorf("alb with idle serve app: alarm metrics %d, want 12", n)
	}
	s.Ingress.Kind = spec.IngressAPIGW
	s.Service.Idle = nil
	// Lambda: errors (2) + p95 duration (1) + throttles (4), no target tracking = 7
	s.Profile = spec.ProfileServerless
	if n := AlarmCount(s); n != 7 {
		t.Errorf("serverless alarm metrics %d, want 7", n)
	}
}

// TestGolden pins the text and JSON of the seed with --compare; refresh
// with go test ./internal/cost -run TestGolden -update.
func TestGolden(t *testing.T) {
	r := estimate(t, spec.Default(), Options{Compare: true})
	var text, js bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	golden(t, "seed-compare.txt", text.Bytes())
	golden(t, "seed-compare.json", js.Bytes())

	var got map[string]any
	if err := json.Unmarshal(js.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"total_usd", "budget_usd", "fits_budget", "items", "compare"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	item := got["items"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "quantity", "unit", "unit_usd", "free_quantity", "usd"} {
		if _, ok := item[k]; !ok {
			t.Errorf("JSON item lacks %q", k)
		}
	}
	row := got["compare"].([]any)[0].(map[string]any)
	for _, k := range []string{"shape", "total_usd"} {
		if _, ok := row[k]; !ok {
			t.Errorf("JSON compare row lacks %q", k)
		}
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testutil.Golden(t, filepath.Join("testdata", name), got, *update)
}

func TestThroughputNote(t *testing.T) {
	s := spec.Default()
	// 1 M requests over 730 h: 0.38 req/s, 0.76 writes/s: within 5 WCU.
	r := estimate(t, s, Options{})
	if strings.Contains(strings.Join(r.Notes, " "), "throttle") {
		t.Errorf("seed warns of throttling: %v", r.Notes)
	}
	// 20 M requests: 7.61 req/s, 15.2 writes/s > 5 WCU, 7.6 reads/s > 5 RCU.
	w := WorkloadOf(s)
	w.RequestsPerMonth = 20e6
	r = estimate(t, s, Options{Workload: w})
	notes := strings.Join(r.Notes, " ")
	if !strings.Contains(notes, "15.2 writes a second") || !strings.Contains(notes, "7.6 reads a second") {
		t.Errorf("no throttle warning for 20 M requests: %v", r.Notes)
	}
	// On-demand never throttles on capacity.
	s.Table.Billing = spec.BillingOnDemand
	r = estimate(t, s, Options{Workload: w})
	if strings.Contains(strings.Join(r.Notes, " "), "throttle") {
		t.Errorf("on-demand warns of throttling: %v", r.Notes)
	}
}

// BenchmarkEstimateCompare is the in-process part of 'lowfare cost
// --compare': parse the built-in table, price the spec and 11 shapes.
func BenchmarkEstimateCompare(b *testing.B) {
	s := apigwScheduled()
	w := WorkloadOf(s)
	for b.Loop() {
		if _, err := Estimate(s, Options{Workload: w, Compare: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// A serverless spec on x86_64 runs its function on x86, which Lambda bills
// at its own GB-second rate; arm64 stays at the arm64 rate. Compare rows all
// name their architecture.
func TestServerlessLambdaPricedAtItsArch(t *testing.T) {
	p := price.Builtin("us-east-1")
	for _, tc := range []struct {
		arch string
		rate float64
	}{
		{spec.ArchARM64, p.LambdaGBSecondARM64.USD},
		{spec.ArchX8664, p.LambdaGBSecondX86.USD},
	} {
		t.Run(tc.arch, func(t *testing.T) {
			s := spec.Default()
			s.Profile, s.Ingress.Kind, s.Service.Arch = spec.ProfileServerless, spec.IngressURL, tc.arch
			r := estimate(t, s, Options{Compare: true})
			comp := find(t, r.Items, "lambda_compute")
			if comp.UnitUSD != tc.rate {
				t.Errorf("lambda_compute at $%v a GB-second, want $%v", comp.UnitUSD, tc.rate)
			}
			if !strings.Contains(comp.Description, tc.arch) {
				t.Errorf("lambda_compute label %q does not name %s", comp.Description, tc.arch)
			}
			var buf bytes.Buffer
			if err := r.WriteJSON(&buf); err != nil {
				t.Fatal(err)
			}
			var out struct {
				Compare []map[string]any `json:"compare"`
			}
			if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
				t.Fatal(err)
			}
			if len(out.Compare) == 0 {
				t.Fatal("no compare rows")
			}
			for _, row := range out.Compare {
				a, _ := row["arch"].(string)
				if a != spec.ArchARM64 && a != spec.ArchX8664 {
					t.Errorf("compare row %v has arch %q", row["shape"], row["arch"])
				}
				if row["runtime"] == string(RuntimeServerless) && a != tc.arch {
					t.Errorf("serverless row %v has arch %q, want the spec's %s", row["shape"], a, tc.arch)
				}
			}
		})
	}
}
