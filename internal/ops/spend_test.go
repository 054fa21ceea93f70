package ops

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/costexplorer"

	"github.com/lowfare/lowfare/internal/awsfake"
	"github.com/lowfare/lowfare/internal/freetier"
	"github.com/lowfare/lowfare/internal/stack"
	"github.com/lowfare/lowfare/internal/testutil"
)

// freeTierWorld is the deployed app with a Free Tier API double: a FREE
// plan with credits, and usage rows for services the app uses (DynamoDB at
// 80% by forecast, CloudWatch below) and one it does not (EC2).
func freeTierWorld(t *testing.T) (*world, *awsfake.FreeTier) {
	w := newWorld(t)
	fake := awsfake.NewFreeTier()
	credits := 87.5
	fake.SetPlan(&awsfake.FreeTierPlan{AccountID: testAccount, Type: "FREE", Status: "ACTIVE", CreditsUSD: &credits})
	fake.SetUsage(
		awsfake.FreeTierUsage{Service: "Amazon DynamoDB", UsageType: "TimedStorage-ByteHrs", Description: "25 GB of storage", Actual: 10, Forecast: 20, Limit: 25, Unit: "GB-Mo", FreeTierType: "Always Free"},
		awsfake.FreeTierUsage{Service: "AmazonCloudWatch", UsageType: "CW:AlarmMonitorUsage", Description: "10 alarms", Actual: 3, Forecast: 7.9, Limit: 10, Unit: "Alarms", FreeTierType: "Always Free"},
		awsfake.FreeTierUsage{Service: "Amazon Elastic Compute Cloud", UsageType: "BoxUsage:freetier.micro", Description: "750 hours", Actual: 700, Forecast: 760, Limit: 750, Unit: "Hrs", FreeTierType: "12 Months Free"},
	)
	w.clients.FreeTier = freetier.New(awsfake.Config(t, fake))
	return w, fake
}

func TestStatusFreeTierAndEstimate(t *testing.T) {
	w, _ := freeTierWorld(t)
	w.ECS.AddService(awsfake.ECSService{Cluster: testCluster, Name: testService, Desired: 1, Running: 1})
	// A forecast more than 20% over the estimate ($34.68 list, credits).
	w.Budgets.AddBudget(awsfake.Budget{Name: stack.BudgetName(w.spec), Limit: 10, Actual: 30, Forecasted: 45})
	st, err := GetStatus(testCtx(t), w.clients, w.spec, statusNow)
	if err != nil {
		t.Fatal(err)
	}
	if st.Unavailable["free tier"] != "" || st.Unavailable["estimate"] != "" {
		t.Fatalf("unavailable: %v", st.Unavailable)
	}
	var js bytes.Buffer
	if err := st.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var got struct {
		FreeTier struct {
			Plan    string   `json:"plan"`
			Credits *float64 `json:"credits_remaining_usd"`
			Usage   []map[string]any
		} `json:"free_tier"`
		Estimate map[string]float64 `json:"estimate"`
	}
	if err := json.Unmarshal(js.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.FreeTier.Plan != "FREE" || got.FreeTier.Credits == nil || *got.FreeTier.Credits != 87.5 {
		t.Errorf("plan %q, credits %v", got.FreeTier.Plan, got.FreeTier.Credits)
	}
	if len(got.FreeTier.Usage) != 2 {
		t.Fatalf("usage rows %v: want DynamoDB and CloudWatch only (EC2 is not the app's)", got.FreeTier.Usage)
	}
	for _, row := range got.FreeTier.Usage {
		for _, k := range []string{"service", "usage_type", "description", "used", "forecast", "limit", "unit", "warn"} {
			if _, ok := row[k]; !ok {
				t.Errorf("usage row lacks %q: %v", k, row)
			}
		}
	}
	if ddb, cw := got.FreeTier.Usage[0], got.FreeTier.Usage[1]; ddb["warn"] != true || cw["warn"] != false {
		t.Errorf("warn: DynamoDB (20 of 25, 80%%) %v, CloudWatch (7.9 of 10) %v", ddb["warn"], cw["warn"])
	}
	// 25 November 18:30 UTC is 24.77 of 30 days: $34.68 x 0.8257.
	if got.Estimate["month_usd"] != 34.68 || got.Estimate["month_to_date_usd"] != 28.64 {
		t.Errorf("estimate %v", got.Estimate)
	}
	var text bytes.Buffer
	if err := st.WriteText(&text, statusNow); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"$34.68 a month by lowfare cost (free tier credits), $28.64 of it by now; spent $30.00, forecast $45.00: the forecast is 30% over the estimate",
		"FREE plan, $87.50 of credits left; usage is account-wide",
		"Amazon DynamoDB TimedStorage-ByteHrs: 10 of 25 GB-Mo used, forecast 20  ! forecast at 80% of the limit",
		"AmazonCloudWatch CW:AlarmMonitorUsage: 3 of 10 Alarms used, forecast 7.9\n",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("status text lacks %q:\n%s", want, text.String())
		}
	}
	if strings.Contains(text.String(), "Elastic Compute Cloud") {
		t.Errorf("status lists a service the app does not use:\n%s", text.String())
	}

	// Within 20% of the estimate: no flag.
	w.Budgets.AddBudget(awsfake.Budget{Name: stack.BudgetName(w.spec), Limit: 40, Actual: 30, Forecasted: 41})
	st, err = GetStatus(testCtx(t), w.clients, w.spec, statusNow)
	if err != nil {
		t.Fatal(err)
	}
	if st.ForecastOverEstimate() {
		t.Errorf("$41 against $34.68 flagged as over by more than 20%%")
	}
}

