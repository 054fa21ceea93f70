package ci

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/testutil"
)

var testOpts = Options{Repo: "octo-org/links", Branch: "main", Previews: true}

// TestCIStackCfnLint runs AWS's CloudFormation linter over the CI stack of
// every spec of the matrix, with and without previews: no finding at all.
func TestCIStackCfnLint(t *testing.T) {
	bin := testutil.CfnLint(t)
	dir := t.TempDir()
	var files []string
	for name, y := range matrix {
		for _, previews := range []bool{false, true} {
			o := testOpts
			o.Previews = previews
			tm, err := Template(mustSpec(t, y), o)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			b, err := tm.JSON()
			if err != nil {
				t.Fatal(err)
			}
			checkPolicyQuotas(t, name, generic(t, tm))
			if len(b) > cfn.MaxTemplateBody {
				t.Errorf("%s: CI template is %d bytes, over the %d CloudFormation takes inline", name, len(b), cfn.MaxTemplateBody)
			}
			f := filepath.Join(dir, name+map[bool]string{false: "", true: "-previews"}[previews]+".json")
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
	}
	slices.Sort(files)
	out, err := exec.Command(bin, append([]string{"--format", "parseable", "--include-checks", "I", "--"}, files...)...).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("cfn-lint: %v\n%s", err, out)
	}
}

// policyOf returns the generic form of a template for inspection.
func generic(t *testing.T, tm *cfn.Template) map[string]any {
	t.Helper()
	b, err := tm.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTrustPolicyPinsRepositoryAndAudience(t *testing.T) {
	for _, previews := range []bool{false, true} {
		o := testOpts
		o.Previews = previews
		tm, err := Template(mustSpec(t, matrix["free-alb"]), o)
		if err != nil {
			t.Fatal(err)
		}
		g := generic(t, tm)
		role := g["Resources"].(map[string]any)["DeployRole"].(map[string]any)["Properties"].(map[string]any)
		st := role["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any)
		if len(st) != 1 {
			t.Fatalf("trust policy has %d statements, want 1", len(st))
		}
		s := st[0].(map[string]any)
		if s["Action"] != "sts:AssumeRoleWithWebIdentity" || s["Effect"] != "Allow" {
			t.Errorf("trust statement %v", s)
		}
		cond := s["Condition"].(map[string]any)
		if len(cond) != 1 || cond["StringEquals"] == nil {
			t.Fatalf("trust condition operators %v: want StringEquals only (StringLike would read * and ? as wildcards)", cond)
		}
		eq := cond["StringEquals"].(map[string]any)
		if eq["token.actions.githubusercontent.com:aud"] != "sts.amazonaws.com" {
			t.Errorf("aud %v", eq["token.actions.githubusercontent.com:aud"])
		}
		var subs []string
		for _, v := range eq["token.actions.githubusercontent.com:sub"].([]any) {
			subs = append(subs, v.(string))
		}
		want := []string{"repo:octo-org/links:ref:refs/heads/main"}
		if previews {
			want = append(want, "repo:octo-org/links:pull_request")
		}
		if !slices.Equal(subs, want) {
			t.Errorf("previews %v: sub %v, want %v", previews, subs, want)
		}
		for _, sub := range subs {
			if strings.ContainsAny(sub, "*?$") || !strings.HasPrefix(sub, "repo:octo-org/links:") {
				t.Errorf("sub %q is not pinned to the repository", sub)
			}
		}
	}
}

// TestNoWildcardActions: neither role has an action with a wildcard
// (Action "*", iam:*, or s3:Get*), and only the deploy role's calls
// that take no resource have Resource "*".
func TestNoWildcardActions(t *testing.T) {
	for name, y := range matrix {
		s := mustSpec(t, y)
		dep, err := DeployStatements(s, testOpts)
		if err != nil {
			t.Fatal(err)
		}
		svc, err := ServiceStatements(s, testOpts)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range append(dep, svc...) {
			if len(st.Actions) == 0 {
				t.Errorf("%s: %s has no action", name, st.Sid)
			}
			for _, a := range st.Actions {
				if strings.ContainsAny(a, "*?") || !strings.Contains(a, ":") {
					t.Errorf("%s: %s: action %q is a wildcard", name, st.Sid, a)
				}
			}
		}
		for _, st := range dep {
			if slices.Contains(st.Resources, "*") && st.Sid != "CallsThatTakeNoResource" && st.Sid != "ListTheAppTasks" {
				t.Errorf("%s: deploy statement %s has Resource *", name, st.Sid)
			}
			for _, a := range st.Actions {
				if strings.HasPrefix(a, "iam:") && a != "iam:PassRole" && a != "iam:GetRole" && a != "iam:CreateServiceLinkedRole" {
					t.Errorf("%s: deploy role may %s", name, a)
				}
			}
		}
		// Also in the template as written.
		tm, err := Template(s, testOpts)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := tm.JSON()
		for _, bad := range []string{`"Action":"*"`, `"iam:*"`, `"Action":["*"]`} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s: template holds %s", name, bad)
			}
		}
	}
}

