// Package ratelimit enforces named request limits with GCRA (the generic
// cell rate algorithm): each limit keeps one timestamp, the theoretical
// arrival time, so state is tiny and exact. A request that touches several
// limits is admitted only if every limit admits it, and then consumes one
// unit of each; a refusal consumes nothing.
//
// Memory keeps the state in process, for a single node. The package does
// not know about keys or HTTP: callers pass an owner id and the limits.
package ratelimit

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/tokend/tokend/internal/evict"
)

// MaxWindow is the longest window callers should accept (apikey refuses
// longer ones). The arithmetic saturates rather than wraps for any window,
// so even a longer one limits, but beyond MaxWindow the Redis script's
// doubles would no longer be exact to the nanosecond.
const MaxWindow = 366 * 24 * time.Hour

// Limit is one named limit: Limit requests per Window, with bursts of up
// to Limit.
type Limit struct {
	Name   string
	Limit  int64
	Window time.Duration
}

// State is a limit's state after a decision.
type State struct {
	Name      string
	Limit     int64
	Window    time.Duration
	Remaining int64
	// Reset is when the limit is fully available again.
	Reset time.Time
	// RetryAfter is how long to wait before this limit admits a request;
	// zero when it admits one now.
	RetryAfter time.Duration
}

// Memory is an in-process limiter. It is safe for concurrent use.
type Memory struct {
	mu   sync.Mutex
	tats map[slot]int64 // theoretical arrival time, unix nanoseconds
	max  int            // the most states held; 0: no bound
}

type slot struct{ owner, name string }

// NewMemory returns an empty in-process limiter, for owners that are
// few and known (keys): it holds a state per owner and limit used
// within its window.
func NewMemory() *Memory { return &Memory{tats: make(map[slot]int64)} }

// NewBoundedMemory returns an empty in-process limiter holding at most
// max states (max > 0), for owners anyone can make up (client
// addresses). When it is full, a new state first drops the drained ones
// (lossless: a drained limit is a fresh one), then arbitrary ones, as
// the in-process failure counters do: a flood from ever new owners
// costs bounded memory, and at worst lets an owner whose state was
// dropped start afresh.
func NewBoundedMemory(max int) *Memory {
	return &Memory{tats: make(map[slot]int64), max: max}
}

// Take decides one request of owner against limits at now, appending each
// limit's state to out (in the order of limits). It reports whether every
// limit admitted the request; only then is a unit of each consumed. The
// error is always nil; it is there so that Memory and a shared limiter
// answer to the same method.
func (m *Memory) Take(_ context.Context, owner string, limits []Limit, now time.Time, out []State) ([]State, bool, error) {
	out, ok := m.take(owner, limits, now, out)
	return out, ok, nil
}

func (m *Memory) take(owner string, limits []Limit, now time.Time, out []State) ([]State, bool) {
	t := now.UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	ok := true
	for _, l := range limits {
		st, admit := decide(l, m.tats[slot{owner, l.Name}], t)
		ok = ok && admit
		out = append(out, st)
	}
	if !ok {
		for i := len(out) - len(limits); i < len(out); i++ {
			out[i].Remaining = 0
		}
		return out, false
	}
	for _, l := range limits {
		k := slot{owner, l.Name}
		tat, ok := m.tats[k]
		if !ok && m.max > 0 && len(m.tats) >= m.max {
			// Drained states go first: a drained limit is a fresh one.
			m.tats = evict.MakeRoom(m.tats, m.max, func(tat int64) bool { return tat <= t })
		}
		m.tats[k] = satAdd(max(tat, t), interval(l))
	}
	return out, true
}

// decide applies GCRA to one limit whose stored arrival time is tat. It
// works on offsets from now, as the Redis script does, and compares
// before it adds, so that no sum can wrap whatever the window; the reset
// time is a time.Time, which reaches past 2262.
func decide(l Limit, tat, now int64) (State, bool) {
	T := interval(l)
	window := int64(l.Window)
	d := max(tat, now) - now // both are unix ns after 1970: no overflow
	st := State{Name: l.Name, Limit: l.Limit, Window: l.Window}
	base := time.Unix(0, now)
	if d > window-T { // d+T > window, without computing d+T
		st.RetryAfter = time.Duration(d - (window - T))
		st.Reset = base.Add(time.Duration(d))
		return st, false
	}
	next := d + T
	st.Remaining = (window - next) / T
	st.Reset = base.Add(time.Duration(next))
	return st, true
}

// interval is the emission interval: the time one request costs.
func interval(l Limit) int64 {
	if l.Limit <= 0 {
		return satAdd(int64(l.Window), 1) // admits nothing
	}
	return max(int64(l.Window)/l.Limit, 1)
}

// satAdd is a+b for b >= 0, saturated at math.MaxInt64 instead of
// wrapping negative: a window of centuries must still refuse, not turn
// every arrival time into the distant past.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Forget drops the state of owner's limits (after a key is deleted).
func (m *Memory) Forget(owner string, names ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range names {
		delete(m.tats, slot{owner, n})
	}
}

// Sweep drops every state that has fully drained by now: such a limit is
// indistinguishable from a fresh one. It bounds memory to the limits used
// within their window.
func (m *Memory) Sweep(now time.Time) int {
	t := now.UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k, tat := range m.tats {
		if tat <= t {
			delete(m.tats, k)
			n++
		}
	}
	return n
}

// Len returns the number of limit states held.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tats)
}
