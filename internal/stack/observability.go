package stack

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/price"
	"github.com/lowfare/lowfare/internal/spec"
)

// observability is where problems surface: an SNS topic that Budgets and
// CloudWatch may publish to, email subscriptions, a handful of alarms that
// fit CloudWatch's 10 free alarm metrics together with the two alarms
// target tracking creates, and one dashboard.
func (b *builder) observability() {
	s := b.s
	b.add(PartObservability, "AlarmTopic", "AWS::SNS::Topic", cfn.Props{
		"DisplayName": fmt.Sprintf("lowfare %s/%s", s.App, s.Env),
	})
	b.add(PartObservability, "AlarmTopicPolicy", "AWS::SNS::TopicPolicy", cfn.Props{
		"Topics": []any{cfn.Ref("AlarmTopic")},
		"PolicyDocument": map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{
				publishFrom("AllowBudgets", "budgets.amazonaws.com", map[string]any{
					"StringEquals": map[string]any{"aws:SourceAccount": cfn.Ref(cfn.AccountID)},
				}),
				publishFrom("AllowCloudWatchAlarms", "cloudwatch.amazonaws.com", map[string]any{
					"ArnLike": map[string]any{"aws:SourceArn": cfn.Sub("arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*")},
				}),
			},
		},
	})
	for i, email := range uniqueSorted(s.Alarms.Emails) {
		b.add(PartObservability, fmt.Sprintf("AlarmEmail%d", i+1), "AWS::SNS::Subscription", cfn.Props{
			"TopicArn": cfn.Ref("AlarmTopic"),
			"Protocol": "email",
			"Endpoint": email,
		})
	}
	b.output(OutputAlarmTopic, "Alarms and budget alerts go here", cfn.Ref("AlarmTopic"))

	var widgets []any
	switch {
	case !s.ECS():
		b.lambdaAlarms()
		widgets = lambdaWidgets()
	case s.Ingress.Kind == spec.IngressAPIGW:
		b.apiAlarms()
		widgets = append(ecsWidgets(), apiWidgets()...)
	default:
		b.albAlarms()
		widgets = append(ecsWidgets(), albWidgets()...)
	}
	// Throttling on GSI1 is reported under the index's own dimension
	// (TableName and GlobalSecondaryIndexName), not the table's
	// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html):
	// an alarm on the table alone misses a throttled index, and a
	// throttled index write throttles the table write that caused it.
	table := dim("TableName", cfn.Ref("Table"))
	index := dim("GlobalSecondaryIndexName", IndexName)
	b.alarm("AlarmThrottles", "dynamodb-throttles", "DynamoDB throttled reads or writes on the table or GSI1: raise table read/write or use billing on-demand", cfn.Props{
		"Metrics": []any{
			metricStat("reads", "AWS/DynamoDB", "ReadThrottleEvents", "Sum", 300, table),
			metricStat("writes", "AWS/DynamoDB", "WriteThrottleEvents", "Sum", 300, table),
			metricStat("indexReads", "AWS/DynamoDB", "ReadThrottleEvents", "Sum", 300, table, index),
			metricStat("indexWrites", "AWS/DynamoDB", "WriteThrottleEvents", "Sum", 300, table, index),
			// FILL: a series without throttles has no data points, and a
			// sum with a missing operand would be missing too.
			expression("throttles", "FILL(reads, 0) + FILL(writes, 0) + FILL(indexReads, 0) + FILL(indexWrites, 0)", "throttled requests"),
		},
		"ComparisonOperator": "GreaterThanThreshold",
		"Threshold":          0,
		"EvaluationPeriods":  1,
	})
	widgets = append(widgets, tableWidgets()...)
	b.dashboard(widgets)
}

func publishFrom(sid, service string, condition map[string]any) map[string]any {
	return map[string]any{
		"Sid":       sid,
		"Effect":    "Allow",
		"Principal": map[string]any{"Service": service},
		"Action":    "sns:Publish",
		"Resource":  cfn.Ref("AlarmTopic"),
		"Condition": condition,
	}
}

