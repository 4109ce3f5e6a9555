package tokenauth_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/api"
	"github.com/tokend/tokend/tokenauth"
)

// TestRouteAudience: RequireWith's audience replaces Config.Audience for
// its route, for opaque tokens and JWTs alike.
func TestRouteAudience(t *testing.T) {
	e := newEnv(t, nil)
	reports := e.createAPI(t, "reports", "https://reports.example.com", "rep", "reports:read")
	k, err := e.Client.CreateKey(t.Context(), api.CreateKeyRequest{APIID: reports.ID, Subject: "s",
		Scopes: []string{"reports:read"}})
	if err != nil {
		t.Fatal(err)
	}
	if a := e.do(t, "GET", "/reports", bearer(k.Secret)); a.status != 200 {
		t.Errorf("reports key on /reports: %d %s", a.status, a.body)
	}
	if a := e.do(t, "GET", "/invoices", bearer(k.Secret)); a.status != 401 {
		t.Errorf("reports key on /invoices: %d %s", a.status, a.body)
	}
	e.api = reports
	jwt := token(t, e.oauthClient(t, "jwt", "reports:read"))
	if a := e.do(t, "GET", "/reports", bearer(jwt)); a.status != 200 {
		t.Errorf("reports JWT on /reports: %d %s", a.status, a.body)
	}
	if a := e.do(t, "GET", "/invoices", bearer(jwt)); a.status != 401 {
		t.Errorf("reports JWT on /invoices: %d %s", a.status, a.body)
	}
}

// TestClientAddress: the client's address reaches tokend, which checks
// it against the key's allowlist; the cache keeps answers per address.
func TestClientAddress(t *testing.T) {
	ip := "127.0.0.1"
	e := newEnv(t, func(c *tokenauth.Config) { c.ClientIP = func(*http.Request) string { return ip } })
	k := e.key(t, func(r *api.CreateKeyRequest) { r.AllowedCIDRs = []string{"127.0.0.0/8"} })
	if a := e.do(t, "GET", "/invoices", bearer(k.Secret)); a.status != 200 {
		t.Fatalf("allowed address: %d %s", a.status, a.body)
	}
	ip = "192.0.2.1"
	a := e.do(t, "GET", "/invoices", bearer(k.Secret))
	if a.status != 401 || !strings.Contains(a.header.Get("WWW-Authenticate"), "the token may not be used from this address") {
		t.Errorf("other address: %d %v", a.status, a.header)
	}
}

// TestCacheIsBounded: with room for one answer, two keys used in turn
// evict each other, and each request asks tokend.
func TestCacheIsBounded(t *testing.T) {
	e := newEnv(t, func(c *tokenauth.Config) { c.CacheSize = 1 })
	k1, k2 := e.key(t, nil), e.key(t, nil)
	for range 3 {
		for _, k := range []*api.CreatedKey{k1, k2} {
			if a := e.do(t, "GET", "/invoices", bearer(k.Secret)); a.status != 200 {
				t.Fatalf("%d %s", a.status, a.body)
			}
		}
	}
	if n := e.calls.calls("/v1/verify"); n != 6 {
		t.Errorf("tokend asked %d times, want 6", n)
	}
}

// TestCacheEndsAtExpiry: a key expiring within the cache TTL is cached
// only until its expiry.
func TestCacheEndsAtExpiry(t *testing.T) {
	e := newEnv(t, func(c *tokenauth.Config) { c.CacheTTL = time.Minute })
	exp := e.Clock.Now().Add(10 * time.Second)
	k := e.key(t, func(r *api.CreateKeyRequest) { r.ExpiresAt = &exp })
	e.do(t, "GET", "/invoices", bearer(k.Secret))
	e.clock.Advance(9 * time.Second)
	e.do(t, "GET", "/invoices", bearer(k.Secret))
	if n := e.calls.calls("/v1/verify"); n != 1 {
		t.Errorf("before expiry: tokend asked %d times, want 1", n)
	}
	e.clock.Advance(time.Second)
	e.do(t, "GET", "/invoices", bearer(k.Secret))
	if n := e.calls.calls("/v1/verify"); n != 2 {
		t.Errorf("at expiry: tokend asked %d times, want 2", n)
	}
}

