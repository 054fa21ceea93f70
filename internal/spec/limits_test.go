package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// limitCase writes a lowfare.yaml that puts n at one limited field, valid
// in every other respect, and names the field a refusal must point at.
type limitCase struct {
	file  func(n float64) string
	field func(n float64) string
}

func at(path string) func(float64) string { return func(float64) string { return path } }

func num(n float64) string { return strconv.FormatFloat(n, 'f', -1, 64) }

// service writes "service: {...}" under app (and profile when given).
func service(profile, fields string) string {
	head := "app: links\n"
	if profile != "" {
		head += "profile: " + profile + "\n"
	}
	return head + "service: {" + fields + "}\n"
}

// list writes n YAML items, item(i) each.
func list(n float64, item func(i int) string) string {
	items := make([]string, int(n))
	for i := range items {
		items[i] = item(i)
	}
	return "[" + strings.Join(items, ", ") + "]"
}

// limitCases covers every numeric, length and count limit of the JSON
// Schema, keyed "path keyword" as schemaLimits lists them.
var limitCases = map[string]limitCase{
	"(root) minProperties": {func(n float64) string {
		if n == 0 {
			return "{}\n"
		}
		return "app: links\n"
	}, at("")},
	"budget.alert_percent minItems": {func(n float64) string {
		return "app: links\nbudget: {alert_percent: " + list(n, func(i int) string { return strconv.Itoa(10 * (i + 1)) }) + "}\n"
	}, at("budget.alert_percent")},
	"budget.alert_percent maxItems": {func(n float64) string {
		return "app: links\nbudget: {alert_percent: " + list(n, func(i int) string { return strconv.Itoa(10 * (i + 1)) }) + "}\n"
	}, at("budget.alert_percent")},
	"budget.alert_percent[] minimum": {func(n float64) string { return "app: links\nbudget: {alert_percent: [" + num(n) + "]}\n" }, at("budget.alert_percent[0]")},
	"budget.alert_percent[] maximum": {func(n float64) string { return "app: links\nbudget: {alert_percent: [" + num(n) + "]}\n" }, at("budget.alert_percent[0]")},
	"budget.emails maxItems": {func(n float64) string {
		return "app: links\nbudget: {emails: " + list(n, func(i int) string { return fmt.Sprintf("ops%d@example.com", i) }) + "}\n"
	}, at("budget.emails")},
	"budget.emails[] maxLength": {func(n float64) string {
		return "app: links\nbudget: {emails: [" + emailOf(int(n)) + "]}\n"
	}, at("budget.emails[0]")},
	"alarms.emails[] maxLength": {func(n float64) string {
		return "app: links\nalarms: {emails: [" + emailOf(int(n)) + "]}\n"
	}, at("alarms.emails[0]")},
	"budget.monthly_usd exclusiveMinimum": {func(n float64) string { return "app: links\nbudget: {monthly_usd: " + num(n) + "}\n" }, at("budget.monthly_usd")},
	"budget.monthly_usd maximum":          {func(n float64) string { return "app: links\nbudget: {monthly_usd: " + num(n) + "}\n" }, at("budget.monthly_usd")},
	"service.count.desired minimum":       {func(n float64) string { return service("", "count: {desired: "+num(n)+", min: 0, max: 2}") }, at("service.count.desired")},
	"service.count.min minimum":           {func(n float64) string { return service("", "count: {desired: 1, min: "+num(n)+", max: 2}") }, at("service.count.min")},
	"service.count.max minimum":           {func(n float64) string { return service("", "count: {desired: 0, min: 0, max: "+num(n)+"}") }, at("service.count.max")},
	"service.health.command minItems": {func(n float64) string {
		return service("", "health: {command: "+list(n, func(i int) string { return []string{"CMD", "/bin/probe", "/healthz"}[i] })+"}")
	}, at("service.health.command")},
	"service.health.path maxLength": {func(n float64) string {
		return service("", "health: {path: /"+strings.Repeat("é", int(n)-1)+"}")
	}, at("service.health.path")},
	"service.health.grace minimum":     {func(n float64) string { return service("", "health: {grace: "+num(n)+"}") }, at("service.health.grace")},
	"service.health.grace maximum":     {func(n float64) string { return service("", "health: {grace: "+num(n)+"}") }, at("service.health.grace")},
	"service.health.healthy minimum":   {func(n float64) string { return service("", "health: {healthy: "+num(n)+"}") }, at("service.health.healthy")},
	"service.health.healthy maximum":   {func(n float64) string { return service("", "health: {healthy: "+num(n)+"}") }, at("service.health.healthy")},
	"service.health.unhealthy minimum": {func(n float64) string { return service("", "health: {unhealthy: "+num(n)+"}") }, at("service.health.unhealthy")},
	"service.health.unhealthy maximum": {func(n float64) string { return service("", "health: {unhealthy: "+num(n)+"}") }, at("service.health.unhealthy")},
	// The timeout must stay below the interval: the shortest interval
	// meets the shortest timeout, the longest timeout the longest interval.
	"service.health.interval minimum": {func(n float64) string { return service("", "health: {interval: "+num(n)+", timeout: 2}") }, at("service.health.interval")},
	"service.health.interval maximum": {func(n float64) string { return service("", "health: {interval: "+num(n)+", timeout: 2}") }, at("service.health.interval")},
	"service.health.timeout minimum":  {func(n float64) string { return service("", "health: {interval: 300, timeout: "+num(n)+"}") }, at("service.health.timeout")},
	"service.health.timeout maximum":  {func(n float64) string { return service("", "health: {interval: 300, timeout: "+num(n)+"}") }, at("service.health.timeout")},
	"service.image minLength": {func(n float64) string {
		return service("", "image: "+strconv.Quote(strings.Repeat("x", int(n))))
	}, at("service.image")},
	// Memory's range is Lambda's smallest to Fargate's largest.
	"service.memory minimum":             {func(n float64) string { return service("serverless", "memory: "+num(n)) }, at("service.memory")},
	"service.memory maximum":             {func(n float64) string { return service("", "cpu: 16384, memory: "+num(n)) }, at("service.memory")},
	"service.port minimum":               {func(n float64) string { return service("", "port: "+num(n)) }, at("service.port")},
	"service.port maximum":               {func(n float64) string { return service("", "port: "+num(n)) }, at("service.port")},
	"service.scaling.cpu_target minimum": {func(n float64) string { return service("", "scaling: {cpu_target: "+num(n)+"}") }, at("service.scaling.cpu_target")},
	"service.scaling.cpu_target maximum": {func(n float64) string { return service("", "scaling: {cpu_target: "+num(n)+"}") }, at("service.scaling.cpu_target")},
	// The loader also parses the schedule's text, which the schema
	// cannot: inside the length limit is a valid value, not any one.
	"service.schedule.awake minLength": {func(n float64) string {
		awake := `""`
		if n > 0 {
			awake = `"Mon-Fri 08:00-20:00"`
		}
		return service("", "schedule: {timezone: UTC, awake: "+awake+"}")
	}, at("service.schedule.awake")},
	"service.schedule.timezone minLength": {func(n float64) string {
		tz := `""`
		if n > 0 {
			tz = "UTC"
		}
		return service("", `schedule: {timezone: `+tz+`, awake: "Mon-Fri 08:00-20:00"}`)
	}, at("service.schedule.timezone")},
	"service.secrets[] maxLength": {func(n float64) string {
		return service("", "secrets: ["+strings.Repeat("S", int(n))+"]")
	}, at("service.secrets[0]")},
	"service.timeout minimum":     {func(n float64) string { return service("serverless", "timeout: "+num(n)) }, at("service.timeout")},
	"service.timeout maximum":     {func(n float64) string { return service("serverless", "timeout: "+num(n)) }, at("service.timeout")},
	"service.concurrency minimum": {func(n float64) string { return service("serverless", "concurrency: "+num(n)) }, at("service.concurrency")},
	"ingress.domain maxLength": {func(n float64) string {
		return "app: links\ningress: {domain: " + domainOf(int(n)) + ", hosted_zone_id: Z0123456789ABCDEFGHIJ}\n"
	}, at("ingress.domain")},
	"table.read minimum":  {func(n float64) string { return "app: links\ntable: {read: " + num(n) + "}\n" }, at("table.read")},
	"table.read maximum":  {func(n float64) string { return "app: links\ntable: {read: " + num(n) + "}\n" }, at("table.read")},
	"table.write minimum": {func(n float64) string { return "app: links\ntable: {write: " + num(n) + "}\n" }, at("table.write")},
	"table.write maximum": {func(n float64) string { return "app: links\ntable: {write: " + num(n) + "}\n" }, at("table.write")},
	"tags maxProperties": {func(n float64) string {
		return "app: links\ntags: {" + strings.Trim(list(n, func(i int) string { return fmt.Sprintf("t%02d: x", i) }), "[]") + "}\n"
	}, at("tags")},
	// Tag lengths are characters, as AWS counts them: é and ü take two
	// bytes each.
	"tags.* minLength": {func(n float64) string {
		return "app: links\ntags: {team: " + strconv.Quote(strings.Repeat("é", int(n))) + "}\n"
	}, at("tags.team")},
	"tags.* maxLength": {func(n float64) string { return "app: links\ntags: {team: " + strings.Repeat("é", int(n)) + "}\n" }, at("tags.team")},
	"tags.<key> minLength": {func(n float64) string {
		return "app: links\ntags: {" + strconv.Quote(strings.Repeat("ü", int(n))) + ": x}\n"
	}, func(n float64) string { return "tags." + strings.Repeat("ü", int(n)) }},
	"tags.<key> maxLength": {func(n float64) string {
		return "app: links\ntags: {" + strings.Repeat("ü", int(n)) + ": x}\n"
	}, func(n float64) string { return "tags." + strings.Repeat("ü", int(n)) }},
	"database.max_acu minimum":            {func(n float64) string { return "app: links\ndatabase: {max_acu: " + num(n) + "}\n" }, at("database.max_acu")},
	"database.max_acu maximum":            {func(n float64) string { return "app: links\ndatabase: {max_acu: " + num(n) + "}\n" }, at("database.max_acu")},
	"workload.active_hours minimum":       {func(n float64) string { return "app: links\nworkload: {active_hours: " + num(n) + "}\n" }, at("workload.active_hours")},
	"workload.active_hours maximum":       {func(n float64) string { return "app: links\nworkload: {active_hours: " + num(n) + "}\n" }, at("workload.active_hours")},
	"workload.requests_per_month minimum": {func(n float64) string { return "app: links\nworkload: {requests_per_month: " + num(n) + "}\n" }, at("workload.requests_per_month")},
	"workload.response_kb minimum":        {func(n float64) string { return "app: links\nworkload: {response_kb: " + num(n) + "}\n" }, at("workload.response_kb")},
}

