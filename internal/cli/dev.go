package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newDevCmd is a placeholder until its issue lands.
func newDevCmd(_ *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "dev",
		Short:  "not implemented yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("dev is not implemented yet")
		},
	}
}
