package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

// commands lists every subcommand. Each lives in its own file.
func commands(opts *rootOptions) []*cobra.Command {
	return []*cobra.Command{
		newVersionCmd(opts),
		newDevCmd(opts),
		newInitCmd(opts),
		newSynthCmd(opts),
		newPlanCmd(opts),
		newCostCmd(opts),
		newImageCmd(opts),
		newDeployCmd(opts),
		newStatusCmd(opts),
		newLogsCmd(opts),
		newScaleCmd(opts),
		newSleepCmd(opts),
		newWakeCmd(opts),
		newSecretsCmd(opts),
		newDataCmd(opts),
		newDestroyCmd(opts),
		newDiffCmd(opts),
		newSchemaCmd(opts),
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
