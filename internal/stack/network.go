package stack

import (
	"slices"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
)

// The VPC's address plan: two public /20 subnets of a /16. Subnets pinned
// to VPC link zones (ingress apigw) take the next two /20s, so switching an
// existing stack to or from them creates the new subnets before deleting
// the old ones without a CIDR conflict.
const (
	vpcCIDR = "10.0.0.0/16"
)

var (
	subnetCIDRs       = [2]string{"10.0.0.0/20", "10.0.16.0/20"}
	pinnedSubnetCIDRs = [2]string{"10.0.32.0/20", "10.0.48.0/20"}
)

// vpcLinkZones are the Availability Zone IDs where API Gateway has VPC
// links for HTTP APIs, per region, from "Availability by Region" in
// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-vpc-links-v2.html
// (checked 2026-12; the four regions of internal/cost's price table are
// us-east-1, us-west-2, eu-west-1 and eu-central-1). A VPC link's subnets
// must be in these zones, and a zone *name* (us-east-1a) maps to a
// different zone in every account, so ingress apigw pins its subnets by
// AvailabilityZoneId to the first two listed. Regions with fewer than two
// supported zones are left out: the network needs two.
var vpcLinkZones = map[string][]string{
	"us-east-2":      {"use2-az1", "use2-az2", "use2-az3"},
	"us-east-1":      {"use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6"},
	"us-west-1":      {"usw1-az1", "usw1-az3"},
	"us-west-2":      {"usw2-az1", "usw2-az2", "usw2-az3", "usw2-az4"},
	"ap-east-1":      {"ape1-az2", "ape1-az3"},
	"ap-south-1":     {"aps1-az1", "aps1-az2", "aps1-az3"},
	"ap-northeast-2": {"apne2-az1", "apne2-az2", "apne2-az3"},
	"ap-southeast-1": {"apse1-az1", "apse1-az2", "apse1-az3"},
	"ap-southeast-2": {"apse2-az1", "apse2-az2", "apse2-az3"},
	"ap-northeast-1": {"apne1-az1", "apne1-az2", "apne1-az4"},
	"ca-central-1":   {"cac1-az1", "cac1-az2"},
	"eu-central-1":   {"euc1-az1", "euc1-az2", "euc1-az3"},
	"eu-west-1":      {"euw1-az1", "euw1-az2", "euw1-az3"},
	"eu-west-2":      {"euw2-az1", "euw2-az2", "euw2-az3"},
	"eu-west-3":      {"euw3-az1", "euw3-az3"},
	"eu-south-2":     {"eus2-az1", "eus2-az2", "eus2-az3"},
	"eu-north-1":     {"eun1-az1", "eun1-az2", "eun1-az3"},
	"me-south-1":     {"mes1-az1", "mes1-az2", "mes1-az3"},
	"sa-east-1":      {"sae1-az1", "sae1-az2", "sae1-az3"},
	"us-gov-west-1":  {"usgw1-az1", "usgw1-az2", "usgw1-az3"},
}

// mapVpcLinkZones is the template mapping the pinned subnets read their
// zone from, by ${AWS::Region}: a template deployed to a region it was not
// built for fails at the change set, before anything is created.
const mapVpcLinkZones = "VpcLinkZones"

// pinsVpcLinkZones reports whether the spec's subnets must sit in VPC link
// zones: an ECS service behind an HTTP API's VPC link.
func pinsVpcLinkZones(s *spec.Spec) bool {
	return s.ECS() && s.Ingress.Kind == spec.IngressAPIGW
}

// VpcLinkRegions lists the regions where ingress apigw can run an ECS
// service, sorted.
func VpcLinkRegions() []string {
	var out []string
	for r := range vpcLinkZones {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// Subnet logical IDs, one per Availability Zone.
var publicSubnets = [2]string{"PublicSubnet1", "PublicSubnet2"}

// network is the VPC: two public subnets in two Availability Zones (an ALB
// needs two), an internet gateway and one route table. No NAT gateway
// (about $33 a month): tasks get a public IP to reach ECR, CloudWatch Logs,
// SSM and DynamoDB, and their security group admits only the ingress.
func (b *builder) network() {
	b.add(PartNetwork, "Vpc", "AWS::EC2::VPC", cfn.Props{
		"CidrBlock":          vpcCIDR,
		"EnableDnsSupport":   true,
		"EnableDnsHostnames": true,
	})
	b.add(PartNetwork, "InternetGateway", "AWS::EC2::InternetGateway", cfn.Props{})
	b.add(PartNetwork, "GatewayAttachment", "AWS::EC2::VPCGatewayAttachment", cfn.Props{
		"VpcId":             cfn.Ref("Vpc"),
		"InternetGatewayId": cfn.Ref("InternetGateway"),
	})
	b.add(PartNetwork, "PublicRouteTable", "AWS::EC2::RouteTable", cfn.Props{
		"VpcId": cfn.Ref("Vpc"),
	})
	route := b.add(PartNetwork, "PublicRoute", "AWS::EC2::Route", cfn.Props{
		"RouteTableId":         cfn.Ref("PublicRouteTable"),
		"DestinationCidrBlock": "0.0.0.0/0",
		"GatewayId":            cfn.Ref("InternetGateway"),
	})
	// The route needs the gateway attached first.
	route.DependsOn = []string{"GatewayAttachment"}

	pinned := pinsVpcLinkZones(b.s)
	if pinned {
		// Only the spec's region, to keep the template small: deployed to
		// another one (--region), FindInMap fails the change set before
		// anything is created.
		if ids, ok := vpcLinkZones[b.s.Region]; ok { // Check refused the spec otherwise
			b.main.Mappings[mapVpcLinkZones] = map[string]map[string]any{
				b.s.Region: {"Zone1": ids[0], "Zone2": ids[1]},
			}
		}
	}
	for i, id := range publicSubnets {
		props := cfn.Props{
			"VpcId":            cfn.Ref("Vpc"),
			"CidrBlock":        subnetCIDRs[i],
			"AvailabilityZone": cfn.Select(i, cfn.GetAZs()),
			// Tasks ask for their public IP explicitly (AssignPublicIp);
			// nothing else here should get one by default.
			"MapPublicIpOnLaunch": false,
		}
		if pinned {
			delete(props, "AvailabilityZone")
			props["CidrBlock"] = pinnedSubnetCIDRs[i]
			props["AvailabilityZoneId"] = cfn.FindInMap(mapVpcLinkZones, cfn.Ref(cfn.Region), []string{"Zone1", "Zone2"}[i])
		}
		b.add(PartNetwork, id, "AWS::EC2::Subnet", props)
		b.add(PartNetwork, id+"Routes", "AWS::EC2::SubnetRouteTableAssociation", cfn.Props{
			"SubnetId":     cfn.Ref(id),
			"RouteTableId": cfn.Ref("PublicRouteTable"),
		})
	}
}

// bothSubnets lists the two public subnets.
func bothSubnets() []any {
	return []any{cfn.Ref(publicSubnets[0]), cfn.Ref(publicSubnets[1])}
}
