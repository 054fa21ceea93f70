package cli

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/lowfare/lowfare/internal/cost"
	"github.com/lowfare/lowfare/internal/data"
	"github.com/lowfare/lowfare/internal/spec"
)

// flagValues lists the values a flag takes, by flag name, for shell
// completion ('lowfare completion bash', cobra's own command). A flag whose
// values depend on the command (--format) is resolved in valuesFor.
var flagValues = map[string][]string{
	"free-tier": {string(cost.FreeTierNone), string(cost.FreeTierLegacy), string(cost.FreeTierCredits)},
	"mode":      {string(data.ModeSkipExisting), string(data.ModeOverwrite)},
	"ingress":   {spec.IngressALB, spec.IngressAPIGW, spec.IngressURL},
	"arch":      {"arm64", "x86_64"},
	"rate":      {"auto", "unlimited"},
	"region":    spec.Regions(),
}

// valuesFor is the completion list of one command's flag; nil when the flag
// takes free text.
func valuesFor(c *cobra.Command, name string) []string {
	switch name {
	case "format":
		if c.Name() == "synth" {
			return []string{"json", "yaml"}
		}
		return []string{"text", "json"}
	case "profile":
		if c.Name() == "init" {
			return []string{spec.ProfileFree, spec.ProfileHA, spec.ProfileServerless}
		}
		return nil
	}
	return flagValues[name]
}

// registerCompletions gives every enumerated flag of every command its
// values, and the spec file flag its file types.
func registerCompletions(root *cobra.Command) {
	walk := func(c *cobra.Command, fs *pflag.FlagSet) {
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Name == "file" || f.Name == "against" {
				_ = c.RegisterFlagCompletionFunc(f.Name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
					exts := []string{"yaml", "yml"}
					if f.Name == "against" {
						exts = []string{"json", "yaml", "yml", "template"}
					}
					return exts, cobra.ShellCompDirectiveFilterFileExt
				})
				return
			}
			values := valuesFor(c, f.Name)
			if values == nil {
				return
			}
			_ = c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
		})
	}
	walk(root, root.PersistentFlags())
	var sub func(c *cobra.Command)
	sub = func(c *cobra.Command) {
		for _, child := range c.Commands() {
			walk(child, child.LocalNonPersistentFlags())
			sub(child)
		}
	}
	sub(root)
}
