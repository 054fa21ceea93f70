package awsfake

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// LogEvent is one stored log event; Timestamp is in milliseconds.
type LogEvent struct {
	Stream    string
	Timestamp int64
	Message   string
	ID        string
}

// Logs is a CloudWatch Logs fake (awsJson 1.1): FilterLogEvents over log
// groups created with AddGroup and events added with Put, paginated by
// PageSize so callers must follow nextToken.
type Logs struct {
	*JSONService

	// PageSize is the most events one FilterLogEvents page returns (default 3).
	PageSize int

	mu     sync.Mutex
	groups map[string][]LogEvent
	seq    int
}

// NewLogs returns a Logs fake with no groups.
func NewLogs() *Logs {
	f := &Logs{groups: map[string][]LogEvent{}}
	f.JSONService = &JSONService{TargetPrefix: "Logs_20140328", Version: "1.1", Ops: map[string]JSONOp{
		"FilterLogEvents": Handle(f.filter),
	}}
	return f
}

// AddGroup creates an empty log group.
func (f *Logs) AddGroup(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.groups[name]; !ok {
		f.groups[name] = []LogEvent{}
	}
}

// Put appends an event to a group (creating it) and returns its id.
func (f *Logs) Put(group, stream string, tsMillis int64, message string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	id := fmt.Sprintf("%020d", f.seq)
	f.groups[group] = append(f.groups[group], LogEvent{Stream: stream, Timestamp: tsMillis, Message: message, ID: id})
	return id
}

// matchPattern implements the plain-term subset of the filter syntax:
// every term (or the quoted phrase) must occur in the message.
func matchPattern(pattern, msg string) bool {
	pattern = strings.TrimSpace(pattern)
	if pattern == "" {
		return true
	}
	if len(pattern) >= 2 && pattern[0] == '"' && pattern[len(pattern)-1] == '"' {
		return strings.Contains(msg, pattern[1:len(pattern)-1])
	}
	for _, term := range strings.Fields(pattern) {
		if !strings.Contains(msg, term) {
			return false
		}
	}
	return true
}

func (f *Logs) filter(in struct {
	LogGroupName   string   `json:"logGroupName"`
	StartTime      *int64   `json:"startTime"`
	EndTime        *int64   `json:"endTime"`
	FilterPattern  string   `json:"filterPattern"`
	NextToken      string   `json:"nextToken"`
	Limit          int      `json:"limit"`
	LogStreamNames []string `json:"logStreamNames"`
}) (any, error) {
	if in.LogGroupName == "" {
		return nil, Errorf("InvalidParameterException", "logGroupName is required")
	}
	f.mu.Lock()
	events, ok := f.groups[in.LogGroupName]
	events = append([]LogEvent(nil), events...)
	f.mu.Unlock()
	if !ok {
		return nil, Errorf("ResourceNotFoundException", "The specified log group does not exist.")
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].Timestamp < events[j].Timestamp })
	var match []LogEvent
	for _, e := range events {
		if in.StartTime != nil && e.Timestamp < *in.StartTime {
			continue
		}
		if in.EndTime != nil && e.Timestamp > *in.EndTime {
			continue
		}
		if !matchPattern(in.FilterPattern, e.Message) {
			continue
		}
		if len(in.LogStreamNames) > 0 && !slices.Contains(in.LogStreamNames, e.Stream) {
			continue
		}
		match = append(match, e)
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > len(match) {
			return nil, Errorf("InvalidParameterException", "The specified nextToken is invalid.")
		}
		start = n
	}
	size := f.PageSize
	if size <= 0 {
		size = 3
	}
	if in.Limit > 0 && in.Limit < size {
		size = in.Limit
	}
	type eventJSON struct {
		LogStreamName string `json:"logStreamName"`
		Timestamp     int64  `json:"timestamp"`
		Message       string `json:"message"`
		IngestionTime int64  `json:"ingestionTime"`
		EventID       string `json:"eventId"`
	}
	out := struct {
		Events    []eventJSON `json:"events"`
		NextToken string      `json:"nextToken,omitempty"`
	}{Events: []eventJSON{}}
	end := min(start+size, len(match))
	for _, e := range match[start:end] {
		out.Events = append(out.Events, eventJSON{LogStreamName: e.Stream, Timestamp: e.Timestamp, Message: e.Message, IngestionTime: e.Timestamp + 5, EventID: e.ID})
	}
	if end < len(match) {
		out.NextToken = strconv.Itoa(end)
	}
	return out, nil
}
