package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults of Config.
const (
	DefaultMaxBytes      = 5 << 10
	DefaultTimeout       = 5 * time.Second
	DefaultFreshness     = 5 * time.Minute
	DefaultMaxFreshness  = 24 * time.Hour
	DefaultMaxConcurrent = 16
)

// Config configures a Fetcher. The zero value is usable.
type Config struct {
	// InsecureAllowPrivate lets the Fetcher use plain http and connect
	// to loopback, private and every other non-public address. It is for
	// development and tests, where the documents are served from
	// 127.0.0.1; it MUST NOT be set in production, where it lets anyone
	// who can name a URL make tokend call its own network.
	InsecureAllowPrivate bool
	// MaxBytes is the largest body accepted; default DefaultMaxBytes.
	MaxBytes int64
	// Timeout bounds a whole fetch, from dial to the last byte; default
	// DefaultTimeout.
	Timeout time.Duration
	// Freshness is how long a document whose answer carries no caching
	// headers may be reused (the heuristic freshness of RFC 9111
	// §4.2.2); default DefaultFreshness. MaxFreshness caps what the
	// headers may ask for; default DefaultMaxFreshness.
	Freshness    time.Duration
	MaxFreshness time.Duration
	// MaxConcurrent bounds the fetches in flight; more wait for a free
	// slot within their Timeout. Default DefaultMaxConcurrent.
	MaxConcurrent int
	// Now is the clock for the Expires header; nil means time.Now.
	Now func() time.Time
	// RootCAs, if set, replaces the system roots the server's
	// certificate is checked against: a test hook for receivers with a
	// test certificate (httptest.NewTLSServer).
	RootCAs *x509.CertPool
}

// Fetcher fetches documents as the package doc describes. It is safe for
// concurrent use.
type Fetcher struct {
	cfg    Config
	client *http.Client
	slots  chan struct{}
}

// Error is a failed fetch. Its text is safe to show to whoever named the
// URL; Err, when set, is the underlying cause, for logs.
type Error struct {
	Msg string
	Err error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// ErrForbiddenAddress is wrapped by the Error of a fetch refused because
// the URL's host is, or resolves to, an address that is not public.
var ErrForbiddenAddress = errors.New("address is not public")

// New returns a Fetcher for cfg.
func New(cfg Config) *Fetcher {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Freshness <= 0 {
		cfg.Freshness = DefaultFreshness
	}
	if cfg.MaxFreshness <= 0 {
		cfg.MaxFreshness = DefaultMaxFreshness
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	f := &Fetcher{cfg: cfg, slots: make(chan struct{}, cfg.MaxConcurrent)}
	d := &net.Dialer{Timeout: cfg.Timeout, Control: f.control}
	f.client = &http.Client{
		Transport: &http.Transport{
			Proxy:                  nil, // a proxy would dial for us, past the address check
			DialContext:            d.DialContext,
			TLSHandshakeTimeout:    cfg.Timeout,
			ResponseHeaderTimeout:  cfg.Timeout,
			MaxResponseHeaderBytes: 16 << 10,
			MaxIdleConns:           cfg.MaxConcurrent,
			IdleConnTimeout:        time.Minute,
			ForceAttemptHTTP2:      true,
			TLSClientConfig:        &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       cfg.Timeout,
	}
	return f
}

// Fetch gets rawURL with a GET asking for JSON and returns the body and
// how long it may be reused: the freshness lifetime the answer's
// Cache-Control or Expires gives, capped by Config.MaxFreshness, or
// Config.Freshness when they say nothing; 0 when it must not be reused
// (no-store, no-cache, max-age=0). It returns an *Error when the URL is
// refused, the connection fails, or the answer is not 200, not JSON, or
// larger than Config.MaxBytes.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) ([]byte, time.Duration, error) {
	u, err := f.checkURL(rawURL)
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	select {
	case f.slots <- struct{}{}:
		defer func() { <-f.slots }()
	case <-ctx.Done():
		return nil, 0, &Error{Msg: "too many documents are being fetched; retry later", Err: ctx.Err()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, &Error{Msg: "the URL cannot be fetched", Err: err}
	}
	req.Header.Set("Accept", "application/json")
	res, err := f.client.Do(req)
	if err != nil {
		return nil, 0, connectError(u.Host, err)
	}
	defer res.Body.Close()
	if err := checkAnswer(res); err != nil {
		return nil, 0, err
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, f.cfg.MaxBytes+1))
	if err != nil {
		return nil, 0, &Error{Msg: "reading the document failed", Err: err}
	}
	if int64(len(body)) > f.cfg.MaxBytes {
		return nil, 0, &Error{Msg: fmt.Sprintf("the document is larger than %d bytes", f.cfg.MaxBytes)}
	}
	return body, f.freshness(res.Header), nil
}

// checkURL refuses URLs that are not https (http too under
// InsecureAllowPrivate), carry credentials, or name a forbidden IP
// address literally, before anything is sent.
func (f *Fetcher) checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return nil, &Error{Msg: "the URL is not an absolute URL"}
	case u.Scheme != "https" && !(f.cfg.InsecureAllowPrivate && u.Scheme == "http"):
		return nil, &Error{Msg: "the URL must be https"}
	case u.User != nil:
		return nil, &Error{Msg: "the URL must not hold a user name or password"}
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, &Error{Msg: "the URL must not have a fragment"}
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && !f.allowed(ip) {
		return nil, forbidden(ip)
	}
	return u, nil
}

// control is the dialer's hook: it sees the resolved address about to be
// connected to and refuses a forbidden one.
func (f *Fetcher) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &Error{Msg: "the host's address cannot be checked", Err: err}
	}
	if !f.allowed(ap.Addr()) {
		return forbidden(ap.Addr())
	}
	return nil
}

