package cli

import (
	"os"
	"path/filepath"
	"regexp"
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

// A command missing its argument says which and prints its usage line, so
// the user sees what goes there (exit 2).
func TestUsageLineOnMissingArgument(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"secrets", "set"}, "secrets set: missing argument (accepts 1 arg(s), received 0); usage: lowfare secrets set NAME"},
		{[]string{"secrets", "rm"}, "usage: lowfare secrets rm NAME"},
		{[]string{"data", "import"}, "usage: lowfare data import FILE"},
		{[]string{"scale"}, "usage: lowfare scale N"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, errOut := runCmd(t, tc.args...)
			if code != ExitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, ExitUsage, tc.want)
			}
		})
	}
}

// dev --port names one default, not the flag's value and a second one.
func TestHelpDevPortNamesOneDefault(t *testing.T) {
	code, out, errOut := runCmd(t, "dev", "--help")
	if code != 0 {
		t.Fatalf("dev --help: exit %d, %s", code, errOut)
	}
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, "--port int") {
			continue
		}
		if n := strings.Count(line, "default"); n != 1 {
			t.Errorf("--port names %d defaults: %q", n, line)
		}
		if !strings.Contains(line, "service.port") {
			t.Errorf("--port does not say it defaults to service.port: %q", line)
		}
		return
	}
	t.Errorf("dev --help has no --port line:\n%s", out)
}

// image --help teaches like the other commands: what the command does and
// examples to copy.
func TestHelpImageTeaches(t *testing.T) {
	code, out, errOut := runCmd(t, "image", "--help")
	if code != 0 {
		t.Fatalf("image --help: exit %d, %s", code, errOut)
	}
	for _, want := range []string{"without Docker", "service.image", "deploy builds and pushes it", "Examples:", "lowfare image build --arch x86_64", "--push"} {
		if !strings.Contains(out, want) {
			t.Errorf("image --help does not say %q:\n%s", want, out)
		}
	}
}

// The README's "Go X or later" is the go directive of go.mod: an older Go
// refuses the module (or fetches a newer toolchain) however the README puts it.
func TestHelpReadmeGoVersionIsGoMods(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := ""
	for _, line := range strings.Split(string(mod), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go "); ok {
			goVersion = strings.TrimSpace(v)
		}
	}
	if goVersion == "" {
		t.Fatal("go.mod has no go directive")
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	got := regexp.MustCompile(`Go (\d+\.\d+(?:\.\d+)?) or later`).FindAllStringSubmatch(string(readme), -1)
	if len(got) == 0 {
		t.Fatal(`README names no "Go X or later"`)
	}
	for _, m := range got {
		if m[1] != goVersion {
			t.Errorf("README says Go %s or later; go.mod's go directive is %s", m[1], goVersion)
		}
	}
}
