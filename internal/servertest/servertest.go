// Package servertest runs a real tokend API server for tests: the real
// handler on an httptest server bound to 127.0.0.1, over a real SQLite
// database in a temporary directory, with an injectable clock, captured
// logs and a client authenticated with the bootstrap admin key.
package servertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tokend/tokend/client"
	"github.com/tokend/tokend/dpop"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/approval"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/fetch"
	"github.com/tokend/tokend/internal/jsonlog"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/seal"
	"github.com/tokend/tokend/internal/server"
	"github.com/tokend/tokend/internal/signer"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/user"
	"github.com/tokend/tokend/internal/verify"
	"github.com/tokend/tokend/internal/web"
	"github.com/tokend/tokend/internal/webhook"
)

// Clock is a settable time source shared by every part of the server.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Logs is a concurrency-safe buffer holding every log line, at debug level.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Server is a running tokend API.
type Server struct {
	URL string
	// LocalhostURL is URL with the host name localhost: passkeys are
	// bound to it, since WebAuthn refuses IP addresses, and browsers
	// allow WebAuthn over plain http on localhost.
	LocalhostURL string
	AdminKey     string
	DBPath       string
	DB           *store.DB
	Engine       *verify.Engine
	Keys         *apikey.Service
	// Signer signs JWTs with the issuer Issuer, which is URL.
	Signer *signer.Signer
	Issuer string
	// OAuth is the authorization server, with dynamic client
	// registration open (no initial access token).
	OAuth *oauth.Service
	// DPoP checks DPoP proofs on the clock Clock, with server nonces
	// (whose epochs are 5 minutes of Clock) required.
	DPoP *dpop.Checker
	// Users manages people.
	Users *user.Service
	// Webhooks manages event webhooks; its deliverer does not run until
	// a test starts it (Run or DeliverDue).
	Webhooks *webhook.Service
	// Pages are the browser pages, served by the API for the paths it
	// does not own.
	Pages *web.Site
	// API is the HTTP surface, for settings a test changes while it runs
	// (SetAuthzRoutes).
	API    *server.Server
	Client *client.Client
	Clock  *Clock
	Logs   *Logs
}

// Options change what New sets up; the zero value is New's default.
type Options struct {
	// MFA is the second-factor policy of the users service (default
	// user.MFAAdmins, as tokend serve's).
	MFA user.MFAPolicy
	// Directory, if set, is the LDAP directory sign-in consults.
	Directory user.Directory
	// Documents, if set, makes the authorization server accept client
	// ID metadata documents, fetched with it.
	Documents oauth.DocumentFetcher
	// Failures, if set, is where the authorization server counts wrong
	// device user codes (a shared Redis counter, as with --redis).
	Failures oauth.FailureCounter
	// DocumentLimiter, if set, is where the authorization server limits
	// metadata document fetches per address (a shared Redis limiter, as
	// with --redis); DocumentFetchLimit is that limit (0: the default).
	DocumentLimiter    oauth.Limiter
	DocumentFetchLimit int
	// Webhooks, if set, configures the webhook service (DB and KEK are
	// filled in); by default its Sender is a fetch.Fetcher with the
	// production rules, which refuse 127.0.0.1.
	Webhooks webhook.Config
	// TrustedProxies are the peers whose forwarding headers name the
	// client (tokend serve --trusted-proxies); none by default.
	TrustedProxies []netip.Prefix
	// SigningAlg is the algorithm of the signer's keys (tokend serve
	// --signing-alg), beside RS256; ES256 by default.
	SigningAlg string
}

// New starts a server and stops it when t ends.
func New(t testing.TB) *Server {
	t.Helper()
	return Start(t, Options{})
}

