package ci

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/rhysd/actionlint"
)

// workflowCases are the workflows lowfare writes: with and without
// previews, with and without a test step, with secrets.
func workflowCases(t *testing.T) map[string][]byte {
	t.Helper()
	base := WorkflowOptions{Options: Options{Repo: "octo-org/links", Branch: "main"}, App: "links", Region: "us-east-1", Spec: "lowfare.yaml", Test: "go test ./...", Install: "latest", GoMod: true}
	cases := map[string]WorkflowOptions{"branch": base}
	p := base
	p.Previews, p.Secrets = true, []string{"ADMIN_TOKEN", "API_KEY"}
	cases["previews"] = p
	n := base
	n.Test, n.Branch, n.Spec, n.GoMod, n.Environment = "", "release/v1", "deploy/lowfare prod.yaml", false, "production"
	cases["no test, odd branch and path"] = n
	out := map[string][]byte{}
	for name, o := range cases {
		w, err := Workflow(o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = w
	}
	return out
}

// TestActionlint runs actionlint (rhysd/actionlint, as a library: the same
// checks as its CLI, without shellcheck unless it is on PATH) over every
// workflow lowfare writes: no finding at all.
func TestActionlint(t *testing.T) {
	for name, w := range workflowCases(t) {
		l, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		errs, err := l.Lint(".github/workflows/lowfare.yml", w, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range errs {
			t.Errorf("%s: %s", name, e.Error())
		}
		if t.Failed() {
			t.Logf("%s:\n%s", name, w)
		}
	}
}

// TestActionlintCatches: the linter under test reports a broken workflow,
// so a quiet TestActionlint means something.
func TestActionlintCatches(t *testing.T) {
	w := workflowCases(t)["previews"]
	broken := bytes.Replace(w, []byte("runs-on: ubuntu-latest"), []byte("runs-on: ubuntu-latest\n    permissions-typo: {}"), 1)
	l, _ := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{})
	errs, err := l.Lint("lowfare.yml", broken, nil)
	if err != nil || len(errs) == 0 {
		t.Fatalf("actionlint found nothing in a broken workflow (%v)", err)
	}
}

// TestWorkflowPermissionsAndPins: no default permissions; id-token only
// where AWS is called; pull-requests: write only for the comment, which
// holds no AWS credentials; every action pinned by a 40-hex commit.
func TestWorkflowPermissionsAndPins(t *testing.T) {
	w := workflowCases(t)["previews"]
	var doc struct {
		Permissions map[string]string
		Jobs        map[string]struct {
			Permissions map[string]string
			Steps       []struct{ Uses string }
		}
	}
	if err := yaml.Unmarshal(w, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Permissions) != 0 {
		t.Errorf("workflow-level permissions %v, want none", doc.Permissions)
	}
	for name, j := range doc.Jobs {
		aws := false
		for _, s := range j.Steps {
			if s.Uses == "" {
				continue
			}
			_, ref, _ := strings.Cut(s.Uses, "@")
			if len(ref) != 40 || strings.Trim(ref, "0123456789abcdef") != "" {
				t.Errorf("%s: %s is not pinned by commit SHA", name, s.Uses)
			}
			aws = aws || strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials@")
		}
		want := map[string]string{"id-token": "write", "contents": "read"}
		if name == "comment" {
			want = map[string]string{"pull-requests": "write"}
			if aws {
				t.Errorf("comment job has AWS credentials")
			}
		}
		if len(j.Permissions) != len(want) {
			t.Errorf("%s: permissions %v, want %v", name, j.Permissions, want)
		}
		for k, v := range want {
			if j.Permissions[k] != v {
				t.Errorf("%s: permissions %v, want %v", name, j.Permissions, want)
			}
		}
	}
}

func TestWorkflowHeaderDetectsEdits(t *testing.T) {
	w := workflowCases(t)["branch"]
	if !Unedited(w) {
		t.Fatal("a workflow as written reads as edited")
	}
	if Unedited(bytes.Replace(w, []byte("go test ./..."), []byte("go test -race ./..."), 1)) {
		t.Error("an edited workflow reads as unedited")
	}
	if Unedited([]byte("name: mine\non: push\n")) {
		t.Error("a workflow lowfare did not write reads as unedited")
	}
	w2, _ := Workflow(WorkflowOptions{Options: Options{Repo: "octo-org/links", Branch: "main"}, App: "links", Region: "us-east-1", Spec: "lowfare.yaml", Test: "go test ./...", Install: "latest", GoMod: true})
	if !bytes.Equal(w, w2) {
		t.Error("the same options gave two workflows")
	}
}

// TestWorkflowDeploysWithTheBoundary: every deploy the workflow runs
// passes the service role and the app's permissions boundary (the service
// role may create no role without it).
func TestWorkflowDeploysWithTheBoundary(t *testing.T) {
	want := `--permissions-boundary "arn:aws:iam::${{ vars.AWS_ACCOUNT_ID }}:policy/` + BoundaryPolicyName("links") + `"`
	for name, w := range workflowCases(t) {
		deploys := 0
		for _, line := range strings.Split(string(w), "\n") {
			if !strings.Contains(line, "lowfare deploy ") {
				continue
			}
			deploys++
			if !strings.Contains(line, "--cfn-role-arn ") || !strings.Contains(line, want) {
				t.Errorf("%s: %q passes no boundary (want %s)", name, strings.TrimSpace(line), want)
			}
		}
		if want := map[bool]int{false: 1, true: 2}[name == "previews"]; deploys != want {
			t.Errorf("%s: %d deploy commands, want %d", name, deploys, want)
		}
	}
}
