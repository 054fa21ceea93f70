package stack

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
)

// TableActions(read-write) covers the DynamoDB calls the links store makes
// at run time (table.go's CreateTable is for `lowfare dev` only): read from
// its source, so a new call there without a grant here fails.
func TestTableActionsMatchTheStore(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "links", "store", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in internal/links/store (%v): the test reads the store's calls from them", err)
	}
	call := regexp.MustCompile(`dynamodb\.(\w+)Input\b`)
	used := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || filepath.Base(f) == "table.go" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range call.FindAllStringSubmatch(string(data), -1) {
			used["dynamodb:"+m[1]] = true
		}
	}
	if len(used) == 0 {
		t.Fatalf("found no dynamodb.*Input in internal/links/store: the pattern %s no longer matches how the store calls DynamoDB", call)
	}
	var got []string
	for a := range used {
		got = append(got, a)
	}
	sort.Strings(got)
	granted := TableActions(spec.AccessReadWrite)
	for _, a := range got {
		if !slices.Contains(granted, a) {
			t.Errorf("the store calls %s; TableActions(read-write) grants only %v", a, granted)
		}
	}
}

// Tags go on the stacks (StackTags), which CloudFormation propagates; a
// resource carries them in the template only when its registry schema takes
// tags without declaring the type taggable (templateTagged), so a spec with
// many tags no longer multiplies into every resource.
func TestTagsOnTheStackAndWherePropagationStops(t *testing.T) {
	for _, c := range allSpecs(t) {
		r := build(t, c.spec)
		want := map[string]string{TagApp: c.spec.App, TagEnv: c.spec.Env}
		for k, v := range c.spec.Tags {
			want[k] = v
		}
		if got := StackTags(c.spec); !maps.Equal(got, want) {
			t.Errorf("%s: StackTags %v, want %v", c.name, got, want)
		}
		for _, tmpl := range []*cfn.Template{r.Bootstrap, r.Main} {
			if tmpl == nil {
				continue // an image reference has no bootstrap stack
			}
			for id, res := range tmpl.Resources {
				schema, err := registry(t).Lookup(res.Type)
				if err != nil {
					t.Fatal(err)
				}
				key := "Tags"
				if res.Type == "AWS::Budgets::Budget" {
					key = "ResourceTags"
				}
				tags, has := res.Properties[key]
				takesTags := schema.TagsType != "" || schema.Properties["ResourceTags"]
				if need := takesTags && !schema.Taggable; need != has {
					t.Errorf("%s (%s, %s): tags in the template %v, want %v (takes tags %v, declared taggable %v)", c.name, id, res.Type, has, need, takesTags, schema.Taggable)
					continue
				}
				if _, listed := templateTagged[res.Type]; listed != has {
					t.Errorf("%s: %s in templateTagged %v, tagged %v", id, res.Type, listed, has)
				}
				if !has {
					continue
				}
				got := map[string]string{}
				switch x := tags.(type) {
				case []any:
					for _, tv := range x {
						m := tv.(map[string]any)
						got[m["Key"].(string)] = m["Value"].(string)
					}
				case map[string]any:
					for k, v := range x {
						got[k] = v.(string)
					}
				}
				if !maps.Equal(got, want) {
					t.Errorf("%s (%s): tags %v, want %v", c.name, id, got, want)
				}
			}
		}
	}
}

// The outputs deploy and ops read (contract.go) are there, per profile.
func TestOutputsFollowTheContract(t *testing.T) {
	for _, c := range allSpecs(t) {
		r := build(t, c.spec)
		for _, o := range []string{OutputRepositoryURI, OutputRepositoryName} {
			if r.Bootstrap == nil {
				break // an image reference has no bootstrap stack
			}
			if r.Bootstrap.Outputs[o] == nil {
				t.Errorf("%s: bootstrap has no output %s", c.name, o)
			}
		}
		want := []string{OutputURL, OutputTable, OutputLogGroup, OutputDashboardURL, OutputAlarmTopic, OutputBudget}
		if c.spec.ECS() {
			want = append(want, OutputCluster, OutputService)
			if c.spec.Service.Idle != nil {
				want = append(want, OutputWakeFunction)
			}
			if c.spec.Ingress.Kind == spec.IngressALB {
				want = append(want, OutputTargetGroup)
			}
			if c.spec.HasDatabase() {
				want = append(want, OutputDatabase, OutputDatabaseHost)
			}
		} else {
			want = append(want, OutputFunction)
		}
		for _, o := range want {
			if r.Main.Outputs[o] == nil {
				t.Errorf("%s: main has no output %s", c.name, o)
			}
		}
		if len(r.Main.Outputs) != len(want) {
			t.Errorf("%s: outputs %d, want %d", c.name, len(r.Main.Outputs), len(want))
		}
		if p := r.Main.Parameters[ParamImageURI]; p == nil || p.Type != "String" {
			t.Errorf("%s: no %s parameter", c.name, ParamImageURI)
		}
	}
}