// alarm adds one alarm that notifies the topic; missing data (no traffic,
// asleep) is not a problem.
func (b *builder) alarm(id, suffix, description string, props cfn.Props) {
	props["AlarmName"] = b.n.alarmPrefix + "-" + suffix
	props["AlarmDescription"] = description
	props["AlarmActions"] = []any{cfn.Ref("AlarmTopic")}
	props["TreatMissingData"] = "notBreaching"
	b.add(PartObservability, id, "AWS::CloudWatch::Alarm", props)
}

// errorRate is the Alarm5xx of one front door: more than 5% of its
// requests over 5 minutes were errors.
type errorRate struct {
	suffix, description, label, namespace string
	dims                                  []any
	errors                                string // the error count metric
	total                                 string // the request count metric
	// uncounted is an error metric the front door does not count in
	// total (the ALB's own 5xx: RequestCount counts only requests for
	// which a target was chosen), or "".
	uncounted string
	// pages counts 5xx answers that are not errors (the wake controller's
	// waking and closed pages), subtracted from the errors; nil for none.
	pages map[string]any
	// always counts every period with requests, also while the service
	// sleeps (what answers then is the app itself, on Lambda).
	always bool
}

// errorRateAlarm adds the alarm. While the service sleeps (a schedule or
// service.idle) the front door answers every request with a 5xx, and the
// alarm would fire on each, so then the rate counts only periods in which
// a task was there to answer:
//   - behind the ALB, periods in which RequestCount is above zero: it counts
//     only requests for which a target was chosen, and with targets
//     registered, even all unhealthy, the load balancer routes to them
//     (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html);
//   - otherwise, periods in which a task reported CPU (AWS/ECS
//     CPUUtilization, free, sent only while tasks run
//     (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html)).
//
// The price: a service that cannot start any task while it should be
// awake is not reported here; `lowfare status` shows it. Every variant
// reads three metrics, so the alarms stay within CloudWatch's 10 free.
func (b *builder) errorRateAlarm(r errorRate) {
	errs, total := "FILL(errors, 0)", "FILL(requests, 0)"
	metrics := []any{
		metricStat("errors", r.namespace, r.errors, "Sum", 300, r.dims...),
		metricStat("requests", r.namespace, r.total, "Sum", 300, r.dims...),
	}
	cond := total + " > 0"
	switch {
	case r.pages != nil:
		metrics = append(metrics, r.pages)
		errs = "IF(FILL(errors, 0) > FILL(pages, 0), FILL(errors, 0) - FILL(pages, 0), 0)"
	case r.always:
	case r.uncounted != "":
		metrics = append(metrics, metricStat("frontErrors", r.namespace, r.uncounted, "Sum", 300, r.dims...))
		errs = "(FILL(errors, 0) + FILL(frontErrors, 0))"
		if !b.sleeps() {
			// The front door's own errors also count as requests where it
			// answered them without a target: with no registered target
			// at all the rate is 100%, not 0/0.
			total = "MAX([FILL(requests, 0), FILL(frontErrors, 0)])"
			cond = total + " > 0"
		}
	case b.sleeps():
		metrics = append(metrics, metricStat("awake", "AWS/ECS", "CPUUtilization", "SampleCount", 300,
			dim("ClusterName", cfn.Ref("Cluster")), dim("ServiceName", cfn.GetAtt("Service", "Name"))))
		cond = "FILL(awake, 0) > 0 AND " + cond
	}
	metrics = append(metrics, expression("rate", fmt.Sprintf("IF(%s, 100 * %s / %s, 0)", cond, errs, total), r.label))
	b.alarm("Alarm5xx", r.suffix, r.description, cfn.Props{
		"Metrics":            metrics,
		"ComparisonOperator": "GreaterThanThreshold",
		"Threshold":          5,
		"EvaluationPeriods":  1,
	})
}

