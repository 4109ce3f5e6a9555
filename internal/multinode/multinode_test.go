package multinode

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/client"
)

// These tests run two real tokend processes on one PostgreSQL and one
// Redis. They need $TOKEND_TEST_POSTGRES and $TOKEND_TEST_REDIS (.ci/run
// sets both); each test works in a fresh schema and Redis key prefix of
// its own. Faults are injected only into a private redis-server or
// PostgreSQL cluster the test starts, never into the shared services.

var bin struct {
	once sync.Once
	path string
	err  error
	dir  string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bin.dir != "" {
		os.RemoveAll(bin.dir)
	}
	os.Exit(code)
}

// services returns the shared PostgreSQL and Redis URLs and the binary,
// or skips the test.
func services(t *testing.T) (pg, redis, tokend string) {
	t.Helper()
	pg, redis = os.Getenv("TOKEND_TEST_POSTGRES"), os.Getenv("TOKEND_TEST_REDIS")
	if pg == "" || redis == "" {
		t.Skip("the many-node tests need TOKEND_TEST_POSTGRES and TOKEND_TEST_REDIS " +
			"(e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable and redis://127.0.0.1:6379/0)")
	}
	return pg, redis, tokendBinary(t)
}

func tokendBinary(t *testing.T) string {
	bin.once.Do(func() {
		if bin.dir, bin.err = os.MkdirTemp("", "tokend-multinode-"); bin.err == nil {
			bin.path, bin.err = Build(context.Background(), bin.dir)
		}
	})
	if bin.err != nil {
		t.Fatal(bin.err)
	}
	return bin.path
}

// pair is two nodes on one database, and an admin key.
type pair struct {
	a, b  *Node
	admin string
	dsn   string
}

