// Package preflight asks AWS, read-only, what a stack operation would
// otherwise reveal only after a rollback ten minutes later: that the hosted
// zone and the certificate the spec names exist and fit its domain, that
// its secrets are set, that no other stack owns a name the templates take,
// that an image reference resolves and has a variant for service.arch
// (read from its registry), and that a serverless function's reserved
// concurrency fits the account's Lambda limit. `lowfare deploy` runs it
// before it creates or updates anything, `lowfare plan --check` on its own.
//
// It also makes the one account-level resource lowfare needs outside its
// stacks: the ECS service-linked role (EnsureServiceLinkedRole).
package preflight

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/image"
	"github.com/lowfare/lowfare/internal/ops"
	"github.com/lowfare/lowfare/internal/spec"
)

// CallTimeout bounds each single API call.
const CallTimeout = 20 * time.Second

// Report is the outcome of the checks. Each problem is one line naming the
// thing and what to do; notes are facts that do not stop a deploy.
type Report struct {
	Problems []string
	Notes    []string
	// BadInput: a problem is in the spec itself (an image reference
	// without a variant for service.arch), not in the account; the CLI
	// exits 2 for it.
	BadInput bool
}

// Err is nil without problems, else an error with one problem a line.
func (r *Report) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	return &Error{Problems: r.Problems, BadInput: r.BadInput}
}

// Error is a failed preflight: nothing was created or changed.
type Error struct {
	Problems []string
	BadInput bool // see Report.BadInput
}

func (e *Error) Error() string {
	return "preflight failed, nothing was changed:\n  " + strings.Join(e.Problems, "\n  ")
}

// Stacks are the two stacks of the app with their template bodies (JSON);
// a name owned by either is ours.
type Stacks struct {
	Main, Bootstrap         string
	MainBody, BootstrapBody []byte
}

// Check runs every check (concurrently; each is a few read-only calls) and
// reports all problems, not only the first.
func Check(ctx context.Context, c *awsconf.Clients, s *spec.Spec, st Stacks) *Report {
	r := &Report{}
	var mu sync.Mutex
	problem := func(format string, args ...any) {
		mu.Lock()
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	note := func(format string, args ...any) {
		mu.Lock()
		r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	var wg sync.WaitGroup
	wg.Go(func() { checkZone(ctx, c, s, problem) })
	wg.Go(func() { checkCertificate(ctx, c, s, problem) })
	wg.Go(func() { checkSecrets(ctx, c, s, problem) })
	if s.ECS() {
		wg.Go(func() { checkServiceLinkedRole(ctx, c, note) })
	}
	wg.Go(func() { checkNames(ctx, c, st, problem, note) })
	// A problem of the spec itself (the image's platform) is bad input:
	// the fix is in the spec, not in the account.
	input := func(format string, args ...any) {
		mu.Lock()
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
		r.BadInput = true
		mu.Unlock()
	}
	wg.Go(func() { checkImage(ctx, c, s, problem, input, note) })
	wg.Go(func() { checkConcurrency(ctx, c, s, problem, note) })
	wg.Wait()
	slices.Sort(r.Problems)
	slices.Sort(r.Notes)
	return r
}

func call[T any](ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	return fn(ctx)
}

// checkZone: the hosted zone exists, is public, and is the domain's zone
// (the domain or a parent of it), or the alias record and the DNS
// validation of the certificate fail in the stack.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHostedZone.html
func checkZone(ctx context.Context, c *awsconf.Clients, s *spec.Spec, problem func(string, ...any)) {
	in := s.Ingress
	if in.HostedZoneID == "" {
		return
	}
	out, err := call(ctx, func(ctx context.Context) (*route53.GetHostedZoneOutput, error) {
		return c.Route53.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(in.HostedZoneID)})
	})
	switch {
	case awsconf.ErrorCode(err) == "NoSuchHostedZone":
		problem("ingress.hosted_zone_id %s: no such hosted zone in this account (Route 53); check the ID with 'aws route53 list-hosted-zones'", in.HostedZoneID)
		return
	case err != nil:
		problem("ingress.hosted_zone_id %s: could not read it: %v", in.HostedZoneID, err)
		return
	}
	zone := strings.TrimSuffix(strings.ToLower(aws.ToString(out.HostedZone.Name)), ".")
	domain := strings.TrimSuffix(strings.ToLower(in.Domain), ".")
	if out.HostedZone.Config != nil && out.HostedZone.Config.PrivateZone {
		problem("ingress.hosted_zone_id %s: %s is a private hosted zone; the public domain %s needs a public one", in.HostedZoneID, zone, domain)
	}
	if domain != "" && domain != zone && !strings.HasSuffix(domain, "."+zone) {
		problem("ingress.hosted_zone_id %s is the zone of %s, which does not hold ingress.domain %s", in.HostedZoneID, zone, domain)
	}
}