// Denied, the free tier part is unavailable with the permissions it needs,
// and the estimate still shows (priced with no free tier).
func TestStatusFreeTierDenied(t *testing.T) {
	w, fake := freeTierWorld(t)
	fake.Deny(true)
	st, err := GetStatus(testCtx(t), w.clients, w.spec, statusNow)
	if err != nil {
		t.Fatal(err)
	}
	if msg := st.Unavailable["free tier"]; !strings.Contains(msg, "AccessDeniedException") || !strings.Contains(msg, "freetier:GetFreeTierUsage") {
		t.Errorf("unavailable[free tier] = %q", msg)
	}
	if st.FreeTier != nil || st.Estimate == nil || st.Estimate.MonthUSD != 34.68 {
		t.Errorf("free tier %+v, estimate %+v", st.FreeTier, st.Estimate)
	}
}

func TestWarnAtEightyPercent(t *testing.T) {
	for _, c := range []struct {
		forecast, limit float64
		want            bool
	}{{20, 25, true}, {19.99, 25, false}, {30, 25, true}, {0, 0, false}, {1, 0, false}} {
		if got := Forecasts(c.forecast, c.limit); got != c.want {
			t.Errorf("Forecasts(%g, %g) = %v", c.forecast, c.limit, got)
		}
	}
}

// status --costs against moto's Cost Explorer: the request filters by the
// app's tag and groups by service; an empty answer explains the tag.
func TestCostsFromMoto(t *testing.T) {
	url := testutil.Moto(t)
	w := newWorld(t)
	cfg := awsfake.Config(t, http.NotFoundHandler())
	cfg.BaseEndpoint = &url
	ce := costexplorer.NewFromConfig(cfg)

	empty, err := Costs(testCtx(t), ce, w.spec, statusNow)
	if err != nil {
		t.Fatal(err)
	}
	if empty.TotalUSD != 0 || len(empty.Services) != 0 || !strings.Contains(empty.Empty, "cost allocation tag") || empty.Requests != 1 {
		t.Errorf("empty answer: %+v", empty)
	}

	// moto answers queued results to the next new request.
	result := `{"results": [{"ResultsByTime": [{"TimePeriod": {"Start": "2026-11-01", "End": "2026-11-26"}, "Total": {},
	  "Groups": [{"Keys": ["Amazon Elastic Container Service"], "Metrics": {"UnblendedCost": {"Amount": "4.1234", "Unit": "USD"}}},
	             {"Keys": ["Amazon DynamoDB"], "Metrics": {"UnblendedCost": {"Amount": "0.02", "Unit": "USD"}}}],
	  "Estimated": true}]}]}`
	resp, err := http.Post(url+"/moto-api/static/ce/cost-and-usage-results", "application/json", strings.NewReader(result))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	w.spec.App = "links2" // a new request (moto repeats the answer to one it has seen)
	got, err := Costs(testCtx(t), ce, w.spec, statusNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.TotalUSD != 4.14 || len(got.Services) != 2 || got.Services[0].Service != "Amazon Elastic Container Service" || !got.Estimated || got.Empty != "" {
		t.Errorf("costs %+v", got)
	}
	if got.Start != "2026-11-01" || got.End != "2026-11-26" || got.Tag != "lowfare:app=links2" {
		t.Errorf("period %s..%s, tag %s", got.Start, got.End, got.Tag)
	}
}
