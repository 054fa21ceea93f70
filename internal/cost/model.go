// Package cost prices a lowfare spec before anything exists in AWS: a dated
// price table with sources, the free-tier models, the monthly estimate line
// by line, and the same workload in other shapes. It reads the spec, never a
// template, and makes no network call.
package cost

import (
	"fmt"
	"math"
	"strings"

	"github.com/lowfare/lowfare/internal/price"
)

// The assumptions of the model. docs/cost-model.md explains each one and
// where it comes from; change them there and here together.
const (
	// HoursPerMonth is the average month AWS pricing pages use (one
	// definition, in internal/price).
	HoursPerMonth = price.HoursPerMonth
	hoursPerWeek  = 168.0
	daysPerMonth  = HoursPerMonth / 24 // 30.4167

	// kbPerGB: traffic and log volumes are converted with decimal units
	// (1 GB = 10^6 KB = 10^9 bytes). AWS bills 2^30-byte GB, so this
	// overstates those volumes by about 7%: a bias toward a higher bill.
	kbPerGB    = 1e6
	bytesPerGB = 1e9

	// requestKB is what a client sends per request (request line and
	// headers); the ALB processes it as well as the response.
	requestKB = 1.0

	// ALB LCU dimensions: one LCU is 25 new connections a second, 3,000
	// active connections a minute, 1 GB processed an hour (IP targets), or
	// 1,000 rule evaluations a second beyond the first 10 rules free.
	lcuNewConnectionsPerSecond = 25.0
	lcuActiveConnectionsPerMin = 3000.0
	lcuGBPerHour               = 1.0
	lcuRuleEvaluationsPerSec   = 1000.0
	lcuFreeRules               = 10
	albRules                   = 1 // the listener's default action; lowfare adds no rules

	// The links service: a request is at most one read (a cache miss on the
	// slug) and two writes (the click total and the day bucket, which the
	// service aggregates per flush; at low traffic each click is its own
	// flush). Upper bounds at the traffic this tool is for.
	readsPerRequest  = 1.0
	writesPerRequest = 2.0
	// dynamoKBPerCall is what one DynamoDB call moves, request and answer,
	// through a NAT gateway in the CDK reference (tasks in private subnets).
	dynamoKBPerCall = 1.0

	// Log volume per request: one JSON access-log line of about 250 bytes
	// plus CloudWatch's 26 bytes of per-event overhead, rounded up. Lambda
	// adds its START, END and REPORT lines (about 300 bytes).
	logBytesPerRequestECS    = 300.0
	logBytesPerRequestLambda = 600.0

	// ECR: a static Go binary on a distroless base is about 10 MB; the
	// repository keeps about ten images (one per deploy).
	imageMB    = 10.0
	imagesKept = 10.0

	// Cloud Map: assume API Gateway resolves the service on every request
	// (an upper bound: AWS does not document a cache).
	discoveryCallsPerRequest = 1.0

	// DefaultLambdaMS is the average Lambda duration when none is given
	// (internal/price says why 50 ms; the template's wake rate assumes it).
	DefaultLambdaMS = price.DefaultLambdaMS
	// DefaultStoredGB is the table size when none is given: a million
	// links of about 1 KB with their GSI copies.
	DefaultStoredGB = 1.0

	// CloudWatch bills alarms per metric they read: a metric-math alarm
	// counts each metric in it. lowfare's template (internal/stack,
	// observability.go) creates, in billed alarm metrics:
	//   5xx rate: errors and requests, 2 (ALB, HTTP API; Lambda: errors
	//   and invocations), plus 1 on ECS: behind an ALB its own 5xx (or,
	//   with service.idle, the CPU samples that tell awake from asleep);
	//   behind an HTTP API, for a service that sleeps, the CPU samples (a
	//   schedule) or the controller's invocations (idle, serve: page), and
	//   none with serve: app, whose rate counts every period; p95
	//   latency: 1; DynamoDB throttles: reads and writes of the table and
	//   of GSI1, 4.
	// Each target-tracking policy adds two alarms of its own (ECS has one).
	alarmMetrics5xx        = 2
	alarmMetrics5xxECS     = 1
	alarmMetricsLatency    = 1
	alarmMetricsThrottles  = 4
	alarmsPerTargetTrack   = 2
	targetTrackingPolicies = 1
	dashboards             = 1
	customMetrics          = 0 // lowfare publishes none; Container Insights is off

	// The CDK ecs-patterns default the reference row prices.
	cdkNATGateways = 2
	cdkCPU         = 256
	cdkMemoryMB    = 512
)

