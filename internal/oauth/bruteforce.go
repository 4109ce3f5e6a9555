package oauth

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/tokend/tokend/internal/ratelimit"
)

// guard is the brute-force protection of client authentication. Each
// failed authentication consumes one unit of a GCRA limit of max failures
// per window, for the client id it claimed and for the IP address it came
// from. When a failure is refused by a limit, that client id or address
// is blocked until the limit admits again; a blocked one is answered 429
// before its credentials are checked, so guessing is throttled whether
// the guesses are right or wrong. Successes cost nothing.
//
// Blocking by client id lets anyone who knows a client id slow that
// client's authentications down while they keep failing; the per-client
// limit is therefore twice the per-address one.
type guard struct {
	lim     *ratelimit.Memory
	byIP    []ratelimit.Limit
	byID    []ratelimit.Limit
	mu      sync.Mutex
	blocked map[string]time.Time // "ip:…" or "client:…" → blocked until
}

func newGuard(lim *ratelimit.Memory, max int, window time.Duration) *guard {
	if max <= 0 {
		max = 10
	}
	if window <= 0 {
		window = time.Minute
	}
	return &guard{
		lim:     lim,
		byIP:    []ratelimit.Limit{{Name: "auth_failures", Limit: int64(max), Window: window}},
		byID:    []ratelimit.Limit{{Name: "auth_failures", Limit: int64(2 * max), Window: window}},
		blocked: map[string]time.Time{},
	}
}

// check returns a 429 *Error if clientID or ip is blocked at now.
func (g *guard) check(clientID, ip string, now time.Time) *Error {
	g.mu.Lock()
	defer g.mu.Unlock()
	wait := time.Duration(0)
	for _, k := range []string{"client:" + clientID, "ip:" + ip} {
		if until, ok := g.blocked[k]; ok {
			if d := until.Sub(now); d > wait {
				wait = d
			}
		}
	}
	if wait <= 0 {
		return nil
	}
	secs := time.Duration(math.Ceil(wait.Seconds())) * time.Second
	return &Error{Code: ErrTemporarilyUnavailable, Status: 429, RetryAfter: secs,
		Description: "too many failed client authentications; retry later"}
}

// fail records one failed authentication of clientID from ip at now.
func (g *guard) fail(clientID, ip string, now time.Time) {
	for _, o := range []struct {
		key    string
		limits []ratelimit.Limit
	}{{"client:" + clientID, g.byID}, {"ip:" + ip, g.byIP}} {
		if o.key == "client:" {
			continue
		}
		st, ok, _ := g.lim.Take(context.Background(), o.key, o.limits, now, nil)
		if ok || len(st) == 0 {
			continue
		}
		g.mu.Lock()
		g.blocked[o.key] = now.Add(st[0].RetryAfter)
		g.mu.Unlock()
	}
}

// sweep forgets drained limits and ended blocks.
func (g *guard) sweep(now time.Time) {
	g.lim.Sweep(now)
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, until := range g.blocked {
		if !until.After(now) {
			delete(g.blocked, k)
		}
	}
}
