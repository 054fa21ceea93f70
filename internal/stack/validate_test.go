package stack

import (
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
)

// Every template lowfare emits, for every example and variant, validates
// against the CloudFormation registry schemas with zero problems.
func TestTemplatesValidateAgainstRegistrySchemas(t *testing.T) {
	for _, c := range allSpecs(t) {
		t.Run(c.name, func(t *testing.T) {
			r := build(t, c.spec)
			if r.Bootstrap != nil {
				validate(t, "bootstrap", r.Bootstrap)
			}
			validate(t, "main", r.Main)
		})
	}
}

// The same helper fails a deliberately broken template, so the test above
// can fail.
func TestBrokenTemplateFailsValidation(t *testing.T) {
	breaks := map[string]func(*cfn.Template){
		"unknown property": func(m *cfn.Template) { m.Resources["Service"].Properties["Colour"] = "blue" },
		"bad nested enum": func(m *cfn.Template) {
			m.Resources["Service"].Properties["NetworkConfiguration"].(map[string]any)["AwsvpcConfiguration"].(map[string]any)["AssignPublicIp"] = "YES"
		},
		"nested unknown property": func(m *cfn.Template) {
			m.Resources["TaskDefinition"].Properties["ContainerDefinitions"].([]any)[0].(map[string]any)["Colour"] = "blue"
		},
		"missing required": func(m *cfn.Template) { delete(m.Resources["LoadBalancerSecurityGroup"].Properties, "GroupDescription") },
		"read-only set":    func(m *cfn.Template) { m.Resources["Table"].Properties["Arn"] = "arn:aws:dynamodb:::table/x" },
		"wrong type":       func(m *cfn.Template) { m.Resources["TargetGroup"].Properties["Port"] = "eighty" },
		"dangling Ref":     func(m *cfn.Template) { m.Resources["Service"].Properties["Cluster"] = cfn.Ref("NoCluster") },
		"bad attribute":    func(m *cfn.Template) { m.Outputs["URL"].Value = cfn.GetAtt("LoadBalancer", "Url") },
	}
	for name, brk := range breaks {
		t.Run(name, func(t *testing.T) {
			r := build(t, variant(func(*spec.Spec) {}))
			brk(r.Main)
			problems, err := registry(t).ValidateTemplate(r.Main)
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) == 0 {
				t.Fatal("a broken template validated")
			}
			var msgs []string
			for _, p := range problems {
				msgs = append(msgs, p.String())
			}
			t.Logf("%s", strings.Join(msgs, "\n"))
		})
	}
}
