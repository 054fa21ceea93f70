package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/ops"
)

// With service.idle, sleep and wake say that the wake controller acted and
// how idle goes on, not "holds until you change it".
func TestPrintScaleIdle(t *testing.T) {
	var b bytes.Buffer
	printScale(&b, &ops.ScaleResult{Service: ops.ServiceRef{Service: "links"}, Idle: "idle: the next request wakes it"}, time.Now())
	got := b.String()
	want := "links: 0 desired, bounds 0-0\nDone by the wake controller, which moved the ingress with it. Idle: the next request wakes it.\n"
	if got != want || strings.Contains(got, "Holds until") {
		t.Errorf("got %q, want %q", got, want)
	}
}
