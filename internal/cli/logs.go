package cli

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/ops"
)

// newLogsCmd is lowfare logs.
func newLogsCmd(opts *rootOptions) *cobra.Command {
	var (
		file, filter string
		since        time.Duration
		follow       bool
	)
	c := &cobra.Command{
		Use:   "logs [--follow] [--since 1h] [--filter TEXT]",
		Short: "Print the service's logs; --follow keeps following",
		Long: `Print the service's log events, oldest first, one line each: the time (UTC),
the task (the first 8 characters of its id) and the message.

--filter takes a CloudWatch Logs filter pattern: plain words must all occur,
"a quoted phrase" must occur as written. --follow polls for new events every
2 seconds until interrupted. -f is the spec file, as in every command.`,
		Example: `  lowfare logs --since 15m
  lowfare logs --follow --filter '"status=500"'
  lowfare logs -f prod.yaml --follow`,
		Args: func(cmd *cobra.Command, args []string) error {
			// 'logs -f' once meant follow; -f now takes the spec file, so
			// 'logs -f --since 1h' reads "--since" as a file name.
			if strings.HasPrefix(file, "-") {
				return usageErrf("-f %s: -f is the spec file (as in every lowfare command); to follow the logs use --follow", file)
			}
			return cobra.NoArgs(cmd, args)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if since <= 0 {
				return usageErrf("--since %v: give a positive duration such as 15m or 2h", since)
			}
			s, clients, err := loadOpsSpec(cmd.Context(), opts, file)
			if err != nil {
				return err
			}
			group, err := ops.LogGroup(cmd.Context(), clients, s)
			if err != nil {
				return err
			}
			return ops.Logs(cmd.Context(), clients.Logs, group, ops.LogOptions{Since: since, Filter: filter, Follow: follow}, cmd.OutOrStdout())
		},
	}
	addSpecFlag(c, &file)
	// No shorthand: -f is the spec file everywhere, so follow is spelt out.
	c.Flags().BoolVar(&follow, "follow", false, "keep printing new events until interrupted")
	c.Flags().DurationVar(&since, "since", time.Hour, "print events newer than this (30s, 15m, 2h)")
	c.Flags().StringVar(&filter, "filter", "", "only events matching this CloudWatch Logs filter pattern")
	return c
}
