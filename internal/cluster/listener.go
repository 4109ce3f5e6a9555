// Package cluster keeps the verification caches of several tokend nodes
// that share one PostgreSQL database in step. The store announces every
// change to a key on a notification channel (store.KeysChannel) inside the
// transaction that makes it; a Listener on each node hears it at commit
// and drops the changed secrets from that node's cache.
//
// A Listener that loses its connection may miss announcements, so on
// every reconnection it drops the whole cache; the cache TTL bounds what
// a missed announcement can cost in the meantime. On SQLite (one node)
// none of this runs.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tokend/tokend/internal/store"
)

// Cache is what a Listener keeps in step: verify.Engine.
type Cache interface {
	InvalidateHashes(hs ...[32]byte)
	Purge()
}

// Config configures a Listener.
type Config struct {
	// DSN is the postgres:// URL of the shared database.
	DSN   string
	Cache Cache
	// Logger receives connection changes; nil discards.
	Logger *slog.Logger
	// Registerer receives the metrics; nil registers none.
	Registerer prometheus.Registerer
	// PingEvery is how long the connection may be silent before it is
	// checked; default 5s. MaxBackoff caps the wait between reconnection
	// attempts; default 2s.
	PingEvery, MaxBackoff time.Duration
}

// Listener holds a dedicated connection listening on store.KeysChannel.
type Listener struct {
	cfg  Config
	log  *slog.Logger
	conn *pgx.Conn // owned by Run

	mu        sync.Mutex
	connected bool
	since     time.Time
	lastErr   error

	up          prometheus.Gauge
	reconnects  prometheus.Counter
	invalidated prometheus.Counter
}

// Listen connects and starts listening, so that no change committed after
// it returns is missed; Run then serves the connection.
func Listen(ctx context.Context, cfg Config) (*Listener, error) {
	l := &Listener{cfg: cfg, log: cfg.Logger,
		up: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tokend_invalidation_listener_up", Help: "1 while this node listens for key changes on PostgreSQL.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tokend_invalidation_reconnects_total", Help: "Reconnections of the key-change listener; each drops the whole cache.",
		}),
		invalidated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tokend_invalidations_received_total", Help: "Key-change notifications received from PostgreSQL.",
		}),
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.cfg.PingEvery <= 0 {
		l.cfg.PingEvery = 5 * time.Second
	}
	if l.cfg.MaxBackoff <= 0 {
		l.cfg.MaxBackoff = 2 * time.Second
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(l.up, l.reconnects, l.invalidated)
	}
	conn, err := l.connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("listen for key changes: %w", err)
	}
	l.conn = conn
	l.setState(true, nil)
	return l, nil
}

func (l *Listener) connect(ctx context.Context) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, l.cfg.DSN)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(cctx, "LISTEN "+pgx.Identifier{store.KeysChannel}.Sanitize()); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// Status describes the listener for /readyz, and reports whether it is
// listening.
func (l *Listener) Status() (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.connected {
		return "listening", true
	}
	return fmt.Sprintf("reconnecting since %s (cache TTL is the backstop): %v",
		l.since.UTC().Format(time.RFC3339), l.lastErr), false
}

func (l *Listener) setState(connected bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.connected != connected {
		l.since = time.Now()
	}
	l.connected, l.lastErr = connected, err
	if connected {
		l.up.Set(1)
	} else {
		l.up.Set(0)
	}
}

// Run serves notifications until ctx ends, reconnecting with backoff
// whenever the connection fails and dropping the whole cache each time
// it is back. It closes the connection when it returns.
func (l *Listener) Run(ctx context.Context) {
	defer func() {
		if l.conn != nil {
			l.conn.Close(context.Background())
		}
	}()
	for {
		err := l.serve(ctx)
		if ctx.Err() != nil {
			return
		}
		l.conn.Close(context.Background())
		l.conn = nil
		l.setState(false, err)
		l.log.Warn("lost the key-change listener; reconnecting", "err", err)
		if !l.reconnect(ctx) {
			return
		}
		l.cfg.Cache.Purge()
		l.reconnects.Inc()
		l.setState(true, nil)
		l.log.Info("key-change listener reconnected; dropped the verification cache")
	}
}

// reconnect retries with exponential backoff until it listens again
// (true) or ctx ends (false).
func (l *Listener) reconnect(ctx context.Context) bool {
	wait := 50 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		conn, err := l.connect(ctx)
		if err == nil {
			l.conn = conn
			return true
		}
		l.setState(false, err)
		wait = min(2*wait, l.cfg.MaxBackoff)
	}
}

// serve waits for notifications, checking a silent connection every
// PingEvery, until the connection fails or ctx ends.
func (l *Listener) serve(ctx context.Context) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, l.cfg.PingEvery)
		n, err := l.conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			l.invalidated.Inc()
			l.apply(n.Payload)
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case !errors.Is(err, context.DeadlineExceeded):
			return err
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err = l.conn.Ping(pctx)
		cancel()
		if err != nil {
			return err
		}
	}
}

func (l *Listener) apply(payload string) {
	hs, all := store.ParseKeysNotification(payload)
	if all {
		l.cfg.Cache.Purge()
		return
	}
	if len(hs) > 0 {
		l.cfg.Cache.InvalidateHashes(hs...)
	}
}
