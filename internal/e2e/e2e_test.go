// Package e2e runs the real lowfare binary through a user's journey against
// moto (moto_server, an AWS emulator nobody here wrote): secrets, plan
// --check, deploy --dry-run (nothing left behind), deploy, an unchanged
// deploy, status, scale, sleep, wake, logs, data export, import and
// migrate, destroy, destroy --delete-data, deletion protection, and the
// preflight failures. The SDK clients the assertions use talk to moto
// directly; lowfare talks to it through a small proxy that works around the
// moto gaps listed below, each with the place in moto's source that shows it
// (moto 5.2.1, /root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/moto
// on this machine kind). What moto cannot do at all stays on the project's
// own fakes (internal/awsfake), and docs/architecture.md says which claim is
// verified by which.
//
// moto gaps, and where the journey meets them:
//   - No stack Outputs after a change set: moto/cloudformation/models.py,
//     ChangeSet.apply only calls stack.resource_map.update and never
//     rebuilds stack.output_map (create_stack does, in Stack.__init__). lowfare's day-2 commands then find the cluster, service, table and
//     log group by logical ID through DescribeStackResources (ops.OutputResources),
//     which this journey exercises on every command.
//   - A String parameter reaches an integer property unconverted:
//     moto/ecs/models.py, Service.__init__ computes
//     `desired_count - ecs_running_count` with the "1" of the main stack's
//     InitialDesiredCount (CloudFormation converts it), and the service is
//     never created. The proxy sends InitialDesiredCount empty, so the
//     template's Fn::If leaves DesiredCount out and moto starts the service
//     at 0 (AWS would start 1); the create-only parameter itself is tested
//     on the own fake (internal/deploy TestCreateParametersOnlyOnCreate).
//   - DeletionPolicy RetainExceptOnCreate is not a retain policy to moto:
//     moto/cloudformation/parsing.py, ResourceMap.delete keeps only
//     `DeletionPolicy == "Retain"`. On a stack delete AWS treats
//     RetainExceptOnCreate as Retain, so the proxy rewrites it to Retain in
//     templates; the create-rollback half (the table deleted when a first
//     create fails) needs rollback, which moto lacks (next gap).
//   - No rollback, and no DELETE_SKIPPED events: a failed resource leaves
//     moto's stack as it is (moto/cloudformation/models.py has no rollback
//     of a create or update). Rollback reporting stays on the own
//     fake (internal/deploy TestCreateFailureListsWhatTheRollbackKept).
//   - Resource types moto's CloudFormation cannot create
//     (moto/cloudformation/parsing.py, parse_resource warns "not supported
//     by moto's CloudFormation implementation" and skips them): in the
//     spec here AWS::ApplicationAutoScaling::ScalableTarget (with its
//     scheduled actions) and ::ScalingPolicy (moto has no CloudFormation
//     model for any AWS::ApplicationAutoScaling type), AWS::Budgets::Budget,
//     AWS::CloudWatch::Alarm, AWS::SNS::Subscription and AWS::SNS::TopicPolicy;
//     with ingress apigw also AWS::ApiGatewayV2::* and AWS::ServiceDiscovery::*,
//     with a certificate AWS::CertificateManager::Certificate. The stack
//     completes without them, so the journey uses ingress alb without TLS
//     (the subset moto creates: network, ALB, ECS, table, logs, topic) and
//     the scalable target, its scheduled actions, the alarms, budget and
//     scaling policy are checked by cfn-lint and the registry schemas only.
//     The bounds the journey reads back exist because lowfare scale, sleep
//     and wake register the scalable target through the API.
//   - CloudWatch over the SDK's CBOR protocol: moto/cloudwatch/urls.py
//     serves only the query protocol at "/", so DescribeAlarms from
//     aws-sdk-go-v2's rpcv2Cbor client is a 404; `lowfare status` reports
//     the alarms as unavailable and shows the rest.
//   - A deleted stack is forgotten by ID at once: DescribeStackEvents on
//     its ARN answers "does not exist" (CloudFormation keeps it 90 days);
//     internal/deploy treats that as the end of the delete.
//   - A stack delete leaves AWS::ElasticLoadBalancingV2::TargetGroup behind
//     (moto/elbv2/models.py, FakeTargetGroup defines no delete, so
//     ResourceMap._delete_resource is a no-op for it): the proxy removes
//     target groups whose load balancer is gone after each DeleteStack.
//   - DescribeStackResources ignores PhysicalResourceId
//     (moto/cloudformation/responses.py, describe_stack_resources reads only
//     StackName and LogicalResourceId): preflight's "no other stack owns
//     this name" finds nothing on moto and is tested on the own fake.
//   - The ECS service-linked role is named AWSServiceRoleForecs and a second
//     create answers EntityAlreadyExists (moto/iam/models.py,
//     create_service_linked_role); AWS's own answers are on the own fake.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/testutil"
)

