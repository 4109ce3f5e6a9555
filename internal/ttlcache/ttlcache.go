// Package ttlcache is a bounded map whose entries each keep until their
// own deadline: the verification cache of tokenauth and the identity-JWT
// cache of the gateway.
package ttlcache

import (
	"sync"
	"time"
)

type entry[V any] struct {
	v     V
	until time.Time
}

// Cache holds at most size entries. It is safe for concurrent use.
type Cache[K comparable, V any] struct {
	mu   sync.RWMutex
	m    map[K]entry[V]
	size int
}

// New returns an empty cache of at most size entries.
func New[K comparable, V any](size int) *Cache[K, V] {
	return &Cache[K, V]{m: make(map[K]entry[V]), size: size}
}

// Get returns the value kept for k, if it is still fresh at now.
func (c *Cache[K, V]) Get(k K, now time.Time) (V, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put keeps v for k until until. When the cache is full, it first drops
// the expired entries it comes across, then an arbitrary one: Go's map
// iteration order is randomised, which makes a cheap random eviction.
func (c *Cache[K, V]) Put(k K, v V, until, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.size {
		evicted := 0
		for key, e := range c.m {
			if !now.Before(e.until) || evicted == 0 {
				delete(c.m, key)
				evicted++
			}
			if evicted >= 16 {
				break
			}
		}
	}
	c.m[k] = entry[V]{v: v, until: until}
}
