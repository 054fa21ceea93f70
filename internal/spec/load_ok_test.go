package spec

import (
	"reflect"
	"testing"
	"time"
)

func mustParse(t *testing.T, src string) *Spec {
	t.Helper()
	s, err := Parse("lowfare.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse:\n%s\nerror:\n%v", src, err)
	}
	return s
}

func TestOnlyAppTakesEveryDefault(t *testing.T) {
	got := mustParse(t, "app: shop\n")
	want := Default()
	want.App = "shop"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestEmptyAppKeyTakesEveryDefault(t *testing.T) {
	// "app:" with no value is null: absent, so the default name.
	if got := mustParse(t, "app:\n"); !reflect.DeepEqual(got, Default()) {
		t.Errorf("got %+v", got)
	}
}

func TestDefaultIsValid(t *testing.T) {
	// Every default written out in full loads back to Default().
	src := `
app: links
env: dev
region: us-east-1
profile: free
service:
  image: .
  port: 8080
  cpu: 256
  memory: 512
  arch: arm64
  spot: false
  count: {desired: 1, min: 1, max: 2}
  scaling: {cpu_target: 70}
  health: {path: /healthz, interval: 15, timeout: 5, healthy: 2, unhealthy: 3, grace: 30}
  timeout: 30
  env: {LOG_LEVEL: info}
  secrets: []
  user: "65532:65532"
  readonly_root: true
ingress:
  kind: alb
  domain: ""
  hosted_zone_id: ""
  certificate_arn: ""
table:
  billing: provisioned
  read: 5
  write: 5
  pitr: false
  access: read-write
logs: {retention_days: 7}
budget: {monthly_usd: 10, alert_percent: [80, 100], emails: [ops@example.com]}
alarms: {emails: [ops@example.com]}
tags: {cost-center: demo}
workload: {requests_per_month: 1000000, response_kb: 10}
`
	if got := mustParse(t, src); !reflect.DeepEqual(got, Default()) {
		t.Errorf("got %+v\nwant %+v", got, Default())
	}
}

func TestParseFillsFromProfileAndSetFields(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		check func(*Spec) bool
	}{
		{"ha raises min, desired and turns on pitr", "app: links\nprofile: ha\n", func(s *Spec) bool {
			return s.Service.Count == Count{Desired: 2, Min: 2, Max: 2} && s.Table.PITR
		}},
		{"ha keeps what the user set", "app: links\nprofile: ha\nservice: {count: {min: 3}}\ntable: {pitr: false}\n", func(s *Spec) bool {
			return s.Service.Count == Count{Desired: 3, Min: 3, Max: 3} && !s.Table.PITR
		}},
		{"serverless defaults to a function URL", "app: links\nprofile: serverless\n", func(s *Spec) bool {
			return s.Ingress.Kind == IngressURL
		}},
		{"serverless with apigw", "app: links\nprofile: serverless\ningress: {kind: apigw}\n", func(s *Spec) bool {
			return s.Ingress.Kind == IngressAPIGW
		}},
		{"cpu alone takes the smallest memory", "app: links\nservice: {cpu: 1024}\n", func(s *Spec) bool {
			return s.Service.Memory == 2048
		}},
		{"max alone caps desired", "app: links\nservice: {count: {min: 0, max: 1}}\n", func(s *Spec) bool {
			return s.Service.Count == Count{Desired: 1, Min: 0, Max: 1}
		}},
		{"present map replaces the default", "app: links\ntags: {team: web}\nservice: {env: {PORT: 8080, DEBUG: true}}\n", func(s *Spec) bool {
			return reflect.DeepEqual(s.Tags, map[string]string{"team": "web"}) &&
				reflect.DeepEqual(s.Service.Env, map[string]string{"PORT": "8080", "DEBUG": "true"})
		}},
		{"empty list means none", "app: links\nservice: {secrets: []}\nalarms: {emails: []}\n", func(s *Spec) bool {
			return len(s.Service.Secrets) == 0 && s.Service.Secrets != nil && len(s.Alarms.Emails) == 0
		}},
		{"empty section keeps defaults", "app: links\nservice:\ntable:\n", func(s *Spec) bool {
			return reflect.DeepEqual(s.Service, Default().Service) && s.Table == Default().Table
		}},
		{"anchors without aliases are harmless", "app: &name links\n", func(s *Spec) bool { return s.App == "links" }},
		{"byte order mark", "\xef\xbb\xbfapp: links\n", func(s *Spec) bool { return s.App == "links" }},
		{"schedule parses", "app: links\nservice: {schedule: {timezone: UTC, awake: \"Mon-Fri 09:00-17:00\"}}\n", func(s *Spec) bool {
			return s.Service.Schedule != nil && s.Service.Schedule.Timezone == "UTC"
		}},
		{"idle with schedule and active hours", "app: links\nservice: {idle: {after: 1h30m}, schedule: {timezone: UTC, awake: \"Mon-Fri 09:00-17:00\"}}\nworkload: {active_hours: 40}\n", func(s *Spec) bool {
			return s.Service.Idle != nil && s.Service.Idle.Duration() == 90*time.Minute && s.Workload.ActiveHours == 40
		}},
		{"idle at the bounds", "app: links\nservice: {idle: {after: 24h}}\n", func(s *Spec) bool { return s.Service.Idle.Duration() == IdleMax }},
		{"budget in cents", "app: links\nbudget: {monthly_usd: 7.5}\n", func(s *Spec) bool { return s.Budget.MonthlyUSD == 7.5 }},
		{"spot on x86", "app: links\nservice: {arch: x86_64, spot: true}\n", func(s *Spec) bool { return s.Service.Spot }},
		{"on-demand table", "app: links\ntable: {billing: on-demand}\n", func(s *Spec) bool { return s.Table.Billing == BillingOnDemand }},
		{"existing certificate", "app: links\ningress: {certificate_arn: \"arn:aws:acm:us-east-1:123456789012:certificate/abc\"}\n", func(s *Spec) bool {
			return s.Ingress.TLS()
		}},
		{"block text", "app: links\nservice:\n  image: |-\n    ./cmd/links\n", func(s *Spec) bool { return s.Service.Image == "./cmd/links" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s := mustParse(t, tt.src); !tt.check(s) {
				t.Errorf("unexpected spec: %+v", s)
			}
		})
	}
}

