// Package gateway is `tokend gateway`: a reverse proxy in front of APIs
// that lets a request through to its upstream only when its bearer token
// satisfies the route the request matches (routetable), verified by
// tokenauth against tokend.
//
// For each request it
//
//   - matches the canonical path (routetable.CleanPath), host and method
//     against the route table: an ambiguous path is answered 400, a
//     request no route covers 404 (default deny: there is no implicit
//     route);
//   - checks the token with tokenauth.Check: 400, 401, 403 and 429 with
//     RFC 6750 and RFC 9449 (DPoP) challenges and rate-limit headers, 503
//     when tokend cannot be asked (fail closed); a DPoP-bound token needs
//     "Authorization: DPoP" and a proof of its key for this request, as
//     the client addressed it (tokenauth.Config.PublicURL);
//   - forwards it to the route's upstream with the canonical path, without
//     the client's Authorization and DPoP headers and without any Tokend-*,
//     Forwarded or X-Real-Ip header the client sent, with the caller's
//     identity in the Tokend-* headers of package api, and with
//     X-Forwarded-For, -Host and -Proto set by the gateway: when it is the
//     edge, forwarding headers from the client are dropped; behind a proxy
//     in Config.ClientIPs' trusted list, the proxy's X-Forwarded-For is
//     kept with the proxy's address appended, and its X-Forwarded-Host and
//     -Proto are passed on;
//   - with Config.Identity, adds a short-lived JWT of the same identity,
//     signed by the gateway's key, whose JWKS it serves at
//     api.IdentityJWKSPath before any route;
//   - streams the answer back (server-sent events are flushed at once,
//     WebSocket upgrades are spliced), adding the key's rate-limit headers;
//     an upstream that does not answer within Config.UpstreamTimeout is
//     504, one that cannot be reached 502.
//
// The route table is swapped atomically by Reload; requests in flight
// finish on the table they started with, and no connection is dropped.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/internal/clientip"
	"github.com/tokend/tokend/internal/routetable"
	"github.com/tokend/tokend/tokenauth"
)

// Config configures a Gateway.
type Config struct {
	// Routes is the first route table. Every route needs an upstream.
	Routes *routetable.Table
	// Auth verifies tokens. Required.
	Auth *tokenauth.Auth
	// ClientIPs finds the client's address: the TCP peer, or, when the
	// peer is a proxy it trusts, the address that proxy forwards. Give
	// Auth the same resolver's IP as its ClientIP, so that a key's
	// allowed_cidrs are checked against the same address. nil trusts no
	// proxy: the gateway is the edge.
	ClientIPs *clientip.Resolver
	// Identity, when set, signs a short-lived JWT of the caller's identity
	// for every request let through (api.HeaderIdentity), and the gateway
	// publishes its key at api.IdentityJWKSPath.
	Identity *Identity
	// UpstreamTimeout bounds the wait for an upstream's response headers
	// (not a streamed body); default 30s. Past it the answer is 504.
	UpstreamTimeout time.Duration
	// Transport reaches the upstreams; default one with dial, TLS and
	// header timeouts and up to 256 idle connections per upstream.
	Transport http.RoundTripper
	// Registerer receives the per-route metrics; nil registers none.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time
}

// Gateway is the proxy, an http.Handler. Make it with New.
type Gateway struct {
	auth    *tokenauth.Auth
	ips     *clientip.Resolver
	ident   *Identity
	table   atomic.Pointer[routetable.Table]
	proxy   *httputil.ReverseProxy
	metrics *metrics
	log     *slog.Logger
	now     func() time.Time
}

// unmatched is the route label of requests that matched no route;
// identityJWKS that of the gateway's own JWKS.
const (
	unmatched    = "(unmatched)"
	identityJWKS = "(identity-jwks)"
)

// New returns a Gateway, or an error if cfg.Routes has a route without
// an upstream.
func New(cfg Config) (*Gateway, error) {
	if cfg.Auth == nil {
		return nil, errors.New("gateway: Auth is required")
	}
	if err := checkUpstreams(cfg.Routes); err != nil {
		return nil, err
	}
	g := &Gateway{auth: cfg.Auth, ips: cfg.ClientIPs, ident: cfg.Identity, log: cfg.Logger, now: cfg.Now, metrics: newMetrics(cfg.Registerer)}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.now == nil {
		g.now = time.Now
	}
	if cfg.UpstreamTimeout <= 0 {
		cfg.UpstreamTimeout = 30 * time.Second
	}
	if cfg.Transport == nil {
		cfg.Transport = newTransport(cfg.UpstreamTimeout)
	}
	g.proxy = &httputil.ReverseProxy{Rewrite: g.rewrite, Transport: cfg.Transport, ModifyResponse: g.modifyResponse,
		ErrorHandler: g.proxyError, BufferPool: &bufferPool{}, ErrorLog: slog.NewLogLogger(g.log.Handler(), slog.LevelWarn)}
	g.table.Store(cfg.Routes)
	return g, nil
}

