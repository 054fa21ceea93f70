package ci

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// Statement is one IAM Allow statement. Resources are ARN patterns in
// Fn::Sub syntax: ${AWS::Partition}, ${AWS::Region} and ${AWS::AccountId}
// are filled in by CloudFormation, then IAM matches them with its
// wildcards (* and ?).
type Statement struct {
	Sid       string
	Actions   []string
	Resources []string
	// Condition is the statement's IAM condition block, if any.
	Condition map[string]map[string]any
	// Deny makes it a Deny statement, which no Allow overrides.
	Deny bool
}

// Options are what 'lowfare ci init' was told about the repository.
type Options struct {
	Repo   string // OWNER/NAME on GitHub
	Branch string // the branch that deploys
	// Environment, when set, is the GitHub environment the deploy job runs
	// in: GitHub then puts it in the token's sub instead of the branch, and
	// its protection rules (reviewers, branches) gate each deploy.
	Environment string
	Previews    bool // a preview environment per pull request
}

// previewSentinel is the env the preview templates are built with to learn
// the names a preview's resources get: a valid env name (pr-, 11
// characters at most) that no name of the app itself holds, replaced by
// previewEnvPattern in every ARN.
const (
	previewSentinel   = "pr-zzzzzzzz"
	previewEnvPattern = "pr-*"
)

// Role names of the CI stack. Fixed names, so that the workflow can name
// the deploy role and deploy can name the service role without reading
// the CI stack; they carry the app's name (an account can hold CI stacks
// of several apps). IAM role names are at most 64 characters; an app name
// is at most 21.
func DeployRoleName(app string) string  { return "lowfare-" + app + "-ci-deploy" }
func ServiceRoleName(app string) string { return "lowfare-" + app + "-ci-cfn" }

// CIStackName is the stack that holds the OIDC provider (when created),
// the deploy role and the service role.
func CIStackName(app string) string { return "lowfare-" + app + "-ci" }

// arn is an ARN pattern of the account and region the CI stack runs in.
func arn(service, resource string) string {
	return "arn:${AWS::Partition}:" + service + ":${AWS::Region}:${AWS::AccountId}:" + resource
}

// globalARN is an ARN pattern of a service without regions (IAM).
func globalARN(service, resource string) string {
	return "arn:${AWS::Partition}:" + service + "::${AWS::AccountId}:" + resource
}

// ServiceRoleARN is the CloudFormation service role's ARN pattern.
func ServiceRoleARN(app string) string { return globalARN("iam", "role/"+ServiceRoleName(app)) }

// envNames are the names one environment's resources get, read from the
// templates lowfare builds for it (so the policy cannot drift from them).
type envNames struct {
	env          string // the env, or previewEnvPattern
	mainStack    string
	bootStack    string
	repository   string
	cluster      string
	service      string
	wakeFunction string // "" without service.idle
}

// namesOf builds the templates of s and reads its names; for a preview
// (sentinel env) the env is replaced by previewEnvPattern.
func namesOf(s *spec.Spec) (envNames, error) {
	res, err := stack.Build(s)
	if err != nil {
		return envNames{}, err
	}
	prop := func(resources map[string]*cfn.Resource, id, key string) string {
		r := resources[id]
		if r == nil {
			return ""
		}
		v, _ := r.Properties[key].(string)
		return v
	}
	// An image reference gets no bootstrap stack and no repository
	// (stack.Result.Bootstrap is nil): nothing to push to.
	var boot map[string]*cfn.Resource
	if res.Bootstrap != nil {
		boot = res.Bootstrap.Resources
	}
	main := res.Main.Resources
	n := envNames{
		env:          s.Env,
		mainStack:    s.StackName(),
		bootStack:    s.BootstrapStackName(),
		repository:   prop(boot, "Repository", "RepositoryName"),
		cluster:      prop(main, "Cluster", "ClusterName"),
		service:      prop(main, "Service", "ServiceName"),
		wakeFunction: prop(main, "WakeFunction", "FunctionName"),
	}
	if res.Bootstrap != nil && n.repository == "" {
		return envNames{}, fmt.Errorf("the bootstrap template names no repository")
	}
	if s.Env == previewSentinel {
		for _, p := range []*string{&n.env, &n.mainStack, &n.bootStack, &n.repository, &n.cluster, &n.service, &n.wakeFunction} {
			*p = strings.ReplaceAll(*p, previewSentinel, previewEnvPattern)
		}
	}
	return n, nil
}