const (
	account = "123456789012" // moto's default account
	region  = "us-east-1"
	cluster = "lowfare-links-dev"
	service = "links"
)

// journey is one moto, the proxy in front of it, the built binary and the
// SDK clients the assertions use.
type journey struct {
	t     *testing.T
	moto  string // moto's URL, for the SDK clients
	proxy string // what lowfare talks to
	bin   string
	dir   string
	cfg   aws.Config
	// keyID and secret are the credentials lowfare runs with.
	keyID, secret string
}

func TestJourneyOnMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("the moto journey builds lowfare and runs it against moto_server; skipped with -short")
	}
	j := newJourney(t)
	ctx := j.ctx(5 * time.Minute)
	image := j.pushImage(ctx, "links", "v1")

	spec := func(extra string) string {
		return "app: links\nenv: dev\nregion: " + region + "\nprofile: free\n" +
			"service:\n  image: " + image + "\n  port: 8080\n  secrets: [ADMIN_TOKEN]\n" +
			"  count: {desired: 1, min: 1, max: 3}\n" +
			"  schedule: {timezone: Europe/Berlin, awake: \"Mon-Fri 08:00-20:00\"}\n" +
			extra +
			"budget: {monthly_usd: 10, emails: [ops@example.com]}\nalarms: {emails: [ops@example.com]}\n"
	}

	t.Run("preflight: missing hosted zone", func(t *testing.T) {
		f := j.write("zone.yaml", spec("ingress:\n  kind: alb\n  domain: app.example.com\n  hosted_zone_id: Z0000000000000000000\n"))
		code, out, errOut := j.run(t, "", "deploy", "-f", f)
		if code != 1 || !strings.Contains(errOut, "ingress.hosted_zone_id Z0000000000000000000: no such hosted zone in this account") {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		j.noStacks(t)
	})
	t.Run("preflight: missing certificate", func(t *testing.T) {
		arn := "arn:aws:acm:" + region + ":" + account + ":certificate/00000000-0000-0000-0000-000000000000"
		f := j.write("cert.yaml", spec("ingress:\n  kind: alb\n  domain: app.example.com\n  certificate_arn: "+arn+"\n"))
		code, out, errOut := j.run(t, "", "plan", "--check", "-f", f)
		if code != 1 || !strings.Contains(errOut, "ingress.certificate_arn "+arn+": no such certificate in "+region) {
			t.Fatalf("plan --check: exit %d\n%s\n%s", code, out, errOut)
		}
		code, _, errOut = j.run(t, "", "deploy", "-f", f)
		if code != 1 || !strings.Contains(errOut, "no such certificate") {
			t.Fatalf("deploy: exit %d\n%s", code, errOut)
		}
		j.noStacks(t)
	})
	t.Run("preflight: missing secret", func(t *testing.T) {
		f := j.write("lowfare.yaml", spec("ingress: {kind: alb}\n"))
		code, _, errOut := j.run(t, "", "deploy", "-f", f)
		if code != 1 || !strings.Contains(errOut, "secret ADMIN_TOKEN: SSM parameter /lowfare/links/dev/ADMIN_TOKEN does not exist") {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		j.noStacks(t)
	})

	f := j.write("lowfare.yaml", spec("ingress: {kind: alb}\n"))
	j.ok(t, "s3cret\n", "secrets", "set", "ADMIN_TOKEN", "-f", f)
	if out := j.ok(t, "", "plan", "--check", "-f", f); !strings.Contains(out, "ok: nothing a deploy would trip over") {
		t.Errorf("plan --check before the first deploy:\n%s", out)
	}
	j.noStacks(t)
	if out := j.ok(t, "", "deploy", "--dry-run", "-f", f, "--poll", "200ms"); !strings.Contains(out, "Dry run: the change sets were deleted; nothing was changed.") {
		t.Errorf("deploy --dry-run:\n%s", out)
	}
	j.noStacks(t)
	out := j.ok(t, "", "deploy", "-f", f, "--poll", "200ms")
	if !strings.Contains(out, "Creating stack lowfare-links-dev:") {
		t.Fatalf("deploy output:\n%s", out)
	}
	j.stackStatus(t, "lowfare-links-dev", "CREATE_COMPLETE")
	// An image reference runs from its own repository: no bootstrap stack.
	if strings.Contains(out, "lowfare-links-dev-bootstrap") {
		t.Errorf("deploy of an image reference made a bootstrap stack:\n%s", out)
	}

	t.Run("deploy unchanged", func(t *testing.T) {
		out := j.ok(t, "", "deploy", "-f", f, "--poll", "200ms")
		if !strings.Contains(out, "Stack lowfare-links-dev: no changes.") {
			t.Errorf("second deploy:\n%s", out)
		}
	})

	t.Run("status", func(t *testing.T) {
		out := j.ok(t, "", "status", "-f", f, "--format", "json")
		var st struct {
			Stack   struct{ Status string }
			Service *struct {
				Cluster, Name string
			}
			Unavailable map[string]string
		}
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if st.Stack.Status != "CREATE_COMPLETE" || st.Service == nil || st.Service.Cluster != cluster || st.Service.Name != service {
			t.Errorf("status %+v (unavailable: %v)", st, st.Unavailable)
		}
		t.Logf("status parts moto cannot answer: %v", st.Unavailable)
	})

	t.Run("scale, sleep, wake", func(t *testing.T) {
		j.ok(t, "", "scale", "2", "-f", f)
		j.capacity(t, 2, 2, 2)
		j.ok(t, "", "sleep", "-f", f)
		j.capacity(t, 0, 0, 0)
		j.ok(t, "", "wake", "-f", f)
		j.capacity(t, 1, 1, 3)
	})

	t.Run("logs", func(t *testing.T) {
		logs := cloudwatchlogs.NewFromConfig(j.cfg)
		group, stream := "/lowfare/links/dev", "links/links/0123456789abcdef"
		if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
			t.Fatal(err)
		}
		_, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream),
			LogEvents: []logtypes.InputLogEvent{{Message: aws.String("GET /healthz 200 journey-marker"), Timestamp: aws.Int64(time.Now().UnixMilli())}}})
		if err != nil {
			t.Fatal(err)
		}
		if out := j.ok(t, "", "logs", "-f", f, "--since", "1h"); !strings.Contains(out, "journey-marker") {
			t.Errorf("logs:\n%s", out)
		}
	})

	t.Run("data export, import, migrate", func(t *testing.T) {
		db := dynamodb.NewFromConfig(j.cfg)
		table := j.appTable(t)
		key := map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "LINK#abc"}, "SK": &ddbtypes.AttributeValueMemberS{Value: "META"}}
		item := map[string]ddbtypes.AttributeValue{"PK": key["PK"], "SK": key["SK"], "target": &ddbtypes.AttributeValueMemberS{Value: "https://example.com"}}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
		dump := filepath.Join(j.dir, "dump.jsonl")
		j.ok(t, "", "data", "export", "-f", f, "-o", dump)
		if b, err := os.ReadFile(dump); err != nil || !bytes.Contains(b, []byte("https://example.com")) {
			t.Fatalf("export: %v\n%s", err, b)
		}
		if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key}); err != nil {
			t.Fatal(err)
		}
		j.ok(t, "", "data", "import", dump, "-f", f)
		got, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil || got.Item["target"] == nil {
			t.Fatalf("after import: %v, %v", got, err)
		}
		j.ok(t, "", "data", "migrate", "--dry-run", "-f", f)
		j.ok(t, "", "data", "migrate", "-f", f)
	})

	t.Run("destroy keeps the table, --delete-data deletes it", func(t *testing.T) {
		table := j.appTable(t)
		out := j.ok(t, "", "destroy", "-f", f, "--yes", "--poll", "200ms")
		if !strings.Contains(out, "AWS::DynamoDB::Table "+table) {
			t.Errorf("destroy does not name the kept table %s:\n%s", table, out)
		}
		j.noStacks(t)
		if !j.tableExists(t, table) {
			t.Fatalf("destroy deleted the table %s", table)
		}
		out = j.ok(t, "", "destroy", "-f", f, "--yes")
		if strings.Contains(out, "Nothing to destroy") || !strings.Contains(out, table) {
			t.Errorf("rerun with the table still there:\n%s", out)
		}
		j.ok(t, "", "destroy", "-f", f, "--yes", "--delete-data")
		if j.tableExists(t, table) {
			t.Errorf("destroy --delete-data left the table %s", table)
		}
		if out := j.ok(t, "", "destroy", "-f", f, "--yes", "--delete-data"); !strings.Contains(out, "Nothing to destroy") {
			t.Errorf("after everything is gone:\n%s", out)
		}
	})

	t.Run("destroy --delete-data with deletion protection", func(t *testing.T) {
		ha := j.write("ha.yaml", strings.Replace(strings.Replace(spec("ingress: {kind: alb}\n"), "profile: free", "profile: ha", 1),
			"  count: {desired: 1, min: 1, max: 3}\n  schedule: {timezone: Europe/Berlin, awake: \"Mon-Fri 08:00-20:00\"}\n", "  count: {desired: 2, min: 2, max: 3}\n", 1))
		j.ok(t, "", "deploy", "-f", ha, "--poll", "200ms")
		table := j.appTable(t)
		code, out, errOut := j.run(t, "", "destroy", "-f", ha, "--yes", "--delete-data", "--poll", "200ms")
		if code != 1 || !strings.Contains(errOut, "table "+table+" has deletion protection on") || !strings.Contains(errOut, "nothing was deleted") {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		j.stackStatus(t, "lowfare-links-dev", "CREATE_COMPLETE")
		db := dynamodb.NewFromConfig(j.cfg)
		if _, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table), DeletionProtectionEnabled: aws.Bool(false)}); err != nil {
			t.Fatal(err)
		}
		j.ok(t, "", "destroy", "-f", ha, "--yes", "--delete-data", "--poll", "200ms")
		j.noStacks(t)
		if j.tableExists(t, table) {
			t.Errorf("table %s survived", table)
		}
	})
}

