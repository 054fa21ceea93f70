package price

import (
	"strings"
	"testing"
)

// Two figures once wrong in the table, and sources that say
// where each price comes from and how sure it is.
func TestPriceSources(t *testing.T) {
	table, err := BuiltinTable()
	if err != nil {
		t.Fatal(err)
	}
	if got := table.Regions["eu-central-1"].DynamoDBPITRGBMonth.USD; got != 0.2448 {
		t.Errorf("eu-central-1 dynamodb_pitr_gb_month = %v, want 0.2448", got)
	}
	if got := table.Regions["eu-west-1"].DynamoDBMillionWrites.USD; got != 0.705 {
		t.Errorf("eu-west-1 dynamodb_million_writes = %v, want 0.705", got)
	}
	for _, r := range table.RegionNames() {
		rp := table.Regions[r]
		for _, f := range rp.fields() {
			src := f.price.Source
			if !strings.HasPrefix(src, "https://") && !strings.HasPrefix(src, "estimate:") {
				t.Errorf("%s %s: source %q names no page and is not marked an estimate", r, f.key, src)
			}
			// A price is either said to be checked or said not to be;
			// both at once is the drift the issue found.
			if strings.Contains(src, "checked 2026") && strings.Contains(src, "not re-checked") {
				t.Errorf("%s %s: source says both checked and not re-checked: %q", r, f.key, src)
			}
		}
	}
}
