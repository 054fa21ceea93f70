package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/lowfare/lowfare/internal/ci"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/testutil"
)

// TestPreviewJourneyWithOnlyTheDeployRoleActions runs what the workflow of
// 'lowfare ci init --previews' runs for a pull request (secrets set, plan
// --check, deploy, deploy unchanged, status, diff, destroy --delete-data,
// secrets rm of environment pr-7) as an IAM user that holds the deploy
// role's actions and nothing else, on moto enforcing IAM
// (INITIAL_NO_AUTH_ACTION_COUNT: after the first three requests, every
// request is authenticated and authorized against moto's IAM).
//
// moto authorizes actions only: it checks every non-S3 request against
// Resource "*" (moto/core/authorization.py calls check_action_permitted
// with "*"; moto/iam/access_control.py matches the statement's Resource
// against it), and it evaluates conditions with the request's context,
// which carries none of the keys the role's conditions name. So here, for
// this test only, every statement's resources are widened to "*" and its
// conditions dropped; the resource scoping and the conditions are proved in
// internal/ci (TestDeployRoleReachesThisAppOnly, the trust and PassRole
// tests). What this proves: no action lowfare calls on this path is missing
// from the list, and a user without one of them fails.
func TestPreviewJourneyWithOnlyTheDeployRoleActions(t *testing.T) {
	if testing.Short() {
		t.Skip("the moto journey builds lowfare and runs it against moto_server; skipped with -short")
	}
	moto := testutil.MotoWithEnv(t, "INITIAL_NO_AUTH_ACTION_COUNT=3")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	// The three requests moto lets through: an administrator.
	boot := iam.NewFromConfig(motoConfig(moto, "AKIDBOOT", "secret"))
	admin := createUser(ctx, t, boot, "admin", allowAll)
	adminIAM := iam.NewFromConfig(motoConfig(moto, admin.id, admin.secret))

	// The preview's spec, and the deploy role's statements for it.
	body := func(image string) string {
		return "app: links\nenv: dev\nregion: " + region + "\nprofile: free\n" +
			"service:\n  image: " + image + "\n  port: 8080\n  secrets: [ADMIN_TOKEN]\n" +
			"ingress: {kind: alb}\n" +
			"budget: {monthly_usd: 10, emails: [ops@example.com]}\nalarms: {emails: [ops@example.com]}\n"
	}
	opts := ci.Options{Repo: "octo-org/links", Branch: "main", Previews: true}

	keys := map[string]string{admin.id: admin.secret}
	j := newJourneyOn(t, moto, admin.id, admin.secret, keys)
	image := j.pushImage(ctx, "links", "v1")
	s, err := spec.Parse("lowfare.yaml", []byte(body(image)))
	if err != nil {
		t.Fatal(err)
	}
	statements, err := ci.DeployStatements(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	actions := deployActions(statements)
	deployer := createUser(ctx, t, adminIAM, "deployer", widened(actions))
	without := slices.DeleteFunc(slices.Clone(actions), func(a string) bool { return a == "cloudformation:CreateChangeSet" })
	crippled := createUser(ctx, t, adminIAM, "crippled", widened(without))
	keys[deployer.id], keys[crippled.id] = deployer.secret, crippled.secret

	// moto starts an ECS service at the count a parameter gives only when
	// it is a number (the package comment: the proxy sends
	// InitialDesiredCount empty, so moto starts it at 0 where AWS starts 1):
	// a front proxy sets the count CloudFormation would have, right after
	// each change set executes, so the deploy sees an awake service as on
	// AWS and does not ask the wake controller (which moto cannot run
	// without Docker).
	j.proxy = startAtOne(t, j.proxy, "lowfare-links-pr-7", j.cfg, keys)

	f := j.write("lowfare.yaml", body(image))
	// The CI stack, as an administrator would create it, in an account
	// that has GitHub's provider already (one per URL: it is reused).
	// (moto's CloudFormation does not create AWS::IAM::OIDCProvider, so the
	// stack's own provider is checked by cfn-lint only.)
	created, err := adminIAM.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://" + ci.GitHubIssuer), ClientIDList: []string{ci.GitHubAudience},
	})
	if err != nil {
		t.Fatal(err)
	}
	provider := aws.ToString(created.OpenIDConnectProviderArn)
	out := j.ok(t, "", "ci", "deploy", "--repo", "octo-org/links", "--previews", "-f", f, "--poll", "200ms")
	t.Logf("ci deploy:\n%s", out)
	if !strings.Contains(out, "Using the account's OIDC provider "+provider) {
		t.Errorf("ci deploy did not reuse the account's provider %s", provider)
	}
	if out := j.ok(t, "", "ci", "deploy", "--repo", "octo-org/links", "--previews", "-f", f, "--poll", "200ms"); !strings.Contains(out, "Stack lowfare-links-ci: no changes.") {
		t.Errorf("second ci deploy:\n%s", out)
	}
	role := "arn:aws:iam::" + account + ":role/" + ci.ServiceRoleName("links")
	boundary := "arn:aws:iam::" + account + ":policy/" + ci.BoundaryPolicyName("links")
	if _, err := adminIAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(boundary)}); err != nil {
		t.Errorf("the CI stack made no boundary policy %s: %v", boundary, err)
	}

	j.keyID, j.secret = deployer.id, deployer.secret
	preview := []string{"-f", f, "--env", "pr-7", "--preview"}
	run := func(args ...string) string { return j.ok(t, "", append(args, preview...)...) }
	j.ok(t, "s3cret\n", append([]string{"secrets", "set", "ADMIN_TOKEN"}, preview...)...)
	if out := run("plan", "--check"); !strings.Contains(out, "ok: nothing a deploy would trip over") {
		t.Errorf("plan --check:\n%s", out)
	}
	if out := run("deploy", "--cfn-role-arn", role, "--permissions-boundary", boundary, "--poll", "200ms"); !strings.Contains(out, "Creating stack lowfare-links-pr-7:") {
		t.Errorf("deploy:\n%s", out)
	}
	j.stackStatus(t, "lowfare-links-pr-7", "CREATE_COMPLETE")
	rolesHaveBoundary(ctx, t, motoConfig(moto, admin.id, admin.secret), "lowfare-links-pr-7", boundary)
	if out := run("deploy", "--cfn-role-arn", role, "--permissions-boundary", boundary, "--poll", "200ms"); !strings.Contains(out, "Stack lowfare-links-pr-7: no changes.") {
		t.Errorf("deploy unchanged:\n%s", out)
	}
	if out := run("status", "--format", "json"); !strings.Contains(out, `"lowfare-links-pr-7"`) {
		t.Errorf("status:\n%s", out)
	}
	// diff exits 1 for differences: moto holds the template as the proxy
	// rewrote it (RetainExceptOnCreate as Retain). Any other failure, an
	// access denial first, is an error.
	if code, out, errOut := j.run(t, "", append([]string{"diff"}, preview...)...); code > 1 || strings.Contains(errOut+out, "AccessDenied") {
		t.Errorf("diff: exit %d\n%s\n%s", code, out, errOut)
	}
	run("destroy", "--yes", "--delete-data", "--cfn-role-arn", role, "--poll", "200ms")
	j.noStacksNamed(t, "lowfare-links-pr-7")
	run("secrets", "rm", "ADMIN_TOKEN")

	// Nothing beyond the list: IAM is out of reach.
	deployerIAM := iam.NewFromConfig(motoConfig(moto, deployer.id, deployer.secret))
	_, err = deployerIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("intruder")})
	if !isAccessDenied(err) {
		t.Errorf("iam:CreateUser as the deployer: %v, want AccessDenied", err)
	}
	// And the enforcement is real: without CreateChangeSet the deploy fails.
	j.keyID, j.secret = crippled.id, crippled.secret
	j.ok(t, "s3cret\n", append([]string{"secrets", "set", "ADMIN_TOKEN"}, preview...)...)
	code, stdout, errOut := j.run(t, "", append([]string{"deploy", "--cfn-role-arn", role, "--permissions-boundary", boundary, "--poll", "200ms"}, preview...)...)
	if code != 1 || !strings.Contains(errOut, "CreateChangeSet") || !strings.Contains(errOut, "AccessDenied") {
		t.Errorf("deploy without cloudformation:CreateChangeSet: exit %d\n%s\n%s", code, stdout, errOut)
	}
}

