package stack

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
)

// The tests in this file pin what a real AWS account would hit and the
// fakes hide. Each fails on the template lowfare built before.

// budgetName is the BudgetName the main template gives the budget, with
// ${AWS::Region} as CloudFormation would resolve it in region.
func budgetNameIn(t *testing.T, s *spec.Spec, region string) string {
	t.Helper()
	g := generic(t, build(t, s).Main)
	b := resourcesOfType(g, "AWS::Budgets::Budget")["Budget"]
	name := b["Budget"].(map[string]any)["BudgetName"]
	pattern, ok := name.(map[string]any)["Fn::Sub"].(string)
	if !ok {
		t.Fatalf("BudgetName %v is not a Fn::Sub pattern", name)
	}
	return strings.ReplaceAll(pattern, "${AWS::Region}", region)
}

// NotificationsWithSubscribers is create-only, so a change of the
// emails or the alert percentages replaces the budget; the replacement
// must get a name of its own (AWS creates it before deleting the old one).
// The amount is updated in place and keeps the name.
func TestBudgetReplacementGetsANewName(t *testing.T) {
	base := variant(func(s *spec.Spec) { s.Budget.Emails = []string{"ops@example.com", "cfo@example.com"} })
	name := budgetNameIn(t, base, base.Region)
	for _, c := range []struct {
		what    string
		change  func(*spec.Spec)
		renamed bool
	}{
		{"another email", func(s *spec.Spec) {
			s.Budget.Emails = []string{"ops@example.com", "cfo@example.com", "cto@example.com"}
		}, true},
		{"an email fewer", func(s *spec.Spec) { s.Budget.Emails = []string{"ops@example.com"} }, true},
		{"another alert", func(s *spec.Spec) {
			s.Budget.Emails = []string{"ops@example.com", "cfo@example.com"}
			s.Budget.AlertPercent = []int{50, 80, 100}
		}, true},
		{"the same emails reordered", func(s *spec.Spec) { s.Budget.Emails = []string{"cfo@example.com", "ops@example.com"} }, false},
		{"a new amount", func(s *spec.Spec) {
			s.Budget.Emails = []string{"ops@example.com", "cfo@example.com"}
			s.Budget.MonthlyUSD = 25
		}, false},
	} {
		got := budgetNameIn(t, variant(c.change), base.Region)
		if renamed := got != name; renamed != c.renamed {
			t.Errorf("%s: budget name %q (was %q): renamed %v, want %v", c.what, got, name, renamed, c.renamed)
		}
		if len(got) > maxBudgetName {
			t.Errorf("%s: %q is longer than %d", c.what, got, maxBudgetName)
		}
	}
}

// Budget and dashboard names are account-wide, so the same app and
// env in two regions must name them apart; the region comes from
// ${AWS::Region}, so a deploy with --region gets it right too.
func TestAccountWideNamesCarryTheRegion(t *testing.T) {
	s := spec.Default()
	east, west := budgetNameIn(t, s, "us-east-1"), budgetNameIn(t, s, "eu-central-1")
	if east == west {
		t.Errorf("budget: both regions get %q", east)
	}
	if got := BudgetName(s); got != east {
		t.Errorf("BudgetName (what ops reads) %q, the template names %q", got, east)
	}
	g := generic(t, build(t, s).Main)
	d := resourcesOfType(g, "AWS::CloudWatch::Dashboard")["Dashboard"]
	pattern, _ := d["DashboardName"].(map[string]any)["Fn::Sub"].(string)
	if !strings.Contains(pattern, "${AWS::Region}") {
		t.Errorf("dashboard name %v does not carry the region", d["DashboardName"])
	}
	out := g["Outputs"].(map[string]any)[OutputBudget].(map[string]any)["Value"]
	if fmt.Sprint(out) != fmt.Sprint(map[string]any{"Fn::Sub": strings.ReplaceAll(east, "us-east-1", "${AWS::Region}")}) {
		t.Errorf("output %s is %v", OutputBudget, out)
	}
}

