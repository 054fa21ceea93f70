package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/ops"
)

// newSecretsCmd is lowfare secrets set|list|rm.
func newSecretsCmd(opts *rootOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "secrets",
		Short: "Set, list and remove the app's secrets (SSM SecureString parameters)",
		Long: `The app's secrets live in SSM Parameter Store as SecureString parameters under
/lowfare/<app>/<env>/ (standard parameters are free). Tasks get the ones named
in service.secrets as environment variables when they start; lowfare deploy
refuses while one of them is missing. Values are never printed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErrf("secrets needs a subcommand: set, list or rm")
		},
	}
	c.AddCommand(newSecretsSetCmd(opts), newSecretsListCmd(opts), newSecretsRmCmd(opts))
	return c
}

func newSecretsSetCmd(opts *rootOptions) *cobra.Command {
	var file, from string
	c := &cobra.Command{
		Use:   "set NAME [--from-file F]",
		Short: "Store a secret, read from --from-file or standard input",
		Long: `Store a secret as a SecureString, replacing any earlier value. The value is
read from --from-file, or else from standard input (one trailing newline is
dropped), so it never appears in the shell history:

  lowfare secrets set ADMIN_TOKEN < token.txt
  openssl rand -hex 32 | lowfare secrets set ADMIN_TOKEN`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := ops.ValidateSecretName(name); err != nil {
				return usageErr(err)
			}
			s, err := loadSpec(opts, file)
			if err != nil {
				return err
			}
			if from == "" && isTTY(cmd.InOrStdin()) {
				fmt.Fprintf(cmd.ErrOrStderr(), "Reading %s from the terminal (it will show as you type): end with Enter, then Ctrl-D.\n", name)
			}
			value, err := readSecretValue(cmd.InOrStdin(), from)
			if err != nil {
				return usageErr(err)
			}
			clients, err := opsClients(cmd.Context(), opts, s)
			if err != nil {
				return err
			}
			version, err := ops.SetSecret(cmd.Context(), clients.SSM, s, name, value)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Stored %s as %s (version %d, %d bytes). Tasks read it when they start.\n",
				name, s.SecretParameter(name), version, len(value))
			if !slices.Contains(s.Service.Secrets, name) {
				fmt.Fprintf(cmd.OutOrStdout(), "Note: %s is not in service.secrets in %s, so no task gets it yet.\n", name, file)
			}
			return nil
		},
	}
	addSpecFlag(c, &file)
	c.Flags().StringVar(&from, "from-file", "", "read the value from this file instead of standard input")
	return c
}

// readSecretValue reads the whole value and drops one trailing newline
// (as echo and most editors add one); an empty value is refused.
func readSecretValue(stdin io.Reader, path string) (string, error) {
	var data []byte
	var err error
	if path != "" {
		data, err = os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("--from-file: %w", err)
		}
	} else {
		data, err = io.ReadAll(io.LimitReader(stdin, 1<<20))
		if err != nil {
			return "", fmt.Errorf("reading the value from standard input: %w", err)
		}
	}
	if b, ok := bytes.CutSuffix(data, []byte("\n")); ok {
		data, _ = bytes.CutSuffix(b, []byte("\r"))
	}
	if len(data) == 0 {
		where := "standard input"
		if path != "" {
			where = path
		}
		return "", fmt.Errorf("the secret value from %s is empty: pipe it in or use --from-file", where)
	}
	return string(data), nil
}

func newSecretsListCmd(opts *rootOptions) *cobra.Command {
	var file, format string
	c := &cobra.Command{
		Use:   "list",
		Short: "List the stored secrets (names, versions, dates; never values) and the missing ones",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usageErrf("--format %q: want text or json", format)
			}
			s, clients, err := loadOpsSpec(cmd.Context(), opts, file)
			if err != nil {
				return err
			}
			list, err := ops.ListSecrets(cmd.Context(), clients.SSM, s)
			if err != nil {
				return err
			}
			missing, err := ops.MissingSecrets(cmd.Context(), clients.SSM, s)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeSecretsJSON(cmd.OutOrStdout(), s.SecretPrefix(), list, missing)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "NAME\tVERSION\tLAST MODIFIED\tIN SPEC\n")
			for _, sec := range list {
				inSpec := "no"
				if sec.InSpec {
					inSpec = "yes"
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", sec.Name, sec.Version, sec.LastModified.UTC().Format(time.RFC3339), inSpec)
			}
			for _, m := range missing {
				fmt.Fprintf(tw, "%s\t-\tmissing: lowfare secrets set %s\tyes\n", m, m)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if len(list) == 0 && len(missing) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "No secrets under %s.\n", s.SecretPrefix())
			}
			return nil
		},
	}
	addSpecFlag(c, &file)
	c.Flags().StringVar(&format, "format", "text", "output: text | json")
	return c
}

// writeSecretsJSON is secrets list --format json: names, versions and
// dates, never values. Field names are a contract.
func writeSecretsJSON(w io.Writer, prefix string, list []ops.SecretInfo, missing []string) error {
	out := struct {
		Prefix  string           `json:"prefix"`
		Secrets []ops.SecretInfo `json:"secrets"`
		Missing []string         `json:"missing"` // in service.secrets, not stored: deploy refuses
	}{Prefix: prefix, Secrets: append([]ops.SecretInfo{}, list...), Missing: append([]string{}, missing...)}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func newSecretsRmCmd(opts *rootOptions) *cobra.Command {
	var file string
	c := &cobra.Command{
		Use:   "rm NAME",
		Short: "Remove a secret",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := ops.ValidateSecretName(name); err != nil {
				return usageErr(err)
			}
			s, clients, err := loadOpsSpec(cmd.Context(), opts, file)
			if err != nil {
				return err
			}
			if err := ops.DeleteSecret(cmd.Context(), clients.SSM, s, name); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removed %s (%s).\n", name, s.SecretParameter(name))
			if slices.Contains(s.Service.Secrets, name) {
				fmt.Fprintf(cmd.OutOrStdout(), "%s is still in service.secrets: lowfare deploy will refuse until it is set again or removed from the spec.\n", name)
			}
			return nil
		},
	}
	addSpecFlag(c, &file)
	return c
}
