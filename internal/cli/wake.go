package cli

import (
	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/ops"
)

// newWakeCmd is lowfare wake.
func newWakeCmd(opts *rootOptions) *cobra.Command {
	var file string
	c := &cobra.Command{
		Use:   "wake",
		Short: "Restore the spec's task counts now, until the next scheduled action",
		Long: `Restore service.count from the spec now (min, max and desired), whatever the
schedule says. It lasts until the next scheduled action, which this prints.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := loadSpec(file)
			if err != nil {
				return err
			}
			return runScale(cmd, opts, s, func(c *ops.Clients) (*ops.ScaleResult, error) {
				return ops.Wake(cmd.Context(), c, s)
			})
		},
	}
	addSpecFlag(c, &file)
	return c
}
