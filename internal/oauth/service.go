package oauth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/tokend/tokend/dpop"
	"github.com/tokend/tokend/internal/credential"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/verify"
)

// Signer signs and verifies JWT access tokens; *signer.Signer is the
// implementation. SignJSON returns a compact JWS of payload, a JSON
// object of claims, with the given typ header, made with the active key.
// Verify returns the payload of token if its signature, kid, alg and typ
// are good; the caller checks the claims. Both are safe for concurrent
// use.
type Signer interface {
	SignJSON(payload []byte, typ string) (string, error)
	// SignWith signs claims with a key of algorithm alg, one of Algs.
	SignWith(alg string, claims any, typ string) (string, error)
	Algs() []string
	Verify(token string, typ string) ([]byte, error)
	// MaxTokenTTL is how long a retired key stays published: no JWT it
	// signs may live longer, or it would stop verifying early.
	MaxTokenTTL() time.Duration
}

// Verifier is the verification engine (*verify.Engine), which
// introspection asks about every token kind but refresh tokens. Inspect
// must spend nothing: no rate limit, no credit.
type Verifier interface {
	Inspect(ctx context.Context, req *verify.Request, res *verify.Result) error
}

var _ Verifier = (*verify.Engine)(nil)

// Config configures a Service. DB, Signer, Verifier and Issuer are
// required.
type Config struct {
	DB       *store.DB
	Signer   Signer
	Verifier Verifier
	// Issuer is the authorization server's issuer identifier (RFC 8414
	// §2): an https URL (http only for loopback development) without
	// query or fragment. Endpoint URLs are built under it.
	Issuer string
	// Registration enables RFC 7591 dynamic client registration.
	Registration bool
	// ApproveRegistrations holds every dynamically registered client
	// (and client ID metadata document client) for an administrator's
	// approval, whatever APIs it asks for; without it, only clients of
	// APIs whose policy says approve_dynamic_clients wait.
	ApproveRegistrations bool
	// BrowserFlows says that the browser surface serves the pages of
	// the authorization code and device grants and of logout, so that
	// the metadata advertises them.
	BrowserFlows bool
	// InitialAccessToken, when set, must accompany every registration as
	// a bearer token (RFC 7591 §3). Empty leaves registration open.
	InitialAccessToken string
	// Documents, when set, makes the Service accept client ID metadata
	// documents: a client_id that is an https URL names a public client
	// described by the JSON document there, fetched with Documents. Nil
	// refuses such client ids and leaves them unadvertised.
	Documents DocumentFetcher
	// Failures, when set, is where the limit on wrong device user codes
	// is counted, so that every node counts together; nil counts per
	// node.
	Failures FailureCounter
	// DocumentLimiter, when set, is where the limit on client ID
	// metadata document fetches per client address is decided, so that
	// every node counts together (a *ratelimit.Failover's Bounded view
	// of MaxDocumentFetchAddresses, with --redis); nil decides per node.
	DocumentLimiter Limiter
	// DocumentFetchLimit is how many client ID metadata documents one
	// client address (an IPv6 address by its /64) may make tokend fetch
	// per minute, in bursts of up to as many; more get 429
	// temporarily_unavailable until the limit admits one again. A
	// document still fresh in the cache costs nothing. 0 means
	// DefaultDocumentFetchLimit; negative means no limit.
	DocumentFetchLimit int
	// RegistrationLimit is how many registration requests one client
	// address (an IPv6 address by its /64) may make per hour; more get
	// 429. 0 means 20; negative means no limit.
	RegistrationLimit int
	// MaxAuthFailures is how many failed authentications of one client
	// id are allowed per AuthFailureWindow before further attempts get
	// 429; one client address may fail ten times as often before its
	// failures get 429. Defaults: 20 per minute.
	MaxAuthFailures   int
	AuthFailureWindow time.Duration
	// CacheTTL is how long a client or API read from the store is used
	// without reading it again. It is only the backstop: the store
	// announces every change to a client or an API, here or on another
	// node, and the Service drops it then. Default 1m.
	CacheTTL time.Duration
	// DPoP checks the DPoP proofs of token requests (RFC 9449); nil
	// means a checker without nonces whose replay cache is in process.
	DPoP   *dpop.Checker
	Logger *slog.Logger
	Now    func() time.Time
}

