package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newScaleCmd is a placeholder until its issue lands.
func newScaleCmd(_ *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "scale",
		Short:  "not implemented yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("scale is not implemented yet")
		},
	}
}
