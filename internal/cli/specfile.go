package cli

import (
	"errors"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/spec"
)

// defaultSpecFile is where commands look for the spec without -f.
const defaultSpecFile = "lowfare.yaml"

// addSpecFlag adds -f/--file to a command that reads the spec.
func addSpecFlag(c *cobra.Command, path *string) {
	c.Flags().StringVarP(path, "file", "f", defaultSpecFile, "the spec file")
}

// loadSpec reads the spec; any problem with it is bad input (exit 2), and
// is reported before any AWS call is made.
func loadSpec(path string) (*spec.Spec, error) {
	s, err := spec.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usageErrf("%s does not exist: run 'lowfare init' to write one, or pass -f with the spec's path", path)
	}
	if err != nil {
		return nil, usageErr(err)
	}
	return s, nil
}
