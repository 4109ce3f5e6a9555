package cluster

import (
	"context"
	"crypto/rand"
	"database/sql"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
)

// heard records the changes a Listener delivers.
type heard struct {
	mu      sync.Mutex
	dropped map[[32]byte]bool
	purges  int
}

func (h *heard) deliver(c store.Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.All {
		h.purges++
	}
	for _, s := range c.Secrets {
		h.dropped[s] = true
	}
}

func (h *heard) has(s [32]byte) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dropped[s]
}

func (h *heard) purged() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.purges
}

// testDSN returns the DSN of a fresh schema on $TOKEND_TEST_POSTGRES, or
// skips the test.
func testDSN(t *testing.T) (dsn string, admin *sql.DB) {
	base := os.Getenv("TOKEND_TEST_POSTGRES")
	if base == "" {
		t.Skip("TOKEND_TEST_POSTGRES is not set; skipping the listener tests")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := "t_" + strings.ToLower(rand.Text()[:16])
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec("DROP SCHEMA " + schema + " CASCADE") })
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema, admin
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after 5s waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestListenerHearsChangesAndReconnects(t *testing.T) {
	dsn, admin := testDSN(t)
	ctx := t.Context()
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cache := &heard{dropped: map[[32]byte]bool{}}
	app := "listener_" + strings.ToLower(rand.Text()[:10])
	l, err := Listen(ctx, Config{DSN: dsn + "&application_name=" + app, Deliver: cache.deliver, PingEvery: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if n := cache.purged(); n != 1 {
		t.Fatalf("%d purges when listening began, want 1 (what was loaded before may be stale)", n)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { l.Run(rctx); close(done) }()
	defer func() { stop(); <-done }()

	keys := apikey.NewService(apikey.Config{DB: db})
	by := audit.Actor{ID: "test"}
	a, err := keys.CreateAPI(ctx, by, api.CreateAPIRequest{Name: "n", Audience: "aud", KeyPrefix: "lt"})
	if err != nil {
		t.Fatal(err)
	}
	k, token, err := keys.CreateKey(ctx, by, api.CreateKeyRequest{APIID: a.ID, Subject: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.RevokeKey(ctx, by, k.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the revocation's notification", func() bool { return cache.has(credential.Hash(token)) })

	// A rotation announces the old secret and the new one.
	k2, token2, err := keys.CreateKey(ctx, by, api.CreateKeyRequest{APIID: a.ID, Subject: "s"})
	if err != nil {
		t.Fatal(err)
	}
	_, token3, err := keys.RotateKey(ctx, by, k2.ID, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rotation's notification", func() bool {
		return cache.has(credential.Hash(token2)) && cache.has(credential.Hash(token3))
	})

	// Kill the listening backend: the listener reconnects and purges.
	if st, ok := l.Status(); !ok {
		t.Fatalf("status %q before the kill", st)
	}
	var killed int
	err = admin.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE application_name = $1`, app).Scan(&killed)
	if err != nil || killed == 0 {
		t.Fatalf("terminate listener: killed %d, %v", killed, err)
	}
	waitFor(t, "a purge after the reconnection", func() bool { return cache.purged() > 1 })
	waitFor(t, "listening again", func() bool { _, ok := l.Status(); return ok })
	_, token4, err := keys.RotateKey(ctx, by, k2.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a notification after the reconnection", func() bool { return cache.has(credential.Hash(token4)) })
}
