package user

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/internal/store"
)

var quick = ThrottlePolicy{Free: 2, Base: time.Second, Lock: 8 * time.Second, Forget: time.Hour}

func (e *env) throttled(t *testing.T, reg prometheus.Registerer, account, address ThrottlePolicy) {
	e.svc = New(Config{DB: e.db, Now: func() time.Time { return e.now }, Params: testParams,
		AccountThrottle: account, AddressThrottle: address, Registerer: reg})
}

func retryAfter(err error) time.Duration {
	if te, ok := errors.AsType[*ThrottledError](err); ok {
		return te.RetryAfter
	}
	return -1
}

func TestThrottleGrowsAndForgets(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	reg := prometheus.NewRegistry()
	e.throttled(t, reg, quick, ThrottlePolicy{Free: 1000, Base: time.Second, Lock: time.Minute, Forget: time.Hour})
	e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	for _, username := range []string{"alice", "nobody"} { // a username nobody has is throttled alike
		var waits []time.Duration
		for range 7 {
			_, err := e.svc.SignIn(ctx, username, "wrong-password-1", browser)
			d := retryAfter(err)
			if d > 0 {
				e.now = e.now.Add(d)
				_, err = e.svc.SignIn(ctx, username, "wrong-password-1", browser)
			}
			if !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("SignIn(%s, wrong) after %v = %v, want ErrInvalidCredentials", username, waits, err)
			}
			waits = append(waits, max(d, 0))
		}
		// Two free failures, then 1, 2 and 4 seconds, then the 8s lock.
		want := fmt.Sprint([]time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second})
		if got := fmt.Sprint(waits); got != want {
			t.Errorf("%s: waits %s, want %s", username, got, want)
		}
	}
	if n := counterValue(t, e.svc.metrics.locks.WithLabelValues("account")); n != 2 {
		t.Errorf("account locks metric = %v, want 2", n)
	}
	evs, _ := e.db.ListEvents(ctx, store.EventFilter{Action: "user.sign_in_locked", Limit: 10})
	if len(evs) != 2 {
		t.Errorf("%d sign_in_locked events, want 2", len(evs))
	}
	// A right password clears the account's count.
	e.now = e.now.Add(quick.Lock)
	if _, err := e.svc.SignIn(ctx, "alice", goodPassword, browser); err != nil {
		t.Fatalf("SignIn(alice) after the lock = %v", err)
	}
	for range 2 {
		if _, err := e.svc.SignIn(ctx, "alice", "x", browser); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("SignIn(alice, wrong) after a success = %v, want a free failure", err)
		}
	}
	// The lock is temporary, and the count is forgotten after Forget.
	e.now = e.now.Add(time.Hour)
	if _, err := e.svc.SignIn(ctx, "nobody", "x", browser); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("SignIn after Forget = %v, want ErrInvalidCredentials", err)
	}
	if _, err := e.svc.SignIn(ctx, "nobody", "x", browser); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("second SignIn after Forget = %v, want a free failure", err)
	}
}

// TestThrottleLockRefusesRightPassword: once locked, even the right
// password waits (it is not checked), and another address does not help
// against the account lock.
func TestThrottleLockRefusesRightPassword(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.throttled(t, nil, quick, DefaultAddressThrottle)
	e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	for i := range 6 {
		e.svc.SignIn(ctx, "alice", "wrong-password-1", ClientMeta{IP: fmt.Sprintf("192.0.2.%d", i)})
		e.now = e.now.Add(10 * time.Second)
	}
	e.svc.SignIn(ctx, "alice", "wrong-password-1", browser)
	_, err := e.svc.SignIn(ctx, "alice", goodPassword, ClientMeta{IP: "203.0.113.9"})
	if d := retryAfter(err); d <= 0 || d > quick.Lock+time.Second {
		t.Errorf("SignIn(locked, right password) = %v, want throttled up to the lock", err)
	}
	e.now = e.now.Add(quick.Lock)
	if _, err := e.svc.SignIn(ctx, "alice", goodPassword, browser); err != nil {
		t.Errorf("SignIn after the lock = %v", err)
	}
}

