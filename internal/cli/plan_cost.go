package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/lowfare/lowfare/internal/cost"
	"github.com/lowfare/lowfare/internal/spec"
)

// writePlanCost ends 'lowfare plan' with the monthly estimate and, when it is
// over budget, the cheapest shape that fits. It prices the spec's own
// workload with the built-in table and no free tier (the honest default);
// 'lowfare cost' has the knobs.
func writePlanCost(w io.Writer, s *spec.Spec) error {
	r, err := cost.Estimate(s, cost.Options{
		FreeTier: cost.FreeTierNone,
		Workload: cost.WorkloadOf(s),
		Compare:  true,
	})
	var unknown *cost.UnknownRegionError
	if errors.As(err, &unknown) {
		// A region without prices does not make the plan wrong: say so,
		// and point at the command that takes a price table (plan has no
		// --prices flag).
		_, werr := fmt.Fprintf(w, "\nMonthly estimate: not available: %v\n  (run: lowfare cost -f <spec> --prices FILE)\n", err)
		return werr
	}
	if err != nil {
		return usageErrf("cost estimate: %v", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return err
	}
	return r.WriteSummary(w)
}
