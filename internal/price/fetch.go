package price

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	ptypes "github.com/aws/aws-sdk-go-v2/service/pricing/types"

	"github.com/lowfare/lowfare/internal/atomicfile"
)

// PricingAPI is the part of the Price List Query API client Fetch uses.
type PricingAPI interface {
	GetProducts(ctx context.Context, in *pricing.GetProductsInput, optFns ...func(*pricing.Options)) (*pricing.GetProductsOutput, error)
}

// PricingRegion is where the Price List Query API is asked: "AWS Price
// List Service API provides the following two endpoints:
// https://api.pricing.us-east-1.amazonaws.com,
// https://api.pricing.ap-south-1.amazonaws.com"
// (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/Welcome.html#Welcome_AWS_Price_List_Service),
// and either answers for every region.
const PricingRegion = "us-east-1"

// CacheMaxAge is how long fetched prices are used before they are fetched
// again: list prices change a few times a year.
const CacheMaxAge = 30 * 24 * time.Hour

// SourceAPI and SourceFallback begin a fetched price's Source: from the
// API, or from the built-in us-east-1 price when the API had none.
const (
	SourceAPI      = "AWS Price List Query API"
	SourceFallback = "built-in us-east-1 price (the Price List Query API had none for the region)"
)

// query is how one price key is found: the service code, the usage type
// after the region's prefix, and the factor from the API's unit to the
// table's (a price per request becomes one per million).
type query struct {
	service, usage string
	factor         float64
}

// queries maps every price key to its query. Usage types carry a region
// prefix (APS2-Fargate-GB-Hours in ap-southeast-2); the product's
// regionCode attribute picks the region, and the usage type is matched
// by its suffix after the prefix. Global services (Route 53, the
// CloudWatch dashboard) have no regional product: their queries leave the
// region out.
var queries = map[string]query{
	"fargate_vcpu_hour_x86":             {"AmazonECS", "Fargate-vCPU-Hours:perCPU", 1},
	"fargate_gb_hour_x86":               {"AmazonECS", "Fargate-GB-Hours", 1},
	"fargate_vcpu_hour_arm64":           {"AmazonECS", "Fargate-ARM-vCPU-Hours:perCPU", 1},
	"fargate_gb_hour_arm64":             {"AmazonECS", "Fargate-ARM-GB-Hours", 1},
	"fargate_spot_vcpu_hour":            {"AmazonECS", "SpotUsage-Fargate-vCPU-Hours:perCPU", 1},
	"fargate_spot_gb_hour":              {"AmazonECS", "SpotUsage-Fargate-GB-Hours", 1},
	"alb_hour":                          {"AWSELB", "LoadBalancerUsage", 1},
	"alb_lcu_hour":                      {"AWSELB", "LCUUsage", 1},
	"public_ipv4_hour":                  {"AmazonVPC", "PublicIPv4:InUseAddress", 1},
	"http_api_million_requests":         {"AmazonApiGateway", "ApiGatewayHttpRequest", 1e6},
	"cloud_map_instance_month":          {"AWSCloudMap", "RegisteredResource", 1},
	"cloud_map_million_discovery_calls": {"AWSCloudMap", "DiscoveryCalls", 1e6},
	"lambda_million_requests":           {"AWSLambda", "Request", 1e6},
	"lambda_gb_second_arm64":            {"AWSLambda", "Lambda-GB-Second-ARM", 1},
	"lambda_gb_second_x86":              {"AWSLambda", "Lambda-GB-Second", 1},
	"dynamodb_rcu_hour":                 {"AmazonDynamoDB", "ReadCapacityUnit-Hrs", 1},
	"dynamodb_wcu_hour":                 {"AmazonDynamoDB", "WriteCapacityUnit-Hrs", 1},
	"dynamodb_million_reads":            {"AmazonDynamoDB", "ReadRequestUnits", 1e6},
	"dynamodb_million_writes":           {"AmazonDynamoDB", "WriteRequestUnits", 1e6},
	"dynamodb_storage_gb_month":         {"AmazonDynamoDB", "TimedStorage-ByteHrs", 1},
	"dynamodb_pitr_gb_month":            {"AmazonDynamoDB", "TimedPITRStorage-ByteHrs", 1},
	"logs_ingest_gb":                    {"AmazonCloudWatch", "DataProcessing-Bytes", 1},
	"logs_storage_gb_month":             {"AmazonCloudWatch", "TimedStorage-ByteHrs", 1},
	"alarm_month":                       {"AmazonCloudWatch", "CW:AlarmMonitorUsage", 1},
	"custom_metric_month":               {"AmazonCloudWatch", "CW:MetricMonitorUsage", 1},
	"dashboard_month":                   {"AmazonCloudWatch", "DashboardsUsageHour-Basic", 1},
	"ecr_storage_gb_month":              {"AmazonECR", "TimedStorage-ByteHrs", 1},
	"transfer_out_gb":                   {"AWSDataTransfer", "DataTransfer-Out-Bytes", 1},
	"route53_hosted_zone_month":         {"AmazonRoute53", "HostedZone", 1},
	"nat_gateway_hour":                  {"AmazonEC2", "NatGateway-Hours", 1},
	"nat_gateway_gb":                    {"AmazonEC2", "NatGateway-Bytes", 1},
}

