package stack

import (
	"context"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/cfn/cfnschema"
	"github.com/lowfare/lowfare/internal/spec"
)

var (
	regOnce sync.Once
	reg     *cfnschema.Registry
	regErr  error
)

// registry is the CloudFormation registry schemas from rain's module
// directory, opened once for the package's tests.
func registry(t *testing.T) *cfnschema.Registry {
	t.Helper()
	regOnce.Do(func() {
		dir, err := cfnschema.RainSchemaDir(context.Background())
		if err != nil {
			regErr = err
			return
		}
		reg = cfnschema.Open(dir)
	})
	if regErr != nil {
		t.Fatalf("the registry schemas are needed: %v", regErr)
	}
	return reg
}

// validate fails the test for every problem the registry schemas find.
func validate(t *testing.T, name string, tmpl *cfn.Template) {
	t.Helper()
	problems, err := registry(t).ValidateTemplate(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", name, p)
	}
}

// specCase is one spec the templates are built from.
type specCase struct {
	name   string
	spec   *spec.Spec
	golden bool // an example: compared with testdata/golden
}

// exampleSpecs loads every examples/*.yaml of the repository.
func exampleSpecs(t *testing.T) []specCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no examples/*.yaml")
	}
	sort.Strings(files)
	var out []specCase
	for _, f := range files {
		s, err := spec.Load(f)
		if err != nil {
			t.Fatalf("example %s: %v", f, err)
		}
		out = append(out, specCase{name: strings.TrimSuffix(filepath.Base(f), ".yaml"), spec: s, golden: true})
	}
	return out
}

// variant is spec.Default() with a secret (so that secret handling is
// covered everywhere; the default has none), changed by f.
func variant(f func(*spec.Spec)) *spec.Spec {
	s := spec.Default()
	s.Service.Secrets = []string{"ADMIN_TOKEN"}
	f(s)
	return s
}

// variantSpecs cover the shapes the examples do not.
func variantSpecs() []specCase {
	return []specCase{
		{name: "default", spec: spec.Default()},
		{name: "apigw-no-schedule", spec: variant(func(s *spec.Spec) { s.Ingress.Kind = spec.IngressAPIGW })},
		{name: "apigw-domain", spec: variant(func(s *spec.Spec) {
			s.Ingress = spec.Ingress{Kind: spec.IngressAPIGW, Domain: "api.example.com", HostedZoneID: "Z123"}
		})},
		{name: "alb-cert-and-domain-no-zone", spec: variant(func(s *spec.Spec) {
			s.Ingress.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
			s.Ingress.Domain = "links.example.com"
		})},
		{name: "on-demand-no-secrets", spec: variant(func(s *spec.Spec) {
			s.Table.Billing = spec.BillingOnDemand
			s.Service.Secrets = nil
			s.Tags = nil
		})},
		{name: "image-reference", spec: variant(func(s *spec.Spec) {
			// As spec.Load leaves it: the image's own user, writable root.
			s.Service.Image = "public.ecr.aws/example/app:1.0"
			s.Service.User, s.Service.ReadonlyRoot = "", false
		})},
		{name: "ecr-other-account-readonly-root", spec: variant(func(s *spec.Spec) {
			s.Service.Image = "210987654321.dkr.ecr.eu-west-1.amazonaws.com/team/app:v2"
			s.Service.User = "1000:1000"
			s.Service.Health.Command = []string{"CMD-SHELL", "wget -q -O- http://127.0.0.1:8080/healthz"}
		})},
		{name: "table-read-only-with-permissions", spec: variant(func(s *spec.Spec) {
			s.Table.Access = spec.AccessReadOnly
			s.Service.Permissions = []spec.Permission{
				{Actions: []string{"s3:GetObject", "s3:PutObject"}, Resources: []string{"arn:aws:s3:::uploads/*"}},
				{Actions: []string{"cloudwatch:PutMetricData"}, Resources: []string{"*"}},
			}
		})},
		{name: "table-access-none", spec: variant(func(s *spec.Spec) { s.Table.Access = spec.AccessNone })},
		{name: "serverless-access-none", spec: variant(func(s *spec.Spec) {
			s.Profile = spec.ProfileServerless
			s.Ingress.Kind = spec.IngressURL
			s.Table.Access = spec.AccessNone
		})},
		{name: "serverless-apigw", spec: variant(func(s *spec.Spec) {
			s.Profile = spec.ProfileServerless
			s.Ingress = spec.Ingress{Kind: spec.IngressAPIGW, Domain: "api.example.com", HostedZoneID: "Z123"}
		})},
		{name: "serverless-url-x86", spec: variant(func(s *spec.Spec) {
			s.Profile = spec.ProfileServerless
			s.Ingress.Kind = spec.IngressURL
			s.Service.Arch = spec.ArchX8664
		})},
		{name: "alb-idle-tls-schedule", spec: variant(func(s *spec.Spec) {
			s.Ingress.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
			s.Ingress.Domain = "links.example.com"
			s.Service.Idle = &spec.Idle{After: "15m"}
			s.Service.Schedule = &spec.Schedule{Timezone: "Europe/Berlin", Awake: "Mon-Fri 08:00-12:00, Mon-Fri 13:00-20:00, Sat 10:00-14:00"}
		})},
		{name: "apigw-idle", spec: variant(func(s *spec.Spec) {
			s.Ingress.Kind = spec.IngressAPIGW
			s.Service.Idle = &spec.Idle{After: "15m"}
		})},
		{name: "apigw-idle-domain-schedule-long-names", spec: variant(func(s *spec.Spec) {
			s.App = "abcdefghijklmnopqrstu"
			s.Env = "abcdefghijk"
			s.Ingress = spec.Ingress{Kind: spec.IngressAPIGW, Domain: "api.example.com", HostedZoneID: "Z123"}
			s.Service.Idle = &spec.Idle{After: "24h"}
			s.Service.Schedule = &spec.Schedule{Timezone: "America/New_York", Awake: "Mon-Fri 08:00-20:00"}
		})},
		{name: "long-names", spec: variant(func(s *spec.Spec) {
			s.App = "abcdefghijklmnopqrstu"
			s.Env = "abcdefghijk"
		})},
	}
}

// guestbookSpecs are the specs of examples/guestbook, the example app that
// is not links, one per profile.
func guestbookSpecs(t *testing.T) []specCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "guestbook", "*.yaml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("examples/guestbook: %d specs (%v), want one per profile", len(files), err)
	}
	sort.Strings(files)
	var out []specCase
	for _, f := range files {
		s, err := spec.Load(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, specCase{name: "guestbook-" + strings.TrimSuffix(filepath.Base(f), ".yaml"), spec: s})
	}
	return out
}

// allSpecs are the examples (links and guestbook) and the variants.
func allSpecs(t *testing.T) []specCase {
	return slices.Concat(exampleSpecs(t), guestbookSpecs(t), variantSpecs(), databaseSpecs())
}

func build(t *testing.T, s *spec.Spec) *Result {
	t.Helper()
	r, err := Build(s)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return r
}

// generic is a template as plain JSON values.
func generic(t *testing.T, tmpl *cfn.Template) map[string]any {
	t.Helper()
	g, err := tmpl.Generic()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// resources returns the generic resources of a given type, by logical ID.
func resourcesOfType(g map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	res, _ := g["Resources"].(map[string]any)
	for id, r := range res {
		rm := r.(map[string]any)
		if rm["Type"] == typ {
			props, _ := rm["Properties"].(map[string]any)
			out[id] = props
		}
	}
	return out
}
