package verify

import "github.com/tokend/tokend/internal/store"

// onChange is the engine's one subscription to the store's changes: it drops
// what a committed change (on this node or, through cluster.Listener, on
// another) makes stale, before the next verification reads it.
func (e *Engine) onChange(c store.Change) {
	switch {
	case c.All:
		e.cache.purge()
	case len(c.Secrets) > 0:
		// A changed API comes with the secrets of its keys and tokens.
		e.cache.drop(c.Secrets...)
	}
	if e.jwt != nil {
		e.jwt.onChange(c)
	}
}

// onChange drops the JWT state c makes stale: revoked jtis, and the API
// audiences when an API changed.
func (j *jwtVerifier) onChange(c store.Change) {
	if !c.All && len(c.APIs) == 0 && len(c.JTIs) == 0 {
		return
	}
	j.revokedMu.Lock()
	defer j.revokedMu.Unlock()
	j.gen.Add(1) // fails every fill in flight
	if c.All || len(c.APIs) > 0 {
		j.auds.Store(nil)
	}
	if c.All {
		clear(j.revoked)
		return
	}
	for _, jti := range c.JTIs {
		delete(j.revoked, jti)
	}
}
