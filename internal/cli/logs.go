package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newLogsCmd is a placeholder until its issue lands.
func newLogsCmd(_ *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "logs",
		Short:  "not implemented yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("logs is not implemented yet")
		},
	}
}
