package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

//go:generate go test -run TestSchemaUpToDate . -args -update

// SchemaPath is where the generated JSON Schema lives, from the module root.
const SchemaPath = "docs/lowfare.schema.json"

// schemaDocs describes fields whose Go declaration has no doc tag.
var schemaDocs = map[string]string{
	"service":                     "The container (or, with profile serverless, the Lambda function).",
	"service.count":               "How many tasks run.",
	"service.count.desired":       "Tasks started at deploy time.",
	"service.count.min":           "Fewest tasks scaling may leave (0 lets the service sleep).",
	"service.count.max":           "Most tasks scaling may start.",
	"service.scaling":             "Target tracking on average CPU.",
	"service.schedule.timezone":   "IANA time zone, such as Europe/Berlin.",
	"service.health":              "The load balancer's and the container's health check.",
	"service.health.path":         "HTTP path that answers 200 when the service is healthy.",
	"ingress":                     "How requests reach the service.",
	"ingress.hosted_zone_id":      "Route 53 hosted zone of domain, for DNS validation and the alias record.",
	"table":                       "The DynamoDB single table.",
	"logs":                        "The CloudWatch log group.",
	"logs.retention_days":         "Days CloudWatch Logs keeps log events.",
	"budget":                      "AWS Budgets monthly cost budget.",
	"budget.monthly_usd":          "Budget in US dollars per month.",
	"budget.emails":               "Addresses that receive budget alerts (at most 10).",
	"alarms":                      "Where CloudWatch alarms are sent.",
	"alarms.emails":               "Addresses subscribed to the alarm topic.",
	"workload":                    "Expected traffic; only the cost estimate reads it.",
	"workload.requests_per_month": "Requests per month.",
	"workload.response_kb":        "Average response size in KB (for data transfer).",
}

// schemaRules are the constraints an editor can check as you type; the
// loader checks these and more (pairs, cross-field rules) with positions.
func schemaRules() map[string]map[string]any {
	between := func(lo, hi int) map[string]any { return map[string]any{"minimum": lo, "maximum": hi} }
	return map[string]map[string]any{
		"app":                             {"pattern": appPattern.String()},
		"env":                             {"pattern": envPattern.String()},
		"region":                          {"pattern": regionPattern.String()},
		"profile":                         {"enum": []string{ProfileFree, ProfileHA, ProfileServerless}},
		"service.image":                   {"minLength": 1},
		"service.port":                    between(portMin, portMax),
		"service.cpu":                     {"enum": fargateCPU},
		"service.memory":                  between(lambdaMemoryMin, fargateMemoryMax()),
		"service.arch":                    {"enum": []string{ArchARM64, ArchX8664}},
		"service.count.desired":           {"minimum": 0},
		"service.count.min":               {"minimum": 0},
		"service.count.max":               {"minimum": 1},
		"service.scaling.cpu_target":      between(cpuTargetMin, cpuTargetMax),
		"service.schedule":                {"required": []string{"timezone", "awake"}},
		"service.idle":                    {"required": []string{"after"}},
		"service.idle.after":              {"pattern": `^\s*([0-9]+h)?([0-9]+m)?(0s)?\s*$`},
		"workload.active_hours":           between(0, activeHoursMax),
		"service.schedule.timezone":       {"minLength": 1, "examples": []string{"Europe/Berlin", "America/New_York", "UTC"}},
		"service.schedule.awake":          {"minLength": 1, "examples": []string{"Mon-Fri 08:00-20:00", "Mon-Fri 08:00-20:00, Sat 10:00-14:00"}},
		"service.health.path":             {"pattern": "^/", "maxLength": healthPathMax},
		"service.health.interval":         between(healthIntervalMin, healthIntervalMax),
		"service.health.timeout":          between(healthTimeoutMin, healthTimeoutMax),
		"service.health.healthy":          between(healthCountMin, healthCountMax),
		"service.health.unhealthy":        between(healthCountMin, healthCountMax),
		"service.health.grace":            between(healthGraceMin, healthGraceMax),
		"service.timeout":                 between(lambdaTimeoutMin, lambdaTimeoutMax),
		"service.concurrency":             {"minimum": concurrencyMin},
		"service.env":                     {"propertyNames": map[string]any{"pattern": varPattern.String()}},
		"service.secrets":                 {"uniqueItems": true},
		"service.secrets[]":               {"pattern": varPattern.String(), "maxLength": secretNameMax},
		"ingress.kind":                    {"enum": []string{IngressALB, IngressAPIGW, IngressURL}},
		"service.idle.serve":              {"enum": []string{ServeApp, ServePage}},
		"ingress.hosted_zone_id":          {"pattern": "^(Z[A-Z0-9]{1,31})?$"},
		"ingress.domain":                  {"maxLength": domainMax},
		"ingress.certificate_arn":         {"pattern": "^(arn:aws(-[a-z]+)*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+)?$"},
		"table.billing":                   {"enum": []string{BillingProvisioned, BillingOnDemand}},
		"table.access":                    {"enum": []string{AccessReadWrite, AccessReadOnly, AccessNone}},
		"service.permissions[].actions[]": {"pattern": actionPattern.String()},
		"service.health.command":          {"minItems": 2},
		"table.read":                      between(capacityMin, capacityMax),
		"table.write":                     between(capacityMin, capacityMax),
		"logs.retention_days":             {"enum": retentionDays},
		"budget.monthly_usd":              {"exclusiveMinimum": 0, "maximum": budgetUSDMax},
		"budget.alert_percent":            {"minItems": 1, "maxItems": alertsMax, "uniqueItems": true},
		"budget.alert_percent[]":          between(alertPercentMin, alertPercentMax),
		"budget.emails":                   {"maxItems": budgetEmailsMax},
		"budget.emails[]":                 {"format": "email", "maxLength": emailMax},
		"alarms.emails[]":                 {"format": "email", "maxLength": emailMax},
		"tags": {
			"maxProperties": MaxTags,
			"propertyNames": map[string]any{"minLength": 1, "maxLength": tagKeyMax, "not": map[string]any{"pattern": "^([aA][wW][sS]|[lL][oO][wW][fF][aA][rR][eE]):"}},
			// Numbers and booleans are taken as written, as in any map.
			"additionalProperties": map[string]any{"type": []string{"string", "number", "boolean"}, "minLength": 1, "maxLength": tagValueMax},
		},
		"database.engine":             {"enum": []string{EnginePostgres}, "default": EnginePostgres},
		"database.pause_after":        {"pattern": `^\s*([0-9]+h)?([0-9]+m)?([0-9]+s)?\s*$`, "default": DurationText(PauseDefault)},
		"database.max_acu":            {"minimum": maxACUMin, "maximum": maxACUMax, "multipleOf": acuStep, "default": MaxACUDefault},
		"workload.requests_per_month": {"minimum": 0},
		"workload.response_kb":        {"minimum": 0},
	}
}

