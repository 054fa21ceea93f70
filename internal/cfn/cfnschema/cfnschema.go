// Package cfnschema checks CloudFormation templates against the
// CloudFormation registry schemas (the resource provider schemas AWS
// publishes, as shipped inside the rain module), so a template that AWS would
// reject for an unknown, missing, mistyped or read-only property fails here,
// on this machine, before anything is deployed.
//
// How intrinsic functions are handled: a property value such as
// {"Ref": "X"} or {"Fn::GetAtt": [...]} stands for a value CloudFormation
// computes later, so the schema cannot judge it. The validator runs the
// schema over the template as written and then discards every error whose
// instance location is an intrinsic (or inside one); an anyOf/oneOf failure is
// discarded when one of its branches failed only because of an intrinsic (the
// computed value could satisfy that branch). Everything else - missing
// required properties, unknown properties, wrong types of literal values,
// enums, patterns, lengths - is reported. The references themselves are
// checked separately: every Ref, Fn::GetAtt, ${...} in Fn::Sub and DependsOn
// must name a parameter, pseudo parameter or resource of the template, and a
// Fn::GetAtt attribute must be one of the target's read-only or declared
// properties.
package cfnschema

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/lowfare/lowfare/internal/cfn"
)

// RainModule is the module whose files hold the registry schemas.
const RainModule = "github.com/aws-cloudformation/rain@v1.24.4"

// RainSchemaDir asks the go command where the rain module is (downloading it
// through the module proxy when it is not in the module cache yet) and
// returns its schema directory.
func RainSchemaDir(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "mod", "download", "-json", RainModule).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("go mod download %s: %v: %s", RainModule, err, ee.Stderr)
		}
		return "", fmt.Errorf("go mod download %s: %w", RainModule, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return "", fmt.Errorf("go mod download %s: %w", RainModule, err)
	}
	if info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %s", RainModule, info.Error)
	}
	dir := filepath.Join(info.Dir, "internal", "aws", "cfn", "schemas")
	if _, err := os.Stat(filepath.Join(dir, "aws")); err != nil {
		return "", fmt.Errorf("rain's schema directory moved: %w", err)
	}
	return dir, nil
}

// Registry reads resource schemas from a directory laid out as
// aws/<service>/<resource>.json (lowercase) and compiles each once.
type Registry struct {
	dir   string
	mu    sync.Mutex
	cache map[string]*Resource
}

// Open returns a registry over dir (see RainSchemaDir).
func Open(dir string) *Registry {
	return &Registry{dir: dir, cache: map[string]*Resource{}}
}

// Resource is one compiled resource type schema.
type Resource struct {
	TypeName   string
	Properties map[string]bool // every property the schema declares
	ReadOnly   map[string]bool // top-level read-only properties (the GetAtt attributes, dotted when nested)
	Required   []string
	TagsType   string // "array", "object" or "" when the type takes no Tags property
	// Taggable is the schema's tagging.taggable: the registry declares
	// that the type supports tagging through CloudFormation, which
	// stack-level tags propagate through.
	Taggable bool
	schema   *jsonschema.Schema
}

// Path is where a resource type's schema lives, relative to the directory:
// AWS::ECS::TaskDefinition -> aws/ecs/taskdefinition.json.
func Path(typeName string) (string, error) {
	parts := strings.Split(typeName, "::")
	if len(parts) != 3 || parts[0] != "AWS" {
		return "", fmt.Errorf("%q is not an AWS::Service::Resource type", typeName)
	}
	return filepath.Join("aws", strings.ToLower(parts[1]), strings.ToLower(parts[2])+".json"), nil
}

