package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// FailoverConfig configures a Failover.
type FailoverConfig struct {
	Shared *Redis
	// Refuse makes Take fail while Redis is unreachable, instead of
	// deciding with per-node limits.
	Refuse bool
	// ProbeEvery is how often Run pings Redis; default 1s.
	ProbeEvery time.Duration
	Logger     *slog.Logger
	// Registerer receives the metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Failover decides with a shared Redis limiter while Redis answers. When
// Redis stops answering, it logs that once and, by policy, either decides
// with an in-process Memory (every node then enforces each limit on its
// own, so a client spreading requests over n nodes gets up to n times the
// limit) or refuses to decide. Run probes Redis and switches back when it
// answers again; the per-node state is dropped then. It is safe for
// concurrent use.
//
// Its per-node Memory is unbounded, for owners that are few and known
// (keys). Owners anyone can make up (client addresses) go through a
// Bounded view instead, whose per-node state is its own and bounded.
type Failover struct {
	shared *Redis
	refuse bool
	every  time.Duration
	log    *slog.Logger

	mu        sync.Mutex // serializes switches, so each logs once; guards fallbacks
	down      atomic.Bool
	local     *fallback   // the per-node state of Take
	fallbacks []*fallback // local and every Bounded view's, fresh at each outage

	sharedGauge prometheus.Gauge
	outages     prometheus.Counter
	localTakes  prometheus.Counter
}

// NewFailover returns a Failover that starts on Redis.
func NewFailover(cfg FailoverConfig) *Failover {
	f := &Failover{shared: cfg.Shared, refuse: cfg.Refuse, every: cfg.ProbeEvery, log: cfg.Logger,
		sharedGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tokend_ratelimit_shared", Help: "1 while rate limits are decided in Redis, 0 while Redis is unreachable.",
		}),
		outages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tokend_ratelimit_redis_outages_total", Help: "Times Redis became unreachable.",
		}),
		localTakes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tokend_ratelimit_local_decisions_total", Help: "Rate-limit decisions made per node because Redis was unreachable.",
		}),
	}
	if f.every <= 0 {
		f.every = time.Second
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	f.local = newFallback(0)
	f.fallbacks = []*fallback{f.local}
	f.sharedGauge.Set(1)
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(f.sharedGauge, f.outages, f.localTakes)
	}
	return f
}

// Take decides in Redis, or, while Redis is unreachable, per node or not
// at all (an error wrapping ErrUnavailable) as the policy says.
func (f *Failover) Take(ctx context.Context, owner string, limits []Limit, now time.Time, out []State) ([]State, bool, error) {
	return f.take(ctx, f.local, owner, limits, now, out)
}

// take decides in Redis, or with local while Redis is unreachable.
func (f *Failover) take(ctx context.Context, local *fallback, owner string, limits []Limit, now time.Time, out []State) ([]State, bool, error) {
	if !f.down.Load() {
		n := len(out)
		res, ok, err := f.shared.Take(ctx, owner, limits, now, out)
		if err == nil || !errors.Is(err, ErrUnavailable) {
			return res, ok, err
		}
		f.setDown(err)
		out = res[:n]
	}
	if f.refuse {
		return out, false, ErrUnavailable
	}
	f.localTakes.Inc()
	return local.m.Load().Take(ctx, owner, limits, now, out)
}

// Bounded returns a limiter that decides as f does (in Redis while it
// answers, else by f's policy, with f's probe, logs and metrics) but
// whose per-node state during an outage is its own Memory of at most
// max states (NewBoundedMemory), for owners anyone can make up, such as
// client addresses: a flood of them during an outage then costs bounded
// memory, and cannot drop the state f keeps for keys.
func (f *Failover) Bounded(max int) *Bounded {
	b := &Bounded{f: f, local: newFallback(max)}
	f.mu.Lock()
	f.fallbacks = append(f.fallbacks, b.local)
	f.mu.Unlock()
	return b
}

// Bounded is a view of a Failover with a bounded per-node state of its
// own; see Failover.Bounded. Its Failover's Run sweeps it. It is safe
// for concurrent use.
type Bounded struct {
	f     *Failover
	local *fallback
}

// Take decides as Failover.Take does, with b's own per-node state.
func (b *Bounded) Take(ctx context.Context, owner string, limits []Limit, now time.Time, out []State) ([]State, bool, error) {
	return b.f.take(ctx, b.local, owner, limits, now, out)
}

// Len returns the number of per-node limit states b holds.
func (b *Bounded) Len() int { return b.local.m.Load().Len() }

// fallback is per-node state that a Failover replaces with a fresh
// Memory at the start and at the end of each outage.
type fallback struct {
	max int // the bound of the Memory; 0: none
	m   atomic.Pointer[Memory]
}

func newFallback(max int) *fallback {
	l := &fallback{max: max}
	l.reset()
	return l
}

func (l *fallback) reset() { l.m.Store(&Memory{tats: make(map[slot]int64), max: l.max}) }

// Shared reports whether limits are decided in Redis now.
func (f *Failover) Shared() bool { return !f.down.Load() }

// Refuses reports whether the policy is to refuse while Redis is down.
func (f *Failover) Refuses() bool { return f.refuse }

func (f *Failover) setDown(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down.Load() {
		return
	}
	for _, l := range f.fallbacks {
		l.reset()
	}
	f.down.Store(true)
	f.sharedGauge.Set(0)
	f.outages.Inc()
	if f.refuse {
		f.log.Error("redis unreachable; refusing verifications of rate-limited keys and metadata document fetches until it answers (--redis-failure=refuse)", "err", err)
		return
	}
	f.log.Warn("redis unreachable; rate limits are per node until it answers again", "err", err)
}

func (f *Failover) setUp() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.down.Load() {
		return
	}
	f.down.Store(false)
	for _, l := range f.fallbacks {
		l.reset() // the per-node state is stale once Redis decides again
	}
	f.sharedGauge.Set(1)
	f.log.Info("redis answers again; rate limits are shared")
}

// Probe pings Redis and switches to per-node limits if it does not
// answer, or back to Redis if it does.
func (f *Failover) Probe(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, max(f.every, time.Second))
	err := f.shared.Ping(pctx)
	cancel()
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		f.setDown(err)
	default:
		f.setUp()
	}
	return err
}

// Run probes Redis every ProbeEvery until ctx ends, and sweeps the
// per-node state, its Bounded views' too.
func (f *Failover) Run(ctx context.Context) {
	t := time.NewTicker(f.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if f.Probe(ctx); ctx.Err() != nil {
				return
			}
			f.sweep(now)
		}
	}
}

func (f *Failover) sweep(now time.Time) {
	f.mu.Lock()
	ls := f.fallbacks
	f.mu.Unlock()
	for _, l := range ls {
		l.m.Load().Sweep(now)
	}
}
