package stack

import (
	"fmt"
	"testing"

	"github.com/lowfare/lowfare/internal/spec"
)

func days(ds ...int) (out [7]bool) {
	for _, d := range ds {
		out[d] = true
	}
	return out
}

func describe(ts []transition) []string {
	var out []string
	for _, t := range ts {
		kind := "sleep"
		if t.wake {
			kind = "wake"
		}
		out = append(out, fmt.Sprintf("%s %02d:%02d %v", kind, t.minute/60, t.minute%60, t.days))
	}
	return out
}

func TestTransitions(t *testing.T) {
	weekdays := days(1, 2, 3, 4, 5)
	cases := []struct {
		name    string
		windows []spec.Window
		want    []string
	}{
		{"office hours", []spec.Window{{Days: weekdays, Start: 8 * 60, End: 20 * 60}},
			[]string{"wake 08:00 [false true true true true true false]", "sleep 20:00 [false true true true true true false]"}},
		{"adjacent windows merge", []spec.Window{{Days: weekdays, Start: 8 * 60, End: 12 * 60}, {Days: weekdays, Start: 12 * 60, End: 20 * 60}},
			[]string{"wake 08:00 [false true true true true true false]", "sleep 20:00 [false true true true true true false]"}},
		{"overlap", []spec.Window{{Days: days(1), Start: 8 * 60, End: 14 * 60}, {Days: days(1), Start: 10 * 60, End: 18 * 60}},
			[]string{"wake 08:00 [false true false false false false false]", "sleep 18:00 [false true false false false false false]"}},
		// Until midnight Friday: the sleep is at 00:00 on Saturday.
		{"until midnight", []spec.Window{{Days: days(5), Start: 18 * 60, End: 24 * 60}},
			[]string{"sleep 00:00 [false false false false false false true]", "wake 18:00 [false false false false false true false]"}},
		// Friday until midnight and Saturday from midnight: one awake span.
		{"across midnight", []spec.Window{{Days: days(5), Start: 20 * 60, End: 24 * 60}, {Days: days(6), Start: 0, End: 2 * 60}},
			[]string{"sleep 02:00 [false false false false false false true]", "wake 20:00 [false false false false false true false]"}},
		{"always awake", []spec.Window{{Days: days(0, 1, 2, 3, 4, 5, 6), Start: 0, End: 24 * 60}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := describe(transitions(spec.ParsedSchedule{Windows: c.windows}))
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("got  %v\nwant %v", got, c.want)
			}
		})
	}
}

func TestScheduledActions(t *testing.T) {
	p, err := spec.Schedule{Timezone: "Europe/Berlin", Awake: "Mon-Fri 08:00-20:00, Sat 10:00-14:00"}.Parse()
	if err != nil {
		t.Fatal(err)
	}
	actions := scheduledActions(p, "Europe/Berlin", 1, 3)
	want := []string{
		"wake-0800-MON-TUE-WED-THU-FRI cron(0 8 ? * MON,TUE,WED,THU,FRI *) 1-3",
		"wake-1000-SAT cron(0 10 ? * SAT *) 1-3",
		"sleep-1400-SAT cron(0 14 ? * SAT *) 0-0",
		"sleep-2000-MON-TUE-WED-THU-FRI cron(0 20 ? * MON,TUE,WED,THU,FRI *) 0-0",
	}
	if len(actions) != len(want) {
		t.Fatalf("%d actions: %v", len(actions), actions)
	}
	for i, a := range actions {
		m := a.(map[string]any)
		sta := m["ScalableTargetAction"].(map[string]any)
		got := fmt.Sprintf("%s %s %d-%d", m["ScheduledActionName"], m["Schedule"], sta["MinCapacity"], sta["MaxCapacity"])
		if got != want[i] {
			t.Errorf("action %d: %s, want %s", i, got, want[i])
		}
		if m["Timezone"] != "Europe/Berlin" {
			t.Errorf("action %d in %v", i, m["Timezone"])
		}
	}
}

// TestNoPolicyThatCannotAct: a service whose count cannot grow gets no
// target-tracking policy (two alarms billed for nothing) but keeps its
// scalable target (sleep and wake set its bounds); one that can grow gets
// both.
func TestNoPolicyThatCannotAct(t *testing.T) {
	cases := []struct {
		name   string
		f      func(*spec.Spec)
		policy bool
	}{
		{"free 1..2", func(s *spec.Spec) { s.Service.Count = spec.Count{Desired: 1, Min: 1, Max: 2} }, true},
		{"free 1..1", func(s *spec.Spec) { s.Service.Count = spec.Count{Desired: 1, Min: 1, Max: 1} }, false},
		{"free 0..1 (a schedule stops it)", func(s *spec.Spec) { s.Service.Count = spec.Count{Desired: 1, Min: 0, Max: 1} }, false},
		{"ha 2..2", func(s *spec.Spec) {
			s.Profile = spec.ProfileHA
			s.Service.Count = spec.Count{Desired: 2, Min: 2, Max: 2}
		}, false},
		{"ha 2..4", func(s *spec.Spec) {
			s.Profile = spec.ProfileHA
			s.Service.Count = spec.Count{Desired: 2, Min: 2, Max: 4}
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := variant(c.f)
			res := build(t, s)
			g := generic(t, res.Main)
			if n := len(resourcesOfType(g, "AWS::ApplicationAutoScaling::ScalableTarget")); n != 1 {
				t.Errorf("%d scalable targets, want 1", n)
			}
			if got := len(resourcesOfType(g, "AWS::ApplicationAutoScaling::ScalingPolicy")) == 1; got != c.policy {
				t.Errorf("target-tracking policy: %v, want %v", got, c.policy)
			}
		})
	}
}