// environments are the names of the branch's environment and, with
// previews, of every preview.
func environments(s *spec.Spec, o Options) ([]envNames, error) {
	main, err := namesOf(s)
	if err != nil {
		return nil, err
	}
	out := []envNames{main}
	if o.Previews {
		p, err := PreviewSpec(s, previewSentinel)
		if err != nil {
			return nil, err
		}
		pn, err := namesOf(p)
		if err != nil {
			return nil, err
		}
		out = append(out, pn)
	}
	return out, nil
}

// DeployStatements are the deploy role's permissions: lowfare deploy,
// plan --check, status, diff (and, for previews, destroy --delete-data) of
// this app, and nothing else. CloudFormation creates the resources with
// the service role; the deploy role only drives change sets through it.
// Every action is one lowfare calls (TestDeployActionsAreLowfaresCalls,
// and the moto journey under IAM enforcement proves none is missing).
func DeployStatements(s *spec.Spec, o Options) ([]Statement, error) {
	envs, err := environments(s, o)
	if err != nil {
		return nil, err
	}
	var stacks, repos, params, functions, services, tasks, alarms, budgets, tables, previewTables []string
	for _, e := range envs {
		// The bootstrap stack's name even without a repository: destroy
		// deletes one an earlier deploy (of a Go package) left.
		stacks = append(stacks, arn("cloudformation", "stack/"+e.mainStack+"/*"), arn("cloudformation", "stack/"+e.bootStack+"/*"))
		if e.repository != "" {
			repos = append(repos, arn("ecr", "repository/"+e.repository))
		}
		params = append(params, arn("ssm", "parameter/lowfare/"+s.App+"/"+e.env+"/*"))
		if e.wakeFunction != "" {
			functions = append(functions, arn("lambda", "function:"+e.wakeFunction))
		}
		if e.cluster != "" {
			services = append(services, arn("ecs", "service/"+e.cluster+"/"+e.service))
			tasks = append(tasks, arn("ecs", "task/"+e.cluster+"/*"))
		}
		alarms = append(alarms, arn("cloudwatch", "alarm:"+e.mainStack+"-*"))
		budgets = append(budgets, "arn:${AWS::Partition}:budgets::${AWS::AccountId}:budget/"+e.mainStack+"-*")
		// CloudFormation names the table <stack>-Table-<suffix>.
		tables = append(tables, arn("dynamodb", "table/"+e.mainStack+"-Table-*"))
		if e.env == previewEnvPattern {
			previewTables = append(previewTables, arn("dynamodb", "table/"+e.mainStack+"-Table-*"))
		}
	}
	roleARN := ServiceRoleARN(s.App)
	st := []Statement{
		{
			Sid: "ReadAndRunChangeSetsOfTheAppStacks",
			Actions: []string{
				"cloudformation:DeleteChangeSet", "cloudformation:DescribeChangeSet", "cloudformation:DescribeStackEvents",
				"cloudformation:DescribeStackResources", "cloudformation:DescribeStacks", "cloudformation:ExecuteChangeSet",
				"cloudformation:GetTemplate",
			},
			Resources: stacks,
		},
		{
			// The resources come from the service role: a change set or a
			// delete that does not pass it is refused
			// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html#awscloudformation-policy-keys,
			// cloudformation:RoleArn "Filters access by the ARN of an IAM
			// service role").
			Sid:       "ChangeTheAppStacksOnlyThroughTheServiceRole",
			Actions:   []string{"cloudformation:CreateChangeSet", "cloudformation:DeleteStack"},
			Resources: stacks,
			Condition: map[string]map[string]any{"ArnEquals": {"cloudformation:RoleArn": roleARN}},
		},
		{
			// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html:
			// iam:PassedToService limits the role to the one service.
			Sid:       "PassTheServiceRoleToCloudFormation",
			Actions:   []string{"iam:PassRole"},
			Resources: []string{roleARN},
			Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}},
		},
		{
			// What a push to ECR needs
			// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html),
			// the manifest and blob reads of the push and of the live tag,
			// and the repository and image reads of deploy and preflight.
			Sid: "PushTheAppImage",
			Actions: []string{
				"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:DescribeImages",
				"ecr:DescribeRepositories", "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
			},
			Resources: repos,
		},
		{
			// Names and metadata of the app's secrets, never their
			// values: preflight and destroy call GetParameters without
			// decryption.
			Sid:       "ReadTheAppSecretNames",
			Actions:   []string{"ssm:GetParameters"},
			Resources: params,
		},
		{
			Sid:       "ReadTheAppTables",
			Actions:   []string{"dynamodb:DescribeTable"},
			Resources: tables,
		},
		{
			// The ECS service-linked role, which deploy creates once per
			// account (an ECS service cannot be created without it).
			Sid:       "ECSServiceLinkedRole",
			Actions:   []string{"iam:CreateServiceLinkedRole", "iam:GetRole"},
			Resources: []string{globalARN("iam", "role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS")},
		},
		{
			Sid:       "ReadTheAppAlarmsAndBudget",
			Actions:   []string{"cloudwatch:DescribeAlarms", "budgets:ViewBudget"},
			Resources: append(slices.Clone(alarms), budgets...),
		},
		{
			// These take no resource ARN (the Service Authorization
			// Reference lists no resource type for them), so "*" is the
			// only Resource IAM matches; all are reads, and
			// GetAuthorizationToken only logs in to ECR (each push is then
			// authorized against the repository above).
			Sid: "CallsThatTakeNoResource",
			Actions: []string{
				"application-autoscaling:DescribeScalableTargets", "cloudformation:DescribeStackResources",
				"cloudwatch:GetMetricData", "dynamodb:ListTables", "ecr:GetAuthorizationToken", "elasticloadbalancing:DescribeTargetHealth",
				"lambda:GetAccountSettings", "ssm:DescribeParameters",
			},
			Resources: []string{"*"},
		},
	}
	if len(services) > 0 {
		st = append(st, Statement{
			Sid:       "ReadTheAppService",
			Actions:   []string{"ecs:DescribeServices", "ecs:DescribeTasks"},
			Resources: append(slices.Clone(services), tasks...),
		}, Statement{
			// ListTasks is authorized on the cluster through its
			// condition key (the Service Authorization Reference: ecs:cluster).
			Sid:       "ListTheAppTasks",
			Actions:   []string{"ecs:ListTasks"},
			Resources: []string{"*"},
			Condition: map[string]map[string]any{"ArnLike": {"ecs:cluster": clusterARNs(envs)}},
		})
	}
	if len(functions) > 0 {
		st = append(st, Statement{
			// A deploy to a sleeping service (service.idle) asks the wake
			// controller to start it, proves the new image, and puts it
			// back to sleep.
			Sid:       "AskTheWakeController",
			Actions:   []string{"lambda:InvokeFunction"},
			Resources: functions,
		})
	}
	if o.Previews {
		// Each preview's secrets, set from the repository's Actions secrets
		// and removed when the pull request closes; SecureString with the
		// AWS managed key aws/ssm, whose key policy lets any principal of
		// the account use it through SSM, so no KMS permission is needed
		// (https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key).
		st = append(st, Statement{
			Sid:       "SetAndRemovePreviewSecrets",
			Actions:   []string{"ssm:DeleteParameter", "ssm:PutParameter"},
			Resources: []string{arn("ssm", "parameter/lowfare/"+s.App+"/"+previewEnvPattern+"/*")},
		})
	}
	if len(previewTables) > 0 {
		st = append(st, Statement{
			// destroy --delete-data of a preview; the branch's own table is
			// never deleted from CI.
			Sid:       "DeletePreviewTables",
			Actions:   []string{"dynamodb:DeleteTable"},
			Resources: previewTables,
		})
	}
	if z := s.Ingress.HostedZoneID; z != "" {
		st = append(st, Statement{Sid: "ReadTheHostedZone", Actions: []string{"route53:GetHostedZone"},
			Resources: []string{"arn:${AWS::Partition}:route53:::hostedzone/" + z}})
	}
	if c := s.Ingress.CertificateARN; c != "" {
		st = append(st, Statement{Sid: "ReadTheCertificate", Actions: []string{"acm:DescribeCertificate"}, Resources: []string{c}})
	}
	if s.HasDatabase() {
		st = append(st, databaseStatements(s, envs, o)...)
	}
	// An image reference gets no repository of its own: no push statement.
	st = slices.DeleteFunc(st, func(x Statement) bool { return len(x.Resources) == 0 })
	if repo, ok := ecrRepository(s.Service.Image); ok {
		// DescribeImages: the image exists; BatchGetImage and
		// GetDownloadUrlForLayer: preflight reads its manifest and config
		// through the registry API for its platform.
		st = append(st, Statement{Sid: "ReadTheImageReference", Actions: []string{"ecr:BatchGetImage", "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer"}, Resources: []string{repo}})
	}
	return st, nil
}

