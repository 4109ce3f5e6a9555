package verify

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/internal/store"
)

// usage accumulates between flushes each key's last-used time and count
// and, for personal access tokens, the uses their owners see: counts per
// key, minute, client address and result code, whatever the answer (API
// keys keep only the last use and the count). One verification takes one
// lock and one lookup by key id for both, so that a personal access token
// costs what a key does. A crash loses at most one batch of this
// bookkeeping, never a decision.
type usage struct {
	mu   sync.Mutex
	m    map[string]*keyUsage
	uses map[useKey]int64 // uses of personal access tokens no longer current in m
}

// keyUsage is one key's bookkeeping since the last flush. cur is the use
// of a personal access token being counted, n times (0: none): the
// verifications of one token mostly share their minute, address and code,
// so they add to n without hashing the use into the map.
type keyUsage struct {
	count    int64
	lastUsed time.Time
	cur      useKey
	n        int64
}

type useKey struct {
	keyID  string
	minute int64 // unix seconds, truncated to the minute
	ip     string
	code   api.Code
}

func newUsage() *usage {
	return &usage{m: make(map[string]*keyUsage), uses: make(map[useKey]int64)}
}

// record counts one verification of the found key keyID at at: as a use
// of the key when used (the answer was VALID and spent its limits), and
// as a use its owner sees when pat, the key is a personal access token
// (ip and code are the client's address and the answer).
func (u *usage) record(keyID string, used, pat bool, at time.Time, ip string, code api.Code) {
	u.mu.Lock()
	x := u.m[keyID]
	if x == nil {
		x = &keyUsage{}
		u.m[keyID] = x
	}
	if used {
		x.count++
		if at.After(x.lastUsed) {
			x.lastUsed = at
		}
	}
	if pat {
		s := at.Unix()
		k := useKey{keyID: keyID, minute: s - s%60, ip: ip, code: code}
		if x.n > 0 && x.cur == k {
			x.n++
		} else {
			if x.n > 0 {
				u.uses[x.cur] += x.n
			}
			x.cur, x.n = k, 1
		}
	}
	u.mu.Unlock()
}

// take returns the bookkeeping gathered since the last take and starts
// anew: the keys used, in key order (so that nodes flushing at once lock
// rows in the same order and cannot deadlock each other), and the uses of
// personal access tokens.
func (u *usage) take() ([]store.Usage, []store.KeyUse) {
	u.mu.Lock()
	m, uses := u.m, u.uses
	u.m, u.uses = make(map[string]*keyUsage, len(m)), make(map[useKey]int64, len(uses))
	u.mu.Unlock()
	var out []store.Usage
	for id, x := range m {
		if x.count > 0 {
			out = append(out, store.Usage{KeyID: id, LastUsed: x.lastUsed, Count: x.count})
		}
		if x.n > 0 {
			uses[x.cur] += x.n
		}
	}
	slices.SortFunc(out, func(a, b store.Usage) int { return strings.Compare(a.KeyID, b.KeyID) })
	var kus []store.KeyUse
	if len(uses) > 0 {
		kus = make([]store.KeyUse, 0, len(uses))
		for k, n := range uses {
			kus = append(kus, store.KeyUse{KeyID: k.keyID, Minute: time.Unix(k.minute, 0).UTC(), IP: k.ip, Code: string(k.code), Count: n})
		}
	}
	return out, kus
}

// restore merges batches that could not be written back into the next.
func (u *usage) restore(batch []store.Usage, uses []store.KeyUse) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, b := range batch {
		x := u.m[b.KeyID]
		if x == nil {
			x = &keyUsage{}
			u.m[b.KeyID] = x
		}
		x.count += b.Count
		if b.LastUsed.After(x.lastUsed) {
			x.lastUsed = b.LastUsed
		}
	}
	for _, b := range uses {
		u.uses[useKey{keyID: b.KeyID, minute: b.Minute.Unix(), ip: b.IP, code: api.Code(b.Code)}] += b.Count
	}
}

// Flush writes the bookkeeping gathered so far.
func (e *Engine) Flush(ctx context.Context) error {
	batch, uses := e.usage.take()
	if len(batch) > 0 {
		if err := e.db.RecordUsage(ctx, batch); err != nil {
			e.usage.restore(batch, uses) // the database may be back by the next flush
			return err
		}
	}
	if len(uses) > 0 {
		if err := e.db.RecordKeyUses(ctx, uses, e.now()); err != nil {
			e.usage.restore(nil, uses)
			return err
		}
	}
	return nil
}

// Run flushes bookkeeping every few seconds and sweeps drained rate-limit
// state, until ctx ends; then it flushes once more, so that a graceful
// shutdown loses nothing.
func (e *Engine) Run(ctx context.Context) {
	t := time.NewTicker(e.flushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := e.Flush(context.WithoutCancel(ctx)); err != nil {
				e.log.Error("flush usage", "err", err)
			}
			return
		case <-t.C:
			if err := e.Flush(ctx); err != nil {
				e.log.Warn("flush usage", "err", err)
			}
			if m, ok := e.limiter.(*ratelimit.Memory); ok {
				m.Sweep(e.now())
			}
		}
	}
}
