package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/testutil"
)

// lowfare status as a user runs it, against the deployed-app fakes, the
// Free Tier double (AWS_ENDPOINT_URL_FREETIER) and moto's Cost Explorer
// (AWS_ENDPOINT_URL_COST_EXPLORER): the free tier part and the estimate in
// the JSON names scripts read, and --costs saying its price first.
func TestStatusFreeTierAndCosts(t *testing.T) {
	newOpsWorld(t)
	ft := awsfake.NewFreeTier()
	credits := 87.5
	ft.SetPlan(&awsfake.FreeTierPlan{AccountID: "123456789012", Type: "FREE", Status: "ACTIVE", CreditsUSD: &credits})
	ft.SetUsage(
		awsfake.FreeTierUsage{Service: "Amazon DynamoDB", UsageType: "TimedStorage-ByteHrs", Actual: 10, Forecast: 21, Limit: 25, Unit: "GB-Mo", Description: "25 GB", FreeTierType: "Always Free"},
		awsfake.FreeTierUsage{Service: "AWS Lambda", UsageType: "Request", Actual: 1000, Forecast: 5000, Limit: 1e6, Unit: "Requests", Description: "1 M requests", FreeTierType: "Always Free"},
	)
	t.Setenv("AWS_ENDPOINT_URL_FREETIER", awsfake.Serve(t, ft))
	moto := testutil.Moto(t)
	t.Setenv("AWS_ENDPOINT_URL_COST_EXPLORER", moto)
	file := specFile(t, opsSpec)

	code, out, errOut := runCmdInput(t, "", "status", "-f", file, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var st struct {
		FreeTier struct {
			Plan    string  `json:"plan"`
			Credits float64 `json:"credits_remaining_usd"`
			Usage   []struct {
				Service string  `json:"service"`
				Used    float64 `json:"used"`
				Warn    bool    `json:"warn"`
			} `json:"usage"`
		} `json:"free_tier"`
		Estimate struct {
			Month       float64 `json:"month_usd"`
			MonthToDate float64 `json:"month_to_date_usd"`
		} `json:"estimate"`
		Costs       any               `json:"costs"`
		Unavailable map[string]string `json:"unavailable"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if st.FreeTier.Plan != "FREE" || st.FreeTier.Credits != 87.5 || len(st.FreeTier.Usage) != 2 ||
		!st.FreeTier.Usage[0].Warn || st.FreeTier.Usage[1].Warn || st.FreeTier.Usage[0].Used != 10 {
		t.Errorf("free_tier %+v (unavailable %v)", st.FreeTier, st.Unavailable)
	}
	if st.Estimate.Month <= 0 || st.Estimate.MonthToDate <= 0 || st.Estimate.MonthToDate > st.Estimate.Month {
		t.Errorf("estimate %+v", st.Estimate)
	}
	if st.Costs != nil || strings.Contains(errOut, "Cost Explorer") {
		t.Errorf("Cost Explorer asked without --costs: %v %q", st.Costs, errOut)
	}

	code, out, errOut = runCmdInput(t, "", "status", "-f", file, "--costs")
	if code != 0 {
		t.Fatalf("--costs: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "costs $0.01 a request") || !strings.Contains(errOut, "cost allocation tag") {
		t.Errorf("--costs did not say its price and the tag first: %q", errOut)
	}
	for _, want := range []string{"$0.00 tagged lowfare:app=links", "Cost Explorer, 1 request(s) at $0.01", "the tag is not active as a cost allocation tag",
		"FREE plan, $87.50 of credits left; usage is account-wide", "! forecast at 84% of the limit"} {
		if !strings.Contains(out, want) {
			t.Errorf("status --costs lacks %q:\n%s", want, out)
		}
	}
}
