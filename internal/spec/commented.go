package spec

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// New returns the spec that "lowfare init" writes: the defaults, with the
// app, profile and ingress kind asked for ("" keeps the default) and the
// profile's own defaults applied, exactly as Parse would apply them to a
// file that set only those three fields.
func New(app, profile, ingressKind string) (*Spec, error) {
	var b strings.Builder
	b.WriteString("app: " + yamlScalar(app, Default().App) + "\n")
	if profile != "" {
		b.WriteString("profile: " + yamlScalar(profile, "") + "\n")
	}
	if ingressKind != "" {
		b.WriteString("ingress: {kind: " + yamlScalar(ingressKind, "") + "}\n")
	}
	return Parse("lowfare init", []byte(b.String()))
}

func yamlScalar(s, fallback string) string {
	if s == "" {
		s = fallback
	}
	return quote(s)
}

// commentColumn is where the end-of-line comments start, as in the issue.
const commentColumn = 28

// CommentedYAML writes the spec as a lowfare.yaml with a short comment on
// every field; loading the result gives back an equal Spec. Fields that do
// not apply to the spec's profile (Fargate sizes for serverless) are left
// out, since setting them would be an error.
func (s *Spec) CommentedYAML() []byte {
	w := &commentWriter{}
	w.line("", "# lowfare.yaml: one app in one environment of one AWS region.")
	w.line("", "# Every field is shown with its value; delete a line to take the default.")
	w.line("", "# Check it with `lowfare plan`. Editor completion: lowfare.schema.json (`lowfare schema`).")
	w.field("app: "+quote(s.App), "[a-z][a-z0-9-]{1,20}")
	w.field("env: "+quote(s.Env), "[a-z][a-z0-9-]{1,10}")
	w.field("region: "+quote(s.Region), "AWS region")
	w.field("profile: "+quote(s.Profile), "free | ha | serverless")
	w.line("service:", "")
	w.field("  image: "+quote(s.Service.Image), "a Go main package to build, or an image reference")
	w.field("  port: "+strconv.Itoa(s.Service.Port), "the app listens on $PORT; lowfare sets PORT to this")
	if s.ECS() {
		w.fargate(s)
	} else {
		w.lambda(s.Service)
	}
	w.appSettings(s)
	w.ingress(s.Ingress, s.ECS())
	w.accounting(s)
	w.database(s)
	return []byte(w.b.String())
}

// fargate writes the service fields of profiles free and ha: size, count,
// scaling, sleep, health, user.
func (w *commentWriter) fargate(s *Spec) {
	svc := s.Service
	w.field("  cpu: "+strconv.Itoa(svc.CPU), "Fargate CPU units: 256, 512, 1024, 2048, 4096, 8192, 16384")
	w.field("  memory: "+strconv.Itoa(svc.Memory), "MiB, paired with cpu as Fargate allows (256: 512, 1024, 2048)")
	w.field("  arch: "+quote(svc.Arch), "arm64 | x86_64")
	w.field("  spot: "+strconv.FormatBool(svc.Spot), "Fargate Spot (x86_64 only)")
	countNote := "tasks; min 0 lets a schedule stop them all"
	if s.Profile == ProfileHA {
		countNote = "profile ha: at least 2, one per Availability Zone"
	}
	if s.ECS() && !s.Autoscales() {
		countNote += "; max above min autoscales on cpu_target (2 more alarm metrics, beyond CloudWatch's 10 free)"
	}
	w.field(fmt.Sprintf("  count: {desired: %d, min: %d, max: %d}", svc.Count.Desired, svc.Count.Min, svc.Count.Max), countNote)
	w.field(fmt.Sprintf("  scaling: {cpu_target: %d}", svc.Scaling.CPUTarget), "average CPU percent to track")
	w.sleep(s)
	h := svc.Health
	command := ""
	if len(h.Command) > 0 {
		command = ", command: " + flowList(h.Command)
	}
	w.field(fmt.Sprintf("  health: {path: %s, interval: %d, timeout: %d, healthy: %d, unhealthy: %d, grace: %d%s}",
		quote(h.Path), h.Interval, h.Timeout, h.Healthy, h.Unhealthy, h.Grace, command), "")
	if command == "" {
		w.line("", "  #   the container health check: lowfare's probe (GET path on $PORT) for images it builds;")
		w.line("", "  #   for an image reference none, unless health has command: [CMD-SHELL, \"curl -f ...\"]")
	}
	// user and readonly_root default by the kind of service.image
	// (applyProfileDefaults): written only where they differ from it, so
	// that pointing service.image at another kind of image later takes
	// that kind's defaults instead of values pinned for this one (nginx
	// as uid 65532 on a read-only root crash-loops).
	user, readonly := imageDefaults(svc)
	if svc.User != user {
		w.field("  user: "+jsonQuote(svc.User), "uid[:gid]; \"\" runs the image's own user")
	} else {
		w.line("", "  # user: default 65532:65532 for a Go package lowfare builds, else the image's own user")
	}
	if svc.ReadonlyRoot != readonly {
		w.field("  readonly_root: "+strconv.FormatBool(svc.ReadonlyRoot), "read-only root filesystem, with a writable /tmp")
	} else {
		w.line("", "  # readonly_root: default true (a writable /tmp) for a Go package lowfare builds, else false")
	}
}

