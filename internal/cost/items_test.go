package cost

import (
	"math"
	"testing"

	"github.com/lowfare/lowfare/internal/price"
	"github.com/lowfare/lowfare/internal/spec"
)

// usEast1 is the built-in us-east-1 price list, the one the hand arithmetic
// below uses.
func usEast1(t *testing.T) price.RegionPrices {
	t.Helper()
	table, err := price.BuiltinTable()
	if err != nil {
		t.Fatal(err)
	}
	p, err := table.Region("us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// seedWorkload: 1 M requests of 10 KB, 50 ms Lambda, a 1 GB table.
func seedWorkload() Workload {
	return Workload{RequestsPerMonth: 1e6, ResponseKB: 10, LambdaMS: 50, StoredGB: 1}
}

// seedShape is spec.Default() resolved: alb, arm64, one 0.25 vCPU / 0.5 GB
// task 24/7, provisioned 5/5 with one GSI, 7-day logs, 10 alarm metrics.
func seedShape(t *testing.T) Shape {
	t.Helper()
	sh, err := ShapeOf(spec.Default())
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

func find(t *testing.T, items []Item, name string) Item {
	t.Helper()
	for _, it := range items {
		if it.Name == name {
			return it
		}
	}
	t.Fatalf("no line item %q in %+v", name, items)
	return Item{}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

type itemWant struct {
	qty, free, usd float64
}

func checkItem(t *testing.T, got Item, want itemWant) {
	t.Helper()
	if !near(got.Quantity, want.qty) || !near(got.FreeQuantity, want.free) || !near(got.USD, want.usd) {
		t.Errorf("%s: quantity %v free %v usd %v; want quantity %v free %v usd %v",
			got.Name, got.Quantity, got.FreeQuantity, got.USD, want.qty, want.free, want.usd)
	}
}

func TestLineItems(t *testing.T) {
	p := usEast1(t)
	seed := seedShape(t)
	w := seedWorkload()
	none := pricer{p: p, ft: FreeTierNone, w: w}
	legacy := pricer{p: p, ft: FreeTierLegacy, w: w}

	x86 := seed
	x86.Arch = spec.ArchX8664
	spot := x86
	spot.Spot = true
	weekdays := seed
	weekdays.HoursAwake = 60 * 730.0 / 168 // 260.714286 h
	twoTasks := seed
	twoTasks.Tasks = 2
	onDemand := seed
	onDemand.Billing = spec.BillingOnDemand
	big := seed
	big.Read, big.Write = 20, 20
	withPITR := seed
	withPITR.PITR = true
	manyAlarms := seed
	manyAlarms.Alarms = 13
	lambda := seed
	lambda.Runtime, lambda.Ingress, lambda.Tasks = RuntimeServerless, spec.IngressURL, 0

	bigStore := none
	bigStore.w.StoredGB = 40
	heavy := none
	heavy.w = Workload{RequestsPerMonth: 20e6, ResponseKB: 50, LambdaMS: 100, StoredGB: 1}
	manyLogs := none
	logGB := 12.0
	manyLogs.w.LogGB = &logGB

	cases := []struct {
		name string
		got  Item
		want itemWant
	}{
		// 1 task x 0.25 vCPU x 730 h = 182.5 vCPU-h; x $0.03238 = $5.909350
		{"fargate vcpu arm64", find(t, none.fargate(seed), "fargate_vcpu"), itemWant{182.5, 0, 5.90935}},
		// 1 x 0.5 GB x 730 h = 365 GB-h; x $0.00356 = $1.299400
		{"fargate memory arm64", find(t, none.fargate(seed), "fargate_memory"), itemWant{365, 0, 1.2994}},
		// 182.5 x $0.04048 = $7.387600
		{"fargate vcpu x86", find(t, none.fargate(x86), "fargate_vcpu"), itemWant{182.5, 0, 7.3876}},
		// 365 x $0.004445 = $1.622425
		{"fargate memory x86", find(t, none.fargate(x86), "fargate_memory"), itemWant{365, 0, 1.622425}},
		// Spot = 30% of x86: 182.5 x $0.012144 = $2.216280
		{"fargate vcpu spot", find(t, none.fargate(spot), "fargate_vcpu"), itemWant{182.5, 0, 2.21628}},
		// 365 x $0.0013335 = $0.4867275
		{"fargate memory spot", find(t, none.fargate(spot), "fargate_memory"), itemWant{365, 0, 0.4867275}},
		// Mon-Fri 08-20: 60 h/week x 730/168 = 260.714286 h; x 0.25 = 65.178571 vCPU-h; x $0.03238 = $2.110482
		{"fargate vcpu scheduled", find(t, none.fargate(weekdays), "fargate_vcpu"), itemWant{65.178571428, 0, 2.110482142}},
		// the legacy free tier has no Fargate: same $5.909350
		{"fargate vcpu legacy", find(t, legacy.fargate(seed), "fargate_vcpu"), itemWant{182.5, 0, 5.90935}},

		// 1 task x 730 h x $0.005 = $3.65
		{"task ipv4", none.taskIPv4(seed), itemWant{730, 0, 3.65}},
		// 2 tasks x 730 h = 1460 address-hours x $0.005 = $7.30
		{"task ipv4 two tasks", none.taskIPv4(twoTasks), itemWant{1460, 0, 7.30}},
		// only while awake: 260.714286 h x $0.005 = $1.303571
		{"task ipv4 scheduled", none.taskIPv4(weekdays), itemWant{260.714285714, 0, 1.303571428}},
		// the legacy 750 h cover EC2 only: still $3.65
		{"task ipv4 legacy", legacy.taskIPv4(seed), itemWant{730, 0, 3.65}},

		// 730 h x $0.0225 = $16.425
		{"alb hours", find(t, none.alb(seed), "alb_hours"), itemWant{730, 0, 16.425}},
		// legacy: 750 free h cover the 730: $0
		{"alb hours legacy", find(t, legacy.alb(seed), "alb_hours"), itemWant{730, 750, 0}},
		// the ALB runs all month even when the tasks sleep: $16.425
		{"alb hours scheduled", find(t, none.alb(weekdays), "alb_hours"), itemWant{730, 0, 16.425}},
		// 1e6 req / 730 h = 1369.863 req/h; new connections 1369.863/3600 = 0.380518/s;
		// / 25 = 0.0152207 LCU (active: 22.83/min / 3000 = 0.00761; bytes:
		// 1369.863 x 11 KB = 0.0150685 GB/h = 0.0150685 LCU); max 0.0152207 LCU
		// x 730 h = 11.111111 LCU-h (= 1e6/3600/25) x $0.008 = $0.088889
		{"alb lcu", find(t, none.alb(seed), "alb_lcu"), itemWant{11.111111111, 0, 0.088888889}},
		// legacy: 15 LCU-h free cover 11.11: $0
		{"alb lcu legacy", find(t, legacy.alb(seed), "alb_lcu"), itemWant{11.111111111, 15, 0}},
		// 20e6 req of 50 KB: bytes 20e6 x 51 KB / 1e6 = 1020 GB over 730 h = 1.39726 LCU/h
		// (new connections 20e6/730/3600/25 = 0.30441); 1.39726 x 730 = 1020 LCU-h x $0.008 = $8.16
		{"alb lcu bytes dominate", find(t, heavy.alb(seed), "alb_lcu"), itemWant{1020, 0, 8.16}},
		// 2 AZ nodes x 730 h = 1460 address-hours x $0.005 = $7.30
		{"alb ipv4", find(t, none.alb(seed), "alb_public_ipv4"), itemWant{1460, 0, 7.30}},

		// 1e6 requests = 1 million x $1.00 = $1.00
		{"http api", find(t, none.apigw(seed), "http_api_requests"), itemWant{1, 0, 1}},
		// legacy: 1 M free: $0
		{"http api legacy", find(t, legacy.apigw(seed), "http_api_requests"), itemWant{1, 1, 0}},
		// 1 task x 730/730 = 1 instance-month x $0.10 = $0.10
		{"cloud map instances", find(t, none.apigw(seed), "cloud_map_instances"), itemWant{1, 0, 0.10}},
		// asleep: 260.714286/730 = 0.357143 instance-month x $0.10 = $0.035714
		{"cloud map instances scheduled", find(t, none.apigw(weekdays), "cloud_map_instances"), itemWant{0.357142857, 0, 0.035714286}},
		// 1e6 requests x 1 call = 1 million calls x $1.00 = $1.00
		{"cloud map discovery", find(t, none.apigw(seed), "cloud_map_discovery"), itemWant{1, 0, 1}},
		// one private DNS namespace zone: $0.50
		{"cloud map namespace zone", find(t, none.apigw(seed), "cloud_map_namespace_zone"), itemWant{1, 0, 0.5}},

		// 1 M requests, 1 M free: $0
		{"lambda requests", find(t, none.lambda(lambda), "lambda_requests"), itemWant{1, 1, 0}},
		// 1e6 x 0.05 s x 0.5 GB = 25,000 GB-s, 400,000 free: $0
		{"lambda compute", find(t, none.lambda(lambda), "lambda_compute"), itemWant{25000, 400000, 0}},
		// 20 M requests: (20 - 1) x $0.20 = $3.80
		{"lambda requests heavy", find(t, heavy.lambda(lambda), "lambda_requests"), itemWant{20, 1, 3.8}},
		// 20e6 x 0.1 s x 0.5 GB = 1,000,000 GB-s; (1e6 - 4e5) x $0.0000133334 = $8.00004
		{"lambda compute heavy", find(t, heavy.lambda(lambda), "lambda_compute"), itemWant{1e6, 400000, 8.00004}},

		// 2 NAT x 730 h = 1460 h x $0.045 = $65.70
		{"nat hours", find(t, none.nat(), "nat_gateway_hours"), itemWant{1460, 0, 65.70}},
		// 1e6 x 3 calls x 1 KB = 3 GB x $0.045 = $0.135
		{"nat data", find(t, none.nat(), "nat_gateway_data"), itemWant{3, 0, 0.135}},
		// 2 Elastic IPs x 730 h = 1460 x $0.005 = $7.30
		{"nat ipv4", find(t, none.nat(), "nat_public_ipv4"), itemWant{1460, 0, 7.30}},

		// 5 RCU x (table + GSI) x 730 h = 7,300 RCU-h; 25 x 730 = 18,250 free: $0
		{"dynamodb rcu", find(t, none.dynamodb(seed), "dynamodb_rcu"), itemWant{7300, 18250, 0}},
		{"dynamodb wcu", find(t, none.dynamodb(seed), "dynamodb_wcu"), itemWant{7300, 18250, 0}},
		// 20 x 2 x 730 = 29,200 RCU-h; (29,200 - 18,250) = 10,950 x $0.00013 = $1.4235
		{"dynamodb rcu beyond free", find(t, none.dynamodb(big), "dynamodb_rcu"), itemWant{29200, 18250, 1.4235}},
		// 10,950 WCU-h x $0.00065 = $7.1175
		{"dynamodb wcu beyond free", find(t, none.dynamodb(big), "dynamodb_wcu"), itemWant{29200, 18250, 7.1175}},
		// on-demand, no free tier: 1e6 x 1 read = 1 M x $0.125 = $0.125
		{"dynamodb on-demand reads", find(t, none.dynamodb(onDemand), "dynamodb_reads"), itemWant{1, 0, 0.125}},
		// 1e6 x 2 writes = 2 M x $0.625 = $1.25
		{"dynamodb on-demand writes", find(t, none.dynamodb(onDemand), "dynamodb_writes"), itemWant{2, 0, 1.25}},
		// 1 GB, 25 free: $0
		{"dynamodb storage", find(t, none.dynamodb(seed), "dynamodb_storage"), itemWant{1, 25, 0}},
		// 40 GB: 15 x $0.25 = $3.75
		{"dynamodb storage beyond free", find(t, bigStore.dynamodb(seed), "dynamodb_storage"), itemWant{40, 25, 3.75}},
		// PITR on 1 GB x $0.20 = $0.20 (no free allowance)
		{"dynamodb pitr", find(t, none.dynamodb(withPITR), "dynamodb_pitr"), itemWant{1, 0, 0.20}},

		// 1e6 x 300 B = 0.3 GB, all within the 5 GB free: $0
		{"logs ingest", find(t, none.logs(seed), "logs_ingest"), itemWant{0.3, 0.3, 0}},
		// stored: 0.3 GB / 30.4167 days x 7 days = 0.069041 GB-month; free what is
		// left of 5 GB (4.7): $0
		{"logs storage", find(t, none.logs(seed), "logs_storage"), itemWant{0.069041096, 4.7, 0}},
		// --log-gb 12: (12 - 5) x $0.50 = $3.50
		{"logs ingest beyond free", find(t, manyLogs.logs(seed), "logs_ingest"), itemWant{12, 5, 3.5}},
		// 12 / 30.4167 x 7 = 2.761644 GB-month, no free left: x $0.03 = $0.082849
		{"logs storage beyond free", find(t, manyLogs.logs(seed), "logs_storage"), itemWant{2.761643836, 0, 0.082849315}},
		// Lambda: 1e6 x 600 B = 0.6 GB, free
		{"logs ingest lambda", find(t, none.logs(lambda), "logs_ingest"), itemWant{0.6, 0.6, 0}},

		// alb: 5xx 2 + p95 1 + unhealthy 1 + throttles 2 + target tracking 2 = 8, 10 free: $0
		{"alarms", find(t, none.monitoring(seed), "cloudwatch_alarms"), itemWant{10, 10, 0}},
		// 13 alarms: 3 x $0.10 = $0.30
		{"alarms beyond free", find(t, none.monitoring(manyAlarms), "cloudwatch_alarms"), itemWant{13, 10, 0.3}},
		// 1 dashboard, 3 free: $0
		{"dashboards", find(t, none.monitoring(seed), "cloudwatch_dashboards"), itemWant{1, 3, 0}},

		// 10 images x 10 MB = 0.1 GB x $0.10 = $0.01
		{"ecr", none.ecr(), itemWant{0.1, 0, 0.01}},
		// legacy: 0.5 GB free: $0
		{"ecr legacy", legacy.ecr(), itemWant{0.1, 0.5, 0}},

		// 1e6 x 10 KB = 10 GB, 100 free: $0
		{"transfer out", none.transferOut(), itemWant{10, 100, 0}},
		// 20e6 x 50 KB = 1000 GB: 900 x $0.09 = $81
		{"transfer out beyond free", heavy.transferOut(), itemWant{1000, 100, 81}},

		// one zone-month: $0.50
		{"route53 hosted zone", none.hostedZone(), itemWant{1, 0, 0.5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkItem(t, c.got, c.want) })
	}
}

func TestLCUDimensions(t *testing.T) {
	// 100 M requests of 0 KB over 730 h: 136,986 req/h = 38.05 new conn/s
	// = 1.5221 LCU; active 2283/min / 3000 = 0.761; bytes 136,986 x 1 KB
	// = 0.137 GB/h: new connections win.
	lcuHours, dim := albLCUHours(Workload{RequestsPerMonth: 100e6}, 730)
	if dim != "new connections" || !near(lcuHours, 100e6/3600/25) {
		t.Errorf("got %v LCU-h by %s; want %v by new connections", lcuHours, dim, 100e6/3600/25)
	}
	// 1 M requests of 1000 KB: 1001 GB processed > new connections.
	if _, dim := albLCUHours(Workload{RequestsPerMonth: 1e6, ResponseKB: 1000}, 730); dim != "processed bytes" {
		t.Errorf("big responses: got %s, want processed bytes", dim)
	}
	// No traffic: no LCU.
	if lcuHours, _ := albLCUHours(Workload{}, 730); lcuHours != 0 {
		t.Errorf("no traffic: got %v LCU-h", lcuHours)
	}
	// The same requests squeezed into fewer hours cost the same LCU-hours
	// (the model is linear per hour): 1e6/3600/25 either way.
	a, _ := albLCUHours(Workload{RequestsPerMonth: 1e6, ResponseKB: 10}, 730)
	b, _ := albLCUHours(Workload{RequestsPerMonth: 1e6, ResponseKB: 10}, 260.7)
	if !near(a, b) {
		t.Errorf("LCU-hours depend on the spread: %v vs %v", a, b)
	}
}