// Always-free allowances: every free-tier model has them (internal/price
// holds them with the prices).
const (
	freeDynamoDBStorageGB = price.FreeDynamoDBStorageGB
	freeDynamoDBRCU       = price.FreeDynamoDBRCU
	freeDynamoDBWCU       = price.FreeDynamoDBWCU
	freeLogsGB            = price.FreeLogsGB
	freeAlarms            = price.FreeAlarms
	freeDashboards        = price.FreeDashboards
	freeCustomMetrics     = price.FreeCustomMetrics
	freeLambdaRequestsM   = price.FreeLambdaRequestsM
	freeLambdaGBSeconds   = price.FreeLambdaGBSeconds
	freeTransferOutGB     = price.FreeTransferOutGB
)

// The 12-month offers of accounts opened before 2025-07-15.
const (
	legacyALBHours       = 750.0
	legacyALBLCUHours    = 15.0 // read as 15 LCU-hours a month (the conservative reading)
	legacyECRGB          = 0.5
	legacyHTTPAPIMillion = 1.0
)

// FreeTier is a free-tier model.
type FreeTier string

// Free-tier models.
const (
	// FreeTierNone: only the always-free allowances.
	FreeTierNone FreeTier = "none"
	// FreeTierLegacy adds the 12-month offers of accounts opened before
	// 2025-07-15.
	FreeTierLegacy FreeTier = "legacy"
	// FreeTierCredits prices like none and says the bill is drawn from the
	// credits of accounts opened since 2025-07-15.
	FreeTierCredits FreeTier = "credits"
)

// ParseFreeTier checks a free-tier model name.
func ParseFreeTier(s string) (FreeTier, error) {
	switch ft := FreeTier(s); ft {
	case FreeTierNone, FreeTierLegacy, FreeTierCredits:
		return ft, nil
	}
	return "", fmt.Errorf("free tier %q is not a model: want none, legacy or credits", s)
}

// Workload is the traffic the estimate prices.
type Workload struct {
	RequestsPerMonth float64
	ResponseKB       float64
	LambdaMS         float64 // average Lambda duration (profile serverless)
	StoredGB         float64 // DynamoDB table size
	// LogGB is the log volume ingested a month; nil derives it from the
	// requests (see logBytesPerRequestECS).
	LogGB *float64
}

// check reports every value that is not a count or size, in one error.
func (w Workload) check() error {
	vals := []struct {
		name string
		v    float64
	}{
		{"workload.requests_per_month", w.RequestsPerMonth},
		{"workload.response_kb", w.ResponseKB},
		{"Lambda duration (ms)", w.LambdaMS},
		{"stored GB", w.StoredGB},
	}
	if w.LogGB != nil {
		vals = append(vals, struct {
			name string
			v    float64
		}{"log GB", *w.LogGB})
	}
	var bad []string
	for _, x := range vals {
		if math.IsNaN(x.v) || math.IsInf(x.v, 0) || x.v < 0 {
			bad = append(bad, fmt.Sprintf("%s %v", x.name, x.v))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s: must be a number, zero or more", strings.Join(bad, ", "))
	}
	return nil
}

// Item is one line of the bill.
type Item struct {
	Name         string  `json:"name"`        // stable identifier, such as fargate_vcpu
	Description  string  `json:"description"` // what a person reads in the table
	Quantity     float64 `json:"quantity"`
	Unit         string  `json:"unit"`
	UnitUSD      float64 `json:"unit_usd"`
	FreeQuantity float64 `json:"free_quantity"`
	USD          float64 `json:"usd"`
	Note         string  `json:"note,omitempty"`

	keep bool // listed even at quantity 0 (see nonZero)
}

// newItem prices quantity beyond the free allowance at price.
func newItem(name, desc string, qty float64, unit string, p price.Price, free float64) Item {
	billable := math.Max(0, qty-free)
	return Item{
		Name:         name,
		Description:  desc,
		Quantity:     qty,
		Unit:         unit,
		UnitUSD:      p.USD,
		FreeQuantity: free,
		USD:          billable * p.USD,
	}
}

// sum adds up the items' costs.
func sum(items []Item) float64 {
	var t float64
	for _, it := range items {
		t += it.USD
	}
	return t
}
