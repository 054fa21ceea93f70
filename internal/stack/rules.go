package stack

import (
	"fmt"
	"maps"
	"slices"
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

// Check applies the rules: errors (a *RulesError) for what AWS would refuse
// or what cannot work, warnings for what works but costs money or is
// probably not what was meant.
func Check(s *spec.Spec) ([]Warning, error) {
	var errs []Problem
	bad := func(field, format string, args ...any) {
		errs = append(errs, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	var warnings []Warning
	warn := func(part string, usd float64, format string, args ...any) {
		warnings = append(warnings, Warning{Part: part, Message: fmt.Sprintf(format, args...), MonthlyUSD: usd})
	}
	svc := s.Service

	switch s.Profile {
	case spec.ProfileFree, spec.ProfileHA:
		if s.Ingress.Kind != spec.IngressALB && s.Ingress.Kind != spec.IngressAPIGW {
			bad("ingress.kind", "%q does not work with profile %s; use alb or apigw", s.Ingress.Kind, s.Profile)
		}
		if !fargateSizeOK(svc.CPU, svc.Memory) {
			bad("service.memory", "Fargate has no size with cpu %d and memory %d MiB; %s", svc.CPU, svc.Memory, fargateHint(svc.CPU))
		}
		if svc.Spot && svc.Arch == spec.ArchARM64 {
			bad("service.spot", "Fargate Spot has no arm64 capacity; set arch: x86_64 or spot: false")
		}
		if svc.Count.Max < 1 || svc.Count.Min < 0 || svc.Count.Min > svc.Count.Max || svc.Count.Desired < svc.Count.Min || svc.Count.Desired > svc.Count.Max {
			bad("service.count", "want 0 <= min <= desired <= max and max >= 1, got desired %d, min %d, max %d", svc.Count.Desired, svc.Count.Min, svc.Count.Max)
		}
		if svc.Scaling.CPUTarget < 1 || svc.Scaling.CPUTarget > 100 {
			bad("service.scaling.cpu_target", "%d is not a CPU percentage; use 1-100", svc.Scaling.CPUTarget)
		}
		checkHealth(svc.Health, bad)
		if svc.Schedule != nil {
			if s.Profile == spec.ProfileHA {
				bad("service.schedule", "profile ha never sleeps; remove the schedule or use profile free")
			} else if _, err := svc.Schedule.Parse(); err != nil {
				bad("service.schedule", "%v", err)
			}
		}
	case spec.ProfileServerless:
		if s.Ingress.Kind != spec.IngressURL && s.Ingress.Kind != spec.IngressAPIGW {
			bad("ingress.kind", "%q does not work with profile serverless; use url or apigw", s.Ingress.Kind)
		}
		if svc.Memory < 128 || svc.Memory > 10240 {
			bad("service.memory", "Lambda takes 128 to 10240 MiB, got %d", svc.Memory)
		}
		if svc.Timeout < 1 || svc.Timeout > 900 {
			bad("service.timeout", "Lambda takes 1 to 900 seconds, got %d", svc.Timeout)
		}
		if svc.Schedule != nil {
			bad("service.schedule", "a Lambda function costs nothing between requests; remove the schedule")
		}
		if svc.Spot {
			bad("service.spot", "Fargate Spot does not apply to profile serverless; remove spot")
		}
		envBytes := 0
		for _, k := range slices.Sorted(maps.Keys(svc.Env)) {
			envBytes += len(k) + len(svc.Env[k])
			if strings.HasPrefix(k, "AWS_") || k == "SSM_PARAMETER_PREFIX" || k == "LOWFARE_SECRETS" {
				bad("service.env."+k, "Lambda reserves this name; rename the variable")
			}
		}
		if envBytes > 4096 {
			bad("service.env", "%d bytes: Lambda takes at most 4 KB of environment variables", envBytes)
		}
		if len(svc.Secrets) > 0 && !svc.LocalPackage() {
			// Images lowfare builds start at its Lambda adapter, which reads
			// the secrets into the app's environment; another image must.
			warn(PartServerless, 0, "Lambda cannot inject SSM SecureString parameters as environment variables, and service.image is not built by lowfare (no Lambda adapter): the function gets SSM_PARAMETER_PREFIX=%s and LOWFARE_SECRETS=%s and must read them itself", s.SecretPrefix(), strings.Join(svc.Secrets, ","))
		}
	default:
		bad("profile", "%q is not a profile; use free, ha or serverless", s.Profile)
	}
	if svc.Arch != spec.ArchARM64 && svc.Arch != spec.ArchX8664 {
		bad("service.arch", "%q is not an architecture; use arm64 or x86_64", svc.Arch)
	}
	if svc.Port < 1 || svc.Port > 65535 {
		bad("service.port", "%d is not a TCP port; use 1-65535", svc.Port)
	}
	for _, name := range svc.Secrets {
		if _, clash := svc.Env[name]; clash {
			bad("service.secrets", "%s is also in service.env; a variable is either plain or secret", name)
		}
	}
	if _, clash := svc.Env["TABLE_NAME"]; clash {
		bad("service.env.TABLE_NAME", "lowfare sets TABLE_NAME to the stack's table; remove it")
	}
	if !retentionOK(s.Logs.RetentionDays) {
		bad("logs.retention_days", "CloudWatch Logs does not accept %d days; use one of %s", s.Logs.RetentionDays, retentionList())
	}
	switch s.Table.Billing {
	case spec.BillingProvisioned:
		if s.Table.Read < 1 || s.Table.Write < 1 {
			bad("table", "provisioned capacity needs read and write >= 1, got read %d, write %d", s.Table.Read, s.Table.Write)
		}
		rcu, wcu := 2*s.Table.Read, 2*s.Table.Write // the table and GSI1
		if rcu > freeRCU || wcu > freeWCU {
			p := price.Builtin(s.Region)
			usd := (float64(max(0, rcu-freeRCU))*p.DynamoDBRCUHour.USD + float64(max(0, wcu-freeWCU))*p.DynamoDBWCUHour.USD) * price.HoursPerMonth
			warn(PartTable, usd, "provisioned %d RCU / %d WCU (table and GSI1 together) is beyond the always-free 25 RCU / 25 WCU", rcu, wcu)
		}
	case spec.BillingOnDemand:
	default:
		bad("table.billing", "%q is not a billing mode; use provisioned or on-demand", s.Table.Billing)
	}
	if s.Budget.MonthlyUSD <= 0 {
		bad("budget.monthly_usd", "a budget needs a positive amount, got %g", s.Budget.MonthlyUSD)
	}
	for i, p := range s.Budget.AlertPercent {
		if p < 1 || p > 1000 {
			bad(fmt.Sprintf("budget.alert_percent[%d]", i), "%d is not a useful percentage; use 1-1000", p)
		}
	}
	if len(s.Budget.Emails) > 10 {
		bad("budget.emails", "AWS Budgets notifies at most 10 email addresses, got %d", len(s.Budget.Emails))
	}

	checkTags(s.Tags, bad)

	// TLS: asked for (a domain or a zone) but impossible without both, or a
	// certificate.
	in := s.Ingress
	if (in.Domain != "" || in.HostedZoneID != "") && !in.TLS() {
		warn(PartIngress, 0, "TLS needs certificate_arn, or domain with hosted_zone_id; traffic stays HTTP on the generated address")
	}
	if in.Domain != "" && s.Profile == spec.ProfileServerless && in.Kind == spec.IngressURL {
		warn(PartIngress, 0, "a Lambda function URL cannot take a custom domain; use ingress kind apigw for %s", in.Domain)
	}
	if in.CertificateARN != "" && in.Domain == "" && in.Kind == spec.IngressAPIGW {
		warn(PartIngress, 0, "an HTTP API custom domain needs domain with the certificate; the API stays on its execute-api address")
	}
	if pinsVpcLinkZones(s) {
		if _, ok := vpcLinkZones[s.Region]; !ok {
			bad("ingress.kind", "API Gateway has no VPC links for HTTP APIs in two Availability Zones of %s (it has them in %s); use ingress kind alb, or profile serverless", s.Region, strings.Join(VpcLinkRegions(), ", "))
		}
	}
	errs = append(errs, nameProblems(s)...)
	if len(errs) > 0 {
		return nil, &RulesError{Problems: errs}
	}
	return warnings, nil
}

// checkTags applies the tag limits every taggable resource type shares
// (some, such as ECR, also refuse empty values).
func checkTags(tags map[string]string, bad func(field, format string, args ...any)) {
	if len(tags) > 48 {
		bad("tags", "%d tags: AWS allows 50 per resource and lowfare adds 2", len(tags))
	}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		v := tags[k]
		field := "tags." + k
		switch {
		case k == "" || len(k) > 128:
			bad(field, "a tag key has 1 to 128 characters")
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			bad(field, "tag keys starting with aws: are reserved by AWS")
		case k == TagApp || k == TagEnv:
			bad(field, "lowfare sets %s itself; remove it", k)
		}
		if v == "" || len(v) > 256 {
			bad(field, "a tag value has 1 to 256 characters (some resources refuse empty values)")
		}
	}
}

func checkHealth(h spec.Health, bad func(field, format string, args ...any)) {
	if h.Timeout >= h.Interval {
		bad("service.health.timeout", "the timeout (%d s) must be below the interval (%d s)", h.Timeout, h.Interval)
	}
	if h.Interval < 5 || h.Interval > 300 {
		bad("service.health.interval", "%d s is outside the 5-300 s health checks accept", h.Interval)
	}
	if h.Timeout < 2 || h.Timeout > 60 {
		bad("service.health.timeout", "%d s is outside the 2-60 s health checks accept", h.Timeout)
	}
	if h.Healthy < 2 || h.Healthy > 10 {
		bad("service.health.healthy", "%d is outside the 2-10 checks a target group accepts", h.Healthy)
	}
	if h.Unhealthy < 2 || h.Unhealthy > 10 {
		bad("service.health.unhealthy", "%d is outside the 2-10 checks a target group accepts", h.Unhealthy)
	}
	if h.Grace < 0 || h.Grace > 300 {
		bad("service.health.grace", "%d s is outside the 0-300 s a container health check start period accepts", h.Grace)
	}
	if !strings.HasPrefix(h.Path, "/") {
		bad("service.health.path", "%q must start with /", h.Path)
	}
}

func fargateSizeOK(cpu, mem int) bool {
	return slices.Contains(spec.FargateMemory(cpu), mem)
}

func fargateHint(cpu int) string {
	sizes := spec.FargateMemory(cpu)
	switch {
	case sizes == nil:
		return "cpu must be one of 256, 512, 1024, 2048, 4096, 8192, 16384"
	case cpu == 256:
		return "cpu 256 takes 512, 1024 or 2048"
	}
	return fmt.Sprintf("cpu %d takes %d to %d in steps of %d", cpu, sizes[0], sizes[len(sizes)-1], sizes[1]-sizes[0])
}

func retentionOK(days int) bool {
	return slices.Contains(spec.RetentionDays(), days)
}

func retentionList() string {
	days := spec.RetentionDays()
	parts := make([]string, len(days))
	for i, d := range days {
		parts[i] = fmt.Sprint(d)
	}
	return strings.Join(parts, ", ")
}