// sleeps reports whether the ECS service is at zero tasks at times by
// design: a schedule (profile free) or service.idle.
func (b *builder) sleeps() bool {
	return b.s.ECS() && b.s.Profile != spec.ProfileHA && (b.s.Service.Schedule != nil || b.s.Service.Idle != nil)
}

// p95Alarm (AlarmLatency) fires when the p95 of metric stays above
// threshold (in the metric's unit) for two 5-minute periods.
func (b *builder) p95Alarm(suffix, description, namespace, metric string, threshold int, d map[string]any) {
	b.alarm("AlarmLatency", suffix, description, cfn.Props{
		"Namespace":          namespace,
		"MetricName":         metric,
		"Dimensions":         []any{d},
		"ExtendedStatistic":  "p95",
		"Period":             300,
		"EvaluationPeriods":  2,
		"Threshold":          threshold,
		"ComparisonOperator": "GreaterThanThreshold",
	})
}

func (b *builder) albAlarms() {
	lb := dim("LoadBalancer", cfn.GetAtt("LoadBalancer", "LoadBalancerFullName"))
	if b.s.Service.Idle != nil {
		// With service.idle the load balancer's 5xx include what answers
		// while the service sleeps (the controller's 503 pages are Lambda
		// target 5xx) and the seconds of a sleep in which no target is
		// healthy: the rate counts the service's own target group only,
		// whose metrics carry the TargetGroup dimension
		// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html).
		// The price: a total outage of an awake service (load balancer
		// 5xx only) is not reported here; `lowfare status` shows it.
		tg := dim("TargetGroup", cfn.GetAtt("TargetGroup", "TargetGroupFullName"))
		b.errorRateAlarm(errorRate{suffix: "5xx-rate", description: "More than 5% of the requests the tasks answered were 5xx over 5 minutes",
			label: "5xx percent", namespace: "AWS/ApplicationELB", dims: []any{tg, lb},
			errors: "HTTPCode_Target_5XX_Count", total: "RequestCount"})
	} else {
		// HTTPCode_ELB_5XX_Count is the load balancer's own 5xx (no healthy
		// target, a target that reset or timed out): a total outage raises
		// only this one, never HTTPCode_Target_5XX_Count
		// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html).
		b.errorRateAlarm(errorRate{suffix: "5xx-rate", description: "More than 5% of requests answered 5xx (by the tasks or the load balancer) over 5 minutes",
			label: "5xx percent", namespace: "AWS/ApplicationELB", dims: []any{lb},
			errors: "HTTPCode_Target_5XX_Count", total: "RequestCount", uncounted: "HTTPCode_ELB_5XX_Count"})
	}
	b.p95Alarm("p95-latency", "p95 response time above 1 s for 10 minutes", "AWS/ApplicationELB", "TargetResponseTime", 1, lb) // seconds
	// No UnHealthyHostCount alarm: the 5xx rate above now counts the load
	// balancer's own 5xx, which is what users get when no task answers,
	// and the two throttle metrics of GSI1 need its place among the 10
	// free alarm metrics. A failing task is replaced by ECS (its container
	// health check) and shows in `lowfare status` (targets).
}

