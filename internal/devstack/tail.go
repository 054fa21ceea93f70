package devstack

import (
	"bytes"
	"sync"
)

// maxTailLine bounds one kept line: a report shows lines, not a dump.
const maxTailLine = 2000

// lineTail keeps the last max lines written to it (a line longer than
// maxTailLine is cut), so a report can show how an app ended.
type lineTail struct {
	max     int
	mu      sync.Mutex
	kept    []string
	partial []byte // the line being written, until its newline
}

func (t *lineTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.grow(p)
			break
		}
		t.grow(p[:i])
		t.push(string(bytes.TrimSuffix(t.partial, []byte("\r"))))
		t.partial = t.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}

// grow adds b to the current line, up to maxTailLine.
func (t *lineTail) grow(b []byte) {
	if room := maxTailLine - len(t.partial); room > 0 {
		t.partial = append(t.partial, b[:min(len(b), room)]...)
	}
}

func (t *lineTail) push(line string) {
	t.kept = append(t.kept, line)
	if len(t.kept) > t.max {
		t.kept = t.kept[len(t.kept)-t.max:]
	}
}

// lines are the kept lines, and the last one if it has no newline yet.
func (t *lineTail) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.kept...)
	if len(t.partial) > 0 {
		out = append(out, string(t.partial))
		if len(out) > t.max {
			out = out[1:]
		}
	}
	return out
}
