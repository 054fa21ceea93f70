package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newImageCmd is a placeholder until its issue lands.
func newImageCmd(_ *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "image",
		Short:  "not implemented yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("image is not implemented yet")
		},
	}
}
