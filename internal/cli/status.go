package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newStatusCmd is a placeholder until its issue lands.
func newStatusCmd(_ *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "status",
		Short:  "not implemented yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("status is not implemented yet")
		},
	}
}
