package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/pricing"

	"github.com/lowfare/lowfare/internal/price"
)

// fetchPricesTimeout bounds fetching one region's prices: about 31
// GetProducts requests.
const fetchPricesTimeout = 2 * time.Minute

// regionPrices returns a table with prices for region when the built-in
// one has none: the cached or freshly fetched prices from the Price List
// Query API (with credentials), and the sentence that says where each
// came from. Without credentials, or when the API refuses, it returns the
// built-in table's error, with a sentence on how to get the prices.
func regionPrices(ctx context.Context, opts *rootOptions, region string, log io.Writer) (*price.Table, string, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchPricesTimeout)
	defer cancel()
	cfg, err := freeTierConfig(ctx, opts) // the same credentials; the API answers from us-east-1
	if err != nil {
		return nil, "", fmt.Errorf("no AWS credentials to fetch %s's prices from the AWS Price List Query API with (%v): set credentials (allowed pricing:GetProducts), or pass --prices FILE", region, err)
	}
	path, err := price.CachePath(region)
	if err != nil {
		return nil, "", err
	}
	api := pricing.NewFromConfig(cfg, func(o *pricing.Options) { o.Region = price.PricingRegion })
	f, err := price.FetchRegion(ctx, api, region, path, time.Now())
	if err != nil {
		return nil, "", fmt.Errorf("%w (needs pricing:GetProducts; or pass --prices FILE)", err)
	}
	if f.Calls > 0 {
		fmt.Fprintf(log, "fetched %s's prices from the AWS Price List Query API (%d GetProducts requests), cached in %s\n", region, f.Calls, f.Cache)
	}
	why := fmt.Sprintf("Prices for %s: %d from the AWS Price List Query API (fetched %s", region, len(f.FromAPI), f.Fetched.Format(time.DateOnly))
	if f.Calls == 0 {
		why += ", read from the cache " + f.Cache
	}
	why += ")"
	if len(f.Fallback) > 0 {
		why += fmt.Sprintf("; %d the API had none for, priced at the built-in us-east-1 list price: %s", len(f.Fallback), strings.Join(f.Fallback, ", "))
	}
	return f.Table, why + ".", nil
}