func newJourney(t *testing.T) *journey {
	t.Helper()
	return newJourneyOn(t, testutil.Moto(t), "AKIDMOTO", "secret", nil)
}

// newJourneyOn is a journey on a running moto, with the credentials the
// assertions (and, until keyID and secret change, lowfare) use; keys maps
// every access key lowfare may run with to its secret, for the proxy to
// sign again a request it rewrites (moto checks signatures when it
// enforces IAM).
func newJourneyOn(t *testing.T, moto, keyID, secret string, keys map[string]string) *journey {
	t.Helper()
	j := &journey{t: t, moto: moto, dir: t.TempDir(), keyID: keyID, secret: secret}
	j.cfg = motoConfig(moto, keyID, secret)
	j.proxy = motoProxy(t, j.moto, j.cfg, keys)
	j.bin = filepath.Join(t.TempDir(), "lowfare")
	build := exec.Command("go", "build", "-o", j.bin, "github.com/lowfare/lowfare/cmd/lowfare")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return j
}

// motoConfig is an SDK configuration for moto with static credentials.
func motoConfig(moto, keyID, secret string) aws.Config {
	return aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		BaseEndpoint:     aws.String(moto),
		RetryMaxAttempts: 1,
		HTTPClient:       awsconf.OwnBodies(http.DefaultClient),
	}
}

