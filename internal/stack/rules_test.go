package stack

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/spec"
)

// ruleCase is a spec that breaks one rule, and where and how it is refused.
type ruleCase struct {
	name  string
	f     func(*spec.Spec)
	field string
	text  string
	// file is the lowfare.yaml for the loader when CommentedYAML cannot
	// write the broken field (it leaves out what the profile has not).
	file string
	// template marks a rule only Build knows (derived names): the loader
	// refuses the same field by its own rule, in its own words.
	template bool
}

var ruleCases = []ruleCase{
	{name: "fargate pair", f: func(s *spec.Spec) { s.Service.CPU, s.Service.Memory = 256, 4096 }, field: "service.memory", text: "use 512, 1024 or 2048"},
	{name: "fargate cpu", f: func(s *spec.Spec) { s.Service.CPU = 300 }, field: "service.cpu", text: "not a Fargate CPU size"},
	{name: "fargate step", f: func(s *spec.Spec) { s.Service.CPU, s.Service.Memory = 8192, 20000 }, field: "service.memory", text: "steps of 4096"},
	{name: "spot arm64", f: func(s *spec.Spec) { s.Service.Spot = true }, field: "service.spot", text: "no ARM64 capacity"},
	{name: "retention", f: func(s *spec.Spec) { s.Logs.RetentionDays = 10 }, field: "logs.retention_days", text: "does not accept 10"},
	{name: "schedule timezone", f: func(s *spec.Spec) {
		s.Service.Schedule = &spec.Schedule{Timezone: "Mars/Olympus", Awake: "Mon-Fri 08:00-20:00"}
	}, field: "service.schedule.timezone"},
	{name: "schedule syntax", f: func(s *spec.Spec) {
		s.Service.Schedule = &spec.Schedule{Timezone: "Europe/Berlin", Awake: "weekdays 8-8"}
	}, field: "service.schedule.awake"},
	{name: "schedule with ha", f: func(s *spec.Spec) {
		s.Profile, s.Service.Count.Min = spec.ProfileHA, 2
		s.Service.Count.Desired, s.Service.Count.Max = 2, 2
		s.Service.Schedule = &spec.Schedule{Timezone: "Europe/Berlin", Awake: "Mon-Fri 08:00-20:00"}
	}, field: "service.schedule", text: "never sleeps"},
	{name: "schedule with serverless", f: func(s *spec.Spec) {
		s.Profile, s.Ingress.Kind = spec.ProfileServerless, spec.IngressURL
		s.Service.Schedule = &spec.Schedule{Timezone: "Europe/Berlin", Awake: "Mon-Fri 08:00-20:00"}
	}, field: "service.schedule", text: "remove the schedule",
		file: "app: links\nprofile: serverless\nservice:\n  schedule: {timezone: Europe/Berlin, awake: \"Mon-Fri 08:00-20:00\"}\n"},
	{name: "health timeout", f: func(s *spec.Spec) { s.Service.Health.Timeout = 15 }, field: "service.health.timeout", text: "not below interval"},
	{name: "health timeout range", f: func(s *spec.Spec) { s.Service.Health.Interval, s.Service.Health.Timeout = 300, 61 }, field: "service.health.timeout", text: "use 2-60"},
	{name: "health interval", f: func(s *spec.Spec) { s.Service.Health.Interval, s.Service.Health.Timeout = 400, 5 }, field: "service.health.interval", text: "use 5-300"},
	{name: "health grace", f: func(s *spec.Spec) { s.Service.Health.Grace = 301 }, field: "service.health.grace", text: "use 0-300"},
	{name: "port low", f: func(s *spec.Spec) { s.Service.Port = 0 }, field: "service.port", text: "1-65535"},
	{name: "port high", f: func(s *spec.Spec) { s.Service.Port = 70000 }, field: "service.port", text: "1-65535"},
	{name: "ingress kind", f: func(s *spec.Spec) { s.Ingress.Kind = spec.IngressURL }, field: "ingress.kind", text: "needs profile serverless"},
	{name: "serverless ingress", f: func(s *spec.Spec) { s.Profile = spec.ProfileServerless }, field: "ingress.kind", text: "use url or apigw"},
	{name: "lambda memory", f: func(s *spec.Spec) {
		s.Profile, s.Ingress.Kind, s.Service.Memory = spec.ProfileServerless, spec.IngressURL, 64
	}, field: "service.memory", text: "128-10240"},
	{name: "lambda timeout", f: func(s *spec.Spec) {
		s.Profile, s.Ingress.Kind, s.Service.Timeout = spec.ProfileServerless, spec.IngressURL, 901
	}, field: "service.timeout", text: "1-900"},
	{name: "count order", f: func(s *spec.Spec) { s.Service.Count = spec.Count{Desired: 3, Min: 1, Max: 2} }, field: "service.count.desired", text: "above max 2"},
	{name: "arch", f: func(s *spec.Spec) { s.Service.Arch = "riscv" }, field: "service.arch", text: "arm64 or x86_64"},
	{name: "profile", f: func(s *spec.Spec) { s.Profile = "cheap" }, field: "profile", text: "free, ha or serverless"},
	{name: "billing", f: func(s *spec.Spec) { s.Table.Billing = "free" }, field: "table.billing", text: "provisioned or on-demand"},
	{name: "budget", f: func(s *spec.Spec) { s.Budget.MonthlyUSD = 0 }, field: "budget.monthly_usd", text: "positive"},
	{name: "TABLE_NAME", f: func(s *spec.Spec) { s.Service.Env["TABLE_NAME"] = "x" }, field: "service.env.TABLE_NAME", text: "set by lowfare"},
	{name: "lambda reserved env", f: func(s *spec.Spec) {
		s.Profile, s.Ingress.Kind = spec.ProfileServerless, spec.IngressURL
		s.Service.Env["AWS_REGION"] = "x"
	}, field: "service.env.AWS_REGION", text: "Lambda reserves"},
	{name: "lambda secrets variable", f: func(s *spec.Spec) {
		s.Profile, s.Ingress.Kind = spec.ProfileServerless, spec.IngressURL
		s.Service.Env["LOWFARE_SECRETS"] = "x"
	}, field: "service.env.LOWFARE_SECRETS", text: "set by lowfare on the function"},
	{name: "lambda env size", f: func(s *spec.Spec) {
		s.Profile, s.Ingress.Kind = spec.ProfileServerless, spec.IngressURL
		s.Service.Env["BIG"] = strings.Repeat("x", 5000)
	}, field: "service.env", text: "4096"},
	{name: "empty tag value", f: func(s *spec.Spec) { s.Tags["team"] = "" }, field: "tags.team", text: "empty"},
	{name: "aws tag", f: func(s *spec.Spec) { s.Tags["aws:owner"] = "x" }, field: "tags.aws:owner", text: "reserved"},
	{name: "lowfare tag", f: func(s *spec.Spec) { s.Tags[TagApp] = "x" }, field: "tags.lowfare:app", text: "lowfare sets"},
	{name: "too many tags", f: func(s *spec.Spec) {
		for i := range spec.MaxTags + 1 {
			s.Tags[fmt.Sprintf("t%02d", i)] = "x"
		}
	}, field: "tags", text: fmt.Sprintf("keep %d or fewer", spec.MaxTags)},
	{name: "domain without certificate", f: func(s *spec.Spec) { s.Ingress.Domain = "links.example.com" }, field: "ingress.domain", text: "needs hosted_zone_id"},
	{name: "zone without domain", f: func(s *spec.Spec) { s.Ingress.HostedZoneID = "Z1" }, field: "ingress.hosted_zone_id", text: "does nothing"},
	{name: "function url domain", f: func(s *spec.Spec) {
		s.Profile, s.Ingress = spec.ProfileServerless, spec.Ingress{Kind: spec.IngressURL, Domain: "x.example.com", HostedZoneID: "Z1"}
	}, field: "ingress.kind", text: "cannot have its own domain",
		file: "app: links\nprofile: serverless\ningress: {kind: url, domain: x.example.com, hosted_zone_id: Z1}\n"},
	{name: "apigw certificate without domain", f: func(s *spec.Spec) {
		s.Ingress = spec.Ingress{Kind: spec.IngressAPIGW, CertificateARN: "arn:aws:acm:us-east-1:123456789012:certificate/abc"}
	}, field: "ingress.certificate_arn", text: "only for a custom domain"},
	{name: "name too long", f: func(s *spec.Spec) { s.App = strings.Repeat("a", 80) }, field: "app", text: "shorten app or env", template: true},
}

