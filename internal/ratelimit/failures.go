package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The sign-in throttle of package user counts failures per account and
// client address, and the device-code guessing limit of package oauth
// per client address; with Redis the counts are shared by every node. Each
// key is a Redis hash of the count (n) and the time of the last failure
// (last, unix microseconds on the caller's clock), which expires keep
// after the last failure. Keys are what the caller passes (package user
// passes hashes of usernames, never a username or password; package
// oauth "device:" and a hash of the address).

func (r *Redis) failureKey(key string) string { return r.prefix + "signin:{" + key + "}" }

// Failures returns the count of key and the time of its last failure.
// Its error wraps ErrUnavailable when Redis does not answer.
func (r *Redis) Failures(ctx context.Context, key string) (int64, time.Time, error) {
	vs, err := r.c.HMGet(ctx, r.failureKey(key), "n", "last").Result()
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	n, last := parseInt(vs[0]), parseInt(vs[1])
	if n == 0 {
		return 0, time.Time{}, nil
	}
	return n, time.UnixMicro(last).UTC(), nil
}

func parseInt(v any) int64 {
	s, _ := v.(string)
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// AddFailure counts one failure of key at now, atomically, keeps the
// count for keep after now, and returns the new count.
func (r *Redis) AddFailure(ctx context.Context, key string, now time.Time, keep time.Duration) (int64, error) {
	k := r.failureKey(key)
	var incr *redis.IntCmd
	_, err := r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		incr = p.HIncrBy(ctx, k, "n", 1)
		p.HSet(ctx, k, "last", now.UnixMicro())
		p.PExpire(ctx, k, keep)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return incr.Val(), nil
}

// ClearFailures forgets key.
func (r *Redis) ClearFailures(ctx context.Context, key string) error {
	if err := r.c.Del(ctx, r.failureKey(key)).Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}