func clusterARNs(envs []envNames) []any {
	var out []any
	for _, e := range envs {
		if e.cluster != "" {
			out = append(out, arn("ecs", "cluster/"+e.cluster))
		}
	}
	return out
}

// ecrRepository is the repository ARN of an ECR image reference
// (<account>.dkr.ecr.<region>.amazonaws.com/<name>[:tag|@digest]).
func ecrRepository(ref string) (string, bool) {
	host, path, ok := strings.Cut(ref, "/")
	if !ok || !strings.Contains(host, ".dkr.ecr.") {
		return "", false
	}
	account, rest, _ := strings.Cut(host, ".dkr.ecr.")
	region, _, _ := strings.Cut(rest, ".")
	if i := strings.IndexAny(path, "@:"); i >= 0 {
		path = path[:i]
	}
	return "arn:${AWS::Partition}:ecr:" + region + ":" + account + ":repository/" + path, true
}

// TemplateTypes are the resource types of the templates of s (and, with
// previews, of its preview), sorted.
func TemplateTypes(s *spec.Spec, o Options) ([]string, error) {
	templates, err := appTemplates(s, o)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, t := range templates {
		maps.Copy(set, typesOf(t.Resources))
	}
	return slices.Sorted(maps.Keys(set)), nil
}

// appTemplates are the templates lowfare deploys for s and, with previews,
// for its preview: what the CI stack's roles must cover. An image
// reference has no bootstrap template.
func appTemplates(s *spec.Spec, o Options) ([]*cfn.Template, error) {
	specs := []*spec.Spec{s}
	if o.Previews {
		p, err := PreviewSpec(s, previewSentinel)
		if err != nil {
			return nil, err
		}
		specs = append(specs, p)
	}
	var out []*cfn.Template
	for _, sp := range specs {
		res, err := stack.Build(sp)
		if err != nil {
			return nil, err
		}
		if res.Bootstrap != nil {
			out = append(out, res.Bootstrap)
		}
		out = append(out, res.Main)
	}
	return out, nil
}