// globalUsage are usage types with one product for all regions.
var globalUsage = map[string]bool{"HostedZone": true, "DashboardsUsageHour-Basic": true}

// Fetched is a region's prices with where each came from.
type Fetched struct {
	Table *Table
	// FromAPI and Fallback list the price keys by source, sorted.
	FromAPI, Fallback []string
	// Calls is how many GetProducts requests were made (0 from the cache).
	Calls int
	// Cache is the file the prices were read from or written to.
	Cache   string
	Fetched time.Time
}

// CachePath is where the prices of region are kept: the user's cache
// directory (os.UserCacheDir), lowfare/prices/<region>.json.
func CachePath(region string) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for fetched prices: %w", err)
	}
	return filepath.Join(dir, "lowfare", "prices", region+".json"), nil
}

// FetchRegion returns the prices of region from the cache at path when it
// is younger than CacheMaxAge, else from the Price List Query API (one
// GetProducts request per price, more when a request pages), written to
// the cache with the date. A price the API has no product for falls back
// to the built-in us-east-1 price and says so in its Source.
func FetchRegion(ctx context.Context, api PricingAPI, region, path string, now time.Time) (*Fetched, error) {
	if f, err := readCache(path, region, now); err == nil {
		return f, nil
	}
	builtin := Builtin("us-east-1")
	var rp RegionPrices
	f := &Fetched{Cache: path, Fetched: now.UTC()}
	date := now.UTC().Format(time.DateOnly)
	for _, np := range rp.fields() {
		q := queries[np.key]
		usd, usage, calls, err := lookup(ctx, api, q, region)
		f.Calls += calls
		if err != nil {
			return nil, fmt.Errorf("fetching %s for %s from the Price List Query API: %w", np.key, region, err)
		}
		if math.IsNaN(usd) {
			*np.price = *builtinField(&builtin, np.key)
			np.price.Source = SourceFallback + "; " + np.price.Source
			f.Fallback = append(f.Fallback, np.key)
			continue
		}
		*np.price = Price{USD: usd * q.factor, Date: date,
			Source: fmt.Sprintf("%s GetProducts %s usagetype %s, %s", SourceAPI, q.service, usage, date)}
		f.FromAPI = append(f.FromAPI, np.key)
	}
	t := &Table{Name: "AWS Price List Query API (" + region + ", fetched " + date + ")",
		Description: "Prices lowfare fetched from the AWS Price List Query API for " + region + " on " + date + "; see each price's source.",
		Regions:     map[string]RegionPrices{region: rp}}
	data, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return nil, err
	}
	if _, err := ParseTable(path, data); err != nil {
		return nil, fmt.Errorf("the fetched prices do not form a table: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("caching fetched prices: %w", err)
	}
	if err := atomicfile.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("caching fetched prices: %w", err)
	}
	f.Table = t
	return f, nil
}

func builtinField(rp *RegionPrices, key string) *Price {
	for _, f := range rp.fields() {
		if f.key == key {
			return f.price
		}
	}
	panic("no price key " + key) // queries and fields name the same keys (TestQueriesCoverEveryPrice)
}

// readCache reads a cached table for region if it is fresh: the date its
// fetched prices carry (not the file's time, which a copy changes) is
// within CacheMaxAge of now.
func readCache(path, region string, now time.Time) (*Fetched, error) {
	t, err := LoadTable(path)
	if err != nil {
		return nil, err
	}
	rp, ok := t.Regions[region]
	if !ok {
		return nil, errors.New("other region")
	}
	f := &Fetched{Table: t, Cache: path}
	for _, np := range rp.fields() {
		if strings.HasPrefix(np.price.Source, SourceFallback) {
			f.Fallback = append(f.Fallback, np.key)
			continue
		}
		f.FromAPI = append(f.FromAPI, np.key)
		d, err := time.Parse(time.DateOnly, np.price.Date)
		if err != nil {
			return nil, fmt.Errorf("%s: %s date %q is not a fetch date", path, np.key, np.price.Date)
		}
		if f.Fetched.IsZero() || d.Before(f.Fetched) {
			f.Fetched = d
		}
	}
	if f.Fetched.IsZero() || now.Sub(f.Fetched) > CacheMaxAge {
		return nil, errors.New("stale")
	}
	t.Name = fmt.Sprintf("AWS Price List Query API (%s, fetched %s, cached in %s)", region, f.Fetched.Format(time.DateOnly), path)
	return f, nil
}

