package ci

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/cfn/cfnschema"
	"github.com/lowfare/lowfare/internal/testutil"
)

// TestHandlerPermissions derives handlers.json from the registry schemas
// of every type lowfare's templates use (see handlersJSON): a type
// added to a template, or a schema that changed its handlers, changes the
// file, and the difference fails here until it is regenerated and read.
func TestHandlerPermissions(t *testing.T) {
	dir, err := cfnschema.RainSchemaDir(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, typ := range allTypes(t) {
		if _, ok := schemaless[typ]; ok {
			continue
		}
		rel, err := cfnschema.Path(typ)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		var schema struct {
			Handlers map[string]struct{ Permissions []string }
		}
		if err := json.Unmarshal(b, &schema); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		set := map[string]bool{}
		for _, op := range handlerOps {
			for _, p := range schema.Handlers[op].Permissions {
				if !notIAMActions[strings.ToLower(p)] {
					set[p] = true
				}
			}
		}
		if len(set) == 0 {
			t.Errorf("%s: its registry schema lists no handler permissions: add it to schemaless with the service's IAM reference", typ)
			continue
		}
		out[typ] = slices.Sorted(maps.Keys(set))
	}
	got, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, "handlers.json", append(got, '\n'), *update)
}

// notIAMActions are permissions some registry schemas list that IAM does
// not know (cfn-lint's W3037, from IAM's own action list, reports them):
// a policy naming them grants nothing, and they would fail the cfn-lint
// test of the CI stack. AWS::Lambda::Function lists the S3 ones for code in
// a bucket (lowfare's functions run images); API Gateway tags through its
// HTTP verbs. IAM action names are case-insensitive: the keys are lower
// case.
var notIAMActions = map[string]bool{
	"s3:rest.put.object":       true,
	"s3:getobjectmetadata":     true,
	"apigateway:tagresource":   true,
	"apigateway:untagresource": true,
}

// TestEveryTemplateTypeHasPermissions: the service role can be built for
// every shape of spec.
func TestEveryTemplateTypeHasPermissions(t *testing.T) {
	if _, err := TypeActions(allTypes(t)); err != nil {
		t.Fatal(err)
	}
	for typ := range schemaless {
		if !slices.Contains(allTypes(t), typ) {
			t.Errorf("schemaless lists %s, which no template uses any more: remove it", typ)
		}
	}
}
