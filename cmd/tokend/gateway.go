package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/clientip"
	"github.com/tokend/tokend/internal/gateway"
	"github.com/tokend/tokend/internal/ratelimit"
	"github.com/tokend/tokend/internal/routetable"
	"github.com/tokend/tokend/tokenauth"
)

// gatewayConfig is every setting of "tokend gateway".
type gatewayConfig struct {
	listen, tokend, metricsAddr     string
	pprofAddr                       string
	upstream, audience, routes      string
	scopes                          []string
	trustedProxies                  []netip.Prefix
	identityKey, identityIssuer     string
	identityTTL                     time.Duration
	upstreamTimeout, shutdownTimout time.Duration
	cacheTTL                        time.Duration
	logLevel, logFormat             string
	publicURL, redis                string
	dpopNonceSecretFile             string
	heapFloorMiB                    int
	gogcSet                         bool // GOGC is in the environment: the collector is left as it says
}

func (c *gatewayConfig) register(fs *flag.FlagSet, env func(string) string) {
	str(fs, &c.listen, "listen", "127.0.0.1:8081", "address the gateway listens on")
	fs.StringVar(&c.tokend, "tokend", env("TOKEND_URL"), "tokend's base URL ($TOKEND_URL)")
	str(fs, &c.upstream, "upstream", "", "the one upstream URL (with --audience; instead of --routes)")
	str(fs, &c.audience, "audience", "", "the audience every token must belong to (with --upstream)")
	fs.Func("scope", "a scope every token must hold (with --upstream); repeat for more", func(v string) error {
		c.scopes = append(c.scopes, v)
		return nil
	})
	str(fs, &c.routes, "routes", "", "route file (JSON; see docs/protecting-an-api.md), reloaded on SIGHUP")
	fs.Func("trusted-proxies", "comma-separated CIDRs of proxies in front of the gateway whose X-Forwarded-For/Forwarded "+
		"header names the client (default none: the gateway is the edge) ($TOKEND_TRUSTED_PROXIES)", func(v string) (err error) {
		c.trustedProxies, err = clientip.ParsePrefixes(v)
		return err
	})
	str(fs, &c.identityKey, "identity-key", "", "PEM private key (ECDSA P-256 or Ed25519) signing a short-lived identity JWT "+
		"sent upstream in Tokend-Identity, its JWKS served at "+api.IdentityJWKSPath+" (default off)")
	str(fs, &c.identityIssuer, "identity-issuer", "tokend-gateway", "the iss of the identity JWTs")
	dur(fs, &c.identityTTL, "identity-ttl", time.Minute, "lifetime of an identity JWT (1s to 1h)")
	str(fs, &c.publicURL, "public-url", "", "the gateway's public base URL (https://api.example.com), which DPoP proofs name; "+
		"default: the scheme of the connection and the Host header")
	str(fs, &c.redis, "redis", "", "redis://… sharing the DPoP proofs seen (replay cache) between gateways (default: per process)")
	str(fs, &c.dpopNonceSecretFile, "dpop-nonce-secret-file", "", "file of 32 or more random bytes, the same on every gateway: "+
		"require a server nonce (DPoP-Nonce) in the DPoP proofs of JWTs (default off)")
	str(fs, &c.metricsAddr, "metrics-addr", "", "address serving Prometheus /metrics (default off)")
	str(fs, &c.pprofAddr, "pprof-addr", "", "loopback host:port serving net/http/pprof, for profiling (default off)")
	dur(fs, &c.upstreamTimeout, "upstream-timeout", 30*time.Second, "longest wait for an upstream's response headers (then 504)")
	dur(fs, &c.cacheTTL, "cache-ttl", 5*time.Second, "how long a verified opaque token is reused without asking tokend (limited keys are always asked)")
	dur(fs, &c.shutdownTimout, "shutdown-timeout", 15*time.Second, "grace for requests in flight at shutdown")
	heapFloorFlag(fs, &c.heapFloorMiB)
	str(fs, &c.logLevel, "log-level", "info", "debug, info, warn or error")
	str(fs, &c.logFormat, "log-format", "auto", "json, text, or auto (text on a terminal, else JSON)")
}

// table is the route table the flags describe: the route file, or one
// route "/" to --upstream.
func (c *gatewayConfig) table() (*routetable.Table, error) {
	switch {
	case c.routes != "" && (c.upstream != "" || c.audience != "" || len(c.scopes) > 0):
		return nil, fmt.Errorf("%w: --routes and --upstream/--audience/--scope are alternatives", errUsage)
	case c.routes != "":
		return routetable.Load(c.routes)
	case c.upstream == "" || c.audience == "":
		return nil, fmt.Errorf("%w: give --upstream and --audience, or --routes", errUsage)
	}
	return routetable.New([]*routetable.Route{{Name: "default", Path: "/", Upstream: c.upstream, Audience: c.audience, Scopes: c.scopes}})
}

