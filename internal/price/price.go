// Package price is lowfare's one price table: dated us-east-1 (and other
// regions') list prices with their sources, embedded as prices.json, and the
// always-free allowances that do not vary by region. The estimate
// (internal/cost) and the spec rules' warnings (internal/stack) both read
// it, so a price is written once.
package price

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
)

// builtinPrices is the price table that ships with lowfare. It is data, not
// code, so a price change is a one-line diff with its date and source.
//
//go:embed prices.json
var builtinPrices []byte

// Price is one list price in USD with the month it was checked and where it
// comes from. The unit is part of the key that names the price.
type Price struct {
	USD    float64 `json:"usd"`
	Date   string  `json:"date"`
	Source string  `json:"source"`
}

// RegionPrices are the prices the estimate needs in one region. Every field
// is required in a table; units are in the names.
type RegionPrices struct {
	FargateVCPUHourX86   Price `json:"fargate_vcpu_hour_x86"`
	FargateGBHourX86     Price `json:"fargate_gb_hour_x86"`
	FargateVCPUHourARM64 Price `json:"fargate_vcpu_hour_arm64"`
	FargateGBHourARM64   Price `json:"fargate_gb_hour_arm64"`
	FargateSpotVCPUHour  Price `json:"fargate_spot_vcpu_hour"`
	FargateSpotGBHour    Price `json:"fargate_spot_gb_hour"`

	ALBHour        Price `json:"alb_hour"`
	ALBLCUHour     Price `json:"alb_lcu_hour"`
	PublicIPv4Hour Price `json:"public_ipv4_hour"`

	HTTPAPIMillionRequests        Price `json:"http_api_million_requests"`
	CloudMapInstanceMonth         Price `json:"cloud_map_instance_month"`
	CloudMapMillionDiscoveryCalls Price `json:"cloud_map_million_discovery_calls"`
	LambdaMillionRequests         Price `json:"lambda_million_requests"`
	LambdaGBSecondARM64           Price `json:"lambda_gb_second_arm64"`
	LambdaGBSecondX86             Price `json:"lambda_gb_second_x86"`
	DynamoDBRCUHour               Price `json:"dynamodb_rcu_hour"`
	DynamoDBWCUHour               Price `json:"dynamodb_wcu_hour"`
	DynamoDBMillionReads          Price `json:"dynamodb_million_reads"`
	DynamoDBMillionWrites         Price `json:"dynamodb_million_writes"`
	DynamoDBStorageGBMonth        Price `json:"dynamodb_storage_gb_month"`
	DynamoDBPITRGBMonth           Price `json:"dynamodb_pitr_gb_month"`
	LogsIngestGB                  Price `json:"logs_ingest_gb"`
	LogsStorageGBMonth            Price `json:"logs_storage_gb_month"`
	AlarmMonth                    Price `json:"alarm_month"`
	CustomMetricMonth             Price `json:"custom_metric_month"`
	DashboardMonth                Price `json:"dashboard_month"`
	ECRStorageGBMonth             Price `json:"ecr_storage_gb_month"`
	TransferOutGB                 Price `json:"transfer_out_gb"`
	Route53HostedZoneMonth        Price `json:"route53_hosted_zone_month"`
	NATGatewayHour                Price `json:"nat_gateway_hour"`
	NATGatewayGB                  Price `json:"nat_gateway_gb"`

	// Aurora PostgreSQL Serverless v2 (Aurora Standard storage), for a
	// spec with a database. Optional in a table (databaseFields), so a
	// --prices file written before them still prices specs without one;
	// the estimate of a spec with a database asks for them by name.
	AuroraACUHour        Price `json:"aurora_serverless_v2_acu_hour,omitzero"`
	AuroraStorageGBMonth Price `json:"aurora_storage_gb_month,omitzero"`
	AuroraMillionIO      Price `json:"aurora_million_io,omitzero"`
	AuroraBackupGBMonth  Price `json:"aurora_backup_gb_month,omitzero"`
}

// DatabaseFields lists the database's prices with their keys: checked
// when present, required only by the estimate of a spec with a database.
func (r *RegionPrices) databaseFields() []namedPrice {
	return []namedPrice{
		{"aurora_serverless_v2_acu_hour", &r.AuroraACUHour},
		{"aurora_storage_gb_month", &r.AuroraStorageGBMonth},
		{"aurora_million_io", &r.AuroraMillionIO},
		{"aurora_backup_gb_month", &r.AuroraBackupGBMonth},
	}
}