// Lookup compiles (once) and returns the schema of a resource type.
func (r *Registry) Lookup(typeName string) (*Resource, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if res, ok := r.cache[typeName]; ok {
		return res, nil
	}
	rel, err := Path(typeName)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(r.dir, rel))
	if err != nil {
		return nil, fmt.Errorf("no registry schema for %s: %w", typeName, err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, fmt.Errorf("schema of %s: %w", typeName, err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("schema of %s is not an object", typeName)
	}
	res := &Resource{TypeName: typeName, Properties: map[string]bool{}, ReadOnly: map[string]bool{}}
	props, _ := obj["properties"].(map[string]any)
	for name, p := range props {
		res.Properties[name] = true
		if name == "Tags" {
			res.TagsType = tagsType(obj, p)
		}
	}
	for _, ro := range stringList(obj["readOnlyProperties"]) {
		res.ReadOnly[strings.ReplaceAll(strings.TrimPrefix(ro, "/properties/"), "/", ".")] = true
	}
	res.Required = stringList(obj["required"])
	if tagging, ok := obj["tagging"].(map[string]any); ok {
		res.Taggable, _ = tagging["taggable"].(bool)
	}

	// The registry schemas are draft-07 documents with extra keywords
	// (handlers, tagging, ...) that a validator ignores. A few patterns use
	// regexp features Go lacks; those patterns are not enforced (see
	// lenientRegexp) rather than making the whole type uncheckable.
	applyOverlay(typeName, obj, res)

	// Some schemas name the provider meta-schema in $schema (a URL we do not
	// fetch); they are all draft-07 underneath.
	delete(obj, "$schema")
	delete(obj, "$id")
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.UseRegexpEngine(lenientRegexp)
	url := "file:///" + filepath.ToSlash(rel)
	if err := c.AddResource(url, obj); err != nil {
		return nil, fmt.Errorf("schema of %s: %w", typeName, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compiling the schema of %s: %w", typeName, err)
	}
	res.schema = sch
	r.cache[typeName] = res
	return res, nil
}

// tagsType resolves the Tags property's JSON type through a $ref if needed.
func tagsType(schema map[string]any, p any) string {
	pm, _ := p.(map[string]any)
	if t, ok := pm["type"].(string); ok {
		return t
	}
	if ref, ok := pm["$ref"].(string); ok && strings.HasPrefix(ref, "#/definitions/") {
		defs, _ := schema["definitions"].(map[string]any)
		if d, ok := defs[strings.TrimPrefix(ref, "#/definitions/")].(map[string]any); ok {
			if t, ok := d["type"].(string); ok {
				return t
			}
		}
	}
	return "unknown"
}

func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// anyRegexp matches everything: the stand-in for a pattern Go cannot compile.
type anyRegexp string

func (a anyRegexp) MatchString(string) bool { return true }
func (a anyRegexp) String() string          { return string(a) }

func lenientRegexp(s string) (jsonschema.Regexp, error) {
	re, err := regexp.Compile(s)
	if err != nil {
		return anyRegexp(s), nil
	}
	return re, nil
}

// Problem is one reason AWS would reject the template.
type Problem struct {
	Resource string // logical ID, or "" for template-level problems
	Path     string // JSON pointer inside the resource's Properties
	Message  string
}

func (p Problem) String() string {
	switch {
	case p.Resource == "":
		return p.Message
	case p.Path == "":
		return p.Resource + ": " + p.Message
	}
	return p.Resource + " " + p.Path + ": " + p.Message
}

// ValidateTemplate checks a template; an empty result means it is valid as
// far as the registry schemas and the references can tell.
func (r *Registry) ValidateTemplate(t *cfn.Template) ([]Problem, error) {
	g, err := t.Generic()
	if err != nil {
		return nil, err
	}
	return r.Validate(g), nil
}

// Validate checks a template in its generic JSON form.
func (r *Registry) Validate(tmpl map[string]any) []Problem {
	var out []Problem
	resources, _ := tmpl["Resources"].(map[string]any)
	if len(resources) == 0 {
		out = append(out, Problem{Message: "the template has no Resources"})
	}
	names := newNames(tmpl)
	for _, id := range slices.Sorted(maps.Keys(resources)) {
		out = append(out, r.validateResource(id, resources[id], names)...)
	}
	outputs, _ := tmpl["Outputs"].(map[string]any)
	for name, o := range outputs {
		msgs := append(names.checkRefs(o), r.attrProblems(o, names)...)
		for _, msg := range msgs {
			out = append(out, Problem{Message: "output " + name + ": " + msg})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

var topLevelKeys = map[string]bool{
	"Type": true, "Properties": true, "DependsOn": true, "DeletionPolicy": true,
	"UpdateReplacePolicy": true, "Condition": true, "Metadata": true,
	"CreationPolicy": true, "UpdatePolicy": true,
}

// policies are the values each policy attribute takes. RetainExceptOnCreate
// is a DeletionPolicy only
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-updatereplacepolicy.html
// lists Delete, Retain and Snapshot).
var policies = map[string]map[string]bool{
	"DeletionPolicy":      {"Delete": true, "Retain": true, "Snapshot": true, "RetainExceptOnCreate": true},
	"UpdateReplacePolicy": {"Delete": true, "Retain": true, "Snapshot": true},
}

func (r *Registry) validateResource(id string, v any, names *names) []Problem {
	var out []Problem
	add := func(path, format string, args ...any) {
		out = append(out, Problem{Resource: id, Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if !cfn.ValidLogicalID(id) {
		add("", "logical ID is not alphanumeric")
	}
	res, ok := v.(map[string]any)
	if !ok {
		add("", "resource is not an object")
		return out
	}
	for k := range res {
		if !topLevelKeys[k] {
			add("", "unknown resource attribute %q", k)
		}
	}
	for _, k := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
		if p, ok := res[k]; ok {
			if s, _ := p.(string); !policies[k][s] {
				add("", "%s %v is not one of %s", k, p, strings.Join(slices.Sorted(maps.Keys(policies[k])), ", "))
			}
		}
	}
	if c, ok := res["Condition"].(string); ok && !names.conditions[c] {
		add("", "condition %q is not defined", c)
	}
	switch d := res["DependsOn"].(type) {
	case nil:
	case string:
		if !names.resources[d] {
			add("", "DependsOn %q: no such resource", d)
		}
	case []any:
		for _, x := range d {
			if s, _ := x.(string); !names.resources[s] {
				add("", "DependsOn %v: no such resource", x)
			}
		}
	default:
		add("", "DependsOn must be a string or a list")
	}
	typeName, _ := res["Type"].(string)
	schema, err := r.Lookup(typeName)
	if err != nil {
		add("", "%v", err)
		return out
	}
	props, _ := res["Properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	for name := range props {
		if schema.ReadOnly[name] {
			add("/"+name, "%s is read-only: CloudFormation sets it, a template cannot", name)
		}
	}
	if err := schema.schema.Validate(props); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			for _, leaf := range realErrors(ve, props) {
				add(pointer(leaf.InstanceLocation), "%s", leaf.ErrorKind.LocalizedString(printer))
			}
		} else {
			add("", "%v", err)
		}
	}
	for _, msg := range names.checkRefs(props) {
		add("", "%s", msg)
	}
	for _, msg := range r.attrProblems(props, names) {
		add("", "%s", msg)
	}
	return out
}

// attrProblems checks that every Fn::GetAtt and ${Resource.Attr} in v names
// an attribute the target's type has.
func (r *Registry) attrProblems(v any, names *names) []string {
	var out []string
	walk(v, func(v any) {
		m, ok := v.(map[string]any)
		if !ok || len(m) != 1 {
			return
		}
		if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
			target, _ := ga[0].(string)
			attr, _ := ga[1].(string)
			if msg := r.checkAttr(names, target, attr); msg != "" {
				out = append(out, msg)
			}
		}
		if sub, ok := m["Fn::Sub"]; ok {
			for _, ref := range subRefs(sub) {
				if target, attr, ok := strings.Cut(ref, "."); ok {
					if msg := r.checkAttr(names, target, attr); msg != "" {
						out = append(out, msg)
					}
				}
			}
		}
	})
	return out
}

func (r *Registry) checkAttr(names *names, target, attr string) string {
	typ, ok := names.types[target]
	if !ok {
		return "" // reported by checkRefs
	}
	schema, err := r.Lookup(typ)
	if err != nil {
		return ""
	}
	// Read-only properties are the documented attributes; registry types
	// also return their plain properties (AWS::EC2::VPC's CidrBlock).
	if !schema.ReadOnly[attr] && !schema.Properties[attr] {
		return fmt.Sprintf("Fn::GetAtt %s.%s: %s has no attribute %s", target, attr, typ, attr)
	}
	return ""
}

var printer = message.NewPrinter(language.English)

func pointer(loc []string) string {
	if len(loc) == 0 {
		return ""
	}
	return "/" + strings.Join(loc, "/")
}

// realErrors returns the leaf errors that no intrinsic function excuses.
func realErrors(e *jsonschema.ValidationError, instance any) []*jsonschema.ValidationError {
	if !isReal(e, instance) {
		return nil
	}
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, realErrors(c, instance)...)
	}
	if len(out) == 0 { // real as a whole, e.g. no branch of an anyOf fits
		return []*jsonschema.ValidationError{e}
	}
	return out
}

func isReal(e *jsonschema.ValidationError, instance any) bool {
	if atIntrinsic(instance, e.InstanceLocation) {
		return false
	}
	if len(e.Causes) == 0 {
		return true
	}
	if alternative(e) {
		for _, c := range e.Causes {
			if !isReal(c, instance) {
				return false // this branch could hold once the intrinsic resolves
			}
		}
		return true
	}
	for _, c := range e.Causes {
		if isReal(c, instance) {
			return true
		}
	}
	return false
}

// atIntrinsic reports whether the value at loc, or any value on the way to
// it, is an intrinsic function.
func atIntrinsic(instance any, loc []string) bool {
	v := instance
	if cfn.IsIntrinsic(v) {
		return true
	}
	for _, tok := range loc {
		switch x := v.(type) {
		case map[string]any:
			v = x[tok]
		case []any:
			var i int
			if _, err := fmt.Sscan(tok, &i); err != nil || i < 0 || i >= len(x) {
				return false
			}
			v = x[i]
		default:
			return false
		}
		if cfn.IsIntrinsic(v) {
			return true
		}
	}
	return false
}

func walk(v any, f func(any)) {
	f(v)
	switch x := v.(type) {
	case map[string]any:
		for _, c := range x {
			walk(c, f)
		}
	case []any:
		for _, c := range x {
			walk(c, f)
		}
	}
}

// alternative reports whether e is an anyOf or oneOf where no branch held.
func alternative(e *jsonschema.ValidationError) bool {
	switch k := e.ErrorKind.(type) {
	case *kind.AnyOf:
		return true
	case *kind.OneOf:
		return len(k.Subschemas) == 0
	}
	return false
}

// overlays are properties CloudFormation accepts that the schema snapshot
// in rain v1.24.4 predates. Each is added only when the schema lacks it, so
// a newer rain makes its entry a no-op. Keep the list short and sourced.
var overlays = map[string]map[string]any{
	// Since October 2025 a NONE-auth function URL also needs
	// lambda:InvokeFunction granted with this flag
	// (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html).
	"AWS::Lambda::Permission": {
		"InvokedViaFunctionUrl": map[string]any{"type": "boolean"},
	},
}

func applyOverlay(typeName string, schema map[string]any, res *Resource) {
	extra, ok := overlays[typeName]
	if !ok {
		return
	}
	props, _ := schema["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
		schema["properties"] = props
	}
	for name, def := range extra {
		if _, has := props[name]; !has {
			props[name] = def
			res.Properties[name] = true
		}
	}
}
