package data

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

// fakeClock advances only when something sleeps on it, and records the sleeps.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now = c.now.Add(d)
		c.slept = append(c.slept, d)
	}
	return ctx.Err()
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) total() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var sum time.Duration
	for _, d := range c.slept {
		sum += d
	}
	return sum
}

func TestLimiterPacesToRate(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	l := NewLimiter(20, clock)
	// The bucket starts empty (a short export must not average above the
	// rate it announced): 100 units in pages of 5 take 100/20 = 5 s.
	for range 20 {
		if err := l.Charge(ctx, 5); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := clock.total(), 5*time.Second; got != want {
		t.Fatalf("waited %s in total for 100 units at 20/s, want %s", got, want)
	}
	if len(clock.slept) != 20 {
		t.Fatalf("%d of 20 charges waited, want 20 (no burst at the start)", len(clock.slept))
	}
}

func TestLimiterRefillsWhileIdle(t *testing.T) {
	clock := newFakeClock()
	l := NewLimiter(10, clock)
	_ = l.Charge(context.Background(), 10) // an empty bucket: waits 1 s
	clock.advance(time.Hour)               // idle: refills, but only up to one second's worth
	_ = l.Charge(context.Background(), 10)
	if got := clock.total(); got != time.Second {
		t.Fatalf("waited %s after an idle hour, want only the first charge's 1s", got)
	}
	_ = l.Charge(context.Background(), 10)
	if got := clock.total(); got != 2*time.Second {
		t.Fatalf("waited %s once the refilled burst was spent, want 1s (the burst must not grow past one second)", got)
	}
}

func TestLimiterBigChargeWaitsItsCost(t *testing.T) {
	clock := newFakeClock()
	l := NewLimiter(4, clock)
	_ = l.Charge(context.Background(), 4+10) // a page that cost 3.5 s of rate
	if got, want := clock.total(), 3500*time.Millisecond; got != want {
		t.Fatalf("waited %s, want %s", got, want)
	}
}

func TestLimiterUnlimited(t *testing.T) {
	clock := newFakeClock()
	for _, l := range []*Limiter{nil, NewLimiter(0, clock)} {
		for range 100 {
			if err := l.Charge(context.Background(), 1000); err != nil {
				t.Fatal(err)
			}
		}
	}
	if clock.total() != 0 {
		t.Fatalf("an unlimited limiter waited %s", clock.total())
	}
}

func TestLimiterStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l := NewLimiter(1, newFakeClock())
	if err := l.Charge(ctx, 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("Charge on a cancelled context: %v", err)
	}
}

func TestCapacityUnits(t *testing.T) {
	for _, tt := range []struct {
		bytes       int
		read, write float64
	}{
		{0, 0.5, 1}, {1, 0.5, 1}, {1024, 0.5, 1}, {1025, 0.5, 2}, {4096, 0.5, 4}, {4097, 1, 5}, {400 * 1024, 50, 400},
	} {
		if got := readUnits(tt.bytes); got != tt.read {
			t.Errorf("readUnits(%d) = %v, want %v", tt.bytes, got, tt.read)
		}
		if got := writeUnits(tt.bytes); got != tt.write {
			t.Errorf("writeUnits(%d) = %v, want %v", tt.bytes, got, tt.write)
		}
	}
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Base: 100 * time.Millisecond, Max: time.Second, Jitter: func() float64 { return 1 }}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := b.Delay(i); got != w*time.Millisecond && !(w == 1000 && got == time.Second) {
			t.Errorf("Delay(%d) = %s, want %s", i, got, w*time.Millisecond)
		}
	}
	b.Jitter = func() float64 { return 0 }
	if got := b.Delay(3); got != 400*time.Millisecond {
		t.Errorf("Delay(3) with no jitter = %s, want half of 800ms", got)
	}
}

func TestRetryThrottled(t *testing.T) {
	throttle := &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Message: "slow down"}
	clock := newFakeClock()
	b := Backoff{Base: time.Second, Max: 4 * time.Second, Attempts: 4, Clock: clock, Jitter: func() float64 { return 1 }}

	calls := 0
	err := b.retry(context.Background(), "test", func(context.Context) error {
		calls++
		if calls < 3 {
			return throttle
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("retry = %v after %d calls, want success on the third", err, calls)
	}
	if got := clock.total(); got != 3*time.Second {
		t.Fatalf("slept %s, want 1s+2s", got)
	}

	calls = 0
	err = b.retry(context.Background(), "scanning", func(context.Context) error { calls++; return throttle })
	if !errors.Is(err, ErrThrottled) || calls != 4 {
		t.Fatalf("retry = %v after %d calls, want ErrThrottled after 4", err, calls)
	}

	calls = 0
	other := &smithy.GenericAPIError{Code: "ValidationException"}
	err = b.retry(context.Background(), "x", func(context.Context) error { calls++; return other })
	if !errors.Is(err, other) || calls != 1 {
		t.Fatalf("a validation error was retried: %v after %d calls", err, calls)
	}
}
