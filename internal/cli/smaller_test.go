package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A service.image folder that is not there is the same bad input to every
// command that builds, runs or commits to it: exit 2, one wording, before
// any AWS call or build.
func TestExitMissingImageFolderIsUsageEverywhere(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "lowfare.yaml")
	if err := os.WriteFile(file, []byte("app: shop\nservice: {image: ./cmd/gone}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	want := file + ": service.image ./cmd/gone: " + filepath.Join(dir, "cmd", "gone") + " does not exist; point service.image at the directory of your Go main package"
	for _, args := range [][]string{
		{"plan", "--check"},
		{"synth", "-o", filepath.Join(dir, "out")},
		{"image", "build"},
		{"deploy"},
		{"dev"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, _, errOut := runCmd(t, append(args, "-f", file)...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d; stderr %q", code, ExitUsage, errOut)
			}
			if !strings.Contains(errOut, "lowfare: "+want) {
				t.Errorf("stderr %q\nwant it to say %q", errOut, want)
			}
		})
	}
}
