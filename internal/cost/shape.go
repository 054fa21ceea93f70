package cost

import (
	"fmt"
	"strings"
	"time"

	"github.com/lowfare/lowfare/internal/spec"
)

// Runtime is what serves requests in a shape.
type Runtime string

// Runtimes.
const (
	RuntimeECS        Runtime = "ecs"
	RuntimeServerless Runtime = "serverless"
	// RuntimeCDKReference is the AWS CDK ecs-patterns default, priced only
	// as a reference row: two NAT gateways, an x86 task 24/7 in private
	// subnets, an ALB.
	RuntimeCDKReference Runtime = "cdk-reference"
)

// Shape is the part of a spec the bill depends on, resolved: the schedule
// is already hours, the profile's rules already applied. --compare prices
// variations of it.
type Shape struct {
	Runtime  Runtime
	Ingress  string // alb | apigw | url
	Arch     string // arm64 | x86_64, of the task or the function
	Spot     bool
	Tasks    int
	CPU      int // Fargate CPU units
	MemoryMB int // Fargate task or Lambda memory

	HoursAwake float64 // a month
	Schedule   string  // "24/7" or the awake windows with their zone

	Billing     string // DynamoDB provisioned | on-demand
	Read, Write int    // provisioned capacity per table and per GSI
	GSIs        int
	PITR        bool
	HostedZone  bool // domain and hosted_zone_id given: an alias record in it
	Alarms      int
	Retention   int // log retention, days
	ScheduleSet bool
	AlwaysOn    bool // profile ha: never sleeps, so no scheduled variant

	// Idle sleep (service.idle): HoursAwake is then the idle hours within
	// WindowHours (730, or the schedule's awake hours).
	Idle               bool
	IdleAfter          time.Duration
	ActiveHours        float64
	ActiveHoursDerived bool
	Wakes              float64
	WindowHours        float64

	// serve: app (service.idle.serve): while the service sleeps the same
	// app answers on Lambda, and the busy alarm wakes the service only
	// when requests arrive at WakePerMinute or more. The three figures
	// below depend on the workload and the prices: pricer.resolve fills
	// them in (and HoursAwake, Wakes with them).
	ServeApp       bool
	WakePerMinute  float64 // the break-even rate (price.AppOnLambda)
	RatePerMinute  float64 // the workload's average rate within the active hours
	LambdaRequests float64 // requests a month the app answers on Lambda
	// AdapterImage: lowfare builds the image, so it carries the Lambda
	// adapter serve: app needs; --compare prices serve: app rows only then.
	AdapterImage bool

	// Autoscales: the ECS service has a target-tracking policy
	// (spec.Autoscales), whose two alarms count among the alarm metrics.
	Autoscales bool

	// Database is the relational database, when the spec has one.
	Database DatabaseShape
}

// Name is how a shape is named in the compare rows and by plan.
func (sh Shape) Name() string {
	switch sh.Runtime {
	case RuntimeServerless:
		if sh.Ingress == spec.IngressAPIGW {
			return "serverless · Lambda behind an HTTP API"
		}
		return "serverless · Lambda function URL"
	case RuntimeCDKReference:
		return "AWS CDK ecs-patterns default (reference): 2 NAT gateways, x86 task 24/7, ALB"
	}
	arch := sh.Arch
	if sh.Spot {
		arch += " Spot"
	}
	return fmt.Sprintf("%s · %s · %s", sh.Ingress, arch, sh.Schedule)
}

