package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/atomicfile"
	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/gosrc"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// defaultOutDir is where synth writes templates: beside the spec, hidden,
// like cdk.out. Add .lowfare/ to .gitignore.
const defaultOutDir = ".lowfare/out"

type synthFlags struct {
	file   string
	format string
	outDir string
}

func newSynthCmd(opts *rootOptions) *cobra.Command {
	f := &synthFlags{}
	c := &cobra.Command{
		Use:   "synth",
		Short: "Write the CloudFormation templates of the spec, without touching AWS",
		Long: `synth checks the spec and lowfare's rules, then writes two CloudFormation
templates into the output directory:

  <stack>-bootstrap.template.<ext>   the ECR repository (deployed first: the
                                     image must exist before the service)
  <stack>.template.<ext>             everything else; its ImageUri parameter
                                     takes the image by digest

<stack> is lowfare-<app>-<env>. Warnings (costs beyond the free tier, TLS
asked without a certificate, ...) go to stderr. When the spec or a rule is
broken, nothing is written and the exit code is 2.`,
		Example: `  lowfare synth
  lowfare synth -f examples/free-apigw.yaml --format json -o out/
  lowfare synth --format yaml && aws cloudformation validate-template \
      --template-body file://.lowfare/out/lowfare-links-dev.template.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSynth(cmd, opts, f)
		},
	}
	addSpecFlag(c, &f.file)
	c.Flags().StringVar(&f.format, "format", "json", "template format: json | yaml")
	c.Flags().StringVarP(&f.outDir, "out", "o", defaultOutDir, "directory to write the templates to (created if missing)")
	return c
}

func runSynth(cmd *cobra.Command, opts *rootOptions, f *synthFlags) error {
	format := cfn.Format(f.format)
	if format != cfn.FormatJSON && format != cfn.FormatYAML {
		return usageErrf("--format %q: use json or yaml", f.format)
	}
	// A template for an image folder that is not there is refused, as
	// image build, deploy and dev refuse it, before any warning prints.
	// Other image problems stay warnings: the templates do not need the
	// source, and a spec is often synthesized before its app is written.
	if s, err := loadSpec(opts, f.file); err != nil {
		return err
	} else if p := imageCheck(f.file, s); s.Service.LocalPackage() && p != nil && p.Reason == gosrc.Missing {
		return imageError(f.file, s)
	}
	s, res, err := buildStack(cmd.ErrOrStderr(), opts, f.file)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.outDir, 0o755); err != nil {
		return fmt.Errorf("creating the output directory: %w", err)
	}
	files := []struct {
		stackName string
		tmpl      *cfn.Template
	}{
		{s.BootstrapStackName(), res.Bootstrap},
		{s.StackName(), res.Main},
	}
	for _, file := range files {
		if file.tmpl == nil {
			continue // no bootstrap stack for an image reference
		}
		path := filepath.Join(f.outDir, file.stackName+".template."+string(format))
		if err := writeTemplate(path, file.tmpl, format); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s  (%s)\n", path, plural(len(file.tmpl.Resources), "resource"))
	}
	return nil
}

// buildStack loads the spec and builds the templates; a broken spec or
// rule is bad input (exit 2). Warnings go to w.
func buildStack(w io.Writer, opts *rootOptions, file string) (*spec.Spec, *stack.Result, error) {
	s, err := loadSpec(opts, file)
	if err != nil {
		return nil, nil, err
	}
	if err := withRegion(s, opts.Region); err != nil {
		return nil, nil, err
	}
	res, err := stack.Build(s)
	if err != nil {
		var rules *stack.RulesError
		if errors.As(err, &rules) {
			return nil, nil, usageErrf("%s: %v", file, err)
		}
		return nil, nil, err
	}
	res.Warnings = append(res.Warnings, specWarnings(file, s)...)
	for _, warning := range res.Warnings {
		fmt.Fprintln(w, "warning:", warning)
	}
	return s, res, nil
}

// writeTemplate replaces path atomically, so a reader never sees half a
// template.
func writeTemplate(path string, t *cfn.Template, format cfn.Format) error {
	f, err := atomicfile.Create(path, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer f.Abort()
	if err := t.Write(f, format); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Commit(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// plural is "1 resource", "2 resources".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
