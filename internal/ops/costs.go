package ops

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"

	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// CostExplorerCallUSD is what one Cost Explorer API request costs: "$0.01
// per paginated API request" (https://aws.amazon.com/aws-cost-management/aws-cost-explorer/pricing/).
const CostExplorerCallUSD = 0.01

// CostsNotice is what status --costs says before it calls Cost Explorer:
// the call's price and the tag it needs.
const CostsNotice = "Cost Explorer GetCostAndUsage costs $0.01 a request, and it finds this app's spend only through the " + stack.TagApp +
	" tag once that tag is activated as a cost allocation tag (Billing console > Cost allocation tags, or aws ce update-cost-allocation-tags-status); activation and the first tagged costs take up to 24 hours to show."

// CostsStatus is this app's spend this month by service, from Cost
// Explorer, filtered by the lowfare:app tag.
type CostsStatus struct {
	Tag       string        `json:"tag"` // "lowfare:app=links"
	Start     string        `json:"start"`
	End       string        `json:"end"`
	TotalUSD  float64       `json:"total_usd"`
	Services  []ServiceCost `json:"services"`
	Requests  int           `json:"requests"` // billed at CostExplorerCallUSD each
	Estimated bool          `json:"estimated"`
	// Empty says what an answer without costs means.
	Empty string `json:"empty,omitempty"`
}

// ServiceCost is one service's spend.
type ServiceCost struct {
	Service string  `json:"service"`
	USD     float64 `json:"usd"`
}

// Costs asks Cost Explorer (one GetCostAndUsage request per page, $0.01
// each) for this month's unblended cost of resources tagged lowfare:app
// with the app's name, grouped by service.
// https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostAndUsage.html
func Costs(ctx context.Context, ce *costexplorer.Client, s *spec.Spec, now time.Time) (*CostsStatus, error) {
	now = now.UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	// End is exclusive: tomorrow, so today's costs count and a status on
	// the first of the month still has a one-day period.
	end := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	in := &costexplorer.GetCostAndUsageInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String(start.Format(time.DateOnly)), End: aws.String(end.Format(time.DateOnly))},
		Granularity: cetypes.GranularityMonthly,
		Metrics:     []string{"UnblendedCost"},
		Filter:      &cetypes.Expression{Tags: &cetypes.TagValues{Key: aws.String(stack.TagApp), Values: []string{s.App}, MatchOptions: []cetypes.MatchOption{cetypes.MatchOptionEquals}}},
		GroupBy:     []cetypes.GroupDefinition{{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String("SERVICE")}},
	}
	res := &CostsStatus{Tag: stack.TagApp + "=" + s.App, Start: *in.TimePeriod.Start, End: *in.TimePeriod.End, Services: []ServiceCost{}}
	byService := map[string]float64{}
	for page := 0; page < 20; page++ {
		out, err := call(ctx, func(ctx context.Context) (*costexplorer.GetCostAndUsageOutput, error) {
			return ce.GetCostAndUsage(ctx, in)
		})
		res.Requests++
		if err != nil {
			return res, fmt.Errorf("reading costs (Cost Explorer GetCostAndUsage; needs ce:GetCostAndUsage): %w", err)
		}
		for _, r := range out.ResultsByTime {
			res.Estimated = res.Estimated || r.Estimated
			for _, g := range r.Groups {
				if len(g.Keys) == 0 {
					continue
				}
				if m, ok := g.Metrics["UnblendedCost"]; ok {
					v, _ := strconv.ParseFloat(aws.ToString(m.Amount), 64)
					byService[g.Keys[0]] += v
				}
			}
		}
		if aws.ToString(out.NextPageToken) == "" {
			break
		}
		in.NextPageToken = out.NextPageToken
	}
	for svc, usd := range byService {
		res.Services = append(res.Services, ServiceCost{Service: svc, USD: round2(usd)})
		res.TotalUSD += usd
	}
	res.TotalUSD = round2(res.TotalUSD)
	sort.Slice(res.Services, func(i, j int) bool {
		if res.Services[i].USD != res.Services[j].USD {
			return res.Services[i].USD > res.Services[j].USD
		}
		return res.Services[i].Service < res.Services[j].Service
	})
	if len(res.Services) == 0 {
		res.Empty = fmt.Sprintf("no costs tagged %s this month: either the app has cost nothing yet, or the tag is not active as a cost allocation tag: activate %s (Billing console > Cost allocation tags, or aws ce update-cost-allocation-tags-status --cost-allocation-tags-status TagKey=%s,Status=Active) and ask again in a day",
			res.Tag, stack.TagApp, stack.TagApp)
	}
	return res, nil
}

// textCosts is the spend by service, when --costs asked for it.
func (st *Status) textCosts(p linePrinter) {
	c := st.Costs
	if c == nil {
		return
	}
	est := ""
	if c.Estimated {
		est = ", estimated"
	}
	p("costs", "$%.2f tagged %s, %s to %s (Cost Explorer, %d request(s) at $%.2f%s)", c.TotalUSD, c.Tag, c.Start, c.End, c.Requests, CostExplorerCallUSD, est)
	if c.Empty != "" {
		p("", "%s", c.Empty)
	}
	for _, s := range c.Services {
		p("", "%s: $%.2f", s.Service, s.USD)
	}
}
