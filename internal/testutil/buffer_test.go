package testutil

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestBufferConcurrentWritesAndWaitFor(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				fmt.Fprintf(&b, "w%d-%d\n", i, j)
			}
		})
	}
	if err := b.WaitFor(t.Context(), "w7-49\n"); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if got := strings.Count(b.String(), "\n"); got != 400 {
		t.Fatalf("%d lines, want 400", got)
	}
}

func TestBufferWaitForGivesUpWithTheOutput(t *testing.T) {
	var b Buffer
	b.Write([]byte("partial output"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := b.WaitFor(ctx, "never")
	if err == nil || !strings.Contains(err.Error(), "partial output") || !strings.Contains(err.Error(), `"never"`) {
		t.Fatalf("WaitFor on a cancelled context = %v; want an error quoting the output", err)
	}
}