// sleep writes the schedule and idle, or comments on how to set them.
func (w *commentWriter) sleep(s *Spec) {
	svc := s.Service
	switch {
	case svc.Schedule != nil:
		w.field(fmt.Sprintf("  schedule: {timezone: %s, awake: %s}", quote(svc.Schedule.Timezone), jsonQuote(svc.Schedule.Awake)),
			"asleep at zero tasks outside the awake windows")
	case s.Profile == ProfileHA:
		w.line("", "  # no schedule: profile ha never sleeps")
	default:
		w.line("", `  # schedule: {timezone: Europe/Berlin, awake: "Mon-Fri 08:00-20:00"}`)
		w.line("", "  #   absent by default (runs 24/7); when set, the service sleeps at zero tasks outside")
		w.line("", "  #   the awake windows; several windows separated by commas")
	}
	if svc.Idle != nil {
		serve := ""
		if svc.Idle.Serve != "" {
			serve = ", serve: " + quote(svc.Idle.Serve)
		}
		w.field("  idle: {after: "+quote(svc.Idle.After)+serve+"}", "asleep after this long without a request; app | page answers meanwhile")
	}
}

// lambda writes the service fields of profile serverless.
func (w *commentWriter) lambda(svc Service) {
	w.field("  memory: "+strconv.Itoa(svc.Memory), "MiB of Lambda memory, 128-10240 (CPU grows with it)")
	w.field("  timeout: "+strconv.Itoa(svc.Timeout), "seconds a request may take, 1-900")
	w.field("  arch: "+quote(svc.Arch), "arm64 | x86_64")
	w.field("  concurrency: "+strconv.Itoa(svc.Concurrency), "most requests at once (reserved concurrency); 0 reserves none")
}

// appSettings writes the app's environment, secrets and extra permissions.
func (w *commentWriter) appSettings(s *Spec) {
	svc := s.Service
	w.field("  env: "+flowMap(svc.Env), "plain environment variables (never secrets)")
	w.field("  secrets: "+flowList(svc.Secrets), "SSM SecureString "+s.SecretPrefix()+"<NAME>")
	if len(svc.Permissions) == 0 {
		w.line("", `  # permissions: [{actions: [s3:GetObject], resources: ["arn:aws:s3:::my-bucket/*"]}]`)
		w.line("", "  #   extra IAM statements for the app's role: named actions (no wildcards, no iam:),")
		w.line("", "  #   resource ARNs (\"*\" only for actions that take no resource)")
		return
	}
	w.line("  permissions:", "")
	for _, p := range svc.Permissions {
		w.line("    - actions: "+flowList(p.Actions), "")
		w.line("      resources: "+flowList(p.Resources), "")
	}
}

func (w *commentWriter) ingress(in Ingress, ecs bool) {
	w.line("ingress:", "")
	if ecs {
		w.field("  kind: "+quote(in.Kind), "alb | apigw")
		if in.Kind == IngressAPIGW {
			w.line("", "  #   kind: alb gives the seed's Application Load Balancer, always on: with its public")
			w.line("", "  #   IPv4s it costs more than a $10 budget by itself (`lowfare cost --compare` prices both)")
		}
	} else {
		w.field("  kind: "+quote(in.Kind), "url (a Lambda function URL) | apigw")
	}
	if in.Kind != IngressURL {
		w.field("  domain: "+jsonQuote(in.Domain), "with hosted_zone_id: an ACM certificate validated by DNS and an alias record")
		w.field("  hosted_zone_id: "+jsonQuote(in.HostedZoneID), "")
		w.field("  certificate_arn: "+jsonQuote(in.CertificateARN), "or an existing certificate")
	}
}

