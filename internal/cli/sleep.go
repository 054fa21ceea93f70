package cli

import (
	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/ops"
)

// newSleepCmd is lowfare sleep.
func newSleepCmd(opts *rootOptions) *cobra.Command {
	var file string
	c := &cobra.Command{
		Use:   "sleep",
		Short: "Scale the service to zero tasks now, until the next scheduled wake or lowfare wake",
		Long: `Scale the service to zero tasks now: bounds 0-0 and desired 0, so nothing
runs and Fargate bills nothing. The load balancer (if any), the table and the
logs stay. The next scheduled wake, or lowfare wake, brings it back.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := loadSpec(file)
			if err != nil {
				return err
			}
			return runScale(cmd, opts, s, func(c *ops.Clients) (*ops.ScaleResult, error) {
				return ops.Sleep(cmd.Context(), c, s)
			})
		},
	}
	addSpecFlag(c, &file)
	return c
}
