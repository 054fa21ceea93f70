package cost

import (
	"fmt"
	"math"

	"github.com/lowfare/lowfare/internal/price"
	"github.com/lowfare/lowfare/internal/spec"
)

// pricer prices the line items of one shape. Each method is one part of the
// architecture, so each can be checked by hand in the tests.
type pricer struct {
	p  price.RegionPrices
	ft FreeTier
	w  Workload
}

func (pr pricer) legacy() bool { return pr.ft == FreeTierLegacy }

// items returns the bill of a shape, line by line.
func (pr pricer) items(sh Shape) []Item {
	sh = pr.resolve(sh)
	var items []Item
	switch sh.Runtime {
	case RuntimeECS:
		items = append(items, pr.fargate(sh)...)
		items = append(items, pr.taskIPv4(sh))
		switch sh.Ingress {
		case spec.IngressAPIGW:
			items = append(items, pr.apigw(sh)...)
		default:
			items = append(items, pr.alb(sh)...)
		}
		if sh.Idle {
			items = append(items, pr.idleParts(sh)...)
		}
	case RuntimeServerless:
		items = append(items, pr.lambda(sh)...)
		if sh.Ingress == spec.IngressAPIGW {
			items = append(items, pr.httpAPIRequests())
		}
	case RuntimeCDKReference:
		items = append(items, pr.fargate(sh)...)
		items = append(items, pr.alb(sh)...)
		items = append(items, pr.nat()...)
	}
	items = append(items, pr.dynamodb(sh)...)
	items = append(items, pr.database(sh)...)
	items = append(items, pr.logs(sh)...)
	if sh.Runtime != RuntimeCDKReference {
		// The CDK default creates no alarms or dashboard.
		items = append(items, pr.monitoring(sh)...)
	}
	items = append(items, pr.ecr(), pr.transferOut())
	if sh.HostedZone {
		items = append(items, pr.hostedZone())
	}
	return nonZero(items)
}

// nonZero drops lines with no quantity: a shape without PITR has no PITR
// line. Lines marked keep stay: a service that never wakes still shows its
// Fargate lines at zero hours.
func nonZero(items []Item) []Item {
	out := items[:0]
	for _, it := range items {
		if it.Quantity > 0 || it.keep {
			out = append(out, it)
		}
	}
	return out
}

// fargate: tasks x vCPU (or GB) x hours awake, per second in reality,
// averaged here to hours.
func (pr pricer) fargate(sh Shape) []Item {
	vcpu := float64(sh.CPU) / 1024
	gb := float64(sh.MemoryMB) / 1024
	taskHours := float64(sh.Tasks) * sh.HoursAwake
	cpuPrice, memPrice, label := pr.p.FargateVCPUHourARM64, pr.p.FargateGBHourARM64, "arm64"
	switch {
	case sh.Arch == spec.ArchX8664 && sh.Spot:
		cpuPrice, memPrice, label = pr.p.FargateSpotVCPUHour, pr.p.FargateSpotGBHour, "x86_64 Spot"
	case sh.Arch == spec.ArchX8664:
		cpuPrice, memPrice, label = pr.p.FargateVCPUHourX86, pr.p.FargateGBHourX86, "x86_64"
	}
	cpu := newItem("fargate_vcpu", fmt.Sprintf("Fargate vCPU (%s, %d task(s) x %.4g vCPU)", label, sh.Tasks, vcpu),
		taskHours*vcpu, "vCPU-hour", cpuPrice, 0)
	mem := newItem("fargate_memory", fmt.Sprintf("Fargate memory (%s, %d task(s) x %.4g GB)", label, sh.Tasks, gb),
		taskHours*gb, "GB-hour", memPrice, 0)
	cpu.Note = "no Fargate free tier"
	cpu.keep, mem.keep = sh.Runtime == RuntimeECS, sh.Runtime == RuntimeECS
	if sh.Spot {
		cpu.Note = "Spot price varies; priced at 70% below on-demand"
	}
	return []Item{cpu, mem}
}

// taskIPv4: each task has a public IPv4 address (to pull its image without
// a NAT gateway), charged only while the task runs.
func (pr pricer) taskIPv4(sh Shape) Item {
	it := newItem("task_public_ipv4", "Public IPv4 of the tasks (only while running)",
		float64(sh.Tasks)*sh.HoursAwake, "address-hour", pr.p.PublicIPv4Hour, 0)
	it.Note = "the legacy 750 free hours cover EC2 only"
	it.keep = true
	return it
}