// emailOf is an address of n characters (a local part of at most 64, as
// RFC 5321 allows, and a long domain).
func emailOf(n int) string {
	return "ops@" + domainOf(n-len("ops@"))
}

// domainOf is a domain name of n characters, in labels of at most 63.
func domainOf(n int) string {
	var labels []string
	for rest := n - len(".com"); rest > 0; {
		l := min(rest, 63)
		if rest-l == 1 {
			l-- // leave no one-character gap the dot cannot fill
		}
		labels = append(labels, strings.Repeat("a", l))
		rest -= l + 1
	}
	return strings.Join(labels, ".") + ".com"
}

// limitKeywords are the JSON Schema keywords that bound a number, a
// length or a count.
var limitKeywords = []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"}

// schemaLimits walks the generated schema and returns every limit, keyed
// "path keyword" ("tags.<key>" for property names, "tags.*" for map
// values, "x[]" for list items).
func schemaLimits(t *testing.T) map[string]float64 {
	t.Helper()
	data, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	var walk func(n map[string]any, path string)
	walk = func(n map[string]any, path string) {
		name := path
		if name == "" {
			name = "(root)"
		}
		for _, k := range limitKeywords {
			if v, ok := n[k].(float64); ok {
				out[name+" "+k] = v
			}
		}
		if props, ok := n["properties"].(map[string]any); ok {
			for k, v := range props {
				walk(v.(map[string]any), join(path, k))
			}
		}
		if items, ok := n["items"].(map[string]any); ok {
			walk(items, path+"[]")
		}
		if values, ok := n["additionalProperties"].(map[string]any); ok {
			walk(values, path+".*")
		}
		if names, ok := n["propertyNames"].(map[string]any); ok {
			walk(names, path+".<key>")
		}
	}
	walk(root, "")
	return out
}

