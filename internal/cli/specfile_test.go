package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// A missing spec is bad input (exit 2) that names the file and the two ways on.
func TestMissingSpecFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "lowfare.yaml")
	for _, cmd := range []string{"synth", "plan", "cost"} {
		code, _, errOut := runCmd(t, cmd, "-f", missing)
		if code != ExitUsage || !strings.Contains(errOut, missing+" does not exist") || !strings.Contains(errOut, "lowfare init") {
			t.Errorf("%s: exit %d, stderr %q; want 2 naming the file and lowfare init", cmd, code, errOut)
		}
	}
}
