package ops

import (
	"strings"
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestNextRun(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	// Wednesday 2026-11-25 19:30 in Berlin.
	wed := time.Date(2026, 11, 25, 19, 30, 0, 0, berlin)
	fri := time.Date(2026, 11, 27, 20, 0, 0, 0, berlin)
	tests := []struct {
		name, expr, tz string
		after          time.Time
		want           time.Time
	}{
		{"later today", "cron(0 20 ? * MON-FRI *)", "Europe/Berlin", wed, time.Date(2026, 11, 25, 20, 0, 0, 0, berlin)},
		{"tomorrow morning", "cron(0 8 ? * MON-FRI *)", "Europe/Berlin", wed, time.Date(2026, 11, 26, 8, 0, 0, 0, berlin)},
		{"strictly after", "cron(0 20 ? * MON-FRI *)", "Europe/Berlin", fri, time.Date(2026, 11, 30, 20, 0, 0, 0, berlin)},
		{"weekend skipped", "cron(0 8 ? * MON-FRI *)", "Europe/Berlin", fri, time.Date(2026, 11, 30, 8, 0, 0, 0, berlin)},
		{"numeric day, 1 is Sunday", "cron(30 9 ? * 1 *)", "Europe/Berlin", wed, time.Date(2026, 11, 29, 9, 30, 0, 0, berlin)},
		{"list of days", "cron(0 8 ? * SAT,TUE *)", "Europe/Berlin", wed, time.Date(2026, 11, 28, 8, 0, 0, 0, berlin)},
		{"day of month", "cron(0 0 1 * ? *)", "", wed, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{"step minutes", "cron(0/15 * ? * * *)", "Europe/Berlin", wed, time.Date(2026, 11, 25, 19, 45, 0, 0, berlin)},
		{"month name and year", "cron(0 12 1 JAN ? 2027)", "UTC", wed, time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC)},
		{"UTC default", "cron(0 20 ? * * *)", "", wed, time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)},
		{"at in zone", "at(2026-12-24T18:00:00)", "Europe/Berlin", wed, time.Date(2026, 12, 24, 18, 0, 0, 0, berlin)},
		// 2027-03-28: Berlin jumps from 02:00 to 03:00; 08:00 is still 08:00 local.
		{"across DST", "cron(0 8 ? * MON *)", "Europe/Berlin", time.Date(2027, 3, 27, 12, 0, 0, 0, berlin), time.Date(2027, 3, 29, 8, 0, 0, 0, berlin)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := NextRun(tt.expr, tt.tz, tt.after)
			if err != nil || !ok {
				t.Fatalf("NextRun(%q) = %v, %v, %v", tt.expr, got, ok, err)
			}
			if !got.Equal(tt.want) {
				t.Fatalf("NextRun(%q, %q, %v) = %v, want %v", tt.expr, tt.tz, tt.after, got, tt.want)
			}
		})
	}
}

func TestNextRunNone(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, expr := range []string{"cron(0 8 ? * * 2020)", "at(2020-01-01T00:00:00)", "cron(0 0 31 FEB ? *)"} {
		if got, ok, err := NextRun(expr, "UTC", now); err != nil || ok {
			t.Errorf("NextRun(%q) = %v, %v, %v; want no next run", expr, got, ok, err)
		}
	}
}

func TestParseCronErrors(t *testing.T) {
	tests := map[string]string{
		"cron(0 8 * * *)":            "want 6 fields",
		"cron(0 8 ? * MON-FRI *":     "closing parenthesis",
		"cron(60 8 ? * * *)":         "outside 0-59",
		"cron(0 8 * * MON *)":        "exactly one",
		"cron(0 8 ? * ? *)":          "exactly one",
		"cron(0 8 ? * FRI-MON *)":    "backwards",
		"cron(0 8 ? * MON#2 *)":      "not supported",
		"cron(0 8 L * ? *)":          "not supported",
		"cron(x 8 ? * * *)":          "not a number",
		"cron(0/0 8 ? * * *)":        "bad step",
		"cron(0 ? 1 * ? *)":          "only allowed",
		"cron(0 8 ? * MON,,TUE *)":   "not a number",
		"cron(0 8 ? NOPE MON *)":     "not a number",
		"cron(0 24 ? * MON-FRI *)":   "outside 0-23",
		"cron(0 8 ? * MON-FRI 1900)": "outside 1970-2199",
	}
	for expr, want := range tests {
		_, err := ParseCron(expr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseCron(%q) error = %v, want it to mention %q", expr, err, want)
		}
	}
	if _, _, err := NextRun("rate(5 minutes)", "", time.Now()); err == nil {
		t.Error("rate() predicted; want an error")
	}
	if _, _, err := NextRun("cron(0 8 ? * * *)", "Mars/Base", time.Now()); err == nil {
		t.Error("unknown timezone accepted")
	}
}

func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"cron(0 8 ? * MON-FRI *)", "cron(0/15 * ? * * *)", "cron(0 0 1 JAN ? 2027)", "cron(1-5,7 */2 ? * 1,3 *)", "cron()"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr string) {
		c, err := ParseCron(expr)
		if err != nil {
			return
		}
		next, ok := c.Next(now, time.UTC)
		if ok && !next.After(now) {
			t.Fatalf("Next(%q) = %v, not after %v", expr, next, now)
		}
		if ok {
			// The run found must itself match, and be the first: nothing
			// between now and next (checked on its own minute) may match.
			if again, ok2 := c.Next(next.Add(-time.Minute), time.UTC); !ok2 || !again.Equal(next) {
				t.Fatalf("Next(%q) not stable: %v then %v", expr, next, again)
			}
		}
	})
}

// BenchmarkNextRun prices status's schedule arithmetic: a weekday cron in a
// zone, from a Friday evening (the longest ordinary search: over a weekend).
func BenchmarkNextRun(b *testing.B) {
	after := time.Date(2026, 11, 27, 21, 0, 0, 0, time.UTC)
	for b.Loop() {
		if _, ok, err := NextRun("cron(0 8 ? * MON-FRI *)", "Europe/Berlin", after); err != nil || !ok {
			b.Fatal(err)
		}
	}
}

// BenchmarkCronNext is the search alone, without parsing or loading the zone.
func BenchmarkCronNext(b *testing.B) {
	c, err := ParseCron("cron(0 8 ? * MON-FRI *)")
	if err != nil {
		b.Fatal(err)
	}
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Fatal(err)
	}
	after := time.Date(2026, 11, 27, 21, 0, 0, 0, time.UTC)
	for b.Loop() {
		if _, ok := c.Next(after, loc); !ok {
			b.Fatal("no next run")
		}
	}
}
