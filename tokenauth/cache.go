package tokenauth

import (
	"crypto/sha256"
	"sync"
)

// cacheKey is what a cached answer depends on: the token, by its SHA-256
// (the token itself is never kept), the audience asked for and the
// client address (an API key may be limited to some addresses). Scopes
// are not part of it: a VALID answer names all the token's scopes, and
// each request's are checked against them.
type cacheKey struct {
	hash     [32]byte
	audience string
	clientIP string
}

func keyOf(token, audience, clientIP string) cacheKey {
	return cacheKey{hash: hashToken(token), audience: audience, clientIP: clientIP}
}

// hashToken hashes token without allocating for tokens of usual length.
func hashToken(token string) [32]byte {
	var buf [256]byte
	if len(token) <= len(buf) {
		return sha256.Sum256(append(buf[:0], token...))
	}
	return sha256.Sum256([]byte(token))
}

// group runs one call per key at a time; callers that arrive while it
// runs wait for it and share its result (golang.org/x/sync/singleflight
// in a few lines, to keep this package free of dependencies).
type group[T any] struct {
	mu    sync.Mutex
	calls map[string]*call[T]
}

type call[T any] struct {
	done chan struct{}
	val  T
}

// do runs fn for key unless a call for key is running, in which case it
// waits for that call. shared reports that the result came from another
// caller's call.
func (g *group[T]) do(key string, fn func() T) (v T, shared bool) {
	g.mu.Lock()
	if g.calls == nil {
		g.calls = make(map[string]*call[T])
	}
	if c, ok := g.calls[key]; ok {
		g.mu.Unlock()
		<-c.done
		return c.val, true
	}
	c := &call[T]{done: make(chan struct{})}
	g.calls[key] = c
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		close(c.done)
	}()
	c.val = fn()
	return c.val, false
}
