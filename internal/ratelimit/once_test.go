package ratelimit

import (
	"errors"
	"testing"
	"time"
)

// TestRedisUseOnce: a key is new once, then seen, until its TTL ends.
func TestRedisUseOnce(t *testing.T) {
	r := testRedis(t, true)
	ctx := t.Context()
	key := "\x00\x01binary-key-16by"
	if ok, err := r.UseOnce(ctx, key, time.Minute); !ok || err != nil {
		t.Fatalf("UseOnce(new) = %v, %v", ok, err)
	}
	if ok, err := r.UseOnce(ctx, key, time.Minute); ok || err != nil {
		t.Fatalf("UseOnce(seen) = %v, %v; want false", ok, err)
	}
	if ttl := r.c.PTTL(ctx, r.prefix+"once:000162696e6172792d6b65792d31366279").Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("TTL = %v, want at most a minute", ttl)
	}
	down, err := NewRedis(RedisConfig{URL: "redis://127.0.0.1:1/0"})
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	if _, err := down.UseOnce(ctx, key, time.Minute); !errors.Is(err, ErrUnavailable) {
		t.Errorf("UseOnce on a Redis that does not answer = %v, want ErrUnavailable", err)
	}
}
