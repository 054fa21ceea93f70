package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/deploy"
	"github.com/lowfare/lowfare/internal/image"
	"github.com/lowfare/lowfare/internal/release"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// deployFlags are deploy's own flags.
type deployFlags struct {
	file          string
	dryRun        bool
	timeout       time.Duration
	healthTimeout time.Duration
	poll          time.Duration
	cfnRole       string
	boundary      string
}

func newDeployCmd(opts *rootOptions) *cobra.Command {
	f := &deployFlags{}
	c := &cobra.Command{
		Use:   "deploy",
		Short: "Build the image, push it to ECR and create or update the stacks",
		Long: `deploy builds service.image (a Go package such as ./cmd/links, compiled for
linux/<arch> without Docker; an image reference is used as it is), creates or
updates the bootstrap stack (the ECR repository), pushes the image tagged with
the git revision, and creates or updates the main stack through a change set,
passing the image by digest. Stack events stream as they come; the outputs,
the URL first, close the run.

Before it creates or changes anything, deploy checks (read-only, as 'lowfare
plan --check' does) what a rollback would otherwise reveal ten minutes later:
the hosted zone exists and holds ingress.domain; a certificate_arn is in the
region, ISSUED and covers the domain; every secret in service.secrets is set
in SSM ('lowfare secrets set NAME'); no other stack owns a name the templates
take; an ECR image reference exists. Each failure is one line; exit 1. It
then creates the ECS service-linked role if the account has none yet.

An update with no changes is not an error. --dry-run prints both change sets
and deletes them: nothing changes.

A service asleep (service.idle) runs no task, so the stack update starts none
and nothing would have run the new image. deploy then proves it before calling
it live: it asks the wake controller to start the service (reason "deploy"),
waits up to --health-timeout until a task of the new task definition is
healthy (its target healthy behind an ALB; its container health check passed
behind an HTTP API), moves the lowfare-live tag to the image, and puts the
service back to sleep. If no task gets healthy, lowfare-live stays on the
image that ran before, the service goes back to sleep, the main stack goes
back to the template and image it had before the deploy (as CloudFormation
rolls back an awake service whose new tasks fail), and deploy exits 1 saying
what it saw; 'lowfare logs' shows why. A redeploy with no changes proves the
image again all the same.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDeploy(cmd.Context(), opts, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	addSpecFlag(c, &f.file)
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "print the change sets and delete them; change nothing")
	c.Flags().DurationVar(&f.timeout, "timeout", deploy.DefaultTimeout, "give up waiting for each stack after this long")
	c.Flags().DurationVar(&f.healthTimeout, "health-timeout", release.DefaultHealthTimeout, "give up waiting for a sleeping service's new image to be healthy after this long")
	c.Flags().DurationVar(&f.poll, "poll", deploy.DefaultPoll, "interval between status checks")
	_ = c.Flags().MarkHidden("poll")
	addCfnRoleFlag(c, &f.cfnRole)
	c.Flags().StringVar(&f.boundary, "permissions-boundary", "", "managed policy to set as the permissions boundary of every role the templates create (lowfare ci's workflow passes arn:aws:iam::<account>:policy/lowfare-<app>-boundary, without which its service role may create no role)")
	return c
}

// addCfnRoleFlag adds --cfn-role-arn: the CloudFormation service role
// passed with every change set and stack delete (what 'lowfare ci'
// workflows run with).
func addCfnRoleFlag(c *cobra.Command, role *string) {
	c.Flags().StringVar(role, "cfn-role-arn", "", "CloudFormation service role to create, change and delete the stacks' resources with (lowfare ci's workflow passes arn:aws:iam::<account>:role/lowfare-<app>-ci-cfn)")
}

// checkBoundaryARN refuses a --permissions-boundary that is not an IAM
// managed policy ARN.
func checkBoundaryARN(arn string) error {
	if arn == "" {
		return nil
	}
	if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":iam::") || !strings.Contains(arn, ":policy/") {
		return usageErrf("--permissions-boundary %q: want an IAM managed policy ARN, such as arn:aws:iam::123456789012:policy/lowfare-links-boundary", arn)
	}
	return nil
}

// checkRoleARN refuses a --cfn-role-arn that is not an IAM role ARN.
func checkRoleARN(arn string) error {
	if arn == "" {
		return nil
	}
	if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":iam::") || !strings.Contains(arn, ":role/") {
		return usageErrf("--cfn-role-arn %q: want an IAM role ARN, such as arn:aws:iam::123456789012:role/lowfare-links-ci-cfn", arn)
	}
	return nil
}

// loadRelease reads the spec with --region in place of its own and builds
// both templates once, for that region. A spec that breaks a rule is bad
// input (exit 2) and stops before any AWS call.
func loadRelease(opts *rootOptions, file string) (*release.Release, error) {
	s, err := loadSpec(opts, file)
	if err != nil {
		return nil, err
	}
	if err := withRegion(s, opts.Region); err != nil {
		return nil, err
	}
	r, err := release.New(file, s)
	var bad *release.InputError
	if errors.As(err, &bad) {
		return nil, usageErr(bad)
	}
	if err != nil {
		return nil, err
	}
	if msg := imageProblem(file, s); msg != "" {
		return nil, usageErrf("%s: %s", file, msg)
	}
	return r, nil
}

// specAWS loads the AWS configuration for a spec: --aws-profile, and --region
// over the spec's region. Missing credentials are one line naming what to
// set (exit 1).
func specAWS(ctx context.Context, opts *rootOptions, s *spec.Spec) (aws.Config, error) {
	region := opts.Region
	if region == "" {
		region = s.Region
	}
	return awsconf.Load(ctx, awsconf.Options{Profile: opts.Profile, Region: region})
}

// isTerminal reports whether stream (standard input or output) is a
// character device (a terminal): progress may rewrite a live line there, and
// a secret typed there shows as it is typed.
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// newRunner connects a release runner to the account of cfg, printing to
// out (stack events, progress) and errOut (the build's log, warnings).
func newRunner(cfg aws.Config, out, errOut io.Writer, timeout, poll time.Duration) *release.Runner {
	clients := awsconf.NewClients(cfg)
	return &release.Runner{
		AWS: clients,
		Stacks: &deploy.Deployer{
			CFN:     clients.CloudFormation,
			Out:     out,
			Live:    isTerminal(out),
			Timeout: timeout,
			Poll:    poll,
		},
		Images: cliImages{out: out, errOut: errOut},
		Report: cliReport{out: out, errOut: errOut},
	}
}

// cliImages builds and pushes the image as 'lowfare image build' does,
// with its progress lines.
type cliImages struct{ out, errOut io.Writer }

func (c cliImages) Build(ctx context.Context, r *release.Release) (*image.Built, error) {
	return buildImage(ctx, r.File, r.Spec, c.out, c.errOut)
}

func (c cliImages) Push(ctx context.Context, built *image.Built, ref string, auth authn.Authenticator) (string, error) {
	return pushImage(ctx, c.out, built, ref, auth)
}

// cliReport prints what a release does.
type cliReport struct{ out, errOut io.Writer }

func (c cliReport) RoleCreated(name string) {
	fmt.Fprintf(c.out, "Created the ECS service-linked role %s (once per account).\n", name)
}

func (c cliReport) Unchanged(stack string) { fmt.Fprintf(c.out, "Stack %s: no changes.\n", stack) }

func (c cliReport) Changes(stack string, changes []deploy.Change) {
	deploy.PrintChanges(c.out, stack, changes)
}

func (c cliReport) Warning(err error) { fmt.Fprintf(c.errOut, "warning: %v\n", err) }

func (c cliReport) TableDeleted(name string) {
	fmt.Fprintf(c.out, "Deleted table %s and its data.\n", name)
}

func (c cliReport) Proof(p release.Proof) {
	switch p.Stage {
	case release.ProofWaking:
		fmt.Fprintf(c.out, "Service %s sleeps: %s.\n", p.Service, p.Detail)
	case release.ProofHealthy:
		fmt.Fprintf(c.out, "Service %s: the new image is healthy (%s).\n", p.Service, p.Detail)
	case release.ProofAsleep:
		fmt.Fprintf(c.out, "Service %s: %s.\n", p.Service, p.Detail)
	case release.ProofRollback:
		fmt.Fprintf(c.out, "Service %s: the new image failed; %s.\n", p.Service, p.Detail)
	default:
		fmt.Fprintf(c.out, "  %s: %s\n", p.Service, p.Detail)
	}
}

func runDeploy(ctx context.Context, opts *rootOptions, f *deployFlags, out, errOut io.Writer) error {
	if f.timeout <= 0 {
		return usageErrf("--timeout %s: must be positive", f.timeout)
	}
	if f.healthTimeout <= 0 {
		return usageErrf("--health-timeout %s: must be positive", f.healthTimeout)
	}
	if err := checkRoleARN(f.cfnRole); err != nil {
		return err
	}
	if err := checkBoundaryARN(f.boundary); err != nil {
		return err
	}
	r, err := loadRelease(opts, f.file)
	if err != nil {
		return err
	}
	if f.boundary != "" {
		if err := r.SetPermissionsBoundary(f.boundary); err != nil {
			return err
		}
	}
	cfg, err := specAWS(ctx, opts, r.Spec)
	if err != nil {
		return err
	}
	rn := newRunner(cfg, out, errOut, f.timeout, f.poll)
	rn.Stacks.RoleARN = f.cfnRole
	rn.HealthTimeout = f.healthTimeout
	if f.dryRun {
		if err := rn.DryRun(ctx, r); err != nil {
			return preflightExit(err)
		}
		fmt.Fprintln(out, "Dry run: the change sets were deleted; nothing was changed.")
		return nil
	}
	res, err := rn.Deploy(ctx, r)
	if err != nil {
		return preflightExit(err)
	}
	fmt.Fprintf(out, "\nOutputs of %s:\n", r.Spec.StackName())
	deploy.PrintOutputs(out, res.Outputs, stack.OutputURL)
	return nil
}
