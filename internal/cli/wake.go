package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newWakeCmd is a placeholder until its issue lands.
func newWakeCmd(_ *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "wake",
		Short:  "not implemented yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("wake is not implemented yet")
		},
	}
}
