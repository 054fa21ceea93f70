package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newDataCmd is a placeholder until the data tools land.
func newDataCmd(_ *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "data",
		Short:  "not implemented yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("data is not implemented yet")
		},
	}
}
