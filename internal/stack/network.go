package stack

import (
	"github.com/lowfare/lowfare/internal/cfn"
)

// The VPC's address plan: two public /20 subnets of a /16.
const (
	vpcCIDR = "10.0.0.0/16"
)

var subnetCIDRs = [2]string{"10.0.0.0/20", "10.0.16.0/20"}

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

	for i, id := range publicSubnets {
		b.add(PartNetwork, id, "AWS::EC2::Subnet", cfn.Props{
			"VpcId":            cfn.Ref("Vpc"),
			"CidrBlock":        subnetCIDRs[i],
			"AvailabilityZone": cfn.Select(i, cfn.GetAZs()),
			// Tasks ask for their public IP explicitly (AssignPublicIp);
			// nothing else here should get one by default.
			"MapPublicIpOnLaunch": false,
		})
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