// Each rule error, alone, is refused by Build with the field it concerns,
// and by the loader at the same field, in the same words, with a position.
func TestRuleErrors(t *testing.T) {
	for _, c := range ruleCases {
		t.Run(c.name, func(t *testing.T) {
			s := variant(c.f)
			r, err := Build(s)
			if err == nil {
				t.Fatalf("accepted; templates %v", r != nil)
			}
			var re *RulesError
			if !errors.As(err, &re) {
				t.Fatalf("error %T %v, want *RulesError", err, err)
			}
			i := slices.IndexFunc(re.Problems, func(p Problem) bool {
				return p.Field == c.field && strings.Contains(p.Message, c.text)
			})
			if i < 0 {
				t.Fatalf("no problem on %s mentioning %q in:\n%v", c.field, c.text, err)
			}
			loaded := loadedProblems(t, s, c.file)
			switch {
			case len(loaded[c.field]) == 0:
				t.Errorf("the loader does not refuse %s; Build does: %v", c.field, err)
			case !c.template && !slices.ContainsFunc(loaded[c.field], func(p spec.Problem) bool { return p.Msg == re.Problems[i].Message }):
				t.Errorf("the loader refuses %s in other words:\n  loader: %v\n  Build:  %s", c.field, loaded[c.field], re.Problems[i].Message)
			}
			for _, p := range loaded[c.field] {
				if p.Pos.Line < 1 {
					t.Errorf("the loader reports %s without a position: %+v", c.field, p)
				}
			}
		})
	}
}

