// Package cluster keeps the caches of several tokend nodes that share one
// PostgreSQL database in step: it is the PostgreSQL half of tokend's one
// invalidation channel.
//
// The contract (the store's half is documented in package store, at
// store.ChangesChannel):
//
//   - Every committed store change that can alter a verification answer
//     announces what it affects, as a store.Change: API key secrets and
//     opaque access tokens by hash, revoked JWT ids, OAuth clients, APIs,
//     and the signing key set. The store sends it with pg_notify inside
//     the transaction, so it is delivered at commit and never for a
//     rollback, and hands it to the node's own subscribers right after
//     the commit.
//   - A [Listener] on each node holds one dedicated connection that
//     LISTENs on store.ChangesChannel, decodes each payload and hands it
//     to the node's subscribers (store.DB.Deliver). The subscribers are
//     the only caches of verification answers: the verification cache and
//     its JWT revocation state (package verify), the signer's key set
//     (package signer), and the OAuth client and API caches (package
//     oauth). So a change on one node governs every node's next answer
//     within milliseconds; the tests hold it to one second.
//   - A payload too large for one notification, or one a node cannot
//     read, means "drop everything". A Listener that loses its connection
//     may miss changes, so when it is back it delivers store.Change{All:
//     true}: every subscriber drops its whole cache, the JWT revocation
//     state, and reloads the signing keys; the OAuth caches refill. The
//     cache TTLs bound what a missed change costs while it reconnects,
//     and /readyz reports the node not ready meanwhile.
//
// On SQLite (one node) none of this runs: the store's in-process
// delivery is the whole channel.
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

// Config configures a Listener.
type Config struct {
	// DSN is the postgres:// URL of the shared database.
	DSN string
	// Deliver receives every change heard, and store.Change{All: true}
	// when listening begins and after every reconnection:
	// store.DB.Deliver. Required.
	Deliver func(store.Change)
	// Logger receives connection changes; nil discards.
	Logger *slog.Logger
	// Registerer receives the metrics; nil registers none.
	Registerer prometheus.Registerer
	// PingEvery is how long the connection may be silent before it is
	// checked; default 5s. MaxBackoff caps the wait between reconnection
	// attempts; default 2s.
	PingEvery, MaxBackoff time.Duration
}

// Listener holds a dedicated connection listening on store.ChangesChannel.
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
// it returns is missed, then delivers store.Change{All: true} for what
// the node loaded before; Run then serves the connection.
func Listen(ctx context.Context, cfg Config) (*Listener, error) {
	l := &Listener{cfg: cfg, log: cfg.Logger,
		up: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tokend_invalidation_listener_up", Help: "1 while this node listens for store changes on PostgreSQL.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tokend_invalidation_reconnects_total", Help: "Reconnections of the change listener; each drops every cache.",
		}),
		invalidated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tokend_invalidations_received_total", Help: "Change notifications received from PostgreSQL.",
		}),
	}
	if cfg.Deliver == nil {
		return nil, errors.New("listen for store changes: no Deliver")
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
		return nil, fmt.Errorf("listen for store changes: %w", err)
	}
	l.conn = conn
	l.setState(true, nil)
	// What the node loaded before it listened (its signing keys) may
	// have missed a change, as after a reconnection.
	cfg.Deliver(store.Change{All: true})
	return l, nil
}

func (l *Listener) connect(ctx context.Context) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, l.cfg.DSN)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(cctx, "LISTEN "+pgx.Identifier{store.ChangesChannel}.Sanitize()); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// Status describes the listener for /readyz, and reports whether it is
// listening. /readyz needs no credentials, so the text never holds the
// connection error, which names hosts, users and databases; that goes to
// the log.
func (l *Listener) Status() (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.connected {
		return "listening", true
	}
	return fmt.Sprintf("reconnecting since %s (cache TTL is the backstop; the log has the cause)",
		l.since.UTC().Format(time.RFC3339)), false
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
// whenever the connection fails and delivering store.Change{All: true}
// each time it is back. It closes the connection when it returns.
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
		l.log.Warn("lost the change listener; reconnecting", "err", err)
		if !l.reconnect(ctx) {
			return
		}
		l.cfg.Deliver(store.Change{All: true})
		l.reconnects.Inc()
		l.setState(true, nil)
		l.log.Info("change listener reconnected; dropped every cache")
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
		l.log.Warn("change listener cannot reconnect; retrying", "err", err)
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
			l.cfg.Deliver(store.ParseChange(n.Payload))
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
