package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/stack"
)

// depWorld is every endpoint a deploy or destroy talks to, all on
// 127.0.0.1, reached by the real SDK clients through AWS_ENDPOINT_URL_*.
type depWorld struct {
	cfn      *awsfake.CloudFormation
	ssm      *awsfake.SSM
	ecr      *awsfake.ECR
	ddb      *awsfake.JSONService
	iam      *awsfake.IAM
	registry string // host:port of a registry that demands the ECR token
	dir      string // the user's module, holding lowfare.yaml
	spec     string
	mu       sync.Mutex
	regHits  int
	deleted  []string        // tables DeleteTable was asked for
	tables   map[string]bool // DynamoDB tables by name: deletion protection
}

func (w *depWorld) calls() (cfn, ssm, ecr, ddb []string, reg int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cfn.Calls(), w.ssm.Calls(), w.ecr.Calls(), w.ddb.Calls(), w.regHits
}

const depSpec = "app: links\nenv: dev\nregion: us-east-1\nservice:\n  image: ./cmd/hello\n"

// newDepWorld starts the fakes and points the SDK at them. A catch-all
// AWS_ENDPOINT_URL sends any service the test forgot to a closed port, so
// nothing can reach AWS.
func newDepWorld(t *testing.T, specBody string) *depWorld {
	t.Helper()
	w := &depWorld{
		cfn: awsfake.NewCloudFormation(),
		ssm: awsfake.NewSSM(),
		ecr: awsfake.NewECR("", "ecr-pass"),
		iam: awsfake.NewIAM("123456789012"),
	}
	w.tables = map[string]bool{}
	w.ddb = &awsfake.JSONService{TargetPrefix: "DynamoDB_20120810", Version: "1.0", Ops: map[string]awsfake.JSONOp{
		"DeleteTable": awsfake.Handle(func(in struct{ TableName string }) (any, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.deleted = append(w.deleted, in.TableName)
			if w.tables[in.TableName] {
				return nil, awsfake.Errorf("ValidationException", "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
			}
			delete(w.tables, in.TableName)
			return map[string]any{"TableDescription": map[string]any{"TableName": in.TableName, "TableStatus": "DELETING"}}, nil
		}),
		"ListTables": awsfake.Handle(func(struct{}) (any, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			return map[string]any{"TableNames": slices.Sorted(maps.Keys(w.tables))}, nil
		}),
		"DescribeTable": awsfake.Handle(func(in struct{ TableName string }) (any, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			protected, ok := w.tables[in.TableName]
			if !ok {
				return nil, awsfake.Errorf("ResourceNotFoundException", "Requested resource not found: Table: %s not found", in.TableName)
			}
			return map[string]any{"Table": map[string]any{"TableName": in.TableName, "TableStatus": "ACTIVE", "DeletionProtectionEnabled": protected}}, nil
		}),
	}}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("AWS:ecr-pass"))
	regURL := awsfake.Serve(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.regHits++
		w.mu.Unlock()
		if r.Header.Get("Authorization") != want {
			rw.Header().Set("WWW-Authenticate", `Basic realm="fake-ecr"`)
			http.Error(rw, "unauthorized", http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(rw, r)
	}))
	w.registry = strings.TrimPrefix(regURL, "http://")

	awsfake.UseEndpoints(t, map[string]string{
		"CLOUDFORMATION": awsfake.Serve(t, w.cfn),
		"SSM":            awsfake.Serve(t, w.ssm),
		"ECR":            awsfake.Serve(t, w.ecr),
		"DYNAMODB":       awsfake.Serve(t, w.ddb),
		"IAM":            awsfake.Serve(t, w.iam),
	})

	w.dir = t.TempDir()
	files := map[string]string{
		"go.mod":            "module example.com/hello\n\ngo 1.26\n",
		"cmd/hello/main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n",
		"lowfare.yaml":      specBody,
	}
	for name, body := range files {
		p := filepath.Join(w.dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w.spec = filepath.Join(w.dir, "lowfare.yaml")

	w.ssm.Set("/lowfare/links/dev/ADMIN_TOKEN", "SecureString", "s3cret")
	w.cfn.SetScenario("lowfare-links-dev-bootstrap", awsfake.CFNScenario{StepsPerPoll: 100,
		Outputs: map[string]string{"RepositoryUri": w.registry + "/lowfare-links-dev", "RepositoryName": "lowfare-links-dev"}})
	w.cfn.SetScenario("lowfare-links-dev", awsfake.CFNScenario{StepsPerPoll: 100,
		Outputs:     map[string]string{"URL": "http://links-123.us-east-1.elb.amazonaws.com", "TableName": "lowfare-links-dev-Table-ABC", "ClusterName": "lowfare-links-dev"},
		PhysicalIDs: map[string]string{"Table": "lowfare-links-dev-Table-ABC"}})
	return w
}

func depRun(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code := Execute(ctx, args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestDeployCreateThenCodeOnlyUpdate(t *testing.T) {
	w := newDepWorld(t, depSpec)
	code, out, errOut := depRun(t, "", "deploy", "-f", w.spec, "--poll", "1ms")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"Creating stack lowfare-links-dev-bootstrap",
		"CREATE_COMPLETE                     AWS::ECR::Repository",
		"Building ./cmd/hello for linux/arm64",
		"Pushing " + w.registry + "/lowfare-links-dev:",
		"Creating stack lowfare-links-dev:",
		"Outputs of lowfare-links-dev:\n  URL ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The URL leads the outputs.
	tail := out[strings.Index(out, "Outputs of"):]
	if strings.Index(tail, "URL") > strings.Index(tail, "ClusterName") {
		t.Errorf("URL is not first:\n%s", tail)
	}
	uri := w.cfn.StackParameters("lowfare-links-dev")["ImageUri"]
	if !strings.HasPrefix(uri, w.registry+"/lowfare-links-dev@sha256:") {
		t.Errorf("ImageUri %q; want the repository by digest", uri)
	}
	// The image the stack now runs carries the tag the lifecycle policy
	// never expires.
	req, _ := http.NewRequest(http.MethodHead, "http://"+w.registry+"/v2/lowfare-links-dev/manifests/"+stack.LiveImageTag, nil)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("AWS:ecr-pass")))
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Error(err)
	} else {
		resp.Body.Close()
		if d := resp.Header.Get("Docker-Content-Digest"); d == "" || !strings.HasSuffix(uri, "@"+d) {
			t.Errorf("%s: status %d, digest %q; want the deployed %s", stack.LiveImageTag, resp.StatusCode, d, uri)
		}
	}
	if _, _, ecr, _, _ := w.calls(); !slices.Contains(ecr, "GetAuthorizationToken") {
		t.Errorf("ECR calls %v; want GetAuthorizationToken", ecr)
	}

	// Same tree again: both stacks unchanged, not an error.
	code, out, errOut = depRun(t, "", "deploy", "-f", w.spec, "--poll", "1ms")
	if code != 0 {
		t.Fatalf("redeploy exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "Stack lowfare-links-dev-bootstrap: no changes.") || !strings.Contains(out, "Stack lowfare-links-dev: no changes.") {
		t.Errorf("unchanged redeploy output:\n%s", out)
	}

	// A code change changes exactly one resource: the one using ImageUri.
	if err := os.WriteFile(filepath.Join(w.dir, "cmd/hello/main.go"), []byte("package main\n\nfunc main() { println(\"v2\") }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = depRun(t, "", "deploy", "-f", w.spec, "--poll", "1ms", "--dry-run")
	if code != 0 {
		t.Fatalf("dry run exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "Stack lowfare-links-dev: 1 change\n") || !strings.Contains(out, "Modify   TaskDefinition") {
		t.Errorf("dry run after a code change:\n%s", out)
	}
	if got := w.cfn.StackParameters("lowfare-links-dev")["ImageUri"]; got != uri {
		t.Errorf("the dry run changed ImageUri to %s", got)
	}
	code, out, errOut = depRun(t, "", "deploy", "-f", w.spec, "--poll", "1ms")
	if code != 0 {
		t.Fatalf("code update exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "Updating stack lowfare-links-dev: 1 resource change.") {
		t.Errorf("code-only update:\n%s", out)
	}
	if got := w.cfn.StackParameters("lowfare-links-dev")["ImageUri"]; got == uri {
		t.Error("ImageUri did not change after a code change")
	}
}

func TestDryRunOnAFreshAccountLeavesNothing(t *testing.T) {
	w := newDepWorld(t, depSpec)
	code, out, errOut := depRun(t, "", "deploy", "-f", w.spec, "--poll", "1ms", "--dry-run", "--region", "eu-west-1")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"Stack lowfare-links-dev-bootstrap: 1 change\n",
		"Add      Repository                       AWS::ECR::Repository",
		"Add      TaskDefinition ",
		"Dry run: the change sets were deleted; nothing was changed.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, st := range []string{"lowfare-links-dev", "lowfare-links-dev-bootstrap"} {
		if status, ok := w.cfn.StackStatus(st); ok {
			t.Errorf("the dry run left stack %s (%s)", st, status)
		}
	}
	cfn, _, ecr, _, reg := w.calls()
	if slices.Contains(cfn, "ExecuteChangeSet") || len(ecr) != 0 || reg != 0 {
		t.Errorf("the dry run executed or pushed: cfn %v ecr %v registry %d", cfn, ecr, reg)
	}
}

func TestDeployFailurePrintsResourceAndRollback(t *testing.T) {
	w := newDepWorld(t, "app: links\nenv: dev\nservice:\n  image: public.ecr.aws/nginx/nginx:1.27\n")
	w.cfn.SetScenario("lowfare-links-dev", awsfake.CFNScenario{StepsPerPoll: 100, FailResource: "Service", FailReason: "Invalid request provided: CannotPullContainerError"})
	code, out, errOut := depRun(t, "", "deploy", "-f", w.spec, "--poll", "1ms")
	if code != 1 {
		t.Fatalf("exit %d; want 1\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "Failed: Service (AWS::ECS::Service): Invalid request provided: CannotPullContainerError") ||
		!strings.Contains(out, "Rolled back: ROLLBACK_COMPLETE") {
		t.Errorf("output:\n%s", out)
	}
	if _, _, _, _, reg := w.calls(); reg != 0 {
		t.Errorf("an image reference was pushed (%d registry requests)", reg)
	}
	if p := w.cfn.StackParameters("lowfare-links-dev"); len(p) != 0 {
		t.Errorf("parameters after a failed create: %v", p)
	}
}

func TestDeployTimeout(t *testing.T) {
	w := newDepWorld(t, depSpec) // an image reference has no bootstrap stack to hang
	w.cfn.SetScenario("lowfare-links-dev-bootstrap", awsfake.CFNScenario{Hang: true})
	code, _, errOut := depRun(t, "", "deploy", "-f", w.spec, "--poll", "1ms", "--timeout", "300ms")
	if code != 1 || !strings.Contains(errOut, "timed out after 300ms waiting for stack lowfare-links-dev-bootstrap (still CREATE_IN_PROGRESS)") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestDeployRefusesMissingSecrets(t *testing.T) {
	w := newDepWorld(t, "app: links\nenv: dev\nservice:\n  image: public.ecr.aws/nginx/nginx:1.27\n  secrets: [ADMIN_TOKEN, STRIPE_KEY, MAIL_KEY]\n")
	code, _, errOut := depRun(t, "", "deploy", "-f", w.spec)
	for _, name := range []string{"STRIPE_KEY", "MAIL_KEY"} {
		want := "secret " + name + ": SSM parameter /lowfare/links/dev/" + name + " does not exist; set it with 'lowfare secrets set " + name + "'"
		if code != 1 || !strings.Contains(errOut, want) {
			t.Fatalf("exit %d, stderr %q; want %q", code, errOut, want)
		}
	}
	if cfn, _, _, _, _ := w.calls(); slices.ContainsFunc(cfn, func(c string) bool { return !strings.HasPrefix(c, "Describe") }) {
		t.Errorf("CloudFormation was asked to change something: %v", cfn)
	}
	if w.iam.HasRole("AWSServiceRoleForECS") {
		t.Error("the service-linked role was created by a deploy that failed its preflight")
	}
}

func TestInvalidSpecExits2BeforeAnyAWSCall(t *testing.T) {
	for name, body := range map[string]string{
		"parse": "app: [links\n",
		"value": "app: Links_Bad!\nenv: dev\n",
		"rule":  "app: links\nenv: dev\nservice:\n  arch: arm64\n  spot: true\n",
	} {
		t.Run(name, func(t *testing.T) {
			w := newDepWorld(t, body)
			for _, args := range [][]string{
				{"deploy", "-f", w.spec},
				{"deploy", "-f", w.spec, "--dry-run"},
				{"destroy", "-f", w.spec, "--yes"},
			} {
				if name == "rule" && args[0] == "destroy" {
					continue // destroy needs no template, so a template rule does not apply
				}
				code, _, errOut := depRun(t, "", args...)
				if code != 2 {
					t.Errorf("%v: exit %d; want 2 (%s)", args, code, errOut)
				}
			}
			cfn, ssm, ecr, ddb, reg := w.calls()
			if len(cfn)+len(ssm)+len(ecr)+len(ddb)+reg != 0 {
				t.Errorf("requests were made: cfn %v ssm %v ecr %v ddb %v registry %d", cfn, ssm, ecr, ddb, reg)
			}
		})
	}
}

func TestMissingCredentialsOneLine(t *testing.T) {
	w := newDepWorld(t, depSpec)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	os.Unsetenv("AWS_ACCESS_KEY_ID")
	os.Unsetenv("AWS_SECRET_ACCESS_KEY")
	for _, args := range [][]string{{"deploy"}, {"deploy", "--dry-run"}, {"destroy", "--yes"}} {
		cmd := strings.Join(args, " ")
		code, _, errOut := depRun(t, "", append(args, "-f", w.spec)...)
		if code != 1 {
			t.Errorf("%s: exit %d; want 1", cmd, code)
		}
		if lines := strings.Split(strings.TrimSpace(errOut), "\n"); len(lines) != 1 || !strings.Contains(errOut, "AWS_ACCESS_KEY_ID") || !strings.Contains(errOut, "AWS_PROFILE") {
			t.Errorf("%s: stderr %q; want one line naming what to set", cmd, errOut)
		}
	}
	cfn, ssm, ecr, ddb, reg := w.calls()
	if len(cfn)+len(ssm)+len(ecr)+len(ddb)+reg != 0 {
		t.Errorf("requests were made without credentials: %v %v %v %v %d", cfn, ssm, ecr, ddb, reg)
	}
}

func depDeployed(t *testing.T) *depWorld {
	t.Helper()
	// A Go package: both stacks (an image reference has no bootstrap).
	w := newDepWorld(t, depSpec)
	if code, out, errOut := depRun(t, "", "deploy", "-f", w.spec, "--poll", "1ms"); code != 0 {
		t.Fatalf("deploy exit %d\n%s\n%s", code, out, errOut)
	}
	w.mu.Lock()
	w.tables["lowfare-links-dev-Table-ABC"] = false // what the stack created
	w.tables["lowfare-links-prod-Table-XYZ"] = false
	w.mu.Unlock()
	return w
}

func TestDestroyKeepsTheTable(t *testing.T) {
	w := depDeployed(t)
	code, out, errOut := depRun(t, "links\n", "destroy", "-f", w.spec, "--poll", "1ms")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, st := range []string{"lowfare-links-dev", "lowfare-links-dev-bootstrap"} {
		if _, ok := w.cfn.StackStatus(st); ok {
			t.Errorf("stack %s still exists", st)
		}
	}
	if _, _, _, ddb, _ := w.calls(); slices.Contains(ddb, "DeleteTable") {
		t.Errorf("DeleteTable was called without --delete-data: %v", ddb)
	}
	for _, want := range []string{
		"Type the app name (links) to confirm:",
		"DELETE_SKIPPED",
		"Still there:\n  AWS::DynamoDB::Table ",
		"aws dynamodb delete-table --table-name",
		"SSM SecureString /lowfare/links/dev/ADMIN_TOKEN; delete it with: lowfare secrets rm ADMIN_TOKEN",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Main first, then bootstrap.
	if i, j := strings.Index(out, "Deleting stack lowfare-links-dev."), strings.Index(out, "Deleting stack lowfare-links-dev-bootstrap."); i < 0 || j < i {
		t.Errorf("deletion order wrong:\n%s", out)
	}
	// Again: the stacks are gone, the kept table is still named.
	code, out, _ = depRun(t, "", "destroy", "-f", w.spec, "--yes")
	if code != 0 || strings.Contains(out, "Nothing to destroy") || !strings.Contains(out, "the kept table lowfare-links-dev-Table-ABC and its data remain") {
		t.Errorf("second destroy: exit %d\n%s", code, out)
	}
}

// A destroy --delete-data after a plain destroy finds the
// kept table by its name (the stacks are gone) and deletes it; only then
// is there nothing to destroy. Another env's table is left alone.
func TestDestroyDeleteDataAfterTheStacksAreGone(t *testing.T) {
	w := depDeployed(t)
	if code, out, errOut := depRun(t, "", "destroy", "-f", w.spec, "--poll", "1ms", "--yes"); code != 0 {
		t.Fatalf("destroy: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut := depRun(t, "links\n", "destroy", "-f", w.spec, "--poll", "1ms", "--delete-data")
	if code != 0 || !strings.Contains(out, "This deletes table lowfare-links-dev-Table-ABC in us-east-1") || !strings.Contains(out, "Deleted table lowfare-links-dev-Table-ABC") {
		t.Fatalf("destroy --delete-data without stacks: exit %d\n%s\n%s", code, out, errOut)
	}
	w.mu.Lock()
	deleted := slices.Clone(w.deleted)
	w.mu.Unlock()
	if !slices.Equal(deleted, []string{"lowfare-links-dev-Table-ABC"}) {
		t.Errorf("DeleteTable for %v", deleted)
	}
	code, out, _ = depRun(t, "", "destroy", "-f", w.spec, "--delete-data", "--yes")
	if code != 0 || !strings.Contains(out, "Nothing to destroy") {
		t.Errorf("third destroy: exit %d\n%s", code, out)
	}
}

// With deletion protection on the table (profile ha),
// destroy --delete-data stops before deleting anything and says how to go
// on; it used to delete the stacks and then fail on the table.
func TestDestroyDeleteDataWithDeletionProtectionDeletesNothing(t *testing.T) {
	w := depDeployed(t)
	w.mu.Lock()
	w.tables["lowfare-links-dev-Table-ABC"] = true
	w.mu.Unlock()
	code, out, errOut := depRun(t, "", "destroy", "-f", w.spec, "--poll", "1ms", "--yes", "--delete-data")
	if code != 1 || !strings.Contains(errOut, "table lowfare-links-dev-Table-ABC has deletion protection on") ||
		!strings.Contains(errOut, "nothing was deleted") || !strings.Contains(errOut, "aws dynamodb update-table --table-name lowfare-links-dev-Table-ABC --no-deletion-protection-enabled") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if cfn, _, _, ddb, _ := w.calls(); slices.Contains(cfn, "DeleteStack") || slices.Contains(ddb, "DeleteTable") {
		t.Errorf("deleted something: cfn %v ddb %v", cfn, ddb)
	}
	for _, st := range []string{"lowfare-links-dev", "lowfare-links-dev-bootstrap"} {
		if _, ok := w.cfn.StackStatus(st); !ok {
			t.Errorf("stack %s was deleted", st)
		}
	}
}

func TestDestroyDeleteData(t *testing.T) {
	w := depDeployed(t)
	code, out, errOut := depRun(t, "", "destroy", "-f", w.spec, "--poll", "1ms", "--yes", "--delete-data")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	w.mu.Lock()
	deleted := w.deleted
	w.mu.Unlock()
	if !slices.Equal(deleted, []string{"lowfare-links-dev-Table-ABC"}) {
		t.Errorf("DeleteTable for %v; want the table from the stack outputs", deleted)
	}
	if strings.Contains(out[strings.Index(out, "Still there:"):], "AWS::DynamoDB::Table") {
		t.Errorf("a deleted table is listed as remaining:\n%s", out)
	}
}

func TestDestroyWrongNameDeletesNothing(t *testing.T) {
	w := depDeployed(t)
	code, _, errOut := depRun(t, "linkz\n", "destroy", "-f", w.spec, "--delete-data")
	if code != 2 || !strings.Contains(errOut, `you typed "linkz", not the app name "links": nothing was deleted`) {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if cfn, _, _, ddb, _ := w.calls(); slices.Contains(cfn, "DeleteStack") || slices.Contains(ddb, "DeleteTable") {
		t.Errorf("deleted something: cfn %v ddb %v", cfn, ddb)
	}
}

func TestImageBuildCommand(t *testing.T) {
	w := newDepWorld(t, depSpec)
	code, out, errOut := depRun(t, "", "image", "build", "-f", w.spec, "--arch", "x86_64")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "for linux/amd64") || !strings.Contains(out, "Image sha256:") || !strings.Contains(out, " MB,") {
		t.Errorf("output:\n%s", out)
	}
	// Each step says what it does, the first build warns
	// that it downloads and compiles dependencies, the end says how long.
	for _, want := range []string{"  go build ./cmd/hello for linux/amd64 (the first build downloads and compiles", "  building lowfare's health probe", "(built in "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code, _, errOut := depRun(t, "", "image", "build", "-f", w.spec, "--arch", "sparc"); code != 2 {
		t.Errorf("--arch sparc: exit %d (%s)", code, errOut)
	}
	ref := newDepWorld(t, "app: links\nenv: dev\nservice:\n  image: nginx:1\n")
	if code, _, errOut := depRun(t, "", "image", "build", "-f", ref.spec); code != 2 || !strings.Contains(errOut, "nothing to build") {
		t.Errorf("image reference: exit %d (%s)", code, errOut)
	}
}

func TestIsTerminal(t *testing.T) {
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer wr.Close()
	if isTerminal(wr) || isTerminal(&bytes.Buffer{}) {
		t.Error("a pipe or a buffer was taken for a terminal")
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		if !isTerminal(tty) {
			t.Error("/dev/tty was not taken for a terminal")
		}
	}
}

// TestLiveLineOnATerminal runs deploy in a child process whose stdout is a
// real pseudo-terminal (util-linux script), and checks that the progress
// line is redrawn in place there, while the in-process runs above, writing
// to buffers, print plain lines only.
func TestLiveLineOnATerminal(t *testing.T) {
	scriptPath, err := exec.LookPath("script")
	if err != nil {
		t.Skip("util-linux script is not installed")
	}
	w := newDepWorld(t, "app: links\nenv: dev\nservice:\n  image: public.ecr.aws/nginx/nginx:1.27\n")
	w.cfn.SetScenario("lowfare-links-dev", awsfake.CFNScenario{})
	w.cfn.SetScenario("lowfare-links-dev-bootstrap", awsfake.CFNScenario{})
	typescript := filepath.Join(t.TempDir(), "typescript")
	child := os.Args[0] + " -test.run=^TestDeployChild$"
	cmd := exec.Command(scriptPath, "-q", "-e", "-c", child, typescript)
	cmd.Env = append(os.Environ(), "LOWFARE_DEPLOY_CHILD=1", "LOWFARE_DEPLOY_SPEC="+w.spec)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "\r\x1b[K  lowfare-links-dev: ") || !strings.Contains(string(out), "resources done") {
		t.Errorf("no live line on the terminal:\n%q", out)
	}
	if !strings.Contains(string(out), "CHILD EXIT 0") {
		t.Errorf("child deploy failed:\n%s", out)
	}
}

// TestDeployChild is the child of TestLiveLineOnATerminal: a deploy whose
// stdout is the terminal.
func TestDeployChild(t *testing.T) {
	if os.Getenv("LOWFARE_DEPLOY_CHILD") != "1" {
		t.Skip("run by TestLiveLineOnATerminal")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := Execute(ctx, []string{"deploy", "-f", os.Getenv("LOWFARE_DEPLOY_SPEC"), "--poll", "1ms"}, os.Stdin, os.Stdout, os.Stderr)
	fmt.Printf("\nCHILD EXIT %d\n", code)
}

func TestImageBuildPush(t *testing.T) {
	w := newDepWorld(t, depSpec)
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no stored registry credentials: anonymous
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	ref := strings.TrimPrefix(srv.URL, "http://") + "/links:dev"
	code, out, errOut := depRun(t, "", "image", "build", "-f", w.spec, "--push", ref)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "Pushed "+strings.TrimSuffix(ref, ":dev")+"@sha256:") || !strings.Contains(out, "Pushing "+ref+": 5 layers, ") {
		t.Errorf("output:\n%s", out)
	}
	if _, _, ecr, _, _ := w.calls(); len(ecr) != 0 {
		t.Errorf("ECR was asked for a token for a non-ECR registry: %v", ecr)
	}
	if code, _, _ := depRun(t, "", "image", "build", "-f", w.spec, "--push", "UPPER/Case::bad"); code != 2 {
		t.Errorf("a bad --push reference: exit %d; want 2", code)
	}
}

// A brand-new account's first ECS deploy creates the ECS
// service-linked role before any stack; the next deploy finds it. Without
// permission to create it, nothing is deployed and the error says how an
// administrator creates it.
func TestDeployCreatesTheServiceLinkedRoleFirst(t *testing.T) {
	w := newDepWorld(t, "app: links\nenv: dev\nservice:\n  image: public.ecr.aws/nginx/nginx:1.27\n")
	w.iam.DenyCreate = true
	code, out, errOut := depRun(t, "", "deploy", "-f", w.spec, "--poll", "1ms")
	if code != 1 || !strings.Contains(errOut, "aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com") {
		t.Fatalf("denied: exit %d\n%s\n%s", code, out, errOut)
	}
	if cfn, _, _, _, _ := w.calls(); slices.Contains(cfn, "CreateChangeSet") {
		t.Errorf("a stack was started without the role: %v", cfn)
	}
	w.iam.DenyCreate = false
	code, out, errOut = depRun(t, "", "deploy", "-f", w.spec, "--poll", "1ms")
	if code != 0 || !w.iam.HasRole("AWSServiceRoleForECS") || !strings.Contains(out, "Created the ECS service-linked role AWSServiceRoleForECS") {
		t.Fatalf("exit %d, role %v\n%s\n%s", code, w.iam.HasRole("AWSServiceRoleForECS"), out, errOut)
	}
	if i := strings.Index(out, "Created the ECS service-linked role"); i > strings.Index(out, "Creating stack") {
		t.Errorf("the role came after a stack:\n%s", out)
	}
	code, out, _ = depRun(t, "", "deploy", "-f", w.spec, "--poll", "1ms")
	if code != 0 || strings.Contains(out, "Created the ECS service-linked role") {
		t.Errorf("second deploy: exit %d\n%s", code, out)
	}
}

// plan --check runs deploy's preflight read-only: problems are one line
// each with exit 1, and nothing is created (not even the role).
func TestPlanCheck(t *testing.T) {
	w := newDepWorld(t, "app: links\nenv: dev\nservice:\n  image: public.ecr.aws/nginx/nginx:1.27\n  secrets: [ADMIN_TOKEN]\n")
	code, out, errOut := depRun(t, "", "plan", "--check", "-f", w.spec)
	if code != 0 || !strings.Contains(out, "Checks against AWS (us-east-1, read-only):") || !strings.Contains(out, "note: the ECS service-linked role AWSServiceRoleForECS does not exist yet") || !strings.Contains(out, "ok: nothing a deploy would trip over") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	w = newDepWorld(t, "app: links\nenv: dev\nservice:\n  image: public.ecr.aws/nginx/nginx:1.27\n  secrets: [ADMIN_TOKEN, MAIL_KEY]\n")
	code, _, errOut = depRun(t, "", "plan", "--check", "-f", w.spec)
	if code != 1 || !strings.Contains(errOut, "secret MAIL_KEY: SSM parameter /lowfare/links/dev/MAIL_KEY does not exist") {
		t.Fatalf("missing secret: exit %d\n%s", code, errOut)
	}
	cfn, _, _, _, _ := w.calls()
	if slices.ContainsFunc(cfn, func(c string) bool { return !strings.HasPrefix(c, "Describe") }) || w.iam.HasRole("AWSServiceRoleForECS") {
		t.Errorf("plan --check changed something: cfn %v, role %v", cfn, w.iam.HasRole("AWSServiceRoleForECS"))
	}
}

// A bootstrap stack without outputs (an older lowfare, or moto, whose
// change sets leave Outputs empty) still gives deploy its repository:
// DescribeStackResources names it, DescribeRepositories gives its URI.
func TestDeployFindsTheRepositoryWithoutOutputs(t *testing.T) {
	w := newDepWorld(t, depSpec)
	w.cfn.SetScenario("lowfare-links-dev-bootstrap", awsfake.CFNScenario{StepsPerPoll: 100, PhysicalIDs: map[string]string{"Repository": "lowfare-links-dev"}})
	w.ecr.Repositories = map[string]string{"lowfare-links-dev": w.registry + "/lowfare-links-dev"}
	code, out, errOut := depRun(t, "", "deploy", "-f", w.spec, "--poll", "1ms")
	if code != 0 || !strings.Contains(out, "Pushing "+w.registry+"/lowfare-links-dev:") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if _, _, ecr, _, _ := w.calls(); !slices.Contains(ecr, "DescribeRepositories") {
		t.Errorf("ECR calls %v", ecr)
	}
}

// deploy --region builds the templates for that region, as synth, plan and
// diff do: with ingress apigw the subnets read their VPC link zones from a
// mapping keyed by ${AWS::Region}, and a mapping for the spec's region
// alone fails in AWS when the stack goes to another one.
func TestDeployRegionFlagBuildsForThatRegion(t *testing.T) {
	w := newDepWorld(t, "app: links\nenv: dev\nregion: us-east-1\nservice:\n  image: public.ecr.aws/nginx/nginx:1.27\ningress:\n  kind: apigw\n")
	code, out, errOut := depRun(t, "", "deploy", "-f", w.spec, "--poll", "1ms", "--region", "eu-west-1")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("eu-west-1"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := cloudformation.NewFromConfig(cfg).GetTemplate(context.Background(), &cloudformation.GetTemplateInput{StackName: aws.String("lowfare-links-dev")})
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Mappings map[string]map[string]map[string]string
	}
	if err := json.Unmarshal([]byte(aws.ToString(got.TemplateBody)), &tmpl); err != nil {
		t.Fatal(err)
	}
	zones := tmpl.Mappings["VpcLinkZones"]
	if _, ok := zones["eu-west-1"]; !ok || len(zones) != 1 {
		t.Errorf("the deployed template's VpcLinkZones mapping has %v; want eu-west-1 alone", slices.Sorted(maps.Keys(zones)))
	}
}
