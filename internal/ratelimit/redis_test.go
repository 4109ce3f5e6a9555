package ratelimit

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// testRedis returns a limiter on $TOKEND_TEST_REDIS under a prefix of its
// own, whose keys are deleted at the end, or skips the test.
func testRedis(t *testing.T, callerClock bool) *Redis {
	t.Helper()
	url := os.Getenv("TOKEND_TEST_REDIS")
	if url == "" {
		t.Skip("TOKEND_TEST_REDIS is not set (e.g. redis://127.0.0.1:6379/0)")
	}
	prefix := "tokend:test:" + crand.Text()[:10] + ":"
	r, err := NewRedis(RedisConfig{URL: url, Prefix: prefix, CallerClock: callerClock})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := r.c.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			r.c.Del(ctx, keys...)
		}
		r.Close()
	})
	return r
}

// TestRedisMatchesMemory runs one random sequence of requests against
// Memory and Redis and requires the same answer, State for State.
func TestRedisMatchesMemory(t *testing.T) {
	r := testRedis(t, true)
	m := NewMemory()
	sets := [][]Limit{
		{{Name: "min", Limit: 10, Window: time.Minute}},
		{{Name: "sec", Limit: 3, Window: time.Second}, {Name: "min", Limit: 10, Window: time.Minute}},
		{{Name: "odd", Limit: 7, Window: 1000*time.Millisecond + 3}},
		{{Name: "one", Limit: 1, Window: 90 * time.Millisecond}, {Name: "day", Limit: 50, Window: 24 * time.Hour}},
		{{Name: "zero", Limit: 0, Window: time.Second}},
	}
	owners := []string{"key_a", "key_b"}
	rng := rand.New(rand.NewPCG(1, 2))
	now := t0.Add(123456789) // nanoseconds that a microsecond clock would lose
	ctx := t.Context()
	refused := 0
	for i := range 600 {
		owner := owners[rng.IntN(len(owners))]
		lims := sets[rng.IntN(len(sets))]
		if rng.IntN(3) == 0 {
			now = now.Add(time.Duration(rng.Int64N(int64(400 * time.Millisecond))))
		}
		want, wantOK, _ := m.Take(ctx, owner, lims, now, nil)
		got, gotOK, err := r.Take(ctx, owner, lims, now, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if gotOK != wantOK {
			t.Fatalf("request %d (%s %v at %v): redis ok=%v, memory ok=%v", i, owner, lims, now, gotOK, wantOK)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("request %d (%s at %v): states differ (-memory +redis):\n%s", i, owner, now, d)
		}
		if !gotOK {
			refused++
		}
	}
	if refused < 100 || refused > 500 {
		t.Errorf("%d of 600 refused; the sequence should exercise both answers", refused)
	}
	t.Logf("%d of 600 refused, identically", refused)
}

// TestRedisServerClock checks the default mode, which judges by Redis's
// clock: a burst is admitted, the next request is refused, and refusals
// consume nothing.
func TestRedisServerClock(t *testing.T) {
	r := testRedis(t, false)
	lims := []Limit{{Name: "min", Limit: 5, Window: time.Minute}, {Name: "day", Limit: 100, Window: 24 * time.Hour}}
	for i := range 5 {
		st, ok, err := r.Take(t.Context(), "k", lims, time.Now(), nil)
		if err != nil || !ok {
			t.Fatalf("request %d: ok=%v err=%v", i, ok, err)
		}
		if st[0].Remaining != int64(4-i) {
			t.Errorf("request %d: remaining %d, want %d", i, st[0].Remaining, 4-i)
		}
	}
	for range 3 {
		st, ok, err := r.Take(t.Context(), "k", lims, time.Now(), nil)
		if err != nil || ok {
			t.Fatalf("6th request: ok=%v err=%v, want refused", ok, err)
		}
		if st[0].RetryAfter <= 0 || st[0].RetryAfter > 12*time.Second {
			t.Errorf("retry after %v, want (0, 12s]", st[0].RetryAfter)
		}
	}
	st, _, _ := r.Take(t.Context(), "k", lims[1:], time.Now(), nil)
	if st[0].Remaining != 94 {
		t.Errorf("day remaining %d after 5 admitted and 3 refused, want 94", st[0].Remaining)
	}
}

// deadRedis returns a limiter pointing at a port where nothing listens.
func deadRedis(t *testing.T) *Redis {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r, err := NewRedis(RedisConfig{URL: "redis://" + addr + "/0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestFailoverFallsBackPerNode(t *testing.T) {
	f := NewFailover(FailoverConfig{Shared: deadRedis(t)})
	lims := []Limit{{Name: "min", Limit: 2, Window: time.Minute}}
	for i, want := range []bool{true, true, false} {
		_, ok, err := f.Take(t.Context(), "k", lims, t0, nil)
		if err != nil || ok != want {
			t.Fatalf("request %d: ok=%v err=%v, want ok=%v", i, ok, err, want)
		}
	}
	if f.Shared() {
		t.Error("Shared() = true with Redis unreachable")
	}
}

func TestFailoverRefuses(t *testing.T) {
	f := NewFailover(FailoverConfig{Shared: deadRedis(t), Refuse: true})
	lims := []Limit{{Name: "min", Limit: 2, Window: time.Minute}}
	for range 2 {
		if _, _, err := f.Take(t.Context(), "k", lims, t0, nil); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	}
}

func TestFailoverReturnsToRedis(t *testing.T) {
	r := testRedis(t, false)
	f := NewFailover(FailoverConfig{Shared: r, ProbeEvery: 20 * time.Millisecond})
	f.setDown(errors.New("test"))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(5 * time.Second)
	for !f.Shared() {
		if time.Now().After(deadline) {
			t.Fatal("still per node after 5s with Redis up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, ok, err := f.Take(t.Context(), "k", []Limit{{Name: "x", Limit: 1, Window: time.Minute}}, time.Now(), nil); err != nil || !ok {
		t.Fatalf("take after recovery: ok=%v err=%v", ok, err)
	}
	if n, _ := r.c.Exists(t.Context(), r.Key("k", "x")).Result(); n != 1 {
		t.Error("the decision after recovery left no state in Redis")
	}
}

// TestFailoverBoundedFallback floods a Bounded view of a Failover on a
// real Redis with more owners than its bound, during an outage (made
// as TestFailoverReturnsToRedis makes one): its per-node state never
// grows past the bound, an owner over its limit is still refused, and
// the keys' per-node state in the Failover itself is neither grown nor
// dropped by the flood.
func TestFailoverBoundedFallback(t *testing.T) {
	const bound = 64
	r := testRedis(t, true)
	f := NewFailover(FailoverConfig{Shared: r})
	addrs := f.Bounded(bound)
	key := []Limit{{Name: "min", Limit: 2, Window: time.Minute}}
	addr := []Limit{{Name: "cimd", Limit: 1, Window: time.Minute}}
	if _, ok, err := addrs.Take(t.Context(), "addr_up", addr, t0, nil); err != nil || !ok {
		t.Fatalf("take with Redis up: ok=%v err=%v", ok, err)
	}
	if n, _ := r.c.Exists(t.Context(), r.Key("addr_up", "cimd")).Result(); n != 1 || addrs.Len() != 0 {
		t.Fatalf("with Redis up: %d states in Redis, %d per node; want 1 and 0", n, addrs.Len())
	}

	f.setDown(errors.New("test"))
	if _, ok, err := f.Take(t.Context(), "key_a", key, t0, nil); err != nil || !ok {
		t.Fatalf("key's first take in the outage: ok=%v err=%v", ok, err)
	}
	for i := range 10 * bound {
		if _, ok, err := addrs.Take(t.Context(), fmt.Sprint("addr", i), addr, t0, nil); err != nil || !ok {
			t.Fatalf("address %d: ok=%v err=%v", i, ok, err)
		}
		if n := addrs.Len(); n > bound {
			t.Fatalf("after %d addresses in the outage the fallback holds %d states, want at most %d", i+1, n, bound)
		}
	}
	if _, ok, _ := addrs.Take(t.Context(), fmt.Sprint("addr", 10*bound-1), addr, t0, nil); ok {
		t.Error("the last address was admitted twice within its window")
	}
	if n := f.local.m.Load().Len(); n != 1 {
		t.Errorf("the keys' fallback holds %d states after the flood, want 1", n)
	}
	for i, want := range []bool{true, false} {
		if _, ok, err := f.Take(t.Context(), "key_a", key, t0, nil); err != nil || ok != want {
			t.Errorf("key's take %d after the flood: ok=%v err=%v, want ok=%v", i+2, ok, err, want)
		}
	}

	f.setUp() // Redis answers again: the per-node state is dropped
	if n, k := addrs.Len(), f.local.m.Load().Len(); n != 0 || k != 0 {
		t.Errorf("after the outage the fallbacks hold %d address and %d key states, want none", n, k)
	}
}

// TestRedisURLErrorsHideThePassword needs no Redis: a URL that does not
// parse must not be echoed, since it may carry a password.
func TestRedisURLErrorsHideThePassword(t *testing.T) {
	for _, u := range []string{"redis://:hunter2@bad:port:x/0", "redis://:hunter2@[::1/0", "rediss://u:hunter2@h:6379/notanumber"} {
		_, err := NewRedis(RedisConfig{URL: u})
		if err == nil {
			t.Errorf("NewRedis(%q) accepted a bad URL", u)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("NewRedis error shows the password: %v", err)
		}
	}
}

// TestHugeWindowsStillLimit is the L3 regression: a window long enough to
// wrap int64 nanoseconds (2562047h, about 292 years) admitted every
// request in Memory while Redis refused the second. Both limiters must
// refuse it, and decide alike at MaxWindow, where the Redis script's
// doubles are exact to within a few nanoseconds.
func TestHugeWindowsStillLimit(t *testing.T) {
	type taker interface {
		Take(context.Context, string, []Limit, time.Time, []State) ([]State, bool, error)
	}
	limiters := map[string]taker{"memory": NewMemory()}
	if os.Getenv("TOKEND_TEST_REDIS") != "" {
		limiters["redis"] = testRedis(t, true)
	}
	windows := []time.Duration{MaxWindow, 2562047 * time.Hour, time.Duration(math.MaxInt64)}
	near := cmpopts.EquateApproxTime(time.Microsecond)
	for name, l := range limiters {
		for _, w := range windows {
			if name == "redis" && w == math.MaxInt64 {
				continue // beyond what a Redis integer reply holds; apikey caps windows at MaxWindow
			}
			lims := []Limit{{Name: "w", Limit: 3, Window: w}}
			owner := fmt.Sprintf("k%d", w)
			for i, at := range []time.Duration{0, time.Hour, 2 * time.Hour} {
				st, ok, err := l.Take(t.Context(), owner, lims, t0.Add(at), nil)
				want := State{Name: "w", Limit: 3, Window: w, Remaining: int64(2 - i), Reset: t0.Add(time.Duration(i+1) * (w / 3))}
				if err != nil || !ok || !cmp.Equal(st[0], want, near) {
					t.Errorf("%s, window %v, request %d = %+v, %v, %v; want %+v", name, w, i+1, st, ok, err, want)
				}
			}
			st, ok, err := l.Take(t.Context(), owner, lims, t0.Add(3*time.Hour), nil)
			if err != nil || ok || st[0].RetryAfter < time.Hour {
				t.Errorf("%s, window %v: fourth = %+v, %v, %v; want refused", name, w, st, ok, err)
			}
		}
	}
}

// TestRedisCallerClockOutlivesRedisClock proves that with the caller's
// clock, a limit's state is not lost when Redis's own clock runs ahead of
// the caller's (as it does when a caller is slow, or in tests that step
// time): the request repeated at the same caller instant is still refused.
// The real sleep is the point: it is Redis's clock that must move.
func TestRedisCallerClockOutlivesRedisClock(t *testing.T) {
	r := testRedis(t, true)
	lims := []Limit{{Name: "burst", Limit: 1, Window: 20 * time.Millisecond}}
	now := t0
	if _, ok, err := r.Take(t.Context(), "k", lims, now, nil); err != nil || !ok {
		t.Fatalf("first request: ok=%v err=%v", ok, err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, ok, err := r.Take(t.Context(), "k", lims, now, nil); err != nil || ok {
		t.Errorf("second request at the same caller instant: ok=%v err=%v, want refused", ok, err)
	}
}
