package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestProgressPlain: off a terminal each step is one line when it starts,
// and a long step adds a line with its elapsed time (driven here through
// show with a clock past progressEvery, not by waiting).
func TestProgressPlain(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, false)
	p.step("go build ./cmd/x (the first build takes minutes)")
	p.detail("1.0 MB of 2.0 MB")
	p.mu.Lock()
	p.show(p.since.Add(progressEvery+time.Second), false)
	p.mu.Unlock()
	p.step("assembling")
	p.stop()
	want := "  go build ./cmd/x (the first build takes minutes)\n  ... go build ./cmd/x: 1.0 MB of 2.0 MB, 6s elapsed\n  assembling\n"
	if out.String() != want {
		t.Errorf("plain output\n%q\nwant\n%q", out.String(), want)
	}
	if strings.Contains(out.String(), "\r") {
		t.Error("plain output rewrites lines")
	}
}

// TestProgressLive: on a terminal the step is printed whole once, then
// redrawn in place in its short form with its elapsed time; the next step
// clears it, and so does stop.
func TestProgressLive(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, true)
	p.step("pushing (slow)")
	p.detail("3.0 MB of 6.0 MB")
	p.step("next")
	p.detail("x")
	p.stop()
	got := out.String()
	if !strings.HasPrefix(got, "  pushing (slow)\n\r\x1b[K  pushing: 3.0 MB of 6.0 MB (0s)") || !strings.Contains(got, "\r\x1b[K  next\n") || !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("live output %q", got)
	}
}
