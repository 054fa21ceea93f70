// Package wait is the one way lowfare pauses: for a duration, cut short
// when the context ends, so every poll and back-off stops with the command.
package wait

import (
	"context"
	"time"
)

// Sleep waits for d, or until ctx is done, and then returns ctx's error. A
// d of zero or less returns at once (with ctx's error, if it is done).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