// rolesHaveBoundary asserts that every role of the stack has the
// permissions boundary, as the service role requires on AWS.
func rolesHaveBoundary(ctx context.Context, t *testing.T, cfg aws.Config, stackName, boundary string) {
	t.Helper()
	res, err := cloudformation.NewFromConfig(cfg).DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String(stackName)})
	if err != nil {
		t.Fatal(err)
	}
	roles := 0
	for _, r := range res.StackResources {
		if aws.ToString(r.ResourceType) != "AWS::IAM::Role" {
			continue
		}
		roles++
		got, err := iam.NewFromConfig(cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: r.PhysicalResourceId})
		if err != nil {
			t.Fatal(err)
		}
		if b := got.Role.PermissionsBoundary; b == nil || aws.ToString(b.PermissionsBoundaryArn) != boundary {
			t.Errorf("role %s (%s): boundary %v, want %s", aws.ToString(r.LogicalResourceId), aws.ToString(r.PhysicalResourceId), b, boundary)
		}
	}
	if roles == 0 {
		t.Errorf("stack %s holds no role", stackName)
	}
}

type accessKey struct{ id, secret string }

var allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

func createUser(ctx context.Context, t *testing.T, c *iam.Client, name, policy string) accessKey {
	t.Helper()
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return accessKey{aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey)}
}

