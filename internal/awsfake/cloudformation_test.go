package awsfake

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"
)

func cfnClient(t *testing.T, f *CloudFormation) *cloudformation.Client {
	t.Helper()
	return cloudformation.NewFromConfig(Config(t, f))
}

func cfnCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

const cfnTestTemplate = `{"Parameters":{"P":{"Type":"String"}},"Resources":{"Role":{"Type":"AWS::IAM::Role","Properties":{}},"Table":{"Type":"AWS::DynamoDB::Table","DeletionPolicy":"Retain"}},"Outputs":{"URL":{"Value":"http://x"}}}`

func TestCFNErrorsAsTheSDKSeesThem(t *testing.T) {
	f := NewCloudFormation()
	c := cfnClient(t, f)
	ctx := cfnCtx(t)

	_, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("nope")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" || ae.ErrorMessage() != "Stack with id nope does not exist" {
		t.Errorf("DescribeStacks of a missing stack: %v", err)
	}

	_, err = c.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: aws.String("arn:nope")})
	var nf *cfntypes.ChangeSetNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("DescribeChangeSet of a missing change set: %v; want ChangeSetNotFoundException", err)
	}

	_, err = c.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{StackName: aws.String("s"), ChangeSetName: aws.String("c"),
		ChangeSetType: cfntypes.ChangeSetTypeCreate, TemplateBody: aws.String(cfnTestTemplate)})
	var ic *cfntypes.InsufficientCapabilitiesException
	if !errors.As(err, &ic) {
		t.Errorf("IAM without capabilities: %v; want InsufficientCapabilitiesException", err)
	}

	_, err = c.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{StackName: aws.String("s"), ChangeSetName: aws.String("c"),
		ChangeSetType: cfntypes.ChangeSetTypeUpdate, TemplateBody: aws.String(cfnTestTemplate), Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityIam}})
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
		t.Errorf("UPDATE of a missing stack: %v", err)
	}

	// AWS answers DeleteStack of a missing stack with success and no Result.
	if _, err := c.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String("nope")}); err != nil {
		t.Errorf("DeleteStack of a missing stack: %v", err)
	}
}

// The fake refuses what CloudFormation refuses before it makes a change
// set, in AWS's words: a TemplateBody over 51,200 bytes, parameters the
// template does not declare, declared parameters without a Default that
// get no value, and values for a template without parameters.
func TestCFNRefusesWhatAWSRefuses(t *testing.T) {
	const tpl = `{"Parameters":{"Image":{"Type":"String"},"Count":{"Type":"Number","Default":"1"}},"Resources":{"T":{"Type":"AWS::SNS::Topic"}}}`
	const bare = `{"Resources":{"T":{"Type":"AWS::SNS::Topic"}}}`
	param := func(k, v string) cfntypes.Parameter {
		return cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)}
	}
	// A body of exactly 51,200 bytes goes through the size check; one more
	// byte does not (padding after the JSON is still the template's body).
	atLimit := tpl + strings.Repeat(" ", 51200-len(tpl))
	for _, c := range []struct {
		name   string
		body   string
		params []cfntypes.Parameter
		want   string // the error message; "" for a change set
	}{
		{"at the size limit", atLimit, []cfntypes.Parameter{param("Image", "i")}, ""},
		{"over the size limit", atLimit + " ", []cfntypes.Parameter{param("Image", "i")},
			"1 validation error detected: Value '" + atLimit + " ' at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to 51200"},
		{"unknown parameter", tpl, []cfntypes.Parameter{param("Image", "i"), param("Imagee", "i"), param("Colour", "red")},
			"Parameters: [Colour, Imagee] do not exist in the template"},
		{"missing parameter", tpl, []cfntypes.Parameter{param("Count", "2")}, "Parameters: [Image] must have values"},
		{"no parameters at all", tpl, nil, "Parameters: [Image] must have values"},
		{"values for a template without parameters", bare, []cfntypes.Parameter{param("Image", "i")},
			"Parameter values specified for a template which does not require them."},
		{"the default stands in", tpl, []cfntypes.Parameter{param("Image", "i")}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c2 := cfnClient(t, NewCloudFormation())
			_, err := c2.CreateChangeSet(cfnCtx(t), &cloudformation.CreateChangeSetInput{StackName: aws.String("s"), ChangeSetName: aws.String("c"),
				ChangeSetType: cfntypes.ChangeSetTypeCreate, TemplateBody: aws.String(c.body), Parameters: c.params})
			var ae smithy.APIError
			switch {
			case c.want == "" && err != nil:
				t.Errorf("CreateChangeSet: %v", err)
			case c.want != "" && (!errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" || ae.ErrorMessage() != c.want):
				t.Errorf("CreateChangeSet: %.300v; want ValidationError %.300q", err, c.want)
			}
		})
	}
}

