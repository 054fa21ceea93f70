package spec

import (
	"fmt"
	"strings"
	"time"

	// The time zone database is embedded so that schedules resolve the same
	// way on machines without /usr/share/zoneinfo (containers, CI runners).
	_ "time/tzdata"
)

// Window is one awake window: on the days marked, from Start to End, in
// minutes after local midnight (End > Start; a window does not cross midnight).
type Window struct {
	Days  [7]bool // indexed by time.Weekday: Days[time.Monday]
	Start int     // minutes after midnight, 0..1439
	End   int     // minutes after midnight, 1..1440
}

// ParsedSchedule is a Schedule ready for arithmetic: the stack turns it into
// scheduled actions, the cost model into hours awake.
type ParsedSchedule struct {
	Location *time.Location
	Windows  []Window
}

// dayNames are accepted spellings, lowercased, for each weekday.
var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "sunday": time.Sunday,
	"mon": time.Monday, "monday": time.Monday,
	"tue": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday,
	"thu": time.Thursday, "thursday": time.Thursday,
	"fri": time.Friday, "friday": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday,
}

const dayHint = "use Mon, Tue, Wed, Thu, Fri, Sat or Sun, or a range such as Mon-Fri"

// Parse checks the time zone and the awake windows.
//
// The awake grammar is one or more windows separated by commas; a window is
// a day or a day range followed by a time range:
//
//	Mon-Fri 08:00-20:00, Sat 10:00-14:00
//
// Day ranges run forward through the week and may wrap (Fri-Mon). Times are
// HH:MM in the schedule's time zone; 24:00 is allowed as an end. Windows
// must not overlap or touch on the same day: touching windows would ask
// the service to sleep and wake at the same minute, so they must be joined.
func (s Schedule) Parse() (ParsedSchedule, error) {
	loc, err := loadZone(s.Timezone)
	if err != nil {
		return ParsedSchedule{}, err
	}
	windows, err := parseAwake(s.Awake)
	if err != nil {
		return ParsedSchedule{}, err
	}
	return ParsedSchedule{Location: loc, Windows: windows}, nil
}

func loadZone(name string) (*time.Location, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return nil, fmt.Errorf("timezone is empty; set an IANA time zone such as Europe/Berlin or UTC")
	case name == "Local":
		// time.LoadLocation("Local") means this machine's zone, which is not
		// where the service runs.
		return nil, fmt.Errorf("timezone %q depends on the machine; set an IANA time zone such as Europe/Berlin or UTC", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown timezone %q; use an IANA name such as Europe/Berlin, America/New_York or UTC", name)
	}
	return loc, nil
}

func parseAwake(awake string) ([]Window, error) {
	if strings.TrimSpace(awake) == "" {
		return nil, fmt.Errorf("awake is empty; write windows such as \"Mon-Fri 08:00-20:00\", or remove the schedule to run 24/7")
	}
	parts := strings.Split(awake, ",")
	windows := make([]Window, 0, len(parts))
	for i, part := range parts {
		w, err := parseWindow(strings.TrimSpace(part))
		if err != nil {
			if len(parts) > 1 {
				return nil, fmt.Errorf("awake window %d %q: %w", i+1, strings.TrimSpace(part), err)
			}
			return nil, fmt.Errorf("awake %q: %w", strings.TrimSpace(part), err)
		}
		windows = append(windows, w)
	}
	for i := range windows {
		for j := i + 1; j < len(windows); j++ {
			if day, ok := clash(windows[i], windows[j]); ok {
				return nil, fmt.Errorf("awake windows %d and %d overlap or touch on %s; join them into one window or leave a gap", i+1, j+1, day)
			}
		}
	}
	return windows, nil
}

// clash reports the first weekday on which two windows overlap or touch.
func clash(a, b Window) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if a.Days[d] && b.Days[d] && a.Start <= b.End && b.Start <= a.End {
			return d, true
		}
	}
	return 0, false
}