// TestWithoutVerifyKey: JWTs still verify, opaque tokens are refused
// without a call.
func TestWithoutVerifyKey(t *testing.T) {
	e := newEnv(t, func(c *tokenauth.Config) { c.VerifyKey = "" })
	if a := e.do(t, "GET", "/invoices", bearer(token(t, e.oauthClient(t, "jwt", "invoices:read")))); a.status != 200 {
		t.Errorf("JWT: %d %s", a.status, a.body)
	}
	a := e.do(t, "GET", "/invoices", bearer(e.key(t, nil).Secret))
	if a.status != 401 || !strings.Contains(a.header.Get("WWW-Authenticate"), "this resource accepts JWT access tokens only") {
		t.Errorf("API key: %d %v", a.status, a.header)
	}
	if n := e.calls.calls("/v1/verify"); n != 0 {
		t.Errorf("tokend asked %d times", n)
	}
}

// TestChallengeWithoutResource: an audience that is not a URL gives no
// resource identifier, so challenges carry no resource_metadata and the
// metadata handler answers 404.
func TestChallengeWithoutResource(t *testing.T) {
	auth, err := tokenauth.New(tokenauth.Config{URL: "http://127.0.0.1:1", Audience: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	auth.Require("a", "b")(http.NotFoundHandler()).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if got := w.Header().Get("WWW-Authenticate"); got != `Bearer scope="a b"` {
		t.Errorf("WWW-Authenticate %q", got)
	}
	w = httptest.NewRecorder()
	auth.MetadataHandler().ServeHTTP(w, httptest.NewRequest("GET", "/.well-known/oauth-protected-resource", nil))
	if w.Code != 404 {
		t.Errorf("metadata: %d", w.Code)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		limits []api.RateLimitState
		want   int64
		ok     bool
	}{
		{"none exhausted", []api.RateLimitState{{Name: "a", Limit: 1, Remaining: 1, Reset: now.Add(time.Second)}}, 0, false},
		{"earliest exhausted reset", []api.RateLimitState{
			{Name: "day", Limit: 100, Remaining: 0, Reset: now.Add(time.Hour)},
			{Name: "burst", Limit: 3, Remaining: 0, Reset: now.Add(1500 * time.Millisecond)}}, 2, true},
		{"reset passed", []api.RateLimitState{{Name: "a", Limit: 1, Remaining: 0, Reset: now.Add(-time.Second)}}, 1, true},
		{"exact: the longest retry_after, not a reset", []api.RateLimitState{
			{Name: "burst", Limit: 3, Remaining: 0, Reset: now.Add(time.Minute), Window: api.Duration(time.Minute),
				RetryAfter: api.Duration(19500 * time.Millisecond)},
			{Name: "hourly", Limit: 100, Remaining: 0, Reset: now.Add(time.Hour), Window: api.Duration(time.Hour),
				RetryAfter: api.Duration(2 * time.Second)},
			{Name: "daily", Limit: 1000, Remaining: 0, Reset: now.Add(time.Second), Window: api.Duration(24 * time.Hour)}}, 20, true},
		{"admitted by every limit: out of credits", []api.RateLimitState{
			{Name: "a", Limit: 5, Remaining: 4, Reset: now.Add(time.Second), Window: api.Duration(5 * time.Second)}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tokenauth.RetryAfter(tt.limits, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("RetryAfter = %d, %v; want %d, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestHeaderValuesCannotEscapeQuotes: a limit name with quotes or
// control characters cannot break the structured fields.
func TestHeaderValuesCannotEscapeQuotes(t *testing.T) {
	h := http.Header{}
	now := time.Unix(0, 0)
	tokenauth.WriteRateLimitHeaders(h, []api.RateLimitState{{Name: "a\"b\\c\nd", Limit: 1, Remaining: 1, Reset: now}}, now)
	if got := h.Get("RateLimit-Policy"); got != `"a\"b\\cd";q=1` {
		t.Errorf("RateLimit-Policy %q", got)
	}
}

// TestRateLimitPolicyWindow: the window is written as w in whole
// seconds, rounded up, and at least 1.
func TestRateLimitPolicyWindow(t *testing.T) {
	h := http.Header{}
	now := time.Unix(0, 0)
	tokenauth.WriteRateLimitHeaders(h, []api.RateLimitState{
		{Name: "burst", Limit: 10, Remaining: 3, Reset: now.Add(time.Second), Window: api.Duration(time.Minute)},
		{Name: "fast", Limit: 5, Remaining: 5, Reset: now, Window: api.Duration(100 * time.Millisecond)},
		{Name: "odd", Limit: 7, Remaining: 7, Reset: now, Window: api.Duration(1500 * time.Millisecond)},
	}, now)
	if got, want := h.Get("RateLimit-Policy"), `"burst";q=10;w=60, "fast";q=5;w=1, "odd";q=7;w=2`; got != want {
		t.Errorf("RateLimit-Policy %q, want %q", got, want)
	}
}
