package ops

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/stack"
)

// TestStackFromDeployFake reads a stack made through the deploy side's
// CloudFormation fake (change set, execute, poll), so the ops reading of
// DescribeStacks and its "does not exist" error agree with that fake too.
func TestStackFromDeployFake(t *testing.T) {
	w := newWorld(t)
	cf := awsfake.NewCloudFormation()
	name := w.spec.StackName()
	cf.SetScenario(name, awsfake.CFNScenario{StepsPerPoll: 10, Outputs: map[string]string{
		stack.OutputCluster: testCluster, stack.OutputService: testService, stack.OutputLogGroup: testGroup,
	}})
	client := cloudformation.NewFromConfig(awsfake.Config(t, cf))
	w.clients.CloudFormation = client
	ctx := testCtx(t)

	if _, err := DescribeStack(ctx, client, w.spec); !errors.Is(err, ErrStackNotFound) {
		t.Fatalf("before create: %v, want ErrStackNotFound", err)
	}
	_, err := client.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{
		StackName: aws.String(name), ChangeSetName: aws.String("c1"), ChangeSetType: cfntypes.ChangeSetTypeCreate,
		TemplateBody: aws.String(`{"Resources":{"Topic":{"Type":"AWS::SNS::Topic"}}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	for {
		cs, err := client.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{StackName: aws.String(name), ChangeSetName: aws.String("c1")})
		if err != nil {
			t.Fatal(err)
		}
		if cs.Status == cfntypes.ChangeSetStatusCreateComplete {
			break
		}
	}
	if _, err := client.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{StackName: aws.String(name), ChangeSetName: aws.String("c1")}); err != nil {
		t.Fatal(err)
	}
	var st *Stack
	for st == nil || st.Status != "CREATE_COMPLETE" {
		if st, err = DescribeStack(ctx, client, w.spec); err != nil {
			t.Fatal(err)
		}
		if ctx.Err() != nil {
			t.Fatalf("stack never completed: %+v", st)
		}
	}
	ref, err := ServiceOf(st)
	if err != nil || ref != (ServiceRef{Cluster: testCluster, Service: testService}) {
		t.Fatalf("ServiceOf = %+v, %v", ref, err)
	}
	if _, err := Sleep(ctx, w.clients, w.spec); err != nil {
		t.Fatal(err)
	}
	if sv, _ := w.ECS.Service(testCluster, testService); sv.Desired != 0 {
		t.Fatalf("desired after sleep = %d", sv.Desired)
	}
}
