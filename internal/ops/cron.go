package ops

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cron is a parsed Application Auto Scaling cron expression,
// cron(Minutes Hours Day-of-month Month Day-of-week Year), the form the
// stack's scheduled actions use ("cron(0 8 ? * MON-FRI *)"). It supports
// numbers, names (JAN-DEC, SUN-SAT), ranges, lists, steps, * and ?; the
// rarer L, W and # are refused rather than guessed.
type Cron struct {
	minute [60]bool
	hour   [24]bool
	dom    [32]bool // 1..31
	month  [13]bool // 1..12
	dow    [8]bool  // 1..7, 1 = Sunday as AWS counts
	years  map[int]bool
	// anyYear, domAny, dowAny record * or ? in those fields.
	anyYear, domAny, dowAny bool
}

var monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
var dayNames = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

// ParseCron parses "cron(m h dom mon dow year)" (the cron( ) wrapper is
// optional).
func ParseCron(expr string) (*Cron, error) {
	body := strings.TrimSpace(expr)
	if inner, ok := strings.CutPrefix(body, "cron("); ok {
		var closed bool
		body, closed = strings.CutSuffix(inner, ")")
		if !closed {
			return nil, fmt.Errorf("cron expression %q: missing closing parenthesis", expr)
		}
	}
	fields := strings.Fields(body)
	if len(fields) != 6 {
		return nil, fmt.Errorf("cron expression %q: want 6 fields (minutes hours day-of-month month day-of-week year), got %d", expr, len(fields))
	}
	c := &Cron{}
	type spec struct {
		name     string
		min, max int
		names    map[string]int
		set      func(int)
		any      *bool
		question bool // ? allowed
	}
	specs := []spec{
		{"minutes", 0, 59, nil, func(v int) { c.minute[v] = true }, nil, false},
		{"hours", 0, 23, nil, func(v int) { c.hour[v] = true }, nil, false},
		{"day-of-month", 1, 31, nil, func(v int) { c.dom[v] = true }, &c.domAny, true},
		{"month", 1, 12, monthNames, func(v int) { c.month[v] = true }, nil, false},
		{"day-of-week", 1, 7, dayNames, func(v int) { c.dow[v] = true }, &c.dowAny, true},
		{"year", 1970, 2199, nil, func(v int) {
			if c.years == nil {
				c.years = map[int]bool{}
			}
			c.years[v] = true
		}, &c.anyYear, false},
	}
	questions := 0
	for i, sp := range specs {
		f := fields[i]
		if f == "?" {
			if !sp.question {
				return nil, fmt.Errorf("cron expression %q: ? is only allowed in day-of-month or day-of-week", expr)
			}
			questions++
			*sp.any = true
			continue
		}
		if f == "*" && sp.any != nil {
			*sp.any = true
		}
		if err := parseField(f, sp.min, sp.max, sp.names, sp.set); err != nil {
			return nil, fmt.Errorf("cron expression %q: %s: %w", expr, sp.name, err)
		}
	}
	if questions != 1 {
		return nil, fmt.Errorf("cron expression %q: exactly one of day-of-month and day-of-week must be ?", expr)
	}
	return c, nil
}

// parseField parses one comma-separated field into set.
func parseField(f string, min, max int, names map[string]int, set func(int)) error {
	if f == "" {
		return errors.New("empty field")
	}
	for part := range strings.SplitSeq(f, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 || n > max {
				return fmt.Errorf("bad step %q", stepText)
			}
			step = n
		}
		var lo, hi int
		switch {
		case rng == "*":
			lo, hi = min, max
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if lo, err = fieldValue(a, min, max, names); err != nil {
				return err
			}
			if hi, err = fieldValue(b, min, max, names); err != nil {
				return err
			}
			if hi < lo {
				return fmt.Errorf("range %q runs backwards", rng)
			}
		default:
			v, err := fieldValue(rng, min, max, names)
			if err != nil {
				return err
			}
			lo, hi = v, v
			if hasStep {
				hi = max // "0/15" means from 0 every 15
			}
		}
		for v := lo; v <= hi; v += step {
			set(v)
		}
	}
	return nil
}

func fieldValue(s string, min, max int, names map[string]int) (int, error) {
	if v, ok := names[strings.ToUpper(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		if strings.ContainsAny(s, "LW#") {
			return 0, fmt.Errorf("%q: L, W and # are not supported", s)
		}
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if v < min || v > max {
		return 0, fmt.Errorf("%d is outside %d-%d", v, min, max)
	}
	return v, nil
}

// maxSearchDays bounds the search for the next run; a schedule with no run
// in that span (a past year) has none.
const maxSearchDays = 366 * 5

// Next returns the first run strictly after t, in loc's wall-clock time
// (as Application Auto Scaling evaluates a scheduled action's Timezone), and
// false when there is none within five years.
func (c *Cron) Next(t time.Time, loc *time.Location) (time.Time, bool) {
	t = t.In(loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	for i := 0; i <= maxSearchDays; i++ {
		d := day.AddDate(0, 0, i)
		if !c.dayMatches(d) {
			continue
		}
		for h := range 24 {
			if !c.hour[h] {
				continue
			}
			for m := range 60 {
				if !c.minute[m] {
					continue
				}
				at := time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, loc)
				if at.After(t) {
					return at, true
				}
			}
		}
	}
	return time.Time{}, false
}

func (c *Cron) dayMatches(d time.Time) bool {
	if !c.anyYear && !c.years[d.Year()] {
		return false
	}
	if !c.month[int(d.Month())] {
		return false
	}
	if !c.domAny && !c.dom[d.Day()] {
		return false
	}
	if !c.dowAny && !c.dow[int(d.Weekday())+1] {
		return false
	}
	return true
}

// NextRun returns the next run after t of a scheduled action's Schedule
// ("cron(...)" or "at(yyyy-mm-ddThh:mm:ss)") in the IANA timezone tz (UTC
// when empty). ok is false when the schedule will not run again; rate()
// schedules, which count from a start time, are an error.
func NextRun(schedule, tz string, t time.Time) (next time.Time, ok bool, err error) {
	loc := time.UTC
	if tz != "" {
		if loc, err = time.LoadLocation(tz); err != nil {
			return time.Time{}, false, fmt.Errorf("scheduled action timezone %q: %w", tz, err)
		}
	}
	schedule = strings.TrimSpace(schedule)
	switch {
	case strings.HasPrefix(schedule, "cron("):
		c, err := ParseCron(schedule)
		if err != nil {
			return time.Time{}, false, err
		}
		next, ok := c.Next(t, loc)
		return next, ok, nil
	case strings.HasPrefix(schedule, "at(") && strings.HasSuffix(schedule, ")"):
		at, err := time.ParseInLocation("2006-01-02T15:04:05", schedule[3:len(schedule)-1], loc)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("at expression %q: %w", schedule, err)
		}
		return at, at.After(t), nil
	}
	return time.Time{}, false, fmt.Errorf("schedule %q: only cron(...) and at(...) can be predicted", schedule)
}