func (f *Fetcher) allowed(ip netip.Addr) bool {
	return f.cfg.InsecureAllowPrivate || Public(ip)
}

func forbidden(ip netip.Addr) *Error {
	return &Error{Msg: fmt.Sprintf("the URL's host is, or resolves to, %s, which is not a public address", ip.Unmap()),
		Err: ErrForbiddenAddress}
}

// connectError turns a failed request into an *Error: a refusal of the
// address check as is, anything else as a connection failure.
func connectError(host string, err error) error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Msg: fmt.Sprintf("%s did not answer in time", host), Err: err}
	}
	return &Error{Msg: fmt.Sprintf("%s could not be reached", host), Err: err}
}

// checkAnswer accepts a 200 answer whose media type is JSON.
func checkAnswer(res *http.Response) error {
	switch {
	case res.StatusCode >= 300 && res.StatusCode < 400:
		return &Error{Msg: fmt.Sprintf("the URL answered a redirect (%d), which is not followed", res.StatusCode)}
	case res.StatusCode != http.StatusOK:
		return &Error{Msg: fmt.Sprintf("the URL answered %d, not 200", res.StatusCode)}
	}
	mt, _, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return &Error{Msg: "the document's Content-Type is not application/json"}
	}
	return nil
}

// freshness is the freshness lifetime of an answer with header h
// (RFC 9111 §4.2.1): max-age, else Expires minus Date, else the
// heuristic Config.Freshness; 0 for no-store and no-cache.
func (f *Fetcher) freshness(h http.Header) time.Duration {
	var maxAge = -1
	for _, d := range strings.Split(strings.Join(h.Values("Cache-Control"), ","), ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return 0
		case "max-age":
			n, err := strconv.Atoi(strings.Trim(val, `"`))
			if err != nil || n < 0 {
				return 0 // RFC 9111 §4.2.1: an invalid max-age is stale
			}
			maxAge = n
		}
	}
	if maxAge >= 0 {
		return min(time.Duration(maxAge)*time.Second, f.cfg.MaxFreshness)
	}
	if e := h.Get("Expires"); e != "" {
		exp, err := http.ParseTime(e)
		if err != nil {
			return 0
		}
		date, err := http.ParseTime(h.Get("Date"))
		if err != nil {
			date = f.cfg.Now()
		}
		return min(max(exp.Sub(date), 0), f.cfg.MaxFreshness)
	}
	return min(f.cfg.Freshness, f.cfg.MaxFreshness)
}