// ServiceStatements are the CloudFormation service role's permissions:
// the handler permissions of exactly the resource types the app's
// templates hold (TypeActions). IAM actions are limited to the roles
// CloudFormation names after the app's stacks (lowfare-<app>-...) and the
// service-linked roles; the rest, which create resources whose ARNs do not
// exist yet (a VPC's ID, a load balancer's suffix), take "*".
func ServiceStatements(s *spec.Spec, o Options) ([]Statement, error) {
	types, err := TemplateTypes(s, o)
	if err != nil {
		return nil, err
	}
	actions, err := TypeActions(types)
	if err != nil {
		return nil, err
	}
	var iamActs, bounded, slr, other []string
	for _, a := range actions {
		switch {
		case a == "iam:CreateServiceLinkedRole":
			slr = append(slr, a)
		case slices.Contains(withheldActions, a):
		case slices.Contains(boundedActions, a):
			bounded = append(bounded, a)
		case strings.HasPrefix(a, "iam:"):
			iamActs = append(iamActs, a)
		default:
			other = append(other, a)
		}
	}
	// CloudFormation names a role <stack>-<logical ID>-<suffix>: every
	// stack of the app starts with lowfare-<app>-.
	appRoles := []string{globalARN("iam", "role/lowfare-"+s.App+"-*")}
	var st []Statement
	if len(other) > 0 {
		st = append(st, Statement{Sid: "TheAppResourceTypes", Actions: other, Resources: []string{"*"}})
	}
	if len(iamActs) > 0 {
		st = append(st, Statement{Sid: "TheAppRoles", Actions: iamActs, Resources: appRoles})
	}
	if len(bounded) > 0 {
		// Roles are created, and given permissions, only with the app's
		// permissions boundary: whatever policy a template gives a role,
		// it can do no more than the boundary allows. This is IAM's
		// pattern for delegating role creation
		// (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html#access_policies_boundaries-delegate,
		// "CreateOrChangeOnlyWithBoundary"). For CreateRole and
		// PutRolePermissionsBoundary iam:PermissionsBoundary is the
		// boundary the request sets; for PutRolePolicy and
		// AttachRolePolicy it is the boundary the role already has
		// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html#awsidentityandaccessmanagementiam-policy-keys:
		// iam:PermissionsBoundary "Filters access if the specified policy is
		// set as the permissions boundary on the IAM entity", listed for
		// these actions), so a role made before the boundary gets no new
		// permission either.
		st = append(st, Statement{Sid: "TheAppRolesOnlyWithinTheBoundary", Actions: bounded, Resources: appRoles,
			Condition: map[string]map[string]any{"StringEquals": {"iam:PermissionsBoundary": BoundaryARN(s.App)}}})
	}
	if changes := slices.DeleteFunc(slices.Concat(iamActs, bounded), func(a string) bool {
		return strings.HasPrefix(a, "iam:Get") || strings.HasPrefix(a, "iam:List")
	}); len(changes) > 0 {
		// The CI stack's own roles match lowfare-<app>-* too. A template
		// that imported one (a change set of type IMPORT) could otherwise
		// rewrite its trust policy: the deploy role's or this role's
		// permissions, reachable from outside GitHub.
		st = append(st, Statement{Sid: "NeverTheCIRoles", Deny: true, Actions: changes,
			Resources: []string{globalARN("iam", "role/"+DeployRoleName(s.App)), globalARN("iam", "role/"+ServiceRoleName(s.App))}})
	}
	if len(slr) > 0 {
		st = append(st, Statement{Sid: "ServiceLinkedRoles", Actions: slr, Resources: []string{globalARN("iam", "role/aws-service-role/*")}})
	}
	return st, nil
}

