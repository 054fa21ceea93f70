package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/deploy/preflight"
	"github.com/lowfare/lowfare/internal/release"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

func newPlanCmd(opts *rootOptions) *cobra.Command {
	var file, format string
	var check bool
	c := &cobra.Command{
		Use:   "plan",
		Short: "What would be created, the warnings and the monthly bill",
		Long: `plan checks the spec and lowfare's rules and lists what the templates
would create, grouped by architecture part (network, ingress, service,
scaling, serverless, table, logs, iam, observability, budget; the registry
lives in the bootstrap stack), then the warnings, each with its cost where it has one,
then the monthly estimate. Nothing is written; with AWS credentials the
account is asked, read-only, which free tier it has (see lowfare cost).

The warnings include an estimate over budget.monthly_usd, placeholder email
addresses, and a service.image path that is not a buildable Go main package.
--format json prints the same as one JSON object.

--check also asks AWS, read-only, what deploy checks before it changes
anything (hosted zone, certificate, secrets, the ECS service-linked role,
names owned by other stacks, an ECR image); each problem is one line, exit 1.

A broken spec or rule exits with code 2.`,
		Example: `  lowfare plan
  lowfare plan -f examples/serverless.yaml
  lowfare plan --format json | jq .warnings
  lowfare plan --check`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usageErrf("--format %q: want text or json", format)
			}
			s, res, err := buildStack(io.Discard, opts, file)
			if err != nil {
				return err
			}
			est, err := planAccountEstimate(cmd.Context(), opts, s)
			if err != nil {
				return err
			}
			res.Warnings = append(res.Warnings, budgetWarning(est.report)...)
			out := cmd.OutOrStdout()
			if format == "json" {
				if err := writePlanJSON(out, s, res, est); err != nil || !check {
					return err
				}
				if err := imageError(file, s); err != nil {
					return err
				}
				return planCheck(cmd.Context(), opts, s, res, cmd.ErrOrStderr())
			}
			if err := writePlan(out, s, res); err != nil {
				return err
			}
			if err := est.writeText(out, file); err != nil || !check {
				return err
			}
			if err := imageError(file, s); err != nil {
				return err // deploy would refuse it before asking AWS
			}
			return planCheck(cmd.Context(), opts, s, res, out)
		},
	}
	addSpecFlag(c, &file)
	c.Flags().BoolVar(&check, "check", false, "also check the account, read-only, as deploy does first (zone, certificate, secrets, names, image)")
	c.Flags().StringVar(&format, "format", "text", "output: text | json")
	return c
}

