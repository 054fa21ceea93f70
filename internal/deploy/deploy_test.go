package deploy

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const stackName = "lowfare-links-dev"

const tplV1 = `{
 "Parameters": {"ImageUri": {"Type": "String"}},
 "Resources": {
  "Table": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": {"BillingMode": "PROVISIONED"}},
  "Role": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/"}},
  "Service": {"Type": "AWS::ECS::Service", "Properties": {"Image": {"Ref": "ImageUri"}}}
 },
 "Outputs": {"URL": {"Value": "http://links.example"}}
}`

// tplV2 adds a log group and drops nothing.
const tplV2 = `{
 "Parameters": {"ImageUri": {"Type": "String"}},
 "Resources": {
  "Table": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": {"BillingMode": "PROVISIONED"}},
  "Role": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/"}},
  "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
  "Service": {"Type": "AWS::ECS::Service", "Properties": {"Image": {"Ref": "ImageUri"}}}
 },
 "Outputs": {"URL": {"Value": "http://links.example"}}
}`

func stackV1(image string) Stack {
	return Stack{Name: stackName, Body: []byte(tplV1), Parameters: map[string]string{"ImageUri": image}}
}

type env struct {
	fake *awsfake.CloudFormation
	out  *bytes.Buffer
	d    *Deployer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	fake := awsfake.NewCloudFormation()
	client := cloudformation.NewFromConfig(awsfake.Config(t, fake))
	out := &bytes.Buffer{}
	return &env{fake: fake, out: out, d: &Deployer{CFN: client, Out: out, Poll: time.Millisecond, Location: time.UTC}}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

var elapsedRE = regexp.MustCompile(`in [0-9hms.µn]+\.`)

// golden compares printed progress with testdata/<name>.golden; elapsed
// times, the only thing that varies, are masked.
func golden(t *testing.T, name, got string) {
	t.Helper()
	got = elapsedRE.ReplaceAllString(got, "in <elapsed>.")
	testutil.Golden(t, filepath.Join("testdata", name+".golden"), []byte(got), *update)
}

func TestCreate(t *testing.T) {
	e := newEnv(t)
	e.fake.SetScenario(stackName, awsfake.CFNScenario{ChangeSetPolls: 2, Outputs: map[string]string{"TableName": "links-table"}})
	res, err := e.d.Deploy(testCtx(t), stackV1("repo@sha256:aaa"))
	if err != nil {
		t.Fatalf("%v\n%s", err, e.out)
	}
	if !res.Changed || res.Status != "CREATE_COMPLETE" {
		t.Errorf("result %+v; want a changed CREATE_COMPLETE", res)
	}
	if res.Outputs["URL"] != "http://links.example" || res.Outputs["TableName"] != "links-table" {
		t.Errorf("outputs %v", res.Outputs)
	}
	golden(t, "create", e.out.String())
	if got := e.fake.StackParameters(stackName)["ImageUri"]; got != "repo@sha256:aaa" {
		t.Errorf("ImageUri parameter %q", got)
	}
}

func TestUpdateImageChangesOneResource(t *testing.T) {
	e := newEnv(t)
	if _, err := e.d.Deploy(testCtx(t), stackV1("repo@sha256:aaa")); err != nil {
		t.Fatal(err)
	}
	e.out.Reset()
	res, err := e.d.Deploy(testCtx(t), stackV1("repo@sha256:bbb"))
	if err != nil {
		t.Fatalf("%v\n%s", err, e.out)
	}
	if !res.Changed || res.Status != "UPDATE_COMPLETE" {
		t.Errorf("result %+v; want a changed UPDATE_COMPLETE", res)
	}
	golden(t, "update", e.out.String())
}

func TestUpdateNoChangeIsNotAnError(t *testing.T) {
	e := newEnv(t)
	if _, err := e.d.Deploy(testCtx(t), stackV1("repo@sha256:aaa")); err != nil {
		t.Fatal(err)
	}
	before := len(e.fake.Calls())
	e.out.Reset()
	res, err := e.d.Deploy(testCtx(t), stackV1("repo@sha256:aaa"))
	if err != nil {
		t.Fatalf("no-change deploy failed: %v", err)
	}
	if res.Changed || res.Outputs["URL"] != "http://links.example" {
		t.Errorf("result %+v; want unchanged with outputs", res)
	}
	calls := e.fake.Calls()[before:]
	if slices.Contains(calls, "ExecuteChangeSet") || !slices.Contains(calls, "DeleteChangeSet") {
		t.Errorf("calls %v; want the empty change set deleted and nothing executed", calls)
	}
}

func TestCreateFailureRollsBack(t *testing.T) {
	e := newEnv(t)
	e.fake.SetScenario(stackName, awsfake.CFNScenario{
		FailResource: "Service",
		FailReason:   "Resource handler returned message: \"Invalid image\" (Status Code: 400)",
	})
	_, err := e.d.Deploy(testCtx(t), stackV1("repo@sha256:aaa"))
	var fe *FailedError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v; want a FailedError", err)
	}
	if fe.Status != "ROLLBACK_COMPLETE" || fe.Resource != "Service (AWS::ECS::Service)" || !strings.Contains(fe.Reason, "Invalid image") {
		t.Errorf("failure %+v", fe)
	}
	golden(t, "create_failed", e.out.String())

	// A dry run has no change set to show for it, and deletes nothing.
	if _, err := e.d.Plan(testCtx(t), stackV1("repo@sha256:aaa")); err == nil || !strings.Contains(err.Error(), "is ROLLBACK_COMPLETE from a failed first deploy") {
		t.Errorf("plan of a ROLLBACK_COMPLETE stack: %v", err)
	}
	if st, _ := e.fake.StackStatus(stackName); st != "ROLLBACK_COMPLETE" {
		t.Errorf("the plan left the stack %s", st)
	}

	// The next deploy replaces the empty rolled-back stack.
	e.fake.SetScenario(stackName, awsfake.CFNScenario{})
	e.out.Reset()
	res, err := e.d.Deploy(testCtx(t), stackV1("repo@sha256:aaa"))
	if err != nil {
		t.Fatalf("redeploy after ROLLBACK_COMPLETE: %v\n%s", err, e.out)
	}
	if res.Status != "CREATE_COMPLETE" || !strings.Contains(e.out.String(), "deleting it before creating it again") {
		t.Errorf("status %s; output:\n%s", res.Status, e.out)
	}
}

