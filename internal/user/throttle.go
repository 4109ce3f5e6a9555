package user

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokend/tokend/internal/evict"
)

// ThrottledError refuses a sign-in before its password is checked: the
// account or the client address failed too often lately. It says when
// to try again, never whether the account exists (an unknown username
// is throttled like a known one).
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed sign-ins; try again in %d seconds", int(math.Ceil(e.RetryAfter.Seconds())))
}

// A FailureCounter counts failed sign-ins per key. The in-process one is
// the default; with Redis (package ratelimit) every node shares the
// counts. Implementations must be safe for concurrent use.
type FailureCounter interface {
	// Failures returns the count of key and the time of its last
	// failure; zero values when key has none.
	Failures(ctx context.Context, key string) (n int64, last time.Time, err error)
	// AddFailure counts one failure of key at now, keeps the count for
	// keep after now, and returns the new count.
	AddFailure(ctx context.Context, key string, now time.Time, keep time.Duration) (int64, error)
	// ClearFailures forgets key.
	ClearFailures(ctx context.Context, key string) error
}

// ThrottlePolicy shapes the delays of one scope (an account or a client
// address): the first Free failures cost nothing; each further one makes
// the next attempt wait Base, then twice as long, and so on up to Lock,
// the longest wait, which is the temporary lock. Counts are forgotten
// Forget after the last failure, so no lock is ever permanent.
type ThrottlePolicy struct {
	Free   int64
	Base   time.Duration
	Lock   time.Duration
	Forget time.Duration
}

// The default policies. An account is locked for 15 minutes after 15
// failures in a row (its 6th to 14th wait 1s to 256s); an address, which
// many people may share behind one NAT, gets 30 free failures.
var (
	DefaultAccountThrottle = ThrottlePolicy{Free: 5, Base: time.Second, Lock: 15 * time.Minute, Forget: 24 * time.Hour}
	DefaultAddressThrottle = ThrottlePolicy{Free: 30, Base: time.Second, Lock: 15 * time.Minute, Forget: 24 * time.Hour}
)

// passkeyStarts limits the passwordless passkey sign-ins a client
// address may start: each start stores a ceremony for
// PasskeyCeremonyTTL, so an unlimited flood would grow the store without
// bound. Starts are counted like failures (every start, since none needs
// a password): the first 60 within a ceremony's lifetime are free (the
// sign-in page starts one per visit for the browser's autofill, and many
// people may share one NAT address), then each further one waits 1s,
// doubling, up to the ceremony's lifetime. So an address holds at most
// about 70 live ceremonies, and the counts live in the throttle's
// bounded table (or Redis).
var passkeyStarts = ThrottlePolicy{Free: 60, Base: time.Second, Lock: PasskeyCeremonyTTL, Forget: PasskeyCeremonyTTL}

// passkeyStartKey is the throttle key of the passkey sign-ins an address
// starts, apart from its failed sign-ins.
func passkeyStartKey(ip string) string { return "p" + addressKey(ip) }

// start counts one passwordless passkey sign-in started from ip at now,
// or refuses it with a *ThrottledError while the address must wait.
func (t *throttle) start(ctx context.Context, ip string, now time.Time) error {
	key := passkeyStartKey(ip)
	var n int64
	var last time.Time
	if err := t.run(ctx, func(c FailureCounter) (err error) {
		n, last, err = c.Failures(ctx, key)
		return err
	}); err != nil {
		return err
	}
	if w := passkeyStarts.wait(n); w > 0 && now.Before(last.Add(w)) {
		return &ThrottledError{RetryAfter: (last.Add(w).Sub(now) + time.Second - 1).Truncate(time.Second)}
	}
	return t.run(ctx, func(c FailureCounter) error {
		_, err := c.AddFailure(ctx, key, now, passkeyStarts.Forget)
		return err
	})
}

// wait returns how long after its last failure a key with n failures
// must wait.
func (p ThrottlePolicy) wait(n int64) time.Duration {
	if n < p.Free {
		return 0
	}
	shift := n - p.Free
	if shift > 30 || p.Base<<shift >= p.Lock {
		return p.Lock
	}
	return p.Base << shift
}

// throttle applies the policies to two keys per sign-in: the account
// (its username, in any case, whether or not it exists) and the client
// address (an IPv6 address by its /64).
type throttle struct {
	account, address ThrottlePolicy
	shared           FailureCounter // nil: in process only
	local            *memoryFailures
	log              *slog.Logger
	degraded         atomic.Bool
}

