package stack

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lowfare/lowfare/internal/cfn"
	"github.com/lowfare/lowfare/internal/spec"
)

// scaling is Application Auto Scaling for the service: target tracking on
// average CPU between min and max, and, when the spec has a schedule,
// scheduled actions that set min = max = 0 when each sleep starts and
// restore min and max at each wake, in the spec's time zone.
func (b *builder) scaling() {
	c := b.counts()
	props := cfn.Props{
		"ServiceNamespace":  "ecs",
		"ScalableDimension": "ecs:service:DesiredCount",
		"ResourceId":        cfn.Sub("service/${Cluster}/${Service.Name}"),
		"MinCapacity":       c.min,
		"MaxCapacity":       c.max,
	}
	// With service.idle the controller sleeps the service when a window
	// ends and a request inside a window wakes it (idle.go), so there are
	// no scheduled actions to fight it.
	if sched := b.s.Service.Schedule; sched != nil && b.s.Profile != spec.ProfileHA && b.s.Service.Idle == nil {
		parsed, err := sched.Parse()
		if err == nil { // Check refused the spec otherwise
			if actions := scheduledActions(parsed, sched.Timezone, max(1, c.min), c.max); len(actions) > 0 {
				props["ScheduledActions"] = actions
			}
		}
	}
	b.add(PartScaling, "ScalableTarget", "AWS::ApplicationAutoScaling::ScalableTarget", props)
	if !b.s.Autoscales() {
		// min = max: target tracking could not change the count, and its
		// two alarms would be billed beyond CloudWatch's 10 free for
		// nothing. The scalable target stays: sleep and wake set its
		// bounds.
		return
	}
	b.add(PartScaling, "CpuScaling", "AWS::ApplicationAutoScaling::ScalingPolicy", cfn.Props{
		"PolicyName":      b.n.ScalingPolicy,
		"PolicyType":      "TargetTrackingScaling",
		"ScalingTargetId": cfn.Ref("ScalableTarget"),
		"TargetTrackingScalingPolicyConfiguration": map[string]any{
			"PredefinedMetricSpecification": map[string]any{
				"PredefinedMetricType": "ECSServiceAverageCPUUtilization",
			},
			"TargetValue":      b.s.Service.Scaling.CPUTarget,
			"ScaleOutCooldown": 60,
			"ScaleInCooldown":  300,
		},
	})
}

const (
	minutesPerDay  = 24 * 60
	minutesPerWeek = 7 * minutesPerDay
)

var cronDays = [7]string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

// transition is a wake or a sleep at one time of day on some weekdays.
type transition struct {
	wake   bool
	minute int // of the day
	days   [7]bool
}

// transitions finds every moment of the week the service goes from asleep
// to awake or back. Working on the whole week makes overlapping windows,
// adjacent windows (08:00-12:00,12:00-20:00) and windows ending at midnight
// come out right: only real changes become actions.
func transitions(p spec.ParsedSchedule) []transition {
	var awake [minutesPerWeek]bool
	for _, w := range p.Windows {
		for d := 0; d < 7; d++ {
			if !w.Days[d] {
				continue
			}
			for m := w.Start; m < w.End && m < minutesPerDay; m++ {
				awake[d*minutesPerDay+m] = true
			}
		}
	}
	type key struct {
		wake   bool
		minute int
	}
	byKey := map[key]*transition{}
	var order []key
	for i := 0; i < minutesPerWeek; i++ {
		prev := awake[(i+minutesPerWeek-1)%minutesPerWeek]
		if awake[i] == prev {
			continue
		}
		k := key{wake: awake[i], minute: i % minutesPerDay}
		t, ok := byKey[k]
		if !ok {
			t = &transition{wake: k.wake, minute: k.minute}
			byKey[k] = t
			order = append(order, k)
		}
		t.days[i/minutesPerDay] = true
	}
	out := make([]transition, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].minute != out[j].minute {
			return out[i].minute < out[j].minute
		}
		return out[i].wake && !out[j].wake
	})
	return out
}

// cronExpression is when t happens, in the cron syntax both Application
// Auto Scaling and EventBridge Scheduler read (the time zone is separate).
func cronExpression(t transition) string {
	var days []string
	for d := time.Sunday; d <= time.Saturday; d++ {
		if t.days[d] {
			days = append(days, cronDays[d])
		}
	}
	return fmt.Sprintf("cron(%d %d ? * %s *)", t.minute%60, t.minute/60, strings.Join(days, ","))
}

// scheduledActions turns the schedule into Application Auto Scaling
// scheduled actions with cron expressions in the time zone.
func scheduledActions(p spec.ParsedSchedule, tz string, wakeMin, wakeMax int) []any {
	var out []any
	for _, t := range transitions(p) {
		var days []string
		for d := time.Sunday; d <= time.Saturday; d++ {
			if t.days[d] {
				days = append(days, cronDays[d])
			}
		}
		kind, minCap, maxCap := "sleep", 0, 0
		if t.wake {
			kind, minCap, maxCap = "wake", wakeMin, wakeMax
		}
		out = append(out, map[string]any{
			"ScheduledActionName": fmt.Sprintf("%s-%02d%02d-%s", kind, t.minute/60, t.minute%60, strings.Join(days, "-")),
			"Schedule":            cronExpression(t),
			"Timezone":            tz,
			"ScalableTargetAction": map[string]any{
				"MinCapacity": minCap,
				"MaxCapacity": maxCap,
			},
		})
	}
	return out
}
