package price

import (
	"strings"
	"testing"
)

// The built-in table prices the database in every region, with a source;
// a table written before the database prices still loads (they are
// optional), and one with a bad database price is refused by name.
func TestDatabasePrices(t *testing.T) {
	table, err := BuiltinTable()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range table.RegionNames() {
		rp := table.Regions[r]
		if miss := rp.MissingDatabasePrices(r); len(miss) > 0 {
			t.Errorf("%s lacks %v", r, miss)
		}
		for _, f := range rp.databaseFields() {
			if !strings.HasPrefix(f.price.Source, "https://aws.amazon.com/rds/aurora/pricing/") || f.price.USD <= 0 {
				t.Errorf("%s %s: %+v", r, f.key, *f.price)
			}
		}
		if !strings.Contains(strings.Join(rp.DatesWithDatabase(), ","), rp.AuroraACUHour.Date) {
			t.Errorf("%s: DatesWithDatabase %v lacks %s", r, rp.DatesWithDatabase(), rp.AuroraACUHour.Date)
		}
	}
	if got := table.Regions["us-east-1"].AuroraACUHour.USD; got != 0.12 {
		t.Errorf("us-east-1 ACU-hour %v, want 0.12", got)
	}

	data := string(BuiltinJSON())
	// Drop the database prices of every region: an older --prices file.
	var kept []string
	skip := 0
	for _, line := range strings.Split(data, "\n") {
		if strings.Contains(line, `"aurora_`) {
			skip = 5 // the key, usd, date, source, closing brace
		}
		if skip > 0 {
			skip--
			continue
		}
		kept = append(kept, line)
	}
	older := strings.ReplaceAll(strings.Join(kept, "\n"), "},\n    }", "}\n    }")
	tbl, err := ParseTable("older.json", []byte(older))
	if err != nil {
		t.Fatalf("a table without database prices: %v", err)
	}
	if miss := tbl.Regions["us-east-1"].MissingDatabasePrices("us-east-1"); len(miss) != 4 || miss[0] != "regions.us-east-1.aurora_serverless_v2_acu_hour" {
		t.Errorf("MissingDatabasePrices = %v", miss)
	}
	bad := strings.Replace(data, `"usd": 0.12,`, `"usd": -0.12,`, 1)
	if _, err := ParseTable("bad.json", []byte(bad)); err == nil || !strings.Contains(err.Error(), "aurora_serverless_v2_acu_hour: usd -0.12 is not a price") {
		t.Errorf("a negative ACU price: %v", err)
	}
}
