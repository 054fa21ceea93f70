package deploy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/lowfare/lowfare/internal/awsconf"
	"github.com/lowfare/lowfare/internal/wait"
)

const stackType = "AWS::CloudFormation::Stack"

// watcher follows one stack operation: it prints each new event once, in
// order, keeps a count of resources done, and remembers the events for the
// failure report.
type watcher struct {
	d       *Deployer
	stack   string // the name, for messages
	stackID string // the ID, which still resolves after a delete
	total   int    // resources the operation touches (0: unknown)
	done    map[string]bool
	seen    string // the newest event already reported (or from before)
	events  []types.StackEvent
	start   time.Time
	live    bool // a live line is on screen
}

// mark records the newest existing event, so only the operation's own
// events are printed.
func (w *watcher) mark(ctx context.Context) error {
	w.start = time.Now()
	out, err := w.d.CFN.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String(w.stackID)})
	if err != nil {
		return fmt.Errorf("reading the events of stack %s: %w", w.stack, err)
	}
	if len(out.StackEvents) > 0 {
		w.seen = aws.ToString(out.StackEvents[0].EventId)
	}
	return nil
}

// fresh pages newest-first back to the last event seen and returns the new
// ones oldest-first.
func (w *watcher) fresh(ctx context.Context) ([]types.StackEvent, error) {
	var got []types.StackEvent
	var token *string
	for {
		out, err := w.d.CFN.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String(w.stackID), NextToken: token})
		if awsconf.IsStackNotFound(err) {
			// CloudFormation keeps a deleted stack's events by ID for 90
			// days; an endpoint that forgets it at once (moto) has
			// finished the delete.
			return nil, fmt.Errorf("reading the events of stack %s: %w", w.stack, ErrStackNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("reading the events of stack %s: %w", w.stack, err)
		}
		reached := false
		for _, e := range out.StackEvents {
			if w.seen != "" && aws.ToString(e.EventId) == w.seen {
				reached = true
				break
			}
			got = append(got, e)
		}
		if reached || out.NextToken == nil {
			break
		}
		token = out.NextToken
	}
	slices.Reverse(got)
	if len(got) > 0 {
		w.seen = aws.ToString(got[len(got)-1].EventId)
	}
	return got, nil
}

func (w *watcher) report(evs []types.StackEvent) {
	for _, e := range evs {
		w.events = append(w.events, e)
		if aws.ToString(e.ResourceType) != stackType && terminalResource(string(e.ResourceStatus)) {
			w.done[aws.ToString(e.LogicalResourceId)] = true
		}
		w.clearLive()
		w.d.printf("%s\n", w.d.eventLine(e))
	}
}

// terminalResource reports whether a resource status ends its part of an
// operation.
func terminalResource(s string) bool {
	return strings.HasSuffix(s, "_COMPLETE") || strings.HasSuffix(s, "_FAILED") || s == "DELETE_SKIPPED"
}

func (d *Deployer) eventLine(e types.StackEvent) string {
	loc := d.Location
	if loc == nil {
		loc = time.Local
	}
	at := aws.ToTime(e.Timestamp).In(loc).Format("15:04:05")
	line := fmt.Sprintf("%s  %-35s %-40s %s", at, string(e.ResourceStatus), aws.ToString(e.ResourceType), aws.ToString(e.LogicalResourceId))
	if r := aws.ToString(e.ResourceStatusReason); r != "" && r != "User Initiated" {
		line += "  " + r
	}
	return strings.TrimRight(line, " ")
}

func (w *watcher) elapsed() time.Duration {
	return time.Since(w.start).Round(time.Second)
}

// showLive draws the progress line on a terminal.
func (w *watcher) showLive(status string) {
	if !w.d.Live {
		return
	}
	done := len(w.done)
	if w.total > 0 {
		done = min(done, w.total)
	}
	total := "?"
	if w.total > 0 {
		total = fmt.Sprint(w.total)
	}
	fmt.Fprintf(w.d.Out, "\r\x1b[K  %s: %d of %s resources done, %s elapsed (%s)", w.stack, done, total, w.elapsed(), status)
	w.live = true
}

func (w *watcher) clearLive() {
	if w.live {
		fmt.Fprint(w.d.Out, "\r\x1b[K")
		w.live = false
	}
}

