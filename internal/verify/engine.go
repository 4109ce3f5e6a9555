package verify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/dpop"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/httpsig"
	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/internal/store"
)

// Limiter decides rate limits. Take checks every limit of one owner at
// now and consumes one unit of each only if all admit the request,
// appending each limit's state to out. It is safe for concurrent use; an
// error means the limiter could not decide (for a shared limiter, its
// backend is unreachable).
type Limiter interface {
	Take(ctx context.Context, owner string, limits []ratelimit.Limit, now time.Time, out []ratelimit.State) ([]ratelimit.State, bool, error)
}

var _ Limiter = (*ratelimit.Memory)(nil)

// Config configures an Engine. Zero values take the documented defaults.
type Config struct {
	DB *store.DB
	// Limiter decides rate limits; nil means an in-process ratelimit.Memory.
	Limiter Limiter
	// CacheSize bounds the number of cached tokens; default 100,000.
	// Negative disables the cache.
	CacheSize int
	// CacheTTL is how long a found token is trusted without a lookup; it
	// is only the backstop for missed invalidations, which the store
	// announces. Default 10s.
	CacheTTL time.Duration
	// NegativeTTL is how long an unknown token is remembered; default 5s.
	NegativeTTL time.Duration
	// UsageFlush is how often usage bookkeeping is written; default 2s.
	UsageFlush time.Duration
	// JWT, if set, makes the engine accept tokend's JWT access tokens too.
	JWT *JWTConfig
	// KEK opens keys' hmac-sha256 signing secrets (see apikey.Config).
	KEK []byte
	// Signatures checks signed requests (RFC 9421); nil means a default
	// httpsig.Verifier with nonces in process. Set its Nonces to share
	// them across nodes.
	Signatures *httpsig.Verifier
	// DPoP checks the proofs of DPoP-bound tokens (RFC 9449); nil
	// means a checker without nonces, replays remembered in process.
	DPoP    *dpop.Checker
	Metrics *Metrics
	Logger  *slog.Logger
	Now     func() time.Time
}

// Engine verifies tokens. It is safe for concurrent use.
type Engine struct {
	db          *store.DB
	limiter     Limiter
	cache       *cache
	ttl, negTTL int64
	flushEvery  time.Duration
	usage       *usage
	jwt         *jwtVerifier // nil: JWTs are NOT_FOUND
	kek         []byte
	sigs        *httpsig.Verifier
	dpop        *dpop.Checker
	metrics     *Metrics
	log         *slog.Logger
	now         func() time.Time
}

