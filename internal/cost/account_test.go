package cost

import (
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/spec"
)

func TestTierOfPlan(t *testing.T) {
	for _, c := range []struct {
		plan, status string
		want         FreeTier
		ok           bool
	}{
		{"FREE", "ACTIVE", FreeTierCredits, true},
		{"FREE", "NOT_STARTED", FreeTierCredits, true},
		{"FREE", "EXPIRED", FreeTierNone, true},
		{"LEGACY", "ACTIVE", FreeTierLegacy, true},
		{"PAID", "ACTIVE", FreeTierNone, true},
		{"UNKNOWN", "", FreeTierNone, false},
	} {
		got, ok := TierOfPlan(c.plan, c.status)
		if got != c.want || ok != c.ok {
			t.Errorf("TierOfPlan(%s, %s) = %s, %v; want %s, %v", c.plan, c.status, got, ok, c.want, c.ok)
		}
	}
}

// The account's plan decides the bill: a legacy account has the ALB's
// 750 free hours, a free-plan account pays list prices out of credits;
// the report says which and where it came from.
func TestAccountTierChangesTheTotal(t *testing.T) {
	s := spec.Default()
	estimate := func(ft FreeTier, why string) *Report {
		t.Helper()
		r, err := Estimate(s, Options{FreeTier: ft, Workload: WorkloadOf(s), FreeTierSource: SourceAccount, FreeTierWhy: why})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	free := estimate(FreeTierCredits, "the account is on the FREE plan")
	legacy := estimate(FreeTierLegacy, "the account has the legacy 12-month free tier")
	if legacy.TotalUSD >= free.TotalUSD-10 {
		t.Errorf("legacy $%.2f, free plan $%.2f: want legacy lower by the ALB's free hours", legacy.TotalUSD, free.TotalUSD)
	}
	for _, r := range []*Report{free, legacy} {
		if r.FreeTierSource != SourceAccount || !strings.HasPrefix(r.Notes[0], "Free tier "+string(r.FreeTier)+" (account): ") {
			t.Errorf("%s: source %q, first note %q", r.FreeTier, r.FreeTierSource, r.Notes[0])
		}
	}
	// Without a source the model is assumed, and no source note is added.
	r, err := Estimate(s, Options{FreeTier: FreeTierNone, Workload: WorkloadOf(s)})
	if err != nil {
		t.Fatal(err)
	}
	if r.FreeTierSource != SourceAssumed || strings.Contains(r.Notes[0], "(assumed)") {
		t.Errorf("default: source %q, first note %q", r.FreeTierSource, r.Notes[0])
	}
}
