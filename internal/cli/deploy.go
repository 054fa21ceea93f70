package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/deploy"
	"github.com/lowfare/lowfare/internal/deploy/preflight"
	"github.com/lowfare/lowfare/internal/image"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// deployFlags are deploy's own flags.
type deployFlags struct {
	file    string
	dryRun  bool
	timeout time.Duration
	poll    time.Duration
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
and deletes them: nothing changes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDeploy(cmd.Context(), opts, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	addSpecFlag(c, &f.file)
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "print the change sets and delete them; change nothing")
	c.Flags().DurationVar(&f.timeout, "timeout", deploy.DefaultTimeout, "give up waiting for each stack after this long")
	c.Flags().DurationVar(&f.poll, "poll", deploy.DefaultPoll, "interval between status checks")
	_ = c.Flags().MarkHidden("poll")
	return c
}

// templates builds both stacks' bodies; a spec that breaks a rule is bad
// input (exit 2) and stops before any AWS call.
func templates(file string, s *spec.Spec) (boot, main []byte, err error) {
	res, err := stack.Build(s)
	if err != nil {
		return nil, nil, usageErrf("%s: %v", file, err)
	}
	if msg := imageProblem(file, s); msg != "" {
		return nil, nil, usageErrf("%s: %s", file, msg)
	}
	if boot, err = json.Marshal(res.Bootstrap); err != nil {
		return nil, nil, err
	}
	if main, err = json.Marshal(res.Main); err != nil {
		return nil, nil, err
	}
	return boot, main, nil
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

func newDeployer(cfg aws.Config, out io.Writer, timeout, poll time.Duration) *deploy.Deployer {
	return &deploy.Deployer{
		CFN:     cloudformation.NewFromConfig(cfg),
		Out:     out,
		Live:    isTerminal(out),
		Timeout: timeout,
		Poll:    poll,
	}
}

func runDeploy(ctx context.Context, opts *rootOptions, f *deployFlags, out, errOut io.Writer) error {
	if f.timeout <= 0 {
		return usageErrf("--timeout %s: must be positive", f.timeout)
	}
	s, err := loadSpec(f.file)
	if err != nil {
		return err
	}
	// The templates are built for the region they are deployed to: their
	// per-region parts (the VPC link zones) hold the spec's region alone.
	if err := withRegion(s, opts.Region); err != nil {
		return err
	}
	bootBody, mainBody, err := templates(f.file, s)
	if err != nil {
		return err
	}
	cfg, err := specAWS(ctx, opts, s)
	if err != nil {
		return err
	}
	pre := preflight.NewClients(cfg)
	if err := preflight.Check(ctx, pre, s, appStacks(s, bootBody, mainBody)).Err(); err != nil {
		return err
	}
	d := newDeployer(cfg, out, f.timeout, f.poll)
	boot := deploy.Stack{Name: s.BootstrapStackName(), Body: bootBody, Tags: stack.StackTags(s)}

	if f.dryRun {
		return dryRun(ctx, d, f, s, boot, mainBody, out, errOut)
	}
	if s.ECS() {
		created, err := preflight.EnsureServiceLinkedRole(ctx, pre.IAM)
		if err != nil {
			return err
		}
		if created {
			fmt.Fprintf(out, "Created the ECS service-linked role %s (once per account).\n", preflight.ECSServiceRole)
		}
	}

	bootRes, err := d.Deploy(ctx, boot)
	if err != nil {
		return err
	}
	if !bootRes.Changed {
		fmt.Fprintf(out, "Stack %s: no changes.\n", boot.Name)
	}
	imageURI := s.Service.Image
	var markLive func() error // set when this deploy pushed the image
	if image.IsLocalPackage(s.Service.Image) {
		repo, err := repositoryURI(ctx, d, cfg, boot.Name, bootRes.Outputs)
		if err != nil {
			return err
		}
		built, err := buildImage(ctx, f.file, s, out, errOut)
		if err != nil {
			return err
		}
		auth, err := image.ECRAuth(ctx, ecr.NewFromConfig(cfg))
		if err != nil {
			return err
		}
		if imageURI, err = pushImage(ctx, out, built, repo+":"+image.Tag(built.Revision), auth); err != nil {
			return err
		}
		markLive = func() error { return image.Retag(ctx, imageURI, stack.LiveImageTag, auth) }
	}
	main := deploy.Stack{Name: s.StackName(), Body: mainBody, Parameters: map[string]string{stack.ParamImageURI: imageURI}, CreateParameters: stack.CreateParameters(s), Tags: stack.StackTags(s)}
	res, err := d.Deploy(ctx, main)
	if err != nil {
		return err
	}
	if !res.Changed {
		fmt.Fprintf(out, "Stack %s: no changes.\n", main.Name)
	}
	if markLive != nil {
		// The stack runs this image now: the repository's lifecycle policy
		// never expires the one tagged stack.LiveImageTag.
		if err := markLive(); err != nil {
			fmt.Fprintf(errOut, "warning: the deploy succeeded, but tagging its image %s failed (%v); until a deploy tags it, the repository's lifecycle policy may expire it once newer images are pushed\n", stack.LiveImageTag, err)
		}
	}
	fmt.Fprintf(out, "\nOutputs of %s:\n", main.Name)
	deploy.PrintOutputs(out, res.Outputs, stack.OutputURL)
	return nil
}

// repositoryURI is the bootstrap stack's repository: its output, else the
// repository found through the stack's resources (a stack without outputs:
// older lowfare, or moto).
func repositoryURI(ctx context.Context, d *deploy.Deployer, cfg aws.Config, bootName string, outputs map[string]string) (string, error) {
	if uri := outputs[stack.OutputRepositoryURI]; uri != "" {
		return uri, nil
	}
	name, err := d.PhysicalID(ctx, bootName, "Repository")
	if err != nil {
		return "", err
	}
	if name == "" {
		return "", fmt.Errorf("stack %s has no %s output and no Repository resource; was it created by another tool?", bootName, stack.OutputRepositoryURI)
	}
	out, err := ecr.NewFromConfig(cfg).DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
	if err != nil || len(out.Repositories) == 0 {
		return "", fmt.Errorf("stack %s: reading its repository %s: %v", bootName, name, err)
	}
	return aws.ToString(out.Repositories[0].RepositoryUri), nil
}

// appStacks names the app's two stacks with their bodies, for preflight.
func appStacks(s *spec.Spec, bootBody, mainBody []byte) preflight.Stacks {
	return preflight.Stacks{Main: s.StackName(), Bootstrap: s.BootstrapStackName(), MainBody: mainBody, BootstrapBody: bootBody}
}

// dryRun prints both change sets and deletes them. The image is built (not
// pushed) so the main change set shows whether the code changed.
func dryRun(ctx context.Context, d *deploy.Deployer, f *deployFlags, s *spec.Spec, boot deploy.Stack, mainBody []byte, out, errOut io.Writer) error {
	changes, err := d.Plan(ctx, boot)
	if err != nil {
		return err
	}
	deploy.PrintChanges(out, boot.Name, changes)
	imageURI := s.Service.Image
	if image.IsLocalPackage(s.Service.Image) {
		repo := "<repository of " + boot.Name + ">"
		outs, err := d.Outputs(ctx, boot.Name)
		switch {
		case err == nil && outs[stack.OutputRepositoryURI] != "":
			repo = outs[stack.OutputRepositoryURI]
		case err != nil && !errors.Is(err, deploy.ErrStackNotFound):
			return err
		}
		built, err := buildImage(ctx, f.file, s, out, errOut)
		if err != nil {
			return err
		}
		imageURI = repo + "@" + built.Digest.String()
	}
	main := deploy.Stack{Name: s.StackName(), Body: mainBody, Parameters: map[string]string{stack.ParamImageURI: imageURI}, CreateParameters: stack.CreateParameters(s), Tags: stack.StackTags(s)}
	changes, err = d.Plan(ctx, main)
	if err != nil {
		return err
	}
	deploy.PrintChanges(out, main.Name, changes)
	fmt.Fprintln(out, "Dry run: the change sets were deleted; nothing was changed.")
	return nil
}