// manyTags is n tags of a realistic size (keys of 20, values of 40
// characters): the 48 tags made a 173 KB template.
func manyTags(n int) map[string]string {
	tags := map[string]string{}
	for i := range n {
		tags[fmt.Sprintf("team-tag-%02d-abcdefgh", i)] = fmt.Sprintf("value-%02d-%s", i, strings.Repeat("v", 31))
	}
	return tags
}

// Tags ride on the stack, so spec.MaxTags of them (the most a spec may have)
// leave the templates far under the inline limit, and no warning; a
// template near the limit is warned about before deploy refuses it.
func TestTemplateSizeWithMostTags(t *testing.T) {
	for _, c := range []struct {
		name string
		s    *spec.Spec
	}{
		{"free alb", variant(func(s *spec.Spec) { s.Tags = manyTags(spec.MaxTags) })},
		{"apigw with a domain", variant(func(s *spec.Spec) {
			s.Tags = manyTags(spec.MaxTags)
			s.Ingress = spec.Ingress{Kind: spec.IngressAPIGW, Domain: "api.example.com", HostedZoneID: "Z123"}
		})},
		{"serverless apigw", variant(func(s *spec.Spec) {
			s.Tags = manyTags(spec.MaxTags)
			s.Profile = spec.ProfileServerless
			s.Ingress = spec.Ingress{Kind: spec.IngressAPIGW}
		})},
	} {
		r := build(t, c.s)
		for name, tmpl := range map[string]*cfn.Template{"main": r.Main, "bootstrap": r.Bootstrap} {
			if tmpl == nil {
				continue // an image reference has no bootstrap stack
			}
			body, err := json.Marshal(tmpl)
			if err != nil {
				t.Fatal(err)
			}
			if len(body) > sizeWarnAt {
				t.Errorf("%s %s: %d bytes with %d tags, want under %d", c.name, name, len(body), spec.MaxTags, sizeWarnAt)
			}
		}
		for _, w := range r.Warnings {
			if w.Part == PartTemplate {
				t.Errorf("%s: %s", c.name, w)
			}
		}
		if got := len(StackTags(c.s)) + len(sleepTagKeys(t)); got != awsTagsPerResource {
			t.Errorf("%s: %d stack tags and the wake controller's, want AWS's %d", c.name, got, awsTagsPerResource)
		}
	}

	big := cfn.New("big")
	big.Add("Topic", &cfn.Resource{Type: "AWS::SNS::Topic", Properties: cfn.Props{"DisplayName": strings.Repeat("x", sizeWarnAt)}})
	small := cfn.New("small")
	ws := sizeWarnings(small, big)
	if len(ws) != 1 || !strings.Contains(ws[0].Message, "the main template") {
		t.Errorf("a template at %d bytes: warnings %v, want one for the main template", sizeWarnAt, ws)
	}
	big.Resources["Topic"].Properties["DisplayName"] = strings.Repeat("x", cfn.MaxTemplateBody)
	if ws := sizeWarnings(small, big); len(ws) != 1 || !strings.Contains(ws[0].Message, "deploy will refuse it") {
		t.Errorf("a template over the limit: warnings %v", ws)
	}
}

// The Service carries DesiredCount only on the stack's first
// deploy (a parameter deploy passes then); on every later deploy the
// parameter is empty and the property absent, so an update keeps the
// running count.
func TestNoDesiredCountResetOnUpdate(t *testing.T) {
	for _, c := range allSpecs(t) {
		if !c.spec.ECS() {
			if CreateParameters(c.spec) != nil {
				t.Errorf("%s: serverless has create parameters", c.name)
			}
			continue
		}
		g := generic(t, build(t, c.spec).Main)
		svc := resourcesOfType(g, "AWS::ECS::Service")["Service"]
		want := map[string]any{"Fn::If": []any{condFirstDeploy, map[string]any{"Ref": ParamInitialCount}, map[string]any{"Ref": "AWS::NoValue"}}}
		if fmt.Sprint(svc["DesiredCount"]) != fmt.Sprint(want) {
			t.Errorf("%s: DesiredCount %v, want %v", c.name, svc["DesiredCount"], want)
		}
		cond := g["Conditions"].(map[string]any)[condFirstDeploy]
		if fmt.Sprint(cond) != fmt.Sprint(map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": ParamInitialCount}, ""}}}}) {
			t.Errorf("%s: condition %v", c.name, cond)
		}
		param := g["Parameters"].(map[string]any)[ParamInitialCount].(map[string]any)
		if param["Default"] != "" {
			t.Errorf("%s: %s defaults to %v; an update that omits it must leave DesiredCount out", c.name, ParamInitialCount, param["Default"])
		}
		b := &builder{s: c.spec}
		if got, want := CreateParameters(c.spec)[ParamInitialCount], fmt.Sprint(b.counts().desired); got != want {
			t.Errorf("%s: first count %q, want %q", c.name, got, want)
		}
	}
}