// certARN is arn:aws:acm:<region>:<account>:certificate/<id>; compiled
// on first use, so commands that never check pay nothing at start.
var certARN = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^arn:aws[a-z-]*:acm:([a-z0-9-]+):[0-9]{12}:certificate/.+$`)
})

// checkCertificate: a given certificate is in the stack's region (a load
// balancer and a regional API Gateway domain take only certificates of
// their own region), ISSUED, and covers the domain.
// https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html
// https://docs.aws.amazon.com/acm/latest/APIReference/API_DescribeCertificate.html
func checkCertificate(ctx context.Context, c *awsconf.Clients, s *spec.Spec, problem func(string, ...any)) {
	arn := s.Ingress.CertificateARN
	if arn == "" {
		return
	}
	m := certARN().FindStringSubmatch(arn)
	if m == nil {
		problem("ingress.certificate_arn %s: not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)", arn)
		return
	}
	if region := c.Region(); m[1] != region {
		problem("ingress.certificate_arn %s is in %s; the stack in %s needs a certificate in its own region (request or import one there)", arn, m[1], region)
		return
	}
	out, err := call(ctx, func(ctx context.Context) (*acm.DescribeCertificateOutput, error) {
		return c.ACM.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
	})
	switch {
	case awsconf.ErrorCode(err) == "ResourceNotFoundException":
		problem("ingress.certificate_arn %s: no such certificate in %s (ACM); check it with 'aws acm list-certificates --region %s'", arn, c.Region(), c.Region())
		return
	case err != nil:
		problem("ingress.certificate_arn %s: could not read it: %v", arn, err)
		return
	}
	cert := out.Certificate
	if cert.Status != acmtypes.CertificateStatusIssued {
		problem("ingress.certificate_arn %s is %s, not ISSUED: finish its validation (or use an issued one) before deploying", arn, cert.Status)
	}
	names := append([]string{aws.ToString(cert.DomainName)}, cert.SubjectAlternativeNames...)
	if d := s.Ingress.Domain; d != "" && !Covers(names, d) {
		problem("ingress.certificate_arn %s covers %s, not ingress.domain %s", arn, strings.Join(slices.Compact(slices.Sorted(slices.Values(names))), ", "), d)
	}
}

// Covers reports whether a certificate for names is valid for domain: an
// exact name, or a wildcard "*.example.com", which covers one label only
// (a.example.com, not example.com nor a.b.example.com).
// https://docs.aws.amazon.com/acm/latest/userguide/acm-certificate.html
func Covers(names []string, domain string) bool {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	for _, n := range names {
		n = strings.TrimSuffix(strings.ToLower(n), ".")
		if n == domain {
			return true
		}
		if rest, ok := strings.CutPrefix(n, "*."); ok {
			if label, parent, found := strings.Cut(domain, "."); found && label != "" && parent == rest {
				return true
			}
		}
	}
	return false
}

// checkSecrets: every secret the service reads exists in SSM (ECS fails the
// task, Lambda the function, only at start otherwise).
func checkSecrets(ctx context.Context, c *awsconf.Clients, s *spec.Spec, problem func(string, ...any)) {
	missing, err := ops.MissingSecrets(ctx, c.SSM, s)
	if err != nil {
		problem("service.secrets: %v", err)
		return
	}
	for _, name := range missing {
		problem("secret %s: SSM parameter %s does not exist; set it with 'lowfare secrets set %s'", name, s.SecretParameter(name), name)
	}
}

// ECSServiceRole is the ECS service-linked role, ECSService the service
// it is linked to.
const (
	ECSServiceRole  = "AWSServiceRoleForECS"
	ECSService      = "ecs.amazonaws.com"
	slrCreateAdvice = "aws iam create-service-linked-role --aws-service-name " + ECSService
)

// checkServiceLinkedRole notes a missing ECS service-linked role: deploy
// creates it (EnsureServiceLinkedRole), so it is not a problem here.
func checkServiceLinkedRole(ctx context.Context, c *awsconf.Clients, note func(string, ...any)) {
	_, err := call(ctx, func(ctx context.Context) (*iam.GetRoleOutput, error) {
		return c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(ECSServiceRole)})
	})
	switch {
	case awsconf.ErrorCode(err) == "NoSuchEntity":
		note("the ECS service-linked role %s does not exist yet: deploy creates it (iam:CreateServiceLinkedRole)", ECSServiceRole)
	case err != nil:
		note("the ECS service-linked role %s could not be checked: %v", ECSServiceRole, err)
	}
}

// EnsureServiceLinkedRole creates the ECS service-linked role unless it
// exists. A brand-new account has none until its first ECS cluster, and a
// cluster with capacity providers fails to create without it; a role that
// exists already is fine (AWS: InvalidInput "... has been taken in this
// account"; moto: EntityAlreadyExists).
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateServiceLinkedRole.html
func EnsureServiceLinkedRole(ctx context.Context, c *iam.Client) (created bool, err error) {
	_, err = call(ctx, func(ctx context.Context) (*iam.GetRoleOutput, error) {
		return c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(ECSServiceRole)})
	})
	if err == nil {
		return false, nil
	}
	// Not found, or GetRole not allowed: try to create it either way.
	_, err = call(ctx, func(ctx context.Context) (*iam.CreateServiceLinkedRoleOutput, error) {
		return c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String(ECSService)})
	})
	switch {
	case err == nil:
		return true, nil
	case awsconf.ErrorCode(err) == "EntityAlreadyExists", awsconf.ErrorCode(err) == "InvalidInput" && strings.Contains(err.Error(), "has been taken in this account"):
		return false, nil
	}
	return false, fmt.Errorf("creating the ECS service-linked role %s: %w; an administrator can create it once with: %s", ECSServiceRole, err, slrCreateAdvice)
}

// nameProperty is, for each resource type whose physical ID is the name
// the template gives it, the property holding that name. Other named types
// (services, load balancers, target groups) have ARNs as physical IDs,
// which a name does not find.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html
var nameProperty = map[string]string{
	"AWS::ECR::Repository":       "RepositoryName",
	"AWS::ECS::Cluster":          "ClusterName",
	"AWS::Logs::LogGroup":        "LogGroupName",
	"AWS::CloudWatch::Alarm":     "AlarmName",
	"AWS::CloudWatch::Dashboard": "DashboardName",
}

// fixedNames lists the names a template sets, with their types: plain
// strings, and Fn::Sub strings whose only variable is ${AWS::Region}.
func fixedNames(body []byte, region string) (map[string]string, error) {
	var tpl struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal(body, &tpl); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, r := range tpl.Resources {
		prop, ok := nameProperty[r.Type]
		if !ok {
			continue
		}
		switch v := r.Properties[prop].(type) {
		case string:
			out[v] = r.Type
		case map[string]any:
			if sub, ok := v["Fn::Sub"].(string); ok {
				if name := strings.ReplaceAll(sub, "${AWS::Region}", region); !strings.Contains(name, "${") {
					out[name] = r.Type
				}
			}
		}
	}
	return out, nil
}

// checkNames: no stack but ours owns a name the templates would take
// (CloudFormation answers which stack owns a physical ID). Creating the
// resource would fail with "already exists" only after the rest of the
// stack was built and rolled back.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackResources.html
func checkNames(ctx context.Context, c *awsconf.Clients, st Stacks, problem, note func(string, ...any)) {
	names := map[string]string{}
	for _, body := range [][]byte{st.BootstrapBody, st.MainBody} {
		if len(body) == 0 {
			continue
		}
		got, err := fixedNames(body, c.Region())
		if err != nil {
			note("names could not be checked: %v", err)
			return
		}
		for k, v := range got {
			names[k] = v
		}
	}
	ours := []string{st.Main, st.Bootstrap}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range names {
			if !yield(k) {
				return
			}
		}
	}) {
		out, err := call(ctx, func(ctx context.Context) (*cloudformation.DescribeStackResourcesOutput, error) {
			return c.CloudFormation.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{PhysicalResourceId: aws.String(name)})
		})
		if err != nil {
			if !awsconf.IsStackNotFound(err) { // "Stack for <name> does not exist": nobody's
				note("%s %s: could not check its owner: %v", names[name], name, err)
			}
			continue
		}
		for _, r := range out.StackResources {
			if owner := aws.ToString(r.StackName); aws.ToString(r.PhysicalResourceId) == name && !slices.Contains(ours, owner) {
				problem("%s %s is taken by stack %s: delete that stack, or give this app another app or env name", names[name], name, owner)
				break
			}
		}
	}
}

// ecrImage is <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repo>[:tag][@digest].
var ecrImage = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([a-z0-9][a-z0-9._/-]*)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$`)
})

