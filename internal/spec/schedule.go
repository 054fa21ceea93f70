package spec

import (
	"errors"
	"time"
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

// Parse checks the time zone and the awake windows.
// (Stub: the spec issue implements it; the signature stays.)
func (s Schedule) Parse() (ParsedSchedule, error) {
	return ParsedSchedule{}, errors.New("schedule parsing is not implemented yet")
}
