package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/tokend/tokend/dpop"
	"github.com/tokend/tokend/internal/apikey"
	"github.com/tokend/tokend/internal/approval"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/clientip"
	"github.com/tokend/tokend/internal/jsonlog"
	"github.com/tokend/tokend/internal/ldap"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/routetable"
	"github.com/tokend/tokend/internal/server"
	"github.com/tokend/tokend/internal/signer"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/user"
	"github.com/tokend/tokend/internal/verify"
	"github.com/tokend/tokend/internal/web"
	"github.com/tokend/tokend/internal/webhook"
)

// serveConfig is every setting of "tokend serve". Each flag falls back to
// the TOKEND_* variable named in its help.
type serveConfig struct {
	addr, dataDir, database string
	redis, redisFailure     string
	tlsCert, tlsKey         string
	tlsSelfSigned           bool
	tlsFingerprint          string // of the --tls-self-signed certificate
	logLevel, logFormat     string
	cacheSize               int
	cacheTTL, negativeTTL   time.Duration
	shutdownTimeout         time.Duration
	trustedProxies          []netip.Prefix
	pprofAddr               string
	heapFloorMiB            int
	gogcSet                 bool // GOGC is in the environment: the collector is left as it says
	authzRoutes             string
	auditRetention          time.Duration
	dpopNonce               bool
	signing                 signingConfig
	oauth                   oauthConfig
	ldap                    ldapConfig
	people                  peopleConfig
	webhooks                webhookConfig
}

