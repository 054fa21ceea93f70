package links

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the LogWriter's timer goroutine.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLogWriterOrderAndFlush(t *testing.T) {
	out := &lockedBuffer{}
	lw := NewLogWriter(out)
	lw.Write([]byte("a\n"))
	lw.Write([]byte("b\n"))
	if out.String() != "" {
		t.Errorf("request lines written at once: %q", out.String())
	}
	// A direct line (slog's) goes out now, after what was buffered.
	lw.Direct().Write([]byte("error\n"))
	if got := out.String(); got != "a\nb\nerror\n" || out.writes != 2 {
		t.Errorf("after a direct write: %q in %d writes, want buffered lines first, in 2 writes", got, out.writes)
	}
	lw.Write([]byte("c\n"))
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	lw.Write([]byte("after close\n"))
	if got := out.String(); got != "a\nb\nerror\nc\nafter close\n" {
		t.Errorf("after close: %q", got)
	}
}

func TestLogWriterFlushesWhenFull(t *testing.T) {
	out := &lockedBuffer{}
	lw := NewLogWriter(out)
	defer lw.Close()
	line := []byte(strings.Repeat("x", 1023) + "\n")
	for i := 0; i < logBufferBytes/len(line); i++ {
		lw.Write(line)
	}
	if n := len(out.String()); n != logBufferBytes {
		t.Errorf("%d bytes written once %d were buffered, want all of them", n, logBufferBytes)
	}
}

func TestRequestLineIsSlogShapedJSON(t *testing.T) {
	l := requestLine{
		at: time.Date(2026, 12, 1, 9, 5, 7, 42e6, time.UTC), level: "ERROR", method: "GET",
		path: "/a\"b\\c\n\x01\u2028\xff", status: 503, bytes: 12, duration: 1500 * time.Microsecond,
		id: "req-1", err: "table down",
	}
	b := l.appendTo(nil)
	if b[len(b)-1] != '\n' || bytes.Count(b, []byte("\n")) != 1 {
		t.Fatalf("not one line: %q", b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %q: %v", b, err)
	}
	want := map[string]any{
		"time": "2026-12-01T09:05:07.042Z", "level": "ERROR", "msg": "request", "method": "GET",
		"path": "/a\"b\\c\n\x01\u2028\ufffd", "status": 503.0, "bytes": 12.0, "duration_ms": 1.5,
		"request_id": "req-1", "error": "table down",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	if len(m) != len(want) {
		t.Errorf("fields %v", m)
	}
	if bytes.Contains(b, []byte("\u2028")) {
		t.Error("U+2028 not escaped")
	}
}

// FuzzJSONString: appendJSONString always yields JSON that decodes to the
// input with invalid UTF-8 replaced, as encoding/json would write it.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\"back\\slash", "\x00\x1f\x7f", "\xff\xfe", "ünï\u2028\u2029", "\xe2\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q encodes as invalid JSON %q: %v", s, b, err)
		}
		// encoding/json replaces each invalid byte with U+FFFD, as we do.
		var want string
		jb, _ := json.Marshal(s)
		json.Unmarshal(jb, &want)
		if got != want {
			t.Fatalf("%q decodes to %q, want %q", s, got, want)
		}
	})
}

// TestLogWriterConcurrent: lines from many goroutines, buffered and
// direct, all arrive whole, each exactly once.
func TestLogWriterConcurrent(t *testing.T) {
	out := &lockedBuffer{}
	lw := NewLogWriter(out)
	var wg sync.WaitGroup
	const writers, lines = 8, 500
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < lines; i++ {
				line := []byte(strings.Repeat(string(rune('a'+g)), 100) + "\n")
				if i%50 == 0 {
					lw.Direct().Write(line)
				} else {
					lw.Write(line)
				}
			}
		}()
	}
	wg.Wait()
	lw.Close()
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("%d lines, want %d", len(got), writers*lines)
	}
	for _, l := range got {
		if len(l) != 100 || strings.Count(l, l[:1]) != 100 {
			t.Fatalf("torn line %q", l)
		}
	}
}
