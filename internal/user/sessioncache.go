package user

import (
	"sync"
	"sync/atomic"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/store"
)

// DefaultSessionCacheSize bounds the sessions a node keeps in memory.
const DefaultSessionCacheSize = 100_000

// sessionEntry is one cached session and its user. Only lastSeen
// changes after the entry is made.
type sessionEntry struct {
	hash     [32]byte
	session  Session
	user     api.User
	lastSeen atomic.Int64 // unix nanoseconds
}

func newSessionEntry(h [32]byte, ss Session, u api.User) *sessionEntry {
	e := &sessionEntry{hash: h, session: ss, user: u}
	e.lastSeen.Store(ss.LastSeenAt.UnixNano())
	return e
}

// sessionCache maps token hashes to sessions, with an index by user so
// that a change of a user drops all of their sessions. It is bounded:
// when full, an insert evicts an arbitrary entry.
//
// A fill races with invalidation (a reader loads a session, the session
// ends and its hash is dropped, then the reader stores what it loaded):
// the generation counter closes that window, as in the verification
// cache, since a fill is stored only if no invalidation happened since
// its read began.
type sessionCache struct {
	mu     sync.RWMutex
	m      map[[32]byte]*sessionEntry
	byUser map[string]map[[32]byte]struct{}
	max    int
	gen    atomic.Uint64
}

func newSessionCache(max int) *sessionCache {
	return &sessionCache{m: map[[32]byte]*sessionEntry{}, byUser: map[string]map[[32]byte]struct{}{}, max: max}
}

func (c *sessionCache) get(h [32]byte) (*sessionEntry, bool) {
	c.mu.RLock()
	e, ok := c.m[h]
	c.mu.RUnlock()
	return e, ok
}

func (c *sessionCache) generation() uint64 { return c.gen.Load() }

func (c *sessionCache) put(e *sessionEntry, gen uint64) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if _, ok := c.m[e.hash]; !ok && len(c.m) >= c.max {
		for h := range c.m {
			c.removeLocked(h)
			break
		}
	}
	c.removeLocked(e.hash)
	c.m[e.hash] = e
	uid := e.session.UserID
	if c.byUser[uid] == nil {
		c.byUser[uid] = map[[32]byte]struct{}{}
	}
	c.byUser[uid][e.hash] = struct{}{}
}

func (c *sessionCache) removeLocked(h [32]byte) {
	e, ok := c.m[h]
	if !ok {
		return
	}
	delete(c.m, h)
	if hs := c.byUser[e.session.UserID]; hs != nil {
		delete(hs, h)
		if len(hs) == 0 {
			delete(c.byUser, e.session.UserID)
		}
	}
}

// drop removes the given hashes and fails every fill in flight.
func (c *sessionCache) drop(hs ...[32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	for _, h := range hs {
		c.removeLocked(h)
	}
}

// onChange is the cache's one subscription to the store's changes.
func (c *sessionCache) onChange(ch store.Change) {
	if !ch.All && len(ch.Secrets) == 0 && len(ch.Users) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	if ch.All {
		c.m = map[[32]byte]*sessionEntry{}
		c.byUser = map[string]map[[32]byte]struct{}{}
		return
	}
	for _, h := range ch.Secrets {
		c.removeLocked(h)
	}
	for _, uid := range ch.Users {
		for h := range c.byUser[uid] {
			c.removeLocked(h)
		}
	}
}

func (c *sessionCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
