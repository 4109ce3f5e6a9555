package audit

import (
	"context"
	"log/slog"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// DefaultRetention is how long events are kept unless configured
// otherwise: a year, long enough for yearly reviews, short enough that
// the log does not grow without bound.
const DefaultRetention = 365 * 24 * time.Hour

// RetentionConfig configures a Retention.
type RetentionConfig struct {
	// DB holds the audit log. Required.
	DB *store.DB
	// Keep is how long an event is kept; 0 keeps events forever.
	Keep time.Duration
	// Every is how often old events are deleted; default 1h.
	Every time.Duration
	// Batch is how many events one transaction deletes; default 1000.
	Batch int
	// Logger receives sweeps and failures; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Retention deletes audit events older than its Keep, in bounded
// batches: the only way events ever leave the log.
type Retention struct {
	db    *store.DB
	keep  time.Duration
	every time.Duration
	batch int
	log   *slog.Logger
	now   func() time.Time
}

// NewRetention returns a Retention for cfg.
func NewRetention(cfg RetentionConfig) *Retention {
	r := &Retention{db: cfg.DB, keep: cfg.Keep, every: cfg.Every, batch: cfg.Batch, log: cfg.Logger, now: cfg.Now}
	if r.every <= 0 {
		r.every = time.Hour
	}
	if r.batch <= 0 {
		r.batch = 1000
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

// Run sweeps at once and then every Every until ctx ends; with Keep 0 it
// returns at once.
func (r *Retention) Run(ctx context.Context) {
	if r.keep <= 0 {
		return
	}
	t := time.NewTicker(r.every)
	defer t.Stop()
	for {
		if n, err := r.Sweep(ctx); err != nil {
			r.log.WarnContext(ctx, "audit retention", "err", err)
		} else if n > 0 {
			r.log.InfoContext(ctx, "audit retention deleted old events", "count", n, "keep", r.keep.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep deletes the events older than Keep, Batch per transaction until
// none is left, and returns how many went. With Keep 0 it deletes nothing.
func (r *Retention) Sweep(ctx context.Context) (int64, error) {
	if r.keep <= 0 {
		return 0, nil
	}
	cutoff := r.now().Add(-r.keep)
	var total int64
	for {
		n, err := r.db.DeleteEventsBefore(ctx, cutoff, r.batch)
		total += n
		if err != nil || n == 0 || ctx.Err() != nil {
			return total, err
		}
	}
}
