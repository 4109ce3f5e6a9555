package ratelimit

import (
	"errors"
	"testing"
	"time"
)

// TestRedisFailures: counts grow, keep their last time, expire (a TTL
// of at most keep), and are cleared; a Redis that does not answer is ErrUnavailable.
func TestRedisFailures(t *testing.T) {
	r := testRedis(t, true)
	ctx := t.Context()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	if n, last, err := r.Failures(ctx, "a:x"); err != nil || n != 0 || !last.IsZero() {
		t.Fatalf("Failures(new) = %d, %v, %v", n, last, err)
	}
	for i := range 3 {
		n, err := r.AddFailure(ctx, "a:x", now.Add(time.Duration(i)*time.Second), time.Hour)
		if err != nil || n != int64(i+1) {
			t.Fatalf("AddFailure #%d = %d, %v", i+1, n, err)
		}
	}
	if n, last, err := r.Failures(ctx, "a:x"); err != nil || n != 3 || !last.Equal(now.Add(2*time.Second)) {
		t.Errorf("Failures = %d, %v, %v; want 3 at the last failure", n, last, err)
	}
	if ttl := r.c.PTTL(ctx, r.failureKey("a:x")).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("TTL = %v, want at most an hour", ttl)
	}
	if err := r.ClearFailures(ctx, "a:x"); err != nil {
		t.Fatal(err)
	}
	if n, _, err := r.Failures(ctx, "a:x"); err != nil || n != 0 {
		t.Errorf("Failures after Clear = %d, %v", n, err)
	}
	down, err := NewRedis(RedisConfig{URL: "redis://127.0.0.1:1/0"})
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	if _, err := down.AddFailure(ctx, "a:x", now, time.Hour); !errors.Is(err, ErrUnavailable) {
		t.Errorf("AddFailure on a Redis that is down = %v, want ErrUnavailable", err)
	}
}
