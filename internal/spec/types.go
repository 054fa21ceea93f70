// Package spec defines lowfare.yaml: the types, their defaults, loading with
// positions, and validation. Every other package reads a *Spec; none writes one.
package spec

import (
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Profiles.
const (
	ProfileFree       = "free"
	ProfileHA         = "ha"
	ProfileServerless = "serverless"
)

// Ingress kinds. ECS profiles take alb or apigw; serverless takes url or apigw.
const (
	IngressALB   = "alb"
	IngressAPIGW = "apigw"
	IngressURL   = "url"
)

// Architectures, spelled as ECS RuntimePlatform spells them (lowercased).
const (
	ArchARM64 = "arm64"
	ArchX8664 = "x86_64"
)

// Table access: what the app's role may do with the table's items.
const (
	AccessReadWrite = "read-write"
	AccessReadOnly  = "read-only"
	AccessNone      = "none"
)

// BuiltUser is the user images lowfare builds run as (distroless's
// nonroot), and the default service.user for them.
const BuiltUser = "65532:65532"

// Table billing modes.
const (
	BillingProvisioned = "provisioned"
	BillingOnDemand    = "on-demand"
)

// Spec is one lowfare.yaml: an app in one environment of one region.
type Spec struct {
	App      string            `yaml:"app" json:"app" doc:"Application name: [a-z][a-z0-9-]{1,20}."`
	Env      string            `yaml:"env" json:"env" doc:"Environment name: [a-z][a-z0-9-]{1,10}."`
	Region   string            `yaml:"region" json:"region" doc:"AWS region."`
	Profile  string            `yaml:"profile" json:"profile" doc:"free | ha | serverless."`
	Service  Service           `yaml:"service" json:"service"`
	Ingress  Ingress           `yaml:"ingress" json:"ingress"`
	Table    Table             `yaml:"table" json:"table"`
	Logs     Logs              `yaml:"logs" json:"logs"`
	Budget   Budget            `yaml:"budget" json:"budget"`
	Alarms   Alarms            `yaml:"alarms" json:"alarms"`
	Tags     map[string]string `yaml:"tags" json:"tags" doc:"Tags added to every taggable resource, beside lowfare:app and lowfare:env: at most 45 (AWS allows 50 per resource, and lowfare writes up to 5), keys of 1-128 characters, values of 1-256."`
	Workload Workload          `yaml:"workload" json:"workload"`
	Database *Database         `yaml:"database,omitempty" json:"database,omitempty" doc:"Absent: no relational database. Present: a PostgreSQL database the app reaches through the PG* variables and DATABASE_URL."`
}

// Database is the app's relational database.
type Database struct {
	Engine     string  `yaml:"engine" json:"engine" doc:"postgres (the one engine for now)."`
	PauseAfter string  `yaml:"pause_after" json:"pause_after" doc:"Profile free: pause (0 ACU) after this long without connections, 5m to 24h, such as 15m."`
	MaxACU     float64 `yaml:"max_acu" json:"max_acu" doc:"The most Aurora capacity units the database scales to: the cost ceiling."`
}

// Service is the container (or, with profile serverless, the Lambda function).
type Service struct {
	Image    string            `yaml:"image" json:"image" doc:"A Go main package to build, relative to the spec's directory (., ./cmd/app); an image on disk that lowfare pushes to the app's ECR repository as it is, relative to the spec's directory: an image tarball (docker save, podman save, an OCI archive; ./app.tar) or an OCI image layout directory (one with an oci-layout file); or an image reference (repository:tag or @digest)."`
	Port     int               `yaml:"port" json:"port" doc:"Container port, 1-65535."`
	CPU      int               `yaml:"cpu" json:"cpu" doc:"Fargate CPU units: 256, 512, 1024, 2048, 4096, 8192, 16384."`
	Memory   int               `yaml:"memory" json:"memory" doc:"MiB; must pair with cpu as Fargate allows. With profile serverless: the Lambda memory."`
	Arch     string            `yaml:"arch" json:"arch" doc:"arm64 | x86_64."`
	Spot     bool              `yaml:"spot" json:"spot" doc:"Fargate Spot (x86_64 only)."`
	Count    Count             `yaml:"count" json:"count"`
	Scaling  Scaling           `yaml:"scaling" json:"scaling"`
	Schedule *Schedule         `yaml:"schedule,omitempty" json:"schedule,omitempty" doc:"Absent: runs 24/7. Present: sleeps at zero tasks outside the awake windows."`
	Idle     *Idle             `yaml:"idle,omitempty" json:"idle,omitempty" doc:"Absent: never sleeps for lack of requests. Present: sleeps at zero tasks after this long without a request and wakes on the next one."`
	Health   Health            `yaml:"health" json:"health"`
	Timeout  int               `yaml:"timeout" json:"timeout" doc:"Seconds; the Lambda timeout with profile serverless."`
	Env      map[string]string `yaml:"env" json:"env" doc:"Plain environment variables (never secrets)."`
	Secrets  []string          `yaml:"secrets" json:"secrets" doc:"Names of SSM SecureString parameters under /lowfare/<app>/<env>/, injected as environment variables."`
	// User and ReadonlyRoot default by image kind (see applyProfileDefaults).
	User         string       `yaml:"user" json:"user" doc:"The container's user, uid[:gid] or a name. Default 65532:65532 for images lowfare builds; for an image reference or an image on disk, the image's own user."`
	ReadonlyRoot bool         `yaml:"readonly_root" json:"readonly_root" doc:"Read-only root filesystem, with a writable /tmp volume. Default true for images lowfare builds, false for an image reference or an image on disk."`
	Permissions  []Permission `yaml:"permissions" json:"permissions" doc:"Extra IAM statements for the app's role (task role, or function role), beside table access. No wildcard actions, no iam:*, no Resource * for actions that take a resource."`
	// Concurrency bounds what a public URL can run: without a reservation
	// a function scales to the account's limit (1,000 by default).
	Concurrency int `yaml:"concurrency" json:"concurrency" doc:"Profile serverless only: the function's reserved concurrency, the most requests it serves at once (more are throttled). Default 10; 0 reserves none (the function shares the account's whole limit). Lambda keeps 100 of the account's concurrency unreserved, so the account limit must be at least this plus 100."`
	// archive is set by the loader when Image, a local path, is an image
	// on disk rather than a Go package (see Archive).
	archive bool
}

// Permission is one extra IAM Allow statement for the app's role.
type Permission struct {
	Actions   []string `yaml:"actions" json:"actions" doc:"IAM actions such as s3:GetObject."`
	Resources []string `yaml:"resources" json:"resources" doc:"Resource ARNs such as arn:aws:s3:::my-bucket/*; \"*\" only for actions that take no resource (such as cloudwatch:PutMetricData)."`
}

// Count bounds the number of tasks.
type Count struct {
	Desired int `yaml:"desired" json:"desired"`
	Min     int `yaml:"min" json:"min"`
	Max     int `yaml:"max" json:"max"`
}

// Scaling is the target-tracking policy.
type Scaling struct {
	CPUTarget int `yaml:"cpu_target" json:"cpu_target" doc:"Average CPU percent to track, 1-100."`
}

// Schedule keeps the service awake only inside the windows.
type Schedule struct {
	Timezone string `yaml:"timezone" json:"timezone" doc:"IANA time zone, such as Europe/Berlin."`
	Awake    string `yaml:"awake" json:"awake" doc:"Windows such as \"Mon-Fri 08:00-20:00\", separated by commas."`
}

// Idle puts the service to sleep when nobody uses it: after After without
// a request it scales to zero tasks. While it sleeps, Serve says who
// answers: the same app on Lambda (ServeApp), or a waking page that starts
// the service (ServePage). The loader always sets Serve; a Spec built in Go
// may leave it empty, which serves the page.
type Idle struct {
	After string `yaml:"after" json:"after" doc:"How long without a request before sleeping: a duration of whole minutes from 5m to 24h, such as 15m or 1h30m."`
	Serve string `yaml:"serve,omitempty" json:"serve,omitempty" doc:"Who answers while the service sleeps: app (the same image on Lambda, through lowfare's adapter; the service wakes only when traffic is sustained) or page (a waking page that starts the service). Default app for images lowfare builds, page for an image reference."`
}

// What answers requests while an idle service sleeps (Idle.Serve).
const (
	// ServeApp: the app itself, from its image on Lambda.
	ServeApp = "app"
	// ServePage: a waking page (503, Retry-After) that starts the service.
	ServePage = "page"
)

// ServesApp reports whether the sleeping service is answered by the app on
// Lambda (serve: app).
func (i *Idle) ServesApp() bool { return i != nil && i.Serve == ServeApp }

// Idle limits: below 5 minutes a service sleeps between a user's clicks;
// CloudWatch evaluates an alarm over at most one day.
const (
	IdleMin = 5 * time.Minute
	IdleMax = 24 * time.Hour
)

// Duration is After as a time.Duration; 0 when it does not parse (the
// loader refuses such a spec).
func (i Idle) Duration() time.Duration {
	d, err := time.ParseDuration(strings.TrimSpace(i.After))
	if err != nil {
		return 0
	}
	return d
}

// Health is the load balancer's (and the container's) health check.
type Health struct {
	Path      string `yaml:"path" json:"path"`
	Interval  int    `yaml:"interval" json:"interval" doc:"Seconds between checks, 5-300."`
	Timeout   int    `yaml:"timeout" json:"timeout" doc:"Seconds, 2-60 (the ECS container health check's limit); below interval."`
	Healthy   int    `yaml:"healthy" json:"healthy" doc:"Consecutive successes to be healthy, 2-10."`
	Unhealthy int    `yaml:"unhealthy" json:"unhealthy" doc:"Consecutive failures to be unhealthy, 2-10."`
	Grace     int    `yaml:"grace" json:"grace" doc:"Seconds ECS ignores failing checks after a task starts, 0-300 (the container health check's start period)."`
	// Command replaces the container health check; without it, images
	// lowfare builds run HealthProbe and image references have none.
	Command []string `yaml:"command" json:"command" doc:"The container health check as ECS takes it, such as [CMD, /bin/probe] or [CMD-SHELL, \"curl -f localhost:8080/health\"]. Default: lowfare's own probe for images it builds; none for an image reference (the load balancer's HTTP check still runs)."`
}

// Ingress is how requests reach the service.
type Ingress struct {
	Kind           string `yaml:"kind" json:"kind" doc:"alb | apigw (profile serverless: url | apigw)."`
	Domain         string `yaml:"domain" json:"domain" doc:"With hosted_zone_id: an ACM certificate validated by DNS and an alias record."`
	HostedZoneID   string `yaml:"hosted_zone_id" json:"hosted_zone_id"`
	CertificateARN string `yaml:"certificate_arn" json:"certificate_arn" doc:"An existing ACM certificate."`
}

// LocalPackage reports whether Image names a Go package to build (.,
// ./cmd/links, ../x, /abs/path) rather than an image reference, which is
// used as it is, or an image on disk (Archive), which is pushed as it is.
// internal/image builds by the same rule.
func (s Service) LocalPackage() bool {
	return localPath(s.Image) && !s.Archive()
}

// BinaryName is the name internal/image gives the package's binary in the
// image (/app/<name>): the last element of its path, or "app" when the path
// has none (".", "/"). "" for an image reference.
func (s Service) BinaryName() string {
	if !s.LocalPackage() {
		return ""
	}
	switch name := path.Base(filepath.ToSlash(s.Image)); name {
	case ".", "/", "..":
		return "app"
	default:
		return name
	}
}

// TLS reports whether the ingress serves HTTPS.
func (i Ingress) TLS() bool {
	return i.CertificateARN != "" || (i.Domain != "" && i.HostedZoneID != "")
}

// Table is the DynamoDB single table.
type Table struct {
	Billing string `yaml:"billing" json:"billing" doc:"provisioned | on-demand."`
	Read    int    `yaml:"read" json:"read" doc:"Provisioned RCU, for the table and again for its GSI."`
	Write   int    `yaml:"write" json:"write" doc:"Provisioned WCU, for the table and again for its GSI."`
	PITR    bool   `yaml:"pitr" json:"pitr" doc:"Point-in-time recovery ($0.20 per GB-month)."`
	Access  string `yaml:"access" json:"access" doc:"read-write | read-only | none: the item actions the app's role gets on the table and its index."`
}

// Logs is the CloudWatch log group.
type Logs struct {
	RetentionDays int `yaml:"retention_days" json:"retention_days"`
}

// Budget is the AWS Budgets cost budget.
type Budget struct {
	MonthlyUSD   float64  `yaml:"monthly_usd" json:"monthly_usd"`
	AlertPercent []int    `yaml:"alert_percent" json:"alert_percent" doc:"The first is an ACTUAL alert, the rest FORECASTED."`
	Emails       []string `yaml:"emails" json:"emails"`
}

// Alarms are where CloudWatch alarms are sent.
type Alarms struct {
	Emails []string `yaml:"emails" json:"emails"`
}

// Workload describes expected traffic; only the cost estimate reads it.
type Workload struct {
	RequestsPerMonth int64   `yaml:"requests_per_month" json:"requests_per_month"`
	ResponseKB       float64 `yaml:"response_kb" json:"response_kb"`
	// ActiveHours matters only with service.idle: how many hours a month
	// requests arrive in, which (with idle's after per wake) is how long
	// the service is awake. 0 means derived (see ActiveHoursDefault).
	ActiveHours float64 `yaml:"active_hours" json:"active_hours" doc:"Hours a month in which requests arrive (with service.idle: the service sleeps in the rest). 0: derived, 2 hours a day inside the schedule's windows or 60 a month."`
}

// ActiveHoursDefault is the active hours assumed when workload.active_hours
// is 0: two hours a day (a demo or dev service used now and then), at most
// the hours the schedule keeps awake. Stated in docs/cost-model.md.
const ActiveHoursDefault = 60.0

// DefaultConcurrency is the reserved concurrency of a serverless function:
// enough for a small app's bursts, few enough that a public URL cannot run
// up a bill at the account's limit.
const DefaultConcurrency = 10

// Default returns the seed design: every field as documented.
func Default() *Spec {
	return &Spec{
		App:     "links",
		Env:     "dev",
		Region:  "us-east-1",
		Profile: ProfileFree,
		Service: Service{
			Image:   ".",
			Port:    8080,
			CPU:     256,
			Memory:  512,
			Arch:    ArchARM64,
			Count:   Count{Desired: 1, Min: 1, Max: 2},
			Scaling: Scaling{CPUTarget: 70},
			Health:  Health{Path: "/healthz", Interval: 15, Timeout: 5, Healthy: 2, Unhealthy: 3, Grace: 30},
			Timeout: 30,
			// Serverless only; the validator refuses it elsewhere.
			Concurrency: DefaultConcurrency,
			Env:         map[string]string{"LOG_LEVEL": "info"},
			Secrets:     []string{},
			// Image "." is built by lowfare: its user, a read-only root.
			User:         BuiltUser,
			ReadonlyRoot: true,
		},
		Ingress:  Ingress{Kind: IngressALB},
		Table:    Table{Billing: BillingProvisioned, Read: 5, Write: 5, Access: AccessReadWrite},
		Logs:     Logs{RetentionDays: 7},
		Budget:   Budget{MonthlyUSD: 10, AlertPercent: []int{80, 100}, Emails: []string{"ops@example.com"}},
		Alarms:   Alarms{Emails: []string{"ops@example.com"}},
		Tags:     map[string]string{"cost-center": "demo"},
		Workload: Workload{RequestsPerMonth: 1_000_000, ResponseKB: 10},
	}
}

// SecretPrefix is the SSM path under which the app's secrets live, with a
// trailing slash: /lowfare/<app>/<env>/.
func (s *Spec) SecretPrefix() string { return "/lowfare/" + s.App + "/" + s.Env + "/" }

// SecretParameter is the SSM parameter name of one secret.
func (s *Spec) SecretParameter(name string) string { return s.SecretPrefix() + name }

// StackName is the main CloudFormation stack's name.
func (s *Spec) StackName() string { return "lowfare-" + s.App + "-" + s.Env }

// BootstrapStackName is the name of the stack that holds the ECR repository.
func (s *Spec) BootstrapStackName() string { return s.StackName() + "-bootstrap" }

// ECS reports whether the service runs on Fargate (profiles free and ha).
func (s *Spec) ECS() bool { return s.Profile != ProfileServerless }

// Autoscales reports whether the ECS service's target tracking has room to
// act: more tasks allowed than the fewest it keeps awake (at least 1, and 2
// with profile ha). Without room the policy would change nothing and
// still cost its two alarms, so the stack creates none.
func (s *Spec) Autoscales() bool {
	if !s.ECS() {
		return false
	}
	c := s.Service.Count
	lo := max(c.Min, 1)
	if s.Profile == ProfileHA {
		lo = max(lo, 2)
	}
	return max(c.Max, c.Desired) > lo
}

// The files lowfare adds to every image it builds for a Go package (built by
// internal/image, named by internal/stack), so that any app works without a
// shell, a healthcheck subcommand or a Lambda library.
const (
	// HealthProbe is a static binary: `HealthProbe <path>` sends
	// GET http://127.0.0.1:$PORT<path> and exits 0 on a 2xx answer, 1
	// otherwise (or when no answer comes within its timeout). The ECS
	// container health check runs it.
	HealthProbe = "/lowfare/healthcheck"
	// LambdaAdapter is the entrypoint of images built for profile
	// serverless: it starts the app (its arguments) on $PORT and turns each
	// Lambda Runtime API invocation into an HTTP request to it and back.
	LambdaAdapter = "/lowfare/lambda-adapter"
)