// alb: the load balancer runs all month whatever the schedule; LCUs from the
// traffic; one public IPv4 per AZ node, two AZs.
func (pr pricer) alb(sh Shape) []Item {
	freeHours, freeLCU := 0.0, 0.0
	if pr.legacy() {
		freeHours, freeLCU = legacyALBHours, legacyALBLCUHours
	}
	hours := newItem("alb_hours", "Application Load Balancer", HoursPerMonth, "hour", pr.p.ALBHour, freeHours)
	w := pr.w
	w.RequestsPerMonth = pr.taskRequests(sh)
	lcuHours, dim := albLCUHoursBy(w, sh.HoursAwake, lcuGBPerHour)
	note := "largest dimension: " + dim
	if sh.LambdaRequests > 0 {
		// serve: app: the requests Lambda answers go through the ALB too,
		// at the Lambda target's smaller processed-bytes allowance.
		w.RequestsPerMonth = sh.LambdaRequests
		l, ldim := albLCUHoursBy(w, lambdaHours(sh), lcuGBPerHourLambda)
		lcuHours += l
		note = fmt.Sprintf("largest dimension: %s for the task, %s for the Lambda target", dim, ldim)
		if pr.taskRequests(sh) == 0 {
			note = "largest dimension: " + ldim + " (all requests to the Lambda target)"
		}
	}
	lcu := newItem("alb_lcu", "ALB capacity units (LCU)", lcuHours, "LCU-hour", pr.p.ALBLCUHour, freeLCU)
	lcu.Note = note
	ipv4 := newItem("alb_public_ipv4", "Public IPv4 of the ALB (one per AZ, 2 AZs)",
		2*HoursPerMonth, "address-hour", pr.p.PublicIPv4Hour, 0)
	return []Item{hours, lcu, ipv4}
}

// albLCUHours spreads the month's requests evenly over the hours awake and
// charges, for each of those hours, the largest of the four LCU dimensions.
// It returns the LCU-hours of the month and the dimension that won.
func albLCUHours(w Workload, hoursAwake float64) (float64, string) {
	return albLCUHoursBy(w, hoursAwake, lcuGBPerHour)
}

// albLCUHoursBy is albLCUHours with the processed bytes one LCU allows an
// hour, which depends on the target type.
func albLCUHoursBy(w Workload, hoursAwake, gbPerLCUHour float64) (float64, string) {
	if hoursAwake <= 0 || w.RequestsPerMonth <= 0 {
		return 0, "none (no traffic)"
	}
	perHour := w.RequestsPerMonth / hoursAwake
	// One new connection per request: short-link clicks come from many
	// clients that rarely reuse a connection (the pessimistic case).
	newConn := perHour / 3600 / lcuNewConnectionsPerSecond
	// A connection lives well under a minute, so the active connections
	// in a minute are the new ones in that minute.
	active := perHour / 60 / lcuActiveConnectionsPerMin
	bytes := perHour * (w.ResponseKB + requestKB) / kbPerGB / gbPerLCUHour
	rules := 0.0
	if albRules > lcuFreeRules {
		rules = perHour / 3600 * float64(albRules-lcuFreeRules) / lcuRuleEvaluationsPerSec
	}
	lcu, dim := newConn, "new connections"
	if active > lcu {
		lcu, dim = active, "active connections"
	}
	if bytes > lcu {
		lcu, dim = bytes, "processed bytes"
	}
	if rules > lcu {
		lcu, dim = rules, "rule evaluations"
	}
	return lcu * hoursAwake, dim
}

// apigw: HTTP API requests, the Cloud Map service the private integration
// resolves, and the private DNS namespace's hosted zone. No ALB, no ALB
// addresses; VPC links for HTTP APIs have no hourly charge.
func (pr pricer) apigw(sh Shape) []Item {
	inst := newItem("cloud_map_instances", "Cloud Map registered tasks",
		float64(sh.Tasks)*sh.HoursAwake/HoursPerMonth, "instance-month", pr.p.CloudMapInstanceMonth, 0)
	// Only the requests that reach a task resolve it: with serve: app,
	// those Lambda answers go to the function's integration instead.
	calls := newItem("cloud_map_discovery", "Cloud Map discovery calls (one per request to a task, upper bound)",
		pr.taskRequests(sh)*discoveryCallsPerRequest/1e6, "million calls", pr.p.CloudMapMillionDiscoveryCalls, 0)
	zone := newItem("cloud_map_namespace_zone", "Private DNS namespace (Route 53 hosted zone)",
		1, "zone-month", pr.p.Route53HostedZoneMonth, 0)
	inst.keep, calls.keep = true, true
	return []Item{pr.httpAPIRequests(), inst, calls, zone}
}