// fargateMemoryMax is the most memory a Fargate task can have, the top of
// FargateMemory's table.
func fargateMemoryMax() int {
	sizes := FargateMemory(fargateCPU[len(fargateCPU)-1])
	return sizes[len(sizes)-1]
}

// JSONSchema returns the JSON Schema (draft 2020-12) of lowfare.yaml,
// reflected from the Spec types: yaml tags name the properties, doc tags
// describe them, Default() gives the defaults.
func JSONSchema() ([]byte, error) {
	g := &schemaGen{rules: schemaRules(), used: map[string]bool{}}
	root := g.schemaOf(reflect.TypeFor[Spec](), reflect.ValueOf(Default()).Elem(), "")
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = "https://github.com/lowfare/lowfare/" + SchemaPath
	root["title"] = "lowfare.yaml"
	root["description"] = "One app in one environment of one AWS region. Every field is optional and defaults to the seed design; an empty file is an error. Generated from internal/spec by `go generate ./internal/spec`."
	root["minProperties"] = 1
	// A renamed field must not silently drop its constraints.
	for path := range g.rules {
		if !g.used[path] {
			return nil, fmt.Errorf("schema rule for %q matches no field", path)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// schemaGen walks the Spec types once.
type schemaGen struct {
	rules map[string]map[string]any
	used  map[string]bool // rule paths that matched a field
}

func (g *schemaGen) schemaOf(t reflect.Type, def reflect.Value, path string) map[string]any {
	s := map[string]any{}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
		if def.IsValid() && !def.IsNil() {
			def = def.Elem()
		} else {
			def = reflect.Value{}
		}
	}
	switch t.Kind() {
	case reflect.Struct:
		s["type"] = "object"
		s["additionalProperties"] = false
		props := map[string]any{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			fpath := join(path, name)
			var fdef reflect.Value
			if def.IsValid() {
				fdef = def.Field(i)
			}
			p := g.schemaOf(f.Type, fdef, fpath)
			if doc := f.Tag.Get("doc"); doc != "" {
				p["description"] = doc
			} else if doc := schemaDocs[fpath]; doc != "" {
				p["description"] = doc
			}
			props[name] = p
		}
		s["properties"] = props
	case reflect.Map:
		s["type"] = "object"
		// Numbers and booleans are taken as written (PORT: 8080).
		s["additionalProperties"] = map[string]any{"type": []string{"string", "number", "boolean"}}
	case reflect.Slice:
		s["type"] = "array"
		items := g.schemaOf(t.Elem(), reflect.Value{}, path+"[]")
		s["items"] = items
	case reflect.String:
		s["type"] = "string"
	case reflect.Int, reflect.Int64:
		s["type"] = "integer"
	case reflect.Float64:
		s["type"] = "number"
	case reflect.Bool:
		s["type"] = "boolean"
	}
	if def.IsValid() && t.Kind() != reflect.Struct {
		s["default"] = def.Interface()
	}
	for k, v := range g.rules[path] {
		s[k] = v
		g.used[path] = true
	}
	return s
}