// checkImage: an ECR image reference names an image that exists (a task
// that cannot pull fails only after the service's deployment times out),
// and any image reference has a variant for service.arch (checkPlatform).
// A Go package or an image on disk is pushed by deploy itself, which
// checks the platform of the image it pushes.
// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImages.html
func checkImage(ctx context.Context, c *awsconf.Clients, s *spec.Spec, problem, input, note func(string, ...any)) {
	ref := s.Service.Image
	if s.Service.Pushed() {
		return
	}
	m := ecrImage().FindStringSubmatch(ref)
	if m == nil {
		if strings.Contains(ref, ".dkr.ecr.") {
			problem("service.image %s: not a valid ECR image reference (<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag][@sha256:digest])", ref)
			return
		}
		auth, err := authn.DefaultKeychain.Resolve(registryOf(ref))
		if err != nil {
			auth = authn.Anonymous
		}
		checkPlatform(ctx, s, auth, input, note)
		return
	}
	account, region, repo, tag, digest := m[1], m[2], m[3], m[4], m[5]
	id := ecrtypes.ImageIdentifier{}
	switch {
	case digest != "":
		id.ImageDigest = aws.String(digest)
	case tag != "":
		id.ImageTag = aws.String(tag)
	default:
		id.ImageTag = aws.String("latest")
	}
	client := c.ECRIn(region)
	_, err := call(ctx, func(ctx context.Context) (*ecr.DescribeImagesOutput, error) {
		return client.DescribeImages(ctx, &ecr.DescribeImagesInput{RegistryId: aws.String(account), RepositoryName: aws.String(repo), ImageIds: []ecrtypes.ImageIdentifier{id}})
	})
	switch code := awsconf.ErrorCode(err); {
	case err == nil:
		auth, err := image.ECRAuth(ctx, client)
		if err != nil {
			note("service.image %s: could not check its platform: %v", ref, err)
			return
		}
		checkPlatform(ctx, s, auth, input, note)
	case code == "RepositoryNotFoundException":
		problem("service.image %s: ECR repository %s does not exist in account %s, %s", ref, repo, account, region)
	case code == "ImageNotFoundException":
		problem("service.image %s: no image %s in ECR repository %s; push it first", ref, aws.ToString(id.ImageTag)+aws.ToString(id.ImageDigest), repo)
	default:
		problem("service.image %s: could not check it in ECR: %v", ref, err)
	}
}

// checkPlatform: the image reference has an image for linux and
// service.arch, read from its manifest (or index) in the registry. A
// Fargate task or Lambda function started from an image for another
// architecture fails with "exec format error" only after the deploy. A
// registry that cannot be read is a note: the deploy may still work.
func checkPlatform(ctx context.Context, s *spec.Spec, auth authn.Authenticator, input, note func(string, ...any)) {
	ref := s.Service.Image
	platforms, err := image.RemotePlatforms(ctx, ref, auth)
	if err != nil {
		note("service.image %s: could not check its platform against service.arch %s: %v", ref, s.Service.Arch, err)
		return
	}
	if err := image.CheckPlatform(ref, s.Service.Arch, platforms); err != nil {
		input("%v", err)
	}
}

// registryOf is the repository ref names, for the credential helpers;
// validation already accepted ref, so a parse failure only loses them.
func registryOf(ref string) authn.Resource {
	r, err := name.ParseReference(ref)
	if err != nil {
		return name.Repository{}
	}
	return r.Context()
}
