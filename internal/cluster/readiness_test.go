package cluster

import (
	"context"
	"crypto/rand"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// TestStatusNeverShowsTheConnectionError is the I7 regression: /readyz,
// which needs no credentials, showed the listener's raw pgx error, naming
// the host, user and database. The listener is cut off by making its role
// unable to log in; its status then says it is reconnecting, without the
// error text.
func TestStatusNeverShowsTheConnectionError(t *testing.T) {
	dsn, admin := testDSN(t)
	ctx := t.Context()
	role := "tokend_rd_" + strings.ToLower(rand.Text()[:10])
	if _, err := admin.ExecContext(ctx, "CREATE ROLE "+role+" LOGIN"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role)
		admin.Exec("DROP ROLE " + role)
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	l, err := Listen(ctx, Config{DSN: u.String(), Deliver: func(store.Change) {}, PingEvery: 50 * time.Millisecond,
		MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { l.Run(rctx); close(done) }()
	defer func() { stop(); <-done }()

	if _, err := admin.ExecContext(ctx, "ALTER ROLE "+role+" NOLOGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role); err != nil {
		t.Fatal(err)
	}
	var st string
	waitFor(t, "the listener to fail to reconnect", func() bool {
		var ok bool
		st, ok = l.Status()
		return !ok && strings.Contains(st, "reconnecting")
	})
	waitFor(t, "a failed reconnection to be recorded", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.lastErr != nil && strings.Contains(l.lastErr.Error(), role)
	})
	st, _ = l.Status()
	for _, leak := range []string{role, "127.0.0.1", "SQLSTATE", "FATAL", "failed to connect"} {
		if strings.Contains(st, leak) {
			t.Errorf("status %q shows %q", st, leak)
		}
	}
}
