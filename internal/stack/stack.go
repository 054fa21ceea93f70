// Package stack turns a spec into the two CloudFormation templates of the
// architecture: a small bootstrap stack with the image repository (the image
// must exist before the service) and the main stack. Each architecture part
// is one file, readable top to bottom: network, ingress_alb, ingress_apigw,
// service, scaling, serverless, table, database, logs, iam, observability, budget,
// registry. rules.go says what is refused or warned about before any
// template is written: spec's rules (spec.Validate, written once in spec),
// then what only the templates know (derived names, VPC link regions);
// names.go derives every AWS name so it always fits.
package stack

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
)

// Architecture parts, in the order `lowfare plan` prints them.
const (
	PartRegistry      = "registry"
	PartNetwork       = "network"
	PartIngress       = "ingress"
	PartService       = "service"
	PartScaling       = "scaling"
	PartServerless    = "serverless"
	PartTable         = "table"
	PartLogs          = "logs"
	PartIAM           = "iam"
	PartObservability = "observability"
	PartBudget        = "budget"

	// PartTemplate labels warnings about a whole template, not one part.
	PartTemplate = "template"
)

// PartOrder lists the parts in plan order.
var PartOrder = []string{PartRegistry, PartNetwork, PartIngress, PartService, PartScaling, PartIdle,
	PartServerless, PartTable, PartDatabase, PartLogs, PartIAM, PartObservability, PartBudget, PartFreeTier}

// Warning is something the user should know before deploying; the stack is
// still built. MonthlyUSD is the extra cost it implies, when there is one.
type Warning struct {
	Part       string
	Message    string
	MonthlyUSD float64
}

func (w Warning) String() string {
	if w.MonthlyUSD > 0 {
		return fmt.Sprintf("%s: %s (about $%.2f a month)", w.Part, w.Message, w.MonthlyUSD)
	}
	return w.Part + ": " + w.Message
}

// Entry is one resource of a template, for listings.
type Entry struct {
	Stack     string // "bootstrap" or "main"
	Part      string
	LogicalID string
	Type      string
}

// Result is what Build makes.
type Result struct {
	// Bootstrap is nil when service.image is an image reference: nothing
	// is pushed, so there is no repository and no bootstrap stack.
	Bootstrap *cfn.Template
	Main      *cfn.Template
	Warnings  []Warning
	// Entries lists every resource of both templates by part (PartOrder),
	// then logical ID.
	Entries []Entry
	// AlarmMetrics is what CloudWatch bills as alarms: each metric an alarm
	// reads, plus two per target-tracking policy (10 are free).
	AlarmMetrics int
}

// Build checks the rules and builds both templates. A spec that breaks a
// rule gives a *RulesError listing every problem and no templates.
func Build(s *spec.Spec) (*Result, error) {
	warnings, err := Check(s)
	if err != nil {
		return nil, err
	}
	b := newBuilder(s)
	b.registry()
	if s.ECS() {
		b.network()
		switch s.Ingress.Kind {
		case spec.IngressAPIGW:
			b.ingressAPIGW()
		default:
			b.ingressALB()
		}
		b.logs()
		b.iam()
		b.database() // before the service, which waits for its writer
		b.service()
		b.scaling()
		b.idle()
	} else {
		b.logs()
		b.iam()
		b.serverless()
	}
	b.table()
	b.observability()
	b.budget()
	b.freeTierCheck()
	b.applyTags()

	warnings = append(warnings, alarmBudget(b.main, s.Region)...)
	warnings = append(warnings, sizeWarnings(b.boot, b.main)...)
	boot := b.boot
	if len(boot.Resources) == 0 {
		boot = nil // no repository to make (registry)
	}
	return &Result{
		Bootstrap:    boot,
		Main:         b.main,
		Warnings:     warnings,
		Entries:      b.entries(),
		AlarmMetrics: countAlarmMetrics(b.main),
	}, nil
}

