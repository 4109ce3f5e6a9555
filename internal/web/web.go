package web

import (
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/approval"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/clientip"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/signer"
	"github.com/tokend/tokend/internal/user"
	"github.com/tokend/tokend/internal/webhook"
)

// Config holds the Site's dependencies.
type Config struct {
	// Users signs people in and manages accounts. Required.
	Users *user.Service
	// OAuth, when set, adds the pages of the OAuth user grants:
	// /oauth2/authorize with its consent step, /device and
	// /oauth2/logout.
	OAuth *oauth.Service
	// Keys, when set, adds the "my tokens" pages under /account/tokens
	// (a person's personal access tokens beside their apps, device
	// sign-ins, sessions and passkeys) and the console pages of APIs,
	// API keys and every user's tokens (admin_apis.go, admin_keys.go,
	// admin_tokens.go).
	Keys *apikey.Service
	// Signer, when set, adds the console page of the signing keys.
	Signer *signer.Signer
	// Audit, when set, adds the console page of the audit log.
	Audit *audit.Log
	// Approvals, when set with Keys, adds the console page of approvals
	// (admin_approvals.go): tokens and clients held for a decision.
	Approvals *approval.Service
	// Webhooks, when set, adds the console pages of event webhooks and
	// their delivery logs (admin_webhooks.go).
	Webhooks *webhook.Service
	// Secure says the pages are served over HTTPS (directly or behind a
	// TLS-terminating proxy): the session cookie is then Secure and
	// named with the __Host- prefix, which browsers allow only on
	// secure origins. Default false, for plain-http development and
	// tests; production MUST set it.
	Secure bool
	// TrustedProxies are the peers whose X-Forwarded-For or Forwarded
	// header names the client, as for the API; empty trusts none.
	TrustedProxies []netip.Prefix
	// Logger receives one line per internal error (default: discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Site serves the browser pages. Create it with New; it is an
// http.Handler and safe for concurrent use.
type Site struct {
	users     *user.Service
	oauth     *oauth.Service
	keys      *apikey.Service
	signer    *signer.Signer
	audit     *audit.Log
	approvals *approval.Service
	webhooks  *webhook.Service
	secure    bool
	clientIPs *clientip.Resolver
	log       *slog.Logger
	now       func() time.Time
	pages     *pages
	// factorPages are the second-factor set-up pages (routes.go).
	factorPages []factorPage
	handler     http.Handler
}

// New returns a Site with every template parsed; a template that is
// missing or does not parse is an error here, not on first use.
func New(cfg Config) (*Site, error) {
	if cfg.Users == nil {
		return nil, errors.New("web: Config.Users is required")
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Site{users: cfg.Users, oauth: cfg.OAuth, keys: cfg.Keys, signer: cfg.Signer,
		audit: cfg.Audit, approvals: cfg.Approvals, webhooks: cfg.Webhooks, secure: cfg.Secure, clientIPs: clientip.New(cfg.TrustedProxies),
		log: cfg.Logger, now: cfg.Now, pages: p, factorPages: factorPages()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.handler = s.protect(s.routes())
	return s, nil
}

// ServeHTTP serves one page request.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// clientMeta is what the pages know of the browser behind r.
func (s *Site) clientIP(r *http.Request) string { return s.clientIPs.IP(r) }
