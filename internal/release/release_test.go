package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/deploy"
	"github.com/lowfare/lowfare/internal/image"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// record is a Reporter that keeps what it hears, one line an event, in
// order: what a CI runner without the CLI would get.
type record struct {
	mu     sync.Mutex
	events []string
}

func (r *record) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
}

func (r *record) RoleCreated(name string)  { r.add("role %s", name) }
func (r *record) Unchanged(stack string)   { r.add("unchanged %s", stack) }
func (r *record) Warning(err error)        { r.add("warning %v", err) }
func (r *record) TableDeleted(name string) { r.add("deleted table %s", name) }
func (r *record) Proof(p Proof) {
	r.add("proof %s %s: %s", p.Stage, p.Service, p.Detail)
}
func (r *record) Changes(stack string, changes []deploy.Change) {
	r.add("changes %s %d", stack, len(changes))
}

func (r *record) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// noImages fails the test when a release builds or pushes an image: an
// image reference is used as it is.
type noImages struct{ t *testing.T }

func (n noImages) Build(context.Context, *Release) (*image.Built, error) {
	n.t.Error("an image reference was built")
	return nil, errors.New("no build")
}

func (n noImages) Push(context.Context, *image.Built, string, authn.Authenticator) (string, error) {
	n.t.Error("an image reference was pushed")
	return "", errors.New("no push")
}

// world is the CloudFormation, IAM, SSM, ECR and DynamoDB fakes one
// release talks to, reached through the SDK as the CLI reaches AWS.
type world struct {
	cfn    *awsfake.CloudFormation
	iam    *awsfake.IAM
	mu     sync.Mutex
	tables map[string]bool
}