// builder carries the spec and the templates while the parts fill them in.
type builder struct {
	s     *spec.Spec
	n     names
	boot  *cfn.Template
	main  *cfn.Template
	parts map[*cfn.Template]map[string]string // template -> logical ID -> part

	// Filled in by the parts for the parts that follow.
	serviceTargets []any    // ECS: the service's ServiceRegistries or LoadBalancers
	dependsOn      []string // what the service waits for (the listeners)
	ingressSG      string   // the security group the service admits, or ""
	urlValue       any      // the URL output
}

func newBuilder(s *spec.Spec) *builder {
	b := &builder{
		s:     s,
		n:     deriveNames(s),
		boot:  cfn.New(fmt.Sprintf("lowfare %s/%s bootstrap: the image repository (stack %s)", s.App, s.Env, s.BootstrapStackName())),
		main:  cfn.New(fmt.Sprintf("lowfare %s/%s: profile %s, ingress %s (stack %s)", s.App, s.Env, s.Profile, s.Ingress.Kind, s.StackName())),
		parts: map[*cfn.Template]map[string]string{},
	}
	b.main.Parameters[ParamImageURI] = &cfn.Parameter{
		Type:        "String",
		Description: "The image to run, by digest (repository@sha256:...); lowfare deploy sets it.",
		MinLength:   intPtr(1),
	}
	return b
}

func intPtr(i int) *int { return &i }

// add puts a resource into the main template under a part.
func (b *builder) add(part, id, typ string, props cfn.Props) *cfn.Resource {
	return b.addTo(b.main, part, id, typ, props)
}

func (b *builder) addTo(t *cfn.Template, part, id, typ string, props cfn.Props) *cfn.Resource {
	r := t.Add(id, &cfn.Resource{Type: typ, Properties: props})
	if b.parts[t] == nil {
		b.parts[t] = map[string]string{}
	}
	b.parts[t][id] = part
	return r
}

func (b *builder) output(name, description string, value any) {
	b.main.Outputs[name] = &cfn.Output{Description: description, Value: value}
}

func (b *builder) entries() []Entry {
	rank := map[string]int{}
	for i, p := range PartOrder {
		rank[p] = i
	}
	var out []Entry
	for _, st := range []struct {
		name string
		t    *cfn.Template
	}{{"bootstrap", b.boot}, {"main", b.main}} {
		for _, id := range st.t.LogicalIDs() {
			out = append(out, Entry{Stack: st.name, Part: b.parts[st.t][id], LogicalID: id, Type: st.t.Resources[id].Type})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Part != out[j].Part {
			return rank[out[i].Part] < rank[out[j].Part]
		}
		return out[i].LogicalID < out[j].LogicalID
	})
	return out
}

// sizeWarnAt is where Build starts warning: a template this close to the
// limit is one spec change from a deploy that refuses it.
const sizeWarnAt = cfn.MaxTemplateBody * 9 / 10

// sizeWarnings warns, for plan and synth, about a template near or over the
// inline limit, measured as deploy sends it (compact JSON).
func sizeWarnings(boot, main *cfn.Template) []Warning {
	var out []Warning
	for _, st := range []struct {
		name string
		t    *cfn.Template
	}{{"the bootstrap template", boot}, {"the main template", main}} {
		body, err := json.Marshal(st.t)
		if err != nil {
			continue // deploy reports it; nothing to measure
		}
		switch n := len(body); {
		case n > cfn.MaxTemplateBody:
			out = append(out, Warning{Part: PartTemplate, Message: fmt.Sprintf("%s is %d bytes, over the %d bytes CloudFormation takes inline: deploy will refuse it; use fewer or shorter tags, env values or alarm emails", st.name, n, cfn.MaxTemplateBody)})
		case n > sizeWarnAt:
			out = append(out, Warning{Part: PartTemplate, Message: fmt.Sprintf("%s is %d bytes, %d%% of the %d bytes CloudFormation takes inline", st.name, n, n*100/cfn.MaxTemplateBody, cfn.MaxTemplateBody)})
		}
	}
	return out
}
