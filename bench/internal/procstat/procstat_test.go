package procstat

import (
	"os"
	"testing"
	"time"
)

// TestOwnProcess reads this test process: it has spent some CPU getting
// here and holds at least its heap resident.
func TestOwnProcess(t *testing.T) {
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) { // burn a little CPU so the count moves
	}
	cpu, err := CPU(os.Getpid())
	if err != nil || cpu <= 0 {
		t.Fatalf("CPU = %v, %v; want a positive time", cpu, err)
	}
	rss, err := PeakRSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Fatalf("PeakRSS = %d, %v; want at least 1 MiB", rss, err)
	}
}
