package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/spec"
)

type initFlags struct {
	file    string
	app     string
	profile string
	ingress string
	force   bool
}

func newInitCmd(opts *rootOptions) *cobra.Command {
	f := &initFlags{}
	c := &cobra.Command{
		Use:   "init",
		Short: "Write a commented lowfare.yaml",
		Long: `init writes a lowfare.yaml with every field, its value and a short comment.
Delete any line to take its default; run 'lowfare plan' to see what it costs.

init looks at the directory the file goes to: a Go main package there
becomes service.image (.), else the one main package below it (such as
./cmd/server; several are listed and none is picked). The app is named
after the module (at a module's root) or the directory. When the source
shows them, init takes the port the package listens on (a literal ":8080",
or the default it gives $PORT), its health route (/healthz or /health), and
the variables it reads whose names say secret (API_KEY, ADMIN_TOKEN,
SESSION_SECRET, DB_PASSWORD) as service.secrets. It says what it guessed
and from where; anything it could not tell keeps the default.

The spec fits its $10 budget as written: on profile free an HTTP API and
an idle sleep after 15 minutes (--ingress alb gives the load balancer,
awake 24/7), and no alert email until you add yours.

For init, --profile is the lowfare profile (free, ha or serverless), not an
AWS profile. --region sets the spec's region.

init also adds .lowfare/ (lowfare dev's secrets and data, synth output)
to the directory's .gitignore, creating it or appending the line once.

An existing file is left alone unless --force is given. -f - writes to stdout.`,
		Example: `  lowfare init
  lowfare init --app shop --ingress apigw
  lowfare init --app shop --profile serverless -f shop.yaml`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runInit(c, opts, f)
		},
	}
	addSpecFlag(c, &f.file)
	c.Flags().StringVar(&f.app, "app", "", "application name, [a-z][a-z0-9-]{1,20} (default: the module's or the directory's name)")
	// Shadows the root's --profile (the AWS profile), which init never uses.
	c.Flags().StringVar(&f.profile, "profile", "", "lowfare profile: free, ha or serverless (default free)")
	c.Flags().StringVar(&f.ingress, "ingress", "", "ingress kind: alb or apigw; url or apigw with --profile serverless")
	c.Flags().BoolVar(&f.force, "force", false, "overwrite an existing file")
	return c
}

func runInit(c *cobra.Command, opts *rootOptions, f *initFlags) error {
	dir := filepath.Dir(f.file)
	if f.file == "-" {
		dir = "."
	}
	g := guessApp(dir)
	app := f.app
	if app == "" && g.app != "" {
		app = g.app
	} else {
		g.dropApp()
	}
	s, err := spec.New(app, f.profile, f.ingress)
	if err != nil {
		return usageErr(flagProblems(err))
	}
	initDefaults(s, f)
	if err := g.apply(s); err != nil {
		return err
	}
	if err := withRegion(s, opts.Region); err != nil {
		return err
	}
	// --env names the environment the file describes; --preview shapes a
	// spec as it is read, never the file written.
	if opts.Preview {
		return usageErrf("init takes no --preview: a preview is the spec as deploy, cost and the other commands read it with --preview; the file keeps its own shape")
	}
	if opts.Env != "" && opts.Env != s.Env {
		s.Env = opts.Env
		if err := recheck(s, "--env"); err != nil {
			return err
		}
	}
	text := append([]byte(schemaModeline), s.CommentedYAML()...)
	if f.file == "-" {
		g.print(c.ErrOrStderr(), dir)
		_, err := c.OutOrStdout().Write(text)
		return err
	}
	if err := writeNew(f.file, text, f.force); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return usageErrf("%s already exists; use --force to overwrite it", f.file)
		}
		return err
	}
	schema, err := writeSchemaBeside(f.file)
	if err != nil {
		return err
	}
	// .lowfare/dev/secrets.env holds the app's secrets for lowfare dev:
	// ignore the folder before anything is written into it.
	ignored, err := ignoreLowfare(c.Context(), dir)
	if err != nil {
		return fmt.Errorf("adding %s to %s: %w", lowfareIgnore, filepath.Join(dir, ".gitignore"), err)
	}
	if ignored {
		fmt.Fprintf(c.OutOrStdout(), "added %s to %s (dev secrets and data stay out of git)\n", lowfareIgnore, filepath.Join(dir, ".gitignore"))
	}
	fmt.Fprintf(c.OutOrStdout(), "wrote %s (app %s, profile %s, ingress %s) and %s (for editors); next: %s\n",
		f.file, s.App, s.Profile, s.Ingress.Kind, schema, nextCommand("plan -f "+f.file))
	g.print(c.OutOrStdout(), dir)
	return nil
}

