package preflight

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
	"github.com/lowfare/lowfare/internal/testutil"
)

func TestCovers(t *testing.T) {
	for _, tc := range []struct {
		names  []string
		domain string
		want   bool
	}{
		{[]string{"app.example.com"}, "app.example.com", true},
		{[]string{"APP.example.com."}, "app.example.com", true},
		{[]string{"example.com", "*.example.com"}, "app.example.com", true},
		{[]string{"*.example.com"}, "example.com", false},
		{[]string{"*.example.com"}, "a.b.example.com", false},
		{[]string{"*.example.com"}, "app.example.org", false},
		{[]string{"other.example.com"}, "app.example.com", false},
		{nil, "app.example.com", false},
	} {
		if got := Covers(tc.names, tc.domain); got != tc.want {
			t.Errorf("Covers(%v, %q) = %v, want %v", tc.names, tc.domain, got, tc.want)
		}
	}
}

// motoConfig points every client at a moto_server (an AWS emulator nobody
// here wrote).
func motoConfig(url, region string) aws.Config {
	return aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDMOTO", "secret", ""),
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
		HTTPClient:       awsconf.OwnBodies(http.DefaultClient),
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// selfSigned returns a PEM certificate and key for the names.
func selfSigned(t *testing.T, names ...string) (cert, key []byte) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

// TestCheckAgainstMoto runs each check against moto's Route 53, ACM, SSM
// and ECR: the failures a rollback would otherwise reveal are one line
// each, naming the spec field and the thing.
func TestCheckAgainstMoto(t *testing.T) {
	url := testutil.Moto(t)
	ctx := testCtx(t)
	cfg := motoConfig(url, "us-east-1")
	c := awsconf.NewClients(cfg)

	zone, err := c.Route53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String("t1")})
	if err != nil {
		t.Fatal(err)
	}
	zoneID := strings.TrimPrefix(aws.ToString(zone.HostedZone.Id), "/hostedzone/")
	certPEM, keyPEM := selfSigned(t, "app.example.com")
	issued, err := c.ACM.ImportCertificate(ctx, &acm.ImportCertificateInput{Certificate: certPEM, PrivateKey: keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	// moto keeps a requested certificate PENDING_VALIDATION for 60 s
	// (moto/acm/models.py, CertBundle.check; MOTO_ACM_VALIDATION_WAIT).
	pending, err := c.ACM.RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("app.example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SSM.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/lowfare/links/dev/ADMIN_TOKEN"), Value: aws.String("x"), Type: ssmtypes.ParameterTypeSecureString}); err != nil {
		t.Fatal(err)
	}
	repo, err := c.ECR.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("shop")})
	if err != nil {
		t.Fatal(err)
	}
	manifest := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}`
	if _, err := c.ECR.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("shop"), ImageManifest: aws.String(manifest), ImageTag: aws.String("v1")}); err != nil {
		t.Fatal(err)
	}
	repoURI := aws.ToString(repo.Repository.RepositoryUri)

	base := func() *spec.Spec {
		s := spec.Default()
		s.Service.Image = repoURI + ":v1"
		s.Service.Secrets = []string{"ADMIN_TOKEN"}
		s.Ingress.Domain = "app.example.com"
		s.Ingress.HostedZoneID = zoneID
		s.Ingress.CertificateARN = aws.ToString(issued.CertificateArn)
		return s
	}
	otherRegion := strings.Replace(aws.ToString(issued.CertificateArn), ":us-east-1:", ":eu-west-1:", 1)
	missingCert := aws.ToString(issued.CertificateArn)[:strings.LastIndex(aws.ToString(issued.CertificateArn), "/")+1] + "00000000-0000-0000-0000-000000000000"
	for _, tc := range []struct {
		name string
		edit func(*spec.Spec)
		want string // the one problem; "" for none
	}{
		{"all good", func(*spec.Spec) {}, ""},
		{"missing zone", func(s *spec.Spec) { s.Ingress.HostedZoneID = "Z0000000000000000000" }, "ingress.hosted_zone_id Z0000000000000000000: no such hosted zone in this account"},
		{"zone of another domain", func(s *spec.Spec) { s.Ingress.Domain = "app.example.org"; s.Ingress.CertificateARN = "" },
			"is the zone of example.com, which does not hold ingress.domain app.example.org"},
		{"missing certificate", func(s *spec.Spec) { s.Ingress.CertificateARN = missingCert }, "ingress.certificate_arn " + missingCert + ": no such certificate in us-east-1"},
		{"certificate not issued", func(s *spec.Spec) { s.Ingress.CertificateARN = aws.ToString(pending.CertificateArn) }, "is PENDING_VALIDATION, not ISSUED"},
		{"certificate for another name", func(s *spec.Spec) { s.Ingress.Domain = "www.example.com" }, "covers app.example.com, not ingress.domain www.example.com"},
		{"certificate in another region", func(s *spec.Spec) { s.Ingress.CertificateARN = otherRegion }, "is in eu-west-1; the stack in us-east-1 needs a certificate in its own region"},
		{"missing secret", func(s *spec.Spec) { s.Service.Secrets = []string{"ADMIN_TOKEN", "STRIPE_KEY"} },
			"secret STRIPE_KEY: SSM parameter /lowfare/links/dev/STRIPE_KEY does not exist; set it with 'lowfare secrets set STRIPE_KEY'"},
		{"missing image tag", func(s *spec.Spec) { s.Service.Image = repoURI + ":v2" }, "no image v2 in ECR repository shop; push it first"},
		{"missing repository", func(s *spec.Spec) { s.Service.Image = strings.Replace(repoURI, "/shop", "/nope", 1) + ":v1" }, "ECR repository nope does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			tc.edit(s)
			r := Check(ctx, c, s, Stacks{Main: s.StackName(), Bootstrap: s.BootstrapStackName()})
			switch {
			case tc.want == "" && len(r.Problems) > 0:
				t.Errorf("problems %q; want none", r.Problems)
			case tc.want != "" && (len(r.Problems) != 1 || !strings.Contains(r.Problems[0], tc.want)):
				t.Errorf("problems %q; want exactly one containing %q", r.Problems, tc.want)
			}
			if err := r.Err(); (err == nil) != (tc.want == "") || err != nil && strings.Count(err.Error(), "\n") != len(r.Problems) {
				t.Errorf("Err() = %v", err)
			}
		})
	}
}

// TestNamesTakenByAnotherStack: a fixed name of the templates that another
// stack owns is a problem; the app's own stacks may own them. moto's
// DescribeStackResources ignores PhysicalResourceId
// (moto/cloudformation/responses.py, describe_stack_resources reads only
// StackName and LogicalResourceId), so this runs on the own fake.
func TestNamesTakenByAnotherStack(t *testing.T) {
	s := spec.Default()
	res, err := stack.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	main, _ := json.Marshal(res.Main)
	boot, _ := json.Marshal(res.Bootstrap)
	names, err := fixedNames(main, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	group := ""
	for n, typ := range names {
		if typ == "AWS::Logs::LogGroup" {
			group = n
		}
	}
	if group == "" || len(names) < 3 {
		t.Fatalf("fixed names of the seed template: %v; want the log group among them", names)
	}
	cf := awsfake.NewCloudFormation()
	cf.PutStack("someone-else", "CREATE_COMPLETE", nil)
	cf.PutResource("someone-else", "Logs", "AWS::Logs::LogGroup", group)
	cfg := awsfake.Config(t, cf)
	c := awsconf.NewClients(cfg)
	stacks := Stacks{Main: s.StackName(), Bootstrap: s.BootstrapStackName(), MainBody: main, BootstrapBody: boot}
	var problems []string
	problem := func(f string, a ...any) { problems = append(problems, f) }
	note := func(f string, a ...any) { t.Errorf("note: "+f, a...) }
	checkNames(testCtx(t), c, stacks, problem, note)
	if len(problems) != 1 || !strings.Contains(problems[0], "is taken by stack") {
		t.Fatalf("problems %q; want the log group taken by someone-else", problems)
	}
	// The same name in the app's own stack is no problem (an update).
	cf2 := awsfake.NewCloudFormation()
	cf2.PutStack(s.StackName(), "CREATE_COMPLETE", nil)
	cf2.PutResource(s.StackName(), "LogGroup", "AWS::Logs::LogGroup", group)
	problems = nil
	checkNames(testCtx(t), awsconf.NewClients(awsfake.Config(t, cf2)), stacks, problem, note)
	if len(problems) != 0 {
		t.Errorf("own stack's names: %q", problems)
	}
}

// TestEnsureServiceLinkedRole: a brand-new account
// has no ECS service-linked role; deploy creates it, and a role that
// exists (AWS: InvalidInput "has been taken in this account"; moto:
// EntityAlreadyExists) is fine. Without permission to create a missing
// role, the error says how an administrator creates it.
func TestEnsureServiceLinkedRole(t *testing.T) {
	ctx := testCtx(t)
	fake := awsfake.NewIAM("123456789012")
	c := iam.NewFromConfig(awsfake.Config(t, fake))
	if created, err := EnsureServiceLinkedRole(ctx, c); err != nil || !created || !fake.HasRole(ECSServiceRole) {
		t.Fatalf("first: created %v, %v; role exists %v", created, err, fake.HasRole(ECSServiceRole))
	}
	if created, err := EnsureServiceLinkedRole(ctx, c); err != nil || created {
		t.Fatalf("second: created %v, %v", created, err)
	}
	fake.DenyGet = true // GetRole not allowed: create answers "has been taken"
	if created, err := EnsureServiceLinkedRole(ctx, c); err != nil || created {
		t.Fatalf("existing role, GetRole denied: created %v, %v", created, err)
	}
	denied := awsfake.NewIAM("123456789012")
	denied.DenyCreate = true
	_, err := EnsureServiceLinkedRole(ctx, iam.NewFromConfig(awsfake.Config(t, denied)))
	if err == nil || !strings.Contains(err.Error(), "aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com") {
		t.Fatalf("denied: %v", err)
	}

	// moto answers a second create with EntityAlreadyExists, and GetRole
	// does not find the role (moto names it AWSServiceRoleForecs:
	// moto/iam/models.py, create_service_linked_role).
	mc := iam.NewFromConfig(motoConfig(testutil.Moto(t), "us-east-1"))
	for i, want := range []bool{true, false} {
		if created, err := EnsureServiceLinkedRole(ctx, mc); err != nil || created != want {
			t.Fatalf("moto call %d: created %v, %v; want %v", i+1, created, err, want)
		}
	}
}