// New returns an Engine subscribed to cfg.DB's changes (see the package
// doc). Call Run to flush bookkeeping in the background.
func New(cfg Config) *Engine {
	e := &Engine{db: cfg.DB, limiter: cfg.Limiter, metrics: cfg.Metrics, log: cfg.Logger, now: cfg.Now,
		ttl: int64(or(cfg.CacheTTL, 10*time.Second)), negTTL: int64(or(cfg.NegativeTTL, 5*time.Second)),
		flushEvery: or(cfg.UsageFlush, 2*time.Second), usage: newUsage(), jwt: newJWTVerifier(cfg.JWT),
		kek: cfg.KEK, sigs: cfg.Signatures}
	if e.sigs == nil {
		e.sigs = &httpsig.Verifier{Nonces: httpsig.NewMemory(0), Now: cfg.Now}
	}
	size := cfg.CacheSize
	if size == 0 {
		size = 100_000
	}
	e.cache = newCache(size)
	if e.db != nil {
		e.db.Subscribe(e.onChange)
	}
	if e.limiter == nil {
		e.limiter = ratelimit.NewMemory()
	}
	if e.metrics == nil {
		e.metrics = NewMetrics(nil)
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.dpop = cfg.DPoP; e.dpop == nil {
		e.dpop = dpop.New(dpop.Config{Now: e.now})
	}
	return e
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Request is one verification question.
type Request struct {
	Token    string
	Audience string   // optional: the API the token must belong to
	Scopes   []string // all required
	ClientIP string   // optional unless the key has an allowlist
	Cost     int64    // credits to consume
	// Signed is the request the token came with, for its RFC 9421
	// signature (nil: none given); its body's digest was checked by the
	// caller.
	Signed *httpsig.Message
	// DPoP is the proof that came with the token, and its request; nil
	// for none. A token bound to a DPoP key needs it.
	DPoP *api.VerifyDPoP
}

// Result is the answer. Token is shared with the cache and must not be
// modified. RateLimits reuses the slice passed in, so a caller can verify
// without allocating.
type Result struct {
	Code       api.Code
	Token      *api.TokenInfo
	RateLimits []ratelimit.State
	// Credits is the remaining allowance when the key has one.
	Credits    int64
	HasCredits bool
	// Problem says what did not match, for SIGNATURE_REQUIRED and
	// SIGNATURE_INVALID.
	Problem string
	// SignatureChecked: the answer depended on the request's signature,
	// so it holds for that request only.
	SignatureChecked bool
	// DPoPNonce is the nonce to send the client with USE_DPOP_NONCE;
	// DPoPError says why a proof was refused.
	DPoPNonce string
	DPoPError string
	// IssuedAt is when the found opaque token was issued: an API key's
	// or personal access token's secret (its key's creation, or the
	// rotation that made it), an opaque access token. Zero for a JWT,
	// whose iat claim says it, and whenever Token is nil. It is not part
	// of the /v1/verify answer; introspection answers it as iat.
	IssuedAt time.Time
}

// Valid reports whether the token passed every check.
func (r *Result) Valid() bool { return r.Code == api.CodeValid }

// reset makes r a fresh answer (NOT_FOUND), keeping RateLimits' array.
func (r *Result) reset() { *r = Result{Code: api.CodeNotFound, RateLimits: r.RateLimits[:0]} }

// Verify answers req into res. The error is non-nil only when tokend
// could not decide (the database is unreachable on a cache miss); the
// outcome of a decision is always res.Code.
func (e *Engine) Verify(ctx context.Context, req *Request, res *Result) error {
	start := e.now()
	res.reset()
	used, err := e.verify(ctx, req, res, start)
	if t := res.Token; err == nil && t != nil {
		// API keys count their uses; personal access tokens also their
		// answers, whatever they are; OAuth tokens (keyID "") neither.
		if pat := t.Kind == credential.KindPersonalToken; used != "" || pat {
			e.usage.record(cmp.Or(used, t.ID), used != "", pat, start, req.ClientIP, res.Code)
		}
	}
	e.metrics.observe(res.Code, err, e.now().Sub(start))
	return err
}

// verify answers req into res. It returns the id of the key whose use
// counts (the answer is VALID and spent its limits and credits), "" for
// none.
func (e *Engine) verify(ctx context.Context, req *Request, res *Result, now time.Time) (string, error) {
	ent, err := e.resolve(ctx, req, res, now)
	if err != nil {
		return "", err
	}
	if t := res.Token; t != nil && t.JKT != "" {
		// A bound token is good only with a proof of its key: checked
		// before any other answer about it, and before anything is spent.
		if ok, err := e.proven(ctx, req, t.JKT, res); !ok || err != nil {
			return "", err
		}
	}
	if ent == nil {
		return "", nil
	}
	if len(ent.limits) > 0 {
		var ok bool
		res.RateLimits, ok, err = e.limiter.Take(ctx, ent.keyID, ent.limits, now, res.RateLimits)
		if err != nil {
			return "", fmt.Errorf("rate limit: %w", err)
		}
		if !ok {
			res.Code = api.CodeRateLimited
			return "", nil
		}
	}
	if ent.hasCredits {
		if err := e.consume(ctx, ent, req.Cost, now, res); err != nil || res.Code != api.CodeValid {
			return "", err
		}
	}
	return ent.keyID, nil
}

// resolve finds the token of req and runs the checks that spend nothing,
// answering into res. It returns the token's entry only while the answer
// is VALID and the entry may still hold state to consult (rate limits,
// credits); nil means res is final. A JWT's answer is always final here.
func (e *Engine) resolve(ctx context.Context, req *Request, res *Result, now time.Time) (*entry, error) {
	if e.jwt != nil && credential.LooksLikeJWT(req.Token) {
		return nil, e.verifyJWT(ctx, req, res, now)
	}
	// Refresh tokens are not bearer credentials and never verify: they are
	// NOT_FOUND here, without a lookup.
	prefix, ok := credential.Parse(req.Token)
	if !ok || prefix == credential.RefreshTokenPrefix {
		return nil, nil
	}
	ent, err := e.lookup(ctx, credential.Hash(req.Token), prefix, now.UnixNano())
	if err != nil || !ent.found {
		return nil, err
	}
	if req.Audience != "" && req.Audience != ent.audience {
		// A key of another API does not exist for this one: answer as
		// for an unknown token, without its details or its state.
		return nil, nil
	}
	res.Token, res.IssuedAt = &ent.info, ent.issuedAt
	if notBound(req, res) {
		return nil, nil
	}
	res.Code = e.check(ent, req, now.UnixNano())
	if res.Code != api.CodeValid {
		return nil, nil
	}
	if err := e.checkSignature(ctx, ent, req, res); err != nil || res.Code != api.CodeValid {
		return nil, err
	}
	return ent, nil
}

// check runs the checks that need no shared state, in DESIGN §3 order.
// The audience was checked with existence: a key of another API is
// NOT_FOUND, so that its state does not leak across APIs.
func (e *Engine) check(ent *entry, req *Request, now int64) api.Code {
	switch {
	case !ent.enabled:
		return api.CodeDisabled
	case ent.expiresAt != 0 && now >= ent.expiresAt:
		return api.CodeExpired
	case ent.revoked:
		return api.CodeRevoked
	case ent.pending:
		return api.CodePendingApproval
	}
	if len(ent.cidrs) > 0 {
		ip, _ := netip.ParseAddr(req.ClientIP)
		if !ent.allows(ip) {
			return api.CodeForbiddenIP
		}
	}
	if !ent.hasScopes(req.Scopes) {
		return api.CodeInsufficientScope
	}
	return api.CodeValid
}

func (e *Engine) consume(ctx context.Context, ent *entry, cost int64, now time.Time, res *Result) error {
	left, ok, err := e.db.ConsumeCredits(ctx, ent.keyID, cost, now)
	if errors.Is(err, store.ErrNotFound) {
		// Deleted, or credits removed, since the entry was cached.
		e.cache.purge()
		res.Code = api.CodeNotFound
		return nil
	}
	if err != nil {
		return fmt.Errorf("consume credits: %w", err)
	}
	res.HasCredits, res.Credits = true, left
	if !ok {
		res.Code = api.CodeUsageExceeded
	}
	return nil
}

// lookup finds the entry for hash h, from the cache or the database.
func (e *Engine) lookup(ctx context.Context, h [32]byte, prefix string, now int64) (*entry, error) {
	if ent, ok := e.cache.get(h, now); ok {
		e.metrics.cacheHits.Inc()
		return ent, nil
	}
	e.metrics.cacheMisses.Inc()
	gen := e.cache.generation()
	ent, err := e.load(ctx, h, prefix, now+e.ttl)
	switch {
	case errors.Is(err, store.ErrNotFound):
		ent = notFoundEntry(now + e.negTTL)
	case err != nil:
		return nil, fmt.Errorf("look up token: %w", err)
	}
	e.cache.put(h, ent, gen)
	return ent, nil
}

// CacheLen returns the number of cached tokens.
func (e *Engine) CacheLen() int { return e.cache.len() }