// All problems are reported at once.
func TestRuleErrorsAreAllReported(t *testing.T) {
	s := variant(func(s *spec.Spec) {
		s.Service.Spot = true
		s.Service.Port = 0
		s.Logs.RetentionDays = 2
	})
	_, err := Build(s)
	var re *RulesError
	if !errors.As(err, &re) || len(re.Problems) != 3 {
		t.Fatalf("got %v, want 3 problems", err)
	}
	if !strings.Contains(err.Error(), "3 rule(s)") {
		t.Errorf("message %q", err)
	}
}

// Each warning, with its dollar figure where it costs money. (The TLS
// settings that cannot work are rule errors: TestRuleErrors.)
func TestRuleWarnings(t *testing.T) {
	cases := []struct {
		name string
		f    func(*spec.Spec)
		part string
		text string
		usd  float64
	}{
		// 2 x 20 = 40 RCU and WCU: 15 over each; 15*0.00013*730 + 15*0.00065*730.
		{"capacity beyond free", func(s *spec.Spec) { s.Table.Read, s.Table.Write = 20, 20 }, PartTable, "beyond the always-free", 15*0.00013*730 + 15*0.00065*730},
		{"serverless secrets, image not built by lowfare", func(s *spec.Spec) {
			s.Profile, s.Ingress.Kind = spec.ProfileServerless, spec.IngressURL
			s.Service.Secrets = []string{"ADMIN_TOKEN"}
			s.Service.Image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"
		}, PartServerless, "LOWFARE_SECRETS=ADMIN_TOKEN and must read them itself", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Build(variant(c.f))
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, w := range r.Warnings {
				if w.Part == c.part && strings.Contains(w.Message, c.text) {
					found = true
					if diff := w.MonthlyUSD - c.usd; diff > 0.005 || diff < -0.005 {
						t.Errorf("$%.4f a month, want $%.4f", w.MonthlyUSD, c.usd)
					}
				}
			}
			if !found {
				t.Errorf("no %s warning mentioning %q in %v", c.part, c.text, r.Warnings)
			}
		})
	}
	if r := build(t, spec.Default()); len(r.Warnings) != 0 {
		t.Errorf("the default spec warns: %v", r.Warnings)
	}
}