// An UPDATE change set may keep a parameter's value with
// UsePreviousValue instead of sending it again.
func TestCFNUsePreviousValue(t *testing.T) {
	f := NewCloudFormation()
	f.SetScenario("s", CFNScenario{StepsPerPoll: 100})
	c := cfnClient(t, f)
	ctx := cfnCtx(t)
	const tpl = `{"Parameters":{"Image":{"Type":"String"}},"Resources":{"T":{"Type":"AWS::SNS::Topic","Properties":{"DisplayName":{"Ref":"Image"}}}}}`
	create := func(kind cfntypes.ChangeSetType, name string, p cfntypes.Parameter) {
		t.Helper()
		out, err := c.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{StackName: aws.String("s"), ChangeSetName: aws.String(name),
			ChangeSetType: kind, TemplateBody: aws.String(tpl), Parameters: []cfntypes.Parameter{p}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for range 2 {
			if _, err := c.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: out.Id}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{ChangeSetName: out.Id}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("s")}); err != nil {
			t.Fatal(err)
		}
	}
	create(cfntypes.ChangeSetTypeCreate, "c1", cfntypes.Parameter{ParameterKey: aws.String("Image"), ParameterValue: aws.String("v1")})
	out, err := c.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{StackName: aws.String("s"), ChangeSetName: aws.String("c2"),
		ChangeSetType: cfntypes.ChangeSetTypeUpdate, TemplateBody: aws.String(tpl),
		Parameters: []cfntypes.Parameter{{ParameterKey: aws.String("Image"), UsePreviousValue: aws.Bool(true)}}})
	if err != nil {
		t.Fatalf("UsePreviousValue: %v", err)
	}
	cs, err := c.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: out.Id})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.Parameters) != 1 || aws.ToString(cs.Parameters[0].ParameterValue) != "v1" {
		t.Errorf("change set parameters %+v, want Image=v1 kept", cs.Parameters)
	}
}

func TestCFNLifecycleThroughTheSDK(t *testing.T) {
	f := NewCloudFormation()
	f.SetScenario("s", CFNScenario{StepsPerPoll: 100})
	c := cfnClient(t, f)
	ctx := cfnCtx(t)
	out, err := c.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{StackName: aws.String("s"), ChangeSetName: aws.String("c"),
		ChangeSetType: cfntypes.ChangeSetTypeCreate, TemplateBody: aws.String(cfnTestTemplate),
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityIam},
		Parameters:   []cfntypes.Parameter{{ParameterKey: aws.String("P"), ParameterValue: aws.String("v")}}})
	if err != nil {
		t.Fatal(err)
	}
	var cs *cloudformation.DescribeChangeSetOutput
	for range 3 {
		if cs, err = c.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: out.Id}); err != nil {
			t.Fatal(err)
		}
	}
	if cs.Status != cfntypes.ChangeSetStatusCreateComplete || cs.ExecutionStatus != cfntypes.ExecutionStatusAvailable || len(cs.Changes) != 2 {
		t.Fatalf("change set %s/%s with %d changes", cs.Status, cs.ExecutionStatus, len(cs.Changes))
	}
	if rc := cs.Changes[0].ResourceChange; rc.Action != cfntypes.ChangeActionAdd || aws.ToString(rc.LogicalResourceId) != "Role" || aws.ToString(rc.ResourceType) != "AWS::IAM::Role" {
		t.Errorf("first change %+v", rc)
	}
	if _, err := c.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{ChangeSetName: out.Id}); err != nil {
		t.Fatal(err)
	}
	st, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	s := st.Stacks[0]
	if s.StackStatus != cfntypes.StackStatusCreateComplete || aws.ToString(s.StackId) != aws.ToString(out.StackId) ||
		len(s.Outputs) != 1 || aws.ToString(s.Outputs[0].OutputValue) != "http://x" || len(s.Parameters) != 1 {
		t.Errorf("stack %+v", s)
	}
	ev, err := c.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	first, last := ev.StackEvents[len(ev.StackEvents)-1], ev.StackEvents[0]
	if first.ResourceStatus != "REVIEW_IN_PROGRESS" || last.ResourceStatus != "CREATE_COMPLETE" || aws.ToString(last.ResourceType) != "AWS::CloudFormation::Stack" {
		t.Errorf("events run %s .. %s; want REVIEW_IN_PROGRESS .. CREATE_COMPLETE newest first", first.ResourceStatus, last.ResourceStatus)
	}
	if !aws.ToTime(last.Timestamp).After(aws.ToTime(first.Timestamp)) {
		t.Error("event times do not advance")
	}
	tpl, err := c.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: aws.String("s")})
	if err != nil || aws.ToString(tpl.TemplateBody) != cfnTestTemplate {
		t.Errorf("GetTemplate: %v %q", err, aws.ToString(tpl.TemplateBody))
	}
	if _, err := c.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{ChangeSetName: out.Id}); err == nil {
		t.Error("an executed change set executed again")
	}
}