// Service is the authorization server. It is safe for concurrent use.
type Service struct {
	db           *store.DB
	signer       Signer
	verifier     Verifier
	issuer       string
	registration bool
	// approveRegistrations: every dynamically registered client waits
	// for approval (Config.ApproveRegistrations).
	approveRegistrations bool
	browserFlows         bool
	initialHash          [32]byte
	hasInitial           bool
	guard                *guard
	// registrations counts registration requests per address; nil when
	// they are not limited.
	registrations *failures
	// userCodes counts wrong device user codes per address.
	userCodes *guesses
	// fetches limits the metadata documents fetched per address; nil
	// when they are not limited.
	fetches *fetchLimit
	clients ttlCache[store.Client]
	// documents fetches client ID metadata documents (nil: refused);
	// docClients are the clients made of them, each for as long as its
	// document may be reused.
	documents  DocumentFetcher
	docClients ttlCache[store.Client]
	apis       ttlCache[[]store.API]
	dpop       *dpop.Checker
	log        *slog.Logger
	now        func() time.Time
}

// New returns a Service subscribed to cfg.DB's changes, or an error
// listing every problem with cfg.
func New(cfg Config) (*Service, error) {
	var errs []error
	if cfg.DB == nil {
		errs = append(errs, errors.New("DB is required"))
	}
	if cfg.Signer == nil {
		errs = append(errs, errors.New("Signer is required"))
	}
	if cfg.Verifier == nil {
		errs = append(errs, errors.New("Verifier is required"))
	}
	if err := checkIssuer(cfg.Issuer); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("oauth config: %w", errors.Join(errs...))
	}
	s := &Service{db: cfg.DB, signer: cfg.Signer, verifier: cfg.Verifier, issuer: strings.TrimSuffix(cfg.Issuer, "/"),
		registration: cfg.Registration, approveRegistrations: cfg.ApproveRegistrations, browserFlows: cfg.BrowserFlows, documents: cfg.Documents, dpop: cfg.DPoP, log: cfg.Logger, now: cfg.Now}
	if cfg.InitialAccessToken != "" {
		s.initialHash, s.hasInitial = credential.Hash(cfg.InitialAccessToken), true
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.dpop == nil {
		s.dpop = dpop.New(dpop.Config{Now: s.now})
	}
	ttl := cfg.CacheTTL
	if ttl <= 0 {
		ttl = time.Minute
	}
	s.clients.ttl, s.apis.ttl = ttl, ttl
	s.db.Subscribe(s.onChange)
	s.guard = newGuard(cfg.MaxAuthFailures, cfg.AuthFailureWindow, maxGuardEntries)
	s.userCodes = newGuesses(cfg.Failures, s.log)
	s.fetches = newFetchLimit(cfg.DocumentLimiter, cfg.DocumentFetchLimit, s.log)
	if lim := cfg.RegistrationLimit; lim >= 0 {
		s.registrations = newFailures(cmp.Or(lim, 20), time.Hour, maxGuardEntries)
	}
	return s, nil
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Issuer returns the issuer identifier.
func (s *Service) Issuer() string { return s.issuer }

// RegistrationEnabled reports whether dynamic client registration is on.
func (s *Service) RegistrationEnabled() bool { return s.registration }

// Run sweeps brute-force state every minute, and every hour the opaque
// access tokens, refresh tokens and assertion jtis that expired over an
// hour ago (SweepExpired), until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.guard.sweep(s.now())
		s.userCodes.local.sweep(s.now())
		s.fetches.sweep(s.now())
		if s.registrations != nil {
			s.registrations.sweep(s.now())
		}
		if n%60 != 0 {
			continue
		}
		if c, err := s.SweepExpired(ctx); err != nil {
			s.log.WarnContext(ctx, "sweep expired oauth tokens", "err", err)
		} else if c > 0 {
			s.log.InfoContext(ctx, "swept expired oauth tokens", "count", c)
		}
	}
}

