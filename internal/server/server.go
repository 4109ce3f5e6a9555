package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/approval"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/clientip"
	"github.com/tokend/tokend/internal/leak"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/routetable"
	"github.com/tokend/tokend/internal/signer"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/user"
	"github.com/tokend/tokend/internal/verify"
	"github.com/tokend/tokend/internal/webhook"
)

// MaxBodyBytes is the largest request body the API reads.
const MaxBodyBytes = 1 << 20

// Config holds the server's dependencies.
type Config struct {
	// DB is the database. Required. The server builds the audit-log
	// reader on it and pings it for readiness; handlers never see it,
	// they go through the domain packages.
	DB     *store.DB
	Keys   *apikey.Service
	Engine *verify.Engine
	// Signer publishes the JWKS and rotates signing keys; nil answers
	// those endpoints 404.
	Signer *signer.Signer
	// OAuth is the authorization server behind /oauth2 and /v1/clients;
	// nil answers those endpoints 404.
	OAuth *oauth.Service
	// Webhooks manages event webhooks behind /v1/webhooks; nil answers
	// those endpoints 404.
	Webhooks *webhook.Service
	// Users manages people behind /v1/users. Required.
	Users *user.Service
	// Gatherer serves /metrics; nil serves an empty page.
	Gatherer prometheus.Gatherer
	// Ready adds details to /readyz and may declare the node not ready;
	// nil checks the database only.
	Ready func(ctx context.Context) (details map[string]string, ok bool)
	// TrustedProxies are the peers whose X-Forwarded-For or Forwarded
	// header names the client; empty trusts none, and the client is the
	// TCP peer.
	TrustedProxies []netip.Prefix
	// HSTS adds Strict-Transport-Security to every answer; set it when the
	// server is reached over HTTPS. Default off.
	HSTS bool
	// AuthzRoutes is the route table of /v1/authz for requests whose
	// requirements are not on the URL; nil has none. SetAuthzRoutes
	// replaces it.
	AuthzRoutes *routetable.Table
	// Pages is the browser surface (package web), served for every path
	// the API does not own (see apiOwns); nil answers those paths with
	// the API's 404 problem.
	Pages  http.Handler
	Logger *slog.Logger
	Now    func() time.Time
}

// Server serves the API. Create it with New.
type Server struct {
	database  database
	audit     *audit.Log
	keys      *apikey.Service
	engine    *verify.Engine
	signer    *signer.Signer
	oauth     *oauth.Service
	users     *user.Service
	leaks     *leak.Service
	webhooks  *webhook.Service
	approvals *approval.Service
	gatherer  prometheus.Gatherer
	ready     func(ctx context.Context) (map[string]string, bool)
	clientIPs *clientip.Resolver
	hsts      bool
	// authzRoutes is the route table of /v1/authz, swapped on reload.
	authzRoutes atomic.Pointer[routetable.Table]
	pages       http.Handler
	crossOrigin *http.CrossOriginProtection // for /v1/me callers with a session cookie
	log         *slog.Logger
	now         func() time.Time
	reqPfx      string
	reqSeq      atomic.Uint64
	bufs        sync.Pool // *bytes.Buffer for encoding answers (json.go)
}

// database is what readiness asks of the store.
type database interface {
	Ping(ctx context.Context) error
	Dialect() string
}

// New returns a Server.
func New(cfg Config) *Server {
	s := &Server{database: cfg.DB, audit: audit.NewLog(cfg.DB), keys: cfg.Keys, engine: cfg.Engine, signer: cfg.Signer, oauth: cfg.OAuth, users: cfg.Users, webhooks: cfg.Webhooks, gatherer: cfg.Gatherer, ready: cfg.Ready,
		clientIPs: clientip.New(cfg.TrustedProxies), hsts: cfg.HSTS, pages: cfg.Pages, log: cfg.Logger, now: cfg.Now,
		crossOrigin: http.NewCrossOriginProtection()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.gatherer == nil {
		s.gatherer = prometheus.NewRegistry()
	}
	s.approvals = approval.New(cfg.DB, s.now)
	s.leaks = leak.New(leak.Config{Keys: cfg.Keys, OAuth: cfg.OAuth, Users: cfg.Users, Logger: s.log, Now: s.now})
	s.authzRoutes.Store(cfg.AuthzRoutes)
	var b [4]byte
	rand.Read(b[:])
	s.reqPfx = hex.EncodeToString(b[:]) + "-"
	return s
}

// TLSConfig is the TLS configuration for serving HTTPS: TLS 1.2 or later,
// and under TLS 1.2 only ECDHE key exchange with AEAD ciphers (GCM,
// ChaCha20-Poly1305), so no CBC or SHA-1 suite. TLS 1.3 suites are all
// AEAD and not configurable.
func TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}

// SetAuthzRoutes replaces the route table of /v1/authz (on SIGHUP);
// requests in flight finish with the one they started with.
func (s *Server) SetAuthzRoutes(t *routetable.Table) { s.authzRoutes.Store(t) }

// HTTPServer wraps h in an http.Server with every timeout set, so that a
// slow client cannot hold a connection open forever, and with TLSConfig
// for when it serves HTTPS.
func HTTPServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         TLSConfig(), // used only when serving HTTPS
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