func (pr pricer) httpAPIRequests() Item {
	free := 0.0
	if pr.legacy() {
		free = legacyHTTPAPIMillion
	}
	it := newItem("http_api_requests", "API Gateway HTTP API requests",
		pr.w.RequestsPerMonth/1e6, "million requests", pr.p.HTTPAPIMillionRequests, free)
	if pr.w.ResponseKB+requestKB > 512 {
		// HTTP APIs meter in 512 KB steps.
		it.Quantity *= math.Ceil((pr.w.ResponseKB + requestKB) / 512)
		it.USD = math.Max(0, it.Quantity-free) * it.UnitUSD
	}
	return it
}

// lambda: requests and GB-seconds at the price of the function's
// architecture; a function URL costs nothing beyond the function.
func (pr pricer) lambda(sh Shape) []Item {
	req := newItem("lambda_requests", "Lambda requests",
		pr.w.RequestsPerMonth/1e6, "million requests", pr.p.LambdaMillionRequests, freeLambdaRequestsM)
	gbs := pr.w.RequestsPerMonth * pr.w.LambdaMS / 1000 * float64(sh.MemoryMB) / 1024
	comp := newItem("lambda_compute", fmt.Sprintf("Lambda compute (%s, %d MB, %g ms average)", sh.Arch, sh.MemoryMB, pr.w.LambdaMS),
		gbs, "GB-second", pr.p.LambdaGBSecond(sh.Arch != spec.ArchX8664), freeLambdaGBSeconds)
	return []Item{req, comp}
}

// nat: the CDK default's two NAT gateways, their Elastic IPs, and the
// DynamoDB traffic of tasks in private subnets, which goes through them.
func (pr pricer) nat() []Item {
	hours := newItem("nat_gateway_hours", "NAT gateways (2)", cdkNATGateways*HoursPerMonth, "hour", pr.p.NATGatewayHour, 0)
	gb := pr.w.RequestsPerMonth * (readsPerRequest + writesPerRequest) * dynamoKBPerCall / kbPerGB
	data := newItem("nat_gateway_data", "NAT gateway data (DynamoDB calls)", gb, "GB", pr.p.NATGatewayGB, 0)
	ipv4 := newItem("nat_public_ipv4", "Public IPv4 of the NAT gateways", cdkNATGateways*HoursPerMonth, "address-hour", pr.p.PublicIPv4Hour, 0)
	return []Item{hours, data, ipv4}
}

// dynamodb: provisioned capacity for the table and each GSI all month
// (the always-free 25 RCU and 25 WCU cover table and GSIs together), or
// on-demand requests; storage beyond 25 GB; PITR on all of it.
func (pr pricer) dynamodb(sh Shape) []Item {
	var items []Item
	if sh.Billing == spec.BillingOnDemand {
		items = append(items,
			newItem("dynamodb_reads", fmt.Sprintf("DynamoDB on-demand reads (%g a request)", readsPerRequest),
				pr.w.RequestsPerMonth*readsPerRequest/1e6, "million reads", pr.p.DynamoDBMillionReads, 0),
			newItem("dynamodb_writes", fmt.Sprintf("DynamoDB on-demand writes (%g a request)", writesPerRequest),
				pr.w.RequestsPerMonth*writesPerRequest/1e6, "million writes", pr.p.DynamoDBMillionWrites, 0))
	} else {
		copies := float64(1 + sh.GSIs)
		items = append(items,
			newItem("dynamodb_rcu", fmt.Sprintf("DynamoDB read capacity (%d RCU x table + %d GSI)", sh.Read, sh.GSIs),
				float64(sh.Read)*copies*HoursPerMonth, "RCU-hour", pr.p.DynamoDBRCUHour, freeDynamoDBRCU*HoursPerMonth),
			newItem("dynamodb_wcu", fmt.Sprintf("DynamoDB write capacity (%d WCU x table + %d GSI)", sh.Write, sh.GSIs),
				float64(sh.Write)*copies*HoursPerMonth, "WCU-hour", pr.p.DynamoDBWCUHour, freeDynamoDBWCU*HoursPerMonth))
	}
	items = append(items, newItem("dynamodb_storage", "DynamoDB storage",
		pr.w.StoredGB, "GB-month", pr.p.DynamoDBStorageGBMonth, freeDynamoDBStorageGB))
	if sh.PITR {
		items = append(items, newItem("dynamodb_pitr", "DynamoDB point-in-time recovery",
			pr.w.StoredGB, "GB-month", pr.p.DynamoDBPITRGBMonth, 0))
	}
	return items
}

