package price

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuiltinTable(t *testing.T) {
	table, err := BuiltinTable()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"eu-central-1", "eu-west-1", "us-east-1", "us-west-2"}
	if got := strings.Join(table.RegionNames(), ","); got != strings.Join(want, ",") {
		t.Errorf("regions %s, want %s", got, strings.Join(want, ","))
	}
	// The us-east-1 figures of the design notes (checked 2026-11).
	p, _ := table.Region("us-east-1")
	for _, c := range []struct {
		key  string
		got  float64
		want float64
	}{
		{"fargate_vcpu_hour_x86", p.FargateVCPUHourX86.USD, 0.04048},
		{"fargate_gb_hour_x86", p.FargateGBHourX86.USD, 0.004445},
		{"fargate_vcpu_hour_arm64", p.FargateVCPUHourARM64.USD, 0.03238},
		{"fargate_gb_hour_arm64", p.FargateGBHourARM64.USD, 0.00356},
		{"alb_hour", p.ALBHour.USD, 0.0225},
		{"alb_lcu_hour", p.ALBLCUHour.USD, 0.008},
		{"public_ipv4_hour", p.PublicIPv4Hour.USD, 0.005},
		{"dynamodb_million_writes", p.DynamoDBMillionWrites.USD, 0.625},
		{"dynamodb_million_reads", p.DynamoDBMillionReads.USD, 0.125},
		{"dynamodb_pitr_gb_month", p.DynamoDBPITRGBMonth.USD, 0.20},
		{"logs_ingest_gb", p.LogsIngestGB.USD, 0.50},
		{"logs_storage_gb_month", p.LogsStorageGBMonth.USD, 0.03},
		{"alarm_month", p.AlarmMonth.USD, 0.10},
		{"ecr_storage_gb_month", p.ECRStorageGBMonth.USD, 0.10},
		{"transfer_out_gb", p.TransferOutGB.USD, 0.09},
		{"nat_gateway_hour", p.NATGatewayHour.USD, 0.045},
		{"http_api_million_requests", p.HTTPAPIMillionRequests.USD, 1.00},
		{"cloud_map_instance_month", p.CloudMapInstanceMonth.USD, 0.10},
		{"cloud_map_million_discovery_calls", p.CloudMapMillionDiscoveryCalls.USD, 1.00},
		{"route53_hosted_zone_month", p.Route53HostedZoneMonth.USD, 0.50},
	} {
		if c.got != c.want {
			t.Errorf("us-east-1 %s = %v, want %v", c.key, c.got, c.want)
		}
	}
	// Every price of every region says when and where it was read.
	for _, r := range table.RegionNames() {
		rp := table.Regions[r]
		for _, f := range rp.fields() {
			if f.price.Date == "" || f.price.Source == "" {
				t.Errorf("%s %s has no date or source", r, f.key)
			}
		}
	}
}

func TestParseTableErrors(t *testing.T) {
	valid := func(edit func(map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(builtinPrices, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		b, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	region := func(m map[string]any) map[string]any {
		return m["regions"].(map[string]any)["us-east-1"].(map[string]any)
	}
	cases := []struct {
		name, data string
		want       []string
	}{
		{"empty", "", []string{"empty file"}},
		{"not json", "regions: {}\n", []string{"line 1, column 1"}},
		{"truncated", "{\n  \"regions\": {\n    \"us-east-1\": {", []string{"p.json"}},
		{"syntax line", "{\n  \"regions\": {\n    \"us-east-1\": {,}", []string{"line 3"}},
		{"no regions", `{"regions": {}}`, []string{"no regions"}},
		{"wrong type", `{"regions": {"us-east-1": {"alb_hour": {"usd": "cheap"}}}}`, []string{"line 1", "float64", "string"}},
		{"unknown key", valid(func(m map[string]any) { region(m)["alb_hours"] = region(m)["alb_hour"] }), []string{`"alb_hours"`}},
		{"missing price", valid(func(m map[string]any) { delete(region(m), "nat_gateway_hour") }), []string{"regions.us-east-1.nat_gateway_hour: missing"}},
		{"negative price", valid(func(m map[string]any) {
			region(m)["alb_hour"] = map[string]any{"usd": -1, "date": "2026-11", "source": "x"}
		}), []string{"regions.us-east-1.alb_hour: usd -1"}},
		{"no date", valid(func(m map[string]any) {
			region(m)["alb_hour"] = map[string]any{"usd": 1, "source": "x"}
		}), []string{"alb_hour: date is empty"}},
		{"no source", valid(func(m map[string]any) {
			region(m)["alb_hour"] = map[string]any{"usd": 1, "date": "2026-11"}
		}), []string{"alb_hour: source is empty"}},
		{"trailing data", `{"regions": {}} {}`, []string{"after the price table"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseTable("p.json", []byte(c.data))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "p.json") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestLoadTableRoundTrip(t *testing.T) {
	// A user's table in the built-in format, with one region changed.
	var m map[string]any
	if err := json.Unmarshal(builtinPrices, &m); err != nil {
		t.Fatal(err)
	}
	regions := m["regions"].(map[string]any)
	regions["ap-south-1"] = regions["us-east-1"]
	b, _ := json.Marshal(m)
	path := filepath.Join(t.TempDir(), "prices.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	table, err := LoadTable(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := table.Region("ap-south-1"); err != nil {
		t.Error(err)
	}
	if _, err := LoadTable(filepath.Join(t.TempDir(), "none.json")); err == nil {
		t.Error("a missing file loads")
	}
}

func FuzzParseTable(f *testing.F) {
	f.Add(builtinPrices)
	f.Add([]byte(`{"regions": {"us-east-1": {}}}`))
	f.Add([]byte(`{"regions": {"x": {"alb_hour": {"usd": 1e308, "date": "d", "source": "s"}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		table, err := ParseTable("fuzz.json", data)
		if err != nil {
			return
		}
		// A table that parses prices every region without error.
		for _, r := range table.RegionNames() {
			if _, err := table.Region(r); err != nil {
				t.Fatal(err)
			}
		}
	})
}
