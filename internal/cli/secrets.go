package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newSecretsCmd is a placeholder until its issue lands.
func newSecretsCmd(_ *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "secrets",
		Short:  "not implemented yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("secrets is not implemented yet")
		},
	}
}
