package awsfake

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

type cfnResource struct {
	Type           string          `json:"Type"`
	Properties     json.RawMessage `json:"Properties"`
	DeletionPolicy string          `json:"DeletionPolicy"`
	raw            string
	physicalID     string
}

type cfnTemplate struct {
	// Parameters keeps what the fake checks a request's parameters
	// against: their names, and whether each has a Default.
	Parameters map[string]struct {
		Default json.RawMessage `json:"Default"`
	} `json:"Parameters"`
	Resources map[string]*cfnResource `json:"Resources"`
	Outputs   map[string]struct {
		Value any `json:"Value"`
	} `json:"Outputs"`
}

// members reads a query list: Prefix.member.1, Prefix.member.2, ...
func members(form url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[prefix+".member."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

// maxTemplateBody is the most bytes CloudFormation takes as an inline
// TemplateBody: "with a minimum length of 1 byte and a maximum length of
// 51,200 bytes"
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateChangeSet.html).
// It is written here, not read from internal/cfn, so that the fake holds
// lowfare's own constant to AWS's figure.
const maxTemplateBody = 51200

// parseCFNTemplate parses a TemplateBody, refusing what CloudFormation
// refuses before it reads one: a body over maxTemplateBody, with AWS's
// wording (a constraint violation of the request, seen for example in
// https://github.com/widdix/aws-cf-templates/issues/169 and
// https://github.com/mbailey/bash-my-aws/pull/100), then a body that is
// not a template.
func parseCFNTemplate(body string) (*cfnTemplate, error) {
	if len(body) > maxTemplateBody {
		return nil, Errorf("ValidationError", "1 validation error detected: Value '%s' at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to %d", body, maxTemplateBody)
	}
	var t cfnTemplate
	if err := json.Unmarshal([]byte(body), &t); err != nil {
		return nil, Errorf("ValidationError", "Template format error: JSON not well-formed. (%v)", err)
	}
	if len(t.Resources) == 0 {
		return nil, Errorf("ValidationError", "Template format error: At least one Resources member must be defined.")
	}
	for id, r := range t.Resources {
		if r == nil || r.Type == "" {
			return nil, Errorf("ValidationError", "Template format error: [/Resources/%s] Every Resources object must contain a Type member.", id)
		}
		raw, _ := json.Marshal(struct {
			Type       string
			Properties json.RawMessage `json:",omitempty"`
			Policy     string
		}{r.Type, compactJSON(r.Properties), r.DeletionPolicy})
		r.raw = string(raw)
	}
	return &t, nil
}

func compactJSON(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

func sortedIDs(t *cfnTemplate) []string {
	if t == nil {
		return nil
	}
	ids := slices.Sorted(maps.Keys(t.Resources))
	return ids
}

// refersTo reports whether a resource's properties use the parameter.
func refersTo(r *cfnResource, param string) bool {
	return strings.Contains(r.raw, `{"Ref":"`+param+`"}`) || strings.Contains(r.raw, "${"+param+"}")
}

// requestParameters reads a request's Parameters.member.N list. A member
// with UsePreviousValue takes the stack's current value (prev).
func requestParameters(form url.Values, prev map[string]string) map[string]string {
	params := map[string]string{}
	for i := 1; ; i++ {
		p := "Parameters.member." + strconv.Itoa(i) + "."
		k := form.Get(p + "ParameterKey")
		if k == "" {
			return params
		}
		if form.Get(p+"UsePreviousValue") == "true" {
			params[k] = prev[k]
			continue
		}
		params[k] = form.Get(p + "ParameterValue")
	}
}

// checkParameters refuses parameters as CloudFormation does: values for a
// template without parameters ("Parameter values specified for a template
// which does not require them.",
// https://github.com/aws/aws-toolkit-azure-devops/issues/75), keys the
// template does not declare ("Parameters: [X] do not exist in the
// template",
// https://github.com/aws-samples/amazon-ec2-image-builder-samples/issues/18),
// and declared parameters without a Default that get no value
// ("Parameters: [X] must have values",
// https://github.com/boto/botocore/issues/2598). Names are listed sorted.
func checkParameters(t *cfnTemplate, params map[string]string) error {
	if len(t.Parameters) == 0 && len(params) > 0 {
		return Errorf("ValidationError", "Parameter values specified for a template which does not require them.")
	}
	var unknown, missing []string
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if _, ok := t.Parameters[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		return Errorf("ValidationError", "Parameters: [%s] do not exist in the template", strings.Join(unknown, ", "))
	}
	for _, k := range slices.Sorted(maps.Keys(t.Parameters)) {
		if _, ok := params[k]; !ok && len(t.Parameters[k].Default) == 0 {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return Errorf("ValidationError", "Parameters: [%s] must have values", strings.Join(missing, ", "))
	}
	return nil
}

// requestTags reads a request's Tags.member.N list.
func requestTags(form url.Values) map[string]string {
	tags := map[string]string{}
	for i := 1; ; i++ {
		k := form.Get("Tags.member." + strconv.Itoa(i) + ".Key")
		if k == "" {
			return tags
		}
		tags[k] = form.Get("Tags.member." + strconv.Itoa(i) + ".Value")
	}
}
