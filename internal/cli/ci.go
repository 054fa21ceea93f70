package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/atomicfile"
	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/ci"
	"github.com/lowfare/lowfare/internal/deploy"
	"github.com/lowfare/lowfare/internal/spec"
)

// ciFlags are the flags 'ci init github' and 'ci deploy' share: what the
// deploy role trusts and may do.
type ciFlags struct {
	file        string
	repo        string
	branch      string
	environment string
	previews    bool
}

func (f *ciFlags) add(c *cobra.Command) {
	addSpecFlag(c, &f.file)
	c.Flags().StringVar(&f.repo, "repo", "", "the GitHub repository that deploys, OWNER/NAME (required)")
	c.Flags().StringVar(&f.branch, "branch", "main", "the branch whose pushes deploy")
	c.Flags().StringVar(&f.environment, "environment", "", "a GitHub environment the deploy job runs in: the role then trusts it instead of the branch, and its protection rules gate deploys")
	c.Flags().BoolVar(&f.previews, "previews", false, "a preview environment per pull request (lowfare deploy --env pr-<N> --preview), destroyed with its data on close")
}

func (f *ciFlags) options() (ci.Options, error) {
	if f.repo == "" {
		return ci.Options{}, usageErrf("--repo is required: the GitHub repository that deploys, such as --repo octo-org/links")
	}
	o := ci.Options{Repo: f.repo, Branch: f.branch, Environment: f.environment, Previews: f.previews}
	if err := o.Check(); err != nil {
		return ci.Options{}, usageErr(err)
	}
	return o, nil
}

// ciStack is what ci init writes and ci deploy creates: the options, the
// spec (with --env applied) and the CI stack's template and its body.
type ciStack struct {
	o    ci.Options
	s    *spec.Spec
	tmpl *cfn.Template
	body []byte
}

func (f *ciFlags) ciStack(opts *rootOptions) (*ciStack, error) {
	o, err := f.options()
	if err != nil {
		return nil, err
	}
	s, err := loadSpec(opts, f.file)
	if err != nil {
		return nil, err
	}
	tmpl, err := ci.Template(s, o)
	if err != nil {
		return nil, usageErrf("%s: %v", f.file, err)
	}
	body, err := tmpl.JSON()
	if err != nil {
		return nil, err
	}
	return &ciStack{o: o, s: s, tmpl: tmpl, body: body}, nil
}

// command is how the user reruns this setup: the flags as given.
func (f *ciFlags) command(sub string) string {
	cmd := "lowfare ci " + sub + " --repo " + f.repo
	if f.branch != "main" {
		cmd += " --branch " + f.branch
	}
	if f.environment != "" {
		cmd += " --environment " + f.environment
	}
	if f.previews {
		cmd += " --previews"
	}
	if f.file != defaultSpecFile {
		cmd += " -f " + f.file
	}
	return cmd
}

func newCICmd(opts *rootOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "ci",
		Short: "Deploy from GitHub Actions with no stored keys, with a preview per pull request",
		Long: `ci sets up deploys from CI: 'ci init github' writes the workflow
(.github/workflows/lowfare.yml) and the CI stack's template; 'ci deploy'
creates the CI stack once, with an administrator's credentials: GitHub's
OIDC provider, the deploy role the workflow assumes (trusted only for this
repository's branch and, with --previews, its pull requests) and the
CloudFormation service role it passes. No access key is stored anywhere.

The CI stack is its own command, not part of 'lowfare deploy': it creates
IAM roles and an identity provider, which needs an administrator once,
while 'lowfare deploy' runs in CI as the deploy role, which must never be
able to change its own permissions. Runbook: docs/runbooks/ci.md.`,
		Example: `  lowfare ci init github --repo octo-org/links --previews
  lowfare ci deploy --repo octo-org/links --previews`,
		Args: cobra.NoArgs,
	}
	c.AddCommand(newCIInitCmd(opts), newCIDeployCmd(opts))
	return c
}

type ciInitFlags struct {
	ciFlags
	test  string
	force bool
}

