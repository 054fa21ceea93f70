package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

// commands lists every subcommand. Each lives in its own file.
func commands() []*cobra.Command {
	return []*cobra.Command{
		newVersionCmd(),
		newDevCmd(),
		newInitCmd(),
		newSynthCmd(),
		newPlanCmd(),
		newCostCmd(),
		newImageCmd(),
		newDeployCmd(),
		newStatusCmd(),
		newLogsCmd(),
		newScaleCmd(),
		newSleepCmd(),
		newWakeCmd(),
		newSecretsCmd(),
		newDestroyCmd(),
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
