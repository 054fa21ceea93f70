package ops

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/lowfare/lowfare/internal/cost"
	"github.com/lowfare/lowfare/internal/freetier"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// WarnShare is the share of a free tier limit, by this month's forecast,
// at which status marks the row and the daily check emails: 80%, the
// brief's threshold.
const WarnShare = stack.FreeTierWarnShare

// OverEstimateShare is how far the budget's forecast may exceed the
// estimate before status says so: 20% over.
const OverEstimateShare = 1.2

// FreeTierStatus is the account's free tier plan and this month's use of
// the offers the app's services have (status --format json's free_tier).
// The usage is account-wide: the Free Tier API does not split it by app.
type FreeTierStatus struct {
	Plan                string          `json:"plan"` // FREE | PAID | LEGACY | UNKNOWN
	CreditsRemainingUSD *float64        `json:"credits_remaining_usd,omitempty"`
	Usage               []FreeTierUsage `json:"usage"`

	status string // the API's plan status: an expired free plan prices as none
}

// FreeTierUsage is one offer's row.
type FreeTierUsage struct {
	Service     string  `json:"service"`
	UsageType   string  `json:"usage_type"`
	Description string  `json:"description"`
	Used        float64 `json:"used"`
	Forecast    float64 `json:"forecast"`
	Limit       float64 `json:"limit"`
	Unit        string  `json:"unit"`
	// Warn is true when the forecast reaches WarnShare of the limit.
	Warn bool `json:"warn"`
}

// EstimateStatus is this spec's lowfare cost estimate beside the bill
// (status --format json's estimate): the whole month, and the share of it
// the days so far account for.
type EstimateStatus struct {
	MonthUSD       float64 `json:"month_usd"`
	MonthToDateUSD float64 `json:"month_to_date_usd"`

	freeTier cost.FreeTier // the model it was priced with
}

// Forecasts reports whether a free tier row warns: its forecast at or
// above WarnShare of a positive limit.
func Forecasts(forecast, limit float64) bool {
	return limit > 0 && forecast >= WarnShare*limit
}

// UsageFor keeps the rows of the services in keys, in the API's order,
// with Warn set.
func UsageFor(rows []freetier.Usage, keys []string) []FreeTierUsage {
	out := []FreeTierUsage{}
	for _, u := range rows {
		if !stack.FreeTierServiceIn(u.Service, keys) {
			continue
		}
		out = append(out, FreeTierUsage{
			Service: u.Service, UsageType: u.UsageType, Description: u.Description,
			Used: u.Actual, Forecast: u.Forecast, Limit: u.Limit, Unit: u.Unit,
			Warn: Forecasts(u.Forecast, u.Limit),
		})
	}
	return out
}

// freeTierStatus reads the plan and the usage rows; a plan the API will
// not give (denied, not found) leaves UNKNOWN and the usage still shows.
func freeTierStatus(ctx context.Context, c *freetier.Client, s *spec.Spec) (*FreeTierStatus, error) {
	plan, planErr := freetier.ReadPlan(ctx, c)
	rows, err := c.GetFreeTierUsage(ctx, nil)
	if err != nil {
		if planErr != nil {
			return nil, fmt.Errorf("reading the account's free tier (Free Tier API, us-east-1; needs freetier:GetAccountPlanState and freetier:GetFreeTierUsage): %w", err)
		}
		return nil, fmt.Errorf("reading free tier usage (Free Tier API, us-east-1; needs freetier:GetFreeTierUsage): %w", err)
	}
	return &FreeTierStatus{Plan: plan.Name, CreditsRemainingUSD: plan.CreditsUSD, Usage: UsageFor(rows, stack.FreeTierServices(s)), status: plan.Status}, nil
}

// estimateStatus prices s as lowfare cost does (the spec's workload, the
// built-in prices) with the free tier plan says the account has, and
// prorates it to now: the share of the month's hours gone.
func estimateStatus(s *spec.Spec, plan, status string, now time.Time) (*EstimateStatus, error) {
	ft, _ := cost.TierOfPlan(plan, status)
	r, err := cost.Estimate(s, cost.Options{FreeTier: ft, Workload: cost.WorkloadOf(s)})
	if err != nil {
		return nil, fmt.Errorf("estimating the month (lowfare cost): %w", err)
	}
	return &EstimateStatus{MonthUSD: round2(r.TotalUSD), MonthToDateUSD: round2(r.TotalUSD * MonthElapsed(now)), freeTier: ft}, nil
}

// MonthElapsed is the share of now's calendar month (UTC, as AWS bills)
// that has gone.
func MonthElapsed(now time.Time) float64 {
	now = now.UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 1, 0)
	return now.Sub(start).Hours() / end.Sub(start).Hours()
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// ForecastOverEstimate reports whether the budget's forecast exceeds the
// estimate by more than OverEstimateShare allows.
func (st *Status) ForecastOverEstimate() bool {
	return st.Budget != nil && st.Estimate != nil && st.Budget.Forecasted > OverEstimateShare*st.Estimate.MonthUSD
}

// textEstimate is the estimate beside the bill.
func (st *Status) textEstimate(p linePrinter) {
	e := st.Estimate
	if e == nil {
		return
	}
	line := fmt.Sprintf("$%.2f a month by lowfare cost (free tier %s), $%.2f of it by now", e.MonthUSD, e.freeTier, e.MonthToDateUSD)
	if b := st.Budget; b != nil {
		line += fmt.Sprintf("; spent $%.2f, forecast $%.2f", b.Actual, b.Forecasted)
		if st.ForecastOverEstimate() {
			line += fmt.Sprintf(": the forecast is %.0f%% over the estimate; the spec's workload: section or its prices may be off (lowfare status --costs shows spend by service)",
				100*(b.Forecasted/e.MonthUSD-1))
		}
	}
	p("estimate", "%s", line)
}

// textFreeTier is the plan and one line per offer, with a mark at WarnShare.
func (st *Status) textFreeTier(p linePrinter) {
	ft := st.FreeTier
	if ft == nil {
		return
	}
	plan := ft.Plan + " plan"
	if ft.CreditsRemainingUSD != nil {
		plan += fmt.Sprintf(", $%.2f of credits left", *ft.CreditsRemainingUSD)
	}
	p("free tier", "%s; usage is account-wide (all apps and regions), this month", plan)
	if len(ft.Usage) == 0 {
		p("", "no free tier offers listed for the services this app uses")
	}
	for _, u := range ft.Usage {
		mark := ""
		if u.Warn {
			mark = fmt.Sprintf("  ! forecast at %.0f%% of the limit", 100*u.Forecast/u.Limit)
		}
		p("", "%s %s: %g of %g %s used, forecast %g%s", u.Service, u.UsageType, u.Used, u.Limit, u.Unit, u.Forecast, mark)
	}
}