func newCIInitCmd(opts *rootOptions) *cobra.Command {
	f := &ciInitFlags{}
	c := &cobra.Command{
		Use:   "init github",
		Short: "Write the GitHub Actions workflow and the CI stack's template",
		Long: `init github writes .github/workflows/lowfare.yml (in the current directory,
the repository's root) and .github/lowfare/<app>-ci.template.json, and prints
the one command that creates the CI stack: 'lowfare ci deploy'.

On a push to --branch the workflow runs the tests (--test), 'lowfare plan
--check' and 'lowfare deploy'. With --previews, a pull request gets its own
environment: 'lowfare deploy --env pr-<N> --preview' (HTTP API, idle sleep,
one task, on-demand table), a comment with its URL and monthly estimate,
and 'lowfare destroy --env pr-<N> --preview --delete-data' when it closes.

Running it again rewrites both files from the spec and flags. The
workflow's first line holds a hash of the rest: a workflow edited since
lowfare wrote it is left alone unless --force.`,
		Example: `  lowfare ci init github --repo octo-org/links
  lowfare ci init github --repo octo-org/links --branch release --previews --test "make test"`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"github"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != "github" {
				return usageErrf("ci init %s: lowfare writes GitHub Actions workflows only; usage: lowfare ci init github --repo OWNER/NAME", args[0])
			}
			return runCIInit(cmd, opts, f)
		},
	}
	f.ciFlags.add(c)
	c.Flags().StringVar(&f.test, "test", "go test ./...", "the command that tests the code before each deploy (empty: none)")
	c.Flags().BoolVar(&f.force, "force", false, "replace a workflow edited since lowfare wrote it")
	return c
}

// ciTemplatePath is where init writes the CI stack's template.
func ciTemplatePath(app string) string {
	return filepath.Join(".github", "lowfare", ci.CIStackName(app)+".template.json")
}

func runCIInit(cmd *cobra.Command, opts *rootOptions, f *ciInitFlags) error {
	st, err := f.ciStack(opts)
	if err != nil {
		return err
	}
	o, s, tmpl, body := st.o, st.s, st.tmpl, st.body
	specRel, err := repoRelative(f.file)
	if err != nil {
		return err
	}
	region := opts.Region
	if region == "" {
		region = s.Region
	}
	_, statErr := os.Stat("go.mod")
	wf, err := ci.Workflow(ci.WorkflowOptions{
		Options: o, App: s.App, Region: region, Spec: specRel, Test: f.test,
		Secrets: s.Service.Secrets, Install: installVersion(), GoMod: statErr == nil,
	})
	if err != nil {
		return usageErr(err)
	}
	out := cmd.OutOrStdout()
	wrote, err := writeWorkflow(ci.WorkflowPath, wf, f.force)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s %s\n", wrote, ci.WorkflowPath)
	tpath := ciTemplatePath(s.App)
	body = append(body, '\n')
	did := "unchanged:"
	if old, err := os.ReadFile(tpath); err != nil || !bytes.Equal(old, body) {
		// A generated file: 'ci deploy' builds it again from the spec, so
		// an edit here would change nothing; it is rewritten.
		if err := writeFileAtomic(tpath, body); err != nil {
			return err
		}
		did = "wrote"
	}
	fmt.Fprintf(out, "%s %s (%d resources: the OIDC provider unless the account has one, the deploy and service roles)\n", did, tpath, len(tmpl.Resources))
	fmt.Fprintf(out, "\nNext, once, with an administrator's AWS credentials:\n  %s\n", f.ciFlags.command("deploy"))
	fmt.Fprintf(out, "Then set the repository variable AWS_ACCOUNT_ID (Settings > Secrets and variables > Actions > Variables) to the account's ID.\n")
	if o.Previews && len(s.Service.Secrets) > 0 {
		fmt.Fprintf(out, "Each preview sets its secrets from the repository's Actions secrets of the same names: %s.\n", strings.Join(s.Service.Secrets, ", "))
	}
	return nil
}

// repoRelative is the spec's path relative to the current directory (the
// repository's root, where the workflow runs), with forward slashes.
func repoRelative(file string) (string, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", err
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(wd, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", usageErrf("%s is outside the current directory: run lowfare ci init from the repository's root", file)
	}
	return filepath.ToSlash(rel), nil
}

// writeWorkflow writes the workflow unless an edited one is there (then
// only with force), and says what it did.
func writeWorkflow(path string, data []byte, force bool) (string, error) {
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "wrote", writeFileAtomic(path, data)
	case err != nil:
		return "", err
	case bytes.Equal(old, data):
		return "unchanged:", nil
	case !ci.Unedited(old) && !force:
		return "", usageErrf("%s was edited since lowfare wrote it (or lowfare did not write it): left as it is. Compare it with 'lowfare ci init ... --force' in a clean git tree, or keep your edits", path)
	}
	return "updated", writeFileAtomic(path, data)
}

func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := atomicfile.Create(path, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Commit()
}

