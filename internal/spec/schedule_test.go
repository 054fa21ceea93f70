package spec

import (
	"strings"
	"testing"
	"time"
)

func days(ds ...time.Weekday) [7]bool {
	var out [7]bool
	for _, d := range ds {
		out[d] = true
	}
	return out
}

var weekdays = days(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday)

func TestScheduleParse(t *testing.T) {
	tests := []struct {
		name  string
		tz    string
		awake string
		want  []Window
	}{
		{"weekdays", "Europe/Berlin", "Mon-Fri 08:00-20:00", []Window{{weekdays, 8 * 60, 20 * 60}}},
		{"two windows", "UTC", "Mon-Fri 08:00-20:00, Sat 10:00-14:00", []Window{
			{weekdays, 480, 1200}, {days(time.Saturday), 600, 840}}},
		{"end of day", "UTC", "Sun 00:00-24:00", []Window{{days(time.Sunday), 0, 1440}}},
		{"one digit hour", "UTC", "mon 8:30-9:45", []Window{{days(time.Monday), 510, 585}}},
		{"full names", "America/New_York", "Monday-Wednesday 09:00-17:00", []Window{
			{days(time.Monday, time.Tuesday, time.Wednesday), 540, 1020}}},
		{"wrapping range", "UTC", "Fri-Mon 10:00-11:00", []Window{
			{days(time.Friday, time.Saturday, time.Sunday, time.Monday), 600, 660}}},
		{"whole week", "UTC", "Mon-Sun 00:00-24:00", []Window{
			{[7]bool{true, true, true, true, true, true, true}, 0, 1440}}},
		{"same time different days", "UTC", "Mon 08:00-09:00,Tue 08:00-09:00", []Window{
			{days(time.Monday), 480, 540}, {days(time.Tuesday), 480, 540}}},
		{"midnight split across days", "UTC", "Mon 20:00-24:00, Tue 00:00-02:00", []Window{
			{days(time.Monday), 1200, 1440}, {days(time.Tuesday), 0, 120}}},
		{"extra spaces", "UTC", "  Mon-Fri   08:00-20:00 ,  Sat 10:00-14:00 ", []Window{
			{weekdays, 480, 1200}, {days(time.Saturday), 600, 840}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Schedule{Timezone: tt.tz, Awake: tt.awake}.Parse()
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got.Location.String() != tt.tz {
				t.Errorf("location %q, want %q", got.Location, tt.tz)
			}
			if len(got.Windows) != len(tt.want) {
				t.Fatalf("windows %v, want %v", got.Windows, tt.want)
			}
			for i := range tt.want {
				if got.Windows[i] != tt.want[i] {
					t.Errorf("window %d = %+v, want %+v", i, got.Windows[i], tt.want[i])
				}
			}
		})
	}
}

func TestScheduleParseErrors(t *testing.T) {
	tests := []struct {
		name, tz, awake, want string
	}{
		{"empty timezone", "", "Mon 08:00-09:00", "timezone is empty"},
		{"unknown timezone", "Europe/Berlinn", "Mon 08:00-09:00", `unknown timezone "Europe/Berlinn"`},
		{"local timezone", "Local", "Mon 08:00-09:00", "depends on the machine"},
		{"empty awake", "UTC", "  ", "awake is empty"},
		{"stray comma", "UTC", "Mon 08:00-09:00,", "empty window"},
		{"no time", "UTC", "Mon-Fri", "want days and a time range"},
		{"unknown day", "UTC", "Mon-Fir 08:00-20:00", `unknown day "Fir"`},
		{"same-day range", "UTC", "Mon-Mon 08:00-20:00", "starts and ends on the same day"},
		{"no dash", "UTC", "Mon 08:00", "has no '-'"},
		{"bad minutes", "UTC", "Mon 08:60-09:00", `time "08:60"`},
		{"bad hour", "UTC", "Mon 25:00-26:00", `time "25:00"`},
		{"24 as start", "UTC", "Mon 24:00-24:00", "start at 00:00"},
		{"24:01", "UTC", "Mon 08:00-24:01", `time "24:01"`},
		{"end before start", "UTC", "Mon 20:00-08:00", "cannot cross midnight"},
		{"empty window", "UTC", "Mon 08:00-08:00", "not after start"},
		{"letters in time", "UTC", "Mon 0a:00-09:00", `time "0a:00"`},
		{"signed", "UTC", "Mon +8:00-09:00", `time "+8:00"`},
		{"overlap", "UTC", "Mon-Fri 08:00-20:00, Wed 19:00-21:00", "windows 1 and 2 overlap or touch on Wednesday"},
		{"touch", "UTC", "Mon 08:00-12:00, Mon 12:00-14:00", "overlap or touch on Monday"},
		{"window number", "UTC", "Mon 08:00-12:00, Tue 9-10", `awake window 2 "Tue 9-10"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Schedule{Timezone: tt.tz, Awake: tt.awake}.Parse()
			if err == nil {
				t.Fatalf("Parse(%q, %q) succeeded, want error containing %q", tt.tz, tt.awake, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestAwakeHoursPerWeek(t *testing.T) {
	p, err := Schedule{Timezone: "UTC", Awake: "Mon-Fri 08:00-20:00, Sat 10:00-14:30"}.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.AwakeHoursPerWeek(), 5*12+4.5; got != want {
		t.Errorf("AwakeHoursPerWeek = %v, want %v", got, want)
	}
}

func TestWindowStringRoundTrips(t *testing.T) {
	for _, awake := range []string{"Mon-Fri 08:00-20:00", "Sat 10:00-14:00", "Fri-Mon 00:00-24:00", "Mon-Sun 07:05-07:06", "Sun 00:00-01:00"} {
		p, err := Schedule{Timezone: "UTC", Awake: awake}.Parse()
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Windows[0].String(); got != awake {
			t.Errorf("String() = %q, want %q", got, awake)
		}
	}
}

// FuzzScheduleParse checks that any awake text either fails cleanly or
// yields windows that respect the documented invariants.
func FuzzScheduleParse(f *testing.F) {
	for _, s := range []string{"Mon-Fri 08:00-20:00", "Mon-Fri 08:00-20:00, Sat 10:00-14:00", "Sun 00:00-24:00", "Fri-Mon 1:00-2:00", ",", "Mon 24:00-24:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, awake string) {
		p, err := Schedule{Timezone: "UTC", Awake: awake}.Parse()
		if err != nil {
			return
		}
		if len(p.Windows) == 0 {
			t.Fatal("no windows and no error")
		}
		for i, w := range p.Windows {
			if w.Start < 0 || w.Start > 1439 || w.End < 1 || w.End > 1440 || w.End <= w.Start {
				t.Fatalf("window %d out of range: %+v", i, w)
			}
			if w.Days == [7]bool{} {
				t.Fatalf("window %d has no days", i)
			}
			for j := i + 1; j < len(p.Windows); j++ {
				if _, ok := clash(w, p.Windows[j]); ok {
					t.Fatalf("windows %d and %d overlap", i, j)
				}
			}
			// The written form parses back to the same window.
			again, err := Schedule{Timezone: "UTC", Awake: w.String()}.Parse()
			if err != nil || len(again.Windows) != 1 || again.Windows[0] != w {
				t.Fatalf("window %+v written as %q does not parse back: %v", w, w.String(), err)
			}
		}
		if h := p.AwakeHoursPerWeek(); h <= 0 || h > 168 {
			t.Fatalf("awake %v hours a week", h)
		}
	})
}