// Fargate's task sizes: the pairs AWS's table has build, others do not.
func TestFargateSizes(t *testing.T) {
	ok := [][2]int{{256, 512}, {256, 2048}, {512, 1024}, {512, 4096}, {1024, 8192}, {2048, 16384}, {4096, 30720}, {8192, 61440}, {16384, 122880}, {16384, 32768}}
	bad := [][2]int{{256, 256}, {256, 1536}, {512, 512}, {512, 5120}, {1024, 1024}, {4096, 31744}, {8192, 17408}, {16384, 36864}, {128, 512}}
	size := func(p [2]int) *spec.Spec {
		return variant(func(s *spec.Spec) { s.Service.CPU, s.Service.Memory = p[0], p[1] })
	}
	for _, p := range ok {
		if _, err := Check(size(p)); err != nil {
			t.Errorf("%v refused: %v", p, err)
		}
	}
	for _, p := range bad {
		if _, err := Check(size(p)); err == nil {
			t.Errorf("%v accepted", p)
		}
	}
}

// Derived names always fit AWS's limits: 32 characters for load balancers
// and target groups, whatever the app and env.
func TestNamesFit(t *testing.T) {
	for _, app := range []string{"a", "links", "internal", strings.Repeat("x", 21), "abc-def-ghi-jkl-mno-pqr"} {
		for _, env := range []string{"d", "prod", strings.Repeat("e", 11)} {
			s := variant(func(s *spec.Spec) { s.App, s.Env = app, env })
			n := deriveNames(s)
			for _, name := range []string{n.LoadBalancer, n.TargetGroup} {
				if len(name) > 32 || strings.HasPrefix(name, "internal-") || strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-") || strings.Contains(name, "--") {
					t.Errorf("%s/%s: %q", app, env, name)
				}
			}
			if len(nameProblems(s)) != 0 {
				t.Errorf("%s/%s: %v", app, env, nameProblems(s))
			}
		}
	}
	a := deriveNames(variant(func(s *spec.Spec) { s.App = strings.Repeat("x", 21) + "1" }))
	b := deriveNames(variant(func(s *spec.Spec) { s.App = strings.Repeat("x", 21) + "2" }))
	if a.LoadBalancer == b.LoadBalancer {
		t.Error("two apps cut to the same prefix share a load balancer name")
	}
	p1 := deriveNames(spec.Default())
	p2 := deriveNames(variant(func(s *spec.Spec) { s.Service.Port = 9090 }))
	if p1.TargetGroup == p2.TargetGroup {
		t.Error("a port change (a replacement) keeps the target group name")
	}
	if p1.LoadBalancer != p2.LoadBalancer {
		t.Error("a port change renames the load balancer")
	}
}

// TestServerlessSecretsReachTheAdapter: for an image lowfare builds, the
// function names its secrets for the Lambda adapter, which puts them in the
// app's environment, so plan has nothing to warn about.
func TestServerlessSecretsReachTheAdapter(t *testing.T) {
	s := spec.Default()
	s.Profile, s.Ingress.Kind = spec.ProfileServerless, spec.IngressURL
	s.Service.Secrets = []string{"B_KEY", "A_TOKEN"}
	r := build(t, s)
	for _, w := range r.Warnings {
		if strings.Contains(w.Message, "SecureString") {
			t.Errorf("warns although the adapter reads the secrets: %s", w.Message)
		}
	}
	env := r.Main.Resources["Function"].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	if env["LOWFARE_SECRETS"] != "A_TOKEN,B_KEY" || env["SSM_PARAMETER_PREFIX"] != s.SecretPrefix() {
		t.Errorf("function environment %v: want LOWFARE_SECRETS=A_TOKEN,B_KEY and the prefix", env)
	}
}

// loadedProblems loads s through the loader, written as lowfare.yaml (or
// file, when given), and returns its problems by field (nil when it loads).
func loadedProblems(t *testing.T, s *spec.Spec, file string) map[string][]spec.Problem {
	t.Helper()
	data := s.CommentedYAML()
	if file != "" {
		data = []byte(file)
	}
	_, err := spec.Parse("lowfare.yaml", data)
	if err == nil {
		return nil
	}
	var probs *spec.Problems
	if !errors.As(err, &probs) {
		t.Fatalf("loader: %T %v, want *spec.Problems", err, err)
	}
	out := map[string][]spec.Problem{}
	for _, p := range probs.List {
		out[p.Path] = append(out[p.Path], p)
	}
	return out
}

