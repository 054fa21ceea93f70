// Package testutil holds small helpers that the tests of several packages
// share. It is imported only by tests and test-support packages.
package testutil

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
)

// Buffer is a bytes.Buffer safe for a writer on another goroutine (a
// logger, a child process, a command running in the background) while the
// test reads it. Every write also wakes WaitFor, so a test waits for output
// instead of polling on a timer. The zero value is ready to use.
type Buffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	wrote chan struct{} // capacity 1: "something was written since you last looked"
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.b.Write(p)
	select {
	case b.signal() <- struct{}{}:
	default: // a wake-up is already pending
	}
	return n, err
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// WaitFor blocks until the output contains s, or returns an error quoting
// the output so far when ctx ends first.
func (b *Buffer) WaitFor(ctx context.Context, s string) error {
	b.mu.Lock()
	wrote := b.signal()
	b.mu.Unlock()
	for !strings.Contains(b.String(), s) {
		select {
		case <-wrote:
		case <-ctx.Done():
			return fmt.Errorf("output never contained %q (%v):\n%s", s, ctx.Err(), b.String())
		}
	}
	return nil
}

// signal returns the wake-up channel, making it on first use; b.mu is held.
func (b *Buffer) signal() chan struct{} {
	if b.wrote == nil {
		b.wrote = make(chan struct{}, 1)
	}
	return b.wrote
}
