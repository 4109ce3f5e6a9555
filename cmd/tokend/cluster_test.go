package main

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/ratelimit"
)

// TestDocumentLimiterFallbackBounded wires the limiters as serve does
// with --redis on a real Redis, then makes an outage by closing the
// connection: addresses beyond the cap cannot grow the per-node fallback
// of the metadata document fetch limit past
// oauth.MaxDocumentFetchAddresses, and keys' per-node limits keep their
// state through the flood.
func TestDocumentLimiterFallbackBounded(t *testing.T) {
	url := os.Getenv("TOKEND_TEST_REDIS")
	if url == "" {
		t.Skip("TOKEND_TEST_REDIS is not set (e.g. redis://127.0.0.1:6379/0)")
	}
	prefix := "tokend:test:" + strings.ToLower(rand.Text()[:10]) + ":"
	cfg := serveConfig{redis: url + "?key_prefix=" + prefix, redisFailure: "fallback"}
	p, err := newLimiter(t.Context(), cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := p.rateLimiter()
	docs, ok := p.documentLimiter().(*ratelimit.Bounded)
	if !ok {
		t.Fatalf("documentLimiter() is %T, want a *ratelimit.Bounded", p.documentLimiter())
	}
	now := time.Now()
	key := []ratelimit.Limit{{Name: "min", Limit: 1, Window: time.Minute}}
	doc := []ratelimit.Limit{{Name: "cimd_fetch", Limit: 30, Window: time.Minute}}
	if _, _, err := docs.Take(t.Context(), "cimd:up", doc, now, nil); err != nil || !p.limiter.Shared() {
		t.Fatalf("take with Redis up: err=%v, shared=%v", err, p.limiter.Shared())
	}

	p.close() // the outage: every command fails from now on
	if _, ok, err := keys.Take(t.Context(), "key_a", key, now, nil); err != nil || !ok || p.limiter.Shared() {
		t.Fatalf("key's first take in the outage: ok=%v err=%v shared=%v; want admitted per node", ok, err, p.limiter.Shared())
	}
	n := oauth.MaxDocumentFetchAddresses + 5000
	for i := range n {
		if _, ok, err := docs.Take(t.Context(), fmt.Sprint("cimd:", i), doc, now, nil); err != nil || !ok {
			t.Fatalf("address %d: ok=%v err=%v", i, ok, err)
		}
	}
	if got := docs.Len(); got > oauth.MaxDocumentFetchAddresses {
		t.Errorf("after %d addresses in the outage the fallback holds %d states, want at most %d", n, got, oauth.MaxDocumentFetchAddresses)
	}
	if _, ok, err := keys.Take(t.Context(), "key_a", key, now, nil); err != nil || ok {
		t.Errorf("key's second take after the flood: ok=%v err=%v; want refused (its state kept)", ok, err)
	}
}
