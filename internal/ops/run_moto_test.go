package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
	"github.com/lowfare/lowfare/internal/testutil"
)

// TestRunAgainstMoto runs `lowfare run -- /app/migrate up` against moto:
// the service (task definition, awsvpc network with a public IP) is made
// through moto's own APIs, then Run must start one task with that task
// definition and network and the command override on the app container,
// stream the task's log stream, and return the container's exit code.
//
// What moto cannot do, and how this test stands in for it (moto 5.2.1,
// moto/ecs/models.py):
//   - Tasks never run: Task starts RUNNING and each DescribeTasks advances
//     it one state (RUNNING, DEACTIVATING, STOPPING, DEPROVISIONING,
//     STOPPED: the "ecs::task" managed state, one step per describe), so
//     Run's polling reaches STOPPED after four rounds.
//   - Every container's exitCode is 0 (Container.__init__ sets
//     self.exitCode = 0): the non-zero exit and the task that never
//     started are covered against internal/awsfake's ECS in run_test.go.
//   - No container writes logs: the test puts the lines the container
//     would have written into the stream awslogs would have named.
//   - moto answers a container's cpu and memory as JSON numbers where the
//     ECS API has strings (Container.cpu, Container.memory), which the
//     SDK refuses to decode: ecsStrings rewrites them on the way back.
//   - moto's CloudFormation drops an AWS::ECS::Service's
//     NetworkConfiguration (Service.create_from_cloudformation_json), so
//     the service is created through the ECS API instead.
func TestRunAgainstMoto(t *testing.T) {
	endpoint := testutil.Moto(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDMOTO", "secret", ""),
		BaseEndpoint: aws.String(endpoint),
	}
	s := spec.Default()
	ecsCfg := cfg.Copy()
	ecsCfg.BaseEndpoint = aws.String(ecsStrings(t, endpoint))
	c := &Clients{
		CloudFormation: cloudformation.NewFromConfig(cfg),
		ECS:            ecs.NewFromConfig(ecsCfg),
		Logs:           cloudwatchlogs.NewFromConfig(cfg),
	}

	// The network a deploy makes: a VPC, a public subnet, the service's
	// security group (moto validates both when a service or task names them).
	vpc := ec2Call(t, endpoint, "CreateVpc", "CidrBlock", "10.0.0.0/16")["vpcId"]
	// As network.go's VPC has it; moto's task network interface also
	// needs it (without, RunTask fails with a 500 on privateDnsName).
	ec2Call(t, endpoint, "ModifyVpcAttribute", "VpcId", vpc, "EnableDnsHostnames.Value", "true")
	subnet := ec2Call(t, endpoint, "CreateSubnet", "VpcId", vpc, "CidrBlock", "10.0.0.0/24")["subnetId"]
	sg := ec2Call(t, endpoint, "CreateSecurityGroup", "VpcId", vpc, "GroupName", "svc", "GroupDescription", "tasks")["groupId"]
	if vpc == "" || subnet == "" || sg == "" {
		t.Fatalf("ec2: vpc %q subnet %q sg %q", vpc, subnet, sg)
	}

	const cluster, service, group, prefix, container = "lowfare-links-dev", "links", "/lowfare/links/dev", "links", "links"
	if _, err := c.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	td, err := c.ECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family:                  aws.String("lowfare-links-dev"),
		NetworkMode:             ecstypes.NetworkModeAwsvpc,
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		Cpu:                     aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String(container), Image: aws.String("123456789012.dkr.ecr.us-east-1.amazonaws.com/links@sha256:abc"), Essential: aws.Bool(true),
			// lowfare sets memory on the task only; moto's RunTask adds up
			// the containers' memory and fails (500) when one has none.
			Memory:  aws.Int32(512),
			Secrets: []ecstypes.Secret{{Name: aws.String("ADMIN_TOKEN"), ValueFrom: aws.String("arn:aws:ssm:us-east-1:123456789012:parameter/lowfare/links/dev/ADMIN_TOKEN")}},
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
				"awslogs-group": group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": prefix}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tdARN := aws.ToString(td.TaskDefinition.TaskDefinitionArn)
	network := &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
		Subnets: []string{subnet}, SecurityGroups: []string{sg}, AssignPublicIp: ecstypes.AssignPublicIpEnabled}}
	if _, err := c.ECS.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String(service),
		TaskDefinition: aws.String(tdARN), DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: network}); err != nil {
		t.Fatal(err)
	}
	// The main stack, with the outputs the day-2 commands read.
	tmpl := fmt.Sprintf(`{"Resources":{"H":{"Type":"AWS::CloudFormation::WaitConditionHandle"}},"Outputs":{%q:{"Value":%q},%q:{"Value":%q},%q:{"Value":%q}}}`,
		stack.OutputCluster, cluster, stack.OutputService, service, stack.OutputLogGroup, group)
	if _, err := c.CloudFormation.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(s.StackName()), TemplateBody: aws.String(tmpl)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}

	// The container's output, written into its stream when Run reports
	// the task started (its id is in the stream name), before Run reads
	// the task's state: a logs writer standing in for the container.
	var logs bytes.Buffer
	statusOut := &onFirstLine{do: func() error {
		return writeTaskLogs(ctx, c, cluster, group, prefix+"/"+container+"/", "migrating", "2 migrations applied")
	}}
	res, err := Run(ctx, c, s, RunOptions{Command: []string{"/app/migrate", "up"}, Poll: 10 * time.Millisecond, Status: statusOut}, &logs)
	if err != nil {
		t.Fatalf("Run: %v\nstatus:\n%s", err, statusOut.String())
	}
	if statusOut.err != nil {
		t.Fatal(statusOut.err)
	}

	// What moto recorded of the RunTask call.
	tasks, err := c.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{res.TaskARN}})
	if err != nil || len(tasks.Tasks) != 1 {
		t.Fatalf("DescribeTasks: %v, %d tasks", err, len(tasks.Tasks))
	}
	task := tasks.Tasks[0]
	if got := aws.ToString(task.TaskDefinitionArn); got != tdARN {
		t.Errorf("task definition = %s, want the service's %s", got, tdARN)
	}
	if !strings.HasSuffix(aws.ToString(task.ClusterArn), ":cluster/"+cluster) {
		t.Errorf("cluster = %s", aws.ToString(task.ClusterArn))
	}
	if task.LaunchType != ecstypes.LaunchTypeFargate || aws.ToString(task.StartedBy) != "lowfare-run" {
		t.Errorf("launch type %q, started by %q", task.LaunchType, aws.ToString(task.StartedBy))
	}
	if task.Overrides == nil || len(task.Overrides.ContainerOverrides) != 1 {
		t.Fatalf("overrides = %+v", task.Overrides)
	}
	o := task.Overrides.ContainerOverrides[0]
	if aws.ToString(o.Name) != container || strings.Join(o.Command, " ") != "/app/migrate up" {
		t.Errorf("container override = %s %q, want %s [/app/migrate up]", aws.ToString(o.Name), o.Command, container)
	}
	// moto puts the task's network interface in the first subnet it was
	// given: the service's.
	if !hasDetail(task.Attachments, "subnetId", subnet) {
		t.Errorf("task attachments %+v are not in the service's subnet %s", task.Attachments, subnet)
	}
	if res.ExitCode == nil || *res.ExitCode != 0 {
		t.Errorf("exit code = %v, want moto's 0", res.ExitCode)
	}
	if res.Container != container || res.TaskDefinition != tdARN || res.Cluster != cluster {
		t.Errorf("result = %+v", res)
	}
	if want := "migrating\n2 migrations applied\n"; logs.String() != want {
		t.Errorf("streamed logs = %q, want %q", logs.String(), want)
	}
	if !strings.Contains(statusOut.String(), "STOPPED") {
		t.Errorf("status lines lack STOPPED:\n%s", statusOut.String())
	}
}

