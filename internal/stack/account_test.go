package stack

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
)

// The tests in this file pin what a real AWS account would hit and the
// fakes hide (issue 9). Each fails on the template lowfare built before.

// budgetName is the BudgetName the main template gives the budget, with
// ${AWS::Region} as CloudFormation would resolve it in region.
func budgetNameIn(t *testing.T, s *spec.Spec, region string) string {
	t.Helper()
	g := generic(t, build(t, s).Main)
	b := resourcesOfType(g, "AWS::Budgets::Budget")["Budget"]
	name := b["Budget"].(map[string]any)["BudgetName"]
	pattern, ok := name.(map[string]any)["Fn::Sub"].(string)
	if !ok {
		t.Fatalf("BudgetName %v is not a Fn::Sub pattern", name)
	}
	return strings.ReplaceAll(pattern, "${AWS::Region}", region)
}

// Item 1: NotificationsWithSubscribers is create-only, so a change of the
// emails or the alert percentages replaces the budget; the replacement
// must get a name of its own (AWS creates it before deleting the old one).
// The amount is updated in place and keeps the name.
func TestBudgetReplacementGetsANewName(t *testing.T) {
	base := spec.Default()
	name := budgetNameIn(t, base, base.Region)
	for _, c := range []struct {
		what    string
		change  func(*spec.Spec)
		renamed bool
	}{
		{"another email", func(s *spec.Spec) { s.Budget.Emails = append(s.Budget.Emails, "cfo@example.com") }, true},
		{"an email fewer", func(s *spec.Spec) { s.Budget.Emails = nil }, true},
		{"another alert", func(s *spec.Spec) { s.Budget.AlertPercent = []int{50, 80, 100} }, true},
		{"the same emails reordered", func(s *spec.Spec) { s.Budget.Emails = []string{"ops@example.com", "ops@example.com"} }, false},
		{"a new amount", func(s *spec.Spec) { s.Budget.MonthlyUSD = 25 }, false},
	} {
		got := budgetNameIn(t, variant(c.change), base.Region)
		if renamed := got != name; renamed != c.renamed {
			t.Errorf("%s: budget name %q (was %q): renamed %v, want %v", c.what, got, name, renamed, c.renamed)
		}
		if len(got) > maxBudgetName {
			t.Errorf("%s: %q is longer than %d", c.what, got, maxBudgetName)
		}
	}
}

// Item 2: budget and dashboard names are account-wide, so the same app and
// env in two regions must name them apart; the region comes from
// ${AWS::Region}, so a deploy with --region gets it right too.
func TestAccountWideNamesCarryTheRegion(t *testing.T) {
	s := spec.Default()
	east, west := budgetNameIn(t, s, "us-east-1"), budgetNameIn(t, s, "eu-central-1")
	if east == west {
		t.Errorf("budget: both regions get %q", east)
	}
	if got := BudgetName(s); got != east {
		t.Errorf("BudgetName (what ops reads) %q, the template names %q", got, east)
	}
	g := generic(t, build(t, s).Main)
	d := resourcesOfType(g, "AWS::CloudWatch::Dashboard")["Dashboard"]
	pattern, _ := d["DashboardName"].(map[string]any)["Fn::Sub"].(string)
	if !strings.Contains(pattern, "${AWS::Region}") {
		t.Errorf("dashboard name %v does not carry the region", d["DashboardName"])
	}
	out := g["Outputs"].(map[string]any)[OutputBudget].(map[string]any)["Value"]
	if fmt.Sprint(out) != fmt.Sprint(map[string]any{"Fn::Sub": strings.ReplaceAll(east, "us-east-1", "${AWS::Region}")}) {
		t.Errorf("output %s is %v", OutputBudget, out)
	}
}

// manyTags is n tags of a realistic size (keys of 20, values of 40
// characters): the 48 tags made a 173 KB template.
func manyTags(n int) map[string]string {
	tags := map[string]string{}
	for i := range n {
		tags[fmt.Sprintf("team-tag-%02d-abcdefgh", i)] = fmt.Sprintf("value-%02d-%s", i, strings.Repeat("v", 31))
	}
	return tags
}

// Item 8: tags ride on the stack, so 48 of them (the most a spec may have)
// leave the templates far under the inline limit, and no warning; a
// template near the limit is warned about before deploy refuses it.
func TestTemplateSizeWith48Tags(t *testing.T) {
	for _, c := range []struct {
		name string
		s    *spec.Spec
	}{
		{"free alb", variant(func(s *spec.Spec) { s.Tags = manyTags(48) })},
		{"apigw with a domain", variant(func(s *spec.Spec) {
			s.Tags = manyTags(48)
			s.Ingress = spec.Ingress{Kind: spec.IngressAPIGW, Domain: "api.example.com", HostedZoneID: "Z123"}
		})},
		{"serverless apigw", variant(func(s *spec.Spec) {
			s.Tags = manyTags(48)
			s.Profile = spec.ProfileServerless
			s.Ingress = spec.Ingress{Kind: spec.IngressAPIGW}
		})},
	} {
		r := build(t, c.s)
		for name, tmpl := range map[string]*cfn.Template{"main": r.Main, "bootstrap": r.Bootstrap} {
			body, err := json.Marshal(tmpl)
			if err != nil {
				t.Fatal(err)
			}
			if len(body) > sizeWarnAt {
				t.Errorf("%s %s: %d bytes with 48 tags, want under %d", c.name, name, len(body), sizeWarnAt)
			}
		}
		for _, w := range r.Warnings {
			if w.Part == PartTemplate {
				t.Errorf("%s: %s", c.name, w)
			}
		}
		if got := len(StackTags(c.s)); got != 50 {
			t.Errorf("%s: %d stack tags, want 50", c.name, got)
		}
	}

	big := cfn.New("big")
	big.Add("Topic", &cfn.Resource{Type: "AWS::SNS::Topic", Properties: cfn.Props{"DisplayName": strings.Repeat("x", sizeWarnAt)}})
	small := cfn.New("small")
	ws := sizeWarnings(small, big)
	if len(ws) != 1 || !strings.Contains(ws[0].Message, "the main template") {
		t.Errorf("a template at %d bytes: warnings %v, want one for the main template", sizeWarnAt, ws)
	}
	big.Resources["Topic"].Properties["DisplayName"] = strings.Repeat("x", cfn.MaxTemplateBody)
	if ws := sizeWarnings(small, big); len(ws) != 1 || !strings.Contains(ws[0].Message, "deploy will refuse it") {
		t.Errorf("a template over the limit: warnings %v", ws)
	}
}
