package awsfake

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Pricing is an AWS Price List Query API fake (AWS JSON 1.1, X-Amz-Target
// AWSPriceListService.GetProducts): products added with AddProduct,
// filtered as the API reference describes (TERM_MATCH and EQUALS match a
// field's value exactly, CONTAINS as a substring), answered as PriceList
// JSON documents in the aws_v1 format, paged by MaxResults.
// https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html
// https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_Filter.html
type Pricing struct {
	*JSONService

	mu       sync.Mutex
	products []pricingProduct
	deny     bool
}

type pricingProduct struct {
	service string
	attrs   map[string]string
	tiers   []PricingTier
}

// PricingTier is one price dimension of a product: from BeginRange units,
// USD a unit.
type PricingTier struct {
	BeginRange string
	USD        string
}

// NewPricing returns a Price List Query API fake with no products.
func NewPricing() *Pricing {
	f := &Pricing{}
	f.JSONService = &JSONService{TargetPrefix: "AWSPriceListService", Version: "1.1", Ops: map[string]JSONOp{
		"GetProducts": Handle(f.getProducts),
	}}
	return f
}

// AddProduct adds a product of a service in a region ("" for a global
// product) with its usage type and on-demand price tiers.
func (f *Pricing) AddProduct(service, region, usagetype string, tiers ...PricingTier) {
	f.mu.Lock()
	defer f.mu.Unlock()
	attrs := map[string]string{"usagetype": usagetype, "servicecode": service}
	if region != "" {
		attrs["regionCode"] = region
	}
	f.products = append(f.products, pricingProduct{service: service, attrs: attrs, tiers: tiers})
}

// Deny makes GetProducts answer AccessDeniedException (or lifts it).
func (f *Pricing) Deny(deny bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deny = deny
}

func (f *Pricing) getProducts(in struct {
	ServiceCode   string
	Filters       []struct{ Type, Field, Value string }
	FormatVersion string
	NextToken     string
	MaxResults    *int
}) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.deny {
		return nil, Errorf("AccessDeniedException", "User is not authorized to perform: pricing:GetProducts")
	}
	if in.ServiceCode == "" {
		return nil, Errorf("InvalidParameterException", "ServiceCode is required")
	}
	if in.FormatVersion != "" && in.FormatVersion != "aws_v1" {
		return nil, Errorf("InvalidParameterException", "FormatVersion %q: only aws_v1", in.FormatVersion)
	}
	size := 100
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return nil, Errorf("InvalidParameterException", "MaxResults %d: 1 to 100", *in.MaxResults)
		}
		size = *in.MaxResults
	}
	var match []pricingProduct
	for _, p := range f.products {
		if p.service != in.ServiceCode {
			continue
		}
		ok := true
		for _, flt := range in.Filters {
			v, has := p.attrs[flt.Field]
			switch flt.Type {
			case "TERM_MATCH", "EQUALS":
				ok = ok && has && v == flt.Value
			case "CONTAINS":
				ok = ok && has && strings.Contains(v, flt.Value)
			default:
				return nil, Errorf("InvalidParameterException", "filter type %q is not one this fake knows", flt.Type)
			}
		}
		if ok {
			match = append(match, p)
		}
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > len(match) {
			return nil, Errorf("InvalidNextTokenException", "next token %q", in.NextToken)
		}
		start = n
	}
	end := min(start+size, len(match))
	list := []string{}
	for i, p := range match[start:end] {
		dims := map[string]any{}
		for j, t := range p.tiers {
			dims[fmt.Sprintf("SKU%d.JRTCKXETXF.%d", i, j)] = map[string]any{
				"beginRange": t.BeginRange, "endRange": "Inf", "unit": "Hrs",
				"pricePerUnit": map[string]string{"USD": t.USD},
			}
		}
		doc, _ := json.Marshal(map[string]any{
			"product": map[string]any{"productFamily": "Compute", "attributes": p.attrs, "sku": fmt.Sprintf("SKU%d", i)},
			"terms": map[string]any{"OnDemand": map[string]any{
				fmt.Sprintf("SKU%d.JRTCKXETXF", i): map[string]any{"priceDimensions": dims},
			}},
			"serviceCode": p.service,
		})
		list = append(list, string(doc))
	}
	out := map[string]any{"FormatVersion": "aws_v1", "PriceList": list}
	if end < len(match) {
		out["NextToken"] = strconv.Itoa(end)
	}
	return out, nil
}
