package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newSleepCmd is a placeholder until its issue lands.
func newSleepCmd(_ *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "sleep",
		Short:  "not implemented yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("sleep is not implemented yet")
		},
	}
}
