package tokenauth

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/api"
)

// WriteRateLimitHeaders writes a key's rate-limit states, as /v1/verify
// answered them, into h. It writes nothing when limits is empty. The
// middleware calls it on every answer to a limited key; a gateway or a
// handler that verifies tokens itself can call it too.
//
// Two sets of fields are written:
//
//   - X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (the
//     de facto convention; Reset in Unix seconds) of the most
//     restrictive limit: the one with the fewest requests remaining, the
//     earlier reset breaking ties;
//   - RateLimit-Policy and RateLimit, as draft-ietf-httpapi-ratelimit-headers-11
//     defines them (Structured Field lists), one item per named limit:
//     RateLimit-Policy: "burst";q=10;w=60, "daily";q=1000;w=86400 and
//     RateLimit: "burst";r=9;t=6, "daily";r=998;t=173, where q is the
//     limit, w its window in seconds, r what remains and t the seconds
//     until it is fully available again. w is left out for a limit
//     without a window (an answer of a tokend older than the window
//     field); a window shorter than a second counts as one.
//
// A 429 answer should also carry Retry-After; WriteError writes it (see
// RetryAfter).
func WriteRateLimitHeaders(h http.Header, limits []api.RateLimitState, now time.Time) {
	if len(limits) == 0 {
		return
	}
	tightest := limits[0]
	var policy, state strings.Builder
	for i, l := range limits {
		if l.Remaining < tightest.Remaining || (l.Remaining == tightest.Remaining && l.Reset.Before(tightest.Reset)) {
			tightest = l
		}
		if i > 0 {
			policy.WriteString(", ")
			state.WriteString(", ")
		}
		name := sfString(l.Name)
		policy.WriteString(name + ";q=" + strconv.FormatInt(max(l.Limit, 0), 10))
		if l.Window > 0 {
			policy.WriteString(";w=" + strconv.FormatInt(max(1, ceilSeconds(time.Duration(l.Window))), 10))
		}
		state.WriteString(name + ";r=" + strconv.FormatInt(max(l.Remaining, 0), 10) +
			";t=" + strconv.FormatInt(ceilSeconds(l.Reset.Sub(now)), 10))
	}
	h.Set("X-RateLimit-Limit", strconv.FormatInt(tightest.Limit, 10))
	h.Set("X-RateLimit-Remaining", strconv.FormatInt(max(tightest.Remaining, 0), 10))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(ceilUnix(tightest.Reset), 10))
	h.Set("RateLimit-Policy", policy.String())
	h.Set("RateLimit", state.String())
}

// ceilUnix is t in Unix seconds, rounded up so that a client waiting
// until then finds the limit reset.
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// sfString encodes s as a Structured Field string (RFC 8941 §3.3.3):
// quoted, with '"' and '\' escaped and anything outside printable ASCII
// dropped.
func sfString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c <= 0x7e:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
