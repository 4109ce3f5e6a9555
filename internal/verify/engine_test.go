package verify

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
)

func newTestEngine(t *testing.T, cfg Config) (*Engine, *apikey.Service, string) {
	t.Helper()
	db, err := store.Open(t.Context(), t.TempDir()+"/t.db", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg.DB = db
	e := New(cfg)
	keys := apikey.NewService(apikey.Config{DB: db, Now: cfg.Now})
	a, err := keys.CreateAPI(t.Context(), audit.System, api.CreateAPIRequest{Name: "a", Audience: "aud", KeyPrefix: "t"})
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := keys.CreateKey(t.Context(), audit.System, api.CreateKeyRequest{APIID: a.ID, Subject: "s"})
	if err != nil {
		t.Fatal(err)
	}
	return e, keys, tok
}

func code(t *testing.T, e *Engine, tok string) api.Code {
	t.Helper()
	var res Result
	if err := e.Verify(context.Background(), &Request{Token: tok, Cost: 1}, &res); err != nil {
		t.Fatal(err)
	}
	return res.Code
}

func TestBadChecksumNeedsNoLookup(t *testing.T) {
	e, _, tok := newTestEngine(t, Config{})
	forged := tok[:len(tok)-1] + string("0123456789"[(tok[len(tok)-1]+1)%10])
	if c := code(t, e, forged); c != api.CodeNotFound {
		t.Fatalf("forged: %s", c)
	}
	if n := value(e.metrics.cacheMisses) + value(e.metrics.cacheHits); n != 0 {
		t.Errorf("a token with a bad checksum reached the cache or database (%v lookups)", n)
	}
}

func TestMissesAreCached(t *testing.T) {
	e, _, tok := newTestEngine(t, Config{})
	unknown := credential.Generate("t")
	for range 3 {
		if c := code(t, e, unknown); c != api.CodeNotFound {
			t.Fatal(c)
		}
	}
	if misses := value(e.metrics.cacheMisses); misses != 1 {
		t.Errorf("3 verifications of one unknown token made %v database lookups, want 1", misses)
	}
	code(t, e, tok)
	code(t, e, tok)
	if hits := value(e.metrics.cacheHits); hits != 3 {
		t.Errorf("cache hits = %v, want 3", hits)
	}
}

func TestCacheTTLBackstop(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	e, _, tok := newTestEngine(t, Config{Now: clock, CacheTTL: 10 * time.Second})
	code(t, e, tok)
	now = now.Add(11 * time.Second)
	code(t, e, tok)
	if misses := value(e.metrics.cacheMisses); misses != 2 {
		t.Errorf("after the TTL: %v lookups, want 2", misses)
	}
}

func TestCacheBounded(t *testing.T) {
	c := newCache(10)
	for i := range 100 {
		c.put([32]byte{byte(i)}, &entry{cachedUntil: 1 << 62}, c.generation())
	}
	if n := c.len(); n != 10 {
		t.Errorf("len = %d after 100 inserts into a cache of 10", n)
	}
}

// TestUnknownTokensNeverEvictKnownOnes is the I4 follow-up: forged tokens
// with valid checksums (sent as admin keys, unauthenticated, or to
// /v1/verify) each inserted a negative entry, which in a full cache
// evicted a random entry, so an outsider could push out the keys in use.
func TestUnknownTokensNeverEvictKnownOnes(t *testing.T) {
	e, keys, tok := newTestEngine(t, Config{CacheSize: 2})
	a, err := keys.CreateAPI(t.Context(), audit.System, api.CreateAPIRequest{Name: "b", Audience: "aud2", KeyPrefix: "u"})
	if err != nil {
		t.Fatal(err)
	}
	_, tok2, err := keys.CreateKey(t.Context(), audit.System, api.CreateKeyRequest{APIID: a.ID, Subject: "s2"})
	if err != nil {
		t.Fatal(err)
	}
	code(t, e, tok)
	code(t, e, tok2)
	for range 200 {
		if c := code(t, e, credential.Generate("t")); c != api.CodeNotFound {
			t.Fatal(c)
		}
	}
	misses := value(e.metrics.cacheMisses)
	code(t, e, tok)
	code(t, e, tok2)
	if after := value(e.metrics.cacheMisses); after != misses {
		t.Errorf("%v of the 2 cached keys were evicted by unknown tokens", after-misses)
	}
}

// TestStaleFillDropped is the race a generation counter closes: a fill
// that read the database before an invalidation must not be stored after
// it.
func TestStaleFillDropped(t *testing.T) {
	c := newCache(10)
	h := [32]byte{1}
	gen := c.generation() // a miss starts its lookup
	c.drop(h)             // a revocation commits and invalidates
	c.put(h, &entry{found: true, cachedUntil: 1 << 62}, gen)
	if _, ok := c.get(h, 0); ok {
		t.Error("a fill that began before an invalidation was cached")
	}
	c.put(h, &entry{found: true, cachedUntil: 1 << 62}, c.generation())
	if _, ok := c.get(h, 0); !ok {
		t.Error("a fresh fill was not cached")
	}
}

func TestUsageFlushed(t *testing.T) {
	e, _, tok := newTestEngine(t, Config{})
	for range 3 {
		code(t, e, tok)
	}
	if err := e.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	rec, err := e.db.KeyBySecretHash(t.Context(), credential.Hash(tok))
	if err != nil || rec.Key.UsageCount != 3 || rec.Key.LastUsedAt.IsZero() {
		t.Errorf("usage = %d, last used %v (%v)", rec.Key.UsageCount, rec.Key.LastUsedAt, err)
	}
}

func value(c prometheus.Counter) float64 {
	var m dto.Metric
	c.Write(&m)
	return m.GetCounter().GetValue()
}
