package verify

import (
	"sync"
	"sync/atomic"
)

// cache maps SHA-256 hashes of tokens to immutable entries. It is bounded:
// when full, an insert evicts an arbitrary entry (Go's map iteration order
// is randomised, so this is random eviction, which needs no bookkeeping on
// the read path).
//
// A fill races with invalidation: a reader that missed may load a row,
// then a revocation commits and drops the hash, then the reader stores the
// row it loaded before the revocation. The generation counter closes that
// window: a fill is stored only if no invalidation happened since its
// lookup began.
type cache struct {
	mu  sync.RWMutex
	m   map[[32]byte]*entry
	max int
	gen atomic.Uint64
}

func newCache(max int) *cache {
	return &cache{m: make(map[[32]byte]*entry, min(max, 1<<16)), max: max}
}

// get returns the live entry for h at now (unix nanoseconds).
func (c *cache) get(h [32]byte, now int64) (*entry, bool) {
	c.mu.RLock()
	e, ok := c.m[h]
	c.mu.RUnlock()
	if !ok || now >= e.cachedUntil {
		return nil, false
	}
	return e, true
}

// generation returns the value to pass to put for a fill that starts now.
func (c *cache) generation() uint64 { return c.gen.Load() }

// put stores e unless an invalidation happened since gen was read. When
// the cache is full, a negative entry (an unknown token) is not stored
// rather than evict another: anyone can send unknown tokens with valid
// checksums, and they must not push out the keys in real use.
func (c *cache) put(h [32]byte, e *entry, gen uint64) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if _, ok := c.m[h]; !ok && len(c.m) >= c.max {
		if !e.found {
			return
		}
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[h] = e
}

// drop removes the given hashes and fails every fill in flight.
func (c *cache) drop(hs ...[32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	for _, h := range hs {
		delete(c.m, h)
	}
}

// purge removes everything, for when invalidations may have been missed.
func (c *cache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	clear(c.m)
}

func (c *cache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