// installVersion is the lowfare version the workflow installs: this
// binary's module version, or its commit, else the latest release.
func installVersion() string {
	bi, ok := debug.ReadBuildInfo()
	v := readVersion(bi, ok)
	switch {
	case v.Version != "devel":
		return v.Version
	case v.Revision != "" && !v.Modified:
		return v.Revision
	}
	return "latest"
}

type ciDeployFlags struct {
	ciFlags
	timeout time.Duration
	poll    time.Duration
}

func newCIDeployCmd(opts *rootOptions) *cobra.Command {
	f := &ciDeployFlags{}
	c := &cobra.Command{
		Use:   "deploy",
		Short: "Create or update the CI stack (OIDC provider, deploy role, service role, permissions boundary)",
		Long: `deploy creates or updates the stack lowfare-<app>-ci with the credentials
you run it with (an administrator's, once): GitHub's OIDC provider for
token.actions.githubusercontent.com (or, when the account has one already,
that one: an account holds one per URL), the deploy role, the
CloudFormation service role and the permissions boundary
lowfare-<app>-boundary: the most any role of the app may do (what the
templates' roles allow, service.permissions included). The service role
creates roles only with that boundary, and the workflow's deploys set it
(--permissions-boundary). Run it again after changing the spec (its
service.permissions above all), the repository, the branch or --previews. 'lowfare ci init' prints it with
the flags it was given.`,
		Example: `  lowfare ci deploy --repo octo-org/links --previews`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCIDeploy(cmd.Context(), opts, f, cmd.OutOrStdout())
		},
	}
	f.ciFlags.add(c)
	c.Flags().DurationVar(&f.timeout, "timeout", deploy.DefaultTimeout, "give up waiting for the stack after this long")
	c.Flags().DurationVar(&f.poll, "poll", deploy.DefaultPoll, "interval between status checks")
	_ = c.Flags().MarkHidden("poll")
	return c
}

func runCIDeploy(ctx context.Context, opts *rootOptions, f *ciDeployFlags, out io.Writer) error {
	st, err := f.ciStack(opts)
	if err != nil {
		return err
	}
	s, body := st.s, st.body
	cfg, err := specAWS(ctx, opts, s)
	if err != nil {
		return err
	}
	clients := awsconf.NewClients(cfg)
	existing, err := existingGitHubProvider(ctx, clients, ci.CIStackName(s.App))
	if err != nil {
		return err
	}
	if existing != "" {
		fmt.Fprintf(out, "Using the account's OIDC provider %s.\n", existing)
	}
	d := &deploy.Deployer{CFN: clients.CloudFormation, Out: out, Live: isTerminal(out), Timeout: f.timeout, Poll: f.poll}
	res, err := d.Deploy(ctx, deploy.Stack{
		Name:       ci.CIStackName(s.App),
		Body:       body,
		Parameters: map[string]string{ci.ParamExistingProvider: existing},
		Tags:       map[string]string{"lowfare:app": s.App},
	})
	if err != nil {
		return err
	}
	if !res.Changed {
		fmt.Fprintf(out, "Stack %s: no changes.\n", ci.CIStackName(s.App))
	}
	fmt.Fprintf(out, "\nOutputs of %s:\n", ci.CIStackName(s.App))
	deploy.PrintOutputs(out, res.Outputs, ci.OutputDeployRole)
	return nil
}

// existingGitHubProvider is the ARN of the account's OIDC provider for
// GitHub Actions when another stack or person created it, or "" when
// there is none or this CI stack owns it (then the stack keeps it).
func existingGitHubProvider(ctx context.Context, clients *awsconf.Clients, ciStack string) (string, error) {
	list, err := clients.IAM.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		return "", fmt.Errorf("listing the account's OIDC providers: %w", err)
	}
	for _, p := range list.OpenIDConnectProviderList {
		arn := aws.ToString(p.Arn)
		if !strings.HasSuffix(arn, ":oidc-provider/"+ci.GitHubIssuer) {
			continue
		}
		// All the stack's resources, not the one by logical ID: a
		// provider the condition left out is no resource, and asking for
		// it is an error.
		own, err := clients.CloudFormation.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String(ciStack)})
		if err != nil && !awsconf.IsStackNotFound(err) {
			return "", fmt.Errorf("reading stack %s: %w", ciStack, err)
		}
		if own != nil {
			for _, r := range own.StackResources {
				if aws.ToString(r.LogicalResourceId) == "GitHubOIDCProvider" && aws.ToString(r.PhysicalResourceId) == arn {
					return "", nil
				}
			}
		}
		return arn, nil
	}
	return "", nil
}
