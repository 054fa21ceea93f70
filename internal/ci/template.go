package ci

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
)

// GitHub's OIDC issuer and the audience aws-actions/configure-aws-credentials
// asks for
// (https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services:
// "For the audience, use sts.amazonaws.com if you are using the official
// action").
const (
	GitHubIssuer   = "token.actions.githubusercontent.com"
	GitHubAudience = "sts.amazonaws.com"
)

// Template parameters and outputs of the CI stack.
const (
	ParamExistingProvider = "ExistingOIDCProviderArn"
	OutputDeployRole      = "DeployRoleArn"
	OutputServiceRole     = "ServiceRoleArn"
	OutputBoundary        = "PermissionsBoundaryArn"
	condCreateProvider    = "CreateProvider"
)

// Subjects are the values of the token's sub claim the deploy role
// accepts: pushes to the branch and, with previews, pull requests of the
// repository. GitHub's formats
// (https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect#example-subject-claims):
// "repo:<orgName/repoName>:ref:refs/heads/branchName" and
// "repo:<orgName/repoName>:pull_request". No wildcard: each is compared
// whole with StringEquals. A deploy job in a GitHub environment presents
// "repo:<orgName/repoName>:environment:<environmentName>" instead of the
// branch.
func Subjects(o Options) []string {
	subs := []string{"repo:" + o.Repo + ":ref:refs/heads/" + o.Branch}
	if o.Environment != "" {
		subs = []string{"repo:" + o.Repo + ":environment:" + o.Environment}
	}
	if o.Previews {
		subs = append(subs, "repo:"+o.Repo+":pull_request")
	}
	return subs
}

// Template is the CI stack of the app of s: GitHub's OIDC provider (unless
// the account has one: an account holds one provider per URL, so
// ExistingOIDCProviderArn reuses it), the deploy role GitHub Actions
// assumes, and the CloudFormation service role the deploy role passes.
func Template(s *spec.Spec, o Options) (*cfn.Template, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	deploy, err := DeployStatements(s, o)
	if err != nil {
		return nil, err
	}
	service, err := ServiceStatements(s, o)
	if err != nil {
		return nil, err
	}
	t := cfn.New(fmt.Sprintf("lowfare CI for %s: GitHub Actions of %s deploy it with no stored keys (lowfare ci init)", s.App, o.Repo))
	t.Parameters[ParamExistingProvider] = &cfn.Parameter{
		Type:        "String",
		Default:     "",
		Description: "The ARN of the account's existing OIDC provider for " + GitHubIssuer + " (an account has at most one per URL); empty: the stack creates it",
	}
	t.Conditions[condCreateProvider] = cfn.Equals(cfn.Ref(ParamExistingProvider), "")
	// No ThumbprintList: IAM verifies GitHub's certificate against its
	// library of trusted root CAs and ignores thumbprints for this issuer
	// (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc_verify-thumbprint.html:
	// "IAM ... uses our library of trusted root certificate authorities
	// (CAs) to verify ... GitHub"); the registry schema of
	// AWS::IAM::OIDCProvider requires none.
	t.Add("GitHubOIDCProvider", &cfn.Resource{
		Type:      "AWS::IAM::OIDCProvider",
		Condition: condCreateProvider,
		Properties: cfn.Props{
			"Url":          "https://" + GitHubIssuer,
			"ClientIdList": []any{GitHubAudience},
			"Tags":         cfn.TagList(map[string]string{"lowfare:app": s.App}),
		},
	})
	provider := cfn.If(condCreateProvider, cfn.Ref("GitHubOIDCProvider"), cfn.Ref(ParamExistingProvider))
	t.Add("DeployRole", &cfn.Resource{
		Type: "AWS::IAM::Role",
		Properties: cfn.Props{
			"RoleName":           DeployRoleName(s.App),
			"Description":        "GitHub Actions of " + o.Repo + " deploy lowfare app " + s.App,
			"MaxSessionDuration": 3600,
			"AssumeRolePolicyDocument": policyDoc([]any{map[string]any{
				"Effect":    "Allow",
				"Principal": map[string]any{"Federated": provider},
				"Action":    "sts:AssumeRoleWithWebIdentity",
				"Condition": TrustCondition(o),
			}}),
			"Policies": []any{map[string]any{"PolicyName": "lowfare-deploy", "PolicyDocument": policyDoc(statementsJSON(deploy))}},
		},
	})
	// The permissions boundary of every role the app's templates make:
	// what those roles may ever do, no more (BoundaryActions).
	acts, err := BoundaryActions(s, o)
	if err != nil {
		return nil, err
	}
	boundary, err := boundaryDocument(acts)
	if err != nil {
		return nil, err
	}
	t.Add("PermissionsBoundary", &cfn.Resource{
		Type: "AWS::IAM::ManagedPolicy",
		Properties: cfn.Props{
			"ManagedPolicyName": BoundaryPolicyName(s.App),
			"Description":       "The permissions boundary of lowfare app " + s.App + "'s roles: the most they may do",
			"PolicyDocument":    boundary,
		},
	})
	// The service role's actions exceed what one inline policy holds
	// (10,240 characters for all of a role's inline policies:
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html),
	// so they go in managed policies of at most maxManagedPolicy characters each.
	var managed []any
	for i, chunk := range chunkStatements(service, maxManagedPolicy) {
		id := fmt.Sprintf("ServiceRolePolicy%d", i+1)
		t.Add(id, &cfn.Resource{
			Type: "AWS::IAM::ManagedPolicy",
			Properties: cfn.Props{
				"Description":    fmt.Sprintf("CloudFormation creates lowfare app %s's resources (%d)", s.App, i+1),
				"PolicyDocument": policyDoc(statementsJSON(chunk)),
			},
		})
		managed = append(managed, cfn.Ref(id))
	}
	t.Add("ServiceRole", &cfn.Resource{
		Type: "AWS::IAM::Role",
		Properties: cfn.Props{
			"RoleName":    ServiceRoleName(s.App),
			"Description": "CloudFormation creates lowfare app " + s.App + "'s resources with this role, passed by " + DeployRoleName(s.App),
			"AssumeRolePolicyDocument": policyDoc([]any{map[string]any{
				"Effect":    "Allow",
				"Principal": map[string]any{"Service": "cloudformation.amazonaws.com"},
				"Action":    "sts:AssumeRole",
				// https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": cfn.Ref("AWS::AccountId")}},
			}}),
			"ManagedPolicyArns": managed,
		},
	})
	t.Outputs[OutputDeployRole] = &cfn.Output{Description: "The role the workflow assumes", Value: cfn.GetAtt("DeployRole", "Arn")}
	t.Outputs[OutputServiceRole] = &cfn.Output{Description: "The CloudFormation service role deploy passes", Value: cfn.GetAtt("ServiceRole", "Arn")}
	t.Outputs[OutputBoundary] = &cfn.Output{Description: "The permissions boundary deploy sets on every role (--permissions-boundary)", Value: cfn.Ref("PermissionsBoundary")}
	return t, nil
}

