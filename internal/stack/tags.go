package stack

import (
	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
)

// Tag keys lowfare sets on both stacks, and so on every resource.
const (
	TagApp = "lowfare:app"
	TagEnv = "lowfare:env"
)

// StackTags are the tags deploy puts on both stacks (CreateChangeSet's
// Tags): lowfare's two over the spec's own (lowfare's win). CloudFormation
// propagates stack-level tags to the resources it creates, and they cost
// no template bytes; tags on every resource pushed a spec with 48 tags to
// 173 KB, over the 51,200 bytes a template body may have inline
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-resource-tags.html:
// "The propagation of stack-level tags to resources ... varies by resource
// type"; https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).
func StackTags(s *spec.Spec) map[string]string {
	t := map[string]string{}
	for k, v := range s.Tags {
		t[k] = v
	}
	t[TagApp] = s.App
	t[TagEnv] = s.Env
	return t
}

// tagStyle is how a resource type takes tags in a template.
type tagStyle int

const (
	tagsList         tagStyle = iota + 1 // Tags: [{Key, Value}]
	tagsMap                              // Tags: {key: value}
	tagsResourceTags                     // ResourceTags: [{Key, Value}] (AWS::Budgets::Budget)
)

// templateTagged are the types the templates use that take tags but whose
// registry schema does not declare them taggable (no tagging.taggable),
// so stack-level propagation is not promised to reach them: these, and
// only these, carry the tags in the template too. A test derives the same
// list from the registry schemas, so a type that gains (or lacks) the
// declaration fails the build instead of drifting.
var templateTagged = map[string]tagStyle{
	"AWS::ApiGatewayV2::Stage":                   tagsMap,
	"AWS::Budgets::Budget":                       tagsResourceTags,
	"AWS::CertificateManager::Certificate":       tagsList,
	"AWS::ServiceDiscovery::PrivateDnsNamespace": tagsList,
	"AWS::ServiceDiscovery::Service":             tagsList,
}

// applyTags tags the resources stack-level tags may not reach, in the form
// their type takes.
func (b *builder) applyTags() {
	tags := StackTags(b.s)
	for _, t := range []*cfn.Template{b.boot, b.main} {
		for _, r := range t.Resources {
			style, ok := templateTagged[r.Type]
			if !ok {
				continue
			}
			if r.Properties == nil {
				r.Properties = cfn.Props{}
			}
			switch style {
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