// sweepBatch is how many rows of each table one sweep transaction
// deletes, so that a sweep never holds the database for long.
const sweepBatch = 1000

// SweepExpired deletes the opaque access tokens, refresh tokens and
// assertion jtis that expired over an hour ago, sweepBatch rows of each
// per transaction until none is left, and returns how many went.
func (s *Service) SweepExpired(ctx context.Context) (int64, error) {
	cutoff := s.clock().Add(-time.Hour)
	var total int64
	for {
		n, err := s.db.DeleteExpiredOAuth(ctx, cutoff, sweepBatch)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// client returns the client with the given id, from the cache when fresh.
func (s *Service) client(ctx context.Context, id string) (store.Client, error) {
	now := s.now()
	if c, ok := s.clients.get(id, now); ok {
		return c, nil
	}
	gen := s.clients.generation()
	c, err := s.db.ClientByID(ctx, id)
	if err != nil {
		return store.Client{}, err
	}
	s.clients.put(id, c, now, gen)
	return c, nil
}

// listAPIs returns every API, from the cache when fresh.
func (s *Service) listAPIs(ctx context.Context) ([]store.API, error) {
	now := s.now()
	if as, ok := s.apis.get("", now); ok {
		return as, nil
	}
	gen := s.apis.generation()
	as, err := s.db.ListAPIs(ctx)
	if err != nil {
		return nil, err
	}
	s.apis.put("", as, now, gen)
	return as, nil
}

// apiByID returns the API with the given id, or store.ErrNotFound.
func (s *Service) apiByID(ctx context.Context, id string) (store.API, error) {
	as, err := s.listAPIs(ctx)
	if err != nil {
		return store.API{}, err
	}
	for _, a := range as {
		if a.ID == id {
			return a, nil
		}
	}
	// Perhaps created since the cache was filled, and the announcement
	// is on its way from another node: ask the store.
	return s.db.APIByID(ctx, id)
}

// ttlCache is a small map of values read from the store, each trusted
// for ttl or until dropped. As in the verification cache, gen counts
// drops, so that a value read before a drop is not stored after it.
type ttlCache[V any] struct {
	ttl time.Duration
	mu  sync.RWMutex
	m   map[string]ttlEntry[V]
	gen uint64
}

type ttlEntry[V any] struct {
	v     V
	until time.Time
}

func (c *ttlCache[V]) get(k string, now time.Time) (V, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || now.After(e.until) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// generation returns the value to pass to put for a read that starts now.
func (c *ttlCache[V]) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put stores v unless a drop happened since gen was read.
func (c *ttlCache[V]) put(k string, v V, now time.Time, gen uint64) {
	c.putUntil(k, v, now.Add(c.ttl), gen)
}

// putUntil stores v until the given time unless a drop happened since
// gen was read.
func (c *ttlCache[V]) putUntil(k string, v V, until time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.m == nil || len(c.m) > 100_000 {
		c.m = make(map[string]ttlEntry[V])
	}
	c.m[k] = ttlEntry[V]{v: v, until: until}
}

// drop removes the given keys; none removes everything.
func (c *ttlCache[V]) drop(ks ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if len(ks) == 0 {
		clear(c.m)
	}
	for _, k := range ks {
		delete(c.m, k)
	}
}

// onChange is the Service's subscription to the store's changes: it drops
// the clients and the API list a committed change makes stale, here or
// on another node.
func (s *Service) onChange(c store.Change) {
	switch {
	case c.All:
		s.clients.drop()
		s.docClients.drop()
		s.apis.drop()
		return
	case len(c.Clients) > 0:
		s.clients.drop(c.Clients...)
		s.docClients.drop(c.Clients...)
	}
	if len(c.APIs) > 0 {
		s.apis.drop()
	}
}
