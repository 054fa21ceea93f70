package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/spec"
)

// schemaFileName is the JSON Schema file init writes beside the spec; the
// modeline on the spec's first line names it relative to the spec, which is
// how yaml-language-server (VS Code's YAML extension, Neovim, Helix, ...)
// resolves it.
const schemaFileName = "lowfare.schema.json"

// schemaModeline is the spec's first line: editors with yaml-language-server
// validate and complete the file against the schema beside it.
const schemaModeline = "# yaml-language-server: $schema=" + schemaFileName + "\n"

func newSchemaCmd(_ *rootOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of lowfare.yaml (for editors)",
		Long: `schema prints the JSON Schema (draft 2020-12) of lowfare.yaml: every field, its
type, its default and what it means. 'lowfare init' writes it beside the spec
as ` + schemaFileName + ` and points the spec's first line at it:

  ` + schemaModeline[:len(schemaModeline)-1] + `

which editors using yaml-language-server (VS Code's YAML extension, Neovim,
Helix, Zed) follow for completion and checks.`,
		Example: `  lowfare schema > lowfare.schema.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := spec.JSONSchema()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
}

// writeSchemaBeside writes the JSON Schema next to the spec file, where the
// modeline points. The file is generated, so an older copy is replaced.
func writeSchemaBeside(specFile string) (string, error) {
	data, err := spec.JSONSchema()
	if err != nil {
		return "", err
	}
	path := filepath.Join(filepath.Dir(specFile), schemaFileName)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", fmt.Errorf("writing the schema for editors: %w", err)
	}
	return path, nil
}

// nextCommand is how the user runs lowfare next: "lowfare" when it is on
// PATH, else how to get it there.
func nextCommand(args string) string {
	if _, err := exec.LookPath("lowfare"); err == nil {
		return "lowfare " + args
	}
	return "lowfare " + args + "  (lowfare is not on PATH: 'go install ./cmd/lowfare' or 'make install' in the lowfare clone; or 'go run ./cmd/lowfare " + args + "' there)"
}
