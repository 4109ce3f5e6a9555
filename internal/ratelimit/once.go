package ratelimit

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"
)

// UseOnce records key for ttl and reports whether it was new, with one
// SET NX: of every node's calls with one key, one gets true. DPoP's
// replay cache (dpop.ReplayCache) uses it so that a proof's jti is
// spent once across nodes. key is opaque bytes (a hash), stored in hex.
// Its error wraps ErrUnavailable when Redis does not answer.
func (r *Redis) UseOnce(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := r.c.SetNX(ctx, r.prefix+"once:"+hex.EncodeToString([]byte(key)), 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return ok, nil
}