// accounting writes the table, logs, budget, alarms, tags and workload.
func (w *commentWriter) accounting(s *Spec) {
	t := s.Table
	w.line("table:", "")
	w.field("  billing: "+quote(t.Billing), "provisioned | on-demand")
	if t.Billing == BillingProvisioned {
		w.field("  read: "+strconv.Itoa(t.Read), "per table and per GSI; 25 RCU and 25 WCU in all are always free")
		w.field("  write: "+strconv.Itoa(t.Write), "")
	}
	w.field("  pitr: "+strconv.FormatBool(t.PITR), "point-in-time recovery ($0.20 per GB-month)")
	w.field("  access: "+quote(t.Access), "the app's item access: read-write | read-only | none")
	w.field(fmt.Sprintf("logs: {retention_days: %d}", s.Logs.RetentionDays), "1, 3, 5, 7, 14, 30, 60, 90, ... days")
	b := s.Budget
	budgetNote := "first alert on actual spend, the rest on forecast"
	if len(b.Emails) == 0 {
		budgetNote += "; add your email address to get them"
	}
	w.field(fmt.Sprintf("budget: {monthly_usd: %s, alert_percent: %s, emails: %s}",
		strconv.FormatFloat(b.MonthlyUSD, 'f', -1, 64), flowInts(b.AlertPercent), flowList(b.Emails)),
		budgetNote)
	alarmNote := ""
	if len(s.Alarms.Emails) == 0 {
		alarmNote = "add your email address to get the alarms"
	}
	w.field("alarms: {emails: "+flowList(s.Alarms.Emails)+"}", alarmNote)
	w.field("tags: "+flowMap(s.Tags), "on every resource, beside lowfare:app and lowfare:env")
	active := ""
	if s.Workload.ActiveHours != 0 {
		active = ", active_hours: " + strconv.FormatFloat(s.Workload.ActiveHours, 'f', -1, 64)
	}
	w.field(fmt.Sprintf("workload: {requests_per_month: %d, response_kb: %s%s}",
		s.Workload.RequestsPerMonth, strconv.FormatFloat(s.Workload.ResponseKB, 'f', -1, 64), active), "used by the cost estimate")
}

// database writes the database section, or (on the profiles that take
// one) shows it commented out, since a database is the one part that
// costs money as soon as it exists.
func (w *commentWriter) database(s *Spec) {
	db := s.Database
	if db == nil {
		if s.ECS() {
			w.line("", "# A PostgreSQL database (PG* variables, DATABASE_URL; docs/apps.md): uncomment to add one.")
			w.line("", "# database:")
			w.line("", "#   engine: postgres        # the one engine for now")
			if s.Profile == ProfileFree {
				w.line("", "#   pause_after: 15m        # 0 ACU after this long without connections (5m-24h)")
			}
			w.line("", "#   max_acu: 2              # Aurora capacity ceiling, 1-256 in steps of 0.5")
		}
		return
	}
	w.line("database:", "")
	w.field("  engine: "+quote(db.Engine), "the one engine for now")
	if s.Profile != ProfileHA {
		w.field("  pause_after: "+quote(db.PauseAfter), "0 ACU after this long without connections (5m-24h)")
	}
	w.field("  max_acu: "+strconv.FormatFloat(db.MaxACU, 'f', -1, 64), "Aurora capacity ceiling, 1-256 in steps of 0.5")
}

type commentWriter struct{ b strings.Builder }

func (w *commentWriter) line(code, comment string) {
	w.b.WriteString(code + comment + "\n")
}

func (w *commentWriter) field(code, comment string) {
	if comment == "" {
		w.line(code, "")
		return
	}
	pad := max(1, commentColumn-1-len(code))
	if len(code)+pad+2+len(comment) > 100 {
		// Too long for one line: the comment goes above, indented alike.
		indent := code[:len(code)-len(strings.TrimLeft(code, " "))]
		w.line("", indent+"# "+comment)
		w.line(code, "")
		return
	}
	w.line(code+strings.Repeat(" ", pad), "# "+comment)
}

// plainSafe matches text YAML reads back as the same string when written
// without quotes (and that is not a number, boolean or null).
var plainSafe = newLazyRegexp(`^[A-Za-z_./][A-Za-z0-9_./@-]*$`)

var yamlWords = []string{"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}

func quote(s string) string {
	if plainSafe.MatchString(s) && !slices.Contains(yamlWords, strings.ToLower(s)) {
		return s
	}
	return jsonQuote(s)
}

// jsonQuote writes a double-quoted YAML scalar (JSON strings are valid YAML).
func jsonQuote(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

func flowList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func flowInts(items []int) string {
	return "[" + strings.Join(itoa(items), ", ") + "]"
}

func flowMap(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, quote(k)+": "+quote(m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
