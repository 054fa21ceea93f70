package stack

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lowfare/lowfare/internal/price"
	"github.com/lowfare/lowfare/internal/spec"
)

// Problem is one rule a spec breaks, against the field path it comes from.
type Problem struct {
	Field   string // e.g. service.memory
	Message string // what is wrong and what to do
}

func (p Problem) String() string { return p.Field + ": " + p.Message }

// RulesError lists every rule a spec breaks. Nothing is built.
type RulesError struct {
	Problems []Problem
}

func (e *RulesError) Error() string {
	lines := make([]string, 0, len(e.Problems)+1)
	lines = append(lines, fmt.Sprintf("the spec breaks %d rule(s) AWS or lowfare would refuse:", len(e.Problems)))
	for _, p := range e.Problems {
		lines = append(lines, "  "+p.String())
	}
	return strings.Join(lines, "\n")
}

// The free allowances behind the warnings; their prices come from the
// built-in price table (internal/price) for the spec's region.
const (
	freeRCU          = int(price.FreeDynamoDBRCU)
	freeWCU          = int(price.FreeDynamoDBWCU)
	freeAlarmMetrics = int(price.FreeAlarms)
)

// Check judges a spec before anything is built: errors (a *RulesError) for
// what AWS would refuse or what cannot work, warnings for what works but
// costs money or needs the app's help.
//
// The rules about the spec's fields live in spec, written once: the loader
// reports them with their position in the file, and Check applies the same
// rules (spec.Validate) to a Spec that did not come through the loader, in
// the same words. Check adds only what exists at the template level: the
// names derived from app and env, and the per-region facts of the
// templates (VPC link zones).
func Check(s *spec.Spec) ([]Warning, error) {
	errs := specProblems(s)
	errs = append(errs, templateProblems(s, errs)...)
	if len(errs) > 0 {
		return nil, &RulesError{Problems: errs}
	}
	return warnings(s), nil
}

// specProblems are the spec's own rules, as spec.Validate reports them.
func specProblems(s *spec.Spec) []Problem {
	err := spec.Validate(s)
	if err == nil {
		return nil
	}
	var probs *spec.Problems
	if !errors.As(err, &probs) {
		return []Problem{{Message: err.Error()}}
	}
	out := make([]Problem, len(probs.List))
	for i, p := range probs.List {
		out[i] = Problem{Field: p.Path, Message: p.Msg}
	}
	return out
}

// templateProblems are the rules only the templates know: derived names
// AWS would refuse, and an HTTP API's VPC link in a region without two
// zones for it (unless the region itself is already refused in specErrs).
func templateProblems(s *spec.Spec, specErrs []Problem) []Problem {
	out := nameProblems(s)
	regionBad := false
	for _, p := range specErrs {
		regionBad = regionBad || p.Field == "region"
	}
	if _, ok := vpcLinkZones[s.Region]; pinsVpcLinkZones(s) && !ok && !regionBad {
		out = append(out, Problem{
			Field:   "ingress.kind",
			Message: fmt.Sprintf("API Gateway has no VPC links for HTTP APIs in two Availability Zones of %s (it has them in %s); use ingress kind alb, or profile serverless", s.Region, strings.Join(VpcLinkRegions(), ", ")),
		})
	}
	return out
}

// warnings are what a valid spec costs beyond the free tier, or leaves to
// the app.
func warnings(s *spec.Spec) []Warning {
	var out []Warning
	if t := s.Table; t.Billing == spec.BillingProvisioned {
		rcu, wcu := 2*t.Read, 2*t.Write // the table and GSI1
		if rcu > freeRCU || wcu > freeWCU {
			p := price.Builtin(s.Region)
			usd := (float64(max(0, rcu-freeRCU))*p.DynamoDBRCUHour.USD + float64(max(0, wcu-freeWCU))*p.DynamoDBWCUHour.USD) * price.HoursPerMonth
			out = append(out, Warning{Part: PartTable, MonthlyUSD: usd,
				Message: fmt.Sprintf("provisioned %d RCU / %d WCU (table and GSI1 together) is beyond the always-free %d RCU / %d WCU", rcu, wcu, freeRCU, freeWCU)})
		}
	}
	if svc := s.Service; !s.ECS() && len(svc.Secrets) > 0 && !svc.LocalPackage() {
		// Images lowfare builds start at its Lambda adapter, which reads
		// the secrets into the app's environment; another image must.
		out = append(out, Warning{Part: PartServerless,
			Message: fmt.Sprintf("Lambda cannot inject SSM SecureString parameters as environment variables, and service.image is not built by lowfare (no Lambda adapter): the function gets SSM_PARAMETER_PREFIX=%s and LOWFARE_SECRETS=%s and must read them itself", s.SecretPrefix(), strings.Join(svc.Secrets, ","))})
	}
	return out
}
