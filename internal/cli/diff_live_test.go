package cli

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/testutil"
)

// diffImageSpec builds the Go package newDepWorld writes: an image
// reference would have no bootstrap stack to compare.
const diffImageSpec = "app: links\nenv: dev\nregion: us-east-1\nservice:\n  image: ./cmd/hello\ntags: {}\n"

// Against the project's CloudFormation fake: deploy, then diff is equal
// (exit 0); a port change is a replacement of the target group (exit 1);
// a tag change shows as a stack tag and a budget tag.
func TestDiffAgainstTheCloudFormationFake(t *testing.T) {
	w := newDepWorld(t, diffImageSpec)
	if code, out, errOut := depRun(t, "", "deploy", "-f", w.spec, "--poll", "1ms"); code != 0 {
		t.Fatalf("deploy exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut := depRun(t, "", "diff", "-f", w.spec)
	if code != 0 || !strings.Contains(out, "diff: no differences (2 stacks)") {
		t.Fatalf("diff after deploy: exit %d\n%s%s", code, out, errOut)
	}
	if err := os.WriteFile(w.spec, []byte(strings.Replace(diffImageSpec, "tags: {}\n", "  port: 9090\ntags:\n  team: web\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = depRun(t, "", "diff", "-f", w.spec)
	if code != ExitFailure {
		t.Fatalf("diff after a port change: exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"Stack lowfare-links-dev-bootstrap\n[+] StackTags.team  add",
		"[!] AWS::ElasticLoadBalancingV2::TargetGroup TargetGroup  replace: Name, Port are create-only",
		"      ~ Properties.Port: 8080 -> 9090  (create-only)",
		"[+] StackTags.team  add",
		"+ Properties.ResourceTags[team]: \"web\"",
		"diff: 0 to add, 0 to remove, 2 to replace, 4 to change in place, 2 other changes (parameters, outputs, stack tags) (lowfare-links-dev-bootstrap, lowfare-links-dev)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = depRun(t, "", "diff", "-f", w.spec, "--format", "json", "--stack", "main")
	var doc struct {
		Equal  bool
		Stacks []struct{ Stack string }
	}
	if code != ExitFailure || json.Unmarshal([]byte(out), &doc) != nil || doc.Equal || len(doc.Stacks) != 1 {
		t.Errorf("diff --format json --stack main: exit %d\n%s", code, out)
	}
}

// Against moto (an AWS emulator nobody here wrote): GetTemplate of a stack
// created from lowfare's bootstrap template is equal; one created from an
// edited template differs in place; a stack that does not exist is all new.
func TestDiffAgainstMoto(t *testing.T) {
	url := testutil.Moto(t)
	awsfake.UseEndpoints(t, map[string]string{"CLOUDFORMATION": url})
	file := specFile(t, strings.Replace(diffImageSpec, "./cmd/hello", ".", 1))
	boot := synthBoot(t, file)

	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	cf := cloudformation.NewFromConfig(cfg)
	create := func(body string) {
		t.Helper()
		if _, err := cf.CreateStack(context.Background(), &cloudformation.CreateStackInput{
			StackName: aws.String("lowfare-links-dev-bootstrap"), TemplateBody: aws.String(body),
			Tags: []cftypes.Tag{{Key: aws.String("lowfare:app"), Value: aws.String("links")}, {Key: aws.String("lowfare:env"), Value: aws.String("dev")}},
		}); err != nil {
			t.Fatalf("moto CreateStack: %v", err)
		}
	}
	create(boot)
	code, out, errOut := runCmd(t, "diff", "-f", file, "--stack", "bootstrap")
	if code != 0 || !strings.Contains(out, "lowfare-links-dev-bootstrap: no differences") {
		t.Fatalf("diff against moto's copy of the same template: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCmd(t, "diff", "-f", file, "--stack", "main")
	if code != ExitFailure || !strings.Contains(out, "(lowfare-links-dev is not deployed: everything is new)") || !strings.Contains(out, "[+] AWS::ECS::Service Service  add") {
		t.Fatalf("diff of a stack moto does not have: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := cf.DeleteStack(context.Background(), &cloudformation.DeleteStackInput{StackName: aws.String("lowfare-links-dev-bootstrap")}); err != nil {
		t.Fatal(err)
	}
	create(strings.Replace(boot, `"MUTABLE"`, `"IMMUTABLE"`, 1))
	code, out, errOut = runCmd(t, "diff", "-f", file, "--stack", "bootstrap")
	if code != ExitFailure || !strings.Contains(out, `~ Properties.ImageTagMutability: "IMMUTABLE" -> "MUTABLE"`) {
		t.Fatalf("diff against an edited template: exit %d\n%s%s", code, out, errOut)
	}
}

func synthBoot(t *testing.T, specPath string) string {
	t.Helper()
	out := t.TempDir()
	if code, _, errOut := runCmd(t, "synth", "-f", specPath, "-o", out); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(out + "/lowfare-links-dev-bootstrap.template.json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"MUTABLE"`) {
		t.Fatal("the bootstrap template no longer has ImageTagMutability MUTABLE: pick another property for this test")
	}
	return string(data)
}

// A stack deployed with --permissions-boundary (as lowfare ci's workflow
// deploys) is equal to diff with the same flag, and differs by the roles'
// PermissionsBoundary without it.
func TestDiffWithThePermissionsBoundary(t *testing.T) {
	const boundary = "arn:aws:iam::123456789012:policy/lowfare-links-boundary"
	w := newDepWorld(t, diffImageSpec)
	if code, out, errOut := depRun(t, "", "deploy", "-f", w.spec, "--poll", "1ms", "--permissions-boundary", boundary); code != 0 {
		t.Fatalf("deploy exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := depRun(t, "", "diff", "-f", w.spec, "--permissions-boundary", boundary); code != 0 || !strings.Contains(out, "diff: no differences (2 stacks)") {
		t.Fatalf("diff --permissions-boundary after such a deploy: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := depRun(t, "", "diff", "-f", w.spec)
	if code != ExitFailure || !strings.Contains(out, "PermissionsBoundary") {
		t.Fatalf("diff without the flag: exit %d, want 1 naming PermissionsBoundary\n%s%s", code, out, errOut)
	}
	if code, _, _ := depRun(t, "", "diff", "-f", w.spec, "--permissions-boundary", "arn:aws:iam::123456789012:role/x"); code != ExitUsage {
		t.Errorf("diff with a role ARN as the boundary: exit %d, want 2", code)
	}
}
