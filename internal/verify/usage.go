package verify

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/internal/store"
)

// usage accumulates last-used times and counts between flushes. A crash
// loses at most one batch of this bookkeeping, never a decision.
type usage struct {
	mu sync.Mutex
	m  map[string]*store.Usage
}

func newUsage() *usage { return &usage{m: make(map[string]*store.Usage)} }

func (u *usage) record(keyID string, at time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if x, ok := u.m[keyID]; ok {
		x.Count++
		if at.After(x.LastUsed) {
			x.LastUsed = at
		}
		return
	}
	u.m[keyID] = &store.Usage{KeyID: keyID, LastUsed: at, Count: 1}
}

func (u *usage) take() []store.Usage {
	u.mu.Lock()
	m := u.m
	u.m = make(map[string]*store.Usage, len(m))
	u.mu.Unlock()
	out := make([]store.Usage, 0, len(m))
	for _, x := range m {
		out = append(out, *x)
	}
	// In key order, so that nodes flushing at once lock rows in the same
	// order and cannot deadlock each other.
	slices.SortFunc(out, func(a, b store.Usage) int { return strings.Compare(a.KeyID, b.KeyID) })
	return out
}

// restore merges a batch that could not be written back into the next.
func (u *usage) restore(batch []store.Usage) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, b := range batch {
		if x, ok := u.m[b.KeyID]; ok {
			x.Count += b.Count
			if b.LastUsed.After(x.LastUsed) {
				x.LastUsed = b.LastUsed
			}
			continue
		}
		u.m[b.KeyID] = &b
	}
}

// Flush writes the bookkeeping gathered so far.
func (e *Engine) Flush(ctx context.Context) error {
	if batch := e.usage.take(); len(batch) > 0 {
		if err := e.db.RecordUsage(ctx, batch); err != nil {
			e.usage.restore(batch) // the database may be back by the next flush
			return err
		}
	}
	if batch := e.uses.take(); len(batch) > 0 {
		if err := e.db.RecordKeyUses(ctx, batch, e.now()); err != nil {
			e.uses.restore(batch)
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
