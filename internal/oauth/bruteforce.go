package oauth

import (
	"crypto/sha256"
	"math"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokend/tokend/internal/evict"
)

// guard is the brute-force protection of client authentication. It
// counts failed authentications in fixed windows, in two tables:
//
//   - per client id, for clients that exist: after limit failures in a
//     window the id is blocked until the window ends, and every
//     authentication as it gets 429 before its credentials are checked,
//     so guessing a client's secret is throttled whether the guesses are
//     right or wrong. Anyone who knows a client id can thereby slow that
//     client down while they keep failing; secrets are 256 bits, so the
//     throttle only bounds noise.
//   - per client address (an IPv6 address by its /64), with ten times
//     the limit: once an address is over it, its failures are answered
//     429 instead of 401. Its right credentials still pass, so clients
//     behind one proxy address are never locked out by the failures of
//     other client ids.
//
// Unknown client ids count against the address only, so the client
// table holds no more ids than there are clients. Both tables are keyed
// by a 16-byte hash of what they count and hold at most maxEntries
// entries each: when one is full, ended windows are dropped, and then
// arbitrary entries, so memory stays bounded whatever the number of
// addresses a flood comes from.
type guard struct {
	clients *failures
	addrs   *failures
}

// maxGuardEntries bounds each table of a guard.
const maxGuardEntries = 1 << 16

func newGuard(limit int, window time.Duration, maxEntries int) *guard {
	if limit <= 0 {
		limit = 20
	}
	if window <= 0 {
		window = time.Minute
	}
	return &guard{
		clients: newFailures(limit, window, maxEntries),
		addrs:   newFailures(10*limit, window, maxEntries),
	}
}

// checkClient returns a 429 *Error if client id is blocked at now.
func (g *guard) checkClient(id string, now time.Time) *Error {
	if !g.clients.full.Load() {
		return nil // no client is at the limit: nothing to hash or look up
	}
	return g.clients.blocked(hashKey(id), now)
}

// fail records one failed authentication from ip at now, of client id if
// it exists ("" otherwise). It returns a 429 *Error if the address had
// already failed limit times, nil if the failure is an ordinary 401.
func (g *guard) fail(id, ip string, now time.Time) *Error {
	if id != "" {
		g.clients.add(hashKey(id), now)
	}
	k := addrKey(ip)
	e := g.addrs.blocked(k, now)
	g.addrs.add(k, now)
	return e
}

// sweep drops the entries whose window ended before now.
func (g *guard) sweep(now time.Time) {
	g.clients.sweep(now)
	g.addrs.sweep(now)
}

// len returns the number of entries held, for tests and benchmarks.
func (g *guard) len() int { return g.clients.len() + g.addrs.len() }

func hashKey(s string) [16]byte {
	h := sha256.Sum256([]byte(s))
	return [16]byte(h[:16])
}

// addrKey keys an address: IPv4 as is, IPv6 by its /64, which one host
// typically holds whole; anything else by its text.
func addrKey(ip string) [16]byte {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return hashKey("?" + ip)
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		a = p.Addr()
	}
	return hashKey(a.String())
}

// failures counts failures per key in fixed windows of length window.
type failures struct {
	limit  int
	window time.Duration
	max    int
	mu     sync.Mutex
	m      map[[16]byte]tally
	// full is set once a key reaches limit, and cleared by a sweep that
	// keeps no such key: while it is clear, no key is blocked.
	full atomic.Bool
}

// tally is one key's failures in the window that started at start.
type tally struct {
	start time.Time
	n     int
}

func newFailures(limit int, window time.Duration, max int) *failures {
	return &failures{limit: limit, window: window, max: max, m: make(map[[16]byte]tally)}
}

func (f *failures) add(k [16]byte, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.m[k]
	if !ok && len(f.m) >= f.max {
		// Ended windows go first. full may stay set until the next
		// sweep: that costs a lookup, never a wrong answer.
		f.m = evict.MakeRoom(f.m, f.max, func(e tally) bool { return !now.Before(e.start.Add(f.window)) })
	}
	if !ok || !now.Before(t.start.Add(f.window)) {
		t = tally{start: now}
	}
	t.n++
	f.m[k] = t
	if t.n >= f.limit {
		f.full.Store(true)
	}
}

// blocked returns a 429 *Error once k has failed limit times in its
// window: the attempt after the limit-th failure is the first refused.
func (f *failures) blocked(k [16]byte, now time.Time) *Error {
	f.mu.Lock()
	t, ok := f.m[k]
	f.mu.Unlock()
	end := t.start.Add(f.window)
	if !ok || t.n < f.limit || !now.Before(end) {
		return nil
	}
	secs := time.Duration(math.Ceil(end.Sub(now).Seconds())) * time.Second
	return &Error{Code: ErrTemporarilyUnavailable, Status: 429, RetryAfter: secs,
		Description: "too many failed client authentications; retry later"}
}

func (f *failures) sweep(now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sweepLocked(now)
}

// sweepLocked keeps the entries whose window has not ended, in a new
// map: a map does not shrink, and one that keeps deleting and adding
// keys grows, so copying is what keeps its memory bounded.
func (f *failures) sweepLocked(now time.Time) {
	m := make(map[[16]byte]tally, len(f.m))
	full := false
	for k, t := range f.m {
		if now.Before(t.start.Add(f.window)) {
			m[k] = t
			full = full || t.n >= f.limit
		}
	}
	f.m = m
	f.full.Store(full)
}

func (f *failures) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m)
}
