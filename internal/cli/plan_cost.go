package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/lowfare/lowfare/internal/cost"
	"github.com/lowfare/lowfare/internal/price"
	"github.com/lowfare/lowfare/internal/spec"
)

// planEst is the plan's monthly estimate, or why there is none.
type planEst struct {
	report      *cost.Report
	unavailable string
}

// planEstimate prices the spec's own workload with the built-in table and
// no free tier (the honest default); 'lowfare cost' has the knobs.
func planEstimate(s *spec.Spec) (*planEst, error) {
	r, err := cost.Estimate(s, cost.Options{
		FreeTier: cost.FreeTierNone,
		Workload: cost.WorkloadOf(s),
		Compare:  true,
	})
	var unknown *price.UnknownRegionError
	if errors.As(err, &unknown) {
		// A region without prices does not make the plan wrong: say so.
		return &planEst{unavailable: fmt.Sprintf("the built-in price table has no prices for %s (it has %s)", unknown.Region, joinList(unknown.Supported))}, nil
	}
	if err != nil {
		return nil, usageErrf("cost estimate: %v", err)
	}
	return &planEst{report: r}, nil
}

// writeText ends 'lowfare plan' with the monthly estimate and, when it is
// over budget, the cheapest shape that fits.
func (e *planEst) writeText(w io.Writer, file string) error {
	if e.report == nil {
		// plan has no --prices flag: point at the command that takes one,
		// with this spec's path and a way to get a table to start from.
		_, err := fmt.Fprintf(w, "\nMonthly estimate: not available: %s.\n  To price it: lowfare cost --print-prices > prices.json, add the region's prices, then\n  lowfare cost -f %s --prices prices.json\n", e.unavailable, file)
		return err
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return err
	}
	return e.report.WriteSummary(w)
}

// joinList is "a, b and c".
func joinList(items []string) string {
	switch len(items) {
	case 0:
		return "none"
	case 1:
		return items[0]
	}
	out := ""
	for i, it := range items[:len(items)-1] {
		if i > 0 {
			out += ", "
		}
		out += it
	}
	return out + " and " + items[len(items)-1]
}
