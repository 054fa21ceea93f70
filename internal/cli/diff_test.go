package cli

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/testutil"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata")

// synthMain writes the main template of a spec and returns its path.
func synthMain(t *testing.T, specPath string) string {
	t.Helper()
	out := t.TempDir()
	if code, _, errOut := runCmd(t, "synth", "-f", specPath, "-o", out); code != 0 {
		t.Fatalf("synth %s: exit %d: %s", specPath, code, errOut)
	}
	return filepath.Join(out, "lowfare-links-dev.template.json")
}

// TestDiffGoldens runs 'lowfare diff --against' on before/after pairs: the
// template of before.yaml is "deployed", after.yaml is the spec. The
// expected text and JSON are in testdata/diff/<case>/want.{txt,json}.
func TestDiffGoldens(t *testing.T) {
	for _, name := range []string{"port", "tag", "profile"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "diff", name)
			before := synthMain(t, filepath.Join(dir, "before.yaml"))
			after := filepath.Join(dir, "after.yaml")
			code, out, errOut := runCmd(t, "diff", "-f", after, "--against", before)
			if code != ExitFailure {
				t.Fatalf("diff exit %d, want 1 (different): %s", code, errOut)
			}
			testutil.Golden(t, filepath.Join(dir, "want.txt"), []byte(strings.ReplaceAll(out, before, "BEFORE")), *updateGolden)
			code, out, _ = runCmd(t, "diff", "-f", after, "--against", before, "--format", "json")
			if code != ExitFailure || !json.Valid([]byte(out)) {
				t.Fatalf("diff --format json: exit %d, valid %v", code, json.Valid([]byte(out)))
			}
			testutil.Golden(t, filepath.Join(dir, "want.json"), []byte(strings.ReplaceAll(out, before, "BEFORE")), *updateGolden)

			// The same spec against its own template: equal, exit 0.
			code, out, errOut = runCmd(t, "diff", "-f", after, "--against", synthMain(t, after))
			if code != 0 || !strings.Contains(out, "diff: no differences") {
				t.Errorf("diff against itself: exit %d: %s%s", code, out, errOut)
			}
		})
	}
}

func TestDiffBadInput(t *testing.T) {
	spec := filepath.Join("testdata", "diff", "port", "after.yaml")
	notTemplate := filepath.Join(t.TempDir(), "x.json")
	if err := os.WriteFile(notTemplate, []byte(`{"a": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"diff", "-f", spec, "--against", filepath.Join(t.TempDir(), "missing.json")},
		{"diff", "-f", spec, "--against", notTemplate},
		{"diff", "-f", spec, "--against", notTemplate, "--format", "xml"},
		{"diff", "-f", spec, "--stack", "both"},
		{"diff", "-f", filepath.Join(t.TempDir(), "nothere.yaml"), "--against", notTemplate},
	} {
		if code, _, errOut := runCmd(t, args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want 2: %s", args, code, errOut)
		}
	}
}