// All alarms, counting each metric a metric-math alarm reads and the two
// alarms of each target-tracking policy, stay within CloudWatch's 10 free,
// but for service.idle, whose idle alarm is the eleventh and, with serve:
// app, the busy alarm the twelfth (behind an HTTP API the 5xx rate then
// reads one metric less): Build warns, and the estimate prices them ($0.10
// a month each).
func TestAlarmsFitTheFreeTier(t *testing.T) {
	for _, c := range allSpecs(t) {
		r := build(t, c.spec)
		if idle := c.spec.Service.Idle; idle != nil {
			want := freeAlarmMetrics + 1
			if idle.ServesApp() {
				want++ // the busy alarm
				if c.spec.Ingress.Kind == spec.IngressAPIGW {
					want-- // the 5xx rate needs no awake metric: the app answers
				}
			}
			if n := countAlarmMetrics(r.Main); n != want {
				t.Errorf("%s: %d alarm metrics with idle (serve %q), want %d", c.name, n, idle.Serve, want)
			}
			continue
		}
		if n := countAlarmMetrics(r.Main); n > freeAlarmMetrics {
			t.Errorf("%s: %d alarm metrics", c.name, n)
		}
		for _, w := range r.Warnings {
			if w.Part == PartObservability {
				t.Errorf("%s: unexpected alarm warning %s", c.name, w)
			}
		}
	}
}

func TestAlarmBudgetWarnsBeyondTen(t *testing.T) {
	tmpl := cfn.New("x")
	for i := 0; i < 9; i++ {
		tmpl.Add("A"+string(rune('a'+i)), &cfn.Resource{Type: "AWS::CloudWatch::Alarm", Properties: cfn.Props{}})
	}
	tmpl.Add("P", &cfn.Resource{Type: "AWS::ApplicationAutoScaling::ScalingPolicy", Properties: cfn.Props{"PolicyType": "TargetTrackingScaling"}})
	ws := alarmBudget(tmpl, "us-east-1")
	if len(ws) != 1 || ws[0].MonthlyUSD < 0.099 || ws[0].MonthlyUSD > 0.101 || !strings.Contains(ws[0].Message, "11 alarm metrics") {
		t.Errorf("warnings %v, want one for 11 metrics at $0.10", ws)
	}
	delete(tmpl.Resources, "Aa")
	if ws := alarmBudget(tmpl, "us-east-1"); len(ws) != 0 {
		t.Errorf("10 metrics warned: %v", ws)
	}
}

// The table has the key schema the links store uses (links_contract.md).
func TestTableKeySchema(t *testing.T) {
	for _, c := range allSpecs(t) {
		g := generic(t, build(t, c.spec).Main)
		p := resourcesOfType(g, "AWS::DynamoDB::Table")["Table"]
		ks := p["KeySchema"].([]any)
		if ks[0].(map[string]any)["AttributeName"] != "PK" || ks[1].(map[string]any)["AttributeName"] != "SK" {
			t.Errorf("%s: key schema %v", c.name, ks)
		}
		gsi := p["GlobalSecondaryIndexes"].([]any)[0].(map[string]any)
		if gsi["IndexName"] != "GSI1" || gsi["Projection"].(map[string]any)["ProjectionType"] != "ALL" {
			t.Errorf("%s: index %v", c.name, gsi)
		}
		ttl := p["TimeToLiveSpecification"].(map[string]any)
		if ttl["AttributeName"] != "expires_at" || ttl["Enabled"] != true {
			t.Errorf("%s: TTL %v", c.name, ttl)
		}
		_, pitr := p["PointInTimeRecoverySpecification"]
		if pitr != (c.spec.Table.PITR || c.spec.Profile == spec.ProfileHA) {
			t.Errorf("%s: PITR %v", c.name, pitr)
		}
		if (p["DeletionProtectionEnabled"] == true) != (c.spec.Profile == spec.ProfileHA) {
			t.Errorf("%s: deletion protection %v", c.name, p["DeletionProtectionEnabled"])
		}
		if c.spec.Table.Billing == spec.BillingOnDemand && p["BillingMode"] != "PAY_PER_REQUEST" {
			t.Errorf("%s: billing %v", c.name, p["BillingMode"])
		}
	}
}