func TestUpdateFailureRollsBack(t *testing.T) {
	e := newEnv(t)
	if _, err := e.d.Deploy(testCtx(t), stackV1("repo@sha256:aaa")); err != nil {
		t.Fatal(err)
	}
	e.fake.SetScenario(stackName, awsfake.CFNScenario{FailResource: "Logs", FailReason: "Resource limit exceeded"})
	e.out.Reset()
	_, err := e.d.Deploy(testCtx(t), Stack{Name: stackName, Body: []byte(tplV2), Parameters: map[string]string{"ImageUri": "repo@sha256:aaa"}})
	var fe *FailedError
	if !errors.As(err, &fe) || fe.Status != "UPDATE_ROLLBACK_COMPLETE" || fe.Resource != "Logs (AWS::Logs::LogGroup)" {
		t.Fatalf("err = %v; want Logs failing and UPDATE_ROLLBACK_COMPLETE", err)
	}
	golden(t, "update_failed", e.out.String())
	if st, _ := e.fake.StackStatus(stackName); st != "UPDATE_ROLLBACK_COMPLETE" {
		t.Errorf("stack status %s", st)
	}
}

func TestTimeout(t *testing.T) {
	e := newEnv(t)
	e.fake.SetScenario(stackName, awsfake.CFNScenario{Hang: true})
	e.d.Timeout = 200 * time.Millisecond
	_, err := e.d.Deploy(testCtx(t), stackV1("repo@sha256:aaa"))
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v; want a TimeoutError", err)
	}
	if te.Status != "CREATE_IN_PROGRESS" || te.Stack != stackName {
		t.Errorf("timeout %+v", te)
	}
	if !strings.Contains(err.Error(), "--timeout") {
		t.Errorf("message %q does not say what to do", err)
	}
	if !strings.Contains(e.out.String(), "CREATE_IN_PROGRESS") {
		t.Errorf("progress before the timeout was not printed:\n%s", e.out)
	}
}

