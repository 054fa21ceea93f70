package links

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// LogWriter batches the request log: one line per request is appended to a
// buffer and written out at most LogFlushInterval later (or at once when
// the buffer is full), so a busy task makes a few write(2) calls a second
// instead of one per request. Measured by bench/links.sh, the per-request
// write was about a third of the CPU of a cached redirect.
//
// Lines written through Direct (the slog logger of cmd/links) are not
// delayed: they first flush what is buffered, so the output keeps the order
// in which lines were produced. A crash loses at most one flush interval of
// request lines, never an error logged through slog.
type LogWriter struct {
	out      io.Writer
	interval time.Duration

	wmu sync.Mutex // held while writing to out: one writer at a time, in order

	mu     sync.Mutex // guards the fields below
	buf    []byte
	spare  []byte
	armed  bool // a timed flush is pending
	timer  *time.Timer
	closed bool
}

// LogFlushInterval is how long a request line may wait in a LogWriter.
const LogFlushInterval = 200 * time.Millisecond

// logBufferBytes is the buffered amount that triggers an immediate flush;
// it also bounds memory when out is slow (appenders then wait for the write).
const logBufferBytes = 64 << 10

// NewLogWriter returns a LogWriter on out. Close it to write what is left.
func NewLogWriter(out io.Writer) *LogWriter {
	lw := &LogWriter{out: out, interval: LogFlushInterval}
	lw.timer = time.AfterFunc(time.Hour, lw.timedFlush)
	lw.timer.Stop()
	return lw
}

// Write buffers p, which must be whole lines; it never fails.
func (lw *LogWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	if lw.closed {
		lw.mu.Unlock()
		lw.Direct().Write(p)
		return len(p), nil
	}
	lw.buf = append(lw.buf, p...)
	full := len(lw.buf) >= logBufferBytes
	if !full && !lw.armed {
		lw.armed = true
		lw.timer.Reset(lw.interval)
	}
	lw.mu.Unlock()
	if full {
		lw.Flush()
	}
	return len(p), nil
}

// Flush writes what is buffered.
func (lw *LogWriter) Flush() error {
	lw.wmu.Lock()
	defer lw.wmu.Unlock()
	return lw.flushLocked()
}

// flushLocked writes the buffer; the caller holds wmu, so swapping the
// buffer and writing it cannot be overtaken by another flush.
func (lw *LogWriter) flushLocked() error {
	lw.mu.Lock()
	b := lw.buf
	lw.buf, lw.spare = lw.spare[:0], nil
	lw.armed = false
	lw.mu.Unlock()
	if len(b) == 0 {
		lw.putSpare(b)
		return nil
	}
	_, err := lw.out.Write(b)
	lw.putSpare(b)
	return err
}

func (lw *LogWriter) putSpare(b []byte) {
	if cap(b) > 4*logBufferBytes {
		return // grown by a slow writer: let it go
	}
	lw.mu.Lock()
	if lw.spare == nil {
		lw.spare = b[:0]
	}
	lw.mu.Unlock()
}

func (lw *LogWriter) timedFlush() { lw.Flush() }

// Close flushes and stops buffering: later writes go straight out.
func (lw *LogWriter) Close() error {
	lw.mu.Lock()
	lw.closed = true
	lw.timer.Stop()
	lw.mu.Unlock()
	return lw.Flush()
}

// Direct returns a writer that is not buffered: each write first flushes
// what is buffered, then writes, so lines stay in order.
func (lw *LogWriter) Direct() io.Writer { return directWriter{lw} }

type directWriter struct{ lw *LogWriter }

func (d directWriter) Write(p []byte) (int, error) {
	d.lw.wmu.Lock()
	defer d.lw.wmu.Unlock()
	if err := d.lw.flushLocked(); err != nil {
		return 0, err
	}
	return d.lw.out.Write(p)
}

// requestLine is one request's log line, in the shape slog's JSON handler
// writes (time, level, msg first) so one log query reads both.
type requestLine struct {
	at       time.Time
	level    string // "INFO" or "ERROR"
	method   string
	path     string
	status   int
	bytes    int64
	duration time.Duration
	id       string
	err      string
}

// appendTo encodes the line by hand into b: no reflection and no
// allocation beyond b's growth.
func (l *requestLine) appendTo(b []byte) []byte {
	b = append(b, `{"time":"`...)
	b = appendTimeUTC(b, l.at)
	b = append(b, `","level":"`...)
	b = append(b, l.level...)
	b = append(b, `","msg":"request","method":`...)
	b = appendJSONString(b, l.method)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, l.path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(l.status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, l.bytes, 10)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, float64(l.duration.Microseconds())/1000, 'f', -1, 64)
	b = append(b, `,"request_id":`...)
	b = appendJSONString(b, l.id)
	if l.err != "" {
		b = append(b, `,"error":`...)
		b = appendJSONString(b, l.err)
	}
	return append(b, "}\n"...)
}

// attrs are the line's fields for a slog logger (Config.RequestLog nil):
// the same fields as appendTo writes, after slog's time, level and msg.
func (l *requestLine) attrs() []slog.Attr {
	a := []slog.Attr{
		slog.String("method", l.method),
		slog.String("path", l.path),
		slog.Int("status", l.status),
		slog.Int64("bytes", l.bytes),
		slog.Float64("duration_ms", float64(l.duration.Microseconds())/1000),
		slog.String("request_id", l.id),
	}
	if l.err != "" {
		a = append(a, slog.String("error", l.err))
	}
	return a
}

// appendTimeUTC writes t as 2006-01-02T15:04:05.000Z.
func appendTimeUTC(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/1e6, 3)
	return append(b, 'Z')
}

// appendDigits writes n >= 0 zero-padded to width digits.
func appendDigits(b []byte, n, width int) []byte {
	var d [8]byte
	i := len(d)
	for n > 0 || width > 0 {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		width--
		if i == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string. Control characters, quotes
// and backslashes are escaped, invalid UTF-8 becomes U+FFFD (as slog and
// encoding/json do), and so do U+2028 and U+2029, which some JavaScript
// log viewers take for line ends.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
