// Package cli is the lowfare command line: one file per command, each
// returning a *cobra.Command. Commands parse flags, call the internal
// packages and print; they hold no logic of their own.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2 // bad input or usage: nothing was changed anywhere
)

// exitError carries an exit code through cobra's error return.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr marks err as bad input (exit 2).
func usageErr(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: ExitUsage, err: err}
}

// usageErrf formats a bad-input error (exit 2).
func usageErrf(format string, args ...any) error {
	return usageErr(fmt.Errorf(format, args...))
}

// silentErr is an error whose message the command already printed.
type silentErr struct{ code int }

func (e silentErr) Error() string { return fmt.Sprintf("exit %d", e.code) }

// rootOptions are the flags every command shares.
type rootOptions struct {
	Profile string // --aws-profile: the AWS shared config profile
	Region  string // --region: overrides the spec's region
	Env     string // --env: overrides the spec's env (a preview environment)
	Preview bool   // --preview: the spec's preview shape (ci.Preview)

	// lowfareProfile catches --profile outside init, where it used to mean
	// the AWS profile: it is refused with a pointer to the right flag.
	lowfareProfile string
}

// NewRoot builds the command tree. stdin, stdout and stderr are explicit so
// tests run commands in-process.
func NewRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "lowfare",
		Short: "A container web app with a database on AWS for the price of a coffee",
		Long: `lowfare turns one short lowfare.yaml into a cost-optimised AWS architecture
(ECS Fargate or Lambda, DynamoDB, no NAT gateway), prices it before anything
exists, builds the image without Docker, deploys it and operates it.

Start with:
  lowfare init          write a commented lowfare.yaml
  lowfare plan          what would be created, the warnings and the monthly bill
  lowfare dev           run the service on this machine, no AWS account needed

Exit codes: 0 ok, 1 failure, 2 bad input or usage (nothing was changed).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if c.Name() == "logs" && containsFold(err.Error(), "'f' in -f") {
			return usageErrf("-f is the spec file (as in every lowfare command) and needs its path; to follow the logs use --follow")
		}
		return usageErr(fmt.Errorf("%w\nRun '%s --help' for usage", err, c.CommandPath()))
	})
	opts := &rootOptions{}
	pf := root.PersistentFlags()
	pf.StringVar(&opts.Profile, "aws-profile", "", "AWS shared config profile (default: the SDK's chain, AWS_PROFILE)")
	pf.StringVar(&opts.Region, "region", "", "AWS region (default: the spec's region)")
	pf.StringVar(&opts.Env, "env", "", "environment name in place of the spec's env, such as pr-42 (default: the spec's env)")
	pf.BoolVar(&opts.Preview, "preview", false, "the spec as a preview environment: HTTP API, idle sleep after 5m, one task, on-demand table, no domain")
	// --profile is a lowfare profile (free, ha, serverless), set in the spec
	// or by 'lowfare init --profile'; init declares its own. Everywhere else
	// it is refused, so that 'plan --profile serverless' cannot silently
	// plan the file's profile, nor an AWS profile be taken for one.
	pf.StringVar(&opts.lowfareProfile, "profile", "", "")
	_ = pf.MarkHidden("profile")
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		if f := pf.Lookup("profile"); f.Changed && c.Flags().Lookup("profile") == f {
			return usageErrf("--profile %s: %s takes no --profile. The lowfare profile (free, ha, serverless) is the spec's 'profile:' field (or 'lowfare init --profile %s'); the AWS profile is --aws-profile %s",
				opts.lowfareProfile, c.CommandPath(), opts.lowfareProfile, opts.lowfareProfile)
		}
		return nil
	}
	for _, c := range commands(opts) {
		root.AddCommand(c)
		withUsageLine(c)
	}
	registerCompletions(root)
	return root
}

// Execute runs the command line and returns the process exit code.
func Execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := NewRoot(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var silent silentErr
	if errors.As(err, &silent) {
		return silent.code
	}
	if msg := err.Error(); strings.Contains(msg, "\n") {
		// A list of problems, each line already saying where: keep them alike.
		fmt.Fprintln(stderr, msg)
	} else {
		fmt.Fprintln(stderr, "lowfare:", msg)
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if isCobraUsageError(err) {
		return ExitUsage
	}
	return ExitFailure
}

// isCobraUsageError recognises cobra's own argument and command errors,
// which it returns as plain errors.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "received ", "invalid argument"} {
		if containsFold(msg, p) {
			return true
		}
	}
	return false
}
