package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/ops"
	"github.com/lowfare/lowfare/internal/spec"
)

// newStatusCmd is lowfare status.
func newStatusCmd(opts *rootOptions) *cobra.Command {
	var file, format string
	c := &cobra.Command{
		Use:   "status",
		Short: "Show the deployed app: stack, tasks, target health, alarms, spend, next sleep and wake",
		Long: `Show the deployed app: the stack's state, the service's desired, running and
pending tasks, load balancer target health (ingress alb), alarms in ALARM,
this month's spend against the budget, and the next scheduled sleep and wake.
A part that cannot be read (a missing permission, say) is reported as
unavailable and the rest still shows.`,
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
			if format == "json" {
				return st.WriteJSON(cmd.OutOrStdout())
			}
			return st.WriteText(cmd.OutOrStdout(), now)
		},
	}
	addSpecFlag(c, &file)
	c.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return c
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
