package cli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

func newPlanCmd(opts *rootOptions) *cobra.Command {
	var file string
	c := &cobra.Command{
		Use:   "plan",
		Short: "What would be created, the warnings and the monthly bill",
		Long: `plan checks the spec and lowfare's rules and lists what the templates
would create, grouped by architecture part (network, ingress, service,
scaling, serverless, table, logs, iam, observability, budget; the registry
lives in the bootstrap stack), then the warnings, each with its cost where it has one,
then the monthly estimate. Nothing is written and AWS is not called.

A broken spec or rule exits with code 2.`,
		Example: `  lowfare plan
  lowfare plan -f examples/serverless.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, res, err := buildStack(io.Discard, opts, file)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if err := writePlan(out, s, res); err != nil {
				return err
			}
			return writePlanCost(out, s)
		},
	}
	addSpecFlag(c, &file)
	return c
}

// writePlan prints the resources by part, then the warnings.
func writePlan(w io.Writer, s *spec.Spec, res *stack.Result) error {
	fmt.Fprintf(w, "%s/%s: profile %s, ingress %s, region %s\n", s.App, s.Env, s.Profile, s.Ingress.Kind, s.Region)
	fmt.Fprintf(w, "stacks: %s (%s), %s (%s)\n",
		s.BootstrapStackName(), plural(len(res.Bootstrap.Resources), "resource"),
		s.StackName(), plural(len(res.Main.Resources), "resource"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	part := ""
	for _, e := range res.Entries {
		if e.Part != part {
			part = e.Part
			where := ""
			if e.Stack == "bootstrap" {
				where = " (bootstrap stack)"
			}
			fmt.Fprintf(tw, "\n%s%s\n", part, where)
		}
		fmt.Fprintf(tw, "  %s\t%s\n", e.Type, e.LogicalID)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nCloudWatch alarm metrics: %d (target tracking counts 2; 10 are free)\n", res.AlarmMetrics)
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
