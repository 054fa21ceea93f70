package cost

import "fmt"

// FreeTierSource says where the estimate's free-tier model came from
// (cost --format json's free_tier_source).
type FreeTierSource string

const (
	// SourceAccount: the account said (Free Tier API GetAccountPlanState).
	SourceAccount FreeTierSource = "account"
	// SourceAssumed: the model was given (--free-tier) or assumed because
	// the account could not be asked.
	SourceAssumed FreeTierSource = "assumed"
)

// TierOfPlan is the model that prices an account's plan, as
// internal/freetier names it: FREE (active or not started) draws from
// credits, LEGACY has the 12-month offers, PAID and an expired free plan
// have only the always-free allowances. ok is false for a plan it cannot
// map (UNKNOWN).
func TierOfPlan(plan, status string) (ft FreeTier, ok bool) {
	switch plan {
	case "FREE":
		if status == "EXPIRED" {
			return FreeTierNone, true
		}
		return FreeTierCredits, true
	case "LEGACY":
		return FreeTierLegacy, true
	case "PAID":
		return FreeTierNone, true
	}
	return FreeTierNone, false
}

// sourceNote is the first note: which free tier priced the bill and why.
func sourceNote(r *Report) string {
	if r.FreeTierWhy == "" {
		return ""
	}
	return fmt.Sprintf("Free tier %s (%s): %s", r.FreeTier, r.FreeTierSource, r.FreeTierWhy)
}