func (j *journey) ctx(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	j.t.Cleanup(cancel)
	return ctx
}

// motoProxy forwards every request to moto, working around the moto gaps
// the package comment describes: CloudFormation's CreateChangeSet gets
// InitialDesiredCount empty (and, on an update that omits it, its Default
// passed explicitly), RetainExceptOnCreate as Retain, and a DeleteStack that
// trips over moto's undeletable target group is retried once the group is
// removed.
func motoProxy(t *testing.T, target string, cfg aws.Config, keys map[string]string) string {
	client := &http.Client{Timeout: time.Minute}
	elb := elbv2.NewFromConfig(cfg)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		action := ""
		rewritten := false
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			if form, err := url.ParseQuery(string(body)); err == nil {
				action = form.Get("Action")
				if action == "CreateChangeSet" {
					body = []byte(rewriteChangeSet(form).Encode())
					rewritten = true
				}
			}
		}
		forward := func() (*http.Response, []byte, error) {
			req, err := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), bytes.NewReader(body))
			if err != nil {
				return nil, nil, err
			}
			req.Header = r.Header.Clone()
			req.Header.Del("Content-Length")
			// The host lowfare signed for: moto checks the signature
			// against the request as it arrives.
			req.Host = r.Host
			if rewritten {
				if err := resign(r.Context(), req, body, keys); err != nil {
					return nil, nil, err
				}
			}
			resp, err := client.Do(req)
			if err != nil {
				return nil, nil, err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			return resp, b, err
		}
		// moto/elbv2/models.py: FakeTargetGroup has no delete(), so moto's
		// ResourceMap.delete "deletes" it as a no-op: the group outlives
		// the stack (the next create fails with DuplicateTargetGroupName)
		// and the VPC it lives in may not go (DependencyViolation). Remove
		// groups no load balancer uses (the stack's is gone by then), and
		// retry a delete that failed on them.
		orphans := func() {
			lbs, err := elb.DescribeLoadBalancers(r.Context(), &elbv2.DescribeLoadBalancersInput{})
			if err != nil {
				return
			}
			live := map[string]bool{}
			for _, lb := range lbs.LoadBalancers {
				live[aws.ToString(lb.LoadBalancerArn)] = true
			}
			tgs, err := elb.DescribeTargetGroups(r.Context(), &elbv2.DescribeTargetGroupsInput{})
			if err != nil {
				return
			}
			for _, tg := range tgs.TargetGroups {
				if !slices.ContainsFunc(tg.LoadBalancerArns, func(a string) bool { return live[a] }) {
					_, _ = elb.DeleteTargetGroup(r.Context(), &elbv2.DeleteTargetGroupInput{TargetGroupArn: tg.TargetGroupArn})
				}
			}
		}
		resp, out, err := forward()
		if err == nil && action == "DeleteStack" {
			orphans()
			if resp.StatusCode == http.StatusBadRequest && bytes.Contains(out, []byte("DependencyViolation")) {
				resp, out, err = forward()
			}
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		for k, v := range resp.Header {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// rewriteChangeSet adapts a CreateChangeSet request to moto (see the
// package comment): InitialDesiredCount always present and empty, and
// RetainExceptOnCreate spelled Retain.
func rewriteChangeSet(form url.Values) url.Values {
	found := false
	n := 0
	for k, v := range form {
		if strings.HasPrefix(k, "Parameters.member.") && strings.HasSuffix(k, ".ParameterKey") {
			n++
			if v[0] == "InitialDesiredCount" {
				form.Set(strings.TrimSuffix(k, "Key")+"Value", "")
				found = true
			}
		}
	}
	if !found && strings.Contains(form.Get("TemplateBody"), `"InitialDesiredCount"`) {
		// moto compares parameter lists as sent and does not apply an
		// omitted parameter's Default as CloudFormation does
		// (moto/cloudformation/models.py, Stack.has_parameters).
		form.Set(fmt.Sprintf("Parameters.member.%d.ParameterKey", n+1), "InitialDesiredCount")
		form.Set(fmt.Sprintf("Parameters.member.%d.ParameterValue", n+1), "")
	}
	form.Set("TemplateBody", strings.ReplaceAll(form.Get("TemplateBody"), `"DeletionPolicy":"RetainExceptOnCreate"`, `"DeletionPolicy":"Retain"`))
	return form
}

// write puts a spec file in the journey's directory.
func (j *journey) write(name, body string) string {
	p := filepath.Join(j.dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		j.t.Fatal(err)
	}
	return p
}

// run runs lowfare with only the proxy as AWS: fake static credentials, no
// profile or config files, no instance metadata.
func (j *journey) run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, j.bin, args...)
	cmd.Dir = j.dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"AWS_ENDPOINT_URL="+j.proxy,
		"AWS_ACCESS_KEY_ID="+j.keyID, "AWS_SECRET_ACCESS_KEY="+j.secret,
		"AWS_CONFIG_FILE="+filepath.Join(j.dir, "no-config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(j.dir, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=2")
	var out, errOut bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("lowfare %s: %v", strings.Join(args, " "), err)
	}
	return code, out.String(), errOut.String()
}