func TestThrottlePerAddress(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.throttled(t, nil, DefaultAccountThrottle, quick)
	e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	ip := ClientMeta{IP: "2001:db8::1"}
	for i := range 3 {
		e.svc.SignIn(ctx, fmt.Sprintf("user%d", i), "wrong-password-1", ip)
	}
	// Same /64, another username: throttled by the address.
	if _, err := e.svc.SignIn(ctx, "alice", goodPassword, ClientMeta{IP: "2001:db8::ffff"}); retryAfter(err) <= 0 {
		t.Errorf("SignIn from the same /64 = %v, want throttled", err)
	}
	if _, err := e.svc.SignIn(ctx, "alice", goodPassword, ClientMeta{IP: "2001:db8:1::1"}); err != nil {
		t.Errorf("SignIn from another /64 = %v", err)
	}
}

func TestMemoryFailuresBounded(t *testing.T) {
	f := newMemoryFailures(64)
	now := time.Now()
	for i := range 1000 {
		if _, err := f.AddFailure(context.Background(), fmt.Sprint(i), now, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.len(); n > 64 {
		t.Errorf("%d keys held, want at most 64", n)
	}
}

func TestThrottlePolicyWait(t *testing.T) {
	p := ThrottlePolicy{Free: 3, Base: time.Second, Lock: time.Minute}
	for n, want := range []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		16 * time.Second, 32 * time.Second, time.Minute, time.Minute} {
		if got := p.wait(int64(n)); got != want {
			t.Errorf("wait(%d) = %v, want %v", n, got, want)
		}
	}
	if got := p.wait(1 << 40); got != time.Minute {
		t.Errorf("wait(huge) = %v, want the lock", got)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestThrottleSharedThroughRedis: two services (two nodes) with the same
// Redis count one account's failures together; without it, each counts
// its own.
func TestThrottleSharedThroughRedis(t *testing.T) {
	url := os.Getenv("TOKEND_TEST_REDIS")
	if url == "" {
		t.Skip("TOKEND_TEST_REDIS is not set")
	}
	r, err := ratelimit.NewRedis(ratelimit.RedisConfig{URL: url, Prefix: "tokend:test:" + strings.ToLower(rand.Text()[:10]) + ":"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	e := newEnv(t)
	ctx := t.Context()
	e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	node := func() *Service {
		return New(Config{DB: e.db, Now: func() time.Time { return e.now }, Params: testParams,
			AccountThrottle: quick, Failures: r})
	}
	a, b := node(), node()
	for _, s := range []*Service{a, b} {
		if _, err := s.SignIn(ctx, "alice", "wrong-password-1", browser); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("SignIn(wrong) = %v", err)
		}
	}
	for _, s := range []*Service{a, b} {
		if _, err := s.SignIn(ctx, "alice", goodPassword, browser); retryAfter(err) <= 0 {
			t.Errorf("SignIn after two failures on two nodes = %v, want throttled on each", err)
		}
	}
	e.now = e.now.Add(time.Minute)
	if _, err := b.SignIn(ctx, "alice", goodPassword, browser); err != nil {
		t.Fatal(err)
	}
	// The success on b cleared the shared count: a lets two failures pass.
	for range 2 {
		if _, err := a.SignIn(ctx, "alice", "wrong-password-1", browser); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("SignIn(wrong) after a success elsewhere = %v, want a free failure", err)
		}
	}
}

// TestThrottleFallsBackWhenRedisIsDown: a shared store that fails leaves
// the throttle counting in process, never open.
func TestThrottleFallsBackWhenRedisIsDown(t *testing.T) {
	down, err := ratelimit.NewRedis(ratelimit.RedisConfig{URL: "redis://127.0.0.1:1/0?dial_timeout=100ms"})
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	e := newEnv(t)
	ctx := t.Context()
	e.svc = New(Config{DB: e.db, Now: func() time.Time { return e.now }, Params: testParams, AccountThrottle: quick, Failures: down})
	e.create(t, api.CreateUserRequest{Username: "alice", Password: goodPassword})
	for range 2 {
		if _, err := e.svc.SignIn(ctx, "alice", "wrong-password-1", browser); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("SignIn(wrong) with Redis down = %v", err)
		}
	}
	if _, err := e.svc.SignIn(ctx, "alice", goodPassword, browser); retryAfter(err) <= 0 {
		t.Errorf("SignIn after two failures with Redis down = %v, want throttled", err)
	}
}
