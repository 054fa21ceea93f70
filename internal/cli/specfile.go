package cli

import (
	"errors"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/ci"
	"github.com/lowfare/lowfare/internal/spec"
)

// defaultSpecFile is where commands look for the spec without -f.
const defaultSpecFile = "lowfare.yaml"

// addSpecFlag adds -f/--file to a command that reads the spec.
func addSpecFlag(c *cobra.Command, path *string) {
	c.Flags().StringVarP(path, "file", "f", defaultSpecFile, "the spec file")
}

// loadSpec reads the spec, with --env and --preview applied; any problem
// with it is bad input (exit 2), and is reported before any AWS call is
// made.
func loadSpec(opts *rootOptions, path string) (*spec.Spec, error) {
	s, err := spec.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usageErrf("%s does not exist: run 'lowfare init' to write one, or pass -f with the spec's path", path)
	}
	if err != nil {
		return nil, usageErr(err)
	}
	return withEnv(s, opts.Env, opts.Preview)
}

// withEnv puts --env (if given) in place of the spec's env and, with
// --preview, turns the spec into its preview environment (ci.Preview).
// The result is checked and defaulted again as the loader would, through
// the YAML it would be written as, so a bad name is refused as if the file
// had said it.
func withEnv(s *spec.Spec, env string, preview bool) (*spec.Spec, error) {
	if (env == "" || env == s.Env) && !preview {
		return s, nil
	}
	name := "--env"
	if preview {
		name = "--preview"
		if env != "" {
			name = "--env/--preview"
		}
	}
	out, err := ci.Environment(s, env, preview, name)
	if err != nil {
		return nil, usageErr(flagProblems(err))
	}
	return out, nil
}
