package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/price"
)

// costJSON runs cost --format json and returns its total, free tier and
// where the tier came from, and the first note.
func costJSON(t *testing.T, args ...string) (total float64, tier, source, note string) {
	t.Helper()
	code, out, errOut := runCmd(t, append([]string{"cost", "--format", "json", "-f", specFile(t, seedSpec)}, args...)...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		TotalUSD float64  `json:"total_usd"`
		FreeTier string   `json:"free_tier"`
		Source   string   `json:"free_tier_source"`
		Notes    []string `json:"notes"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	return got.TotalUSD, got.FreeTier, got.Source, got.Notes[0]
}

// With credentials, cost prices the tier the account has; a free-plan
// account and a legacy one get different totals, each saying which tier
// and that the account said so. Denied, cost assumes none, says how to let
// it ask, and exits 0.
func TestCostAsksTheAccountsFreeTier(t *testing.T) {
	fake := awsfake.NewFreeTier()
	awsfake.UseEndpoints(t, map[string]string{"FREETIER": awsfake.Serve(t, fake)})

	credits := 87.5
	fake.SetPlan(&awsfake.FreeTierPlan{AccountID: "123456789012", Type: "FREE", Status: "ACTIVE", CreditsUSD: &credits, ExpiresEpoch: 1798761600})
	freeTotal, tier, source, note := costJSON(t)
	if tier != "credits" || source != "account" || !strings.Contains(note, "FREE plan, ACTIVE, $87.50 of credits left, until 2027-01-01") {
		t.Errorf("free plan: tier %s from %s, note %q", tier, source, note)
	}

	fake.SetPlan(&awsfake.FreeTierPlan{AccountID: "123456789012", Type: "PAID", Status: "ACTIVE"})
	fake.SetUsage(awsfake.FreeTierUsage{Service: "Elastic Load Balancing", UsageType: "USE1-LoadBalancerUsage", Limit: 750, Unit: "Hrs", FreeTierType: "12 Months Free"})
	legacyTotal, tier, source, note := costJSON(t)
	if tier != "legacy" || source != "account" || !strings.Contains(note, "legacy 12-month free tier") {
		t.Errorf("legacy: tier %s from %s, note %q", tier, source, note)
	}
	if legacyTotal >= freeTotal {
		t.Errorf("legacy total $%.2f not below the free plan's $%.2f", legacyTotal, freeTotal)
	}

	// A paid account without 12-month offers has no free tier.
	fake.SetUsage(awsfake.FreeTierUsage{Service: "AWS Lambda", UsageType: "Global-Request", Limit: 1e6, Unit: "Requests", FreeTierType: "Always Free"})
	if _, tier, source, _ := costJSON(t); tier != "none" || source != "account" {
		t.Errorf("paid: tier %s from %s", tier, source)
	}

	// --free-tier skips the call.
	before := fake.CallCount("GetAccountPlanState")
	if _, tier, source, _ := costJSON(t, "--free-tier", "legacy"); tier != "legacy" || source != "assumed" || fake.CallCount("GetAccountPlanState") != before {
		t.Errorf("--free-tier legacy: tier %s from %s, %d calls", tier, source, fake.CallCount("GetAccountPlanState")-before)
	}

	fake.Deny(true)
	total, tier, source, note := costJSON(t)
	if tier != "none" || source != "assumed" || !strings.Contains(note, "AccessDeniedException") || !strings.Contains(note, "freetier:GetAccountPlanState") || strings.Contains(note, "\n") {
		t.Errorf("denied: tier %s from %s, note %q", tier, source, note)
	}
	if total != freeTotal {
		t.Errorf("denied prices as none: $%.2f, want $%.2f (credits price as none)", total, freeTotal)
	}
	code, out, errOut := runCmd(t, "plan", "-f", specFile(t, seedSpec))
	if code != ExitOK || !strings.Contains(out, "free tier none (assumed)") || !strings.Contains(out, "AccessDeniedException") {
		t.Errorf("plan, denied: exit %d\n%s\n%s", code, out, errOut)
	}
}

// Without credentials nothing is asked and the note says how to let it ask.
func TestCostWithoutCredentialsAssumes(t *testing.T) {
	fake := awsfake.NewFreeTier()
	awsfake.UseEndpoints(t, map[string]string{"FREETIER": awsfake.Serve(t, fake)})
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	_, tier, source, note := costJSON(t)
	if tier != "none" || source != "assumed" || !strings.Contains(note, "no AWS credentials") || len(fake.Calls()) != 0 {
		t.Errorf("no credentials: tier %s from %s, note %q, calls %v", tier, source, note, fake.Calls())
	}
}

// cost --region for a region the built-in table lacks: with credentials
// the prices come from the Price List Query API (the double), the report
// says which came from where, they are cached, and a second run makes no
// call.
func TestCostFetchesARegionsPrices(t *testing.T) {
	fake := awsfake.NewPricing()
	for key, q := range price.Queries() {
		if strings.HasPrefix(key, "cloud_map") {
			continue // the API "has none": those fall back
		}
		region := "ap-southeast-2"
		if q.Global {
			region = ""
		}
		usd := "0.01"
		if key == "fargate_vcpu_hour_arm64" {
			usd = "0.03952"
		}
		fake.AddProduct(q.ServiceCode, region, "APS2-"+q.UsageType, awsfake.PricingTier{BeginRange: "0", USD: usd})
	}
	awsfake.UseEndpoints(t, map[string]string{"PRICING": awsfake.Serve(t, fake)})
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	seed := specFile(t, seedSpec)

	code, out, errOut := runCmd(t, "cost", "-f", seed, "--region", "ap-southeast-2", "--free-tier", "none", "--format", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	calls := fake.CallCount("GetProducts")
	if calls < len(price.PriceKeys()) || !strings.Contains(errOut, "fetched ap-southeast-2's prices from the AWS Price List Query API") {
		t.Errorf("%d GetProducts calls; stderr %q", calls, errOut)
	}
	var got struct {
		Region string   `json:"region"`
		Prices string   `json:"prices"`
		Total  float64  `json:"total_usd"`
		Notes  []string `json:"notes"`
		Items  []struct {
			Name    string  `json:"name"`
			UnitUSD float64 `json:"unit_usd"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Region != "ap-southeast-2" || !strings.Contains(got.Prices, "AWS Price List Query API (ap-southeast-2") || got.Total <= 0 {
		t.Errorf("region %s, prices %q, total %v", got.Region, got.Prices, got.Total)
	}
	for _, it := range got.Items {
		if it.Name == "fargate_vcpu" && it.UnitUSD != 0.03952 {
			t.Errorf("Fargate vCPU at $%v, not the API's $0.03952", it.UnitUSD)
		}
	}
	notes := strings.Join(got.Notes, "\n")
	if !strings.Contains(notes, "Prices for ap-southeast-2: 29 from the AWS Price List Query API") || !strings.Contains(notes, "cloud_map_instance_month, cloud_map_million_discovery_calls") {
		t.Errorf("notes do not say where the prices came from:\n%s", notes)
	}
	if _, err := os.Stat(filepath.Join(cache, "lowfare", "prices", "ap-southeast-2.json")); err != nil {
		t.Errorf("no cache: %v", err)
	}

	// The second run reads the cache.
	code, out, errOut = runCmd(t, "cost", "-f", seed, "--region", "ap-southeast-2", "--free-tier", "none")
	if code != ExitOK || fake.CallCount("GetProducts") != calls {
		t.Fatalf("second run: exit %d, %d more calls: %s", code, fake.CallCount("GetProducts")-calls, errOut)
	}
	if !strings.Contains(out, "read from the cache") {
		t.Errorf("second run does not say the prices are cached:\n%s", out)
	}

	// Denied: the region is refused as before, saying what is needed.
	fake.Deny(true)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	code, _, errOut = runCmd(t, "cost", "-f", seed, "--region", "ap-southeast-2")
	if code != ExitUsage || !strings.Contains(errOut, "pricing:GetProducts") || !strings.Contains(errOut, "--prices FILE") {
		t.Errorf("denied: exit %d, %q", code, errOut)
	}
}