// ShapeOf resolves a spec into the shape its bill depends on.
func ShapeOf(s *spec.Spec) (Shape, error) {
	sh := Shape{
		Ingress:    s.Ingress.Kind,
		Arch:       s.Service.Arch,
		Spot:       s.Service.Spot,
		Tasks:      max(s.Service.Count.Desired, s.Service.Count.Min),
		CPU:        s.Service.CPU,
		MemoryMB:   s.Service.Memory,
		HoursAwake: HoursPerMonth,
		Schedule:   "24/7",
		Billing:    s.Table.Billing,
		Read:       s.Table.Read,
		Write:      s.Table.Write,
		GSIs:       1, // GSI1, provisioned like the table
		PITR:       s.Table.PITR,
		HostedZone: s.Ingress.Domain != "" && s.Ingress.HostedZoneID != "",
		Alarms:     AlarmCount(s),
		Autoscales: s.Autoscales(),
		Retention:  s.Logs.RetentionDays,

		AdapterImage: s.Service.LocalPackage(),
	}
	if sh.Ingress == "" {
		sh.Ingress = spec.IngressALB
	}
	if sh.Arch == "" {
		sh.Arch = spec.ArchARM64
	}
	switch s.Profile {
	case spec.ProfileServerless:
		sh.Runtime = RuntimeServerless
		if sh.Ingress != spec.IngressAPIGW {
			sh.Ingress = spec.IngressURL
		}
		sh.Spot = false // the function keeps service.arch: Lambda bills x86 higher
		sh.Tasks = 0
		return sh, nil
	case spec.ProfileHA:
		// ha runs at least two tasks, always, with PITR on.
		sh.Runtime = RuntimeECS
		sh.Tasks = max(sh.Tasks, 2)
		sh.PITR = true
		sh.AlwaysOn = true
		sh.Database = databaseShape(s, HoursPerMonth)
		return sh, nil
	}
	sh.Runtime = RuntimeECS
	if s.Service.Schedule != nil {
		ps, err := s.Service.Schedule.Parse()
		if err != nil {
			return Shape{}, fmt.Errorf("service.schedule: %w", err)
		}
		sh.HoursAwake = AwakeHours(ps)
		sh.Schedule = scheduleLabel(*s.Service.Schedule, ps)
		sh.ScheduleSet = true
	}
	sh.Database = databaseShape(s, sh.HoursAwake)
	if idle := s.Service.Idle; idle != nil {
		after := idle.Duration()
		if after <= 0 {
			return Shape{}, fmt.Errorf("service.idle.after %q: not a duration", idle.After)
		}
		active, derived := ActiveHours(s, sh.HoursAwake)
		sh = sh.withIdle(active, after, derived, idle.ServesApp())
	}
	return sh, nil
}

func scheduleLabel(s spec.Schedule, ps spec.ParsedSchedule) string {
	zone := s.Timezone
	if ps.Location != nil {
		zone = ps.Location.String()
	}
	if zone == "" {
		zone = "UTC"
	}
	return strings.TrimSpace(s.Awake) + " " + zone
}

// AlarmCount counts the CloudWatch alarm metrics lowfare's template creates
// for a spec, the way AWS bills them against the 10 free: the fixed alarms
// (each metric of a metric-math alarm counts) plus the two alarms each
// target-tracking policy creates (ECS has one).
func AlarmCount(s *spec.Spec) int {
	if !s.ECS() {
		return alarmCount(RuntimeServerless, s.Ingress.Kind, false, false, false)
	}
	sleeps := s.Profile != spec.ProfileHA && (s.Service.Schedule != nil || s.Service.Idle != nil)
	n := alarmCount(RuntimeECS, s.Ingress.Kind, sleeps, s.Service.Idle.ServesApp(), s.Autoscales())
	if s.Service.Idle != nil {
		n += idleAlarms(s.Service.Idle.ServesApp())
	}
	return n
}

// alarmCount is AlarmCount for a shape, without service.idle's own alarms;
// sleeps: the ECS service has a schedule or service.idle; serveApp: the
// app answers on Lambda while it sleeps.
func alarmCount(rt Runtime, ingress string, sleeps, serveApp, autoscales bool) int {
	n := alarmMetrics5xx + alarmMetricsLatency + alarmMetricsThrottles
	if rt == RuntimeServerless {
		return n
	}
	// The third metric of the 5xx rate: behind an ALB, its own 5xx, or
	// with idle sleep the CPU samples that tell awake from asleep; behind
	// an HTTP API, a sleeping service's CPU samples (a schedule) or the
	// controller's invocations (the waking page's 503s). With serve: app
	// an HTTP API's rate counts every period, whoever answers: no third.
	if ingress != spec.IngressAPIGW || (sleeps && !serveApp) {
		n += alarmMetrics5xxECS
	}
	if autoscales {
		n += targetTrackingPolicies * alarmsPerTargetTrack
	}
	return n
}

// idleAlarms is what service.idle adds: the idle alarm on the ingress's
// request count and, with serve: app, the busy alarm on the app
// function's invocations that wakes the service.
func idleAlarms(serveApp bool) int {
	if serveApp {
		return alarmMetricsIdle + alarmMetricsBusy
	}
	return alarmMetricsIdle
}

// alarmMetricsIdle is service.idle's alarm on the ingress's request count;
// alarmMetricsBusy the serve: app alarm on the app function's invocations.
const (
	alarmMetricsIdle = 1
	alarmMetricsBusy = 1
)
