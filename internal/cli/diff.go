package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/cfn/cfndiff"
	"github.com/lowfare/lowfare/internal/release"
	"github.com/lowfare/lowfare/internal/stack"
)

type diffFlags struct {
	file, against, stack, format string
	boundary                     string // --permissions-boundary, as the deploy had it
}

func newDiffCmd(opts *rootOptions) *cobra.Command {
	f := &diffFlags{}
	c := &cobra.Command{
		Use:   "diff",
		Short: "What would change: the templates lowfare would deploy against the deployed ones",
		Long: `diff compares, property by property, the templates lowfare would deploy with
the ones the stacks have (CloudFormation GetTemplate), or with a template file
(--against FILE, no AWS call). Each resource is marked:

  [+] add   [-] remove   [!] replace (with the create-only property that forces it)
  [~] change in place

then its changed values, then parameters, outputs and stack tags, then a
one-line summary. The image is a parameter, so a code change does not show
here ('lowfare deploy --dry-run' shows the change sets AWS computes).

Exit codes follow diff(1): 0 no differences, 1 differences, 2 bad input.`,
		Example: `  lowfare diff
  lowfare diff --format json | jq .summary
  aws cloudformation get-template --stack-name lowfare-links-dev \
      --query TemplateBody > deployed.json && lowfare diff --against deployed.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDiff(cmd, opts, f)
		},
	}
	addSpecFlag(c, &f.file)
	c.Flags().StringVar(&f.against, "against", "", "compare with this template file (JSON or YAML) instead of the deployed stack")
	c.Flags().StringVar(&f.stack, "stack", "", "main or bootstrap (default: both; main with --against)")
	c.Flags().StringVar(&f.format, "format", "text", "output: text | json")
	c.Flags().StringVar(&f.boundary, "permissions-boundary", "", "compare the templates as deploy --permissions-boundary sends them (a stack deployed from lowfare ci's workflow has it on every role)")
	return c
}

// stackDiff is one stack's difference.
type stackDiff struct {
	Stack    string          `json:"stack"`
	Role     string          `json:"role"` // main | bootstrap
	Against  string          `json:"against"`
	Deployed bool            `json:"deployed"` // false: the stack (or file) has nothing yet
	Result   *cfndiff.Result `json:"diff"`
}

func runDiff(cmd *cobra.Command, opts *rootOptions, f *diffFlags) error {
	if f.format != "text" && f.format != "json" {
		return usageErrf("--format %q: want text or json", f.format)
	}
	roles := []string{"bootstrap", "main"}
	switch f.stack {
	case "":
		if f.against != "" {
			roles = []string{"main"}
		}
	case "main", "bootstrap":
		roles = []string{f.stack}
	default:
		return usageErrf("--stack %q: want main or bootstrap", f.stack)
	}
	if f.against != "" && len(roles) != 1 {
		return usageErrf("--against compares one stack: give --stack main or --stack bootstrap")
	}
	var against map[string]any
	if f.against != "" {
		data, err := os.ReadFile(f.against)
		if err != nil {
			return usageErrf("--against: %v", err)
		}
		if against, err = cfndiff.Parse(data); err != nil {
			return usageErrf("--against %s: %v", f.against, err)
		}
	}
	if err := checkBoundaryARN(f.boundary); err != nil {
		return err
	}
	s, res, err := buildStack(io.Discard, opts, f.file)
	if err != nil {
		return err
	}
	if f.boundary != "" {
		res.SetPermissionsBoundary(f.boundary)
	}
	var live release.TemplateReader
	if against == nil {
		cfg, err := specAWS(cmd.Context(), opts, s)
		if err != nil {
			return err
		}
		live = awsconf.NewClients(cfg).CloudFormation
	}

	if res.Bootstrap == nil {
		// An image reference: no repository, so no bootstrap stack.
		if f.stack == "bootstrap" {
			return usageErrf("%s: service.image %s is an image reference: there is no bootstrap stack (it holds the repository lowfare pushes to)", f.file, s.Service.Image)
		}
		roles = slices.DeleteFunc(roles, func(r string) bool { return r == "bootstrap" })
	}
	var diffs []stackDiff
	for _, role := range roles {
		name, tmpl := s.StackName(), res.Main
		if role == "bootstrap" {
			name, tmpl = s.BootstrapStackName(), res.Bootstrap
		}
		d := stackDiff{Stack: name, Role: role, Against: f.against, Deployed: true}
		if err := d.compare(cmd.Context(), live, tmpl, stack.StackTags(s), against); err != nil {
			return err
		}
		diffs = append(diffs, d)
	}
	if err := writeDiffs(cmd.OutOrStdout(), f.format, diffs); err != nil {
		return err
	}
	for _, d := range diffs {
		if !d.Result.Equal() {
			return silentErr{code: ExitFailure}
		}
	}
	return nil
}

func writeDiffs(w io.Writer, format string, diffs []stackDiff) error {
	var total cfndiff.Counts
	var differ []string
	for _, d := range diffs {
		total = total.Plus(d.Result.Counts())
		if !d.Result.Equal() {
			differ = append(differ, d.Stack)
		}
	}
	summary := fmt.Sprintf("diff: %s", total)
	if len(differ) > 0 {
		summary += fmt.Sprintf(" (%s)", strings.Join(differ, ", "))
	} else {
		summary += fmt.Sprintf(" (%s)", plural(len(diffs), "stack"))
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Equal   bool           `json:"equal"`
			Stacks  []stackDiff    `json:"stacks"`
			Counts  cfndiff.Counts `json:"counts"`
			Summary string         `json:"summary"`
		}{len(differ) == 0, diffs, total, summary})
	}
	for _, d := range diffs {
		if !d.Deployed {
			fmt.Fprintf(w, "(%s is not deployed: everything is new)\n", d.Stack)
		}
		if err := d.Result.WriteText(w, d.Stack); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintln(w, summary)
	return err
}

// templateMap is a template as GetTemplate would return it, decoded.
func templateMap(t any) (map[string]any, error) {
	data, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(data, &m)
}

// compare diffs the template lowfare would deploy, tmpl, with against,
// or, when against is nil, with the deployed stack's template and tags.
func (d *stackDiff) compare(ctx context.Context, live release.TemplateReader, tmpl any, tags map[string]string, against map[string]any) error {
	want, err := templateMap(tmpl)
	if err != nil {
		return err
	}
	if against != nil {
		d.Result = cfndiff.Templates(against, want)
		return nil
	}
	d.Against = "deployed stack"
	dep, err := release.ReadDeployed(ctx, live, d.Stack)
	if errors.Is(err, awsconf.ErrStackNotFound) {
		d.Deployed = false
		d.Result = cfndiff.Templates(nil, want)
		return nil
	}
	if err != nil {
		return err
	}
	d.Result = cfndiff.Templates(dep.Template, want)
	d.Result.Other = append(d.Result.Other, cfndiff.TagChanges(dep.Tags, tags)...)
	return nil
}
