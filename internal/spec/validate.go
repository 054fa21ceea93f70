package spec

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// applyProfileDefaults fills fields the file left out with values that fit
// the profile and the fields the file did set. Fields the file set are
// never changed here; validate judges them.
func applyProfileDefaults(s *Spec, d *decoder) {
	svc := &s.Service
	switch s.Profile {
	case ProfileHA:
		// One task per Availability Zone, and a table that can be
		// restored: what "high availability" means here.
		if !d.has("service.count.min") {
			svc.Count.Min = max(svc.Count.Min, 2)
		}
		if !d.has("table.pitr") {
			s.Table.PITR = true
		}
	case ProfileServerless:
		if !d.has("ingress.kind") {
			s.Ingress.Kind = IngressURL
		}
	}
	// Unset counts follow the set ones so that "min: 3" alone is valid.
	if !d.has("service.count.desired") {
		svc.Count.Desired = max(svc.Count.Desired, svc.Count.Min)
		if d.has("service.count.max") {
			svc.Count.Desired = min(svc.Count.Desired, svc.Count.Max)
		}
	}
	if !d.has("service.count.max") {
		svc.Count.Max = max(svc.Count.Max, svc.Count.Desired)
	}
	// An image lowfare did not build keeps its own user and may write
	// anywhere; lowfare's own images run as BuiltUser on a read-only root.
	user, readonly := imageDefaults(*svc)
	if !d.has("service.user") {
		svc.User = user
	}
	if !d.has("service.readonly_root") {
		svc.ReadonlyRoot = readonly
	}
	// Only an image lowfare builds carries the Lambda adapter that serve:
	// app needs; an image reference gets the waking page.
	if svc.Idle != nil && !d.has("service.idle.serve") {
		svc.Idle.Serve = ServePage
		if svc.LocalPackage() {
			svc.Idle.Serve = ServeApp
		}
	}
	databaseDefaults(s, d)
	// "cpu: 1024" alone takes the smallest memory Fargate pairs with it.
	if s.ECS() && d.has("service.cpu") && !d.has("service.memory") {
		if sizes := FargateMemory(svc.CPU); len(sizes) > 0 {
			svc.Memory = sizes[0]
		}
	}
}

// validator checks a decoded spec, reporting each problem at the field the
// file wrote (or the closest field it wrote, for defaults).
type validator struct {
	s   *Spec
	d   *decoder
	c   *collector
	bad map[string]bool // paths that already have a decoding problem
}

// Validate checks a Spec built in Go rather than loaded from a file (tests,
// the cost comparison's shapes, a spec changed after loading) by the rules
// the loader applies, and returns nil or a *Problems whose problems have
// no position (File is empty). Rules about what a file wrote, such as cpu
// set under profile serverless, need the file and stay the loader's.
func Validate(s *Spec) error {
	c := &collector{}
	validate(s, newDecoder(c), c)
	err := c.result("")
	if probs, ok := err.(*Problems); ok {
		for i := range probs.List {
			probs.List[i].Pos = Pos{}
		}
	}
	return err
}

func validate(s *Spec, d *decoder, c *collector) {
	v := &validator{s: s, d: d, c: c, bad: d.failed}
	v.names()
	v.service()
	v.ingress()
	v.table()
	v.logs()
	v.budget()
	v.tags()
	v.workload()
	v.database()
}

// ok reports whether none of the paths (nor their parents) failed to
// decode, so that a check does not judge a default standing in for a
// value the user wrote wrongly.
func (v *validator) ok(paths ...string) bool {
	for _, p := range paths {
		for p != "" {
			if v.bad[p] {
				return false
			}
			i := strings.LastIndexAny(p, ".[")
			if i < 0 {
				break
			}
			p = p[:i]
		}
	}
	return true
}

func (v *validator) fail(path, format string, args ...any) {
	if !v.ok(path) {
		return
	}
	v.c.add(v.d.at(path), path, format, args...)
}

// Limits of single fields, shared with the JSON Schema (schema.go), which
// TestSchemaLimits holds to them.
const (
	portMin, portMax                   = 1, 65535
	cpuTargetMin, cpuTargetMax         = 1, 100
	lambdaMemoryMin, lambdaMemoryMax   = 128, 10240 // MiB
	lambdaTimeoutMin, lambdaTimeoutMax = 1, 900     // seconds
	concurrencyMin                     = 0          // 0: no reservation
	capacityMin, capacityMax           = 1, 40000   // provisioned units
	alertPercentMin, alertPercentMax   = 1, 1000
	alertsMax                          = 5 // AWS Budgets: notifications per budget
	budgetEmailsMax                    = 10
	budgetUSDMax                       = 1e9
	activeHoursMax                     = 744 // 31 days
	healthPathMax                      = 1024
	secretNameMax                      = 128
	domainMax                          = 253
	emailMax                           = 254
)