// Reload replaces the route table; requests in flight keep the old one.
// A table with a route without an upstream is refused and the old one
// kept.
func (g *Gateway) Reload(t *routetable.Table) error {
	if err := checkUpstreams(t); err != nil {
		return err
	}
	g.table.Store(t)
	return nil
}

func checkUpstreams(t *routetable.Table) error {
	if t == nil {
		return errors.New("gateway: no route table")
	}
	for _, r := range t.Routes() {
		if r.UpstreamURL() == nil {
			return errors.New("gateway: route " + r.Name + " has no upstream")
		}
	}
	return nil
}

func newTransport(headerTimeout time.Duration) *http.Transport {
	return &http.Transport{
		DialContext:       (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2: true,
		// A proxy passes Accept-Encoding on as the client sent it: without
		// this, a request without one would be sent with "gzip" and the
		// answer decompressed here, which costs CPU and drops the
		// upstream's Content-Length.
		DisableCompression:    true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: headerTimeout,
		ExpectContinueTimeout: time.Second,
	}
}

// forward is what the checks decided about a request, for the proxy. It
// holds the request's statusWriter too: one allocation per request.
type forward struct {
	w         statusWriter
	route     *routetable.Route
	principal *tokenauth.Principal
	identity  string // the identity JWT, when the gateway makes them
	path      string // the canonical path, sent upstream
	sent      time.Time
	status    int // the upstream's status, for a hijacked (101) answer
}

type forwardKey struct{}

// ServeHTTP checks and forwards one request, and records its metrics.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := &forward{w: statusWriter{ResponseWriter: w}}
	route := g.serve(&f.w, r, f)
	status := f.w.status
	if status == 0 {
		status = f.status
	}
	g.metrics.request(route, status)
}

// serve answers r and returns the name of its route.
func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, f *forward) string {
	if g.ident != nil && r.URL.Path == api.IdentityJWKSPath {
		g.ident.serveJWKS(w, r)
		return identityJWKS
	}
	clean, err := routetable.CleanPath(r.URL.EscapedPath())
	if err != nil {
		writeProblem(w, http.StatusBadRequest, err.Error())
		return unmatched
	}
	rt := g.table.Load().Match(r.Host, r.Method, clean)
	if rt == nil {
		writeProblem(w, http.StatusNotFound, "no route covers "+r.Method+" "+clean)
		return unmatched
	}
	p, err := g.auth.Check(r, tokenauth.Requirement{Audience: rt.Audience, Scopes: rt.Scopes})
	if err != nil {
		if e, ok := errors.AsType[*tokenauth.Error](err); ok && e.Status == http.StatusServiceUnavailable {
			g.log.ErrorContext(r.Context(), "gateway: cannot verify a token; refusing (fail closed)", "route", rt.Name, "err", e.Err)
		}
		g.auth.WriteError(w, err)
		return rt.Name
	}
	f.route, f.principal, f.path, f.sent = rt, p, clean, g.now()
	if g.ident != nil {
		if f.identity, err = g.ident.token(p, rt.Audience, f.sent); err != nil {
			g.log.ErrorContext(r.Context(), "gateway: cannot sign the identity jwt", "route", rt.Name, "err", err)
			writeProblem(w, http.StatusInternalServerError, "the gateway could not sign the caller's identity")
			return rt.Name
		}
	}
	g.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), forwardKey{}, f)))
	return rt.Name
}

// rewrite builds the upstream request: the route's upstream, the
// canonical path, no client credentials or identity claims, the caller's
// identity, and X-Forwarded-* from the gateway.
func (g *Gateway) rewrite(pr *httputil.ProxyRequest) {
	f := pr.In.Context().Value(forwardKey{}).(*forward)
	pr.Out.URL.Path, pr.Out.URL.RawPath = f.path, ""
	pr.SetURL(f.route.UpstreamURL())
	// The header is copied into a map with room for what is added below
	// (X-Forwarded-*, the identity), so that adding does not grow it: a
	// map that outgrows its first eight slots allocates anew.
	h := make(http.Header, len(pr.Out.Header)+forwardHeaders)
	for name, vs := range pr.Out.Header {
		if !strings.HasPrefix(name, "Tokend-") {
			h[name] = vs
		}
	}
	pr.Out.Header = h
	delete(h, "Authorization")
	delete(h, "Dpop") // the DPoP proof, spent here: the upstream has the caller's identity
	delete(h, "Forwarded")
	delete(h, "X-Real-Ip")
	hv := headerValues{h: h, vals: make([]string, 0, forwardHeaders)}
	g.setForwarded(pr, &hv)
	setIdentity(&hv, f.principal)
	if f.identity != "" {
		hv.set(api.HeaderIdentity, f.identity)
	}
}

