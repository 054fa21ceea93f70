package stack

import (
	"github.com/lowfare/lowfare/internal/cfn"
)

// Tag keys lowfare sets on every taggable resource.
const (
	TagApp = "lowfare:app"
	TagEnv = "lowfare:env"
)

// tagStyle is how a resource type takes tags.
type tagStyle int

const (
	tagsNone         tagStyle = iota // the type has no tags
	tagsList                         // Tags: [{Key, Value}]
	tagsMap                          // Tags: {key: value}
	tagsResourceTags                 // ResourceTags: [{Key, Value}] (AWS::Budgets::Budget)
)

// tagStyles covers every type the templates use; a test checks it against
// the registry schemas, so a type missing here (or wrong) fails the build.
var tagStyles = map[string]tagStyle{
	"AWS::ApiGatewayV2::Api":                      tagsMap,
	"AWS::ApiGatewayV2::ApiMapping":               tagsNone,
	"AWS::ApiGatewayV2::DomainName":               tagsMap,
	"AWS::ApiGatewayV2::Integration":              tagsNone,
	"AWS::ApiGatewayV2::Route":                    tagsNone,
	"AWS::ApiGatewayV2::Stage":                    tagsMap,
	"AWS::ApiGatewayV2::VpcLink":                  tagsMap,
	"AWS::ApplicationAutoScaling::ScalableTarget": tagsNone,
	"AWS::ApplicationAutoScaling::ScalingPolicy":  tagsNone,
	"AWS::Budgets::Budget":                        tagsResourceTags,
	"AWS::CertificateManager::Certificate":        tagsList,
	"AWS::CloudWatch::Alarm":                      tagsList,
	"AWS::CloudWatch::Dashboard":                  tagsNone,
	"AWS::DynamoDB::Table":                        tagsList,
	"AWS::EC2::InternetGateway":                   tagsList,
	"AWS::EC2::Route":                             tagsNone,
	"AWS::EC2::RouteTable":                        tagsList,
	"AWS::EC2::SecurityGroup":                     tagsList,
	"AWS::EC2::Subnet":                            tagsList,
	"AWS::EC2::SubnetRouteTableAssociation":       tagsNone,
	"AWS::EC2::VPC":                               tagsList,
	"AWS::EC2::VPCGatewayAttachment":              tagsNone,
	"AWS::ECR::Repository":                        tagsList,
	"AWS::ECS::Cluster":                           tagsList,
	"AWS::ECS::Service":                           tagsList,
	"AWS::ECS::TaskDefinition":                    tagsList,
	"AWS::ElasticLoadBalancingV2::Listener":       tagsNone,
	"AWS::ElasticLoadBalancingV2::LoadBalancer":   tagsList,
	"AWS::ElasticLoadBalancingV2::TargetGroup":    tagsList,
	"AWS::IAM::Role":                              tagsList,
	"AWS::Lambda::Function":                       tagsList,
	"AWS::Lambda::Permission":                     tagsNone,
	"AWS::Lambda::Url":                            tagsNone,
	"AWS::Logs::LogGroup":                         tagsList,
	"AWS::Route53::RecordSet":                     tagsNone,
	"AWS::SNS::Subscription":                      tagsNone,
	"AWS::SNS::Topic":                             tagsList,
	"AWS::SNS::TopicPolicy":                       tagsNone,
	"AWS::ServiceDiscovery::PrivateDnsNamespace":  tagsList,
	"AWS::ServiceDiscovery::Service":              tagsList,
}

// tags are lowfare's two tags over the spec's own (lowfare's win).
func (b *builder) tags() map[string]string {
	t := map[string]string{}
	for k, v := range b.s.Tags {
		t[k] = v
	}
	t[TagApp] = b.s.App
	t[TagEnv] = b.s.Env
	return t
}

// applyTags tags every taggable resource of both templates, in the form its
// type takes.
func (b *builder) applyTags() {
	tags := b.tags()
	for _, t := range []*cfn.Template{b.boot, b.main} {
		for _, r := range t.Resources {
			if r.Properties == nil {
				r.Properties = cfn.Props{}
			}
			switch tagStyles[r.Type] {
			case tagsList:
				r.Properties["Tags"] = cfn.TagList(tags)
			case tagsMap:
				r.Properties["Tags"] = cfn.TagMap(tags)
			case tagsResourceTags:
				r.Properties["ResourceTags"] = cfn.TagList(tags)
			}
		}
	}
}