var (
	appPattern    = newLazyRegexp(`^[a-z][a-z0-9-]{1,20}$`)
	envPattern    = newLazyRegexp(`^[a-z][a-z0-9-]{1,10}$`)
	regionPattern = newLazyRegexp(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	varPattern    = newLazyRegexp(`^[A-Za-z_][A-Za-z0-9_]*$`)
	emailPattern  = newLazyRegexp(`^[^@\s,;<>"]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$`)
	domainPattern = newLazyRegexp(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)
	zonePattern   = newLazyRegexp(`^Z[A-Z0-9]{1,31}$`)
	certPattern   = newLazyRegexp(`^arn:aws(-[a-z]+)*:acm:([a-z0-9-]+):[0-9]{12}:certificate/[A-Za-z0-9-]+$`)
)

// awsRegions are the regions of every AWS partition, as the SDK's endpoint
// metadata lists them (aws-sdk-go-v2 internal/endpoints/awsrulesfn/
// partitions.json, which is internal to the SDK and so cannot be imported;
// TestRegionsMatchTheSDK keeps this copy equal to the SDK in go.mod).
var awsRegions = []string{
	// aws
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "me-west-1", "mx-central-1", "sa-east-1", "sa-west-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
	// aws-cn
	"cn-north-1", "cn-northwest-1",
	// aws-eusc
	"eusc-de-east-1",
	// aws-iso
	"us-iso-east-1", "us-iso-west-1",
	// aws-iso-b
	"us-isob-east-1", "us-isob-west-1",
	// aws-iso-e
	"eu-isoe-west-1",
	// aws-iso-f
	"us-isof-east-1", "us-isof-south-1",
	// aws-us-gov
	"us-gov-east-1", "us-gov-west-1",
}

// Regions lists the AWS regions a spec may name.
func Regions() []string { return slices.Clone(awsRegions) }

// enum reports got is not among want, with a typo hint when one is close.
func (v *validator) enum(path, what, got string, want ...string) bool {
	if slices.Contains(want, got) {
		return true
	}
	hint := "use " + orList(want)
	if s := suggest(got, want); s != "" {
		hint = fmt.Sprintf("did you mean %s? (%s)", s, hint)
	}
	v.fail(path, "%q is not %s; %s", shorten(got), what, hint)
	return false
}

func (v *validator) names() {
	s := v.s
	if !appPattern.MatchString(s.App) {
		v.fail("app", "%q is not a valid app name; use 2-21 characters: a lowercase letter, then lowercase letters, digits or hyphens", shorten(s.App))
	}
	if !envPattern.MatchString(s.Env) {
		v.fail("env", "%q is not a valid environment name; use 2-11 characters: a lowercase letter, then lowercase letters, digits or hyphens", shorten(s.Env))
	}
	switch {
	case slices.Contains(awsRegions, s.Region):
	case !regionPattern.MatchString(s.Region):
		v.fail("region", "%q is not an AWS region name; use one such as us-east-1 or eu-central-1", shorten(s.Region))
	default:
		hint := "use one such as us-east-1 or eu-central-1"
		if r := suggest(s.Region, awsRegions); r != "" {
			hint = "did you mean " + r + "?"
		}
		v.fail("region", "%q is not an AWS region; %s ('aws ec2 describe-regions' lists the regions of your account)", shorten(s.Region), hint)
	}
	v.enum("profile", "a profile", s.Profile, ProfileFree, ProfileHA, ProfileServerless)
}

// fargateCPU lists the CPU units Fargate offers.
var fargateCPU = []int{256, 512, 1024, 2048, 4096, 8192, 16384}

// FargateMemory lists the memory sizes (MiB) Fargate pairs with cpu, from
// AWS's task size table, ascending; nil for a CPU size Fargate does not
// have.
func FargateMemory(cpu int) []int {
	span := func(from, to, step int) []int {
		var out []int
		for m := from; m <= to; m += step {
			out = append(out, m)
		}
		return out
	}
	switch cpu {
	case 256:
		return []int{512, 1024, 2048}
	case 512:
		return span(1024, 4096, 1024)
	case 1024:
		return span(2048, 8192, 1024)
	case 2048:
		return span(4096, 16384, 1024)
	case 4096:
		return span(8192, 30720, 1024)
	case 8192:
		return span(16384, 61440, 4096)
	case 16384:
		return span(32768, 122880, 8192)
	}
	return nil
}

// memoryHint describes the sizes for a CPU the way AWS's table does.
func memoryHint(sizes []int) string {
	if len(sizes) <= 4 {
		return orList(itoa(sizes))
	}
	return fmt.Sprintf("%d to %d in steps of %d", sizes[0], sizes[len(sizes)-1], sizes[1]-sizes[0])
}

func (v *validator) service() {
	s := v.s
	svc := s.Service
	if strings.TrimSpace(svc.Image) == "" || strings.ContainsAny(svc.Image, " \t\n") {
		v.fail("service.image", "%q is not a Go package path or an image reference; use ./cmd/links or an image such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/links:v1", shorten(svc.Image))
	}
	if svc.Port < portMin || svc.Port > portMax {
		v.fail("service.port", "%d is not a TCP port; use %d-%d, such as 8080", svc.Port, portMin, portMax)
	}
	archOK := v.enum("service.arch", "an architecture", svc.Arch, ArchARM64, ArchX8664)
	if s.ECS() {
		v.fargate()
	} else {
		v.lambda()
	}
	if archOK && svc.Spot && svc.Arch == ArchARM64 && s.ECS() && v.ok("service.arch") {
		v.fail("service.spot", "Fargate Spot has no ARM64 capacity; set arch: x86_64, or spot: false")
	}
	if s.ECS() {
		// Lambda has no task count, scaling policy or health checks to
		// bound (lambdaOnly refuses them); their defaults stay unjudged.
		v.count()
		if t := svc.Scaling.CPUTarget; t < cpuTargetMin || t > cpuTargetMax {
			v.fail("service.scaling.cpu_target", "%d is not a CPU percentage; use %d-%d, such as 70", t, cpuTargetMin, cpuTargetMax)
		}
	}
	v.schedule()
	v.idle()
	v.health()
	v.envVars()
	v.image()
	v.permissions()
}

var userPattern = newLazyRegexp(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?$`)

// image checks what depends on service.image: the container's user, the
// health command, and which images Lambda can run.
func (v *validator) image() {
	s := v.s
	svc := s.Service
	if svc.User != "" && !userPattern.MatchString(svc.User) {
		v.fail("service.user", "%q is not a user; use uid[:gid] or a name, such as 65532:65532 or app", shorten(svc.User))
	}
	if !s.ECS() {
		// Lambda runs every image as its own user on a read-only root
		// with a writable /tmp, and has no container health check.
		for _, f := range []string{"service.user", "service.readonly_root", "service.health.command"} {
			if v.d.has(f) {
				v.fail(f, "profile serverless has no %s (Lambda runs the image as its own user, read-only but for /tmp, and checks no container health); remove it", strings.TrimPrefix(f, "service."))
			}
		}
		// Lambda runs container images only from Amazon ECR in the
		// function's own Region:
		// https://docs.aws.amazon.com/lambda/latest/dg/images-create.html
		// ("Lambda supports images in Amazon ECR private repositories";
		// the repository must be in the function's Region).
		if repo, ok := svc.ECR(); !svc.Pushed() && v.ok("service.image") {
			switch {
			case !ok:
				v.fail("service.image", "Lambda runs images only from an Amazon ECR private repository; push %s to ECR in %s, or use a Go package (.)", shorten(svc.Image), s.Region)
			case repo.Region != s.Region && v.ok("region"):
				v.fail("service.image", "the repository is in %s but the function in %s; Lambda pulls only from its own Region: copy the image to ECR in %s", repo.Region, s.Region, s.Region)
			}
		}
	}
	if cmd := svc.Health.Command; len(cmd) > 0 {
		switch {
		case cmd[0] != "CMD" && cmd[0] != "CMD-SHELL":
			v.fail("service.health.command[0]", "%q is not how ECS starts a health check; begin with CMD (run a program) or CMD-SHELL (run a shell command)", shorten(cmd[0]))
		case len(cmd) < 2:
			v.fail("service.health.command", "no program after %s; add it, such as [CMD, /bin/probe, /health]", cmd[0])
		}
	}
}

func (v *validator) fargate() {
	svc := v.s.Service
	if v.d.has("service.concurrency") {
		v.fail("service.concurrency", "profile %s has no Lambda concurrency (service.count.max bounds the tasks); remove it, or use profile serverless", v.s.Profile)
	}
	sizes := FargateMemory(svc.CPU)
	if sizes == nil {
		v.fail("service.cpu", "%d is not a Fargate CPU size; use %s", svc.CPU, orList(itoa(fargateCPU)))
		return
	}
	if !slices.Contains(sizes, svc.Memory) && v.ok("service.cpu") {
		v.fail("service.memory", "%d MiB does not pair with cpu %d on Fargate; use %s", svc.Memory, svc.CPU, memoryHint(sizes))
	}
}

func (v *validator) lambda() {
	svc := v.s.Service
	if svc.Memory < lambdaMemoryMin || svc.Memory > lambdaMemoryMax {
		v.fail("service.memory", "%d MiB is outside Lambda's range; use %d-%d", svc.Memory, lambdaMemoryMin, lambdaMemoryMax)
	}
	if svc.Timeout < lambdaTimeoutMin || svc.Timeout > lambdaTimeoutMax {
		v.fail("service.timeout", "%d seconds is outside Lambda's range; use %d-%d", svc.Timeout, lambdaTimeoutMin, lambdaTimeoutMax)
	}
	if v.d.has("service.cpu") {
		v.fail("service.cpu", "profile serverless has no cpu setting (Lambda gives CPU in proportion to memory); remove it and size memory instead")
	}
	// Lambda starts an instance per concurrent request, up to the
	// function's reserved concurrency: count and scaling would be settings
	// nothing reads, so a file that writes them is told so.
	if v.d.has("service.count") {
		v.fail("service.count", "profile serverless has no task count (Lambda runs one instance per concurrent request); remove count, and bound instances with service.concurrency (default %d)", DefaultConcurrency)
	}
	if v.d.has("service.scaling") {
		v.fail("service.scaling", "profile serverless has no scaling policy (Lambda scales with requests, up to service.concurrency); remove scaling")
	}
	if c := svc.Concurrency; c < concurrencyMin {
		v.fail("service.concurrency", "%d is negative; use such as %d, or 0 to reserve none (the function then shares the account's whole limit)", c, DefaultConcurrency)
	}
	if svc.Spot {
		v.fail("service.spot", "Fargate Spot does not apply to profile serverless; remove it")
	}
}

func (v *validator) count() {
	c := v.s.Service.Count
	switch {
	case c.Min < 0:
		v.fail("service.count.min", "%d is negative; use 0 or more", c.Min)
	case c.Max < 1:
		v.fail("service.count.max", "%d tasks can serve nothing; use 1 or more", c.Max)
	case c.Min > c.Max && v.ok("service.count.max"):
		v.fail("service.count.min", "min %d is above max %d; lower min or raise max", c.Min, c.Max)
	case c.Desired < c.Min && v.ok("service.count.min"):
		v.fail("service.count.desired", "desired %d is below min %d; use %d to %d", c.Desired, c.Min, c.Min, c.Max)
	case c.Desired > c.Max && v.ok("service.count.max"):
		v.fail("service.count.desired", "desired %d is above max %d; use %d to %d", c.Desired, c.Max, c.Min, c.Max)
	}
	if v.s.Profile == ProfileHA && c.Min < 2 {
		v.fail("service.count.min", "profile ha runs at least one task in each of two Availability Zones; use min: 2 or more, or profile free")
	}
}

// maySleep refuses a way of sleeping (schedule, idle) on the profiles that
// have none: ha never sleeps, serverless costs nothing idle. It reports
// whether the setting is worth checking further.
func (v *validator) maySleep(path, ha, serverless string) bool {
	switch v.s.Profile {
	case ProfileHA:
		v.fail(path, "%s", ha)
		return false
	case ProfileServerless:
		v.fail(path, "%s", serverless)
		return false
	}
	return true
}

func (v *validator) schedule() {
	sch := v.s.Service.Schedule
	if sch == nil {
		return
	}
	if !v.maySleep("service.schedule",
		"profile ha never sleeps; remove the schedule, or use profile free",
		"profile serverless already costs nothing between requests; remove the schedule") {
		return
	}
	if _, err := loadZone(sch.Timezone); err != nil {
		v.fail("service.schedule.timezone", "%s", err)
	}
	if _, err := parseAwake(sch.Awake); err != nil {
		v.fail("service.schedule.awake", "%s", err)
	}
}

func (v *validator) idle() {
	idle := v.s.Service.Idle
	if idle == nil {
		return
	}
	if !v.maySleep("service.idle",
		"profile ha never sleeps; remove idle, or use profile free",
		"profile serverless already costs nothing while idle (Lambda bills per request); remove idle") {
		return
	}
	d, err := time.ParseDuration(strings.TrimSpace(idle.After))
	switch {
	case strings.TrimSpace(idle.After) == "":
		v.fail("service.idle.after", "after is empty; write how long without a request before sleeping, such as 15m")
	case err != nil:
		v.fail("service.idle.after", "%q is not a duration; write minutes or hours such as 15m, 1h or 1h30m", shorten(idle.After))
	case d%time.Minute != 0:
		v.fail("service.idle.after", "%s is not a whole number of minutes (the idle alarm counts requests per minute); use such as %s", idle.After, DurationText(max(IdleMin, d.Round(time.Minute))))
	case d < IdleMin || d > IdleMax:
		v.fail("service.idle.after", "%s is outside 5m to 24h; use such as 15m", idle.After)
	}
	if idle.Serve == "" && !v.d.has("service.idle.serve") {
		// A Spec built in Go without Serve: the stack serves the page.
		return
	}
	if v.enum("service.idle.serve", "serve", idle.Serve, ServeApp, ServePage) &&
		idle.Serve == ServeApp && !v.s.Service.LocalPackage() {
		kind := "an image reference"
		if v.s.Service.Archive() {
			kind = "an image on disk, pushed as it is"
		}
		v.fail("service.idle.serve", "serve: app runs the image on Lambda through lowfare's adapter, which only images lowfare builds carry; %q is %s: use serve: page, or name a Go main package in service.image", shorten(v.s.Service.Image), kind)
	}
}

// DurationText writes d the way lowfare.yaml spells idle.after: 15m, 1h,
// 1h30m (Go's String would write 15m0s).
func DurationText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Health check limits. Interval, timeout and grace reach two checks: the
// load balancer's target group (interval 5-300 s, timeout 2-120 s,
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html)
// and the ECS container health check, whose limits are narrower
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-ecs-taskdefinition-healthcheck.html:
// Interval "You may specify between 5 and 300 seconds", Timeout "between 2
// and 60 seconds", Retries "between 1 and 10", StartPeriod "between 0 and
// 300 seconds"), so the spec takes what both accept. Healthy and unhealthy
// are the target group's 2-10 thresholds (unhealthy is also the container
// check's retries).
const (
	healthIntervalMin, healthIntervalMax = 5, 300
	healthTimeoutMin, healthTimeoutMax   = 2, 60
	healthCountMin, healthCountMax       = 2, 10
	healthGraceMin, healthGraceMax       = 0, 300
)

func (v *validator) health() {
	h := v.s.Service.Health
	const p = "service.health."
	if !strings.HasPrefix(h.Path, "/") || strings.ContainsAny(h.Path, " \t\n?#") || utf8.RuneCountInString(h.Path) > healthPathMax {
		v.fail(p+"path", "%q is not a URL path; use one that starts with /, such as /healthz", shorten(h.Path))
	}
	if !v.s.ECS() {
		// A function has no load balancer target or container to check;
		// only the path stays in use: lowfare dev waits for the app to
		// answer it. (command is refused with user and readonly_root.)
		for _, f := range []string{"interval", "timeout", "healthy", "unhealthy", "grace"} {
			if v.d.has(p + f) {
				v.fail(p+f, "profile serverless runs no health checks (no load balancer, no container check; only health.path is used, by lowfare dev); remove %s", f)
			}
		}
		return
	}
	intervalOK := h.Interval >= healthIntervalMin && h.Interval <= healthIntervalMax
	if !intervalOK {
		v.fail(p+"interval", "%d seconds is outside what the load balancer and container health checks take; use %d-%d", h.Interval, healthIntervalMin, healthIntervalMax)
	}
	switch {
	case h.Timeout < healthTimeoutMin || h.Timeout > healthTimeoutMax:
		v.fail(p+"timeout", "%d seconds is outside what the container health check takes; use %d-%d", h.Timeout, healthTimeoutMin, healthTimeoutMax)
	case intervalOK && h.Timeout >= h.Interval && v.ok(p+"interval"):
		v.fail(p+"timeout", "timeout %d is not below interval %d; lower timeout or raise interval", h.Timeout, h.Interval)
	}
	if h.Healthy < healthCountMin || h.Healthy > healthCountMax {
		v.fail(p+"healthy", "%d is outside the load balancer's range; use %d-%d", h.Healthy, healthCountMin, healthCountMax)
	}
	if h.Unhealthy < healthCountMin || h.Unhealthy > healthCountMax {
		v.fail(p+"unhealthy", "%d is outside the load balancer's range; use %d-%d", h.Unhealthy, healthCountMin, healthCountMax)
	}
	if h.Grace < healthGraceMin || h.Grace > healthGraceMax {
		v.fail(p+"grace", "%d seconds is outside the container health check's start period; use %d-%d, such as 30", h.Grace, healthGraceMin, healthGraceMax)
	}
}

// reservedVars are set by lowfare itself in the task or function. (PORT
// is set too, to service.port, but service.env may replace it.)
var reservedVars = []string{"TABLE_NAME"}

// lambdaVars are set by lowfare on a Lambda function with secrets: where
// its Lambda adapter (or the app) reads them from SSM.
var lambdaVars = []string{"SSM_PARAMETER_PREFIX", "LOWFARE_SECRETS"}

func (v *validator) envVars() {
	svc := v.s.Service
	size := 0
	for _, name := range slices.Sorted(maps.Keys(svc.Env)) {
		path := "service.env." + name
		size += len(name) + len(svc.Env[name])
		switch {
		case !varPattern.MatchString(name):
			v.fail(path, "%q is not an environment variable name; use letters, digits and _, not starting with a digit", shorten(name))
		case slices.Contains(reservedVars, name):
			v.fail(path, "%s is set by lowfare (the DynamoDB table's name); choose another name", name)
		case v.databaseVarProblem(name) != "":
			v.fail(path, "%s", v.databaseVarProblem(name))
		case name == "PORT" && svc.Env[name] != strconv.Itoa(svc.Port) && v.ok("service.port"):
			// The ingress, the security group and the Lambda adapter all
			// use service.port: a different PORT would leave the app
			// listening where nothing sends requests.
			v.fail(path, "PORT %q differs from service.port %d, where the ingress sends requests; set service.port instead and remove PORT from env (lowfare sets PORT to service.port)", shorten(svc.Env[name]), svc.Port)
		case !v.s.ECS() && strings.HasPrefix(name, "AWS_"):
			v.fail(path, "Lambda reserves names starting with AWS_; choose another name")
		case !v.s.ECS() && slices.Contains(lambdaVars, name):
			v.fail(path, "%s is set by lowfare on the function, to find its secrets in SSM; choose another name", name)
		}
	}
	if !v.s.ECS() && size > 4096 {
		v.fail("service.env", "the variables take %d bytes; Lambda allows 4096 in all: move large values elsewhere", size)
	}
	seen := map[string]bool{}
	for i, name := range svc.Secrets {
		path := fmt.Sprintf("service.secrets[%d]", i)
		switch {
		case !varPattern.MatchString(name) || len(name) > secretNameMax:
			v.fail(path, "%q is not a secret name; use letters, digits and _ (it becomes an environment variable and the SSM parameter %s<NAME>)", shorten(name), v.s.SecretPrefix())
		case seen[name]:
			v.fail(path, "%s is listed twice; list it once", name)
		case slices.Contains(reservedVars, name):
			v.fail(path, "%s is set by lowfare; choose another name", name)
		case v.databaseVarProblem(name) != "":
			v.fail(path, "%s", v.databaseVarProblem(name))
		case hasKey(svc.Env, name):
			v.fail(path, "%s is also in service.env; a variable is either plain or secret: remove one", name)
		case !v.s.ECS() && strings.HasPrefix(name, "AWS_"):
			v.fail(path, "Lambda reserves names starting with AWS_; choose another name")
		case !v.s.ECS() && slices.Contains(lambdaVars, name):
			v.fail(path, "%s is set by lowfare on the function, to find its secrets in SSM; choose another name", name)
		}
		seen[name] = true
	}
}

func (v *validator) ingress() {
	s := v.s
	in := s.Ingress
	kinds := []string{IngressALB, IngressAPIGW}
	if !s.ECS() {
		kinds = []string{IngressURL, IngressAPIGW}
	}
	if !slices.Contains(kinds, in.Kind) {
		switch {
		case in.Kind == IngressURL:
			v.fail("ingress.kind", "url (a Lambda function URL) needs profile serverless; use alb or apigw, or profile: serverless")
		case in.Kind == IngressALB && !s.ECS():
			v.fail("ingress.kind", "profile serverless has no load balancer; use url or apigw")
		default:
			v.enum("ingress.kind", "an ingress kind for profile "+s.Profile, in.Kind, kinds...)
		}
	}
	if in.Domain != "" && (len(in.Domain) > domainMax || !domainPattern.MatchString(in.Domain)) {
		v.fail("ingress.domain", "%q is not a domain name; use lowercase labels such as links.example.com", shorten(in.Domain))
	}
	if in.HostedZoneID != "" && !zonePattern.MatchString(in.HostedZoneID) {
		v.fail("ingress.hosted_zone_id", "%q is not a Route 53 hosted zone ID; use the ID the Route 53 console shows, such as Z0123456789ABCDEFGHIJ", shorten(in.HostedZoneID))
	}
	if in.CertificateARN != "" {
		m := certPattern.FindStringSubmatch(in.CertificateARN)
		switch {
		case m == nil:
			v.fail("ingress.certificate_arn", "%q is not an ACM certificate ARN; use arn:aws:acm:<region>:<account>:certificate/<id>", shorten(in.CertificateARN))
		case m[2] != s.Region && v.ok("region"):
			v.fail("ingress.certificate_arn", "the certificate is in %s but the app is in %s; the load balancer or API needs a certificate in %s", m[2], s.Region, s.Region)
		}
	}
	switch {
	case !slices.Contains(kinds, in.Kind):
		// Reported above; the rules below assume a valid kind.
	case in.Kind == IngressURL && (in.Domain != "" || in.CertificateARN != ""):
		v.fail("ingress.kind", "a Lambda function URL cannot have its own domain; use kind: apigw for a domain, or remove domain and certificate_arn")
	case in.Domain != "" && in.HostedZoneID == "" && in.CertificateARN == "":
		v.fail("ingress.domain", "a domain needs hosted_zone_id (to create and validate a certificate) or certificate_arn (an existing one); add one")
	case in.HostedZoneID != "" && in.Domain == "":
		v.fail("ingress.hosted_zone_id", "a hosted zone without a domain does nothing; add domain, or remove hosted_zone_id")
	case in.Kind == IngressAPIGW && in.CertificateARN != "" && in.Domain == "":
		v.fail("ingress.certificate_arn", "API Gateway uses a certificate only for a custom domain; add domain, or remove certificate_arn")
	}
}

func (v *validator) table() {
	t := v.s.Table
	v.enum("table.access", "a table access", t.Access, AccessReadWrite, AccessReadOnly, AccessNone)
	if !v.enum("table.billing", "a billing mode", t.Billing, BillingProvisioned, BillingOnDemand) {
		return
	}
	for _, f := range []struct {
		name  string
		units int
	}{{"read", t.Read}, {"write", t.Write}} {
		path := "table." + f.name
		switch {
		case t.Billing == BillingOnDemand && v.d.has(path):
			v.fail(path, "capacity applies only to billing: provisioned; remove %s, or use provisioned billing", f.name)
		case t.Billing == BillingProvisioned && (f.units < capacityMin || f.units > capacityMax):
			v.fail(path, "%d is not a provisioned capacity; use %d-%d (25 read and 25 write units in all are always free)", f.units, capacityMin, capacityMax)
		}
	}
}

// retentionDays are the values CloudWatch Logs accepts for a log group.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// RetentionDays lists the log retention values a spec may name (the
// tests pin them against CloudWatch Logs' documentation).
func RetentionDays() []int { return slices.Clone(retentionDays) }

func (v *validator) logs() {
	d := v.s.Logs.RetentionDays
	if slices.Contains(retentionDays, d) {
		return
	}
	// Name the two accepted values around the one written.
	i, _ := slices.BinarySearch(retentionDays, d)
	var near []int
	if i > 0 {
		near = append(near, retentionDays[i-1])
	}
	if i < len(retentionDays) {
		near = append(near, retentionDays[i])
	}
	v.fail("logs.retention_days", "CloudWatch Logs does not accept %d days; use %s (accepted: %s)", d, orList(itoa(near)), strings.Join(itoa(retentionDays), ", "))
}

func (v *validator) budget() {
	b := v.s.Budget
	if b.MonthlyUSD <= 0 || b.MonthlyUSD > budgetUSDMax {
		v.fail("budget.monthly_usd", "%v is not a monthly budget; use a positive amount in USD, such as 10", b.MonthlyUSD)
	}
	switch n := len(b.AlertPercent); {
	case n == 0:
		v.fail("budget.alert_percent", "no alerts: the budget would never tell anyone; use [80, 100]")
	case n > alertsMax:
		v.fail("budget.alert_percent", "%d alerts; AWS Budgets allows %d per budget: keep %d or fewer", n, alertsMax, alertsMax)
	}
	seen := map[int]bool{}
	for i, p := range b.AlertPercent {
		path := fmt.Sprintf("budget.alert_percent[%d]", i)
		switch {
		case p < alertPercentMin || p > alertPercentMax:
			v.fail(path, "%d is not an alert threshold; use a percentage of the budget, %d-%d", p, alertPercentMin, alertPercentMax)
		case seen[p]:
			v.fail(path, "%d%% is listed twice; list it once", p)
		}
		seen[p] = true
	}
	if len(b.Emails) > budgetEmailsMax {
		v.fail("budget.emails", "%d addresses; AWS Budgets notifies at most %d per alert: use a mailing list", len(b.Emails), budgetEmailsMax)
	}
	v.emails("budget.emails", b.Emails)
	v.emails("alarms.emails", v.s.Alarms.Emails)
}

func (v *validator) emails(path string, list []string) {
	seen := map[string]bool{}
	for i, e := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case utf8.RuneCountInString(e) > emailMax || !emailPattern.MatchString(e):
			v.fail(p, "%q is not an email address; use one such as ops@example.com", shorten(e))
		case seen[strings.ToLower(e)]:
			v.fail(p, "%s is listed twice; list it once", e)
		}
		seen[strings.ToLower(e)] = true
	}
}

// Tag limits, from the tagging rules ECS states for the service the idle
// wake controller tags
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Tag.html:
// "Maximum number of tags per resource - 50", "Maximum key length - 128
// Unicode characters in UTF-8", "Maximum value length - 256 Unicode
// characters in UTF-8": characters, not bytes). The spec's tags are also
// the stacks' tags, whose values may not be empty
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Tag.html:
// Value "Minimum length of 1").
const (
	awsTagsPerResource = 50
	tagKeyMax          = 128
	tagValueMax        = 256
	// lowfareTags are the tags lowfare puts on every resource:
	// lowfare:app and lowfare:env.
	lowfareTags = 2
	// sleepTags are the tags the idle wake controller writes on the ECS
	// service: lowfare:sleep, lowfare:sleep-reason, lowfare:sleep-since.
	sleepTags = 3
	// MaxTags is how many tags a spec may set: what is left of AWS's 50
	// on the most tagged resource, the ECS service of an idle spec.
	MaxTags = awsTagsPerResource - lowfareTags - sleepTags
)

func (v *validator) tags() {
	tags := v.s.Tags
	if len(tags) > MaxTags {
		v.fail("tags", "%d tags; AWS allows %d per resource, and lowfare adds %d of its own (%d more on a sleeping service): keep %d or fewer", len(tags), awsTagsPerResource, lowfareTags, sleepTags, MaxTags)
	}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		v.tag(k, tags[k])
	}
}

// tag checks one tag: key and value lengths in characters, as AWS counts
// them, reserved prefixes, and the characters AWS allows.
func (v *validator) tag(k, val string) {
	path := "tags." + k
	lower := strings.ToLower(k)
	switch n := utf8.RuneCountInString(val); {
	case k == "" || utf8.RuneCountInString(k) > tagKeyMax:
		v.fail(path, "a tag key has 1-%d characters; shorten it", tagKeyMax)
	case strings.HasPrefix(lower, "aws:"):
		v.fail(path, "tag keys starting with aws: are reserved by AWS; choose another key")
	case strings.HasPrefix(lower, "lowfare:"):
		v.fail(path, "lowfare sets the lowfare: tags itself; choose another key")
	case !validTagText(k):
		v.fail(path, "%q has characters AWS does not allow in tag keys; use letters, digits, spaces and _ . : / = + - @", shorten(k))
	case n == 0:
		v.fail(path, "the value is empty; CloudFormation refuses stack tags without a value: give one, or remove the tag")
	case n > tagValueMax:
		v.fail(path, "the value has %d characters; AWS allows %d: shorten it", n, tagValueMax)
	case !validTagText(val):
		v.fail(path, "the value %q has characters AWS does not allow in tags; use letters, digits, spaces and _ . : / = + - @", shorten(val))
	}
}

func (v *validator) workload() {
	w := v.s.Workload
	if w.RequestsPerMonth < 0 {
		v.fail("workload.requests_per_month", "%d is negative; use 0 or more", w.RequestsPerMonth)
	}
	if w.ResponseKB < 0 {
		v.fail("workload.response_kb", "%v is negative; use 0 or more", w.ResponseKB)
	}
	if w.ActiveHours < 0 || w.ActiveHours > activeHoursMax {
		v.fail("workload.active_hours", "%v is not hours in a month; use 0 (derived) to %d", w.ActiveHours, activeHoursMax)
	}
}

func orList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

func itoa(ns []int) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = strconv.Itoa(n)
	}
	return out
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// validTagText reports whether s uses only the characters AWS allows in tag
// keys and values: letters, numbers and spaces of any script, and _ . : / = + - @.
// (A regexp with \p{L} classes would cost milliseconds to compile at every
// start of lowfare; this loop costs nothing until it runs.)
func validTagText(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.In(r, unicode.Z) || strings.ContainsRune("_.:/=+-@", r) {
			continue
		}
		return false
	}
	return true
}