// boundedActions are the IAM actions that make a role or widen what it
// may do: the service role may call them only on roles whose permissions
// boundary is the app's. DetachRolePolicy and DeleteRolePolicy only take
// permissions away and stay unconditioned, so that deleting a role made
// before the boundary existed still works.
var boundedActions = []string{"iam:AttachRolePolicy", "iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy"}

// withheldActions are handler permissions the service role never gets:
// removing a role's boundary would undo it (lowfare's templates never
// remove one).
var withheldActions = []string{"iam:DeleteRolePermissionsBoundary"}

// typesOf is the set of resource types of a template's resources.
func typesOf(resources map[string]*cfn.Resource) map[string]bool {
	set := map[string]bool{}
	for _, r := range resources {
		set[r.Type] = true
	}
	return set
}

// GitHub's names: an owner is letters, digits and single hyphens; a
// repository adds '.' and '_'. Neither may hold a wildcard.
var (
	repoPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)
	// A branch as git check-ref-format allows it, without the characters
	// IAM's StringEquals or a shell would read specially.
	branchPattern = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,200}$`)
	// A GitHub environment name, without wildcards or the ':' that
	// separates the sub claim's parts.
	environmentPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,255}$`)
)

// Check reports a repository or branch the trust policy cannot pin.
func (o Options) Check() error {
	if !repoPattern.MatchString(o.Repo) || strings.HasSuffix(o.Repo, "/.") || strings.HasSuffix(o.Repo, "/..") {
		return fmt.Errorf("--repo %q: want OWNER/NAME as GitHub spells it, such as octo-org/links (no wildcard: the role trusts one repository)", o.Repo)
	}
	if !branchPattern.MatchString(o.Branch) || strings.Contains(o.Branch, "..") || strings.HasPrefix(o.Branch, "/") ||
		strings.HasSuffix(o.Branch, "/") || strings.HasSuffix(o.Branch, ".lock") || strings.HasPrefix(o.Branch, "-") {
		return fmt.Errorf("--branch %q: want one branch name, such as main (letters, digits, '.', '_', '-', '/'; no wildcard)", o.Branch)
	}
	if o.Environment != "" && !environmentPattern.MatchString(o.Environment) {
		return fmt.Errorf("--environment %q: want one GitHub environment name, such as production (letters, digits, '.', '_', '-'; no wildcard)", o.Environment)
	}
	return nil
}

