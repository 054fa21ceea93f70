package ci

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
	"github.com/lowfare/lowfare/internal/testutil"
)

// withPermissions is a spec whose app asks for service.permissions: they
// belong in the boundary too.
const withPermissions = "app: links\nenv: dev\nregion: us-east-1\nprofile: free\n" +
	"service: {image: ./cmd/links, port: 8080, idle: {after: 15m}, permissions: [{actions: ['s3:GetObject', 's3:PutObject'], resources: ['arn:aws:s3:::links-uploads/*']}]}\n" +
	"ingress: {kind: apigw}\n"

// templateRoleActions reads, from the templates as CloudFormation gets
// them, every action any role's policy allows.
func templateRoleActions(t *testing.T, specs ...*spec.Spec) []string {
	t.Helper()
	set := map[string]bool{}
	for _, s := range specs {
		res, err := stack.Build(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, tm := range []*cfn.Template{res.Bootstrap, res.Main} {
			if tm == nil {
				continue
			}
			for _, r := range generic(t, tm)["Resources"].(map[string]any) {
				r := r.(map[string]any)
				if r["Type"] != "AWS::IAM::Role" {
					continue
				}
				props := r["Properties"].(map[string]any)
				if len(asList(props["ManagedPolicyArns"])) > 0 {
					t.Errorf("a role attaches managed policies %v: add what they grant here and to managedPolicyActions", props["ManagedPolicyArns"])
				}
				for _, p := range asList(props["Policies"]) {
					for _, st := range asList(p.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"]) {
						for _, a := range asList(st.(map[string]any)["Action"]) {
							set[a.(string)] = true
						}
					}
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// boundaryOf is the boundary policy's actions as the CI stack writes them.
func boundaryOf(t *testing.T, tm *cfn.Template) []string {
	t.Helper()
	r := generic(t, tm)["Resources"].(map[string]any)["PermissionsBoundary"].(map[string]any)
	props := r["Properties"].(map[string]any)
	if r["Type"] != "AWS::IAM::ManagedPolicy" || props["ManagedPolicyName"] != BoundaryPolicyName("links") {
		t.Fatalf("boundary resource %v", r)
	}
	st := asList(props["PolicyDocument"].(map[string]any)["Statement"])
	if len(st) != 1 || st[0].(map[string]any)["Effect"] != "Allow" || st[0].(map[string]any)["Resource"] != "*" {
		t.Fatalf("boundary statements %v, want one Allow on *", st)
	}
	var out []string
	for _, a := range asList(st[0].(map[string]any)["Action"]) {
		out = append(out, a.(string))
	}
	return out
}

// TestBoundaryIsTheTemplatesRoles: the boundary allows exactly the union
// of what the roles of the spec's templates (and its preview's) allow,
// service.permissions included: no role lacks a permission it was given,
// and no more is allowed.
func TestBoundaryIsTheTemplatesRoles(t *testing.T) {
	cases := maps.Clone(matrix)
	cases["with-permissions"] = withPermissions
	for name, y := range cases {
		for _, previews := range []bool{false, true} {
			o := testOpts
			o.Previews = previews
			s := mustSpec(t, y)
			specs := []*spec.Spec{s}
			if previews {
				specs = append(specs, previewOf(t, mustSpec(t, y), "pr-7"))
			}
			want := templateRoleActions(t, specs...)
			tm, err := Template(s, o)
			if err != nil {
				t.Fatal(err)
			}
			got := boundaryOf(t, tm)
			if !slices.Equal(got, want) {
				t.Errorf("%s (previews %v): boundary allows %v, the templates' roles %v", name, previews, got, want)
			}
			for _, a := range got {
				if a == "*" || strings.HasSuffix(a, ":*") || strings.HasPrefix(a, "iam:") && a != "iam:PassRole" {
					t.Errorf("%s: boundary allows %s", name, a)
				}
			}
		}
	}
	got := boundaryOf(t, must(Template(mustSpec(t, withPermissions), testOpts)))
	for _, a := range []string{"s3:GetObject", "s3:PutObject"} {
		if !slices.Contains(got, a) {
			t.Errorf("service.permissions' %s is not in the boundary", a)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestBoundaryKnowsManagedPolicies: an AWS managed policy a role attaches
// counts with what it grants; one the boundary does not know is an error,
// never a boundary that silently lacks its actions.
func TestBoundaryKnowsManagedPolicies(t *testing.T) {
	acts, err := roleActions(cfn.Props{"ManagedPolicyArns": []any{
		cfn.Sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"),
		"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"ecr:GetAuthorizationToken", "ecr:BatchGetImage", "logs:CreateLogGroup", "logs:PutLogEvents"} {
		if !slices.Contains(acts, a) {
			t.Errorf("managed policies' actions %v lack %s", acts, a)
		}
	}
	if _, err := roleActions(cfn.Props{"ManagedPolicyArns": []any{"arn:aws:iam::aws:policy/AdministratorAccess"}}); err == nil {
		t.Error("an unknown managed policy was accepted")
	}
	if _, err := roleActions(cfn.Props{"Policies": []any{map[string]any{"PolicyName": "p", "PolicyDocument": map[string]any{
		"Statement": []any{map[string]any{"Effect": "Allow", "NotAction": []any{"iam:*"}, "Resource": "*"}}}}}}); err == nil {
		t.Error("a NotAction statement was accepted")
	}
}

// conditionHolds evaluates a statement's condition block the way IAM
// does for the operators lowfare writes
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
// every key must hold; a key the request does not carry fails
// StringEquals and ArnEquals/ArnLike ("If the key that you specify in a
// policy condition is not present in the request context, the values do
// not match"); a list of values matches any of them.
func conditionHolds(t *testing.T, cond map[string]map[string]any, request map[string]string) bool {
	t.Helper()
	for op, kv := range cond {
		for key, want := range kv {
			have, ok := request[key]
			if !ok {
				return false
			}
			var values []string
			switch w := want.(type) {
			case string:
				values = []string{w}
			case []any:
				for _, x := range w {
					values = append(values, x.(string))
				}
			}
			match := false
			for _, v := range values {
				v = pseudo(t, v)
				switch op {
				case "StringEquals", "ArnEquals":
					match = match || v == have
				case "StringLike", "ArnLike":
					match = match || glob(v, have)
				default:
					t.Fatalf("condition operator %s: teach conditionHolds", op)
				}
			}
			if !match {
				return false
			}
		}
	}
	return true
}

// allowedWith reports whether some statement allows action on arn for a
// request carrying the given condition keys.
func allowedWith(t *testing.T, st []Statement, action, arn string, request map[string]string) bool {
	allow := false
	for _, s := range st {
		if !slices.ContainsFunc(s.Actions, func(a string) bool { return strings.EqualFold(a, action) }) {
			continue
		}
		for _, r := range s.Resources {
			if arnMatches(pseudo(t, r), arn) && conditionHolds(t, s.Condition, request) {
				if s.Deny {
					return false // an explicit deny wins over every allow
				}
				allow = true
			}
		}
	}
	return allow
}

// TestServiceRoleMakesRolesOnlyWithTheBoundary evaluates the service
// role's statements: a role of the app is created (and given policies)
// only with the app's boundary; without one, with another app's or with
// an AWS managed policy as the boundary, IAM denies it; the boundary is
// never removed; roles outside the app are out of reach either way.
func TestServiceRoleMakesRolesOnlyWithTheBoundary(t *testing.T) {
	for name, y := range matrix {
		st, err := ServiceStatements(mustSpec(t, y), testOpts)
		if err != nil {
			t.Fatal(err)
		}
		role := "arn:aws:iam::" + evalAccount + ":role/lowfare-links-pr-7-TaskRole-1A2B3C4D5E6F"
		ours := "arn:aws:iam::" + evalAccount + ":policy/lowfare-links-boundary"
		boundary := map[string]string{"iam:PermissionsBoundary": ours}
		ciDeploy := "arn:aws:iam::" + evalAccount + ":role/" + DeployRoleName("links")
		ciService := "arn:aws:iam::" + evalAccount + ":role/" + ServiceRoleName("links")
		none := map[string]string{}
		for _, c := range []struct {
			action, arn string
			request     map[string]string
			want        bool
		}{
			{"iam:CreateRole", role, boundary, true},
			{"iam:CreateRole", role, none, false},
			{"iam:CreateRole", role, map[string]string{"iam:PermissionsBoundary": "arn:aws:iam::" + evalAccount + ":policy/lowfare-other-boundary"}, false},
			{"iam:CreateRole", role, map[string]string{"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"}, false},
			{"iam:CreateRole", role, map[string]string{"iam:PermissionsBoundary": "arn:aws:iam::210987654321:policy/lowfare-links-boundary"}, false},
			{"iam:CreateRole", "arn:aws:iam::" + evalAccount + ":role/admin", boundary, false},
			{"iam:PutRolePolicy", role, boundary, true},
			{"iam:PutRolePolicy", role, none, false},
			{"iam:AttachRolePolicy", role, boundary, true},
			{"iam:AttachRolePolicy", role, none, false},
			{"iam:PutRolePermissionsBoundary", role, boundary, true},
			{"iam:PutRolePermissionsBoundary", role, none, false},
			{"iam:DeleteRolePermissionsBoundary", role, boundary, false},
			{"iam:DeleteRolePermissionsBoundary", role, none, false},
			// Taking permissions away and deleting stay possible, so that
			// a stack made before the boundary can still be deleted.
			{"iam:DeleteRolePolicy", role, none, true},
			{"iam:DeleteRole", role, none, true},
			{"iam:CreateUser", "arn:aws:iam::" + evalAccount + ":user/lowfare-links-x", boundary, false},
			// The CI stack's own roles match lowfare-links-* but are out
			// of reach, boundary or not.
			{"iam:UpdateAssumeRolePolicy", role, none, true},
			{"iam:UpdateAssumeRolePolicy", ciDeploy, none, false},
			{"iam:UpdateAssumeRolePolicy", ciService, none, false},
			{"iam:PutRolePolicy", ciService, boundary, false},
			{"iam:DeleteRolePolicy", ciDeploy, none, false},
			{"iam:DeleteRole", ciService, none, false},
			{"iam:PassRole", ciService, none, false},
		} {
			if got := allowedWith(t, st, c.action, c.arn, c.request); got != c.want {
				t.Errorf("%s: %s on %s with %v: allowed %v, want %v", name, c.action, c.arn, c.request, got, c.want)
			}
		}
	}
}

// TestTemplatesWithTheBoundaryPassCfnLint: the app's templates as a CI
// deploy sends them (every role with the boundary) pass cfn-lint, and
// every role has it.
func TestTemplatesWithTheBoundaryPassCfnLint(t *testing.T) {
	bin := testutil.CfnLint(t)
	dir := t.TempDir()
	var files []string
	const arn = "arn:aws:iam::123456789012:policy/lowfare-links-boundary"
	for name, y := range matrix {
		for _, s := range []*spec.Spec{mustSpec(t, y), previewOf(t, mustSpec(t, y), "pr-7")} {
			res, err := stack.Build(s)
			if err != nil {
				t.Fatal(err)
			}
			res.SetPermissionsBoundary(arn)
			for kind, tm := range map[string]*cfn.Template{"bootstrap": res.Bootstrap, "main": res.Main} {
				if tm == nil {
					continue
				}
				roles := 0
				for id, r := range tm.Resources {
					if r.Type == "AWS::IAM::Role" {
						roles++
						if r.Properties["PermissionsBoundary"] != arn {
							t.Errorf("%s %s: role %s has no boundary", name, s.Env, id)
						}
					}
				}
				if kind == "main" && roles == 0 {
					t.Errorf("%s: no role in the main template", name)
				}
				b, err := json.Marshal(tm)
				if err != nil {
					t.Fatal(err)
				}
				f := filepath.Join(dir, name+"-"+s.Env+"-"+kind+".json")
				if err := os.WriteFile(f, b, 0o644); err != nil {
					t.Fatal(err)
				}
				files = append(files, f)
			}
		}
	}
	slices.Sort(files)
	// Errors and warnings only: the informational findings of these
	// templates are internal/stack's to explain (TestCfnLintMatrix).
	out, err := exec.Command(bin, append([]string{"--format", "parseable", "--regions", "us-east-1", "eu-west-1", "--"}, files...)...).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("cfn-lint: %v\n%s", err, out)
	}
}
