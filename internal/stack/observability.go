package stack

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/lowfare/lowfare/internal/cfn"
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
	b.alarm("AlarmThrottles", "dynamodb-throttles", "DynamoDB throttled reads or writes: raise table read/write or use billing on-demand", cfn.Props{
		"Metrics": []any{
			metricStat("reads", "AWS/DynamoDB", "ReadThrottleEvents", "Sum", 300, dim("TableName", cfn.Ref("Table"))),
			metricStat("writes", "AWS/DynamoDB", "WriteThrottleEvents", "Sum", 300, dim("TableName", cfn.Ref("Table"))),
			expression("throttles", "reads + writes", "throttled requests"),
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

func (b *builder) albAlarms() {
	lb := dim("LoadBalancer", cfn.GetAtt("LoadBalancer", "LoadBalancerFullName"))
	tg := dim("TargetGroup", cfn.GetAtt("TargetGroup", "TargetGroupFullName"))
	b.alarm("Alarm5xx", "5xx-rate", "More than 5% of requests answered 5xx over 5 minutes", cfn.Props{
		"Metrics": []any{
			metricStat("errors", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", 300, lb),
			metricStat("requests", "AWS/ApplicationELB", "RequestCount", "Sum", 300, lb),
			expression("rate", "IF(requests > 0, 100 * errors / requests, 0)", "5xx percent"),
		},
		"ComparisonOperator": "GreaterThanThreshold",
		"Threshold":          5,
		"EvaluationPeriods":  1,
	})
	b.alarm("AlarmLatency", "p95-latency", "p95 response time above 1 s for 10 minutes", cfn.Props{
		"Namespace":          "AWS/ApplicationELB",
		"MetricName":         "TargetResponseTime",
		"Dimensions":         []any{lb},
		"ExtendedStatistic":  "p95",
		"Period":             300,
		"EvaluationPeriods":  2,
		"Threshold":          1,
		"ComparisonOperator": "GreaterThanThreshold",
	})
	b.alarm("AlarmUnhealthy", "unhealthy-targets", "A task fails its health check", cfn.Props{
		"Namespace":          "AWS/ApplicationELB",
		"MetricName":         "UnHealthyHostCount",
		"Dimensions":         []any{tg, lb},
		"Statistic":          "Maximum",
		"Period":             60,
		"EvaluationPeriods":  3,
		"Threshold":          0,
		"ComparisonOperator": "GreaterThanThreshold",
	})
}

func (b *builder) apiAlarms() {
	api := dim("ApiId", cfn.Ref("HttpApi"))
	b.alarm("Alarm5xx", "5xx-rate", "More than 5% of requests answered 5xx over 5 minutes", cfn.Props{
		"Metrics": []any{
			metricStat("errors", "AWS/ApiGateway", "5xx", "Sum", 300, api),
			metricStat("requests", "AWS/ApiGateway", "Count", "Sum", 300, api),
			expression("rate", "IF(requests > 0, 100 * errors / requests, 0)", "5xx percent"),
		},
		"ComparisonOperator": "GreaterThanThreshold",
		"Threshold":          5,
		"EvaluationPeriods":  1,
	})
	b.alarm("AlarmLatency", "p95-latency", "p95 latency above 1 s for 10 minutes", cfn.Props{
		"Namespace":          "AWS/ApiGateway",
		"MetricName":         "Latency",
		"Dimensions":         []any{api},
		"ExtendedStatistic":  "p95",
		"Period":             300,
		"EvaluationPeriods":  2,
		"Threshold":          1000, // milliseconds
		"ComparisonOperator": "GreaterThanThreshold",
	})
	// No target group, so no unhealthy-target metric: a failing task is
	// replaced by ECS (container health check) and shows as 5xx above.
}

func (b *builder) lambdaAlarms() {
	fn := dim("FunctionName", cfn.Ref("Function"))
	b.alarm("Alarm5xx", "error-rate", "More than 5% of invocations failed over 5 minutes", cfn.Props{
		"Metrics": []any{
			metricStat("errors", "AWS/Lambda", "Errors", "Sum", 300, fn),
			metricStat("invocations", "AWS/Lambda", "Invocations", "Sum", 300, fn),
			expression("rate", "IF(invocations > 0, 100 * errors / invocations, 0)", "error percent"),
		},
		"ComparisonOperator": "GreaterThanThreshold",
		"Threshold":          5,
		"EvaluationPeriods":  1,
	})
	b.alarm("AlarmLatency", "p95-duration", "p95 duration above 1 s for 10 minutes", cfn.Props{
		"Namespace":          "AWS/Lambda",
		"MetricName":         "Duration",
		"Dimensions":         []any{fn},
		"ExtendedStatistic":  "p95",
		"Period":             300,
		"EvaluationPeriods":  2,
		"Threshold":          1000, // milliseconds
		"ComparisonOperator": "GreaterThanThreshold",
	})
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
func alarmBudget(t *cfn.Template) []Warning {
	n := countAlarmMetrics(t)
	if n <= freeAlarmMetrics {
		return nil
	}
	return []Warning{{
		Part:       PartObservability,
		Message:    fmt.Sprintf("%d alarm metrics (target tracking adds 2 per policy) is beyond CloudWatch's 10 free", n),
		MonthlyUSD: float64(n-freeAlarmMetrics) * usdPerAlarmMetric,
	}}
}

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
		"DashboardName": b.n.Dashboard,
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

func ecsWidgets() []any {
	return []any{widget("Service CPU and memory (%)", "Average",
		[]any{"AWS/ECS", "CPUUtilization", "ClusterName", "${Cluster}", "ServiceName", "${Service.Name}"},
		[]any{"AWS/ECS", "MemoryUtilization", "ClusterName", "${Cluster}", "ServiceName", "${Service.Name}"},
	)}
}

func albWidgets() []any {
	lb := "${LoadBalancer.LoadBalancerFullName}"
	return []any{
		widget("Requests", "Sum", []any{"AWS/ApplicationELB", "RequestCount", "LoadBalancer", lb}),
		widget("Latency p95 (s)", "p95", []any{"AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", lb}),
		widget("Errors", "Sum",
			[]any{"AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", lb},
			[]any{"AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb},
			[]any{"AWS/ApplicationELB", "HTTPCode_Target_4XX_Count", "LoadBalancer", lb},
		),
	}
}

func apiWidgets() []any {
	api := "${HttpApi}"
	return []any{
		widget("Requests", "Sum", []any{"AWS/ApiGateway", "Count", "ApiId", api}),
		widget("Latency p95 (ms)", "p95", []any{"AWS/ApiGateway", "Latency", "ApiId", api}),
		widget("Errors", "Sum",
			[]any{"AWS/ApiGateway", "5xx", "ApiId", api},
			[]any{"AWS/ApiGateway", "4xx", "ApiId", api},
		),
	}
}

func lambdaWidgets() []any {
	fn := "${Function}"
	return []any{
		widget("Invocations", "Sum", []any{"AWS/Lambda", "Invocations", "FunctionName", fn}),
		widget("Duration p95 (ms)", "p95", []any{"AWS/Lambda", "Duration", "FunctionName", fn}),
		widget("Errors and throttles", "Sum",
			[]any{"AWS/Lambda", "Errors", "FunctionName", fn},
			[]any{"AWS/Lambda", "Throttles", "FunctionName", fn},
		),
	}
}

func tableWidgets() []any {
	tb := "${Table}"
	return []any{
		widget("DynamoDB consumed capacity", "Sum",
			[]any{"AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", tb},
			[]any{"AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", tb},
		),
		widget("DynamoDB throttles", "Sum",
			[]any{"AWS/DynamoDB", "ReadThrottleEvents", "TableName", tb},
			[]any{"AWS/DynamoDB", "WriteThrottleEvents", "TableName", tb},
		),
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