func TestFargateMemoryTable(t *testing.T) {
	// The design's table: sizes, bounds and steps per CPU.
	tests := []struct{ cpu, first, last, n int }{
		{256, 512, 2048, 3}, {512, 1024, 4096, 4}, {1024, 2048, 8192, 7}, {2048, 4096, 16384, 13},
		{4096, 8192, 30720, 23}, {8192, 16384, 61440, 12}, {16384, 32768, 122880, 12},
	}
	for _, tt := range tests {
		got := FargateMemory(tt.cpu)
		if len(got) != tt.n || got[0] != tt.first || got[len(got)-1] != tt.last {
			t.Errorf("cpu %d: %v", tt.cpu, got)
		}
	}
	if FargateMemory(300) != nil {
		t.Error("cpu 300 has sizes")
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"app", "env", "region", "profile", "service", "ingress"}
	for got, want := range map[string]string{"servce": "service", "regoin": "region", "APP": "app", "cpu": "", "frobnicate": "", "ingres": "ingress", "profiel": "profile"} {
		if s := suggest(got, known); s != want {
			t.Errorf("suggest(%q) = %q, want %q", got, s, want)
		}
	}
}

func TestProblemsErrorFormat(t *testing.T) {
	p := &Problems{File: "lowfare.yaml", List: []Problem{
		{Pos: Pos{12, 7}, Path: "service.cpu", Msg: "300 is not a Fargate CPU size; use 256, 512, 1024, ..."},
		{Pos: Pos{1, 1}, Msg: "the file is empty"},
	}}
	want := "lowfare.yaml:12:7 service.cpu: 300 is not a Fargate CPU size; use 256, 512, 1024, ...\nlowfare.yaml:1:1: the file is empty"
	if p.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", p.Error(), want)
	}
}

func TestProblemsAreCapped(t *testing.T) {
	src := "app: links\nalarms:\n  emails:\n"
	for range 200 {
		src += "    - not-an-email\n"
	}
	_, err := Parse("x.yaml", []byte(src))
	text := checkProblems(t, "x.yaml", err)
	if n := len(splitLines(text)); n != maxShown+1 {
		t.Errorf("%d lines printed, want %d", n, maxShown+1)
	}
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := range len(s) {
		if s[i] == '\n' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