// FuzzCloudFormation sends arbitrary form bodies, one request a line, to
// one fake: it must answer each with a well-formed XML reply and never fail
// internally (500) or panic.
func FuzzCloudFormation(f *testing.F) {
	create := url.Values{"Action": {"CreateChangeSet"}, "Version": {"2010-05-15"}, "StackName": {"s"}, "ChangeSetName": {"c"},
		"ChangeSetType": {"CREATE"}, "TemplateBody": {cfnTestTemplate}, "Capabilities.member.1": {"CAPABILITY_IAM"}}.Encode()
	describe := "Action=DescribeChangeSet&Version=2010-05-15&StackName=s&ChangeSetName=c"
	execute := "Action=ExecuteChangeSet&Version=2010-05-15&StackName=s&ChangeSetName=c"
	stacks := "Action=DescribeStacks&Version=2010-05-15&StackName=s"
	events := "Action=DescribeStackEvents&Version=2010-05-15&StackName=s&NextToken=1"
	del := "Action=DeleteStack&Version=2010-05-15&StackName=s"
	f.Add(strings.Join([]string{create, describe, describe, execute, stacks, stacks, events, del, stacks}, "\n"))
	f.Add("Action=DescribeStacks&Version=2010-05-15")
	f.Add("Action=Nope&Version=1")
	f.Add("%zz")
	f.Fuzz(func(t *testing.T, input string) {
		fake := NewCloudFormation()
		fake.PageSize = 1
		for _, body := range strings.Split(input, "\n") {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			fake.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%q: status %d: %s", body, rec.Code, rec.Body)
			}
			dec := xml.NewDecoder(rec.Body)
			for {
				_, err := dec.Token()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("%q: reply is not XML: %v", body, err)
				}
			}
		}
	})
}

func TestCFNPutStackIsWhatDescribeStacksReturns(t *testing.T) {
	f := NewCloudFormation()
	c := cfnClient(t, f)
	ctx := cfnCtx(t)
	f.PutStack("app-dev", "UPDATE_COMPLETE", map[string]string{"URL": "http://x", "Cluster": "c1"})
	f.PutStack("app-dev", "UPDATE_ROLLBACK_COMPLETE", map[string]string{"URL": "http://y"}) // replaces, same ID

	out, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("app-dev")})
	if err != nil || len(out.Stacks) != 1 {
		t.Fatalf("DescribeStacks = %+v, %v", out, err)
	}
	st := out.Stacks[0]
	if st.StackStatus != "UPDATE_ROLLBACK_COMPLETE" || len(st.Outputs) != 1 || aws.ToString(st.Outputs[0].OutputKey) != "URL" || aws.ToString(st.Outputs[0].OutputValue) != "http://y" {
		t.Fatalf("stack = %s %+v", st.StackStatus, st.Outputs)
	}
	if id := aws.ToString(st.StackId); !strings.HasPrefix(id, "arn:aws:cloudformation:us-east-1:123456789012:stack/app-dev/") {
		t.Fatalf("StackId = %q", id)
	}
	if got := f.Calls(); len(got) != 1 || got[0] != "DescribeStacks" {
		t.Fatalf("Calls = %v", got)
	}
}
