package cfnschema

import (
	"fmt"
	"regexp"
	"strings"
)

// names are what a reference may point at.
type names struct {
	resources  map[string]bool
	types      map[string]string // logical ID -> resource type
	parameters map[string]bool
	conditions map[string]bool
}

var pseudo = map[string]bool{
	"AWS::AccountId": true, "AWS::NotificationARNs": true, "AWS::NoValue": true,
	"AWS::Partition": true, "AWS::Region": true, "AWS::StackId": true,
	"AWS::StackName": true, "AWS::URLSuffix": true,
}

func newNames(tmpl map[string]any) *names {
	n := &names{resources: map[string]bool{}, types: map[string]string{}, parameters: map[string]bool{}, conditions: map[string]bool{}}
	resources, _ := tmpl["Resources"].(map[string]any)
	for id, r := range resources {
		n.resources[id] = true
		if m, ok := r.(map[string]any); ok {
			n.types[id], _ = m["Type"].(string)
		}
	}
	params, _ := tmpl["Parameters"].(map[string]any)
	for p := range params {
		n.parameters[p] = true
	}
	conds, _ := tmpl["Conditions"].(map[string]any)
	for c := range conds {
		n.conditions[c] = true
	}
	return n
}

// checkRefs lists the references in v that name nothing.
func (n *names) checkRefs(v any) []string {
	var out []string
	walk(v, func(x any) {
		m, ok := x.(map[string]any)
		if !ok || len(m) != 1 {
			return
		}
		if ref, ok := m["Ref"]; ok {
			s, _ := ref.(string)
			if !pseudo[s] && !n.resources[s] && !n.parameters[s] {
				out = append(out, fmt.Sprintf("Ref %v: no such parameter or resource", ref))
			}
		}
		if ga, ok := m["Fn::GetAtt"]; ok {
			list, _ := ga.([]any)
			if len(list) != 2 {
				out = append(out, fmt.Sprintf("Fn::GetAtt %v: want [resource, attribute]", ga))
			} else if s, _ := list[0].(string); !n.resources[s] {
				out = append(out, fmt.Sprintf("Fn::GetAtt %v: no such resource", list[0]))
			}
		}
		if c, ok := m["Fn::If"]; ok {
			list, _ := c.([]any)
			if len(list) != 3 {
				out = append(out, "Fn::If wants [condition, then, else]")
			} else if s, _ := list[0].(string); !n.conditions[s] {
				out = append(out, fmt.Sprintf("Fn::If: condition %v is not defined", list[0]))
			}
		}
		if sub, ok := m["Fn::Sub"]; ok {
			vars := map[string]bool{}
			if list, ok := sub.([]any); ok && len(list) == 2 {
				if vm, ok := list[1].(map[string]any); ok {
					for k := range vm {
						vars[k] = true
					}
				}
			}
			for _, ref := range subRefs(sub) {
				if vars[ref] || pseudo[ref] || n.parameters[ref] {
					continue
				}
				target, _, _ := strings.Cut(ref, ".")
				if !n.resources[target] {
					out = append(out, fmt.Sprintf("Fn::Sub ${%s}: no such parameter, resource or variable", ref))
				}
			}
		}
	})
	return out
}

var subVar = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// subRefs lists the ${Name} references of a Fn::Sub (not the ${!Literal}s).
func subRefs(sub any) []string {
	var s string
	switch x := sub.(type) {
	case string:
		s = x
	case []any:
		if len(x) > 0 {
			s, _ = x[0].(string)
		}
	}
	var out []string
	for _, m := range subVar.FindAllStringSubmatch(s, -1) {
		out = append(out, strings.TrimSpace(m[1]))
	}
	return out
}