// logs: ingest, and storage of what the retention keeps (ingest per day x
// retention days). The 5 GB free covers ingest first, then storage.
func (pr pricer) logs(sh Shape) []Item {
	ingest := pr.logGB(sh)
	days := float64(sh.Retention)
	if days <= 0 || days > daysPerMonth {
		// Beyond a month (or never expiring) the stored volume keeps
		// growing; this prices the first month's steady part only.
		days = daysPerMonth
	}
	stored := ingest / daysPerMonth * days
	freeIngest := math.Min(ingest, freeLogsGB)
	in := newItem("logs_ingest", "CloudWatch Logs ingest", ingest, "GB", pr.p.LogsIngestGB, freeIngest)
	st := newItem("logs_storage", fmt.Sprintf("CloudWatch Logs storage (%d-day retention)", sh.Retention),
		stored, "GB-month", pr.p.LogsStorageGBMonth, freeLogsGB-freeIngest)
	return []Item{in, st}
}

// logGB is the month's log volume: given, or derived from the requests
// (on Lambda with its START, END and REPORT lines) and, with idle sleep,
// the controller's invocations.
func (pr pricer) logGB(sh Shape) float64 {
	if pr.w.LogGB != nil {
		return *pr.w.LogGB
	}
	sh = pr.resolve(sh)
	if sh.Runtime == RuntimeServerless {
		return pr.w.RequestsPerMonth * logBytesPerRequestLambda / bytesPerGB
	}
	bytes := pr.taskRequests(sh)*logBytesPerRequestECS + sh.LambdaRequests*logBytesPerRequestLambda
	if sh.Runtime == RuntimeECS && sh.Idle {
		reconciles, perWake := controllerCalls(sh)
		bytes += (reconciles + perWake) * controllerLogBytesPerCall
	}
	return bytes / bytesPerGB
}

// monitoring: alarms beyond 10, dashboards beyond 3, custom metrics beyond 10.
func (pr pricer) monitoring(sh Shape) []Item {
	alarms := newItem("cloudwatch_alarms", "CloudWatch alarm metrics",
		float64(sh.Alarms), "alarm-month", pr.p.AlarmMonth, freeAlarms)
	if sh.Runtime == RuntimeECS {
		alarms.Note = "each metric of a metric-math alarm counts, and the CPU target-tracking policy adds 2"
	}
	return []Item{
		alarms,
		newItem("cloudwatch_dashboards", "CloudWatch dashboard",
			dashboards, "dashboard-month", pr.p.DashboardMonth, freeDashboards),
		newItem("cloudwatch_custom_metrics", "CloudWatch custom metrics",
			customMetrics, "metric-month", pr.p.CustomMetricMonth, freeCustomMetrics),
	}
}

func (pr pricer) ecr() Item {
	free := 0.0
	if pr.legacy() {
		free = legacyECRGB
	}
	return newItem("ecr_storage", fmt.Sprintf("ECR image storage (%g images of %g MB)", imagesKept, imageMB),
		imagesKept*imageMB/1000, "GB-month", pr.p.ECRStorageGBMonth, free)
}

func (pr pricer) transferOut() Item {
	return newItem("transfer_out", "Data transfer out to the internet",
		pr.w.RequestsPerMonth*pr.w.ResponseKB/kbPerGB, "GB", pr.p.TransferOutGB, freeTransferOutGB)
}

func (pr pricer) hostedZone() Item {
	it := newItem("route53_hosted_zone", "Route 53 hosted zone of the domain",
		1, "zone-month", pr.p.Route53HostedZoneMonth, 0)
	it.Note = "you may already own and pay for this zone; lowfare only adds records to it"
	return it
}
