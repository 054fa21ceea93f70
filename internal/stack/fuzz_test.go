package stack

import (
	"encoding/json"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/lowfare/lowfare/internal/spec"
)

// FuzzBuild varies the numbers and free-text values of a spec. Build must
// never panic; when the rules accept the spec, both templates must be valid
// against the registry schemas and their YAML must read back as their JSON.
func FuzzBuild(f *testing.F) {
	f.Add(uint8(0), 256, 512, 8080, 5, 5, 7, 15, 5, "info", "demo", false)
	f.Add(uint8(1), 512, 1024, 80, 30, 30, 30, 30, 10, "a: b\n- c", "ünïcødé: \"x\"", true)
	f.Add(uint8(2), 1024, 3072, 65535, 1, 1, 1, 5, 2, "'quoted'", "yes", false)
	f.Add(uint8(3), 256, 1024, 443, 100, 1, 3653, 300, 60, "${AWS::Region}", "0x10", true)
	f.Fuzz(func(t *testing.T, shape uint8, cpu, mem, port, read, write, retention, interval, timeout int, envValue, tagValue string, spot bool) {
		s := spec.Default()
		switch shape % 5 {
		case 1:
			s.Ingress.Kind = spec.IngressAPIGW
		case 2:
			s.Profile, s.Ingress.Kind = spec.ProfileServerless, spec.IngressURL
		case 3:
			s.Profile = spec.ProfileHA
		case 4:
			s.Profile, s.Ingress.Kind = spec.ProfileServerless, spec.IngressAPIGW
		}
		if shape&0x10 != 0 {
			s.Service.Arch = spec.ArchX8664
		}
		s.Service.CPU, s.Service.Memory, s.Service.Port, s.Service.Spot = cpu, mem, port, spot
		s.Table.Read, s.Table.Write = read, write
		s.Logs.RetentionDays = retention
		s.Service.Health.Interval, s.Service.Health.Timeout = interval, timeout
		s.Service.Env["LOG_LEVEL"] = envValue
		s.Tags["cost-center"] = tagValue
		r, err := Build(s)
		if err != nil {
			if _, ok := err.(*RulesError); !ok {
				t.Fatalf("error %T: %v", err, err)
			}
			return
		}
		validate(t, "main", r.Main)
		if r.Bootstrap != nil {
			validate(t, "bootstrap", r.Bootstrap)
		}
		j, err := r.Main.JSON()
		if err != nil {
			t.Fatal(err)
		}
		y, err := r.Main.YAML()
		if err != nil {
			t.Fatal(err)
		}
		var fromJSON, fromYAML any
		if err := json.Unmarshal(j, &fromJSON); err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(y, &fromYAML); err != nil {
			t.Fatalf("YAML does not parse: %v", err)
		}
		a, _ := json.Marshal(fromJSON)
		yj, _ := json.Marshal(fromYAML)
		var back any
		_ = json.Unmarshal(yj, &back)
		b, _ := json.Marshal(back)
		if string(a) != string(b) {
			t.Fatalf("YAML and JSON differ for env %q tag %q", envValue, tagValue)
		}
	})
}
