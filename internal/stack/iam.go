package stack

import (
	"slices"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
)

// The item-level DynamoDB actions an app may use, by IAM action name (from
// the Service Authorization Reference, "Actions defined by Amazon
// DynamoDB": https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html).
// The API calls TransactGetItems and TransactWriteItems are not IAM
// actions: they are authorized per item as GetItem, and as PutItem,
// UpdateItem, DeleteItem or ConditionCheckItem
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html);
// BatchExecuteStatement and ExecuteStatement are authorized as the PartiQL
// actions of their statements. DescribeTable lets SDK helpers (waiters,
// the document mappers) read the key schema. Nothing table-level
// (CreateTable, UpdateTable, DeleteTable, backups, TTL) is ever granted:
// the template owns the table.
var (
	tableReadActions = []string{
		"dynamodb:BatchGetItem",
		"dynamodb:DescribeTable",
		"dynamodb:GetItem",
		"dynamodb:PartiQLSelect",
		"dynamodb:Query",
		"dynamodb:Scan",
	}
	tableWriteActions = []string{
		"dynamodb:BatchWriteItem",
		"dynamodb:ConditionCheckItem",
		"dynamodb:DeleteItem",
		"dynamodb:PartiQLDelete",
		"dynamodb:PartiQLInsert",
		"dynamodb:PartiQLUpdate",
		"dynamodb:PutItem",
		"dynamodb:UpdateItem",
	}
)

// TableActions are the DynamoDB actions the app's role (task role or
// function role) gets for table.access, sorted, on the table and its
// indexes only; none for "none".
func TableActions(access string) []string {
	switch access {
	case spec.AccessReadOnly:
		return slices.Clone(tableReadActions)
	case spec.AccessNone:
		return nil
	}
	return slices.Sorted(slices.Values(append(slices.Clone(tableReadActions), tableWriteActions...)))
}

// iam is the roles: with ECS an execution role (what ECS does to start the
// task: pull the image, write logs, read the secrets) and a task role (what
// the app does: the table); with Lambda one function role.
func (b *builder) iam() {
	if !b.s.ECS() {
		b.add(PartIAM, "FunctionRole", "AWS::IAM::Role", b.functionRole("LogGroup"))
		return
	}
	b.add(PartIAM, "ExecutionRole", "AWS::IAM::Role", cfn.Props{
		"Description":              "ECS starting the task: pull the image, write logs, read the secrets",
		"AssumeRolePolicyDocument": trust("ecs-tasks.amazonaws.com"),
		"Policies":                 []any{inlinePolicy("start-task", slices.Concat(b.pullImage(), []any{writeLogs("LogGroup")}, b.readSecrets("ssm:GetParameters"))...)},
	})
	task := cfn.Props{
		"Description":              "The running task: its table access and service.permissions only",
		"AssumeRolePolicyDocument": trust("ecs-tasks.amazonaws.com"),
	}
	// A role may have no policy at all (table.access none, no
	// permissions); IAM refuses a policy with no statements.
	if sts := slices.Concat(b.tableAccess(), b.extraPermissions()); len(sts) > 0 {
		task["Policies"] = []any{inlinePolicy("app", sts...)}
	}
	b.add(PartIAM, "TaskRole", "AWS::IAM::Role", task)
}

// functionRole is the role of a function that runs the app (profile
// serverless's Function, service.idle's AppFunction): what the task role
// allows (the table, service.permissions), plus writing to its log group
// and reading its secrets, which Lambda does not do for it: the adapter
// reads them at init with this role.
func (b *builder) functionRole(logGroup string) cfn.Props {
	return cfn.Props{
		"Description":              "The function: logs, the table, its secrets, service.permissions",
		"AssumeRolePolicyDocument": trust("lambda.amazonaws.com"),
		"Policies": []any{inlinePolicy("function", slices.Concat(
			[]any{writeLogs(logGroup)},
			b.tableAccess(),
			b.readSecrets("ssm:GetParameter", "ssm:GetParameters"),
			b.extraPermissions())...)},
	}
}