// deployActions is every action of the statements, sorted.
func deployActions(st []ci.Statement) []string {
	var out []string
	for _, s := range st {
		for _, a := range s.Actions {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	slices.Sort(out)
	return out
}

// widened is one statement with the actions on Resource "*", no condition:
// what moto can evaluate (see the test's comment).
func widened(actions []string) string {
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{
		map[string]any{"Effect": "Allow", "Action": actions, "Resource": "*"},
	}})
	return string(b)
}

func isAccessDenied(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && strings.Contains(ae.ErrorCode(), "AccessDenied")
}

// resign signs req again for the rewritten body, with the secret of the
// access key it was signed with (moto verifies SigV4 signatures when it
// enforces IAM). Without keys, or for a key not there, it does nothing.
func resign(ctx context.Context, req *http.Request, body []byte, keys map[string]string) error {
	auth := req.Header.Get("Authorization")
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return nil
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/") // key/date/region/service/aws4_request
	if len(parts) != 5 || keys[parts[0]] == "" {
		return nil
	}
	when, err := time.Parse("20060102T150405Z", req.Header.Get("X-Amz-Date"))
	if err != nil {
		return fmt.Errorf("re-signing: %w", err)
	}
	req.Header.Del("Authorization")
	req.ContentLength = int64(len(body))
	sum := sha256.Sum256(body)
	return v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: parts[0], SecretAccessKey: keys[parts[0]]}, req, hex.EncodeToString(sum[:]), parts[3], parts[2], when)
}

