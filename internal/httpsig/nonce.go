package httpsig

import (
	"context"
	"errors"
	"sync"
	"time"
)

// NonceStore remembers nonces for a while. Claim records key until now +
// ttl and reports whether it was fresh: false means it was recorded
// before and has not expired. An error means the store could not decide;
// the verifier then refuses the request. Implementations are safe for
// concurrent use. ratelimit.Redis implements it with SET NX PX, shared by
// every node.
type NonceStore interface {
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// ErrNoncesFull is returned by Memory.Claim when it holds its maximum of
// unexpired nonces: refusing is safer than forgetting one.
var ErrNoncesFull = errors.New("nonce store is full")

// Memory is an in-process NonceStore holding at most a fixed number of
// nonces. Expired nonces are dropped as new ones arrive.
type Memory struct {
	mu    sync.Mutex
	max   int
	seen  map[string]time.Time
	queue []queued // insertion order; ttl is constant per verifier, so expiry order too
	now   func() time.Time
}

type queued struct {
	key string
	exp time.Time
}

// NewMemory returns a Memory holding at most max nonces (1,000,000 when
// max <= 0).
func NewMemory(max int) *Memory { return newMemory(max, time.Now) }

func newMemory(max int, now func() time.Time) *Memory {
	if max <= 0 {
		max = 1_000_000
	}
	return &Memory{max: max, seen: map[string]time.Time{}, now: now}
}

// Claim implements NonceStore.
func (m *Memory) Claim(_ context.Context, key string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sweep(now)
	if exp, ok := m.seen[key]; ok && now.Before(exp) {
		return false, nil
	}
	if len(m.seen) >= m.max {
		return false, ErrNoncesFull
	}
	exp := now.Add(ttl)
	m.seen[key] = exp
	m.queue = append(m.queue, queued{key, exp})
	return true, nil
}

// sweep drops the expired nonces at the head of the queue.
func (m *Memory) sweep(now time.Time) {
	i := 0
	for ; i < len(m.queue) && !now.Before(m.queue[i].exp); i++ {
		q := m.queue[i]
		if exp, ok := m.seen[q.key]; ok && exp.Equal(q.exp) {
			delete(m.seen, q.key)
		}
	}
	clear(m.queue[:i])
	m.queue = m.queue[i:] // append copies only the live part when it grows
}

// Len returns the number of nonces held.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.seen)
}
