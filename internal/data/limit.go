package data

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/lowfare/lowfare/internal/wait"
)

// Clock is time as the rate limiter and the retries see it. Tests pass a
// fake one whose Sleep advances Now, so the pacing is checked exactly and
// without waiting.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits for d or until ctx is done.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error { return wait.Sleep(ctx, d) }

// Limiter paces capacity units (RCU or WCU) to a rate per second, shared
// by every goroutine of one export or import. It works on debt: a caller
// charges what a request consumed (or will consume) and then waits until
// the bucket is back to zero, so a page whose size is known only after it
// was read is still paid for before the next request goes out. Burst is
// one second's worth: after an idle pause the next request is not held
// (the bucket starts empty, so a run never averages above the rate).
type Limiter struct {
	rate  float64 // units per second; <= 0: unlimited
	clock Clock

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// NewLimiter paces to rate units per second; rate <= 0 never waits.
func NewLimiter(rate float64, clock Clock) *Limiter {
	if clock == nil {
		clock = RealClock{}
	}
	// The bucket starts empty, at the first charge (not here: time between
	// creating the limiter and the run starting would otherwise fill it):
	// a run that reads less than a second's worth still takes its
	// units/rate seconds, so its average rate, which progress reports,
	// never exceeds the announced one.
	return &Limiter{rate: rate, clock: clock}
}

// Rate is the configured rate in units per second (0: unlimited).
func (l *Limiter) Rate() float64 {
	if l == nil || l.rate <= 0 {
		return 0
	}
	return l.rate
}

// Charge takes units from the bucket and waits until the debt is paid.
// A nil Limiter never waits.
func (l *Limiter) Charge(ctx context.Context, units float64) error {
	if l == nil || l.rate <= 0 {
		return ctx.Err()
	}
	l.mu.Lock()
	now := l.clock.Now()
	if l.last.IsZero() {
		l.last = now
	}
	if elapsed := now.Sub(l.last).Seconds(); elapsed > 0 {
		l.tokens = math.Min(l.rate, l.tokens+elapsed*l.rate)
	}
	l.last = now
	l.tokens -= units
	var wait time.Duration
	if l.tokens < 0 {
		wait = time.Duration(-l.tokens / l.rate * float64(time.Second))
	}
	l.mu.Unlock()
	return l.clock.Sleep(ctx, wait)
}

// readUnits is what an eventually consistent read of size bytes costs:
// 4 KB per unit, halved.
func readUnits(bytes int) float64 { return math.Ceil(float64(max(bytes, 1))/4096) / 2 }

// writeUnits is what writing an item of size bytes costs: 1 KB per unit.
func writeUnits(bytes int) float64 { return math.Ceil(float64(max(bytes, 1)) / 1024) }

// ItemWriteUnits is what writing item costs in write capacity units: one
// per started KB of its size (ItemSize). A migration that writes items
// with index keys charges it once more per index.
func ItemWriteUnits(item map[string]types.AttributeValue) float64 { return writeUnits(ItemSize(item)) }

// Backoff is the retry policy for throttled calls and unprocessed items:
// exponential from Base to Max with full jitter, at most Attempts tries.
type Backoff struct {
	Base     time.Duration
	Max      time.Duration
	Attempts int
	Clock    Clock
	// Jitter returns a number in [0,1); nil is math/rand. Tests pass a
	// constant.
	Jitter func() float64
}

// DefaultBackoff gives a throttled table about two minutes to recover.
func DefaultBackoff() Backoff {
	return Backoff{Base: 100 * time.Millisecond, Max: 10 * time.Second, Attempts: 15}
}

func (b Backoff) withDefaults() Backoff {
	d := DefaultBackoff()
	if b.Base <= 0 {
		b.Base = d.Base
	}
	if b.Max <= 0 {
		b.Max = d.Max
	}
	if b.Attempts <= 0 {
		b.Attempts = d.Attempts
	}
	if b.Clock == nil {
		b.Clock = RealClock{}
	}
	if b.Jitter == nil {
		b.Jitter = rand.Float64
	}
	return b
}

// Delay is the pause before retry number attempt (0-based): a random
// fraction (at least half) of min(Max, Base * 2^attempt).
func (b Backoff) Delay(attempt int) time.Duration {
	b = b.withDefaults()
	ceiling := float64(b.Base) * math.Pow(2, float64(min(attempt, 30)))
	ceiling = math.Min(ceiling, float64(b.Max))
	return time.Duration(ceiling * (0.5 + b.Jitter()/2))
}

// ErrThrottled is returned when a call is still throttled after every retry.
var ErrThrottled = errors.New("DynamoDB kept throttling")

// retry runs fn until it succeeds, fails with an error that is not
// throttling, or the attempts run out.
func (b Backoff) retry(ctx context.Context, what string, fn func(context.Context) error) error {
	b = b.withDefaults()
	for attempt := 0; ; attempt++ {
		err := fn(ctx)
		if err == nil || !isThrottle(err) {
			return err
		}
		if attempt+1 >= b.Attempts {
			return &throttledError{what: what, attempts: attempt + 1, err: err}
		}
		if err := b.Clock.Sleep(ctx, b.Delay(attempt)); err != nil {
			return err
		}
	}
}

type throttledError struct {
	what     string
	attempts int
	err      error
}

func (e *throttledError) Error() string {
	return e.what + ": " + ErrThrottled.Error() + " after " + strconv.Itoa(e.attempts) +
		" attempts (lower --rate, or raise the table's capacity): " + e.err.Error()
}
func (e *throttledError) Unwrap() []error { return []error{ErrThrottled, e.err} }

// isThrottle recognises DynamoDB's throttling errors by code, as the
// SDK's own retryer does.
func isThrottle(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ProvisionedThroughputExceededException", "ThrottlingException",
		"RequestLimitExceeded", "Throttling", "LimitExceededException":
		return true
	}
	return false
}
