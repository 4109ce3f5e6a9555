package server

import (
	"net/http"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/tokenauth"
)

// writeRateLimits writes a verification's limits with tokenauth's writer,
// so that the three ways of protecting an API answer the same headers
// (X-RateLimit-*, RateLimit-Policy, RateLimit), and returns them in wire
// form.
func writeRateLimits(h http.Header, limits []ratelimit.State, now time.Time) []api.RateLimitState {
	if len(limits) == 0 {
		return nil
	}
	out := make([]api.RateLimitState, len(limits))
	for i, l := range limits {
		out[i] = wireLimit(l)
	}
	tokenauth.WriteRateLimitHeaders(h, out, now)
	return out
}

// wireLimit is a limit's state as /v1/verify and /v1/authz report it.
func wireLimit(l ratelimit.State) api.RateLimitState {
	return api.RateLimitState{Name: l.Name, Limit: l.Limit, Remaining: l.Remaining, Reset: l.Reset.UTC(),
		Window: api.Duration(l.Window), RetryAfter: api.Duration(l.RetryAfter)}
}
