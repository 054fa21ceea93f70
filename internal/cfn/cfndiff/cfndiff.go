// Package cfndiff is the property-level difference between two
// CloudFormation templates: the one lowfare would deploy and the one a stack
// has (GetTemplate) or a file holds. Each resource change is marked add,
// remove, replace (with the create-only property that forces it, from the
// registry schemas) or in place, as 'cdk diff' marks them.
//
// What it cannot know: a parameter's value (the image digest is one), and
// replacements CloudFormation decides at run time (a property that is a Ref
// to a replaced resource changes too). 'lowfare deploy --dry-run' shows the
// change set AWS computes.
package cfndiff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
)

// Kind is what happens to a resource.
type Kind string

// Kinds of resource change.
const (
	Add     Kind = "add"
	Remove  Kind = "remove"
	Replace Kind = "replace"
	InPlace Kind = "in-place"
)

// Op is what happened to one value.
type Op string

// Value operations.
const (
	OpAdd    Op = "add"
	OpRemove Op = "remove"
	OpChange Op = "change"
)

// Change is one value that differs, at a path such as
// Properties.ContainerDefinitions[0].PortMappings[0].ContainerPort.
type Change struct {
	Path       string `json:"path"`
	Op         Op     `json:"op"`
	Old        any    `json:"old,omitempty"`
	New        any    `json:"new,omitempty"`
	CreateOnly bool   `json:"create_only,omitempty"` // a create-only property: the resource is replaced
}

// Resource is one resource that differs.
type Resource struct {
	LogicalID string   `json:"logical_id"`
	Type      string   `json:"type"`
	Kind      Kind     `json:"kind"`
	Reason    string   `json:"reason,omitempty"` // why it is replaced
	Changes   []Change `json:"changes,omitempty"`
}

// Entry is a parameter, output, condition or mapping that differs.
type Entry struct {
	Section string   `json:"section"` // Parameters, Outputs, ...
	Name    string   `json:"name"`
	Op      Op       `json:"op"`
	Changes []Change `json:"changes,omitempty"`
}

// Result is the difference between two templates.
type Result struct {
	Resources []Resource `json:"resources"`
	Other     []Entry    `json:"other"`
}

// Counts summarise a result.
type Counts struct {
	Add     int `json:"add"`
	Remove  int `json:"remove"`
	Replace int `json:"replace"`
	InPlace int `json:"in_place"`
	Other   int `json:"other"` // parameters, conditions, mappings, outputs, stack tags
}

// Equal reports whether the templates do not differ.
func (r *Result) Equal() bool { return len(r.Resources) == 0 && len(r.Other) == 0 }

// Counts counts the changes by kind.
func (r *Result) Counts() Counts {
	var c Counts
	for _, res := range r.Resources {
		switch res.Kind {
		case Add:
			c.Add++
		case Remove:
			c.Remove++
		case Replace:
			c.Replace++
		case InPlace:
			c.InPlace++
		}
	}
	c.Other = len(r.Other)
	return c
}

// Plus adds two counts.
func (c Counts) Plus(o Counts) Counts {
	return Counts{c.Add + o.Add, c.Remove + o.Remove, c.Replace + o.Replace, c.InPlace + o.InPlace, c.Other + o.Other}
}

func (c Counts) String() string {
	if c == (Counts{}) {
		return "no differences"
	}
	s := fmt.Sprintf("%d to add, %d to remove, %d to replace, %d to change in place", c.Add, c.Remove, c.Replace, c.InPlace)
	if c.Other > 0 {
		s += fmt.Sprintf(", %d other change", c.Other)
		if c.Other > 1 {
			s += "s"
		}
		s += " (parameters, outputs, stack tags)"
	}
	return s
}

// Parse reads a template as JSON or YAML (long-form intrinsics only: the
// YAML short forms such as !Ref are not read).
func Parse(data []byte) (map[string]any, error) {
	var doc map[string]any
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		if err := json.Unmarshal(trimmed, &doc); err != nil {
			return nil, fmt.Errorf("not a JSON template: %w", err)
		}
	} else {
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("not a JSON or YAML template: %w", err)
		}
		// One value model for both: what JSON would decode.
		j, err := json.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("not a template: %w", err)
		}
		doc = nil
		if err := json.Unmarshal(j, &doc); err != nil {
			return nil, err
		}
	}
	if doc == nil {
		return nil, fmt.Errorf("empty template")
	}
	res, ok := doc["Resources"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a CloudFormation template: no Resources section")
	}
	for id, r := range res {
		if _, ok := r.(map[string]any); !ok {
			return nil, fmt.Errorf("resource %s is not an object with a Type", id)
		}
	}
	return doc, nil
}

