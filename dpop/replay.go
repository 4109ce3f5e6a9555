package dpop

import (
	"context"
	"sync"
	"time"
)

// ReplayCache remembers the proofs seen. UseOnce records key (16 opaque
// bytes, a hash of the key's thumbprint and the jti) for at least ttl,
// and reports whether it was new: false means a replay. It must be
// atomic: of two concurrent calls with one key, one gets true.
// *ratelimit.Redis implements it with SET NX, shared by nodes.
type ReplayCache interface {
	UseOnce(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// DefaultReplayMax is the number of proofs a MemoryReplay made by New
// holds (about 40 MB at most).
const DefaultReplayMax = 1 << 20

// MemoryReplay is an in-process ReplayCache of bounded memory. It keeps
// two generations of keys and drops the older each period, so a key
// stays between one and two periods: period must be at least the
// longest ttl asked for. When max keys are held, UseOnce refuses with
// ErrReplayCacheFull rather than forget a proof early. Safe for
// concurrent use.
type MemoryReplay struct {
	max    int
	period time.Duration
	now    func() time.Time

	mu        sync.Mutex
	cur, prev map[[16]byte]struct{}
	rotated   time.Time
}

// NewMemoryReplay returns a MemoryReplay of at most max keys that keeps
// each for at least period; now nil means time.Now.
func NewMemoryReplay(max int, period time.Duration, now func() time.Time) *MemoryReplay {
	if now == nil {
		now = time.Now
	}
	return &MemoryReplay{max: max, period: period, now: now,
		cur: make(map[[16]byte]struct{}), prev: make(map[[16]byte]struct{}), rotated: now()}
}

// UseOnce implements ReplayCache; ttl longer than the period is cut to
// it.
func (m *MemoryReplay) UseOnce(_ context.Context, key string, _ time.Duration) (bool, error) {
	var k [16]byte
	copy(k[:], key)
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if d := now.Sub(m.rotated); d >= m.period {
		m.prev, m.cur = m.cur, make(map[[16]byte]struct{}, len(m.cur))
		if d >= 2*m.period {
			m.prev = make(map[[16]byte]struct{})
		}
		m.rotated = now
	}
	if _, ok := m.cur[k]; ok {
		return false, nil
	}
	if _, ok := m.prev[k]; ok {
		return false, nil
	}
	if len(m.cur)+len(m.prev) >= m.max {
		return false, ErrReplayCacheFull
	}
	m.cur[k] = struct{}{}
	return true, nil
}

// Len returns the number of keys held.
func (m *MemoryReplay) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.cur) + len(m.prev)
}
