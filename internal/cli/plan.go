package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newPlanCmd is a placeholder until its issue lands.
func newPlanCmd(_ *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "plan",
		Short:  "not implemented yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("plan is not implemented yet")
		},
	}
}