// lookup asks GetProducts for one usage type in one region and returns
// its on-demand USD price per unit (NaN when there is no such product),
// the usage type it matched, and the requests made. A tiered price gives
// its first tier with a price above zero (the free allowances are
// lowfare's own, in internal/price).
func lookup(ctx context.Context, api PricingAPI, q query, region string) (float64, string, int, error) {
	filters := []ptypes.Filter{{Type: ptypes.FilterTypeContains, Field: aws.String("usagetype"), Value: aws.String(q.usage)}}
	if !globalUsage[q.usage] {
		filters = append(filters, ptypes.Filter{Type: ptypes.FilterTypeTermMatch, Field: aws.String("regionCode"), Value: aws.String(region)})
	}
	in := &pricing.GetProductsInput{ServiceCode: aws.String(q.service), Filters: filters, FormatVersion: aws.String("aws_v1"), MaxResults: aws.Int32(100)}
	calls := 0
	for {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		out, err := api.GetProducts(cctx, in)
		cancel()
		calls++
		if err != nil {
			return 0, "", calls, err
		}
		for _, item := range out.PriceList {
			usage, usd, ok := parseProduct(item, q.usage)
			if ok {
				return usd, usage, calls, nil
			}
		}
		if aws.ToString(out.NextToken) == "" || calls >= 20 {
			return math.NaN(), "", calls, nil
		}
		in.NextToken = out.NextToken
	}
}

// regionPrefix is a usage type's region prefix: "APS2-", "EU-", "USE1-".
var regionPrefix = regexp.MustCompile(`^[A-Z]{2,4}[0-9]?-$`)

// parseProduct reads one PriceList entry (a JSON document): its usage
// type must be want, or want after a region prefix ("APS2-" + want); the
// price is the first on-demand tier above zero, in USD.
func parseProduct(doc, want string) (usage string, usd float64, ok bool) {
	var p struct {
		Product struct {
			Attributes map[string]string `json:"attributes"`
		} `json:"product"`
		Terms struct {
			OnDemand map[string]struct {
				PriceDimensions map[string]struct {
					BeginRange   string            `json:"beginRange"`
					PricePerUnit map[string]string `json:"pricePerUnit"`
				} `json:"priceDimensions"`
			} `json:"OnDemand"`
		} `json:"terms"`
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return "", 0, false
	}
	usage = p.Product.Attributes["usagetype"]
	prefix, found := strings.CutSuffix(usage, want)
	if !found || (prefix != "" && !regionPrefix.MatchString(prefix)) {
		// "SpotUsage-Fargate-GB-Hours" is not "Fargate-GB-Hours": what
		// comes before want must be a region's prefix ("APS2-", "EU-").
		return "", 0, false
	}
	type tier struct {
		begin float64
		usd   float64
	}
	var tiers []tier
	for _, term := range p.Terms.OnDemand {
		for _, d := range term.PriceDimensions {
			v, err := strconv.ParseFloat(d.PricePerUnit["USD"], 64)
			if err != nil || v <= 0 {
				continue
			}
			b, _ := strconv.ParseFloat(d.BeginRange, 64)
			tiers = append(tiers, tier{b, v})
		}
	}
	if len(tiers) == 0 {
		return "", 0, false
	}
	sort.Slice(tiers, func(i, j int) bool { return tiers[i].begin < tiers[j].begin })
	return usage, tiers[0].usd, true
}

// PriceKeys lists every price key, in the table's order.
func PriceKeys() []string {
	var rp RegionPrices
	var keys []string
	for _, f := range rp.fields() {
		keys = append(keys, f.key)
	}
	return keys
}

// queryKeys lists the keys queries knows, sorted (for the test that holds
// it to PriceKeys).
func queryKeys() []string {
	var keys []string
	for k := range queries {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Query names the product a price key is fetched from: its service code,
// its usage type after the region's prefix, and whether the product is
// global (no regionCode). For test doubles that stand in for the API.
type Query struct {
	ServiceCode, UsageType string
	Global                 bool
}

// Queries lists the product of every price key.
func Queries() map[string]Query {
	out := map[string]Query{}
	for k, q := range queries {
		out[k] = Query{ServiceCode: q.service, UsageType: q.usage, Global: globalUsage[q.usage]}
	}
	return out
}
