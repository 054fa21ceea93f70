package ops

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/budgets"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// stackFake answers CloudFormation DescribeStacks (awsQuery, XML) from a
// fixed set of stacks: all the ops commands need of CloudFormation.
type stackFake struct {
	mu     sync.Mutex
	stacks map[string]fakeStack
	calls  int
}

type fakeStack struct {
	Status  string
	Outputs map[string]string
}

func (f *stackFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	w.Header().Set("Content-Type", "text/xml")
	name := r.PostForm.Get("StackName")
	if r.PostForm.Get("Action") != "DescribeStacks" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>not faked</Message></Error></ErrorResponse>`))
		return
	}
	st, ok := f.stacks[name]
	if !ok {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ` + name + ` does not exist</Message></Error><RequestId>r</RequestId></ErrorResponse>`))
		return
	}
	type output struct {
		OutputKey   string `xml:"OutputKey"`
		OutputValue string `xml:"OutputValue"`
	}
	type member struct {
		StackName    string   `xml:"StackName"`
		StackID      string   `xml:"StackId"`
		StackStatus  string   `xml:"StackStatus"`
		CreationTime string   `xml:"CreationTime"`
		Outputs      []output `xml:"Outputs>member"`
	}
	type result struct {
		XMLName xml.Name `xml:"DescribeStacksResponse"`
		Stacks  []member `xml:"DescribeStacksResult>Stacks>member"`
	}
	m := member{StackName: name, StackID: "arn:aws:cloudformation:us-east-1:123456789012:stack/" + name + "/1", StackStatus: st.Status, CreationTime: "2026-11-20T10:00:00Z"}
	for k, v := range st.Outputs {
		m.Outputs = append(m.Outputs, output{k, v})
	}
	data, _ := xml.Marshal(result{Stacks: []member{m}})
	_, _ = w.Write(data)
}

func (f *stackFake) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

const (
	testCluster = "lowfare-links-dev"
	testService = "links"
	testTG      = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/lf-links-dev-abc123/1"
	testGroup   = "/lowfare/links/dev"
	testAccount = "123456789012"
)

// world is one app's worth of local AWS, as a deploy would leave it.
type world struct {
	spec    *spec.Spec
	cfn     *stackFake
	ecs     *awsfake.ECS
	logs    *awsfake.Logs
	ssm     *awsfake.SSM
	budgets *awsfake.Budgets
	aas     *awsfake.AutoScaling
	elb     *awsfake.ELBv2
	cw      *awsfake.CloudWatch
	sts     *awsfake.STS
	clients *Clients
}

func serve(t *testing.T, h http.Handler) aws.Config {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""),
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
	}
}

func newWorld(t *testing.T) *world {
	t.Helper()
	s := spec.Default()
	w := &world{
		spec: s,
		cfn: &stackFake{stacks: map[string]fakeStack{s.StackName(): {Status: "UPDATE_COMPLETE", Outputs: map[string]string{
			stack.OutputURL:         "http://lf-links-dev-abc123.us-east-1.elb.amazonaws.com",
			stack.OutputCluster:     testCluster,
			stack.OutputService:     "arn:aws:ecs:us-east-1:123456789012:service/" + testCluster + "/" + testService,
			stack.OutputLogGroup:    testGroup,
			stack.OutputTargetGroup: testTG,
			stack.OutputTable:       "lowfare-links-dev-Table-XYZ",
		}}}},
		ecs:     awsfake.NewECS(),
		logs:    awsfake.NewLogs(),
		ssm:     awsfake.NewSSM(),
		budgets: awsfake.NewBudgets(testAccount),
		aas:     awsfake.NewAutoScaling(),
		elb:     awsfake.NewELBv2(),
		cw:      awsfake.NewCloudWatch(),
		sts:     awsfake.NewSTS(testAccount),
	}
	w.ecs.AddService(awsfake.ECSService{Cluster: testCluster, Name: testService, Desired: 1, Running: 1})
	w.aas.AddTarget(awsfake.ScalableTarget{Namespace: "ecs", ResourceID: "service/" + testCluster + "/" + testService, Dimension: "ecs:service:DesiredCount", Min: 1, Max: 2})
	w.logs.AddGroup(testGroup)
	w.clients = &Clients{
		CloudFormation: cloudformation.NewFromConfig(serve(t, w.cfn)),
		ECS:            ecs.NewFromConfig(serve(t, w.ecs)),
		Logs:           cloudwatchlogs.NewFromConfig(serve(t, w.logs)),
		SSM:            ssm.NewFromConfig(serve(t, w.ssm)),
		Budgets:        budgets.NewFromConfig(serve(t, w.budgets)),
		AutoScaling:    applicationautoscaling.NewFromConfig(serve(t, w.aas)),
		ELB:            elbv2.NewFromConfig(serve(t, w.elb)),
		CloudWatch:     cloudwatch.NewFromConfig(serve(t, w.cw)),
		STS:            sts.NewFromConfig(serve(t, w.sts)),
	}
	return w
}

func (w *world) resourceID() string { return "service/" + testCluster + "/" + testService }

func (w *world) addSchedule() {
	zero, one, two := int32(0), int32(1), int32(2)
	w.aas.AddScheduledAction(awsfake.ScheduledAction{Name: "lowfare-links-dev-sleep-0", Namespace: "ecs", ResourceID: w.resourceID(),
		Dimension: "ecs:service:DesiredCount", Schedule: "cron(0 20 ? * MON-FRI *)", Timezone: "Europe/Berlin", Min: &zero, Max: &zero})
	w.aas.AddScheduledAction(awsfake.ScheduledAction{Name: "lowfare-links-dev-wake-0", Namespace: "ecs", ResourceID: w.resourceID(),
		Dimension: "ecs:service:DesiredCount", Schedule: "cron(0 8 ? * MON-FRI *)", Timezone: "Europe/Berlin", Min: &one, Max: &two})
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
