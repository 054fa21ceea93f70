package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/ops"
)

// newRunCmd is lowfare run -- COMMAND [ARGS...].
func newRunCmd(opts *rootOptions) *cobra.Command {
	var file, format string
	c := &cobra.Command{
		Use:   "run [-f lowfare.yaml] [--format text|json] -- COMMAND [ARGS...]",
		Short: "Run a one-off command in a task of the deployed service (migrations, scripts)",
		Long: `Run COMMAND once on AWS, the way the service runs: a new ECS task with the
service's task definition (image, environment, secrets, roles) in the service's
subnets and security group, with a public IP as the service has, so it reaches
what the service reaches (its table, its database). The task's log lines are
printed as they arrive; lowfare exits with the command's own exit code.

COMMAND replaces the image's command (CMD), as 'docker run IMAGE COMMAND' does:
an image with an ENTRYPOINT receives it as arguments. Images lowfare builds
have the app's binary as entrypoint, so 'lowfare run -- migrate up' runs
'/app/<name> migrate up'; an image of your own without an ENTRYPOINT runs
COMMAND itself ('lowfare run -- /app/migrate').

The task runs on on-demand Fargate even when the service uses Spot (a Spot
reclaim must not cut a migration in half), and is billed per second like any
task (1 minute minimum). Ctrl-C stops the task. Profile serverless has no task
to run: the command refuses it (exit 2).

Exit codes: the command's exit code once it ran; 1 when the task could not
start (ECS's reason is printed: an image that cannot be pulled, a secret that
cannot be read...) or lowfare could not follow it; 2 for bad usage. A
command's own 1 or 2 look the same: --format json tells them apart.

--format json prints the log lines on stderr and, at the end, the result on
stdout: cluster, task definition, task ARN, log stream, exit_code (null when
the command never ran) and ECS's stop reason.`,
		Example: `  lowfare run -- migrate up                  # an image lowfare built: /app/<name> migrate up
  lowfare run -- /app/migrate --to latest    # your own image without an ENTRYPOINT
  lowfare run -f prod.yaml -- /bin/sh -c 'psql "$DATABASE_URL" -c "select 1"'
  lowfare run --format json -- migrate status > result.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("requires the command to run after --")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return usageErrf("--format %q: use text or json", format)
			}
			s, err := loadSpec(opts, file)
			if err != nil {
				return err
			}
			if !s.ECS() {
				return usageErr(ops.ErrRunServerless)
			}
			clients, err := opsClients(cmd.Context(), opts, s)
			if err != nil {
				return err
			}
			logs, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
			if format == "json" {
				logs = stderr
			}
			res, err := ops.Run(cmd.Context(), clients, s, ops.RunOptions{Command: args, Status: stderr}, logs)
			if err != nil {
				if errors.Is(err, ops.ErrRunServerless) {
					return usageErr(err)
				}
				return err
			}
			if format == "json" {
				if err := writeRunJSON(cmd.OutOrStdout(), res); err != nil {
					return err
				}
			}
			if !res.Started() {
				fmt.Fprintf(stderr, "lowfare: %s\n", res.Problem())
				return silentErr{code: ExitFailure}
			}
			code := int(*res.ExitCode)
			if format == "text" {
				fmt.Fprintf(stderr, "%s exited with code %d\n", res.Command[0], code)
			}
			if code == 0 {
				return nil
			}
			if code < 0 || code > 255 {
				code = ExitFailure // not an exit status a process can return
			}
			return silentErr{code: code}
		},
	}
	// Everything after the first argument belongs to COMMAND, flags too:
	// 'lowfare run migrate --dry-run' passes --dry-run on.
	c.Flags().SetInterspersed(false)
	addSpecFlag(c, &file)
	c.Flags().StringVar(&format, "format", "text", "output format of the result: text or json (then the log lines go to stderr)")
	return c
}

func writeRunJSON(w io.Writer, res *ops.RunResult) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
