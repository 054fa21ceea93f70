package stack

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lowfare/lowfare/internal/spec"
)

// Each rule error, alone, is refused with the field it concerns.
func TestRuleErrors(t *testing.T) {
	cases := []struct {
		name  string
		f     func(*spec.Spec)
		field string
		text  string
	}{
		{"fargate pair", func(s *spec.Spec) { s.Service.CPU, s.Service.Memory = 256, 4096 }, "service.memory", "cpu 256 takes 512, 1024 or 2048"},
		{"fargate cpu", func(s *spec.Spec) { s.Service.CPU = 300 }, "service.memory", "cpu must be one of"},
		{"fargate step", func(s *spec.Spec) { s.Service.CPU, s.Service.Memory = 8192, 20000 }, "service.memory", "steps of 4096"},
		{"spot arm64", func(s *spec.Spec) { s.Service.Spot = true }, "service.spot", "no arm64"},
		{"retention", func(s *spec.Spec) { s.Logs.RetentionDays = 10 }, "logs.retention_days", "does not accept 10"},
		{"schedule timezone", func(s *spec.Spec) {
			s.Service.Schedule = &spec.Schedule{Timezone: "Mars/Olympus", Awake: "Mon-Fri 08:00-20:00"}
		}, "service.schedule", ""},
		{"schedule syntax", func(s *spec.Spec) {
			s.Service.Schedule = &spec.Schedule{Timezone: "Europe/Berlin", Awake: "weekdays 8-8"}
		}, "service.schedule", ""},
		{"schedule with ha", func(s *spec.Spec) {
			s.Profile = spec.ProfileHA
			s.Service.Schedule = &spec.Schedule{Timezone: "Europe/Berlin", Awake: "Mon-Fri 08:00-20:00"}
		}, "service.schedule", "never sleeps"},
		{"schedule with serverless", func(s *spec.Spec) {
			s.Profile, s.Ingress.Kind = spec.ProfileServerless, spec.IngressURL
			s.Service.Schedule = &spec.Schedule{Timezone: "Europe/Berlin", Awake: "Mon-Fri 08:00-20:00"}
		}, "service.schedule", "remove the schedule"},
		{"health timeout", func(s *spec.Spec) { s.Service.Health.Timeout = 15 }, "service.health.timeout", "below the interval"},
		{"health interval", func(s *spec.Spec) { s.Service.Health.Interval, s.Service.Health.Timeout = 400, 5 }, "service.health.interval", "5-300"},
		{"port low", func(s *spec.Spec) { s.Service.Port = 0 }, "service.port", "1-65535"},
		{"port high", func(s *spec.Spec) { s.Service.Port = 70000 }, "service.port", "1-65535"},
		{"ingress kind", func(s *spec.Spec) { s.Ingress.Kind = spec.IngressURL }, "ingress.kind", "alb or apigw"},
		{"serverless ingress", func(s *spec.Spec) { s.Profile = spec.ProfileServerless }, "ingress.kind", "url or apigw"},
		{"lambda memory", func(s *spec.Spec) {
			s.Profile, s.Ingress.Kind, s.Service.Memory = spec.ProfileServerless, spec.IngressURL, 64
		}, "service.memory", "128 to 10240"},
		{"lambda timeout", func(s *spec.Spec) {
			s.Profile, s.Ingress.Kind, s.Service.Timeout = spec.ProfileServerless, spec.IngressURL, 901
		}, "service.timeout", "1 to 900"},
		{"count order", func(s *spec.Spec) { s.Service.Count = spec.Count{Desired: 3, Min: 1, Max: 2} }, "service.count", "min <= desired <= max"},
		{"arch", func(s *spec.Spec) { s.Service.Arch = "riscv" }, "service.arch", "arm64 or x86_64"},
		{"profile", func(s *spec.Spec) { s.Profile = "cheap" }, "profile", "free, ha or serverless"},
		{"billing", func(s *spec.Spec) { s.Table.Billing = "free" }, "table.billing", "provisioned or on-demand"},
		{"budget", func(s *spec.Spec) { s.Budget.MonthlyUSD = 0 }, "budget.monthly_usd", "positive"},
		{"TABLE_NAME", func(s *spec.Spec) { s.Service.Env["TABLE_NAME"] = "x" }, "service.env.TABLE_NAME", "lowfare sets"},
		{"lambda reserved env", func(s *spec.Spec) {
			s.Profile, s.Ingress.Kind = spec.ProfileServerless, spec.IngressURL
			s.Service.Env["AWS_REGION"] = "x"
		}, "service.env.AWS_REGION", "Lambda reserves"},
		{"lambda env size", func(s *spec.Spec) {
			s.Profile, s.Ingress.Kind = spec.ProfileServerless, spec.IngressURL
			s.Service.Env["BIG"] = strings.Repeat("x", 5000)
		}, "service.env", "4 KB"},
		{"empty tag value", func(s *spec.Spec) { s.Tags["team"] = "" }, "tags.team", "1 to 256"},
		{"aws tag", func(s *spec.Spec) { s.Tags["aws:owner"] = "x" }, "tags.aws:owner", "reserved"},
		{"lowfare tag", func(s *spec.Spec) { s.Tags[TagApp] = "x" }, "tags.lowfare:app", "lowfare sets"},
		{"name too long", func(s *spec.Spec) { s.App = strings.Repeat("a", 80) }, "app", "shorten app or env"},
	}
	for _, c := range cases {
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
			found := false
			for _, p := range re.Problems {
				if p.Field == c.field && strings.Contains(p.Message, c.text) {
					found = true
				}
			}
			if !found {
				t.Errorf("no problem on %s mentioning %q in:\n%v", c.field, c.text, err)
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

// Each warning, with its dollar figure where it costs money.
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
		{"tls without certificate", func(s *spec.Spec) { s.Ingress.Domain = "links.example.com" }, PartIngress, "traffic stays HTTP", 0},
		{"tls zone only", func(s *spec.Spec) { s.Ingress.HostedZoneID = "Z1" }, PartIngress, "traffic stays HTTP", 0},
		{"function url domain", func(s *spec.Spec) {
			s.Profile, s.Ingress = spec.ProfileServerless, spec.Ingress{Kind: spec.IngressURL, Domain: "x.example.com", HostedZoneID: "Z1"}
		}, PartIngress, "cannot take a custom domain", 0},
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

func TestFargateSizes(t *testing.T) {
	ok := [][2]int{{256, 512}, {256, 2048}, {512, 1024}, {512, 4096}, {1024, 8192}, {2048, 16384}, {4096, 30720}, {8192, 61440}, {16384, 122880}, {16384, 32768}}
	bad := [][2]int{{256, 256}, {256, 1536}, {512, 512}, {512, 5120}, {1024, 1024}, {4096, 31744}, {8192, 17408}, {16384, 36864}, {128, 512}}
	for _, p := range ok {
		if !fargateSizeOK(p[0], p[1]) {
			t.Errorf("%v refused", p)
		}
	}
	for _, p := range bad {
		if fargateSizeOK(p[0], p[1]) {
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

// loaderProblems loads s through the loader, as lowfare.yaml, and returns
// its problems by field (nil when it loads).
func loaderProblems(t *testing.T, s *spec.Spec) map[string][]spec.Problem {
	t.Helper()
	_, err := spec.Parse("lowfare.yaml", s.CommentedYAML())
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
			loaded := loaderProblems(t, s)
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
