package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/tokend/tokend/internal/cluster"
	"github.com/tokend/tokend/internal/httpsig"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/user"
	"github.com/tokend/tokend/internal/verify"
)

// peers is what a node shares with the other nodes of a deployment: the
// change listener (PostgreSQL) and the Redis rate limiter (--redis).
// On SQLite both are nil.
type peers struct {
	dialect string
	redis   *ratelimit.Redis
	limiter *ratelimit.Failover
	// documents is limiter's view for client addresses, whose per-node
	// fallback is bounded: anyone can make up addresses.
	documents *ratelimit.Bounded
	listener  *cluster.Listener
}

// checkPeers validates the many-node flags.
func (c *serveConfig) checkPeers() error {
	switch c.redisFailure {
	case "fallback", "refuse":
	default:
		return fmt.Errorf("%w: --redis-failure is fallback or refuse, not %q", errUsage, c.redisFailure)
	}
	if c.redis != "" && c.database == "" {
		return fmt.Errorf("%w: --redis shares rate limits between nodes, which needs --database postgres://…", errUsage)
	}
	if c.database != "" && c.signing.issuer == "" {
		// The default issuer is this node's own address, so two nodes
		// would refuse each other's JWTs.
		return fmt.Errorf("%w: with --database every node must sign and accept JWTs under one issuer: "+
			"set --issuer (or $TOKEND_ISSUER) to the public URL clients reach tokend at, the same on every node, "+
			"e.g. --issuer https://tokend.example.com", errUsage)
	}
	return nil
}

// newLimiter connects to Redis when --redis is set; otherwise it returns
// nil, and the engine decides rate limits in process.
func newLimiter(ctx context.Context, cfg serveConfig, log *slog.Logger, reg prometheus.Registerer) (*peers, error) {
	p := &peers{}
	if cfg.redis == "" {
		return p, nil
	}
	redis.SetLogger(redisLogger{log}) // go-redis has only a global logger; see redislog.go
	r, err := ratelimit.NewRedis(ratelimit.RedisConfig{URL: cfg.redis})
	if err != nil {
		return nil, fmt.Errorf("%w: --redis: %v", errUsage, err)
	}
	p.redis = r
	p.limiter = ratelimit.NewFailover(ratelimit.FailoverConfig{Shared: r, Refuse: cfg.redisFailure == "refuse",
		Logger: log, Registerer: reg})
	p.documents = p.limiter.Bounded(oauth.MaxDocumentFetchAddresses)
	p.limiter.Probe(ctx) // a Redis down at start is an outage like any other: logged, and decided by policy
	return p, nil
}

// rateLimiter is the engine's limiter: nil (in process) without Redis.
func (p *peers) rateLimiter() verify.Limiter {
	if p.limiter == nil {
		return nil
	}
	return p.limiter
}

// nonces is where signed requests' nonces are remembered: Redis, shared
// by every node, or (nil) in process without it. A Redis that does not
// answer makes a signed request undecided (an error), never a replay
// accepted.
func (p *peers) nonces() httpsig.NonceStore {
	if p.redis == nil {
		return nil
	}
	return p.redis
}

// signatureVerifier checks signed requests (RFC 9421) with the default
// window and skew, its nonces in Redis when there is one.
func signatureVerifier(p *peers) *httpsig.Verifier {
	v := &httpsig.Verifier{Nonces: httpsig.NewMemory(0)}
	if n := p.nonces(); n != nil {
		v.Nonces = n
	}
	return v
}

// signInFailures is the sign-in throttle's shared counter: nil (in
// process) without Redis.
func (p *peers) signInFailures() user.FailureCounter {
	if p.redis == nil {
		return nil
	}
	return p.redis
}

// deviceFailures is the shared counter of wrong device user codes: nil
// (in process) without Redis.
func (p *peers) deviceFailures() oauth.FailureCounter {
	if p.redis == nil {
		return nil
	}
	return p.redis
}

// documentLimiter is where client ID metadata document fetches are
// limited per address: the shared limiter's bounded view, or nil (in
// process) without Redis.
func (p *peers) documentLimiter() oauth.Limiter {
	if p.documents == nil {
		return nil
	}
	return p.documents
}

// listen starts the change listener on PostgreSQL, which hands what
// other nodes change to db's subscribers.
func (p *peers) listen(ctx context.Context, db *store.DB, dsn string, log *slog.Logger, reg prometheus.Registerer) error {
	p.dialect = db.Dialect()
	if p.dialect != "postgres" {
		return nil
	}
	l, err := cluster.Listen(ctx, cluster.Config{DSN: dsn, Deliver: db.Deliver, Logger: log, Registerer: reg})
	if err != nil {
		return err
	}
	p.listener = l
	return nil
}

// run starts the background loops until ctx ends.
func (p *peers) run(ctx context.Context, wg *sync.WaitGroup) {
	if p.limiter != nil {
		wg.Go(func() { p.limiter.Run(ctx) })
	}
	if p.listener != nil {
		wg.Go(func() { p.listener.Run(ctx) })
	}
}

func (p *peers) close() {
	if p.redis != nil {
		p.redis.Close()
	}
}

// mode names how the node runs, for the start line and /readyz.
func (p *peers) mode() string {
	switch {
	case p.dialect == "sqlite":
		return "single node, SQLite"
	case p.limiter == nil:
		return "PostgreSQL, rate limits per node"
	}
	return "PostgreSQL + Redis, shared rate limits"
}

// ready adds the node's view of its peers to /readyz. A node is not ready
// while it cannot hear store changes, or while Redis is down under
// --redis-failure=refuse.
func (p *peers) ready(context.Context) (map[string]string, bool) {
	d := map[string]string{"mode": p.mode()}
	ok := true
	switch {
	case p.dialect == "sqlite":
		d["ratelimits"] = "in process (one node)"
	case p.limiter == nil:
		d["ratelimits"] = "per node: each node enforces every limit on its own (no --redis)"
	case p.limiter.Shared():
		d["ratelimits"] = "shared (redis)"
	case p.limiter.Refuses():
		d["ratelimits"] = "redis unreachable: refusing rate-limited verifications"
		ok = false
	default:
		d["ratelimits"] = "redis unreachable: per node until it answers"
	}
	if p.listener != nil {
		st, listening := p.listener.Status()
		d["invalidation"] = st
		ok = ok && listening
	}
	return d, ok
}