// inside and outside are the values just within and just beyond a limit.
func inside(keyword string, bound float64) float64 {
	switch {
	case keyword == "exclusiveMinimum":
		return bound + 0.01
	case keyword == "exclusiveMaximum":
		return bound - 0.01
	}
	return bound
}

func outside(keyword string, bound float64) float64 {
	switch {
	case strings.HasPrefix(keyword, "min"):
		return bound - 1
	case strings.HasPrefix(keyword, "max"):
		return bound + 1
	}
	return bound // exclusive: the bound itself is out
}

// TestSchemaLimits holds the JSON Schema and the loader to the same
// limits: for every limit the schema states, a file just inside it
// passes the schema and loads, and a file just outside fails the schema
// and is refused by the loader at that field. A limit without a case,
// or a case for a limit the schema does not state, fails too.
func TestSchemaLimits(t *testing.T) {
	limits := schemaLimits(t)
	sch := compileSchema(t)
	for _, key := range slices.Sorted(maps.Keys(limits)) {
		c, ok := limitCases[key]
		if !ok {
			t.Errorf("the schema limits %s to %v, and no case of limitCases checks the loader agrees", key, limits[key])
			continue
		}
		_, keyword, _ := strings.Cut(key, " ")
		t.Run(key, func(t *testing.T) {
			in, out := inside(keyword, limits[key]), outside(keyword, limits[key])
			good, bad := c.file(in), c.file(out)
			if err := sch.Validate(yamlToJSONValue(t, []byte(good))); err != nil {
				t.Errorf("the schema refuses %s = %v:\n%s%v", key, in, good, err)
			}
			if _, err := Parse("lowfare.yaml", []byte(good)); err != nil {
				t.Errorf("the loader refuses %s = %v:\n%s%v", key, in, good, err)
			}
			if err := sch.Validate(yamlToJSONValue(t, []byte(bad))); err == nil {
				t.Errorf("the schema accepts %s = %v:\n%s", key, out, bad)
			}
			_, err := Parse("lowfare.yaml", []byte(bad))
			var probs *Problems
			field := c.field(out)
			if !errors.As(err, &probs) || !slices.ContainsFunc(probs.List, func(p Problem) bool { return p.Path == field }) {
				t.Errorf("the loader does not refuse %s = %v at %q:\n%s%v", key, out, field, bad, err)
			}
		})
	}
	for key := range limitCases {
		if _, ok := limits[key]; !ok {
			t.Errorf("limitCases checks %s, which the schema does not state", key)
		}
	}
}
