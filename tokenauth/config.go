package tokenauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tokend/tokend/dpop"
	"github.com/tokend/tokend/internal/ttlcache"
)

// FailurePolicy says what the middleware does when it cannot reach a
// verdict because tokend (or its JWKS) cannot be reached.
type FailurePolicy int

const (
	// FailClosed refuses the request with 503 Service Unavailable. It is
	// the default and the only safe choice: an unreachable tokend never
	// lets a request through.
	FailClosed FailurePolicy = iota
	// InsecureFailOpen passes the request to the handler without a
	// principal ([FromContext] reports false) and without any scope
	// check, as Envoy's failure_mode_allow does. A resource server MUST
	// NOT use it when reaching a handler implies that its caller was
	// authenticated or authorized: an attacker who can make tokend
	// unreachable from the resource server (or merely slow) then
	// reaches every protected handler. It exists for endpoints whose
	// authentication only enriches an otherwise public answer.
	InsecureFailOpen
)

// Config configures an [Auth]. Only URL and Audience are required; every
// other field has a working default.
type Config struct {
	// URL is tokend's base URL, such as "https://tokend.example.com":
	// where POST /v1/verify is asked. Required. Use https for anything
	// but a loopback address.
	URL string
	// VerifyKey is a tokend key with scope tokend:verify (a verify-only
	// admin key), sent as bearer to /v1/verify. It is needed for opaque
	// tokens (API keys, personal and opaque access tokens) and for
	// RevocationCheckInterval. Without it only JWT access tokens are
	// accepted, verified locally, and every opaque token is refused with
	// 401 invalid_token. Never put it in a URL or a log.
	VerifyKey string
	// Audience is this resource server's audience: the audience of its
	// API in tokend. Every token must belong to it (a JWT's aud must
	// hold it; /v1/verify is asked with it). Required. A route may
	// require another one with [Requirement].Audience.
	Audience string
	// Issuer is the iss claim of tokend's JWTs and the authorization
	// server named in the protected-resource metadata; default URL
	// (tokend's --issuer, which defaults to its public URL).
	Issuer string
	// JWKSURL is where tokend's signing keys are fetched. Default: the
	// jwks_uri of the Issuer's RFC 8414 metadata
	// (/.well-known/oauth-authorization-server), discovered at the first
	// JWT.
	JWKSURL string
	// Resource is this server's RFC 9728 resource identifier, an https
	// URL. Default: Audience when it is an absolute http(s) URL, else
	// none, in which case challenges carry no resource_metadata and
	// MetadataHandler answers 404.
	Resource string
	// ResourceMetadataURL is the URL of this server's protected-resource
	// metadata, named in every challenge's resource_metadata. Default:
	// the well-known URL derived from Resource (RFC 9728 §3.1):
	// https://host/.well-known/oauth-protected-resource[/path].
	ResourceMetadataURL string
	// ScopesSupported is the metadata's scopes_supported. Default: every
	// scope some Require or RequireWith asked for so far.
	ScopesSupported []string
	// HTTPClient makes the calls to tokend; default a client of its own.
	HTTPClient *http.Client
	// Timeout bounds each call to tokend (verify, metadata, JWKS);
	// default 5s. A call that takes longer counts as unreachable.
	Timeout time.Duration
	// CacheTTL is how long a VALID answer for an opaque token is reused
	// without asking tokend again; default 5s, at most 5m. It is how long
	// a revoked or disabled token may still be accepted here: keep it
	// short. A negative value disables the cache. Answers that carried
	// rate limits or credits are never cached, so a limit is always
	// enforced by tokend.
	CacheTTL time.Duration
	// CacheSize bounds the entries of that cache; default 10000. When it
	// is full, an arbitrary entry makes room.
	CacheSize int
	// JWKSRefreshInterval is the least time between two fetches of the
	// JWKS caused by a JWT whose kid is unknown; default 10s. Fetches are
	// single-flight: one at a time, shared by every waiting request.
	JWKSRefreshInterval time.Duration
	// JWKSMaxAge caps how long a fetched JWKS is used before it is
	// fetched again, whatever its Cache-Control max-age says; default
	// 10m. A JWKS without max-age is kept this long. If a refetch fails,
	// the keys already known stay in use.
	JWKSMaxAge time.Duration
	// Leeway is the clock difference allowed on a JWT's exp and nbf;
	// default 30s.
	Leeway time.Duration
	// RevocationCheckInterval, when positive, makes a JWT access token
	// that passed every local check also be asked about at /v1/verify,
	// at most once per interval per token (jti), so that a revoked JWT
	// is refused at most this long after its revocation. Zero (the
	// default) never asks: a JWT is then accepted until it expires, even
	// if revoked, and verification never depends on tokend being up.
	// The trade-off is one call to tokend per token per interval, and
	// a 503 (fail closed) when a check is due and tokend cannot answer.
	// Needs VerifyKey.
	RevocationCheckInterval time.Duration
	// FailurePolicy is what happens when tokend cannot answer; default
	// FailClosed.
	FailurePolicy FailurePolicy
	// ClientIP returns the end client's address, sent to /v1/verify and
	// checked against an API key's allowed_cidrs. Default: the host of
	// the request's RemoteAddr. Behind a proxy, return the address the
	// proxy forwarded, and only from proxies you trust.
	ClientIP func(*http.Request) string
	// TargetURI returns the absolute URI a client addressed the request
	// to, which a signed request's @target-uri (RFC 9421) must equal.
	// Default: "https" when the connection is TLS, else "http", then
	// "://", the Host header and the request target as received. Behind
	// a proxy that terminates TLS or rewrites paths, return the URI the
	// client used.
	TargetURI func(*http.Request) string
	// PublicURL is this server's public base URL, such as
	// "https://api.example.com" or "https://example.com/billing": the
	// URL clients address, to which the request's path is appended to
	// make the URL a DPoP proof's htu must name (RFC 9449 §4.3). Set it
	// behind a proxy that terminates TLS or changes the host or path
	// prefix. Default: TargetURI.
	PublicURL string
	// DPoPReplay remembers the DPoP proofs of JWTs checked here, so that
	// none is accepted twice (RFC 9449 §11.1). Default: in this process,
	// which suffices for one instance; instances that serve the same
	// clients must share one (tokend gateway --redis shares one through
	// Redis). Opaque tokens' proofs are spent by tokend's own cache.
	DPoPReplay dpop.ReplayCache
	// DPoPNonceSecret, when set (32 random bytes or more, the same on
	// every instance), makes this server require a server nonce in the
	// DPoP proofs of JWTs (RFC 9449 §9): a proof without a current one is
	// refused with use_dpop_nonce and a DPoP-Nonce header, so that no
	// proof can be made in advance. Nonces are stateless. Opaque tokens'
	// proofs follow tokend's nonce setting.
	DPoPNonceSecret []byte
	// MaxSignedBody bounds the body of a signed request, which is read
	// into memory to check its Content-Digest; default 10 MiB. A larger
	// one is refused with 413.
	MaxSignedBody int64
	// Logger receives failures to reach tokend (never a token); nil
	// discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Auth verifies bearer tokens for one resource server. Make it once with
// New; it is safe for concurrent use.
type Auth struct {
	cfg         Config
	base        *url.URL
	now         func() time.Time
	log         *slog.Logger
	client      *http.Client
	metadataURL string

	dpop    *dpop.Checker
	algs    string // the DPoP challenge's algs
	cache   *ttlcache.Cache[cacheKey, *Principal]
	flights group[verifyResult]
	keys    *keySet
	headers headerCache
	revoked *revocations

	scopesMu sync.Mutex
	scopes   []string
}

// Defaults of Config.
const (
	defaultTimeout     = 5 * time.Second
	defaultCacheTTL    = 5 * time.Second
	maxCacheTTL        = 5 * time.Minute
	defaultCacheSize   = 10_000
	defaultJWKSRefresh = 10 * time.Second
	defaultJWKSMaxAge  = 10 * time.Minute
	defaultLeeway      = 30 * time.Second
)

// New returns an Auth for cfg. It reports every problem of cfg at once
// and does no I/O: tokend is first asked when the first token arrives.
func New(cfg Config) (*Auth, error) {
	cfg = withDefaults(cfg)
	base, err := validate(&cfg)
	if err != nil {
		return nil, fmt.Errorf("tokenauth: %w", err)
	}
	a := &Auth{cfg: cfg, base: base, now: cfg.Now, log: cfg.Logger, client: cfg.HTTPClient,
		metadataURL: cfg.ResourceMetadataURL}
	a.cache = ttlcache.New[cacheKey, *Principal](cfg.CacheSize)
	a.keys = newKeySet(a)
	a.revoked = newRevocations(cfg.CacheSize)
	a.dpop = newChecker(cfg)
	a.algs = strings.Join(a.dpop.Algs(), " ")
	return a, nil
}

func withDefaults(c Config) Config {
	c.URL = strings.TrimRight(c.URL, "/")
	c.Issuer = or(c.Issuer, c.URL)
	c.Timeout = or(c.Timeout, defaultTimeout)
	c.CacheTTL = or(c.CacheTTL, defaultCacheTTL)
	c.CacheSize = or(c.CacheSize, defaultCacheSize)
	c.JWKSRefreshInterval = or(c.JWKSRefreshInterval, defaultJWKSRefresh)
	c.JWKSMaxAge = or(c.JWKSMaxAge, defaultJWKSMaxAge)
	c.Leeway = or(c.Leeway, defaultLeeway)
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.ClientIP == nil {
		c.ClientIP = remoteHost
	}
	if c.TargetURI == nil {
		c.TargetURI = targetURI
	}
	c.MaxSignedBody = or(c.MaxSignedBody, defaultMaxSignedBody)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Resource == "" && isHTTPURL(c.Audience) {
		c.Resource = c.Audience
	}
	if c.ResourceMetadataURL == "" && c.Resource != "" {
		c.ResourceMetadataURL = wellKnown(c.Resource, "oauth-protected-resource")
	}
	return c
}

func validate(c *Config) (*url.URL, error) {
	var errs []error
	base, err := url.Parse(c.URL)
	if c.URL == "" {
		errs = append(errs, errors.New("URL is required"))
	} else if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		errs = append(errs, errors.New("URL must be an absolute http or https URL"))
	} else if base.RawQuery != "" || base.Fragment != "" {
		errs = append(errs, errors.New("URL must not have a query or fragment"))
	}
	if c.Audience == "" {
		errs = append(errs, errors.New("Audience is required"))
	}
	if c.RevocationCheckInterval > 0 && c.VerifyKey == "" {
		errs = append(errs, errors.New("RevocationCheckInterval needs VerifyKey"))
	}
	for name, u := range map[string]string{"JWKSURL": c.JWKSURL, "Resource": c.Resource,
		"ResourceMetadataURL": c.ResourceMetadataURL} {
		if u != "" && !isHTTPURL(u) {
			errs = append(errs, fmt.Errorf("%s must be an absolute http or https URL", name))
		}
	}
	if c.PublicURL != "" && !isHTTPURL(c.PublicURL) {
		errs = append(errs, errors.New("PublicURL must be an absolute http or https URL"))
	} else if u, _ := url.Parse(c.PublicURL); u != nil && (u.RawQuery != "" || u.Fragment != "") {
		errs = append(errs, errors.New("PublicURL must not have a query or fragment"))
	}
	if n := len(c.DPoPNonceSecret); n > 0 && n < 32 {
		errs = append(errs, fmt.Errorf("DPoPNonceSecret has %d bytes; it needs at least 32", n))
	}
	if c.CacheTTL > maxCacheTTL {
		errs = append(errs, fmt.Errorf("CacheTTL %v exceeds %v", c.CacheTTL, maxCacheTTL))
	}
	if c.CacheSize < 0 || c.Timeout < 0 || c.JWKSRefreshInterval < 0 || c.JWKSMaxAge < 0 || c.Leeway < 0 {
		errs = append(errs, errors.New("CacheSize, Timeout, JWKSRefreshInterval, JWKSMaxAge and Leeway must not be negative"))
	}
	if c.FailurePolicy != FailClosed && c.FailurePolicy != InsecureFailOpen {
		errs = append(errs, fmt.Errorf("unknown FailurePolicy %d", c.FailurePolicy))
	}
	return base, errors.Join(errs...)
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// wellKnown returns the well-known URL named name of the resource or
// issuer id: the name goes between the host and the path (RFC 8414 §3.1,
// RFC 9728 §3.1).
func wellKnown(id, name string) string {
	u, err := url.Parse(id)
	if err != nil {
		return ""
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	return u.Scheme + "://" + u.Host + "/.well-known/" + name + path
}

// remoteHost is the default ClientIP: the TCP peer's address.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	return host
}
