package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/ops"
	"github.com/lowfare/lowfare/internal/spec"
)

// newScaleCmd is lowfare scale N.
func newScaleCmd(opts *rootOptions) *cobra.Command {
	var file string
	c := &cobra.Command{
		Use:   "scale N",
		Short: "Run exactly N tasks until the next scheduled action or lowfare wake",
		Long: `Run exactly N tasks: the autoscaler's bounds are set to N..N so target
tracking does not undo it, then the desired count follows. N runs from 0 to
service.count.max in the spec. The next scheduled action, or lowfare wake,
puts the spec's bounds back.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[0])
			if err != nil {
				return usageErrf("task count %q is not a whole number", args[0])
			}
			s, err := loadSpec(opts, file)
			if err != nil {
				return err
			}
			if err := ops.CheckScale(s, n); err != nil {
				return usageErr(err)
			}
			return runScale(cmd, opts, s, func(c *ops.Clients) (*ops.ScaleResult, error) {
				return ops.Scale(cmd.Context(), c, s, n)
			})
		},
	}
	addSpecFlag(c, &file)
	return c
}

// newFixedScaleCmd builds sleep and wake, which differ only in their words
// and in the counts act sets: no arguments, the spec flag, then runScale.
func newFixedScaleCmd(opts *rootOptions, use, short, long string, act func(context.Context, *ops.Clients, *spec.Spec) (*ops.ScaleResult, error)) *cobra.Command {
	var file string
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := loadSpec(opts, file)
			if err != nil {
				return err
			}
			return runScale(cmd, opts, s, func(c *ops.Clients) (*ops.ScaleResult, error) {
				return act(cmd.Context(), c, s)
			})
		},
	}
	addSpecFlag(c, &file)
	return c
}

// runScale is what scale, sleep and wake share: clients, the change, the report.
func runScale(cmd *cobra.Command, opts *rootOptions, s *spec.Spec, do func(*ops.Clients) (*ops.ScaleResult, error)) error {
	if !s.ECS() {
		return usageErr(ops.ErrNotECS)
	}
	clients, err := opsClients(cmd.Context(), opts, s)
	if err != nil {
		return err
	}
	res, err := do(clients)
	if err != nil {
		return err
	}
	printScale(cmd.OutOrStdout(), res, time.Now())
	return nil
}

func printScale(w io.Writer, res *ops.ScaleResult, now time.Time) {
	set := res.Set
	fmt.Fprintf(w, "%s: %d desired, bounds %d-%d\n", res.Service.Service, set.Desired, set.Min, set.Max)
	if res.Idle != "" {
		// service.idle: the wake controller did it and decides what follows.
		fmt.Fprintf(w, "Done by the wake controller, which moved the ingress with it. %s%s.\n", strings.ToUpper(res.Idle[:1]), res.Idle[1:])
		return
	}
	if res.Next == nil {
		fmt.Fprintln(w, "No scheduled action follows: this holds until you change it (lowfare scale, sleep or wake).")
		return
	}
	fmt.Fprintf(w, "Holds until the next scheduled %s (%s): %s.\n", res.Next.Kind, res.Next.Action, res.Next.Describe(now))
}
