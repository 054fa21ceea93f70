package cli

import (
	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/ops"
)

// newSleepCmd is lowfare sleep.
func newSleepCmd(opts *rootOptions) *cobra.Command {
	return newFixedScaleCmd(opts, "sleep",
		"Scale the service to zero tasks now, until the next scheduled wake or lowfare wake",
		`Scale the service to zero tasks now: bounds 0-0 and desired 0, so nothing
runs and Fargate bills nothing. The load balancer (if any), the table and the
logs stay. The next scheduled wake, or lowfare wake, brings it back.

With service.idle the wake controller does it and moves the ingress to its
waking page: the next request wakes the service again (outside the awake
windows of a schedule, requests get the page saying when it opens).`,
		ops.Sleep)
}
