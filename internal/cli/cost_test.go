package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/cost"
	"github.com/lowfare/lowfare/internal/price"
	"github.com/lowfare/lowfare/internal/spec"
)

const seedSpec = "app: links\n"

const apigwScheduledSpec = `app: links
service:
  schedule: {timezone: Europe/Berlin, awake: "Mon-Fri 08:00-20:00"}
ingress:
  kind: apigw
`

func TestCostSeedText(t *testing.T) {
	code, out, errOut := runCmd(t, "cost", "-f", specFile(t, seedSpec))
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"ITEM", "QUANTITY", "UNIT PRICE", "FREE", "COST", "Application Load Balancer", "TOTAL", "OVER BUDGET", "$10.00 budget"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestCostJSONShape(t *testing.T) {
	code, out, errOut := runCmd(t, "cost", "-f", specFile(t, apigwScheduledSpec), "--format", "json", "--compare")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		TotalUSD   *float64 `json:"total_usd"`
		BudgetUSD  *float64 `json:"budget_usd"`
		FitsBudget *bool    `json:"fits_budget"`
		Items      []map[string]any
		Compare    []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if got.TotalUSD == nil || got.BudgetUSD == nil || got.FitsBudget == nil {
		t.Fatalf("missing total_usd, budget_usd or fits_budget:\n%s", out)
	}
	if !*got.FitsBudget || *got.TotalUSD >= 10 || *got.BudgetUSD != 10 {
		t.Errorf("apigw + office hours: total %v of %v, fits %v; want under $10", *got.TotalUSD, *got.BudgetUSD, *got.FitsBudget)
	}
	if len(got.Items) == 0 || len(got.Compare) != 19 {
		t.Fatalf("%d items, %d compare rows", len(got.Items), len(got.Compare))
	}
	for _, k := range []string{"name", "quantity", "unit", "unit_usd", "free_quantity", "usd"} {
		if _, ok := got.Items[0][k]; !ok {
			t.Errorf("item lacks %q", k)
		}
	}
	for _, k := range []string{"shape", "total_usd"} {
		if _, ok := got.Compare[0][k]; !ok {
			t.Errorf("compare row lacks %q", k)
		}
	}
}

func TestCostFlagsOverrideTheWorkload(t *testing.T) {
	path := specFile(t, seedSpec)
	total := func(args ...string) float64 {
		t.Helper()
		code, out, errOut := runCmd(t, append([]string{"cost", "-f", path, "--format", "json"}, args...)...)
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var got struct {
			TotalUSD float64 `json:"total_usd"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		return got.TotalUSD
	}
	base := total()
	// --log-gb 15: (15 - 5) x $0.50 = $5.00 more ingest, plus storage
	// 15/30.4167 x 7 = 3.452 GB-month x $0.03 = $0.1036 (the free 5 GB went to ingest)
	if d := total("--log-gb", "15") - base; d < 5.10 || d > 5.11 {
		t.Errorf("--log-gb 15 adds $%.4f, want about $5.10", d)
	}
	// --free-tier legacy removes the ALB hours, LCU and ECR: $16.52 less.
	if d := base - total("--free-tier", "legacy"); d < 16.5 || d > 16.53 {
		t.Errorf("legacy saves $%.4f, want about $16.52", d)
	}
	// --region eu-central-1 prices Frankfurt (dearer Fargate and ALB).
	if total("--region", "eu-central-1") <= base {
		t.Error("--region eu-central-1 is not dearer than us-east-1")
	}
	// --stored-gb 45: 20 GB beyond the free 25 x $0.25 = $5.00
	if d := total("--stored-gb", "45") - base; d < 4.999 || d > 5.001 {
		t.Errorf("--stored-gb 45 adds $%.4f, want $5.00", d)
	}
	// --requests-per-month 0 --response-kb 0: no LCU, no discovery.
	if total("--requests-per-month", "0", "--response-kb", "0") >= base {
		t.Error("no traffic is not cheaper")
	}
}

func TestCostBadInput(t *testing.T) {
	seed := specFile(t, seedSpec)
	badPrices := filepath.Join(t.TempDir(), "prices.json")
	if err := os.WriteFile(badPrices, []byte("{\"regions\": {\"us-east-1\": {\"alb_hour\": 3}}}"), 0o644); err != nil {
		t.Fatal(err)
	}
	unknownRegion := specFile(t, "app: links\nregion: ap-south-1\n")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"negative requests", []string{"--requests-per-month", "-1"}, "--requests-per-month -1"},
		{"negative response", []string{"--response-kb", "-2.5"}, "--response-kb -2.5"},
		{"negative lambda", []string{"--lambda-ms", "-50"}, "--lambda-ms -50"},
		{"negative stored", []string{"--stored-gb", "-3"}, "--stored-gb -3"},
		{"negative logs", []string{"--log-gb", "-0.1"}, "--log-gb -0.1"},
		{"not a number", []string{"--response-kb", "ten"}, "ten"},
		{"NaN", []string{"--stored-gb", "NaN"}, "--stored-gb NaN"},
		{"unknown free tier", []string{"--free-tier", "forever"}, `"forever"`},
		{"unknown format", []string{"--format", "xml"}, `"xml"`},
		{"unknown region flag", []string{"--region", "ap-south-1"}, `"ap-south-1"`},
		{"malformed prices", []string{"--prices", badPrices}, "prices.json"},
		{"missing prices", []string{"--prices", filepath.Join(t.TempDir(), "none.json")}, "none.json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runCmd(t, append([]string{"cost", "-f", seed}, c.args...)...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if !strings.Contains(errOut, c.want) {
				t.Errorf("stderr %q lacks %q", errOut, c.want)
			}
		})
	}
	t.Run("unknown region in spec", func(t *testing.T) {
		code, _, errOut := runCmd(t, "cost", "-f", unknownRegion)
		if code != ExitUsage || !strings.Contains(errOut, `"ap-south-1"`) || !strings.Contains(errOut, "us-east-1") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("malformed prices names the problem", func(t *testing.T) {
		_, _, errOut := runCmd(t, "cost", "-f", seed, "--prices", badPrices)
		if !strings.Contains(errOut, "alb_hour") {
			t.Errorf("stderr %q does not name alb_hour", errOut)
		}
	})
}

// writePlanCost is the estimate part of plan's text.
func writePlanCost(w io.Writer, s *spec.Spec) error {
	e, err := planEstimate(s)
	if err != nil {
		return err
	}
	return e.writeText(w, "lowfare.yaml")
}

func TestWritePlanCost(t *testing.T) {
	// The seed is over budget: plan names the cheapest shape that fits, and
	// the cheapest that keeps ECS: apigw, arm64, sleeping when idle.
	var b bytes.Buffer
	if err := writePlanCost(&b, spec.Default()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"OVER BUDGET", "$34.68", "cheapest shape that fits: serverless", "keeps ECS Fargate: apigw · arm64 · idle after 15m, serve app, 60 active h"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan estimate lacks %q:\n%s", want, out)
		}
	}

	// apigw + office hours fits: the verdict says so and proposes nothing.
	s := spec.Default()
	s.Ingress.Kind = spec.IngressAPIGW
	s.Service.Schedule = &spec.Schedule{Timezone: "Europe/Berlin", Awake: "Mon-Fri 08:00-20:00"}
	b.Reset()
	if err := writePlanCost(&b, s); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "Within budget") || strings.Contains(out, "cheapest shape") {
		t.Errorf("apigw + schedule plan estimate:\n%s", out)
	}

	// A region without prices does not fail the plan.
	s = spec.Default()
	s.Region = "ap-south-1"
	b.Reset()
	if err := writePlanCost(&b, s); err != nil {
		t.Fatalf("unknown region fails the plan: %v", err)
	}
	if !strings.Contains(b.String(), "not available") {
		t.Errorf("unknown region: %q", b.String())
	}
}

// TestPlanNamesTheShapeThatFits runs 'lowfare plan' as a user would: the
// seed ends over budget with the apigw + idle-sleep shape named; that
// shape, written in the spec, ends within budget, and so does apigw with
// office hours.
func TestPlanNamesTheShapeThatFits(t *testing.T) {
	code, out, errOut := runCmd(t, "plan", "-f", specFile(t, seedSpec))
	if code != ExitOK {
		t.Fatalf("plan exit %d: %s", code, errOut)
	}
	for _, want := range []string{"OVER BUDGET", "cheapest shape that fits", "keeps ECS Fargate: apigw · arm64 · idle after 15m, serve app, 60 active h"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = runCmd(t, "plan", "-f", specFile(t, apigwScheduledSpec))
	if code != ExitOK {
		t.Fatalf("plan exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Within budget") {
		t.Errorf("apigw + office hours plan is not within budget:\n%s", out)
	}
	code, out, errOut = runCmd(t, "plan", "-f", specFile(t, apigwIdleSpec))
	if code != ExitOK {
		t.Fatalf("plan exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Within budget", "CloudWatch alarm metrics: 11"} {
		if !strings.Contains(out, want) {
			t.Errorf("apigw + idle plan lacks %q:\n%s", want, out)
		}
	}
}

const apigwIdleSpec = `app: links
service:
  idle: {after: 15m}
ingress:
  kind: apigw
`

// plan says which serve mode service.idle got and why: app for an image
// lowfare builds (with the rate it wakes at), page for an image reference
// (it cannot carry the adapter) or where the spec asks for it.
func TestPlanSaysWhichServeMode(t *testing.T) {
	for name, tt := range map[string]struct{ spec, want, not string }{
		"built": {"app: shop\nservice: {image: ., idle: {after: 15m}}\ningress: {kind: apigw}\n",
			"idle: sleeps after 15m without a request; serve: app, because lowfare builds the image, so it carries lowfare's Lambda adapter", ""},
		"reference": {"app: shop\nservice: {image: nginx:1.27, idle: {after: 20m}}\ningress: {kind: apigw}\n",
			"serve: page, because service.image nginx:1.27 is an image reference: lowfare did not build it, so it cannot carry lowfare's Lambda adapter", "wakes at"},
		"asked": {"app: shop\nservice: {image: ., idle: {after: 15m, serve: page}}\n",
			"serve: page, because the spec says so (service.idle.serve: page)", "wakes at"},
		"no idle": {"app: shop\nservice: {image: .}\n", "", "idle:"},
	} {
		code, stdout, stderr := runCmd(t, "plan", "-f", specFile(t, tt.spec))
		if code != 0 || !strings.Contains(stdout, tt.want) || (tt.not != "" && strings.Contains(stdout, tt.not)) {
			t.Errorf("%s: exit %d, want %q and not %q in\n%s%s", name, code, tt.want, tt.not, stdout, stderr)
		}
	}
	// The wake rate is the break-even of the price table, in text and JSON.
	file := specFile(t, "app: shop\nservice: {image: ., idle: {after: 15m}}\ningress: {kind: apigw}\n")
	s, err := spec.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	rate := cost.WakePerMinute(s, price.Builtin("us-east-1"), cost.DefaultLambdaMS)
	code, stdout, stderr := runCmd(t, "plan", "-f", file, "--format", "json")
	var got struct{ Idle *planIdle }
	if err := json.Unmarshal([]byte(stdout), &got); code != 0 || err != nil || got.Idle == nil {
		t.Fatalf("exit %d, %v: %s%s", code, err, stdout, stderr)
	}
	if got.Idle.Serve != spec.ServeApp || got.Idle.WakePerMinute != rate || rate <= 0 || got.Idle.WakePrices != "us-east-1" {
		t.Errorf("plan JSON idle %+v, want serve app waking at %v a minute on us-east-1 prices", got.Idle, rate)
	}
}
