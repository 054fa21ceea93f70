package release

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/testutil"
)

// Against moto (an AWS emulator nobody here wrote): ReadDeployed gives a
// stack's template as submitted and its tags, and a stack that does not
// exist as awsconf.ErrStackNotFound, from the error moto answers with; the
// same error from DescribeStacks is classified alike.
func TestReadDeployedFromMoto(t *testing.T) {
	awsfake.UseEndpoints(t, map[string]string{"CLOUDFORMATION": testutil.Moto(t)})
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	cf := awsconf.NewClients(cfg).CloudFormation
	ctx := testCtx(t)

	_, err = ReadDeployed(ctx, cf, "lowfare-links-dev-bootstrap")
	if !errors.Is(err, awsconf.ErrStackNotFound) {
		t.Fatalf("a stack moto does not have: %v; want ErrStackNotFound", err)
	}
	_, err = cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("lowfare-links-dev-bootstrap")})
	if err == nil || !awsconf.IsStackNotFound(err) {
		t.Errorf("DescribeStacks of a missing stack: %v; not classified as a missing stack", err)
	}

	// A Go package: an image reference has no bootstrap stack.
	r := mustRelease(t, "app: links\nenv: dev\nregion: us-east-1\nservice:\n  image: .\n")
	if _, err := cf.CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName: aws.String("lowfare-links-dev-bootstrap"), TemplateBody: aws.String(string(r.Bootstrap)),
		Tags: []cftypes.Tag{{Key: aws.String("lowfare:app"), Value: aws.String("links")}},
	}); err != nil {
		t.Fatalf("moto CreateStack: %v", err)
	}
	dep, err := ReadDeployed(ctx, cf, "lowfare-links-dev-bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := dep.Template["Resources"].(map[string]any)["Repository"]; !ok {
		t.Errorf("the deployed template has no Repository: %v", dep.Template)
	}
	if dep.Tags["lowfare:app"] != "links" {
		t.Errorf("tags %v", dep.Tags)
	}
}