// Profile shapes: ha runs two or more tasks in both subnets; TLS redirects
// 80 to 443; spot uses FARGATE_SPOT; serverless has no VPC.
func TestProfileShapes(t *testing.T) {
	byName := map[string]specCase{}
	for _, c := range allSpecs(t) {
		byName[c.name] = c
	}
	get := func(name string) map[string]any {
		c, ok := byName[name]
		if !ok {
			t.Fatalf("no spec %s", name)
		}
		return generic(t, build(t, c.spec).Main)
	}
	ha := resourcesOfType(get("ha"), "AWS::ECS::Service")["Service"]
	subnets := ha["NetworkConfiguration"].(map[string]any)["AwsvpcConfiguration"].(map[string]any)["Subnets"].([]any)
	if first, _ := strconv.Atoi(CreateParameters(byName["ha"].spec)[ParamInitialCount]); len(subnets) != 2 || first < 2 {
		t.Errorf("ha: %d subnets, first count %d", len(subnets), first)
	}
	free := resourcesOfType(get("free-alb"), "AWS::ECS::Service")["Service"]
	if n := len(free["NetworkConfiguration"].(map[string]any)["AwsvpcConfiguration"].(map[string]any)["Subnets"].([]any)); n != 1 {
		t.Errorf("free: tasks in %d subnets, want 1", n)
	}
	tls := resourcesOfType(get("free-tls"), "AWS::ElasticLoadBalancingV2::Listener")
	action := tls["HttpListener"]["DefaultActions"].([]any)[0].(map[string]any)
	if action["Type"] != "redirect" || tls["HttpsListener"] == nil {
		t.Errorf("free-tls: port 80 does %v", action["Type"])
	}
	if len(resourcesOfType(get("free-tls"), "AWS::CertificateManager::Certificate")) != 1 ||
		len(resourcesOfType(get("free-tls"), "AWS::Route53::RecordSet")) != 1 {
		t.Error("free-tls: no certificate or alias record")
	}
	if len(resourcesOfType(get("ha"), "AWS::CertificateManager::Certificate")) != 0 {
		t.Error("ha: a certificate was created beside the given ARN")
	}
	spot := resourcesOfType(get("spot-x86"), "AWS::ECS::Service")["Service"]
	if spot["CapacityProviderStrategy"].([]any)[0].(map[string]any)["CapacityProvider"] != "FARGATE_SPOT" {
		t.Error("spot-x86 does not use FARGATE_SPOT")
	}
	sl := get("serverless")
	if len(resourcesOfType(sl, "AWS::EC2::VPC")) != 0 || len(resourcesOfType(sl, "AWS::Lambda::Url")) != 1 {
		t.Error("serverless: a VPC, or no function URL")
	}
	fn := resourcesOfType(sl, "AWS::Lambda::Function")["Function"]
	if fn["PackageType"] != "Image" || fn["Architectures"].([]any)[0] != "arm64" {
		t.Errorf("serverless function %v %v", fn["PackageType"], fn["Architectures"])
	}
	apigw := get("free-apigw")
	if len(resourcesOfType(apigw, "AWS::ElasticLoadBalancingV2::LoadBalancer")) != 0 {
		t.Error("free-apigw has a load balancer")
	}
	sd := resourcesOfType(apigw, "AWS::ServiceDiscovery::Service")["DiscoveryService"]
	if rec := sd["DnsConfig"].(map[string]any)["DnsRecords"].([]any)[0].(map[string]any); rec["Type"] != "SRV" {
		t.Errorf("free-apigw: Cloud Map records %v, want SRV (API Gateway needs the port)", rec["Type"])
	}
	if st := resourcesOfType(apigw, "AWS::ApplicationAutoScaling::ScalableTarget")["ScalableTarget"]; st["ScheduledActions"] == nil {
		t.Error("free-apigw: the schedule made no scheduled actions")
	}
}

// Every entry of the plan listing has a part.
func TestEntriesHaveParts(t *testing.T) {
	r := build(t, spec.Default())
	if len(r.Entries) != len(r.Main.Resources)+len(r.Bootstrap.Resources) {
		t.Fatalf("%d entries for %d resources", len(r.Entries), len(r.Main.Resources)+len(r.Bootstrap.Resources))
	}
	for _, e := range r.Entries {
		if !slices.Contains(PartOrder, e.Part) {
			t.Errorf("%s has part %q", e.LogicalID, e.Part)
		}
	}
}

