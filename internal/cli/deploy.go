package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newDeployCmd is a placeholder until its issue lands.
func newDeployCmd(_ *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "deploy",
		Short:  "not implemented yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("deploy is not implemented yet")
		},
	}
}
