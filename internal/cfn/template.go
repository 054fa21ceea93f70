// Package cfn is a minimal CloudFormation model: a template, its resources,
// the intrinsic functions as small helpers, and deterministic JSON and YAML
// output. It knows nothing about lowfare; internal/stack fills it in.
package cfn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// FormatVersion is the only template format version CloudFormation knows.
const FormatVersion = "2010-09-09"

// MaxTemplateBody is the most bytes CloudFormation takes as an inline
// TemplateBody; a larger template must be uploaded to S3 first
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).
const MaxTemplateBody = 51200

// Template is one CloudFormation template. Maps serialise with sorted keys,
// so the same template always gives the same bytes.
type Template struct {
	Description string                `json:"Description,omitempty"`
	Parameters  map[string]*Parameter `json:"Parameters,omitempty"`
	// Mappings are map name -> top-level key -> second-level key -> value,
	// read with FindInMap.
	Mappings   map[string]map[string]map[string]any `json:"Mappings,omitempty"`
	Conditions map[string]any                       `json:"Conditions,omitempty"`
	Resources  map[string]*Resource                 `json:"Resources"`
	Outputs    map[string]*Output                   `json:"Outputs,omitempty"`
}

// Parameter is a template parameter.
type Parameter struct {
	Type           string   `json:"Type"`
	Description    string   `json:"Description,omitempty"`
	Default        any      `json:"Default,omitempty"`
	AllowedPattern string   `json:"AllowedPattern,omitempty"`
	AllowedValues  []string `json:"AllowedValues,omitempty"`
	MinLength      *int     `json:"MinLength,omitempty"`
}

// Props are a resource's properties: plain Go values, nested maps and
// slices, and intrinsic functions.
type Props = map[string]any

// Resource is one resource of a template.
type Resource struct {
	Type                string   `json:"Type"`
	Condition           string   `json:"Condition,omitempty"`
	DependsOn           []string `json:"DependsOn,omitempty"`
	DeletionPolicy      string   `json:"DeletionPolicy,omitempty"`
	UpdateReplacePolicy string   `json:"UpdateReplacePolicy,omitempty"`
	Properties          Props    `json:"Properties,omitempty"`
}

// Output is a template output.
type Output struct {
	Description string `json:"Description,omitempty"`
	Condition   string `json:"Condition,omitempty"`
	Value       any    `json:"Value"`
}

// New returns an empty template.
func New(description string) *Template {
	return &Template{
		Description: description,
		Parameters:  map[string]*Parameter{},
		Mappings:    map[string]map[string]map[string]any{},
		Conditions:  map[string]any{},
		Resources:   map[string]*Resource{},
		Outputs:     map[string]*Output{},
	}
}

// Add puts a resource under its logical ID. Logical IDs come from code,
// never from user input, so a duplicate is a programming error.
func (t *Template) Add(logicalID string, r *Resource) *Resource {
	if _, dup := t.Resources[logicalID]; dup {
		panic(fmt.Sprintf("cfn: duplicate logical ID %q", logicalID))
	}
	if !ValidLogicalID(logicalID) {
		panic(fmt.Sprintf("cfn: logical ID %q is not alphanumeric", logicalID))
	}
	t.Resources[logicalID] = r
	return r
}

// ValidLogicalID reports whether id is a CloudFormation logical ID:
// alphanumeric, 1 to 255 characters.
func ValidLogicalID(id string) bool {
	if id == "" || len(id) > 255 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// LogicalIDs returns the resources' logical IDs, sorted.
func (t *Template) LogicalIDs() []string {
	return slices.Sorted(maps.Keys(t.Resources))
}

// templateJSON fixes the order of the top-level sections.
type templateJSON struct {
	AWSTemplateFormatVersion string                               `json:"AWSTemplateFormatVersion"`
	Description              string                               `json:"Description,omitempty"`
	Parameters               map[string]*Parameter                `json:"Parameters,omitempty"`
	Mappings                 map[string]map[string]map[string]any `json:"Mappings,omitempty"`
	Conditions               map[string]any                       `json:"Conditions,omitempty"`
	Resources                map[string]*Resource                 `json:"Resources"`
	Outputs                  map[string]*Output                   `json:"Outputs,omitempty"`
}

// MarshalJSON writes the template with its format version first.
func (t *Template) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(templateJSON{
		AWSTemplateFormatVersion: FormatVersion,
		Description:              t.Description,
		Parameters:               t.Parameters,
		Mappings:                 t.Mappings,
		Conditions:               t.Conditions,
		Resources:                t.Resources,
		Outputs:                  t.Outputs,
	})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

// JSON is the template as indented JSON with a final newline. Map keys are
// sorted and HTML characters are not escaped, so the output is stable and
// readable (a policy's "<" stays "<").
func (t *Template) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(t); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Generic is the template as plain JSON values (map[string]any, []any,
// string, float64, bool), the form schema validators and tests inspect.
func (t *Template) Generic() (map[string]any, error) {
	data, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}
