package cli

import (
	"context"
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
	return planEstimateTier(s, tierChoice{tier: cost.FreeTierNone, source: cost.SourceAssumed})
}

// planAccountEstimate is planEstimate with the free tier the account says
// it has, when it can be asked (chooseFreeTier).
func planAccountEstimate(ctx context.Context, opts *rootOptions, s *spec.Spec) (*planEst, error) {
	return planEstimateTier(s, chooseFreeTier(ctx, opts, cost.FreeTierNone, false))
}

func planEstimateTier(s *spec.Spec, tc tierChoice) (*planEst, error) {
	r, err := cost.Estimate(s, cost.Options{
		FreeTier:       tc.tier,
		FreeTierSource: tc.source,
		FreeTierWhy:    tc.why,
		Workload:       cost.WorkloadOf(s),
		Compare:        true,
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

// planIdle is what plan says about service.idle: which serve mode and why,
// and with serve: app the rate at which the service wakes.
type planIdle struct {
	After  string `json:"after"`
	Serve  string `json:"serve"`
	Reason string `json:"reason"`
	// WakePerMinute is the busy alarm's threshold (serve: app): the
	// requests a minute above which one task costs less than Lambda.
	WakePerMinute float64 `json:"wake_per_minute,omitempty"`
	// WakePrices is the region whose prices gave WakePerMinute.
	WakePrices string `json:"wake_prices,omitempty"`
}

// idlePlan explains the spec's serve mode; nil without service.idle.
func idlePlan(s *spec.Spec) *planIdle {
	idle := s.Service.Idle
	if idle == nil || !s.ECS() {
		return nil
	}
	p := &planIdle{After: idle.After, Serve: idle.Serve}
	switch {
	case idle.ServesApp():
		p.Reason = "lowfare builds the image, so it carries lowfare's Lambda adapter and the same app answers on Lambda while the service sleeps"
		region := s.Region
		prices, err := price.BuiltinTable()
		if err == nil {
			rp, err := prices.Region(region)
			if err != nil {
				region, rp = "us-east-1", price.Builtin("us-east-1")
			}
			p.WakePerMinute = cost.WakePerMinute(s, rp, cost.DefaultLambdaMS)
			p.WakePrices = region
		}
	case s.HasDatabase():
		p.Reason = "the spec has a database, which a Lambda function could reach only through a NAT gateway or interface endpoints: a waking page answers while the service sleeps"
	case !s.Service.LocalPackage():
		p.Reason = fmt.Sprintf("service.image %s is an image reference: lowfare did not build it, so it cannot carry lowfare's Lambda adapter, and a waking page answers while the service sleeps", s.Service.Image)
	default:
		p.Reason = "the spec says so (service.idle.serve: page): a waking page answers while the service sleeps; serve: app would answer with the app itself on Lambda"
	}
	return p
}

// text is the plan's idle line.
func (p *planIdle) text() string {
	line := fmt.Sprintf("idle: sleeps after %s without a request; serve: %s, because %s", p.After, p.Serve, p.Reason)
	if p.WakePerMinute > 0 {
		line += fmt.Sprintf("; it wakes after %d minutes at %.0f requests a minute or more, where one task costs less than Lambda (%s prices, %g ms a request; docs/cost-model.md)",
			cost.BusyMinutes, p.WakePerMinute, p.WakePrices, cost.DefaultLambdaMS)
	}
	return line
}