// writePlan prints the resources by part, then the warnings.
func writePlan(w io.Writer, s *spec.Spec, res *stack.Result) error {
	fmt.Fprintf(w, "%s/%s: profile %s, ingress %s, region %s\n", s.App, s.Env, s.Profile, s.Ingress.Kind, s.Region)
	if res.Bootstrap != nil {
		fmt.Fprintf(w, "stacks: %s (%s), %s (%s)\n",
			s.BootstrapStackName(), plural(len(res.Bootstrap.Resources), "resource"),
			s.StackName(), plural(len(res.Main.Resources), "resource"))
	} else {
		fmt.Fprintf(w, "stacks: %s (%s); no bootstrap stack: service.image %s runs from its own registry, so no ECR repository is made\n",
			s.StackName(), plural(len(res.Main.Resources), "resource"), s.Service.Image)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	part := ""
	for _, e := range res.Entries {
		if e.Part != part {
			part = e.Part
			where := ""
			if e.Stack == "bootstrap" {
				where = " (bootstrap stack)"
			}
			if note := stack.PartNote(part); note != "" {
				where += " (" + note + ")"
			}
			fmt.Fprintf(tw, "\n%s%s\n", part, where)
		}
		fmt.Fprintf(tw, "  %s\t%s\n", e.Type, e.LogicalID)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s\n", taskPlan(s).Text)
	fmt.Fprintf(w, "container health check: %s\n", stack.HealthCheckSummary(s))
	if idle := idlePlan(s); idle != nil {
		fmt.Fprintln(w, idle.text())
	}
	if l := lambdaPlan(s); l != nil {
		fmt.Fprintln(w, l.text())
	}
	if db := stack.DatabaseSummary(s); db != "" {
		fmt.Fprintln(w, db)
	}
	fmt.Fprintf(w, "CloudWatch alarm metrics: %d (%s10 are free)\n", res.AlarmMetrics, targetTrackingNote(res))
	if len(res.Warnings) == 0 {
		_, err := fmt.Fprintln(w, "\nWarnings: none")
		return err
	}
	fmt.Fprintln(w, "\nWarnings:")
	for _, warning := range res.Warnings {
		fmt.Fprintln(w, "  -", warning)
	}
	return nil
}

// targetTrackingNote explains the alarm count only where the stack has a
// target-tracking policy (its two alarms count); a serverless stack has none.
func targetTrackingNote(res *stack.Result) string {
	for _, e := range res.Entries {
		if e.Type == "AWS::ApplicationAutoScaling::ScalingPolicy" {
			return "target tracking counts 2; "
		}
	}
	return ""
}

// planJSON is plan --format json. Field names are a contract: scripts read them.
type planJSON struct {
	App          string          `json:"app"`
	Env          string          `json:"env"`
	Profile      string          `json:"profile"`
	Ingress      string          `json:"ingress"`
	Region       string          `json:"region"`
	Stacks       []planStack     `json:"stacks"`
	Resources    []planResource  `json:"resources"`
	AlarmMetrics int             `json:"alarm_metrics"`
	Task         *planTask       `json:"task"`
	Idle         *planIdle       `json:"idle,omitempty"` // service.idle: the serve mode and why
	Lambda       *planLambda     `json:"lambda,omitempty"`
	Warnings     []planWarning   `json:"warnings"`
	Estimate     json.RawMessage `json:"estimate"`                // lowfare cost --format json; null when not available
	EstimateNote string          `json:"estimate_note,omitempty"` // why there is no estimate
}

type planStack struct {
	Name      string `json:"name"`
	Role      string `json:"role"` // bootstrap | main
	Resources int    `json:"resources"`
}

type planResource struct {
	Stack     string `json:"stack"`
	Part      string `json:"part"`
	LogicalID string `json:"logical_id"`
	Type      string `json:"type"`
}

type planWarning struct {
	Part       string  `json:"part"`
	Message    string  `json:"message"`
	MonthlyUSD float64 `json:"monthly_usd,omitempty"`
}

func writePlanJSON(w io.Writer, s *spec.Spec, res *stack.Result, est *planEst) error {
	out := planJSON{
		App: s.App, Env: s.Env, Profile: s.Profile, Ingress: s.Ingress.Kind, Region: s.Region,
		Stacks:       []planStack{{s.StackName(), "main", len(res.Main.Resources)}},
		Resources:    []planResource{},
		AlarmMetrics: res.AlarmMetrics,
		Task:         taskPlan(s),
		Idle:         idlePlan(s),
		Lambda:       lambdaPlan(s),
		Warnings:     []planWarning{},
		Estimate:     json.RawMessage("null"),
	}
	if res.Bootstrap != nil {
		out.Stacks = append([]planStack{{s.BootstrapStackName(), "bootstrap", len(res.Bootstrap.Resources)}}, out.Stacks...)
	}
	for _, e := range res.Entries {
		out.Resources = append(out.Resources, planResource{e.Stack, e.Part, e.LogicalID, e.Type})
	}
	for _, x := range res.Warnings {
		out.Warnings = append(out.Warnings, planWarning{x.Part, x.Message, x.MonthlyUSD})
	}
	if est.report != nil {
		var b bytes.Buffer
		if err := est.report.WriteJSON(&b); err != nil {
			return err
		}
		out.Estimate = bytes.TrimSpace(b.Bytes())
	} else {
		out.EstimateNote = est.unavailable
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// planCheck runs deploy's preflight, read-only, and prints its outcome.
func planCheck(ctx context.Context, opts *rootOptions, s *spec.Spec, res *stack.Result, w io.Writer) error {
	var boot []byte
	if res.Bootstrap != nil {
		var err error
		if boot, err = json.Marshal(res.Bootstrap); err != nil {
			return err
		}
	}
	main, err := json.Marshal(res.Main)
	if err != nil {
		return err
	}
	cfg, err := specAWS(ctx, opts, s)
	if err != nil {
		return err
	}
	r := preflight.Check(ctx, awsconf.NewClients(cfg), s, release.PreflightStacks(s, boot, main))
	fmt.Fprintf(w, "\nChecks against AWS (%s, read-only):\n", cfg.Region)
	for _, n := range r.Notes {
		fmt.Fprintln(w, "  note:", n)
	}
	if err := r.Err(); err != nil {
		return preflightExit(err)
	}
	fmt.Fprintln(w, "  ok: nothing a deploy would trip over")
	return nil
}