// Templates compares the deployed template (old, nil when the stack does
// not exist) with the one lowfare would deploy (new).
func Templates(old, new map[string]any) *Result {
	r := &Result{Resources: []Resource{}, Other: []Entry{}}
	oldRes, newRes := section(old, "Resources"), section(new, "Resources")
	for _, id := range keys(oldRes, newRes) {
		o, inOld := oldRes[id].(map[string]any)
		n, inNew := newRes[id].(map[string]any)
		switch {
		case !inOld:
			r.Resources = append(r.Resources, Resource{LogicalID: id, Type: str(n["Type"]), Kind: Add})
		case !inNew:
			r.Resources = append(r.Resources, Resource{LogicalID: id, Type: str(o["Type"]), Kind: Remove})
		default:
			if res, ok := resource(id, o, n); ok {
				r.Resources = append(r.Resources, res)
			}
		}
	}
	for _, sec := range []string{"Parameters", "Conditions", "Mappings", "Outputs"} {
		o, n := section(old, sec), section(new, sec)
		for _, name := range keys(o, n) {
			ov, inOld := o[name]
			nv, inNew := n[name]
			switch {
			case !inOld:
				r.Other = append(r.Other, Entry{Section: sec, Name: name, Op: OpAdd})
			case !inNew:
				r.Other = append(r.Other, Entry{Section: sec, Name: name, Op: OpRemove})
			default:
				var ch []Change
				walk(nil, ov, nv, &ch)
				if len(ch) > 0 {
					r.Other = append(r.Other, Entry{Section: sec, Name: name, Op: OpChange, Changes: ch})
				}
			}
		}
	}
	return r
}

// resource compares one resource present in both templates.
func resource(id string, o, n map[string]any) (Resource, bool) {
	typ := str(n["Type"])
	if ot := str(o["Type"]); ot != typ {
		return Resource{LogicalID: id, Type: typ, Kind: Replace, Reason: fmt.Sprintf("the type changes from %s", ot)}, true
	}
	var ch []Change
	walk(nil, o, n, &ch)
	if len(ch) == 0 {
		return Resource{}, false
	}
	res := Resource{LogicalID: id, Type: typ, Kind: InPlace, Changes: ch}
	pointers, known := createOnly[typ]
	var forcing []string
	for i := range res.Changes {
		c := &res.Changes[i]
		prop, ok := strings.CutPrefix(c.Path, "Properties.")
		if !ok {
			continue
		}
		if p := createOnlyMatch(pointers, prop); p != "" {
			c.CreateOnly = true
			if !slices.Contains(forcing, p) {
				forcing = append(forcing, p)
			}
		}
	}
	switch {
	case len(forcing) > 0:
		res.Kind = Replace
		verb := "is"
		if len(forcing) > 1 {
			verb = "are"
		}
		res.Reason = strings.Join(forcing, ", ") + " " + verb + " create-only"
	case !known:
		res.Reason = "create-only properties of " + typ + " unknown to lowfare: it may be replaced"
	}
	return res, true
}

// createOnlyMatch returns the create-only property (as a dotted name) that
// the change at prop (Port, ContainerDefinitions[0].Image) touches, or "".
// A change above a create-only property (its parent replaced whole) also
// touches it.
func createOnlyMatch(pointers []string, prop string) string {
	segs := pathSegments(prop)
	for _, p := range pointers {
		ps := strings.Split(strings.TrimPrefix(p, "/properties/"), "/")
		n := min(len(ps), len(segs))
		match := true
		for i := 0; i < n; i++ {
			if ps[i] != "*" && ps[i] != segs[i] {
				match = false
				break
			}
		}
		if match {
			return strings.Join(ps, ".")
		}
	}
	return ""
}

// pathSegments splits "A.B[0].C" into A, B, 0, C.
func pathSegments(p string) []string {
	p = strings.ReplaceAll(strings.ReplaceAll(p, "[", "."), "]", "")
	return strings.Split(p, ".")
}