// headerValues sets headers of one value each, the values sharing one
// array: one allocation for all that rewrite adds, not one per header.
// Names must be canonical (see TestHeaderNamesCanonical).
type headerValues struct {
	h    http.Header
	vals []string
}

func (hv *headerValues) set(name, v string) {
	hv.vals = append(hv.vals, v)
	n := len(hv.vals)
	hv.h[name] = hv.vals[n-1 : n : n]
}

// setForwarded writes X-Forwarded-For, -Host and -Proto, as
// httputil.ProxyRequest.SetXForwarded does. The proxy has already
// removed any the client sent; a trusted proxy's are put back, its chain
// with the proxy's own address appended (what the upstream would see
// without the gateway), its host and scheme as they were.
func (g *Gateway) setForwarded(pr *httputil.ProxyRequest, hv *headerValues) {
	in := pr.In.Header
	trusted := g.ips.TrustsPeer(pr.In)
	if peer, _, err := net.SplitHostPort(pr.In.RemoteAddr); err == nil {
		if xff := in.Values("X-Forwarded-For"); trusted && len(xff) > 0 {
			peer = strings.Join(xff, ", ") + ", " + peer
		}
		hv.set("X-Forwarded-For", peer)
	}
	host, proto := pr.In.Host, "http"
	if pr.In.TLS != nil {
		proto = "https"
	}
	if trusted {
		if v := in.Get("X-Forwarded-Host"); v != "" {
			host = v
		}
		if v := in.Get("X-Forwarded-Proto"); v != "" {
			proto = v
		}
	}
	hv.set("X-Forwarded-Host", host)
	hv.set("X-Forwarded-Proto", proto)
}

// forwardHeaders is how many headers rewrite may add: X-Forwarded-For,
// -Host and -Proto, the identity headers and the identity JWT.
const forwardHeaders = 3 + len(identityHeaders) + 1

// identityHeaders are the names setIdentity writes, in canonical form.
var identityHeaders = [...]string{api.HeaderSubject, api.HeaderTokenID, api.HeaderTokenKind, api.HeaderScopes,
	api.HeaderClientID, api.HeaderAPIID}

// setIdentity writes the identity headers of p; empty values are left out.
func setIdentity(hv *headerValues, p *tokenauth.Principal) {
	for i, v := range [len(identityHeaders)]string{p.Subject, p.TokenID, p.Kind, strings.Join(p.Scopes, " "), p.ClientID, p.APIID} {
		if v != "" {
			hv.set(identityHeaders[i], v)
		}
	}
}

// modifyResponse adds the key's rate-limit headers to the upstream's
// answer (replacing any the upstream set) and times the upstream.
func (g *Gateway) modifyResponse(resp *http.Response) error {
	f := resp.Request.Context().Value(forwardKey{}).(*forward)
	f.status = resp.StatusCode
	now := g.now()
	g.metrics.upstream(f.route.Name, now.Sub(f.sent))
	tokenauth.WriteRateLimitHeaders(resp.Header, f.principal.RateLimits, now)
	return nil
}

// proxyError answers a request whose upstream failed: 504 for a timeout,
// 502 otherwise; nothing when the client went away.
func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	f := r.Context().Value(forwardKey{}).(*forward)
	if r.Context().Err() != nil {
		f.status = 499
		return
	}
	status, msg := http.StatusBadGateway, "the upstream cannot be reached"
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		status, msg = http.StatusGatewayTimeout, "the upstream did not answer in time"
	}
	g.log.WarnContext(r.Context(), "gateway: upstream failed", "route", f.route.Name, "status", status, "err", err)
	tokenauth.WriteRateLimitHeaders(w.Header(), f.principal.RateLimits, g.now())
	writeProblem(w, status, msg)
}

// writeProblem writes the gateway's own answers as RFC 9457 problems.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}{http.StatusText(status), status, detail})
}

// bufferPool reuses the proxy's 32 KiB copy buffers instead of
// allocating one per answer. It holds them as array pointers, which a
// slice converts to without allocating (a *[]byte would cost one
// allocation per Put).
type bufferPool struct{ p sync.Pool }

const copyBufferSize = 32 << 10

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[copyBufferSize]byte); ok {
		return v[:]
	}
	return make([]byte, copyBufferSize)
}

func (b *bufferPool) Put(buf []byte) {
	if len(buf) == copyBufferSize {
		b.p.Put((*[copyBufferSize]byte)(buf))
	}
}

// statusWriter records the status of an answer. It unwraps, so that the
// proxy can flush and hijack through it (http.ResponseController).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
