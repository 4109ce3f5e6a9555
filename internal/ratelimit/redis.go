package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// ErrUnavailable is returned (wrapped) when a shared limiter cannot decide
// because its backend does not answer.
var ErrUnavailable = errors.New("rate limiter unavailable")

// RedisConfig configures a Redis limiter.
type RedisConfig struct {
	// URL is redis://[user:password@]host:port[/db] or rediss://… for TLS,
	// with any option go-redis's ParseURL accepts (dial_timeout=…), and
	// key_prefix=…, which sets Prefix, so that deployments (or tests) can
	// share one Redis.
	URL string
	// Prefix starts every Redis key; default "tokend:rl:". A key is
	// Prefix + "{" + owner + "}:" + limit name: the owner (a key ID, never a
	// secret) in braces keeps one verification's limits in one Redis
	// Cluster slot.
	Prefix string
	// CallerClock decides on the caller's clock (the now passed to Take)
	// instead of the Redis server's. The default, the server clock, makes
	// every node judge by one clock, so a node whose clock is fast cannot
	// loosen a limit; tests set CallerClock to compare with Memory.
	CallerClock bool
}

// Redis is a limiter whose state lives in Redis, shared by every node
// that uses the same Redis and prefix. All limits of one Take are checked
// and consumed by one Lua script, atomically: a request refused by one
// limit consumes none. It decides exactly as Memory does, and its States
// are Memory's; the times in them are relative to the now passed to Take.
// It is safe for concurrent use.
type Redis struct {
	c           *redis.Client
	prefix      string
	callerClock bool
}

// withoutURL drops the URL from a *url.Error: a Redis URL may carry a
// password, and the error reaches the log and the terminal.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// NewRedis connects to the Redis at cfg.URL. The connection is made on
// first use; call Ping to check it. Unless the URL says otherwise, dials
// time out after 1s and reads and writes after 500ms, so that an
// unreachable Redis costs a verification little, and commands are never
// retried, since a retried script could consume twice.
func NewRedis(cfg RedisConfig) (*Redis, error) {
	raw, prefix, err := cutPrefix(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", withoutURL(err))
	}
	if cfg.Prefix != "" {
		prefix = cfg.Prefix
	}
	opt, err := redis.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", withoutURL(err))
	}
	q := raw[strings.IndexByte(raw, '?')+1:]
	if !strings.Contains(q, "dial_timeout=") {
		opt.DialTimeout = time.Second
	}
	if !strings.Contains(q, "read_timeout=") {
		opt.ReadTimeout = 500 * time.Millisecond
	}
	if !strings.Contains(q, "write_timeout=") {
		opt.WriteTimeout = 500 * time.Millisecond
	}
	opt.MaxRetries = -1
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	r := &Redis{c: redis.NewClient(opt), prefix: prefix, callerClock: cfg.CallerClock}
	if r.prefix == "" {
		r.prefix = "tokend:rl:"
	}
	return r, nil
}

// cutPrefix removes the key_prefix parameter, which go-redis does not
// know, from a Redis URL.
func cutPrefix(raw string) (string, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", err
	}
	q := u.Query()
	prefix := q.Get("key_prefix")
	if !q.Has("key_prefix") {
		return raw, "", nil
	}
	q.Del("key_prefix")
	u.RawQuery = q.Encode()
	return u.String(), prefix, nil
}

// Ping reports whether Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// Close closes the connections.
func (r *Redis) Close() error { return r.c.Close() }

// Key returns the Redis key of owner's limit name.
func (r *Redis) Key(owner, name string) string {
	return r.prefix + "{" + owner + "}:" + name
}

