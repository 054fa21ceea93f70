package price

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/pricing"

	"github.com/lowfare/lowfare/internal/awsfake"
)

func TestQueriesCoverEveryPrice(t *testing.T) {
	keys := PriceKeys()
	slices.Sort(keys)
	if !slices.Equal(keys, queryKeys()) {
		t.Errorf("price keys %v\nqueries   %v", keys, queryKeys())
	}
}

// sydney fills the Price List double with ap-southeast-2 products for every
// price but Cloud Map's two, with distractors: the Spot usage type that
// ends like the on-demand one, another region's product, and a tiered
// transfer price whose first tier is free.
func sydney(f *awsfake.Pricing) {
	for key, q := range queries {
		if q.service == "AWSCloudMap" {
			continue
		}
		usd := "0.5"
		switch key {
		case "fargate_vcpu_hour_arm64":
			usd = "0.03952"
		case "transfer_out_gb":
			f.AddProduct(q.service, "ap-southeast-2", "APS2-"+q.usage, awsfake.PricingTier{BeginRange: "0", USD: "0.0000000000"},
				awsfake.PricingTier{BeginRange: "100", USD: "0.114"}, awsfake.PricingTier{BeginRange: "10240", USD: "0.098"})
			continue
		}
		region := "ap-southeast-2"
		if globalUsage[q.usage] {
			region = ""
		}
		f.AddProduct(q.service, region, "APS2-"+q.usage, awsfake.PricingTier{BeginRange: "0", USD: usd})
		f.AddProduct(q.service, "eu-west-1", "EU-"+q.usage, awsfake.PricingTier{BeginRange: "0", USD: "9"})
	}
	f.AddProduct("AmazonECS", "ap-southeast-2", "APS2-SpotUsage-Fargate-ARM-vCPU-Hours:perCPU", awsfake.PricingTier{BeginRange: "0", USD: "7"})
}

func TestFetchRegionFromTheAPIAndTheCache(t *testing.T) {
	fake := awsfake.NewPricing()
	sydney(fake)
	api := pricing.NewFromConfig(awsfake.Config(t, fake))
	path := filepath.Join(t.TempDir(), "prices", "ap-southeast-2.json")
	now := time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC)

	f, err := FetchRegion(context.Background(), api, "ap-southeast-2", path, now)
	if err != nil {
		t.Fatal(err)
	}
	if f.Calls == 0 || f.Calls != fake.CallCount("GetProducts") {
		t.Errorf("%d calls counted, %d made", f.Calls, fake.CallCount("GetProducts"))
	}
	rp := f.Table.Regions["ap-southeast-2"]
	if rp.FargateVCPUHourARM64.USD != 0.03952 || !strings.Contains(rp.FargateVCPUHourARM64.Source, "APS2-Fargate-ARM-vCPU-Hours:perCPU") || rp.FargateVCPUHourARM64.Date != "2026-12-08" {
		t.Errorf("arm64 vCPU %+v", rp.FargateVCPUHourARM64)
	}
	if rp.TransferOutGB.USD != 0.114 {
		t.Errorf("transfer out %v: want the first tier above zero", rp.TransferOutGB.USD)
	}
	if rp.LambdaMillionRequests.USD != 0.5e6 {
		t.Errorf("Lambda requests %v a million: the API's price is per request", rp.LambdaMillionRequests.USD)
	}
	if want := []string{"cloud_map_instance_month", "cloud_map_million_discovery_calls"}; !slices.Equal(f.Fallback, want) {
		t.Errorf("fallback %v, want %v", f.Fallback, want)
	}
	if !strings.HasPrefix(rp.CloudMapInstanceMonth.Source, SourceFallback) || rp.CloudMapInstanceMonth.USD != Builtin("us-east-1").CloudMapInstanceMonth.USD {
		t.Errorf("Cloud Map fallback %+v", rp.CloudMapInstanceMonth)
	}
	if len(f.FromAPI) != len(PriceKeys())-2 {
		t.Errorf("%d prices from the API", len(f.FromAPI))
	}

	// The second run reads the cache: no call.
	calls := fake.CallCount("GetProducts")
	again, err := FetchRegion(context.Background(), api, "ap-southeast-2", path, now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if fake.CallCount("GetProducts") != calls || again.Calls != 0 || !strings.Contains(again.Table.Name, "cached") {
		t.Errorf("second run made %d calls (%s)", fake.CallCount("GetProducts")-calls, again.Table.Name)
	}
	if again.Table.Regions["ap-southeast-2"] != rp || !slices.Equal(again.Fallback, f.Fallback) {
		t.Error("the cache does not give back what was fetched")
	}
	// A cache older than CacheMaxAge is fetched again.
	if _, err := FetchRegion(context.Background(), api, "ap-southeast-2", path, now.Add(CacheMaxAge+48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if fake.CallCount("GetProducts") == calls {
		t.Error("a stale cache was used")
	}
}

func TestFetchRegionDenied(t *testing.T) {
	fake := awsfake.NewPricing()
	fake.Deny(true)
	api := pricing.NewFromConfig(awsfake.Config(t, fake))
	path := filepath.Join(t.TempDir(), "ap-southeast-2.json")
	_, err := FetchRegion(context.Background(), api, "ap-southeast-2", path, time.Now())
	if err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Fatalf("error %v", err)
	}
}
