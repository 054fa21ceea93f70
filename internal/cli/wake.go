package cli

import (
	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/ops"
)

// newWakeCmd is lowfare wake.
func newWakeCmd(opts *rootOptions) *cobra.Command {
	return newFixedScaleCmd(opts, "wake",
		"Restore the spec's task counts now, until the next scheduled action",
		`Restore service.count from the spec now (min, max and desired), whatever the
schedule says. It lasts until the next scheduled action, which this prints.

With service.idle the wake controller starts the service; requests reach it
once a task is healthy, and it sleeps again after idle.after without a
request (lowfare sends one request so that the idle alarm starts counting).`,
		ops.Wake)
}
