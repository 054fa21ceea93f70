package cost

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/lowfare/lowfare/internal/price"
	"github.com/lowfare/lowfare/internal/spec"
)

// Options are the inputs beside the spec.
type Options struct {
	Table    *price.Table // nil: the built-in table
	Region   string       // empty: the spec's region
	FreeTier FreeTier
	Workload Workload
	Compare  bool // also price the other shapes
	// FreeTierSource says whether the account chose FreeTier or it was
	// given or assumed (empty: assumed); FreeTierWhy says how, in one
	// sentence the report prints first among its notes.
	FreeTierSource FreeTierSource
	FreeTierWhy    string
	// PricesWhy says where the prices came from when that is not just
	// the table's name (fetched ones: which from the API, which not); the
	// report prints it among its first notes.
	PricesWhy string
}

// WorkloadOf is the workload a spec describes, with the model's defaults
// for what a spec does not say (Lambda duration, table size, log volume).
func WorkloadOf(s *spec.Spec) Workload {
	return Workload{
		RequestsPerMonth: float64(s.Workload.RequestsPerMonth),
		ResponseKB:       s.Workload.ResponseKB,
		LambdaMS:         DefaultLambdaMS,
		StoredGB:         DefaultStoredGB,
	}
}

// Report is the estimate: the spec's bill, and with Compare the other shapes.
type Report struct {
	App, Env string
	Region   string
	FreeTier FreeTier
	// FreeTierSource and FreeTierWhy: where the model came from.
	FreeTierSource FreeTierSource
	FreeTierWhy    string
	PricesWhy      string // where the prices came from, when the name does not say it all
	PricesName     string
	PriceDates     []string // the months the region's prices were checked
	Workload       Workload
	LogGB          float64 // the log volume used, given or derived
	Shape          Shape
	Items          []Item
	TotalUSD       float64
	BudgetUSD      float64
	Notes          []string
	Compare        []CompareRow
}

// CompareRow is the same workload priced in another shape.
type CompareRow struct {
	Shape      Shape
	TotalUSD   float64
	FitsBudget bool
	Current    bool // the spec's own shape
}

// FitsBudget reports whether the total stays within the budget. A spec
// without a budget (0) fits any bill.
func (r *Report) FitsBudget() bool { return fits(r.TotalUSD, r.BudgetUSD) }

func fits(total, budget float64) bool { return budget <= 0 || total <= budget }

// BudgetShare is the total as a fraction of the budget (0 without one).
func (r *Report) BudgetShare() float64 {
	if r.BudgetUSD <= 0 {
		return 0
	}
	return r.TotalUSD / r.BudgetUSD
}

// Largest returns the n most expensive lines, most expensive first.
func (r *Report) Largest(n int) []Item {
	items := append([]Item(nil), r.Items...)
	sort.SliceStable(items, func(i, j int) bool { return items[i].USD > items[j].USD })
	var out []Item
	for _, it := range items {
		if len(out) == n || it.USD < 0.005 {
			break
		}
		out = append(out, it)
	}
	return out
}

// CheapestFit is the cheapest compared shape that fits the budget, the CDK
// reference aside. ok is false when none fits or nothing was compared.
func (r *Report) CheapestFit() (row CompareRow, ok bool) {
	return r.cheapest(func(CompareRow) bool { return true })
}

// CheapestContainerFit is CheapestFit among the shapes that keep the
// service on ECS Fargate (moving to Lambda is a bigger change).
func (r *Report) CheapestContainerFit() (row CompareRow, ok bool) {
	return r.cheapest(func(c CompareRow) bool { return c.Shape.Runtime == RuntimeECS })
}

func (r *Report) cheapest(keep func(CompareRow) bool) (best CompareRow, ok bool) {
	for _, c := range r.Compare {
		if c.Shape.Runtime == RuntimeCDKReference || !c.FitsBudget || !keep(c) {
			continue
		}
		if !ok || c.TotalUSD < best.TotalUSD {
			best, ok = c, true
		}
	}
	return best, ok
}