// ok runs lowfare and requires exit 0.
func (j *journey) ok(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	code, out, errOut := j.run(t, stdin, args...)
	if code != 0 {
		t.Fatalf("lowfare %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// pushImage makes an image in moto's ECR and returns its reference.
func (j *journey) pushImage(ctx context.Context, repo, tag string) string {
	c := ecr.NewFromConfig(j.cfg)
	r, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)})
	if err != nil {
		j.t.Fatal(err)
	}
	manifest := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}`
	if _, err := c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(manifest), ImageTag: aws.String(tag)}); err != nil {
		j.t.Fatal(err)
	}
	return aws.ToString(r.Repository.RepositoryUri) + ":" + tag
}

func (j *journey) stackStatus(t *testing.T, name, want string) {
	t.Helper()
	out, err := cloudformation.NewFromConfig(j.cfg).DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil || len(out.Stacks) != 1 || string(out.Stacks[0].StackStatus) != want {
		t.Fatalf("stack %s: %v, %v; want %s", name, out, err, want)
	}
}

// noStacks asserts that no live stack exists.
func (j *journey) noStacks(t *testing.T) {
	t.Helper()
	out, err := cloudformation.NewFromConfig(j.cfg).DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range out.Stacks {
		if s.StackStatus != "DELETE_COMPLETE" {
			t.Errorf("stack %s exists (%s)", aws.ToString(s.StackName), s.StackStatus)
		}
	}
}

// appTable is the one table the app's stack made.
func (j *journey) appTable(t *testing.T) string {
	t.Helper()
	out, err := dynamodb.NewFromConfig(j.cfg).ListTables(context.Background(), &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, n := range out.TableNames {
		if strings.HasPrefix(n, "lowfare-links-dev-Table-") {
			found = append(found, n)
		}
	}
	if len(found) != 1 {
		t.Fatalf("tables %v; want one of the app", out.TableNames)
	}
	return found[0]
}

func (j *journey) tableExists(t *testing.T, name string) bool {
	t.Helper()
	_, err := dynamodb.NewFromConfig(j.cfg).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var nf *ddbtypes.ResourceNotFoundException
	switch {
	case err == nil:
		return true
	case errorsAs(err, &nf):
		return false
	}
	t.Fatal(err)
	return false
}

// capacity asserts the ECS desired count and the scalable target's bounds.
func (j *journey) capacity(t *testing.T, desired, min, max int32) {
	t.Helper()
	ctx := context.Background()
	svc, err := ecs.NewFromConfig(j.cfg).DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
	if err != nil || len(svc.Services) != 1 {
		t.Fatalf("DescribeServices: %v, %v", svc, err)
	}
	if got := svc.Services[0].DesiredCount; got != desired {
		t.Errorf("ECS desired count %d, want %d", got, desired)
	}
	targets, err := applicationautoscaling.NewFromConfig(j.cfg).DescribeScalableTargets(ctx, &applicationautoscaling.DescribeScalableTargetsInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ResourceIds: []string{"service/" + cluster + "/" + service},
	})
	if err != nil || len(targets.ScalableTargets) != 1 {
		t.Fatalf("DescribeScalableTargets: %v, %v", targets, err)
	}
	if tg := targets.ScalableTargets[0]; aws.ToInt32(tg.MinCapacity) != min || aws.ToInt32(tg.MaxCapacity) != max {
		t.Errorf("scalable target %d-%d, want %d-%d", aws.ToInt32(tg.MinCapacity), aws.ToInt32(tg.MaxCapacity), min, max)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
