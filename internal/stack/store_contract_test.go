package stack

import (
	"fmt"
	"testing"

	"github.com/lowfare/lowfare/internal/links/store"
	"github.com/lowfare/lowfare/internal/spec"
)

// The template's table has exactly the key schema the links store creates
// for `lowfare dev` (store.TableInput), so code tested locally meets the
// same table in AWS.
func TestTableMatchesTheStoreKeySchema(t *testing.T) {
	in := store.TableInput("x")
	var want []string
	for _, a := range in.AttributeDefinitions {
		want = append(want, fmt.Sprintf("attr %s %s", *a.AttributeName, a.AttributeType))
	}
	for _, k := range in.KeySchema {
		want = append(want, fmt.Sprintf("key %s %s", *k.AttributeName, k.KeyType))
	}
	for _, g := range in.GlobalSecondaryIndexes {
		for _, k := range g.KeySchema {
			want = append(want, fmt.Sprintf("index %s key %s %s", *g.IndexName, *k.AttributeName, k.KeyType))
		}
		want = append(want, fmt.Sprintf("index %s projection %s", *g.IndexName, g.Projection.ProjectionType))
	}

	p := resourcesOfType(generic(t, build(t, spec.Default()).Main), "AWS::DynamoDB::Table")["Table"]
	var got []string
	for _, a := range p["AttributeDefinitions"].([]any) {
		m := a.(map[string]any)
		got = append(got, fmt.Sprintf("attr %s %s", m["AttributeName"], m["AttributeType"]))
	}
	for _, k := range p["KeySchema"].([]any) {
		m := k.(map[string]any)
		got = append(got, fmt.Sprintf("key %s %s", m["AttributeName"], m["KeyType"]))
	}
	for _, g := range p["GlobalSecondaryIndexes"].([]any) {
		gm := g.(map[string]any)
		for _, k := range gm["KeySchema"].([]any) {
			m := k.(map[string]any)
			got = append(got, fmt.Sprintf("index %s key %s %s", gm["IndexName"], m["AttributeName"], m["KeyType"]))
		}
		got = append(got, fmt.Sprintf("index %s projection %s", gm["IndexName"], gm["Projection"].(map[string]any)["ProjectionType"]))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("template table:\n  %v\nstore.TableInput:\n  %v", got, want)
	}
}