func (b *builder) apiAlarms() {
	api := dim("ApiId", cfn.Ref("HttpApi"))
	r := errorRate{suffix: "5xx-rate", description: "More than 5% of requests answered 5xx over 5 minutes",
		label: "5xx percent", namespace: "AWS/ApiGateway", dims: []any{api}, errors: "5xx", total: "Count"}
	switch idle := b.s.Service.Idle; {
	case idle.ServesApp():
		// Whoever answers, the app on Lambda or the tasks, its 5xx are
		// errors users see; a sleep moves the route before the tasks
		// stop, so none comes from the move itself.
		r.always = true
	case idle != nil:
		// An HTTP API has no per-integration 5xx metric: the waking and
		// closed pages (503) count in 5xx. Each is one invocation of the
		// controller, so its invocations are subtracted. They also
		// include the alarms' and the reconcile's (5 in 5 minutes), so
		// errors in a period are undercounted by at most those, never
		// overcounted. The sleep's few seconds between scaling and moving
		// the route are not counted either: the tasks' 5xx never exceed
		// the pages subtracted then.
		r.description = "More than 5% of requests answered 5xx, other than the waking page, over 5 minutes"
		r.pages = metricStat("pages", "AWS/Lambda", "Invocations", "Sum", 300, dim("FunctionName", cfn.Ref("WakeFunction")))
	}
	b.errorRateAlarm(r)
	b.p95Alarm("p95-latency", "p95 latency above 1 s for 10 minutes", "AWS/ApiGateway", "Latency", 1000, api) // milliseconds
	// No target group, so no unhealthy-target metric: a failing task is
	// replaced by ECS (container health check) and shows as 5xx above.
}

func (b *builder) lambdaAlarms() {
	fn := dim("FunctionName", cfn.Ref("Function"))
	b.errorRateAlarm(errorRate{suffix: "error-rate", description: "More than 5% of invocations failed over 5 minutes",
		label: "error percent", namespace: "AWS/Lambda", dims: []any{fn}, errors: "Errors", total: "Invocations"})
	b.p95Alarm("p95-duration", "p95 duration above 1 s for 10 minutes", "AWS/Lambda", "Duration", 1000, fn) // milliseconds
}

func dim(name string, value any) map[string]any {
	return map[string]any{"Name": name, "Value": value}
}

func metricStat(id, namespace, metric, stat string, period int, dims ...any) map[string]any {
	return map[string]any{
		"Id": id,
		"MetricStat": map[string]any{
			"Metric": map[string]any{"Namespace": namespace, "MetricName": metric, "Dimensions": dims},
			"Period": period,
			"Stat":   stat,
		},
		"ReturnData": false,
	}
}

func expression(id, expr, label string) map[string]any {
	return map[string]any{"Id": id, "Expression": expr, "Label": label, "ReturnData": true}
}

// alarmBudget counts the alarm metrics CloudWatch bills (a metric-math
// alarm bills each metric it reads; each target-tracking policy adds two
// alarms) and warns beyond the 10 free ones.
func alarmBudget(t *cfn.Template, region string) []Warning {
	n := countAlarmMetrics(t)
	if n <= freeAlarmMetrics {
		return nil
	}
	return []Warning{{
		Part:       PartObservability,
		Message:    fmt.Sprintf("%d alarm metrics (target tracking adds 2 per policy) is beyond CloudWatch's 10 free", n),
		MonthlyUSD: float64(n-freeAlarmMetrics) * price.Builtin(region).AlarmMonth.USD,
	}}
}

// countAlarmMetrics counts t's alarms as CloudWatch bills them: one per
// metric a metric-math alarm reads, one per plain alarm, two per
// target-tracking policy. Build reports it as Result.AlarmMetrics, which
// the cost package's cross-check holds its estimate from the spec against.
func countAlarmMetrics(t *cfn.Template) int {
	n := 0
	for _, r := range t.Resources {
		switch r.Type {
		case "AWS::CloudWatch::Alarm":
			metrics, _ := r.Properties["Metrics"].([]any)
			if len(metrics) == 0 {
				n++
				continue
			}
			for _, m := range metrics {
				if mm, ok := m.(map[string]any); ok && mm["MetricStat"] != nil {
					n++
				}
			}
		case "AWS::ApplicationAutoScaling::ScalingPolicy":
			if r.Properties["PolicyType"] == "TargetTrackingScaling" {
				n += 2
			}
		}
	}
	return n
}