// With profile serverless, or service.idle serve: app (the app function
// runs the task's image), the repository lets Lambda (and only
// functions of this account and region) pull the image; ECS pulls with
// its execution role and gets no repository policy.
func TestRepositoryPolicyForLambda(t *testing.T) {
	for _, c := range allSpecs(t) {
		boot := build(t, c.spec).Bootstrap
		if boot == nil {
			continue // an image reference: no repository (TestNoRepositoryForAnImageReference)
		}
		g := generic(t, boot)
		repo := resourcesOfType(g, "AWS::ECR::Repository")["Repository"]
		policy, has := repo["RepositoryPolicyText"].(map[string]any)
		if want := !c.spec.ECS() || c.spec.Service.Idle.ServesApp(); has != want {
			t.Errorf("%s: repository policy %v, want one only for serverless and idle serve: app", c.name, has)
			continue
		}
		if !has {
			continue
		}
		st := policy["Statement"].([]any)[0].(map[string]any)
		if st["Effect"] != "Allow" || st["Principal"].(map[string]any)["Service"] != "lambda.amazonaws.com" {
			t.Errorf("%s: statement %v", c.name, st)
		}
		if got := fmt.Sprint(st["Action"]); got != "[ecr:BatchGetImage ecr:GetDownloadUrlForLayer]" {
			t.Errorf("%s: actions %s", c.name, got)
		}
		src := st["Condition"].(map[string]any)["StringLike"].(map[string]any)["aws:sourceArn"]
		if !strings.Contains(fmt.Sprint(src), ":lambda:${AWS::Region}:${AWS::AccountId}:function:*") {
			t.Errorf("%s: aws:sourceArn %v", c.name, src)
		}
	}
}

// With ingress apigw, the subnets (the VPC link's) sit in Zone IDs
// API Gateway lists for VPC links, looked up by ${AWS::Region}; the four
// regions of the price table each have two, and a region without VPC links
// is refused before anything is built.
func TestVpcLinkSubnetsPinnedToSupportedZones(t *testing.T) {
	supported := map[string][]string{ // the API Gateway documentation's table, for the price table's regions
		"us-east-1":    {"use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6"},
		"us-west-2":    {"usw2-az1", "usw2-az2", "usw2-az3", "usw2-az4"},
		"eu-west-1":    {"euw1-az1", "euw1-az2", "euw1-az3"},
		"eu-central-1": {"euc1-az1", "euc1-az2", "euc1-az3"},
	}
	for region, ids := range supported {
		s := variant(func(s *spec.Spec) { s.Region = region; s.Ingress.Kind = spec.IngressAPIGW })
		g := generic(t, build(t, s).Main)
		zones := g["Mappings"].(map[string]any)[mapVpcLinkZones].(map[string]any)[region].(map[string]any)
		seen := map[string]bool{}
		for i, id := range publicSubnets {
			sub := resourcesOfType(g, "AWS::EC2::Subnet")[id]
			if _, has := sub["AvailabilityZone"]; has {
				t.Errorf("%s %s: AvailabilityZone by name %v", region, id, sub["AvailabilityZone"])
			}
			key := fmt.Sprintf("Zone%d", i+1)
			want := map[string]any{"Fn::FindInMap": []any{mapVpcLinkZones, map[string]any{"Ref": "AWS::Region"}, key}}
			if fmt.Sprint(sub["AvailabilityZoneId"]) != fmt.Sprint(want) {
				t.Errorf("%s %s: AvailabilityZoneId %v", region, id, sub["AvailabilityZoneId"])
			}
			zone, _ := zones[key].(string)
			if !slices.Contains(ids, zone) || seen[zone] {
				t.Errorf("%s %s: zone %q is not a distinct VPC link zone of %v", region, id, zone, ids)
			}
			seen[zone] = true
		}
	}
	// The load balancer takes any two zones: no pinning.
	g := generic(t, build(t, spec.Default()).Main)
	if sub := resourcesOfType(g, "AWS::EC2::Subnet")[publicSubnets[0]]; sub["AvailabilityZoneId"] != nil || g["Mappings"] != nil {
		t.Errorf("alb: subnet %v, mappings %v", sub, g["Mappings"])
	}
	_, err := Build(variant(func(s *spec.Spec) { s.Region = "ap-northeast-3"; s.Ingress.Kind = spec.IngressAPIGW }))
	if err == nil || !strings.Contains(err.Error(), "no VPC links") {
		t.Errorf("apigw in ap-northeast-3: %v, want a rule error", err)
	}
	if _, err := Build(variant(func(s *spec.Spec) { s.Region = "ap-northeast-3" })); err != nil {
		t.Errorf("alb in ap-northeast-3: %v", err)
	}
}

