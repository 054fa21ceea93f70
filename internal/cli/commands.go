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
		newRunCmd(opts),
		newScaleCmd(opts),
		newSleepCmd(opts),
		newWakeCmd(opts),
		newSecretsCmd(opts),
		newDataCmd(opts),
		newDestroyCmd(opts),
		newCICmd(opts),
		newDiffCmd(opts),
		newSchemaCmd(opts),
	}
}

// withUsageLine makes a wrong argument count on c and its subcommands say
// the command's usage line with cobra's complaint, so a missing NAME or
// FILE shows what goes there (exit 2).
func withUsageLine(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			err := check(cmd, args)
			if err == nil {
				return nil
			}
			what := err.Error()
			if len(args) == 0 {
				what = "missing argument (" + what + ")"
			}
			path := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
			return usageErrf("%s: %s; usage: %s", path, what, cmd.UseLine())
		}
	}
	for _, sub := range c.Commands() {
		withUsageLine(sub)
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