// The dashboard: one JSON body with ${...} references, through Fn::Sub.
func (b *builder) dashboard(widgets []any) {
	for i, w := range widgets {
		wm := w.(map[string]any)
		wm["x"] = (i % 2) * 12
		wm["y"] = (i / 2) * 6
	}
	body, err := json.Marshal(map[string]any{"widgets": widgets})
	if err != nil {
		panic(err) // only strings and numbers: cannot fail
	}
	b.add(PartObservability, "Dashboard", "AWS::CloudWatch::Dashboard", cfn.Props{
		"DashboardName": cfn.Sub(b.n.Dashboard),
		"DashboardBody": cfn.Sub(string(body)),
	})
	b.output(OutputDashboardURL, "The CloudWatch dashboard",
		cfn.Sub("https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}#dashboards:name=${Dashboard}"))
}

func widget(title, stat string, metrics ...[]any) map[string]any {
	ms := make([]any, len(metrics))
	for i, m := range metrics {
		ms[i] = m
	}
	return map[string]any{
		"type": "metric", "width": 12, "height": 6,
		"properties": map[string]any{
			"title": title, "region": "${AWS::Region}", "stat": stat, "period": 300,
			"view": "timeSeries", "metrics": ms,
		},
	}
}

// series lists metrics of one namespace under one dimension, as dashboard
// widgets name them.
func series(namespace, dimName, dimValue string, metrics ...string) [][]any {
	out := make([][]any, len(metrics))
	for i, m := range metrics {
		out[i] = []any{namespace, m, dimName, dimValue}
	}
	return out
}

func ecsWidgets() []any {
	return []any{widget("Service CPU and memory (%)", "Average",
		[]any{"AWS/ECS", "CPUUtilization", "ClusterName", "${Cluster}", "ServiceName", "${Service.Name}"},
		[]any{"AWS/ECS", "MemoryUtilization", "ClusterName", "${Cluster}", "ServiceName", "${Service.Name}"},
	)}
}

// trafficWidgets is the row every front door gets: requests, p95 latency
// and errors, which differ only in their names.
func trafficWidgets(namespace, dimName, dimValue string, requestsTitle, requests, latencyTitle, latency, errorsTitle string, errors ...string) []any {
	return []any{
		widget(requestsTitle, "Sum", series(namespace, dimName, dimValue, requests)...),
		widget(latencyTitle, "p95", series(namespace, dimName, dimValue, latency)...),
		widget(errorsTitle, "Sum", series(namespace, dimName, dimValue, errors...)...),
	}
}

func albWidgets() []any {
	return trafficWidgets("AWS/ApplicationELB", "LoadBalancer", "${LoadBalancer.LoadBalancerFullName}",
		"Requests", "RequestCount", "Latency p95 (s)", "TargetResponseTime",
		"Errors", "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "HTTPCode_Target_4XX_Count")
}

func apiWidgets() []any {
	return trafficWidgets("AWS/ApiGateway", "ApiId", "${HttpApi}",
		"Requests", "Count", "Latency p95 (ms)", "Latency",
		"Errors", "5xx", "4xx")
}

func lambdaWidgets() []any {
	return trafficWidgets("AWS/Lambda", "FunctionName", "${Function}",
		"Invocations", "Invocations", "Duration p95 (ms)", "Duration",
		"Errors and throttles", "Errors", "Throttles")
}

func tableWidgets() []any {
	tb := "${Table}"
	return []any{
		widget("DynamoDB consumed capacity", "Sum", series("AWS/DynamoDB", "TableName", tb, "ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits")...),
		widget("DynamoDB throttles (table, GSI1)", "Sum", append(series("AWS/DynamoDB", "TableName", tb, "ReadThrottleEvents", "WriteThrottleEvents"),
			[]any{"AWS/DynamoDB", "ReadThrottleEvents", "TableName", tb, "GlobalSecondaryIndexName", IndexName},
			[]any{"AWS/DynamoDB", "WriteThrottleEvents", "TableName", tb, "GlobalSecondaryIndexName", IndexName})...),
	}
}

func uniqueSorted(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
