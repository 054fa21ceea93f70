package ops

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lowfare/lowfare/internal/testutil"
)

var logsNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func ms(t time.Time) int64 { return t.UnixMilli() }

func TestLogsPrintsAllPages(t *testing.T) {
	w := newWorld(t)
	w.Logs.PageSize = 2
	stream := "links/links/0123456789abcdef0123456789abcdef"
	w.Logs.Put(testGroup, stream, ms(logsNow.Add(-2*time.Hour)), "too old")
	for i, msg := range []string{"GET /a 200", "GET /b 404", "POST /c 201", "GET /d 500\n", "GET /e 200"} {
		w.Logs.Put(testGroup, stream, ms(logsNow.Add(-30*time.Minute+time.Duration(i)*time.Minute)), msg)
	}
	var out bytes.Buffer
	err := Logs(testCtx(t), w.clients.Logs, testGroup, LogOptions{Since: time.Hour, Now: func() time.Time { return logsNow }}, &out)
	if err != nil {
		t.Fatal(err)
	}
	want := "2026-11-25T11:30:00.000Z 01234567 GET /a 200\n" +
		"2026-11-25T11:31:00.000Z 01234567 GET /b 404\n" +
		"2026-11-25T11:32:00.000Z 01234567 POST /c 201\n" +
		"2026-11-25T11:33:00.000Z 01234567 GET /d 500\n" +
		"2026-11-25T11:34:00.000Z 01234567 GET /e 200\n"
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
	out.Reset()
	if err := Logs(testCtx(t), w.clients.Logs, testGroup, LogOptions{Since: time.Hour, Filter: "GET 200", Now: func() time.Time { return logsNow }}, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Count(out.String(), "\n") != 2 || strings.Contains(out.String(), "404") {
		t.Fatalf("filtered output:\n%s", out.String())
	}
}

func TestLogsMissingGroup(t *testing.T) {
	w := newWorld(t)
	err := Logs(testCtx(t), w.clients.Logs, "/lowfare/none/dev", LogOptions{Since: time.Hour}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "/lowfare/none/dev does not exist") {
		t.Fatalf("err = %v", err)
	}
}

func TestShortStream(t *testing.T) {
	for in, want := range map[string]string{
		"links/links/0123456789abcdef":         "01234567",
		"2026/11/25/[$LATEST]0123456789abcdef": "89abcdef",
		"short":                                "short",
	} {
		if got := shortStream(in); got != want {
			t.Errorf("shortStream(%q) = %q, want %q", in, got, want)
		}
	}
}

// waitFor blocks until the output contains s; the test's context bounds it.
func waitFor(ctx context.Context, t *testing.T, w *testutil.Buffer, s string) {
	t.Helper()
	if err := w.WaitFor(ctx, s); err != nil {
		t.Fatal(err)
	}
}

func TestLogsFollowDedupesAndStopsOnCancel(t *testing.T) {
	w := newWorld(t)
	stream := "links/links/aaaaaaaabbbbbbbb"
	ts := ms(time.Now().Add(-time.Minute))
	w.Logs.Put(testGroup, stream, ts, "first")
	w.Logs.Put(testGroup, stream, ts, "same millisecond")

	ctx, cancel := context.WithCancel(testCtx(t))
	out := &testutil.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- Logs(ctx, w.clients.Logs, testGroup, LogOptions{Since: time.Hour, Follow: true, Poll: time.Millisecond}, out)
	}()
	waitFor(testCtx(t), t, out, "same millisecond")
	w.Logs.Put(testGroup, stream, ts, "late arrival, same millisecond")
	w.Logs.Put(testGroup, stream, ts+5, "second")
	waitFor(testCtx(t), t, out, "second")
	// Let several more polls pass over the same events.
	polls := w.Logs.CallCount("FilterLogEvents")
	for w.Logs.CallCount("FilterLogEvents") < polls+3 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("follow ended with %v, want nil on cancel", err)
	}
	got := out.String()
	for _, line := range []string{"first", "same millisecond", "late arrival, same millisecond", "second"} {
		if n := strings.Count(got, " aaaaaaaa "+line+"\n"); n != 1 {
			t.Errorf("%q printed %d times:\n%s", line, n, got)
		}
	}
}
