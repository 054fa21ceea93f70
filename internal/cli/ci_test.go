package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/lowfare/lowfare/internal/ci"
)

const ciSpec = "app: links\nenv: dev\nregion: us-east-1\nprofile: ha\nservice: {image: ./cmd/links, port: 8080, secrets: [ADMIN_TOKEN]}\ningress: {kind: alb}\n" +
	"budget: {monthly_usd: 10, emails: [ops@example.com]}\nalarms: {emails: [ops@example.com]}\n"

// lowfareCalls are the lowfare command lines in a workflow's run steps,
// as argument lists (a GitHub expression ${{ ... }} is one word).
func lowfareCalls(t *testing.T, workflow []byte) [][]string {
	t.Helper()
	var doc struct {
		Jobs map[string]struct {
			Steps []struct{ Run string }
		}
	}
	if err := yaml.Unmarshal(workflow, &doc); err != nil {
		t.Fatal(err)
	}
	expr := regexp.MustCompile(`\$\{\{[^}]*\}\}`)
	call := regexp.MustCompile(`(?:^|\||\$\(|&&|;)\s*lowfare\s+([^|)\n;&]*)`)
	var out [][]string
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range doc.Jobs {
			if !yield(k) {
				return
			}
		}
	}) {
		for _, st := range doc.Jobs[name].Steps {
			for _, line := range strings.Split(st.Run, "\n") {
				for _, m := range call.FindAllStringSubmatch(expr.ReplaceAllString(line, "EXPR"), -1) {
					out = append(out, shellWords(m[1]))
				}
			}
		}
	}
	return out
}

// shellWords splits a command line as a shell would for the quoting the
// workflow uses: words separated by blanks, "..." and '...' kept whole.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// checkCall parses one lowfare command line with the CLI's own command
// tree: the command must exist and run, and its flags and arguments must
// parse, so a renamed command or flag fails.
func checkCall(args []string) error {
	root := NewRoot(strings.NewReader(""), io.Discard, io.Discard)
	cmd, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if cmd == root || !cmd.Runnable() {
		return errf("%q is not a lowfare command", strings.Join(args, " "))
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return errf("%s: %v", cmd.CommandPath(), err)
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		return errf("%s: %v", cmd.CommandPath(), err)
	}
	return nil
}

func errf(format string, args ...any) error { return usageErrf(format, args...) }

