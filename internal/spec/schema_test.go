package spec

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var schemaFile = filepath.Join("..", "..", SchemaPath)

// TestSchemaUpToDate fails when docs/lowfare.schema.json differs from what
// the Go types generate; go generate ./internal/spec (or -update) refreshes it.
func TestSchemaUpToDate(t *testing.T) {
	got, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(schemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatalf("%v (run go generate ./internal/spec)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date with the Go types; run go generate ./internal/spec and commit it", SchemaPath)
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("lowfare.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("lowfare.schema.json")
	if err != nil {
		t.Fatalf("schema does not compile: %v", err)
	}
	return sch
}

// yamlToJSONValue turns YAML text into the value the schema validator
// expects (JSON numbers), as an editor's YAML language server would.
func yamlToJSONValue(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestExamplesValidateAgainstSchema(t *testing.T) {
	sch := compileSchema(t)
	for _, f := range exampleFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(yamlToJSONValue(t, data)); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
}

// TestSchemaRejects shows the schema is not vacuous: files the loader
// refuses for type, enum or range reasons fail it too.
func TestSchemaRejects(t *testing.T) {
	sch := compileSchema(t)
	for _, src := range []string{
		"app: links\nservce: {}\n",
		"app: Links\n",
		"app: links\nservice: {cpu: 300}\n",
		"app: links\nservice: {port: \"8080\"}\n",
		"app: links\nprofile: prod\n",
		"app: links\nlogs: {retention_days: 10}\n",
		"app: links\ningress: {kind: nlb}\n",
		"app: links\nbudget: {emails: [not-an-email]}\n",
		"app: links\ntags: {\"aws:x\": y}\n",
		"app: links\nservice: {schedule: {timezone: UTC}}\n",
		"{}\n",
	} {
		if err := sch.Validate(yamlToJSONValue(t, []byte(src))); err == nil {
			t.Errorf("schema accepts %q", strings.TrimSpace(src))
		}
	}
}