// Start starts a server set up with o and stops it when t ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{Clock: &Clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, Logs: &Logs{}}
	s.DBPath = t.TempDir() + "/tokend.db"
	log := slog.New(jsonlog.New(s.Logs, slog.LevelDebug)) // as tokend serve's --log-format json
	db, err := store.Open(context.Background(), s.DBPath, store.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reg := prometheus.NewRegistry()
	s.DB = db
	// The listener comes first: the issuer is the server's URL.
	hs := httptest.NewUnstartedServer(nil)
	s.URL = "http://" + hs.Listener.Addr().String()
	s.LocalhostURL = "http://localhost:" + strconv.Itoa(hs.Listener.Addr().(*net.TCPAddr).Port)
	s.Issuer = s.URL
	s.Signer, err = signer.New(context.Background(), signer.Config{DB: db, KEK: make([]byte, signer.KEKSize), RS256: true, Alg: o.SigningAlg,
		Logger: log, Now: s.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	s.DPoP = dpop.New(dpop.Config{Nonces: dpop.NewNonces([]byte("servertest dpop nonce secret 32b"), 0, s.Clock.Now), Now: s.Clock.Now})
	// A random key-encryption key for keys' signing secrets, so that a
	// test reading the database sees only what was sealed under it.
	kek := make([]byte, seal.KEKSize)
	rand.Read(kek)
	s.Engine = verify.New(verify.Config{DB: db, Metrics: verify.NewMetrics(reg), Logger: log, Now: s.Clock.Now, DPoP: s.DPoP,
		JWT: &verify.JWTConfig{Signer: s.Signer, Issuer: s.Issuer}, KEK: kek})
	s.Keys = apikey.NewService(apikey.Config{DB: db, Logger: log, Now: s.Clock.Now, KEK: kek})
	if err := s.Keys.EnsureSystemAPI(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.AdminKey, _, err = s.Keys.Bootstrap(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.OAuth, err = oauth.New(oauth.Config{DB: db, Signer: s.Signer, Verifier: s.Engine, Issuer: s.Issuer,
		Registration: true, BrowserFlows: true, Documents: o.Documents, Failures: o.Failures,
		DocumentLimiter: o.DocumentLimiter, DocumentFetchLimit: o.DocumentFetchLimit, DPoP: s.DPoP, Logger: log, Now: s.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.OAuth.EnsureCLIClient(context.Background()); err != nil {
		t.Fatal(err)
	}
	wc := o.Webhooks
	wc.DB, wc.KEK, wc.Logger = db, make([]byte, signer.KEKSize), log
	if wc.Sender == nil {
		wc.Sender = fetch.New(fetch.Config{})
	}
	s.Webhooks = webhook.New(wc)
	// Fast argon2id parameters: the harness tests behaviour, not cost.
	s.Users = user.New(user.Config{DB: db, Now: s.Clock.Now, Params: user.Params{Time: 1, Memory: 64, Threads: 1},
		MFA: o.MFA, Directory: o.Directory, PublicURL: s.LocalhostURL, KEK: make([]byte, signer.KEKSize)})
	if s.Pages, err = web.New(web.Config{Users: s.Users, OAuth: s.OAuth, Keys: s.Keys, Signer: s.Signer,
		Audit: audit.NewLog(db), Approvals: approval.New(db, s.Clock.Now), Webhooks: s.Webhooks, Logger: log, Now: s.Clock.Now}); err != nil {
		t.Fatal(err)
	}
	h := server.New(server.Config{DB: db, Keys: s.Keys, Engine: s.Engine, Signer: s.Signer, OAuth: s.OAuth, Users: s.Users,
		Webhooks: s.Webhooks, Gatherer: reg, Pages: s.Pages, Logger: log, Now: s.Clock.Now, TrustedProxies: o.TrustedProxies})
	s.API = h
	hs.Config.Handler = h.Handler()
	hs.Start()
	t.Cleanup(hs.Close)
	s.Client = s.NewClient(t, s.AdminKey)
	return s
}

// NewClient returns a client of s that authenticates with token.
func (s *Server) NewClient(t testing.TB, token string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{URL: s.URL, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
