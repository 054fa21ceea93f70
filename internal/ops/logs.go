package ops

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/spec"
	"github.com/lowfare/lowfare/internal/stack"
)

// DefaultPoll is how often logs --follow asks for new events.
const DefaultPoll = 2 * time.Second

// LogOptions select and shape the events Logs prints.
type LogOptions struct {
	Since  time.Duration // events newer than now-Since
	Filter string        // a CloudWatch Logs filter pattern; plain text matches terms
	Follow bool          // keep polling until ctx is cancelled
	Poll   time.Duration // the follow interval; DefaultPoll when 0
	Now    func() time.Time
}

// LogGroup finds the app's log group in the stack outputs.
func LogGroup(ctx context.Context, c *Clients, s *spec.Spec) (string, error) {
	st, err := DescribeStack(ctx, c.CloudFormation, s)
	if err != nil {
		return "", err
	}
	return st.Output(stack.OutputLogGroup)
}

// Logs prints the events of group: "timestamp stream message", one line
// each, oldest first. With Follow it then polls every Poll from the last
// timestamp seen, skipping events already printed, until ctx is cancelled,
// which ends it without error.
func Logs(ctx context.Context, c *cloudwatchlogs.Client, group string, o LogOptions, w io.Writer) error {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	poll := o.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	start := now().Add(-o.Since).UnixMilli()
	// seen holds the ids of the events printed at the latest timestamp:
	// the next query starts at that timestamp (inclusive), so they come
	// back once more and must not print twice.
	seen := map[string]bool{}
	for {
		last, err := printEvents(ctx, c, group, o.Filter, start, seen, w)
		if err != nil {
			if o.Follow && ctx.Err() != nil {
				return nil
			}
			return err
		}
		if last > start {
			start = last
		}
		if !o.Follow {
			return nil
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// printEvents prints every page of events from start on and returns the
// latest timestamp printed (or start).
func printEvents(ctx context.Context, c *cloudwatchlogs.Client, group, filter string, start int64, seen map[string]bool, w io.Writer) (int64, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), StartTime: aws.Int64(start)}
	if filter != "" {
		in.FilterPattern = aws.String(filter)
	}
	latest := start
	for {
		out, err := call(ctx, func(ctx context.Context) (*cloudwatchlogs.FilterLogEventsOutput, error) {
			return c.FilterLogEvents(ctx, in)
		})
		if err != nil {
			if awsconf.IsResourceNotFound(err) {
				return latest, fmt.Errorf("log group %s does not exist: has the service been deployed and started? (%w)", group, err)
			}
			return latest, fmt.Errorf("reading log group %s: %w", group, err)
		}
		for _, e := range out.Events {
			id := aws.ToString(e.EventId)
			ts := aws.ToInt64(e.Timestamp)
			if seen[id] {
				continue
			}
			if ts > latest {
				latest = ts
				clear(seen)
			}
			if ts == latest {
				seen[id] = true
			}
			if _, err := fmt.Fprintf(w, "%s %s %s\n", time.UnixMilli(ts).UTC().Format("2006-01-02T15:04:05.000Z"),
				shortStream(aws.ToString(e.LogStreamName)), strings.TrimRight(aws.ToString(e.Message), "\n")); err != nil {
				return latest, err
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return latest, nil
		}
		in.NextToken = out.NextToken
	}
}

// shortStream shortens an awslogs stream name, prefix/container/task-id,
// to the first 8 characters of the task id, enough to tell tasks apart.
// Lambda streams (date/[$LATEST]hex) keep their last 8 characters.
func shortStream(s string) string {
	i := strings.LastIndexAny(s, "/]")
	id := s[i+1:]
	if len(id) > 8 {
		if strings.Contains(s, "]") {
			return id[len(id)-8:]
		}
		return id[:8]
	}
	return id
}
