package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newCostCmd is a placeholder until its issue lands.
func newCostCmd(_ *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "cost",
		Short:  "not implemented yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("cost is not implemented yet")
		},
	}
}
