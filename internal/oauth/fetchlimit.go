package oauth

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/tokend/tokend/internal/ratelimit"
)

// Limiter decides named rate limits per owner (package ratelimit's
// GCRA): *ratelimit.Memory in process, or *ratelimit.Bounded (a view of
// a *ratelimit.Failover), which decides in Redis so that every node
// counts together, and by the --redis-failure policy while Redis does
// not answer (per node, in a Memory of at most MaxDocumentFetchAddresses
// states, or an error wrapping ratelimit.ErrUnavailable). It is safe for
// concurrent use.
type Limiter interface {
	Take(ctx context.Context, owner string, limits []ratelimit.Limit, now time.Time, out []ratelimit.State) ([]ratelimit.State, bool, error)
}

// DefaultDocumentFetchLimit is how many client ID metadata documents one
// client address may make tokend fetch per minute by default.
const DefaultDocumentFetchLimit = 30

// MaxDocumentFetchAddresses is how many client addresses the fetch limit
// tracks per node at most: in process, and in the per-node fallback of a
// shared Limiter while Redis does not answer (ratelimit.Failover.Bounded),
// so that a flood from ever new addresses costs bounded memory.
const MaxDocumentFetchAddresses = maxGuardEntries

// documentFetchWindow is the window of the fetch limit.
const documentFetchWindow = time.Minute

// fetchLimit limits the client ID metadata documents one client address
// (an IPv6 address by its /64) makes tokend fetch: without it, anyone
// could make tokend fetch a new URL at every request, and hold the
// fetcher's few concurrent fetches for others. Only fetches count: a
// document tokend may still reuse (its Cache-Control) costs nothing.
// Limits are GCRA (bursts up to the limit, then one per window/limit),
// kept in the Limiter, whose owner key is a hash of the address, never
// the address itself. In process the Limiter holds at most
// MaxDocumentFetchAddresses addresses, as the brute-force guard does, so
// that a flood from ever new addresses costs bounded memory.
type fetchLimit struct {
	lim   Limiter
	local *ratelimit.Memory // the in-process Limiter, which Run sweeps; nil with a shared one
	limit ratelimit.Limit
	log   *slog.Logger
	// refusing is set while the shared limiter cannot decide, so that
	// the refusals are logged once per outage.
	refusing atomic.Bool
}

// newFetchLimit returns the limit of n fetches a minute per address, in
// shared (nil: in process); nil for n < 0 (no limit), 0 means the
// default.
func newFetchLimit(shared Limiter, n int, log *slog.Logger) *fetchLimit {
	if n < 0 {
		return nil
	}
	f := &fetchLimit{lim: shared, log: log,
		limit: ratelimit.Limit{Name: "cimd_fetch", Limit: int64(cmp.Or(n, DefaultDocumentFetchLimit)), Window: documentFetchWindow}}
	if shared == nil {
		f.local = ratelimit.NewBoundedMemory(MaxDocumentFetchAddresses)
		f.lim = f.local
	}
	return f
}

// fetchOwner names an address in the limiter: a hash, so that neither
// Redis nor the limiter's memory holds an address in clear.
func fetchOwner(ip string) string {
	k := addrKey(ip)
	return "cimd:" + hex.EncodeToString(k[:])
}

// allow takes one fetch of ip at now, or returns the refusal: 429
// temporarily_unavailable with Retry-After when the address is over the
// limit, 503 temporarily_unavailable when the shared limiter cannot
// decide (--redis-failure=refuse while Redis is down).
func (f *fetchLimit) allow(ctx context.Context, ip string, now time.Time) *Error {
	if f == nil {
		return nil
	}
	var buf [1]ratelimit.State
	st, ok, err := f.lim.Take(ctx, fetchOwner(ip), []ratelimit.Limit{f.limit}, now, buf[:0])
	if err != nil {
		if !errors.Is(err, ratelimit.ErrUnavailable) || !f.refusing.Swap(true) {
			f.log.WarnContext(ctx, "client metadata document fetches refused: the rate limiter cannot decide", "err", err)
		}
		return &Error{Code: ErrTemporarilyUnavailable, Status: 503, RetryAfter: 5 * time.Second,
			Description: "client ID metadata documents cannot be fetched now; retry later"}
	}
	f.refusing.Store(false)
	if ok {
		return nil
	}
	secs := time.Duration(math.Ceil(st[0].RetryAfter.Seconds())) * time.Second
	return &Error{Code: ErrTemporarilyUnavailable, Status: 429, RetryAfter: max(secs, time.Second),
		Description: "too many client ID metadata documents fetched for this address; retry later"}
}

// sweep drops the in-process states that have drained.
func (f *fetchLimit) sweep(now time.Time) {
	if f != nil && f.local != nil {
		f.local.Sweep(now)
	}
}
