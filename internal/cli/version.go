package cli

import (
	"encoding/json"
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionInfo is what 'lowfare version' reports, from the binary's build
// information. Field names are a contract for --format json.
type versionInfo struct {
	Version  string `json:"version"`            // module version, or "devel"
	Revision string `json:"revision,omitempty"` // git commit, when known
	Time     string `json:"time,omitempty"`     // commit time (vcs.time)
	Modified bool   `json:"modified"`           // built from a tree with uncommitted changes
	Source   string `json:"source"`             // where revision came from: vcs, module version, or none
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// pseudoRevision is the commit hash at the end of a Go pseudo-version
// (v0.0.0-20261201095751-1d6b56012345).
var pseudoRevision = regexp.MustCompile(`-(?:0\.)?\d{14}-([0-9a-f]{12})(?:\+incompatible)?(?:\+dirty)?$`)

func readVersion(bi *debug.BuildInfo, ok bool) versionInfo {
	v := versionInfo{Version: "devel", Source: "none", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if !ok || bi == nil {
		return v
	}
	v.Go = bi.GoVersion
	if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision, v.Source = s.Value, "vcs"
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		case "GOOS", "GOARCH":
		}
	}
	if v.Revision == "" {
		// No VCS stamp (go install pkg@version, -buildvcs=false, a tree
		// without .git): a pseudo-version still names its commit.
		if m := pseudoRevision.FindStringSubmatch(v.Version); m != nil {
			v.Revision, v.Source = m[1], "module version"
		} else if v.Version != "devel" {
			v.Source = "module version"
		}
	}
	return v
}

func (v versionInfo) String() string {
	s := "lowfare " + v.Version
	switch {
	case v.Source == "vcs":
		s += " (" + v.Revision
		if v.Modified {
			s += ", modified"
		}
		if v.Time != "" {
			s += ", " + v.Time
		}
		s += ")"
	case v.Revision != "":
		s += " (" + v.Revision + ")"
	case v.Version == "devel":
		s += " (no VCS stamp: built outside a git checkout or with -buildvcs=false)"
	}
	return s + ", " + v.Go + " " + v.Platform
}

func newVersionCmd(_ *rootOptions) *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "version",
		Short: "Print lowfare's version and source revision",
		Long: `version prints the module version and git revision the binary was built from,
read from the binary's build information (go build stamps it in a git
checkout; go install module@version records the version).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usageErrf("--format %q: want text or json", format)
			}
			v := readVersion(debug.ReadBuildInfo())
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			}
			_, err := fmt.Fprintln(cmd.OutOrStdout(), v)
			return err
		},
	}
	c.Flags().StringVar(&format, "format", "text", "output: text | json")
	return c
}
