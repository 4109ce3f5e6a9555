package oauth

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tokend/tokend/internal/ids"
	"github.com/tokend/tokend/internal/signer"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/verify"
)

// newTestService returns a Service over a real SQLite database in a
// temporary directory, with one secret client.
func newTestService(tb testing.TB) (*Service, store.Client, string) {
	return newTestServiceTTL(tb, 0)
}

// newTestServiceTTL is newTestService with a signer whose MaxTokenTTL is
// maxTTL (0: the default).
func newTestServiceTTL(tb testing.TB, maxTTL time.Duration) (*Service, store.Client, string) {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, tb.TempDir()+"/tokend.db", store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	sg, err := signer.New(ctx, signer.Config{DB: db, KEK: make([]byte, signer.KEKSize), MaxTokenTTL: maxTTL,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	eng := verify.New(verify.Config{DB: db, Metrics: verify.NewMetrics(prometheus.NewRegistry())})
	s, err := New(Config{DB: db, Signer: sg, Verifier: eng, Issuer: "http://127.0.0.1:1"})
	if err != nil {
		tb.Fatal(err)
	}
	now := s.clock()
	c := store.Client{ID: ids.New(ClientIDPrefix, now), Name: "c", GrantTypes: []string{GrantClientCredentials},
		APIScopes: map[string][]string{}, AccessTokenTTL: time.Hour, RefreshTokenTTL: time.Hour, TokenFormat: FormatJWT,
		AuthMethod: AuthSecretBasic, CreatedAt: now, UpdatedAt: now}
	secret := s.setSecret(&c)
	if err := db.CreateClient(ctx, c, store.Event{Time: now, Actor: "test", Action: "client.create", TargetType: "client", TargetID: c.ID}); err != nil {
		tb.Fatal(err)
	}
	return s, c, secret
}

// floodAddr returns the i-th of many distinct client addresses, IPv4 and
// IPv6 (each IPv6 one in its own /64).
func floodAddr(i int) string {
	if i%2 == 0 {
		return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()
	}
	return fmt.Sprintf("2001:db8:%x:%x::1", i>>16, i&0xffff)
}

// flood sends n failing authentications, each from its own address: a
// third with a 60 000-byte client id, a third with unknown well-formed
// ids, a third with a wrong secret for client c.
func flood(ctx context.Context, s *Service, c store.Client, from, n int) {
	long := strings.Repeat("c", 60_000)
	for i := from; i < from+n; i++ {
		id := c.ID
		switch i % 3 {
		case 0:
			id = long + fmt.Sprint(i)
		case 1:
			id = ids.New(ClientIDPrefix, time.Now())
		}
		s.Authenticate(ctx, Credentials{Basic: true, BasicID: id, BasicSecret: "tkcs_wrong", IP: floodAddr(i)})
	}
}

// TestGuardBoundedUnderFlood floods client authentication from ten times
// as many addresses as the guard may track: it never holds more than its
// bound, and keeps throttling the client whose secret is being guessed
// (M4).
func TestGuardBoundedUnderFlood(t *testing.T) {
	s, c, secret := newTestService(t)
	const bound = 500
	s.guard = newGuard(20, time.Minute, bound)
	flood(t.Context(), s, c, 0, 10*bound)
	if n := s.guard.len(); n > 2*bound {
		t.Errorf("the guard holds %d entries after the flood, want at most %d", n, 2*bound)
	}
	_, err := s.Authenticate(t.Context(), Credentials{Basic: true, BasicID: c.ID, BasicSecret: secret, IP: "192.0.2.1"})
	if e, ok := err.(*Error); !ok || e.Status != 429 {
		t.Errorf("the guessed client after the flood: %v, want 429", err)
	}
}

// TestMalformedClientIDsNeverReachTheGuard sends ids tokend could not
// have issued: the guard records nothing (M4).
func TestMalformedClientIDsNeverReachTheGuard(t *testing.T) {
	s, _, _ := newTestService(t)
	for i, id := range []string{strings.Repeat("x", 60_000), "cli_", "cli_" + strings.Repeat("w", 26)} {
		_, err := s.Authenticate(t.Context(), Credentials{Basic: true, BasicID: id, BasicSecret: "tkcs_x", IP: floodAddr(i)})
		if e, ok := err.(*Error); !ok || e.Code != ErrInvalidClient {
			t.Errorf("client id of %d bytes: %v, want invalid_client", len(id), err)
		}
	}
	if n := s.guard.len(); n != 0 {
		t.Errorf("the guard holds %d entries, want 0", n)
	}
}

// TestIPv6FailuresCountPerSlash64 fails from many addresses of one IPv6
// /64: they share one count, and end up throttled.
func TestIPv6FailuresCountPerSlash64(t *testing.T) {
	s, _, _ := newTestService(t)
	var last error
	for i := range 250 {
		_, last = s.Authenticate(t.Context(), Credentials{Basic: true, BasicID: ids.New(ClientIDPrefix, time.Now()),
			BasicSecret: "tkcs_x", IP: fmt.Sprintf("2001:db8::%x", i+1)})
	}
	if e, ok := last.(*Error); !ok || e.Status != 429 {
		t.Errorf("failure 250 from one /64: %v, want 429", last)
	}
}

// BenchmarkAuthFailureFlood floods client authentication with failures
// from b.N distinct addresses (see flood) and reports the heap in use
// before, halfway and after, with the guard's entries: once the guard is
// full, memory stays flat however long the flood. Run:
//
//	go test ./internal/oauth -run '^$' -bench AuthFailureFlood -benchtime 300000x
func BenchmarkAuthFailureFlood(b *testing.B) {
	s, c, _ := newTestService(b)
	ctx := context.Background()
	flood(ctx, s, c, 0, 3000) // warm up: caches, pools
	before := heapInUse()
	b.ResetTimer()
	flood(ctx, s, c, 3000, b.N/2)
	b.StopTimer()
	half := heapInUse()
	b.StartTimer()
	flood(ctx, s, c, 3000+b.N/2, b.N-b.N/2)
	b.StopTimer()
	after := heapInUse()
	mib := func(n uint64) float64 { return float64(n) / (1 << 20) }
	b.ReportMetric(mib(before), "heap-before-MiB")
	b.ReportMetric(mib(half), "heap-half-MiB")
	b.ReportMetric(mib(after), "heap-after-MiB")
	b.ReportMetric(float64(s.guard.len()), "guard-entries")
	b.Logf("%d failures from as many addresses: heap in use %.1f MiB before, %.1f MiB halfway, %.1f MiB after; guard entries %d (bound %d)",
		b.N, mib(before), mib(half), mib(after), s.guard.len(), 2*maxGuardEntries)
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