// The loader and Build judge a spec alike: a spec the loader accepts
// builds, and a field Build refuses is refused by the loader too, at its
// position in the file. (The health limits are those of the ECS container
// health check, which takes the same timeout and grace as the load
// balancer; tag lengths are counted in characters, as AWS counts them.)
func TestLoaderAndBuildAgree(t *testing.T) {
	cases := []struct {
		name  string
		f     func(*spec.Spec)
		field string // "" when both accept
	}{
		{"health timeout beyond the container check", func(s *spec.Spec) { s.Service.Health.Interval, s.Service.Health.Timeout = 300, 90 }, "service.health.timeout"},
		{"health timeout at the container check's limit", func(s *spec.Spec) { s.Service.Health.Interval, s.Service.Health.Timeout = 300, 60 }, ""},
		{"grace beyond the container start period", func(s *spec.Spec) { s.Service.Health.Grace = 600 }, "service.health.grace"},
		{"grace at the container start period's limit", func(s *spec.Spec) { s.Service.Health.Grace = 300 }, ""},
		{"empty tag value", func(s *spec.Spec) { s.Tags["team"] = "" }, "tags.team"},
		{"tag key of 128 characters in 256 bytes", func(s *spec.Spec) { s.Tags[strings.Repeat("ü", 128)] = "x" }, ""},
		{"tag key of 129 characters", func(s *spec.Spec) { s.Tags[strings.Repeat("ü", 129)] = "x" }, "tags." + strings.Repeat("ü", 129)},
		{"tag value of 256 characters in 512 bytes", func(s *spec.Spec) { s.Tags["team"] = strings.Repeat("é", 256) }, ""},
		{"tag value of 257 characters", func(s *spec.Spec) { s.Tags["team"] = strings.Repeat("é", 257) }, "tags.team"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := variant(c.f)
			loaded := loadedProblems(t, s, "")
			_, err := Build(s)
			if c.field == "" {
				if loaded != nil || err != nil {
					t.Fatalf("want both to accept; loader: %v; Build: %v", loaded, err)
				}
				return
			}
			var re *RulesError
			if !errors.As(err, &re) {
				t.Fatalf("Build: %v, want a *RulesError", err)
			}
			if !slices.ContainsFunc(re.Problems, func(p Problem) bool { return p.Field == c.field }) {
				t.Errorf("Build refuses no %s: %v", c.field, err)
			}
			if len(loaded[c.field]) == 0 {
				t.Errorf("the loader does not refuse %s (problems: %v); Build does: %v", c.field, loaded, err)
			}
		})
	}
}

// awsTagsPerResource is AWS's limit of user tags on one resource
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Tag.html:
// "Maximum number of tags per resource - 50").
const awsTagsPerResource = 50

// sleepTagKeys are the tag keys the idle wake controller writes on the
// ECS service, read from its source.
func sleepTagKeys(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("idle_controller.py")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range regexp.MustCompile(`'key': '([^']+)'`).FindAllStringSubmatch(string(src), -1) {
		if !slices.Contains(keys, m[1]) {
			keys = append(keys, m[1])
		}
	}
	if len(keys) == 0 {
		t.Fatal("idle_controller.py writes no tags: has tag_resource moved?")
	}
	return keys
}

// A spec with the most tags it may have leaves room on the ECS service of
// an idle spec for lowfare's tags and those the wake controller writes,
// and no more room than that: one tag more is refused.
func TestTagRoom(t *testing.T) {
	idle := func(n int) *spec.Spec {
		return variant(func(s *spec.Spec) {
			s.Service.Count.Min = 0
			s.Service.Idle = &spec.Idle{After: "15m"}
			s.Tags = manyTags(n)
		})
	}
	s := idle(spec.MaxTags)
	build(t, s)
	if got := len(StackTags(s)) + len(sleepTagKeys(t)); got != awsTagsPerResource {
		t.Errorf("the service carries %d tags at most (%d stack tags, %v), want AWS's %d", got, len(StackTags(s)), sleepTagKeys(t), awsTagsPerResource)
	}
	if _, err := Build(idle(spec.MaxTags + 1)); err == nil {
		t.Errorf("%d tags build", spec.MaxTags+1)
	}
}