// flagProblems restates spec problems about init's inputs in terms of the
// flags the user typed rather than positions in a file they never saw.
func flagProblems(err error) error {
	var probs *spec.Problems
	if !errors.As(err, &probs) {
		return err
	}
	flagOf := map[string]string{"app": "--app", "env": "--env", "profile": "--profile", "ingress.kind": "--ingress", "region": "--region"}
	var out []error
	for _, p := range probs.List {
		name := flagOf[p.Path]
		if name == "" {
			name = p.Path
		}
		out = append(out, fmt.Errorf("%s: %s", name, p.Msg))
	}
	return errors.Join(out...)
}

// withRegion puts --region (if given) in place of the spec's region and
// checks the spec again as the loader would, so that a bad region name, or
// a certificate in another region, is refused as if the file had said it.
// The spec is checked through the YAML it would be written as, which loads
// back equal (spec's round-trip tests).
func withRegion(s *spec.Spec, region string) error {
	if region == "" || region == s.Region {
		return nil
	}
	s.Region = region
	return recheck(s, "--region")
}

// recheck validates s as the loader would, through the YAML it would be
// written as (which loads back equal: spec's round-trip tests).
func recheck(s *spec.Spec, name string) error {
	if _, err := spec.Parse(name, s.CommentedYAML()); err != nil {
		return usageErr(flagProblems(err))
	}
	return nil
}

// writeNew writes data to path; without force it refuses to replace an
// existing file, atomically (O_EXCL), so two runs cannot both win.
func writeNew(path string, data []byte, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	file, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return err
	}
	if _, err := file.Write(data); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}

// initIdleAfter is how long without a request the service init writes
// waits before it sleeps.
const initIdleAfter = "15m"

// initDefaults makes the spec init writes fit the budget it writes, with
// no warning about a value lowfare chose:
//   - on profile free with no --ingress, an HTTP API and an idle sleep,
//     the cheapest shape that keeps Fargate and fits the $10 budget; the
//     seed's ALB (always on, over that budget alone) is one line away,
//     and the file's comments say so;
//   - one task at most: with the idle sleep's two alarms, target
//     tracking's two would make 11 alarm metrics, one beyond CloudWatch's
//     10 free; max 2 in the file turns autoscaling on, and its comment
//     says so;
//   - no placeholder email: budget alerts and alarms go to the addresses
//     the user adds, and plan would warn that ops@example.com reaches
//     nobody.
//
// Flags the user gave win: --ingress keeps its kind and no idle.
func initDefaults(s *spec.Spec, f *initFlags) {
	if s.Profile == spec.ProfileFree && f.ingress == "" {
		s.Ingress.Kind = spec.IngressAPIGW
		// Serve is left to the loader: app for an image lowfare builds,
		// page for an image reference the user may put in later.
		s.Service.Idle = &spec.Idle{After: initIdleAfter}
		s.Service.Count = spec.Count{Desired: 1, Min: 1, Max: 1}
	}
	s.Budget.Emails = []string{}
	s.Alarms.Emails = []string{}
}