// Take decides one request of owner against limits, as Memory.Take does.
// Its error wraps ErrUnavailable when Redis does not answer, or is the
// context's error.
func (r *Redis) Take(ctx context.Context, owner string, limits []Limit, now time.Time, out []State) ([]State, bool, error) {
	if len(limits) == 0 {
		return out, true, nil
	}
	keys := make([]string, len(limits))
	args := make([]any, 2, 2+2*len(limits))
	if r.callerClock {
		t := now.UnixNano()
		args[0], args[1] = t/1e9, t%1e9
	} else {
		args[0], args[1] = "", ""
	}
	for i, l := range limits {
		keys[i] = r.Key(owner, l.Name)
		args = append(args, int64(l.Window), interval(l))
	}
	vals, err := gcraScript.Run(ctx, r.c, keys, args...).Int64Slice()
	if err != nil {
		if ctx.Err() != nil {
			return out, false, ctx.Err()
		}
		return out, false, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if len(vals) != 1+3*len(limits) {
		return out, false, fmt.Errorf("%w: script answered %d values for %d limits", ErrUnavailable, len(vals), len(limits))
	}
	ok := vals[0] == 1
	for i, l := range limits {
		v := vals[1+3*i:]
		st := State{Name: l.Name, Limit: l.Limit, Window: l.Window, Reset: now.Add(time.Duration(v[1])), RetryAfter: time.Duration(v[2])}
		if ok {
			st.Remaining = v[0]
		}
		out = append(out, st)
	}
	return out, ok, nil
}

// gcraScript is Memory.take in Lua. Redis's Lua numbers are doubles, exact
// only below 2^53, and unix nanoseconds are larger; so a stored arrival
// time is a decimal string, split into seconds and nanoseconds, and the
// arithmetic is on offsets from now, which stay far below 2^53 for any
// window up to 104 days; up to MaxWindow (366 days) they are exact
// to within a few nanoseconds, and doubles never overflow.
//
// KEYS: one per limit. ARGV: now's seconds and nanoseconds ("" and "" for
// the server's clock), then the window and the emission interval of each
// limit, in nanoseconds. It answers {ok, then per limit remaining, reset
// and retry-after, the last two as nanoseconds after now}.
var gcraScript = redis.NewScript(`
local now_s, now_n
-- A key expires once its arrival time has passed, by Redis's clock. With
-- the caller's clock, which Redis's may run apart from, it is kept a
-- minute longer: a stale key reads as an empty one, so this costs only
-- memory, while expiring early would forget admitted requests.
local slack = 1
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now_s, now_n = tonumber(t[1]), tonumber(t[2]) * 1000
else
  now_s, now_n = tonumber(ARGV[1]), tonumber(ARGV[2])
  slack = 60000
end
local n = #KEYS
local out = {1}
local after = {}
for i = 1, n do
  local w, iv = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  local d = 0
  local v = redis.call('GET', KEYS[i])
  if v then
    d = ((tonumber(string.sub(v, 1, -10)) or 0) - now_s) * 1e9 + (tonumber(string.sub(v, -9)) - now_n)
    if d < 0 then d = 0 end
  end
  local nxt = d + iv
  if nxt - w > 0 then
    out[1] = 0
    out[#out + 1], out[#out + 2], out[#out + 3] = 0, d, nxt - w
  else
    local a = w - nxt
    local q = math.floor(a / iv)
    if q * iv > a then q = q - 1 elseif (q + 1) * iv <= a then q = q + 1 end
    out[#out + 1], out[#out + 2], out[#out + 3] = q, nxt, 0
  end
  after[i] = nxt
end
if out[1] == 1 then
  for i = 1, n do
    local x = now_n + after[i]
    local r = math.fmod(x, 1e9)
    local s = now_s + (x - r) / 1e9
    redis.call('SET', KEYS[i], string.format('%d%09d', s, r), 'PX', math.ceil(after[i] / 1e6) + slack)
  end
end
return out
`)

// Claim records key (a signed request's key ID and nonce) for ttl and
// reports whether it was fresh, with one SET NX PX, so that every node on
// this Redis refuses a nonce any of them has seen. It implements
// httpsig.NonceStore; its error wraps ErrUnavailable when Redis does not
// answer.
func (r *Redis) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := r.c.SetNX(ctx, r.prefix+"nonce:"+key, 1, ttl).Result()
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return ok, nil
}
