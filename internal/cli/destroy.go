package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newDestroyCmd is a placeholder until its issue lands.
func newDestroyCmd(_ *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "destroy",
		Short:  "not implemented yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("destroy is not implemented yet")
		},
	}
}