// The dashboard body is valid JSON once CloudFormation substitutes the
// ${...} references, and every metric names a namespace CloudWatch has.
func TestDashboardBody(t *testing.T) {
	ref := regexp.MustCompile(`\$\{[^}]+\}`)
	for _, c := range allSpecs(t) {
		g := generic(t, build(t, c.spec).Main)
		d := resourcesOfType(g, "AWS::CloudWatch::Dashboard")["Dashboard"]
		body := d["DashboardBody"].(map[string]any)["Fn::Sub"].(string)
		var doc struct {
			Widgets []struct {
				Properties struct {
					Metrics [][]any `json:"metrics"`
					Region  string  `json:"region"`
				} `json:"properties"`
			} `json:"widgets"`
		}
		if err := json.Unmarshal([]byte(ref.ReplaceAllString(body, "x")), &doc); err != nil {
			t.Fatalf("%s: dashboard body: %v", c.name, err)
		}
		metrics := 0
		for _, w := range doc.Widgets {
			for _, m := range w.Properties.Metrics {
				metrics++
				ns, _ := m[0].(string)
				if !strings.HasPrefix(ns, "AWS/") || len(m)%2 != 0 {
					t.Errorf("%s: metric %v", c.name, m)
				}
			}
		}
		// CloudWatch's free dashboards hold up to 50 metrics each.
		if metrics == 0 || metrics > 50 {
			t.Errorf("%s: %d dashboard metrics", c.name, metrics)
		}
	}
}

// IAM actions are spelled service:Action.
func TestIAMActionSyntax(t *testing.T) {
	action := regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z]+$`)
	for _, c := range allSpecs(t) {
		r := build(t, c.spec)
		for where, sts := range statements(generic(t, r.Main)) {
			for _, st := range sts {
				if st["Effect"] != "Allow" && st["Effect"] != "Deny" {
					t.Errorf("%s: %s: Effect %v", c.name, where, st["Effect"])
				}
				for _, a := range asList(st["Action"]) {
					if s, _ := a.(string); !action.MatchString(s) {
						t.Errorf("%s: %s: action %v", c.name, where, a)
					}
				}
			}
		}
	}
}

// The budget alerts on ACTUAL spend first and FORECASTED spend after, each
// to the emails and the topic, and the topic lets Budgets and CloudWatch
// publish.
func TestBudgetAndTopic(t *testing.T) {
	s := variant(func(s *spec.Spec) {
		s.Budget.AlertPercent = []int{50, 80, 100}
		s.Budget.Emails = []string{"b@example.com", "a@example.com"}
	})
	g := generic(t, build(t, s).Main)
	b := resourcesOfType(g, "AWS::Budgets::Budget")["Budget"]
	budget := b["Budget"].(map[string]any)
	if budget["BudgetType"] != "COST" || budget["TimeUnit"] != "MONTHLY" || budget["BudgetLimit"].(map[string]any)["Unit"] != "USD" {
		t.Errorf("budget %v", budget)
	}
	var got []string
	for _, n := range b["NotificationsWithSubscribers"].([]any) {
		nm := n.(map[string]any)
		note := nm["Notification"].(map[string]any)
		var subs []string
		for _, sub := range nm["Subscribers"].([]any) {
			sm := sub.(map[string]any)
			subs = append(subs, fmt.Sprintf("%s:%v", sm["SubscriptionType"], sm["Address"]))
		}
		got = append(got, fmt.Sprintf("%v %v %v", note["NotificationType"], note["Threshold"], subs))
	}
	want := []string{
		"ACTUAL 50 [SNS:map[Ref:AlarmTopic] EMAIL:a@example.com EMAIL:b@example.com]",
		"FORECASTED 80 [SNS:map[Ref:AlarmTopic] EMAIL:a@example.com EMAIL:b@example.com]",
		"FORECASTED 100 [SNS:map[Ref:AlarmTopic] EMAIL:a@example.com EMAIL:b@example.com]",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("notifications\n got %v\nwant %v", got, want)
	}
	policy := fmt.Sprint(resourcesOfType(g, "AWS::SNS::TopicPolicy")["AlarmTopicPolicy"])
	for _, p := range []string{"budgets.amazonaws.com", "cloudwatch.amazonaws.com", "sns:Publish"} {
		if !strings.Contains(policy, p) {
			t.Errorf("topic policy lacks %s", p)
		}
	}
	for _, a := range resourcesOfType(g, "AWS::CloudWatch::Alarm") {
		if fmt.Sprint(a["AlarmActions"]) != "[map[Ref:AlarmTopic]]" {
			t.Errorf("alarm %v notifies %v", a["AlarmName"], a["AlarmActions"])
		}
	}
}