// Estimate prices a spec. Every error is about the input (an unknown region,
// a negative number, a schedule that does not parse): exit 2 in the CLI.
func Estimate(s *spec.Spec, o Options) (*Report, error) {
	if s == nil {
		return nil, errors.New("no spec to price")
	}
	table := o.Table
	if table == nil {
		var err error
		if table, err = price.BuiltinTable(); err != nil {
			return nil, err
		}
	}
	region := o.Region
	if region == "" {
		region = s.Region
	}
	prices, err := table.Region(region)
	if err != nil {
		return nil, err
	}
	ft := o.FreeTier
	if ft == "" {
		ft = FreeTierNone
	}
	if _, err := ParseFreeTier(string(ft)); err != nil {
		return nil, err
	}
	if o.FreeTierSource == "" {
		o.FreeTierSource = SourceAssumed
	}
	if err := o.Workload.check(); err != nil {
		return nil, err
	}
	if b := s.Budget.MonthlyUSD; math.IsNaN(b) || math.IsInf(b, 0) || b < 0 {
		return nil, fmt.Errorf("budget.monthly_usd %v: must be zero or more", b)
	}
	sh, err := ShapeOf(s)
	if err != nil {
		return nil, err
	}
	dates := prices.Dates()
	if s.HasDatabase() {
		if miss := prices.MissingDatabasePrices(region); len(miss) > 0 {
			return nil, fmt.Errorf("the %s has no database prices for %s (%s): add them from 'lowfare cost --print-prices'", table.Name, region, strings.Join(miss, ", "))
		}
		dates = prices.DatesWithDatabase()
	}
	pr := pricer{p: prices, ft: ft, w: o.Workload}
	sh = pr.resolve(sh)
	r := &Report{
		App: s.App, Env: s.Env,
		Region:         region,
		FreeTier:       ft,
		FreeTierSource: o.FreeTierSource,
		FreeTierWhy:    o.FreeTierWhy,
		PricesWhy:      o.PricesWhy,
		PricesName:     table.Name,
		PriceDates:     dates,
		Workload:       o.Workload,
		LogGB:          pr.logGB(sh),
		Shape:          sh,
		Items:          pr.items(sh),
		BudgetUSD:      s.Budget.MonthlyUSD,
	}
	r.TotalUSD = sum(r.Items)
	if math.IsInf(r.TotalUSD, 0) || math.IsNaN(r.TotalUSD) {
		return nil, fmt.Errorf("the workload (%g requests of %g KB a month) is too large to price", o.Workload.RequestsPerMonth, o.Workload.ResponseKB)
	}
	r.Notes = notes(r, s, pr)
	if o.Compare {
		r.Compare = compare(pr, sh, r.BudgetUSD)
	}
	return r, nil
}

// notes are the sentences under the table: what the model assumed that the
// reader would otherwise get wrong.
func notes(r *Report, s *spec.Spec, pr pricer) []string {
	var n []string
	if sn := sourceNote(r); sn != "" {
		n = append(n, sn)
	}
	if r.PricesWhy != "" {
		n = append(n, r.PricesWhy)
	}
	switch r.FreeTier {
	case FreeTierNone:
		n = append(n, "Free tier none: only the always-free allowances (DynamoDB 25 GB and 25/25 provisioned capacity, CloudWatch, Lambda, 100 GB out).")
	case FreeTierLegacy:
		n = append(n, "Free tier legacy: adds the 12-month offers of accounts opened before 2025-07-15 (ALB 750 h + 15 LCU, ECR 500 MB, HTTP API 1 M calls); public IPv4 and Fargate stay billed. After 12 months, see --free-tier none.")
	case FreeTierCredits:
		n = append(n, fmt.Sprintf("Free tier credits: accounts opened since 2025-07-15 draw this $%.2f a month from their $100-200 credits (for up to 6 months on the free plan); the budget verdict is on the bill before credits.", r.TotalUSD))
	}
	if r.Shape.Runtime == RuntimeECS && r.Shape.ScheduleSet {
		n = append(n, fmt.Sprintf("Awake %s: %.1f h a month (awake hours a week x 730/168; DST shifts ignored). Requests are assumed to arrive while awake.", r.Shape.Schedule, r.Shape.HoursAwake))
	}
	if r.Shape.Runtime == RuntimeECS && r.Shape.Idle {
		n = append(n, idleNote(r.Shape, pr))
	}
	if r.Shape.Runtime == RuntimeECS && s.Profile == spec.ProfileHA && s.Service.Schedule != nil {
		n = append(n, "Profile ha never sleeps: the schedule is not priced.")
	}
	if r.Shape.Runtime == RuntimeECS && s.Service.Count.Max > r.Shape.Tasks && r.Shape.HoursAwake > 0 {
		perTask := 0.0
		for _, it := range r.Items {
			if it.Name == "fargate_vcpu" || it.Name == "fargate_memory" || it.Name == "task_public_ipv4" {
				perTask += it.USD
			}
		}
		if r.Shape.Tasks > 0 {
			perTask /= float64(r.Shape.Tasks)
		}
		n = append(n, fmt.Sprintf("Scaling out adds $%.2f a month for each extra task that runs as long (up to %d tasks).", perTask, s.Service.Count.Max))
	}
	if d := databaseNote(r.Shape.Database); d != "" {
		n = append(n, d)
	}
	if t := throughputNote(r.Shape, r.Workload); t != "" {
		n = append(n, t)
	}
	if r.Workload.LogGB == nil {
		n = append(n, logNote(r))
	}
	return n
}