// alarmProps returns the properties of the alarm id in the main template.
func alarmProps(t *testing.T, s *spec.Spec, id string) map[string]any {
	t.Helper()
	a := resourcesOfType(generic(t, build(t, s).Main), "AWS::CloudWatch::Alarm")[id]
	if a == nil {
		t.Fatalf("no alarm %s", id)
	}
	return a
}

// metricsByID indexes a metric-math alarm's metrics, and returns its
// expression.
func metricsByID(a map[string]any) (map[string]map[string]any, string) {
	out := map[string]map[string]any{}
	expr := ""
	for _, m := range a["Metrics"].([]any) {
		mm := m.(map[string]any)
		out[mm["Id"].(string)] = mm
		if e, ok := mm["Expression"].(string); ok && mm["ReturnData"] == true {
			expr = e
		}
	}
	return out, expr
}

// The alarms fire when they should. The throttle alarm reads GSI1's
// throttle events as well as the table's; the ALB's 5xx rate counts the
// load balancer's own 5xx (a total outage, no target registered, raises
// only those); with a schedule, the 5xx rate is gated on a task being
// there, so the asleep service's 503s do not fire it. "Fires" is judged
// with each alarm's own ComparisonOperator, Threshold, EvaluationPeriods
// and DatapointsToAlarm (alarmFires), so a changed threshold is caught
// here and not only by a golden diff.
func TestAlarmsThatFire(t *testing.T) {
	throttleAlarm := alarmProps(t, spec.Default(), "AlarmThrottles")
	throttles, expr := metricsByID(throttleAlarm)
	var index []string
	for id, m := range throttles {
		if stat, ok := m["MetricStat"].(map[string]any); ok {
			dims := fmt.Sprint(stat["Metric"].(map[string]any)["Dimensions"])
			if strings.Contains(dims, "Name:GlobalSecondaryIndexName Value:"+IndexName) {
				index = append(index, stat["Metric"].(map[string]any)["MetricName"].(string))
				if !strings.Contains(expr, id) {
					t.Errorf("throttles: %s is not in %q", id, expr)
				}
			}
		}
	}
	slices.Sort(index)
	if !slices.Equal(index, []string{"ReadThrottleEvents", "WriteThrottleEvents"}) {
		t.Errorf("throttles: GSI1 metrics %v, want reads and writes", index)
	}
	// One throttled index write in one 5-minute period is worth an alarm;
	// a quiet table is not.
	if !alarmFires(t, throttleAlarm, []map[string]float64{{"indexWrites": 1}}) {
		t.Errorf("throttles: one throttled GSI1 write does not fire (%s)", expr)
	}
	if alarmFires(t, throttleAlarm, repeat(map[string]float64{}, 12)) {
		t.Errorf("throttles: an hour without throttles fires (%s)", expr)
	}

	albAlarm := alarmProps(t, spec.Default(), "Alarm5xx")
	alb, expr := metricsByID(albAlarm)
	var elb string
	for id, m := range alb {
		if stat, ok := m["MetricStat"].(map[string]any); ok && stat["Metric"].(map[string]any)["MetricName"] == "HTTPCode_ELB_5XX_Count" {
			elb = id
		}
	}
	if elb == "" || !strings.Contains(expr, elb) {
		t.Fatalf("alb 5xx: no HTTPCode_ELB_5XX_Count in the rate %q", expr)
	}
	// No target registered: RequestCount and the targets' 5xx have no
	// data, the load balancer answered 40 requests 503 in one period.
	if !alarmFires(t, albAlarm, []map[string]float64{{elb: 40}}) {
		t.Errorf("alb 5xx with no targets for 5 minutes: does not fire (%s)", expr)
	}
	// The description promises "more than 5% over 5 minutes": 6% in one
	// period fires, 2 of 1000 for an hour does not.
	if !alarmFires(t, albAlarm, []map[string]float64{{"requests": 1000, "errors": 60}}) {
		t.Errorf("alb 5xx, 60 of 1000 in 5 minutes: does not fire (%s)", expr)
	}
	if alarmFires(t, albAlarm, repeat(map[string]float64{"requests": 1000, "errors": 2}, 12)) {
		t.Errorf("alb 5xx, 2 of 1000 for an hour: fires (%s)", expr)
	}

	for _, kind := range []string{spec.IngressAPIGW, spec.IngressALB} {
		sched := variant(func(s *spec.Spec) {
			s.Ingress.Kind = kind
			s.Service.Schedule = &spec.Schedule{Timezone: "Europe/Berlin", Awake: "Mon-Fri 08:00-20:00"}
		})
		a := alarmProps(t, sched, "Alarm5xx")
		_, expr := metricsByID(a)
		// Asleep all night: no task reports CPU, none is registered, and
		// every request gets a 5xx from the front door.
		asleep := map[string]float64{"errors": 30, "requests": 30}
		if kind == spec.IngressALB {
			asleep = map[string]float64{"frontErrors": 30}
		}
		if alarmFires(t, a, repeat(asleep, 12*12)) {
			t.Errorf("%s with a schedule, asleep: fires on every request (%s)", kind, expr)
		}
		awake := map[string]float64{"errors": 30, "requests": 100, "awake": 5}
		if !alarmFires(t, a, []map[string]float64{awake}) {
			t.Errorf("%s with a schedule, awake with 30%% errors for 5 minutes: does not fire (%s)", kind, expr)
		}
		if r := build(t, sched); r.AlarmMetrics > freeAlarmMetrics {
			t.Errorf("%s with a schedule: %d alarm metrics, over the %d free", kind, r.AlarmMetrics, freeAlarmMetrics)
		}
	}
}

