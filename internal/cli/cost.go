package cli

import (
	"errors"
	"fmt"
	"math"

	"github.com/spf13/cobra"

	"github.com/lowfare/lowfare/internal/cost"
	"github.com/lowfare/lowfare/internal/price"
)

// costFlags are the workload overrides and output choices of 'lowfare cost'.
type costFlags struct {
	file     string
	freeTier string
	prices   string
	format   string
	compare  bool
	print    bool

	requests, responseKB, lambdaMS, storedGB, logGB float64
}

func newCostCmd(opts *rootOptions) *cobra.Command {
	f := &costFlags{}
	c := &cobra.Command{
		Use:   "cost",
		Short: "The monthly bill of the spec, line by line, before anything is created",
		Long: `cost prices the spec with a dated list-price table: every line item with its
quantity, unit price and free allowance, the total, and the verdict against
budget.monthly_usd.

--compare prices the same workload as alb / apigw / serverless, arm64 /
x86_64, with and without a schedule, and the AWS CDK ecs-patterns default as
a reference.

Which free tier: with AWS credentials and without --free-tier, cost asks the
account (Free Tier API GetAccountPlanState, read-only) and prices with the
tier that applies: the free plan's credits, the legacy 12-month offers, or
none. Without credentials, or when the call is denied, it assumes none and
says so; --free-tier sets the model and skips the call.

Prices in any region: the built-in table has a few regions. For another one
(--region or the spec's), with credentials, cost fetches the prices it needs
from the AWS Price List Query API (pricing:GetProducts, about 31 requests),
caches them for 30 days in the user cache directory
(lowfare/prices/REGION.json, a table in the --prices format) and says which
prices came from the API and which fell back to the us-east-1 list price.

The workload comes from the spec's workload: section; the flags override it.
Formulas and assumptions: docs/cost-model.md.`,
		Example: `  lowfare cost
  lowfare cost --compare
  lowfare cost --free-tier legacy --requests-per-month 5e6 --format json
  lowfare cost --region ap-southeast-2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCost(cmd, opts, f)
		},
	}
	addSpecFlag(c, &f.file)
	fl := c.Flags()
	fl.StringVar(&f.freeTier, "free-tier", string(cost.FreeTierNone), "free-tier model: none | legacy (12-month offers, accounts before 2025-07-15) | credits (default: ask the account, else none)")
	fl.StringVar(&f.prices, "prices", "", "a price table in the built-in format (default: the built-in table)")
	fl.StringVar(&f.format, "format", "text", "output: text | json")
	fl.BoolVar(&f.compare, "compare", false, "also price the same workload in other shapes")
	fl.BoolVar(&f.print, "print-prices", false, "print the built-in price table (the format --prices takes) and exit")
	fl.Float64Var(&f.requests, "requests-per-month", 0, "requests a month (default: workload.requests_per_month)")
	fl.Float64Var(&f.responseKB, "response-kb", 0, "average response size in KB (default: workload.response_kb)")
	fl.Float64Var(&f.lambdaMS, "lambda-ms", cost.DefaultLambdaMS, "average Lambda duration in ms (profile serverless, and the app on Lambda with service.idle serve: app)")
	fl.Float64Var(&f.storedGB, "stored-gb", cost.DefaultStoredGB, "DynamoDB table size in GB")
	fl.Float64Var(&f.logGB, "log-gb", 0, "log volume ingested a month in GB (default: derived from the requests)")
	return c
}

func runCost(cmd *cobra.Command, opts *rootOptions, f *costFlags) error {
	if f.print {
		_, err := cmd.OutOrStdout().Write(price.BuiltinJSON())
		return err
	}
	if f.format != "text" && f.format != "json" {
		return usageErrf("--format %q: want text or json", f.format)
	}
	ft, err := cost.ParseFreeTier(f.freeTier)
	if err != nil {
		return usageErrf("--free-tier: %v", err)
	}
	// Check the numbers before reading anything: a typo should not wait
	// for a spec problem to be fixed first.
	fl := cmd.Flags()
	for _, n := range []struct {
		flag string
		v    float64
	}{
		{"requests-per-month", f.requests}, {"response-kb", f.responseKB}, {"lambda-ms", f.lambdaMS},
		{"stored-gb", f.storedGB}, {"log-gb", f.logGB},
	} {
		if fl.Changed(n.flag) && (math.IsNaN(n.v) || math.IsInf(n.v, 0) || n.v < 0) {
			return usageErrf("--%s %v: must be a number, zero or more", n.flag, n.v)
		}
	}
	table, err := price.BuiltinTable()
	if err != nil {
		return err
	}
	if f.prices != "" {
		if table, err = price.LoadTable(f.prices); err != nil {
			return usageErrf("--prices: %v", err)
		}
	}
	s, err := loadSpec(opts, f.file)
	if err != nil {
		return err
	}
	region := opts.Region
	if region == "" {
		region = s.Region
	}
	pricesWhy := ""
	if _, err := table.Region(region); err != nil && f.prices == "" {
		// A region the built-in table lacks: fetch its prices.
		fetched, why, ferr := regionPrices(cmd.Context(), opts, region, cmd.ErrOrStderr())
		if ferr != nil {
			return usageErrf("%v; %v", err, ferr)
		}
		table, pricesWhy = fetched, why
	}
	w := cost.WorkloadOf(s)
	if fl.Changed("requests-per-month") {
		w.RequestsPerMonth = f.requests
	}
	if fl.Changed("response-kb") {
		w.ResponseKB = f.responseKB
	}
	w.LambdaMS, w.StoredGB = f.lambdaMS, f.storedGB
	if fl.Changed("log-gb") {
		v := f.logGB
		w.LogGB = &v
	}
	tc := chooseFreeTier(cmd.Context(), opts, ft, fl.Changed("free-tier"))
	r, err := cost.Estimate(s, cost.Options{
		Table:          table,
		Region:         opts.Region,
		FreeTier:       tc.tier,
		FreeTierSource: tc.source,
		FreeTierWhy:    tc.why,
		PricesWhy:      pricesWhy,
		Workload:       w,
		Compare:        f.compare,
	})
	var unknown *price.UnknownRegionError
	switch {
	case errors.As(err, &unknown) && opts.Region != "":
		return usageErrf("--region: %v", err)
	case err != nil:
		return usageErrf("%s: %v", f.file, err)
	}
	out := cmd.OutOrStdout()
	if f.format == "json" {
		err = r.WriteJSON(out)
	} else {
		err = r.WriteText(out)
	}
	if err != nil {
		return fmt.Errorf("writing the estimate: %w", err)
	}
	return nil
}