func previewWorkflow(t *testing.T) []byte {
	t.Helper()
	w, err := ci.Workflow(ci.WorkflowOptions{
		Options: ci.Options{Repo: "octo-org/links", Branch: "main", Previews: true},
		App:     "links", Region: "us-east-1", Spec: "lowfare.yaml", Test: "go test ./...",
		Secrets: []string{"ADMIN_TOKEN"}, Install: "latest",
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestWorkflowCommandsAreTheCLIs: every lowfare command the workflow runs
// parses with the CLI's commands, flags and arguments.
func TestWorkflowCommandsAreTheCLIs(t *testing.T) {
	calls := lowfareCalls(t, previewWorkflow(t))
	var seen []string
	for _, c := range calls {
		if err := checkCall(c); err != nil {
			t.Errorf("workflow runs `lowfare %s`: %v", strings.Join(c, " "), err)
		}
		seen = append(seen, c[0]+" "+c[1])
	}
	// The parser found what the workflow does (else the test checks nothing).
	for _, want := range []string{"plan --check", "deploy -f", "status -f", "cost -f", "destroy -f", "secrets set", "secrets rm"} {
		if !slices.Contains(seen, want) {
			t.Errorf("no `lowfare %s` found in the workflow; found %q", want, seen)
		}
	}
}

// TestWorkflowCommandCheckCatchesRenames: a flag or command the CLI does
// not have fails the check.
func TestWorkflowCommandCheckCatchesRenames(t *testing.T) {
	w := previewWorkflow(t)
	for old, renamed := range map[string]string{
		"--delete-data":  "--delete-all",
		"--cfn-role-arn": "--cfn-role",
		"plan --check":   "plan --checks",
		"secrets rm":     "secrets remove",
		"--preview":      "--previews",
	} {
		bad := bytes.ReplaceAll(w, []byte(old), []byte(renamed))
		failed := false
		for _, c := range lowfareCalls(t, bad) {
			failed = failed || checkCall(c) != nil
		}
		if !failed {
			t.Errorf("renaming %s to %s went unnoticed", old, renamed)
		}
	}
}

func TestCIInitIdempotentAndKeepsEdits(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("lowfare.yaml", []byte(ciSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "ci", "init", "github", "--repo", "octo-org/links", "--previews")
	if code != 0 || !strings.Contains(out, "wrote .github/workflows/lowfare.yml") || !strings.Contains(out, "lowfare ci deploy --repo octo-org/links --previews") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	first, _ := os.ReadFile(ci.WorkflowPath)
	tmpl, err := os.ReadFile(filepath.Join(".github", "lowfare", "lowfare-links-ci.template.json"))
	if err != nil || !json.Valid(tmpl) {
		t.Fatalf("template: %v", err)
	}
	code, out, _ = runCmd(t, "ci", "init", "github", "--repo", "octo-org/links", "--previews")
	if again, _ := os.ReadFile(ci.WorkflowPath); code != 0 || !bytes.Equal(first, again) || !strings.Contains(out, "unchanged: .github/workflows/lowfare.yml") {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}
	// Without --previews the unedited workflow is replaced.
	if code, out, _ = runCmd(t, "ci", "init", "github", "--repo", "octo-org/links"); code != 0 || !strings.Contains(out, "updated") {
		t.Fatalf("changed flags: exit %d\n%s", code, out)
	}
	edited := []byte(strings.Replace(string(first), "go test ./...", "go test -race ./...", 1))
	if err := os.WriteFile(ci.WorkflowPath, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCmd(t, "ci", "init", "github", "--repo", "octo-org/links", "--previews")
	if now, _ := os.ReadFile(ci.WorkflowPath); code != ExitUsage || !bytes.Equal(now, edited) || !strings.Contains(errOut, "edited since lowfare wrote it") {
		t.Fatalf("edited workflow: exit %d, kept %v\n%s", code, bytes.Equal(now, edited), errOut)
	}
	if code, _, errOut = runCmd(t, "ci", "init", "github", "--repo", "octo-org/links", "--previews", "--force"); code != 0 {
		t.Fatalf("--force: exit %d\n%s", code, errOut)
	}
	if now, _ := os.ReadFile(ci.WorkflowPath); !bytes.Equal(now, first) {
		t.Error("--force did not write the workflow")
	}
	for _, args := range [][]string{
		{"ci", "init", "github"},
		{"ci", "init", "github", "--repo", "octo-org/*"},
		{"ci", "init", "gitlab", "--repo", "octo-org/links"},
		{"ci", "init", "github", "--repo", "octo-org/links", "--branch", "*"},
	} {
		if code, _, _ := runCmd(t, args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestEnvAndPreviewFlags: --env names another environment of the spec,
// validated as env: is; --preview prices the preview shape.
func TestEnvAndPreviewFlags(t *testing.T) {
	f := specFile(t, ciSpec)
	code, out, errOut := runCmd(t, "cost", "-f", f, "--format", "json")
	if code != 0 {
		t.Fatalf("cost: exit %d\n%s", code, errOut)
	}
	var full, preview struct {
		TotalUSD float64 `json:"total_usd"`
	}
	if err := json.Unmarshal([]byte(out), &full); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCmd(t, "cost", "-f", f, "--env", "pr-7", "--preview", "--format", "json")
	if code != 0 {
		t.Fatalf("cost --preview: exit %d\n%s", code, errOut)
	}
	if err := json.Unmarshal([]byte(out), &preview); err != nil {
		t.Fatal(err)
	}
	// The ha spec behind an ALB costs tens of dollars; its preview, asleep
	// behind an HTTP API, cents to a dollar or two.
	if !(preview.TotalUSD > 0 && preview.TotalUSD < 3 && full.TotalUSD > 10*preview.TotalUSD) {
		t.Errorf("preview $%.2f, the spec $%.2f", preview.TotalUSD, full.TotalUSD)
	}
	dir := t.TempDir()
	ref := specFile(t, strings.Replace(ciSpec, "./cmd/links", "public.ecr.aws/docker/library/nginx:latest", 1))
	if code, out, errOut = runCmd(t, "synth", "-f", ref, "--env", "pr-7", "--preview", "-o", dir); code != 0 || !strings.Contains(out, "lowfare-links-pr-7.template.json") {
		t.Fatalf("synth --env: exit %d\n%s\n%s", code, out, errOut)
	}
	body, _ := os.ReadFile(filepath.Join(dir, "lowfare-links-pr-7.template.json"))
	for _, want := range []string{"AWS::ApiGatewayV2::Api", "PAY_PER_REQUEST", "/lowfare/links/pr-7/ADMIN_TOKEN"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("preview template lacks %s", want)
		}
	}
	if strings.Contains(string(body), "AWS::ElasticLoadBalancingV2::LoadBalancer") {
		t.Error("preview template has a load balancer")
	}
	initFile := filepath.Join(t.TempDir(), "lowfare.yaml")
	if code, _, errOut := runCmd(t, "init", "--app", "demo", "--env", "qa", "-f", initFile); code != 0 {
		t.Fatalf("init --env: exit %d\n%s", code, errOut)
	} else if b, _ := os.ReadFile(initFile); !strings.Contains(string(b), "\nenv: qa ") {
		t.Errorf("init --env qa wrote:\n%s", b)
	}
	if code, _, _ := runCmd(t, "init", "--app", "demo", "--preview", "-f", filepath.Join(t.TempDir(), "x.yaml")); code != ExitUsage {
		t.Errorf("init --preview: exit %d, want 2", code)
	}
	for _, env := range []string{"PR-7", "pr_7", "pr-123456789", "7"} {
		code, _, errOut := runCmd(t, "cost", "-f", f, "--env", env)
		if code != ExitUsage || !strings.Contains(errOut, "--env") {
			t.Errorf("--env %s: exit %d\n%s", env, code, errOut)
		}
	}
}

// TestPermissionsBoundaryFlagWantsAPolicyARN: deploy refuses a boundary
// that is not an IAM managed policy ARN before any AWS call (exit 2).
func TestPermissionsBoundaryFlagWantsAPolicyARN(t *testing.T) {
	for arn, ok := range map[string]bool{
		"": true,
		"arn:aws:iam::123456789012:policy/lowfare-links-boundary":    true,
		"arn:aws-cn:iam::123456789012:policy/lowfare-links-boundary": true,
		"lowfare-links-boundary":                                     false,
		"arn:aws:iam::123456789012:role/lowfare-links-ci-cfn":        false,
		"arn:aws:s3:::bucket/policy/lowfare-links-boundary":          false,
	} {
		if err := checkBoundaryARN(arn); (err == nil) != ok {
			t.Errorf("%q: %v, want ok %v", arn, err, ok)
		}
	}
}