// identity is the identity-JWT signer the flags describe; nil without
// --identity-key.
func (c *gatewayConfig) identity() (*gateway.Identity, error) {
	if c.identityKey == "" {
		return nil, nil
	}
	b, err := os.ReadFile(c.identityKey)
	if err != nil {
		return nil, fmt.Errorf("%w: --identity-key: %w", errUsage, err)
	}
	key, err := gateway.ParseIdentityKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: --identity-key %s: %w", errUsage, c.identityKey, err)
	}
	id, err := gateway.NewIdentity(gateway.IdentityConfig{Key: key, Issuer: c.identityIssuer, TTL: c.identityTTL})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	return id, nil
}

// dpop sets the DPoP replay cache and nonce secret of the gateway's
// tokenauth from the flags, and returns what closes them.
func (c *gatewayConfig) dpop(acfg *tokenauth.Config, log *slog.Logger) (func(), error) {
	if c.dpopNonceSecretFile != "" {
		b, err := os.ReadFile(c.dpopNonceSecretFile)
		if err != nil {
			return nil, fmt.Errorf("%w: --dpop-nonce-secret-file: %w", errUsage, err)
		}
		acfg.DPoPNonceSecret = b
	}
	if c.redis == "" {
		return func() {}, nil
	}
	// Its own prefix: tokend's replay cache, which may live in the same
	// Redis, spends the proofs of opaque tokens, not these.
	r, err := ratelimit.NewRedis(ratelimit.RedisConfig{URL: c.redis, Prefix: "tokend:gateway:"})
	if err != nil {
		return nil, fmt.Errorf("%w: --redis: %w", errUsage, err)
	}
	acfg.DPoPReplay = r
	log.Info("DPoP proofs are remembered in Redis, shared by every gateway that uses it")
	return func() { r.Close() }, nil
}

func runGateway(ctx context.Context, args []string, c *cmdIO) error {
	var cfg gatewayConfig
	fs := offlineFlagSet(c, "gateway", "Runs a reverse proxy that sends a request on to its upstream only with a token tokend\n"+
		"accepts for its route. The verify key (scope tokend:verify) is read from $TOKEND_TOKEN.")
	cfg.register(fs, c.env)
	if err := applyEnv(fs, c.env); err != nil {
		return err
	}
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	key := c.env("TOKEND_TOKEN")
	if key == "" || cfg.tokend == "" {
		return fmt.Errorf("%w: set TOKEND_TOKEN to a verify key and --tokend (or TOKEND_URL) to tokend's URL", errUsage)
	}
	if err := checkPprofAddr(cfg.pprofAddr); err != nil {
		return err
	}
	if err := checkHeapFloor(cfg.heapFloorMiB); err != nil {
		return err
	}
	cfg.gogcSet = c.env("GOGC") != ""
	log, err := newLogger(c.stderr, cfg.logLevel, cfg.logFormat)
	if err != nil {
		return err
	}
	t, err := cfg.table()
	if err != nil {
		return err
	}
	ips := clientip.New(cfg.trustedProxies)
	acfg := tokenauth.Config{URL: cfg.tokend, VerifyKey: key, Audience: t.Routes()[0].Audience,
		CacheTTL: cfg.cacheTTL, ClientIP: ips.IP, Logger: log, PublicURL: cfg.publicURL}
	closeDPoP, err := cfg.dpop(&acfg, log)
	if err != nil {
		return err
	}
	defer closeDPoP()
	auth, err := tokenauth.New(acfg)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ident, err := cfg.identity()
	if err != nil {
		return err
	}
	gw, err := gateway.New(gateway.Config{Routes: t, Auth: auth, ClientIPs: ips, Identity: ident,
		UpstreamTimeout: cfg.upstreamTimeout, Registerer: reg, Logger: log})
	if err != nil {
		return err
	}
	return serveGateway(ctx, cfg, gw, reg, log)
}

// serveGateway listens, reloads the route file on SIGHUP, and shuts down
// gracefully when ctx ends.
func serveGateway(ctx context.Context, cfg gatewayConfig, gw *gateway.Gateway, reg *prometheus.Registry, log *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	pp, err := startPprof(cfg.pprofAddr, log)
	if err != nil {
		ln.Close()
		return err
	}
	if pp != nil {
		defer pp.Close()
	}
	// No read or write timeout: bodies, server-sent events and WebSockets
	// stream for as long as they last. Headers must come quickly.
	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	var metrics *http.Server
	if cfg.metricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.metricsAddr)
		if err != nil {
			ln.Close()
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go metrics.Serve(mln)
		log.Info("metrics listening", "addr", mln.Addr().String())
	}
	bg, stop := context.WithCancel(ctx)
	var bgDone sync.WaitGroup
	defer bgDone.Wait() // after stop: the heap floor puts Go's GC percent back
	defer stop()
	startHeapFloor(bg, &bgDone, cfg.heapFloorMiB, cfg.gogcSet)
	if cfg.routes != "" {
		hup := hangups()
		go reloadOnHangup(bg, hup, cfg.routes, log, gw.Reload)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "tokend", cfg.tokend)
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdownTimout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if metrics != nil {
		metrics.Close()
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return err
}