// databaseStatements: deploy writes the database password once (and
// reads whether it exists, without decryption), status describes the
// cluster and its instances, destroy lists the cluster's snapshots and,
// for a preview's --delete-data, deletes them.
func databaseStatements(s *spec.Spec, envs []envNames, o Options) []Statement {
	var passwords, clusters, instances []string
	for _, e := range envs {
		passwords = append(passwords, arn("ssm", "parameter/lowfare/"+s.App+"/"+e.env+"/"+spec.DatabasePasswordName))
		// stack.DatabaseClusterName: lowfare-<app>-<env>; CloudFormation
		// names the instances after the stack (lowercased), which is the
		// same string.
		clusters = append(clusters, arn("rds", "cluster:"+strings.ToLower(e.mainStack)))
		instances = append(instances, arn("rds", "db:"+strings.ToLower(e.mainStack)+"-*"))
	}
	st := []Statement{
		{Sid: "WriteTheDatabasePasswordOnce", Actions: []string{"ssm:GetParameter", "ssm:PutParameter"}, Resources: passwords},
		{
			// DescribeDBClusterSnapshots is authorized on the cluster and on
			// the snapshots it returns, whose names CloudFormation makes
			// (the final snapshot of DeletionPolicy: Snapshot): reads only.
			Sid:       "ReadTheDatabase",
			Actions:   []string{"rds:DescribeDBClusterSnapshots", "rds:DescribeDBClusters", "rds:DescribeDBInstances"},
			Resources: append(append(slices.Clone(clusters), instances...), arn("rds", "cluster-snapshot:*")),
		},
	}
	if o.Previews {
		// The cluster copies its tags to its snapshots (CopyTagsToSnapshot),
		// so a preview's snapshots carry lowfare:app and lowfare:env:
		// aws:ResourceTag scopes the delete to them
		// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrds.html:
		// DeleteDBClusterSnapshot, resource type cluster-snapshot, condition
		// keys aws:ResourceTag/${TagKey}).
		st = append(st, Statement{
			Sid:       "DeletePreviewDatabaseSnapshots",
			Actions:   []string{"rds:DeleteDBClusterSnapshot"},
			Resources: []string{arn("rds", "cluster-snapshot:*")},
			Condition: map[string]map[string]any{
				"StringEquals": {"aws:ResourceTag/lowfare:app": s.App},
				"StringLike":   {"aws:ResourceTag/lowfare:env": "pr-*"},
			},
		})
	}
	return st
}
