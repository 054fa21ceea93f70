package cost

import (
	"time"

	"github.com/lowfare/lowfare/internal/spec"
)

// AwakeHours is the hours a month the service is awake under a schedule,
// for an average month of 730 h: awake hours in a week x 730/168.
//
// The windows are local times in the schedule's time zone, so the zone does
// not change the count: 08:00-20:00 is twelve hours in Berlin or in Tokyo.
// Daylight saving time shifts the clock twice a year; the week of a shift
// gains or loses at most one awake hour if a window spans the change (they
// happen at night, when windows rarely run), under 0.2% of a month. The
// model ignores it. Schedule.Parse refuses overlapping windows, so the
// week's hours are the windows' lengths added up.
func AwakeHours(ps spec.ParsedSchedule) float64 {
	return ps.AwakeHoursPerWeek() * HoursPerMonth / hoursPerWeek
}

// defaultSchedule is the scheduled variant --compare prices when the spec
// has no schedule of its own: weekdays 08:00-20:00 UTC.
func defaultSchedule() spec.ParsedSchedule {
	var days [7]bool
	for d := time.Monday; d <= time.Friday; d++ {
		days[d] = true
	}
	return spec.ParsedSchedule{
		Location: time.UTC,
		Windows:  []spec.Window{{Days: days, Start: 8 * 60, End: 20 * 60}},
	}
}

const defaultScheduleLabel = "Mon-Fri 08:00-20:00 UTC"