// repeat is n periods with the same metric values.
func repeat(v map[string]float64, n int) []map[string]float64 {
	out := make([]map[string]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// alarmFires reports whether a metric-math alarm goes to ALARM after the
// periods (oldest first, one map of metric values per period), judged as
// CloudWatch does: the alarm's ReturnData expression is evaluated per
// period and compared with Threshold by ComparisonOperator; the alarm
// fires when at least DatapointsToAlarm (default EvaluationPeriods) of
// the last EvaluationPeriods periods breach
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation).
// Missing data counts as not breaching, as TreatMissingData notBreaching
// says; the test requires that setting.
func alarmFires(t *testing.T, a map[string]any, periods []map[string]float64) bool {
	t.Helper()
	if a["TreatMissingData"] != "notBreaching" {
		t.Fatalf("alarm %v: TreatMissingData %v, want notBreaching", a["AlarmName"], a["TreatMissingData"])
	}
	threshold, ok := number(a["Threshold"])
	if !ok {
		t.Fatalf("alarm %v: Threshold %v", a["AlarmName"], a["Threshold"])
	}
	evaluation, ok := number(a["EvaluationPeriods"])
	if !ok || evaluation < 1 {
		t.Fatalf("alarm %v: EvaluationPeriods %v", a["AlarmName"], a["EvaluationPeriods"])
	}
	datapoints := evaluation
	if d, ok := number(a["DatapointsToAlarm"]); ok {
		datapoints = d
	}
	var breach func(float64) bool
	switch op := a["ComparisonOperator"]; op {
	case "GreaterThanThreshold":
		breach = func(v float64) bool { return v > threshold }
	case "GreaterThanOrEqualToThreshold":
		breach = func(v float64) bool { return v >= threshold }
	case "LessThanThreshold":
		breach = func(v float64) bool { return v < threshold }
	case "LessThanOrEqualToThreshold":
		breach = func(v float64) bool { return v <= threshold }
	default:
		t.Fatalf("alarm %v: ComparisonOperator %v is not one alarmFires knows", a["AlarmName"], op)
	}
	_, expr := metricsByID(a)
	window := periods[max(0, len(periods)-int(evaluation)):]
	breaching := 0
	for _, values := range window {
		if breach(evalMetricMath(t, expr, values)) {
			breaching++
		}
	}
	return float64(breaching) >= datapoints
}

// number reads a template number (an int in a cfn.Props, a float64 after
// a JSON round trip).
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// evalMetricMath evaluates an alarm expression for one period: either a
// rate (evalRate) or a sum of FILL terms.
func evalMetricMath(t *testing.T, expr string, values map[string]float64) float64 {
	t.Helper()
	if strings.HasPrefix(expr, "IF(") {
		return evalRate(t, expr, values)
	}
	sum := 0.0
	for _, p := range strings.Split(expr, " + ") {
		id, ok := strings.CutPrefix(strings.TrimSpace(p), "FILL(")
		if !ok || !strings.HasSuffix(id, ", 0)") {
			t.Fatalf("unexpected term %q in %q", p, expr)
		}
		sum += values[strings.TrimSuffix(id, ", 0)")]
	}
	return sum
}

// evalRate evaluates the rate expressions the alarms use for one period,
// with metrics absent from values having no data (FILL(x, 0) gives 0; a
// bare reference to a metric without data makes the result missing,
// which the alarms treat as not breaching: returned as 0). It knows the
// few forms observability.go writes: IF(cond, 100 * a / b, 0) where cond
// is terms joined by AND, each "x > 0", and a, b are FILL sums or MAX.
func evalRate(t *testing.T, expr string, values map[string]float64) float64 {
	t.Helper()
	inner, ok := strings.CutPrefix(expr, "IF(")
	if !ok || !strings.HasSuffix(inner, ", 0)") {
		t.Fatalf("unexpected expression %q", expr)
	}
	inner = strings.TrimSuffix(inner, ", 0)")
	cond, rest, ok := strings.Cut(inner, ", 100 * ")
	if !ok {
		t.Fatalf("unexpected expression %q", expr)
	}
	num, den, ok := strings.Cut(rest, " / ")
	if !ok {
		t.Fatalf("unexpected expression %q", expr)
	}
	var term func(string) float64
	term = func(s string) float64 {
		s = strings.TrimSpace(s)
		switch {
		case strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")"):
			return term(s[1 : len(s)-1])
		case strings.Contains(s, " + "):
			sum := 0.0
			for _, p := range strings.Split(s, " + ") {
				sum += term(p)
			}
			return sum
		case strings.HasPrefix(s, "MAX([") && strings.HasSuffix(s, "])"):
			m := 0.0
			for _, p := range strings.Split(s[5:len(s)-2], ", FILL") {
				if !strings.HasPrefix(p, "FILL") {
					p = "FILL" + p
				}
				m = max(m, term(p))
			}
			return m
		case strings.HasPrefix(s, "FILL(") && strings.HasSuffix(s, ", 0)"):
			return values[s[5:len(s)-4]]
		}
		t.Fatalf("unexpected term %q in %q", s, expr)
		return 0
	}
	for _, c := range strings.Split(cond, " AND ") {
		lhs, ok := strings.CutSuffix(c, " > 0")
		if !ok {
			t.Fatalf("unexpected condition %q in %q", c, expr)
		}
		if term(lhs) <= 0 {
			return 0
		}
	}
	return 100 * term(num) / term(den)
}