// pullImage lets ECS pull the task's image: from the app's own repository
// for an image lowfare builds or pushes from disk, from the ECR repository an image reference
// names (in this account or another: the other account's repository
// policy must also allow this role, see
// https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policy-examples.html),
// and nothing for a public registry, which needs no credentials.
func (b *builder) pullImage() []any {
	var repo any
	if b.s.Service.Pushed() {
		repo = b.repositoryARN()
	} else if r, ok := b.s.Service.ECR(); ok {
		repo = r.ARN()
	} else {
		return nil
	}
	return []any{
		statement([]string{"ecr:GetAuthorizationToken"}, "*"),
		statement([]string{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}, repo),
	}
}

// trust lets an AWS service assume the role. ECS passes the account it
// acts for (aws:SourceAccount), so its roles also guard against the
// confused deputy; Lambda does not set the key when it assumes a function
// role, so the condition there would lock the function out.
func trust(service string) map[string]any {
	st := map[string]any{
		"Effect":    "Allow",
		"Principal": map[string]any{"Service": service},
		"Action":    "sts:AssumeRole",
	}
	if service == "ecs-tasks.amazonaws.com" {
		st["Condition"] = map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": cfn.Ref(cfn.AccountID)}}
	}
	return map[string]any{"Version": "2012-10-17", "Statement": []any{st}}
}

func inlinePolicy(name string, statements ...any) map[string]any {
	return map[string]any{
		"PolicyName": name,
		"PolicyDocument": map[string]any{
			"Version":   "2012-10-17",
			"Statement": statements,
		},
	}
}

func statement(actions []string, resources ...any) map[string]any {
	acts := make([]any, len(actions))
	for i, a := range actions {
		acts[i] = a
	}
	var res any = resources
	if len(resources) == 1 {
		res = resources[0]
	}
	return map[string]any{"Effect": "Allow", "Action": acts, "Resource": res}
}

// writeLogs allows writing to one log group of the stack only.
func writeLogs(logGroup string) map[string]any {
	return statement([]string{"logs:CreateLogStream", "logs:PutLogEvents"}, cfn.GetAtt(logGroup, "Arn"))
}

// tableAccess is TableActions(table.access) on the table and its
// indexes; no statement for access none.
func (b *builder) tableAccess() []any {
	actions := TableActions(b.s.Table.Access)
	if len(actions) == 0 {
		return nil
	}
	return []any{statement(actions, cfn.GetAtt("Table", "Arn"), cfn.Sub("${Table.Arn}/index/*"))}
}

// extraPermissions are the spec's service.permissions as Allow statements
// (spec validated them: named actions, ARNs, "*" only where no resource
// exists).
func (b *builder) extraPermissions() []any {
	var out []any
	for _, p := range b.s.Service.Permissions {
		res := make([]any, len(p.Resources))
		for i, r := range p.Resources {
			res[i] = r
		}
		out = append(out, statement(p.Actions, res...))
	}
	return out
}

// readSecrets allows reading the app's SSM parameters, only under
// /lowfare/<app>/<env>/, and decrypting them only through SSM. Nothing when
// the spec has no secrets.
func (b *builder) readSecrets(actions ...string) []any {
	if len(b.s.Service.Secrets) == 0 && len(b.databaseSecrets()) == 0 {
		return nil
	}
	decrypt := statement([]string{"kms:Decrypt"}, cfn.Sub("arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"))
	decrypt["Condition"] = map[string]any{"StringEquals": map[string]any{"kms:ViaService": cfn.Sub("ssm.${AWS::Region}.amazonaws.com")}}
	return []any{
		statement(actions, cfn.Sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"+b.s.SecretPrefix()+"*")),
		decrypt,
	}
}

// secretARN is one secret's SSM parameter ARN (never its value).
func (b *builder) secretARN(name string) any {
	return cfn.Sub("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter" + b.s.SecretParameter(name))
}

// SetPermissionsBoundary makes policyARN the permissions boundary of every
// IAM role of both templates. lowfare ci's CloudFormation service role may
// create and change roles only with its boundary (so a template pushed to
// the branch cannot make a role with more than the boundary allows); a
// deploy without CI calls nothing here and its templates stay as they
// are. Every role, whichever part made it: a role without the boundary is
// refused by IAM when CI deploys it.
func (r *Result) SetPermissionsBoundary(policyARN string) {
	for _, t := range []*cfn.Template{r.Bootstrap, r.Main} {
		if t == nil {
			continue
		}
		for _, res := range t.Resources {
			if res.Type == "AWS::IAM::Role" {
				res.Properties["PermissionsBoundary"] = policyARN
			}
		}
	}
}
