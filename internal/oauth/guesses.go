package oauth

import (
	"context"
	"encoding/hex"
	"log/slog"
	"math"
	"sync/atomic"
	"time"
)

// FailureCounter counts failures per key where every node sees them;
// *ratelimit.Redis is the implementation. Failures returns the count of
// key and the time of its last failure (zero values for none);
// AddFailure counts one failure at now, keeps the count for keep after
// now, and returns the new count. Errors mean the store did not answer.
// It is safe for concurrent use.
type FailureCounter interface {
	Failures(ctx context.Context, key string) (n int64, last time.Time, err error)
	AddFailure(ctx context.Context, key string, now time.Time, keep time.Duration) (int64, error)
}

// guesses limits wrong device user codes per client address: UserCodeFailures
// a minute. With a shared counter every node counts together: after the
// limit, an address waits until a minute has passed since its last wrong
// code. Without one, or while it fails (logged once per outage), each
// node counts in fixed windows of its own.
type guesses struct {
	local    *failures
	shared   FailureCounter
	log      *slog.Logger
	degraded atomic.Bool
}

// userCodeWindow is the window of the user-code limit.
const userCodeWindow = time.Minute

func newGuesses(shared FailureCounter, log *slog.Logger) *guesses {
	return &guesses{local: newFailures(UserCodeFailures, userCodeWindow, maxGuardEntries), shared: shared, log: log}
}

// sharedKey names an address in the shared counter: a hash, so that the
// counter holds no address in clear.
func sharedKey(ip string) string {
	k := addrKey(ip)
	return "device:" + hex.EncodeToString(k[:])
}

// blocked returns a 429 *Error if ip entered too many wrong codes lately.
func (g *guesses) blocked(ctx context.Context, ip string, now time.Time) *Error {
	if g.shared != nil {
		n, last, err := g.shared.Failures(ctx, sharedKey(ip))
		if err == nil {
			g.recovered(ctx)
			end := last.Add(userCodeWindow)
			if n < UserCodeFailures || !now.Before(end) {
				return nil
			}
			secs := time.Duration(math.Ceil(end.Sub(now).Seconds())) * time.Second
			return &Error{Code: ErrTemporarilyUnavailable, Status: 429, RetryAfter: secs,
				Description: "too many wrong codes from this address; retry later"}
		}
		g.failed(ctx, err)
	}
	if e := g.local.blocked(addrKey(ip), now); e != nil {
		e.Description = "too many wrong codes from this address; retry later"
		return e
	}
	return nil
}

// add counts one wrong code from ip.
func (g *guesses) add(ctx context.Context, ip string, now time.Time) {
	if g.shared != nil {
		_, err := g.shared.AddFailure(ctx, sharedKey(ip), now, userCodeWindow)
		if err == nil {
			g.recovered(ctx)
			return
		}
		g.failed(ctx, err)
	}
	g.local.add(addrKey(ip), now)
}

func (g *guesses) failed(ctx context.Context, err error) {
	if !g.degraded.Swap(true) {
		g.log.WarnContext(ctx, "device code guessing limit counts per node while its shared store fails", "err", err)
	}
}

func (g *guesses) recovered(ctx context.Context) {
	if g.degraded.Swap(false) {
		g.log.InfoContext(ctx, "device code guessing limit shared again")
	}
}
