package release

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/cfn/cfndiff"
)

// TemplateReader is the part of the CloudFormation client diff reads
// deployed stacks with; *cloudformation.Client implements it.
type TemplateReader interface {
	GetTemplate(context.Context, *cloudformation.GetTemplateInput, ...func(*cloudformation.Options)) (*cloudformation.GetTemplateOutput, error)
	DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// Deployed is a stack as it is deployed: its template as submitted and its
// stack tags.
type Deployed struct {
	Template map[string]any
	Tags     map[string]string
}

// ReadDeployed reads the stack's template (TemplateStage Original: as
// submitted, before transforms) and its tags, which deploy sets from the
// spec (stack.StackTags) and CloudFormation propagates to the resources.
// A stack that does not exist is awsconf.ErrStackNotFound.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_GetTemplate.html
func ReadDeployed(ctx context.Context, c TemplateReader, name string) (*Deployed, error) {
	out, err := c.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: aws.String(name), TemplateStage: cfntypes.TemplateStageOriginal})
	if awsconf.IsStackNotFound(err) {
		return nil, fmt.Errorf("getting the template of %s: %w", name, awsconf.ErrStackNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("getting the template of %s: %w", name, err)
	}
	doc, err := cfndiff.Parse([]byte(aws.ToString(out.TemplateBody)))
	if err != nil {
		return nil, fmt.Errorf("the template of %s: %w", name, err)
	}
	tags, err := stackTags(ctx, c, name)
	if err != nil {
		return nil, err
	}
	return &Deployed{Template: doc, Tags: tags}, nil
}

func stackTags(ctx context.Context, c TemplateReader, name string) (map[string]string, error) {
	out, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("describing %s: %w", name, err)
	}
	tags := map[string]string{}
	for _, st := range out.Stacks {
		for _, t := range st.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return tags, nil
}
