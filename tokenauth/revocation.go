package tokenauth

import (
	"context"
	"sync"
	"time"

	"github.com/tokend/tokend/api"
)

// revocations remembers, per jti, when tokend was last asked about a JWT
// and what it answered, so that it is asked at most once per
// RevocationCheckInterval per token. It holds at most size entries.
type revocations struct {
	flights group[verifyResult]

	mu   sync.Mutex
	m    map[string]revocation
	size int
}

type revocation struct {
	checked time.Time
	refusal *Error // nil: the token was VALID
}

func newRevocations(size int) *revocations {
	return &revocations{m: make(map[string]revocation), size: size}
}

// check asks tokend about a JWT that passed every local check, unless it
// was asked within the interval, and returns its refusal if any. A
// refusal is a copy, since the caller adds the route's scopes to it.
func (rv *revocations) check(ctx context.Context, a *Auth, token, jti, audience string) *Error {
	now := a.now()
	rv.mu.Lock()
	last, ok := rv.m[jti]
	rv.mu.Unlock()
	if !ok || now.Sub(last.checked) >= a.cfg.RevocationCheckInterval {
		r, _ := rv.flights.do(jti, func() verifyResult {
			res, err := a.ask(ctx, api.VerifyRequest{Token: token, Audience: audience})
			return verifyResult{res, err}
		})
		if r.err != nil {
			return unavailable(r.err)
		}
		_, refusal := verdict(r.res)
		last = revocation{checked: now, refusal: refusal}
		rv.remember(jti, last, now, a.cfg.RevocationCheckInterval)
	}
	if last.refusal == nil {
		return nil
	}
	e := *last.refusal
	return &e
}

// remember stores an answer, making room first when the map is full:
// answers older than the interval go, then arbitrary ones.
func (rv *revocations) remember(jti string, r revocation, now time.Time, interval time.Duration) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if _, ok := rv.m[jti]; !ok && len(rv.m) >= rv.size {
		n := 0
		for k, old := range rv.m {
			if now.Sub(old.checked) >= interval || n == 0 {
				delete(rv.m, k)
				n++
			}
			if n >= 16 {
				break
			}
		}
	}
	rv.m[jti] = r
}
