package ci

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// handlersJSON maps every resource type lowfare's templates can hold to the
// IAM actions CloudFormation needs to create, read, update and delete it.
// It is generated (go test ./internal/ci -run TestHandlerPermissions
// -update) from the "handlers" sections of the CloudFormation registry
// schemas shipped in the rain module: the permissions AWS declares each
// resource handler calls with
// (https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html:
// "handlers ... permissions: A list of permissions required to perform the
// handler operation"), for create, read, update and delete (list is not a
// stack operation). TestHandlerPermissions fails when the file and the
// schemas disagree, and TestEveryTemplateTypeHasPermissions when a template
// gains a type the file lacks.
//
//go:embed handlers.json
var handlersJSON []byte

// handlerOps are the handler operations a stack create, update or delete
// runs.
var handlerOps = []string{"create", "read", "update", "delete"}

// schemaless are the types whose registry schema declares no handler
// permissions (legacy, non-registry providers), with the actions each
// needs, from the service's own IAM reference:
//   - AWS::ApiGatewayV2::Stage: API Gateway authorizes by HTTP verb on the
//     resource path (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html,
//     "apigateway:POST", "GET", "PATCH", "DELETE" on /apis/{id}/stages);
//   - AWS::Budgets::Budget: "budgets:ModifyBudget" creates, updates and
//     deletes a budget, "budgets:ViewBudget" reads it
//     (https://docs.aws.amazon.com/cost-management/latest/userguide/billing-permissions-ref.html);
//   - AWS::CertificateManager::Certificate: the ACM actions of a DNS
//     validated certificate, and the validation record CloudFormation
//     writes in the hosted zone
//     (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-certificatemanager-certificate.html);
//   - AWS::Route53::RecordSet: ChangeResourceRecordSets and GetChange
//     (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/r53-api-permissions-ref.html);
//   - AWS::ServiceDiscovery::*: the Cloud Map API permissions reference,
//     which lists the Route 53 and EC2 calls a private DNS namespace makes
//     (https://docs.aws.amazon.com/cloud-map/latest/dg/cloud-map-api-permissions-ref.html).
var schemaless = map[string][]string{
	"AWS::ApiGatewayV2::Stage": {"apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST", "apigateway:PUT"},
	"AWS::Budgets::Budget":     {"budgets:ModifyBudget", "budgets:ViewBudget"},
	"AWS::CertificateManager::Certificate": {
		"acm:AddTagsToCertificate", "acm:DeleteCertificate", "acm:DescribeCertificate", "acm:ListTagsForCertificate",
		"acm:RemoveTagsFromCertificate", "acm:RequestCertificate", "acm:UpdateCertificateOptions",
		"route53:ChangeResourceRecordSets", "route53:GetChange", "route53:ListResourceRecordSets",
	},
	"AWS::Route53::RecordSet": {"route53:ChangeResourceRecordSets", "route53:GetChange", "route53:GetHostedZone", "route53:ListResourceRecordSets"},
	"AWS::ServiceDiscovery::PrivateDnsNamespace": {
		"ec2:DescribeVpcs", "route53:AssociateVPCWithHostedZone", "route53:ChangeTagsForResource", "route53:CreateHostedZone",
		"route53:DeleteHostedZone", "route53:GetHostedZone", "route53:ListHostedZonesByName",
		"servicediscovery:CreatePrivateDnsNamespace", "servicediscovery:DeleteNamespace", "servicediscovery:GetNamespace",
		"servicediscovery:GetOperation", "servicediscovery:ListTagsForResource", "servicediscovery:TagResource",
		"servicediscovery:UntagResource", "servicediscovery:UpdatePrivateDnsNamespace",
	},
	"AWS::ServiceDiscovery::Service": {
		"route53:ChangeResourceRecordSets", "route53:CreateHealthCheck", "route53:DeleteHealthCheck", "route53:GetHealthCheck",
		"servicediscovery:CreateService", "servicediscovery:DeleteService", "servicediscovery:GetService",
		"servicediscovery:ListTagsForResource", "servicediscovery:TagResource", "servicediscovery:UntagResource",
		"servicediscovery:UpdateService",
	},
}

// handlerActions is handlersJSON decoded, with schemaless added.
var handlerActions = func() map[string][]string {
	m := map[string][]string{}
	if err := json.Unmarshal(handlersJSON, &m); err != nil {
		panic(fmt.Sprintf("handlers.json: %v", err)) // embedded at build time: a broken file is a build bug
	}
	maps.Copy(m, schemaless)
	return m
}()

// TypeActions returns the actions CloudFormation needs for the given
// resource types, sorted and without duplicates, or an error naming the
// types lowfare has no permissions for (a template part added without
// regenerating handlers.json).
func TypeActions(types []string) ([]string, error) {
	set := map[string]bool{}
	var missing []string
	for _, t := range types {
		acts, ok := handlerActions[t]
		if !ok {
			missing = append(missing, t)
			continue
		}
		for _, a := range acts {
			set[a] = true
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no CloudFormation handler permissions known for %v: regenerate internal/ci/handlers.json", missing)
	}
	return slices.Sorted(maps.Keys(set)), nil
}
