package freetier

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Plan names, as lowfare reports them (status --format json's
// free_tier.plan): the API's FREE and PAID, LEGACY for a paid account
// that still has the 12-month offers of accounts opened before
// 2025-07-15, UNKNOWN when the account could not be asked.
const (
	PlanFree    = "FREE"
	PlanPaid    = "PAID"
	PlanLegacy  = "LEGACY"
	PlanUnknown = "UNKNOWN"
)

// TwelveMonthsFree is the freeTierType of the legacy 12-month offers
// ("For example, the offer can be "12 Months Free", "Always Free", and
// "Free Trial"."):
// https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_freetier_FreeTierUsage.html
const TwelveMonthsFree = "12 Months Free"

// Plan is the account's free tier.
type Plan struct {
	Name       string
	Status     string // the API's NOT_STARTED | ACTIVE | EXPIRED ("" when not given)
	CreditsUSD *float64
	Expires    time.Time
}

// Describe is the plan in a few words: "FREE plan, ACTIVE, $87.50 of
// credits left, until 2027-01-01".
func (p Plan) Describe() string {
	parts := []string{p.Name + " plan"}
	if p.Name == PlanLegacy {
		parts = []string{"paid plan with the legacy 12-month free tier"}
	}
	if p.Status != "" {
		parts = append(parts, p.Status)
	}
	if p.CreditsUSD != nil {
		parts = append(parts, fmt.Sprintf("$%.2f of credits left", *p.CreditsUSD))
	}
	if !p.Expires.IsZero() {
		parts = append(parts, "until "+p.Expires.UTC().Format(time.DateOnly))
	}
	return strings.Join(parts, ", ")
}

// ReadPlan asks the account which free tier it has: GetAccountPlanState,
// and for a paid account whether any 12-month offer is still listed
// (GetFreeTierUsage filtered on FREE_TIER_TYPE), which is what tells a
// legacy account from one without a free tier.
func ReadPlan(ctx context.Context, c *Client) (Plan, error) {
	st, err := c.GetAccountPlanState(ctx)
	if err != nil {
		return Plan{Name: PlanUnknown}, err
	}
	p := Plan{Name: st.PlanType, Status: st.PlanStatus}
	if st.RemainingCredits != nil {
		v := st.RemainingCredits.Amount
		p.CreditsUSD = &v
	}
	if st.ExpirationDate != nil {
		p.Expires = st.ExpirationDate.Time
	}
	switch p.Name {
	case PlanFree:
		return p, nil
	case PlanPaid:
	default:
		return Plan{Name: PlanUnknown, Status: p.Status}, fmt.Errorf("the Free Tier API answered plan type %q, which lowfare does not know", st.PlanType)
	}
	legacy, err := c.GetFreeTierUsage(ctx, &Expression{Dimensions: &DimensionValues{
		Key: "FREE_TIER_TYPE", Values: []string{TwelveMonthsFree}, MatchOptions: []string{"EQUALS"}}})
	if err != nil {
		// The plan is known; only the legacy question is open. Paid
		// without a free tier is the conservative answer (a higher bill).
		return p, nil
	}
	if len(legacy) > 0 {
		p.Name = PlanLegacy
	}
	return p, nil
}
