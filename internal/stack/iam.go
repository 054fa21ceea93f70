package stack

import (
	"github.com/lowfare/lowfare/internal/cfn"
)

// TableActions are the DynamoDB actions the links service uses (see
// internal/links/store: GetItem also answers Ping; CreateTable and the TTL
// calls are only for `lowfare dev`, the template creates the table). The
// task role (or function role) gets these and nothing else, on the table
// and its indexes only.
var TableActions = []string{
	"dynamodb:BatchWriteItem",
	"dynamodb:DeleteItem",
	"dynamodb:GetItem",
	"dynamodb:PutItem",
	"dynamodb:Query",
	"dynamodb:UpdateItem",
}

// WildcardResourceActions are the only actions granted on Resource "*",
// each because AWS offers no narrower resource for it.
var WildcardResourceActions = map[string]string{
	"ecr:GetAuthorizationToken": "it returns a registry login token for the account and supports no resource-level permissions",
}

// iam is the roles: with ECS an execution role (what ECS does to start the
// task: pull the image, write logs, read the secrets) and a task role (what
// the app does: the table); with Lambda one function role.
func (b *builder) iam() {
	if !b.s.ECS() {
		b.add(PartIAM, "FunctionRole", "AWS::IAM::Role", cfn.Props{
			"Description":              "The links function: logs, the table, its secrets",
			"AssumeRolePolicyDocument": trust("lambda.amazonaws.com"),
			"Policies": []any{inlinePolicy("function", append(append(
				[]any{writeLogs()},
				tableAccess()),
				b.readSecrets("ssm:GetParameter", "ssm:GetParameters")...)...)},
		})
		return
	}
	pull := []any{
		statement([]string{"ecr:GetAuthorizationToken"}, "*"),
		statement([]string{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}, b.repositoryARN()),
		writeLogs(),
	}
	b.add(PartIAM, "ExecutionRole", "AWS::IAM::Role", cfn.Props{
		"Description":              "ECS starting the task: pull the image, write logs, read the secrets",
		"AssumeRolePolicyDocument": trust("ecs-tasks.amazonaws.com"),
		"Policies":                 []any{inlinePolicy("start-task", append(pull, b.readSecrets("ssm:GetParameters")...)...)},
	})
	b.add(PartIAM, "TaskRole", "AWS::IAM::Role", cfn.Props{
		"Description":              "The running task: the table and its indexes only",
		"AssumeRolePolicyDocument": trust("ecs-tasks.amazonaws.com"),
		"Policies":                 []any{inlinePolicy("table", tableAccess())},
	})
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

// writeLogs allows writing to the stack's log group only.
func writeLogs() map[string]any {
	return statement([]string{"logs:CreateLogStream", "logs:PutLogEvents"}, cfn.GetAtt("LogGroup", "Arn"))
}

// tableAccess is TableActions on the table and its indexes.
func tableAccess() map[string]any {
	return statement(TableActions, cfn.GetAtt("Table", "Arn"), cfn.Sub("${Table.Arn}/index/*"))
}

// readSecrets allows reading the app's SSM parameters, only under
// /lowfare/<app>/<env>/, and decrypting them only through SSM. Nothing when
// the spec has no secrets.
func (b *builder) readSecrets(actions ...string) []any {
	if len(b.s.Service.Secrets) == 0 {
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