// MissingDatabasePrices names the database prices the region lacks, as
// regions.<region>.<key>, or nil when it has them all.
func (r RegionPrices) MissingDatabasePrices(region string) []string {
	var out []string
	for _, f := range r.databaseFields() {
		if *f.price == (Price{}) {
			out = append(out, "regions."+region+"."+f.key)
		}
	}
	return out
}

// fields lists every price with its key, so validation names what is wrong
// without reflection.
func (r *RegionPrices) fields() []namedPrice {
	return []namedPrice{
		{"fargate_vcpu_hour_x86", &r.FargateVCPUHourX86},
		{"fargate_gb_hour_x86", &r.FargateGBHourX86},
		{"fargate_vcpu_hour_arm64", &r.FargateVCPUHourARM64},
		{"fargate_gb_hour_arm64", &r.FargateGBHourARM64},
		{"fargate_spot_vcpu_hour", &r.FargateSpotVCPUHour},
		{"fargate_spot_gb_hour", &r.FargateSpotGBHour},
		{"alb_hour", &r.ALBHour},
		{"alb_lcu_hour", &r.ALBLCUHour},
		{"public_ipv4_hour", &r.PublicIPv4Hour},
		{"http_api_million_requests", &r.HTTPAPIMillionRequests},
		{"cloud_map_instance_month", &r.CloudMapInstanceMonth},
		{"cloud_map_million_discovery_calls", &r.CloudMapMillionDiscoveryCalls},
		{"lambda_million_requests", &r.LambdaMillionRequests},
		{"lambda_gb_second_arm64", &r.LambdaGBSecondARM64},
		{"lambda_gb_second_x86", &r.LambdaGBSecondX86},
		{"dynamodb_rcu_hour", &r.DynamoDBRCUHour},
		{"dynamodb_wcu_hour", &r.DynamoDBWCUHour},
		{"dynamodb_million_reads", &r.DynamoDBMillionReads},
		{"dynamodb_million_writes", &r.DynamoDBMillionWrites},
		{"dynamodb_storage_gb_month", &r.DynamoDBStorageGBMonth},
		{"dynamodb_pitr_gb_month", &r.DynamoDBPITRGBMonth},
		{"logs_ingest_gb", &r.LogsIngestGB},
		{"logs_storage_gb_month", &r.LogsStorageGBMonth},
		{"alarm_month", &r.AlarmMonth},
		{"custom_metric_month", &r.CustomMetricMonth},
		{"dashboard_month", &r.DashboardMonth},
		{"ecr_storage_gb_month", &r.ECRStorageGBMonth},
		{"transfer_out_gb", &r.TransferOutGB},
		{"route53_hosted_zone_month", &r.Route53HostedZoneMonth},
		{"nat_gateway_hour", &r.NATGatewayHour},
		{"nat_gateway_gb", &r.NATGatewayGB},
	}
}

type namedPrice struct {
	key   string
	price *Price
}

// Table is a price table: prices per region.
type Table struct {
	// Name says where the table came from, for messages and the report.
	Name        string                  `json:"-"`
	Description string                  `json:"description,omitempty"`
	Regions     map[string]RegionPrices `json:"regions"`
}

// BuiltinJSON is the built-in table as it ships ('lowfare cost
// --print-prices'): the starting point of a table for another region.
func BuiltinJSON() []byte { return slices.Clone(builtinPrices) }

// BuiltinTable returns the price table that ships with lowfare. It fails
// only if the binary was built from a tree whose table the tests reject.
func BuiltinTable() (*Table, error) {
	return ParseTable("built-in price table", builtinPrices)
}

// LoadTable reads a price table in the built-in format (see
// internal/price/prices.json).
func LoadTable(path string) (*Table, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("prices file: %w", err)
	}
	return ParseTable(path, data)
}