// wait follows the operation until the stack reaches a terminal status.
func (w *watcher) wait(ctx context.Context) (*types.Stack, error) {
	status := "starting"
	defer w.clearLive()
	for {
		evs, err := w.fresh(ctx)
		if err != nil {
			return nil, w.d.wrap(ctx, w.stack, status, err)
		}
		w.report(evs)
		st, err := w.d.describe(ctx, w.stackID)
		if err != nil {
			return nil, w.d.wrap(ctx, w.stack, status, err)
		}
		status = string(st.StackStatus)
		if terminalStack(status) {
			evs, err := w.fresh(ctx)
			if err != nil {
				return nil, w.d.wrap(ctx, w.stack, status, err)
			}
			w.report(evs)
			return st, nil
		}
		w.showLive(status)
		if err := wait.Sleep(ctx, w.d.poll()); err != nil {
			return nil, w.d.wrap(ctx, w.stack, status, err)
		}
	}
}

// terminalStack reports whether a stack status ends an operation.
func terminalStack(s string) bool {
	return !strings.HasSuffix(s, "_IN_PROGRESS") && (strings.HasSuffix(s, "_COMPLETE") || strings.HasSuffix(s, "_FAILED"))
}

func succeeded(s types.StackStatus) bool {
	switch s {
	case types.StackStatusCreateComplete, types.StackStatusUpdateComplete, types.StackStatusImportComplete, types.StackStatusDeleteComplete:
		return true
	}
	return false
}

// failure prints the first failed resource and the rollback outcome, and
// returns them as a FailedError.
func (w *watcher) failure(st *types.Stack) error {
	fe := &FailedError{Stack: w.stack, Status: string(st.StackStatus), Reason: aws.ToString(st.StackStatusReason)}
	for _, e := range w.events {
		reason := aws.ToString(e.ResourceStatusReason)
		if !strings.HasSuffix(string(e.ResourceStatus), "_FAILED") || aws.ToString(e.ResourceType) == stackType ||
			strings.Contains(reason, "cancelled") {
			continue
		}
		fe.Resource = fmt.Sprintf("%s (%s)", aws.ToString(e.LogicalResourceId), aws.ToString(e.ResourceType))
		fe.Reason = reason
		break
	}
	what := fe.Resource
	if what == "" {
		what = "the stack"
	}
	// DeletionPolicy Retain holds on a rollback too, so a failed create can
	// leave resources behind outside any stack (DELETE_SKIPPED events).
	// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
	fe.Retained = retained(w.events)
	w.d.printf("\nFailed: %s: %s\n", what, fe.Reason)
	w.d.printf("%s\n", outcome(st.StackStatus, len(fe.Retained) > 0))
	if len(fe.Retained) > 0 {
		PrintRetained(w.d.Out, fe.Retained)
	}
	return fe
}

// outcome explains where a failed operation left the stack; kept says
// whether the rollback retained resources (listed after it).
func outcome(s types.StackStatus, kept bool) string {
	switch s {
	case types.StackStatusRollbackComplete:
		if kept {
			return "Rolled back: ROLLBACK_COMPLETE. The rollback kept the resources below; they remain after the next deploy deletes this stack and starts over, and they may cost money:"
		}
		return "Rolled back: ROLLBACK_COMPLETE. The first deploy created nothing that remains; the next deploy deletes this empty stack and starts over."
	case types.StackStatusUpdateRollbackComplete:
		if kept {
			return "Rolled back: UPDATE_ROLLBACK_COMPLETE. The previous version is still running. The rollback kept these resources the update had created; they may cost money:"
		}
		return "Rolled back: UPDATE_ROLLBACK_COMPLETE. The previous version is still running."
	case types.StackStatusRollbackFailed, types.StackStatusUpdateRollbackFailed:
		msg := fmt.Sprintf("Rollback FAILED: %s. Fix the resource above, then continue the rollback in the CloudFormation console (or aws cloudformation continue-update-rollback).", s)
		if kept {
			msg += " The rollback kept these resources:"
		}
		return msg
	case types.StackStatusDeleteFailed:
		msg := "Delete FAILED: DELETE_FAILED. Fix or empty the resource above, then run destroy again."
		if kept {
			msg += " Kept so far:"
		}
		return msg
	}
	if kept {
		return fmt.Sprintf("Stack status: %s (no rollback). These resources were kept and may cost money:", s)
	}
	return fmt.Sprintf("Stack status: %s (no rollback).", s)
}