// startAtOne is a proxy in front of next that, after each ExecuteChangeSet,
// sets the ECS service of cluster (if the stack made it yet) to the one
// task CloudFormation starts it with on AWS, and takes out of each
// template what refers to the resource types moto's CloudFormation skips
// (withoutSkippedReferences), signing such a request again.
func startAtOne(t *testing.T, next, cluster string, cfg aws.Config, keys map[string]string) string {
	client := &http.Client{Timeout: time.Minute}
	svc := ecs.NewFromConfig(cfg)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		rewritten := false
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") == "CreateChangeSet" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			tb, err := withoutSkippedReferences(form.Get("TemplateBody"))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			form.Set("TemplateBody", tb)
			body, rewritten = []byte(form.Encode()), true
		}
		req, err := http.NewRequestWithContext(r.Context(), r.Method, next+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		req.Header.Del("Content-Length")
		req.Host = r.Host
		if rewritten {
			if err := resign(r.Context(), req, body, keys); err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
		}
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") == "ExecuteChangeSet" && resp.StatusCode == http.StatusOK {
			// Fails quietly before the main stack made the service.
			_, _ = svc.UpdateService(r.Context(), &ecs.UpdateServiceInput{Cluster: aws.String(cluster), Service: aws.String(service), DesiredCount: aws.Int32(1)})
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

// noStacksNamed asserts that no live stack of that name (or its
// bootstrap) exists.
func (j *journey) noStacksNamed(t *testing.T, name string) {
	t.Helper()
	for _, n := range []string{name, name + "-bootstrap"} {
		out, err := cloudformation.NewFromConfig(j.cfg).DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String(n)})
		if err == nil {
			for _, s := range out.Stacks {
				if s.StackStatus != "DELETE_COMPLETE" {
					t.Errorf("stack %s exists (%s)", n, s.StackStatus)
				}
			}
		}
	}
}

// motoSkips are the resource types of a preview's templates that moto's
// CloudFormation does not create (the package comment: it warns and skips
// them): a preview runs behind an HTTP API, and its ECS service registers
// in Cloud Map.
var motoSkips = []string{"AWS::ApiGatewayV2::", "AWS::ServiceDiscovery::", "AWS::ApplicationAutoScaling::", "AWS::Budgets::", "AWS::CloudWatch::Alarm", "AWS::SNS::Subscription", "AWS::SNS::TopicPolicy"}

// withoutSkippedReferences removes from a template the resources moto
// skips, and what refers to them, which moto would fail the whole stack
// resolving (a preview's ECS service names its Cloud Map service in
// ServiceRegistries). The IAM question this journey answers does not
// depend on them: the deploy role's actions are the same whatever the
// service role creates.
func withoutSkippedReferences(body string) (string, error) {
	var tm map[string]any
	if err := json.Unmarshal([]byte(body), &tm); err != nil {
		return "", err
	}
	resources, _ := tm["Resources"].(map[string]any)
	var skipped []string
	for id, r := range resources {
		typ, _ := r.(map[string]any)["Type"].(string)
		for _, p := range motoSkips {
			if strings.HasPrefix(typ, p) {
				skipped = append(skipped, id)
			}
		}
	}
	mentions := func(v any) bool {
		b, _ := json.Marshal(v)
		for _, id := range skipped {
			for _, m := range []string{`"Ref":"` + id + `"`, `"Fn::GetAtt":["` + id + `"`, "${" + id + "}", "${" + id + "."} {
				if bytes.Contains(b, []byte(m)) {
					return true
				}
			}
		}
		return false
	}
	// The ECS service loses only its Cloud Map registration; any other
	// resource that refers to a skipped one is skipped too (a dashboard
	// whose body names the HTTP API), until nothing refers to one.
	for _, r := range resources {
		if props, _ := r.(map[string]any)["Properties"].(map[string]any); props != nil && mentions(props["ServiceRegistries"]) {
			delete(props, "ServiceRegistries")
		}
	}
	for changed := true; changed; {
		changed = false
		for id, r := range resources {
			if !slices.Contains(skipped, id) && mentions(r.(map[string]any)["Properties"]) {
				skipped, changed = append(skipped, id), true
			}
		}
	}
	for _, id := range skipped {
		delete(resources, id)
	}
	for _, r := range resources {
		rm := r.(map[string]any)
		if deps, ok := rm["DependsOn"].([]any); ok {
			rm["DependsOn"] = slices.DeleteFunc(deps, func(d any) bool { return slices.Contains(skipped, fmt.Sprint(d)) })
		}
	}
	outputs, _ := tm["Outputs"].(map[string]any)
	for k, v := range outputs {
		if mentions(v) {
			delete(outputs, k)
		}
	}
	b, err := json.Marshal(tm)
	return string(b), err
}