func TestCancelStopsWaiting(t *testing.T) {
	e := newEnv(t)
	e.fake.SetScenario(stackName, awsfake.CFNScenario{Hang: true})
	ctx, cancel := context.WithCancel(testCtx(t))
	e.d.Out = cancelAfter{e.out, "CREATE_IN_PROGRESS", cancel}
	_, err := e.d.Deploy(ctx, stackV1("repo@sha256:aaa"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
}

// cancelAfter cancels once a marker is written.
type cancelAfter struct {
	buf    *bytes.Buffer
	marker string
	cancel context.CancelFunc
}

func (c cancelAfter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(c.marker)) {
		c.cancel()
	}
	return c.buf.Write(p)
}

func TestPlanChangesNothing(t *testing.T) {
	e := newEnv(t)
	changes, err := e.d.Plan(testCtx(t), stackV1("repo@sha256:aaa"))
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 3 || changes[0].Action != "Add" {
		t.Errorf("changes %+v; want 3 Adds", changes)
	}
	if _, ok := e.fake.StackStatus(stackName); ok {
		t.Error("the dry run left a stack behind")
	}
	if slices.Contains(e.fake.Calls(), "ExecuteChangeSet") {
		t.Error("the dry run executed its change set")
	}

	if _, err := e.d.Deploy(testCtx(t), stackV1("repo@sha256:aaa")); err != nil {
		t.Fatal(err)
	}
	e.fake.PageSize = 1 // the change set's pages are read to the end
	changes, err = e.d.Plan(testCtx(t), Stack{Name: stackName, Body: []byte(tplV2), Parameters: map[string]string{"ImageUri": "repo@sha256:bbb"}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	PrintChanges(&buf, stackName, changes)
	golden(t, "plan_update", buf.String())
	if got := e.fake.StackParameters(stackName)["ImageUri"]; got != "repo@sha256:aaa" {
		t.Errorf("the dry run changed ImageUri to %q", got)
	}
}

func TestEventPagination(t *testing.T) {
	e := newEnv(t)
	e.fake.PageSize = 2
	e.fake.SetScenario(stackName, awsfake.CFNScenario{StepsPerPoll: 5})
	if _, err := e.d.Deploy(testCtx(t), stackV1("repo@sha256:aaa")); err != nil {
		t.Fatal(err)
	}
	golden(t, "create", e.out.String()) // same events, same order, none twice
}

func TestLiveLine(t *testing.T) {
	e := newEnv(t)
	e.d.Live = true
	if _, err := e.d.Deploy(testCtx(t), stackV1("repo@sha256:aaa")); err != nil {
		t.Fatal(err)
	}
	out := e.out.String()
	if !strings.Contains(out, "\r\x1b[K  "+stackName+": 0 of 3 resources done") {
		t.Errorf("no live line in %q", out)
	}
	// No live line is left on screen: the result is the last line, alone.
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "Stack "+stackName+": CREATE_COMPLETE in ") || !elapsedRE.MatchString(last) {
		t.Errorf("the output does not end with the result line alone: %q", out)
	}
}

func TestDeleteReportsRetained(t *testing.T) {
	e := newEnv(t)
	if _, err := e.d.Deploy(testCtx(t), stackV1("repo@sha256:aaa")); err != nil {
		t.Fatal(err)
	}
	e.out.Reset()
	kept, err := e.d.Delete(testCtx(t), stackName)
	if err != nil {
		t.Fatalf("%v\n%s", err, e.out)
	}
	if len(kept) != 1 || kept[0].LogicalID != "Table" || kept[0].Type != "AWS::DynamoDB::Table" || kept[0].PhysicalID == "" {
		t.Errorf("retained %+v; want the table", kept)
	}
	golden(t, "delete", e.out.String())
	if _, ok := e.fake.StackStatus(stackName); ok {
		t.Error("stack still exists")
	}
	if _, err := e.d.Delete(testCtx(t), stackName); !errors.Is(err, ErrStackNotFound) {
		t.Errorf("second delete: %v; want ErrStackNotFound", err)
	}
}

func TestDeleteFailure(t *testing.T) {
	e := newEnv(t)
	if _, err := e.d.Deploy(testCtx(t), stackV1("repo@sha256:aaa")); err != nil {
		t.Fatal(err)
	}
	e.fake.SetScenario(stackName, awsfake.CFNScenario{FailDelete: "Role", FailDeleteReason: "role in use"})
	_, err := e.d.Delete(testCtx(t), stackName)
	var fe *FailedError
	if !errors.As(err, &fe) || fe.Status != "DELETE_FAILED" || !strings.Contains(fe.Reason, "role in use") {
		t.Fatalf("err = %v; want DELETE_FAILED naming Role", err)
	}
}

func TestTemplateTooLarge(t *testing.T) {
	e := newEnv(t)
	_, err := e.d.Deploy(testCtx(t), Stack{Name: stackName, Body: bytes.Repeat([]byte(" "), cfn.MaxTemplateBody+1)})
	if err == nil || len(e.fake.Calls()) != 0 {
		t.Fatalf("err %v, calls %v; want a local error and no request", err, e.fake.Calls())
	}
}

func TestOrderedOutputs(t *testing.T) {
	got := OrderedOutputs(map[string]string{"A": "1", "URL": "u", "B": "2"}, "URL")
	if want := []string{"URL", "A", "B"}; !slices.Equal(got, want) {
		t.Errorf("got %v; want %v", got, want)
	}
}

// tplRetain has a table created before the resource that fails (IDs are
// created in sorted order by the fake), with the given DeletionPolicy.
func tplRetain(policy string) []byte {
	return []byte(`{"Resources": {
  "Table": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "` + policy + `", "Properties": {"BillingMode": "PROVISIONED"}},
  "Worker": {"Type": "AWS::ECS::Service", "Properties": {"DesiredCount": 1}}
 }}`)
}

// A failed first create with DeletionPolicy Retain leaves the table behind
// (AWS applies Retain to a create rollback): deploy must name it and must
// not claim that nothing remains. With RetainExceptOnCreate the rollback
// deletes it and the claim is true.
func TestCreateFailureListsWhatTheRollbackKept(t *testing.T) {
	for _, tc := range []struct {
		policy string
		kept   bool
	}{{"Retain", true}, {"RetainExceptOnCreate", false}} {
		t.Run(tc.policy, func(t *testing.T) {
			e := newEnv(t)
			e.fake.SetScenario(stackName, awsfake.CFNScenario{FailResource: "Worker"})
			_, err := e.d.Deploy(testCtx(t), Stack{Name: stackName, Body: tplRetain(tc.policy)})
			var fe *FailedError
			if !errors.As(err, &fe) || fe.Status != "ROLLBACK_COMPLETE" {
				t.Fatalf("err = %v; want a ROLLBACK_COMPLETE FailedError", err)
			}
			out := e.out.String()
			nothing := strings.Contains(out, "created nothing that remains")
			listed := strings.Contains(out, "AWS::DynamoDB::Table lowfare-links-dev-Table-") && strings.Contains(out, "aws dynamodb delete-table --table-name lowfare-links-dev-Table-")
			if tc.kept != (len(fe.Retained) == 1) || tc.kept == nothing || tc.kept != listed {
				t.Fatalf("retained %+v, 'nothing remains' %v, table listed %v; output:\n%s", fe.Retained, nothing, listed, out)
			}
			if tc.kept && fe.Retained[0].LogicalID != "Table" {
				t.Errorf("retained %+v; want the table", fe.Retained)
			}

			// The next deploy deletes the rolled-back stack and says again
			// what stays (DescribeStackResources: DELETE_SKIPPED).
			e.fake.SetScenario(stackName, awsfake.CFNScenario{})
			e.out.Reset()
			if _, err := e.d.Deploy(testCtx(t), Stack{Name: stackName, Body: tplRetain(tc.policy)}); err != nil {
				t.Fatalf("redeploy: %v\n%s", err, e.out)
			}
			if again := strings.Contains(e.out.String(), "rollback kept these resources"); again != tc.kept {
				t.Errorf("redeploy names the kept table: %v, want %v; output:\n%s", again, tc.kept, e.out)
			}
		})
	}
}

// CreateChangeSet answering "No updates are to be performed." as an error
// (moto does; so does CloudFormation for some requests) is "no changes",
// as the AWS CLI's deploy treats it, for both deploy and plan.
func TestNoUpdatesErrorIsNoChange(t *testing.T) {
	e := newEnv(t)
	if _, err := e.d.Deploy(testCtx(t), stackV1("repo@sha256:aaa")); err != nil {
		t.Fatal(err)
	}
	e.fake.SetScenario(stackName, awsfake.CFNScenario{NoUpdatesError: true})
	before := len(e.fake.Calls())
	res, err := e.d.Deploy(testCtx(t), stackV1("repo@sha256:aaa"))
	if err != nil {
		t.Fatalf("no-change deploy answered with the error failed: %v", err)
	}
	if res.Changed || res.Status != "CREATE_COMPLETE" || res.Outputs["URL"] != "http://links.example" {
		t.Errorf("result %+v; want unchanged, with status and outputs", res)
	}
	if calls := e.fake.Calls()[before:]; calls[0] != "DescribeStacks" || calls[1] != "CreateChangeSet" || slices.Contains(calls, "ExecuteChangeSet") {
		t.Errorf("calls %v", calls)
	}
	changes, err := e.d.Plan(testCtx(t), stackV1("repo@sha256:aaa"))
	if err != nil || len(changes) != 0 {
		t.Errorf("plan = %v, %v; want no changes", changes, err)
	}
	// A real change still goes through.
	if res, err := e.d.Deploy(testCtx(t), stackV1("repo@sha256:bbb")); err != nil || !res.Changed {
		t.Errorf("changed deploy = %+v, %v", res, err)
	}
}
