package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/ops"
	"github.com/lowfare/lowfare/internal/spec"
)

// newStatusCmd is lowfare status.
func newStatusCmd(opts *rootOptions) *cobra.Command {
	var file, format string
	var costs bool
	c := &cobra.Command{
		Use:   "status",
		Short: "Show the deployed app: stack, tasks, target health, alarms, spend, next sleep and wake",
		Long: `Show the deployed app: the stack's state, the service's desired, running and
pending tasks, load balancer target health (ingress alb), alarms in ALARM,
this month's spend against the budget beside this spec's lowfare cost
estimate (for the month and for the days so far; flagged when the forecast
is more than 20% over it), the account's free tier plan and this month's
free tier usage of the services the app uses (account-wide: the Free Tier
API does not split by app; marked at 80% of a limit by forecast), and the
next scheduled sleep and wake.

--costs adds this app's spend by service from Cost Explorer, filtered by the
lowfare:app tag. Each Cost Explorer request costs $0.01, and the tag must be
activated as a cost allocation tag first; status says both before it asks.

A part that cannot be read (a missing permission, say) is reported as
unavailable and the rest still shows.`,
		Example: `  lowfare status
  lowfare status --format json | jq .free_tier
  lowfare status --costs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usageErrf("--format %q: use text or json", format)
			}
			s, clients, err := loadOpsSpec(cmd.Context(), opts, file)
			if err != nil {
				return err
			}
			now := time.Now()
			st, err := ops.GetStatus(cmd.Context(), clients, s, now)
			if err != nil {
				return err
			}
			if costs {
				addCosts(cmd, clients, s, st, now)
			}
			if format == "json" {
				return st.WriteJSON(cmd.OutOrStdout())
			}
			return st.WriteText(cmd.OutOrStdout(), now)
		},
	}
	addSpecFlag(c, &file)
	c.Flags().StringVar(&format, "format", "text", "output format: text or json")
	c.Flags().BoolVar(&costs, "costs", false, "add this app's spend by service from Cost Explorer ($0.01 a request; needs the lowfare:app cost allocation tag active)")
	return c
}

// addCosts asks Cost Explorer for the app's spend, saying first (on
// standard error, so JSON stays clean) what the request costs and needs.
func addCosts(cmd *cobra.Command, clients *ops.Clients, s *spec.Spec, st *ops.Status, now time.Time) {
	fmt.Fprintln(cmd.ErrOrStderr(), "costs: "+ops.CostsNotice)
	c, err := ops.Costs(cmd.Context(), clients.CostExplorer, s, now)
	if err != nil {
		if st.Unavailable == nil {
			st.Unavailable = map[string]string{}
		}
		st.Unavailable["costs"] = err.Error()
		return
	}
	st.Costs = c
}

// loadOpsSpec loads the spec at file and the clients for its app: the start
// of every day-2 command that reads or changes the deployed app.
func loadOpsSpec(ctx context.Context, opts *rootOptions, file string) (*spec.Spec, *ops.Clients, error) {
	s, err := loadSpec(opts, file)
	if err != nil {
		return nil, nil, err
	}
	clients, err := opsClients(ctx, opts, s)
	if err != nil {
		return nil, nil, err
	}
	return s, clients, nil
}

// opsClients loads the AWS configuration for the app of s (--region, else
// the spec's region) and builds the clients the day-2 commands use.
func opsClients(ctx context.Context, opts *rootOptions, s *spec.Spec) (*ops.Clients, error) {
	cfg, err := specAWS(ctx, opts, s)
	if err != nil {
		return nil, err
	}
	return ops.NewClients(cfg), nil
}