func (c *serveConfig) register(fs *flag.FlagSet) {
	str(fs, &c.addr, "addr", "127.0.0.1:8080", "listen address")
	str(fs, &c.dataDir, "data-dir", "./tokend-data", "directory of the embedded SQLite database")
	str(fs, &c.database, "database", "", "a postgres:// or postgresql:// URL to use PostgreSQL instead of SQLite")
	str(fs, &c.redis, "redis", "", "redis://… to share rate limits between nodes (needs --database)")
	str(fs, &c.redisFailure, "redis-failure", "fallback", "while Redis is unreachable: fallback (per-node limits) or refuse (HTTP 503)")
	str(fs, &c.tlsCert, "tls-cert", "", "TLS certificate file (PEM); with --tls-key serves HTTPS")
	str(fs, &c.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fs.BoolVar(&c.tlsSelfSigned, "tls-self-signed", false, "development only: serve HTTPS with a self-signed certificate "+
		"written to (and reused from) the data directory; prints its SHA-256 fingerprint ($"+envName("tls-self-signed")+")")
	str(fs, &c.logLevel, "log-level", "info", "debug, info, warn or error")
	str(fs, &c.logFormat, "log-format", "auto", "json, text, or auto (text on a terminal, else JSON)")
	intFlag(fs, &c.cacheSize, "cache-size", 100_000, "verification cache entries (negative disables)")
	dur(fs, &c.cacheTTL, "cache-ttl", 10*time.Second, "how long a cached key is trusted")
	dur(fs, &c.negativeTTL, "negative-cache-ttl", 5*time.Second, "how long an unknown token is remembered")
	dur(fs, &c.shutdownTimeout, "shutdown-timeout", 15*time.Second, "grace for requests in flight at shutdown")
	fs.Func("trusted-proxies", "comma-separated CIDRs of proxies whose X-Forwarded-For/Forwarded header names the client "+
		"(default none: the client is the TCP peer) ($"+envName("trusted-proxies")+")", func(v string) (err error) {
		c.trustedProxies, err = clientip.ParsePrefixes(v)
		return err
	})
	dur(fs, &c.auditRetention, "audit-retention", audit.DefaultRetention, "how long audit events are kept before they are deleted (0: forever)")
	heapFloorFlag(fs, &c.heapFloorMiB)
	str(fs, &c.pprofAddr, "pprof-addr", "", "loopback host:port serving net/http/pprof, for profiling (default off)")
	str(fs, &c.authzRoutes, "authz-routes", "", "route file (JSON) of /v1/authz for requests without requirements on the URL; reloaded on SIGHUP")
	c.signing.register(fs)
	c.oauth.register(fs)
	fs.BoolVar(&c.dpopNonce, "dpop-nonce", true, "require a server nonce (DPoP-Nonce) in DPoP proofs, so that none can be made in advance ($TOKEND_DPOP_NONCE)")
	c.ldap.register(fs)
	c.people.register(fs)
	c.webhooks.register(fs)
}

// selfSigned sets up --tls-self-signed: the development certificate
// becomes --tls-cert and --tls-key, and its fingerprint is printed, so
// that a client can check what it connects to.
func (c *serveConfig) selfSigned(stdout io.Writer) error {
	if !c.tlsSelfSigned {
		return nil
	}
	if c.tlsCert != "" {
		return fmt.Errorf("%w: --tls-self-signed replaces --tls-cert and --tls-key; give one or the other", errUsage)
	}
	if err := secureDataDir(c.dataDir); err != nil {
		return err
	}
	cert, key, fp, err := devCertificate(c.dataDir, c.addr, time.Now())
	if err != nil {
		return err
	}
	c.tlsCert, c.tlsKey, c.tlsFingerprint = cert, key, fp
	fmt.Fprintf(stdout, "tokend: development TLS certificate %s (self-signed: for development only)\n"+
		"    SHA-256 fingerprint %s\n    curl --cacert %s https://127.0.0.1:<port>/healthz\n", cert, fp, cert)
	return nil
}

func (c *serveConfig) dsn() (string, error) {
	if c.database != "" {
		return c.database, checkDatabaseURL(c.database)
	}
	if err := secureDataDir(c.dataDir); err != nil {
		return "", err
	}
	return filepath.Join(c.dataDir, "tokend.db"), nil
}

func serve(ctx context.Context, args []string, c *cmdIO) error {
	var cfg serveConfig
	fs := offlineFlagSet(c, "serve", "Runs the tokend server. Every flag falls back to the environment variable in its help.")
	cfg.register(fs)
	cfg.signing.kekEnv = c.env("TOKEND_KEK")
	cfg.gogcSet = c.env("GOGC") != ""
	if err := applyEnv(fs, c.env); err != nil {
		return err
	}
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	if cfg.database != "" {
		if err := checkDatabaseURL(cfg.database); err != nil {
			return err
		}
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return fmt.Errorf("%w: --tls-cert and --tls-key go together", errUsage)
	}
	if err := cfg.selfSigned(c.stdout); err != nil {
		return err
	}
	if err := cfg.checkPeers(); err != nil {
		return err
	}
	if err := checkPprofAddr(cfg.pprofAddr); err != nil {
		return err
	}
	if err := checkHeapFloor(cfg.heapFloorMiB); err != nil {
		return err
	}
	if err := cfg.ldap.check(); err != nil {
		return err
	}
	if err := cfg.people.check(); err != nil {
		return err
	}
	if err := cfg.signing.check(); err != nil {
		return err
	}
	out, flush := bufferLog(c.stderr)
	defer flush()
	log, err := newLogger(out, cfg.logLevel, cfg.logFormat)
	if err != nil {
		return err
	}
	n, err := start(ctx, cfg, log, c.stdout)
	if err != nil {
		return err
	}
	return n.wait(ctx, cfg)
}

// node is a running server with everything it started.
type node struct {
	log    *slog.Logger
	db     *store.DB
	http   *http.Server
	served chan error
	peers  *peers
	lock   *dirLock
	pprof  *http.Server
	stopBg context.CancelFunc
	bgDone sync.WaitGroup
}

// parts are a node's components, built before it listens.
type parts struct {
	lock   *dirLock // SQLite only
	db     *store.DB
	reg    *prometheus.Registry
	peers  *peers
	signer *signer.Signer
	engine *verify.Engine
	keys   *apikey.Service
	oauth  *oauth.Service
	dpop   *dpop.Checker
	// directory is the LDAP or Active Directory server of --ldap-url,
	// nil without one; people's sign-in consults it as a user.Directory.
	directory *ldap.Directory
	users     *user.Service
	webhooks  *webhook.Service
}

// close releases what build opened, for a start that fails.
func (p *parts) close() {
	if p.peers != nil {
		p.peers.close()
	}
	if p.db != nil {
		p.db.Close()
	}
	p.lock.release()
}

// build opens the store and assembles the components in dependency
// order; on error it closes whatever it had opened.
func build(ctx context.Context, cfg serveConfig, log *slog.Logger, stdout io.Writer) (p *parts, err error) {
	p = &parts{reg: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	p.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	dsn, err := cfg.dsn()
	if err != nil {
		return p, err
	}
	if cfg.database == "" {
		if p.lock, err = lockDataDir(cfg.dataDir); err != nil {
			return p, err
		}
	}
	kek, err := cfg.signing.kek(cfg, log)
	if err != nil {
		return p, err
	}
	if p.db, err = store.Open(ctx, dsn, store.Options{Logger: log}); err != nil {
		return p, fmt.Errorf("open store: %w", err)
	}
	if p.signer, err = newSigner(ctx, cfg, p.db, kek, log); err != nil {
		return p, err
	}
	if p.peers, err = newLimiter(ctx, cfg, log, p.reg); err != nil {
		return p, err
	}
	p.dpop = newDPoP(cfg, kek, p.peers, log)
	p.engine = verify.New(verify.Config{DB: p.db, Limiter: p.peers.rateLimiter(), CacheSize: cfg.cacheSize,
		CacheTTL: cfg.cacheTTL, NegativeTTL: cfg.negativeTTL, Metrics: verify.NewMetrics(p.reg), Logger: log, DPoP: p.dpop,
		JWT: &verify.JWTConfig{Signer: p.signer, Issuer: cfg.signing.issuerURL(cfg)},
		KEK: kek, Signatures: signatureVerifier(p.peers)})
	if err = p.peers.listen(ctx, p.db, dsn, log, p.reg); err != nil {
		return p, err
	}
	p.keys = apikey.NewService(apikey.Config{DB: p.db, Logger: log, KEK: kek})
	if err = bootstrap(ctx, p.keys, stdout); err != nil {
		return p, err
	}
	if p.directory, err = newDirectory(cfg.ldap); err != nil {
		return p, err
	}
	var dir user.Directory
	if p.directory != nil {
		dir = p.directory
	}
	p.users = newUsers(cfg, p.db, kek, dir, p.peers.signInFailures(), log, p.reg)
	if err := p.users.PasskeysAvailable(); err != nil {
		log.Info("passkeys are off", "reason", err, "public_url", cfg.signing.issuerURL(cfg))
	}
	p.webhooks = newWebhooks(cfg.webhooks, p.db, kek, log)
	p.oauth, err = newOAuth(ctx, cfg, p.db, p.signer, p.engine, p.peers, p.dpop, log)
	return p, err
}

// start builds a node, listens, and runs its background work.
func start(ctx context.Context, cfg serveConfig, log *slog.Logger, stdout io.Writer) (*node, error) {
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, err
	}
	// The issuer derived from the address names the port really bound,
	// so that --addr 127.0.0.1:0 gives tokens a reachable iss.
	cfg.addr = ln.Addr().String()
	p, err := build(ctx, cfg, log, stdout)
	if err != nil {
		ln.Close()
		return nil, err
	}
	pp, err := startPprof(cfg.pprofAddr, log)
	if err != nil {
		ln.Close()
		p.close()
		return nil, err
	}
	routes, err := loadRoutes(cfg.authzRoutes)
	if err != nil {
		ln.Close()
		p.close()
		return nil, err
	}
	pages, err := newPages(cfg, p, log)
	if err != nil {
		ln.Close()
		p.close()
		return nil, err
	}
	srv := server.New(server.Config{DB: p.db, Keys: p.keys, Engine: p.engine, Signer: p.signer, OAuth: p.oauth, Users: p.users,
		Webhooks: p.webhooks, Gatherer: p.reg, Ready: p.peers.ready, TrustedProxies: cfg.trustedProxies, HSTS: cfg.tlsCert != "", AuthzRoutes: routes,
		Pages: pages, Logger: log})
	n := &node{log: log, db: p.db, http: server.HTTPServer(cfg.addr, srv.Handler(), log), served: make(chan error, 1),
		peers: p.peers, lock: p.lock, pprof: pp}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	n.stopBg = stop
	retention := audit.NewRetention(audit.RetentionConfig{DB: p.db, Keep: cfg.auditRetention, Logger: log})
	for _, run := range []func(context.Context){p.engine.Run, p.keys.Run, p.signer.Run, p.oauth.Run, retention.Run, p.users.Run, p.webhooks.Run} {
		n.bgDone.Go(func() { run(bg) })
	}
	p.peers.run(bg, &n.bgDone)
	startHeapFloor(bg, &n.bgDone, cfg.heapFloorMiB, cfg.gogcSet)
	if p.directory != nil {
		n.bgDone.Go(func() { pingDirectory(bg, p.directory, cfg.ldap.url, log) })
	}
	if cfg.authzRoutes != "" {
		hup := hangups()
		n.bgDone.Go(func() {
			reloadOnHangup(bg, hup, cfg.authzRoutes, log, func(t *routetable.Table) error { srv.SetAuthzRoutes(t); return nil })
		})
	}
	if p.peers.dialect == "postgres" && p.peers.limiter == nil {
		log.Warn("rate limits are per node: each node enforces every limit on its own; pass --redis to share them")
	}
	attrs := []any{"addr", ln.Addr().String(), "tls", cfg.tlsCert != "", "mode", p.peers.mode()}
	if cfg.tlsFingerprint != "" {
		attrs = append(attrs, "tls_sha256", cfg.tlsFingerprint)
	}
	log.Info("listening", attrs...)
	go func() { n.served <- n.serve(ln, cfg) }()
	return n, nil
}

// newPages builds the browser pages. People reach them over HTTPS when
// tokend serves TLS itself or its public URL (the issuer) is https, as
// behind a TLS-terminating proxy: the session cookie is then Secure.
func newPages(cfg serveConfig, p *parts, log *slog.Logger) (*web.Site, error) {
	secure := cfg.tlsCert != "" || strings.HasPrefix(cfg.signing.issuerURL(cfg), "https://")
	return web.New(web.Config{Users: p.users, OAuth: p.oauth, Keys: p.keys, Signer: p.signer, Audit: audit.NewLog(p.db), Approvals: approval.New(p.db, nil),
		Webhooks: p.webhooks, Secure: secure, TrustedProxies: cfg.trustedProxies, Logger: log})
}

func (n *node) serve(ln net.Listener, cfg serveConfig) error {
	if cfg.tlsCert != "" {
		return n.http.ServeTLS(ln, cfg.tlsCert, cfg.tlsKey)
	}
	return n.http.Serve(ln)
}

// wait serves until ctx ends, then shuts down: requests in flight finish,
// bookkeeping is flushed, and the store is closed last.
func (n *node) wait(ctx context.Context, cfg serveConfig) error {
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-n.served:
	}
	n.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdownTimeout)
	defer cancel()
	err := n.http.Shutdown(sctx)
	if n.pprof != nil {
		n.pprof.Close()
	}
	n.stopBg()
	n.bgDone.Wait()
	n.peers.close()
	if cerr := n.db.Close(); err == nil {
		err = cerr
	}
	n.lock.release()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return err
}

// bootstrap makes sure the built-in API exists and, on the very first
// start, prints the first admin key to stdout, never to the log.
func bootstrap(ctx context.Context, keys *apikey.Service, stdout io.Writer) error {
	if err := keys.EnsureSystemAPI(ctx); err != nil {
		return fmt.Errorf("create built-in API: %w", err)
	}
	token, created, err := keys.Bootstrap(ctx)
	if err != nil || !created {
		return err
	}
	fmt.Fprintf(stdout, "tokend: first start; this admin key is shown once, store it now:\n\n    %s\n\n", token)
	return nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("%w: --log-level %q: want debug, info, warn or error", errUsage, level)
	}
	// JSON lines go through jsonlog, slog's JSON handler on which the
	// access log writes its line by hand, to the same bytes.
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "json":
		return slog.New(jsonlog.New(w, lv)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "auto":
		if isTerminal(w) {
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
		return slog.New(jsonlog.New(w, lv)), nil
	}
	return nil, fmt.Errorf("%w: --log-format %q: want json, text or auto", errUsage, format)
}