func TestPassRoleOnlyTheServiceRoleToCloudFormation(t *testing.T) {
	dep, err := DeployStatements(mustSpec(t, matrix["free-alb"]), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, st := range dep {
		if !slices.Contains(st.Actions, "iam:PassRole") {
			continue
		}
		n++
		if len(st.Actions) != 1 || !slices.Equal(st.Resources, []string{"arn:${AWS::Partition}:iam::${AWS::AccountId}:role/lowfare-links-ci-cfn"}) ||
			st.Condition["StringEquals"]["iam:PassedToService"] != "cloudformation.amazonaws.com" {
			t.Errorf("PassRole statement %+v", st)
		}
	}
	if n != 1 {
		t.Errorf("%d statements grant iam:PassRole, want 1", n)
	}
}

func TestEnvironmentReplacesTheBranchSubject(t *testing.T) {
	o := testOpts
	o.Environment = "production"
	if got, want := Subjects(o), []string{"repo:octo-org/links:environment:production", "repo:octo-org/links:pull_request"}; !slices.Equal(got, want) {
		t.Errorf("subjects %v, want %v", got, want)
	}
}

func TestOptionsRefuseWildcards(t *testing.T) {
	for _, o := range []Options{
		{Repo: "*/*", Branch: "main"}, {Repo: "octo-org/*", Branch: "main"}, {Repo: "octo-org", Branch: "main"},
		{Repo: "octo-org/links:ref", Branch: "main"}, {Repo: "octo-org/links", Branch: "*"}, {Repo: "octo-org/links", Branch: "feature/?"},
		{Repo: "octo-org/links", Branch: ""}, {Repo: "octo-org/links", Branch: "a..b"},
		{Repo: "octo-org/links", Branch: "main", Environment: "prod*"}, {Repo: "octo-org/links", Branch: "main", Environment: "a:b"},
	} {
		if err := o.Check(); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if err := (Options{Repo: "octo-org/links.go", Branch: "release/v1"}).Check(); err != nil {
		t.Error(err)
	}
}

// TestServiceRoleCoversExactlyTheTemplateTypes: the service role's actions
// are the handler permissions of the types in the spec's templates (and
// its preview's, with previews), no other type's, and never
// iam:DeleteRolePermissionsBoundary.
func TestServiceRoleCoversExactlyTheTemplateTypes(t *testing.T) {
	actionsOf := func(y string, previews bool) []string {
		o := testOpts
		o.Previews = previews
		st, err := ServiceStatements(mustSpec(t, y), o)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range st {
			if !s.Deny {
				out = append(out, s.Actions...)
			}
		}
		slices.Sort(out)
		return out
	}
	for name, y := range matrix {
		for _, previews := range []bool{false, true} {
			o := testOpts
			o.Previews = previews
			types, err := TemplateTypes(mustSpec(t, y), o)
			if err != nil {
				t.Fatal(err)
			}
			want, err := TypeActions(types)
			if err != nil {
				t.Fatal(err)
			}
			// Less the ones withheld on purpose (removing a role's
			// permissions boundary).
			want = slices.DeleteFunc(want, func(a string) bool { return slices.Contains(withheldActions, a) })
			if got := actionsOf(y, previews); !slices.Equal(got, want) {
				t.Errorf("%s (previews %v): the service role's actions are not the templates' types' handler permissions", name, previews)
			}
		}
	}
	// An ALB spec without previews has no HTTP API: no API Gateway action.
	// Its previews run behind one: API Gateway comes with them.
	if slices.Contains(actionsOf(matrix["free-alb"], false), "apigateway:POST") {
		t.Error("free-alb's service role may create an HTTP API")
	}
	if !slices.Contains(actionsOf(matrix["free-alb"], true), "apigateway:POST") {
		t.Error("free-alb's previews cannot create their HTTP API")
	}
	if slices.Contains(actionsOf(matrix["serverless-url"], false), "ecs:CreateService") {
		t.Error("a serverless spec's service role may create an ECS service")
	}
}

// checkPolicyQuotas holds the policies to IAM's size quotas
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html:
// a role's inline policies 10,240 characters together, a managed policy
// 6,144, whitespace not counted), measured as written, with the Fn::Sub
// patterns longer than the ARNs they become.
func checkPolicyQuotas(t *testing.T, name string, g map[string]any) {
	t.Helper()
	size := func(v any) int {
		b, _ := json.Marshal(v)
		return len(b)
	}
	for id, r := range g["Resources"].(map[string]any) {
		res := r.(map[string]any)
		props, _ := res["Properties"].(map[string]any)
		switch res["Type"] {
		case "AWS::IAM::Role":
			total := 0
			for _, p := range asList(props["Policies"]) {
				total += size(p.(map[string]any)["PolicyDocument"])
			}
			if total > 10240 {
				t.Errorf("%s: role %s has %d characters of inline policy, over IAM's 10,240", name, id, total)
			}
		case "AWS::IAM::ManagedPolicy":
			if n := size(props["PolicyDocument"]); n > 6144 {
				t.Errorf("%s: managed policy %s has %d characters, over IAM's 6,144", name, id, n)
			}
		}
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
