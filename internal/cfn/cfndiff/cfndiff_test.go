package cfndiff

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/cfn/cfnschema"
)

var update = flag.Bool("update", false, "rewrite createonly.go from the registry schemas")

// TestCreateOnlyMatchesTheRegistrySchemas checks the create-only table
// against the CloudFormation registry schemas shipped in rain; -update
// rewrites createonly.go from them.
func TestCreateOnlyMatchesTheRegistrySchemas(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the rain module (go mod download)")
	}
	dir, err := cfnschema.RainSchemaDir(context.Background())
	if err != nil {
		t.Skipf("registry schemas not available: %v", err)
	}
	types := make([]string, 0, len(createOnly))
	for typ := range createOnly {
		types = append(types, typ)
	}
	slices.Sort(types)
	var b strings.Builder
	b.WriteString(`// Code generated from the CloudFormation registry schemas in rain (see
// TestCreateOnlyMatchesTheRegistrySchemas); DO NOT EDIT by hand: run
// go test ./internal/cfn/cfndiff -run CreateOnly -update.

package cfndiff

// createOnly lists, per resource type lowfare emits, the registry schema's
// createOnlyProperties (JSON pointers): changing one replaces the resource.
var createOnly = map[string][]string{
`)
	for _, typ := range types {
		rel, err := cfnschema.Path(typ)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		var schema struct {
			CreateOnly []string `json:"createOnlyProperties"`
		}
		if err := json.Unmarshal(data, &schema); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if !*update && !slices.Equal(schema.CreateOnly, createOnly[typ]) {
			t.Errorf("%s: createOnly says %v, the registry schema %v (go test -update rewrites it)", typ, createOnly[typ], schema.CreateOnly)
		}
		quoted := make([]string, len(schema.CreateOnly))
		for i, p := range schema.CreateOnly {
			quoted[i] = fmt.Sprintf("%q", p)
		}
		fmt.Fprintf(&b, "\t%q: {%s},\n", typ, strings.Join(quoted, ", "))
	}
	b.WriteString("}\n")
	if *update {
		if err := os.WriteFile("createonly.go", []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func tmpl(resources string) map[string]any {
	doc, err := Parse([]byte(`{"Resources": ` + resources + `}`))
	if err != nil {
		panic(err)
	}
	return doc
}

func TestTemplates(t *testing.T) {
	old := tmpl(`{
		"TG": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {"Port": 8080, "HealthCheckPath": "/healthz"}},
		"Gone": {"Type": "AWS::SNS::Topic"},
		"Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"Ref": "A"}]}},
		"Odd": {"Type": "AWS::Some::Thing", "Properties": {"X": 1}},
		"Repo": {"Type": "AWS::ECR::Repository", "Properties": {"Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}}
	}`)
	new := tmpl(`{
		"TG": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {"Port": "9090", "HealthCheckPath": "/healthz"}},
		"New": {"Type": "AWS::SNS::Topic"},
		"Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"Fn::GetAtt": ["A", "Arn"]}]}},
		"Odd": {"Type": "AWS::Some::Thing", "Properties": {"X": 2}},
		"Repo": {"Type": "AWS::ECR::Repository", "Properties": {"Tags": [{"Key": "b", "Value": "2"}, {"Key": "c", "Value": "3"}]}}
	}`)
	r := Templates(old, new)
	got := map[string]Resource{}
	for _, res := range r.Resources {
		got[res.LogicalID] = res
	}
	if c := r.Counts(); c != (Counts{Add: 1, Remove: 1, Replace: 1, InPlace: 3}) {
		t.Errorf("counts %+v", c)
	}
	if tg := got["TG"]; tg.Kind != Replace || tg.Reason != "Port is create-only" || len(tg.Changes) != 1 || !tg.Changes[0].CreateOnly {
		t.Errorf("target group: %+v", tg)
	}
	if role := got["Role"]; role.Kind != InPlace || len(role.Changes) != 1 || role.Changes[0].Path != "Properties.Policies[0]" {
		t.Errorf("an intrinsic is compared whole: %+v", role)
	}
	if odd := got["Odd"]; odd.Kind != InPlace || !strings.Contains(odd.Reason, "unknown") {
		t.Errorf("unknown type: %+v", odd)
	}
	if repo := got["Repo"]; len(repo.Changes) != 2 || repo.Changes[0].Path != "Properties.Tags[a]" || repo.Changes[1].Path != "Properties.Tags[c]" {
		t.Errorf("tags matched by key: %+v", repo.Changes)
	}
	if got["New"].Kind != Add || got["Gone"].Kind != Remove {
		t.Errorf("add/remove: %+v", r.Resources)
	}
	if !Templates(old, old).Equal() {
		t.Error("a template differs from itself")
	}
	// A stack that does not exist: everything is added.
	if c := Templates(nil, new).Counts(); c.Add != 5 {
		t.Errorf("against nothing: %+v", c)
	}
}

func TestParse(t *testing.T) {
	for _, bad := range []string{"", "{", "[1]", `{"a": 1}`, "a: [", "Resources: 3"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	y, err := Parse([]byte("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties: {Port: 80}\n"))
	if err != nil {
		t.Fatal(err)
	}
	j, _ := Parse([]byte(`{"Resources": {"T": {"Type": "AWS::SNS::Topic", "Properties": {"Port": 80}}}}`))
	if !Templates(y, j).Equal() {
		t.Error("the same template in YAML and JSON differs")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}`))
	f.Add([]byte("Resources:\n  T: {Type: AWS::SNS::Topic}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data)
		if err != nil {
			return
		}
		if !Templates(doc, doc).Equal() {
			t.Errorf("a parsed template differs from itself")
		}
	})
}