// TrustCondition is the deploy role's trust condition: the token is for
// STS (aud) and from this repository's branch or pull requests (sub),
// both compared whole.
func TrustCondition(o Options) map[string]any {
	subs := []any{}
	for _, s := range Subjects(o) {
		subs = append(subs, s)
	}
	return map[string]any{"StringEquals": map[string]any{
		GitHubIssuer + ":aud": GitHubAudience,
		GitHubIssuer + ":sub": subs,
	}}
}

// maxManagedPolicy keeps each managed policy under IAM's 6,144 characters
// (whitespace not counted) with room for the Fn::Sub expansions.
const maxManagedPolicy = 5000

func policyDoc(statements []any) map[string]any {
	return map[string]any{"Version": "2012-10-17", "Statement": statements}
}

// statementsJSON writes statements as IAM policy JSON, with ARN patterns
// that name pseudo parameters as Fn::Sub.
func statementsJSON(st []Statement) []any {
	var out []any
	for _, s := range st {
		effect := "Allow"
		if s.Deny {
			effect = "Deny"
		}
		m := map[string]any{"Sid": s.Sid, "Effect": effect, "Action": s.Actions, "Resource": subAll(s.Resources)}
		if len(s.Condition) > 0 {
			cond := map[string]any{}
			for op, kv := range s.Condition {
				inner := map[string]any{}
				for k, v := range kv {
					inner[k] = subValue(v)
				}
				cond[op] = inner
			}
			m["Condition"] = cond
		}
		out = append(out, m)
	}
	return out
}

func subAll(ss []string) []any {
	var out []any
	for _, s := range ss {
		out = append(out, subValue(s))
	}
	return out
}

func subValue(v any) any {
	switch v := v.(type) {
	case string:
		if strings.Contains(v, "${AWS::") {
			return cfn.Sub(v)
		}
		return v
	case []any:
		var out []any
		for _, e := range v {
			out = append(out, subValue(e))
		}
		return out
	}
	return v
}

// chunkStatements splits statements (a statement's actions too, when one
// alone is too large) into groups whose policy JSON stays under max.
func chunkStatements(st []Statement, max int) [][]Statement {
	var pieces []Statement
	for _, s := range st {
		acts := slices.Sorted(slices.Values(s.Actions))
		var split []Statement
		for len(acts) > 0 {
			n := len(acts)
			for n > 1 && size(Statement{Sid: s.Sid, Actions: acts[:n], Resources: s.Resources, Condition: s.Condition, Deny: s.Deny}) > max {
				n--
			}
			p := s
			p.Actions = acts[:n]
			split = append(split, p)
			acts = acts[n:]
		}
		if len(split) > 1 {
			for i := range split {
				split[i].Sid = fmt.Sprintf("%s%d", s.Sid, i+1)
			}
		}
		pieces = append(pieces, split...)
	}
	var out [][]Statement
	var cur []Statement
	total := 0
	for _, p := range pieces {
		n := size(p)
		if len(cur) > 0 && total+n > max {
			out = append(out, cur)
			cur, total = nil, 0
		}
		cur = append(cur, p)
		total += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func size(s Statement) int {
	b, _ := json.Marshal(statementsJSON([]Statement{s}))
	return len(b)
}
