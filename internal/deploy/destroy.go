package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// Retained is a resource CloudFormation kept when it deleted its stack
// (DeletionPolicy Retain): it still exists, and may still cost money.
type Retained struct {
	LogicalID, Type, PhysicalID string
}

// Delete deletes the stack and waits, streaming events. It returns the
// resources the stack retained; a stack that does not exist is
// ErrStackNotFound.
func (d *Deployer) Delete(ctx context.Context, name string) ([]Retained, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	cur, err := d.describe(ctx, name)
	if err != nil {
		return nil, d.wrap(ctx, name, "", err)
	}
	if s := string(cur.StackStatus); s != "DELETE_FAILED" && s != "REVIEW_IN_PROGRESS" && !terminalStack(s) {
		return nil, fmt.Errorf("stack %s is busy (%s): wait until it finishes (lowfare status), then destroy again", name, s)
	}
	return d.deleteAndWait(ctx, name, aws.ToString(cur.StackId))
}

func (d *Deployer) deleteAndWait(ctx context.Context, name, id string) ([]Retained, error) {
	w := &watcher{d: d, stack: name, stackID: id, done: map[string]bool{}}
	if err := w.mark(ctx); err != nil {
		return nil, d.wrap(ctx, name, "", err)
	}
	d.printf("Deleting stack %s.\n", name)
	if _, err := d.CFN.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String(id), RoleARN: d.roleARN()}); err != nil {
		return nil, d.wrap(ctx, name, "", fmt.Errorf("deleting stack %s: %w", name, err))
	}
	final, err := w.wait(ctx)
	if errors.Is(err, ErrStackNotFound) { // some endpoints forget a deleted stack at once
		return retained(w.events), nil
	}
	if err != nil {
		return nil, err
	}
	if final.StackStatus != types.StackStatusDeleteComplete {
		return nil, w.failure(final)
	}
	d.printf("Stack %s: DELETE_COMPLETE in %s.\n", name, w.elapsed())
	return retained(w.events), nil
}

// skipped lists the stack's resources in DELETE_SKIPPED: those a rollback
// or delete kept (DescribeStackResources).
func (d *Deployer) skipped(ctx context.Context, name string) ([]Retained, error) {
	out, err := d.CFN.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("listing the resources of stack %s: %w", name, err)
	}
	var kept []Retained
	for _, r := range out.StackResources {
		if r.ResourceStatus == types.ResourceStatusDeleteSkipped {
			kept = append(kept, Retained{LogicalID: aws.ToString(r.LogicalResourceId), Type: aws.ToString(r.ResourceType), PhysicalID: aws.ToString(r.PhysicalResourceId)})
		}
	}
	return kept, nil
}

// PhysicalID returns the physical ID of a stack's resource by logical ID
// ("" when the stack has no such resource), read the way CloudFormation
// reports it: for a stack whose outputs are missing (made by an older
// lowfare, or by an endpoint such as moto whose change sets leave Outputs
// empty).
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackResources.html
func (d *Deployer) PhysicalID(ctx context.Context, stack, logicalID string) (string, error) {
	out, err := d.CFN.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String(stack), LogicalResourceId: aws.String(logicalID)})
	if err != nil {
		return "", fmt.Errorf("finding %s in stack %s: %w", logicalID, stack, err)
	}
	for _, r := range out.StackResources {
		if aws.ToString(r.LogicalResourceId) == logicalID {
			return aws.ToString(r.PhysicalResourceId), nil
		}
	}
	return "", nil
}

// PrintRetained lists retained resources, one a line, with how to delete
// a table (the resource lowfare retains on purpose).
func PrintRetained(w io.Writer, kept []Retained) {
	for _, r := range kept {
		line := fmt.Sprintf("  %s %s (DeletionPolicy Retain)", r.Type, r.PhysicalID)
		if r.Type == "AWS::DynamoDB::Table" {
			line += fmt.Sprintf("; delete it with: aws dynamodb delete-table --table-name %s", r.PhysicalID)
		}
		fmt.Fprintln(w, line)
	}
}

func retained(evs []types.StackEvent) []Retained {
	var out []Retained
	for _, e := range evs {
		if e.ResourceStatus == types.ResourceStatusDeleteSkipped {
			out = append(out, Retained{
				LogicalID:  aws.ToString(e.LogicalResourceId),
				Type:       aws.ToString(e.ResourceType),
				PhysicalID: aws.ToString(e.PhysicalResourceId),
			})
		}
	}
	return out
}