func accountKey(username string) string {
	h := sha256.Sum256([]byte(strings.ToLower(username)))
	return "a:" + hex.EncodeToString(h[:16])
}

func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		h := sha256.Sum256([]byte(ip))
		return "i:?" + hex.EncodeToString(h[:8])
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		a = p.Addr()
	}
	return "i:" + a.String()
}

// run runs fn on the shared counter, or on the local one while the
// shared one fails (logged once per outage).
func (t *throttle) run(ctx context.Context, fn func(FailureCounter) error) error {
	if t.shared != nil {
		err := fn(t.shared)
		if err == nil {
			if t.degraded.Swap(false) {
				t.log.InfoContext(ctx, "sign-in throttle shared again")
			}
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		if !t.degraded.Swap(true) {
			t.log.WarnContext(ctx, "sign-in throttle counts per node while its shared store fails", "err", err)
		}
	}
	return fn(t.local)
}

// scope is one key and its policy.
type scope struct {
	key    string
	p      ThrottlePolicy
	locked *bool
}

// scopes are the keys of a sign-in: the account, and the address unless
// it is unknown ("", as for a password change, which a session already
// ties to a person).
func (t *throttle) scopes(username, ip string, l *locks) []scope {
	s := []scope{{accountKey(username), t.account, &l.account}}
	if ip != "" {
		s = append(s, scope{addressKey(ip), t.address, &l.address})
	}
	return s
}

// check returns a *ThrottledError if the account or the address must
// still wait at now.
func (t *throttle) check(ctx context.Context, username, ip string, now time.Time) error {
	var wait time.Duration
	for _, k := range t.scopes(username, ip, &locks{}) {
		var n int64
		var last time.Time
		err := t.run(ctx, func(c FailureCounter) (err error) {
			n, last, err = c.Failures(ctx, k.key)
			return err
		})
		if err != nil {
			return err
		}
		if w := k.p.wait(n); w > 0 && now.Before(last.Add(w)) {
			until := last.Add(w)
			wait = max(wait, until.Sub(now))
		}
	}
	if wait > 0 {
		return &ThrottledError{RetryAfter: (wait + time.Second - 1).Truncate(time.Second)}
	}
	return nil
}

// locks are which scopes a failure locked (its wait reached Lock).
type locks struct{ account, address bool }

// fail counts one failure of the account and the address at now.
func (t *throttle) fail(ctx context.Context, username, ip string, now time.Time) (locks, error) {
	var l locks
	for _, k := range t.scopes(username, ip, &l) {
		var n int64
		err := t.run(ctx, func(c FailureCounter) (err error) {
			n, err = c.AddFailure(ctx, k.key, now, k.p.Forget)
			return err
		})
		if err != nil {
			return l, err
		}
		*k.locked = k.p.wait(n) == k.p.Lock && k.p.wait(n-1) < k.p.Lock
	}
	return l, nil
}

// succeed forgets the account's failures; the address keeps its count.
func (t *throttle) succeed(ctx context.Context, username string) error {
	return t.run(ctx, func(c FailureCounter) error { return c.ClearFailures(ctx, accountKey(username)) })
}

// memoryFailures is the in-process FailureCounter. It holds at most max
// keys: when full, forgotten counts go first, then arbitrary ones, so a
// flood from many addresses cannot exhaust memory.
type memoryFailures struct {
	mu  sync.Mutex
	m   map[string]tally
	max int
}

type tally struct {
	n      int64
	last   time.Time
	forget time.Time
}

func newMemoryFailures(max int) *memoryFailures {
	return &memoryFailures{m: map[string]tally{}, max: max}
}

func (f *memoryFailures) Failures(_ context.Context, key string) (int64, time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// A count past its forget time is harmless here: its wait ended
	// long before (Lock < Forget), and AddFailure starts it afresh.
	t := f.m[key]
	return t.n, t.last, nil
}

func (f *memoryFailures) AddFailure(_ context.Context, key string, now time.Time, keep time.Duration) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.m[key]
	if ok && !now.Before(t.forget) {
		t = tally{}
	}
	if !ok && len(f.m) >= f.max {
		// Forgotten counts go first.
		f.m = evict.MakeRoom(f.m, f.max, func(e tally) bool { return !now.Before(e.forget) })
	}
	t.n++
	t.last, t.forget = now, now.Add(keep)
	f.m[key] = t
	return t.n, nil
}

func (f *memoryFailures) ClearFailures(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, key)
	return nil
}

func (f *memoryFailures) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m)
}
