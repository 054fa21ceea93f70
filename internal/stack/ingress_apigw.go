package stack

import (
	"fmt"

	"github.com/lowfare/lowfare/internal/cfn"
)

// ingressAPIGW puts an API Gateway HTTP API in front of the tasks, without a
// load balancer: a VPC link into the public subnets and a private
// integration with an AWS Cloud Map service the ECS service registers its
// tasks in. API Gateway needs each task's IP address and port; ECS registers
// the port only in SRV records (awsvpc network mode with a DNS namespace),
// so the namespace is a private DNS one (its Route 53 zone costs $0.50 a
// month). docs/architecture.md has the reasoning and the sources.
func (b *builder) ingressAPIGW() {
	s := b.s
	b.add(PartIngress, "VpcLinkSecurityGroup", "AWS::EC2::SecurityGroup", cfn.Props{
		"GroupDescription":    fmt.Sprintf("%s VPC link: API Gateway to the tasks only", b.n.Prefix),
		"VpcId":               cfn.Ref("Vpc"),
		"SecurityGroupEgress": toTasksOnly(s.Service.Port),
	})
	b.add(PartIngress, "VpcLink", "AWS::ApiGatewayV2::VpcLink", cfn.Props{
		"Name":             b.n.VpcLink,
		"SubnetIds":        bothSubnets(),
		"SecurityGroupIds": []any{cfn.Ref("VpcLinkSecurityGroup")},
	})
	b.add(PartIngress, "Namespace", "AWS::ServiceDiscovery::PrivateDnsNamespace", cfn.Props{
		"Name":        b.n.Namespace,
		"Vpc":         cfn.Ref("Vpc"),
		"Description": "Where the tasks register for API Gateway's private integration",
	})
	b.add(PartIngress, "DiscoveryService", "AWS::ServiceDiscovery::Service", cfn.Props{
		"Name":        b.n.Discovery,
		"NamespaceId": cfn.GetAtt("Namespace", "Id"),
		"DnsConfig": map[string]any{
			"RoutingPolicy": "MULTIVALUE",
			"DnsRecords":    []any{map[string]any{"Type": "SRV", "TTL": 10}},
		},
		// ECS reports the tasks' health (from the container health check).
		"HealthCheckCustomConfig": map[string]any{"FailureThreshold": 1},
	})
	b.httpAPI(cfn.Props{
		"IntegrationType":      "HTTP_PROXY",
		"IntegrationMethod":    "ANY",
		"ConnectionType":       "VPC_LINK",
		"ConnectionId":         cfn.Ref("VpcLink"),
		"IntegrationUri":       cfn.GetAtt("DiscoveryService", "Arn"),
		"PayloadFormatVersion": "1.0",
	})
	b.ingressSG = "VpcLinkSecurityGroup"
	b.serviceTargets = []any{map[string]any{
		"RegistryArn":   cfn.GetAtt("DiscoveryService", "Arn"),
		"ContainerName": b.n.Container,
		"ContainerPort": s.Service.Port,
	}}
}

// httpAPI is an HTTP API with one integration behind the $default route and
// an auto-deployed $default stage, plus a custom domain when the spec has
// one with a certificate. Used by ingress apigw and by profile serverless.
func (b *builder) httpAPI(integration cfn.Props) {
	part := PartIngress
	in := b.s.Ingress
	b.add(part, "HttpApi", "AWS::ApiGatewayV2::Api", cfn.Props{
		"Name":         b.n.API,
		"ProtocolType": "HTTP",
		"Description":  fmt.Sprintf("lowfare %s/%s", b.s.App, b.s.Env),
	})
	integration["ApiId"] = cfn.Ref("HttpApi")
	b.add(part, "Integration", "AWS::ApiGatewayV2::Integration", integration)
	b.add(part, "DefaultRoute", "AWS::ApiGatewayV2::Route", cfn.Props{
		"ApiId":    cfn.Ref("HttpApi"),
		"RouteKey": "$default",
		"Target":   cfn.Sub("integrations/${Integration}"),
	})
	b.add(part, "DefaultStage", "AWS::ApiGatewayV2::Stage", cfn.Props{
		"ApiId":      cfn.Ref("HttpApi"),
		"StageName":  "$default",
		"AutoDeploy": true,
	})
	b.urlValue = cfn.GetAtt("HttpApi", "ApiEndpoint")
	if in.Domain == "" || !in.TLS() {
		return
	}
	b.add(part, "ApiDomain", "AWS::ApiGatewayV2::DomainName", cfn.Props{
		"DomainName": in.Domain,
		"DomainNameConfigurations": []any{map[string]any{
			"CertificateArn": b.certificate(),
			"EndpointType":   "REGIONAL",
			"SecurityPolicy": "TLS_1_2",
		}},
	})
	b.add(part, "ApiMapping", "AWS::ApiGatewayV2::ApiMapping", cfn.Props{
		"ApiId":      cfn.Ref("HttpApi"),
		"DomainName": cfn.Ref("ApiDomain"),
		"Stage":      cfn.Ref("DefaultStage"),
	})
	if in.HostedZoneID != "" {
		b.aliasRecord(cfn.GetAtt("ApiDomain", "RegionalDomainName"), cfn.GetAtt("ApiDomain", "RegionalHostedZoneId"))
	}
	b.urlValue = "https://" + in.Domain
}

// toTasksOnly is the egress of what fronts the service (the load
// balancer, the VPC link): the tasks' port inside the VPC and nothing
// else, instead of the default allow-all.
func toTasksOnly(port int) []any {
	return []any{map[string]any{
		"IpProtocol":  "tcp",
		"FromPort":    port,
		"ToPort":      port,
		"CidrIp":      vpcCIDR,
		"Description": "to the tasks",
	}}
}