func newWorld(t *testing.T, more ...map[string]string) (*world, *awsconf.Clients) {
	t.Helper()
	w := &world{cfn: awsfake.NewCloudFormation(), iam: awsfake.NewIAM("123456789012"), tables: map[string]bool{}}
	ddb := &awsfake.JSONService{TargetPrefix: "DynamoDB_20120810", Version: "1.0", Ops: map[string]awsfake.JSONOp{
		"ListTables": awsfake.Handle(func(struct{}) (any, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			return map[string]any{"TableNames": slices.Sorted(maps.Keys(w.tables))}, nil
		}),
		"DescribeTable": awsfake.Handle(func(in struct{ TableName string }) (any, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			if _, ok := w.tables[in.TableName]; !ok {
				return nil, awsfake.Errorf("ResourceNotFoundException", "Requested resource not found: Table: %s not found", in.TableName)
			}
			return map[string]any{"Table": map[string]any{"TableName": in.TableName, "TableStatus": "ACTIVE", "DeletionProtectionEnabled": w.tables[in.TableName]}}, nil
		}),
		"DeleteTable": awsfake.Handle(func(in struct{ TableName string }) (any, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			delete(w.tables, in.TableName)
			return map[string]any{"TableDescription": map[string]any{"TableName": in.TableName, "TableStatus": "DELETING"}}, nil
		}),
	}}
	endpoints := map[string]string{
		"CLOUDFORMATION": awsfake.Serve(t, w.cfn),
		"IAM":            awsfake.Serve(t, w.iam),
		"SSM":            awsfake.Serve(t, awsfake.NewSSM()),
		"ECR":            awsfake.Serve(t, awsfake.NewECR("", "ecr-pass")),
		"DYNAMODB":       awsfake.Serve(t, ddb),
	}
	for _, m := range more {
		maps.Copy(endpoints, m)
	}
	awsfake.UseEndpoints(t, endpoints)
	cfg, err := awsconf.Load(testCtx(t), awsconf.Options{Region: "us-east-1", Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	return w, awsconf.NewClients(cfg)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func mustRelease(t *testing.T, yaml string) *Release {
	t.Helper()
	s, err := spec.Parse("lowfare.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	r, err := New("lowfare.yaml", s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newRunner(c *awsconf.Clients, images Images, rec *record) *Runner {
	return &Runner{
		AWS:    c,
		Stacks: &deploy.Deployer{CFN: c.CloudFormation, Out: io.Discard, Poll: time.Millisecond},
		Images: images,
		Report: rec,
	}
}

// The whole workflow without the CLI, as CI would run it: what it does
// reaches the Reporter in order, and an image reference is never built
// and gets no bootstrap stack (no ECR repository that nothing uses).
func TestReleaseWithoutTheCLI(t *testing.T) {
	w, clients := newWorld(t)
	w.cfn.SetScenario("lowfare-links-dev", awsfake.CFNScenario{StepsPerPoll: 100,
		Outputs:     map[string]string{"URL": "http://links.example", "TableName": "lowfare-links-dev-Table-ABC"},
		PhysicalIDs: map[string]string{"Table": "lowfare-links-dev-Table-ABC"}})
	r := mustRelease(t, "app: links\nenv: dev\nregion: us-east-1\nservice:\n  image: public.ecr.aws/nginx/nginx:1.27\n")
	rec := &record{}
	rn := newRunner(clients, noImages{t}, rec)

	res, err := rn.Deploy(testCtx(t), r)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outputs["URL"] != "http://links.example" {
		t.Errorf("outputs %v", res.Outputs)
	}
	if got := rec.take(); !slices.Equal(got, []string{"role AWSServiceRoleForECS"}) {
		t.Errorf("first deploy reported %q", got)
	}
	if got := w.cfn.StackParameters("lowfare-links-dev")["ImageUri"]; got != "public.ecr.aws/nginx/nginx:1.27" {
		t.Errorf("ImageUri %q; want the reference as it is", got)
	}

	if _, err := rn.Deploy(testCtx(t), r); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); !slices.Equal(got, []string{"unchanged lowfare-links-dev"}) {
		t.Errorf("unchanged redeploy reported %q", got)
	}
	if err := rn.DryRun(testCtx(t), r); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); !slices.Equal(got, []string{"changes lowfare-links-dev 0"}) {
		t.Errorf("dry run reported %q", got)
	}

	w.mu.Lock()
	w.tables["lowfare-links-dev-Table-ABC"] = false
	w.mu.Unlock()
	inv, err := rn.TakeStock(testCtx(t), r.Spec)
	if err != nil {
		t.Fatal(err)
	}
	if !inv.MainExists || inv.BootstrapExists || !slices.Equal(inv.TableNames(), []string{"lowfare-links-dev-Table-ABC"}) || inv.TablesErr != nil {
		t.Fatalf("inventory %+v", inv)
	}
	done, err := rn.Destroy(testCtx(t), inv, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); !slices.Equal(got, []string{"deleted table lowfare-links-dev-Table-ABC"}) {
		t.Errorf("destroy reported %q", got)
	}
	if left := rn.Remains(testCtx(t), inv, done); !left.Empty() {
		t.Errorf("remains after destroy --delete-data: %+v", left)
	}
	if inv, err = rn.TakeStock(testCtx(t), r.Spec); err != nil || !inv.Empty() {
		t.Errorf("inventory after destroy: %+v, %v", inv, err)
	}
}

// A deploy whose image cannot be tagged live has still deployed: the tag
// failing is a warning, after the main stack runs the pushed image.
func TestLiveTagFailureIsAWarning(t *testing.T) {
	w, clients := newWorld(t)
	reg := awsfake.Serve(t, registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	repo := strings.TrimPrefix(reg, "http://") + "/lowfare-links-dev"
	w.cfn.SetScenario("lowfare-links-dev-bootstrap", awsfake.CFNScenario{StepsPerPoll: 100, Outputs: map[string]string{"RepositoryUri": repo}})
	r := mustRelease(t, "app: links\nenv: dev\nregion: us-east-1\nservice:\n  image: ./cmd/links\n")
	img := &pushless{t: t}
	rec := &record{}
	if _, err := newRunner(clients, img, rec).Deploy(testCtx(t), r); err != nil {
		t.Fatal(err)
	}
	if img.pushedTo != repo+":"+image.Tag("abc123") {
		t.Errorf("pushed to %q", img.pushedTo)
	}
	if got := w.cfn.StackParameters("lowfare-links-dev")["ImageUri"]; got != img.byDigest {
		t.Errorf("ImageUri %q; want the pushed image by digest %q", got, img.byDigest)
	}
	got := rec.take()
	if len(got) != 2 || got[0] != "role AWSServiceRoleForECS" || !strings.HasPrefix(got[1], "warning the deploy succeeded, but tagging its image "+stack.LiveImageTag+" failed") {
		t.Errorf("reported %q", got)
	}
}

// pushless builds a random image and claims to push it without doing so,
// so that the live tag cannot find it.
type pushless struct {
	t                  *testing.T
	built              *image.Built
	pushedTo, byDigest string
}

func (p *pushless) Build(ctx context.Context, r *Release) (*image.Built, error) {
	var err error
	p.built, err = randomBuilt()
	return p.built, err
}

// randomBuilt is a small random image, as an image build returns it.
func randomBuilt() (*image.Built, error) {
	img, err := random.Image(64, 1)
	if err != nil {
		return nil, err
	}
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	return &image.Built{Image: img, Digest: d, Revision: "abc123", Arch: "arm64"}, nil
}

func (p *pushless) Push(ctx context.Context, built *image.Built, ref string, auth authn.Authenticator) (string, error) {
	if built != p.built || auth == nil {
		p.t.Errorf("pushed %v with auth %v", built, auth)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", err
	}
	p.pushedTo, p.byDigest = ref, r.Context().Digest(built.Digest.String()).String()
	return p.byDigest, nil
}

// After a spec moves from a Go package to an image reference, a deploy
// makes no bootstrap stack and leaves the old one, whose repository
// nothing runs any more, saying so and how to delete it.
func TestLeftoverBootstrapIsAWarning(t *testing.T) {
	w, clients := newWorld(t)
	reg := awsfake.Serve(t, registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	repo := strings.TrimPrefix(reg, "http://") + "/lowfare-links-dev"
	w.cfn.SetScenario("lowfare-links-dev-bootstrap", awsfake.CFNScenario{StepsPerPoll: 100, Outputs: map[string]string{"RepositoryUri": repo}})
	rec := &record{}
	rn := newRunner(clients, &pushless{t: t}, rec)
	if _, err := rn.Deploy(testCtx(t), mustRelease(t, "app: links\nenv: dev\nregion: us-east-1\nservice:\n  image: ./cmd/links\n")); err != nil {
		t.Fatal(err)
	}
	rec.take()
	if _, err := rn.Deploy(testCtx(t), mustRelease(t, "app: links\nenv: dev\nregion: us-east-1\nservice:\n  image: public.ecr.aws/nginx/nginx:1.27\n")); err != nil {
		t.Fatal(err)
	}
	var warned bool
	for _, got := range rec.take() {
		if strings.HasPrefix(got, "warning stack lowfare-links-dev-bootstrap from an earlier deploy holds "+repo) &&
			strings.Contains(got, "aws cloudformation delete-stack --stack-name lowfare-links-dev-bootstrap") {
			warned = true
		}
	}
	if !warned {
		t.Error("no warning about the bootstrap stack left from the Go package")
	}
	if _, ok := w.cfn.StackStatus("lowfare-links-dev-bootstrap"); !ok {
		t.Error("the deploy deleted the old bootstrap stack")
	}
}
