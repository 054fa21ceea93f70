package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

func TestSynthWritesBothTemplates(t *testing.T) {
	for _, format := range []string{"json", "yaml"} {
		t.Run(format, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := runCmd(t, "synth", "-f", specFile(t, "app: links\nenv: dev\n"), "--format", format, "-o", dir)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, name := range []string{"lowfare-links-dev-bootstrap.template." + format, "lowfare-links-dev.template." + format} {
				path := filepath.Join(dir, name)
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				var doc map[string]any
				if format == "json" {
					err = json.Unmarshal(data, &doc)
				} else {
					err = yaml.Unmarshal(data, &doc)
				}
				if err != nil {
					t.Fatalf("%s does not parse: %v", name, err)
				}
				if doc["AWSTemplateFormatVersion"] != "2010-09-09" || doc["Resources"] == nil {
					t.Errorf("%s is not a template", name)
				}
				if !strings.Contains(stdout, path) {
					t.Errorf("stdout does not name %s:\n%s", path, stdout)
				}
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 2 {
				t.Errorf("%d files in the output directory, want 2", len(entries))
			}
		})
	}
}

func TestSynthDefaultOutputDirectory(t *testing.T) {
	spec := specFile(t, "app: links\n")
	dir := t.TempDir()
	t.Chdir(dir)
	if code, _, stderr := runCmd(t, "synth", "-f", spec); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, ".lowfare", "out", "lowfare-links-dev.template.json")); err != nil {
		t.Error(err)
	}
}

// A broken rule exits 2 and writes nothing.
func TestSynthRefusesBeforeWriting(t *testing.T) {
	cases := map[string]string{
		"spot with arm64":  "app: links\nservice: {spot: true, arch: arm64}\n",
		"bad fargate size": "app: links\nservice: {cpu: 256, memory: 4096}\n",
		"bad retention":    "app: links\nlogs: {retention_days: 8}\n",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := runCmd(t, "synth", "-f", specFile(t, body), "-o", dir)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", code, stderr)
			}
			if stdout != "" || stderr == "" {
				t.Errorf("stdout %q, stderr %q", stdout, stderr)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the output directory was created: %v", err)
			}
		})
	}
}

// --region takes the place of the spec's region and is checked as the
// file's would be: its form, and that the certificate is in it.
func TestSynthAndPlanCheckTheRegionFlag(t *testing.T) {
	tls := "app: links\nprofile: ha\ningress: {kind: alb, domain: app.example.com, certificate_arn: arn:aws:acm:us-east-1:123456789012:certificate/abc}\n"
	for _, tt := range []struct {
		name, body, region, want string
	}{
		{"not a region", "app: links\n", "mars", "--region: \"mars\" is not an AWS region name"},
		{"certificate elsewhere", tls, "eu-west-1", "the certificate is in us-east-1 but the app is in eu-west-1"},
	} {
		for _, command := range []string{"synth", "plan"} {
			dir := filepath.Join(t.TempDir(), "out")
			args := []string{command, "-f", specFile(t, tt.body), "--region", tt.region}
			if command == "synth" {
				args = append(args, "-o", dir)
			}
			code, stdout, stderr := runCmd(t, args...)
			if code != 2 || !strings.Contains(stderr, tt.want) || stdout != "" {
				t.Errorf("%s %s: exit %d, stdout %q, stderr %q; want 2 and %q", command, tt.name, code, stdout, stderr, tt.want)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s %s: the output directory was created: %v", command, tt.name, err)
			}
		}
	}
	// The same certificate in the region asked for is fine.
	if code, _, stderr := runCmd(t, "plan", "-f", specFile(t, tls), "--region", "us-east-1"); code != 0 {
		t.Errorf("plan --region us-east-1: exit %d: %s", code, stderr)
	}
}

func TestSynthUsageErrors(t *testing.T) {
	spec := specFile(t, "app: links\n")
	for name, args := range map[string][]string{
		"format":       {"synth", "-f", spec, "--format", "toml"},
		"missing file": {"synth", "-f", filepath.Join(t.TempDir(), "nope.yaml")},
		"argument":     {"synth", "extra"},
	} {
		if code, _, _ := runCmd(t, args...); code != 2 {
			t.Errorf("%s: exit %d, want 2", name, code)
		}
	}
}

func TestSynthWarningsGoToStderr(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCmd(t, "synth", "-f", specFile(t, "app: links\ntable: {read: 20, write: 20}\n"), "-o", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "warning: table:") || !strings.Contains(stderr, "$") || strings.Contains(stdout, "warning") {
		t.Errorf("stdout %q\nstderr %q", stdout, stderr)
	}
}

func TestPlanListsPartsThenWarnings(t *testing.T) {
	code, stdout, stderr := runCmd(t, "plan", "-f", specFile(t, "app: links\ntable: {read: 20, write: 20}\n"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	order := []string{"\nregistry (bootstrap stack)\n", "AWS::ECR::Repository", "\nnetwork\n", "AWS::EC2::VPC", "\ningress\n",
		"AWS::ElasticLoadBalancingV2::LoadBalancer", "\nservice\n", "\nscaling\n", "\ntable\n", "\nlogs\n", "\niam\n",
		"\nobservability\n", "\nbudget\n", "CloudWatch alarm metrics: 10", "Warnings:", "beyond the always-free", "a month)"}
	last := -1
	for _, o := range order {
		i := strings.Index(stdout, o)
		if i < 0 || i < last {
			t.Fatalf("%q missing or out of order in:\n%s", o, stdout)
		}
		last = i
	}
}

func TestPlanRefusesBrokenRules(t *testing.T) {
	code, stdout, stderr := runCmd(t, "plan", "-f", specFile(t, "app: links\nservice: {spot: true}\n"))
	if code != 2 || !strings.Contains(stderr, "service.spot") || strings.Contains(stdout, "network") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

func TestSynthAndPlanHelp(t *testing.T) {
	for _, cmd := range []string{"synth", "plan"} {
		code, stdout, _ := runCmd(t, cmd, "--help")
		if code != 0 || !strings.Contains(stdout, "Examples:") || !strings.Contains(stdout, "lowfare "+cmd) {
			t.Errorf("%s --help: exit %d\n%s", cmd, code, stdout)
		}
	}
}

// synth of every example writes exactly the golden templates the stack
// tests review (internal/stack/testdata/golden).
func TestSynthExamplesMatchTheGoldenTemplates(t *testing.T) {
	examples, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	if len(examples) == 0 {
		t.Fatal("no examples")
	}
	for _, ex := range examples {
		name := strings.TrimSuffix(filepath.Base(ex), ".yaml")
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			code, _, stderr := runCmd(t, "synth", "-f", ex, "-o", dir)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			written, _ := filepath.Glob(filepath.Join(dir, "*.template.json"))
			if len(written) != 2 {
				t.Fatalf("wrote %v", written)
			}
			for _, path := range written {
				golden := name + ".json"
				if strings.HasSuffix(path, "-bootstrap.template.json") {
					golden = name + ".bootstrap.json"
				}
				want, err := os.ReadFile(filepath.Join("..", "stack", "testdata", "golden", golden))
				if err != nil {
					t.Fatal(err)
				}
				got, _ := os.ReadFile(path)
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from the golden %s", filepath.Base(path), golden)
				}
			}
		})
	}
}
