package links

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// rateLimiter allows each client n events per period with bursts of up to
// n, as a GCRA (generic cell rate algorithm, a token bucket that stores one
// time per client): a client's "theoretical arrival time" tat advances by
// period/n per event, and an event is refused while tat is more than
// period - period/n ahead of now.
//
// Memory is bounded: at most max clients are tracked. A client whose tat
// has passed is back to a full budget and is forgotten when room is
// needed. When the table is full of clients still within their period,
// new clients share one overflow budget: a flood from many addresses then
// slows creates for new clients instead of growing memory.
type rateLimiter struct {
	interval time.Duration // period / n; 0 = no limit
	burst    time.Duration // period - interval: how far ahead tat may run
	max      int

	mu        sync.Mutex
	tat       map[netip.Addr]time.Time
	overflow  time.Time
	lastSweep time.Time
}

func newRateLimiter(n int, period time.Duration, max int) *rateLimiter {
	if n <= 0 {
		return &rateLimiter{}
	}
	iv := period / time.Duration(n)
	return &rateLimiter{interval: iv, burst: period - iv, max: max, tat: make(map[netip.Addr]time.Time)}
}

// allow records an event of client at now. When refused it returns false
// and how long until the next event would be allowed.
func (l *rateLimiter) allow(client netip.Addr, now time.Time) (bool, time.Duration) {
	if l.interval == 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	tat, known := l.tat[client]
	if !known && len(l.tat) >= l.max {
		l.sweep(now)
		if len(l.tat) >= l.max {
			return l.check(&l.overflow, now)
		}
	}
	ok, wait := l.check(&tat, now)
	if ok {
		l.tat[client] = tat
	}
	return ok, wait
}

// check applies the GCRA to one stored time.
func (l *rateLimiter) check(tat *time.Time, now time.Time) (bool, time.Duration) {
	t := *tat
	if t.Before(now) {
		t = now
	}
	if ahead := t.Sub(now); ahead > l.burst {
		return false, ahead - l.burst
	}
	*tat = t.Add(l.interval)
	return true, 0
}

// sweep forgets clients whose budget is full again. It runs only when the
// table is full, at most once per interval, so a flood of new addresses
// costs one scan per interval, not one per request.
func (l *rateLimiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < l.interval {
		return
	}
	l.lastSweep = now
	for k, t := range l.tat {
		if !t.After(now) {
			delete(l.tat, k)
		}
	}
}

// clients is how many clients are tracked, for tests.
func (l *rateLimiter) clients() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tat)
}

// clientAddr is the address a rate limit applies to. With hops == 0 it is
// the connection's peer. Behind proxies, each proxy appends the address of
// the peer that connected to it to X-Forwarded-For, so the right-most
// entry is written by the last proxy (the ingress, which the security
// group lets alone reach the task) and is trustworthy; everything to its
// left came from the client or from proxies we do not control and can be
// forged. With hops == n the client is the n-th entry from the right.
// The Application Load Balancer appends by default
// (routing.http.xff_header_processing.mode = append: "the load balancer
// appends the IP address of the client to the existing header", see
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html);
// an entry may carry a port (routing.http.xff_client_port.enabled). An
// HTTP API adds X-Forwarded-For itself and lets no parameter mapping touch
// it (a reserved header, see "Reserved headers" in
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-parameter-mapping.html):
// whether it appends or replaces, the right-most entry is the one it wrote.
//
// IPv6 clients are keyed by their /64, the block one host usually holds.
// ok is false when the address cannot be read (a proxy that did not add a
// header, or a malformed one): the caller then uses the connection, so the
// request still counts against some budget.
func clientAddr(r *http.Request, hops int) (netip.Addr, bool) {
	if hops > 0 {
		if a, ok := forwardedFor(r.Header.Values("X-Forwarded-For"), hops); ok {
			return keyOf(a), true
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return keyOf(a), true
}

// forwardedFor returns the hops-th entry from the right of the
// X-Forwarded-For header lines (several lines are one list, in order).
func forwardedFor(lines []string, hops int) (netip.Addr, bool) {
	for i := len(lines) - 1; i >= 0; i-- {
		line := lines[i]
		for line != "" {
			var entry string
			if c := strings.LastIndexByte(line, ','); c >= 0 {
				entry, line = line[c+1:], line[:c]
			} else {
				entry, line = line, ""
			}
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			hops--
			if hops > 0 {
				continue
			}
			return parseForwardedEntry(entry)
		}
	}
	return netip.Addr{}, false
}

// parseForwardedEntry reads "1.2.3.4", "1.2.3.4:5678", "2001:db8::1" or
// "[2001:db8::1]:5678".
func parseForwardedEntry(e string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(e); err == nil {
		return a, true
	}
	if ap, err := netip.ParseAddrPort(e); err == nil {
		return ap.Addr(), true
	}
	return netip.Addr{}, false
}

// keyOf maps an address to its rate-limit key.
func keyOf(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		p, err := a.WithZone("").Prefix(64)
		if err == nil {
			return p.Addr()
		}
	}
	return a
}