func logNote(r *Report) string {
	sh := r.Shape
	switch {
	case sh.Runtime == RuntimeServerless:
		return fmt.Sprintf("Logs derived from the requests: %.3g GB a month (about %g bytes a request; --log-gb overrides).", r.LogGB, logBytesPerRequestLambda)
	case sh.Runtime == RuntimeECS && sh.Idle:
		return fmt.Sprintf("Logs derived from the requests: %.3g GB a month (about %g bytes a request on a task, %g on Lambda, %g a controller invocation; --log-gb overrides).",
			r.LogGB, logBytesPerRequestECS, logBytesPerRequestLambda, controllerLogBytesPerCall)
	}
	return fmt.Sprintf("Logs derived from the requests: %.3g GB a month (about %g bytes a request; --log-gb overrides).", r.LogGB, logBytesPerRequestECS)
}

// compare prices the same workload in the other shapes: alb / apigw,
// arm64 / x86_64, with and without a schedule, the serverless profile, and
// the AWS CDK ecs-patterns default as a reference.
func compare(pr pricer, current Shape, budget float64) []CompareRow {
	shapes := ecsShapes(pr, current)
	if !current.Database.Present {
		// Profile serverless takes no database (spec says why).
		shapes = append(shapes, serverlessShapes(current)...)
	}
	shapes = append(shapes, cdkReference(current))

	rows := make([]CompareRow, 0, len(shapes))
	for _, sh := range shapes {
		total := sum(pr.items(sh))
		rows = append(rows, CompareRow{
			Shape:      sh,
			TotalUSD:   total,
			FitsBudget: fits(total, budget),
			Current:    sameShape(sh, current),
		})
	}
	return rows
}

// ecsShapes are the ECS rows: each ingress (alb, apigw) and architecture
// (arm64, x86_64) at each awake time of awakeTimes, resolved by pr.
func ecsShapes(pr pricer, current Shape) []Shape {
	var shapes []Shape
	times := awakeTimes(current, compareBase(current))
	for _, ingress := range []string{spec.IngressALB, spec.IngressAPIGW} {
		for _, arch := range []string{spec.ArchARM64, spec.ArchX8664} {
			for _, t := range times {
				sh := t
				sh.Ingress, sh.Arch = ingress, arch
				sh.Spot = arch == spec.ArchX8664 && current.Spot
				sh.Alarms = alarmCount(RuntimeECS, ingress, sh.ScheduleSet || sh.Idle, sh.ServeApp, sh.Autoscales)
				if sh.Idle {
					sh.Alarms += idleAlarms(sh.ServeApp)
				}
				shapes = append(shapes, pr.resolve(sh))
			}
		}
	}
	return shapes
}

// compareBase is the current workload as an ECS shape awake for the
// spec's window, without idle sleep: the ECS rows start from it.
func compareBase(current Shape) Shape {
	base := current
	base.Runtime = RuntimeECS
	if current.Runtime == RuntimeServerless {
		// A serverless spec has no task shape of its own: price the seed's.
		base.Tasks, base.CPU, base.MemoryMB, base.Arch = 1, cdkCPU, cdkMemoryMB, spec.ArchARM64
	}
	if base.Tasks < 1 {
		base.Tasks = 1
	}
	if base.Idle {
		// The spec's own awake window, without idle sleep: the rows below
		// add idle sleep themselves.
		base.Idle, base.HoursAwake, base.Schedule = false, base.WindowHours, strings.TrimSuffix(base.Schedule, idleSuffix(base))
		base.ServeApp, base.WakePerMinute, base.RatePerMinute, base.LambdaRequests = false, 0, 0, 0
	}
	return base
}

// awakeTimes are the ways an ECS shape is awake: 24/7, on the spec's
// schedule (or the default one, assumed), and, unless the profile never
// sleeps, with idle sleep.
func awakeTimes(current, base Shape) []Shape {
	always := base
	always.HoursAwake, always.Schedule, always.ScheduleSet = HoursPerMonth, "24/7", false
	scheduled := base
	if !current.ScheduleSet || current.Runtime != RuntimeECS {
		scheduled.HoursAwake = AwakeHours(defaultSchedule())
		scheduled.Schedule = defaultScheduleLabel + " (assumed)"
		scheduled.ScheduleSet = true
	}
	if current.AlwaysOn {
		// Profile ha does not sleep; a schedule is not one of its shapes.
		return []Shape{always}
	}
	return append([]Shape{always, scheduled}, idleTimes(current, base, always)...)
}

