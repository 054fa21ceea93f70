package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newInitCmd is a placeholder until its issue lands.
func newInitCmd(_ *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "init",
		Short:  "not implemented yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("init is not implemented yet")
		},
	}
}
