package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// newSynthCmd is a placeholder until its issue lands.
func newSynthCmd(_ *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "synth",
		Short:  "not implemented yet",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("synth is not implemented yet")
		},
	}
}