// idleTimes are the idle rows per ECS shape, serve: page and (for an image
// lowfare builds) serve: app: the spec's idle and window, or 15m idle at
// the default active hours, 24/7.
func idleTimes(current, base, always Shape) []Shape {
	idle := always
	after, active, derived := idleAssumedAfter, spec.ActiveHoursDefault, true
	if current.Idle && current.Runtime == RuntimeECS {
		idle = base
		after, active, derived = current.IdleAfter, current.ActiveHours, current.ActiveHoursDerived
	}
	times := []Shape{idle.withIdle(active, after, derived, false)}
	if current.AdapterImage {
		times = append(times, idle.withIdle(active, after, derived, true))
	}
	return times
}

// serverlessShapes are the Lambda rows, behind a function URL and behind
// an HTTP API, always ready (Lambda has no idle sleep).
func serverlessShapes(current Shape) []Shape {
	var shapes []Shape
	for _, ingress := range []string{spec.IngressURL, spec.IngressAPIGW} {
		sh := current
		sh.Runtime, sh.Ingress, sh.Spot, sh.Tasks = RuntimeServerless, ingress, false, 0
		if current.Runtime != RuntimeServerless {
			// An ECS spec's serverless rows run on arm64, Lambda's cheaper
			// rate; a serverless spec's keep its own architecture.
			sh.Arch = spec.ArchARM64
		}
		sh.HoursAwake, sh.Schedule, sh.ScheduleSet = HoursPerMonth, "24/7", false
		sh.Idle, sh.ServeApp, sh.Wakes, sh.LambdaRequests = false, false, 0, 0 // Lambda has no idle sleep
		sh.Alarms = alarmCount(RuntimeServerless, ingress, false, false, false)
		if current.Runtime != RuntimeServerless {
			sh.MemoryMB = current.MemoryMB
		}
		shapes = append(shapes, sh)
	}
	return shapes
}

// cdkReference is the AWS CDK ecs-patterns default for the same workload:
// one x86_64 task behind an ALB, 24/7.
func cdkReference(current Shape) Shape {
	ref := current
	ref.Runtime, ref.Ingress, ref.Arch, ref.Spot = RuntimeCDKReference, spec.IngressALB, spec.ArchX8664, false
	ref.Tasks, ref.CPU, ref.MemoryMB = 1, cdkCPU, cdkMemoryMB
	ref.HoursAwake, ref.Schedule, ref.ScheduleSet, ref.HostedZone = HoursPerMonth, "24/7", false, false
	ref.Idle, ref.ServeApp, ref.Wakes, ref.LambdaRequests = false, false, 0, 0
	return ref
}

// sameShape tells the spec's own row among the compared ones.
func sameShape(a, b Shape) bool {
	if a.Runtime != b.Runtime || a.Ingress != b.Ingress {
		return false
	}
	if a.Runtime == RuntimeServerless {
		return true
	}
	return a.Arch == b.Arch && a.Spot == b.Spot && a.HoursAwake == b.HoursAwake && a.Tasks == b.Tasks &&
		a.Idle == b.Idle && a.ServeApp == b.ServeApp
}

// idleSuffix is what withIdle appended to a shape's schedule label.
func idleSuffix(sh Shape) string {
	s := idleLabel(sh)
	if sh.ScheduleSet {
		return ", " + s
	}
	return s
}

// throughputNote warns when the average traffic alone needs more provisioned
// capacity than the table has: DynamoDB would throttle, whatever the bill.
func throughputNote(sh Shape, w Workload) string {
	if sh.Billing == spec.BillingOnDemand {
		return ""
	}
	hours := sh.HoursAwake
	if sh.ServeApp && sh.ActiveHours > 0 {
		// The requests arrive in the active hours, whoever answers them.
		hours = sh.ActiveHours
	}
	if sh.Runtime != RuntimeECS || hours <= 0 {
		hours = HoursPerMonth
	}
	perSecond := w.RequestsPerMonth / (hours * 3600)
	reads, writes := perSecond*readsPerRequest, perSecond*writesPerRequest
	var over []string
	if writes > float64(sh.Write) {
		over = append(over, fmt.Sprintf("%.1f writes a second on average against %d WCU", writes, sh.Write))
	}
	if reads > float64(sh.Read) {
		over = append(over, fmt.Sprintf("%.1f reads a second on average against %d RCU", reads, sh.Read))
	}
	if len(over) == 0 {
		return ""
	}
	return "DynamoDB will throttle: " + strings.Join(over, " and ") + " (upper bounds: 1 read, 2 writes a request). Raise table.read/write (beyond 25 each is billed) or use billing: on-demand."
}
