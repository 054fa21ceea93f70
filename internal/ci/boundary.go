package ci

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
)

// BoundaryPolicyName is the managed policy the CI stack creates as the
// permissions boundary of every role the app's templates make: the
// service role may create and change roles only with it, so a template
// pushed to the branch cannot make a role that can do more than lowfare's
// own roles need.
func BoundaryPolicyName(app string) string { return "lowfare-" + app + "-boundary" }

// BoundaryARN is the boundary policy's ARN pattern (Fn::Sub syntax).
func BoundaryARN(app string) string { return globalARN("iam", "policy/"+BoundaryPolicyName(app)) }

// maxManagedPolicyChars is IAM's limit for a managed policy, whitespace
// not counted
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html:
// "Managed policy size: 6,144 characters").
const maxManagedPolicyChars = 6144

// managedPolicyActions are what the AWS managed policies a lowfare
// template might attach to a role grant, from their documents in the AWS
// Managed Policy reference
// (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonECSTaskExecutionRolePolicy.html,
// https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html).
// lowfare's templates attach none today (every role's policy is inline
// and scoped to the app's resources); a template that attaches one not
// listed here fails BoundaryActions, so the boundary never silently
// lacks what a role needs.
var managedPolicyActions = map[string][]string{
	"AmazonECSTaskExecutionRolePolicy": {
		"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetAuthorizationToken", "ecr:GetDownloadUrlForLayer",
		"logs:CreateLogStream", "logs:PutLogEvents",
	},
	"AWSLambdaBasicExecutionRole": {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"},
}

// BoundaryActions are the actions of the permissions boundary: the union
// of what every AWS::IAM::Role of the templates of s (and, with previews,
// of its preview) is allowed by its inline policies (service.permissions
// among them) and by the AWS managed policies it attaches, sorted. Read
// from the templates themselves, so the boundary cannot drift from them.
func BoundaryActions(s *spec.Spec, o Options) ([]string, error) {
	templates, err := appTemplates(s, o)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, t := range templates {
		for _, id := range t.LogicalIDs() {
			r := t.Resources[id]
			if r.Type != "AWS::IAM::Role" {
				continue
			}
			acts, err := roleActions(r.Properties)
			if err != nil {
				return nil, fmt.Errorf("role %s: %w", id, err)
			}
			for _, a := range acts {
				set[a] = true
			}
		}
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("the templates hold no role with a permission: no boundary to make")
	}
	return slices.Sorted(maps.Keys(set)), nil
}

// roleActions are the actions a role's Allow statements and attached AWS
// managed policies grant.
func roleActions(props cfn.Props) ([]string, error) {
	// Through JSON: the templates hold typed Go values (cfn.Props,
	// []string) that read the same once marshalled.
	b, err := json.Marshal(props)
	if err != nil {
		return nil, err
	}
	var p struct {
		Policies []struct {
			PolicyDocument struct {
				Statement []map[string]any
			}
		}
		ManagedPolicyArns []any
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	var out []string
	for _, pol := range p.Policies {
		for _, st := range pol.PolicyDocument.Statement {
			if st["Effect"] != "Allow" {
				continue
			}
			if _, ok := st["NotAction"]; ok {
				return nil, fmt.Errorf("a statement with NotAction: its actions cannot be bounded")
			}
			switch a := st["Action"].(type) {
			case string:
				out = append(out, a)
			case []any:
				for _, x := range a {
					s, ok := x.(string)
					if !ok {
						return nil, fmt.Errorf("an action that is not a string: %v", x)
					}
					out = append(out, s)
				}
			default:
				return nil, fmt.Errorf("a statement with no action list: %v", st["Action"])
			}
		}
	}
	for _, m := range p.ManagedPolicyArns {
		arn, _ := m.(string)
		if sub, ok := m.(map[string]any); ok {
			arn, _ = sub["Fn::Sub"].(string)
		}
		_, name, _ := strings.Cut(arn, ":iam::aws:policy/")
		name = name[strings.LastIndex(name, "/")+1:]
		acts, ok := managedPolicyActions[name]
		if !ok {
			return nil, fmt.Errorf("attaches managed policy %v, whose actions the boundary does not know: add them to managedPolicyActions", m)
		}
		out = append(out, acts...)
	}
	return out, nil
}

// boundaryDocument is the boundary policy: the actions on any resource
// (each role's own policy scopes the resources; the boundary caps the
// actions).
func boundaryDocument(actions []string) (map[string]any, error) {
	doc := policyDoc([]any{map[string]any{
		"Sid":      "WhatLowfaresRolesMayDo",
		"Effect":   "Allow",
		"Action":   actions,
		"Resource": "*",
	}})
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	if len(b) > maxManagedPolicyChars {
		return nil, fmt.Errorf("the permissions boundary's %d actions take %d characters, over IAM's %d for a managed policy: use fewer distinct actions in service.permissions", len(actions), len(b), maxManagedPolicyChars)
	}
	return doc, nil
}