// ParseTable decodes and checks a price table. Every problem names the file,
// the region and the price key, so the user knows which line to fix.
func ParseTable(name string, data []byte) (*Table, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var t Table
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%s: %s", name, describeJSONError(data, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: unexpected data after the price table's closing brace", name)
	}
	t.Name = name
	if len(t.Regions) == 0 {
		return nil, fmt.Errorf("%s: no regions: the table needs a \"regions\" object with at least one region, like the built-in internal/price/prices.json", name)
	}
	var problems []string
	for _, region := range t.RegionNames() {
		rp := t.Regions[region]
		required := len(rp.fields())
		for i, f := range slices.Concat(rp.fields(), rp.databaseFields()) {
			p := f.price
			where := fmt.Sprintf("regions.%s.%s", region, f.key)
			switch {
			case *p == Price{} && i >= required:
				// A database price may be left out (see databaseFields).
			case *p == Price{}:
				problems = append(problems, where+": missing")
			case math.IsNaN(p.USD) || math.IsInf(p.USD, 0) || p.USD < 0:
				problems = append(problems, fmt.Sprintf("%s: usd %v is not a price (want zero or more)", where, p.USD))
			case strings.TrimSpace(p.Date) == "":
				problems = append(problems, where+": date is empty (say when the price was checked, like \"2026-11\")")
			case strings.TrimSpace(p.Source) == "":
				problems = append(problems, where+": source is empty (name the pricing page or document)")
			}
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s: %d problem(s) in the price table:\n  %s", name, len(problems), strings.Join(problems, "\n  "))
	}
	return &t, nil
}

// describeJSONError turns a decoding error into a message with a line and
// column where the decoder knows the offset.
func describeJSONError(data []byte, err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		// Offset counts the bytes read, the offending one included.
		line, col := lineCol(data, max(syn.Offset-1, 0))
		return fmt.Sprintf("line %d, column %d: %v", line, col, err)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		line, col := lineCol(data, typ.Offset)
		return fmt.Sprintf("line %d, column %d: %s must be a %v, not a JSON %s", line, col, typ.Field, typ.Type, typ.Value)
	}
	if errors.Is(err, io.EOF) {
		return "empty file: want a JSON price table"
	}
	// Unknown fields come back as a plain error naming the key.
	return err.Error() + " (a misspelt price key? the keys are those of the built-in table)"
}

func lineCol(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	line, col = 1, 1
	for _, b := range data[:offset] {
		if b == '\n' {
			line++
			col = 1
			continue
		}
		col++
	}
	return line, col
}

// RegionNames lists the table's regions, sorted.
func (t *Table) RegionNames() []string {
	return slices.Sorted(maps.Keys(t.Regions))
}

// UnknownRegionError is returned for a region the table has no prices for.
type UnknownRegionError struct {
	Region    string
	Table     string
	Supported []string
}

func (e *UnknownRegionError) Error() string {
	return fmt.Sprintf("no prices for region %q in the %s (it has %s); pass --prices FILE with a table for %s in the built-in table's format ('lowfare cost --print-prices' prints it)",
		e.Region, e.Table, strings.Join(e.Supported, ", "), e.Region)
}

// Region returns the prices of one region.
func (t *Table) Region(region string) (RegionPrices, error) {
	rp, ok := t.Regions[region]
	if !ok {
		return RegionPrices{}, &UnknownRegionError{Region: region, Table: t.Name, Supported: t.RegionNames()}
	}
	return rp, nil
}

// Dates lists the distinct months the prices were checked, sorted.
func (r RegionPrices) Dates() []string { return dates(r.fields()) }

// DatesWithDatabase is Dates with the database's prices' months too.
func (r RegionPrices) DatesWithDatabase() []string {
	return dates(slices.Concat(r.fields(), r.databaseFields()))
}

func dates(list []namedPrice) []string {
	seen := map[string]bool{}
	for _, f := range list {
		if f.price.Date != "" {
			seen[f.price.Date] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// HoursPerMonth is the average month AWS pricing pages use: 365 days x 24
// hours / 12 months.
const HoursPerMonth = 730.0

// Always-free allowances (every free-tier model has them), per month.
// https://aws.amazon.com/free/ lists them as "Always free".
const (
	FreeDynamoDBStorageGB = 25.0
	FreeDynamoDBRCU       = 25.0 // provisioned, table and GSIs together
	FreeDynamoDBWCU       = 25.0
	FreeLogsGB            = 5.0 // ingest, storage and Insights scans together
	FreeAlarms            = 10.0
	FreeDashboards        = 3.0
	FreeCustomMetrics     = 10.0
	FreeLambdaRequestsM   = 1.0 // million requests
	FreeLambdaGBSeconds   = 400000.0
	FreeTransferOutGB     = 100.0
)

// Builtin returns the built-in table's prices for region, or us-east-1's
// when the table has none for it: for warnings, which name a rough figure,
// never for the estimate, which refuses an unknown region.
func Builtin(region string) RegionPrices {
	t, err := BuiltinTable()
	if err != nil {
		panic(err) // the tests reject a binary whose table does not parse
	}
	if rp, ok := t.Regions[region]; ok {
		return rp
	}
	return t.Regions["us-east-1"]
}