func parseWindow(s string) (Window, error) {
	if s == "" {
		return Window{}, fmt.Errorf("empty window (a stray comma?); write windows such as \"Mon-Fri 08:00-20:00\"")
	}
	fields := strings.Fields(s)
	if len(fields) != 2 {
		return Window{}, fmt.Errorf("want days and a time range separated by one space, such as \"Mon-Fri 08:00-20:00\"")
	}
	var w Window
	days, err := parseDays(fields[0])
	if err != nil {
		return Window{}, err
	}
	w.Days = days
	from, to, ok := strings.Cut(fields[1], "-")
	if !ok {
		return Window{}, fmt.Errorf("time range %q has no '-'; write it as 08:00-20:00", fields[1])
	}
	if w.Start, err = parseClock(from, false); err != nil {
		return Window{}, err
	}
	if w.End, err = parseClock(to, true); err != nil {
		return Window{}, err
	}
	if w.End <= w.Start {
		return Window{}, fmt.Errorf("end %s is not after start %s; a window cannot cross midnight: end it at 24:00 and start another at 00:00 on the next day", to, from)
	}
	return w, nil
}

func parseDays(s string) ([7]bool, error) {
	var days [7]bool
	from, to, isRange := strings.Cut(s, "-")
	first, err := parseDay(from)
	if err != nil {
		return days, err
	}
	if !isRange {
		days[first] = true
		return days, nil
	}
	last, err := parseDay(to)
	if err != nil {
		return days, err
	}
	if first == last {
		return days, fmt.Errorf("day range %q starts and ends on the same day; write the day alone", s)
	}
	for d := first; ; d = (d + 1) % 7 {
		days[d] = true
		if d == last {
			break
		}
	}
	return days, nil
}

func parseDay(s string) (time.Weekday, error) {
	d, ok := dayNames[strings.ToLower(s)]
	if !ok {
		return 0, fmt.Errorf("unknown day %q; %s", s, dayHint)
	}
	return d, nil
}

// parseClock reads HH:MM (or H:MM) as minutes after midnight; 24:00 only
// when it is an end.
func parseClock(s string, isEnd bool) (int, error) {
	bad := func() (int, error) {
		return 0, fmt.Errorf("time %q is not HH:MM between 00:00 and 24:00", s)
	}
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 || !digits(hh) || !digits(mm) {
		return bad()
	}
	h := atoiSmall(hh)
	m := atoiSmall(mm)
	switch {
	case m > 59:
		return bad()
	case h == 24 && m == 0:
		if !isEnd {
			return 0, fmt.Errorf("start %q is the end of the day; start at 00:00 instead", s)
		}
		return 24 * 60, nil
	case h > 23:
		return bad()
	}
	return h*60 + m, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// atoiSmall converts at most two ASCII digits already checked by digits.
func atoiSmall(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// String writes the window back in the awake grammar, days first.
func (w Window) String() string {
	return fmt.Sprintf("%s %02d:%02d-%02d:%02d", daysString(w.Days), w.Start/60, w.Start%60, w.End/60, w.End%60)
}

var shortDay = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// daysString writes the marked days as the parser reads them: one day, or
// one range that may wrap the week (Fri-Mon). Days that are not one
// circular run (never produced by the parser) are joined with "+".
func daysString(days [7]bool) string {
	n := 0
	for _, on := range days {
		if on {
			n++
		}
	}
	switch n {
	case 0:
		return "none"
	case 7:
		return "Mon-Sun"
	}
	var parts []string
	// Start at every day that begins a run, in Monday-first order.
	for i := 1; i <= 7; i++ {
		d := time.Weekday(i % 7)
		prev := time.Weekday((i + 6) % 7)
		if !days[d] || days[prev] {
			continue
		}
		last := d
		for days[(last+1)%7] {
			last = (last + 1) % 7
		}
		if last == d {
			parts = append(parts, shortDay[d])
		} else {
			parts = append(parts, shortDay[d]+"-"+shortDay[last])
		}
	}
	return strings.Join(parts, "+")
}

// AwakeHoursPerWeek is the number of hours the service is awake in a week
// (windows do not overlap, so their lengths add up).
func (p ParsedSchedule) AwakeHoursPerWeek() float64 {
	minutes := 0
	for _, w := range p.Windows {
		for _, on := range w.Days {
			if on {
				minutes += w.End - w.Start
			}
		}
	}
	return float64(minutes) / 60
}