// walk appends every difference between a and b below path.
func walk(path []string, a, b any, out *[]Change) {
	am, aMap := a.(map[string]any)
	bm, bMap := b.(map[string]any)
	if aMap && bMap && !intrinsic(am) && !intrinsic(bm) {
		for _, k := range keys(am, bm) {
			av, inA := am[k]
			bv, inB := bm[k]
			p := append(slices.Clip(path), k)
			switch {
			case !inA:
				*out = append(*out, Change{Path: join(p), Op: OpAdd, New: bv})
			case !inB:
				*out = append(*out, Change{Path: join(p), Op: OpRemove, Old: av})
			default:
				walk(p, av, bv, out)
			}
		}
		return
	}
	as, aList := a.([]any)
	bs, bList := b.([]any)
	if ak, ok := byKey(as); ok && aList && bList {
		if bk, ok := byKey(bs); ok {
			// A tag list: matched by key, not by position, so one new tag
			// is one change rather than a shift of every later one.
			walk(path, ak, bk, out)
			return
		}
	}
	if aList && bList {
		for i := 0; i < max(len(as), len(bs)); i++ {
			p := append(slices.Clip(path), "["+strconv.Itoa(i)+"]")
			switch {
			case i >= len(as):
				*out = append(*out, Change{Path: join(p), Op: OpAdd, New: bs[i]})
			case i >= len(bs):
				*out = append(*out, Change{Path: join(p), Op: OpRemove, Old: as[i]})
			default:
				walk(p, as[i], bs[i], out)
			}
		}
		return
	}
	if !same(a, b) {
		*out = append(*out, Change{Path: join(path), Op: OpChange, Old: a, New: b})
	}
}

// byKey turns a list of {Key, Value} objects (tags), or of {Name, Value}
// or {Name, ValueFrom} objects (container environment and secrets), into a
// map keyed by "[Key]", so that walk matches them by name, not position.
func byKey(list []any) (map[string]any, bool) {
	if len(list) == 0 {
		return nil, false
	}
	for _, field := range []string{"Key", "Name"} {
		m := map[string]any{}
		for _, v := range list {
			o, ok := v.(map[string]any)
			k, isStr := o[field].(string)
			if !ok || !isStr || len(o) > 2 {
				m = nil
				break
			}
			if _, dup := m["["+k+"]"]; dup {
				m = nil
				break
			}
			rest := maps.Clone(o)
			delete(rest, field)
			for _, v := range rest {
				m["["+k+"]"] = v // the one other field: Value, ValueFrom
			}
			if len(rest) == 0 {
				m["["+k+"]"] = nil
			}
		}
		if m != nil {
			return m, true
		}
	}
	return nil, false
}

// same compares leaves as CloudFormation does: a number and the string of
// that number are the same value.
func same(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	if isScalar(a) && isScalar(b) {
		return fmt.Sprint(a) == fmt.Sprint(b)
	}
	return false
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, float64, bool, int, int64, json.Number:
		return true
	}
	return false
}

// intrinsic reports a {"Ref": ...} or {"Fn::...": ...} value, which is
// compared whole.
func intrinsic(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

// join writes a path as A.B[0].C.
func join(p []string) string {
	var b strings.Builder
	for i, s := range p {
		if i > 0 && !strings.HasPrefix(s, "[") {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

func section(doc map[string]any, name string) map[string]any {
	m, _ := doc[name].(map[string]any)
	return m
}

// keys are the keys of a and b together, sorted.
func keys[V any](a, b map[string]V) []string {
	var ks []string
	for k := range a {
		ks = append(ks, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return ks
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// TagChanges lists the stack tags that differ between the deployed stack
// (old) and the one lowfare would deploy (want), as entries of section
// StackTags: tags live on the stack, not in the template.
func TagChanges(old, want map[string]string) []Entry {
	var out []Entry
	for _, k := range keys(old, want) {
		o, inOld := old[k]
		n, inNew := want[k]
		switch {
		case !inOld:
			out = append(out, Entry{Section: "StackTags", Name: k, Op: OpAdd, Changes: []Change{{Path: "Value", Op: OpAdd, New: n}}})
		case !inNew:
			out = append(out, Entry{Section: "StackTags", Name: k, Op: OpRemove, Changes: []Change{{Path: "Value", Op: OpRemove, Old: o}}})
		case o != n:
			out = append(out, Entry{Section: "StackTags", Name: k, Op: OpChange, Changes: []Change{{Path: "Value", Op: OpChange, Old: o, New: n}}})
		}
	}
	return out
}