// startPair starts two nodes on dsn with the extra serve flags.
func startPair(t *testing.T, tokend, dsn string, flags ...string) *pair {
	t.Helper()
	ctx := t.Context()
	admin, err := AdminKey(ctx, tokend, "--database", dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := &pair{admin: admin, dsn: dsn}
	args := []string{"--database", dsn, "--kek-file", kekFile(t)}
	if !slices.Contains(flags, "--issuer") {
		args = append(args, "--issuer", "http://tokend.multinode.test") // one issuer for both nodes
	}
	args = append(args, flags...)
	for _, n := range []**Node{&p.a, &p.b} {
		node, err := StartNode(ctx, tokend, args...)
		if err != nil {
			t.Fatal(err)
		}
		*n = node
		t.Cleanup(func() {
			node.Stop()
			if t.Failed() {
				t.Logf("log of node %s:\n%s", node.URL, node.Logs())
			}
		})
	}
	return p
}

// freshDSN returns a DSN of a fresh schema on the shared PostgreSQL.
func freshDSN(t *testing.T, pg string) string {
	dsn, drop, err := NewSchema(t.Context(), pg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	return dsn
}

// redisURL returns the shared Redis's URL with a key prefix of the test's
// own.
func redisURL(redis string) string {
	return WithParam(redis, "key_prefix", "tokend:test:"+Suffix()+":")
}

func newAPI(t *testing.T, c *client.Client) string {
	t.Helper()
	a, err := c.CreateAPI(t.Context(), api.CreateAPIRequest{Name: "multinode", Audience: "mn-" + Suffix(),
		KeyPrefix: "mn", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func newKey(t *testing.T, c *client.Client, req api.CreateKeyRequest) (id, token string) {
	t.Helper()
	if req.Subject == "" {
		req.Subject = "user"
	}
	k, err := c.CreateKey(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	return k.Key.ID, k.Secret
}

func mustCode(t *testing.T, n *Node, admin, token string, want api.Code) {
	t.Helper()
	got, err := n.Verify(t.Context(), admin, token)
	if err != nil || got != want {
		t.Fatalf("verify on %s = %q, %v; want %q", n.URL, got, err, want)
	}
}

// warm makes both nodes cache token without consuming anything: a scope
// the key lacks is refused before limits and credits.
func (p *pair) warm(t *testing.T, token string) {
	t.Helper()
	for _, n := range []*Node{p.a, p.b} {
		res, err := n.Client(p.admin).Verify(t.Context(), api.VerifyRequest{Token: token, Scopes: []string{"absent"}})
		if err != nil || res.Code != api.CodeInsufficientScope {
			t.Fatalf("warm-up on %s: %+v, %v", n.URL, res, err)
		}
	}
}

// burst sends n verifications of token at once, alternating nodes, and
// counts the answers by code. It returns how long the burst took.
func (p *pair) burst(t *testing.T, token string, n int) (map[api.Code]int, time.Duration) {
	t.Helper()
	var mu sync.Mutex
	counts := map[api.Code]int{}
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		node := []*Node{p.a, p.b}[i%2]
		wg.Go(func() {
			<-gate
			code, err := node.Verify(t.Context(), p.admin, token)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				counts["error: "+api.Code(err.Error())]++
				return
			}
			counts[code]++
		})
	}
	start := time.Now()
	close(gate)
	wg.Wait()
	return counts, time.Since(start)
}

func percentile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func TestTwoNodes(t *testing.T) {
	pg, redis, tokend := services(t)
	p := startPair(t, tokend, freshDSN(t, pg), "--redis", redisURL(redis))
	ca := p.a.Client(p.admin)
	apiID := newAPI(t, ca)

	t.Run("mode", func(t *testing.T) {
		status, d, err := p.b.Ready(t.Context())
		if err != nil || status != 200 {
			t.Fatalf("readyz = %d, %v", status, err)
		}
		if d["mode"] != "PostgreSQL + Redis, shared rate limits" || d["ratelimits"] != "shared (redis)" || d["invalidation"] != "listening" {
			t.Errorf("readyz details = %v", d)
		}
	})

	t.Run("revocation reaches the other node within 1s", func(t *testing.T) {
		const reps = 100
		times := make([]time.Duration, 0, reps)
		for i := range reps {
			id, token := newKey(t, ca, api.CreateKeyRequest{APIID: apiID})
			mustCode(t, p.b, p.admin, token, api.CodeValid) // now cached on B
			start := time.Now()
			if _, err := ca.RevokeKey(t.Context(), id); err != nil {
				t.Fatal(err)
			}
			for {
				code, err := p.b.Verify(t.Context(), p.admin, token)
				if err != nil {
					t.Fatal(err)
				}
				if code == api.CodeRevoked {
					break
				}
				if time.Since(start) > time.Second {
					t.Fatalf("repetition %d: B still answers %s 1s after the revocation on A", i, code)
				}
			}
			times = append(times, time.Since(start))
		}
		t.Logf("revocation on A to REVOKED on B, %d repetitions (from sending the revocation): p50 %v, p99 %v, max %v",
			reps, percentile(times, 0.50), percentile(times, 0.99), slices.Max(times))
	})

	t.Run("a limit of 100 per minute admits exactly 100 of 300 over both nodes", func(t *testing.T) {
		_, token := newKey(t, ca, api.CreateKeyRequest{APIID: apiID, Scopes: []string{"read"},
			RateLimits: []api.RateLimit{{Name: "minute", Limit: 100, Window: api.Duration(time.Minute)}}})
		p.warm(t, token)
		counts, took := p.burst(t, token, 300)
		// GCRA frees one request every 600ms; a burst that took longer
		// than that may rightly admit up to one more per 600ms, but need
		// not (the last requests may arrive before the slot frees).
		most := 100 + int(took/(600*time.Millisecond))
		valid := counts[api.CodeValid]
		if valid < 100 || valid > most || counts[api.CodeRateLimited] != 300-valid {
			t.Fatalf("answers %v in %v, want 100 to %d VALID and the rest RATE_LIMITED", counts, took, most)
		}
		t.Logf("answers %v in %v", counts, took)
	})

	t.Run("50 credits admit exactly 50 of 200 over both nodes", func(t *testing.T) {
		_, token := newKey(t, ca, api.CreateKeyRequest{APIID: apiID, Scopes: []string{"read"},
			Credits: &api.Credits{Remaining: 50}})
		p.warm(t, token)
		counts, took := p.burst(t, token, 200)
		if counts[api.CodeValid] != 50 || counts[api.CodeUsageExceeded] != 150 {
			t.Fatalf("answers %v, want 50 VALID and 150 USAGE_EXCEEDED", counts)
		}
		t.Logf("answers %v in %v", counts, took)
	})

	t.Run("usage bookkeeping of both nodes adds up", func(t *testing.T) {
		id, token := newKey(t, ca, api.CreateKeyRequest{APIID: apiID})
		countValid(t, p.a, p.admin, token, 30)
		countValid(t, p.b, p.admin, token, 20)
		deadline := time.Now().Add(10 * time.Second) // flushed every 2s
		for {
			k, err := p.b.Client(p.admin).GetKey(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if k.UsageCount == 50 && k.LastUsedAt != nil {
				break
			}
			if k.UsageCount > 50 || time.Now().After(deadline) {
				t.Fatalf("usage count %d, want 50", k.UsageCount)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// countValid verifies token n times on node and counts VALID answers;
// any error fails the test.
func countValid(t *testing.T, node *Node, admin, token string, n int) int {
	t.Helper()
	valid := 0
	for range n {
		code, err := node.Verify(t.Context(), admin, token)
		if err != nil {
			t.Fatalf("verify on %s: %v", node.URL, err)
		}
		if code == api.CodeValid {
			valid++
		}
	}
	return valid
}

// waitReady polls both nodes' /readyz until cond holds for each.
func (p *pair) waitReady(t *testing.T, what string, cond func(status int, d map[string]string) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range []*Node{p.a, p.b} {
		for {
			status, d, err := n.Ready(t.Context())
			if err == nil && cond(status, d) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: waited 30s for %s; /readyz says %d %v %v", n.URL, what, status, d, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func TestRedisOutage(t *testing.T) {
	pg, _, tokend := services(t)
	rd, err := StartRedis(0)
	if err != nil {
		t.Skipf("cannot run a private redis-server: %v", err)
	}
	t.Cleanup(rd.Stop)
	p := startPair(t, tokend, freshDSN(t, pg), "--redis", rd.URL())
	ca := p.a.Client(p.admin)
	apiID := newAPI(t, ca)
	limited := func(n int64) string {
		_, token := newKey(t, ca, api.CreateKeyRequest{APIID: apiID,
			RateLimits: []api.RateLimit{{Name: "hour", Limit: n, Window: api.Duration(time.Hour)}}})
		return token
	}

	shared := limited(10)
	if got := countValid(t, p.a, p.admin, shared, 10) + countValid(t, p.b, p.admin, shared, 10); got != 10 {
		t.Fatalf("with Redis up: %d of 20 VALID over both nodes, want 10 (shared)", got)
	}

	rd.Stop()
	perNode := limited(5)
	a, b := countValid(t, p.a, p.admin, perNode, 10), countValid(t, p.b, p.admin, perNode, 10)
	if a != 5 || b != 5 {
		t.Fatalf("with Redis down: %d and %d of 10 VALID per node, want 5 and 5 (per-node limits)", a, b)
	}
	p.waitReady(t, "per-node limits reported", func(status int, d map[string]string) bool {
		return status == 200 && d["ratelimits"] == "redis unreachable: per node until it answers"
	})
	if !strings.Contains(p.a.Logs(), "redis unreachable") || strings.Count(p.a.Logs(), "redis unreachable") != 1 {
		t.Errorf("node A logged the outage %d times, want once", strings.Count(p.a.Logs(), "redis unreachable"))
	}

	rd, err = StartRedis(rd.Port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rd.Stop)
	p.waitReady(t, "shared limits again", func(status int, d map[string]string) bool {
		return status == 200 && d["ratelimits"] == "shared (redis)"
	})
	again := limited(10)
	if got := countValid(t, p.a, p.admin, again, 10) + countValid(t, p.b, p.admin, again, 10); got != 10 {
		t.Fatalf("after Redis came back: %d of 20 VALID over both nodes, want 10 (shared)", got)
	}
}

func TestPostgresRestart(t *testing.T) {
	_, redis, tokend := services(t)
	priv, err := StartPostgres()
	if err != nil {
		t.Skipf("cannot run a private PostgreSQL cluster: %v", err)
	}
	t.Cleanup(priv.Remove)
	p := startPair(t, tokend, priv.DSN(), "--redis", redisURL(redis), "--cache-ttl", "5m")
	ca := p.a.Client(p.admin)
	apiID := newAPI(t, ca)
	_, token := newKey(t, ca, api.CreateKeyRequest{APIID: apiID})
	mustCode(t, p.a, p.admin, token, api.CodeValid)
	mustCode(t, p.b, p.admin, token, api.CodeValid)

	if err := priv.Stop(); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		mustCode(t, p.a, p.admin, token, api.CodeValid)
		mustCode(t, p.b, p.admin, token, api.CodeValid)
	}
	p.waitReady(t, "not ready without the database", func(status int, d map[string]string) bool {
		return status == 503 && d["database"] == "postgres: unreachable"
	})
	mustCode(t, p.b, p.admin, token, api.CodeValid)

	if err := priv.Start(); err != nil {
		t.Fatal(err)
	}
	p.waitReady(t, "ready again", func(status int, d map[string]string) bool {
		return status == 200 && d["invalidation"] == "listening"
	})
	// Both nodes work against the database again, and hear changes.
	id, token2 := newKey(t, ca, api.CreateKeyRequest{APIID: apiID})
	mustCode(t, p.b, p.admin, token2, api.CodeValid)
	start := time.Now()
	if _, err := ca.RevokeKey(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	for {
		code, err := p.b.Verify(t.Context(), p.admin, token2)
		if err != nil {
			t.Fatal(err)
		}
		if code == api.CodeRevoked {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("after the restart, B still answers %s 1s after the revocation on A", code)
		}
	}
	mustCode(t, p.a, p.admin, token, api.CodeValid)
}

func TestKillDuringCreates(t *testing.T) {
	pg, redis, tokend := services(t)
	p := startPair(t, tokend, freshDSN(t, pg), "--redis", redisURL(redis))
	ca := p.a.Client(p.admin)
	apiID := newAPI(t, ca)

	type created struct{ id, token string }
	var mu sync.Mutex
	var answered []created
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				k, err := ca.CreateKey(context.Background(), api.CreateKeyRequest{APIID: apiID, Subject: "s"})
				if err != nil {
					if _, ok := errors.AsType[*api.Problem](err); ok {
						t.Errorf("create refused: %v", err)
					}
					return // the node is gone
				}
				mu.Lock()
				answered = append(answered, created{k.Key.ID, k.Secret})
				mu.Unlock()
			}
		})
	}
	time.Sleep(400 * time.Millisecond)
	p.a.Kill()
	wg.Wait()
	if len(answered) == 0 {
		t.Fatal("no creation was answered before the kill")
	}

	cb := p.b.Client(p.admin)
	for _, k := range answered {
		mustCode(t, p.b, p.admin, k.token, api.CodeValid)
		if _, err := cb.GetKey(t.Context(), k.id); err != nil {
			t.Fatalf("answered key %s: %v", k.id, err)
		}
	}
	db, err := sql.Open("pgx", p.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var keys, halfWritten int
	err = db.QueryRowContext(t.Context(), `SELECT count(*),
	count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM key_secrets s WHERE s.key_id = k.id)
		OR NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.target_id = k.id AND e.action = 'key.create'))
FROM keys k WHERE k.api_id = $1`, apiID).Scan(&keys, &halfWritten)
	if err != nil {
		t.Fatal(err)
	}
	if halfWritten != 0 || keys < len(answered) {
		t.Fatalf("%d keys stored, %d answered, %d without their secret or audit event", keys, len(answered), halfWritten)
	}
	t.Logf("%d creations answered before SIGKILL, %d keys stored, none half-written", len(answered), keys)
}
