package leak

import (
	"net/netip"
	"sync"
	"time"

	"github.com/tokend/tokend/internal/evict"
)

// maxAddresses bounds the addresses the limiter tracks.
const maxAddresses = 1 << 16

// limiter counts reports per client address in fixed windows. It holds
// at most max addresses: when full, it drops the addresses whose window
// has ended, then arbitrary ones (Go's map order is random), so a flood
// from many addresses costs bounded memory and at worst lets an address
// start a new window early.
type limiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	max    int
	m      map[netip.Prefix]*count
}

type count struct {
	n     int
	start time.Time
}

func newLimiter(limit int, window time.Duration, max int) *limiter {
	return &limiter{limit: limit, window: window, max: max, m: make(map[netip.Prefix]*count)}
}

// take counts one report from ip at now. It returns 0 if the report is
// allowed, or how long until the address's window ends.
func (l *limiter) take(ip string, now time.Time) time.Duration {
	k := addrKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.m[k]
	if c == nil || !now.Before(c.start.Add(l.window)) {
		if c == nil && len(l.m) >= l.max {
			// Ended windows go first.
			l.m = evict.MakeRoom(l.m, l.max, func(e *count) bool { return !now.Before(e.start.Add(l.window)) })
		}
		c = &count{start: now}
		l.m[k] = c
	}
	if c.n >= l.limit {
		return max(time.Second, c.start.Add(l.window).Sub(now))
	}
	c.n++
	return 0
}

// len returns the number of addresses tracked.
func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// addrKey is the address an IPv4 client is counted by, and the /64 of an
// IPv6 one (one host usually holds a whole /64). An unparseable address
// (none behind a misconfigured proxy) is counted as one.
func addrKey(ip string) netip.Prefix {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Prefix{}
	}
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}