// onFirstLine is a status writer that runs do when the first line comes.
type onFirstLine struct {
	bytes.Buffer
	do   func() error
	err  error
	done bool
}

func (w *onFirstLine) Write(p []byte) (int, error) {
	if !w.done {
		w.done = true
		w.err = w.do()
	}
	return w.Buffer.Write(p)
}

// hasDetail reports whether an attachment has the detail name=value.
func hasDetail(atts []ecstypes.Attachment, name, value string) bool {
	for _, a := range atts {
		for _, d := range a.Details {
			if aws.ToString(d.Name) == name && aws.ToString(d.Value) == value {
				return true
			}
		}
	}
	return false
}

// writeTaskLogs finds the task of the cluster started by lowfare-run and
// writes lines into its awslogs stream.
func writeTaskLogs(ctx context.Context, c *Clients, cluster, group, streamPrefix string, lines ...string) error {
	for {
		out, err := c.ECS.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cluster), StartedBy: aws.String("lowfare-run")})
		if err != nil {
			return err
		}
		if len(out.TaskArns) > 0 {
			stream := streamPrefix + taskID(out.TaskArns[0])
			if _, err := c.Logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
				return err
			}
			now := time.Now().UnixMilli()
			var events []cwltypes.InputLogEvent
			for i, l := range lines {
				events = append(events, cwltypes.InputLogEvent{Message: aws.String(l), Timestamp: aws.Int64(now + int64(i))})
			}
			_, err := c.Logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: events})
			return err
		}
		if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
			return err
		}
	}
}

// ec2Call makes one EC2 Query API call to moto (the SDK's EC2 module is
// not a dependency of lowfare) and returns the leaf elements of the answer
// by name. moto routes a request by the service in its credential scope
// and does not check the signature.
func ec2Call(t *testing.T, endpoint, action string, kv ...string) map[string]string {
	t.Helper()
	form := url.Values{"Action": {action}, "Version": {"2016-11-15"}}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDMOTO/20261208/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ec2 %s: %s: %s", action, resp.Status, body)
	}
	leaves := map[string]string{}
	dec := xml.NewDecoder(bytes.NewReader(body))
	var name string
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case xml.StartElement:
			name = v.Name.Local
		case xml.CharData:
			if s := strings.TrimSpace(string(v)); s != "" && leaves[name] == "" {
				leaves[name] = s
			}
		}
	}
	return leaves
}

// ecsStrings serves a proxy to moto that turns the numbers moto gives for
// the string fields Container.cpu and Container.memory into strings, as
// the ECS API reference types them:
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Container.html
func ecsStrings(t *testing.T, endpoint string) string {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		var doc map[string]any
		if json.Unmarshal(body, &doc) == nil {
			if tasks, ok := doc["tasks"].([]any); ok {
				for _, task := range tasks {
					containers, _ := task.(map[string]any)["containers"].([]any)
					for _, ct := range containers {
						m := ct.(map[string]any)
						for _, k := range []string{"cpu", "memory"} {
							if n, ok := m[k].(float64); ok {
								m[k] = strconv.FormatFloat(n, 'f', -1, 64)
							}
						}
					}
				}
				if body, err = json.Marshal(doc); err != nil {
					return err
				}
			}
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		resp.Header.Del("X-Amz-Crc32")
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return srv.URL
}
